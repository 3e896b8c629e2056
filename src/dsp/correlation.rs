//! Stereo correlation: over the whole pass, and a moving value for the display.

use super::simd::Kernel;

/// Correlation of two channels, +1 identical, 0 unrelated, −1 inverted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Correlation {
    lr: f64,
    ll: f64,
    rr: f64,
    display: [f64; 3],
}

/// Weight of the newest block in the display value, per second of audio (about 300 ms).
const DISPLAY_RATE_PER_SECOND: f64 = 1.0 / 0.3;

impl Correlation {
    /// Adds one stereo block; `seconds` is its length in seconds.
    pub fn add(&mut self, left: &[f32], right: &[f32], seconds: f64) {
        let n = left.len().min(right.len());
        let (left, right) = (&left[..n], &right[..n]);
        let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
        let kernel = Kernel::detect();
        // Runs of RUN samples are summed in f32 lanes (each lane adds RUN / 8 products: a
        // relative error near 1e-6, far below what a correlation reading shows) and carried
        // into f64, so that a long pass loses nothing.
        for (l, r) in left.chunks(RUN).zip(right.chunks(RUN)) {
            let [a, b, c] = run_sums(kernel, l, r);
            lr += a;
            ll += b;
            rr += c;
        }
        self.lr += lr;
        self.ll += ll;
        self.rr += rr;
        let keep = (-seconds * DISPLAY_RATE_PER_SECOND).exp();
        for (d, v) in self.display.iter_mut().zip([lr, ll, rr]) {
            *d = *d * keep + v;
        }
    }

    /// Over everything since reset; `None` until both channels carried signal.
    pub fn pass(&self) -> Option<f32> {
        ratio(self.lr, self.ll, self.rr)
    }

    /// Over roughly the last 300 ms.
    pub fn recent(&self) -> Option<f32> {
        ratio(self.display[0], self.display[1], self.display[2])
    }
}

/// Samples summed in f32 before the sums are carried into f64.
const RUN: usize = 128;

/// Σ l·r, Σ l², Σ r² over one run (equal lengths), non-finite samples taken as silence.
/// The AVX2 version runs when `kernel` is the AVX2 one.
fn run_sums(kernel: Kernel, l: &[f32], r: &[f32]) -> [f64; 3] {
    #[cfg(target_arch = "x86_64")]
    if kernel.is_avx2() {
        // SAFETY: the AVX2 kernel exists only on a CPU with AVX2 and FMA.
        return unsafe { avx2::run_sums(l, r) };
    }
    run_sums_portable(l, r)
}

/// The portable [`run_sums`]: eight lanes, branch-free.
fn run_sums_portable(l: &[f32], r: &[f32]) -> [f64; 3] {
    const LANES: usize = 8;
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let (mut lr8, mut ll8, mut rr8) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
    let (lc, rc) = (l.chunks_exact(LANES), r.chunks_exact(LANES));
    let (lt, rt) = (lc.remainder(), rc.remainder());
    for (l, r) in lc.zip(rc) {
        for k in 0..LANES {
            let (a, b) = (finite(l[k]), finite(r[k]));
            lr8[k] += a * b;
            ll8[k] += a * a;
            rr8[k] += b * b;
        }
    }
    for (k, (&l, &r)) in lt.iter().zip(rt).enumerate() {
        let (a, b) = (finite(l), finite(r));
        lr8[k] += a * b;
        ll8[k] += a * a;
        rr8[k] += b * b;
    }
    let sum = |v: [f32; LANES]| v.iter().map(|&x| f64::from(x)).sum::<f64>();
    [sum(lr8), sum(ll8), sum(rr8)]
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// AVX2 body of [`super::run_sums`].
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `l` and `r` have equal lengths.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn run_sums(l: &[f32], r: &[f32]) -> [f64; 3] {
        let (mut lr, mut ll, mut rr) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let inf = _mm256_set1_ps(f32::INFINITY);
        let whole = l.len() / 8 * 8;
        for i in (0..whole).step_by(8) {
            // SAFETY: i + 7 < whole <= the length of both slices.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_ps(l.as_ptr().add(i)),
                    _mm256_loadu_ps(r.as_ptr().add(i)),
                )
            };
            // Non-finite samples (|v| not below infinity, NaN included) become silence.
            let a = _mm256_and_ps(
                a,
                _mm256_cmp_ps(_mm256_and_ps(a, abs_mask), inf, _CMP_LT_OQ),
            );
            let b = _mm256_and_ps(
                b,
                _mm256_cmp_ps(_mm256_and_ps(b, abs_mask), inf, _CMP_LT_OQ),
            );
            lr = _mm256_fmadd_ps(a, b, lr);
            ll = _mm256_fmadd_ps(a, a, ll);
            rr = _mm256_fmadd_ps(b, b, rr);
        }
        let mut lanes = [[0.0f32; 8]; 3];
        for (out, v) in lanes.iter_mut().zip([lr, ll, rr]) {
            // SAFETY: `out` holds eight floats.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
        }
        let [mut s_lr, mut s_ll, mut s_rr] = lanes.map(|v| v.iter().map(|&x| f64::from(x)).sum());
        for (&a, &b) in l[whole..].iter().zip(&r[whole..]) {
            let a = if a.is_finite() { f64::from(a) } else { 0.0 };
            let b = if b.is_finite() { f64::from(b) } else { 0.0 };
            s_lr += a * b;
            s_ll += a * a;
            s_rr += b * b;
        }
        [s_lr, s_ll, s_rr]
    }
}

fn ratio(lr: f64, ll: f64, rr: f64) -> Option<f32> {
    let norm = (ll * rr).sqrt();
    (norm > 1e-20).then(|| (lr / norm).clamp(-1.0, 1.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_inverted_and_silent() {
        let x: Vec<f32> = (0..480).map(|i| (i as f32 * 0.1).sin()).collect();
        let neg: Vec<f32> = x.iter().map(|v| -v).collect();
        let mut c = Correlation::default();
        c.add(&x, &x, 0.01);
        assert!((c.pass().unwrap() - 1.0).abs() < 1e-6);
        let mut c = Correlation::default();
        c.add(&x, &neg, 0.01);
        assert!((c.pass().unwrap() + 1.0).abs() < 1e-6);
        assert_eq!(Correlation::default().pass(), None);
    }

    #[test]
    fn every_kernel_sums_alike_and_takes_non_finite_samples_as_silence() {
        let mut l: Vec<f32> = (0..131).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut r: Vec<f32> = (0..131).map(|i| (i as f32 * 0.11).cos()).collect();
        let clean = run_sums_portable(&l, &r);
        let want = |f: fn(f64, f64) -> f64| -> f64 {
            l.iter().zip(&r).map(|(&a, &b)| f(a as f64, b as f64)).sum()
        };
        for (got, want) in
            clean
                .iter()
                .zip([want(|a, b| a * b), want(|a, _| a * a), want(|_, b| b * b)])
        {
            assert!((got - want).abs() < 1e-4, "{got} vs {want}");
        }
        l.extend([f32::NAN, 0.5]);
        r.extend([0.5, f32::INFINITY]);
        let with_holes = run_sums_portable(&l, &r);
        let expected = [clean[0], clean[1] + 0.25, clean[2] + 0.25];
        for (got, want) in with_holes.iter().zip(expected) {
            assert!((got - want).abs() < 1e-4, "{got} vs {want}");
        }
        l[3] = f32::NEG_INFINITY;
        r[3] = f32::NAN;
        let holes_inside = run_sums(Kernel::detect(), &l, &r);
        assert!(holes_inside.iter().all(|v| v.is_finite()));
        let portable = run_sums_portable(&l, &r);
        for (a, b) in holes_inside.iter().zip(portable) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
