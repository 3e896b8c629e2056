//! The delivery read-me through a real CLAP host: the session's facts from the host's
//! transport (tempo, signature, bars, a tempo change, a host that sends no tempo), the brief
//! typed into the saved state (hostile text included) surviving a save and a load and coming
//! out intact in both report files, and the delivery checklist of a clean and a faulty
//! session.

mod common;

use common::clap_host::*;
use common::rig::next_report;
use common::state::{configure_master, decode_state, encode_state, field};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use stemcheck::report::{render_markdown, stem_note, Brief, CheckState, Report};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const RATE: f64 = 48_000.0;
const BLOCK: usize = 480;

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for a whole test: one test's instances never show up in another test's report.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A stereo sine at `amp` whose period (48 samples) puts a sample on every crest.
fn sine(amp: f32, frames: usize) -> Vec<Vec<f32>> {
    let ch: Vec<f32> = (0..frames)
        .map(|i| amp * (i as f32 * std::f32::consts::TAU / 48.0).sin())
        .collect();
    vec![ch.clone(), ch]
}

/// Plays `[from, to)` on every instance block by block (stems first, then the master, as a
/// DAW's graph does), `audio[i]` going to instance `i`, then stops; returns the next report.
fn play_and_report(
    instances: &mut [&mut PluginInstance],
    audio: &[Vec<Vec<f32>>],
    from: i64,
    to: i64,
    dir: &Path,
    seen: &mut BTreeSet<std::path::PathBuf>,
    what: &str,
) -> (Report, String, Value) {
    let mut pos = from;
    while pos < to {
        let len = BLOCK.min((to - pos) as usize);
        let at = (pos - from) as usize;
        for (p, a) in instances.iter_mut().zip(audio) {
            let input: Vec<Vec<f32>> = a.iter().map(|c| c[at..at + len].to_vec()).collect();
            p.process(
                &input,
                Some(TransportInfo {
                    playing: true,
                    pos_samples: pos,
                    sample_rate: RATE,
                }),
            );
        }
        pos += len as i64;
        // About five times real time: the master's analysis keeps up, as with a real host.
        std::thread::sleep(std::time::Duration::from_micros(2_000));
    }
    for _ in 0..3 {
        for p in instances.iter_mut() {
            p.process(
                &[vec![0.0; 256], vec![0.0; 256]],
                Some(TransportInfo {
                    playing: false,
                    pos_samples: to,
                    sample_rate: RATE,
                }),
            );
        }
    }
    let before = seen.clone();
    let report = next_report(dir, seen, what);
    let json = seen
        .difference(&before)
        .next()
        .expect("the new report")
        .clone();
    let md = std::fs::read_to_string(json.with_extension("md")).expect("a read-me beside it");
    let raw = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("JSON");
    (report, md, raw)
}

/// Sets persisted string fields through the state, as a host restoring a session does.
fn set_fields(p: &mut PluginInstance, fields: &[(&str, &str)]) {
    let mut state = decode_state(&p.save_state());
    for (key, text) in fields {
        state["fields"][*key] = field(json!(text));
    }
    p.load_state(&encode_state(&state))
        .expect("the state loads");
}

fn master(bundle: &ClapBundle, dir: &Path) -> PluginInstance {
    let mut m = PluginInstance::new_with_track_name(bundle, PLUGIN_ID, "Mix Bus");
    configure_master(&mut m, dir);
    m.activate(RATE, 512, 2);
    m
}

#[test]
fn session_facts_come_from_the_hosts_transport() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let dir = tempfile::tempdir().unwrap();
    let mut seen = BTreeSet::new();
    let mut m = master(&bundle, dir.path());
    // 120 bpm in 3/4, dropping to 90 bpm at 5 s; one second of pre-roll before the song.
    m.set_host_music(HostMusic {
        tempo: Some(120.0),
        time_sig: Some((3, 4)),
        beats_timeline: true,
        tempo_change: Some((240_000, 90.0)),
    });
    let audio = [sine(0.5, 528_000)];
    let (r, md, _) = play_and_report(
        &mut [&mut m],
        &audio,
        -48_000,
        480_000,
        dir.path(),
        &mut seen,
        "tempo change",
    );
    let s = &r.session;
    assert_eq!(s.host_track_name.as_deref(), Some("Mix Bus"));
    assert_eq!(s.sample_rate, Some(48_000));
    assert_eq!(s.tempo_bpm, Some(120.0));
    assert_eq!(s.tempo_end_bpm, Some(90.0));
    assert_eq!(
        (s.tempo_min_bpm, s.tempo_max_bpm),
        (Some(90.0), Some(120.0))
    );
    assert_eq!(s.tempo_changed, Some(true));
    assert_eq!(s.time_signature.as_deref(), Some("3/4"));
    assert_eq!(s.time_signature_changed, Some(false));
    // −1 s at 120 bpm = −2 quarter notes: the second beat of bar 0 (the bar before bar 1).
    let start = s.start.clone().expect("a start");
    assert_eq!(start.samples, -48_000);
    assert_eq!(start.time, "-0:01.000");
    assert_eq!((start.bar, start.beat), (Some(0), Some(2.0)));
    // 5 s at 120 (10 quarters) + 5 s at 90 (7.5) = 17.5 quarters = bar 6, beat 3.5 in 3/4.
    let end = s.end.clone().expect("an end");
    assert_eq!(end.samples, 480_000);
    assert_eq!((end.bar, end.beat), (Some(6), Some(3.5)));
    assert_eq!(s.length_samples, Some(528_000));
    assert_eq!(s.length.as_deref(), Some("0:11.000"));
    assert!(
        md.contains(
            "| Tempo | 120 bpm at the start, **changes during the pass** (90 to 120 bpm, 90 at \
             the end) |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| Pass start | bar 0, beat 2 — -0:01.000 (sample -48000) |"),
        "{md}"
    );
    assert!(md.contains("| Master track | Mix Bus |"), "{md}");

    // A host that sends no tempo, signature or beats: null, never a guess.
    m.set_host_music(HostMusic::none());
    let audio = [sine(0.5, 96_000)];
    let (r, md, raw) = play_and_report(
        &mut [&mut m],
        &audio,
        0,
        96_000,
        dir.path(),
        &mut seen,
        "no tempo",
    );
    let s = &r.session;
    assert_eq!(s.tempo_bpm, None);
    assert_eq!(s.tempo_changed, None);
    assert_eq!(s.time_signature, None);
    let start = s.start.clone().expect("a start");
    assert_eq!((start.samples, start.bar, start.beat), (0, None, None));
    assert_eq!(s.length.as_deref(), Some("0:02.000"));
    let json = raw;
    assert_eq!(json["session"]["tempo_bpm"], Value::Null);
    assert_eq!(json["session"]["time_signature"], Value::Null);
    assert_eq!(json["session"]["start"]["bar"], Value::Null);
    assert!(md.contains("| Tempo | not sent by the host |"), "{md}");
}

/// Text a user might type, and text meant to break things.
fn hostile() -> (String, String, String, String) {
    let title =
        "# Title | with `ticks` <b>bold</b> \"quotes\" \u{202E}txet\u{202C} \u{0}end".into();
    let artist = "Ünïcödé — عربي שלום 日本 *star* _under_ [link](http://x)".into();
    let mut notes = String::from(
        "## Not a heading\n| not | a | table |\n|---|---|---|\n```\ncode fence\n```\n    indented\n\
         - item\n1. item\n> quote\n<script>alert(1)</script>\n\r\nback\\slash\u{7}\n\n",
    );
    // Up to the cap, and beyond it.
    notes.push_str(&"long note ".repeat(1_100));
    let note = "Kick + sub | no limiter\n# baked: EQ `x` </td></tr>".into();
    (title, artist, notes, note)
}

#[test]
fn a_hostile_brief_survives_the_state_and_both_report_files() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let dir = tempfile::tempdir().unwrap();
    let mut seen = BTreeSet::new();
    let (title, artist, notes, note) = hostile();

    // The master's brief and the stem's note, typed into their states.
    let mut first = PluginInstance::new(&bundle, PLUGIN_ID);
    configure_master(&mut first, dir.path());
    let mut state = decode_state(&first.save_state());
    state["fields"]["brief_title"] = field(json!(title));
    state["fields"]["brief_artist"] = field(json!(artist));
    state["fields"]["brief_notes"] = field(json!(notes));
    first.load_state(&encode_state(&state)).expect("loads");
    // Saved, then loaded into a fresh instance: the same text.
    let saved = first.save_state();
    drop(first);
    let mut m = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
    m.load_state(&saved).expect("a saved state loads");
    let back = decode_state(&m.save_state());
    for (key, text) in [
        ("brief_title", &title),
        ("brief_artist", &artist),
        ("brief_notes", &notes),
    ] {
        assert_eq!(back["fields"][key], field(json!(text)), "{key}");
    }
    let mut stem = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "01_Kick");
    let mut st = decode_state(&stem.save_state());
    st["fields"]["stem_note"] = field(json!(note));
    stem.load_state(&encode_state(&st)).expect("loads");
    let saved = stem.save_state();
    drop(stem);
    let mut stem = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "01_Kick");
    stem.load_state(&saved).expect("loads");
    assert_eq!(
        decode_state(&stem.save_state())["fields"]["stem_note"],
        field(json!(note))
    );
    m.activate(RATE, 512, 2);
    stem.activate(RATE, 512, 2);
    // The stem's report thread posts its note within a tenth of a second.
    std::thread::sleep(std::time::Duration::from_millis(400));

    let audio = [sine(0.3, 96_000), sine(0.3, 96_000)];
    let (r, md, raw) = play_and_report(
        &mut [&mut stem, &mut m],
        &audio,
        0,
        96_000,
        dir.path(),
        &mut seen,
        "hostile brief",
    );
    // The JSON parses (next_report did) and holds the text, cleaned and capped.
    let expected = Brief {
        title: title.clone(),
        artist: artist.clone(),
        notes: notes.clone(),
    }
    .report();
    assert_eq!(r.brief, expected);
    assert_eq!(raw["brief"]["title"], json!(expected.title));
    assert_eq!(raw["brief"]["notes"], json!(expected.notes));
    assert_eq!(raw["stems"][0]["note"], json!(stem_note(&note)));
    let kept = expected.notes.chars().count();
    assert!((9_990..=10_000).contains(&kept), "capped at 10 000: {kept}");
    assert!(expected.title.contains("txet") && !expected.title.contains('\u{202E}'));
    assert!(!expected.title.contains('\u{0}'));
    assert_eq!(r.stems.len(), 1);
    assert_eq!(r.stems[0].note, stem_note(&note));
    assert!(r.stems[0].note.contains("Kick + sub | no limiter"));

    // The read-me's structure is that of the same report with a plain brief: the same
    // headings, the same table rows, and the notes all inside their quote.
    let mut plain = r.clone();
    plain.brief.title = "t".into();
    plain.brief.artist = "a".into();
    plain.brief.notes = "n".into();
    plain.stems[0].note = "x".into();
    let plain_md = render_markdown(&plain);
    assert_eq!(
        md,
        render_markdown(&r),
        "the file is the report's rendering"
    );
    let headings = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with('#'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(headings(&md), headings(&plain_md));
    let rows = |t: &str| t.lines().filter(|l| l.starts_with('|')).count();
    assert_eq!(rows(&md), rows(&plain_md));
    // Every table row has its columns: the unescaped pipes are the row's own.
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    for (a, b) in md
        .lines()
        .filter(|l| l.starts_with('|'))
        .zip(plain_md.lines().filter(|l| l.starts_with('|')))
    {
        assert_eq!(cells(a), cells(b), "{a}\n{b}");
    }
    let quote: Vec<&str> = md
        .lines()
        .skip_while(|l| *l != "Notes:")
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(quote.len() > 10, "{quote:?}");
    assert!(quote.iter().all(|l| l.starts_with('>')), "{quote:?}");
    assert!(!md.contains("<script>") && !md.contains("<b>") && !md.contains("</td>"));
    assert!(!md.contains('\u{0}') && !md.contains('\u{202E}') && !md.contains('\u{7}'));
    // Code fences cannot open: no line of the read-me starts with backticks.
    assert!(!md.lines().any(|l| l.trim_start().starts_with("```")));
    assert!(
        md.contains(
            "- **01\\_Kick**: Kick + sub \\| no limiter ↵ # baked: EQ \\`x\\` \\</td\\>\\</tr\\>"
        ),
        "{md}"
    );
}

#[test]
fn the_checklist_passes_a_clean_session_and_fails_a_faulty_one() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let dir = tempfile::tempdir().unwrap();
    let mut seen = BTreeSet::new();
    let mut m = master(&bundle, dir.path());
    set_fields(
        &mut m,
        &[
            ("brief_title", "Night Drive"),
            ("brief_artist", "The Examples"),
            (
                "brief_notes",
                "Target: streaming, about -14 LUFS after mastering.\nMood: dark, driving.",
            ),
        ],
    );
    let mut stem = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "01_Bass");
    set_fields(
        &mut stem,
        &[("stem_note", "DI bass and amp, light compression printed")],
    );
    stem.activate(RATE, 512, 2);
    // The stem's report thread posts its note within a tenth of a second.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let state = |r: &Report, id: &str| {
        r.checklist
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} in {:?}", r.checklist))
            .clone()
    };
    // Clean: one stem at −4.4 dBFS, and the master carrying exactly it (unity): both in the
    // −6…−3 dBFS window.
    let x = sine(0.6, 144_000);
    let (r, md, _) = play_and_report(
        &mut [&mut stem, &mut m],
        &[x.clone(), x],
        0,
        144_000,
        dir.path(),
        &mut seen,
        "clean",
    );
    for id in [
        "signal.clean",
        "stems.peaks",
        "master.level",
        "stems.sample_rate",
    ] {
        let c = state(&r, id);
        assert_eq!(c.state, CheckState::Passed, "{c:?}");
        assert!(c.finding_ids.is_empty());
    }
    for id in ["files.format", "files.length", "files.tail", "files.names"] {
        assert_eq!(state(&r, id).state, CheckState::NotCheckable, "{id}");
    }
    assert_eq!(state(&r, "readme.notes").state, CheckState::Passed);
    assert_eq!(r.brief.title, "Night Drive");
    assert_eq!(
        r.stems[0].note,
        "DI bass and amp, light compression printed"
    );
    assert_eq!(r.session.tempo_bpm, Some(120.0));
    // The sample read-me in the README is this one.
    println!("---- sample read-me ----\n{md}---- end ----");
    let top = md.find("## Delivery checklist").expect("a checklist");
    assert!(
        top < md.find("## Master").unwrap(),
        "the checklist comes first"
    );

    // Faulty: the stem clips (and so does the master that carries it).
    let y = sine(1.2, 144_000);
    let (r, md, _) = play_and_report(
        &mut [&mut stem, &mut m],
        &[y.clone(), y],
        0,
        144_000,
        dir.path(),
        &mut seen,
        "clipping",
    );
    let c = state(&r, "signal.clean");
    assert_eq!(c.state, CheckState::Failed);
    assert!(c.finding_ids.contains(&"clip.samples".to_string()), "{c:?}");
    assert!(r.findings.iter().any(|f| f.id == "clip.samples"));
    let p = state(&r, "stems.peaks");
    assert_eq!(p.state, CheckState::Failed);
    assert!(
        p.finding_ids.contains(&"truepeak.over".to_string()),
        "{p:?}"
    );
    assert!(md.contains("[`clip.samples`](#findings)"), "{md}");
    assert!(md.contains("## Findings"));
}
