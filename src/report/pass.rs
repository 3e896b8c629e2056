//! Whether the played range covers the song: the rule behind `pass.complete` and
//! `pass.incomplete`.

use super::model::Pass;
use super::units::{fmt_time, position};
use crate::dsp::snapshot::{MeterSnapshot, FLAG_PASS_JUMPED};

/// The pass a bus's readings cover. Complete when it began at or before the session start
/// (position ≤ 0, so pre-roll counts), never jumped forward, and played at least one sample.
pub fn pass_of(reading: &MeterSnapshot) -> Pass {
    let start_samples = position(reading.pass_start);
    let end_samples = position(reading.pass_end);
    let jumped = reading.flags & FLAG_PASS_JUMPED != 0;
    let from_start = start_samples.is_some_and(|s| s <= 0);
    let mut pass = Pass {
        start_samples,
        end_samples,
        complete: false,
        jumped,
        ..Pass::default()
    };
    pass.complete = pass.played() && from_start && !jumped;
    pass
}

/// Why a pass is incomplete, as the end of a sentence; `None` when it is complete.
pub(crate) fn problem(pass: &Pass, sample_rate: f64) -> Option<String> {
    if pass.complete {
        return None;
    }
    Some(match pass.start_samples {
        _ if !pass.played() => "nothing has been played since the last reset".to_string(),
        Some(s) if s > 0 => format!(
            "the pass began at {} (sample {s}), not at the session start",
            fmt_time(s, sample_rate)
        ),
        _ => "playback jumped forward during the pass, so part of the song was not metered"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::snapshot::NO_POSITION;

    fn reading(start: i64, end: i64, jumped: bool) -> MeterSnapshot {
        MeterSnapshot {
            pass_start: start,
            pass_end: end,
            flags: if jumped { FLAG_PASS_JUMPED } else { 0 },
            ..Default::default()
        }
    }

    #[test]
    fn complete_only_from_the_start_without_jumps() {
        assert!(pass_of(&reading(0, 480_000, false)).complete);
        assert!(
            pass_of(&reading(-48_000, 480_000, false)).complete,
            "pre-roll counts"
        );
        assert!(!pass_of(&reading(1, 480_000, false)).complete);
        assert!(!pass_of(&reading(0, 480_000, true)).complete);
        assert!(!pass_of(&reading(0, 0, false)).complete, "nothing played");
        let never = pass_of(&reading(NO_POSITION, NO_POSITION, false));
        assert!(!never.complete);
        assert_eq!((never.start_samples, never.end_samples), (None, None));
    }

    #[test]
    fn problems_are_named() {
        let p = |s, e, j| problem(&pass_of(&reading(s, e, j)), 48_000.0);
        assert_eq!(p(0, 100, false), None);
        assert!(p(NO_POSITION, NO_POSITION, false)
            .unwrap()
            .contains("nothing"));
        assert!(p(96_000, 200_000, false).unwrap().contains("0:02.0"));
        assert!(p(0, 200_000, true).unwrap().contains("jumped"));
    }
}
