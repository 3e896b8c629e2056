//! Whether the whole pass was checked: the rule `sum.incomplete`. A READY verdict must be
//! evidence that the sum-check and every bus's limiter / clipper detection saw the pass, not
//! the absence of evidence against it.

use super::input::ReportInput;
use super::model::{Finding, Scope, Severity};
use super::units::round;
use crate::analysis::coverage::{Coverage, RenderMode, Unchecked, WAIT_LIMIT};

/// Rule ids of the pass's coverage (part of the report contract, like [`super::rules::id`]).
pub mod id {
    /// The sum-check or detection skipped more than 1 % of the pass's frames (warn).
    pub const SUM_INCOMPLETE: &str = "sum.incomplete";
}

/// Share of the pass, in percent, that may go unchecked before `sum.incomplete` fires.
pub const INCOMPLETE_PERCENT: f64 = 1.0;

/// Adds `sum.incomplete` when more than [`INCOMPLETE_PERCENT`] of the pass went unchecked.
pub fn evaluate_coverage(input: &ReportInput, out: &mut Vec<Finding>) {
    let Some(c) = &input.coverage else {
        return;
    };
    let percent = 100.0 * c.unchecked_fraction();
    if percent <= INCOMPLETE_PERCENT {
        return;
    }
    let why = match c.reason() {
        Some(Unchecked::Outran) => outran(c),
        Some(Unchecked::Pending) => "the analysis had not read them yet when the report was \
                                     made (the machine could not keep up). Write the report \
                                     again in a moment."
            .to_string(),
        _ => missing(input),
    };
    out.push(Finding {
        id: id::SUM_INCOMPLETE.into(),
        severity: Severity::Warn,
        stem: None,
        scope: Scope::Session,
        message: format!(
            "The sum-check and the limiter detection did not see {} % of the pass ({} of {} \
             frames): {why} The sum-check figures and limiter verdicts cover only the rest, \
             so they cannot sign off the whole pass.",
            fmt_percent(percent),
            c.unchecked(),
            c.pass_frames(),
        ),
        value: Some(round(percent, 1)),
        threshold: Some(INCOMPLETE_PERCENT),
    });
}

/// The host overwrote audio before the analysis read it.
fn outran(c: &Coverage) -> String {
    let speed = c
        .speed
        .map_or("faster".into(), |s| format!("{}×", fmt_speed(s)));
    match c.render_mode {
        RenderMode::Realtime => format!(
            "the host ran {speed} faster than real time in real-time mode, where Stemcheck \
             may not hold it back, and overwrote audio before the analysis could read it. \
             Export offline (the host's offline render) or play in real time, and every frame \
             is checked."
        ),
        RenderMode::Offline => format!(
            "the offline render ran {speed} real time and a wait for the analysis hit its \
             {} s bound, so audio was overwritten before it was read (the machine is \
             overloaded, or the host ran an instance far ahead of the others). Render again.",
            WAIT_LIMIT.as_secs()
        ),
    }
}

/// Stems had not produced part of the pass: names them.
fn missing(input: &ReportInput) -> String {
    let mut names: Vec<&str> = input
        .stems
        .iter()
        .filter(|s| s.unseen_frames.is_some_and(|n| n > 0))
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    let who = match names.as_slice() {
        [] => "some stems".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let verb = if names.len() == 1 { "was" } else { "were" };
    format!(
        "{who} {verb} not processed for part of it (their audio for those positions never \
         reached Stemcheck, so the master could not be compared there). Keep every stem's \
         track playing for the whole pass."
    )
}

fn fmt_percent(p: f64) -> String {
    if p < 10.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.0}")
    }
}

/// As the report's `pass.speed` has it (to 0.1), then to two significant figures.
fn fmt_speed(s: f32) -> String {
    let s = round(f64::from(s), 1);
    if s < 10.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::clean;
    use crate::report::model::Verdict;
    use crate::report::{build_report, evaluate};

    fn covered(c: Coverage) -> ReportInput {
        let mut input = clean();
        input.coverage = Some(c);
        input
    }

    fn incomplete(input: &ReportInput) -> Option<Finding> {
        evaluate(input)
            .into_iter()
            .find(|f| f.id == id::SUM_INCOMPLETE)
    }

    #[test]
    fn a_whole_pass_is_ready_and_one_percent_is_the_limit() {
        let whole = Coverage {
            render_mode: RenderMode::Offline,
            frames: 1_000_000,
            stem_unseen: vec![0; 3],
            speed: Some(48.0),
            ..Default::default()
        };
        let r = build_report(&covered(whole.clone()));
        assert_eq!(r.verdict, Verdict::Ready);
        assert_eq!(r.pass.unchecked_frames, Some(0));
        assert_eq!(r.pass.speed, Some(48.0));
        let one = Coverage {
            lost: 10_000,
            outran: 10_000,
            ..whole.clone()
        };
        assert!(
            incomplete(&covered(one)).is_none(),
            "1 % exactly is allowed"
        );
        let more = Coverage {
            lost: 10_001,
            outran: 10_001,
            ..whole
        };
        assert!(incomplete(&covered(more)).is_some());
    }

    #[test]
    fn a_real_time_host_that_outran_the_analysis_is_named_with_its_speed() {
        let c = Coverage {
            render_mode: RenderMode::Realtime,
            speed: Some(41.7),
            frames: 1_158_144,
            lost: 1_027_072,
            outran: 1_027_072,
            stem_unseen: vec![0; 3],
            ..Default::default()
        };
        let input = covered(c);
        let f = incomplete(&input).expect("fires");
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(f.value, Some(88.7));
        assert!(f.message.contains("89 % of the pass"), "{}", f.message);
        assert!(
            f.message.contains("42× faster than real time"),
            "{}",
            f.message
        );
        let r = build_report(&input);
        assert_eq!(r.verdict, Verdict::Warnings);
        assert_eq!(
            r.pass.unchecked_reason,
            Some(crate::report::model::UncheckedReason::Outran)
        );
        assert_eq!(r.master.limiter.unseen_frames, None, "set by the plugin");
    }

    #[test]
    fn a_stem_that_was_not_processed_is_named() {
        let mut input = covered(Coverage {
            frames: 100_000,
            partial: 20_000,
            stem_unseen: vec![0, 20_000, 0],
            ..Default::default()
        });
        input.stems[0].unseen_frames = Some(20_000);
        input.stems[1].unseen_frames = Some(0);
        let f = incomplete(&input).expect("fires");
        assert!(
            f.message.contains("03_Keys was not processed"),
            "{}",
            f.message
        );
        assert_eq!(f.value, Some(20.0));
    }
}
