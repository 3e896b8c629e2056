//! Loudness per ITU-R BS.1770-5 and EBU R 128: momentary (400 ms) and short-term (3 s) with
//! their maxima, integrated loudness with the standard's gating, loudness range (EBU Tech
//! 3342). Framework-free and real-time safe: everything is allocated in
//! [`LoudnessMeter::new`] for one sample rate, and memory stays fixed however long the pass.
//!
//! The pipeline: K-weighting ([`k_filter`]), energy summed per 5 ms slice, sliding windows of
//! slices ([`windows`]); every 100 ms the 400 ms gating block and the 3 s short-term value go
//! into two histograms ([`gating`]) from which integrated loudness and loudness range are read.
//!
//! Choices where the standards leave room: the momentary and short-term readings count the
//! time before the pass as silence (a meter that starts from silence shows exactly this), and
//! their maxima are taken every 5 ms over every window of the pass. The gating blocks and the
//! short-term values for loudness range are only those that lie entirely inside the pass
//! (BS.1770: the first block ends 400 ms in; Tech 3342: the first value 3 s in), every 100 ms.
//! Readings below the absolute gate (−70 LUFS) are no reading: silence.

pub mod gating;
pub mod k_filter;
pub mod k_weighting;
pub mod windows;

use crate::dsp::simd::Kernel;
use gating::{lufs, GateEdge, GatingHistogram, FLOOR_LUFS};
use k_filter::KFilter;
use windows::{SlidingWindows, MOMENTARY_STEPS, SHORT_TERM_STEPS, SLICES_PER_STEP};

/// Relative gate of integrated loudness, LU below the absolute-gated level (BS.1770-5).
pub const INTEGRATED_RELATIVE_GATE_LU: f64 = -10.0;
/// Relative gate of loudness range, LU below the absolute-gated level (EBU Tech 3342).
pub const RANGE_RELATIVE_GATE_LU: f64 = -20.0;
/// The percentiles whose difference is the loudness range.
pub const RANGE_PERCENTILES: (f64, f64) = (0.10, 0.95);

/// A loudness meter's readings, LUFS (LRA in LU); `None` is silence or "everything gated".
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoudnessReadings {
    /// Loudness of the last 400 ms.
    pub momentary: Option<f32>,
    /// Loudness of the last 3 s.
    pub short_term: Option<f32>,
    /// Highest momentary loudness of the pass.
    pub max_momentary: Option<f32>,
    /// Highest short-term loudness of the pass.
    pub max_short_term: Option<f32>,
    /// Integrated (programme) loudness of the pass, gated per BS.1770.
    pub integrated: Option<f32>,
    /// Loudness range of the pass (EBU Tech 3342).
    pub range: Option<f32>,
    /// Seconds of audio metered since the last reset (Tech 3341: the loudness range is not
    /// yet stable during the first 60 s).
    pub seconds: f32,
}

/// BS.1770 loudness of one mono or stereo bus. Allocates only in [`LoudnessMeter::new`].
#[derive(Clone, Debug)]
pub struct LoudnessMeter {
    filter: KFilter,
    windows: SlidingWindows,
    /// 400 ms gating blocks of the pass, for integrated loudness.
    blocks: GatingHistogram,
    /// 3 s short-term values of the pass, for loudness range.
    short_terms: GatingHistogram,
    /// Energy of the slice in progress, and how many samples it still needs.
    slice_energy: f64,
    slice_left: usize,
    /// Index of the slice in progress within its step.
    slice_index: usize,
    /// Samples metered since the last reset.
    samples: u64,
    sample_rate: f64,
    max_momentary: f64,
    max_short_term: f64,
    integrated: Option<f64>,
    range: Option<f64>,
}

impl LoudnessMeter {
    /// A meter for `sample_rate` Hz using the fastest kernel this CPU supports.
    pub fn new(sample_rate: f32) -> Self {
        Self::with_kernel(sample_rate, Kernel::detect())
    }

    /// A meter using the given K-weighting kernel (tests exercise the portable one).
    pub fn with_kernel(sample_rate: f32, kernel: Kernel) -> Self {
        let rate = f64::from(sample_rate);
        // BS.1770's 100 ms step in whole samples, as reference implementations round it.
        let step_len = ((rate / 10.0).round() as usize).max(SLICES_PER_STEP);
        let windows = SlidingWindows::new(step_len);
        Self {
            filter: KFilter::with_kernel(rate, kernel),
            slice_left: windows.slice_len(0),
            windows,
            blocks: GatingHistogram::new(GateEdge::Above),
            short_terms: GatingHistogram::new(GateEdge::AtOrAbove),
            slice_energy: 0.0,
            slice_index: 0,
            samples: 0,
            sample_rate: rate,
            max_momentary: 0.0,
            max_short_term: 0.0,
            integrated: None,
            range: None,
        }
    }

    /// Clears the readings and the pass; the filter history stays, so no false edge appears.
    /// Allocates nothing (it runs on the audio thread).
    pub fn reset(&mut self) {
        self.windows.clear();
        self.blocks.clear();
        self.short_terms.clear();
        self.slice_energy = 0.0;
        self.slice_index = 0;
        self.slice_left = self.windows.slice_len(0);
        self.samples = 0;
        self.max_momentary = 0.0;
        self.max_short_term = 0.0;
        self.integrated = None;
        self.range = None;
    }

    /// Clears the readings and the filter history (a new stream).
    pub fn restart(&mut self) {
        self.reset();
        self.filter.clear();
    }

    /// Meters one block: `channels` holds one or two slices of equal length.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let len = channels.first().map_or(0, |c| c.len());
        let mut at = 0;
        while at < len {
            let take = self.slice_left.min(len - at);
            let piece: [&[f32]; 2] = [
                &channels[0][at..at + take],
                channels.get(1).map_or(&[][..], |c| &c[at..at + take]),
            ];
            self.slice_energy += self.filter.sum_squares(&piece[..channels.len().min(2)]);
            at += take;
            self.slice_left -= take;
            if self.slice_left == 0 {
                self.end_slice();
            }
        }
        self.samples += len as u64;
    }

    /// Closes the slice in progress: windows, maxima, and every 100 ms the gated measures.
    fn end_slice(&mut self) {
        self.windows.push(std::mem::take(&mut self.slice_energy));
        self.max_momentary = self.max_momentary.max(self.windows.momentary());
        self.max_short_term = self.max_short_term.max(self.windows.short_term());
        self.slice_index = (self.slice_index + 1) % SLICES_PER_STEP;
        self.slice_left = self.windows.slice_len(self.slice_index);
        if self.slice_index != 0 {
            return;
        }
        let steps = self.windows.slices() / SLICES_PER_STEP as u64;
        if steps >= MOMENTARY_STEPS as u64 {
            self.blocks.add(self.windows.momentary());
            self.integrated = self.blocks.gated_loudness(INTEGRATED_RELATIVE_GATE_LU);
        }
        if steps >= SHORT_TERM_STEPS as u64 {
            self.short_terms.add(self.windows.short_term());
            let (low, high) = RANGE_PERCENTILES;
            self.range = self.short_terms.range(RANGE_RELATIVE_GATE_LU, low, high);
        }
    }

    /// The current readings.
    pub fn readings(&self) -> LoudnessReadings {
        LoudnessReadings {
            momentary: level(self.windows.momentary()),
            short_term: level(self.windows.short_term()),
            max_momentary: level(self.max_momentary),
            max_short_term: level(self.max_short_term),
            integrated: self.integrated.map(|v| v as f32),
            range: self.range.map(|v| v as f32),
            seconds: (self.samples as f64 / self.sample_rate) as f32,
        }
    }
}

/// A mean square as a reading: LUFS, or `None` at or below the absolute gate.
fn level(mean_square: f64) -> Option<f32> {
    let l = lufs(mean_square);
    (l > FLOOR_LUFS).then_some(l as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stereo_sine(rate: f32, db: f64, seconds: f64) -> Vec<f32> {
        let amp = 10f64.powf(db / 20.0);
        (0..(seconds * f64::from(rate)) as usize)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * 1_000.0 * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn a_sine_at_minus_23_dbfs_reads_minus_23_lufs_at_every_rate() {
        for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            let x = stereo_sine(rate, -23.0, 5.0);
            let mut m = LoudnessMeter::new(rate);
            m.process(&[&x, &x]);
            let r = m.readings();
            for v in [r.momentary, r.short_term, r.integrated, r.max_momentary] {
                let v = v.expect("a reading");
                assert!((v + 23.0).abs() < 0.05, "{rate} Hz: {v}");
            }
            assert!(r.range.unwrap() < 0.1);
        }
    }

    #[test]
    fn silence_reads_none_and_reset_forgets() {
        let mut m = LoudnessMeter::new(48_000.0);
        m.process(&[&[0.0; 48_000]]);
        let r = m.readings();
        assert_eq!(
            (r.momentary, r.integrated, r.range, r.max_short_term),
            (None, None, None, None)
        );
        let x = stereo_sine(48_000.0, -20.0, 4.0);
        m.process(&[&x]);
        assert!(m.readings().integrated.is_some());
        m.reset();
        let r = m.readings();
        assert_eq!(
            (r.integrated, r.max_momentary, r.seconds),
            (None, None, 0.0)
        );
    }
}
