//! Text the user typed, made safe for the read-me. Whatever a brief holds (Markdown, HTML,
//! backticks, table pipes, line breaks, control characters, right-to-left overrides), it comes
//! out as literal text that cannot open a heading, a list, a code block, a table cell or an
//! HTML tag, nor reorder the text around it. The JSON needs no such care: serde escapes every
//! string; [`clean_text`] still drops control characters there so both files hold the same
//! text.

/// Drops what no delivery note needs and what could disturb a reader's display: control
/// characters other than line breaks and tabs (tabs become spaces), and the bidirectional
/// embedding, override and isolate controls (right-to-left letters themselves stay). Line
/// breaks of every kind become `\n`. Keeps at most `max_chars` characters.
pub fn clean_text(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut kept = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if kept >= max_chars {
            break;
        }
        let c = match c {
            '\r' => {
                // \r\n is one break.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                '\n'
            }
            '\u{2028}' | '\u{2029}' | '\u{85}' => '\n',
            '\t' => ' ',
            '\n' => '\n',
            c if c.is_control() || is_bidi_control(c) => continue,
            c => c,
        };
        out.push(c);
        kept += 1;
    }
    out
}

/// The bidirectional formatting characters (embeddings, overrides, isolates, marks): they
/// would reorder the text that follows them on the reader's screen.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that mean something anywhere in a line of Markdown (GitHub's included): the
/// escape itself, emphasis, code, links and images, HTML and entities, table pipes,
/// strikethrough.
const INLINE_SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '&', '|', '~'];

/// One line of inline Markdown: every character that means something inside a line
/// backslash-escaped (CommonMark allows it for all ASCII punctuation, so `*`, `_`, `` ` ``,
/// `|`, `<`, `[` … print as themselves, also inside a table cell), line breaks shown as
/// ` ↵ `. Ordinary punctuation (`.`, `,`, `-`, `(`, `#` …) stays as typed: it only means
/// something at the start of a line, and this text is always placed after something (a table
/// pipe, a list marker, [`md_block_quote`]'s own escape). The text should have gone through
/// [`clean_text`].
pub fn md_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str(" ↵ "),
            c if INLINE_SPECIAL.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// [`md_inline`] for text that starts a line of a block: a leading `#`, `-`, `+`, `=` (a
/// heading, a list, a rule) is escaped, and so is the `.` or `)` after leading digits (an
/// ordered list).
fn md_line(text: &str) -> String {
    let body = md_inline(text);
    if body.starts_with(['#', '-', '+', '=']) {
        return format!("\\{body}");
    }
    let digits = body.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && body[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &body[..digits], &body[digits..]);
    }
    body
}

/// Text of several lines as a Markdown block quote: every line prefixed with `> `, escaped as
/// [`md_inline`] with its block markers escaped too, its leading spaces dropped (four would
/// start a code block), each line break kept as a hard break (a trailing backslash). Nothing
/// in the text can end the quote or open a heading, list, table or code block inside it.
/// Returns the lines of the block; an empty text gives none.
pub fn md_block_quote(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let lines: Vec<&str> = text.trim_end().split('\n').collect();
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let body = md_line(line.trim());
            if body.is_empty() {
                ">".to_string()
            } else if i < last && !lines[i + 1].trim().is_empty() {
                format!("> {body}\\")
            } else {
                format!("> {body}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_dropped_and_breaks_unified() {
        let t = clean_text("a\u{0}b\u{7}c\r\nd\re\u{2028}f\tg\u{202E}h\u{2067}i", 100);
        assert_eq!(t, "abc\nd\ne\nf ghi");
        // Right-to-left letters stay.
        assert_eq!(clean_text("שלום عربي", 100), "שלום عربي");
    }

    #[test]
    fn the_cap_counts_characters_not_bytes() {
        let t = clean_text(&"é".repeat(20), 5);
        assert_eq!(t.chars().count(), 5);
        assert_eq!(clean_text(&"x".repeat(10_000), 10_000).len(), 10_000);
    }

    #[test]
    fn inline_text_cannot_open_markdown_or_html() {
        let s = md_inline("*a* _b_ `c` | [l](u) <script> &amp; ~~x~~ \\ a, b. (c) - # 1.");
        for &c in INLINE_SPECIAL.iter().filter(|&&c| c != '\\') {
            // Every occurrence is preceded by a backslash.
            for (i, _) in s.match_indices(c) {
                assert_eq!(&s[i - 1..i], "\\", "{c} unescaped in {s}");
            }
        }
        assert!(
            s.ends_with("a, b. (c) - # 1."),
            "prose punctuation as typed: {s}"
        );
        assert!(s.contains("\\\\"), "a backslash is escaped: {s}");
        assert!(!s.contains('\n'));
        assert_eq!(md_inline("a\nb"), "a ↵ b");
    }

    #[test]
    fn a_block_quote_holds_every_line() {
        let q = md_block_quote(
            "# Heading\n    code\n\n```\n> quote\n---\n- item\n12. item\n+ x\n=== \nlast",
        );
        assert_eq!(q.len(), 11);
        assert!(q.iter().all(|l| l.starts_with('>')), "{q:?}");
        assert_eq!(q[0], "> \\# Heading\\");
        assert_eq!(
            q[1], "> code",
            "leading spaces dropped; a blank line follows"
        );
        assert_eq!(q[2], ">");
        assert_eq!(q[3], "> \\`\\`\\`\\");
        assert_eq!(q[4], "> \\> quote\\");
        assert_eq!(q[5], "> \\---\\");
        assert_eq!(q[6], "> \\- item\\");
        assert_eq!(q[7], "> 12\\. item\\");
        assert_eq!(q[8], "> \\+ x\\");
        assert_eq!(q[9], "> \\===\\");
        assert!(md_block_quote("  \n ").is_empty());
    }
}
