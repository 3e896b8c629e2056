//! Loudness accuracy: the EBU Tech 3341 loudness cases (1–5, 9–14) and the EBU Tech 3342
//! loudness-range cases (1–4), synthesised here from their definitions and checked within the
//! standards' tolerances; the `ebur128` crate on music-like material; block-size independence;
//! mono; silence and fully gated passes.
//!
//! Not synthesised: Tech 3341 case 6 (five channels; a bus here is mono or stereo), cases 7 and
//! 8 and Tech 3342 cases 5 and 6 (recordings of authentic programme that only the EBU's files
//! hold). The comparison with `ebur128` on programme-like material stands in for those.
//!
//! `cargo test --test loudness_accuracy -- --nocapture` prints every case, expected and
//! measured.

#[path = "common/loudness_peer.rs"]
mod loudness_peer;

use loudness_peer::LoudnessPeer;
use std::f64::consts::PI;
use stemcheck::dsp::loudness::{LoudnessMeter, LoudnessReadings};

const FS: f64 = 48_000.0;

/// A stretch of signal: its level (dBFS, peak; `None` for silence) and its length (s).
type Segment = (Option<f64>, f64);

/// A 1 kHz sine whose level (dBFS, peak) changes at the segment boundaries (seconds), with a
/// continuous phase; `None` as a level is digital silence.
fn sine_segments(fs: f64, segments: &[Segment]) -> Vec<f32> {
    let mut out = Vec::new();
    for &(db, seconds) in segments {
        let n = (seconds * fs).round() as usize;
        let amp = db.map_or(0.0, |db| 10f64.powf(db / 20.0));
        let start = out.len();
        out.extend(
            (start..start + n).map(|i| (amp * (2.0 * PI * 1_000.0 * i as f64 / fs).sin()) as f32),
        );
    }
    out
}

/// Feeds the same signal to both channels in blocks of `block` samples and calls `each` with
/// the time (s) at the end of every block and the readings there.
fn run_stereo(
    fs: f64,
    x: &[f32],
    block: usize,
    mut each: impl FnMut(f64, &LoudnessReadings),
) -> LoudnessReadings {
    let mut meter = LoudnessMeter::new(fs as f32);
    let mut done = 0;
    for piece in x.chunks(block) {
        meter.process(&[piece, piece]);
        done += piece.len();
        each(done as f64 / fs, &meter.readings());
    }
    meter.readings()
}

fn check(case: &str, what: &str, measured: Option<f32>, expected: f64, tolerance: f64) {
    let m = measured.unwrap_or_else(|| panic!("{case}: no {what} reading")) as f64;
    println!("{case}: {what} = {m:+.3} (expected {expected:+.1} ±{tolerance})");
    assert!(
        (m - expected).abs() <= tolerance,
        "{case}: {what} = {m}, expected {expected} ±{tolerance}"
    );
}

#[test]
fn tech_3341_cases_1_and_2_steady_tones() {
    for fs in [44_100.0, FS] {
        for (case, db) in [(1, -23.0), (2, -33.0)] {
            let x = sine_segments(fs, &[(Some(db), 20.0)]);
            let r = run_stereo(fs, &x, 4_800, |_, _| {});
            let name = format!("3341 case {case} at {fs} Hz");
            check(&name, "M", r.momentary, db, 0.1);
            check(&name, "S", r.short_term, db, 0.1);
            check(&name, "I", r.integrated, db, 0.1);
        }
    }
}

#[test]
fn tech_3341_cases_3_to_5_integrated_gating() {
    let cases: [(u32, Vec<Segment>); 3] = [
        (
            3,
            vec![
                (Some(-36.0), 10.0),
                (Some(-23.0), 60.0),
                (Some(-36.0), 10.0),
            ],
        ),
        (
            4,
            vec![
                (Some(-72.0), 10.0),
                (Some(-36.0), 10.0),
                (Some(-23.0), 60.0),
                (Some(-36.0), 10.0),
                (Some(-72.0), 10.0),
            ],
        ),
        (
            5,
            vec![
                (Some(-26.0), 20.0),
                (Some(-20.0), 20.1),
                (Some(-26.0), 20.0),
            ],
        ),
    ];
    for fs in [44_100.0, FS] {
        for (case, segments) in &cases {
            let x = sine_segments(fs, segments);
            let r = run_stereo(fs, &x, 4_096, |_, _| {});
            check(
                &format!("3341 case {case} at {fs} Hz"),
                "I",
                r.integrated,
                -23.0,
                0.1,
            );
        }
    }
}

#[test]
fn tech_3341_case_9_short_term_is_constant_after_3_s() {
    // 1.34 s at -20 dBFS then 1.66 s at -30 dBFS, five times: every 3 s window holds -23 LUFS.
    let segments: Vec<_> = (0..5)
        .flat_map(|_| [(Some(-20.0), 1.34), (Some(-30.0), 1.66)])
        .collect();
    let x = sine_segments(FS, &segments);
    let (mut low, mut high) = (f64::MAX, f64::MIN);
    run_stereo(FS, &x, 480, |t, r| {
        if t >= 3.0 {
            let s = r.short_term.expect("a reading") as f64;
            (low, high) = (low.min(s), high.max(s));
        }
    });
    println!("3341 case 9: S from 3 s on between {low:+.3} and {high:+.3} (expected -23.0 ±0.1)");
    assert!(low >= -23.1 && high <= -22.9, "S between {low} and {high}");
}

#[test]
fn tech_3341_case_12_momentary_is_constant_after_1_s() {
    // 0.18 s at -20 dBFS then 0.22 s at -30 dBFS, 25 times: every 400 ms window holds
    // -23 LUFS.
    let segments: Vec<_> = (0..25)
        .flat_map(|_| [(Some(-20.0), 0.18), (Some(-30.0), 0.22)])
        .collect();
    let x = sine_segments(FS, &segments);
    let (mut low, mut high) = (f64::MAX, f64::MIN);
    run_stereo(FS, &x, 480, |t, r| {
        if t >= 1.0 {
            let m = r.momentary.expect("a reading") as f64;
            (low, high) = (low.min(m), high.max(m));
        }
    });
    println!("3341 case 12: M from 1 s on between {low:+.3} and {high:+.3} (expected -23.0 ±0.1)");
    assert!(low >= -23.1 && high <= -22.9, "M between {low} and {high}");
}

/// A burst of `seconds` at -23 dBFS after `lead` samples of silence, then 1 s of silence.
fn burst(lead: usize, seconds: f64, db: f64) -> Vec<f32> {
    let mut x = vec![0.0f32; lead];
    x.extend(sine_segments(FS, &[(Some(db), seconds), (None, 1.0)]));
    x
}

#[test]
fn tech_3341_cases_10_and_13_maxima_whatever_the_burst_alignment() {
    // Twenty signals each: a 3 s (case 10) or 400 ms (case 13) burst at -23 LUFS starting
    // 20 ms plus a few samples later than in the one before, so the bursts fall everywhere
    // between the meter's update points.
    for (case, seconds) in [(10, 3.0), (13, 0.4)] {
        let (mut low, mut high) = (f64::MAX, f64::MIN);
        for k in 0..20 {
            let x = burst(k * 960 + 7 * k, seconds, -23.0);
            let r = run_stereo(FS, &x, 512, |_, _| {});
            let max = if case == 10 {
                r.max_short_term
            } else {
                r.max_momentary
            };
            let max = max.expect("a maximum") as f64;
            (low, high) = (low.min(max), high.max(max));
            assert!((max + 23.0).abs() <= 0.1, "case {case}, signal {k}: {max}");
        }
        let what = if case == 10 { "max S" } else { "max M" };
        println!("3341 case {case}: {what} of 20 signals between {low:+.3} and {high:+.3} (expected -23.0 ±0.1)");
    }
}

#[test]
fn tech_3341_cases_11_and_14_successive_maxima() {
    // Twenty segments of rising level, -38 to -19 dBFS: a 3 s burst in 6 s (case 11, read in
    // 100 ms blocks) or a 400 ms burst in 800 ms (case 14, read in 10 ms blocks), each burst a
    // little later in its segment than the one before.
    for (case, burst_s, segment_s, block) in [(11, 3.0, 6.0, 4_800), (14, 0.4, 0.8, 480)] {
        let mut x = Vec::new();
        let mut ends = Vec::new();
        for k in 0..20 {
            let lead = 0.013 * k as f64;
            let level = -38.0 + k as f64;
            x.extend(sine_segments(
                FS,
                &[
                    (None, lead),
                    (Some(level), burst_s),
                    (None, segment_s - burst_s - lead),
                ],
            ));
            ends.push(x.len());
        }
        let mut maxima = Vec::new();
        let mut meter = LoudnessMeter::new(FS as f32);
        let mut done = 0;
        for piece in x.chunks(block) {
            meter.process(&[piece, piece]);
            done += piece.len();
            if ends.contains(&done) {
                let r = meter.readings();
                maxima.push(if case == 11 {
                    r.max_short_term
                } else {
                    r.max_momentary
                });
            }
        }
        assert_eq!(
            maxima.len(),
            20,
            "case {case}: a reading at every segment's end"
        );
        let mut worst = 0.0f64;
        for (k, max) in maxima.iter().enumerate() {
            let want = -38.0 + k as f64;
            let got = max.expect("a maximum") as f64;
            worst = worst.max((got - want).abs());
            assert!(
                (got - want).abs() <= 0.1,
                "case {case}, segment {k}: {got}, want {want}"
            );
        }
        println!(
            "3341 case {case}: 20 successive maxima -38..-19, worst error {worst:.3} LU (±0.1)"
        );
    }
}

#[test]
fn tech_3342_cases_1_to_4_loudness_range() {
    let cases: [(u32, Vec<Segment>, f64); 4] = [
        (1, vec![(Some(-20.0), 20.0), (Some(-30.0), 20.0)], 10.0),
        (2, vec![(Some(-20.0), 20.0), (Some(-15.0), 20.0)], 5.0),
        (3, vec![(Some(-40.0), 20.0), (Some(-20.0), 20.0)], 20.0),
        (
            4,
            vec![
                (Some(-50.0), 20.0),
                (Some(-35.0), 20.0),
                (Some(-20.0), 20.0),
                (Some(-35.0), 20.0),
                (Some(-50.0), 20.0),
            ],
            15.0,
        ),
    ];
    for fs in [44_100.0, FS] {
        for (case, segments, want) in &cases {
            let x = sine_segments(fs, segments);
            let r = run_stereo(fs, &x, 4_096, |_, _| {});
            check(
                &format!("3342 case {case} at {fs} Hz"),
                "LRA",
                r.range,
                *want,
                1.0,
            );
        }
    }
}

/// A deterministic stand-in for programme material: band-limited noise and tones under a
/// level envelope that swings over about 25 dB, with pauses, each channel different.
fn programme(fs: f64, seconds: f64, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let (mut lp, mut lp2) = (0.0f64, 0.0f64);
    (0..(seconds * fs) as usize)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let white = (state as f64 / u32::MAX as f64) * 2.0 - 1.0;
            lp += 0.3 * (white - lp);
            lp2 += 0.02 * (white - lp2);
            let t = i as f64 / fs;
            let tones = 0.3 * (2.0 * PI * 110.0 * t).sin() + 0.1 * (2.0 * PI * 3_520.0 * t).sin();
            let swell = (0.5 + 0.5 * (2.0 * PI * 0.05 * t + f64::from(seed)).sin()).powi(3);
            let phrase = 0.2 + 0.8 * (0.5 + 0.5 * (2.0 * PI * 0.7 * t).sin()).powi(2);
            // A pause of 2 s every 37 s.
            let pause = if t % 37.0 < 2.0 { 0.0 } else { 1.0 };
            (pause * (0.05 + swell) * phrase * (0.6 * lp + 2.0 * lp2 + tones)) as f32
        })
        .collect()
}

/// What `ebur128` measures of the same audio: integrated, Tech 3342 range (from short-term
/// loudness every 100 ms, see `common/loudness_peer.rs`), momentary and short-term at the
/// end, and its own LRA.
fn reference(fs: f64, channels: &[&[f32]]) -> [f64; 5] {
    let mut peer = LoudnessPeer::new(channels.len(), fs as u32);
    peer.push(channels);
    [
        peer.integrated(),
        peer.range().expect("a range"),
        peer.momentary(),
        peer.short_term(),
        peer.own_range(),
    ]
}

fn ours(fs: f64, channels: &[&[f32]], block: usize) -> LoudnessReadings {
    let mut meter = LoudnessMeter::new(fs as f32);
    let n = channels[0].len();
    for start in (0..n).step_by(block) {
        let end = (start + block).min(n);
        let planes: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        meter.process(&planes);
    }
    meter.readings()
}

#[test]
fn programme_material_matches_ebur128() {
    let mut worst = [0.0f64; 4];
    for (fs, seconds, seed) in [
        (48_000.0, 240.0, 1),
        (44_100.0, 180.0, 5),
        (96_000.0, 90.0, 9),
    ] {
        let (l, r) = (
            programme(fs, seconds, seed),
            programme(fs, seconds, seed + 1),
        );
        for channels in [&[&l[..], &r[..]][..], &[&l[..]][..]] {
            let want = reference(fs, channels);
            let got = ours(fs, channels, 1_000);
            let got = [got.integrated, got.range, got.momentary, got.short_term]
                .map(|v| v.expect("a reading") as f64);
            println!(
                "{fs} Hz, {} ch, {seconds} s: I {:+.3} vs {:+.3}, LRA {:.3} vs {:.3} \
                 (ebur128's own, 1 s hop: {:.3}), M {:+.3} vs {:+.3}, S {:+.3} vs {:+.3}",
                channels.len(),
                got[0],
                want[0],
                got[1],
                want[1],
                want[4],
                got[2],
                want[2],
                got[3],
                want[3]
            );
            for k in 0..4 {
                worst[k] = worst[k].max((got[k] - want[k]).abs());
            }
        }
    }
    println!(
        "worst |difference| against ebur128: I {:.4} LU, LRA {:.4} LU, M {:.4} LU, S {:.4} LU",
        worst[0], worst[1], worst[2], worst[3]
    );
    assert!(worst[0] <= 0.05, "integrated off by {} LU", worst[0]);
    assert!(worst[1] <= 0.1, "LRA off by {} LU", worst[1]);
    assert!(worst[2] <= 0.05 && worst[3] <= 0.05, "M/S off by {worst:?}");
}

#[test]
fn readings_do_not_depend_on_the_block_size() {
    let (l, r) = (programme(FS, 40.0, 3), programme(FS, 40.0, 4));
    let channels = [&l[..], &r[..]];
    let base = ours(FS, &channels, 4_096);
    let values = |r: &LoudnessReadings| {
        [
            r.momentary,
            r.short_term,
            r.max_momentary,
            r.max_short_term,
            r.integrated,
            r.range,
        ]
        .map(|v| v.expect("a reading"))
    };
    for block in [1, 7, 333] {
        let got = ours(FS, &channels, block);
        for (g, b) in values(&got).iter().zip(values(&base)) {
            assert!((g - b).abs() <= 1e-4, "blocks of {block}: {g} vs {b}");
        }
        assert_eq!(got.seconds, base.seconds);
    }
}

#[test]
fn a_mono_bus_is_one_channel_of_weight_one() {
    // BS.1770: a single channel has weight 1, so a mono bus reads 3 dB below the same signal
    // on both channels of a stereo bus, and agrees with ebur128's mono meter.
    let x = sine_segments(FS, &[(Some(-20.0), 10.0)]);
    let mono = ours(FS, &[&x], 4_096);
    let stereo = ours(FS, &[&x, &x], 4_096);
    let (m, s) = (
        mono.integrated.unwrap() as f64,
        stereo.integrated.unwrap() as f64,
    );
    println!("mono {m:+.3} LUFS, stereo {s:+.3} LUFS");
    assert!((s + 20.0).abs() < 0.05, "stereo {s}");
    assert!(
        (s - m - 10.0 * 2f64.log10()).abs() < 0.01,
        "mono {m}, stereo {s}"
    );
    let want = reference(FS, &[&x]);
    assert!((m - want[0]).abs() < 0.01, "mono {m}, ebur128 {}", want[0]);
}

#[test]
fn silence_and_fully_gated_passes_have_no_reading() {
    let silence = vec![0.0f32; 10 * FS as usize];
    let quiet = sine_segments(FS, &[(Some(-75.0), 10.0)]);
    for (what, x) in [("silence", &silence), ("-75 dBFS", &quiet)] {
        let r = run_stereo(FS, x, 4_096, |_, _| {});
        let all = [
            r.momentary,
            r.short_term,
            r.max_momentary,
            r.max_short_term,
            r.integrated,
            r.range,
        ];
        assert!(all.iter().all(Option::is_none), "{what}: {r:?}");
        assert!((r.seconds - 10.0).abs() < 1e-3, "{what}: {} s", r.seconds);
    }
    // Loud enough for the absolute gate, but too short for a single block: no integrated
    // loudness yet, a momentary reading already.
    let short = sine_segments(FS, &[(Some(-20.0), 0.3)]);
    let r = run_stereo(FS, &short, 4_096, |_, _| {});
    assert!(
        r.integrated.is_none() && r.range.is_none() && r.momentary.is_some(),
        "{r:?}"
    );
}
