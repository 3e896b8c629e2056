//! What a report is made from: the master's and every stem's latest readings, the thresholds
//! and when it was asked for. The plugin fills it from the registry; tests craft it by hand.

use std::time::SystemTime;

use super::brief::Brief;
use super::file_input::FilesInput;
use crate::analysis::coverage::Coverage;
use crate::analysis::dynamics::DynamicsResult;
use crate::analysis::session::SessionFigures;
use crate::analysis::{StemFit, SumFigures};
use crate::dsp::session_facts::SessionFacts;
use crate::dsp::snapshot::MeterSnapshot;

/// One bus as the report sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct BusInput {
    /// Display name: the user's label, the host's track name, or a fallback such as "Stem 3".
    pub name: String,
    /// Registry slot index, when the bus holds one.
    pub slot: Option<usize>,
    /// Whether the bus published a block within the last second.
    pub alive: bool,
    /// Its latest meter readings.
    pub reading: MeterSnapshot,
    /// Limiter / clipper detection over the pass, when the session was analysed.
    pub dynamics: Option<DynamicsResult>,
    /// What the sum-check fitted for this stem (gain, offset, polarity), when analysed.
    pub fit: Option<StemFit>,
    /// Frames of the pass this bus's limiter / clipper detection did not see, when analysed.
    pub unseen_frames: Option<u64>,
    /// The sender's note on this stem (what it holds, what is baked in); empty when none.
    pub note: String,
}

impl BusInput {
    /// A bus known only by its meter readings (no analysis yet).
    pub fn new(name: String, slot: Option<usize>, alive: bool, reading: MeterSnapshot) -> Self {
        Self {
            name,
            slot,
            alive,
            reading,
            dynamics: None,
            fit: None,
            unseen_frames: None,
            note: String::new(),
        }
    }
}

/// What a delivery's read-me holds beyond the measurements: the host's session facts and the
/// sender's brief.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeliveryInput {
    /// Tempo, signature and bar positions over the master's pass; `None` when its meters
    /// never ran (and in the file checker).
    pub session: Option<SessionFacts>,
    /// The host's name for the master's track; empty when it gave none.
    pub host_track_name: String,
    /// Title, artist and notes.
    pub brief: Brief,
}

/// The sum-check's session-wide figures.
#[derive(Clone, Debug, PartialEq)]
pub struct SumInput {
    /// Null depth, unaccounted signal, cancellation and master-bus processing (the per-stem
    /// fits are on each stem's [`BusInput::fit`]).
    pub figures: SumFigures,
    /// True peak of the stems summed at unity, dBTP.
    pub sum_true_peak_dbtp: Option<f32>,
}

impl SumInput {
    /// The session-wide part of a pass's figures (the per-stem fits go on each stem's
    /// [`BusInput::fit`]).
    pub fn from_figures(f: &SessionFigures) -> Self {
        let mut figures = f.sum.clone();
        figures.stems.clear();
        Self {
            figures,
            sum_true_peak_dbtp: f.sum_true_peak_dbtp,
        }
    }
}

/// Thresholds of the rules (the plugin's parameters, same ids and units).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Bottom of the headroom window, dBFS.
    pub window_low_db: f32,
    /// Top of the headroom window, dBFS.
    pub window_high_db: f32,
    /// True-peak ceiling, dBTP: a true peak above it is an over.
    pub tp_ceiling_db: f32,
    /// Null depth above which the sum-check fails, dB.
    pub null_tolerance_db: f32,
}

impl Default for Thresholds {
    /// The delivery defaults: window −6…−3 dBFS, ceiling −1 dBTP, null tolerance −60 dB.
    fn default() -> Self {
        Self {
            window_low_db: -6.0,
            window_high_db: -3.0,
            tp_ceiling_db: -1.0,
            null_tolerance_db: -60.0,
        }
    }
}

impl Thresholds {
    /// The window's ends as (low, high). A host may set them crossed; the meters use them in
    /// order, and so does the report, so both always agree.
    pub fn window(&self) -> (f32, f32) {
        let (a, b) = (self.window_low_db, self.window_high_db);
        (a.min(b), a.max(b))
    }
}

/// Everything a report is made from.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportInput {
    /// Version of the plugin writing the report.
    pub plugin_version: String,
    /// When the report was asked for (its `created_utc` and file name).
    pub created: SystemTime,
    /// Thresholds of the rules.
    pub thresholds: Thresholds,
    /// The master bus (the instance writing the report).
    pub master: BusInput,
    /// Every stem the master sees, in any order (the report sorts them).
    pub stems: Vec<BusInput>,
    /// The sum-check, once a pass has been analysed.
    pub sum: Option<SumInput>,
    /// The delivered files, when the report checks files (the command-line checker); `None`
    /// in the plugin.
    pub files: Option<FilesInput>,
    /// How the master's analysis covered the pass (render mode, speed, what went unchecked);
    /// `None` before it ran, and in the file checker.
    pub coverage: Option<Coverage>,
    /// Session facts and the brief.
    pub delivery: DeliveryInput,
}
