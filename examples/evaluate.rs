//! Measures Stemcheck's session analysis and report on a corpus of real recordings processed
//! by real limiters and clippers, with faults put between the stems and the master (built by
//! `tests/eval/make_corpus.py`; its `manifest.json` holds the ground truth).
//!
//! ```text
//! cargo run --release --example evaluate -- <corpus_dir> [--details] [--jobs N]
//!     [--host offline | --host paced [--speed X]] [--bundle PATH]
//! ```
//!
//! Every session is decoded once and fed, in 4096-frame chunks, to one [`SessionAnalysis`]
//! (sum-check, limiter / clipper detection of the master and every stem, the stem sum's true
//! peak) and to one [`BusMeter`] per bus; the figures and the meters' readings then go through
//! [`build_report`], as in the plugin's master. Printed:
//!
//! - the detectors on their own: limiting at ≥ 3 dB of gain reduction per tool and drive,
//!   clippers, false alarms on unprocessed files (each file once: a base stem reappears in
//!   every variant of its session), master-bus processing found against the stems and false
//!   master-processing alarms;
//! - the report against the ground truth: clean sessions READY with a null below −90 dB,
//!   `limiter.stem` / `limiter.master` on limited buses, `clip.*` on clipped stems, offsets to
//!   the sample, gains to 0.1 dB, polarity, unaccounted signal (and its level error);
//! - per kind of session the verdicts and any fail or warn finding the truth does not explain,
//!   and false alarms per rule with their denominators;
//! - every bus's integrated loudness and loudness range against the `ebur128` crate on the
//!   same audio (within 0.05 and 0.1 LU);
//! - a Markdown summary, with the time taken and the hours of audio analysed.
//!
//! Exits with status 1 when a target is missed (each is listed), 2 when the corpus cannot be
//! read.
//!
//! Each session gives one [`SessionOutcome`] ([`evaluate_session`]); they are folded into a
//! [`Tally`] in manifest order, so the output does not depend on `--jobs`.
//!
//! With `--host`, every session is also played through the built CLAP bundle (`--bundle`,
//! default `target/bundled/Stemcheck.clap`) in a CLAP host, stems and master as plugin
//! instances, one session at a time: `paced` in real-time mode at `--speed` times real time
//! (default 4), or `offline`: flat out with the CLAP render mode offline. The report checks,
//! verdicts and false alarms then come from the report the plugin's master wrote (the
//! detector tables stay those of the files, read directly), and every session must have been
//! checked whole: `pass.unchecked_frames` 0.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

#[allow(dead_code)]
#[path = "../tests/common/clap_host.rs"]
mod clap_host;
#[path = "evaluate_host/host.rs"]
mod host;
#[path = "evaluate_host/loudness.rs"]
mod loudness;
#[allow(dead_code)]
#[path = "../tests/common/loudness_peer.rs"]
mod loudness_peer;
#[allow(dead_code)]
#[path = "../tests/common/state.rs"]
mod state;

use host::{Host, HostMode};
use loudness::BusLoudness;
use loudness_peer::LoudnessPeer;
use stemcheck::analysis::session::{SessionAnalysis, SessionFigures};
use stemcheck::analysis::{DynamicsResult, DynamicsVerdict, SumCheckConfig};
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::pass::TransportState;
use stemcheck::report::{
    build_report, BusInput, Finding, Report, ReportInput, Severity, SumInput, Thresholds, Verdict,
};

/// Detection wanted at ≥ 3 dB of gain reduction.
const DETECTION_TARGET: f64 = 0.95;
/// Most false alarms allowed on unprocessed material.
const FALSE_ALARM_TARGET: f64 = 0.02;
/// Checks that must hold in every case (READY, null depth, offsets, gains).
const EVERY_CASE: f64 = 1.0;
/// Gain reductions from this much up count for the detection rate, dB.
const MIN_GAIN_REDUCTION_DB: f32 = 3.0;
/// A clean session must null below this, dB.
const CLEAN_NULL_DB: f32 = -90.0;
/// A fitted gain must be this close to the truth, dB.
const GAIN_TOLERANCE_DB: f32 = 0.1;
/// Frames pushed at a time.
const CHUNK: usize = 4096;

/// `manifest.json`, as far as this tool reads it.
#[derive(Debug, Deserialize)]
struct Manifest {
    sample_rate: f32,
    sessions: Vec<Session>,
}

#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    #[serde(default)]
    base: String,
    kind: String,
    master: Bus,
    stems: Vec<Bus>,
    #[serde(default)]
    truth: Truth,
}

#[derive(Debug, Deserialize)]
struct Bus {
    #[serde(default)]
    name: Option<String>,
    file: String,
    processing: Option<Processing>,
}

/// What was done between the stems and the master (`null` fields: nothing).
#[derive(Clone, Debug, Default, Deserialize)]
struct Truth {
    #[serde(default)]
    offset: Option<OffsetTruth>,
    #[serde(default)]
    polarity: Option<StemTruth>,
    #[serde(default)]
    gain: Option<GainTruth>,
    #[serde(default)]
    unaccounted: Option<UnaccountedTruth>,
}

impl Truth {
    /// No fault between the stems and the master.
    fn is_clear(&self) -> bool {
        self.offset.is_none()
            && self.polarity.is_none()
            && self.gain.is_none()
            && self.unaccounted.is_none()
    }
}

#[derive(Clone, Debug, Deserialize)]
struct OffsetTruth {
    stem: String,
    /// > 0: the stem reaches the master late.
    samples: i64,
}

#[derive(Clone, Debug, Deserialize)]
struct StemTruth {
    stem: String,
}

#[derive(Clone, Debug, Deserialize)]
struct GainTruth {
    stem: String,
    /// `[left, right]`, dB.
    db: Vec<f32>,
}

impl GainTruth {
    /// The same gain on every channel: a fader; otherwise a pan.
    fn is_fader(&self) -> bool {
        self.db.windows(2).all(|w| w[0] == w[1])
    }
}

#[derive(Clone, Debug, Deserialize)]
struct UnaccountedTruth {
    /// Energy of the extra track relative to the master file, dB.
    level_db: f32,
}

/// Ground truth of one file's processing.
#[derive(Clone, Debug, Deserialize)]
struct Processing {
    kind: String,
    tool: String,
    #[serde(default)]
    gain_reduction_db: Option<f32>,
    #[serde(default)]
    drive_db: Option<f32>,
    #[serde(default)]
    ceiling_dbfs: Option<f32>,
}

impl Processing {
    /// The gain reduction achieved, else the drive.
    fn reduction_db(&self) -> Option<f32> {
        self.gain_reduction_db.or(self.drive_db)
    }

    /// A limiter reducing by at least [`MIN_GAIN_REDUCTION_DB`].
    fn is_strong_limiter(&self) -> bool {
        self.kind == "limiter"
            && self
                .reduction_db()
                .is_some_and(|gr| gr >= MIN_GAIN_REDUCTION_DB)
    }

    /// A short tool name for the table.
    fn tool_name(&self) -> String {
        let t = self.tool.to_lowercase();
        for (key, name) in [
            ("alimiter", "alimiter"),
            ("x42", "x42-dpl"),
            ("lsp", "lsp"),
            ("sox", "sox clip"),
            ("asoftclip", "ffmpeg clip"),
        ] {
            if t.contains(key) {
                return name.to_string();
            }
        }
        self.tool.clone()
    }
}

/// A file's audio: one vector per channel.
struct Audio {
    channels: Vec<Vec<f32>>,
}

impl Audio {
    fn read(path: &Path) -> Result<Self, String> {
        let mut reader =
            hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let spec = reader.spec();
        let n = spec.channels.max(1) as usize;
        let samples: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: {e}", path.display()))?,
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let frames = samples.len() / n;
        let channels = (0..n)
            .map(|c| (0..frames).map(|i| samples[i * n + c]).collect())
            .collect();
        Ok(Self { channels })
    }

    fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Channel slices of frames `from..to`; `None` when the file ends before `to`.
    fn chunk(&self, from: usize, to: usize) -> Option<Vec<&[f32]>> {
        (to <= self.frames()).then(|| self.channels.iter().map(|c| &c[from..to]).collect())
    }
}

/// Decoded files of one base: its stems reappear in every variant of the session.
struct Files {
    root: PathBuf,
    base: String,
    audio: HashMap<String, Arc<Audio>>,
}

impl Files {
    fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            base: String::new(),
            audio: HashMap::new(),
        }
    }

    fn get(&mut self, base: &str, file: &str) -> Result<Arc<Audio>, String> {
        if base != self.base {
            self.audio.clear();
            self.base = base.to_string();
        }
        if let Some(a) = self.audio.get(file) {
            return Ok(a.clone());
        }
        let a = Arc::new(Audio::read(&self.root.join(file))?);
        self.audio.insert(file.to_string(), a.clone());
        Ok(a)
    }
}

/// One bus of a session: its truth and the detector's reading.
#[derive(Clone, Debug)]
struct BusOutcome {
    file: String,
    name: String,
    truth: Option<Processing>,
    dynamics: DynamicsResult,
}

/// Everything measured on one session.
#[derive(Clone, Debug)]
struct SessionOutcome {
    id: String,
    kind: String,
    truth: Truth,
    master: BusOutcome,
    stems: Vec<BusOutcome>,
    figures: SessionFigures,
    verdict: Verdict,
    findings: Vec<Finding>,
    /// Seconds of session audio (the master's length).
    seconds: f64,
    /// Seconds of every file read (master and stems).
    file_seconds: f64,
    /// With `--host`: how the plugin ran the session.
    host: Option<HostRun>,
    /// Every bus's loudness beside the `ebur128` crate's (master first).
    loudness: Vec<BusLoudness>,
}

/// How the plugin ran one session in the host (from its report's `pass`).
#[derive(Clone, Debug)]
struct HostRun {
    render_mode: String,
    speed: Option<f64>,
    analysed: u64,
    unchecked: u64,
    /// Why frames went unchecked (`pass.unchecked_reason`) and, per stem, what its detection
    /// did not see.
    why: String,
    /// Seconds the session took in the host, wall clock.
    wall: f64,
}

impl SessionOutcome {
    /// Takes the verdict, findings and sum-check figures from the report the plugin wrote.
    fn apply_report(&mut self, r: &Report, wall: f64) {
        self.verdict = r.verdict;
        self.findings = r.findings.clone();
        let f32s = |v: Option<f64>| v.map(|v| v as f32);
        let sum = &mut self.figures.sum;
        sum.null_depth_db = f32s(r.sum.null_depth_db);
        sum.null_depth_fitted_db = f32s(r.sum.null_depth_fitted_db);
        sum.unaccounted_db = f32s(r.sum.unaccounted_db);
        sum.cancellation_db = f32s(r.sum.cancellation_db);
        for (bus, fit) in self.stems.iter().zip(sum.stems.iter_mut()) {
            let Some(stem) = r.stems.iter().find(|s| s.name == bus.name) else {
                continue;
            };
            fit.gain_db = stem
                .gain_db
                .iter()
                .flatten()
                .map(|g| g.map(|g| g as f32))
                .collect();
            fit.offset_samples = stem.offset_samples;
            fit.polarity_inverted = stem.polarity_inverted.unwrap_or(false);
        }
        self.host = Some(HostRun {
            render_mode: r
                .pass
                .render_mode
                .map_or("none".into(), |m| format!("{m:?}").to_lowercase()),
            speed: r.pass.speed,
            why: format!(
                "{:?}; unseen per stem {:?}",
                r.pass.unchecked_reason,
                r.stems
                    .iter()
                    .map(|s| s.limiter.unseen_frames.unwrap_or(0))
                    .collect::<Vec<_>>()
            ),
            analysed: r.pass.analysed_frames.unwrap_or(0),
            unchecked: r.pass.unchecked_frames.unwrap_or(u64::MAX),
            wall,
        });
    }
}

impl SessionOutcome {
    /// Whether a finding `id` concerns `stem` (`None`: the master or the session).
    fn has(&self, id: &str, stem: Option<&str>) -> bool {
        self.findings
            .iter()
            .any(|f| f.id == id && f.stem.as_deref() == stem)
    }

    /// A `clip.*` finding about `stem`.
    fn has_clip(&self, stem: Option<&str>) -> bool {
        self.has("clip.flat_top", stem) || self.has("clip.samples", stem)
    }

    fn stem(&self, name: &str) -> Option<(usize, &BusOutcome)> {
        self.stems.iter().enumerate().find(|(_, b)| b.name == name)
    }

    /// Whether the truth accounts for a fail or warn finding.
    fn explains(&self, f: &Finding) -> bool {
        let stem = f.stem.as_deref();
        let processed = match stem {
            Some(n) => self.stem(n).and_then(|(_, b)| b.truth.as_ref()),
            None => self.master.truth.as_ref(),
        };
        let t = &self.truth;
        let on = |truth: Option<&str>| truth.is_some() && truth == stem;
        match f.id.as_str() {
            "limiter.stem" | "limiter.master" => processed.is_some_and(|p| p.kind == "limiter"),
            "clip.flat_top" | "clip.samples" => processed.is_some_and(|p| p.kind != "limiter"),
            "sum.null" => self.master.truth.is_some() || !t.is_clear(),
            "sum.unaccounted" => t.unaccounted.is_some(),
            "sum.gain" => on(t.gain.as_ref().map(|g| g.stem.as_str())),
            "sum.offset" => on(t.offset.as_ref().map(|o| o.stem.as_str())),
            "sum.polarity" => on(t.polarity.as_ref().map(|p| p.stem.as_str())),
            _ => false,
        }
    }
}

/// Decodes and analyses one session: the session analysis and a meter per bus over the same
/// chunks, then the report.
fn evaluate_session(
    session: &Session,
    files: &mut Files,
    sample_rate: f32,
) -> Result<SessionOutcome, String> {
    let base = session.base.as_str();
    let master = files.get(base, &session.master.file)?;
    let stems = session
        .stems
        .iter()
        .map(|b| files.get(base, &b.file))
        .collect::<Result<Vec<_>, _>>()?;
    let channels = master.channels.len();
    if !(1..=2).contains(&channels) || stems.iter().any(|s| !(1..=2).contains(&s.channels.len())) {
        return Err(format!(
            "{}: only mono and stereo files are read",
            session.id
        ));
    }
    let frames = master.frames();
    let stem_channels: Vec<usize> = stems.iter().map(|s| s.channels.len()).collect();
    let mut analysis =
        SessionAnalysis::new(SumCheckConfig::new(channels, sample_rate), &stem_channels);
    let settings = MeterSettings {
        tp_ceiling_db: Thresholds::default().tp_ceiling_db,
    };
    let mut master_meter = BusMeter::new(channels, sample_rate, settings);
    let mut stem_meters: Vec<BusMeter> = stem_channels
        .iter()
        .map(|&c| BusMeter::new(c, sample_rate, settings))
        .collect();
    let rate_hz = sample_rate as u32;
    let mut master_peer = LoudnessPeer::new(channels, rate_hz);
    let mut stem_peers: Vec<LoudnessPeer> = stem_channels
        .iter()
        .map(|&c| LoudnessPeer::new(c, rate_hz))
        .collect();
    let mut t = 0;
    while t < frames {
        let end = (t + CHUNK).min(frames);
        let transport = TransportState {
            playing: true,
            pos_samples: Some(t as i64),
        };
        let m = master.chunk(t, end).expect("within the master");
        let s: Vec<Option<Vec<&[f32]>>> = stems.iter().map(|a| a.chunk(t, end)).collect();
        let refs: Vec<Option<&[&[f32]]>> = s.iter().map(|c| c.as_deref()).collect();
        analysis.push(&m, &refs);
        master_meter.process(&m, transport);
        master_peer.push(&m);
        for ((meter, peer), chunk) in stem_meters.iter_mut().zip(&mut stem_peers).zip(&s) {
            if let Some(c) = chunk {
                meter.process(c, transport);
                peer.push(c);
            }
        }
        t = end;
    }
    analysis.finish();
    let figures = analysis.figures();

    let mut master_bus = BusInput::new("Master".into(), None, true, master_meter.snapshot());
    master_bus.dynamics = Some(figures.master_dynamics);
    let names: Vec<String> = session
        .stems
        .iter()
        .map(|b| b.name.clone().unwrap_or_else(|| b.file.clone()))
        .collect();
    let stem_buses: Vec<BusInput> = names
        .iter()
        .zip(&stem_meters)
        .enumerate()
        .map(|(i, (name, meter))| {
            let mut bus = BusInput::new(name.clone(), Some(i + 1), true, meter.snapshot());
            bus.dynamics = figures.stem_dynamics.get(i).copied();
            bus.fit = figures.sum.stems.get(i).cloned();
            bus
        })
        .collect();
    // The readings the report is built from, beside the peer's of the same audio.
    let loudness = std::iter::once(BusLoudness::new(
        "master",
        &master_bus.reading.loudness,
        &master_peer,
    ))
    .chain(
        stem_buses
            .iter()
            .zip(&stem_peers)
            .map(|(bus, peer)| BusLoudness::new(&bus.name, &bus.reading.loudness, peer)),
    )
    .collect();
    let input = ReportInput {
        plugin_version: env!("CARGO_PKG_VERSION").to_owned(),
        created: SystemTime::UNIX_EPOCH,
        thresholds: Thresholds::default(),
        master: master_bus,
        stems: stem_buses,
        sum: Some(SumInput::from_figures(&figures)),
        files: None,
        coverage: None,
        delivery: Default::default(),
    };
    let report = build_report(&input);

    let rate = f64::from(sample_rate);
    let file_frames: usize = stems.iter().map(|s| s.frames()).sum::<usize>() + frames;
    Ok(SessionOutcome {
        id: session.id.clone(),
        kind: session.kind.clone(),
        truth: session.truth.clone(),
        master: BusOutcome {
            file: session.master.file.clone(),
            name: "master".into(),
            truth: session.master.processing.clone(),
            dynamics: figures.master_dynamics,
        },
        stems: session
            .stems
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (b, name))| BusOutcome {
                file: b.file.clone(),
                name,
                truth: b.processing.clone(),
                dynamics: figures.stem_dynamics.get(i).copied().unwrap_or_default(),
            })
            .collect(),
        verdict: report.verdict,
        findings: report.findings,
        figures,
        seconds: frames as f64 / rate,
        file_seconds: file_frames as f64 / rate,
        host: None,
        loudness,
    })
}

/// Hits out of trials.
#[derive(Clone, Copy, Debug, Default)]
struct Rate {
    hits: u32,
    trials: u32,
}

impl Rate {
    fn add(&mut self, hit: bool) {
        self.trials += 1;
        self.hits += hit as u32;
    }

    fn fraction(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.hits as f64 / self.trials as f64)
    }

    fn show(&self) -> String {
        match self.fraction() {
            Some(f) => format!("{:>3}/{:<3} {:6.1} %", self.hits, self.trials, 100.0 * f),
            None => "  –".into(),
        }
    }

    /// "12 / 12" and "100.0 %" for the Markdown table.
    fn cells(&self) -> (String, String) {
        (
            format!("{} / {}", self.hits, self.trials),
            self.fraction()
                .map_or("–".into(), |f| format!("{:.1} %", 100.0 * f)),
        )
    }
}

/// A report check against the ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CheckId {
    CleanReady,
    CleanNull,
    LimiterStem,
    LimiterMaster,
    Clipped,
    Offset,
    Fader,
    Pan,
    GainFinding,
    Polarity,
    Unaccounted,
}

impl CheckId {
    fn label(self) -> &'static str {
        match self {
            CheckId::CleanReady => "Clean sessions READY",
            CheckId::CleanNull => "Clean sessions null below −90 dB",
            CheckId::LimiterStem => "Stem limiting ≥ 3 dB → `limiter.stem` on that stem",
            CheckId::LimiterMaster => "Master limiting ≥ 3 dB → `limiter.master`",
            CheckId::Clipped => "Clipped stems → `clip.*` on that stem",
            CheckId::Offset => "Offsets exact to the sample + `sum.offset` on that stem",
            CheckId::Fader => "Fader −2 dB: both channels within 0.1 dB",
            CheckId::Pan => "Pan −3 / 0 dB: each channel within 0.1 dB",
            CheckId::GainFinding => "Changed gain → `sum.gain` on that stem",
            CheckId::Polarity => "Polarity: read inverted + `sum.polarity` on that stem",
            CheckId::Unaccounted => "Unaccounted track → `sum.unaccounted`",
        }
    }

    /// Least fraction of cases that must pass, when the issue sets one.
    fn target(self) -> Option<f64> {
        match self {
            CheckId::CleanReady
            | CheckId::CleanNull
            | CheckId::Offset
            | CheckId::Fader
            | CheckId::Pan => Some(EVERY_CASE),
            CheckId::LimiterStem | CheckId::LimiterMaster => Some(DETECTION_TARGET),
            _ => None,
        }
    }
}

/// A rule that must stay quiet on some buses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Alarm {
    LimiterStem,
    ClipStem,
    LimiterMaster,
    ClipMaster,
    LimiterOnClipped,
    ClipOnLimited,
    SumNull,
    SumUnaccounted,
    SumGain,
    SumOffset,
    SumPolarity,
    SumCancellation,
}

impl Alarm {
    fn label(self) -> &'static str {
        match self {
            Alarm::LimiterStem => "`limiter.stem` on unprocessed stems",
            Alarm::ClipStem => "`clip.*` on unprocessed stems",
            Alarm::LimiterMaster => "`limiter.master` on unprocessed masters",
            Alarm::ClipMaster => "`clip.*` on unprocessed masters",
            Alarm::LimiterOnClipped => "`limiter.*` on clipped (not limited) buses",
            Alarm::ClipOnLimited => "`clip.*` on limited (not clipped) buses",
            Alarm::SumNull => "`sum.null` where master = stem sum",
            Alarm::SumUnaccounted => "`sum.unaccounted` with no extra track",
            Alarm::SumGain => "`sum.gain` on stems at unity",
            Alarm::SumOffset => "`sum.offset` on stems in place",
            Alarm::SumPolarity => "`sum.polarity` on stems not inverted",
            Alarm::SumCancellation => "`sum.cancellation` (stems never cancel here)",
        }
    }

    /// What the denominator counts.
    fn unit(self) -> &'static str {
        match self {
            Alarm::LimiterStem | Alarm::ClipStem => "stems",
            Alarm::SumGain | Alarm::SumOffset | Alarm::SumPolarity => "stems",
            Alarm::LimiterOnClipped | Alarm::ClipOnLimited => "buses",
            _ => "sessions",
        }
    }

    /// Most false alarms allowed, when the issue sets it.
    fn target(self) -> Option<f64> {
        (self == Alarm::LimiterStem).then_some(FALSE_ALARM_TARGET)
    }
}

/// Cases of a check or of a false-alarm rule: hits over trials, and what was read in the
/// cases worth listing (a check's misses, a rule's firings).
#[derive(Debug, Default)]
struct Cases {
    rate: Rate,
    listed: Vec<String>,
}

impl Cases {
    /// Counts a case; lists it when `list`.
    fn add(&mut self, hit: bool, list: bool, line: impl FnOnce() -> String) {
        self.rate.add(hit);
        if list {
            self.listed.push(line());
        }
    }
}

/// One kind of session: verdicts, its checks, and the findings the truth does not explain.
#[derive(Debug, Default)]
struct KindTally {
    sessions: u32,
    ready: u32,
    warnings: u32,
    not_ready: u32,
    /// Sessions in which every check that applies passed.
    checked: Rate,
    unexpected: BTreeMap<String, u32>,
}

/// Everything counted over the corpus.
#[derive(Debug, Default)]
struct Tally {
    /// Limited files at ≥ 3 dB, by tool and by rounded gain reduction.
    limited: BTreeMap<(String, i32), Rate>,
    limited_by_tool: BTreeMap<String, Rate>,
    limited_all: Rate,
    /// Limited files read as clipped: found, but named wrong.
    limited_as_clipped: u32,
    /// Ceiling errors (reading − truth) of detected limited or clipped files, dB.
    ceiling_errors: Vec<f32>,
    clipped: BTreeMap<String, Rate>,
    clipped_all: Rate,
    /// Unprocessed files read as limited or clipped (hit = false alarm).
    stem_false_alarms: Rate,
    master_false_alarms: Rate,
    false_alarm_files: Vec<String>,
    missed_files: Vec<String>,
    /// Master processing found, by tool, and gain-reduction errors (reading − truth).
    master_processing: BTreeMap<String, Rate>,
    master_processing_all: Rate,
    master_gr_errors: Vec<(String, f32, Option<f32>)>,
    master_processing_false: BTreeMap<String, Rate>,
    master_processing_false_all: Rate,
    master_processing_false_ids: Vec<String>,
    /// The report against the truth.
    checks: BTreeMap<CheckId, Cases>,
    alarms: BTreeMap<Alarm, Cases>,
    kinds: BTreeMap<String, KindTally>,
    /// Null depth of each clean session, dB.
    clean_nulls: Vec<Option<f32>>,
    /// |read − truth| of offsets, samples.
    offset_errors: Vec<i64>,
    /// |read − truth| of gains per channel, dB.
    gain_errors: BTreeMap<CheckId, Vec<f32>>,
    /// Unaccounted level read − truth, dB, by session.
    unaccounted_errors: Vec<(String, Option<f32>)>,
    seconds: f64,
    file_seconds: f64,
}

impl Tally {
    /// Adds one session. A file already counted by the detector tallies (a base stem
    /// reappearing in a variant) is not counted there again.
    fn add(&mut self, s: &SessionOutcome, seen: &mut HashSet<String>) {
        self.seconds += s.seconds;
        self.file_seconds += s.file_seconds;
        for bus in s.stems.iter().chain(std::iter::once(&s.master)) {
            if !seen.insert(bus.file.clone()) {
                continue;
            }
            let is_master = bus.name == "master" && bus.file == s.master.file;
            self.add_bus(bus, is_master, s);
        }
        self.add_master_processing(s);
        self.add_report(s);
    }

    fn add_master_processing(&mut self, s: &SessionOutcome) {
        let mp = &s.figures.sum.master_processing;
        match s.master.truth.as_ref().filter(|p| p.kind == "limiter") {
            Some(p) => {
                self.master_processing
                    .entry(p.tool_name())
                    .or_default()
                    .add(mp.detected);
                self.master_processing_all.add(mp.detected);
                if let Some(gr) = p.reduction_db() {
                    self.master_gr_errors.push((
                        s.id.clone(),
                        gr,
                        mp.gain_reduction_db.map(|m| m - gr),
                    ));
                }
            }
            None => {
                self.master_processing_false
                    .entry(s.kind.clone())
                    .or_default()
                    .add(mp.detected);
                self.master_processing_false_all.add(mp.detected);
                if mp.detected {
                    self.master_processing_false_ids
                        .push(format!("{} ({mp:?})", s.id));
                }
            }
        }
    }

    fn add_bus(&mut self, bus: &BusOutcome, is_master: bool, s: &SessionOutcome) {
        let r = bus.dynamics;
        let flagged = r.verdict != DynamicsVerdict::None;
        let line = || format!("{} {}: {:?}", s.id, bus.file, r);
        match &bus.truth {
            None => {
                // A master holding a processed stem is not unprocessed material.
                if is_master && s.stems.iter().any(|b| b.truth.is_some()) {
                    return;
                }
                if is_master {
                    self.master_false_alarms.add(flagged);
                } else {
                    self.stem_false_alarms.add(flagged);
                }
                if flagged {
                    self.false_alarm_files.push(line());
                }
            }
            Some(p) if p.kind == "limiter" => {
                let Some(gr) = p.reduction_db() else { return };
                if gr < MIN_GAIN_REDUCTION_DB {
                    return;
                }
                let tool = p.tool_name();
                self.limited
                    .entry((tool.clone(), gr.round() as i32))
                    .or_default()
                    .add(flagged);
                self.limited_by_tool.entry(tool).or_default().add(flagged);
                self.limited_all.add(flagged);
                self.limited_as_clipped += (r.verdict == DynamicsVerdict::Clipped) as u32;
                if !flagged {
                    self.missed_files.push(line());
                }
                self.ceiling(&r, p);
            }
            Some(p) => {
                let found = r.verdict == DynamicsVerdict::Clipped;
                self.clipped.entry(p.tool_name()).or_default().add(found);
                self.clipped_all.add(found);
                if !found {
                    self.missed_files.push(line());
                }
                self.ceiling(&r, p);
            }
        }
    }

    fn ceiling(&mut self, r: &DynamicsResult, p: &Processing) {
        if let (Some(c), Some(t)) = (r.ceiling_dbfs, p.ceiling_dbfs) {
            self.ceiling_errors.push(c - t);
        }
    }

    fn check(&mut self, id: CheckId, hit: bool, all: &mut bool, line: impl FnOnce() -> String) {
        self.checks.entry(id).or_default().add(hit, !hit, line);
        *all &= hit;
    }

    fn alarm(&mut self, alarm: Alarm, fired: bool, line: impl FnOnce() -> String) {
        // A hit here is a false alarm.
        self.alarms
            .entry(alarm)
            .or_default()
            .add(fired, fired, line);
    }

    /// The report against the truth: checks, false alarms, verdicts.
    fn add_report(&mut self, s: &SessionOutcome) {
        let mut all = true;
        let mut any = false;
        let id = s.id.as_str();
        let fits = &s.figures.sum;

        if s.kind == "clean" {
            any = true;
            let ready = s.verdict == Verdict::Ready;
            self.check(CheckId::CleanReady, ready, &mut all, || {
                format!("{id}: {} ({})", s.verdict.banner(), fail_warn(s).join(", "))
            });
            let null = fits.null_depth_db;
            self.clean_nulls.push(null);
            let deep = null.is_some_and(|n| n < CLEAN_NULL_DB);
            self.check(CheckId::CleanNull, deep, &mut all, || {
                format!("{id}: null {null:?} dB")
            });
        }

        if let Some(p) = s.master.truth.as_ref().filter(|p| p.is_strong_limiter()) {
            any = true;
            let hit = s.has("limiter.master", None);
            self.check(CheckId::LimiterMaster, hit, &mut all, || {
                format!(
                    "{id}: {} {:.1} dB, master {:?}, processing {:?}",
                    p.tool_name(),
                    p.reduction_db().unwrap_or(0.0),
                    s.master.dynamics,
                    fits.master_processing
                )
            });
        }
        for bus in &s.stems {
            let name = Some(bus.name.as_str());
            match &bus.truth {
                Some(p) if p.is_strong_limiter() => {
                    any = true;
                    let hit = s.has("limiter.stem", name);
                    self.check(CheckId::LimiterStem, hit, &mut all, || {
                        format!(
                            "{id} {}: {} {:.1} dB, read {:?}",
                            bus.name,
                            p.tool_name(),
                            p.reduction_db().unwrap_or(0.0),
                            bus.dynamics
                        )
                    });
                }
                Some(p) if p.kind != "limiter" => {
                    any = true;
                    let hit = s.has_clip(name);
                    self.check(CheckId::Clipped, hit, &mut all, || {
                        format!(
                            "{id} {}: {}, read {:?}",
                            bus.name,
                            p.tool_name(),
                            bus.dynamics
                        )
                    });
                }
                _ => {}
            }
        }

        let t = &s.truth;
        if let Some(o) = &t.offset {
            any = true;
            let fit = s.stem(&o.stem).and_then(|(i, _)| fits.stems.get(i));
            let read = fit.and_then(|f| f.offset_samples);
            if let Some(r) = read {
                self.offset_errors.push((r - o.samples).abs());
            }
            let hit = read == Some(o.samples) && s.has("sum.offset", Some(&o.stem));
            self.check(CheckId::Offset, hit, &mut all, || {
                format!(
                    "{id} {}: truth {}, read {read:?}, sum.offset {}",
                    o.stem,
                    o.samples,
                    s.has("sum.offset", Some(&o.stem))
                )
            });
        }
        if let Some(g) = &t.gain {
            any = true;
            let fit = s.stem(&g.stem).and_then(|(i, _)| fits.stems.get(i));
            let read: Vec<Option<f32>> = fit.map(|f| f.gain_db.clone()).unwrap_or_default();
            let which = if g.is_fader() {
                CheckId::Fader
            } else {
                CheckId::Pan
            };
            let mut within = read.len() == g.db.len();
            for (r, &truth) in read.iter().zip(&g.db) {
                match r {
                    Some(r) => {
                        let e = (r - truth).abs();
                        self.gain_errors.entry(which).or_default().push(e);
                        within &= e <= GAIN_TOLERANCE_DB;
                    }
                    None => within = false,
                }
            }
            self.check(which, within, &mut all, || {
                format!("{id} {}: truth {:?} dB, read {read:?}", g.stem, g.db)
            });
            let found = s.has("sum.gain", Some(&g.stem));
            self.check(CheckId::GainFinding, found, &mut all, || {
                format!(
                    "{id} {}: read {read:?}, fitted null {:?} dB",
                    g.stem, fits.null_depth_fitted_db
                )
            });
        }
        if let Some(p) = &t.polarity {
            any = true;
            let fit = s.stem(&p.stem).and_then(|(i, _)| fits.stems.get(i));
            let inverted = fit.is_some_and(|f| f.polarity_inverted);
            let found = s.has("sum.polarity", Some(&p.stem));
            self.check(CheckId::Polarity, inverted && found, &mut all, || {
                format!(
                    "{id} {}: inverted {inverted}, sum.polarity {found}, gains {:?}",
                    p.stem,
                    fit.map(|f| &f.gain_db)
                )
            });
        }
        if let Some(u) = &t.unaccounted {
            any = true;
            let err = fits.unaccounted_db.map(|r| r - u.level_db);
            self.unaccounted_errors.push((s.id.clone(), err));
            let found = s.has("sum.unaccounted", None);
            self.check(CheckId::Unaccounted, found, &mut all, || {
                format!(
                    "{id}: truth {:.2} dB, read {:?} dB",
                    u.level_db, fits.unaccounted_db
                )
            });
        }

        self.add_alarms(s);

        let k = self.kinds.entry(s.kind.clone()).or_default();
        k.sessions += 1;
        match s.verdict {
            Verdict::Ready => k.ready += 1,
            Verdict::Warnings => k.warnings += 1,
            Verdict::NotReady => k.not_ready += 1,
        }
        if any {
            k.checked.add(all);
        }
        for f in s.findings.iter().filter(|f| f.severity != Severity::Info) {
            if !s.explains(f) {
                *k.unexpected.entry(f.id.clone()).or_default() += 1;
            }
        }
    }

    /// Rules that must stay quiet where the truth gives them nothing to find.
    fn add_alarms(&mut self, s: &SessionOutcome) {
        let id = s.id.as_str();
        let t = &s.truth;
        let at = |stem: &str| format!("{id} {stem}");
        for bus in s.stems.iter().chain(std::iter::once(&s.master)) {
            let here = (!std::ptr::eq(bus, &s.master)).then_some(bus.name.as_str());
            let Some(p) = &bus.truth else { continue };
            let (alarm, id) = if p.kind == "limiter" {
                (Alarm::ClipOnLimited, "clip.*")
            } else {
                (Alarm::LimiterOnClipped, "limiter.*")
            };
            let fired = if p.kind == "limiter" {
                s.has_clip(here)
            } else {
                s.has("limiter.stem", here) || (here.is_none() && s.has("limiter.master", None))
            };
            self.alarm(alarm, fired, || {
                format!(
                    "{}: {} {id}, read {:?}",
                    at(&bus.name),
                    p.tool_name(),
                    bus.dynamics
                )
            });
        }
        for bus in &s.stems {
            let name = bus.name.as_str();
            let here = Some(name);
            if bus.truth.is_none() {
                self.alarm(Alarm::LimiterStem, s.has("limiter.stem", here), || {
                    format!("{}: {:?}", at(name), bus.dynamics)
                });
                self.alarm(Alarm::ClipStem, s.has_clip(here), || at(name));
            }
            let fit = s.stem(name).and_then(|(i, _)| s.figures.sum.stems.get(i));
            if t.gain.as_ref().is_none_or(|g| g.stem != name) {
                self.alarm(Alarm::SumGain, s.has("sum.gain", here), || {
                    format!("{}: {:?}", at(name), fit.map(|f| &f.gain_db))
                });
            }
            if t.offset.as_ref().is_none_or(|o| o.stem != name) {
                self.alarm(Alarm::SumOffset, s.has("sum.offset", here), || {
                    format!("{}: {:?}", at(name), fit.and_then(|f| f.offset_samples))
                });
            }
            if t.polarity.as_ref().is_none_or(|p| p.stem != name) {
                self.alarm(Alarm::SumPolarity, s.has("sum.polarity", here), || {
                    format!("{}: {:?}", at(name), fit.map(|f| &f.gain_db))
                });
            }
        }
        let sum = &s.figures.sum;
        if s.master.truth.is_none() {
            self.alarm(Alarm::LimiterMaster, s.has("limiter.master", None), || {
                format!(
                    "{id}: master {:?}, processing {:?}",
                    s.master.dynamics, sum.master_processing
                )
            });
            self.alarm(Alarm::ClipMaster, s.has_clip(None), || id.to_string());
            if t.is_clear() {
                self.alarm(Alarm::SumNull, s.has("sum.null", None), || {
                    format!("{id}: null {:?} dB", sum.null_depth_db)
                });
            }
        }
        if t.unaccounted.is_none() {
            self.alarm(
                Alarm::SumUnaccounted,
                s.has("sum.unaccounted", None),
                || format!("{id}: {:?} dB", sum.unaccounted_db),
            );
        }
        self.alarm(
            Alarm::SumCancellation,
            s.has("sum.cancellation", None),
            || format!("{id}: {:?} dB", sum.cancellation_db),
        );
    }

    /// Prints the detector tables; returns the targets missed.
    fn print_detectors(&self, details: bool, missed: &mut Vec<String>) {
        println!(
            "Detector: limiting at ≥ {MIN_GAIN_REDUCTION_DB} dB gain reduction (stems and \
             masters, each file once), found as limited or clipped:"
        );
        for ((tool, gr), rate) in &self.limited {
            println!("  {tool:<14} {gr:>3} dB   {}", rate.show());
        }
        for (tool, rate) in &self.limited_by_tool {
            println!("  {tool:<14} all      {}", rate.show());
        }
        println!("  {:<14} all      {}", "overall", self.limited_all.show());
        println!(
            "  (read as clipped rather than limited: {})",
            self.limited_as_clipped
        );
        check(missed, "limiter detection", self.limited_all, |f| {
            f >= DETECTION_TARGET
        });
        println!("Detector: clippers, found as clipped:");
        for (tool, rate) in &self.clipped {
            println!("  {tool:<14}          {}", rate.show());
        }
        println!("  {:<14}          {}", "overall", self.clipped_all.show());
        check(missed, "clipper detection", self.clipped_all, |f| {
            f >= DETECTION_TARGET
        });
        if !self.ceiling_errors.is_empty() {
            let worst = self
                .ceiling_errors
                .iter()
                .fold(0.0f32, |m, e| m.max(e.abs()));
            let mean = self.ceiling_errors.iter().sum::<f32>() / self.ceiling_errors.len() as f32;
            println!(
                "Ceiling read − truth over {} detections: mean {mean:+.2} dB, worst {worst:.2} dB",
                self.ceiling_errors.len()
            );
        }
        println!(
            "Detector: false alarms (limited or clipped) on unprocessed files, each file once:"
        );
        println!("  stems          {}", self.stem_false_alarms.show());
        println!("  masters        {}", self.master_false_alarms.show());
        check(
            missed,
            "false alarms on stems",
            self.stem_false_alarms,
            |f| f <= FALSE_ALARM_TARGET,
        );
        println!("Master-bus processing (master against the stems summed at unity):");
        for (tool, rate) in &self.master_processing {
            println!("  {tool:<14} found    {}", rate.show());
        }
        println!(
            "  {:<14} found    {}",
            "overall",
            self.master_processing_all.show()
        );
        check(
            missed,
            "master processing detection",
            self.master_processing_all,
            |f| f >= DETECTION_TARGET,
        );
        for (id, truth, err) in &self.master_gr_errors {
            match err {
                Some(e) => println!("  {id:<36} truth {truth:5.1} dB, read {e:+5.1} dB off"),
                None => println!("  {id:<36} truth {truth:5.1} dB, no reading"),
            }
        }
        println!("False master-processing alarms on sessions whose master is not limited:");
        for (kind, rate) in &self.master_processing_false {
            println!("  {kind:<14}          {}", rate.show());
        }
        println!(
            "  {:<14}          {}",
            "overall",
            self.master_processing_false_all.show()
        );
        check(
            missed,
            "false master-processing alarms",
            self.master_processing_false_all,
            |f| f <= FALSE_ALARM_TARGET,
        );
        if details || !missed.is_empty() {
            for f in &self.false_alarm_files {
                println!("  FALSE ALARM {f}");
            }
            for f in &self.missed_files {
                println!("  MISSED {f}");
            }
            for f in &self.master_processing_false_ids {
                println!("  FALSE MASTER PROCESSING {f}");
            }
        }
    }

    /// Prints the report checks, the kinds and the false alarms; returns the targets missed.
    fn print_report(&self, missed: &mut Vec<String>) {
        println!();
        println!("Report against the truth:");
        for (id, cases) in &self.checks {
            let target = id.target().map_or(String::new(), |t| {
                if t >= EVERY_CASE {
                    "  (target: all)".into()
                } else {
                    format!("  (target ≥ {:.0} %)", 100.0 * t)
                }
            });
            println!("  {:<58} {}{target}", id.label(), cases.rate.show());
            let short = id
                .target()
                .is_some_and(|t| cases.rate.fraction().is_some_and(|f| f < t));
            if short {
                missed.push(format!("{}: {}", id.label(), cases.rate.show()));
            }
            for m in &cases.listed {
                println!("      missed {m}");
            }
        }
        if let Some(w) = self.worst_clean_null() {
            println!("  clean null depth, worst: {w:.1} dB");
        }
        if let Some(w) = self.offset_errors.iter().max() {
            println!(
                "  offset error, worst: {w} samples over {} readings",
                self.offset_errors.len()
            );
        }
        for (which, errors) in &self.gain_errors {
            if let Some(w) = self.worst_gain_error(*which) {
                println!(
                    "  {} gain error, worst: {w:.3} dB over {} channel readings",
                    if *which == CheckId::Fader {
                        "fader"
                    } else {
                        "pan"
                    },
                    errors.len()
                );
            }
        }
        for (id, err) in &self.unaccounted_errors {
            match err {
                Some(e) => println!("  unaccounted {id:<36} read − truth {e:+.2} dB"),
                None => println!("  unaccounted {id:<36} no reading"),
            }
        }

        println!();
        println!("Per kind: verdicts, sessions passing every check that applies, fail/warn findings the truth does not explain:");
        println!(
            "  {:<14} {:>4} {:>5} {:>5} {:>5}  {:<16}  unexpected",
            "kind", "n", "ready", "warn", "fail", "checks"
        );
        for (kind, k) in &self.kinds {
            let unexpected: Vec<String> = k
                .unexpected
                .iter()
                .map(|(id, n)| format!("{id} ×{n}"))
                .collect();
            let checks = if k.checked.trials > 0 {
                k.checked.show()
            } else {
                "–".into()
            };
            println!(
                "  {kind:<14} {:>4} {:>5} {:>5} {:>5}  {checks:<16}  {}",
                k.sessions,
                k.ready,
                k.warnings,
                k.not_ready,
                if unexpected.is_empty() {
                    "none".into()
                } else {
                    unexpected.join(", ")
                }
            );
        }

        println!();
        println!("False alarms per rule (fired where the truth gives it nothing to find):");
        for (alarm, cases) in &self.alarms {
            let target = alarm.target().map_or(String::new(), |t| {
                format!("  (target ≤ {:.0} %)", 100.0 * t)
            });
            println!(
                "  {:<46} {} {}{target}",
                alarm.label(),
                cases.rate.show(),
                alarm.unit()
            );
            let over = alarm
                .target()
                .is_some_and(|t| cases.rate.fraction().is_some_and(|f| f > t));
            if over {
                missed.push(format!(
                    "false alarms, {}: {}",
                    alarm.label(),
                    cases.rate.show()
                ));
            }
            for m in &cases.listed {
                println!("      fired {m}");
            }
        }
    }

    fn worst_clean_null(&self) -> Option<f32> {
        self.clean_nulls
            .iter()
            .map(|n| n.unwrap_or(f32::INFINITY))
            .reduce(f32::max)
    }

    fn worst_gain_error(&self, which: CheckId) -> Option<f32> {
        self.gain_errors
            .get(&which)?
            .iter()
            .copied()
            .reduce(f32::max)
    }

    /// The summary as a Markdown table.
    fn print_markdown(&self, elapsed: Duration) {
        let mut rows: Vec<(String, Rate, String)> = Vec::new();
        let target = |t: Option<f64>, up: bool| match t {
            Some(t) if t >= EVERY_CASE => "all".into(),
            Some(t) if up => format!("≥ {:.0} %", 100.0 * t),
            Some(t) => format!("≤ {:.0} %", 100.0 * t),
            None => "–".into(),
        };
        for (id, cases) in &self.checks {
            let mut label = id.label().to_string();
            match id {
                CheckId::CleanNull => {
                    if let Some(w) = self.worst_clean_null() {
                        label = format!("{label} (worst {w:.1} dB)");
                    }
                }
                CheckId::Offset => {
                    if let Some(w) = self.offset_errors.iter().max() {
                        label = format!("{label} (worst error {w} samples)");
                    }
                }
                CheckId::Fader | CheckId::Pan => {
                    if let Some(w) = self.worst_gain_error(*id) {
                        label = format!("{label} (worst error {w:.3} dB)");
                    }
                }
                CheckId::Unaccounted => {
                    let errs: Vec<f32> =
                        self.unaccounted_errors.iter().filter_map(|e| e.1).collect();
                    if let Some(w) = errs.iter().map(|e| e.abs()).reduce(f32::max) {
                        let mean = errs.iter().sum::<f32>() / errs.len() as f32;
                        label = format!(
                            "{label} (level read − truth: mean {mean:+.2} dB, worst {w:.2} dB)"
                        );
                    }
                }
                _ => {}
            }
            rows.push((label, cases.rate, target(id.target(), true)));
        }
        rows.push((
            "Detector: limiting ≥ 3 dB read as limited or clipped (each file once)".into(),
            self.limited_all,
            target(Some(DETECTION_TARGET), true),
        ));
        rows.push((
            "Detector: clipped stems read as clipped".into(),
            self.clipped_all,
            target(Some(DETECTION_TARGET), true),
        ));
        rows.push((
            "Master-bus processing found against the stems".into(),
            self.master_processing_all,
            target(Some(DETECTION_TARGET), true),
        ));
        for (alarm, cases) in &self.alarms {
            rows.push((
                format!("False alarm: {} ({})", alarm.label(), alarm.unit()),
                cases.rate,
                target(alarm.target(), false),
            ));
        }
        rows.push((
            "False alarm: detector on unprocessed stems (each file once)".into(),
            self.stem_false_alarms,
            target(Some(FALSE_ALARM_TARGET), false),
        ));
        rows.push((
            "False alarm: master processing on masters not limited".into(),
            self.master_processing_false_all,
            target(Some(FALSE_ALARM_TARGET), false),
        ));
        println!();
        println!("| Check | Found / cases | Rate | Target |");
        println!("| --- | ---: | ---: | ---: |");
        for (label, rate, target) in rows {
            let (found, rate) = rate.cells();
            println!("| {label} | {found} | {rate} | {target} |");
        }
        let secs = elapsed.as_secs_f64();
        println!(
            "| Evaluation time (decoding included) | {} ({:.0}× real time) | | |",
            format_duration(secs),
            self.seconds / secs.max(1e-9)
        );
        println!(
            "| Audio analysed | {:.2} h of sessions ({:.2} h of files, masters and stems) | | |",
            self.seconds / 3600.0,
            self.file_seconds / 3600.0
        );
    }
}

/// The fail and warn finding ids of a session, with their stems.
fn fail_warn(s: &SessionOutcome) -> Vec<String> {
    s.findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| match &f.stem {
            Some(stem) => format!("{} {stem}", f.id),
            None => f.id.clone(),
        })
        .collect()
}

fn format_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{secs:.1} s")
    }
}

/// Records a missed target.
fn check(missed: &mut Vec<String>, what: &str, rate: Rate, ok: impl Fn(f64) -> bool) {
    if let Some(f) = rate.fraction() {
        if !ok(f) {
            missed.push(format!("{what}: {}", rate.show()));
        }
    }
}

/// Analyses every session on `jobs` threads; a thread takes one base at a time, so each base's
/// stems are decoded once. Outcomes come back in manifest order.
fn analyse_all(
    root: &Path,
    manifest: &Manifest,
    jobs: usize,
) -> Result<Vec<SessionOutcome>, String> {
    let mut bases: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, s) in manifest.sessions.iter().enumerate() {
        match bases.iter_mut().find(|(b, _)| *b == s.base) {
            Some((_, list)) => list.push(i),
            None => bases.push((s.base.clone(), vec![i])),
        }
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SessionOutcome, String>>>> =
        Mutex::new((0..manifest.sessions.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                let mut files = Files::new(root);
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, list)) = bases.get(b) else { break };
                    for &i in list {
                        let r = evaluate_session(
                            &manifest.sessions[i],
                            &mut files,
                            manifest.sample_rate,
                        );
                        let failed = r.is_err();
                        results.lock().expect("no panics while holding it")[i] = Some(r);
                        if failed {
                            return;
                        }
                    }
                }
            });
        }
    });
    let results = results.into_inner().expect("threads joined");
    let mut out = Vec::with_capacity(results.len());
    for (r, s) in results.into_iter().zip(&manifest.sessions) {
        match r {
            Some(r) => out.push(r?),
            None => return Err(format!("{}: not analysed (an earlier file failed)", s.id)),
        }
    }
    Ok(out)
}

/// Plays every session through the plugin in `host` and takes the plugin's report.
fn play_all(
    root: &Path,
    manifest: &Manifest,
    outcomes: &mut [SessionOutcome],
    host: &Host,
) -> Result<(), String> {
    let mut files = Files::new(root);
    for (session, outcome) in manifest.sessions.iter().zip(outcomes.iter_mut()) {
        let master = files.get(&session.base, &session.master.file)?;
        let stems = session
            .stems
            .iter()
            .map(|b| files.get(&session.base, &b.file))
            .collect::<Result<Vec<_>, _>>()?;
        let named: Vec<(String, &[Vec<f32>])> = outcome
            .stems
            .iter()
            .zip(&stems)
            .map(|(bus, audio)| (bus.name.clone(), audio.channels.as_slice()))
            .collect();
        let started = Instant::now();
        let report = host
            .play(manifest.sample_rate, &named, &master.channels)
            .map_err(|e| format!("{}: {e}", session.id))?;
        outcome.apply_report(&report, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// What the host runs measured: speed, frames analysed and unchecked; records a missed
/// target when any session was not checked whole.
fn print_host(outcomes: &[SessionOutcome], mode: HostMode, missed: &mut Vec<String>) {
    let runs: Vec<(&str, &HostRun)> = outcomes
        .iter()
        .filter_map(|o| o.host.as_ref().map(|h| (o.id.as_str(), h)))
        .collect();
    if runs.is_empty() {
        return;
    }
    let mut speeds: Vec<f64> = runs.iter().filter_map(|(_, h)| h.speed).collect();
    speeds.sort_by(f64::total_cmp);
    let analysed: u64 = runs.iter().map(|(_, h)| h.analysed).sum();
    let unchecked: u64 = runs.iter().map(|(_, h)| h.unchecked).sum();
    let wall: f64 = runs.iter().map(|(_, h)| h.wall).sum();
    let audio: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let modes: BTreeMap<&str, usize> = runs.iter().fold(BTreeMap::new(), |mut m, (_, h)| {
        *m.entry(h.render_mode.as_str()).or_default() += 1;
        m
    });
    println!();
    println!("Through the plugin in a CLAP host, {}:", mode.describe());
    println!(
        "  {} sessions, {:.1} min of audio in {:.1} min ({:.1}x real time overall); render mode \
         in the reports: {modes:?}",
        runs.len(),
        audio / 60.0,
        wall / 60.0,
        audio / wall.max(1e-9)
    );
    if let (Some(lo), Some(hi)) = (speeds.first(), speeds.last()) {
        println!(
            "  speed per session (pass.speed): {lo:.1} to {hi:.1}x, median {:.1}x",
            speeds[speeds.len() / 2]
        );
    }
    println!("  frames analysed: {analysed}, unchecked: {unchecked}");
    let partial: Vec<String> = runs
        .iter()
        .filter(|(_, h)| h.unchecked != 0)
        .map(|(id, h)| format!("{id} ({} of {}: {})", h.unchecked, h.analysed, h.why))
        .collect();
    if !partial.is_empty() {
        println!("  not checked whole: {}", partial.join(", "));
        missed.push(format!(
            "every session checked whole through the plugin: {} of {} were not",
            partial.len(),
            runs.len()
        ));
    }
}

fn run(root: &Path, opts: &Options) -> Result<Vec<String>, String> {
    let start = Instant::now();
    let path = root.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| format!("manifest: {e}"))?;
    if manifest.sessions.is_empty() {
        return Err("manifest: no sessions".into());
    }
    let mut outcomes = analyse_all(root, &manifest, opts.jobs)?;
    if let Some(mode) = opts.host {
        let host = Host::new(&opts.bundle, mode)?;
        println!(
            "Playing {} sessions through {} ({})",
            outcomes.len(),
            opts.bundle.display(),
            mode.describe()
        );
        play_all(root, &manifest, &mut outcomes, &host)?;
    }
    let mut tally = Tally::default();
    let mut seen = HashSet::new();
    for outcome in &outcomes {
        if opts.details {
            println!(
                "{:<40} {:<9} null {:>7.1} dB  {}{}",
                outcome.id,
                outcome.verdict.banner(),
                outcome.figures.sum.null_depth_db.unwrap_or(f32::NAN),
                fail_warn(outcome).join(", "),
                outcome.host.as_ref().map_or(String::new(), |h| format!(
                    "  [{} {:?}x, {} unchecked]",
                    h.render_mode, h.speed, h.unchecked
                )),
            );
        }
        tally.add(outcome, &mut seen);
    }
    let elapsed = start.elapsed();
    let mut missed = Vec::new();
    tally.print_detectors(opts.details, &mut missed);
    tally.print_report(&mut missed);
    loudness::print_and_check(
        outcomes
            .iter()
            .map(|o| (o.id.as_str(), o.loudness.as_slice())),
        &mut missed,
    );
    if let Some(mode) = opts.host {
        print_host(&outcomes, mode, &mut missed);
    }
    tally.print_markdown(elapsed);
    println!();
    println!(
        "{} sessions in {:.1} s ({} threads)",
        outcomes.len(),
        elapsed.as_secs_f64(),
        opts.jobs
    );
    Ok(missed)
}

/// The command line.
struct Options {
    details: bool,
    jobs: usize,
    host: Option<HostMode>,
    bundle: PathBuf,
}

const USAGE: &str = "usage: evaluate <corpus_dir> [--details] [--jobs N] \
                     [--host offline | --host paced [--speed X]] [--bundle PATH]";

fn main() -> ExitCode {
    let mut root = None;
    let mut opts = Options {
        details: false,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        host: None,
        bundle: PathBuf::from("target/bundled/Stemcheck.clap"),
    };
    let mut speed = 4.0;
    let mut host = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let bad = |what: &str| {
            eprintln!("evaluate: {what}\n{USAGE}");
            ExitCode::from(2)
        };
        match arg.as_str() {
            "--details" => opts.details = true,
            "--jobs" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => opts.jobs = n,
                None => return bad("--jobs takes a number"),
            },
            "--host" => match args.next().as_deref() {
                Some(m @ ("offline" | "paced")) => host = Some(m.to_owned()),
                _ => return bad("--host takes offline or paced"),
            },
            "--speed" => match args.next().and_then(|n| n.parse::<f64>().ok()) {
                Some(x) if x > 0.0 => speed = x,
                _ => return bad("--speed takes a positive number"),
            },
            "--bundle" => match args.next() {
                Some(p) => opts.bundle = PathBuf::from(p),
                None => return bad("--bundle takes a path"),
            },
            _ => root = Some(PathBuf::from(arg)),
        }
    }
    opts.host = host.map(|m| match m.as_str() {
        "offline" => HostMode::Offline,
        _ => HostMode::Paced(speed),
    });
    let Some(root) = root else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(&root, &opts) {
        Ok(missed) if missed.is_empty() => {
            println!("All targets met.");
            ExitCode::SUCCESS
        }
        Ok(missed) => {
            for m in missed {
                println!("TARGET MISSED: {m}");
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("evaluate: {e}");
            ExitCode::from(2)
        }
    }
}
