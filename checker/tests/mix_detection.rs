//! The mix found among the delivered files without `--mix`: the file that equals the sum of
//! the others, whatever its name; a mix with processing on it taken and explained; a second
//! version of the mix set aside rather than summed; stems alone left as they are.

mod common;

use std::fs;
use std::path::Path;

use common::run::{check, Run};
use stemcheck_checker::demo::{mix_of, stems, write_demo, write_wav, Stem, WavFormat};

const RATE: u32 = 48_000;

fn write(dir: &Path, name: &str, channels: &[Vec<f64>]) {
    write_wav(&dir.join(name), channels, RATE, WavFormat::Int(24)).unwrap();
}

fn write_stems(dir: &Path, set: &[Stem]) {
    for s in set {
        write(dir, &format!("{}.wav", s.name), &s.channels);
    }
}

fn detection(r: &Run) -> &serde_json::Value {
    &r.json()["files"]["mix_detection"]
}

fn role_of(r: &Run, name: &str) -> String {
    detection(r)["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map_or("none".into(), |c| c["role"].as_str().unwrap().to_string())
}

#[test]
fn the_demo_folder_without_mix_is_ready_with_the_mix_named() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("demo");
    write_demo(&folder).unwrap();
    let md = dir.path().join("readme.md");
    let r = check(dir.path(), &[&folder], &["--md", md.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["verdict"], "ready");
    // The mix is the master, not a fifth stem: the sum is not doubled, and it nulls.
    assert_eq!(r.stem_names(), ["01_Drums", "02_Bass", "03_Keys", "04_Vox"]);
    assert_eq!(r.json()["master"]["name"], "Mix");
    assert!(r.json()["sum"]["null_depth_db"].as_f64().unwrap() <= -120.0);
    let d = detection(&r);
    assert_eq!(
        (d["method"].as_str(), d["mix"].as_str()),
        (Some("found"), Some("Mix"))
    );
    assert_eq!(role_of(&r, "Mix"), "mix");
    assert!(d["compared_s"].as_f64().unwrap() >= 4.0);
    let info = r.finding("file.mix", None).expect("a file.mix note");
    assert_eq!(info["severity"], "info");
    let message = info["message"].as_str().unwrap();
    assert!(
        message.starts_with("Mix was taken as the mix: it equals the sum of the 4 other files"),
        "{message}"
    );
    assert!(message.contains("its name says so too"), "{message}");
    assert!(
        r.stdout
            .contains("The mix was found among the files, Mix: it equals the sum of the others"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("READY"), "{}", r.stdout);
    let readme = fs::read_to_string(md).unwrap();
    assert!(
        readme.contains("The mix, Mix, was found among the files"),
        "{readme}"
    );
}

#[test]
fn the_mix_is_found_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 12.0);
    write_stems(dir.path(), &set);
    write(dir.path(), "00_Reference.wav", &mix_of(&set));
    let r = check(dir.path(), &[dir.path()], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["master"]["name"], "00_Reference");
    let message = r.finding("file.mix", None).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("whatever its name"), "{message}");
}

#[test]
fn a_limited_mix_is_taken_and_its_limiter_found_not_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 12.0);
    write_stems(dir.path(), &set);
    // The mix through a soft clipper driven 6 dB: it does not null with the stems any more.
    let mix: Vec<Vec<f64>> = mix_of(&set)
        .iter()
        .map(|c| c.iter().map(|v| 0.5 * (2.0 * v).tanh()).collect())
        .collect();
    write(dir.path(), "Song_Mix.wav", &mix);
    let r = check(dir.path(), &[dir.path()], &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["master"]["name"], "Song_Mix");
    assert_eq!(r.stem_names().len(), 4, "the mix is not a stem");
    let m = &detection(&r)["candidates"][0];
    assert_eq!(
        (m["role"].as_str(), m["nulls"].as_bool()),
        (Some("mix"), Some(false))
    );
    assert!(m["likeness_db"].as_f64().unwrap() <= -10.0, "{m}");
    let message = r.finding("file.mix", None).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("though it does not null with them at unity"),
        "{message}"
    );
    // The sum-check says what differs: the stems do not null against the processed mix.
    assert!(r.finding("sum.null", None).is_some(), "{:?}", r.findings());
    // Not doubled: the stem sum lands where the stems do, below the mix's clipping.
    let sum_tp = r.json()["sum"]["sum_true_peak_dbtp"].as_f64().unwrap();
    assert!(sum_tp < -4.0, "{sum_tp}");
}

#[test]
fn a_mastered_copy_beside_the_mix_is_set_aside_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 12.0);
    write_stems(dir.path(), &set);
    let mix = mix_of(&set);
    write(dir.path(), "Mix.wav", &mix);
    let mastered: Vec<Vec<f64>> = mix
        .iter()
        .map(|c| c.iter().map(|v| 0.7 * (1.8 * v).tanh()).collect())
        .collect();
    write(dir.path(), "Master.wav", &mastered);
    let r = check(dir.path(), &[dir.path()], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["master"]["name"], "Mix");
    assert_eq!(r.stem_names(), ["01_Drums", "02_Bass", "03_Keys", "04_Vox"]);
    assert_eq!(role_of(&r, "Mix"), "mix");
    assert_eq!(role_of(&r, "Master"), "set_aside");
    assert_eq!(r.problems(), [("file.mix".to_string(), None)]);
    let warn = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "file.mix" && f["severity"] == "warn")
        .unwrap();
    let message = warn["message"].as_str().unwrap();
    assert!(
        message.starts_with("Master looks like a mix too"),
        "{message}"
    );
    assert!(
        message.contains("left out of the stems, so the sum is not doubled"),
        "{message}"
    );
    assert!(message.contains("--mix"), "{message}");
    assert!(r.json()["sum"]["null_depth_db"].as_f64().unwrap() <= -120.0);
}

#[test]
fn stems_alone_have_no_mix_and_a_stem_named_like_one_is_checked_as_a_stem() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = stems(RATE, 12.0);
    set[3].name = "04_Vox_Bounce".into();
    write_stems(dir.path(), &set);
    let r = check(dir.path(), &[dir.path()], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["master"]["name"], "Stem sum (no mix given)");
    assert_eq!(detection(&r)["method"], "none");
    assert_eq!(r.stem_names().len(), 4);
    assert_eq!(role_of(&r, "04_Vox_Bounce"), "stem");
    let note = r.finding("file.mix", Some("04_Vox_Bounce")).unwrap();
    assert_eq!(note["severity"], "info");
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("is named like a mix, but its audio is not the sum of the other files"),
        "{note}"
    );
    assert!(
        r.stdout
            .contains("No mix given, and none of the files is one"),
        "{}",
        r.stdout
    );
}

#[test]
fn with_mix_given_a_copy_of_it_among_the_stems_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let stems_dir = dir.path().join("stems");
    fs::create_dir(&stems_dir).unwrap();
    let set = stems(RATE, 12.0);
    write_stems(&stems_dir, &set);
    let mix = mix_of(&set);
    write(&stems_dir, "Song_Print.wav", &mix);
    write(dir.path(), "Mix.wav", &mix);
    let mix_path = dir.path().join("Mix.wav");
    let r = check(
        dir.path(),
        &[&stems_dir],
        &["--mix", mix_path.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(detection(&r)["method"], "given");
    assert_eq!(role_of(&r, "Song_Print"), "set_aside");
    assert_eq!(r.stem_names().len(), 4);
    assert!(r.json()["sum"]["null_depth_db"].as_f64().unwrap() <= -120.0);
}
