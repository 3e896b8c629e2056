//! Limiter and clipper detection against processing done here, where the truth is known: a
//! look-ahead brickwall limiter and a hard clipper, applied at 3, 6 and 10 dB of gain
//! reduction to decaying plucks, drum-like bursts of varying velocity and a sine sweep with
//! level changes; the same signals unprocessed must read as none. Then the master-bus check:
//! a limiter on the stem sum is found with its gain reduction, a fader, a polarity flip or a
//! small offset of one stem is not processing. Run with `--nocapture` for the figures.

use stemcheck::analysis::{
    DynamicsDetector, DynamicsResult, DynamicsVerdict, MasterProcessing, MasterProcessingResult,
};

const FS: f32 = 48_000.0;
const SECONDS: f32 = 20.0;
/// Ceiling the processors limit or clip to, dBFS.
const CEILING_DB: f32 = -1.0;
const TAU: f32 = std::f32::consts::TAU;

/// xorshift32: uniform in [0, 1).
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 8) as f32 / (1u32 << 24) as f32
    }

    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next()
    }
}

fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

fn frames() -> usize {
    (FS * SECONDS) as usize
}

/// Stereo signal: two channels of equal length.
type Stereo = [Vec<f32>; 2];

/// Plucked notes: a few decaying partials at random pitches, velocities over 15 dB,
/// overlapping, panned.
fn plucks(seed: u32) -> Stereo {
    let mut rng = Rng(seed);
    let n = frames();
    let mut out = [vec![0.0; n], vec![0.0; n]];
    let mut t0 = 0usize;
    while t0 < n {
        let f0 = 80.0 * 2f32.powf(rng.range(0.0, 3.3));
        let vel = db_to_gain(rng.range(-15.0, 0.0));
        let decay = rng.range(2.0, 6.0);
        let pan = rng.range(0.3, 0.7);
        let phases: Vec<f32> = (0..5).map(|_| rng.range(0.0, TAU)).collect();
        let len = (FS * 1.5) as usize;
        for i in 0..len.min(n - t0) {
            let t = i as f32 / FS;
            let attack = (t / 0.002).min(1.0);
            let mut v = 0.0;
            for (k, ph) in phases.iter().enumerate() {
                let h = (k + 1) as f32;
                v += (TAU * f0 * h * t + ph).sin() * (-decay * h.sqrt() * t).exp() / h;
            }
            let v = 0.3 * vel * attack * v;
            out[0][t0 + i] += v * (1.0 - pan);
            out[1][t0 + i] += v * pan;
        }
        t0 += (FS * rng.range(0.12, 0.5)) as usize;
    }
    out
}

/// Drum-like bursts: a pitch-dropping kick, a snare (tone and noise) and hats, each hit at
/// its own velocity over 12 dB, on a 16th grid with fills.
fn drums(seed: u32) -> Stereo {
    let mut rng = Rng(seed);
    let n = frames();
    let mut out = [vec![0.0; n], vec![0.0; n]];
    let step = (FS * 60.0 / 120.0 / 4.0) as usize;
    let mut noise = Rng(seed ^ 0x5bd1_e995);
    let mut s = 0;
    while s * step < n {
        let t0 = s * step;
        let beat = s % 16;
        let hit = |kind: u8, vel: f32, out: &mut Stereo, noise: &mut Rng| {
            let len = (FS * 0.4) as usize;
            let mut lp = 0.0f32;
            for i in 0..len.min(n - t0) {
                let t = i as f32 / FS;
                let v = match kind {
                    0 => {
                        // 150 Hz falling to 50 Hz: the phase of 50 + 100·e^(−30t).
                        let ph = TAU * (50.0 * t + 100.0 / 30.0 * (1.0 - (-t * 30.0).exp()));
                        ph.sin() * (-t * 9.0).exp()
                    }
                    1 => {
                        lp += 0.5 * (noise.range(-1.0, 1.0) - lp);
                        0.5 * (TAU * 190.0 * t).sin() * (-t * 25.0).exp()
                            + 0.6 * lp * (-t * 18.0).exp()
                    }
                    _ => {
                        let w = noise.range(-1.0, 1.0);
                        let hp = w - lp;
                        lp = w;
                        0.25 * hp * (-t * 60.0).exp()
                    }
                };
                let pan = match kind {
                    2 => 0.35,
                    _ => 0.5,
                };
                out[0][t0 + i] += 0.5 * vel * v * (1.0 - pan) * 2.0;
                out[1][t0 + i] += 0.5 * vel * v * pan * 2.0;
            }
        };
        if beat % 4 == 0 || rng.next() < 0.15 {
            hit(0, db_to_gain(rng.range(-12.0, 0.0)), &mut out, &mut noise);
        }
        if beat % 8 == 4 || rng.next() < 0.1 {
            hit(1, db_to_gain(rng.range(-12.0, 0.0)), &mut out, &mut noise);
        }
        if beat % 2 == 0 {
            hit(2, db_to_gain(rng.range(-12.0, 0.0)), &mut out, &mut noise);
        }
        s += 1;
    }
    out
}

/// A logarithmic sine sweep from 40 Hz to 4 kHz cut into phrases of 0.15 s, each at its own
/// random level over 24 dB with a 12 dB dip between them, and a slow swell on top.
fn sweep(seed: u32) -> Stereo {
    let mut rng = Rng(seed);
    let n = frames();
    let (f0, f1) = (40.0f32, 4_000.0f32);
    let k = (f1 / f0).ln() / SECONDS;
    let phrase = (FS * 0.15) as usize;
    let dip = (FS * 0.02) as usize;
    let mut level = 0.0;
    let mut smooth = -24.0;
    let mut mono = vec![0.0; n];
    for (i, v) in mono.iter_mut().enumerate() {
        if i % phrase == 0 {
            level = rng.range(-24.0, 0.0);
        }
        let target = if i % phrase < dip {
            level - 12.0
        } else {
            level
        };
        smooth += 0.005 * (target - smooth);
        let t = i as f32 / FS;
        let swell = 1.5 * (TAU * 0.23 * t).sin();
        let phase = TAU * f0 * ((k * t).exp() - 1.0) / k;
        *v = 0.5 * db_to_gain(smooth + swell) * phase.sin();
    }
    [mono.clone(), mono]
}

fn peak(x: &Stereo) -> f32 {
    x.iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, v| m.max(v.abs()))
}

fn scaled(x: &Stereo, gain: f32) -> Stereo {
    [
        x[0].iter().map(|v| v * gain).collect(),
        x[1].iter().map(|v| v * gain).collect(),
    ]
}

/// Scales `x` so its peak sits `over_db` above the ceiling: the processors then reduce the
/// loudest peak by exactly that much.
fn driven(x: &Stereo, over_db: f32) -> Stereo {
    scaled(x, db_to_gain(CEILING_DB + over_db) / peak(x))
}

/// A stereo-linked look-ahead brickwall limiter (5 ms look-ahead, 80 ms release, latency
/// compensated): the gain each sample needs is held for the look-ahead, eased by an
/// exponential release, and smoothed by a moving average as long as the look-ahead, so
/// that no sample leaves above the ceiling and the waveform keeps its shape.
fn limit(x: &Stereo, ceiling_db: f32) -> Stereo {
    let n = x[0].len();
    let ceiling = db_to_gain(ceiling_db);
    let look = (FS * 0.005) as usize;
    let release = 1.0 - (-1.0 / (FS * 0.080)).exp();
    let need: Vec<f32> = (0..n)
        .map(|t| {
            let p = x[0][t].abs().max(x[1][t].abs());
            if p > ceiling {
                ceiling / p
            } else {
                1.0
            }
        })
        .collect();
    // Minimum over the last `look` samples, then release, then the average over the next
    // `look` samples: every value averaged for a peak's sample is at most that peak's need.
    let mut held = vec![1.0f32; n];
    for t in 0..n {
        let start = (t + 1).saturating_sub(look);
        held[t] = need[start..=t].iter().copied().fold(1.0, f32::min);
    }
    let mut released = vec![1.0f32; n];
    let mut g = 1.0f32;
    for t in 0..n {
        g = (g + release * (1.0 - g)).min(held[t]);
        released[t] = g;
    }
    let mut out = [vec![0.0; n], vec![0.0; n]];
    let mut acc = 0.0f64;
    for t in 0..n {
        acc += released[t] as f64;
        if t >= look {
            acc -= released[t - look] as f64;
        }
        let gain = (acc / look.min(t + 1) as f64) as f32;
        // The gain averaged over [t + 1 - look, t] is the one for sample t + 1 - look.
        if t + 1 >= look {
            let src = t + 1 - look;
            for ch in 0..2 {
                out[ch][src] = x[ch][src] * gain;
            }
        }
    }
    out
}

/// Hard clipper at `ceiling_db`.
fn clip(x: &Stereo, ceiling_db: f32) -> Stereo {
    let c = db_to_gain(ceiling_db);
    [
        x[0].iter().map(|v| v.clamp(-c, c)).collect(),
        x[1].iter().map(|v| v.clamp(-c, c)).collect(),
    ]
}

fn detect_chunked(x: &Stereo, chunk: usize) -> DynamicsResult {
    let mut d = DynamicsDetector::new(2, FS);
    let mut t = 0;
    while t < x[0].len() {
        let end = (t + chunk).min(x[0].len());
        d.push(&[&x[0][t..end], &x[1][t..end]]);
        t = end;
    }
    d.result()
}

fn detect(x: &Stereo) -> DynamicsResult {
    detect_chunked(x, 1024)
}

fn signals() -> Vec<(&'static str, Stereo)> {
    vec![
        ("plucks", plucks(7)),
        ("drums", drums(11)),
        ("sweep", sweep(5)),
        ("plucks2", plucks(1234)),
        ("drums2", drums(99)),
    ]
}

#[test]
fn the_test_limiter_is_a_brickwall_that_reduces_by_the_drive() {
    let x = driven(&drums(11), 6.0);
    let y = limit(&x, CEILING_DB);
    let ceiling = db_to_gain(CEILING_DB);
    assert!(peak(&y) <= ceiling * 1.0001, "{}", peak(&y));
    assert!(peak(&y) > ceiling * 0.97, "{}", peak(&y));
    // Quiet passages pass (nearly) unchanged.
    let quiet = (0..y[0].len())
        .filter(|&t| (y[0][t] - x[0][t]).abs() <= 0.01 * x[0][t].abs())
        .count();
    assert!(quiet > y[0].len() / 4, "{quiet}");
}

#[test]
fn unprocessed_signals_read_as_none() {
    for (name, x) in signals() {
        for level in [-3.0, -12.0] {
            let x = scaled(&x, db_to_gain(level) / peak(&x));
            let r = detect(&x);
            println!("unprocessed {name} at {level} dBFS: {r:?}");
            assert_eq!(r.verdict, DynamicsVerdict::None, "{name} at {level}: {r:?}");
            assert!(r.confidence < 0.5, "{name}: {r:?}");
            assert_eq!(r.ceiling_dbfs, None);
        }
    }
}

#[test]
fn limited_signals_are_found_with_their_ceiling() {
    for (name, x) in signals() {
        for gr in [3.0, 6.0, 10.0] {
            let y = limit(&driven(&x, gr), CEILING_DB);
            let r = detect(&y);
            println!("limited {name} by {gr} dB: {r:?}");
            assert_eq!(r.verdict, DynamicsVerdict::Limited, "{name} {gr} dB: {r:?}");
            assert!(r.confidence >= 0.5, "{name} {gr} dB: {r:?}");
            let c = r.ceiling_dbfs.expect("a ceiling");
            assert!((c - CEILING_DB).abs() <= 0.3, "{name} {gr} dB: ceiling {c}");
        }
    }
}

#[test]
fn clipped_signals_are_found_with_their_ceiling() {
    for (name, x) in signals() {
        for gr in [3.0, 6.0, 10.0] {
            let y = clip(&driven(&x, gr), CEILING_DB);
            let r = detect(&y);
            println!("clipped {name} by {gr} dB: {r:?}");
            assert_eq!(r.verdict, DynamicsVerdict::Clipped, "{name} {gr} dB: {r:?}");
            assert!(r.confidence >= 0.5, "{name} {gr} dB: {r:?}");
            let c = r.ceiling_dbfs.expect("a ceiling");
            assert!((c - CEILING_DB).abs() <= 0.3, "{name} {gr} dB: ceiling {c}");
        }
    }
}

#[test]
fn chunking_does_not_change_the_result() {
    let x = plucks(7);
    let cases = [
        x.clone(),
        limit(&driven(&x, 6.0), CEILING_DB),
        clip(&driven(&drums(11), 3.0), CEILING_DB),
    ];
    for x in &cases {
        let whole = detect_chunked(x, x[0].len());
        for chunk in [1, 7, 4096] {
            assert_eq!(detect_chunked(x, chunk), whole, "chunk {chunk}");
        }
    }
}

#[test]
fn non_finite_samples_do_not_change_the_verdict() {
    for (x, want) in [
        (plucks(7), DynamicsVerdict::None),
        (
            limit(&driven(&drums(11), 6.0), CEILING_DB),
            DynamicsVerdict::Limited,
        ),
        (
            clip(&driven(&sweep(5), 6.0), CEILING_DB),
            DynamicsVerdict::Clipped,
        ),
    ] {
        let clean = detect(&x);
        let mut y = x.clone();
        for (i, bad) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]
            .iter()
            .enumerate()
        {
            let at = 10_000 + i * 123_457;
            y[i % 2][at] = *bad;
            y[0][at + 1] = f32::NAN;
        }
        let dirty = detect(&y);
        assert_eq!(clean.verdict, want, "{clean:?}");
        assert_eq!(dirty.verdict, want, "{dirty:?}");
        assert!((dirty.confidence - clean.confidence).abs() < 0.05);
        match (clean.ceiling_dbfs, dirty.ceiling_dbfs) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 0.1, "{a} {b}"),
            (a, b) => assert_eq!(a, b),
        }
        let mut d = DynamicsDetector::new(2, FS);
        d.push(&[&y[0], &y[1]]);
        assert_eq!(d.non_finite(), 8);
    }
}

#[test]
fn silence_and_short_signals_read_as_none_with_no_confidence() {
    let silent = [vec![0.0f32; frames()], vec![0.0f32; frames()]];
    let short = scaled(&clip(&driven(&drums(11), 10.0), CEILING_DB), 1.0);
    let short: Stereo = [short[0][..2_000].to_vec(), short[1][..2_000].to_vec()];
    for x in [&silent, &short] {
        let r = detect(x);
        assert_eq!(r, DynamicsResult::default(), "{r:?}");
        assert_eq!(r.confidence, 0.0);
    }
    let mut d = DynamicsDetector::new(2, FS);
    d.push(&[&[], &[]]);
    assert_eq!(d.result().verdict, DynamicsVerdict::None);
}

#[test]
fn reset_forgets_the_pass() {
    let y = limit(&driven(&drums(11), 6.0), CEILING_DB);
    let mut d = DynamicsDetector::new(2, FS);
    d.push(&[&y[0], &y[1]]);
    assert_eq!(d.result().verdict, DynamicsVerdict::Limited);
    d.reset();
    assert_eq!(d.result(), DynamicsResult::default());
    let x = drums(11);
    d.push(&[&x[0], &x[1]]);
    assert_eq!(d.result(), detect_chunked(&x, x[0].len()));
}

#[test]
fn verdict_names_are_the_reports() {
    assert_eq!(DynamicsVerdict::None.as_str(), "none");
    assert_eq!(DynamicsVerdict::Limited.as_str(), "limited");
    assert_eq!(DynamicsVerdict::Clipped.as_str(), "clipped");
}

/// Four stems: plucks, drums, sweep and more plucks, each scaled to peak −9 dBFS.
fn stems() -> Vec<Stereo> {
    [plucks(7), drums(11), sweep(5), plucks(1234)]
        .iter()
        .map(|s| scaled(s, db_to_gain(-9.0) / peak(s)))
        .collect()
}

fn mix(stems: &[Stereo], gains: &[f32], delays: &[usize]) -> Stereo {
    let n = stems[0][0].len();
    let mut out = [vec![0.0; n], vec![0.0; n]];
    for ((s, &g), &d) in stems.iter().zip(gains).zip(delays) {
        for ch in 0..2 {
            for t in d..n {
                out[ch][t] += g * s[ch][t - d];
            }
        }
    }
    out
}

fn master_processing(master: &Stereo, sum: &Stereo, chunk: usize) -> MasterProcessingResult {
    let mut p = MasterProcessing::new(2, FS);
    let mut t = 0;
    while t < master[0].len() {
        let end = (t + chunk).min(master[0].len());
        p.push(
            &[&master[0][t..end], &master[1][t..end]],
            &[&sum[0][t..end], &sum[1][t..end]],
        );
        t = end;
    }
    p.result()
}

#[test]
fn a_limiter_on_the_master_is_found_with_its_gain_reduction() {
    let stems = stems();
    let sum = mix(&stems, &[1.0; 4], &[0; 4]);
    let sum_peak_db = 20.0 * peak(&sum).log10();
    for gr in [3.0, 6.0, 10.0] {
        let master = limit(&sum, sum_peak_db - gr);
        let r = master_processing(&master, &sum, 512);
        println!("master limited by {gr} dB: {r:?}");
        assert!(r.detected, "{gr} dB: {r:?}");
        assert!(r.confidence >= 0.5, "{gr} dB: {r:?}");
        let measured = r.gain_reduction_db.expect("a gain reduction");
        assert!((measured - gr).abs() <= 1.0, "{gr} dB: measured {measured}");
        assert_eq!(master_processing(&master, &sum, 1), r);
        assert_eq!(master_processing(&master, &sum, 4096), r);
    }
}

#[test]
fn faders_polarity_and_offsets_are_not_master_processing() {
    let stems = stems();
    let sum = mix(&stems, &[1.0; 4], &[0; 4]);
    let fader = db_to_gain(-2.0);
    let cases: Vec<(&str, Stereo)> = vec![
        ("clean", sum.clone()),
        (
            "one stem at -2 dB",
            mix(&stems, &[1.0, fader, 1.0, 1.0], &[0; 4]),
        ),
        (
            "other stem at -2 dB",
            mix(&stems, &[fader, 1.0, 1.0, 1.0], &[0; 4]),
        ),
        ("master fader at -2 dB", scaled(&sum, fader)),
        (
            "one stem inverted",
            mix(&stems, &[1.0, -1.0, 1.0, 1.0], &[0; 4]),
        ),
        (
            "other stem inverted",
            mix(&stems, &[1.0, 1.0, -1.0, 1.0], &[0; 4]),
        ),
        (
            "one stem 3 samples late",
            mix(&stems, &[1.0; 4], &[0, 3, 0, 0]),
        ),
        (
            "one stem 20 samples late",
            mix(&stems, &[1.0; 4], &[0, 0, 20, 0]),
        ),
    ];
    for (name, master) in &cases {
        let r = master_processing(master, &sum, 512);
        println!("{name}: {r:?}");
        assert!(!r.detected, "{name}: {r:?}");
    }
}

#[test]
fn master_processing_of_silence_is_nothing() {
    let silent = [vec![0.0f32; 48_000], vec![0.0f32; 48_000]];
    let r = master_processing(&silent, &silent, 512);
    assert_eq!(r, MasterProcessingResult::default());
    let mut p = MasterProcessing::new(2, FS);
    let stems = stems();
    let sum = mix(&stems, &[1.0; 4], &[0; 4]);
    let master = limit(&sum, 20.0 * peak(&sum).log10() - 6.0);
    p.push(&[&master[0], &master[1]], &[&sum[0], &sum[1]]);
    assert!(p.result().detected);
    p.reset();
    assert_eq!(p.result(), MasterProcessingResult::default());
}
