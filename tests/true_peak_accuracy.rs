//! True-peak accuracy against analytic truth: a sine's continuous peak is its amplitude.

use stemcheck::dsp::simd::Kernel;
use stemcheck::dsp::true_peak::{MaxPeak, TruePeakDetector};

fn sine(fs: f64, f: f64, amp: f64, phase: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * f * i as f64 / fs + phase).sin()) as f32)
        .collect()
}

/// Reads the true peak of the steady part of `x`: the first `warm` samples only fill the filter.
fn steady_true_peak(kernel: Kernel, x: &[f32], warm: usize) -> (f32, f32) {
    let mut det = TruePeakDetector::with_kernel(kernel);
    det.process(&x[..warm], &mut MaxPeak::default());
    let mut sink = MaxPeak::default();
    det.process(&x[warm..], &mut sink);
    // The detector reports with a delay of 16 samples: compare with the samples it has covered.
    let covered = &x[warm..x.len() - 16];
    let sample_peak = covered.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    (sink.max, sample_peak)
}

/// Log-spaced frequencies from 20 Hz to 20 kHz, and phases per frequency, at 44.1/48 kHz.
const N_FREQ: usize = 200;
const N_PHASE: usize = 64;

fn sweep(kernel: Kernel, rates: &[f64], n_freq: usize, n_phase: usize) -> (f64, String) {
    let mut worst = 0.0f64;
    let mut at = String::new();
    for &fs in rates {
        for k in 0..n_freq {
            let f = 20.0 * (1000.0f64).powf(k as f64 / (n_freq - 1) as f64);
            let period = (fs / f).ceil() as usize;
            for p in 0..n_phase {
                let phase = 2.0 * std::f64::consts::PI * p as f64 / n_phase as f64;
                let amp = 0.5;
                let x = sine(fs, f, amp, phase, 256 + period + 64);
                let (tp, sp) = steady_true_peak(kernel, &x, 64);
                let err = 20.0 * (tp as f64 / amp).log10();
                assert!(
                    tp >= sp,
                    "true peak {tp} below sample peak {sp} at {f} Hz, fs {fs}"
                );
                if err.abs() > worst.abs() {
                    worst = err;
                    at = format!("{f:.1} Hz at {fs} Hz, phase {p}/{n_phase}");
                }
            }
        }
    }
    (worst, at)
}

#[test]
fn sine_sweep_is_within_five_hundredths_of_a_db() {
    let (worst, at) = sweep(Kernel::detect(), &[44_100.0, 48_000.0], N_FREQ, N_PHASE);
    println!("worst error {worst:+.4} dB ({at})");
    assert!(worst.abs() <= 0.05, "worst error {worst} dB at {at}");
}

#[test]
fn portable_kernel_meets_the_same_accuracy() {
    let (worst, at) = sweep(Kernel::Portable, &[44_100.0, 48_000.0], N_FREQ, N_PHASE);
    println!("portable: worst error {worst:+.4} dB ({at})");
    assert!(worst.abs() <= 0.05, "worst error {worst} dB at {at}");
}

#[test]
fn high_sample_rates_are_as_accurate() {
    let (worst, at) = sweep(
        Kernel::detect(),
        &[88_200.0, 96_000.0, 176_400.0, 192_000.0],
        40,
        16,
    );
    println!("88.2-192 kHz: worst error {worst:+.4} dB ({at})");
    assert!(worst.abs() <= 0.05, "worst error {worst} dB at {at}");
}
