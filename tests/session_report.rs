//! A whole session through a real CLAP host, the way a DAW runs it: eight stem instances named
//! by the host's track-info, one master set up through nothing but its saved state (`role`,
//! `report_dir`, `auto_report`), each block processed stem by stem and then on the master, and
//! the report the master writes when the transport stops read back from its folder and checked
//! against the signals that were fed.
//!
//! The registry is process-wide, so every instance alive in this test binary is a stem the
//! master sees. Every test here therefore holds one lock for its whole run: no other test's
//! instances exist while a report is checked.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::clap_host::*;
use common::state::{configure_master, decode_state, encode_raw, encode_state, field};
use serde_json::{json, Value};
use stemcheck::report::{BusLevels, Finding, Report, Severity, Verdict, WindowStatus, SCHEMA};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const MAX_FRAMES: u32 = 512;
/// Blocks sent with the transport stopped after a pass (hosts keep processing).
const STOP_BLOCKS: usize = 3;
/// How long to wait for a report after the stop before giving up.
const REPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to keep watching after a report appeared, to see that a pass writes only one.
const SETTLE: Duration = Duration::from_millis(300);

/// Default thresholds (SPEC 6.1).
const WINDOW_LOW: f64 = -6.0;
const WINDOW_HIGH: f64 = -3.0;
const TP_CEILING: f64 = -1.0;

/// Tolerance on a sample peak against the level fed, dB.
const PEAK_TOLERANCE_DB: f64 = 0.05;

// ---------------------------------------------------------------------------------------------
// Serialising the tests
// ---------------------------------------------------------------------------------------------

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for a whole test: one test's instances never show up in another test's report. A test
/// that failed (and poisoned the lock) has dropped its instances by then.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

/// A stereo sine whose period is a whole number of samples divisible by four, so a sample lands
/// exactly on every crest at any sample rate: its sample peak and its continuous peak are both
/// the amplitude. `None` is digital silence on that channel.
#[derive(Clone, Copy, Debug)]
struct Source {
    period: usize,
    level_db: [Option<f64>; 2],
}

impl Source {
    const SILENT: Self = Self {
        period: 4,
        level_db: [None, None],
    };

    fn amplitude(&self, ch: usize) -> f32 {
        self.level_db[ch].map_or(0.0, |db| 10f64.powf(db / 20.0) as f32)
    }

    fn sample(&self, ch: usize, n: i64) -> f32 {
        let Some(db) = self.level_db[ch] else {
            return 0.0;
        };
        let phase = n.rem_euclid(self.period as i64) as f64 / self.period as f64;
        (10f64.powf(db / 20.0) * (std::f64::consts::TAU * phase).sin()) as f32
    }

    /// Samples `[pos, pos + len)` as `[channel][frame]`.
    fn block(&self, pos: i64, len: usize) -> Vec<Vec<f32>> {
        (0..2)
            .map(|ch| (0..len).map(|i| self.sample(ch, pos + i as i64)).collect())
            .collect()
    }

    /// The sample peak of channel `ch` in dBFS, as fed (`None` = silence).
    fn peak_db(&self, ch: usize) -> Option<f64> {
        db(self.amplitude(ch))
    }

    fn max_peak_db(&self) -> Option<f64> {
        [self.peak_db(0), self.peak_db(1)]
            .into_iter()
            .flatten()
            .reduce(f64::max)
    }
}

fn db(linear: f32) -> Option<f64> {
    (linear > 0.0).then(|| 20.0 * f64::from(linear).log10())
}

/// The session: a realistic split of a mix into stems. Most sit well below the window, one
/// (04_Keys, mostly left) is inside it, one (06_Vox, mostly right) is over its top but below
/// the true-peak ceiling, one (07_FX) is digital silence. Summed, the left channel lands
/// inside the window and the right channel over its top, below the ceiling.
const TRACKS: [(&str, Source); 8] = [
    ("01_Kick", sine(480, -36.0, -37.0)),
    ("02_Snare", sine(240, -34.0, -35.0)),
    ("03_Bass", sine(160, -32.0, -33.0)),
    ("04_Keys", sine(120, -5.0, -40.0)),
    ("05_Guitar", sine(96, -30.0, -31.0)),
    ("06_Vox", sine(64, -40.0, -2.5)),
    ("07_FX", Source::SILENT),
    ("08_Pad", sine(48, -28.0, -29.0)),
];

/// The period of the whole mix, samples (the least common multiple of the tracks' periods).
/// Passes last a whole number of it, so every sine ends at a zero crossing and the stop adds
/// no step: a sine cut at its crest is a real click whose overshoot rightly raises the true
/// peak, which would make the expected readings depend on where the pass ends.
const MIX_PERIOD: usize = 960;

/// About `seconds` at `rate`, rounded down to whole periods of the mix.
fn pass_frames(seconds: f64, rate: f64) -> usize {
    let frames = (seconds * rate) as usize;
    let whole = frames - frames % MIX_PERIOD;
    assert!(
        TRACKS
            .iter()
            .all(|(_, s)| s.level_db == [None, None] || MIX_PERIOD.is_multiple_of(s.period)),
        "test design: a track's period does not divide the mix period"
    );
    whole
}

const fn sine(period: usize, left_db: f64, right_db: f64) -> Source {
    Source {
        period,
        level_db: [Some(left_db), Some(right_db)],
    }
}

/// The window a bus with this loudest true peak is in, by the default thresholds.
fn window_of(max_db: Option<f64>) -> WindowStatus {
    match max_db {
        Some(v) if v > WINDOW_HIGH => WindowStatus::Over,
        Some(v) if v >= WINDOW_LOW => WindowStatus::In,
        _ => WindowStatus::Under,
    }
}

/// Asserts that a level the test relies on is clearly on one side of every threshold, so the
/// expected window and verdict do not hang on a rounding.
fn assert_clear_of_thresholds(what: &str, level: f64) {
    for t in [WINDOW_LOW, WINDOW_HIGH, TP_CEILING] {
        assert!(
            (level - t).abs() > 0.2,
            "test design: {what} at {level:.3} dB is too close to the {t} dB threshold"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

/// One stem bus with its Stemcheck insert.
struct Track {
    /// The name the report must show.
    name: String,
    source: Source,
    plugin: PluginInstance,
    rate: f64,
    /// Kept alive but no longer processed (a frozen or bypassed track).
    paused: bool,
}

/// A report as written to the folder.
struct Written {
    report: Report,
    json: Value,
    markdown: String,
    path: PathBuf,
}

struct Session {
    tracks: Vec<Track>,
    master: PluginInstance,
    master_rate: f64,
    /// What reaches the master: every bus of the session, whether or not it has an insert.
    mix: Vec<Source>,
    /// The master's input peak per channel since the pass began.
    master_peak: [f32; 2],
    /// One past the last sample played in the pass.
    end: i64,
    dir: tempfile::TempDir,
    seen: BTreeSet<PathBuf>,
    /// From each stop to its report's appearance.
    latencies: Vec<Duration>,
    bundle: ClapBundle,
}

impl Session {
    fn new(rate: f64) -> Self {
        let bundle = ClapBundle::load(&bundle_path());
        let dir = tempfile::tempdir().expect("a temporary report folder");
        let tracks = TRACKS
            .iter()
            .map(|&(name, source)| {
                let mut plugin = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, name);
                assert!(
                    plugin.track_info_requests() > 0,
                    "{name}: the plugin never read the host's track info"
                );
                plugin.activate(rate, MAX_FRAMES, 2);
                Track {
                    name: name.to_owned(),
                    source,
                    plugin,
                    rate,
                    paused: false,
                }
            })
            .collect();
        let mut master = PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
        configure_master(&mut master, dir.path());
        master.activate(rate, MAX_FRAMES, 2);
        Self {
            tracks,
            master,
            master_rate: rate,
            mix: TRACKS.iter().map(|&(_, source)| source).collect(),
            master_peak: [0.0; 2],
            end: 0,
            dir,
            seen: BTreeSet::new(),
            latencies: Vec::new(),
            bundle,
        }
    }

    fn track(&mut self, name: &str) -> &mut Track {
        self.tracks
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no track {name}"))
    }

    /// The master's input for `[pos, pos + len)`: the sum of every bus, in f32 as a mixer adds.
    fn mix_block(&self, pos: i64, len: usize) -> Vec<Vec<f32>> {
        (0..2)
            .map(|ch| {
                (0..len)
                    .map(|i| {
                        self.mix
                            .iter()
                            .fold(0.0f32, |sum, s| sum + s.sample(ch, pos + i as i64))
                    })
                    .collect()
            })
            .collect()
    }

    /// Plays `frames` samples from `from` with the transport running, in blocks cycling through
    /// `blocks`: each stem's block, then the master's. A segment from position 0 begins a new
    /// pass. With `realtime`, blocks are paced to the wall clock. Every stem's output must be
    /// its input, bit for bit.
    fn play(&mut self, from: i64, frames: usize, blocks: &[usize], realtime: bool) {
        if from == 0 {
            self.master_peak = [0.0; 2];
        }
        let started = Instant::now();
        let mut pos = from;
        let end = from + frames as i64;
        for &len in blocks.iter().cycle() {
            if pos >= end {
                break;
            }
            let len = len.min((end - pos) as usize);
            for track in self.tracks.iter_mut().filter(|t| !t.paused) {
                let input = track.source.block(pos, len);
                let transport = TransportInfo {
                    playing: true,
                    pos_samples: pos,
                    sample_rate: track.rate,
                };
                let output = track.plugin.process(&input, Some(transport));
                assert!(
                    output == input,
                    "{}: the output differs from the input in the block at {pos} ({len} frames)",
                    track.name
                );
            }
            let input = self.mix_block(pos, len);
            for (peak, channel) in self.master_peak.iter_mut().zip(&input) {
                *peak = channel.iter().fold(*peak, |p, s| p.max(s.abs()));
            }
            let transport = TransportInfo {
                playing: true,
                pos_samples: pos,
                sample_rate: self.master_rate,
            };
            let output = self.master.process(&input, Some(transport));
            assert!(
                output == input,
                "master: the output differs from the input in the block at {pos}"
            );
            pos += len as i64;
            if realtime {
                let due = Duration::from_secs_f64((pos - from) as f64 / self.master_rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        self.end = end;
    }

    /// Stops the transport: a few silent blocks at the frozen position, as hosts keep
    /// processing while stopped. Returns when the stop reached the master.
    fn stop(&mut self) -> Instant {
        let at = self.end;
        let silence = vec![vec![0.0f32; MAX_FRAMES as usize]; 2];
        for _ in 0..STOP_BLOCKS {
            for track in self.tracks.iter_mut().filter(|t| !t.paused) {
                let transport = TransportInfo {
                    playing: false,
                    pos_samples: at,
                    sample_rate: track.rate,
                };
                track.plugin.process(&silence, Some(transport));
            }
            let transport = TransportInfo {
                playing: false,
                pos_samples: at,
                sample_rate: self.master_rate,
            };
            self.master.process(&silence, Some(transport));
        }
        Instant::now()
    }

    /// Plays a whole pass from 0, stops, and returns the report it produced.
    fn pass(&mut self, what: &str, frames: usize, blocks: &[usize]) -> Written {
        self.play(0, frames, blocks, false);
        let stopped = self.stop();
        self.wait_for_report(what, stopped)
    }

    fn report_files(&self) -> BTreeSet<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .expect("the report folder can be listed")
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("stemcheck-report-"))
            })
            .collect()
    }

    /// Waits for the one new report the last pass wrote, and reads it with its read-me.
    fn wait_for_report(&mut self, what: &str, stopped: Instant) -> Written {
        let new = loop {
            let new: Vec<PathBuf> = self
                .report_files()
                .difference(&self.seen)
                .cloned()
                .collect();
            if !new.is_empty() {
                break new;
            }
            assert!(
                stopped.elapsed() < REPORT_TIMEOUT,
                "{what}: no report in the folder {:?} after {REPORT_TIMEOUT:?} (files there: \
                 {:?})",
                self.dir.path(),
                std::fs::read_dir(self.dir.path())
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let latency = stopped.elapsed();
        self.latencies.push(latency);
        std::thread::sleep(SETTLE);
        let all_new: Vec<PathBuf> = self
            .report_files()
            .difference(&self.seen)
            .cloned()
            .collect();
        assert_eq!(
            all_new.len(),
            1,
            "{what}: one pass must write one report, found {all_new:?}"
        );
        let path = new[0].clone();
        self.seen.insert(path.clone());

        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{what}: cannot read {}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{what}: the report is not JSON ({e}):\n{text}"));
        let report: Report = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{what}: the report does not match the report model ({e}):\n{text}")
        });
        let md_path = path.with_extension("md");
        let markdown = std::fs::read_to_string(&md_path).unwrap_or_else(|e| {
            panic!(
                "{what}: the read-me {} is missing next to the JSON: {e}",
                md_path.display()
            )
        });
        println!(
            "{what}: {} after {latency:?}, verdict {}, {} stems",
            path.file_name().unwrap_or_default().to_string_lossy(),
            report.verdict.as_str(),
            report.stems.len()
        );
        Written {
            report,
            json,
            markdown,
            path,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a report
// ---------------------------------------------------------------------------------------------

/// What one stem of the report must show.
struct ExpectedStem {
    name: String,
    source: Source,
    alive: bool,
    rate: u32,
}

/// Everything the report must show, derived from the session as played.
struct Expected {
    rate: u32,
    end: i64,
    master_peak: [f32; 2],
    stems: Vec<ExpectedStem>,
    /// A bus reaches the master without a stem instance the master can compare (its insert
    /// was removed, or it runs at another sample rate): the sum-check cannot null.
    unaccounted: bool,
}

impl Expected {
    fn of(session: &Session) -> Self {
        let mut stems: Vec<ExpectedStem> = session
            .tracks
            .iter()
            .map(|t| ExpectedStem {
                name: t.name.clone(),
                source: t.source,
                alive: !t.paused,
                rate: t.rate as u32,
            })
            .collect();
        stems.sort_by(|a, b| a.name.cmp(&b.name));
        let compared = |source: &Source| {
            session.tracks.iter().any(|t| {
                t.source.period == source.period
                    && t.source.level_db == source.level_db
                    && t.rate == session.master_rate
            })
        };
        let unaccounted = session
            .mix
            .iter()
            .any(|source| source.max_peak_db().is_some() && !compared(source));
        Self {
            rate: session.master_rate as u32,
            end: session.end,
            master_peak: session.master_peak,
            stems,
            unaccounted,
        }
    }

    fn master_peak_db(&self) -> [Option<f64>; 2] {
        [db(self.master_peak[0]), db(self.master_peak[1])]
    }

    /// The findings the SPEC 6 table gives for this session, as `(id, stem, severity)`.
    fn findings(&self) -> BTreeSet<(String, Option<String>, Severity)> {
        let mut out = BTreeSet::new();
        let mut add = |id: &str, stem: Option<&str>, severity| {
            out.insert((id.to_owned(), stem.map(str::to_owned), severity));
        };
        let master_max = self.master_peak_db().into_iter().flatten().reduce(f64::max);
        match window_of(master_max) {
            WindowStatus::Over => add("headroom.over", None, Severity::Warn),
            WindowStatus::Under => add("headroom.under", None, Severity::Info),
            WindowStatus::In => {}
        }
        for s in &self.stems {
            let name = Some(s.name.as_str());
            match (window_of(s.source.max_peak_db()), s.source.max_peak_db()) {
                (_, None) => add("stem.silent", name, Severity::Warn),
                (WindowStatus::Over, _) => add("headroom.over", name, Severity::Warn),
                (WindowStatus::Under, _) => add("headroom.under", name, Severity::Info),
                (WindowStatus::In, _) => {}
            }
            if !s.alive {
                add("stem.stale", name, Severity::Warn);
            }
            if s.rate != self.rate {
                add("stems.sample_rate", name, Severity::Fail);
            }
        }
        // A stem that stopped being processed while the others played left its part of the
        // pass unchecked by the sum-check (SPEC 6: `sum.incomplete` above 1 % of the pass).
        if self.stems.iter().any(|s| !s.alive) {
            add("sum.incomplete", None, Severity::Warn);
        }
        if self.unaccounted {
            add("sum.null", None, Severity::Fail);
            add("sum.unaccounted", None, Severity::Fail);
        }
        out
    }

    fn verdict(&self) -> Verdict {
        let findings = self.findings();
        if findings.iter().any(|f| f.2 == Severity::Fail) {
            Verdict::NotReady
        } else if findings.iter().any(|f| f.2 == Severity::Warn) {
            Verdict::Warnings
        } else {
            Verdict::Ready
        }
    }
}

/// Checks one bus's levels against the peaks fed. `tp_slack` is how far above the sample peak
/// the true peak may read (a pure sine sampled on its crests: none; a sum: a little).
fn check_levels(what: &str, l: &BusLevels, fed: [Option<f64>; 2], tp_slack: f64) {
    assert_eq!(l.channels, 2, "{what}: channels");
    assert_eq!(l.sample_peak_dbfs.len(), 2, "{what}: sample_peak_dbfs");
    assert_eq!(l.true_peak_dbtp.len(), 2, "{what}: true_peak_dbtp");
    for (ch, fed) in fed.iter().enumerate() {
        let (sp, tp) = (l.sample_peak_dbfs[ch], l.true_peak_dbtp[ch]);
        match *fed {
            None => {
                assert_eq!(sp, None, "{what}: silent channel {ch} sample peak");
                assert_eq!(tp, None, "{what}: silent channel {ch} true peak");
            }
            Some(want) => {
                let sp = sp.unwrap_or_else(|| {
                    panic!("{what}: channel {ch} sample peak is null, fed {want:.3} dBFS")
                });
                assert!(
                    (sp - want).abs() <= PEAK_TOLERANCE_DB,
                    "{what}: channel {ch} sample peak {sp} dBFS, fed {want:.3} dBFS"
                );
                let tp = tp.unwrap_or_else(|| panic!("{what}: channel {ch} true peak is null"));
                assert!(
                    tp >= sp && tp <= want + tp_slack + PEAK_TOLERANCE_DB,
                    "{what}: channel {ch} true peak {tp} dBTP against sample peak {sp} dBFS \
                     (fed {want:.3}, at most {tp_slack} dB above)"
                );
            }
        }
    }
    let max_fed = fed.into_iter().flatten().reduce(f64::max);
    let max_tp = l.true_peak_dbtp.iter().flatten().copied().reduce(f64::max);
    match (max_tp, l.headroom_db) {
        (Some(tp), Some(h)) => assert!(
            (h + tp).abs() < 0.011,
            "{what}: headroom {h} dB against the loudest true peak {tp} dBTP"
        ),
        (None, None) => {}
        other => panic!("{what}: (loudest true peak, headroom) = {other:?}"),
    }
    assert_eq!(
        l.window,
        window_of(max_fed),
        "{what}: window for a loudest peak of {max_fed:?} dB"
    );
    assert_eq!(l.silent, max_fed.is_none(), "{what}: silent");
    assert_eq!(l.clipped_samples, 0, "{what}: clipped samples");
    assert_eq!(l.true_peak_overs, 0, "{what}: true-peak overs");
    assert_eq!(l.flat_tops, 0, "{what}: flat tops");
    assert_eq!(l.nan_inf, 0, "{what}: NaN/Inf");
}

/// Checks a report against the session as played.
fn check_report(what: &str, w: &Written, exp: &Expected) {
    let r = &w.report;
    assert_eq!(r.schema, SCHEMA, "{what}: schema");
    assert_eq!(
        r.plugin_version,
        env!("CARGO_PKG_VERSION"),
        "{what}: plugin_version"
    );
    assert_eq!(r.sample_rate, Some(exp.rate), "{what}: sample_rate");
    assert_eq!(r.pass.start_samples, Some(0), "{what}: pass.start_samples");
    assert_eq!(
        r.pass.end_samples,
        Some(exp.end),
        "{what}: pass.end_samples"
    );
    assert!(
        r.pass.complete && !r.pass.jumped,
        "{what}: pass {:?}",
        r.pass
    );
    assert_eq!(
        (
            r.thresholds.window_low_db,
            r.thresholds.window_high_db,
            r.thresholds.tp_ceiling_db
        ),
        (WINDOW_LOW, WINDOW_HIGH, TP_CEILING),
        "{what}: thresholds"
    );

    // The file is named after its creation time.
    let created = &r.created_utc;
    let stamp: String = created
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    assert!(
        created.len() == 20 && created.ends_with('Z') && stamp.len() == 15,
        "{what}: created_utc {created:?}"
    );
    let file = w
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(
        file == format!("stemcheck-report-{stamp}.json")
            || file.starts_with(&format!("stemcheck-report-{stamp}-")),
        "{what}: file {file} for created_utc {created}"
    );

    // The master.
    assert_eq!(r.master.name, "Master", "{what}: master name");
    let master_fed = exp.master_peak_db();
    for level in master_fed.iter().flatten() {
        assert_clear_of_thresholds("the master", *level);
    }
    check_levels(
        &format!("{what}: master"),
        &r.master.levels,
        master_fed,
        0.2,
    );

    // The stems: exactly the session's, sorted by name.
    let names: Vec<&str> = r.stems.iter().map(|s| s.name.as_str()).collect();
    let want: Vec<&str> = exp.stems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, want, "{what}: the report's stems");
    for (s, e) in r.stems.iter().zip(&exp.stems) {
        let who = format!("{what}: stem {}", e.name);
        let fed = [e.source.peak_db(0), e.source.peak_db(1)];
        if let Some(level) = e.source.max_peak_db() {
            assert_clear_of_thresholds(&e.name, level);
        }
        check_levels(&who, &s.levels, fed, 0.0);
        assert_eq!(s.sample_rate, Some(e.rate), "{who}: sample_rate");
        assert_eq!(
            s.sample_rate_mismatch,
            e.rate != exp.rate,
            "{who}: sample_rate_mismatch"
        );
        assert_eq!(s.alive, e.alive, "{who}: alive");
        assert!(s.slot.is_some(), "{who}: slot");
    }

    // Findings and verdict.
    let got: BTreeSet<(String, Option<String>, Severity)> = r
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.stem.clone(), f.severity))
        .collect();
    let want = exp.findings();
    assert_eq!(
        got, want,
        "{what}: findings (id, stem, severity)\nall findings: {:#?}",
        r.findings
    );
    assert_eq!(
        got.len(),
        r.findings.len(),
        "{what}: a finding is repeated: {:#?}",
        r.findings
    );
    assert!(
        r.findings
            .windows(2)
            .all(|p| p[0].severity <= p[1].severity),
        "{what}: findings are not ordered fails, warnings, information: {:?}",
        r.findings
            .iter()
            .map(|f| (&f.id, f.severity))
            .collect::<Vec<_>>()
    );
    for f in &r.findings {
        assert!(
            !f.message.trim().is_empty(),
            "{what}: finding {} has no message",
            f.id
        );
        if let Some(stem) = &f.stem {
            assert!(
                f.message.contains(stem.as_str()),
                "{what}: finding {} about {stem} does not name it: {:?}",
                f.id,
                f.message
            );
        }
    }
    assert_eq!(r.verdict, exp.verdict(), "{what}: verdict");

    // Levels of digital silence are null in the JSON, never -inf.
    for (i, e) in exp.stems.iter().enumerate() {
        if e.source.max_peak_db().is_none() {
            let s = &w.json["stems"][i];
            assert_eq!(
                (
                    &s["sample_peak_dbfs"],
                    &s["true_peak_dbtp"],
                    &s["headroom_db"]
                ),
                (&json!([null, null]), &json!([null, null]), &Value::Null),
                "{what}: silent stem {} in the JSON",
                e.name
            );
        }
    }

    // The read-me carries the same content.
    assert!(
        w.markdown.contains(r.verdict.banner()),
        "{what}: the read-me does not show the verdict {}:\n{}",
        r.verdict.banner(),
        w.markdown
    );
    for e in &exp.stems {
        assert!(
            w.markdown.contains(&e.name),
            "{what}: the read-me does not name {}:\n{}",
            e.name,
            w.markdown
        );
    }
}

/// The finding `id` about `stem`, which must exist.
fn finding<'a>(r: &'a Report, id: &str, stem: Option<&str>) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.id == id && f.stem.as_deref() == stem)
        .unwrap_or_else(|| panic!("no finding {id} about {stem:?}: {:#?}", r.findings))
}

// ---------------------------------------------------------------------------------------------
// The session test
// ---------------------------------------------------------------------------------------------

#[test]
fn a_played_session_writes_a_report_that_matches_what_was_played() {
    let _serial = serial();
    let started = Instant::now();
    let rate = 48_000.0;
    let mut session = Session::new(rate);
    let three_seconds = pass_frames(3.0, rate);

    // 1. The whole session, played from the start for three seconds and stopped.
    let w = session.pass("session", three_seconds, &[MAX_FRAMES as usize]);
    let exp = Expected::of(&session);
    check_report("session", &w, &exp);
    let r = &w.report;
    assert_eq!(r.stems.len(), 8, "session: stems");
    assert_eq!(r.verdict, Verdict::Warnings, "session: verdict");
    let over = finding(r, "headroom.over", Some("06_Vox"));
    assert_eq!(over.severity, Severity::Warn);
    assert_eq!(over.threshold, Some(WINDOW_HIGH), "06_Vox: threshold");
    let vox = r.stems.iter().find(|s| s.name == "06_Vox").expect("06_Vox");
    let vox_tp = vox.levels.true_peak_dbtp[1].expect("06_Vox right true peak");
    assert!(
        over.value.is_some_and(|v| (v - vox_tp).abs() < 0.011),
        "06_Vox: headroom.over value {:?} against its true peak {vox_tp}",
        over.value
    );
    assert_eq!(
        finding(r, "stem.silent", Some("07_FX")).severity,
        Severity::Warn
    );
    let windows: Vec<(&str, WindowStatus)> = r
        .stems
        .iter()
        .map(|s| (s.name.as_str(), s.levels.window))
        .collect();
    assert!(
        windows.contains(&("04_Keys", WindowStatus::In))
            && windows.contains(&("06_Vox", WindowStatus::Over))
            && windows.contains(&("01_Kick", WindowStatus::Under)),
        "session: windows {windows:?}"
    );
    println!(
        "master peaks {:?} dBFS, true peaks {:?} dBTP",
        r.master.levels.sample_peak_dbfs, r.master.levels.true_peak_dbtp
    );

    // 2. A destroyed stem disappears: the Pad bus's insert is removed (its audio still reaches
    // the master, now as signal no stem carries), and the next pass lists seven stems.
    let pad_slot = r
        .stems
        .iter()
        .find(|s| s.name == "08_Pad")
        .and_then(|s| s.slot);
    let gone = session.tracks.pop().expect("eight tracks");
    assert_eq!(gone.name, "08_Pad");
    drop(gone);
    let w = session.pass("08_Pad removed", three_seconds, &[MAX_FRAMES as usize]);
    check_report("08_Pad removed", &w, &Expected::of(&session));
    assert_eq!(w.report.stems.len(), 7, "08_Pad removed: stems");
    assert!(
        w.report.stems.iter().all(|s| s.name != "08_Pad")
            && w.report
                .findings
                .iter()
                .all(|f| f.stem.as_deref() != Some("08_Pad")),
        "08_Pad removed: the report still names it"
    );

    // 2b. A new insert on the Pad bus, which the host does not name (no track-info), is
    // "Stem N" after its slot; the Pad bus now carries a quieter part, and the report shows
    // the new instance's readings, not those of the slot's previous owner.
    let quieter_pad = sine(48, -33.0, -34.0);
    let mut unnamed = PluginInstance::new(&session.bundle, PLUGIN_ID);
    unnamed.activate(rate, MAX_FRAMES, 2);
    session.tracks.push(Track {
        name: String::new(),
        source: quieter_pad,
        plugin: unnamed,
        rate,
        paused: false,
    });
    session.mix[7] = quieter_pad;
    session.play(0, pass_frames(1.0, rate), &[MAX_FRAMES as usize], false);
    let stopped = session.stop();
    let w = session.wait_for_report("unnamed insert", stopped);
    let newcomer = w
        .report
        .stems
        .iter()
        .find(|s| s.name.starts_with("Stem "))
        .unwrap_or_else(|| {
            panic!(
                "unnamed insert: no \"Stem N\" among {:?}",
                w.report.stems.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let slot = newcomer.slot.expect("unnamed insert: slot");
    assert_eq!(
        newcomer.name,
        format!("Stem {}", slot + 1),
        "unnamed insert: name against slot {slot}"
    );
    println!(
        "unnamed insert: {} in slot {slot} (08_Pad had slot {pad_slot:?})",
        newcomer.name
    );
    let name = newcomer.name.clone();
    session.tracks.last_mut().expect("the newcomer").name = name;
    check_report("unnamed insert", &w, &Expected::of(&session));

    // 3. A stem that stops being processed while the others play is stale within a second.
    let before = pass_frames(0.5, rate);
    session.play(0, before, &[MAX_FRAMES as usize], false);
    session.track("02_Snare").paused = true;
    session.play(
        before as i64,
        pass_frames(1.6, rate),
        &[MAX_FRAMES as usize],
        true,
    );
    let stopped = session.stop();
    let w = session.wait_for_report("stale 02_Snare", stopped);
    check_report("stale 02_Snare", &w, &Expected::of(&session));
    let snare = w
        .report
        .stems
        .iter()
        .find(|s| s.name == "02_Snare")
        .expect("the stale stem is still listed");
    assert!(!snare.alive, "02_Snare: alive after 1.6 s without a block");
    assert_eq!(
        finding(&w.report, "stem.stale", Some("02_Snare")).severity,
        Severity::Warn
    );
    assert!(
        w.report
            .stems
            .iter()
            .filter(|s| s.name != "02_Snare")
            .all(|s| s.alive),
        "stale 02_Snare: another stem is stale too"
    );
    session.track("02_Snare").paused = false;

    // 4. Block sizes: 1, odd sizes and the maximum give the same report.
    let frames = pass_frames(0.25, rate);
    let reference = session.pass("blocks of 512", frames, &[MAX_FRAMES as usize]);
    check_report("blocks of 512", &reference, &Expected::of(&session));
    for blocks in [&[1usize][..], &[7], &[333], &[1, 7, 333, 512, 100]] {
        let what = format!("blocks of {blocks:?}");
        let w = session.pass(&what, frames, blocks);
        check_report(&what, &w, &Expected::of(&session));
        check_same_readings(&what, &w.report, &reference.report);
    }

    // 5. One stem at 44.1 kHz in a 48 kHz session.
    {
        let bass = session.track("03_Bass");
        bass.plugin.activate(44_100.0, MAX_FRAMES, 2);
        bass.rate = 44_100.0;
    }
    let w = session.pass("03_Bass at 44.1 kHz", three_seconds, &[MAX_FRAMES as usize]);
    check_report("03_Bass at 44.1 kHz", &w, &Expected::of(&session));
    let mismatch = finding(&w.report, "stems.sample_rate", Some("03_Bass"));
    assert_eq!(mismatch.severity, Severity::Fail);
    assert_eq!(
        (mismatch.value, mismatch.threshold),
        (Some(44_100.0), Some(48_000.0)),
        "03_Bass: stems.sample_rate value and threshold"
    );
    assert_eq!(w.report.verdict, Verdict::NotReady);

    // 6. The whole session reactivated at 44.1 kHz.
    for track in &mut session.tracks {
        track.plugin.deactivate();
    }
    session.master.deactivate();
    for track in &mut session.tracks {
        track.plugin.activate(44_100.0, MAX_FRAMES, 2);
        track.rate = 44_100.0;
    }
    session.master.activate(44_100.0, MAX_FRAMES, 2);
    session.master_rate = 44_100.0;
    let w = session.pass(
        "all at 44.1 kHz",
        pass_frames(3.0, 44_100.0),
        &[MAX_FRAMES as usize],
    );
    check_report("all at 44.1 kHz", &w, &Expected::of(&session));
    assert_eq!(w.report.sample_rate, Some(44_100));
    assert_eq!(w.report.stems.len(), 8);
    assert_eq!(w.report.verdict, Verdict::Warnings);

    let slowest = session.latencies.iter().max().copied().unwrap_or_default();
    println!(
        "{} reports checked in {:.1} s; the slowest appeared {slowest:?} after its stop",
        session.latencies.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The readings of two reports of the same signals agree: sample peaks to the hundredth, true
/// peaks within 0.01 dB, the same windows, counters, findings and verdict.
fn check_same_readings(what: &str, got: &Report, want: &Report) {
    let buses = std::iter::once((&got.master.levels, &want.master.levels, "Master")).chain(
        got.stems
            .iter()
            .zip(&want.stems)
            .map(|(g, w)| (&g.levels, &w.levels, w.name.as_str())),
    );
    for (g, w, name) in buses {
        assert_eq!(
            g.sample_peak_dbfs, w.sample_peak_dbfs,
            "{what}: {name} sample peaks against blocks of 512"
        );
        for (a, b) in g.true_peak_dbtp.iter().zip(&w.true_peak_dbtp) {
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 0.01,
                    "{what}: {name} true peak {a} against {b} with blocks of 512"
                ),
                (a, b) => assert_eq!(a, b, "{what}: {name} true peak"),
            }
        }
        assert_eq!(g.window, w.window, "{what}: {name} window");
        assert_eq!(
            (g.clipped_samples, g.true_peak_overs, g.flat_tops, g.nan_inf),
            (w.clipped_samples, w.true_peak_overs, w.flat_tops, w.nan_inf),
            "{what}: {name} counters"
        );
    }
    let ids = |r: &Report| -> Vec<(String, Option<String>)> {
        r.findings
            .iter()
            .map(|f| (f.id.clone(), f.stem.clone()))
            .collect()
    };
    assert_eq!(ids(got), ids(want), "{what}: findings");
    assert_eq!(got.verdict, want.verdict, "{what}: verdict");
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// CLAP ids and ranges of the float parameters (SPEC 6.1).
const FLOAT_PARAMS: [(&str, f64, f64, f64); 4] = [
    // (id, min, max, default)
    ("window_low_db", -30.0, 0.0, -6.0),
    ("window_high_db", -30.0, 0.0, -3.0),
    ("tp_ceiling_db", -30.0, 0.0, -1.0),
    ("null_tolerance_db", -140.0, 0.0, -60.0),
];

fn normalised(id: &str, plain: f64) -> f64 {
    let (_, min, max, _) = FLOAT_PARAMS
        .iter()
        .find(|p| p.0 == id)
        .unwrap_or_else(|| panic!("no float parameter {id}"));
    (plain - min) / (max - min)
}

/// Panics unless every parameter and field in a saved state is valid.
fn assert_state_valid(what: &str, state: &Value) {
    for (id, min, max, _) in FLOAT_PARAMS {
        let v = state["params"][id]["f32"].as_f64().unwrap_or_else(|| {
            panic!(
                "{what}: {id} is not saved as an f32: {}",
                state["params"][id]
            )
        });
        assert!(
            v.is_finite() && (min..=max).contains(&v),
            "{what}: {id} = {v} after the load, outside {min}..={max}"
        );
    }
    let role = state["params"]["role"]["f32"].as_f64();
    assert!(
        role.is_some_and(|r| (0.0..=1.0).contains(&r)),
        "{what}: role saved as {}",
        state["params"]["role"]
    );
    let fields = &state["fields"];
    for (name, is_valid) in [
        ("label", Value::is_string as fn(&Value) -> bool),
        ("report_dir", Value::is_string),
        ("auto_report", Value::is_boolean),
        ("editor_size", |v: &Value| {
            v.is_null() || v.as_array().is_some_and(|a| a.len() == 2)
        }),
    ] {
        let raw = fields[name]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: field {name} saved as {}", fields[name]));
        let value: Value = serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("{what}: field {name} holds {raw:?}, not JSON ({e})"));
        assert!(is_valid(&value), "{what}: field {name} holds {value}");
    }
}

#[test]
fn every_parameter_and_field_survives_a_save_and_a_load() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let mut a = PluginInstance::new(&bundle, PLUGIN_ID);
    let fresh = decode_state(&a.save_state());
    println!("a fresh instance's state: {fresh}");
    assert_state_valid("fresh", &fresh);
    for (id, _, _, default) in FLOAT_PARAMS {
        let v = fresh["params"][id]["f32"].as_f64();
        assert_eq!(v, Some(default), "fresh: {id}");
    }
    assert_eq!(
        fresh["fields"],
        json!({
            "label": "\"\"",
            "report_dir": "\"\"",
            "auto_report": "false",
            "editor_size": "null",
            "brief_title": "\"\"",
            "brief_artist": "\"\"",
            "brief_notes": "\"\"",
            "stem_note": "\"\""
        }),
        "fresh: fields"
    );

    // Every parameter away from its default, through the host's parameter API.
    let targets = [
        ("window_low_db", -9.0),
        ("window_high_db", -4.0),
        ("tp_ceiling_db", -2.0),
        ("null_tolerance_db", -80.0),
    ];
    for (id, plain) in targets {
        a.set_param_value(clap_param_id(id), normalised(id, plain));
    }
    a.set_param_value(clap_param_id("role"), 1.0);
    // Every field, through a state (fields have no parameter API).
    let label = "Lead \"Vox\" — ünïcode";
    let dir = "/some folder/with spaces/reports";
    let mut state = decode_state(&a.save_state());
    state["fields"]["label"] = field(json!(label));
    state["fields"]["report_dir"] = field(json!(dir));
    state["fields"]["auto_report"] = field(json!(true));
    state["fields"]["editor_size"] = field(json!([900.0, 610.0]));
    state["fields"]["brief_title"] = field(json!("Night \"Drive\" | 2"));
    state["fields"]["brief_artist"] = field(json!("The Examples"));
    state["fields"]["brief_notes"] = field(json!("Line one\n# line two"));
    state["fields"]["stem_note"] = field(json!("Kick + sub"));
    a.load_state(&encode_state(&state))
        .expect("a state with every field set loads");
    let first = decode_state(&a.save_state());

    for (id, plain) in targets {
        let v = first["params"][id]["f32"]
            .as_f64()
            .unwrap_or_else(|| panic!("{id} saved as {}", first["params"][id]));
        assert!(
            (v - plain).abs() < 1e-4,
            "{id} saved as {v}, set to {plain}"
        );
    }
    assert_eq!(first["params"]["role"], json!({ "f32": 1.0 }));
    assert_eq!(
        first["fields"],
        json!({
            "label": field(json!(label)),
            "report_dir": field(json!(dir)),
            "auto_report": field(json!(true)),
            "editor_size": field(json!([900.0, 610.0])),
            "brief_title": field(json!("Night \"Drive\" | 2")),
            "brief_artist": field(json!("The Examples")),
            "brief_notes": field(json!("Line one\n# line two")),
            "stem_note": field(json!("Kick + sub")),
        }),
        "saved fields"
    );

    // Into a fresh instance and out again: identical.
    let mut b = PluginInstance::new(&bundle, PLUGIN_ID);
    b.load_state(&encode_raw(&serde_json::to_vec(&first).unwrap()))
        .expect("a saved state loads into a fresh instance");
    let second = decode_state(&b.save_state());
    assert_eq!(
        second["params"], first["params"],
        "params after the round trip"
    );
    assert_eq!(
        second["fields"], first["fields"],
        "fields after the round trip"
    );
    for id in FLOAT_PARAMS.iter().map(|p| p.0).chain(["role"]) {
        let (va, vb) = (
            a.param_value(clap_param_id(id)),
            b.param_value(clap_param_id(id)),
        );
        assert!(
            (va - vb).abs() < 1e-6,
            "{id}: {va} on the saving instance, {vb} on the loading one"
        );
    }
}

/// A loud, awkward stereo signal for pass-through checks.
fn probe(frames: usize) -> Vec<Vec<f32>> {
    (0..2)
        .map(|ch| {
            (0..frames)
                .map(|i| {
                    let x = (i as f32 * (0.05 + 0.01 * ch as f32)).sin() * 0.9;
                    if i % 101 == 0 {
                        -x
                    } else {
                        x
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn bad_states_are_refused_or_clamped_and_audio_still_passes() {
    let _serial = serial();
    let bundle = ClapBundle::load(&bundle_path());
    let good = {
        let mut p = PluginInstance::new(&bundle, PLUGIN_ID);
        decode_state(&p.save_state())
    };
    let good_json = serde_json::to_vec(&good).unwrap();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut s = good.clone();
        edit(&mut s);
        encode_state(&s)
    };

    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // (what, bytes, must be refused)
        ("empty", Vec::new(), true),
        (
            "truncated JSON",
            encode_raw(&good_json[..good_json.len() / 2]),
            true,
        ),
        ("not JSON", encode_raw(b"\x00\xffnot json at all"), true),
        // nice-plug reads up to the announced length: a whole state behind a length that
        // overshoots loads, one cut short by its length is refused.
        (
            "length prefix past the end",
            {
                let mut b = encode_raw(&good_json);
                b[..8].copy_from_slice(&(good_json.len() as u64 + 1000).to_le_bytes());
                b
            },
            false,
        ),
        (
            "length prefix short of the end",
            {
                let mut b = encode_raw(&good_json);
                b[..8].copy_from_slice(&(good_json.len() as u64 / 2).to_le_bytes());
                b
            },
            true,
        ),
        (
            "absurd length prefix",
            {
                let mut b = encode_raw(&good_json);
                b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
                b
            },
            true,
        ),
        (
            "params of the wrong type",
            encode_raw(br#"{"version":"0.1.0","params":[],"fields":{}}"#),
            true,
        ),
        (
            "values of the wrong type",
            with(&|s| {
                s["params"]["window_low_db"] = json!({ "string": "loud" });
                s["params"]["window_high_db"] = json!({ "bool": true });
                s["params"]["role"] = json!({ "bool": true });
                s["fields"]["label"] = json!("42");
                s["fields"]["report_dir"] = json!("{]");
                s["fields"]["auto_report"] = json!("\"yes\"");
            }),
            false,
        ),
        (
            "values out of range",
            with(&|s| {
                s["params"]["window_low_db"] = json!({ "f32": 500.0 });
                s["params"]["window_high_db"] = json!({ "f32": -1e30 });
                s["params"]["tp_ceiling_db"] = json!({ "f32": 1e39 });
                s["params"]["null_tolerance_db"] = json!({ "f32": -1000.0 });
                s["params"]["role"] = json!({ "string": "Banana" });
            }),
            false,
        ),
        (
            "role index out of range",
            with(&|s| s["params"]["role"] = json!({ "i32": 7 })),
            false,
        ),
        (
            "negative role index",
            with(&|s| s["params"]["role"] = json!({ "i32": -1 })),
            false,
        ),
        (
            "unknown parameters and fields",
            with(&|s| {
                s["params"]["bogus"] = json!({ "f32": 1.0 });
                s["fields"]["bogus"] = json!("1");
                s["extra"] = json!([1, 2, 3]);
                s["params"]["window_low_db"] = json!({ "f32": -12.0 });
            }),
            false,
        ),
    ];

    for (what, bytes, must_refuse) in &cases {
        let mut plugin = PluginInstance::new(&bundle, PLUGIN_ID);
        let loaded = plugin.load_state(bytes);
        println!("{what}: {loaded:?}");
        if *must_refuse {
            assert!(loaded.is_err(), "{what}: the state was accepted");
        }
        let after = decode_state(&plugin.save_state());
        assert_state_valid(what, &after);
        for (id, ..) in FLOAT_PARAMS
            .iter()
            .copied()
            .chain([("role", 0.0, 1.0, 0.0)])
        {
            let v = plugin.param_value(clap_param_id(id));
            assert!(
                v.is_finite() && (0.0..=1.0).contains(&v),
                "{what}: {id} reads {v} through the host's parameter API"
            );
        }
        // The role the host reads is the role the plugin saves (and runs as).
        let role = plugin.param_value(clap_param_id("role"));
        let saved_role = after["params"]["role"]["f32"].as_f64();
        assert!(
            saved_role.is_some_and(|r| (r - role).abs() < 1e-6),
            "{what}: the host reads role {role}, the state says {}",
            after["params"]["role"]
        );
        if *what == "unknown parameters and fields" {
            assert!(loaded.is_ok(), "{what}: refused");
            assert_eq!(
                after["params"]["window_low_db"],
                json!({ "f32": -12.0 }),
                "{what}: the known value next to unknown ones"
            );
        }

        plugin.activate(48_000.0, MAX_FRAMES, 2);
        let input = probe(5_000);
        let mut pos = 0usize;
        for len in [1usize, 7, 333, 512].into_iter().cycle() {
            if pos >= 5_000 {
                break;
            }
            let len = len.min(5_000 - pos);
            let block: Vec<Vec<f32>> = input.iter().map(|c| c[pos..pos + len].to_vec()).collect();
            let transport = TransportInfo {
                playing: true,
                pos_samples: pos as i64,
                sample_rate: 48_000.0,
            };
            let out = plugin.process(&block, Some(transport));
            assert!(
                out == block,
                "{what}: audio is not passed through bit-exactly at {pos}"
            );
            pos += len;
        }
    }
}
