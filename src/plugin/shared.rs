//! State shared between the audio thread, the editor and the report thread, lock-free where
//! the audio thread touches it.

use super::render::SharedHostRender;
use super::timeline_share::TimelineShare;
use crate::analysis::coverage::Coverage;
use crate::analysis::session::SessionFigures;
use crate::dsp::session_facts::SessionFacts;
use crate::dsp::snapshot::MeterSnapshot;
use crate::registry::{AudioTap, NameSource, Registry, SlotHandle};
use crate::sync::seqlock::SeqLock;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the latest report attempt gave, for the editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportStatus {
    /// No report asked for yet.
    None,
    /// Written: the JSON file's path.
    Written(PathBuf),
    /// Not written, and why (shown in the editor).
    Failed(String),
}

/// The master's latest analysis of the pass, for the report and the editor.
#[derive(Clone, Debug, Default)]
pub struct AnalysisView {
    /// The analysed stems as (slot, claim generation), in the order of `figures`' stems.
    pub stems: Vec<(usize, u64)>,
    /// What the pass measured so far.
    pub figures: SessionFigures,
    /// How the analysis covered the pass: render mode, speed, what went unchecked and why.
    pub coverage: Coverage,
}

/// What the audio thread publishes and the other threads read (and the requests going back).
pub struct Shared {
    /// The latest meter readings, written once per block by the audio thread.
    pub snapshot: SeqLock<MeterSnapshot>,
    /// Tempo, signature and bar positions over the pass, written with every snapshot by the
    /// audio thread, read by the report thread.
    pub session: SeqLock<SessionFacts>,
    /// This instance's registry slot; `None` when the registry was full.
    pub slot: Option<SlotHandle>,
    /// The pass timeline, written by the audio thread, drawn by the editor.
    pub timeline: TimelineShare,
    reset_requested: AtomicBool,
    /// Bumped by the audio thread each time the transport stops after playing.
    passes_ended: AtomicU64,
    /// Bumped by the editor's "Write report" button.
    report_requests: AtomicU64,
    /// The host's track name (main thread and editor only).
    track_name: Mutex<String>,
    /// The latest report attempt (report thread writes, editor reads).
    report_status: Mutex<ReportStatus>,
    /// This instance's audio tap, made in `activate` (main thread); the analysis thread
    /// reads it when the instance is the master.
    tap: Mutex<Option<Arc<AudioTap>>>,
    /// The master's analysis of the pass (analysis thread writes, editor and reports read).
    analysis: Mutex<Option<AnalysisView>>,
    /// Asks the analysis thread to start a new pass (the editor's reset).
    analysis_reset: AtomicBool,
    /// What the host said about rendering offline at the latest activation.
    pub host_render: SharedHostRender,
}

impl Default for Shared {
    fn default() -> Self {
        Self::new(Registry::global())
    }
}

impl Shared {
    /// Claims a slot in `registry` (made on the main thread when the plugin is created).
    pub fn new(registry: &'static Registry) -> Self {
        // Unnamed until the host or the label names it: readers show "Stem N" meanwhile.
        let slot = registry.claim("", NameSource::Slot);
        Self {
            snapshot: SeqLock::new(MeterSnapshot::default()),
            session: SeqLock::new(SessionFacts::default()),
            slot,
            timeline: TimelineShare::default(),
            reset_requested: AtomicBool::new(false),
            passes_ended: AtomicU64::new(0),
            report_requests: AtomicU64::new(0),
            track_name: Mutex::new(String::new()),
            report_status: Mutex::new(ReportStatus::None),
            tap: Mutex::new(None),
            analysis: Mutex::new(None),
            analysis_reset: AtomicBool::new(false),
            host_render: SharedHostRender::default(),
        }
    }

    /// Asks the audio thread to reset the meters before its next block.
    pub fn request_reset(&self) {
        // Relaxed is enough: the flag carries no data; the audio thread only needs to see it
        // eventually, and the meters it clears are its own.
        self.reset_requested.store(true, Ordering::Relaxed);
        // Relaxed for the same reason: a request flag, no data behind it.
        self.analysis_reset.store(true, Ordering::Relaxed);
    }

    /// Takes a pending reset request (analysis thread).
    pub fn take_analysis_reset(&self) -> bool {
        self.analysis_reset.swap(false, Ordering::Relaxed)
    }

    /// Publishes this instance's new audio tap, in the registry and for the analysis thread.
    /// Main thread (`activate`).
    pub fn set_tap(&self, tap: Arc<AudioTap>) {
        if let Some(slot) = &self.slot {
            slot.set_tap(Some(tap.clone()));
        }
        *lock(&self.tap) = Some(tap);
    }

    /// Withdraws this instance's audio tap and the master's analysis of it (an activation
    /// that does not meter). Main thread (`activate`).
    pub fn clear_tap(&self) {
        if let Some(slot) = &self.slot {
            slot.set_tap(None);
        }
        *lock(&self.tap) = None;
        self.set_analysis(None);
    }

    /// This instance's audio tap, once activated.
    pub fn tap(&self) -> Option<Arc<AudioTap>> {
        lock(&self.tap).clone()
    }

    /// Stores the master's latest analysis (`None`: no pass analysed).
    pub fn set_analysis(&self, view: Option<AnalysisView>) {
        *lock(&self.analysis) = view;
    }

    /// The master's latest analysis.
    pub fn analysis(&self) -> Option<AnalysisView> {
        lock(&self.analysis).clone()
    }

    /// Takes a pending reset request (audio thread).
    pub fn take_reset_request(&self) -> bool {
        self.reset_requested.swap(false, Ordering::Relaxed)
    }

    /// Audio thread: the transport stopped after playing (a pass ended).
    pub fn note_pass_ended(&self) {
        // Release: the snapshot of the ended pass, published before this, is visible to the
        // report thread that sees the new count (Acquire in `passes_ended`).
        self.passes_ended.fetch_add(1, Ordering::Release);
    }

    /// How many passes have ended since the instance was created.
    pub fn passes_ended(&self) -> u64 {
        self.passes_ended.load(Ordering::Acquire)
    }

    /// Editor: asks the report thread to write a report now.
    pub fn request_report(&self) {
        // Relaxed: a counter with no data behind it; the report thread reads everything else
        // through its own synchronisation.
        self.report_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// How many reports were asked for by hand.
    pub fn report_requests(&self) -> u64 {
        self.report_requests.load(Ordering::Relaxed)
    }

    /// Stores the host's track name (main thread).
    pub fn set_track_name(&self, name: &str) {
        name.clone_into(&mut lock(&self.track_name));
    }

    /// The host's track name, empty when the host gave none.
    pub fn track_name(&self) -> String {
        lock(&self.track_name).clone()
    }

    /// Publishes the display name: the label if set, else the host's track name, else
    /// "Stem N" after the slot. Never from the audio thread.
    pub fn publish_name(&self, label: &str) {
        let Some(slot) = &self.slot else {
            return;
        };
        let (name, source) = resolve_name(label, &self.track_name(), &slot.default_name());
        slot.set_name(&name, source);
    }

    /// Records the latest report attempt.
    pub fn set_report_status(&self, status: ReportStatus) {
        *lock(&self.report_status) = status;
    }

    /// The latest report attempt.
    pub fn report_status(&self) -> ReportStatus {
        lock(&self.report_status).clone()
    }
}

/// The label wins over the host's name, which wins over the slot's default; blanks don't count.
pub fn resolve_name(label: &str, track: &str, default: &str) -> (String, NameSource) {
    if !label.trim().is_empty() {
        (label.trim().to_owned(), NameSource::Label)
    } else if !track.trim().is_empty() {
        (track.trim().to_owned(), NameSource::Host)
    } else {
        (default.to_owned(), NameSource::Slot)
    }
}

/// Locks a mutex that only non-audio threads use; a poisoned one still holds a whole value.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_overrides_the_host_name_which_overrides_the_slot() {
        assert_eq!(
            resolve_name("Lead vox", "Audio 3", "Stem 3"),
            ("Lead vox".to_owned(), NameSource::Label)
        );
        assert_eq!(
            resolve_name("  ", "Audio 3", "Stem 3"),
            ("Audio 3".to_owned(), NameSource::Host)
        );
        assert_eq!(
            resolve_name("", "", "Stem 3"),
            ("Stem 3".to_owned(), NameSource::Slot)
        );
    }

    #[test]
    fn a_full_registry_leaves_the_instance_without_a_slot() {
        let reg: &'static Registry = Box::leak(Box::new(Registry::new(1)));
        let first = Shared::new(reg);
        assert!(first.slot.is_some());
        let second = Shared::new(reg);
        assert!(second.slot.is_none(), "a second claim on a one-slot table");
        drop(first);
        assert!(Shared::new(reg).slot.is_some(), "the slot came back");
    }
}
