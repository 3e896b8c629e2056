//! True-peak detection: the peaks of the reconstructed continuous signal, found by a 2x
//! coarse scan and refined around every candidate by a Newton step on the reconstruction.
//!
//! Why not plain 4x oversampling as in BS.1770 Annex 2: its 48-tap table under-reads by up to
//! 0.65 dB near 20 kHz and its grid misses peaks that fall between oversampled points by up to
//! 0.56 dB. Here the continuous signal is reconstructed with a 24-tap Kaiser-windowed sinc
//! (flat to 0.4535·fs), evaluated everywhere at the half-sample points (one FIR per sample,
//! vectorised), and refined only around local maxima of that 2x grid that could matter.
//!
//! The candidates of a chunk are collected without branches and refined in one batch
//! ([`super::peak_refine`]): the vertex of the grid parabola, and where the crest curves
//! enough to need it, one read of the reconstruction's value, slope and curvature there with a
//! Taylor step to the top. A loud high tone, whose every crest is a candidate, costs one kernel
//! call per crest instead of a walk over a fine grid.
//!
//! A peak between grid points is at most a quarter sample from the nearest one, so for content
//! up to fs/2 it is at most 3 dB above the largest grid value next to it. Local maxima whose
//! grid value is more than 3 dB below the sink's [`PeakSink::gate`] therefore cannot matter and
//! are skipped, and a whole chunk is skipped when nothing in it reaches that level.

use super::interpolator::{InterpolationTable, HALF_PHASE, PHASES, TAPS, TAPS_BEFORE};
use super::peak_refine::{Candidates, Reader};
use super::simd::{Kernel, GROUP};
use super::tone;

/// Samples per internal chunk (a multiple of [`GROUP`]).
const CHUNK: usize = 256;
/// Samples per stretch that the scan skips at once when nothing in it can reach the gate.
const SUB_BLOCK: usize = 8;
/// Past samples kept in front of each chunk: the FIR window plus the refinement's reach.
const HISTORY: usize = 48;
/// Output delay of the coarse scan in samples: the half point `m + 0.5` needs `x[m + 12]`, and
/// the refinement may read one sample further (a peak just before `m + 1`).
const DELAY: i64 = (TAPS / 2) as i64 + 1;
/// Buffer index of the sample point paired with the chunk's first half point (`m` for
/// `m + 0.5`).
const SAMPLES_AT: usize = HISTORY - DELAY as usize;
/// `1 / GATE_MARGIN`, to scale the gate without a division per stretch.
const INV_GATE_MARGIN: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// Inputs smaller than this (−400 dBFS) enter the filter as zero, so no subnormal reaches it.
const FLUSH_BELOW: f32 = 1e-20;
/// Chunks shorter than this (samples) are not tried as a steady tone.
const MIN_TONE_CHUNK: usize = 64;
/// Candidates per chunk at most: a sample point and a half point per pair, plus the slot
/// that a branch-free push writes past the last kept one.
const MAX_CANDIDATES: usize = 2 * CHUNK + 1;

/// Receives the inter-sample peaks the detector finds.
pub trait PeakSink {
    /// Peaks below this linear level are of no use to the sink and need not be refined.
    fn gate(&self) -> f32;
    /// A refined peak of `value` (linear, absolute) located just after sample index `at`.
    fn peak(&mut self, at: i64, value: f32);
    /// `count` peaks all of `value`, the first just after sample index `first_at` and the last
    /// just after `last_at` (the crests of a steady tone). The default reports them one by one.
    fn peaks(&mut self, value: f32, count: u64, first_at: i64, last_at: i64) {
        for k in 0..count {
            self.peak(if k + 1 == count { last_at } else { first_at }, value);
        }
    }
}

/// Streaming true-peak detector for one channel. Allocates only in [`TruePeakDetector::new`].
#[derive(Clone, Debug)]
pub struct TruePeakDetector {
    table: InterpolationTable,
    kernel: Kernel,
    /// `buf[b]` holds sample `chunk_start - HISTORY + b`; padded for whole FIR groups.
    buf: Vec<f32>,
    /// The coarse half-sample values of the current chunk.
    coarse: Vec<f32>,
    /// Index of the next input sample (also the start of the next chunk).
    next_index: i64,
    /// |y| at the last half point of the previous chunk: the left neighbour of this chunk's
    /// first sample point.
    chunk_last_half: f32,
    /// Largest |value| on the 2x grid since the last [`TruePeakDetector::take_coarse_max`].
    coarse_max: f32,
    /// A moving tone's level² around each sample of the chunk (see `moving_tone`).
    levels: Vec<f32>,
    /// The current chunk's candidates.
    candidates: Box<Candidates<MAX_CANDIDATES>>,
}

impl Default for TruePeakDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl TruePeakDetector {
    /// A detector using the fastest kernel this CPU supports.
    pub fn new() -> Self {
        Self::with_kernel(Kernel::detect())
    }

    /// A detector using the given kernel (the tests use this to exercise the portable one).
    pub fn with_kernel(kernel: Kernel) -> Self {
        Self {
            table: InterpolationTable::new(),
            kernel,
            buf: vec![0.0; HISTORY + CHUNK],
            coarse: vec![0.0; CHUNK],
            next_index: 0,
            chunk_last_half: 0.0,
            coarse_max: 0.0,
            levels: vec![0.0; CHUNK + 2],
            candidates: Candidates::boxed(),
        }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Forgets the signal history, as if the input had been silent forever (a new stream).
    pub fn clear(&mut self) {
        self.buf.fill(0.0);
        self.next_index = 0;
        self.chunk_last_half = 0.0;
        self.coarse_max = 0.0;
    }

    /// The largest half-sample value of the 2x grid seen since the last call, and resets it.
    /// Cheap and never above the true peak by more than the filter ripple, but up to 3 dB
    /// below it for content near fs/2: good for a meter's moving bar, not for its numbers.
    pub fn take_coarse_max(&mut self) -> f32 {
        std::mem::take(&mut self.coarse_max)
    }

    /// Index that the next input sample will get (samples counted since the last `clear`).
    pub fn next_index(&self) -> i64 {
        self.next_index
    }

    /// Feeds samples of any count. Peaks are reported with a delay of `TAPS / 2` samples.
    /// Non-finite input is treated as silence (count it before calling).
    pub fn process(&mut self, input: &[f32], sink: &mut impl PeakSink) {
        for piece in input.chunks(CHUNK) {
            let len = piece.len();
            for (dst, &s) in self.buf[HISTORY..HISTORY + len].iter_mut().zip(piece) {
                // `&`, not `&&`: no branch, so the copy vectorises.
                *dst = if s.is_finite() & (s.abs() >= FLUSH_BELOW) {
                    s
                } else {
                    0.0
                };
            }
            self.scan(len, sink);
            self.buf.copy_within(len..len + HISTORY, 0);
            self.next_index += len as i64;
        }
    }

    /// Runs the coarse scan over the chunk in `buf[HISTORY..HISTORY + len]` and refines the
    /// candidates, compiled for AVX2 where the CPU has it.
    fn scan(&mut self, len: usize, sink: &mut impl PeakSink) {
        #[cfg(target_arch = "x86_64")]
        if self.kernel.is_avx2() {
            // SAFETY: the kernel is AVX2 + FMA only on a CPU that has both.
            unsafe { self.scan_avx2(len, sink) };
            return;
        }
        self.scan_lanes(len, sink);
    }

    /// [`Self::scan_lanes`] compiled for AVX2 + FMA: the same operations in wider vectors
    /// (Rust never fuses or reorders float operations, so the result is identical).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn scan_avx2(&mut self, len: usize, sink: &mut impl PeakSink) {
        self.scan_lanes(len, sink);
    }

    /// The scan itself.
    #[inline(always)]
    fn scan_lanes(&mut self, len: usize, sink: &mut impl PeakSink) {
        let n_out = len.div_ceil(GROUP) * GROUP;
        // Half point m + 0.5 for m = chunk_start - DELAY + r reads x[m - TAPS_BEFORE ..].
        let first_tap = HISTORY - DELAY as usize - TAPS_BEFORE;
        self.kernel.fir_symmetric(
            self.table.row(HALF_PHASE),
            &self.buf[first_tap..],
            &mut self.coarse[..n_out],
        );
        let chunk_start = self.next_index;

        // Pass 1, branch-free: the largest |value| of each stretch of SUB_BLOCK grid pairs
        // (independent per stretch, so the reductions overlap), and the coarse maximum.
        let mut stretch_max = [0.0f32; CHUNK / SUB_BLOCK];
        let mut lanes_max = [0.0f32; SUB_BLOCK];
        let halves = self.coarse[..len].chunks_exact(SUB_BLOCK);
        let points = self.buf[SAMPLES_AT..SAMPLES_AT + len].chunks_exact(SUB_BLOCK);
        let tail = halves.remainder().len();
        for ((h, x), out) in halves.zip(points).zip(stretch_max.iter_mut()) {
            let mut m = [0.0f32; SUB_BLOCK];
            for k in 0..SUB_BLOCK {
                let (a, b) = (h[k].abs(), x[k].abs());
                lanes_max[k] = if a > lanes_max[k] { a } else { lanes_max[k] };
                m[k] = if a > b { a } else { b };
            }
            *out = max8(m);
        }
        self.coarse_max = self.coarse_max.max(max8(lanes_max));

        // A chunk where (nearly) every stretch holds a candidate may be a steady tone: then
        // every crest's peak is its amplitude, found once (see `tone`).
        let gate = sink.gate();
        let reach = gate * INV_GATE_MARGIN;
        let busy = stretch_max
            .iter()
            .take(len / SUB_BLOCK)
            .filter(|&&m| m >= reach)
            .count();
        if len >= MIN_TONE_CHUNK && 4 * busy >= 3 * (len / SUB_BLOCK) && self.tone(len, reach, sink)
        {
            self.chunk_last_half = self.coarse[len - 1].abs();
            return;
        }

        // Pass 2: only stretches with a value that reaches the gate can hold a candidate
        // (a candidate must reach it itself).
        self.candidates.clear();
        let full = len - tail;
        for (g, &m) in stretch_max[..full / SUB_BLOCK].iter().enumerate() {
            if m >= reach {
                self.collect(g * SUB_BLOCK, SUB_BLOCK, reach);
            }
        }
        if tail > 0 {
            let halves = max_abs(&self.coarse[full..len]);
            self.coarse_max = self.coarse_max.max(halves);
            let m = halves.max(max_abs(&self.buf[SAMPLES_AT + full..SAMPLES_AT + len]));
            if m >= reach {
                self.collect(full, tail, reach);
            }
        }
        self.chunk_last_half = self.coarse[len - 1].abs();

        // Pass 3: refine the batch and hand the peaks to the sink in order.
        if self.candidates.is_empty() {
            return;
        }
        self.candidates.refine(Reader {
            rows: self.table.all_rows(),
            kernel: self.kernel,
            buf: &self.buf,
            first_point: SAMPLES_AT,
        });
        let first_point = chunk_start - DELAY;
        for (fine, value) in self.candidates.peaks() {
            sink.peak(
                first_point + i64::from(fine.div_euclid(PHASES as i32)),
                value,
            );
        }
    }

    /// The steady-tone shortcut: if the samples that shape this chunk's crests are one steady
    /// sinusoid, hands its amplitude to the sink once for all the chunk's crests that reach
    /// `reach`, and returns true. Returns false (nothing reported) otherwise.
    fn tone(&mut self, len: usize, reach: f32, sink: &mut impl PeakSink) -> bool {
        // Every crest lies within half a sample of the chunk's grid; the reconstruction there
        // reads TAPS / 2 samples either side.
        let reach_back = TAPS / 2 + 1;
        let x = &self.buf[SAMPLES_AT - reach_back..SAMPLES_AT + len + TAPS / 2];
        let Some(fit) = tone::sinusoid(x) else {
            return false;
        };
        let Some(amplitude) = fit.steady else {
            self.moving_tone(len, reach, fit, sink);
            return true;
        };
        // Count the crests (as the crest-by-crest path would find them) and find the first
        // and the last.
        let crest = |r: usize| {
            let before = match r {
                0 => self.chunk_last_half,
                _ => self.coarse[r - 1].abs(),
            };
            let (s, h) = (self.buf[SAMPLES_AT + r].abs(), self.coarse[r].abs());
            let s_next = self.buf[SAMPLES_AT + r + 1].abs();
            let (sample_crest, half_crest) = pair_crests(before, s, h, s_next, reach);
            u64::from(sample_crest) + u64::from(half_crest)
        };
        let mut count = crest(0);
        let points = self.buf[SAMPLES_AT + 1..SAMPLES_AT + len + 1].windows(2);
        let halves = self.coarse[..len].windows(2);
        for (pair, h2) in points.zip(halves) {
            // Pair r + 1: the sample pair[0] between halves h2[0] and h2[1].
            let (before, s, h, s_next) = (h2[0].abs(), pair[0].abs(), h2[1].abs(), pair[1].abs());
            let (sample_crest, half_crest) = pair_crests(before, s, h, s_next, reach);
            count += u64::from(sample_crest) + u64::from(half_crest);
        }
        let first = (0..len).find(|&r| crest(r) > 0).unwrap_or(0);
        let last = (0..len).rev().find(|&r| crest(r) > 0).unwrap_or(0);
        if count > 0 {
            // The fitted amplitude can sit a rounding error below the largest sample; a true
            // peak is never below the sample peak.
            let floor = max_abs(&self.buf[SAMPLES_AT..SAMPLES_AT + len]);
            let first_point = self.next_index - DELAY;
            sink.peaks(
                amplitude.max(floor),
                count,
                first_point + first as i64,
                first_point + last as i64,
            );
        }
        true
    }

    /// The crests of a chunk that is one sinusoid whose level moves: each stretch of
    /// [`SUB_BLOCK`] grid pairs hands its crests to the sink at once, at the highest level of
    /// the tone over the samples that shape them (read from the tone's invariant, see
    /// [`tone`]). A crest below that by the level's movement over a stretch (at most 0.02 dB
    /// where the tone test accepts) is reported at it.
    fn moving_tone(&mut self, len: usize, reach: f32, fit: tone::Tone, sink: &mut impl PeakSink) {
        // The tone's level² at every sample of the chunk and the one after, from its
        // neighbours (branch-free, so it vectorises): levels[k] is at sample point k − 1.
        let around = &self.buf[SAMPLES_AT - 2..SAMPLES_AT + len + 2];
        for (out, w) in self.levels.iter_mut().zip(around.windows(3)) {
            *out = fit.level_sq(w[0], w[1], w[2]);
        }
        let first_point = self.next_index - DELAY;
        for g0 in (0..len).step_by(SUB_BLOCK) {
            let count = SUB_BLOCK.min(len - g0);
            let mut before = match g0 {
                0 => self.chunk_last_half,
                _ => self.coarse[g0 - 1].abs(),
            };
            // One bit per grid point, sample and half point of each pair in turn.
            let mut mask = 0u32;
            let points = &self.buf[SAMPLES_AT + g0..SAMPLES_AT + g0 + count + 1];
            for (k, (pair, &half)) in points.windows(2).zip(&self.coarse[g0..]).enumerate() {
                let (s, h, s_next) = (pair[0].abs(), half.abs(), pair[1].abs());
                let (sample_crest, half_crest) = pair_crests(before, s, h, s_next, reach);
                mask |= (u32::from(sample_crest) | u32::from(half_crest) << 1) << (2 * k);
                before = h;
            }
            if mask == 0 {
                continue;
            }
            let (first, last) = (mask.trailing_zeros() / 2, (31 - mask.leading_zeros()) / 2);
            // A crest at pair r lies between samples r and r + 1.
            let level_sq = self.levels[g0 + 1..g0 + count + 2]
                .iter()
                .fold(0.0f32, |m, &v| if v > m { v } else { m });
            // A true peak is never below the sample peak.
            let floor = max_abs(points);
            sink.peaks(
                level_sq.sqrt().max(floor),
                u64::from(mask.count_ones()),
                first_point + (g0 as u32 + first) as i64,
                first_point + (g0 as u32 + last) as i64,
            );
        }
    }

    /// Collects the crests (local maxima of the 2x grid) among the `count` (≤ 8) grid pairs
    /// from `g0` that reach `reach`, without a branch per point. Each grid point is judged
    /// once, by its own pair: a sample point against the half points on either side, a half
    /// point against the samples on either side (the next sample is already in the buffer).
    fn collect(&mut self, g0: usize, count: usize, reach: f32) {
        let mut before = match g0 {
            0 => self.chunk_last_half,
            _ => self.coarse[g0 - 1].abs(),
        };
        let mut at = self.candidates.len();
        let points = &self.buf[SAMPLES_AT + g0..SAMPLES_AT + g0 + count + 1];
        let halves = &self.coarse[g0..g0 + count];
        for (k, (pair, &half)) in points.windows(2).zip(halves).enumerate() {
            let (s, h, s_next) = (pair[0].abs(), half.abs(), pair[1].abs());
            let (sample_crest, half_crest) = pair_crests(before, s, h, s_next, reach);
            let grid = 2 * (g0 + k) as i32;
            at = self.candidates.put(at, sample_crest, grid, [before, s, h]);
            at = self
                .candidates
                .put(at, half_crest, grid + 1, [s, h, s_next]);
            before = h;
        }
        self.candidates.set_len(at);
    }
}

/// Whether a grid pair's points are crests (local maxima of the 2x grid, absolute values) that
/// reach `reach`: the sample point `s` against the half points `before` and `h` on either side,
/// and the half point `h` against the samples `s` and `s_next`. Above the point before and not
/// below the point after, so a flat top counts once. Branch-free (`&`, not `&&`).
#[inline(always)]
fn pair_crests(before: f32, s: f32, h: f32, s_next: f32, reach: f32) -> (bool, bool) {
    (
        (s > before) & (s >= h) & (s >= reach),
        (h > s) & (h >= s_next) & (h >= reach),
    )
}

/// Largest of eight values, reduced as a tree.
#[inline]
fn max8(m: [f32; 8]) -> f32 {
    let mx = |a: f32, b: f32| if a > b { a } else { b };
    let q = [
        mx(m[0], m[4]),
        mx(m[1], m[5]),
        mx(m[2], m[6]),
        mx(m[3], m[7]),
    ];
    mx(mx(q[0], q[2]), mx(q[1], q[3]))
}

/// Largest absolute value of a slice (0 for an empty one); written to vectorise.
#[inline]
pub fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            let a = c[k].abs();
            lanes[k] = if a > lanes[k] { a } else { lanes[k] };
        }
    }
    let mut m = lanes.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    for &v in chunks.remainder() {
        let a = v.abs();
        m = if a > m { a } else { m };
    }
    m
}

/// A [`PeakSink`] that only keeps the highest peak: the simplest true-peak meter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MaxPeak {
    /// Highest peak so far (linear).
    pub max: f32,
}

impl PeakSink for MaxPeak {
    fn gate(&self) -> f32 {
        self.max
    }
    fn peak(&mut self, _at: i64, value: f32) {
        if value > self.max {
            self.max = value;
        }
    }
    fn peaks(&mut self, value: f32, count: u64, _first_at: i64, _last_at: i64) {
        if count > 0 {
            self.peak(0, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(fs: f64, f: f64, amp: f64, phase: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * f * i as f64 / fs + phase).sin()) as f32)
            .collect()
    }

    #[test]
    fn a_sine_reads_its_amplitude_at_its_worst_phase() {
        // 19 kHz at 44.1 kHz with the crest half-way between two samples.
        let fs = 44_100.0;
        let x = sine(fs, 19_000.0, 0.5, 0.3, 8192);
        let mut det = TruePeakDetector::new();
        let mut sink = MaxPeak::default();
        det.process(&x[..4096], &mut sink);
        sink = MaxPeak::default();
        det.process(&x[4096..], &mut sink);
        let err_db = 20.0 * (sink.max as f64 / 0.5).log10();
        assert!(err_db.abs() < 0.05, "error {err_db} dB");
    }

    #[test]
    fn silence_and_non_finite_input_read_zero() {
        let mut det = TruePeakDetector::new();
        let mut sink = MaxPeak::default();
        det.process(
            &[0.0, f32::NAN, f32::INFINITY, -f32::INFINITY, 1e-39, 0.0],
            &mut sink,
        );
        det.process(&[0.0; 100], &mut sink);
        assert_eq!(sink.max, 0.0);
    }

    #[test]
    fn max_abs_finds_the_largest_magnitude() {
        let mut x = vec![0.1f32; 37];
        x[35] = -0.9;
        assert_eq!(max_abs(&x), 0.9);
        assert_eq!(max_abs(&[]), 0.0);
    }
}
