//! The checker on the containers of long and broadcast deliveries, built byte by byte by the
//! test: RF64 and BW64 (`ds64` sizes), Wave64 (GUID chunks, 64-bit sizes), Broadcast Wave
//! time references (`bext`) and the `file.start` rule, and headers that promise more than
//! 4 GB.

mod common;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use common::run::{check, Run};
use common::wave::{file, rf64_header, Bext, Layout, Sample};
use stemcheck_checker::demo::{mix_of, stems};
use stemcheck_checker::source::Source;

const RATE: u32 = 48_000;

/// Five different signals (the demo's four stems and a 440 Hz tone), 6 s each.
fn signals() -> Vec<Vec<Vec<f64>>> {
    let set = stems(RATE, 6.0);
    let mut out: Vec<Vec<Vec<f64>>> = set.iter().map(|s| s.channels.clone()).collect();
    let n = out[0][0].len();
    let tone: Vec<f64> = (0..n)
        .map(|i| 0.25 * (std::f64::consts::TAU * 440.0 * i as f64 / f64::from(RATE)).sin())
        .collect();
    out.push(vec![tone.clone(), tone]);
    out
}

fn peak_db(channels: &[Vec<f64>]) -> f64 {
    20.0 * channels
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .log10()
}

const FORMATS: [(Sample, &str, u64); 5] = [
    (Sample::Int(16), "int", 16),
    (Sample::Int(24), "int", 24),
    (Sample::Int(32), "int", 32),
    (Sample::Float(32), "float", 32),
    (Sample::Float(64), "float", 64),
];

/// One check of five files in `layout`, one per sample format, each a different signal (a
/// folder of copies of one signal would look like a mix beside its stems).
fn check_layout(layout: Layout, ext: &str, signals: &[Vec<Vec<f64>>]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (i, (sample, _, _)) in FORMATS.iter().enumerate() {
        let bytes = file(&signals[i], RATE, layout, *sample, Bext::None);
        fs::write(dir.path().join(format!("{:02}_s{i}.{ext}", i + 1)), bytes).unwrap();
    }
    check(dir.path(), &[dir.path()], &[])
}

#[test]
fn rf64_bw64_and_wave64_read_as_wav_does_in_every_sample_format() {
    let signals = signals();
    let wav = check_layout(Layout::Riff, "wav", &signals);
    for (layout, ext, container) in [
        (Layout::Rf64, "wav", "RF64"),
        (Layout::Bw64, "wav", "BW64"),
        (Layout::Wave64, "w64", "W64"),
    ] {
        let r = check_layout(layout, ext, &signals);
        assert!(r.code <= 2, "{container}: {}{}", r.stdout, r.stderr);
        for (i, (_, encoding, bits)) in FORMATS.iter().enumerate() {
            let name = format!("{:02}_s{i}", i + 1);
            let f = r.file(&name);
            assert_eq!(f["container"], container, "{name}");
            assert_eq!(f["encoding"], *encoding, "{name} {container}");
            assert_eq!(f["bit_depth"], *bits, "{name} {container}");
            assert_eq!(
                f["length_samples"],
                6 * u64::from(RATE),
                "{name} {container}"
            );
            let peak = r.stem(&name)["sample_peak_dbfs"][0].as_f64().unwrap();
            let truth = peak_db(&signals[i][..1]);
            assert!(
                (peak - truth).abs() < 0.01,
                "{name} {container}: {peak} vs {truth}"
            );
            // The same samples as the plain WAV file: every meter reads the same.
            for field in [
                "sample_peak_dbfs",
                "true_peak_dbtp",
                "dc_offset_per_channel",
            ] {
                assert_eq!(
                    r.stem(&name)[field],
                    wav.stem(&name)[field],
                    "{name} {container} {field}"
                );
            }
        }
    }
}

/// A header written as the start of a sparse file of `data` bytes of audio: the file is as
/// long as its header says, without 4 GB being written.
fn sparse_rf64(path: &Path, data: u64) {
    let header = rf64_header(2, RATE, Sample::Int(24), data);
    let mut f = fs::File::create(path).unwrap();
    f.write_all(&header).unwrap();
    // A little real audio at the start: one frame at half scale.
    f.write_all(&[0, 0, 0x40, 0, 0, 0x40]).unwrap();
    f.set_len(header.len() as u64 + data).unwrap();
    f.seek(SeekFrom::End(0)).unwrap();
}

#[test]
fn an_rf64_file_past_four_gigabytes_opens_with_its_64_bit_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("01_Long.wav");
    // 4.5 GiB of stereo 24-bit audio: 805,306,368 frames, 4.66 hours at 48 kHz.
    let data = 9u64 << 29;
    sparse_rf64(&path, data);
    assert!(fs::metadata(&path).unwrap().len() > u64::from(u32::MAX));
    let mut s = Source::open(&path).unwrap();
    assert_eq!(s.info.container, "RF64");
    assert_eq!(s.info.frames, Some(data / 6));
    let mut out = vec![Vec::new(), Vec::new()];
    assert_eq!(s.read(4096, &mut out).unwrap(), 4096);
    assert_eq!((out[0][0], out[1][0], out[0][1]), (0.5, 0.5, 0.0));
}

#[test]
fn a_header_promising_more_than_four_gigabytes_is_held_to_it() {
    // The ds64 chunk promises 5 GiB of stereo 16-bit audio (1,342,177,280 frames); the file
    // holds 1 s. A reader of the 32-bit sizes would promise 1 GiB or nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("01_Cut.wav");
    let mut bytes = rf64_header(2, RATE, Sample::Int(16), 5 << 30);
    bytes.extend(std::iter::repeat_n(0u8, 4 * RATE as usize));
    fs::write(&path, bytes).unwrap();
    let r = check(dir.path(), &[&path], &[]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "01_Cut.wav: is truncated: its header promises 1342177280 samples per channel but \
             the file holds only 48000"
        ),
        "{}",
        r.stderr
    );
}

/// Writes the demo stems as Broadcast Wave files with the given time references (`None`: no
/// `bext` chunk), and their mix.
fn bwf_delivery(dir: &Path, starts: [Option<u64>; 4], layout: Layout) {
    let set = stems(RATE, 12.0);
    for (s, start) in set.iter().zip(starts) {
        let bext = start.map_or(Bext::None, Bext::Before);
        let bytes = file(&s.channels, RATE, layout, Sample::Int(24), bext);
        fs::write(dir.join(format!("{}.wav", s.name)), bytes).unwrap();
    }
    let mix = file(&mix_of(&set), RATE, layout, Sample::Int(24), Bext::None);
    fs::write(dir.join("Mix.wav"), mix).unwrap();
}

const HOUR: u64 = 3600 * RATE as u64;

#[test]
fn stems_with_the_same_time_reference_pass_and_show_it() {
    let dir = tempfile::tempdir().unwrap();
    bwf_delivery(dir.path(), [Some(HOUR); 4], Layout::Riff);
    let md = dir.path().join("readme.md");
    let r = check(dir.path(), &[dir.path()], &["--md", md.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let drums = r.file("01_Drums");
    assert_eq!(drums["time_reference_samples"], HOUR);
    assert_eq!(drums["time_reference_s"], 3600.0);
    assert!(r.json()["files"]["mix"]["time_reference_samples"].is_null());
    assert!(r.stdout.contains("BWF start"), "{}", r.stdout);
    assert!(r.stdout.contains("01:00:00.000"), "{}", r.stdout);
    let readme = fs::read_to_string(md).unwrap();
    assert!(readme.contains("| start (BWF) |"), "{readme}");
    assert!(readme.contains("01:00:00.000 (172800000)"), "{readme}");
}

#[test]
fn a_stem_bounced_from_another_start_fails_file_start_by_its_offset() {
    for layout in [Layout::Riff, Layout::Rf64] {
        let dir = tempfile::tempdir().unwrap();
        // The bass starts 480 samples (10 ms) later; the keys carry no time reference.
        bwf_delivery(
            dir.path(),
            [Some(HOUR), Some(HOUR + 480), None, Some(HOUR)],
            layout,
        );
        let r = check(dir.path(), &[dir.path()], &[]);
        assert_eq!(r.code, 2, "{layout:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            r.problems(),
            [("file.start".to_string(), Some("02_Bass".to_string()))],
            "{layout:?}"
        );
        let f = r.finding("file.start", Some("02_Bass")).unwrap();
        assert_eq!(
            (f["value"].as_f64(), f["threshold"].as_f64()),
            (Some(480.0), Some(0.0))
        );
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("480 samples (0.010 s) later than the other stems")
                && message.contains("01:00:00.010 against 01:00:00.000"),
            "{message}"
        );
        // No start is guessed for the keys.
        assert!(r.file("03_Keys")["time_reference_samples"].is_null());
    }
}

#[test]
fn a_bext_chunk_after_the_audio_is_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 6.0);
    for (i, s) in set.iter().enumerate() {
        let start = HOUR + if i == 3 { 48_000 } else { 0 };
        let layout = if i % 2 == 0 {
            Layout::Wave64
        } else {
            Layout::Riff
        };
        let ext = if layout == Layout::Wave64 {
            "w64"
        } else {
            "wav"
        };
        let bytes = file(
            &s.channels,
            RATE,
            layout,
            Sample::Int(24),
            Bext::After(start),
        );
        fs::write(dir.path().join(format!("{}.{ext}", s.name)), bytes).unwrap();
    }
    let r = check(dir.path(), &[dir.path()], &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.file("01_Drums")["time_reference_samples"], HOUR);
    assert_eq!(r.file("01_Drums")["container"], "W64");
    assert_eq!(
        r.problems(),
        [("file.start".to_string(), Some("04_Vox".to_string()))]
    );
    let f = r.finding("file.start", Some("04_Vox")).unwrap();
    assert!(f["message"].as_str().unwrap().contains("(1.000 s) later"));
}
