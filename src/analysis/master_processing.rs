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
/// Sum-peak bins: 0.5 dB from −96 dBFS up.
const LEVEL_BIN_DB: f32 = 0.5;
const LEVEL_LOW_DB: f32 = -96.0;
const LEVEL_BINS: usize = 240;
/// Gain bins: 0.1 dB from −30 dB to +12 dB.
const GAIN_BIN_DB: f32 = 0.1;
const GAIN_LOW_DB: f32 = -30.0;
const GAIN_BINS: usize = 420;
/// Windows whose sum peaks under this (−80 dBFS) carry nothing to compare.
const SILENT_PEAK: f32 = 1e-4;
/// A window counts for the least-squares gain only if the master follows the sum this
/// closely (squared correlation): a limiter's gain moves little within 10 ms, so its windows
/// correlate above 0.99; a window where the master carries something else is no evidence.
const MIN_COHERENCE: f64 = 0.9;
/// Windows this far under the loudest sum peak and above are the programme (tails and
/// near-silence are left out of the reference gain).
const ACTIVE_RANGE_DB: f32 = 30.0;
/// The loudest windows, as a fraction of the active ones, that the gain reduction is read
/// from: a high percentile rather than the single loudest window.
const LOUD_FRACTION: f64 = 0.02;
/// Reported as processing from this much gain reduction up (dB): less is within what a
/// live gain estimate and window statistics wander by on a clean session.
const MIN_GAIN_REDUCTION_DB: f32 = 1.0;
/// Above this slope of the master's peak over the sum's peak in the loud windows, the
/// master still follows the sum: a fader, not a limiter (a 2:1 compressor reads 0.5, a
/// brickwall limiter near 0).
const MAX_PROCESSING_SLOPE: f32 = 0.6;
/// Fewest loud windows to judge from (0.1 s of audio at the top).
const MIN_LOUD_WINDOWS: u64 = 10;

/// Processing found on the master after the stems.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MasterProcessingResult {
    /// A limiter or compressor acts on the master.
    pub detected: bool,
    /// Its gain reduction in the loudest passages, dB (positive), when there was enough
    /// signal to measure it.
    pub gain_reduction_db: Option<f32>,
    /// 0 (no evidence or no signal) to 1, for the `detected` given.
    pub confidence: f32,
}

/// The measurements [`MasterProcessingResult`] is drawn from (for calibration).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MasterProcessingFeatures {
    /// Windows with signal in the active range.
    pub active_windows: u64,
    /// The loudest windows the reduction is read from.
    pub loud_windows: u64,
    /// Most common least-squares gain, dB.
    pub reference_gain_db: f32,
    /// Reference minus the median least-squares gain of the loud windows, dB.
    pub loud_reduction_db: f32,
    /// Reference minus the median peak ratio of the loud windows, dB.
    pub loud_peak_reduction_db: f32,
    /// Slope of master peak (dB) over sum peak (dB) across the loud windows and the windows
    /// 6 dB under them.
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
        let g = ((gain_db - GAIN_LOW_DB) / GAIN_BIN_DB).floor();
        let g = g.clamp(0.0, (GAIN_BINS - 1) as f32) as usize;
        let c = &mut self.counts[level * GAIN_BINS + g];
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

    /// Mean gain (dB) over levels `lo..hi`, with the mean level (bin centres).
    fn means(&self, lo: usize, hi: usize) -> Option<(f64, f64, f64)> {
        let mut n = 0f64;
        let (mut sl, mut sg) = (0f64, 0f64);
        for l in lo..hi {
            for (g, &c) in self.row(l).iter().enumerate() {
                let c = c as f64;
                n += c;
                sl += c * level_centre(l) as f64;
                sg += c * gain_centre(g) as f64;
            }
        }
        (n > 0.0).then(|| (n, sl / n, sg / n))
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
    /// Least-squares gain per window, by sum peak.
    ls: Grid,
    /// Peak ratio per window, by sum peak.
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
        if let Some(ratio) = db(w.master_peak / w.sum_peak) {
            self.peaks.add(level, ratio);
        }
        let coherence = w.ms * w.ms / (w.mm * w.ss);
        if w.ms > 0.0 && coherence >= MIN_COHERENCE {
            self.ls.add(level, 20.0 * (w.ms / w.ss).log10() as f32);
        }
    }

    /// The verdict on everything pushed since the last reset. Allocates nothing.
    pub fn result(&self) -> MasterProcessingResult {
        let f = self.features();
        if f.loud_windows < MIN_LOUD_WINDOWS {
            return MasterProcessingResult::default();
        }
        let gr = f.loud_peak_reduction_db.max(f.loud_reduction_db);
        let detected = f.loud_reduction_db >= MIN_GAIN_REDUCTION_DB
            && f.loud_peak_reduction_db >= MIN_GAIN_REDUCTION_DB
            && f.peak_slope <= MAX_PROCESSING_SLOPE;
        let margin_gr = (f.loud_reduction_db / MIN_GAIN_REDUCTION_DB - 1.0).clamp(0.0, 1.0);
        let margin_slope = ((MAX_PROCESSING_SLOPE - f.peak_slope) / MAX_PROCESSING_SLOPE).clamp(0.0, 1.0);
        let confidence = if detected {
            0.5 + 0.5 * margin_gr.min(margin_slope)
        } else {
            0.5 * (1.0 - margin_gr.max(margin_slope))
        };
        MasterProcessingResult {
            detected,
            gain_reduction_db: Some(gr.max(0.0)),
            confidence,
        }
    }

    /// The measurements the result is drawn from (for calibration and diagnostics).
    pub fn features(&self) -> MasterProcessingFeatures {
        let mut f = MasterProcessingFeatures::default();
        let Some(top) = (0..LEVEL_BINS).rev().find(|&l| self.peaks.count(l, l + 1) > 0) else {
            return f;
        };
        let active_lo = top.saturating_sub((ACTIVE_RANGE_DB / LEVEL_BIN_DB) as usize);
        let active = self.ls.count(active_lo, top + 1);
        f.active_windows = active;
        // Most common least-squares gain over the active windows.
        let mut best = (0u64, GAIN_BINS / 2);
        for g in 0..GAIN_BINS {
            let c: u64 = (g.saturating_sub(1)..(g + 2).min(GAIN_BINS))
                .map(|gg| {
                    (active_lo..=top)
                        .map(|l| self.ls.row(l)[gg] as u64)
                        .sum::<u64>()
                })
                .sum();
            if c > best.0 {
                best = (c, g);
            }
        }
        let reference = gain_centre(best.1);
        f.reference_gain_db = reference;
        // The loudest LOUD_FRACTION of the active windows (by sum peak).
        let want = ((active as f64 * LOUD_FRACTION).ceil() as u64).max(MIN_LOUD_WINDOWS);
        let mut loud_lo = top + 1;
        while loud_lo > active_lo && self.ls.count(loud_lo, top + 1) < want {
            loud_lo -= 1;
        }
        f.loud_windows = self.ls.count(loud_lo, top + 1);
        if let Some(median) = self.ls.quantile(loud_lo, top + 1, 0.5) {
            f.loud_reduction_db = reference - median;
        }
        if let Some(median) = self.peaks.quantile(loud_lo, top + 1, 0.5) {
            f.loud_peak_reduction_db = reference - median;
        }
        // Slope of master peak over sum peak between the windows 6 dB under the loud ones and
        // the loud ones: master peak = sum peak + ratio.
        let below_hi = loud_lo.saturating_sub((6.0 / LEVEL_BIN_DB) as usize);
        let below_lo = below_hi.saturating_sub((3.0 / LEVEL_BIN_DB) as usize);
        if let (Some((_, l1, g1)), Some((_, l0, g0))) = (
            self.peaks.means(loud_lo, top + 1),
            self.peaks.means(below_lo, below_hi),
        ) {
            if l1 - l0 > 1.0 {
                f.peak_slope = (1.0 + (g1 - g0) / (l1 - l0)) as f32;
            } else {
                f.peak_slope = 1.0;
            }
        } else {
            f.peak_slope = 1.0;
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
