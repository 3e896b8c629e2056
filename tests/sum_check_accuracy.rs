//! Sum-check accuracy against analytic truth: synthetic stems (band-limited noise, tones,
//! note envelopes; stereo and one mono), a master built from them exactly, and one defect at
//! a time — a fader, a pan, an offset, a polarity flip, a source only the master has,
//! stems that cancel, missing chunks, a silent stem. Run with `--nocapture` for the table.

use stemcheck::analysis::{SumCheck, SumCheckConfig, SumFigures};

const FS: f32 = 48_000.0;
const FRAMES: usize = 4 * 48_000;
/// Stem audio generated past the pushed range, so a stem reaching the master early has
/// real audio to reach it with.
const PAD: usize = 4096;
const STEMS: usize = 8;
/// Stem 7 is mono; the others stereo.
const MONO: usize = 7;

/// xorshift32 white noise in [-1, 1).
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// One channel of music-like audio: noise through a one-pole low-pass (corner set by the
/// seed), two tones, a slow swell and a note envelope retriggered at a seed-dependent rate.
fn channel(seed: u32, tone_seed: u32, len: usize) -> Vec<f32> {
    let mut noise = Noise(seed.wrapping_mul(2_654_435_761).wrapping_add(12_345) | 1);
    let coeff = 0.05 + 0.6 * ((seed % 13) as f32 / 13.0);
    let f1 = 55.0 * (1.0 + (tone_seed % 7) as f32) * 1.01f32.powi(tone_seed as i32 % 11);
    let f2 = 440.0 + 317.0 * (tone_seed % 9) as f32;
    let note = 0.15 + 0.05 * (tone_seed % 5) as f32;
    let swell = 0.2 + 0.1 * (tone_seed % 3) as f32;
    let mut lp = 0.0f32;
    (0..len)
        .map(|i| {
            let t = i as f32 / FS;
            lp += coeff * (noise.next() - lp);
            let tones = 0.5 * (std::f32::consts::TAU * f1 * t).sin()
                + 0.2 * (std::f32::consts::TAU * f2 * t + tone_seed as f32).sin();
            let env = (-(t % note) * 12.0).exp()
                * (0.6 + 0.4 * (std::f32::consts::TAU * swell * t).sin());
            0.12 * env * (lp * 2.0 + tones)
        })
        .collect()
}

/// Stem `i`'s channels, `FRAMES + PAD` long.
fn stem(i: usize, seed_base: u32) -> Vec<Vec<f32>> {
    let seed = seed_base + 100 * i as u32;
    let chans = if i == MONO { 1 } else { 2 };
    (0..chans)
        .map(|c| channel(seed + c as u32 * 7, seed, FRAMES + PAD))
        .collect()
}

/// A session: the stems, and how each reaches the master.
struct Session {
    stems: Vec<Vec<Vec<f32>>>,
    /// Linear gain per stem per master channel.
    gains: Vec<[f32; 2]>,
    /// Frames each stem reaches the master late (negative: early).
    delays: Vec<i64>,
    /// A source only the master has.
    extra: Option<Vec<Vec<f32>>>,
    /// Chunks (of the chunk size used) in which one stem is missing: (stem, range).
    missing: Option<(usize, std::ops::Range<usize>)>,
}

impl Session {
    fn new() -> Self {
        Self {
            stems: (0..STEMS).map(|i| stem(i, 1)).collect(),
            gains: vec![[1.0; 2]; STEMS],
            delays: vec![0; STEMS],
            extra: None,
            missing: None,
        }
    }

    /// The master: Σ g·s(t − k) in f64, rounded once to f32.
    fn master(&self) -> Vec<Vec<f32>> {
        (0..2)
            .map(|c| {
                (0..FRAMES)
                    .map(|t| {
                        let mut acc = 0.0f64;
                        for (i, s) in self.stems.iter().enumerate() {
                            let src = t as i64 - self.delays[i];
                            if src >= 0 {
                                let ch = c.min(s.len() - 1);
                                acc += self.gains[i][c] as f64 * s[ch][src as usize] as f64;
                            }
                        }
                        if let Some(x) = &self.extra {
                            acc += x[c][t] as f64;
                        }
                        acc as f32
                    })
                    .collect()
            })
            .collect()
    }

    fn run(&self, chunk: usize) -> SumFigures {
        let master = self.master();
        let channels: Vec<usize> = self.stems.iter().map(Vec::len).collect();
        let mut check = SumCheck::new(SumCheckConfig::new(2, FS), &channels);
        for (k, start) in (0..FRAMES).step_by(chunk).enumerate() {
            let end = (start + chunk).min(FRAMES);
            let m: Vec<&[f32]> = master.iter().map(|c| &c[start..end]).collect();
            let s: Vec<Vec<&[f32]>> = self
                .stems
                .iter()
                .map(|st| st.iter().map(|c| &c[start..end]).collect())
                .collect();
            let s: Vec<Option<&[&[f32]]>> = s
                .iter()
                .enumerate()
                .map(|(i, c)| match &self.missing {
                    Some((j, r)) if *j == i && r.contains(&k) => None,
                    _ => Some(c.as_slice()),
                })
                .collect();
            check.push(&m, &s);
        }
        check.finish();
        let f = check.figures();
        assert_finite(&f);
        f
    }
}

/// Nothing is NaN or infinite anywhere.
fn assert_finite(f: &SumFigures) {
    let levels = [
        f.null_depth_db,
        f.null_depth_fitted_db,
        f.unaccounted_db,
        f.cancellation_db,
    ];
    for v in levels.into_iter().flatten() {
        assert!(v.is_finite(), "{f:?}");
    }
    for s in &f.stems {
        for g in s.gain_db.iter().flatten() {
            assert!(g.is_finite(), "{f:?}");
        }
    }
}

fn db(x: Option<f32>) -> String {
    x.map_or("   None".into(), |v| format!("{v:7.2}"))
}

/// One line of the table: the sum figures and, for `stem`, its gains and offset.
fn row(name: &str, f: &SumFigures, stem: usize) -> String {
    let s = &f.stems[stem];
    let gains: Vec<String> = s.gain_db.iter().map(|g| db(*g)).collect();
    format!(
        "{name:<28} null {} fitted {} unacc {} cancel {} | stem {stem}: gain [{}] inv {} offset {:?} missing {}",
        db(f.null_depth_db),
        db(f.null_depth_fitted_db),
        db(f.unaccounted_db),
        db(f.cancellation_db),
        gains.join(","),
        s.polarity_inverted,
        s.offset_samples,
        s.missing_chunks
    )
}

/// Every stem except `except`: unity gains (±0.01 dB), not inverted, offset 0.
fn assert_others_clean(f: &SumFigures, except: &[usize]) {
    for (i, s) in f
        .stems
        .iter()
        .enumerate()
        .filter(|(i, _)| !except.contains(i))
    {
        for g in &s.gain_db {
            let g = g.unwrap_or_else(|| panic!("stem {i} has no gain: {s:?}"));
            assert!(g.abs() < 0.01, "stem {i}: {s:?}");
        }
        assert!(!s.polarity_inverted, "stem {i}: {s:?}");
        assert_eq!(s.offset_samples, Some(0), "stem {i}: {s:?}");
    }
}

fn assert_gain(f: &SumFigures, stem: usize, want: [f32; 2]) {
    let s = &f.stems[stem];
    for (c, g) in s.gain_db.iter().enumerate() {
        let g = g.unwrap();
        assert!(
            (g - want[c]).abs() < 0.01,
            "stem {stem} ch {c}: {g} dB, want {}",
            want[c]
        );
    }
}

fn lt(x: Option<f32>, limit: f32) -> bool {
    x.is_some_and(|v| v < limit)
}

fn amp(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[test]
fn clean_session_nulls() {
    let f = Session::new().run(512);
    println!("{}", row("clean", &f, 0));
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
    assert!(lt(f.unaccounted_db, -90.0), "{f:?}");
    assert!(f.cancellation_db.unwrap().abs() < 0.5, "{f:?}");
    assert_others_clean(&f, &[]);
    assert_eq!(f.skipped_frames, 0);
    assert_eq!(f.compared_frames, FRAMES as u64);
}

#[test]
fn fader_is_fitted_to_the_hundredth_of_a_db() {
    let mut s = Session::new();
    s.gains[2] = [amp(-2.0); 2];
    let f = s.run(512);
    println!("{}", row("stem 2 at -2 dB", &f, 2));
    assert_gain(&f, 2, [-2.0, -2.0]);
    assert!(!f.stems[2].polarity_inverted);
    assert_others_clean(&f, &[2]);
    assert!(f.null_depth_db.unwrap() > -60.0, "{f:?}");
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
}

#[test]
fn pan_is_fitted_per_channel() {
    let mut s = Session::new();
    s.gains[3] = [amp(-3.0), 1.0];
    // The mono stem panned the other way: -4.5 dB right.
    s.gains[MONO] = [1.0, amp(-4.5)];
    let f = s.run(512);
    println!("{}", row("stem 3 left -3 dB", &f, 3));
    println!("{}", row("mono stem right -4.5 dB", &f, MONO));
    assert_gain(&f, 3, [-3.0, 0.0]);
    assert_gain(&f, MONO, [0.0, -4.5]);
    assert_others_clean(&f, &[3, MONO]);
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
}

#[test]
fn offsets_are_exact_to_the_sample() {
    for (stem, k) in [
        (4, 1),
        (4, 3),
        (MONO, 17),
        (4, 480),
        (1, 2048),
        (4, -5),
        (MONO, -2048),
    ] {
        let mut s = Session::new();
        s.delays[stem] = k;
        let f = s.run(512);
        println!("{}", row(&format!("stem {stem} offset {k}"), &f, stem));
        assert_eq!(f.stems[stem].offset_samples, Some(k), "{f:?}");
        assert_gain(&f, stem, [0.0, 0.0]);
        assert_others_clean(&f, &[stem]);
        // Compared at the detected offset, the session still nulls.
        assert!(lt(f.null_depth_db, -90.0), "k={k}: {f:?}");
        assert!(lt(f.null_depth_fitted_db, -90.0), "k={k}: {f:?}");
    }
}

#[test]
fn several_offsets_at_once_with_a_fader_and_a_flip() {
    let mut s = Session::new();
    s.delays[1] = 17;
    s.delays[3] = -5;
    s.gains[3] = [-1.0; 2];
    s.delays[5] = 2048;
    s.gains[5] = [amp(-6.0); 2];
    let f = s.run(512);
    for i in [1, 3, 5] {
        println!("{}", row("17 / -5 inv / 2048 -6 dB", &f, i));
    }
    assert_eq!(f.stems[1].offset_samples, Some(17));
    assert_eq!(f.stems[3].offset_samples, Some(-5));
    assert!(f.stems[3].polarity_inverted);
    assert_gain(&f, 3, [0.0, 0.0]);
    assert_eq!(f.stems[5].offset_samples, Some(2048));
    assert_gain(&f, 5, [-6.0, -6.0]);
    assert_others_clean(&f, &[1, 3, 5]);
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
}

#[test]
fn polarity_flip_is_found_at_unity_gain() {
    let mut s = Session::new();
    s.gains[1] = [-1.0; 2];
    let f = s.run(512);
    println!("{}", row("stem 1 inverted", &f, 1));
    assert!(f.stems[1].polarity_inverted);
    assert_eq!(f.stems[1].offset_samples, Some(0));
    assert_gain(&f, 1, [0.0, 0.0]);
    assert_others_clean(&f, &[1]);
    assert!(f.null_depth_db.unwrap() > -10.0, "{f:?}");
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
}

#[test]
fn source_only_in_the_master_is_unaccounted() {
    for level in [1.0f32, 0.1, 0.01] {
        let mut s = Session::new();
        let extra: Vec<Vec<f32>> = stem(0, 777)
            .into_iter()
            .map(|c| c.into_iter().map(|v| v * level).collect())
            .collect();
        let energy = |x: &[Vec<f32>]| -> f64 {
            x.iter()
                .map(|c| c[..FRAMES].iter().map(|&v| (v as f64).powi(2)).sum::<f64>())
                .sum()
        };
        let e_extra = energy(&extra);
        s.extra = Some(extra);
        let truth = (10.0 * (e_extra / energy(&s.master())).log10()) as f32;
        let f = s.run(512);
        let worst = f
            .stems
            .iter()
            .flat_map(|s| s.gain_db.iter().map(|g| g.unwrap().abs()))
            .fold(0.0f32, f32::max);
        println!(
            "{} | truth {truth:7.2} | worst gain error {worst:.3} dB",
            row(&format!("extra source x{level}"), &f, 0)
        );
        assert!(
            (f.unaccounted_db.unwrap() - truth).abs() < 0.5,
            "truth {truth}: {f:?}"
        );
        // A master-only source correlates with the stems by chance (four seconds of these
        // enveloped, low-passed signals hold few independent samples), and least squares
        // lends that part of it to their gains: the error grows with the source's level,
        // a few tenths of a dB when it is as loud as a stem. Offsets must not move at all.
        for s in &f.stems {
            assert_eq!(s.offset_samples, Some(0), "{f:?}");
        }
        assert!(worst < 0.5 * level.max(0.02), "{f:?}");
    }
}

#[test]
fn stems_that_cancel_are_flagged() {
    let mut s = Session::new();
    let layer = channel(4242, 4242, FRAMES + PAD);
    // As loud as four stems: the pair alone would sum to nearly nothing.
    for (stem, sign) in [(0, 4.0f32), (1, -4.0)] {
        for c in &mut s.stems[stem] {
            for (v, l) in c.iter_mut().zip(&layer) {
                *v += sign * l;
            }
        }
    }
    // Truth: energy of the unity sum over the summed energies, per master channel.
    let (mut sum, mut parts) = (0.0f64, 0.0f64);
    for c in 0..2 {
        for t in 0..FRAMES {
            let mut acc = 0.0f64;
            for st in &s.stems {
                let v = st[c.min(st.len() - 1)][t] as f64;
                acc += v;
                parts += v * v;
            }
            sum += acc * acc;
        }
    }
    let truth = (10.0 * (sum / parts).log10()) as f32;
    let f = s.run(512);
    println!("{} | truth {truth:7.2}", row("layer split inverted", &f, 1));
    assert!(f.cancellation_db.unwrap() < -3.0, "{f:?}");
    assert!(
        (f.cancellation_db.unwrap() - truth).abs() < 0.01,
        "truth {truth}: {f:?}"
    );
    assert_others_clean(&f, &[]);
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
}

#[test]
fn chunk_size_does_not_change_the_figures() {
    let mut s = Session::new();
    s.gains[2] = [amp(-2.0), amp(-1.0)];
    s.delays[4] = 480;
    s.delays[MONO] = -17;
    s.extra = Some(
        stem(3, 999)
            .into_iter()
            .map(|c| c.into_iter().map(|v| v * 0.05).collect())
            .collect(),
    );
    let reference = s.run(512);
    println!("{}", row("chunk 512", &reference, 2));
    for chunk in [1, 7, 4096] {
        let f = s.run(chunk);
        println!("{}", row(&format!("chunk {chunk}"), &f, 2));
        let close = |a: Option<f32>, b: Option<f32>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6,
            (a, b) => a == b,
        };
        assert!(close(f.null_depth_db, reference.null_depth_db));
        assert!(close(
            f.null_depth_fitted_db,
            reference.null_depth_fitted_db
        ));
        assert!(close(f.unaccounted_db, reference.unaccounted_db));
        assert!(close(f.cancellation_db, reference.cancellation_db));
        for (a, b) in f.stems.iter().zip(&reference.stems) {
            assert_eq!(a.offset_samples, b.offset_samples);
            assert_eq!(a.polarity_inverted, b.polarity_inverted);
            for (x, y) in a.gain_db.iter().zip(&b.gain_db) {
                assert!(close(*x, *y), "chunk {chunk}: {a:?} vs {b:?}");
            }
        }
        assert_eq!(f.compared_frames, reference.compared_frames);
    }
    assert_eq!(reference.stems[4].offset_samples, Some(480));
    assert_eq!(reference.stems[MONO].offset_samples, Some(-17));
}

#[test]
fn missing_chunks_are_counted_and_skipped() {
    let mut s = Session::new();
    s.missing = Some((5, 100..120));
    let f = s.run(512);
    println!("{}", row("stem 5 missing 20 chunks", &f, 5));
    assert_eq!(f.stems[5].missing_chunks, 20);
    assert!(f
        .stems
        .iter()
        .enumerate()
        .all(|(i, s)| i == 5 || s.missing_chunks == 0));
    assert_eq!(f.skipped_frames, 20 * 512);
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
    assert!(lt(f.unaccounted_db, -90.0), "{f:?}");
    assert_others_clean(&f, &[]);
}

#[test]
fn silent_stem_has_no_gain_and_no_nan() {
    let mut s = Session::new();
    s.stems[6].iter_mut().for_each(|c| c.fill(0.0));
    let f = s.run(512);
    println!("{}", row("stem 6 silent", &f, 6));
    assert_eq!(f.stems[6].gain_db, vec![None, None]);
    assert_eq!(f.stems[6].offset_samples, None);
    assert!(!f.stems[6].polarity_inverted);
    assert_others_clean(&f, &[6]);
    assert!(lt(f.null_depth_fitted_db, -90.0), "{f:?}");
}

#[test]
fn late_stem_gets_its_own_estimation_window() {
    let mut s = Session::new();
    // Stem 3 stays silent for 2.5 s (longer than the estimation window), then enters
    // 480 frames late in the master.
    let onset = 120_000;
    s.stems[3].iter_mut().for_each(|c| c[..onset].fill(0.0));
    s.delays[3] = 480;
    let f = s.run(512);
    println!("{}", row("stem 3 enters at 2.5 s, +480", &f, 3));
    assert_eq!(f.stems[3].offset_samples, Some(480));
    assert_gain(&f, 3, [0.0, 0.0]);
    assert_others_clean(&f, &[3]);
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
}

#[test]
fn short_pass_is_measured_at_finish() {
    // Shorter than the fit's trail: everything is consumed by finish().
    let s = Session::new();
    let master = s.master();
    let n = 20_000;
    let channels: Vec<usize> = s.stems.iter().map(Vec::len).collect();
    let mut check = SumCheck::new(SumCheckConfig::new(2, FS), &channels);
    let m: Vec<&[f32]> = master.iter().map(|c| &c[..n]).collect();
    let st: Vec<Vec<&[f32]>> = s
        .stems
        .iter()
        .map(|c| c.iter().map(|v| &v[..n]).collect())
        .collect();
    let st: Vec<Option<&[&[f32]]>> = st.iter().map(|c| Some(c.as_slice())).collect();
    check.push(&m, &st);
    assert!(check.latency() > n);
    assert_eq!(check.figures().null_depth_db, None);
    check.finish();
    let f = check.figures();
    println!("{}", row("20000-frame pass", &f, 0));
    assert_eq!(f.compared_frames, n as u64);
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
    assert_others_clean(&f, &[]);
}

#[test]
fn loop_jump_is_a_gap_not_a_mismatch() {
    // Two seconds, a jump back to the start, the same two seconds again; stem 4 is 480
    // frames late. Skipped: 480 frames at the start and after the jump (stem 4's audio
    // from before them is unknown); the max_lag frames of the gap itself are not frames of
    // the pass and are not counted.
    let mut s = Session::new();
    s.delays[4] = 480;
    let master = s.master();
    let channels: Vec<usize> = s.stems.iter().map(Vec::len).collect();
    let mut check = SumCheck::new(SumCheckConfig::new(2, FS), &channels);
    // A whole number of 512-frame chunks (about two seconds).
    let half = 188 * 512;
    for round in 0..2 {
        if round == 1 {
            check.discontinuity();
        }
        for start in (0..half).step_by(512) {
            let m: Vec<&[f32]> = master.iter().map(|c| &c[start..start + 512]).collect();
            let st: Vec<Vec<&[f32]>> = s
                .stems
                .iter()
                .map(|c| c.iter().map(|v| &v[start..start + 512]).collect())
                .collect();
            let st: Vec<Option<&[&[f32]]>> = st.iter().map(|c| Some(c.as_slice())).collect();
            check.push(&m, &st);
        }
    }
    check.finish();
    let f = check.figures();
    println!("{}", row("loop jump, stem 4 +480", &f, 4));
    assert_eq!(f.skipped_frames, 480 + 480);
    assert_eq!(f.compared_frames, 2 * half as u64 - 2 * 480);
    assert_eq!(f.stems[4].offset_samples, Some(480));
    assert!(lt(f.null_depth_db, -90.0), "{f:?}");
    assert_others_clean(&f, &[4]);
}

/// Line-up tones: pure sines at harmonically related periods correlate as well a period away
/// (and inverted half a period away) as in place. A session of them that sums correctly must
/// read as in place, at unity, not shifted or inverted.
#[test]
fn pure_tones_stay_in_place() {
    let periods = [480usize, 240, 160, 120, 96, 64, 48];
    let levels = [-36.0f32, -34.0, -32.0, -5.0, -30.0, -2.5, -28.0];
    let n = 48_000 * 3;
    let stems: Vec<Vec<f32>> = periods
        .iter()
        .zip(levels)
        .map(|(&p, db)| {
            (0..n)
                .map(|i| amp(db) * (std::f32::consts::TAU * (i % p) as f32 / p as f32).sin())
                .collect()
        })
        .collect();
    let mix: Vec<f32> = (0..n).map(|i| stems.iter().map(|s| s[i]).sum()).collect();
    let mut check = SumCheck::new(SumCheckConfig::new(1, 48_000.0), &[1; 7]);
    for at in (0..n).step_by(512) {
        let end = (at + 512).min(n);
        let chans: Vec<[&[f32]; 1]> = stems.iter().map(|s| [&s[at..end]]).collect();
        let refs: Vec<Option<&[&[f32]]>> = chans.iter().map(|c| Some(&c[..])).collect();
        check.push(&[&mix[at..end]], &refs);
    }
    check.finish();
    let f = check.figures();
    for (i, s) in f.stems.iter().enumerate() {
        assert_eq!(s.offset_samples, Some(0), "tone {i}: {s:?}");
        assert!(!s.polarity_inverted, "tone {i}: {s:?}");
        assert!(s.gain_db[0].unwrap().abs() < 0.01, "tone {i}: {s:?}");
    }
    assert!(lt(f.null_depth_db, -120.0), "{f:?}");
}

#[test]
fn a_sustained_chord_a_few_samples_off_is_found_exactly() {
    // Three low sustained tones (a pad or organ chord) and a noise stem. The chord's
    // correlation peak is broad (its periods are 150 to 290 samples), yet its residual is
    // lowest exactly at the true offset.
    let n = 48_000 * 4;
    let chord: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / 48_000.0;
            [164.8f32, 207.7, 246.9]
                .iter()
                .map(|&f| amp(-20.0) * (std::f32::consts::TAU * f * t).sin())
                .sum()
        })
        .collect();
    let noise = channel(7, 3, n);
    for shift in [-9i64, -3, 4, 11] {
        // The chord reaches the mix `shift` samples late.
        let mix: Vec<f32> = (0..n)
            .map(|i| {
                let j = i as i64 - shift;
                let c = if (0..n as i64).contains(&j) {
                    chord[j as usize]
                } else {
                    0.0
                };
                c + noise[i]
            })
            .collect();
        let mut check = SumCheck::new(SumCheckConfig::new(1, 48_000.0), &[1, 1]);
        for at in (0..n).step_by(512) {
            let end = (at + 512).min(n);
            let chans = [[&chord[at..end]], [&noise[at..end]]];
            let refs: Vec<Option<&[&[f32]]>> = chans.iter().map(|c| Some(&c[..])).collect();
            check.push(&[&mix[at..end]], &refs);
        }
        check.finish();
        let f = check.figures();
        assert_eq!(
            f.stems[0].offset_samples,
            Some(shift),
            "shift {shift}: {f:?}"
        );
        assert_eq!(f.stems[1].offset_samples, Some(0), "shift {shift}: {f:?}");
        assert!(lt(f.null_depth_fitted_db, -60.0), "shift {shift}: {f:?}");
    }
}
