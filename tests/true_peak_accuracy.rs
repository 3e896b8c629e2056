//! True-peak accuracy against analytic truth: a sine's continuous peak is its amplitude.

use std::f64::consts::PI;
use stemcheck::dsp::simd::Kernel;
use stemcheck::dsp::true_peak::{MaxPeak, PeakSink, TruePeakDetector};

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

/// Counts the peaks above a ceiling and keeps the highest, as the meter's overs do.
#[derive(Default)]
struct Overs {
    ceiling: f32,
    max: f32,
    over: u64,
}

impl PeakSink for Overs {
    fn gate(&self) -> f32 {
        self.max.min(self.ceiling)
    }
    fn peak(&mut self, _at: i64, value: f32) {
        self.peaks(value, 1, 0, 0);
    }
    fn peaks(&mut self, value: f32, count: u64, _first_at: i64, _last_at: i64) {
        self.max = self.max.max(value);
        if value > self.ceiling {
            self.over += count;
        }
    }
}

/// Runs `x` through a detector in blocks of `block` and returns the sink.
fn overs(x: &[f32], block: usize, ceiling: f32) -> Overs {
    let mut det = TruePeakDetector::new();
    let mut sink = Overs {
        ceiling,
        ..Default::default()
    };
    for piece in x.chunks(block) {
        det.process(piece, &mut sink);
    }
    sink
}

#[test]
fn tones_whose_level_moves_read_their_peak_and_their_overs() {
    // Tremolos of 5 and 20 % at 0.5 to 20 Hz, and a fade in, on tones from 3 to 19 kHz: no
    // stretch is one steady sinusoid. Blocks of 1 sample settle every crest on its own; blocks
    // of 4096 let whole chunks be read as one tone whose level moves. Both must find the
    // analytic peak, and nearly the same crests over a ceiling set inside the level's range.
    let fs = 48_000.0;
    let n = 24_000;
    let mut worst = 0.0f64;
    for f in [3_000.0, 9_000.0, 15_000.0, 19_000.0] {
        for (depth, rate) in [(0.05, 6.0), (0.05, 0.5), (0.2, 20.0), (0.4, 1.0)] {
            let level = move |t: f64| {
                if depth == 0.4 {
                    0.5 + 0.8 * t // a fade in, from 0.5 to 0.9 over the half second
                } else {
                    0.9 * (1.0 - depth * (0.5 + 0.5 * (2.0 * PI * rate * t).sin()))
                }
            };
            // A smooth onset over the first 64 samples: an abrupt one would ring.
            let onset = move |t: f64| {
                let k = (t * fs / 64.0).min(1.0);
                0.5 - 0.5 * (PI * k).cos()
            };
            let y = move |t: f64| onset(t) * level(t) * (2.0 * PI * f * t).sin();
            let x: Vec<f32> = (0..n).map(|i| y(i as f64 / fs) as f32).collect();
            // The continuous peak over what the detector covers (it reports 16 samples late).
            let fine = 64;
            let truth = (0..(n - 32) * fine)
                .map(|k| y(k as f64 / fine as f64 / fs).abs())
                .fold(0.0f64, f64::max);
            // A ceiling in the middle of the level's range over the signal.
            let (low, high) = (0..n)
                .map(|i| level(i as f64 / fs))
                .fold((f64::MAX, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
            let ceiling = (0.5 * (low + high)) as f32;
            let one = overs(&x, 1, ceiling);
            let whole = overs(&x, 4096, ceiling);
            for (name, got) in [("crest by crest", &one), ("as a tone", &whole)] {
                let err = 20.0 * (got.max as f64 / truth).log10();
                worst = worst.max(err.abs());
                assert!(
                    err.abs() < 0.01,
                    "{f} Hz, {depth} at {rate} Hz, {name}: {err:+.4} dB"
                );
            }
            // Crests whose analytic peak lies within 0.002 dB of the ceiling may fall either
            // side of it by either reading: the crest-by-crest one is itself that close.
            let near = (0..)
                .map(|k| (k as f64 + 0.5) / (2.0 * f))
                .take_while(|&t| t < n as f64 / fs)
                .filter(|&t| {
                    let peak = onset(t) * level(t);
                    (peak / f64::from(ceiling) - 1.0).abs() <= 2.3e-4
                })
                .count() as f64;
            let (a, b) = (one.over as f64, whole.over as f64);
            assert!(a > 100.0, "{f} Hz, {depth} at {rate} Hz: {a} overs");
            assert!(
                (a - b).abs() <= near,
                "{f} Hz, {depth} at {rate} Hz: {a} overs crest by crest, {b} as a tone, \
                 {near} crests within 0.002 dB of the ceiling"
            );
        }
    }
    println!("worst error {worst:.4} dB");
}
