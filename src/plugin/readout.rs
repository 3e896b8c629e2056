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
    Headline {
        headroom_db: tp.map(|db| -db),
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

/// Formats a level in dB with one decimal, or "−∞" for silence.
pub fn format_db(db: Option<f32>) -> String {
    match db {
        Some(v) => format!("{v:+.1}"),
        None => "-inf".to_owned(),
    }
}

/// Formats a transport position in samples as seconds, or "—" when the host gave none.
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
        _ => "-".to_owned(),
    }
}

/// Meter scale: dB at the bottom and top of the bars.
pub const SCALE_DB: (f32, f32) = (-60.0, 3.0);

/// Fraction of the bar height for a linear level (0 at the bottom, 1 at the top).
pub fn bar_fraction(linear: f32) -> f32 {
    match to_db(linear) {
        Some(db) => ((db - SCALE_DB.0) / (SCALE_DB.1 - SCALE_DB.0)).clamp(0.0, 1.0),
        None => 0.0,
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
    fn bar_fraction_spans_the_scale() {
        assert_eq!(bar_fraction(0.0), 0.0);
        assert!((bar_fraction(1.0) - 60.0 / 63.0).abs() < 1e-6);
        assert_eq!(bar_fraction(10.0), 1.0);
        assert_eq!(
            format_position(Some(48_000 * 61 + 24_000), 48_000.0),
            "1:01.500"
        );
    }
}
