use std::time::Instant;
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::loudness::LoudnessMeter;
use stemcheck::dsp::pass::TransportState;
use stemcheck::dsp::true_peak::{MaxPeak, TruePeakDetector};

fn music_like(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let mut lp = 0.0f32;
    (0..n).map(|i| {
        state ^= state << 13; state ^= state >> 17; state ^= state << 5;
        let white = (state as f32 / u32::MAX as f32) * 2.0 - 1.0;
        lp += 0.3 * (white - lp);
        let t = i as f32 / 48000.0;
        let tones = 0.3 * (2.0 * std::f32::consts::PI * 110.0 * t).sin() + 0.1 * (2.0 * std::f32::consts::PI * 3_520.0 * t).sin();
        let env = 0.1 + 0.9 * (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 0.7 * t).sin()).powi(2);
        0.5 * env * (lp + tones)
    }).collect()
}
fn min_time(reps: usize, samples: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..reps { let t = Instant::now(); f(); best = best.min(t.elapsed().as_nanos() as f64 / samples as f64); }
    best
}
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let fs = 48_000.0f64;
    let n = 96_000;
    let mut sigs: Vec<(String, Vec<f32>, Vec<f32>)> = vec![("music".into(), music_like(n, 1), music_like(n, 2))];
    for f in [1_000.0, 15_000.0, 19_000.0] {
        let x: Vec<f32> = (0..n).map(|i| (0.9 * (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin()) as f32).collect();
        sigs.push((format!("{f}"), x.clone(), x));
    }
    for (name, l, r) in &sigs {
        if !which.is_empty() && !name.starts_with(&which) { continue; }
        let mut dets = [TruePeakDetector::new(), TruePeakDetector::new()];
        let mut lm = LoudnessMeter::new(48_000.0);
        let mut bm = BusMeter::new(2, 48_000.0, MeterSettings::default());
        let all = ebur128::Mode::M | ebur128::Mode::S | ebur128::Mode::I | ebur128::Mode::LRA | ebur128::Mode::TRUE_PEAK;
        let mut e_tp = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::TRUE_PEAK).unwrap();
        let mut e_all = ebur128::EbuR128::new(2, 48_000, all).unwrap();
        let mut best = [f64::MAX; 5];
        for _ in 0..60 {
            let t = [
                min_time(1, 2 * n, || {
                    let mut sinks = [MaxPeak::default(); 2];
                    for d in dets.iter_mut() { d.clear(); }
                    for (a, b) in l.chunks(512).zip(r.chunks(512)) { dets[0].process(a, &mut sinks[0]); dets[1].process(b, &mut sinks[1]); }
                    std::hint::black_box(sinks);
                }),
                min_time(1, 2 * n, || { lm.restart(); for (a, b) in l.chunks(512).zip(r.chunks(512)) { lm.process(&[a, b]); } }),
                min_time(1, 2 * n, || {
                    bm.restart();
                    for (k, (a, b)) in l.chunks(512).zip(r.chunks(512)).enumerate() {
                        bm.process(&[a, b], TransportState { playing: true, pos_samples: Some(k as i64 * 512) });
                    }
                    std::hint::black_box(bm.snapshot());
                }),
                min_time(1, 2 * n, || { e_tp.reset(); for (a, b) in l.chunks(512).zip(r.chunks(512)) { e_tp.add_frames_planar_f32(&[a, b]).unwrap(); } }),
                min_time(1, 2 * n, || { e_all.reset(); for (a, b) in l.chunks(512).zip(r.chunks(512)) { e_all.add_frames_planar_f32(&[a, b]).unwrap(); } }),
            ];
            for (b, v) in best.iter_mut().zip(t) { *b = b.min(v); }
        }
        let [tp, loud, chain, etp, eall] = best;
        println!("{name:>8}: tp {tp:.2} loud {loud:.2} chain {chain:.2} | e_tp {etp:.2} e_all {eall:.2} | e_all/chain {:.1} e_tp/chain {:.1}", eall / chain, etp / chain);
    }
}
