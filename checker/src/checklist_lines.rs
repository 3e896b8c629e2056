//! The delivery checklist as terminal lines: what the files passed, what they failed (with
//! the finding ids) and what the sender still confirms.

use stemcheck_engine::report::{CheckState, Report};

/// The checklist's lines, a blank line after them; nothing when the report has none.
pub fn lines(report: &Report) -> Vec<String> {
    if report.checklist.is_empty() {
        return Vec::new();
    }
    let count = |s: CheckState| report.checklist.iter().filter(|c| c.state == s).count();
    let mut out = vec![format!(
        "Delivery checklist: {} passed, {} failed, {} to confirm",
        count(CheckState::Passed),
        count(CheckState::Failed),
        count(CheckState::NotCheckable)
    )];
    for c in &report.checklist {
        let mark = match c.state {
            CheckState::Passed => "ok  ",
            CheckState::Failed => "FAIL",
            CheckState::NotCheckable => "??  ",
        };
        let ids = if c.finding_ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.finding_ids.join(", "))
        };
        out.push(format!("  {mark}  {}{ids}", c.point));
    }
    out.push(String::new());
    out
}
