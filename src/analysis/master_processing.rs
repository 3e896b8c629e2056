//! Processing on the master after the stems: a limiter or compressor makes the master quieter
//! than the stem sum in loud passages, by an amount that moves with level.
//!
//! The master and the stem sum are cut into windows of [`WINDOW_SECONDS`] on a fixed grid
//! (so chunking does not matter). Each window with signal gives the sum's peak level ℓ and
//! the master-to-sum gain r in dB, two ways: the least-squares gain ⟨m,s⟩/⟨s,s⟩ (blind to
//! extra signal in the master that the sum does not carry) and the ratio of the window
//! peaks (what a peak limiter acts on). Both are binned against ℓ in fixed 2-D histograms,
//! and the decision is taken from them when [`MasterProcessing::result`] is asked:
//!
//! - the reference gain r₀ is the most common least-squares gain (most windows are not
//!   processed; a master or stem fader moves r₀, it is not processing);
//! - processing lowers the gain of the loudest windows under r₀ (gain reduction), and the
//!   master's peak stops following the sum's peak (slope of master peak over sum peak well
//!   under 1), which a constant fader, a polarity flip or a small offset of one stem do not
//!   do.

use super::level_bins::db;

/// Window length: one 100 Hz cycle, short enough to resolve a limiter's attack.
const WINDOW_SECONDS: f32 = 0.010;
/// Sum-peak bins: 0.25 dB from −90 dBFS to +24 dBFS.
const LEVEL_BIN_DB: f32 = 0.25;
const LEVEL_LOW_DB: f32 = -90.0;
const LEVEL_BINS: usize = 456;
/// Gain bins: 0.1 dB from −24 dB to +6 dB, one centred on 0 dB.
const GAIN_BIN_DB: f32 = 0.1;
const GAIN_LOW_DB: f32 = -24.05;
const GAIN_BINS: usize = 300;
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
    /// 0 (no evidence or no signal) to 1, for the `detected` given.
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
    /// The same at [`REPORTED_QUANTILE`] of the reduction.
    pub high_reduction_db: f32,
    /// Slope of master peak (dB) over sum peak (dB) across the loud windows.
    pub peak_slope: f32,
}

/// 2-D histogram of windows: sum peak level × gain.
#[derive(Clone, Debug)]
struct Grid {
    counts: Vec<u32>,
}

impl Grid {
    fn new() -> Self {
        Self {
            counts: vec![0; LEVEL_BINS * GAIN_BINS],
        }
    }

    fn add(&mut self, level: usize, gain_db: f32) {
        let c = &mut self.counts[level * GAIN_BINS + gain_bin(gain_db)];
        *c = c.saturating_add(1);
    }

    fn row(&self, level: usize) -> &[u32] {
        &self.counts[level * GAIN_BINS..(level + 1) * GAIN_BINS]
    }

    /// Count over levels `lo..hi`.
    fn count(&self, lo: usize, hi: usize) -> u64 {
        (lo..hi)
            .map(|l| self.row(l).iter().map(|&c| c as u64).sum::<u64>())
            .sum()
    }

    /// The gain (dB, bin centre) at quantile `q` over levels `lo..hi`.
    fn quantile(&self, lo: usize, hi: usize, q: f64) -> Option<f32> {
        let n = self.count(lo, hi);
        if n == 0 {
            return None;
        }
        let target = ((n as f64 * q).ceil() as u64).clamp(1, n);
        let mut acc = 0;
        for g in 0..GAIN_BINS {
            acc += (lo..hi).map(|l| self.row(l)[g] as u64).sum::<u64>();
            if acc >= target {
                return Some(gain_centre(g));
            }
        }
        None
    }

    /// The most common gain over levels `lo..hi` (dB): three-bin sums, so that a gain on a
    /// bin edge is not split.
    fn mode(&self, lo: usize, hi: usize) -> f32 {
        let mut best = (0u64, GAIN_BINS / 2);
        for g in 0..GAIN_BINS {
            let c: u64 = (lo..hi)
                .map(|l| {
                    let row = self.row(l);
                    row[g.saturating_sub(1)..(g + 2).min(GAIN_BINS)]
                        .iter()
                        .map(|&c| c as u64)
                        .sum::<u64>()
                })
                .sum();
            if c > best.0 {
                best = (c, g);
            }
        }
        gain_centre(best.1)
    }

    /// Least-squares slope of (level + gain) over level across levels `lo..hi`.
    fn slope(&self, lo: usize, hi: usize) -> Option<f32> {
        let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
        for l in lo..hi {
            let x = level_centre(l) as f64;
            for (g, &c) in self.row(l).iter().enumerate() {
                let c = c as f64;
                let y = x + gain_centre(g) as f64;
                n += c;
                sx += c * x;
                sy += c * y;
                sxx += c * x * x;
                sxy += c * x * y;
            }
        }
        let var = sxx / n - (sx / n).powi(2);
        (n > 1.0 && var > 1e-3).then(|| ((sxy / n - sx * sy / (n * n)) / var) as f32)
    }

    fn clear(&mut self) {
        self.counts.fill(0);
    }
}

fn level_bin(peak: f32) -> Option<usize> {
    let l = ((db(peak)? - LEVEL_LOW_DB) / LEVEL_BIN_DB).floor();
    (l >= 0.0).then(|| (l as usize).min(LEVEL_BINS - 1))
}

fn level_centre(l: usize) -> f32 {
    LEVEL_LOW_DB + (l as f32 + 0.5) * LEVEL_BIN_DB
}

fn gain_bin(gain_db: f32) -> usize {
    let g = ((gain_db - GAIN_LOW_DB) / GAIN_BIN_DB).floor();
    g.clamp(0.0, (GAIN_BINS - 1) as f32) as usize
}

fn gain_centre(g: usize) -> f32 {
    GAIN_LOW_DB + (g as f32 + 0.5) * GAIN_BIN_DB
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
        if let Some(ratio) = db(w.master_peak / w.sum_peak) {
            self.peaks.add(level, ratio);
            self.ls.add(level, 20.0 * (w.ms / w.ss).log10() as f32);
        }
    }

    /// The verdict on everything pushed since the last reset. Allocates nothing.
    pub fn result(&self) -> MasterProcessingResult {
        let f = self.features();
        if f.loud_windows < MIN_LOUD_WINDOWS {
            return MasterProcessingResult::default();
        }
        let detected =
            f.loud_reduction_db >= MIN_GAIN_REDUCTION_DB && f.peak_slope <= MAX_PROCESSING_SLOPE;
        // Margins of both conditions, 0 at the threshold and 1 well past it.
        let by_reduction = ((f.loud_reduction_db - MIN_GAIN_REDUCTION_DB) / 2.0).clamp(-1.0, 1.0);
        let by_slope = ((MAX_PROCESSING_SLOPE - f.peak_slope) / 0.4).clamp(-1.0, 1.0);
        let confidence = if detected {
            0.5 + 0.5 * by_reduction.min(by_slope)
        } else {
            0.5 - 0.5 * (-by_reduction).max(-by_slope).max(0.0)
        };
        MasterProcessingResult {
            detected,
            gain_reduction_db: detected.then_some(f.high_reduction_db.max(0.0)),
            confidence,
        }
    }

    /// The measurements the result is drawn from (for calibration and diagnostics).
    pub fn features(&self) -> MasterProcessingFeatures {
        let mut f = MasterProcessingFeatures {
            peak_slope: 1.0,
            ..Default::default()
        };
        let Some(top) = (0..LEVEL_BINS).rev().find(|&l| self.peaks.count(l, l + 1) > 0) else {
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
        if let Some(low) = self.peaks.quantile(loud_lo, top + 1, 1.0 - REPORTED_QUANTILE) {
            f.high_reduction_db = reference - low;
        }
        if let Some(slope) = self.peaks.slope(loud_lo, top + 1) {
            f.peak_slope = slope;
        }
        f
    }

    /// Forgets everything pushed, keeping the allocation.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.window = Window::default();
        self.ls.clear();
        self.peaks.clear();
    }
}
