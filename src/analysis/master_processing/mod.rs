//! Processing on the master after the stems: a limiter or compressor makes the master quieter
//! than the stem sum in loud passages, by an amount that moves with level.
//!
//! The master and the stem sum are cut into windows of 10 ms on a fixed grid
//! (so chunking does not matter). Every window where the master follows the sum (squared
//! correlation ≥ 0.9: a flipped, shifted or foreign source is no evidence)
//! gives the sum's peak level, the least-squares gain ⟨m,s⟩/⟨s,s⟩ and the ratio of the
//! window peaks, binned in fixed 2-D histograms (`grid`); the loudest windows are also
//! kept exactly (`ceiling`). The decision is taken when [`MasterProcessing::result`] is
//! asked:
//!
//! - the reference gain r₀ is the most common least-squares gain of the windows well under
//!   the loudest, where a limiter rests (a master fader, or a master driven into its
//!   limiter, moves r₀; that is not processing);
//! - **level-dependent gain**: the loudest windows' peak ratio sits at least 1 dB under r₀
//!   and the master's peak stops following the sum's peak across them (slope ≤ 0.5), which a
//!   fader on one stem, a polarity flip or a small offset do not do;
//! - **or a brickwall**: at least two windows whose sum would have taken the master ≥ 1 dB
//!   over its highest peak hold that peak to 0.1 dB, from sum peaks ≥ 0.5 dB apart (a
//!   limiter that only the two loudest hits reached).
//!
//! The reported gain reduction is r₀ minus the 5th-percentile peak ratio of the loud
//! windows (or the largest overshoot for a brickwall found by the second test). Memory is
//! fixed (two histograms of 456 × 481 counts, ≈ 1.8 MB, for the one master). The thresholds
//! were checked on the evaluation corpus (`tests/eval`): no false alarm on 124 sessions with
//! faders, pans, offsets, polarity flips, unaccounted tracks and processed stems.

mod ceiling;
mod grid;

use super::level_bins::db;
use ceiling::TopWindows;
use grid::{level_bin, Grid, LEVEL_BINS, LEVEL_BIN_DB};

/// Window length: one 100 Hz cycle, short enough to resolve a limiter's attack.
const WINDOW_SECONDS: f32 = 0.010;
/// Windows whose sum peaks under this (−80 dBFS) carry nothing to compare.
const SILENT_PEAK: f32 = 1e-4;
/// A window counts only if the master follows the sum this closely (squared correlation):
/// a limiter's gain moves little within 10 ms, so its windows correlate above 0.95; a
/// window where the master carries something else (a flipped or shifted stem, a source no
/// stem has) is no evidence either way.
const MIN_COHERENCE: f64 = 0.9;
/// The loudest windows the gain reduction is read from: the top this many dB of sum peak,
/// widened until it holds [`MIN_LOUD_WINDOWS`]. Narrow enough to sit above a limiter's
/// threshold at 3 dB of gain reduction.
const LOUD_RANGE_DB: f32 = 2.0;
/// Fewest loud windows to judge from (0.1 s of audio at the top).
const MIN_LOUD_WINDOWS: u64 = 10;
/// The loud range is never widened past this, dB.
const MAX_LOUD_RANGE_DB: f32 = 8.0;
/// Reported as processing from this much gain reduction up (dB): less is within what a live
/// gain estimate and window statistics wander by on a clean session.
const MIN_GAIN_REDUCTION_DB: f32 = 1.0;
/// Above this slope of the master's peak over the sum's peak across the loud windows, the
/// master still follows the sum: a fader, not a limiter (a 2:1 compressor reads 0.5, a
/// brickwall limiter near 0, a fader 1).
const MAX_PROCESSING_SLOPE: f32 = 0.5;
/// Quantile of the loud windows' gain reduction reported: near the top, without resting on
/// a single window.
const REPORTED_QUANTILE: f64 = 0.95;
/// The reference gain is read from windows this far under the loudest sum peak, where a
/// limiter is at rest even at 10 dB of gain reduction...
const REFERENCE_BELOW_DB: f32 = 12.0;
/// ...when there are at least this many of them (else from every window).
const MIN_REFERENCE_WINDOWS: u64 = 50;

/// Processing found on the master after the stems.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MasterProcessingResult {
    /// A limiter or compressor acts on the master.
    pub detected: bool,
    /// Its gain reduction in the loudest passages, dB (positive), when detected.
    pub gain_reduction_db: Option<f32>,
    /// Evidence of processing, 0 to 1: 0.5 and above when detected, under 0.5 otherwise
    /// (0 when there was too little signal to judge).
    pub confidence: f32,
}

/// The measurements [`MasterProcessingResult`] is drawn from (for calibration).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MasterProcessingFeatures {
    /// Coherent windows with signal.
    pub windows: u64,
    /// The loudest windows the reduction is read from.
    pub loud_windows: u64,
    /// Width of the loud range, dB of sum peak.
    pub loud_range_db: f32,
    /// Most common least-squares gain master/sum, dB: the gain where nothing is processed.
    pub reference_gain_db: f32,
    /// Reference minus the median peak ratio of the loud windows, dB.
    pub loud_reduction_db: f32,
    /// The same at the 95th percentile of the reduction.
    pub high_reduction_db: f32,
    /// Slope of master peak (dB) over sum peak (dB) across the loud windows.
    pub peak_slope: f32,
    /// Windows whose master peak sits on the master's highest (within 0.1 dB) although the
    /// sum, at the reference gain, would have taken them at least 1 dB over it — from sum
    /// peaks at least 0.5 dB apart. 0 unless there are at least two.
    pub brickwall_windows: u64,
    /// The largest such overshoot, dB.
    pub brickwall_overshoot_db: f32,
}

/// Sums over the window in progress.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    mm: f64,
    ss: f64,
    ms: f64,
    master_peak: f32,
    sum_peak: f32,
}

/// Detector of processing on the master. Allocates everything in [`MasterProcessing::new`];
/// [`push`](Self::push) never allocates.
#[derive(Clone, Debug)]
pub struct MasterProcessing {
    channels: usize,
    len: usize,
    filled: usize,
    window: Window,
    /// Least-squares gain of every coherent window, by sum peak.
    ls: Grid,
    /// Peak ratio (master over sum) of every coherent window, by sum peak.
    peaks: Grid,
    /// The coherent windows with the highest master peaks.
    top: TopWindows,
}

impl MasterProcessing {
    /// A detector for a master of `channels` channels (1 to 64) at `sample_rate` Hz.
    pub fn new(channels: usize, sample_rate: f32) -> Self {
        let sample_rate = if sample_rate.is_finite() {
            sample_rate.clamp(8_000.0, 768_000.0)
        } else {
            48_000.0
        };
        Self {
            channels: channels.clamp(1, 64),
            len: ((sample_rate * WINDOW_SECONDS).round() as usize).max(8),
            filled: 0,
            window: Window::default(),
            ls: Grid::new(),
            peaks: Grid::new(),
            top: TopWindows::new(),
        }
    }

    /// Adds the next chunk: the master and the stem sum at unity, time-aligned, the same
    /// channel count and length (the shorter of the two is used). Any chunk length works;
    /// the result does not depend on the chunking. A frame-channel pair with a non-finite
    /// sample on either side is skipped.
    pub fn push(&mut self, master: &[&[f32]], stem_sum: &[&[f32]]) {
        let chans = master.len().min(stem_sum.len()).min(self.channels);
        let n = master[..chans]
            .iter()
            .chain(&stem_sum[..chans])
            .map(|c| c.len())
            .min()
            .unwrap_or(0);
        for t in 0..n {
            let w = &mut self.window;
            for ch in 0..chans {
                let (m, s) = (master[ch][t], stem_sum[ch][t]);
                if !(m.is_finite() && s.is_finite()) {
                    continue;
                }
                let (md, sd) = (m as f64, s as f64);
                w.mm += md * md;
                w.ss += sd * sd;
                w.ms += md * sd;
                w.master_peak = w.master_peak.max(m.abs());
                w.sum_peak = w.sum_peak.max(s.abs());
            }
            self.filled += 1;
            if self.filled == self.len {
                self.end_window();
            }
        }
    }

    fn end_window(&mut self) {
        let w = std::mem::take(&mut self.window);
        self.filled = 0;
        if w.sum_peak < SILENT_PEAK {
            return;
        }
        let Some(level) = level_bin(w.sum_peak) else {
            return;
        };
        let coherence = w.ms * w.ms / (w.mm * w.ss);
        if !(w.ms > 0.0 && coherence >= MIN_COHERENCE) {
            return;
        }
        if let (Some(ratio), Some(master), Some(sum)) = (
            db(w.master_peak / w.sum_peak),
            db(w.master_peak),
            db(w.sum_peak),
        ) {
            self.peaks.add(level, ratio);
            self.ls.add(level, 20.0 * (w.ms / w.ss).log10() as f32);
            self.top.offer(master, sum);
        }
    }

    /// The verdict on everything pushed since the last reset. Allocates nothing.
    pub fn result(&self) -> MasterProcessingResult {
        let f = self.features();
        if f.loud_windows < MIN_LOUD_WINDOWS {
            return MasterProcessingResult::default();
        }
        // Margins of the level-dependence test, 0 at the thresholds and 1 well past them.
        let by_reduction = ((f.loud_reduction_db - MIN_GAIN_REDUCTION_DB) / 2.0).clamp(-1.0, 1.0);
        let by_slope = ((MAX_PROCESSING_SLOPE - f.peak_slope) / 0.4).clamp(-1.0, 1.0);
        let level_dependent = by_reduction >= 0.0 && by_slope >= 0.0;
        let detected = level_dependent || f.brickwall_windows > 0;
        let confidence = if level_dependent {
            0.5 + 0.5 * by_reduction.min(by_slope)
        } else if detected {
            // A ceiling held by a few windows only: found, with less to go on.
            0.5 + 0.1 * (f.brickwall_windows as f32).min(4.0)
        } else {
            0.5 - 0.5 * (-by_reduction).max(-by_slope).max(0.0)
        };
        let gain_reduction = if level_dependent {
            f.high_reduction_db
        } else {
            f.brickwall_overshoot_db
        };
        MasterProcessingResult {
            detected,
            gain_reduction_db: detected.then_some(gain_reduction.max(0.0)),
            confidence: confidence.clamp(0.0, 1.0),
        }
    }

    /// The measurements the result is drawn from (for calibration and diagnostics).
    pub fn features(&self) -> MasterProcessingFeatures {
        let mut f = MasterProcessingFeatures {
            peak_slope: 1.0,
            ..Default::default()
        };
        let Some(top) = (0..LEVEL_BINS)
            .rev()
            .find(|&l| self.peaks.count(l, l + 1) > 0)
        else {
            return f;
        };
        f.windows = self.peaks.count(0, top + 1);
        let per_db = 1.0 / LEVEL_BIN_DB;
        let quiet = (top + 1).saturating_sub((REFERENCE_BELOW_DB * per_db) as usize);
        let reference_hi = if self.ls.count(0, quiet) >= MIN_REFERENCE_WINDOWS {
            quiet
        } else {
            top + 1
        };
        let reference = self.ls.mode(0, reference_hi);
        f.reference_gain_db = reference;
        let mut loud_lo = (top + 1).saturating_sub((LOUD_RANGE_DB * per_db) as usize);
        let widest = (top + 1).saturating_sub((MAX_LOUD_RANGE_DB * per_db) as usize);
        while loud_lo > widest && self.peaks.count(loud_lo, top + 1) < MIN_LOUD_WINDOWS {
            loud_lo -= 1;
        }
        f.loud_windows = self.peaks.count(loud_lo, top + 1);
        f.loud_range_db = (top + 1 - loud_lo) as f32 * LEVEL_BIN_DB;
        if let Some(median) = self.peaks.quantile(loud_lo, top + 1, 0.5) {
            f.loud_reduction_db = reference - median;
        }
        if let Some(low) = self
            .peaks
            .quantile(loud_lo, top + 1, 1.0 - REPORTED_QUANTILE)
        {
            f.high_reduction_db = reference - low;
        }
        if let Some(slope) = self.peaks.slope(loud_lo, top + 1) {
            f.peak_slope = slope;
        }
        let brickwall = self.top.brickwall(reference);
        if brickwall.found {
            f.brickwall_windows = brickwall.windows as u64;
            f.brickwall_overshoot_db = brickwall.overshoot_db;
        }
        f
    }

    /// Forgets everything pushed, keeping the allocation.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.window = Window::default();
        self.ls.clear();
        self.peaks.clear();
        self.top.clear();
    }
}
