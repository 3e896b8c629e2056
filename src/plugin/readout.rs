//! What the editor shows, derived from a snapshot and the thresholds: plain data, no GUI, so
//! it is tested without a window.

use crate::dsp::level::{to_db, WindowStatus};
use crate::dsp::snapshot::MeterSnapshot;

/// The state a colour stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Nothing measured yet, or silence.
    Idle,
    /// More headroom than the window asks for (blue).
    Under,
    /// Within the window (green).
    InWindow,
    /// Above the window but under the ceiling (amber).
    Over,
    /// True peak above the ceiling, or clipped samples, or NaN/Inf (red).
    Fault,
}

/// The numbers and words at the top of the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    /// Headroom from the held true peak to 0 dBFS, `None` while silent.
    pub headroom_db: Option<f32>,
    /// Held true peak, dBTP.
    pub true_peak_db: Option<f32>,
    /// Window status of the held true peak.
    pub window: WindowStatus,
    /// Colour of the headroom number.
    pub tone: Tone,
    /// One line saying what the colour means.
    pub verdict: String,
}

/// Builds the headline for `snap` against the window (low, high) and the true-peak ceiling.
pub fn headline(snap: &MeterSnapshot, window: (f32, f32), ceiling_db: f32) -> Headline {
    let tp = to_db(snap.max_true_peak());
    let status = WindowStatus::classify(tp, window.0, window.1);
    let fault = snap.clips.count > 0 || snap.non_finite > 0 || tp.is_some_and(|db| db > ceiling_db);
    let (tone, verdict) = match (tp, status) {
        _ if fault => (Tone::Fault, fault_text(snap, tp, ceiling_db)),
        (None, _) => (Tone::Idle, "No signal yet".to_owned()),
        _ if snap.is_silent() => (
            Tone::Idle,
            "Silent since reset: nothing above -100 dBFS".to_owned(),
        ),
        (_, WindowStatus::Under) => (
            Tone::Under,
            format!(
                "Below the window ({:.1} to {:.1} dBFS): more headroom than asked",
                window.0, window.1
            ),
        ),
        (_, WindowStatus::In) => (Tone::InWindow, "In the window: ready to print".to_owned()),
        (_, WindowStatus::Over) => (
            Tone::Over,
            format!(
                "Above the window: peaks over {:.1} dBFS, turn the bus down",
                window.1
            ),
        ),
    };
    // Silence has no headroom figure: a dash, not "145.6 dB" of dither.
    let audible = tp.filter(|_| !snap.is_silent());
    Headline {
        headroom_db: audible.map(|db| -db),
        true_peak_db: tp,
        window: status,
        tone,
        verdict,
    }
}

fn fault_text(snap: &MeterSnapshot, tp: Option<f32>, ceiling_db: f32) -> String {
    if snap.non_finite > 0 {
        format!(
            "{} NaN/Inf samples: a plugin upstream is broken",
            snap.non_finite
        )
    } else if snap.clips.count > 0 {
        format!("{} samples at full scale: the bus clips", snap.clips.count)
    } else {
        format!(
            "True peak {:+.1} dBTP is over the {:.1} dBTP ceiling",
            tp.unwrap_or(0.0),
            ceiling_db
        )
    }
}

/// What the editor shows where there is no figure (silence, nothing measured yet).
pub const NO_VALUE: &str = "\u{2013}";

/// Formats a level in dB with one decimal and a typographic minus ("\u{2212}4.4", "+0.3",
/// "0.0"), or [`NO_VALUE`] for silence. The minus is as wide as the plus and the digits, so
/// columns of levels stay aligned.
pub fn format_db(db: Option<f32>) -> String {
    match db {
        Some(v) => {
            let r = (v * 10.0).round() / 10.0;
            if r > 0.0 {
                format!("+{r:.1}")
            } else if r < 0.0 {
                format!("\u{2212}{:.1}", -r)
            } else {
                "0.0".to_owned()
            }
        }
        None => NO_VALUE.to_owned(),
    }
}

/// The tone of a linear level against the window (low, high) and the ceiling: what colour a
/// bar or a hold value takes.
pub fn level_tone(linear: f32, window: (f32, f32), ceiling_db: f32) -> Tone {
    match to_db(linear) {
        None => Tone::Idle,
        Some(db) if db > ceiling_db => Tone::Fault,
        Some(db) if db > window.1 => Tone::Over,
        Some(db) if db >= window.0 => Tone::InWindow,
        Some(_) => Tone::Under,
    }
}

/// Formats a transport position in samples as `m:ss.mmm`, or [`NO_VALUE`] when the host gave
/// none.
pub fn format_position(pos: Option<i64>, sample_rate: f32) -> String {
    match pos {
        Some(p) if sample_rate > 0.0 => {
            let secs = p as f64 / sample_rate as f64;
            format!(
                "{}:{:06.3}",
                (secs / 60.0).floor() as i64,
                secs.rem_euclid(60.0)
            )
        }
        _ => NO_VALUE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap_at(tp: f32) -> MeterSnapshot {
        MeterSnapshot {
            channels: 2,
            true_peak: [tp, tp * 0.5],
            sample_peak: [tp * 0.9, tp * 0.4],
            ..Default::default()
        }
    }

    #[test]
    fn tones_follow_window_and_ceiling() {
        let w = (-6.0, -3.0);
        assert_eq!(headline(&snap_at(0.0), w, -1.0).tone, Tone::Idle);
        assert_eq!(headline(&snap_at(0.25), w, -1.0).tone, Tone::Under); // −12 dB
        assert_eq!(headline(&snap_at(0.6), w, -1.0).tone, Tone::InWindow); // −4.4 dB
        assert_eq!(headline(&snap_at(0.8), w, -1.0).tone, Tone::Over); // −1.9 dB
        assert_eq!(headline(&snap_at(0.95), w, -1.0).tone, Tone::Fault); // −0.4 dB
        let h = headline(&snap_at(0.6), w, -1.0);
        assert!((h.headroom_db.unwrap() - 4.437).abs() < 0.01);
    }

    #[test]
    fn a_bus_below_minus_100_dbfs_is_silent() {
        let mut s = snap_at(5e-6);
        s.sample_peak = [4e-6, 1e-6];
        let h = headline(&s, (-6.0, -3.0), -1.0);
        assert_eq!(h.tone, Tone::Idle);
        assert!(h.verdict.starts_with("Silent"), "{}", h.verdict);
        s.sample_peak = [2e-5, 0.0];
        assert!(!s.is_silent());
    }

    #[test]
    fn clips_are_a_fault_even_under_the_window() {
        let mut s = snap_at(0.25);
        s.clips.count = 3;
        let h = headline(&s, (-6.0, -3.0), -1.0);
        assert_eq!(h.tone, Tone::Fault);
        assert!(h.verdict.contains("3 samples"));
    }

    #[test]
    fn figures_use_a_real_minus_and_a_dash_for_silence() {
        assert_eq!(format_db(Some(-4.44)), "\u{2212}4.4");
        assert_eq!(format_db(Some(0.26)), "+0.3");
        assert_eq!(format_db(Some(-0.04)), "0.0");
        assert_eq!(format_db(None), NO_VALUE);
        assert_eq!(format_position(None, 48_000.0), NO_VALUE);
        assert_eq!(
            format_position(Some(48_000 * 61 + 24_000), 48_000.0),
            "1:01.500"
        );
    }
}
