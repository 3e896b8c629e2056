//! Whitened FFT cross-correlation: the lag at which one signal reaches another.
//!
//! A plain cross-correlation of music has a broad peak (a bass note correlates with itself
//! shifted by a few samples almost as well as unshifted), so noise from the other stems
//! can move its maximum by a sample. Dividing the cross-spectrum by the stem's own power
//! spectrum (a regularised deconvolution) turns the peak into a near-impulse: the estimated
//! impulse response from the stem to the target, whose largest tap is the lag. The
//! regulariser (1% of the mean power) keeps bands where the stem is nearly silent from
//! amplifying whatever else the target holds there.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Bins where the stem's power is this far below its strongest bin (−60 dB) are left out:
/// the stem has nothing there to correlate, and whitening would only amplify what the other
/// stems left in the target (decisive for a stem of a few pure tones, irrelevant for music).
const SILENT_BIN: f32 = 1e-6;

/// Regulariser of the whitening, relative to the stem's mean power per bin.
const WHITENING_FLOOR: f32 = 0.01;

/// Estimates the lag of a stem against a target from pairs of (stem channel, target channel),
/// combining all pairs in one spectrum. Buffers are allocated once.
pub(super) struct LagEstimator {
    max_lag: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    stem: Vec<Complex<f32>>,
    target: Vec<Complex<f32>>,
    cross: Vec<Complex<f32>>,
    power: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl LagEstimator {
    /// An estimator for lags in `-max_lag..=max_lag` with FFTs of `fft_len` (a power of two,
    /// at least the stem segment's length).
    pub fn new(fft_len: usize, max_lag: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(fft_len);
        let inverse = planner.plan_fft_inverse(fft_len);
        let bins = fft_len / 2 + 1;
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        Self {
            max_lag,
            forward,
            inverse,
            time: vec![0.0; fft_len],
            stem: vec![Complex::default(); bins],
            target: vec![Complex::default(); bins],
            cross: vec![Complex::default(); bins],
            power: vec![0.0; bins],
            scratch: vec![Complex::default(); scratch_len],
        }
    }

    /// Starts a new estimate.
    pub fn begin(&mut self) {
        self.cross.fill(Complex::default());
        self.power.fill(0.0);
    }

    /// Adds a pair. `stem` covers target frames `-max_lag..target.len() + max_lag`, i.e. it
    /// starts `max_lag` frames before `target`, so every lag in range finds its samples.
    pub fn add_pair(&mut self, stem: &[f32], target: &[f32]) {
        let n = self.time.len();
        debug_assert!(stem.len() <= n && target.len() + 2 * self.max_lag <= n);
        self.time[..stem.len()].copy_from_slice(stem);
        self.time[stem.len()..].fill(0.0);
        // The forward FFT only fails on wrong buffer lengths, which are fixed at allocation.
        let _ =
            self.forward
                .process_with_scratch(&mut self.time, &mut self.stem, &mut self.scratch);
        self.time[..target.len()].copy_from_slice(target);
        self.time[target.len()..].fill(0.0);
        let _ =
            self.forward
                .process_with_scratch(&mut self.time, &mut self.target, &mut self.scratch);
        for (((c, p), s), t) in self
            .cross
            .iter_mut()
            .zip(&mut self.power)
            .zip(&self.stem)
            .zip(&self.target)
        {
            *c += s * t.conj();
            *p += s.norm_sqr();
        }
    }

    /// The lag k (positive: the target holds the stem k frames late) and its signed peak
    /// relative to the RMS of the other lags (its prominence; the sign says whether the
    /// stem arrives inverted). `None` when the stem was silent.
    pub fn estimate(&mut self) -> Option<(i64, f32)> {
        let mean_power =
            self.power.iter().map(|&p| p as f64).sum::<f64>() / self.power.len() as f64;
        if !(mean_power > 0.0 && mean_power.is_finite()) {
            return None;
        }
        let floor = (WHITENING_FLOOR as f64 * mean_power) as f32;
        let max_power = self.power.iter().fold(0.0f32, |m, &p| m.max(p));
        let gate = max_power * SILENT_BIN;
        for (c, &p) in self.cross.iter_mut().zip(&self.power) {
            *c = if p > gate {
                *c / (p + floor)
            } else {
                Complex::default()
            };
        }
        // Real signals: the DC and Nyquist bins are real; the inverse FFT insists.
        let last = self.cross.len() - 1;
        self.cross[0].im = 0.0;
        self.cross[last].im = 0.0;
        let _ =
            self.inverse
                .process_with_scratch(&mut self.cross, &mut self.time, &mut self.scratch);
        // corr[q] = Σ target[t]·stem[t + q] with the stem starting max_lag early: the stem
        // reaching the target k frames late peaks at q = max_lag − k.
        let span = &self.time[..=2 * self.max_lag];
        let (q, peak) = span.iter().enumerate().fold((0, 0.0f32), |best, (q, &v)| {
            if v.abs() > best.1.abs() {
                (q, v)
            } else {
                best
            }
        });
        let energy: f64 = span.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let rest =
            (energy - (peak as f64) * (peak as f64)).max(0.0) / (span.len() - 1).max(1) as f64;
        let prominence = if rest > 0.0 {
            (peak as f64 / rest.sqrt()) as f32
        } else {
            peak.signum() * f32::MAX
        };
        Some((self.max_lag as i64 - q as i64, prominence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed | 1;
        let mut lp = 0.0f32;
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                lp += 0.2 * ((s as f32 / u32::MAX as f32) - 0.5 - lp);
                lp + 0.3 * (i as f32 * 0.01).sin()
            })
            .collect()
    }

    #[test]
    fn finds_exact_lag_and_sign() {
        let (len, max_lag) = (4096usize, 256usize);
        let x = noise(len + 2 * max_lag + 1000, 7);
        let other = noise(len, 99);
        let mut est = LagEstimator::new(8192, max_lag);
        for k in [-256i64, -3, 0, 1, 17, 256] {
            for sign in [1.0f32, -1.0] {
                // Target frame t holds stem frame t − k; the stem segment starts max_lag early.
                let base = 500i64;
                let target: Vec<f32> = (0..len)
                    .map(|t| sign * x[(base + t as i64 - k) as usize] + other[t])
                    .collect();
                let seg = &x[(base - max_lag as i64) as usize..base as usize + len + max_lag];
                est.begin();
                est.add_pair(seg, &target);
                let (got, prominence) = est.estimate().unwrap();
                assert_eq!(got, k);
                assert_eq!(prominence.signum(), sign, "k={k}");
            }
        }
        est.begin();
        est.add_pair(&vec![0.0; len], &other);
        assert!(est.estimate().is_none());
    }
}
