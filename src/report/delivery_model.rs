//! The delivery parts of the report as data: the session's facts from the host, the sender's
//! brief, and the delivery checklist (JSON `session`, `brief`, `checklist`; the README lists
//! every field).

use serde::{Deserialize, Serialize};

/// A point of the pass: its transport position, time and bar position.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionPoint {
    /// Transport position, samples.
    pub samples: i64,
    /// The same in seconds (to 0.001).
    pub seconds: f64,
    /// The same as `m:ss.mmm` (negative in pre-roll).
    pub time: String,
    /// Bar, counted from 1 (bar 1 is the song's first); `null` when the host gives no
    /// musical position or signature.
    pub bar: Option<i64>,
    /// Beat within the bar, counted from 1, in units of the signature's denominator, to
    /// 0.001; `null` with `bar`.
    pub beat: Option<f64>,
}

/// What the host told the master about the session during the pass.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    /// The host's name for the master's track; `null` when the host gave none.
    pub host_track_name: Option<String>,
    /// The master's sample rate, Hz; `null` if it never ran.
    pub sample_rate: Option<u32>,
    /// Tempo at the pass's start, quarter notes per minute (to 0.001); `null` when the host
    /// sends no tempo.
    pub tempo_bpm: Option<f64>,
    /// Tempo at the pass's end; `null` when the host sends none.
    pub tempo_end_bpm: Option<f64>,
    /// Lowest and highest tempo during the pass; `null` without a tempo.
    pub tempo_min_bpm: Option<f64>,
    /// See `tempo_min_bpm`.
    pub tempo_max_bpm: Option<f64>,
    /// The tempo changed during the pass; `null` when the host sent no tempo at all.
    pub tempo_changed: Option<bool>,
    /// Time signature at the pass's start, `"4/4"`; `null` when the host sends none.
    pub time_signature: Option<String>,
    /// Time signature at the pass's end.
    pub time_signature_end: Option<String>,
    /// The signature changed during the pass; `null` when the host sent none at all.
    pub time_signature_changed: Option<bool>,
    /// Where the pass began; `null` when nothing was played.
    pub start: Option<SessionPoint>,
    /// One past the pass's last sample; `null` when nothing was played.
    pub end: Option<SessionPoint>,
    /// Length of the pass (the song as played, pre-roll and tail included), samples.
    pub length_samples: Option<i64>,
    /// The same in seconds (to 0.001).
    pub length_seconds: Option<f64>,
    /// The same as `m:ss.mmm`.
    pub length: Option<String>,
}

/// The sender's brief, as typed (control characters dropped, lengths capped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefReport {
    /// Song title.
    pub title: String,
    /// Artist.
    pub artist: String,
    /// Notes for the recipient (target platform, mood, what is baked in…).
    pub notes: String,
}

/// Where a checklist point stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Stemcheck checked it and nothing is wrong.
    Passed,
    /// Stemcheck checked it and found a problem (see `finding_ids`).
    Failed,
    /// Stemcheck cannot check it from where it sits (in the DAW, or without the files): the
    /// sender confirms it.
    NotCheckable,
}

impl CheckState {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Passed => "passed",
            CheckState::Failed => "failed",
            CheckState::NotCheckable => "not_checkable",
        }
    }
}

/// One point of the delivery checklist (SPEC section 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Stable id, e.g. `stem.headroom`.
    pub id: String,
    /// The delivery requirement, as a sentence.
    pub point: String,
    /// Passed, failed or not checkable.
    pub state: CheckState,
    /// The findings (ids) that failed it, or warn about it.
    pub finding_ids: Vec<String>,
    /// How it was checked, or what the sender should confirm.
    pub detail: String,
}
