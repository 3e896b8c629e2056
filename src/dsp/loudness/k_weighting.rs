//! The K-weighting filter of ITU-R BS.1770 at any sample rate, as a per-sample recursion and
//! as a block recursion that advances eight samples at a time.
//!
//! BS.1770 tabulates the two biquads (a high shelf of about +4 dB above 1.7 kHz, then a
//! 38 Hz high-pass) for 48 kHz only. Here both are designed from their analogue prototypes by
//! the bilinear transform with the corner frequencies pre-warped, which reproduces the
//! tabulated 48 kHz coefficients to 1e-8 and gives the same response at every other rate.
//!
//! The per-sample recursion is latency-bound: each output waits for the previous one. The
//! block form computes [`GROUP`] outputs and the state [`GROUP`] samples later directly from
//! the state and the inputs (matrices derived once per sample rate), so the work of a group
//! is a handful of independent vector multiply-adds instead of a chain of dependent ones.

use std::f64::consts::PI;

/// Samples advanced per step of the block recursion.
pub const GROUP: usize = 8;
/// State variables of the cascade (two per biquad).
pub const ORDER: usize = 4;

/// Analogue prototype of the shelf: corner (Hz), gain (dB) and quality factor (BS.1770's
/// 48 kHz table, inverted).
const SHELF_HZ: f64 = 1_681.974_450_955_533;
const SHELF_GAIN_DB: f64 = 3.999_843_853_973_347;
const SHELF_Q: f64 = 0.707_175_236_955_419_6;
/// Analogue prototype of the high-pass ("RLB" weighting): corner (Hz) and quality factor.
const HIGH_PASS_HZ: f64 = 38.135_470_876_024_44;
const HIGH_PASS_Q: f64 = 0.500_327_037_323_877_3;

/// One biquad, `y = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²) x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Biquad {
    /// Feed-forward coefficients.
    pub b: [f64; 3],
    /// Feedback coefficients `a1`, `a2` (`a0` is 1).
    pub a: [f64; 2],
}

/// The two biquads of K-weighting at `sample_rate` Hz: the shelf, then the high-pass.
pub fn design(sample_rate: f64) -> [Biquad; 2] {
    let k = (PI * SHELF_HZ / sample_rate).tan();
    let vh = 10f64.powf(SHELF_GAIN_DB / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + k / SHELF_Q + k * k;
    let shelf = Biquad {
        b: [
            (vh + vb * k / SHELF_Q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / SHELF_Q + k * k) / a0,
        ],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0],
    };
    let k = (PI * HIGH_PASS_HZ / sample_rate).tan();
    let a0 = 1.0 + k / HIGH_PASS_Q + k * k;
    let high_pass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [
            2.0 * (k * k - 1.0) / a0,
            (1.0 - k / HIGH_PASS_Q + k * k) / a0,
        ],
    };
    [shelf, high_pass]
}

/// The cascade's state: the two transposed-direct-form-II states of each biquad.
pub type State = [f64; ORDER];

/// The K-weighting filter of one sample rate: the biquads for single steps and the matrices of
/// the block recursion.
#[derive(Clone, Debug, PartialEq)]
pub struct KWeighting {
    stages: [Biquad; 2],
    /// A group's outputs are `out[i] = Σ_j input_to_out[j][i]·x[j] + Σ_k state_to_out[k][i]·s[k]`.
    /// This is the impulse response (lower triangular), by input `j` then output `i`.
    pub input_to_out: [[f64; GROUP]; GROUP],
    /// Output `i` of the group from state variable `k` alone, by `k` then `i`.
    pub state_to_out: [[f64; GROUP]; ORDER],
    /// The state after the group from state variable `k` alone, by `k`.
    pub state_to_state: [State; ORDER],
    /// The state after the group from input `j` alone, by `j`.
    pub input_to_state: [State; GROUP],
}

impl KWeighting {
    /// The filter at `sample_rate` Hz (computed once, outside the audio thread).
    pub fn new(sample_rate: f64) -> Self {
        let stages = design(sample_rate);
        let mut f = Self {
            stages,
            input_to_out: [[0.0; GROUP]; GROUP],
            state_to_out: [[0.0; GROUP]; ORDER],
            state_to_state: [[0.0; ORDER]; ORDER],
            input_to_state: [[0.0; ORDER]; GROUP],
        };
        // Every matrix column is the response of the recursion to one unit input or state.
        for j in 0..GROUP {
            let mut s = [0.0; ORDER];
            for i in 0..GROUP {
                f.input_to_out[j][i] = f.step(&mut s, if i == j { 1.0 } else { 0.0 });
            }
            f.input_to_state[j] = s;
        }
        for k in 0..ORDER {
            let mut s = [0.0; ORDER];
            s[k] = 1.0;
            for i in 0..GROUP {
                f.state_to_out[k][i] = f.step(&mut s, 0.0);
            }
            f.state_to_state[k] = s;
        }
        f
    }

    /// The biquads (shelf, high-pass).
    pub fn stages(&self) -> [Biquad; 2] {
        self.stages
    }

    /// One sample through the cascade: returns the K-weighted output and advances `s`.
    #[inline]
    pub fn step(&self, s: &mut State, x: f64) -> f64 {
        let [shelf, hp] = &self.stages;
        let y = shelf.b[0] * x + s[0];
        s[0] = shelf.b[1] * x - shelf.a[0] * y + s[1];
        s[1] = shelf.b[2] * x - shelf.a[1] * y;
        let z = hp.b[0] * y + s[2];
        s[2] = hp.b[1] * y - hp.a[0] * z + s[3];
        s[3] = hp.b[2] * y - hp.a[1] * z;
        z
    }

    /// Magnitude response in dB at `freq` Hz for `sample_rate` (for tests and documentation).
    pub fn gain_db(&self, freq: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * PI * freq / sample_rate;
        let (c1, s1, c2, s2) = (w.cos(), -w.sin(), (2.0 * w).cos(), -(2.0 * w).sin());
        let mut mag = 1.0;
        for q in &self.stages {
            let num = (
                q.b[0] + q.b[1] * c1 + q.b[2] * c2,
                q.b[1] * s1 + q.b[2] * s2,
            );
            let den = (1.0 + q.a[0] * c1 + q.a[1] * c2, q.a[0] * s1 + q.a[1] * s2);
            mag *= ((num.0 * num.0 + num.1 * num.1) / (den.0 * den.0 + den.1 * den.1)).sqrt();
        }
        20.0 * mag.log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_bs1770_table_at_48_khz() {
        let [shelf, hp] = design(48_000.0);
        let want_shelf = (
            [
                1.535_124_859_586_97,
                -2.691_696_189_406_38,
                1.198_392_810_852_85,
            ],
            [-1.690_659_293_182_41, 0.732_480_774_215_85],
        );
        let want_hp = (
            [1.0, -2.0, 1.0],
            [-1.990_047_454_833_98, 0.990_072_250_366_21],
        );
        for (got, want) in [(shelf, want_shelf), (hp, want_hp)] {
            for (g, w) in got.b.iter().zip(want.0).chain(got.a.iter().zip(want.1)) {
                assert!((g - w).abs() < 1e-8, "{g} vs {w}");
            }
        }
    }

    #[test]
    fn block_recursion_matches_the_per_sample_one() {
        for rate in [44_100.0, 48_000.0, 192_000.0] {
            let f = KWeighting::new(rate);
            let x: Vec<f64> = (0..64).map(|i| ((i * i) as f64 * 0.37).sin()).collect();
            let mut s = [0.0; ORDER];
            let want: Vec<f64> = x.iter().map(|&v| f.step(&mut s, v)).collect();
            let mut b = [0.0; ORDER];
            for (g, xs) in x.chunks(GROUP).enumerate() {
                for i in 0..GROUP {
                    let mut out = 0.0;
                    for (j, &xj) in xs.iter().enumerate().take(i + 1) {
                        out += f.input_to_out[j][i] * xj;
                    }
                    for (k, &sk) in b.iter().enumerate() {
                        out += f.state_to_out[k][i] * sk;
                    }
                    assert!(
                        (out - want[g * GROUP + i]).abs() < 1e-12,
                        "{rate} Hz, {g}/{i}"
                    );
                }
                let mut next = [0.0; ORDER];
                for (k, &sk) in b.iter().enumerate() {
                    (0..ORDER).for_each(|r| next[r] += f.state_to_state[k][r] * sk);
                }
                for (j, &xj) in xs.iter().enumerate() {
                    (0..ORDER).for_each(|r| next[r] += f.input_to_state[j][r] * xj);
                }
                b = next;
            }
            for r in 0..ORDER {
                assert!((b[r] - s[r]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn response_is_the_k_curve() {
        let f = KWeighting::new(48_000.0);
        // Shelf of +4 dB at high frequencies, flat-ish around 1 kHz, high-pass below 38 Hz.
        assert!((f.gain_db(10_000.0, 48_000.0) - 4.0).abs() < 0.1);
        assert!((f.gain_db(997.0, 48_000.0) - 0.69).abs() < 0.05);
        assert!(f.gain_db(20.0, 48_000.0) < -5.0);
        // The same curve at 44.1 kHz.
        let g = KWeighting::new(44_100.0);
        for hz in [20.0, 100.0, 1_000.0, 5_000.0, 15_000.0] {
            let d = g.gain_db(hz, 44_100.0) - f.gain_db(hz, 48_000.0);
            assert!(d.abs() < 0.05, "{hz} Hz: {d} dB");
        }
    }
}
