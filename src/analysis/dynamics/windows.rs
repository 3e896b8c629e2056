//! Short windows of a bus: each window's peak, and the loudness of the audio around that
//! peak, binned by the peak's level.
//!
//! Windows are fixed blocks of [`WINDOW_SECONDS`] counted from the first frame, so the
//! results do not depend on how the audio was chunked. The loudness is the mean square over
//! a span of two windows *centred on the peak*: a repeated identical hit then reads the same
//! loudness wherever it falls in its window, and only a real change of level or shape moves
//! it.

use crate::analysis::level_bins::{bin, BINS};

/// Window length: short enough that a drum hit or a note onset has a window of its own,
/// long enough to hold a full cycle of a 100 Hz tone.
pub const WINDOW_SECONDS: f32 = 0.010;
/// Short-term loudness span (EBU R 128 short-term: 3 s).
const SHORT_TERM_SECONDS: f32 = 3.0;
/// Windows with a peak below this (−100 dBFS) are silence and not binned.
const SILENT_PEAK: f32 = 1e-5;

/// Per peak-level bin: how many windows peaked there, and the moments of their crest
/// factor (peak over the loudness around it, dB).
#[derive(Clone, Debug)]
pub(super) struct WindowStats {
    pub count: Vec<u32>,
    pub crest_sum: Vec<f64>,
    pub crest_sq: Vec<f64>,
    /// Highest short-term (3 s) mean square seen, per channel-sample.
    pub max_short_term: f64,
}

impl WindowStats {
    fn new() -> Self {
        Self {
            count: vec![0; BINS],
            crest_sum: vec![0.0; BINS],
            crest_sq: vec![0.0; BINS],
            max_short_term: 0.0,
        }
    }

    fn clear(&mut self) {
        self.count.fill(0);
        self.crest_sum.fill(0.0);
        self.crest_sq.fill(0.0);
        self.max_short_term = 0.0;
    }
}

/// Splits a bus into windows and bins them. Allocates only in [`Windows::new`].
#[derive(Clone, Debug)]
pub(super) struct Windows {
    len: usize,
    channels: usize,
    /// Per-frame energy (sum of squares over channels) of the last four windows.
    energy: Vec<f64>,
    /// Frames seen.
    frame: u64,
    /// Peak and its frame in the window in progress, and in the previous one (waiting for
    /// the audio after its peak).
    peak: (f32, u64),
    pending: Option<(f32, u64)>,
    /// Energy of each of the last windows, for the short-term loudness.
    window_energy: Vec<f64>,
    current_energy: f64,
    windows: u64,
    pub stats: WindowStats,
}

impl Windows {
    pub fn new(channels: usize, sample_rate: f32) -> Self {
        let len = ((sample_rate * WINDOW_SECONDS).round() as usize).max(8);
        let short_term = ((SHORT_TERM_SECONDS / WINDOW_SECONDS).round() as usize).max(1);
        Self {
            len,
            channels: channels.max(1),
            energy: vec![0.0; 4 * len],
            frame: 0,
            peak: (0.0, 0),
            pending: None,
            window_energy: vec![0.0; short_term],
            current_energy: 0.0,
            windows: 0,
            stats: WindowStats::new(),
        }
    }

    /// Window length in frames.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Complete windows seen.
    pub fn count(&self) -> u64 {
        self.windows
    }

    pub fn clear(&mut self) {
        self.energy.fill(0.0);
        self.frame = 0;
        self.peak = (0.0, 0);
        self.pending = None;
        self.window_energy.fill(0.0);
        self.current_energy = 0.0;
        self.windows = 0;
        self.stats.clear();
    }

    /// Adds one frame: its largest finite |sample| and its energy over channels.
    #[inline]
    pub fn push(&mut self, peak: f32, energy: f64) {
        let ring = self.energy.len();
        self.energy[(self.frame % ring as u64) as usize] = energy;
        self.current_energy += energy;
        if peak > self.peak.0 {
            self.peak = (peak, self.frame);
        }
        self.frame += 1;
        if self.frame % self.len as u64 == 0 {
            self.end_window();
        }
    }

    /// A window is complete: the previous one now has the audio after its peak.
    fn end_window(&mut self) {
        if let Some((peak, at)) = self.pending.take() {
            self.bin_window(peak, at);
        }
        self.pending = Some(self.peak);
        self.peak = (0.0, 0);
        let slot = (self.windows % self.window_energy.len() as u64) as usize;
        self.window_energy[slot] = self.current_energy;
        self.current_energy = 0.0;
        self.windows += 1;
        if self.windows >= self.window_energy.len() as u64 {
            let sum: f64 = self.window_energy.iter().sum();
            let frames = (self.window_energy.len() * self.len * self.channels) as f64;
            self.stats.max_short_term = self.stats.max_short_term.max(sum / frames);
        }
    }

    /// Bins a window that peaked at `peak` on frame `at`.
    fn bin_window(&mut self, peak: f32, at: u64) {
        if peak < SILENT_PEAK {
            return;
        }
        let ring = self.energy.len() as u64;
        let from = at.saturating_sub(self.len as u64);
        let to = (at + self.len as u64).min(self.frame);
        let mut sum = 0.0;
        for t in from..to {
            sum += self.energy[(t % ring) as usize];
        }
        let mean_square = sum / ((to - from) as usize * self.channels) as f64;
        if mean_square <= 0.0 {
            return;
        }
        let crest = 20.0 * (peak as f64).log10() - 10.0 * mean_square.log10();
        let b = bin(peak);
        let s = &mut self.stats;
        s.count[b] = s.count[b].saturating_add(1);
        s.crest_sum[b] += crest;
        s.crest_sq[b] += crest * crest;
    }
}
