//! What a careless or unusual host does, through a real CLAP host: activations at any sample
//! rate (1 Hz to 3 MHz, 1234.5678 Hz as the validators use), reactivation in and out of the
//! metered range, host calls in odd orders, the host's bypass, and parameters set as unrounded
//! normalised values and restored through a state, as JUCE-based hosts do. A panic inside the
//! plugin would abort this test process (it cannot unwind through the CLAP callbacks), so
//! every test here that ends has also shown that nothing panicked.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::clap_host::*;
use common::state::configure_master;
use stemcheck::report::{Report, StemReport};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const MAX_FRAMES: u32 = 512;
const MASTER_RATE: f64 = 48_000.0;
/// Generous: a loaded machine slows the debug build's analysis thread many times over.
const REPORT_TIMEOUT: Duration = Duration::from_secs(30);
/// Block lengths a pass cycles through.
const BLOCKS: [usize; 5] = [1, 7, 333, 512, 64];

/// Sample rates a host may ask for, with whether Stemcheck meters at them.
const RATES: [(f64, bool); 12] = [
    (0.5, false),
    (1.0, false),
    (1_234.567_8, false),
    (4_000.0, false),
    (7_999.0, false),
    (8_000.0, true),
    (44_100.0, true),
    (192_000.0, true),
    (768_000.0, true),
    (768_001.0, false),
    (1_000_000.0, false),
    (3_000_000.0, false),
];

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time: every instance of a test has gone before the next test's master reads
/// the registry.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A signal with everything a pass-through can get wrong: overs above full scale, subnormals,
/// negative zero, and a sine in between.
fn awkward(pos: usize, len: usize, ch: usize) -> Vec<f32> {
    (pos..pos + len)
        .map(|i| match i % 97 {
            0 => 1.5,
            1 => -f32::MIN_POSITIVE / 4.0, // subnormal
            2 => f32::from_bits(1),        // the smallest subnormal
            3 => -0.0,
            _ => ((i as f32) * (0.01 + 0.003 * ch as f32)).sin() * 0.5,
        })
        .collect()
}

fn block(pos: usize, len: usize) -> Vec<Vec<f32>> {
    (0..2).map(|ch| awkward(pos, len, ch)).collect()
}

fn bits(x: &[Vec<f32>]) -> Vec<Vec<u32>> {
    x.iter()
        .map(|c| c.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The plugin's output for `input`: untouched except subnormals, which leave as zero (SPEC 2),
/// whether the instance meters, is bypassed, or runs at a rate it does not meter.
fn assert_passed_through(what: &str, input: &[Vec<f32>], output: &[Vec<f32>], metered: bool) {
    let want: Vec<Vec<f32>> = input
        .iter()
        .map(|c| {
            c.iter()
                .map(|&v| if v.is_subnormal() { 0.0 } else { v })
                .collect()
        })
        .collect();
    assert!(
        bits(output) == bits(&want),
        "{what}: the audio was changed (metering: {metered})"
    );
}

fn transport(playing: bool, pos: usize, rate: f64) -> Option<TransportInfo> {
    Some(TransportInfo {
        playing,
        pos_samples: pos as i64,
        sample_rate: rate,
    })
}

/// A master at 48 kHz writing a report at every stop, and stem instances at any rates.
struct Session {
    master: PluginInstance,
    stems: Vec<(String, f64, PluginInstance)>,
    dir: tempfile::TempDir,
    seen: BTreeSet<PathBuf>,
    bundle: ClapBundle,
}

impl Session {
    fn new() -> Self {
        let bundle = ClapBundle::load(&bundle_path());
        let dir = tempfile::tempdir().expect("a temporary report folder");
        let mut master = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
        configure_master(&mut master, dir.path());
        master.activate(MASTER_RATE, MAX_FRAMES, 2);
        Self {
            master,
            stems: Vec::new(),
            dir,
            seen: BTreeSet::new(),
            bundle,
        }
    }

    /// Adds a stem named `name`, activated at `rate` (the activation must succeed: the host
    /// harness panics otherwise).
    fn add(&mut self, name: &str, rate: f64) {
        let mut p = PluginInstance::new_with_track_name(&self.bundle, PLUGIN_ID, name);
        p.activate(rate, MAX_FRAMES, 2);
        self.stems.push((name.to_owned(), rate, p));
    }

    /// Plays `frames` frames from position 0 through every instance, checks each stem's
    /// output against `expect_metered(name, rate)`, stops, and returns the master's report.
    fn pass(&mut self, what: &str, frames: usize, metered: impl Fn(&str, f64) -> bool) -> Report {
        let mut pos = 0;
        for &len in BLOCKS.iter().cycle() {
            if pos >= frames {
                break;
            }
            let len = len.min(frames - pos);
            let input = block(pos, len);
            self.master
                .process(&input, transport(true, pos, MASTER_RATE));
            for (name, rate, p) in &mut self.stems {
                let out = p.process(&input, transport(true, pos, *rate));
                assert_passed_through(
                    &format!("{what}: {name} at {rate} Hz, block at {pos}"),
                    &input,
                    &out,
                    metered(name, *rate),
                );
            }
            pos += len;
        }
        let silence = vec![vec![0.0f32; 64]; 2];
        for _ in 0..3 {
            for (_, rate, p) in &mut self.stems {
                p.process(&silence, transport(false, pos, *rate));
            }
            self.master
                .process(&silence, transport(false, pos, MASTER_RATE));
        }
        self.wait_for_report(what)
    }

    fn wait_for_report(&mut self, what: &str) -> Report {
        let start = Instant::now();
        loop {
            let files: BTreeSet<PathBuf> = std::fs::read_dir(self.dir.path())
                .expect("the report folder lists")
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if let Some(new) = files.difference(&self.seen).next().cloned() {
                self.seen.insert(new.clone());
                let text = std::fs::read_to_string(&new).expect("the report reads");
                let report: Report = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{what}: not a report ({e}):\n{text}"));
                println!(
                    "{what}: report after {:?}, verdict {}",
                    start.elapsed(),
                    report.verdict.as_str()
                );
                for f in &report.findings {
                    println!(
                        "  {} {} {:?}: {}",
                        f.severity.as_str(),
                        f.id,
                        f.stem,
                        f.message
                    );
                }
                return report;
            }
            assert!(
                start.elapsed() < REPORT_TIMEOUT,
                "{what}: no report after {REPORT_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn stem<'a>(r: &'a Report, name: &str) -> &'a StemReport {
    r.stems
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the report"))
}

fn has(r: &Report, id: &str, stem: Option<&str>) -> bool {
    r.findings
        .iter()
        .any(|f| f.id == id && f.stem.as_deref() == stem)
}

fn rate_name(rate: f64) -> String {
    format!("rate_{rate}")
}

fn metered_rate(rate: f64) -> bool {
    RATES
        .iter()
        .find(|(r, _)| *r == rate)
        .map(|&(_, m)| m)
        .unwrap_or((8_000.0..=768_000.0).contains(&rate))
}

#[test]
fn any_sample_rate_activates_passes_audio_through_and_says_whether_it_meters() {
    let _serial = serial();
    let mut session = Session::new();
    for (rate, _) in RATES {
        session.add(&rate_name(rate), rate);
    }
    let report = session.pass("every rate", 4_096, |_, rate| metered_rate(rate));
    for (rate, metered) in RATES {
        let name = rate_name(rate);
        let s = stem(&report, &name);
        assert!(s.alive, "{name}: shown as stale");
        assert_eq!(s.levels.unmetered, !metered, "{name}: unmetered flag");
        assert_eq!(
            has(&report, "signal.unmetered", Some(&name)),
            !metered,
            "{name}: signal.unmetered"
        );
        assert!(!s.levels.bypassed, "{name}");
        if metered {
            // It measured what it was fed: the overs at 1.5 (+3.52 dBFS) on both channels.
            let peak = s.levels.sample_peak_dbfs[0].expect("a level");
            assert!((peak - 3.52).abs() < 0.01, "{name}: sample peak {peak}");
            assert!(s.levels.clipped_samples > 0, "{name}");
        } else {
            assert_eq!(s.levels.sample_peak_dbfs, vec![None, None], "{name}");
            assert_eq!(s.levels.clipped_samples, 0, "{name}");
            assert!(!has(&report, "stem.silent", Some(&name)), "{name}");
            let f = report
                .findings
                .iter()
                .find(|f| f.id == "signal.unmetered" && f.stem.as_deref() == Some(&name))
                .unwrap();
            let want = (rate * 100.0).round() / 100.0;
            assert_eq!(f.value, Some(want), "{name}: the rate in the finding");
        }
    }
}

#[test]
fn an_unmetered_master_says_so_and_passes_audio_through() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let dir = tempfile::tempdir().expect("a temporary report folder");
    let mut master = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
    configure_master(&mut master, dir.path());
    master.activate(1_234.567_8, MAX_FRAMES, 2);
    let mut pos = 0;
    for &len in BLOCKS.iter().cycle().take(40) {
        let input = block(pos, len);
        let out = master.process(&input, transport(true, pos, 1_234.567_8));
        assert_passed_through("unmetered master", &input, &out, false);
        pos += len;
    }
    for _ in 0..3 {
        master.process(&block(0, 16), transport(false, pos, 1_234.567_8));
    }
    let mut session = Session {
        master,
        stems: Vec::new(),
        dir,
        seen: BTreeSet::new(),
        bundle,
    };
    let report = session.wait_for_report("unmetered master");
    assert!(report.master.levels.unmetered);
    assert!(
        has(&report, "signal.unmetered", None),
        "{:?}",
        report.findings
    );
    assert_eq!(report.sample_rate, Some(1_235));
}

#[test]
fn reactivation_moves_an_instance_in_and_out_of_metering() {
    let _serial = serial();
    let mut session = Session::new();
    session.add("01_Moves", 48_000.0);
    for rate in [1_234.567_8, 48_000.0, 1_000_000.0, 44_100.0, 1.0, 96_000.0] {
        let (_, r, p) = &mut session.stems[0];
        p.activate(rate, MAX_FRAMES, 2);
        *r = rate;
        let metered = metered_rate(rate);
        let report = session.pass(&format!("reactivated at {rate} Hz"), 2_048, |_, _| metered);
        let s = stem(&report, "01_Moves");
        assert_eq!(s.levels.unmetered, !metered, "{rate} Hz");
        assert!(s.alive, "{rate} Hz");
        assert_eq!(s.sample_rate, Some(rate.round() as u32), "{rate} Hz");
        if metered {
            assert!(
                s.levels.sample_peak_dbfs[0].is_some(),
                "{rate} Hz: metered again"
            );
        }
    }
}

#[test]
fn odd_host_orders_never_panic_and_never_change_the_audio() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let mut p = PluginInstance::new(&bundle, PLUGIN_ID);
    let bypass = clap_param_id("bypass");
    let role = clap_param_id("role");
    // Reactivation without processing, at the same and at other rates, tiny maximum blocks.
    p.activate(1_234.567_8, 1, 2);
    p.activate(1_234.567_8, 1, 2);
    for pos in 0..20 {
        let input = block(pos, 1);
        let out = p.process(&input, transport(pos % 3 != 0, pos, 1_234.567_8));
        assert_passed_through("1 frame at 1234.5678 Hz", &input, &out, false);
    }
    p.deactivate();
    p.deactivate();
    // A state loaded while inactive and while active, a mono bus at 1 MHz, the role flipped
    // and the bypass toggled every block, no transport at all.
    let state = p.save_state();
    p.load_state(&state).expect("its own state");
    p.activate(1_000_000.0, MAX_FRAMES, 1);
    p.load_state(&state).expect("its own state while active");
    for (i, &len) in BLOCKS.iter().cycle().take(30).enumerate() {
        p.set_param_value(bypass, (i % 2) as f64);
        p.set_param_value(role, if i % 3 == 0 { 0.9 } else { 0.1 });
        let input = vec![awkward(i * 512, len, 0)];
        let out = p.process(&input, None);
        assert_passed_through("mono at 1 MHz", &input, &out, false);
    }
    // Into the metered range with the bypass left on, then off.
    p.activate(48_000.0, MAX_FRAMES, 2);
    p.set_param_value(bypass, 1.0);
    for (i, &len) in BLOCKS.iter().cycle().take(10).enumerate() {
        let input = block(i * 512, len);
        let out = p.process(&input, transport(true, i * 512, 48_000.0));
        // The bypass event arrives with the first block, before its audio.
        assert_passed_through("bypassed at 48 kHz", &input, &out, false);
    }
    p.set_param_value(bypass, 0.0);
    let input = block(0, 100);
    let out = p.process(&input, transport(true, 0, 48_000.0));
    assert_passed_through("metering at 48 kHz", &input, &out, true);
    let _ = p.save_state();
    drop(p);
}

#[test]
fn a_host_bypass_passes_audio_untouched_and_the_master_reports_it() {
    let _serial = serial();
    let mut session = Session::new();
    session.add("01_Plain", 48_000.0);
    session.add("02_Bypassed", 48_000.0);
    let bypass = clap_param_id("bypass");
    assert!(
        session.stems[1].2.param_is_bypass(bypass),
        "the `bypass` parameter carries CLAP's IS_BYPASS flag"
    );

    let first = session.pass("before the bypass", 4_096, |_, _| true);
    assert!(!stem(&first, "02_Bypassed").levels.bypassed);
    let held = stem(&first, "02_Bypassed").levels.sample_peak_dbfs.clone();

    session.stems[1].2.set_param_value(bypass, 1.0);
    let bypassed = session.pass("bypassed", 4_096, |name, _| name != "02_Bypassed");
    let s = stem(&bypassed, "02_Bypassed");
    assert!(s.levels.bypassed, "the report marks the stem as bypassed");
    assert!(s.alive, "a bypassed stem is not stale");
    assert!(has(&bypassed, "signal.bypassed", Some("02_Bypassed")));
    assert!(!has(&bypassed, "signal.bypassed", Some("01_Plain")));
    assert!(!has(&bypassed, "stem.stale", Some("02_Bypassed")));
    assert_eq!(
        s.levels.sample_peak_dbfs, held,
        "the readings hold from before"
    );

    session.stems[1].2.set_param_value(bypass, 0.0);
    let after = session.pass("after the bypass", 4_096, |_, _| true);
    assert!(!stem(&after, "02_Bypassed").levels.bypassed);
    assert!(!has(&after, "signal.bypassed", Some("02_Bypassed")));
}

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() * (i + 1) as f64) as usize;
            v.swap(i, j.min(i));
        }
    }
}

/// How far a parameter's value may sit from the host's unrounded one: the thresholds snap to
/// their step (0.1 dB of 30 dB, 0.5 dB of 140 dB); the role keeps the host's value.
fn tolerance(id: &str) -> f64 {
    match id {
        "null_tolerance_db" => 0.25 / 140.0 + 1e-6,
        "role" => 1e-6,
        _ => 0.05 / 30.0 + 1e-6,
    }
}

#[test]
fn unrounded_normalised_values_restore_through_a_state_as_a_juce_host_expects() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let ids = [
        "role",
        "window_low_db",
        "window_high_db",
        "tp_ceiling_db",
        "null_tolerance_db",
    ];
    for seed in [1u64, 7, 42, 1_234_567] {
        let mut rng = Rng(seed);
        let mut p = PluginInstance::new(&bundle, PLUGIN_ID);
        for active in [false, true] {
            if active {
                p.activate(48_000.0, MAX_FRAMES, 2);
            }
            // Randomise every parameter in a random order, keeping the host's own copy of
            // what it set (pluginval --randomise, the role at the value its log showed).
            let mut order = ids.to_vec();
            rng.shuffle(&mut order);
            let mut host: Vec<(&str, f64)> = Vec::new();
            for id in order {
                let v = if id == "role" && seed == 1 {
                    0.758_304
                } else {
                    rng.next()
                };
                p.set_param_value(clap_param_id(id), v);
                host.push((id, v));
            }
            if active {
                p.process(&block(0, 64), None);
            }
            for &(id, v) in &host {
                let got = p.param_value(clap_param_id(id));
                assert!(
                    (got - v).abs() <= tolerance(id),
                    "seed {seed}, active {active}: {id} set to {v}, the plugin says {got}"
                );
            }
            let role = host.iter().find(|(id, _)| *id == "role").unwrap().1;
            let text = p.param_value_text(clap_param_id("role"), role);
            assert_eq!(text, if role >= 0.5 { "Master" } else { "Stem" });

            // pluginval's restoration test: each parameter moved, the state restored, the
            // parameter back at the host's value.
            let saved = p.save_state();
            let mut order = host.clone();
            rng.shuffle(&mut order);
            for &(id, v) in &order {
                p.set_param_value(clap_param_id(id), rng.next());
                if active {
                    p.process(&block(0, 64), None);
                }
                p.load_state(&saved).expect("its own state");
                let got = p.param_value(clap_param_id(id));
                assert!(
                    (got - v).abs() <= tolerance(id),
                    "seed {seed}, active {active}: {id} restored as {got}, the host holds {v}"
                );
            }
            // And into a fresh instance.
            let mut q = PluginInstance::new(&bundle, PLUGIN_ID);
            q.load_state(&saved).expect("a saved state loads");
            for &(id, v) in &host {
                let got = q.param_value(clap_param_id(id));
                assert!(
                    (got - v).abs() <= tolerance(id),
                    "seed {seed}: {id} in a fresh instance {got}, the host holds {v}"
                );
            }
        }
    }
}

#[test]
fn states_saved_by_earlier_builds_keep_their_role() {
    use common::state::{decode_state, encode_state};
    use serde_json::json;
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let mut p = PluginInstance::new(&bundle, PLUGIN_ID);
    let fresh = decode_state(&p.save_state());
    let role = clap_param_id("role");
    // Earlier builds saved the role as an enum: its variant id, or (older still) its index.
    for (saved, want) in [
        (json!({ "string": "Master" }), 1.0),
        (json!({ "string": "Stem" }), 0.0),
        (json!({ "i32": 1 }), 1.0),
        (json!({ "i32": 0 }), 0.0),
        (json!({ "f32": 0.758_304 }), 0.758_304),
        (json!({ "string": "Banana" }), 0.0),
        (json!({ "i32": 7 }), 0.0),
        (json!({ "f32": 2.5 }), 0.0),
    ] {
        let mut state = fresh.clone();
        state["params"]["role"] = saved.clone();
        p.load_state(&encode_state(&state))
            .unwrap_or_else(|e| panic!("{saved}: {e}"));
        let got = p.param_value(role);
        assert!(
            (got - want).abs() < 1e-6,
            "{saved}: role {got}, want {want}"
        );
        let back = decode_state(&p.save_state());
        let f = back["params"]["role"]["f32"]
            .as_f64()
            .expect("saved as f32");
        assert!((f - want).abs() < 1e-6, "{saved}: saved again as {f}");
    }
}
