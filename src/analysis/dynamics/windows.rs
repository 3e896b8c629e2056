//! Short windows of a bus: each window's peak, and the loudness and brightness of the audio
//! around that peak, passed on to the [`Events`] tracker.
//!
//! Windows are fixed blocks of [`WINDOW_SECONDS`] counted from the first frame, so the
//! results do not depend on how the audio was chunked. The loudness is the mean square over
//! a span of two windows *centred on the peak*: a repeated identical hit then reads the same
//! loudness wherever it falls in its window, and only a real change of level or shape moves
//! it.

use super::events::{Events, Sound};

/// Window length: short enough that a drum hit or a note onset has a window of its own,
/// long enough to hold a full cycle of a 100 Hz tone.
pub const WINDOW_SECONDS: f32 = 0.010;
/// Short-term loudness span (EBU R 128 short-term: 3 s).
const SHORT_TERM_SECONDS: f32 = 3.0;
/// Windows with a peak below this (−100 dBFS) are silence and not binned.
const SILENT_PEAK: f32 = 1e-5;

/// Splits a bus into windows and bins them. Allocates only in [`Windows::new`].
#[derive(Clone, Debug)]
pub(super) struct Windows {
    len: usize,
    channels: usize,
    /// Per-frame energy (sum of squares over channels) of the last four windows.
    energy: Vec<f64>,
    /// Per-frame count of channels whose sign changed there, same ring.
    crossings: Vec<u8>,
    frames_per_ms: f64,
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
    /// Highest short-term (3 s) mean square seen, per channel-sample.
    pub max_short_term: f64,
    /// The events the windows make up.
    pub events: Events,
}

impl Windows {
    /// Windows of a bus of `channels` channels at `sample_rate` Hz.
    pub fn new(channels: usize, sample_rate: f32) -> Self {
        let len = ((sample_rate * WINDOW_SECONDS).round() as usize).max(8);
        let short_term = ((SHORT_TERM_SECONDS / WINDOW_SECONDS).round() as usize).max(1);
        Self {
            len,
            channels: channels.max(1),
            energy: vec![0.0; 4 * len],
            crossings: vec![0; 4 * len],
            frames_per_ms: sample_rate as f64 / 1000.0,
            frame: 0,
            peak: (0.0, 0),
            pending: None,
            window_energy: vec![0.0; short_term],
            current_energy: 0.0,
            windows: 0,
            max_short_term: 0.0,
            events: Events::new(),
        }
    }

    /// Forgets everything, keeping the allocation.
    pub fn clear(&mut self) {
        self.energy.fill(0.0);
        self.crossings.fill(0);
        self.frame = 0;
        self.peak = (0.0, 0);
        self.pending = None;
        self.window_energy.fill(0.0);
        self.current_energy = 0.0;
        self.windows = 0;
        self.max_short_term = 0.0;
        self.events.clear();
    }

    /// Adds one frame: its largest finite |sample|, its energy over channels and how many
    /// channels changed sign there.
    #[inline]
    pub fn push(&mut self, peak: f32, energy: f64, crossings: u8) {
        let ring = self.energy.len();
        let slot = (self.frame % ring as u64) as usize;
        self.energy[slot] = energy;
        self.crossings[slot] = crossings;
        self.current_energy += energy;
        if peak > self.peak.0 {
            self.peak = (peak, self.frame);
        }
        self.frame += 1;
        if self.frame.is_multiple_of(self.len as u64) {
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
            self.max_short_term = self.max_short_term.max(sum / frames);
        }
    }

    /// Bins a window that peaked at `peak` on frame `at`.
    fn bin_window(&mut self, peak: f32, at: u64) {
        if peak < SILENT_PEAK {
            self.events.push(0.0, Sound::default());
            return;
        }
        let ring = self.energy.len() as u64;
        let from = at.saturating_sub(self.len as u64);
        let to = (at + self.len as u64).min(self.frame);
        let (mut sum, mut crossings) = (0.0, 0u32);
        for t in from..to {
            sum += self.energy[(t % ring) as usize];
            crossings += self.crossings[(t % ring) as usize] as u32;
        }
        let span = ((to - from) as usize * self.channels) as f64;
        let mean_square = sum / span;
        if mean_square <= 0.0 {
            self.events.push(0.0, Sound::default());
            return;
        }
        let crest = 20.0 * (peak as f64).log10() - 10.0 * mean_square.log10();
        let per_ms = crossings as f64 / span * self.frames_per_ms;
        self.events.push(
            peak,
            Sound {
                crest_db: crest,
                brightness: (1.0 + per_ms).log2(),
            },
        );
    }
}
