//! Bus-meter behaviour that must hold whatever the host does: any block size gives the same
//! readings, non-finite input is counted without poisoning anything, reset and a new pass.

use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::level::from_db;
use stemcheck::dsp::pass::TransportState;
use stemcheck::dsp::snapshot::MeterSnapshot;

const FS: f32 = 48_000.0;

/// Two seconds of a test programme: tones, noise, a clipped burst and a loud transient.
fn programme() -> [Vec<f32>; 2] {
    let n = 2 * FS as usize;
    let mut seed = 0x1234_5678u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    for i in 0..n {
        let t = i as f32 / FS;
        let tone = 0.4 * (2.0 * std::f32::consts::PI * 997.0 * t).sin()
            + 0.2 * (2.0 * std::f32::consts::PI * 11_025.0 * t + 0.3).sin();
        l[i] = tone + 0.1 * noise();
        r[i] = 0.8 * tone + 0.1 * noise();
    }
    for v in &mut l[30_000..30_400] {
        *v = (*v * 3.0).clamp(-0.95, 0.95); // a clipper: flat tops at 0.95
    }
    l[60_000] = 1.2; // a sample over full scale
    r[70_001] = -0.99;
    [l, r]
}

fn play(x: &[Vec<f32>; 2], block: usize) -> MeterSnapshot {
    let mut meter = BusMeter::new(2, FS, MeterSettings::default());
    let mut pos = 0i64;
    for start in (0..x[0].len()).step_by(block) {
        let end = (start + block).min(x[0].len());
        let t = TransportState {
            playing: true,
            pos_samples: Some(pos),
        };
        meter.process(&[&x[0][start..end], &x[1][start..end]], t);
        pos += (end - start) as i64;
    }
    meter.snapshot()
}

/// The readings that must not depend on block size (the moving display values and the block
/// counter do, by nature).
fn held(s: &MeterSnapshot) -> MeterSnapshot {
    MeterSnapshot {
        sample_peak_display: [0.0; 2],
        true_peak_display: [0.0; 2],
        correlation_recent: 0.0,
        blocks: 0,
        // Correlation and DC are sums in f64 whose order follows the blocks: equal to within
        // rounding, compared separately.
        correlation: 0.0,
        dc_offset: [0.0; 2],
        ..*s
    }
}

#[test]
fn any_block_size_gives_identical_readings() {
    let x = programme();
    let reference = play(&x, 4096);
    assert!(reference.clips.count == 1 && reference.flat_tops.count > 0);
    assert!(reference.true_peak_overs.count > 0);
    for block in [1, 7, 64, 512, 4096, 333] {
        let s = play(&x, block);
        assert_eq!(held(&s), held(&reference), "block size {block}");
        assert!(
            (s.correlation - reference.correlation).abs() < 1e-5,
            "block size {block}"
        );
    }
}

#[test]
fn non_finite_input_is_counted_and_the_meters_stay_right() {
    let x = programme();
    let clean = play(&x, 512);
    let mut dirty = x.clone();
    dirty[0][1000] = f32::NAN;
    dirty[0][1001] = f32::INFINITY;
    dirty[1][5000] = f32::NEG_INFINITY;
    let s = play(&dirty, 512);
    assert_eq!(s.non_finite, 3);
    for c in 0..2 {
        assert!(s.true_peak[c].is_finite() && s.sample_peak[c].is_finite());
        // Three samples became silence; everything else reads as before.
        assert!(
            (s.true_peak[c] - clean.true_peak[c]).abs() < 1e-6,
            "channel {c}"
        );
        assert!(
            (s.sample_peak[c] - clean.sample_peak[c]).abs() < 1e-6,
            "channel {c}"
        );
        assert!(s.dc_offset[c].is_finite());
    }
    assert!(s.correlation().unwrap().is_finite());
}

#[test]
fn overs_count_true_peaks_above_the_ceiling_only() {
    // A 0.95 FS tone at fs/4 with 45° phase: samples at 0.67 FS, true peak at 0.95 FS.
    let tone: Vec<f32> = (0..4800)
        .map(|i| {
            0.95 * (std::f32::consts::FRAC_PI_2 * i as f32 + std::f32::consts::FRAC_PI_4).sin()
        })
        .collect();
    let run = |ceiling_db: f32| {
        let mut m = BusMeter::new(
            1,
            FS,
            MeterSettings {
                tp_ceiling_db: ceiling_db,
            },
        );
        m.process(&[&tone[..]], TransportState::default());
        m.process(&[&[0.0f32; 64][..]], TransportState::default());
        m.snapshot()
    };
    let under = run(0.0);
    assert_eq!(under.true_peak_overs.count, 0);
    assert_eq!(under.clips.count, 0);
    let over = run(-1.0);
    // Two crests per period of four samples: one over per crest.
    assert!(
        over.true_peak_overs.count >= 2 * 4800 / 4 - 4,
        "{}",
        over.true_peak_overs.count
    );
    assert!(over.max_true_peak() > from_db(-1.0) && over.max_sample_peak() < 0.7);
}

#[test]
fn replaying_from_the_start_resets_and_continuing_does_not() {
    let x = programme();
    let mut m = BusMeter::new(2, FS, MeterSettings::default());
    let loud = [&x[0][60_000..60_512], &x[1][60_000..60_512]];
    let quiet = [&[0.01f32; 512][..], &[0.01; 512][..]];
    m.process(
        &loud,
        TransportState {
            playing: true,
            pos_samples: Some(0),
        },
    );
    m.process(
        &quiet,
        TransportState {
            playing: false,
            pos_samples: Some(512),
        },
    );
    m.process(
        &quiet,
        TransportState {
            playing: true,
            pos_samples: Some(512),
        },
    );
    assert!(
        m.snapshot().max_sample_peak() >= 1.2,
        "continuing keeps the hold"
    );
    m.process(
        &quiet,
        TransportState {
            playing: false,
            pos_samples: Some(1024),
        },
    );
    m.process(
        &quiet,
        TransportState {
            playing: true,
            pos_samples: Some(0),
        },
    );
    let s = m.snapshot();
    assert!(
        s.max_sample_peak() < 0.02,
        "a new pass from the start resets the hold"
    );
    assert_eq!((s.pass_start, s.pass_end), (0, 512));
    m.reset();
    assert_eq!(m.snapshot().clips.count, 0);
}
