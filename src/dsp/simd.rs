//! Vector kernels of the true-peak meter: a FIR over a run of outputs and a single dot product.
//!
//! Two implementations with one contract: AVX2 + FMA on x86-64 CPUs that have it (chosen at run
//! time), and a portable version written so the compiler vectorises it for the baseline target.
//! They differ only in rounding (FMA rounds once per tap), by a few ulps.

use super::interpolator::TAPS;

/// Outputs produced per step of [`Kernel::fir`]; output slices are a multiple of this.
pub const GROUP: usize = 64;

/// Which implementation runs the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain Rust, vectorised by the compiler for the baseline target (SSE2 on x86-64).
    Portable,
    /// AVX2 with fused multiply-add, selected only after run-time detection.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Kernel {
    /// The fastest implementation this CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Kernel::Avx2Fma;
            }
        }
        Kernel::Portable
    }

    /// Whether this is the AVX2 + FMA kernel, so that code compiled for both may run.
    #[inline]
    pub fn is_avx2(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self == Kernel::Avx2Fma
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// `out[r] = Σ_i w[i] · x[r + i]` for every `r` in `0..out.len()`, for a symmetric `w`
    /// (`w[i] = w[TAPS − 1 − i]`, as the half-sample row of the reconstruction is): computed as
    /// `Σ_{i < TAPS/2} w[i] · (x[r + i] + x[r + TAPS − 1 − i])`, half the multiplications.
    ///
    /// Panics unless `out.len()` is a multiple of [`GROUP`] and `x` holds `out.len() + TAPS - 1`
    /// samples.
    #[inline]
    pub fn fir_symmetric(self, w: &[f32; TAPS], x: &[f32], out: &mut [f32]) {
        assert!(out.len().is_multiple_of(GROUP) && x.len() + 1 >= out.len() + TAPS);
        debug_assert!(
            (0..TAPS).all(|i| w[i] == w[TAPS - 1 - i]),
            "a symmetric row"
        );
        match self {
            Kernel::Portable => fir_symmetric_portable(w, x, out),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2Fma` is only constructed by `detect()` after confirming AVX2 and FMA
            // on this CPU, and the assertion above keeps every load inside `x` and every store
            // inside `out`.
            Kernel::Avx2Fma => unsafe { avx2::fir_symmetric(w, x, out) },
        }
    }

    /// `Σ_i w[i] · x[i]` over the first [`TAPS`] samples of `x` (panics if `x` is shorter).
    #[inline]
    pub fn dot(self, w: &[f32; TAPS], x: &[f32]) -> f32 {
        let x: &[f32; TAPS] = x[..TAPS].try_into().expect("slice of TAPS samples");
        match self {
            Kernel::Portable => dot_portable(w, x),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `fir`: the variant proves AVX2 + FMA, and both arrays hold TAPS floats.
            Kernel::Avx2Fma => unsafe { avx2::dot(w, x) },
        }
    }
}

/// The coefficient rows of one interpolation phase: value, slope and curvature.
pub type Rows3 = [[f32; TAPS]; 3];

impl Kernel {
    /// For every job `k`: the three dot products of the window
    /// `x[starts[k]..starts[k] + TAPS]` with the rows `rows[phases[k]]`, into `out[k]`. One call
    /// for a whole batch of reads, so that no call or branch separates them.
    ///
    /// Panics if a window or a phase is out of range, or the slices differ in length.
    pub fn dot3_batch(
        self,
        rows: &[Rows3],
        x: &[f32],
        starts: &[u32],
        phases: &[u32],
        out: &mut [[f32; 3]],
    ) {
        assert!(starts.len() == phases.len() && starts.len() == out.len());
        match self {
            Kernel::Portable => {
                for ((&s, &p), o) in starts.iter().zip(phases).zip(out.iter_mut()) {
                    let w = &rows[p as usize];
                    let xs: &[f32; TAPS] = x[s as usize..s as usize + TAPS]
                        .try_into()
                        .expect("a window of TAPS samples");
                    *o = [&w[0], &w[1], &w[2]].map(|w| dot_portable(w, xs));
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the variant proves AVX2 + FMA; the kernel indexes `rows` and `x` with
            // bounds checks and only loads from arrays of TAPS floats.
            Kernel::Avx2Fma => unsafe { avx2::dot3_batch(rows, x, starts, phases, out) },
        }
    }

    /// Three dot products of one window `x` with three coefficient rows.
    #[inline]
    pub fn dot3(self, w: [&[f32; TAPS]; 3], x: &[f32]) -> [f32; 3] {
        let x: &[f32; TAPS] = x[..TAPS].try_into().expect("slice of TAPS samples");
        match self {
            Kernel::Portable => w.map(|w| dot_portable(w, x)),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `fir`: the variant proves AVX2 + FMA, and all arrays hold TAPS floats.
            Kernel::Avx2Fma => unsafe { avx2::dot3(w, x) },
        }
    }
}

fn fir_symmetric_portable(w: &[f32; TAPS], x: &[f32], out: &mut [f32]) {
    for (g, out_group) in out.chunks_exact_mut(GROUP).enumerate() {
        let base = g * GROUP;
        let mut acc = [0.0f32; GROUP];
        for (i, &wi) in w[..TAPS / 2].iter().enumerate() {
            let near = &x[base + i..base + i + GROUP];
            let far = &x[base + TAPS - 1 - i..base + TAPS - 1 - i + GROUP];
            for ((a, &u), &v) in acc.iter_mut().zip(near).zip(far) {
                *a += wi * (u + v);
            }
        }
        out_group.copy_from_slice(&acc);
    }
}

fn dot_portable(w: &[f32; TAPS], x: &[f32; TAPS]) -> f32 {
    // Eight partial sums, combined pairwise: the same association as the AVX2 version.
    let mut acc = [0.0f32; 8];
    for (wc, xc) in w.chunks_exact(8).zip(x.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += wc[k] * xc[k];
        }
    }
    let quad = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (quad[0] + quad[2]) + (quad[1] + quad[3])
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{GROUP, TAPS};
    use std::arch::x86_64::*;

    /// AVX2 body of [`super::Kernel::fir_symmetric`]: eight accumulators of eight lanes keep
    /// both FMA ports busy while each tap pair's coefficient is broadcast once; the pair's
    /// samples are added first (on the adders, which the FMAs leave free).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `out.len()` is a multiple of `GROUP` and
    /// `x.len() >= out.len() + TAPS - 1`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fir_symmetric(w: &[f32; TAPS], x: &[f32], out: &mut [f32]) {
        let xp = x.as_ptr();
        let op = out.as_mut_ptr();
        let mut base = 0;
        while base < out.len() {
            let mut acc = [_mm256_setzero_ps(); GROUP / 8];
            for (i, &wi) in w[..TAPS / 2].iter().enumerate() {
                let wv = _mm256_set1_ps(wi);
                for (k, a) in acc.iter_mut().enumerate() {
                    // SAFETY: base + TAPS - 1 - i + 8k + 7 < out.len() + TAPS - 1 <= x.len(),
                    // and base + i + 8k + 7 is smaller.
                    let (u, v) = unsafe {
                        (
                            _mm256_loadu_ps(xp.add(base + i + 8 * k)),
                            _mm256_loadu_ps(xp.add(base + TAPS - 1 - i + 8 * k)),
                        )
                    };
                    *a = _mm256_fmadd_ps(wv, _mm256_add_ps(u, v), *a);
                }
            }
            for (k, a) in acc.iter().enumerate() {
                // SAFETY: base + 8k + 7 < out.len() because out.len() is a multiple of GROUP.
                unsafe { _mm256_storeu_ps(op.add(base + 8 * k), *a) };
            }
            base += GROUP;
        }
    }

    /// AVX2 body of [`super::Kernel::dot`].
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(w: &[f32; TAPS], x: &[f32; TAPS]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for k in (0..TAPS).step_by(8) {
            // SAFETY: k + 7 < TAPS, the length of both arrays.
            let (wv, xv) = unsafe {
                (
                    _mm256_loadu_ps(w.as_ptr().add(k)),
                    _mm256_loadu_ps(x.as_ptr().add(k)),
                )
            };
            acc = _mm256_fmadd_ps(wv, xv, acc);
        }
        let quad = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        let one = _mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1));
        _mm_cvtss_f32(one)
    }

    /// AVX2 body of [`super::Kernel::dot3_batch`].
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot3_batch(
        rows: &[super::Rows3],
        x: &[f32],
        starts: &[u32],
        phases: &[u32],
        out: &mut [[f32; 3]],
    ) {
        for ((&s, &p), o) in starts.iter().zip(phases).zip(out.iter_mut()) {
            let w = &rows[p as usize];
            let xs: &[f32; TAPS] = x[s as usize..s as usize + TAPS]
                .try_into()
                .expect("a window of TAPS samples");
            // SAFETY: same CPU features as this function; the arrays hold TAPS floats.
            *o = unsafe { dot3([&w[0], &w[1], &w[2]], xs) };
        }
    }

    /// AVX2 body of [`super::Kernel::dot3`]: the window is loaded once for three rows, and the
    /// three sums are reduced together.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot3(w: [&[f32; TAPS]; 3], x: &[f32; TAPS]) -> [f32; 3] {
        let mut acc = [_mm256_setzero_ps(); 3];
        for k in (0..TAPS).step_by(8) {
            // SAFETY: k + 7 < TAPS, the length of every array.
            let xv = unsafe { _mm256_loadu_ps(x.as_ptr().add(k)) };
            for (a, row) in acc.iter_mut().zip(w) {
                // SAFETY: as above.
                let wv = unsafe { _mm256_loadu_ps(row.as_ptr().add(k)) };
                *a = _mm256_fmadd_ps(wv, xv, *a);
            }
        }
        let t = _mm256_hadd_ps(acc[0], acc[1]);
        let u = _mm256_hadd_ps(acc[2], acc[2]);
        let v = _mm256_hadd_ps(t, u);
        let sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let mut out = [0.0f32; 4];
        // SAFETY: `out` holds four floats.
        unsafe { _mm_storeu_ps(out.as_mut_ptr(), sum) };
        [out[0], out[1], out[2]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot3_matches_three_dots() {
        let x: Vec<f32> = (0..TAPS).map(|i| (i as f32 * 0.71).cos()).collect();
        let rows: [[f32; TAPS]; 3] =
            std::array::from_fn(|r| std::array::from_fn(|i| ((r * 7 + i) as f32 * 0.13).sin()));
        let mut kernels = vec![Kernel::Portable, Kernel::detect()];
        kernels.dedup();
        for kernel in kernels {
            let three = kernel.dot3([&rows[0], &rows[1], &rows[2]], &x);
            for r in 0..3 {
                let one = kernel.dot(&rows[r], &x);
                assert!(
                    (three[r] - one).abs() < 1e-5,
                    "{kernel:?} row {r}: {} vs {one}",
                    three[r]
                );
            }
        }
    }

    fn signal(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i as f32) * 0.37).sin() * 0.8).collect()
    }

    #[test]
    fn every_kernel_matches_a_double_precision_reference() {
        let w: [f32; TAPS] = std::array::from_fn(|i| 1.0 / (1.0 + i.min(TAPS - 1 - i) as f32));
        let x = signal(3 * GROUP + TAPS - 1);
        let mut kernels = vec![Kernel::Portable, Kernel::detect()];
        kernels.dedup();
        for kernel in kernels {
            let mut out = vec![0.0; 3 * GROUP];
            kernel.fir_symmetric(&w, &x, &mut out);
            for (r, &o) in out.iter().enumerate() {
                let want: f64 = (0..TAPS).map(|i| w[i] as f64 * x[r + i] as f64).sum();
                assert!((o as f64 - want).abs() < 1e-5, "{kernel:?} fir[{r}]");
                let d = kernel.dot(&w, &x[r..]);
                assert!((d as f64 - want).abs() < 1e-5, "{kernel:?} dot[{r}]");
            }
        }
    }
}
