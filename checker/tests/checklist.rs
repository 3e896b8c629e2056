//! The delivery checklist from `stemcheck check`: on files it checks what the plugin cannot
//! (bit depth, lengths, BWF start times, pre-roll, tail, names), passes a clean delivery and
//! fails a faulty one point by point, naming the findings.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::wave::{file, Bext, Layout, Sample};
use serde_json::Value;
use stemcheck_checker::demo::{mix_of, stems, write_wav, Stem, WavFormat};

const RATE: u32 = 48_000;

/// Runs `stemcheck check <dir>/stems [--mix <dir>/Mix.wav]`; returns the JSON report and the
/// read-me.
fn check(dir: &Path, with_mix: bool) -> (Value, String) {
    check_with_output(dir, with_mix).0
}

/// [`check`], with what it printed.
fn check_with_output(dir: &Path, with_mix: bool) -> ((Value, String), String) {
    let json = dir.join("report.json");
    let md = dir.join("readme.md");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stemcheck"));
    cmd.arg("check").arg(dir.join("stems"));
    if with_mix {
        cmd.arg("--mix").arg(dir.join("Mix.wav"));
    }
    cmd.arg("--json").arg(&json).arg("--md").arg(&md);
    let out = cmd.env("NO_COLOR", "1").output().expect("the binary runs");
    let text = fs::read_to_string(&json).unwrap_or_else(|_| {
        panic!(
            "no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        (
            serde_json::from_str(&text).expect("valid JSON"),
            fs::read_to_string(md).expect("a read-me"),
        ),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The state of checklist point `id`, and the findings it names.
fn point(report: &Value, id: &str) -> (String, Vec<String>) {
    let item = report["checklist"]
        .as_array()
        .expect("a checklist")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no point {id}: {}", report["checklist"]));
    (
        item["state"].as_str().unwrap().to_string(),
        item["finding_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
    )
}

fn write_set(dir: &Path, set: &[Stem]) {
    fs::create_dir_all(dir.join("stems")).unwrap();
    for s in set {
        let path = dir.join("stems").join(format!("{}.wav", s.name));
        write_wav(&path, &s.channels, RATE, WavFormat::Int(24)).unwrap();
    }
    write_wav(&dir.join("Mix.wav"), &mix_of(set), RATE, WavFormat::Int(24)).unwrap();
}

#[test]
fn a_clean_delivery_passes_every_point_the_files_show() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 12.0);
    write_set(dir.path(), &set);
    let (r, md) = check(dir.path(), true);
    for id in [
        "stems.peaks",
        "signal.clean",
        "sum.nulls",
        "master.no_processing",
        "stems.phase",
        "stems.sample_rate",
        "files.format",
        "files.length",
        "files.preroll",
        "files.tail",
        "files.names",
        "stems.returns",
        "pass.complete",
    ] {
        assert_eq!(point(&r, id), ("passed".into(), vec![]), "{id}");
    }
    // Plain WAV carries no start time: the sender confirms it. No notes: the same.
    assert_eq!(point(&r, "files.start").0, "not_checkable");
    assert_eq!(point(&r, "readme.notes").0, "not_checkable");
    assert!(md.contains("## Delivery checklist"), "{md}");
    assert!(
        md.find("## Delivery checklist") < md.find("## Stems"),
        "the checklist is at the top"
    );
    // The session facts the files give: rate and length; no tempo.
    assert_eq!(r["session"]["sample_rate"], 48_000);
    assert_eq!(r["session"]["tempo_bpm"], Value::Null);
}

#[test]
fn a_faulty_delivery_fails_the_points_with_their_findings() {
    let dir = tempfile::tempdir().unwrap();
    let set = stems(RATE, 12.0);
    write_set(dir.path(), &set);
    let stems_dir = dir.path().join("stems");
    // 16-bit keys, a stem one sample short, a name with a space and no number.
    write_wav(
        &stems_dir.join(format!("{}.wav", set[2].name)),
        &set[2].channels,
        RATE,
        WavFormat::Int(16),
    )
    .unwrap();
    let mut short = set[3].channels.clone();
    short.iter_mut().for_each(|c| {
        c.pop();
    });
    fs::remove_file(stems_dir.join(format!("{}.wav", set[3].name))).unwrap();
    write_wav(
        &stems_dir.join("Lead Vox.wav"),
        &short,
        RATE,
        WavFormat::Int(24),
    )
    .unwrap();
    let ((r, md), printed) = check_with_output(dir.path(), false);
    assert!(
        printed.contains("  FAIL  24-bit or 32-bit float, lossless (file.bit_depth)"),
        "{printed}"
    );
    for (id, finding) in [
        ("files.format", "file.bit_depth"),
        ("files.length", "file.length"),
        ("files.names", "file.naming"),
    ] {
        let (state, ids) = point(&r, id);
        assert_eq!(state, "failed", "{id}");
        assert!(ids.contains(&finding.to_string()), "{id}: {ids:?}");
        assert!(md.contains(&format!("[`{finding}`](#findings)")), "{md}");
    }
    // Without a mix the stems cannot be compared with one.
    assert_eq!(point(&r, "sum.nulls").0, "not_checkable");
}

#[test]
fn bwf_start_times_decide_the_start_point() {
    let set = stems(RATE, 6.0);
    let write = |times: [u64; 2]| {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("stems")).unwrap();
        for (s, t) in set.iter().take(2).zip(times) {
            let bytes = file(
                &s.channels,
                RATE,
                Layout::Riff,
                Sample::Int(24),
                Bext::Before(t),
            );
            fs::write(
                dir.path().join("stems").join(format!("{}.wav", s.name)),
                bytes,
            )
            .unwrap();
        }
        dir
    };
    let same = write([480_000, 480_000]);
    assert_eq!(
        point(&check(same.path(), false).0, "files.start"),
        ("passed".into(), vec![])
    );
    let apart = write([480_000, 480_100]);
    assert_eq!(
        point(&check(apart.path(), false).0, "files.start"),
        ("failed".into(), vec!["file.start".to_string()])
    );
}
