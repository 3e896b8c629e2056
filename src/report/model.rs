//! The report as data: serde types whose JSON is schema `stemcheck.report/1` (see the README
//! for every field). Field names are a contract: add fields freely, rename none without a new
//! schema id. Every level is dB rounded to 0.01; digital silence, and anything not measured
//! yet, is `null`, never `-inf`.

use serde::{Deserialize, Serialize};

pub use super::delivery_model::{BriefReport, ChecklistItem, SessionReport};
pub use super::file_model::{FileReport, FilesReport};
pub use crate::dsp::level::WindowStatus;

/// The schema id written into every report.
pub const SCHEMA: &str = "stemcheck.report/1";

/// One report: the measured part of a stem delivery's read-me.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Version of the plugin that wrote it.
    pub plugin_version: String,
    /// Creation time, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_utc: String,
    /// The session's sample rate (the master's), Hz; `null` if the master never ran.
    pub sample_rate: Option<u32>,
    /// The master's played range since its last reset.
    pub pass: Pass,
    /// Overall sign-off.
    pub verdict: Verdict,
    /// The thresholds the rules used.
    pub thresholds: ThresholdsReport,
    /// The master bus's own readings.
    pub master: MasterReport,
    /// Every stem the master sees, sorted by name (natural order), then slot.
    pub stems: Vec<StemReport>,
    /// Sum-check figures (every field `null` until the sum-check is measured).
    pub sum: SumReport,
    /// Every finding, fails first, then warnings, then information.
    pub findings: Vec<Finding>,
    /// The delivered files, when the command-line checker wrote the report; absent from the
    /// plugin's reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<FilesReport>,
    /// What the host told the master about the session (tempo, signature, bars, the pass's
    /// start and end, its name for the master's track).
    #[serde(default)]
    pub session: SessionReport,
    /// The sender's brief (the stems' notes are on each stem).
    #[serde(default)]
    pub brief: BriefReport,
    /// Every delivery requirement with its state: passed, failed or not checkable.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

/// The played range of a pass, and how the master's analysis covered it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pass {
    /// Transport position where the pass began, samples; `null` if nothing was played.
    pub start_samples: Option<i64>,
    /// One past the last played sample; `null` if nothing was played.
    pub end_samples: Option<i64>,
    /// Started at the session start (position ≤ 0), never jumped, and played something.
    pub complete: bool,
    /// Playback skipped forward over material during the pass.
    pub jumped: bool,
    /// How the host ran the pass (`realtime` or `offline`); `null` when the master's analysis
    /// did not run (and in the file checker's reports).
    #[serde(default)]
    pub render_mode: Option<RenderModeReport>,
    /// The host did not say (VST3): Stemcheck inferred `render_mode` from the host's speed.
    #[serde(default)]
    pub render_mode_inferred: Option<bool>,
    /// Audio seconds per wall-clock second while the pass played; `null` until measured.
    #[serde(default)]
    pub speed: Option<f64>,
    /// Frames (per channel) of the pass the master's analysis had to cover.
    #[serde(default)]
    pub analysed_frames: Option<u64>,
    /// Frames of the pass that the sum-check or some bus's limiter / clipper detection never
    /// saw, whichever is more (frames not reached yet do not count).
    #[serde(default)]
    pub unchecked_frames: Option<u64>,
    /// Why frames went unchecked: `outran` (the host ran ahead of the analysis and overwrote
    /// them), `missing` (a stem had not produced them) or `pending` (the analysis had not read
    /// them yet when the report was made); `null` when none did.
    #[serde(default)]
    pub unchecked_reason: Option<UncheckedReason>,
}

/// How the host ran the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderModeReport {
    /// In real time (or not declared offline): nothing waited for the analysis.
    Realtime,
    /// An offline render: the analysis held the host back as needed to see every frame.
    Offline,
}

/// Why frames of the pass went unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UncheckedReason {
    /// The host ran ahead of the analysis and overwrote audio before it was read.
    Outran,
    /// A stem had not produced those positions.
    Missing,
    /// The analysis had not read them yet when the report was made, after the pass ended.
    Pending,
}

impl Pass {
    /// Whether anything was played: a start and an end with samples between them.
    pub fn played(&self) -> bool {
        matches!((self.start_samples, self.end_samples), (Some(s), Some(e)) if e > s)
    }
}

/// Overall sign-off: any fail → `not_ready`, else any warn → `warnings`, else `ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing above information level.
    Ready,
    /// Warnings, no fails.
    Warnings,
    /// At least one fail.
    NotReady,
}

impl Verdict {
    /// The verdict a set of findings gives.
    pub fn from_findings(findings: &[Finding]) -> Self {
        let has = |s| findings.iter().any(|f| f.severity == s);
        if has(Severity::Fail) {
            Verdict::NotReady
        } else if has(Severity::Warn) {
            Verdict::Warnings
        } else {
            Verdict::Ready
        }
    }

    /// The JSON word (`ready`, `warnings`, `not_ready`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Warnings => "warnings",
            Verdict::NotReady => "not_ready",
        }
    }

    /// The banner text (`READY`, `WARNINGS`, `NOT READY`).
    pub fn banner(self) -> &'static str {
        match self {
            Verdict::Ready => "READY",
            Verdict::Warnings => "WARNINGS",
            Verdict::NotReady => "NOT READY",
        }
    }
}

/// How serious a finding is. Ordered most serious first, so sorting puts fails on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed before the bounce.
    Fail,
    /// Worth a look; may be intended.
    Warn,
    /// For the record.
    Info,
}

impl Severity {
    /// The JSON word (`fail`, `warn`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The master bus's own signal.
    Master,
    /// One stem (named in `stem`).
    Stem,
    /// The session as a whole (the pass, the set of stems).
    Session,
}

/// One rule that fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `headroom.over` (the README lists them).
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// The stem it concerns; `null` for the master or the session.
    pub stem: Option<String>,
    /// Whether it concerns the master, a stem or the session.
    pub scope: Scope,
    /// A sentence a producer understands, naming the bus, the value and the threshold.
    pub message: String,
    /// The measured value (unit as the rule says); `null` when there is no number.
    pub value: Option<f64>,
    /// The threshold it was compared with; `null` when there is none.
    pub threshold: Option<f64>,
}

/// The thresholds as the report records them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdsReport {
    /// Bottom of the headroom window, dBFS.
    pub window_low_db: f64,
    /// Top of the headroom window, dBFS.
    pub window_high_db: f64,
    /// True-peak ceiling, dBTP.
    pub tp_ceiling_db: f64,
    /// Null depth above which the sum-check fails, dB.
    pub null_tolerance_db: f64,
}

/// Readings every bus has, master and stems alike (flattened into both in the JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BusLevels {
    /// Channels metered (1 or 2).
    pub channels: u32,
    /// Nothing above −100 dBFS since reset.
    pub silent: bool,
    /// Held sample peak per channel, dBFS (`null` = digital silence).
    pub sample_peak_dbfs: Vec<Option<f64>>,
    /// Held true peak per channel, dBTP (`null` = digital silence).
    pub true_peak_dbtp: Vec<Option<f64>>,
    /// dB from the loudest channel's true peak to 0 dBFS (`null` = digital silence).
    pub headroom_db: Option<f64>,
    /// Where the loudest true peak sits against the window.
    pub window: WindowStatus,
    /// Samples at or above full scale, all channels.
    pub clipped_samples: u64,
    /// Position of the first clipped sample, samples; `null` if none or no position known.
    pub clip_first_samples: Option<i64>,
    /// Position of the last clipped sample.
    pub clip_last_samples: Option<i64>,
    /// Inter-sample peaks above the ceiling, all channels.
    pub true_peak_overs: u64,
    /// Position of the first true-peak over.
    pub true_peak_over_first_samples: Option<i64>,
    /// Position of the last true-peak over.
    pub true_peak_over_last_samples: Option<i64>,
    /// Flat-top runs (three or more identical samples at the peak), all channels.
    pub flat_tops: u64,
    /// Position of the first flat-top run.
    pub flat_top_first_samples: Option<i64>,
    /// Position of the last flat-top run.
    pub flat_top_last_samples: Option<i64>,
    /// NaN or infinite samples seen.
    pub nan_inf: u64,
    /// DC offset of the channel furthest from zero, linear (mean sample value).
    pub dc_offset: f64,
    /// DC offset per channel, linear.
    pub dc_offset_per_channel: Vec<f64>,
    /// Stereo correlation over the pass, −1…1; `null` for mono or before any signal.
    pub correlation: Option<f64>,
    /// Loudness of the pass (ITU-R BS.1770 / EBU R 128).
    #[serde(default)]
    pub loudness: LoudnessReport,
    /// The bus runs at a sample rate Stemcheck does not meter (or its meters stopped): its
    /// audio passed through unmeasured and every reading above is empty.
    #[serde(default)]
    pub unmetered: bool,
    /// The host bypasses the bus's Stemcheck: its audio passes through unmeasured, and the
    /// readings above are those from before the bypass.
    #[serde(default)]
    pub bypassed: bool,
}

/// A bus's loudness over the pass (ITU-R BS.1770 / EBU R 128), each value rounded to 0.01;
/// `null` for a silent bus, or one whose every block fell under the gates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoudnessReport {
    /// Integrated loudness, gated per BS.1770, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU.
    pub lra_lu: Option<f64>,
    /// Highest momentary (400 ms) loudness, LUFS.
    pub max_momentary_lufs: Option<f64>,
    /// Highest short-term (3 s) loudness, LUFS.
    pub max_short_term_lufs: Option<f64>,
    /// Peak-to-loudness ratio: the highest true peak (dBTP) minus the integrated loudness, dB.
    pub plr_db: Option<f64>,
}

/// The master bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MasterReport {
    /// Display name.
    pub name: String,
    /// Its readings.
    #[serde(flatten)]
    pub levels: BusLevels,
    /// Processing detected on the master: from its own signal, and from the comparison with
    /// the stems (which gives `gain_reduction_db`). `null` until a pass is analysed.
    pub limiter: LimiterReport,
}

/// One stem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StemReport {
    /// Display name.
    pub name: String,
    /// Registry slot, when known.
    pub slot: Option<usize>,
    /// Its sample rate, Hz; `null` if it never ran.
    pub sample_rate: Option<u32>,
    /// Its sample rate differs from the master's.
    pub sample_rate_mismatch: bool,
    /// Published within the last second.
    pub alive: bool,
    /// Its readings.
    #[serde(flatten)]
    pub levels: BusLevels,
    /// Limiter or clipper detected on the stem from its own signal; `null` until analysed.
    pub limiter: LimiterReport,
    /// Fitted gain per channel from the stem to the master, dB (`null` until the sum-check;
    /// a channel the stem carried nothing on is `null`).
    pub gain_db: Option<Vec<Option<f64>>>,
    /// Samples by which the stem reaches the master late (> 0) or early (< 0); `null` until
    /// the sum-check.
    pub offset_samples: Option<i64>,
    /// The stem reaches the master inverted; `null` until the sum-check.
    pub polarity_inverted: Option<bool>,
    /// The sender's note on the stem; empty when none.
    #[serde(default)]
    pub note: String,
}

/// Limiter and clipper detection. `null` everywhere means "not measured", which is not the
/// same as `"none"` (measured, and nothing found).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LimiterReport {
    /// `none`, `limited` or `clipped`; `null` until detection is measured.
    pub verdict: Option<LimiterVerdict>,
    /// Confidence of the verdict, 0…1.
    pub confidence: Option<f64>,
    /// The ceiling the peaks pile up at, dBFS.
    pub ceiling_dbfs: Option<f64>,
    /// Estimated gain reduction, dB.
    pub gain_reduction_db: Option<f64>,
    /// Frames of the pass this bus's detection did not see; `null` until analysed.
    #[serde(default)]
    pub unseen_frames: Option<u64>,
}

/// What limiter detection concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimiterVerdict {
    /// Measured, no limiting or clipping found (`"none"`).
    #[serde(rename = "none")]
    Unprocessed,
    /// Brickwall limiting.
    Limited,
    /// Clipping.
    Clipped,
}

impl LimiterVerdict {
    /// The JSON word (`none`, `limited`, `clipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            LimiterVerdict::Unprocessed => "none",
            LimiterVerdict::Limited => "limited",
            LimiterVerdict::Clipped => "clipped",
        }
    }
}

/// The sum-check: the stems summed against the master (every field `null` until measured).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SumReport {
    /// 10·log10(Σ(m − Σs)² / Σm²) over the played range, dB.
    pub null_depth_db: Option<f64>,
    /// Null depth after fitting per-stem gains, dB.
    pub null_depth_fitted_db: Option<f64>,
    /// Master energy no stem explains, dB relative to the master.
    pub unaccounted_db: Option<f64>,
    /// energy(Σs) / Σ energy(s), dB; well below 0 means the stems cancel.
    pub cancellation_db: Option<f64>,
    /// True peak of the stems summed at unity, dBTP.
    pub sum_true_peak_dbtp: Option<f64>,
    /// Frames (per channel) the sum-check compared.
    pub compared_frames: Option<u64>,
    /// Frames left out: a stem had not produced them (yet, or any more), or a jump.
    pub skipped_frames: Option<u64>,
    /// Frames of the pass the sum-check never had: audio overwritten before it was read, or
    /// a stem that had not produced it (part of `skipped_frames`).
    #[serde(default)]
    pub unchecked_frames: Option<u64>,
}

impl SumReport {
    /// Whether any sum-check figure is present.
    pub fn is_measured(&self) -> bool {
        self.null_depth_db.is_some()
            || self.null_depth_fitted_db.is_some()
            || self.unaccounted_db.is_some()
            || self.cancellation_db.is_some()
            || self.sum_true_peak_dbtp.is_some()
    }
}
