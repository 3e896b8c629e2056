//! EBU Tech 3341 true-peak cases 15–23, synthesised here (the signals are defined by the
//! standard; the reference files are not shipped).

use std::f64::consts::PI;
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::level::to_db;
use stemcheck::dsp::pass::TransportState;

const FS: f64 = 48_000.0;

/// Stereo true peak (dBTP) of a mono signal fed to both channels, in blocks of 480.
fn true_peak_db(x: &[f32]) -> f64 {
    let mut meter = BusMeter::new(2, FS as f32, MeterSettings::default());
    for block in x.chunks(480) {
        meter.process(&[block, block], TransportState::default());
    }
    meter.process(&[&[0.0f32; 64][..], &[0.0; 64]], TransportState::default());
    to_db(meter.snapshot().max_true_peak()).expect("signal") as f64
}

/// A tone with 10 ms linear fades in and out, as the EBU files have.
fn tone(freq: f64, amp: f64, phase_deg: f64, seconds: f64) -> Vec<f32> {
    let n = (seconds * FS) as usize;
    let fade = (0.01 * FS) as usize;
    (0..n)
        .map(|i| {
            let env = (i.min(n - 1 - i) as f64 / fade as f64).min(1.0);
            (env * amp * (2.0 * PI * freq * i as f64 / FS + phase_deg.to_radians()).sin()) as f32
        })
        .collect()
}

fn check(case: u32, measured: f64, expected: f64, plus: f64, minus: f64) {
    println!("case {case}: {measured:+.3} dBTP (expected {expected:+.2}, +{plus}/-{minus})");
    assert!(
        measured <= expected + plus && measured >= expected - minus,
        "case {case}: {measured} dBTP, expected {expected} +{plus}/-{minus}"
    );
}

#[test]
fn cases_15_to_19_sines_at_awkward_phases() {
    let cases = [
        (15, FS / 4.0, 0.5, 0.0, -6.0),
        (16, FS / 4.0, 0.5, 45.0, -6.0),
        (17, FS / 6.0, 0.5, 60.0, -6.0),
        (18, FS / 8.0, 0.5, 67.5, -6.0),
        (19, FS / 4.0, 1.41, 45.0, 3.0),
    ];
    for (case, f, amp, phase, expected) in cases {
        check(
            case,
            true_peak_db(&tone(f, amp, phase, 1.0)),
            expected,
            0.2,
            0.4,
        );
    }
}

/// Cases 20–23: a 0.5 FS tone at fs/6 carrying one period of fs/4 at 1.0 FS, made at 4·fs,
/// low-passed and decimated with an offset of 0–3 samples of the 4·fs grid. Returns the
/// decimated signal and the continuous peak of the band-limited 4·fs signal (dB).
fn burst_case(offset: usize) -> (Vec<f32>, f64) {
    let fs4 = 4.0 * FS;
    let tone_period = 24; // fs/6 at 4·fs
    let burst_len = 16; // one period of fs/4 at 4·fs
    let n = (0.5 * fs4) as usize;
    let burst_at = (n / 2 / tone_period) * tone_period; // an upward zero crossing of the tone
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            if (burst_at..burst_at + burst_len).contains(&i) {
                (2.0 * PI * (i - burst_at) as f64 / burst_len as f64).sin()
            } else {
                // The tone resumes where it left off: no phase jump across the burst.
                let k = if i >= burst_at + burst_len {
                    i - burst_len
                } else {
                    i
                };
                0.5 * (2.0 * PI * k as f64 / tone_period as f64).sin()
            }
        })
        .collect();
    // Low-pass at 22 kHz: 511-tap Blackman-windowed sinc, unity gain at DC.
    let taps = 511;
    let cutoff = 22_000.0 / fs4;
    let h: Vec<f64> = (0..taps)
        .map(|k| {
            let t = k as f64 - (taps / 2) as f64;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * PI * cutoff * t).sin() / (PI * t)
            };
            let w = 0.42 - 0.5 * (2.0 * PI * k as f64 / (taps - 1) as f64).cos()
                + 0.08 * (4.0 * PI * k as f64 / (taps - 1) as f64).cos();
            sinc * w
        })
        .collect();
    let gain: f64 = h.iter().sum();
    let filtered: Vec<f64> = (0..n)
        .map(|i| {
            (0..taps)
                .filter_map(|k| {
                    (i + k)
                        .checked_sub(taps / 2)
                        .and_then(|j| raw.get(j))
                        .map(|x| x * h[k])
                })
                .sum::<f64>()
                / gain
        })
        .collect();
    // The 4·fs signal is band-limited far below its Nyquist: its peak, refined by a parabola
    // through the three highest samples, is the continuous peak to within 1e-4 dB.
    let (imax, _) = filtered
        .iter()
        .enumerate()
        .fold((0, 0.0f64), |(bi, bv), (i, &v)| {
            if v.abs() > bv {
                (i, v.abs())
            } else {
                (bi, bv)
            }
        });
    let (a, b, c) = (
        filtered[imax - 1].abs(),
        filtered[imax].abs(),
        filtered[imax + 1].abs(),
    );
    let p = 0.5 * (a - c) / (a - 2.0 * b + c);
    let peak = b - 0.25 * (a - c) * p;
    let decimated = filtered
        .iter()
        .skip(offset)
        .step_by(4)
        .map(|&v| v as f32)
        .collect();
    (decimated, 20.0 * peak.log10())
}

#[test]
fn cases_20_to_23_burst_at_four_sub_sample_offsets() {
    for offset in 0..4 {
        let case = 20 + offset as u32;
        let (x, continuous) = burst_case(offset);
        let measured = true_peak_db(&x);
        println!("case {case}: continuous peak of the synthesis {continuous:+.3} dBTP");
        check(case, measured, -0.08, 0.1, 0.1);
        assert!(
            (measured - continuous).abs() <= 0.05,
            "case {case}: {measured} vs continuous {continuous}"
        );
    }
}
