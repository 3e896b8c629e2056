//! The band-limited interpolation kernel behind the true-peak meter.
//!
//! The continuous signal between samples is reconstructed with a Kaiser-windowed sinc of
//! [`TAPS`] taps, tabulated at [`PHASES`] fractional positions per sample together with its
//! first and second derivatives. Phase 0 is the sample itself (the sinc is zero at every other
//! integer), phase `PHASES / 2` is the half-sample point that the coarse 2x scan evaluates
//! everywhere, and the refinement around a candidate peak reads the value, slope and curvature
//! of the reconstruction at one phase with three dot products of the same window.

/// Taps per phase: the reconstruction at `m + φ` reads `x[m - TAPS/2 + 1 ..= m + TAPS/2]`.
pub const TAPS: usize = 24;
/// Fractional positions tabulated per sample (spacing 1/`PHASES` of a sample).
pub const PHASES: usize = 32;
/// The phase index of the half-sample point.
pub const HALF_PHASE: usize = PHASES / 2;
/// How many taps lie before the sample `m` in the window of `m + φ` (φ > 0).
pub const TAPS_BEFORE: usize = TAPS / 2 - 1;
/// Kaiser window shape: about 70 dB of image rejection with a flat passband to 0.4535·fs.
const KAISER_BETA: f64 = 7.0;

/// Rows per phase: the reconstruction, its first and its second derivative (per sample).
pub const DERIVATIVES: usize = 3;

/// The tabulated interpolation filter: per phase, [`DERIVATIVES`] rows of [`TAPS`]
/// coefficients.
#[derive(Clone, Debug)]
pub struct InterpolationTable {
    /// Phases `0..=PHASES` (phase `PHASES` is the next sample), each with the rows of the
    /// value, the slope and the curvature, kept together so one refinement step reads one
    /// contiguous block.
    rows: Box<[[[f32; TAPS]; DERIVATIVES]; PHASES + 1]>,
}

impl Default for InterpolationTable {
    fn default() -> Self {
        Self::new()
    }
}

impl InterpolationTable {
    /// Computes the table (runs once per meter, outside the audio thread).
    pub fn new() -> Self {
        let mut rows = Box::new([[[0.0f32; TAPS]; DERIVATIVES]; PHASES + 1]);
        for (phase, block) in rows.iter_mut().enumerate() {
            let frac = phase as f64 / PHASES as f64;
            for i in 0..TAPS {
                // Tap i multiplies x[m - TAPS_BEFORE + i]; its distance to m + frac is tau.
                let tau = frac + TAPS_BEFORE as f64 - i as f64;
                for (row, value) in block.iter_mut().zip(kernel_and_derivatives(tau)) {
                    row[i] = value as f32;
                }
            }
        }
        // The half-sample point sits midway in its window, so its value row is symmetric; make
        // it exactly so (the two halves differ by a rounding at most), for the symmetric FIR.
        let half = &mut rows[HALF_PHASE][0];
        for i in 0..TAPS / 2 {
            let mean = 0.5 * (half[i] + half[TAPS - 1 - i]);
            (half[i], half[TAPS - 1 - i]) = (mean, mean);
        }
        Self { rows }
    }

    /// The reconstruction coefficients of one phase (`0..=PHASES`; `PHASES` is the next
    /// sample).
    #[inline]
    pub fn row(&self, phase: usize) -> &[f32; TAPS] {
        &self.rows[phase][0]
    }

    /// The value, slope and curvature rows of every phase (`0..=PHASES`).
    #[inline]
    pub fn all_rows(&self) -> &[[[f32; TAPS]; DERIVATIVES]] {
        &self.rows[..]
    }

    /// The value, slope and curvature rows of one phase.
    #[inline]
    pub fn rows(&self, phase: usize) -> [&[f32; TAPS]; DERIVATIVES] {
        let [v, d1, d2] = &self.rows[phase];
        [v, d1, d2]
    }
}

/// The windowed sinc at `tau` and its first two derivatives, by Richardson-extrapolated
/// central differences in double precision (error about 1e-10, far below `f32`). At the
/// window's edges (|tau| = TAPS/2) the kernel's slope jumps to zero outside, so there the
/// derivatives are taken from the inside, the side the reconstruction uses.
fn kernel_and_derivatives(tau: f64) -> [f64; 3] {
    let half = (TAPS / 2) as f64;
    let g = |t: f64| sinc(t) * kaiser(t / half, KAISER_BETA);
    let h = 1e-3;
    // The kernel's parameter is the distance from the tap to the point, so a later point
    // (larger fraction) moves the same way as tau: the derivatives carry over unchanged.
    if tau.abs() > half - 5.0 * h {
        // Five-point one-sided stencils towards the inside (errors O(h⁴) and O(h³)).
        let dir = -tau.signum();
        let p: [f64; 5] = std::array::from_fn(|k| g(tau + dir * k as f64 * h));
        let d1 = (-25.0 * p[0] + 48.0 * p[1] - 36.0 * p[2] + 16.0 * p[3] - 3.0 * p[4]) / (12.0 * h)
            * dir;
        let d2 = (35.0 * p[0] - 104.0 * p[1] + 114.0 * p[2] - 56.0 * p[3] + 11.0 * p[4])
            / (12.0 * h * h);
        return [g(tau), d1, d2];
    }
    let d1 = |h: f64| (g(tau + h) - g(tau - h)) / (2.0 * h);
    let d2 = |h: f64| (g(tau + h) - 2.0 * g(tau) + g(tau - h)) / (h * h);
    [
        g(tau),
        (4.0 * d1(h) - d1(2.0 * h)) / 3.0,
        (4.0 * d2(h) - d2(2.0 * h)) / 3.0,
    ]
}

/// Normalised sinc, sin(πx)/(πx).
fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Kaiser window at normalised position `t` in [-1, 1].
fn kaiser(t: f64, beta: f64) -> f64 {
    if t.abs() >= 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - t * t).sqrt()) / bessel_i0(beta)
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for β < 20).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..64 {
        term *= q / (k as f64 * k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_zero_is_the_sample_itself_and_the_last_row_the_next_one() {
        let table = InterpolationTable::new();
        for (i, &c) in table.row(0).iter().enumerate() {
            let want = if i == TAPS_BEFORE { 1.0 } else { 0.0 };
            assert!((c - want).abs() < 1e-7, "tap {i}: {c}");
        }
        for (i, &c) in table.row(PHASES).iter().enumerate() {
            let want = if i == TAPS_BEFORE + 1 { 1.0 } else { 0.0 };
            assert!((c - want).abs() < 1e-7, "tap {i}: {c}");
        }
    }

    #[test]
    fn derivative_rows_differentiate_a_sine() {
        // y = sin(w t): the rows must give w cos and -w² sin at every phase.
        let table = InterpolationTable::new();
        let w = 2.0 * std::f64::consts::PI * 0.13;
        let x: Vec<f64> = (0..TAPS).map(|i| (w * i as f64).sin()).collect();
        for phase in 0..=PHASES {
            let t = TAPS_BEFORE as f64 + phase as f64 / PHASES as f64;
            let dot = |row: &[f32; TAPS]| -> f64 {
                row.iter().zip(&x).map(|(&c, &v)| c as f64 * v).sum()
            };
            let [v, d1, d2] = table.rows(phase).map(dot);
            assert!((v - (w * t).sin()).abs() < 2e-3, "phase {phase}");
            assert!(
                (d1 - w * (w * t).cos()).abs() < 2e-3,
                "phase {phase}: slope {d1}"
            );
            assert!(
                (d2 + w * w * (w * t).sin()).abs() < 2e-3,
                "phase {phase}: {d2}"
            );
        }
    }

    #[test]
    fn the_half_sample_row_is_symmetric() {
        let table = InterpolationTable::new();
        let row = table.row(HALF_PHASE);
        for i in 0..TAPS {
            assert_eq!(row[i], row[TAPS - 1 - i], "tap {i}");
        }
    }

    #[test]
    fn every_phase_passes_dc_at_unity() {
        let table = InterpolationTable::new();
        for phase in 0..PHASES {
            let dc: f32 = table.row(phase).iter().sum();
            assert!((dc - 1.0).abs() < 2e-3, "phase {phase}: dc gain {dc}");
        }
    }
}
