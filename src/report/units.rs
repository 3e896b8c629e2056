//! Numbers as the report writes them: dB rounded to a hundredth, silence as `None`, transport
//! positions as song time. Shared by the rules, the JSON model and the read-me so that all
//! three show the same figure.

use crate::dsp::level::to_db;
use crate::dsp::snapshot::NO_POSITION;

/// Rounds to `decimals` places. Rounding in f64 after widening keeps `-4.1` printing as
/// `-4.1` in JSON rather than as the f32's long binary expansion.
pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let r = (value * scale).round() / scale;
    // No "-0" in the output: it reads like an error.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// A linear level in dB, rounded to 0.01 dB; `None` for digital silence (JSON `null`).
pub(crate) fn level_db(linear: f32) -> Option<f64> {
    to_db(linear).map(|db| round(f64::from(db), 2))
}

/// A sample rate in whole Hz; `None` when the bus never ran (rate zero).
pub(crate) fn rate_hz(rate: f32) -> Option<u32> {
    (rate.is_finite() && rate >= 0.5).then(|| rate.round() as u32)
}

/// A position field back to an option.
pub(crate) fn position(p: i64) -> Option<i64> {
    (p != NO_POSITION).then_some(p)
}

/// A dB figure for a sentence: one decimal, explicit sign above zero ("+0.4", "-1.8").
pub(crate) fn fmt_db(db: f64) -> String {
    let r = round(db, 1);
    if r > 0.0 {
        format!("+{r:.1}")
    } else {
        format!("{r:.1}")
    }
}

/// A transport position in samples as song time, `m:ss.s` (`-0:00.5` before the start; a
/// position that rounds to zero is `0:00.0`, never `-0:00.0`).
pub fn fmt_time(samples: i64, sample_rate: f64) -> String {
    if sample_rate <= 0.0 {
        return format!("sample {samples}");
    }
    let seconds = samples as f64 / sample_rate;
    // Rounded to tenths first, so 59.96 s becomes 1:00.0 and never 0:60.0.
    let tenths = (seconds.abs() * 10.0).round() as u64;
    let sign = if seconds < 0.0 && tenths > 0 { "-" } else { "" };
    let minutes = tenths / 600;
    let rest = tenths % 600;
    format!("{sign}{minutes}:{:02}.{}", rest / 10, rest % 10)
}

/// "1 sample" / "3 samples".
pub(crate) fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_and_silence_is_none() {
        assert_eq!(level_db(0.0), None);
        assert_eq!(level_db(0.5), Some(-6.02));
        assert_eq!(level_db(1.0), Some(0.0));
        assert_eq!(round(-0.001, 2), 0.0);
        assert!(round(-0.001, 2).is_sign_positive());
    }

    #[test]
    fn sentence_figures() {
        assert_eq!(fmt_db(-1.84), "-1.8");
        assert_eq!(fmt_db(0.44), "+0.4");
        assert_eq!(fmt_db(-0.01), "0.0");
        assert_eq!(fmt_time(0, 48_000.0), "0:00.0");
        assert_eq!(fmt_time(48_000 * 62 + 14_400, 48_000.0), "1:02.3");
        assert_eq!(fmt_time(48_000 * 60 - 1, 48_000.0), "1:00.0");
        assert_eq!(fmt_time(-24_000, 48_000.0), "-0:00.5");
        // A pass that starts a block before zero (a host's latency) is not "-0:00.0".
        assert_eq!(fmt_time(-1024, 48_000.0), "0:00.0");
        assert_eq!(plural(1, "sample", "samples"), "1 sample");
        assert_eq!(plural(2, "sample", "samples"), "2 samples");
    }
}
