//! The read-me's delivery parts: the checklist at the top, the session's facts, and the
//! sender's brief. Everything the user typed goes through [`super::escape`].

use super::delivery_model::{CheckState, SessionPoint, SessionReport};
use super::escape::{md_block_quote, md_inline};
use super::model::Report;

/// The checklist, the session and the brief, in that order.
pub fn delivery(report: &Report, md: &mut Vec<String>) {
    checklist(report, md);
    session(&report.session, md);
    brief(report, md);
}

fn checklist(report: &Report, md: &mut Vec<String>) {
    if report.checklist.is_empty() {
        return;
    }
    let count = |s: CheckState| report.checklist.iter().filter(|c| c.state == s).count();
    md.push("## Delivery checklist".into());
    md.push(String::new());
    md.push(format!(
        "{} passed, {} failed, {} for the sender to confirm (Stemcheck cannot check them {}).",
        count(CheckState::Passed),
        count(CheckState::Failed),
        count(CheckState::NotCheckable),
        if report.files.is_some() {
            "from the files"
        } else {
            "from inside the DAW"
        }
    ));
    md.push(String::new());
    md.push("| | requirement | state | how / what to do |".into());
    md.push("|---|---|---|---|".into());
    for c in &report.checklist {
        let (mark, state) = match c.state {
            CheckState::Passed => ("✅", "passed"),
            CheckState::Failed => ("❌", "**failed**"),
            CheckState::NotCheckable => ("☐", "confirm"),
        };
        let links = c
            .finding_ids
            .iter()
            .map(|id| format!("[`{id}`](#findings)"))
            .collect::<Vec<_>>()
            .join(", ");
        // The points and details are Stemcheck's own sentences (no pipes, no Markdown).
        let detail = if links.is_empty() {
            c.detail.clone()
        } else {
            format!("{}: {links}", c.detail)
        };
        md.push(format!("| {mark} | {} | {state} | {detail} |", c.point));
    }
    md.push(String::new());
}

fn point(p: &Option<SessionPoint>) -> String {
    match p {
        None => "—".into(),
        Some(p) => {
            let bar = match (p.bar, p.beat) {
                (Some(bar), Some(beat)) => format!("bar {bar}, beat {}", trim_num(beat)),
                _ => "bar unknown".into(),
            };
            format!("{bar} — {} (sample {})", p.time, p.samples)
        }
    }
}

/// A number without trailing zeros: 1, 2.5, 3.125.
fn trim_num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn session(s: &SessionReport, md: &mut Vec<String>) {
    let unknown = "not sent by the host";
    let tempo = match (s.tempo_bpm, s.tempo_changed) {
        (None, _) => unknown.to_string(),
        (Some(t), Some(true)) => format!(
            "{} bpm at the start, **changes during the pass** ({} to {} bpm, {} at the end)",
            trim_num(t),
            s.tempo_min_bpm.map_or("?".into(), trim_num),
            s.tempo_max_bpm.map_or("?".into(), trim_num),
            s.tempo_end_bpm.map_or("?".into(), trim_num),
        ),
        (Some(t), _) => format!("{} bpm, constant through the pass", trim_num(t)),
    };
    let sig = match (&s.time_signature, s.time_signature_changed) {
        (None, _) => unknown.to_string(),
        (Some(sig), Some(true)) => format!(
            "{sig} at the start, **changes during the pass** ({} at the end)",
            s.time_signature_end.as_deref().unwrap_or("?")
        ),
        (Some(sig), _) => format!("{sig}, constant through the pass"),
    };
    md.extend([
        "## Session".into(),
        String::new(),
        "| | |".into(),
        "|---|---|".into(),
        format!(
            "| Master track | {} |",
            s.host_track_name
                .as_deref()
                .map_or(unknown.to_string(), md_inline)
        ),
        format!(
            "| Sample rate | {} |",
            s.sample_rate
                .map_or("unknown".into(), |r| format!("{r} Hz"))
        ),
        format!("| Tempo | {tempo} |"),
        format!("| Time signature | {sig} |"),
        format!("| Pass start | {} |", point(&s.start)),
        format!("| Pass end | {} |", point(&s.end)),
        format!(
            "| Length | {} |",
            match (&s.length, s.length_samples) {
                (Some(l), Some(n)) => format!("{l} ({n} samples)"),
                _ => "nothing played".into(),
            }
        ),
        String::new(),
    ]);
}

fn brief(report: &Report, md: &mut Vec<String>) {
    let b = &report.brief;
    let field = |v: &str| {
        if v.is_empty() {
            "—".to_string()
        } else {
            md_inline(v)
        }
    };
    md.extend([
        "## Brief".into(),
        String::new(),
        "| | |".into(),
        "|---|---|".into(),
        format!("| Title | {} |", field(&b.title)),
        format!("| Artist | {} |", field(&b.artist)),
        String::new(),
    ]);
    let notes = md_block_quote(&b.notes);
    if notes.is_empty() {
        md.push("No notes.".into());
    } else {
        md.push("Notes:".into());
        md.push(String::new());
        md.extend(notes);
    }
    md.push(String::new());
    let with_notes: Vec<_> = report.stems.iter().filter(|s| !s.note.is_empty()).collect();
    if with_notes.is_empty() {
        md.push("No stem has a note.".into());
    } else {
        md.push("Stem notes:".into());
        md.push(String::new());
        for s in with_notes {
            md.push(format!(
                "- **{}**: {}",
                md_inline(&s.name),
                md_inline(&s.note)
            ));
        }
    }
    md.push(String::new());
}
