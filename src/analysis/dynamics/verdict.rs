//! From features to a verdict: the decision thresholds, each with its reason.
//!
//! Calibration: the features are principled (a pile-up significance, spreads, run lengths),
//! but [`MIN_PILE_UP`], [`MIN_TOP_SPIKE`] and [`MIN_FLAT_RUN_LENGTH`] were set on the
//! evaluation corpus (`tests/eval`: sampled drums and SoundFont instruments through ffmpeg
//! alimiter, x42-dpl, LSP Limiter, sox and ffmpeg hard clippers), between the highest
//! reading of unprocessed material and the lowest of processed material. The pile-up margin
//! is thin (3.8 against 4.3, see [`MIN_PILE_UP`]); a larger corpus should move it before
//! anyone trusts the third digit. The rule that copies of one sound are no evidence came
//! from the corpus's drum stems, whose repeated hits share their peak unprocessed.

use super::features::DynamicsFeatures;
use super::{DynamicsResult, DynamicsVerdict};

/// Fewest events (separate excursions of the level) to judge from: fewer is a few notes or
/// hits, where a coincidence of levels proves nothing.
const MIN_EVENTS: u64 = 8;
/// Flat-top runs at the peak that make a clipper: a clipper leaves one per clipped
/// half-cycle, hundreds in a pass; unprocessed material leaves none at its peak.
const MIN_FLAT_RUNS: u64 = 10;
/// Mean run length (samples) of a hard clip: a clipped half-cycle is held for several
/// samples (6 and more on the corpus), while a sample-peak limiter that lands two or three
/// neighbours on its ceiling leaves short runs (at most 3.5 on average on the corpus)…
const MIN_FLAT_RUN_LENGTH: f32 = 4.5;
/// …or a spike of samples in the top 0.1 dB (per dB, against the dB under it): clipping
/// folds every sample over the threshold onto it (8.1 and more for the corpus's clippers,
/// 4.1 at most for its limiters, 5.8 for a noise-like test signal clipped by 3 dB, whose
/// runs are short).
const MIN_TOP_SPIKE: f32 = 5.0;
/// −log10 chance of the event pile-up at the top with no limiter: 4 is one in ten
/// thousand, margin for having searched several band positions and widths. On the corpus,
/// unprocessed stems whose top events are not copies of one sound read at most 3.8 (a
/// djembe), limited files at least 4.3 (an electric piano through LSP at 3 dB) apart from
/// two that only two or three hits reached (1.1).
const MIN_PILE_UP: f32 = 4.0;
/// The events at the ceiling are distinct sounds (not copies of one drum sample, which
/// share peak level by construction) when they differ in crest factor by at least this (dB)…
const MIN_CREST_SPREAD_DB: f32 = 0.03;
/// …or in brightness by at least this (octaves of zero-crossing rate)…
const MIN_BRIGHTNESS_SPREAD: f32 = 0.1;
/// …and in either case by more than this many times their spread of peak level (dB, or
/// octaves): copies at slightly different gains differ in peak and in nothing else, a
/// limiter gives different sounds one peak.
const SOUND_OVER_PEAK_SPREAD: f32 = 2.0;

/// Decides on the features.
pub(super) fn decide(f: &DynamicsFeatures) -> DynamicsResult {
    if f.events < MIN_EVENTS {
        return DynamicsResult::default();
    }
    if f.flat_runs >= MIN_FLAT_RUNS {
        let mean_run = f.flat_samples as f32 / f.flat_runs as f32;
        let by_runs = mean_run / MIN_FLAT_RUN_LENGTH;
        let by_spike = f.top_sample_spike / MIN_TOP_SPIKE;
        let strength = by_runs.max(by_spike);
        if strength >= 1.0 {
            return DynamicsResult {
                verdict: DynamicsVerdict::Clipped,
                confidence: sure(strength),
                ceiling_dbfs: f.peak_dbfs,
            };
        }
    }
    let distinct = (f.crest_spread_db >= MIN_CREST_SPREAD_DB
        && f.crest_spread_db >= SOUND_OVER_PEAK_SPREAD * f.peak_spread_db)
        || (f.brightness_spread >= MIN_BRIGHTNESS_SPREAD
            && f.brightness_spread >= SOUND_OVER_PEAK_SPREAD * f.peak_spread_db);
    let strength = f.pile_up / MIN_PILE_UP;
    if strength >= 1.0 && distinct {
        return DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: sure(strength),
            ceiling_dbfs: f.ceiling_dbfs,
        };
    }
    // Not processed: how close it came, under 0.5 (copies of one sound count half).
    let weight = if distinct { 0.5 } else { 0.25 };
    DynamicsResult {
        verdict: DynamicsVerdict::None,
        confidence: weight * strength.clamp(0.0, 0.98),
        ceiling_dbfs: None,
    }
}

/// Confidence of a detection whose evidence is `strength` times its threshold (≥ 1):
/// 0.5 at the threshold, 0.75 at twice, towards 1 beyond.
fn sure(strength: f32) -> f32 {
    (1.0 - 0.5 / strength.max(1.0)).clamp(0.5, 1.0)
}
