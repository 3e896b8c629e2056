//! The `stemcheck` binary on real files: the demo set written to disk, bent so each check
//! fires, in every format the checker reads, and bad input of every kind named in its errors.

mod common;
#[allow(dead_code)]
#[path = "../../tests/common/loudness_peer.rs"]
mod loudness_peer;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::writers::{aiff_24, flac_24, wav_f64};
use loudness_peer::LoudnessPeer;
use serde_json::Value;
use stemcheck_checker::demo::{mix_of, stems, write_wav, Stem, WavFormat};
use tempfile::TempDir;

const RATE: u32 = 48_000;
const SECONDS: f64 = 12.0;

/// What one run printed and returned.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Value>,
}

impl Run {
    fn findings(&self) -> Vec<(String, Option<String>, String)> {
        let report = self.report.as_ref().expect("a report");
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    f["stem"].as_str().map(String::from),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Whether a finding `id` concerns `stem` (`None`: the master or the session).
    fn has(&self, id: &str, stem: Option<&str>) -> bool {
        self.findings()
            .iter()
            .any(|(i, s, _)| i == id && s.as_deref() == stem)
    }

    /// Finding ids at fail or warn level, with their stem.
    fn problems(&self) -> Vec<(String, Option<String>)> {
        self.findings()
            .into_iter()
            .filter(|(_, _, sev)| sev != "info")
            .map(|(i, s, _)| (i, s))
            .collect()
    }

    fn stem(&self, name: &str) -> &Value {
        let report = self.report.as_ref().expect("a report");
        report["stems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no stem {name}"))
    }
}

/// Runs the binary with `args`, asking for the JSON report in `dir`.
fn run_in(dir: &Path, args: &[OsString]) -> Run {
    let json = dir.join("report.json");
    let _ = fs::remove_file(&json);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stemcheck"));
    cmd.args(args).env("NO_COLOR", "1");
    let out = cmd.output().expect("the binary runs");
    let report = fs::read_to_string(&json)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("valid JSON"));
    Run {
        code: out.status.code().expect("an exit status"),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        report,
    }
}

/// A delivery on disk: stems in `stems/`, the mix in `Mix.wav` beside it.
struct Delivery {
    dir: TempDir,
}

impl Delivery {
    fn stems_dir(&self) -> PathBuf {
        self.dir.path().join("stems")
    }

    fn mix(&self) -> PathBuf {
        self.dir.path().join("Mix.wav")
    }

    /// `stemcheck check stems/ [--mix Mix.wav] --json report.json extra…`
    fn check(&self, with_mix: bool, extra: &[&str]) -> Run {
        let mut args: Vec<OsString> = vec!["check".into(), self.stems_dir().into()];
        if with_mix {
            args.extend(["--mix".into(), self.mix().into()]);
        }
        args.extend(["--json".into(), self.dir.path().join("report.json").into()]);
        args.extend(extra.iter().map(OsString::from));
        run_in(self.dir.path(), &args)
    }
}

/// Writes `stems` as 24-bit WAV and `mix` as `Mix.wav`.
fn deliver(stems: &[Stem], mix: &[Vec<f64>]) -> Delivery {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("stems")).unwrap();
    for s in stems {
        let path = dir.path().join("stems").join(format!("{}.wav", s.name));
        write_wav(&path, &s.channels, RATE, WavFormat::Int(24)).unwrap();
    }
    write_wav(&dir.path().join("Mix.wav"), mix, RATE, WavFormat::Int(24)).unwrap();
    Delivery { dir }
}

fn clean() -> (Vec<Stem>, Vec<Vec<f64>>) {
    let set = stems(RATE, SECONDS);
    let mix = mix_of(&set);
    (set, mix)
}

fn stem_mut<'a>(set: &'a mut [Stem], name: &str) -> &'a mut Stem {
    set.iter_mut().find(|s| s.name == name).unwrap()
}

/// Delays every channel by `k` samples, keeping the length.
fn delay(channels: &mut [Vec<f64>], k: usize) {
    for c in channels {
        let n = c.len();
        c.splice(0..0, std::iter::repeat_n(0.0, k));
        c.truncate(n);
    }
}

fn gain(channels: &mut [Vec<f64>], g: f64) {
    channels.iter_mut().flatten().for_each(|v| *v *= g);
}

/// Integrated loudness by the `ebur128` crate, and loudness range as EBU Tech 3342 defines it
/// from `ebur128`'s short-term loudness read every 100 ms (Tech 3342's rate; `ebur128`'s own
/// LRA reads one value a second, which on 12 s of audio moves it by more than an LU).
fn reference_loudness(channels: &[Vec<f64>]) -> (f64, f64) {
    let planes: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| c.iter().map(|&v| v as f32).collect())
        .collect();
    let refs: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
    let mut peer = LoudnessPeer::new(refs.len(), RATE);
    peer.push(&refs);
    (peer.integrated(), peer.range().expect("a range"))
}

#[test]
fn a_clean_delivery_is_ready_and_nulls_against_its_mix() {
    let (set, mix) = clean();
    let d = deliver(&set, &mix);
    let md = d.dir.path().join("readme.md");
    let r = d.check(true, &["--md", md.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let report = r.report.as_ref().unwrap();
    assert_eq!(report["schema"], "stemcheck.report/1");
    assert_eq!(report["verdict"], "ready");
    assert_eq!(report["sample_rate"], 48_000);
    assert!(report["sum"]["null_depth_db"].as_f64().unwrap() <= -120.0);
    assert_eq!(report["master"]["name"], "Mix");
    assert_eq!(report["master"]["limiter"]["verdict"], "none");
    for s in &set {
        let stem = r.stem(&s.name);
        assert_eq!(stem["offset_samples"], 0, "{}", s.name);
        assert_eq!(stem["polarity_inverted"], false, "{}", s.name);
        assert_eq!(stem["limiter"]["verdict"], "none", "{}", s.name);
        for g in stem["gain_db"].as_array().unwrap() {
            assert!(g.as_f64().unwrap().abs() <= 0.01, "{}: {g}", s.name);
        }
    }
    let files = &report["files"];
    assert_eq!(files["stems"].as_array().unwrap().len(), 4);
    let drums = &files["stems"][0];
    assert_eq!(drums["name"], "01_Drums");
    assert_eq!(drums["container"], "WAV");
    assert_eq!(
        (drums["bit_depth"].as_u64(), drums["encoding"].as_str()),
        (Some(24), Some("int"))
    );
    assert_eq!(drums["length_samples"], RATE as u64 * 12);
    let pre = drums["leading_silence_s"].as_f64().unwrap();
    assert!((pre - 2.0).abs() < 0.01, "pre-roll {pre}");
    let tail = drums["tail_s"].as_f64().unwrap();
    assert!((2.0..=4.0).contains(&tail), "tail {tail}");
    assert_eq!(files["mix"]["name"], "Mix");
    // Loudness of every file, against the ebur128 crate on the same samples.
    let buses = set
        .iter()
        .map(|s| (r.stem(&s.name), &s.channels))
        .chain([(&report["master"], &mix)]);
    for (bus, channels) in buses {
        let l = &bus["loudness"];
        let (i, lra) = reference_loudness(channels);
        let got_i = l["integrated_lufs"].as_f64().unwrap();
        let got_lra = l["lra_lu"].as_f64().unwrap();
        assert!(
            (got_i - i).abs() <= 0.05,
            "{}: I {got_i} vs {i}",
            bus["name"]
        );
        assert!(
            (got_lra - lra).abs() <= 0.1,
            "{}: LRA {got_lra} vs {lra}",
            bus["name"]
        );
        let tp = bus["true_peak_dbtp"].as_array().unwrap().iter();
        let tp = tp.filter_map(Value::as_f64).fold(f64::MIN, f64::max);
        let plr = l["plr_db"].as_f64().unwrap();
        assert!(
            (plr - (tp - got_i)).abs() <= 0.011,
            "{}: PLR {plr}",
            bus["name"]
        );
        for key in ["max_momentary_lufs", "max_short_term_lufs"] {
            assert!(l[key].as_f64().unwrap() >= got_i, "{}: {key}", bus["name"]);
        }
    }
    assert!(
        r.stdout.contains("LUFS") && r.stdout.contains("LRA"),
        "{}",
        r.stdout
    );
    let readme = fs::read_to_string(&md).unwrap();
    assert!(readme.contains("## Loudness"), "{readme}");
    assert!(readme.starts_with("# Stemcheck report: READY"), "{readme}");
    assert!(readme.contains("## Files") && readme.contains("| 01_Drums |"));
    assert!(
        r.stdout.contains("READY") && r.stdout.contains("01_Drums"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_shifted_stem_is_found_to_the_sample() {
    let (mut set, _) = clean();
    let mix = mix_of(&set);
    delay(&mut stem_mut(&mut set, "01_Drums").channels, 7);
    // The keys are sustained chords, whose correlation peak is broad: 5 samples early.
    for c in &mut stem_mut(&mut set, "03_Keys").channels {
        c.drain(..5);
        c.extend([0.0; 5]);
    }
    let d = deliver(&set, &mix);
    let r = d.check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    // The drums reach the mix 7 samples before the stem file has them (−7), the keys 5
    // samples after (+5).
    assert_eq!(r.stem("01_Drums")["offset_samples"], -7);
    assert_eq!(r.stem("03_Keys")["offset_samples"], 5);
    assert_eq!(r.stem("02_Bass")["offset_samples"], 0);
    assert_eq!(
        r.problems(),
        [
            ("sum.offset".to_string(), Some("01_Drums".to_string())),
            ("sum.offset".to_string(), Some("03_Keys".to_string()))
        ]
    );
    // At their offsets the stems null: nothing is unaccounted.
    let fitted = r.report.as_ref().unwrap()["sum"]["null_depth_fitted_db"]
        .as_f64()
        .unwrap();
    assert!(fitted < -100.0, "{fitted}");
}

#[test]
fn an_inverted_stem_fails_polarity() {
    let (mut set, mix) = clean();
    gain(&mut stem_mut(&mut set, "02_Bass").channels, -1.0);
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(r.stem("02_Bass")["polarity_inverted"], true);
    assert!(r.has("sum.polarity", Some("02_Bass")), "{:?}", r.findings());
    assert!(!r.has("sum.polarity", Some("01_Drums")));
}

#[test]
fn a_stem_off_unity_gain_is_measured_and_warned() {
    let (mut set, mix) = clean();
    gain(
        &mut stem_mut(&mut set, "04_Vox").channels,
        10f64.powf(2.0 / 20.0),
    );
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    for g in r.stem("04_Vox")["gain_db"].as_array().unwrap() {
        let g = g.as_f64().unwrap();
        // The stem is 2 dB louder than what reached the mix: its gain to the mix is −2 dB.
        assert!((g + 2.0).abs() <= 0.05, "{g}");
    }
    // At unity the stems do not rebuild the mix, and the fit says why.
    assert_eq!(
        r.problems(),
        [
            ("sum.null".to_string(), None),
            ("sum.gain".to_string(), Some("04_Vox".to_string()))
        ]
    );
    let fitted = r.report.as_ref().unwrap()["sum"]["null_depth_fitted_db"]
        .as_f64()
        .unwrap();
    assert!(fitted < -100.0, "{fitted}");
}

#[test]
fn signal_no_stem_carries_is_unaccounted() {
    let (set, mut mix) = clean();
    // A return routed straight to the master: the keys again, 12 dB down, delayed 30 ms.
    let mut extra = set[2].channels.clone();
    delay(&mut extra, 1_440);
    for (m, e) in mix.iter_mut().zip(&extra) {
        for (m, e) in m.iter_mut().zip(e) {
            *m += e * 0.25;
        }
    }
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.has("sum.unaccounted", None), "{:?}", r.findings());
    let un = r.report.as_ref().unwrap()["sum"]["unaccounted_db"]
        .as_f64()
        .unwrap();
    assert!((-40.0..-10.0).contains(&un), "{un}");
}

#[test]
fn a_limiter_on_the_mix_is_found_with_its_gain_reduction() {
    let (set, mix) = clean();
    let limited = smooth_limit(&mix, 6.0, 10f64.powf(-5.0 / 20.0));
    let r = deliver(&set, &limited).check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.has("limiter.master", None), "{:?}", r.findings());
    let m = &r.report.as_ref().unwrap()["master"]["limiter"];
    assert_eq!(m["verdict"], "limited");
    let gr = m["gain_reduction_db"].as_f64().unwrap();
    assert!((1.0..8.0).contains(&gr), "gain reduction {gr}");
    assert!(!r.has("sum.unaccounted", None), "{:?}", r.findings());
}

#[test]
fn a_clipped_stem_fails_with_its_clips() {
    let (mut set, mix) = clean();
    let drums = stem_mut(&mut set, "01_Drums");
    gain(&mut drums.channels, 10f64.powf(16.0 / 20.0));
    drums
        .channels
        .iter_mut()
        .flatten()
        .for_each(|v| *v = v.clamp(-1.0, 1.0));
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.has("clip.samples", Some("01_Drums")),
        "{:?}",
        r.findings()
    );
    assert!(
        r.has("clip.flat_top", Some("01_Drums")),
        "{:?}",
        r.findings()
    );
    assert!(r.stem("01_Drums")["clipped_samples"].as_u64().unwrap() > 0);
    assert!(
        r.stdout.contains("the file was exported clipped"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stem("01_Drums")["limiter"]["verdict"], "clipped");
}

#[test]
fn file_rules_fire_on_real_files() {
    let (mut set, mix) = clean();
    let d = deliver(&set, &mix);
    let dir = d.stems_dir();
    // 16-bit keys; mono bass; a stem with spaces and no number; the drums exported twice; a
    // stem one sample short; a stem whose signal runs to the last sample.
    write_wav(
        &dir.join("03_Keys.wav"),
        &set[2].channels,
        RATE,
        WavFormat::Int(16),
    )
    .unwrap();
    let mono = vec![set[1].channels[0].clone()];
    write_wav(&dir.join("02_Bass.wav"), &mono, RATE, WavFormat::Int(24)).unwrap();
    fs::rename(dir.join("04_Vox.wav"), dir.join("Lead Vox.wav")).unwrap();
    fs::copy(dir.join("01_Drums.wav"), dir.join("05_Drums_Again.wav")).unwrap();
    let mut short = set[3].clone();
    short.channels.iter_mut().for_each(|c| {
        c.pop();
    });
    write_wav(
        &dir.join("06_Short.wav"),
        &short.channels,
        RATE,
        WavFormat::Int(24),
    )
    .unwrap();
    let cut = stem_mut(&mut set, "03_Keys");
    let n = cut.channels[0].len();
    for c in &mut cut.channels {
        for (i, v) in c.iter_mut().enumerate() {
            *v = 0.1 * (i as f64 * 0.05).sin() * f64::from(u8::from(i > n / 2));
        }
    }
    write_wav(
        &dir.join("07_Cut.wav"),
        &cut.channels,
        RATE,
        WavFormat::Int(24),
    )
    .unwrap();
    let r = d.check(false, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    for (id, stem) in [
        ("file.bit_depth", "03_Keys"),
        ("file.layout", "02_Bass"),
        ("file.naming", "Lead Vox"),
        ("file.duplicate", "05_Drums_Again"),
        ("file.length", "06_Short"),
        ("file.tail", "07_Cut"),
    ] {
        assert!(r.has(id, Some(stem)), "{id} on {stem}: {:?}", r.findings());
    }
    let files = r.report.as_ref().unwrap()["files"]["stems"]
        .as_array()
        .unwrap()
        .clone();
    let keys = files.iter().find(|f| f["name"] == "03_Keys").unwrap();
    assert_eq!(keys["bit_depth"], 16);
    let bass = files.iter().find(|f| f["name"] == "02_Bass").unwrap();
    assert_eq!(bass["channels"], 1);
}

#[test]
fn missing_preroll_and_a_long_tail_are_reported() {
    let (mut set, _) = clean();
    for s in &mut set {
        for c in &mut s.channels {
            // Start 0.2 s before the first note, and add 6 s of silence at the end.
            c.drain(..(1.8 * f64::from(RATE)) as usize);
            c.extend(std::iter::repeat_n(0.0, 6 * RATE as usize));
        }
    }
    let mix = mix_of(&set);
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.has("file.preroll", None), "{:?}", r.findings());
    let tail = r.report.as_ref().unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "file.tail")
        .cloned()
        .expect("a tail note");
    assert_eq!(tail["severity"], "info");
    // And the settings move the thresholds.
    let relaxed = deliver(&set, &mix).check(true, &["--preroll-min", "0.1", "--tail-max", "10"]);
    assert_eq!(relaxed.code, 0, "{}", relaxed.stdout);
}

#[test]
fn every_lossless_format_reads_the_same_levels() {
    // 96 FLAC blocks of 4096: symphonia 0.6.1 cannot open a FLAC stream whose STREAMINFO
    // gives a minimum block size below the maximum, which flacenc writes when the last block
    // is short (the specification leaves the last block out of the minimum; libFLAC does).
    let seconds = 96.0 * 4096.0 / f64::from(RATE);
    let set = stems(RATE, seconds);
    let keys = &set[2].channels;
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    write_wav(&p("01_int16.wav"), keys, RATE, WavFormat::Int(16)).unwrap();
    write_wav(&p("02_int24.wav"), keys, RATE, WavFormat::Int(24)).unwrap();
    write_wav(&p("03_int32.wav"), keys, RATE, WavFormat::Int(32)).unwrap();
    write_wav(&p("04_float32.wav"), keys, RATE, WavFormat::Float32).unwrap();
    wav_f64(&p("05_float64.wav"), keys, RATE);
    aiff_24(&p("06_aiff24.aif"), keys, RATE);
    flac_24(&p("07_flac24.flac"), keys, RATE);
    let r = run_in(
        dir.path(),
        &[
            "check".into(),
            dir.path().into(),
            "--json".into(),
            p("report.json").into(),
        ],
    );
    let truth = 20.0
        * keys
            .iter()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .log10();
    let expected = [
        ("01_int16", "WAV", "int", 16),
        ("02_int24", "WAV", "int", 24),
        ("03_int32", "WAV", "int", 32),
        ("04_float32", "WAV", "float", 32),
        ("05_float64", "WAV", "float", 64),
        ("06_aiff24", "AIFF", "int", 24),
        ("07_flac24", "FLAC", "int", 24),
    ];
    let report = r
        .report
        .as_ref()
        .unwrap_or_else(|| panic!("{}{}", r.stdout, r.stderr));
    for (i, (name, container, encoding, bits)) in expected.iter().enumerate() {
        let f = &report["files"]["stems"][i];
        assert_eq!(f["name"], *name);
        assert_eq!(f["container"], *container, "{name}");
        assert_eq!(f["encoding"], *encoding, "{name}");
        assert_eq!(f["bit_depth"], *bits, "{name}");
        assert_eq!(f["length_samples"], 96 * 4096, "{name}");
        let peak = r.stem(name)["sample_peak_dbfs"][0].as_f64().unwrap();
        assert!(
            (peak - truth).abs() < 0.01,
            "{name}: {peak} against {truth}"
        );
    }
    // The same audio in every file: all but the 16-bit one (rounded differently) are found as
    // duplicates of the first 24-bit-exact file.
    assert!(
        r.has("file.duplicate", Some("06_aiff24")),
        "{:?}",
        r.findings()
    );
    assert!(r.has("file.bit_depth", Some("01_int16")));
}

#[test]
fn a_stem_at_another_sample_rate_fails_by_name() {
    let (set, mix) = clean();
    let d = deliver(&set, &mix);
    let odd = stems(44_100, SECONDS);
    write_wav(
        &d.stems_dir().join("02_Bass.wav"),
        &odd[1].channels,
        44_100,
        WavFormat::Int(24),
    )
    .unwrap();
    let r = d.check(true, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.has("stems.sample_rate", Some("02_Bass")),
        "{:?}",
        r.findings()
    );
    let message = r.report.as_ref().unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "stems.sample_rate")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("runs at 44100 Hz but the mix at 48000 Hz"),
        "{message}"
    );
    assert_eq!(r.stem("02_Bass")["sample_rate"], 44_100);
    // The other stems are still compared with the mix: the bass is missing from their sum.
    assert!(r.has("sum.unaccounted", None), "{:?}", r.findings());
}

fn refused(args: Vec<OsString>, dir: &Path, reason: &str) {
    let r = run_in(dir, &args);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(reason), "{reason}: {}", r.stderr);
    assert!(r.stderr.contains("nothing was checked"), "{}", r.stderr);
    assert!(r.report.is_none());
}

#[test]
fn bad_input_is_refused_with_the_file_and_the_reason() {
    let (set, mix) = clean();
    let d = deliver(&set, &mix);
    let dir = d.dir.path();
    let stems_dir = d.stems_dir();
    let args = |paths: &[&Path]| -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["check".into()];
        a.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
        a.extend(["--json".into(), dir.join("report.json").into()]);
        a
    };
    // A truncated WAV: the header promises more than the file holds.
    let whole = fs::read(stems_dir.join("01_Drums.wav")).unwrap();
    let truncated = dir.join("truncated.wav");
    fs::write(&truncated, &whole[..whole.len() / 3]).unwrap();
    refused(
        args(&[&truncated]),
        dir,
        "truncated.wav: is truncated: its header promises 576000",
    );
    // A wrong header: text named .wav, and a RIFF/WAVE file whose format chunk is garbage.
    let text = dir.join("notes.wav");
    fs::write(&text, "these are not samples").unwrap();
    refused(
        args(&[&text]),
        dir,
        "notes.wav: is not a WAV, AIFF or FLAC file",
    );
    let mut garbage = whole[..64].to_vec();
    garbage[20..36].copy_from_slice(&[0xAB; 16]);
    let bad_fmt = dir.join("bad_fmt.wav");
    fs::write(&bad_fmt, &garbage).unwrap();
    refused(
        args(&[&bad_fmt]),
        dir,
        "bad_fmt.wav: is not a readable WAV file",
    );
    // An empty folder, a missing file, an empty file.
    let empty = dir.join("empty");
    fs::create_dir(&empty).unwrap();
    refused(args(&[&empty]), dir, "empty: holds no stem files");
    refused(
        args(&[&dir.join("gone.wav")]),
        dir,
        "gone.wav: does not exist",
    );
    let zero = dir.join("zero.wav");
    fs::write(&zero, b"").unwrap();
    refused(args(&[&zero]), dir, "zero.wav: is empty");
    // Lossy files, whatever their extension says.
    let mp3 = dir.join("01_Drums.mp3");
    fs::write(&mp3, b"ID3\x04\0\0\0\0\0\x21rest of an mp3").unwrap();
    refused(
        args(&[&mp3]),
        dir,
        "01_Drums.mp3: is MP3 (MPEG audio), a lossy format",
    );
    let ogg_named_wav = dir.join("02_Bass.wav");
    fs::write(&ogg_named_wav, b"OggS\0\x02\0\0\0\0\0\0\0\0").unwrap();
    refused(
        args(&[&ogg_named_wav]),
        dir,
        "is Ogg (Vorbis or Opus), a lossy format",
    );
    // More than two channels.
    let surround = dir.join("surround.wav");
    let six = vec![set[0].channels[0].clone(); 6];
    write_wav(&surround, &six, RATE, WavFormat::Int(24)).unwrap();
    refused(args(&[&surround]), dir, "surround.wav: has 6 channels");
    // Every file that cannot be opened is named in one run, good files alongside.
    let r = run_in(dir, &args(&[&stems_dir, &text, &mp3]));
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("(2 unusable inputs)"), "{}", r.stderr);
}

#[test]
fn an_unwritable_report_is_said_and_the_verdict_still_printed() {
    let (set, mix) = clean();
    let d = deliver(&set, &mix);
    let args: Vec<OsString> = vec![
        "check".into(),
        d.stems_dir().into(),
        "--mix".into(),
        d.mix().into(),
        "--json".into(),
        d.dir.path().join("no/such/folder/report.json").into(),
    ];
    let r = run_in(d.dir.path(), &args);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write") && r.stderr.contains("report.json"));
    assert!(r.stdout.contains("READY"), "{}", r.stdout);
}

#[test]
fn a_wrong_command_line_is_a_usage_error_not_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["check"],
        vec!["check", ".", "--window-low", "loud"],
        vec!["check", ".", "--window-low", "-2", "--window-high", "-4"],
        vec!["frobnicate"],
    ] {
        let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
        let r = run_in(dir.path(), &args);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty());
    }
}

#[test]
fn colour_is_used_only_when_asked_or_on_a_terminal() {
    let (set, mix) = clean();
    let d = deliver(&set, &mix);
    let plain = d.check(true, &[]);
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    let coloured = d.check(true, &["--color", "always"]);
    assert!(coloured.stdout.contains("\u{1b}["), "{}", coloured.stdout);
}

#[test]
fn the_demo_writes_a_clean_set_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("demo");
    let r = run_in(dir.path(), &["demo".into(), folder.clone().into()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("READY"), "{}", r.stdout);
    for name in ["01_Drums", "02_Bass", "03_Keys", "04_Vox", "Mix"] {
        assert!(folder.join(format!("{name}.wav")).is_file(), "{name}");
    }
}

#[test]
fn a_limited_stem_is_named_and_still_sums() {
    let (mut set, _) = clean();
    // The drums through a brickwall limiter (5 ms look-ahead, smooth gain) driven 8 dB into
    // their old peak: the mix is made from the limited stem, so the sum still nulls.
    let drums = stem_mut(&mut set, "01_Drums");
    let before = drums
        .channels
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    drums.channels = smooth_limit(&drums.channels, 8.0, before);
    let mix = mix_of(&set);
    let r = deliver(&set, &mix).check(true, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.problems(),
        [("limiter.stem".to_string(), Some("01_Drums".to_string()))]
    );
    assert_eq!(r.stem("01_Drums")["limiter"]["verdict"], "limited");
    assert_eq!(r.stem("02_Bass")["limiter"]["verdict"], "none");
    assert!(
        r.report.as_ref().unwrap()["sum"]["null_depth_db"]
            .as_f64()
            .unwrap()
            < -100.0
    );
}

#[test]
fn stems_that_cancel_each_other_are_warned_without_a_mix() {
    let (mut set, _) = clean();
    // Parallel layers of bass, keys and voice, inverted in stems of their own: each pair
    // cancels in the sum.
    for (i, source) in [1, 2, 3].into_iter().enumerate() {
        let mut layer = set[source].clone();
        layer.name = format!("{:02}_{}_Layer", i + 5, &set[source].name[3..]);
        gain(&mut layer.channels, -0.9);
        set.push(layer);
    }
    let mix = mix_of(&set);
    let r = deliver(&set, &mix).check(false, &[]);
    assert!(r.has("sum.cancellation", None), "{:?}", r.findings());
    let c = r.report.as_ref().unwrap()["sum"]["cancellation_db"]
        .as_f64()
        .unwrap();
    assert!(c < -3.0, "{c}");
    // Without a mix there is no null test, and the sum is judged as the master would be.
    assert!(r.report.as_ref().unwrap()["sum"]["null_depth_db"].is_null());
    assert_eq!(
        r.report.as_ref().unwrap()["master"]["name"],
        "Stem sum (no mix given)"
    );
    assert!(r.report.as_ref().unwrap()["files"]["mix"].is_null());
}

/// A look-ahead limiter with a smooth gain, as mastering limiters work: the needed gain held
/// over the look-ahead, released over 80 ms, then averaged over the look-ahead, so the gain
/// never changes within a few samples and the peaks pile up just under `ceiling`.
fn smooth_limit(x: &[Vec<f64>], drive_db: f64, ceiling: f64) -> Vec<Vec<f64>> {
    let drive = 10f64.powf(drive_db / 20.0);
    let n = x[0].len();
    let look = (0.005 * f64::from(RATE)) as usize;
    let release = 1.0 - (-1.0 / (0.08 * f64::from(RATE))).exp();
    let need: Vec<f64> = (0..n)
        .map(|i| {
            let p = x.iter().map(|c| c[i].abs()).fold(0.0, f64::max) * drive;
            if p > ceiling {
                ceiling / p
            } else {
                1.0
            }
        })
        .collect();
    let mut released = vec![1.0; n];
    let mut g = 1.0f64;
    for t in 0..n {
        let held = need[(t + 1).saturating_sub(look)..=t]
            .iter()
            .fold(1.0f64, |m, &v| m.min(v));
        g = (g + release * (1.0 - g)).min(held);
        released[t] = g;
    }
    // The gain averaged over [t + 1 - look, t] applies to sample t + 1 - look: every value in
    // the average is at most that sample's need.
    let mut out = vec![vec![0.0; n]; x.len()];
    let mut acc = 0.0;
    for t in 0..n {
        acc += released[t];
        if t >= look {
            acc -= released[t - look];
        }
        if t + 1 >= look {
            let src = t + 1 - look;
            let gain = acc / look as f64;
            for (o, c) in out.iter_mut().zip(x) {
                o[src] = c[src] * drive * gain;
            }
        }
    }
    out
}
