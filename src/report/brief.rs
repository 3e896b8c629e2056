//! The sender's brief: title, artist, notes, and a note per stem, capped and cleaned so that
//! whatever was typed is safe in both files (see [`super::escape`]).

use super::delivery_model::BriefReport;
use super::escape::clean_text;

/// Longest title kept, characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest artist kept, characters.
pub const ARTIST_MAX_CHARS: usize = 200;
/// Longest notes kept, characters.
pub const NOTES_MAX_CHARS: usize = 10_000;
/// Longest note per stem kept, characters.
pub const STEM_NOTE_MAX_CHARS: usize = 2_000;

/// The brief as typed in the master's editor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Brief {
    /// Song title.
    pub title: String,
    /// Artist.
    pub artist: String,
    /// Notes for the recipient.
    pub notes: String,
}

impl Brief {
    /// The brief as the report holds it: control characters dropped, each field capped (a
    /// title or artist on one line).
    pub fn report(&self) -> BriefReport {
        let line = |s: &str, max| clean_text(s, max).replace('\n', " ").trim().to_string();
        BriefReport {
            title: line(&self.title, TITLE_MAX_CHARS),
            artist: line(&self.artist, ARTIST_MAX_CHARS),
            notes: clean_text(&self.notes, NOTES_MAX_CHARS)
                .trim_end()
                .to_string(),
        }
    }
}

/// A stem's note as the report holds it.
pub fn stem_note(note: &str) -> String {
    clean_text(note, STEM_NOTE_MAX_CHARS).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_capped_and_titles_kept_on_one_line() {
        let b = Brief {
            title: "A\nB\u{0}".into(),
            artist: "x".repeat(500),
            notes: "n".repeat(20_000),
        }
        .report();
        assert_eq!(b.title, "A B");
        assert_eq!(b.artist.chars().count(), ARTIST_MAX_CHARS);
        assert_eq!(b.notes.chars().count(), NOTES_MAX_CHARS);
        assert_eq!(
            stem_note(&"é".repeat(3000)).chars().count(),
            STEM_NOTE_MAX_CHARS
        );
    }
}
