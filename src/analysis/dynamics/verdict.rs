//! From features to a verdict: the decision thresholds, each with its reason.

use super::features::DynamicsFeatures;
use super::{DynamicsResult, DynamicsVerdict};

/// Decides on the features; `window_len` is the analysis window in frames.
pub(super) fn decide(f: &DynamicsFeatures, _window_len: usize) -> DynamicsResult {
    if f.active_windows < 100 {
        return DynamicsResult::default();
    }
    if f.flat_runs >= 20 && f.flat_samples >= 5 * f.flat_runs {
        return DynamicsResult {
            verdict: DynamicsVerdict::Clipped,
            confidence: 1.0,
            ceiling_dbfs: f.peak_dbfs,
        };
    }
    if f.pile_up > 4.0 && f.ceiling_crest_spread_db > 1.0 {
        return DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: 1.0,
            ceiling_dbfs: f.ceiling_dbfs,
        };
    }
    DynamicsResult::default()
}
