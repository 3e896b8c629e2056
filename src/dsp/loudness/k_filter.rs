//! K-weighting of a mono or stereo bus, summed to the energy that BS.1770 measures.
//!
//! Two kernels with one contract, as for the true-peak meter: AVX2 + FMA when the CPU has it
//! (chosen at run time) and a portable one. Both run the block recursion of
//! [`KWeighting`] on whole groups of [`GROUP`] samples, with the two channels of a stereo bus
//! interleaved so that their independent work overlaps, and finish a segment's last few
//! samples with the per-sample recursion. They differ only in rounding (about 1e-13 relative).

use super::k_weighting::{KWeighting, State, GROUP, ORDER};
use crate::dsp::simd::Kernel;

/// Inputs smaller than this (−400 dBFS) enter the filter as zero, and states below
/// [`STATE_FLOOR`] are cleared, so no subnormal number ever reaches the recursion.
const FLUSH_BELOW: f32 = 1e-20;
/// A state this small (−600 dB) contributes nothing measurable; clearing it keeps a decaying
/// filter from ever reaching subnormal numbers, which are slow on every x86 CPU.
const STATE_FLOOR: f64 = 1e-30;

/// The K-weighting filters of one bus (one per channel, at most two).
#[derive(Clone, Debug)]
pub struct KFilter {
    coefs: Box<KWeighting>,
    kernel: Kernel,
    states: [State; 2],
}

impl KFilter {
    /// Filters for `sample_rate` Hz using the fastest kernel this CPU supports.
    pub fn new(sample_rate: f64) -> Self {
        Self::with_kernel(sample_rate, Kernel::detect())
    }

    /// Filters using the given kernel (the tests use this to exercise the portable one).
    pub fn with_kernel(sample_rate: f64, kernel: Kernel) -> Self {
        Self {
            coefs: Box::new(KWeighting::new(sample_rate)),
            kernel,
            states: [[0.0; ORDER]; 2],
        }
    }

    /// Forgets the signal history, as if the input had been silent forever.
    pub fn clear(&mut self) {
        self.states = [[0.0; ORDER]; 2];
    }

    /// K-weights `channels` (one or two slices of equal length; non-finite samples count as
    /// silence) and returns Σ over channels and samples of the weighted signal squared. Each
    /// channel has weight 1 (BS.1770's weight for left, right and a single centre channel).
    pub fn sum_squares(&mut self, channels: &[&[f32]]) -> f64 {
        let len = channels.first().map_or(0, |c| c.len());
        let whole = len / GROUP * GROUP;
        let mut energy = match (self.kernel, channels) {
            (_, []) => return 0.0,
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2Fma` is only constructed by `Kernel::detect()` after confirming AVX2
            // and FMA on this CPU; the kernel reads `whole` samples of each slice, and
            // `whole <= len` for every slice (asserted inside).
            (Kernel::Avx2Fma, [one]) => unsafe {
                avx2::sum_squares(&self.coefs, &mut self.states, [&one[..whole]])
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (Kernel::Avx2Fma, [l, r, ..]) => unsafe {
                avx2::sum_squares(&self.coefs, &mut self.states, [&l[..whole], &r[..whole]])
            },
            (Kernel::Portable, [one]) => {
                portable_sum_squares(&self.coefs, &mut self.states, [&one[..whole]])
            }
            (Kernel::Portable, [l, r, ..]) => {
                portable_sum_squares(&self.coefs, &mut self.states, [&l[..whole], &r[..whole]])
            }
        };
        for (c, x) in channels.iter().take(2).enumerate() {
            let state = &mut self.states[c];
            for &v in &x[whole..len] {
                let z = self.coefs.step(state, sanitize(v) as f64);
                energy += z * z;
            }
        }
        for state in &mut self.states {
            if state.iter().all(|s| s.abs() < STATE_FLOOR) {
                *state = [0.0; ORDER];
            }
        }
        energy
    }
}

/// Non-finite and vanishing samples as zero.
#[inline]
fn sanitize(v: f32) -> f32 {
    // `&`, not `&&`: no branch, so loops over it vectorise.
    if v.is_finite() & (v.abs() >= FLUSH_BELOW) {
        v
    } else {
        0.0
    }
}

/// The block recursion in plain Rust (also the reference for the AVX2 kernel).
fn portable_sum_squares<const C: usize>(
    f: &KWeighting,
    states: &mut [State; 2],
    channels: [&[f32]; C],
) -> f64 {
    let groups = channels[0].len() / GROUP;
    let mut acc = [[0.0f64; GROUP]; C];
    for g in 0..groups {
        for c in 0..C {
            let x: [f64; GROUP] =
                std::array::from_fn(|j| sanitize(channels[c][g * GROUP + j]) as f64);
            let mut out = [0.0f64; GROUP];
            let mut next = [0.0f64; ORDER];
            for (k, &sk) in states[c].iter().enumerate() {
                add_scaled(&mut out, &f.state_to_out[k], sk);
                add_scaled(&mut next, &f.state_to_state[k], sk);
            }
            for (j, &xj) in x.iter().enumerate() {
                add_scaled(&mut out, &f.input_to_out[j], xj);
                add_scaled(&mut next, &f.input_to_state[j], xj);
            }
            for (a, &o) in acc[c].iter_mut().zip(&out) {
                *a += o * o;
            }
            states[c] = next;
        }
    }
    acc.iter().flatten().sum()
}

/// `out += row · a`, element by element.
#[inline]
fn add_scaled(out: &mut [f64], row: &[f64], a: f64) {
    for (o, &w) in out.iter_mut().zip(row) {
        *o += w * a;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{KWeighting, State, FLUSH_BELOW, GROUP, ORDER};
    use std::arch::x86_64::*;

    /// The matrices of the block recursion as vectors of four lanes.
    struct Matrices {
        /// Outputs 0–3 of the group from inputs 0–3 (inputs 4–7 do not reach them).
        in_lo: [__m256d; 4],
        /// Outputs 4–7 from inputs 0–7.
        in_hi: [__m256d; GROUP],
        /// Outputs 0–3 and 4–7 from each state variable.
        st_lo: [__m256d; ORDER],
        st_hi: [__m256d; ORDER],
        /// The next state from each state variable and from each input.
        st_st: [__m256d; ORDER],
        in_st: [__m256d; GROUP],
    }

    /// Four consecutive doubles as a vector.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn load4(v: &[f64]) -> __m256d {
        let v: &[f64; 4] = v[..4].try_into().expect("four lanes");
        // SAFETY: `v` holds four doubles; the load is unaligned.
        unsafe { _mm256_loadu_pd(v.as_ptr()) }
    }

    /// The block recursion on whole groups of one or two channels, returning Σ out².
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    // One index walks the same row of several matrices at once; iterators would hide that.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sum_squares<const C: usize>(
        f: &KWeighting,
        states: &mut [State; 2],
        channels: [&[f32]; C],
    ) -> f64 {
        let len = channels[0].len();
        assert!(len.is_multiple_of(GROUP) && channels.iter().all(|c| c.len() == len));
        let m = Matrices {
            in_lo: std::array::from_fn(|j| load4(&f.input_to_out[j][..4])),
            in_hi: std::array::from_fn(|j| load4(&f.input_to_out[j][4..])),
            st_lo: std::array::from_fn(|k| load4(&f.state_to_out[k][..4])),
            st_hi: std::array::from_fn(|k| load4(&f.state_to_out[k][4..])),
            st_st: std::array::from_fn(|k| load4(&f.state_to_state[k])),
            in_st: std::array::from_fn(|j| load4(&f.input_to_state[j])),
        };
        let mut s: [__m256d; C] = std::array::from_fn(|c| load4(&states[c]));
        let mut acc = [_mm256_setzero_pd(); C];
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let inf = _mm256_set1_ps(f32::INFINITY);
        let floor = _mm256_set1_ps(FLUSH_BELOW);
        for g in 0..len / GROUP {
            for c in 0..C {
                let xs: &[f32; GROUP] = channels[c][g * GROUP..(g + 1) * GROUP]
                    .try_into()
                    .expect("a whole group");
                // SAFETY: `xs` holds GROUP = 8 floats.
                let raw = unsafe { _mm256_loadu_ps(xs.as_ptr()) };
                // Keep finite samples of at least FLUSH_BELOW; NaN fails both comparisons.
                let a = _mm256_and_ps(raw, abs_mask);
                let keep = _mm256_and_ps(
                    _mm256_cmp_ps(a, inf, _CMP_LT_OQ),
                    _mm256_cmp_ps(a, floor, _CMP_GE_OQ),
                );
                let clean = _mm256_and_ps(raw, keep);
                let mut x = [0.0f64; GROUP];
                // SAFETY: `x` holds eight doubles: two stores of four.
                unsafe {
                    _mm256_storeu_pd(
                        x.as_mut_ptr(),
                        _mm256_cvtps_pd(_mm256_castps256_ps128(clean)),
                    );
                    _mm256_storeu_pd(
                        x.as_mut_ptr().add(4),
                        _mm256_cvtps_pd(_mm256_extractf128_ps(clean, 1)),
                    );
                }
                let sv = s[c];
                let sb = [
                    _mm256_permute4x64_pd(sv, 0x00),
                    _mm256_permute4x64_pd(sv, 0x55),
                    _mm256_permute4x64_pd(sv, 0xAA),
                    _mm256_permute4x64_pd(sv, 0xFF),
                ];
                let xb: [__m256d; GROUP] = std::array::from_fn(|j| _mm256_set1_pd(x[j]));
                // Independent partial sums: the state part and the input part of each result.
                let mut lo_s = _mm256_mul_pd(sb[0], m.st_lo[0]);
                let mut hi_s = _mm256_mul_pd(sb[0], m.st_hi[0]);
                for k in 1..ORDER {
                    lo_s = _mm256_fmadd_pd(sb[k], m.st_lo[k], lo_s);
                    hi_s = _mm256_fmadd_pd(sb[k], m.st_hi[k], hi_s);
                }
                let mut lo_x = _mm256_mul_pd(xb[0], m.in_lo[0]);
                let mut hi_x = _mm256_mul_pd(xb[0], m.in_hi[0]);
                let mut next_x = _mm256_mul_pd(xb[0], m.in_st[0]);
                for j in 1..4 {
                    lo_x = _mm256_fmadd_pd(xb[j], m.in_lo[j], lo_x);
                }
                for j in 1..GROUP {
                    hi_x = _mm256_fmadd_pd(xb[j], m.in_hi[j], hi_x);
                    next_x = _mm256_fmadd_pd(xb[j], m.in_st[j], next_x);
                }
                let lo = _mm256_add_pd(lo_s, lo_x);
                let hi = _mm256_add_pd(hi_s, hi_x);
                // The next state is the only result the next group waits for: two chains of
                // two multiply-adds instead of one of four (the input part is ready early).
                let left = _mm256_fmadd_pd(
                    sb[1],
                    m.st_st[1],
                    _mm256_fmadd_pd(sb[0], m.st_st[0], next_x),
                );
                let right = _mm256_fmadd_pd(sb[3], m.st_st[3], _mm256_mul_pd(sb[2], m.st_st[2]));
                s[c] = _mm256_add_pd(left, right);
                acc[c] = _mm256_fmadd_pd(lo, lo, acc[c]);
                acc[c] = _mm256_fmadd_pd(hi, hi, acc[c]);
            }
        }
        let mut total = 0.0;
        for c in 0..C {
            let mut lanes = [0.0f64; 4];
            // SAFETY: `states[c]` and `lanes` each hold four doubles.
            unsafe {
                _mm256_storeu_pd(states[c].as_mut_ptr(), s[c]);
                _mm256_storeu_pd(lanes.as_mut_ptr(), acc[c]);
            }
            total += (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(n: usize, seed: f32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 * seed).sin() + 0.3 * (i as f32 * 0.917).cos()) * 0.5)
            .collect()
    }

    /// Σ z² by the per-sample recursion in f64, the reference.
    fn reference(rate: f64, channels: &[Vec<f32>]) -> f64 {
        let f = KWeighting::new(rate);
        channels
            .iter()
            .map(|x| {
                let mut s = [0.0; ORDER];
                x.iter()
                    .map(|&v| f.step(&mut s, sanitize(v) as f64).powi(2))
                    .sum::<f64>()
            })
            .sum()
    }

    #[test]
    fn every_kernel_matches_the_per_sample_recursion_in_pieces_of_any_size() {
        let mut kernels = vec![Kernel::Portable, Kernel::detect()];
        kernels.dedup();
        for kernel in kernels {
            for rate in [44_100.0, 48_000.0, 96_000.0] {
                let mut stereo = [signal(5_003, 0.05), signal(5_003, 0.031)];
                stereo[0][77] = f32::NAN;
                stereo[1][901] = f32::INFINITY;
                for channels in [&stereo[..1], &stereo[..]] {
                    let want = reference(rate, channels);
                    for piece in [1, 7, 333, 4096] {
                        let mut f = KFilter::with_kernel(rate, kernel);
                        let mut got = 0.0;
                        for start in (0..5_003).step_by(piece) {
                            let end = (start + piece).min(5_003);
                            let slices: Vec<&[f32]> =
                                channels.iter().map(|c| &c[start..end]).collect();
                            got += f.sum_squares(&slices);
                        }
                        let rel = (got - want).abs() / want;
                        assert!(
                            rel < 1e-10,
                            "{kernel:?} {rate} Hz, pieces of {piece}: {rel}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_silenced_filter_decays_to_exact_zero() {
        let mut f = KFilter::new(48_000.0);
        f.sum_squares(&[&signal(4_800, 0.05)]);
        let silence = vec![0.0f32; 48_000];
        for _ in 0..40 {
            f.sum_squares(&[&silence]);
        }
        assert_eq!(f.states, [[0.0; ORDER]; 2]);
        assert_eq!(f.sum_squares(&[&silence]), 0.0);
    }
}
