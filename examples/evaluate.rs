//! Measures the limiter / clipper detectors on a corpus of real recordings processed by real
//! limiters and clippers (built by `tests/eval/make_corpus.py`; its `manifest.json` holds
//! the ground truth).
//!
//! ```text
//! cargo run --release --example evaluate -- <corpus_dir> [--details]
//! ```
//!
//! Runs [`DynamicsDetector`] on every stem and master file and [`MasterProcessing`] on every
//! session's master against the sum of its stems at unity, then prints: detection of
//! limiting at ≥ 3 dB of gain reduction per tool and drive and overall, clipper detection,
//! false alarms on unprocessed stems (each file once: a base stem reappears in every variant
//! of its session) and on unprocessed masters, and false master-processing alarms on
//! sessions whose master is not limited. Exits with status 1 when a target is missed
//! (≥ 95 % detection, ≤ 2 % false alarms), 2 when the corpus cannot be read.
//!
//! The table is built from one [`SessionOutcome`] per session
//! ([`evaluate_session`]) folded into a [`Tally`]; new figures (the sum-check's, say) go into
//! both.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Deserialize;
use stemcheck::analysis::{
    DynamicsDetector, DynamicsFeatures, DynamicsResult, DynamicsVerdict, MasterProcessing,
    MasterProcessingResult,
};

/// Detection wanted at ≥ 3 dB of gain reduction.
const DETECTION_TARGET: f64 = 0.95;
/// Most false alarms allowed on unprocessed material.
const FALSE_ALARM_TARGET: f64 = 0.02;
/// Gain reductions from this much up count for the detection rate, dB.
const MIN_GAIN_REDUCTION_DB: f32 = 3.0;
/// Frames pushed at a time, like a host block.
const CHUNK: usize = 512;

/// `manifest.json`, as far as this tool reads it.
#[derive(Debug, Deserialize)]
struct Manifest {
    sample_rate: f32,
    sessions: Vec<Session>,
}

#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    kind: String,
    master: Bus,
    stems: Vec<Bus>,
}

#[derive(Debug, Deserialize)]
struct Bus {
    #[serde(default)]
    name: Option<String>,
    file: String,
    processing: Option<Processing>,
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

    /// Channel slices of frames `from..to`.
    fn chunk(&self, from: usize, to: usize) -> Vec<&[f32]> {
        self.channels.iter().map(|c| &c[from..to]).collect()
    }
}

/// The detector's reading of one file.
#[derive(Clone, Copy, Debug)]
struct FileOutcome {
    result: DynamicsResult,
    features: DynamicsFeatures,
}

/// One bus of a session: its truth and the reading.
#[derive(Clone, Debug)]
struct BusOutcome {
    file: String,
    name: String,
    truth: Option<Processing>,
    reading: FileOutcome,
}

/// Everything measured on one session.
#[derive(Clone, Debug)]
struct SessionOutcome {
    id: String,
    kind: String,
    master: BusOutcome,
    stems: Vec<BusOutcome>,
    /// Master against the stem sum at unity.
    master_processing: MasterProcessingResult,
}

/// Runs the detector over a file in host-sized chunks.
fn detect(audio: &Audio, sample_rate: f32) -> FileOutcome {
    let mut d = DynamicsDetector::new(audio.channels.len(), sample_rate);
    let n = audio.frames();
    let mut t = 0;
    while t < n {
        let end = (t + CHUNK).min(n);
        d.push(&audio.chunk(t, end));
        t = end;
    }
    FileOutcome {
        result: d.result(),
        features: d.features(),
    }
}

/// Reads and analyses files, each once.
struct Files {
    root: PathBuf,
    sample_rate: f32,
    readings: HashMap<String, FileOutcome>,
}

impl Files {
    fn audio(&self, file: &str) -> Result<Audio, String> {
        Audio::read(&self.root.join(file))
    }

    fn reading(&mut self, file: &str, audio: &Audio) -> FileOutcome {
        if let Some(r) = self.readings.get(file) {
            return *r;
        }
        let r = detect(audio, self.sample_rate);
        self.readings.insert(file.to_string(), r);
        r
    }
}

/// Analyses one session: every stem and the master on their own, and the master against
/// the sum of the stems at unity.
fn evaluate_session(session: &Session, files: &mut Files) -> Result<SessionOutcome, String> {
    let master_audio = files.audio(&session.master.file)?;
    let channels = master_audio.channels.len();
    let frames = master_audio.frames();
    let mut sum = vec![vec![0.0f64; frames]; channels];
    let mut stems = Vec::with_capacity(session.stems.len());
    for bus in &session.stems {
        let audio = files.audio(&bus.file)?;
        for (ch, acc) in sum.iter_mut().enumerate() {
            let src = &audio.channels[ch.min(audio.channels.len() - 1)];
            for (a, &x) in acc.iter_mut().zip(src) {
                *a += x as f64;
            }
        }
        stems.push(BusOutcome {
            file: bus.file.clone(),
            name: bus.name.clone().unwrap_or_else(|| bus.file.clone()),
            truth: bus.processing.clone(),
            reading: files.reading(&bus.file, &audio),
        });
    }
    let sum = Audio {
        channels: sum
            .into_iter()
            .map(|c| c.into_iter().map(|x| x as f32).collect())
            .collect(),
    };
    let mut processing = MasterProcessing::new(channels, files.sample_rate);
    let mut t = 0;
    while t < frames {
        let end = (t + CHUNK).min(frames);
        processing.push(&master_audio.chunk(t, end), &sum.chunk(t, end));
        t = end;
    }
    Ok(SessionOutcome {
        id: session.id.clone(),
        kind: session.kind.clone(),
        master: BusOutcome {
            file: session.master.file.clone(),
            name: "master".into(),
            truth: session.master.processing.clone(),
            reading: files.reading(&session.master.file, &master_audio),
        },
        stems,
        master_processing: processing.result(),
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
}

impl Tally {
    /// Adds one session. A file already counted (a base stem reappearing in a variant) is
    /// not counted again.
    fn add(&mut self, s: &SessionOutcome, seen: &mut std::collections::HashSet<String>) {
        for bus in s.stems.iter().chain(std::iter::once(&s.master)) {
            if !seen.insert(bus.file.clone()) {
                continue;
            }
            let is_master = bus.name == "master";
            self.add_bus(bus, is_master, s);
        }
        let truth = s.master.truth.as_ref().filter(|p| p.kind == "limiter");
        match truth {
            Some(p) => {
                let found = s.master_processing.detected;
                self.master_processing
                    .entry(p.tool_name())
                    .or_default()
                    .add(found);
                self.master_processing_all.add(found);
                if let Some(gr) = p.reduction_db() {
                    self.master_gr_errors.push((
                        s.id.clone(),
                        gr,
                        s.master_processing.gain_reduction_db.map(|m| m - gr),
                    ));
                }
            }
            None => {
                let alarm = s.master_processing.detected;
                self.master_processing_false
                    .entry(s.kind.clone())
                    .or_default()
                    .add(alarm);
                self.master_processing_false_all.add(alarm);
                if alarm {
                    self.master_processing_false_ids
                        .push(format!("{} ({:?})", s.id, s.master_processing));
                }
            }
        }
    }

    fn add_bus(&mut self, bus: &BusOutcome, is_master: bool, s: &SessionOutcome) {
        let r = bus.reading.result;
        let flagged = r.verdict != DynamicsVerdict::None;
        let line = || format!("{} {}: {:?} {:?}", s.id, bus.file, r, bus.reading.features);
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

    /// Prints the table; returns the targets missed.
    fn print(&self, details: bool) -> Vec<String> {
        let mut missed = Vec::new();
        println!("Limiting at ≥ {MIN_GAIN_REDUCTION_DB} dB gain reduction (stems and masters), found as limited or clipped:");
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
        check(&mut missed, "limiter detection", self.limited_all, |f| {
            f >= DETECTION_TARGET
        });
        println!("Clippers, found as clipped:");
        for (tool, rate) in &self.clipped {
            println!("  {tool:<14}          {}", rate.show());
        }
        println!("  {:<14}          {}", "overall", self.clipped_all.show());
        check(&mut missed, "clipper detection", self.clipped_all, |f| {
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
        println!("False alarms (limited or clipped) on unprocessed files, each file once:");
        println!("  stems          {}", self.stem_false_alarms.show());
        println!("  masters        {}", self.master_false_alarms.show());
        check(
            &mut missed,
            "false alarms on stems",
            self.stem_false_alarms,
            |f| f <= FALSE_ALARM_TARGET,
        );
        println!("Master-bus processing (master against the stem sum at unity):");
        for (tool, rate) in &self.master_processing {
            println!("  {tool:<14} found    {}", rate.show());
        }
        println!(
            "  {:<14} found    {}",
            "overall",
            self.master_processing_all.show()
        );
        check(
            &mut missed,
            "master processing detection",
            self.master_processing_all,
            |f| f >= DETECTION_TARGET,
        );
        for (id, truth, err) in &self.master_gr_errors {
            match err {
                Some(e) => println!("  {id:<36} truth {truth:5.1} dB, read {:+5.1} dB off", e),
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
            &mut missed,
            "false master-processing alarms",
            self.master_processing_false_all,
            |f| f <= FALSE_ALARM_TARGET,
        );
        if details || !missed.is_empty() {
            for f in &self.false_alarm_files {
                println!("FALSE ALARM {f}");
            }
            for f in &self.missed_files {
                println!("MISSED {f}");
            }
            for f in &self.master_processing_false_ids {
                println!("FALSE MASTER PROCESSING {f}");
            }
        }
        missed
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

fn run(root: &Path, details: bool) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(root.join("manifest.json"))
        .map_err(|e| format!("{}: {e}", root.join("manifest.json").display()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| format!("manifest: {e}"))?;
    let mut files = Files {
        root: root.to_path_buf(),
        sample_rate: manifest.sample_rate,
        readings: HashMap::new(),
    };
    let mut tally = Tally::default();
    let mut seen = std::collections::HashSet::new();
    for session in &manifest.sessions {
        let outcome = evaluate_session(session, &mut files)?;
        if details {
            println!(
                "{:<40} master {:?} processing {:?}",
                outcome.id, outcome.master.reading.result, outcome.master_processing
            );
        }
        tally.add(&outcome, &mut seen);
    }
    Ok(tally.print(details))
}

fn main() -> ExitCode {
    let mut root = None;
    let mut details = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--details" => details = true,
            _ => root = Some(PathBuf::from(arg)),
        }
    }
    let Some(root) = root else {
        eprintln!("usage: evaluate <corpus_dir> [--details]");
        return ExitCode::from(2);
    };
    match run(&root, details) {
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
