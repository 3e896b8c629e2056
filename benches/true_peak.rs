//! Stemcheck's true-peak meter against the `ebur128` crate's `Mode::TRUE_PEAK`, same signals,
//! same run; prints ns per sample per channel for both and the ratio.

use criterion::{BenchmarkId, Criterion, Throughput};
use stemcheck::dsp::simd::Kernel;
use stemcheck::dsp::true_peak::{MaxPeak, TruePeakDetector};

const FS: u32 = 48_000;
const SECONDS: usize = 2;
const BLOCK: usize = 512;

/// A deterministic stand-in for a mix: band-limited noise plus tones under a slow level
/// envelope that swings over 20 dB, per channel slightly different.
fn music_like(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let mut lp = 0.0f32;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let white = (state as f32 / u32::MAX as f32) * 2.0 - 1.0;
            lp += 0.3 * (white - lp);
            let t = i as f32 / FS as f32;
            let tones = 0.3 * (2.0 * std::f32::consts::PI * 110.0 * t).sin()
                + 0.1 * (2.0 * std::f32::consts::PI * 3_520.0 * t).sin();
            let env = 0.1 + 0.9 * (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 0.7 * t).sin()).powi(2);
            0.5 * env * (lp + tones)
        })
        .collect()
}

/// The worst case for the refinement: a loud 15 kHz tone, a candidate peak at every crest.
fn loud_tone(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.9 * (2.0 * std::f32::consts::PI * 15_000.0 * i as f32 / FS as f32).sin())
        .collect()
}

fn stemcheck_true_peak(dets: &mut [TruePeakDetector], channels: &[Vec<f32>]) -> f32 {
    dets.iter_mut().for_each(TruePeakDetector::clear);
    let mut sinks = vec![MaxPeak::default(); channels.len()];
    let n = channels[0].len();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for ((det, sink), ch) in dets.iter_mut().zip(&mut sinks).zip(channels) {
            det.process(&ch[start..end], sink);
        }
    }
    sinks.iter().fold(0.0, |m, s| m.max(s.max))
}

fn ebur128_true_peak(meter: &mut ebur128::EbuR128, channels: &[Vec<f32>]) -> f64 {
    meter.reset();
    let n = channels[0].len();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let planes: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        meter.add_frames_planar_f32(&planes).expect("frames");
    }
    (0..channels.len() as u32)
        .map(|c| meter.true_peak(c).expect("true peak"))
        .fold(0.0, f64::max)
}

fn bench(c: &mut Criterion) {
    let n = FS as usize * SECONDS;
    let signals = [
        ("music_like", vec![music_like(n, 1), music_like(n, 2)]),
        ("loud_15k_tone", vec![loud_tone(n), loud_tone(n)]),
    ];
    for (name, channels) in &signals {
        let mut group = c.benchmark_group(format!("true_peak/{name}"));
        group.throughput(Throughput::Elements((n * channels.len()) as u64));
        group.sample_size(20);
        for kernel in [Kernel::detect(), Kernel::Portable] {
            let mut dets = vec![TruePeakDetector::with_kernel(kernel); channels.len()];
            let id = BenchmarkId::new("stemcheck", format!("{kernel:?}"));
            group.bench_function(id, |b| b.iter(|| stemcheck_true_peak(&mut dets, channels)));
        }
        let mut meter = ebur128::EbuR128::new(channels.len() as u32, FS, ebur128::Mode::TRUE_PEAK)
            .expect("ebur128 meter");
        group.bench_function(BenchmarkId::new("ebur128", "true_peak"), |b| {
            b.iter(|| ebur128_true_peak(&mut meter, channels))
        });
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
