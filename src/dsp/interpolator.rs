//! The band-limited interpolation kernel behind the true-peak meter.
//!
//! The continuous signal between samples is reconstructed with a Kaiser-windowed sinc of
//! [`TAPS`] taps, tabulated at [`PHASES`] fractional positions per sample. Phase 0 is the
//! sample itself (the sinc is zero at every other integer), phase `PHASES / 2` is the
//! half-sample point that the coarse 2x scan evaluates everywhere, and the remaining phases
//! serve the refinement around candidate peaks.

/// Taps per phase: the reconstruction at `m + φ` reads `x[m - TAPS/2 + 1 ..= m + TAPS/2]`.
pub const TAPS: usize = 24;
/// Fractional positions tabulated per sample (spacing 1/`PHASES` of a sample).
pub const PHASES: usize = 16;
/// The phase index of the half-sample point.
pub const HALF_PHASE: usize = PHASES / 2;
/// How many taps lie before the sample `m` in the window of `m + φ` (φ > 0).
pub const TAPS_BEFORE: usize = TAPS / 2 - 1;
/// Kaiser window shape: about 70 dB of image rejection with a flat passband to 0.4535·fs.
const KAISER_BETA: f64 = 7.0;

/// The tabulated interpolation filter, one row of [`TAPS`] coefficients per phase.
#[derive(Clone, Debug)]
pub struct InterpolationTable {
    /// Rows `0..=PHASES`: row `PHASES` is the next sample, so that three neighbouring
    /// fine points usually share one window.
    rows: Box<[[f32; TAPS]; PHASES + 1]>,
}

impl Default for InterpolationTable {
    fn default() -> Self {
        Self::new()
    }
}

impl InterpolationTable {
    /// Computes the table (runs once per meter, outside the audio thread).
    pub fn new() -> Self {
        let mut rows = Box::new([[0.0f32; TAPS]; PHASES + 1]);
        let half = (TAPS / 2) as f64;
        for (phase, row) in rows.iter_mut().enumerate() {
            let frac = phase as f64 / PHASES as f64;
            for (i, coef) in row.iter_mut().enumerate() {
                // Tap i multiplies x[m - TAPS_BEFORE + i]; its distance to m + frac is tau.
                let tau = frac + TAPS_BEFORE as f64 - i as f64;
                *coef = (sinc(tau) * kaiser(tau / half, KAISER_BETA)) as f32;
            }
        }
        Self { rows }
    }

    /// The coefficients of one phase (`0..=PHASES`; `PHASES` is the next sample).
    #[inline]
    pub fn row(&self, phase: usize) -> &[f32; TAPS] {
        &self.rows[phase]
    }
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
    fn every_phase_passes_dc_at_unity() {
        let table = InterpolationTable::new();
        for phase in 0..PHASES {
            let dc: f32 = table.row(phase).iter().sum();
            assert!((dc - 1.0).abs() < 2e-3, "phase {phase}: dc gain {dc}");
        }
    }
}
