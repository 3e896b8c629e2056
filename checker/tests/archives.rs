//! `stemcheck check delivery.zip`: a delivery read straight from its archive gives the same
//! report as the same files unpacked, and every kind of bad archive is refused by name with
//! exit status 3, nothing written anywhere.

mod common;

use std::fs;
use std::path::Path;

use common::run::{check, Run};
use common::wave::{file, Bext, Layout, Sample};
use common::writers::{aiff_24, flac_24};
use common::zips::{archive, declare_size, mark_encrypted, overlap, zip64_claiming};
use stemcheck_checker::demo::{mix_of, stems, write_wav, WavFormat};

const RATE: u32 = 48_000;

/// A delivery in every container the checker reads: drums as 24-bit WAV, bass as RF64, keys as
/// AIFF, vox as FLAC, a fifth stem as Wave64 (the voice's echo, 20 ms later), and the mix as
/// WAV; (file name, bytes) in the order written.
fn delivery() -> Vec<(String, Vec<u8>)> {
    // 96 blocks of 4096 frames: FLAC's last block must be whole for symphonia (see cli.rs).
    let mut set = stems(RATE, 96.0 * 4096.0 / f64::from(RATE));
    let mut fifth = set[3].clone();
    fifth.name = "05_Vox_Echo".into();
    for c in &mut fifth.channels {
        let n = c.len();
        c.iter_mut().for_each(|v| *v *= 0.5);
        c.splice(0..0, std::iter::repeat_n(0.0, 960));
        c.truncate(n);
    }
    set.push(fifth);
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    write_wav(
        &p("01_Drums.wav"),
        &set[0].channels,
        RATE,
        WavFormat::Int(24),
    )
    .unwrap();
    aiff_24(&p("03_Keys.aif"), &set[2].channels, RATE);
    flac_24(&p("04_Vox.flac"), &set[3].channels, RATE);
    write_wav(&p("Mix.wav"), &mix_of(&set), RATE, WavFormat::Int(24)).unwrap();
    let mut out = vec![
        (
            "01_Drums.wav".to_string(),
            fs::read(p("01_Drums.wav")).unwrap(),
        ),
        (
            "02_Bass.wav".to_string(),
            file(
                &set[1].channels,
                RATE,
                Layout::Rf64,
                Sample::Int(24),
                Bext::None,
            ),
        ),
        (
            "03_Keys.aif".to_string(),
            fs::read(p("03_Keys.aif")).unwrap(),
        ),
        (
            "04_Vox.flac".to_string(),
            fs::read(p("04_Vox.flac")).unwrap(),
        ),
        (
            "05_Vox_Echo.w64".to_string(),
            file(
                &set[4].channels,
                RATE,
                Layout::Wave64,
                Sample::Int(24),
                Bext::None,
            ),
        ),
        ("Mix.wav".to_string(), fs::read(p("Mix.wav")).unwrap()),
    ];
    out.sort();
    out
}

/// What two reports must share: the verdict, every stem's figures, the sum-check, the
/// findings and how the mix was chosen.
fn same_report(a: &Run, b: &Run) {
    let (ja, jb) = (a.json(), b.json());
    assert_eq!(ja["verdict"], jb["verdict"]);
    assert_eq!(ja["stems"], jb["stems"]);
    assert_eq!(ja["master"], jb["master"]);
    assert_eq!(ja["sum"], jb["sum"]);
    assert_eq!(a.findings(), b.findings());
    let strip = |j: &serde_json::Value| {
        let mut j = j.clone();
        for f in j["stems"].as_array_mut().unwrap() {
            f["file"] = serde_json::Value::Null;
        }
        j["mix"]["file"] = serde_json::Value::Null;
        for c in j["mix_detection"]["candidates"].as_array_mut().unwrap() {
            c["file"] = serde_json::Value::Null;
        }
        j
    };
    assert_eq!(strip(&ja["files"]), strip(&jb["files"]));
}

#[test]
fn a_zip_delivery_gives_the_report_of_its_files_unpacked() {
    let files = delivery();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("Song_Stems");
    fs::create_dir(&folder).unwrap();
    for (name, bytes) in &files {
        fs::write(folder.join(name), bytes).unwrap();
    }
    let unpacked = check(dir.path(), &[&folder], &[]);
    assert_eq!(unpacked.code, 0, "{}{}", unpacked.stdout, unpacked.stderr);

    // In a folder of the archive, deflated but for the Wave64 stem, beside a read-me and
    // macOS's resource forks.
    let mut entries: Vec<(String, &[u8], bool)> = files
        .iter()
        .map(|(n, b)| (format!("Song_Stems/{n}"), b.as_slice(), n.ends_with(".w64")))
        .collect();
    entries.push((
        "Song_Stems/read me.txt".into(),
        b"Stems of Song, 48 kHz".as_slice(),
        false,
    ));
    entries.push((
        "__MACOSX/Song_Stems/._01_Drums.wav".into(),
        b"\0\x05\x16\x07".as_slice(),
        false,
    ));
    let refs: Vec<(&str, &[u8], bool)> = entries
        .iter()
        .map(|(n, b, s)| (n.as_str(), *b, *s))
        .collect();
    let zip = dir.path().join("delivery.zip");
    fs::write(&zip, archive(&refs)).unwrap();
    let listing = || {
        let mut l: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        l.sort();
        l
    };
    // The report of the unpacked run is there already: the zipped run rewrites it.
    let before = listing();
    let zipped = check(dir.path(), &[&zip], &[]);
    assert_eq!(zipped.code, 0, "{}{}", zipped.stdout, zipped.stderr);
    same_report(&unpacked, &zipped);
    assert_eq!(
        zipped.stem_names(),
        ["01_Drums", "02_Bass", "03_Keys", "04_Vox", "05_Vox_Echo"]
    );
    assert_eq!(zipped.json()["master"]["name"], "Mix");
    let containers: Vec<&str> = zipped.json()["files"]["stems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(containers, ["WAV", "RF64", "AIFF", "FLAC", "W64"]);
    let drums = zip.join("Song_Stems").join("01_Drums.wav");
    assert_eq!(zipped.file("01_Drums")["file"], drums.display().to_string());
    // Nothing was unpacked beside the archive.
    assert_eq!(listing(), before);
}

/// Writes `bytes` as `name` in a fresh folder and checks it: it must be refused with every
/// `reasons` in standard error, exit 3, no report.
fn refused(name: &str, bytes: &[u8], reasons: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    let r = check(dir.path(), &[&path], &[]);
    assert_eq!(r.code, 3, "{name}: {}{}", r.stdout, r.stderr);
    for reason in reasons {
        assert!(r.stderr.contains(reason), "{name}: {reason}\n{}", r.stderr);
    }
    assert!(r.stderr.contains("nothing was checked"), "{}", r.stderr);
    assert!(r.report.is_none());
    // Nothing but the archive is in the folder.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn small_stem() -> Vec<u8> {
    let set = stems(RATE, 6.0);
    file(
        &set[0].channels,
        RATE,
        Layout::Riff,
        Sample::Int(24),
        Bext::None,
    )
}

#[test]
fn a_truncated_archive_is_refused() {
    let stem = small_stem();
    let whole = archive(&[
        ("01_Drums.wav", &stem, false),
        ("02_Bass.wav", &stem, false),
    ]);
    refused(
        "cut.zip",
        &whole[..whole.len() * 2 / 3],
        &["cut.zip: is not a complete zip archive", "truncated"],
    );
}

#[test]
fn entries_leading_out_of_the_folder_are_named_and_never_written() {
    let stem = small_stem();
    let zip = archive(&[
        ("Stems/01_Drums.wav", &stem, false),
        ("../../02_Bass.wav", &stem, false),
        ("/tmp/03_Keys.wav", &stem, true),
    ]);
    refused(
        "escape.zip",
        &zip,
        &[
            "escape.zip: holds an entry named \"../../02_Bass.wav\", a path that leads out",
            "escape.zip: holds an entry named \"/tmp/03_Keys.wav\"",
            "nothing from it was written anywhere",
        ],
    );
}

#[test]
fn zip_bombs_are_stopped_before_or_while_inflating() {
    // The directory says 20 GiB: refused before anything is inflated.
    refused(
        "bomb.zip",
        &zip64_claiming("01_Drums.wav", 20 << 30),
        &["says \"01_Drums.wav\" inflates to 21474836480 bytes (20.0 GiB), past the 16 GiB"],
    );
    // An entry that inflates past the size it declares is stopped there.
    let stem = small_stem();
    let mut liar = archive(&[
        ("01_Drums.wav", &stem, false),
        ("02_Bass.wav", &stem, false),
    ]);
    declare_size(&mut liar, 1, 1000);
    refused(
        "liar.zip",
        &liar,
        &["liar.zip/02_Bass.wav: inflates past the 1000 bytes its archive declares for it"],
    );
    // Two entries sharing one compressed body (how overlapping bombs multiply).
    let mut shared = archive(&[
        ("01_Drums.wav", &stem, false),
        ("02_Bass.wav", &stem, false),
    ]);
    overlap(&mut shared, 1, 0);
    refused(
        "shared.zip",
        &shared,
        &["entries that share their compressed bytes"],
    );
}

#[test]
fn encrypted_entries_and_nested_archives_are_refused() {
    let stem = small_stem();
    let mut locked = archive(&[
        ("01_Drums.wav", &stem, false),
        ("02_Bass.wav", &stem, false),
    ]);
    mark_encrypted(&mut locked, 1);
    refused(
        "locked.zip",
        &locked,
        &["locked.zip: holds \"02_Bass.wav\" encrypted: Stemcheck takes no passwords"],
    );
    let inner = archive(&[("01_Drums.wav", &stem, false)]);
    let nested = archive(&[
        ("02_Bass.wav", &stem, false),
        ("more/stems.zip", &inner, true),
    ]);
    refused(
        "nested.zip",
        &nested,
        &["nested.zip: holds another archive, \"more/stems.zip\""],
    );
    // An empty archive, and one with no audio, say so.
    refused("empty.zip", &archive(&[]), &["holds no stem files"]);
    refused(
        "docs.zip",
        &archive(&[("notes.txt", b"hello", false)]),
        &["docs.zip: holds no stem files"],
    );
}

#[test]
fn a_damaged_entry_inside_a_good_archive_names_itself() {
    let stem = small_stem();
    let mut zip = archive(&[("01_Drums.wav", &stem, true), ("02_Bass.wav", &stem, true)]);
    // Flip a byte of the stored audio of the second entry: its checksum no longer matches.
    let end = zip.len() - 200;
    let at = zip[..end]
        .windows(4)
        .rposition(|w| w == b"data")
        .expect("a data chunk")
        + 5000;
    zip[at] ^= 0x55;
    refused(
        "damaged.zip",
        &zip,
        &["damaged.zip/02_Bass.wav: is damaged inside its archive: its checksum does not match"],
    );
    let _ = Path::new("");
}
