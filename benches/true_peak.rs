//! Stemcheck's true-peak meter against the `ebur128` crate's `Mode::TRUE_PEAK` on the same
//! stereo 48 kHz signals in the same run, and the whole per-bus metering chain. Ends with a
//! table of ns per sample per channel and the speed ratio.

use criterion::{Criterion, Throughput};
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::pass::TransportState;
use stemcheck::dsp::simd::Kernel;
use stemcheck::dsp::true_peak::{MaxPeak, TruePeakDetector};

const FS: u32 = 48_000;
const SECONDS: usize = 2;
const BLOCK: usize = 512;

/// A deterministic stand-in for a mix: band-limited noise plus tones under a slow level
/// envelope that swings over 20 dB, each channel different.
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
            let env =
                0.1 + 0.9 * (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 0.7 * t).sin()).powi(2);
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
        let planes = [&channels[0][start..end], &channels[1][start..end]];
        meter.add_frames_planar_f32(&planes).expect("frames");
    }
    (0..channels.len() as u32)
        .map(|c| meter.true_peak(c).expect("true peak"))
        .fold(0.0, f64::max)
}

fn whole_chain(meter: &mut BusMeter, channels: &[Vec<f32>]) -> f32 {
    meter.restart();
    let n = channels[0].len();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let t = TransportState {
            playing: true,
            pos_samples: Some(start as i64),
        };
        meter.process(&[&channels[0][start..end], &channels[1][start..end]], t);
    }
    meter.snapshot().max_true_peak()
}

fn signals() -> Vec<(&'static str, Vec<Vec<f32>>)> {
    let n = FS as usize * SECONDS;
    vec![
        ("music_like", vec![music_like(n, 1), music_like(n, 2)]),
        ("loud_15k_tone", vec![loud_tone(n), loud_tone(n)]),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, channels) in &signals() {
        let elements = (channels[0].len() * channels.len()) as u64;
        let mut group = c.benchmark_group(format!("true_peak_{name}"));
        group.throughput(Throughput::Elements(elements));
        group.sample_size(30);
        for kernel in [Kernel::detect(), Kernel::Portable] {
            let mut dets = vec![TruePeakDetector::with_kernel(kernel); channels.len()];
            let id = format!("stemcheck_{kernel:?}").to_lowercase();
            group.bench_function(id, |b| b.iter(|| stemcheck_true_peak(&mut dets, channels)));
        }
        let mut meter = ebur128::EbuR128::new(2, FS, ebur128::Mode::TRUE_PEAK).expect("meter");
        group.bench_function("ebur128", |b| {
            b.iter(|| ebur128_true_peak(&mut meter, channels))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("bus_meter_{name}"));
        group.throughput(Throughput::Elements(elements));
        group.sample_size(30);
        let mut meter = BusMeter::new(2, FS as f32, MeterSettings::default());
        group.bench_function("whole_chain", |b| {
            b.iter(|| whole_chain(&mut meter, channels))
        });
        group.finish();
    }
}

/// Mean time of one benchmark from criterion's saved estimate, in ns per sample per channel.
fn ns_per_sample(group: &str, id: &str, elements: f64) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_owned());
    let path = format!("{target}/criterion/{group}/{id}/new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    Some(json["mean"]["point_estimate"].as_f64()? / elements)
}

fn summary() {
    println!("\nns per sample per channel (mean), stereo 48 kHz, blocks of {BLOCK}:");
    println!(
        "{:<16} {:>14} {:>14} {:>10} {:>10} {:>12}",
        "signal", "stemcheck", "portable", "ebur128", "ratio", "whole chain"
    );
    let detected = format!("stemcheck_{:?}", Kernel::detect()).to_lowercase();
    for (name, channels) in &signals() {
        let elements = (channels[0].len() * channels.len()) as f64;
        let tp = format!("true_peak_{name}");
        let ours = ns_per_sample(&tp, &detected, elements);
        let portable = ns_per_sample(&tp, "stemcheck_portable", elements);
        let peer = ns_per_sample(&tp, "ebur128", elements);
        let chain = ns_per_sample(&format!("bus_meter_{name}"), "whole_chain", elements);
        let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        let ratio = ours.zip(peer).map(|(o, p)| format!("{:.1}x", p / o));
        println!(
            "{name:<16} {:>14} {:>14} {:>10} {:>10} {:>12}",
            f(ours),
            f(portable),
            f(peer),
            ratio.unwrap_or_else(|| "-".to_owned()),
            f(chain)
        );
    }
    println!("(stemcheck = {detected}; ratio = ebur128 / stemcheck)");
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
