//! The sum-check and the limiter detection through a real CLAP host: eight stem instances and
//! a master in one process, the master set up through its saved state only, passes played
//! with transport positions, and the report the master writes at each stop read back and
//! checked against what the session did to the stems on their way to the master (a shifted
//! stem, an inverted one, a fader at −2 dB, a track routed around the stems, a limiter on the
//! master, a limiter on a stem), and against a clean session, with the stems run before the
//! master in each block and after it.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::audio::*;
use common::clap_host::*;
use common::state::configure_master;
use stemcheck::report::{Report, Severity, Verdict};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const MAX_FRAMES: u32 = 512;
/// Each pass: 5 s of audio.
const FRAMES: usize = 240_000;
/// How much faster than real time the passes play.
const SPEED: f64 = 4.0;
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);

const NAMES: [&str; 8] = [
    "01_Drums",
    "02_Bass",
    "03_Keys",
    "04_Guitar",
    "05_Pad",
    "06_Lead",
    "07_Perc",
    "08_Vox",
];

struct Session {
    stems: Vec<PluginInstance>,
    master: PluginInstance,
    dir: tempfile::TempDir,
    seen: BTreeSet<PathBuf>,
    _bundle: ClapBundle,
}

impl Session {
    fn new() -> Self {
        let bundle = ClapBundle::load(&bundle_path());
        let dir = tempfile::tempdir().expect("a temporary report folder");
        let stems = NAMES
            .iter()
            .map(|name| {
                let mut p = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, name);
                p.activate(RATE, MAX_FRAMES, 2);
                p
            })
            .collect();
        let mut master = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
        configure_master(&mut master, dir.path());
        master.activate(RATE, MAX_FRAMES, 2);
        Self {
            stems,
            master,
            dir,
            seen: BTreeSet::new(),
            _bundle: bundle,
        }
    }

    /// Plays a whole pass from 0 (stems and master fed as given), stops, and returns the
    /// report written at the stop.
    fn pass(
        &mut self,
        what: &str,
        stems: &[Stereo],
        master: &Stereo,
        master_first: bool,
    ) -> Report {
        let blocks = [512usize, 333, 17, 480, 1];
        let mut pos = 0usize;
        let started = Instant::now();
        for &len in blocks.iter().cycle() {
            if pos >= FRAMES {
                break;
            }
            let len = len.min(FRAMES - pos);
            let transport = Some(TransportInfo {
                playing: true,
                pos_samples: pos as i64,
                sample_rate: RATE,
            });
            let block = |x: &Stereo| -> Vec<Vec<f32>> {
                x.iter().map(|c| c[pos..pos + len].to_vec()).collect()
            };
            if master_first {
                self.master.process(&block(master), transport);
            }
            for (plugin, audio) in self.stems.iter_mut().zip(stems) {
                let input = block(audio);
                assert!(
                    plugin.process(&input, transport) == input,
                    "{what}: audio changed"
                );
            }
            if !master_first {
                self.master.process(&block(master), transport);
            }
            pos += len;
            // Four times faster than real time: a playback pass, not an offline render (the
            // taps hold 2.7 s and the master's analysis thread reads them every 40 ms).
            let due = Duration::from_secs_f64(pos as f64 / RATE / SPEED);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let silence = vec![vec![0.0f32; 256]; 2];
        let stopped = Some(TransportInfo {
            playing: false,
            pos_samples: FRAMES as i64,
            sample_rate: RATE,
        });
        for _ in 0..3 {
            for plugin in &mut self.stems {
                plugin.process(&silence, stopped);
            }
            self.master.process(&silence, stopped);
        }
        self.wait_for_report(what, Instant::now())
    }

    fn wait_for_report(&mut self, what: &str, stopped: Instant) -> Report {
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
                    "{what}: report after {:?}: verdict {}, null {:?} dB, fitted {:?}, \
                     unaccounted {:?}, cancellation {:?}, sum TP {:?}, master limiter {:?}",
                    stopped.elapsed(),
                    report.verdict.as_str(),
                    report.sum.null_depth_db,
                    report.sum.null_depth_fitted_db,
                    report.sum.unaccounted_db,
                    report.sum.cancellation_db,
                    report.sum.sum_true_peak_dbtp,
                    report.master.limiter,
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
                stopped.elapsed() < REPORT_TIMEOUT,
                "{what}: no report after {REPORT_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn ids(r: &Report, min: Severity) -> Vec<(String, Option<String>)> {
    r.findings
        .iter()
        .filter(|f| f.severity <= min)
        .map(|f| (f.id.clone(), f.stem.clone()))
        .collect()
}

fn has(r: &Report, id: &str, stem: Option<&str>) -> bool {
    r.findings
        .iter()
        .any(|f| f.id == id && f.stem.as_deref() == stem)
}

fn stem<'a>(r: &'a Report, name: &str) -> &'a stemcheck::report::StemReport {
    r.stems
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stem {name} in the report"))
}

/// A clean session's figures: every stem at unity and in time, nothing limited.
fn assert_clean(what: &str, r: &Report) {
    assert_eq!(
        r.verdict,
        Verdict::Ready,
        "{what}: {:?}",
        ids(r, Severity::Warn)
    );
    let null = r.sum.null_depth_db.expect("null depth measured");
    assert!(null < -90.0, "{what}: null depth {null} dB");
    assert_eq!(r.sum.skipped_frames, Some(0), "{what}: {:?}", r.sum);
    assert_eq!(
        r.sum.compared_frames,
        Some(FRAMES as u64),
        "{what}: {:?}",
        r.sum
    );
    for s in &r.stems {
        assert_eq!(s.offset_samples, Some(0), "{what}: {}", s.name);
        assert_eq!(s.polarity_inverted, Some(false), "{what}: {}", s.name);
        for g in s.gain_db.as_ref().expect("gains fitted").iter().flatten() {
            assert!(g.abs() <= 0.01, "{what}: {} gain {g} dB", s.name);
        }
        assert_eq!(
            s.limiter.verdict,
            Some(stemcheck::report::LimiterVerdict::Unprocessed),
            "{what}: {} {:?}",
            s.name,
            s.limiter
        );
    }
    assert_eq!(
        r.master.limiter.verdict,
        Some(stemcheck::report::LimiterVerdict::Unprocessed),
        "{what}: {:?}",
        r.master.limiter
    );
}

#[test]
fn the_master_checks_the_stems_against_the_mix_through_a_real_host() {
    let mut session = Session::new();
    let stems = stems(8, FRAMES);
    let unity = vec![UNITY; 8];
    let clean = mix(&stems, &unity, None);
    let master_peak_db = 20.0 * peak(&clean).log10();
    assert!(
        (-5.01..-4.99).contains(&master_peak_db),
        "test design: master peak {master_peak_db} dBFS"
    );
    for (s, name) in stems.iter().zip(NAMES) {
        assert!(
            20.0 * peak(s).log10() < -6.5,
            "test design: {name} too loud"
        );
    }

    let r = session.pass("clean", &stems, &clean, false);
    assert_clean("clean", &r);
    let sum_tp = r.sum.sum_true_peak_dbtp.expect("sum true peak");
    let master_tp = r
        .master
        .levels
        .true_peak_dbtp
        .iter()
        .flatten()
        .cloned()
        .fold(f64::MIN, f64::max);
    assert!(
        (sum_tp - master_tp).abs() < 0.01,
        "sum {sum_tp} vs master {master_tp} dBTP"
    );

    let r = session.pass("clean, master run before the stems", &stems, &clean, true);
    assert_clean("master first", &r);

    // 03_Keys arrives 7 samples late.
    let mut routes = unity.clone();
    routes[2].delay = 7;
    let r = session.pass("offset", &stems, &mix(&stems, &routes, None), false);
    assert_eq!(stem(&r, "03_Keys").offset_samples, Some(7));
    assert!(
        has(&r, "sum.offset", Some("03_Keys")),
        "{:?}",
        ids(&r, Severity::Warn)
    );
    assert!(r
        .stems
        .iter()
        .filter(|s| s.name != "03_Keys")
        .all(|s| s.offset_samples == Some(0)));
    assert_eq!(r.verdict, Verdict::NotReady);

    // 05_Pad arrives inverted.
    let mut routes = unity.clone();
    routes[4].gain = -1.0;
    let r = session.pass("polarity", &stems, &mix(&stems, &routes, None), false);
    assert_eq!(stem(&r, "05_Pad").polarity_inverted, Some(true));
    assert!(
        has(&r, "sum.polarity", Some("05_Pad")),
        "{:?}",
        ids(&r, Severity::Warn)
    );
    assert_eq!(
        r.findings.iter().filter(|f| f.id == "sum.polarity").count(),
        1,
        "{:?}",
        ids(&r, Severity::Warn)
    );

    // 02_Bass's fader sits at −2 dB.
    let mut routes = unity.clone();
    routes[1].gain = 10f32.powf(-2.0 / 20.0);
    let r = session.pass("fader", &stems, &mix(&stems, &routes, None), false);
    for g in stem(&r, "02_Bass").gain_db.as_ref().unwrap() {
        let g = g.expect("bass carries both channels");
        assert!((g + 2.0).abs() <= 0.1, "fader: bass gain {g} dB");
    }
    assert!(has(&r, "sum.gain", Some("02_Bass")));
    assert_eq!(r.findings.iter().filter(|f| f.id == "sum.gain").count(), 1);

    // A track routed straight to the master, 10 dB below it.
    let extra = part(99, false, -20.0, FRAMES);
    let with_extra = mix(&stems, &unity, Some(&extra));
    let energy = |x: &Stereo| {
        x.iter()
            .flatten()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
    };
    let truth = 10.0 * (energy(&extra) / energy(&with_extra)).log10();
    let r = session.pass("unaccounted", &stems, &with_extra, false);
    let u = r.sum.unaccounted_db.expect("unaccounted measured");
    assert!(
        (u - truth).abs() < 1.0,
        "unaccounted {u} dB against {truth} dB"
    );
    assert!(has(&r, "sum.unaccounted", None));
    assert!(
        !r.findings.iter().any(|f| f.id == "sum.gain"),
        "no gain warnings on a bad fit"
    );

    // A limiter on the master: the mix driven 6 dB into its own clean peak.
    let limited = limit(&clean, 6.0, peak(&clean));
    let r = session.pass("master limiter", &stems, &limited, false);
    assert!(
        has(&r, "limiter.master", None),
        "{:?}",
        ids(&r, Severity::Warn)
    );
    let gr = r
        .master
        .limiter
        .gain_reduction_db
        .expect("gain reduction measured");
    assert!((3.0..=8.0).contains(&gr), "master gain reduction {gr} dB");
    assert!(
        !has(&r, "sum.unaccounted", None),
        "limiting is not a routing problem"
    );

    // A limiter on 01_Drums: the stem itself is limited, the mix follows it.
    let mut squashed = stems.clone();
    let drums_peak = peak(&stems[0]);
    squashed[0] = limit(&stems[0], 8.0, drums_peak);
    let r = session.pass(
        "stem limiter",
        &squashed,
        &mix(&squashed, &unity, None),
        false,
    );
    assert!(
        has(&r, "limiter.stem", Some("01_Drums")),
        "{:?}",
        ids(&r, Severity::Info)
    );
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.id.starts_with("limiter."))
            .count(),
        1
    );
    assert!(r.sum.null_depth_db.unwrap() < -90.0);
}
