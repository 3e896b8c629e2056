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

/// A dB figure with `places` decimals and an explicit sign above zero.
fn fmt_db_places(db: f64, places: usize) -> String {
    let r = round(db, places as i32);
    if r > 0.0 {
        format!("+{r:.places$}")
    } else {
        format!("{r:.places$}")
    }
}

/// A measured level and the threshold it crossed, for one sentence: one decimal each, or more
/// on the value (up to three) where one would show them equal or the wrong way round, so that
/// "peaks at -2.96 dBTP, above the -3.0 dBFS window top" never reads "-3.0 … above -3.0".
pub(crate) fn fmt_db_pair(value: f64, threshold: f64) -> (String, String) {
    let t = fmt_db(threshold);
    let threshold_shown = round(threshold, 1);
    for places in 1..=3 {
        let v = round(value, places as i32);
        if v != threshold_shown && (v > threshold_shown) == (value > threshold) {
            return (fmt_db_places(value, places), t);
        }
    }
    let side = if value > threshold {
        "just above"
    } else {
        "just below"
    };
    (format!("{side} {t}"), t)
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
    fn a_value_and_its_threshold_never_read_the_wrong_way_round() {
        assert_eq!(fmt_db_pair(-2.96, -3.0), ("-2.96".into(), "-3.0".into()));
        assert_eq!(fmt_db_pair(-2.4, -3.0), ("-2.4".into(), "-3.0".into()));
        assert_eq!(fmt_db_pair(-3.04, -3.0), ("-3.04".into(), "-3.0".into()));
        assert_eq!(fmt_db_pair(-0.951, -1.0), ("-0.95".into(), "-1.0".into()));
        assert_eq!(fmt_db_pair(-0.9996, -1.0).0, "just above -1.0");
        assert_eq!(fmt_db_pair(-0.99996, -1.0).0, "just above -1.0");
        // Every value a hundredth apart from the threshold reads on its own side.
        for i in -300..300 {
            let v = -3.0 + f64::from(i) * 0.00731;
            if (v - -3.0f64).abs() < 1e-3 {
                continue;
            }
            let (vs, _) = fmt_db_pair(v, -3.0);
            let shown: f64 = vs.parse().unwrap();
            assert_eq!(shown > -3.0, v > -3.0, "{v} shown as {vs}");
            assert_ne!(shown, -3.0, "{v} shown as {vs}");
        }
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
