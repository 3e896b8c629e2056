//! Level conversions and the headroom window.

use serde::{Deserialize, Serialize};

/// Linear amplitude to dBFS; `None` for digital silence (never `-inf`).
#[inline]
pub fn to_db(linear: f32) -> Option<f32> {
    (linear > 0.0 && linear.is_finite()).then(|| 20.0 * linear.log10())
}

/// dBFS to linear amplitude.
#[inline]
pub fn from_db(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Where a bus's true peak sits against the target window (default −6…−3 dBFS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowStatus {
    /// Below the window: more headroom than asked for (or silent).
    Under,
    /// Within the window.
    In,
    /// Above the window: not enough headroom.
    Over,
}

impl WindowStatus {
    /// Classifies a true peak in dBTP (`None` = silence, which is under any window).
    pub fn classify(true_peak_db: Option<f32>, low_db: f32, high_db: f32) -> Self {
        match true_peak_db {
            Some(db) if db > high_db => WindowStatus::Over,
            Some(db) if db >= low_db => WindowStatus::In,
            _ => WindowStatus::Under,
        }
    }

    /// The word used in the report and the editor.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStatus::Under => "under",
            WindowStatus::In => "in",
            WindowStatus::Over => "over",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_has_no_level() {
        assert_eq!(to_db(0.0), None);
        assert!((to_db(0.5).unwrap() + 6.0206).abs() < 1e-3);
        assert!((from_db(-6.0206) - 0.5).abs() < 1e-5);
    }

    #[test]
    fn window_edges_are_inside() {
        let c = |db| WindowStatus::classify(Some(db), -6.0, -3.0);
        assert_eq!(c(-6.0), WindowStatus::In);
        assert_eq!(c(-3.0), WindowStatus::In);
        assert_eq!(c(-2.99), WindowStatus::Over);
        assert_eq!(c(-6.01), WindowStatus::Under);
        assert_eq!(
            WindowStatus::classify(None, -6.0, -3.0),
            WindowStatus::Under
        );
    }
}
