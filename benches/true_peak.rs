//! The per-bus meter chain against the `ebur128` crate, on the same stereo 48 kHz signals in
//! the same run: Stemcheck's true peak against `ebur128`'s `Mode::TRUE_PEAK`, Stemcheck's
//! loudness (momentary, short-term, integrated, LRA) on its own, and the whole per-bus chain
//! (sample peak, true peak, loudness, clips, overs, flat tops, NaN/Inf, DC, correlation,
//! pass) against `ebur128` with every mode on (M, S, I, LRA, true peak). Signals: a music-like
//! mix (typical) and loud high tones (the worst case: every crest is a true-peak candidate),
//! steady and with a tremolo (read as one tone whose level moves), and two loud high tones
//! beating (which no tone test takes, so every crest near the top of a beat is refined).
//! Ends with a table of ns per sample per channel and the ratios.
//!
//! `cargo bench --bench true_peak`

use criterion::{Criterion, Throughput};
use std::hint::black_box;
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::loudness::LoudnessMeter;
use stemcheck::dsp::pass::TransportState;
use stemcheck::dsp::simd::Kernel;
use stemcheck::dsp::true_peak::{MaxPeak, TruePeakDetector};

const FS: u32 = 48_000;
const SECONDS: usize = 4;
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

/// The worst case for the true-peak refinement: a loud high tone, a candidate at every crest.
fn loud_tone(n: usize, freq: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            (0.9 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(FS)).sin()) as f32
        })
        .collect()
}

/// The same worst case without the steady-tone shortcut: a loud high tone whose level swings
/// by 5% at 6 Hz (a tremolo), so no stretch is one steady sinusoid and every crest is refined.
fn loud_tremolo(n: usize, freq: f64) -> Vec<f32> {
    let fs = f64::from(FS);
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            let level =
                0.9 * (1.0 - 0.05 * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 6.0 * t).sin()));
            (level * (2.0 * std::f64::consts::PI * freq * t).sin()) as f32
        })
        .collect()
}

/// A worst case that no tone test takes: two loud high tones (15 and 17 kHz, 0.45 each), whose
/// sum beats at 2 kHz, so the crests near each beat's top are all candidates.
fn loud_pair(n: usize) -> Vec<f32> {
    let fs = f64::from(FS);
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            let w = 2.0 * std::f64::consts::PI;
            (0.45 * (w * 15_000.0 * t).sin() + 0.45 * (w * 17_000.0 * t + 1.0).sin()) as f32
        })
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

/// Feeds `ebur128` block by block and reads what its modes measure at the end of the pass.
fn ebur128_pass(meter: &mut ebur128::EbuR128, channels: &[Vec<f32>]) -> f64 {
    meter.reset();
    let n = channels[0].len();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let planes = [&channels[0][start..end], &channels[1][start..end]];
        meter.add_frames_planar_f32(&planes).expect("frames");
    }
    let mode = meter.mode();
    let mut out = (0..channels.len() as u32)
        .map(|c| meter.true_peak(c).expect("true peak"))
        .fold(0.0, f64::max);
    if mode.contains(ebur128::Mode::I) {
        out += meter.loudness_global().expect("integrated");
    }
    if mode.contains(ebur128::Mode::LRA) {
        out += meter.loudness_range().expect("range");
    }
    out
}

fn stemcheck_loudness(meter: &mut LoudnessMeter, channels: &[Vec<f32>]) -> Option<f32> {
    meter.restart();
    let n = channels[0].len();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        meter.process(&[&channels[0][start..end], &channels[1][start..end]]);
    }
    meter.readings().integrated
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
    let s = meter.snapshot();
    s.max_true_peak() + s.loudness.integrated_lufs
}

fn signals() -> Vec<(&'static str, Vec<Vec<f32>>)> {
    let n = FS as usize * SECONDS;
    vec![
        ("music_like", vec![music_like(n, 1), music_like(n, 2)]),
        (
            "loud_15k_tone",
            vec![loud_tone(n, 15_000.0), loud_tone(n, 15_000.0)],
        ),
        (
            "loud_19k_tone",
            vec![loud_tone(n, 19_000.0), loud_tone(n, 19_000.0)],
        ),
        (
            "loud_15k_tremolo",
            vec![loud_tremolo(n, 15_000.0), loud_tremolo(n, 15_000.0)],
        ),
        (
            "loud_19k_tremolo",
            vec![loud_tremolo(n, 19_000.0), loud_tremolo(n, 19_000.0)],
        ),
        ("loud_15k_17k_pair", vec![loud_pair(n), loud_pair(n)]),
    ]
}

fn all_modes() -> ebur128::Mode {
    ebur128::Mode::M
        | ebur128::Mode::S
        | ebur128::Mode::I
        | ebur128::Mode::LRA
        | ebur128::Mode::TRUE_PEAK
}

fn bench(c: &mut Criterion) {
    for (name, channels) in &signals() {
        let elements = (channels[0].len() * channels.len()) as u64;
        let mut group = c.benchmark_group(name.to_string());
        group.throughput(Throughput::Elements(elements));
        group.sample_size(20);
        for kernel in [Kernel::detect(), Kernel::Portable] {
            let mut dets = vec![TruePeakDetector::with_kernel(kernel); channels.len()];
            let id = format!("true_peak_{kernel:?}").to_lowercase();
            group.bench_function(id, |b| {
                b.iter(|| black_box(stemcheck_true_peak(&mut dets, channels)))
            });
        }
        let mut meter = LoudnessMeter::new(FS as f32);
        group.bench_function("loudness", |b| {
            b.iter(|| black_box(stemcheck_loudness(&mut meter, channels)))
        });
        let mut meter = BusMeter::new(2, FS as f32, MeterSettings::default());
        group.bench_function("whole_chain", |b| {
            b.iter(|| black_box(whole_chain(&mut meter, channels)))
        });
        for (id, mode) in [
            ("ebur128_true_peak", ebur128::Mode::TRUE_PEAK),
            ("ebur128_all_modes", all_modes()),
        ] {
            let mut meter = ebur128::EbuR128::new(2, FS, mode).expect("meter");
            group.bench_function(id, |b| {
                b.iter(|| black_box(ebur128_pass(&mut meter, channels)))
            });
        }
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
    let detected = format!("true_peak_{:?}", Kernel::detect()).to_lowercase();
    println!("\nns per sample per channel (mean), stereo 48 kHz, blocks of {BLOCK}:");
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "signal",
        "tp",
        "tp_port",
        "loudness",
        "chain",
        "e_tp",
        "e_all",
        "e_all/chain",
        "e_tp/chain"
    );
    for (name, channels) in &signals() {
        let elements = (channels[0].len() * channels.len()) as f64;
        let get = |id: &str| ns_per_sample(name, id, elements);
        let (tp, port, loud, chain) = (
            get(&detected),
            get("true_peak_portable"),
            get("loudness"),
            get("whole_chain"),
        );
        let (e_tp, e_all) = (get("ebur128_true_peak"), get("ebur128_all_modes"));
        let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        let ratio = |a: Option<f64>, b: Option<f64>| {
            a.zip(b)
                .map_or("-".to_owned(), |(a, b)| format!("{:.1}x", a / b))
        };
        println!(
            "{name:<18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
            f(tp),
            f(port),
            f(loud),
            f(chain),
            f(e_tp),
            f(e_all),
            ratio(e_all, chain),
            ratio(e_tp, chain)
        );
    }
    println!(
        "(tp = Stemcheck true peak, {detected}; tp_port = its portable kernel; chain = the whole \
         per-bus meter; e_tp / e_all = ebur128 true peak / all modes)"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
