//! The crests (local maxima of the 2x grid) of a chunk in grid order, and their peaks.
//!
//! A crest's continuous peak lies between its grid neighbours, at most a quarter sample from
//! its grid point:
//!
//! 1. The vertex of the parabola through the three grid values gives a first position, to
//!    1/32 sample. If the grid values curve only gently (relative curvature below
//!    [`KAPPA_GRID`], content below about fs/28), that parabola's top is within 1e-5 of the
//!    peak and is the answer: reading the reconstruction's derivatives there would only
//!    measure the interpolation filter's own ripple.
//! 2. The reconstruction's value `y`, slope `y'` and curvature `y''` there are read from
//!    tabulated derivative rows (one window, three dot products; all of a chunk's reads in one
//!    kernel call), and the peak is the top of the Taylor parabola, `y + y'²/(2|y''|)`, a
//!    distance `δ = |y'/y''|` away. For a sine of angular frequency ω that estimate is high by
//!    about `(ωδ)⁴/8`; it is accepted when `δ ≤ 0.1` sample and `(ωδ)² = y'²/(|y''|·y) ≤ 0.0289`
//!    (error below 0.001 dB). The first position is usually within 0.05 sample of the peak, so
//!    one read suffices.
//! 3. The rare crest that is not accepted moves by δ (a Newton step) and is read again, at most
//!    [`MAX_READS`] times in all; if none is accepted, the highest value read stands.
//!
//! The arithmetic of steps 1 and 3 runs over the whole batch in branch-free loops that the
//! compiler vectorises.

use super::interpolator::{PHASES, TAPS_BEFORE};
use super::simd::{Kernel, Rows3};

/// Fine steps (1/[`PHASES`] sample) per grid step of the 2x scan.
pub const FINE_PER_GRID: i32 = (PHASES / 2) as i32;
/// The most a peak can exceed the nearest 2x grid values (3 dB, for a tone at fs/2).
pub const GATE_MARGIN: f32 = std::f32::consts::SQRT_2;
/// Below this grid curvature (per sample², relative to the level; ω² for a sine) a crest's
/// grid parabola is its peak, without a read.
pub const KAPPA_GRID: f32 = 0.05;
/// The Taylor estimate is accepted when `(ωδ)²` is at most this (0.17²): for a sine its error
/// `(ωδ)⁴/8` is then below 1e-4 of the level (0.001 dB).
const ACCEPT_OMEGA_DELTA_SQ: f32 = 0.0289;
/// …and only this close to the peak (samples): the tabulated derivatives carry the filter's
/// ripple (slope 5e-4, curvature 1.2e-3 of the level), which then moves the estimate by less
/// than 5e-5 of the level.
const MAX_DELTA: f32 = 0.1;
/// Reads of the reconstruction per crest at most (the first, and two Newton steps).
pub const MAX_READS: usize = 3;

/// Where the reconstruction is read: the interpolation rows, the kernel that evaluates them,
/// and the sample buffer.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    /// The value, slope and curvature rows of every phase.
    pub rows: &'a [Rows3],
    /// The kernel that runs the dot products.
    pub kernel: Kernel,
    /// The samples.
    pub buf: &'a [f32],
    /// Index in `buf` of the chunk's first sample point (fine position 0). Every read's window
    /// must lie in `buf`.
    pub first_point: usize,
}

impl Reader<'_> {
    /// The window start and phase of a fine position.
    #[inline]
    fn locate(&self, fine: i32) -> (u32, u32) {
        // PHASES is a power of two: the shift and the mask are div_euclid and rem_euclid.
        let m = fine >> PHASES.trailing_zeros();
        let origin = (self.first_point - TAPS_BEFORE) as i32;
        ((origin + m) as u32, (fine & (PHASES as i32 - 1)) as u32)
    }

    /// The reconstruction's value, slope and curvature (signed) at one fine position.
    fn one(&self, fine: i32) -> [f32; 3] {
        let (start, phase) = self.locate(fine);
        let mut out = [[0.0; 3]];
        self.kernel
            .dot3_batch(self.rows, self.buf, &[start], &[phase], &mut out);
        out[0]
    }
}

/// The crests of one chunk, in grid order, and their peaks, in fixed memory (structure of
/// arrays, so the batch loops vectorise).
#[derive(Clone, Debug)]
pub struct Candidates<const CAP: usize> {
    len: usize,
    /// Grid index (half samples) from the chunk's first sample point.
    grid: [i32; CAP],
    /// The grid values before, at and after the crest (absolute).
    a: [f32; CAP],
    b: [f32; CAP],
    c: [f32; CAP],
    /// The peak's position in fine steps from the chunk's first sample point.
    fine: [i32; CAP],
    /// The peak's level (absolute).
    value: [f32; CAP],
    /// Whether the crest still needs a read (then a Newton step).
    pending: [bool; CAP],
    /// What the read found: |y|, and the slope and curvature of |y|.
    v: [f32; CAP],
    d1: [f32; CAP],
    d2: [f32; CAP],
    /// The batch of reads: which crest, its window and phase, and the result.
    order: [u16; CAP],
    starts: [u32; CAP],
    phases: [u32; CAP],
    reads: [[f32; 3]; CAP],
    /// Reads made by the last [`Candidates::refine`] (for tests and measurements).
    reads_made: usize,
}

impl<const CAP: usize> Candidates<CAP> {
    /// An empty batch on the heap (it holds some kilobytes).
    pub fn boxed() -> Box<Self> {
        Box::new(Self {
            len: 0,
            grid: [0; CAP],
            a: [0.0; CAP],
            b: [0.0; CAP],
            c: [0.0; CAP],
            fine: [0; CAP],
            value: [0.0; CAP],
            pending: [false; CAP],
            v: [0.0; CAP],
            d1: [0.0; CAP],
            d2: [0.0; CAP],
            order: [0; CAP],
            starts: [0; CAP],
            phases: [0; CAP],
            reads: [[0.0; 3]; CAP],
            reads_made: 0,
        })
    }

    /// Empties the batch.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Crests in the batch.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes the crest at grid point `grid`, with grid values `abc`, at slot `at`, and returns
    /// the next free slot: `at + 1` if `keep`, else `at` (a branch-free append: the entry is
    /// always written, and counted only when kept). Finish a run of these with
    /// [`Candidates::set_len`]. Panics past the capacity.
    #[inline]
    pub fn put(&mut self, at: usize, keep: bool, grid: i32, abc: [f32; 3]) -> usize {
        self.grid[at] = grid;
        [self.a[at], self.b[at], self.c[at]] = abc;
        at + usize::from(keep)
    }

    /// Sets the number of crests after a run of [`Candidates::put`].
    #[inline]
    pub fn set_len(&mut self, len: usize) {
        assert!(len < CAP, "a put past the capacity");
        self.len = len;
    }

    /// Places every crest and finds its peak, reading the reconstruction through `reader`
    /// where the grid parabola does not settle it.
    pub fn refine(&mut self, reader: Reader<'_>) {
        let n = self.len;
        // 1. The grid parabola: every crest's position (the first one read), its top, and
        // whether the crest curves enough to need a read.
        let abc = self.a[..n].iter().zip(&self.b[..n]).zip(&self.c[..n]);
        let out = self.fine[..n]
            .iter_mut()
            .zip(&mut self.pending[..n])
            .zip(&mut self.value[..n])
            .zip(&self.grid[..n]);
        for ((((fine, pending), value), &grid), ((&a, &b), &c)) in out.zip(abc) {
            let bend = a - 2.0 * b + c;
            let vertex = 0.5 * (a - c) / bend;
            let vertex = if vertex > 0.5 { 0.5 } else { vertex };
            let vertex = if vertex < -0.5 { -0.5 } else { vertex };
            // A grid that does not bend down has its top at the crest itself.
            let p = if bend < 0.0 { vertex } else { 0.0 };
            *fine = grid * FINE_PER_GRID + round_to_int(FINE_PER_GRID as f32 * p);
            let top = b - 0.25 * (a - c) * p;
            *value = if top > b { top } else { b };
            *pending = -4.0 * bend >= KAPPA_GRID * b;
        }
        // 2. One read at that position for every crest that curves, in one batch.
        let mut k = 0;
        for i in 0..n {
            // Branch-free compaction: always written, counted only when pending.
            self.order[k] = i as u16;
            (self.starts[k], self.phases[k]) = reader.locate(self.fine[i]);
            k += usize::from(self.pending[i]);
        }
        self.reads_made = k;
        if k == 0 {
            return;
        }
        reader.kernel.dot3_batch(
            reader.rows,
            reader.buf,
            &self.starts[..k],
            &self.phases[..k],
            &mut self.reads[..k],
        );
        for (&i, &[y, slope, curvature]) in self.order[..k].iter().zip(&self.reads[..k]) {
            let i = usize::from(i);
            // Work on |y|: a crest of a negative lobe is a trough of y.
            let flip = if y < 0.0 { -1.0 } else { 1.0 };
            [self.v[i], self.d1[i], self.d2[i]] = [y * flip, slope * flip, curvature * flip];
        }
        // 3. The Taylor top where it is accepted; the rest are marked for Newton steps.
        let mut retries = false;
        let reads = self.v[..n].iter().zip(&self.d1[..n]).zip(&self.d2[..n]);
        let out = self.value[..n]
            .iter_mut()
            .zip(&mut self.pending[..n])
            .zip(&self.b[..n]);
        for (((value, pending), &b), ((&v, &d1), &d2)) in out.zip(reads) {
            let (d1_sq, d2_sq) = (d1 * d1, d2 * d2);
            let concave = d2 < 0.0;
            let accept = concave
                & (d1_sq <= MAX_DELTA * MAX_DELTA * d2_sq)
                & (d1_sq <= ACCEPT_OMEGA_DELTA_SQ * -d2 * v);
            let top = v + 0.5 * d1_sq / -d2;
            let top = if accept { top } else { v };
            let top = if top > b { top } else { b };
            let limit = b * GATE_MARGIN;
            let read_value = if top < limit { top } else { limit };
            *value = if *pending { read_value } else { *value };
            // A crest still to be stepped stays pending; the others are done.
            let retry = *pending & concave & !accept;
            retries |= retry;
            *pending = retry;
        }
        if retries {
            for i in 0..n {
                if self.pending[i] {
                    self.newton(i, &reader);
                }
            }
        }
    }

    /// Newton steps for a crest whose first read was not accepted.
    #[cold]
    fn newton(&mut self, i: usize, reader: &Reader<'_>) {
        let (lo, hi) = (
            (self.grid[i] - 1) * FINE_PER_GRID,
            (self.grid[i] + 1) * FINE_PER_GRID,
        );
        let b = self.b[i];
        let mut best = self.value[i];
        let (mut d1, mut d2) = (self.d1[i], self.d2[i]);
        let mut q = self.fine[i];
        for _ in 1..MAX_READS {
            q = (q + round_to_int(-d1 / d2 * PHASES as f32)).clamp(lo, hi);
            let [y, slope, curvature] = reader.one(q);
            self.reads_made += 1;
            let flip = if y < 0.0 { -1.0 } else { 1.0 };
            let v = y * flip;
            (d1, d2) = (slope * flip, curvature * flip);
            best = best.max(v);
            if d2 >= 0.0 || !d2.is_finite() {
                break;
            }
            let d1_sq = d1 * d1;
            if d1_sq <= MAX_DELTA * MAX_DELTA * d2 * d2 && d1_sq <= ACCEPT_OMEGA_DELTA_SQ * -d2 * v
            {
                best = best.max(v + 0.5 * d1_sq / -d2);
                break;
            }
        }
        self.fine[i] = q;
        self.value[i] = best.min(b * GATE_MARGIN);
    }

    /// Reads of the reconstruction the last [`Candidates::refine`] made.
    pub fn reads_made(&self) -> usize {
        self.reads_made
    }

    /// The peaks in grid order: position in fine steps from the chunk's first sample point,
    /// and level.
    pub fn peaks(&self) -> impl Iterator<Item = (i32, f32)> + '_ {
        self.fine[..self.len]
            .iter()
            .copied()
            .zip(self.value[..self.len].iter().copied())
    }
}

/// Rounds half away from zero without a libm call (the baseline x86-64 target has no
/// `roundss`), in a form that vectorises.
#[inline]
fn round_to_int(x: f32) -> i32 {
    (x + 0.5f32.copysign(x)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::interpolator::InterpolationTable;

    #[test]
    fn curved_crests_take_one_read_and_gentle_ones_none() {
        let table = InterpolationTable::new();
        // The chunk's first sample point sits at buffer index 20; the crest is near sample 32.
        let first_point: usize = 20;
        for (w, offset) in [(2.6f64, 0.2f64), (2.6, -0.24), (1.3, 0.1), (0.1, 0.2)] {
            let t0 = 32.0 + offset;
            let y = |t: f64| (w * (t - t0)).cos();
            let buf: Vec<f32> = (0..80).map(|i| y(i as f64) as f32).collect();
            let mut batch = Candidates::<4>::boxed();
            let grid = 2 * (32 - first_point as i32);
            let abc = [y(31.5).abs() as f32, buf[32].abs(), y(32.5).abs() as f32];
            let at = batch.put(0, true, grid, abc);
            let at = batch.put(at, false, grid + 7, [0.0; 3]);
            batch.set_len(at);
            batch.refine(Reader {
                rows: table.all_rows(),
                kernel: Kernel::detect(),
                buf: &buf,
                first_point,
            });
            let peaks: Vec<_> = batch.peaks().collect();
            assert_eq!(peaks.len(), 1);
            let (fine, value) = peaks[0];
            let err_db = 20.0 * (value as f64).log10();
            // Up to 0.033 dB low near 20 kHz: the interpolation filter's own droop between
            // samples at 0.41·fs, the limit of any reading of this reconstruction.
            assert!(err_db.abs() < 0.035, "w {w}: {err_db} dB");
            let at = first_point as f64 + fine as f64 / PHASES as f64;
            assert!((at - t0).abs() <= 0.06, "w {w}: at {at}, peak at {t0}");
            assert_eq!(batch.reads_made(), usize::from(w > 0.3), "w {w}");
        }
    }
}
