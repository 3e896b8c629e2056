//! The report thread: writes the master's report off the audio thread, on the button and when
//! the transport stops after a pass (with `auto_report` on).
//!
//! The audio thread never waits for it or wakes it (waking is a system call): it bumps a
//! counter, and this thread looks ten times a second. The same look keeps the stems'
//! heartbeat timing current, so a report marks a stem stale within a second of its last block,
//! and republishes the instance's name when a state load changed its label.

use super::overview::Overview;
use super::params::StemcheckParams;
use super::shared::{resolve_name, ReportStatus, Shared};
use crate::registry::{Registry, Role};
use crate::report::{build_report, write_report, BusInput, ReportInput, Thresholds};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often the thread looks for work.
const POLL: Duration = Duration::from_millis(100);

/// Owns the report thread; dropping it stops and joins the thread.
pub struct ReportWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReportWorker {
    /// Starts the thread for one instance.
    pub fn spawn(shared: Arc<Shared>, params: Arc<StemcheckParams>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("stemcheck-report".to_owned())
            .spawn({
                let stop = stop.clone();
                move || run(&shared, &params, &stop)
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ReportWorker {
    fn drop(&mut self) {
        // Relaxed: the flag orders nothing; join() below synchronises with the thread's end.
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn run(shared: &Shared, params: &StemcheckParams, stop: &AtomicBool) {
    let mut overview = Overview::new(Registry::global());
    let mut seen_passes = shared.passes_ended();
    let mut seen_requests = shared.report_requests();
    let mut seen_label = params.label();
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(POLL);
        let label = params.label();
        if label != seen_label {
            shared.publish_name(&label);
            seen_label = label;
        }
        let (passes, requests) = (shared.passes_ended(), shared.report_requests());
        if params.role() != Role::Master {
            (seen_passes, seen_requests) = (passes, requests);
            continue;
        }
        let (input, _) = gather(shared, params, &mut overview);
        let asked = requests != seen_requests;
        let pass_ended = passes != seen_passes && params.auto_report();
        (seen_passes, seen_requests) = (passes, requests);
        let dir = params.report_dir();
        if asked || (pass_ended && !dir.trim().is_empty()) {
            shared.set_report_status(write_now(&dir, &input));
        }
    }
}

/// The report's input as this instance sees the session now, and how many other instances
/// are also set to Master.
pub fn gather(
    shared: &Shared,
    params: &StemcheckParams,
    overview: &mut Overview,
) -> (ReportInput, usize) {
    let own_slot = shared.slot.as_ref().map(|s| s.index());
    let list = overview.read(own_slot, Instant::now());
    // An unnamed master is "Master", not "Stem N".
    let (name, _) = resolve_name(&params.label(), &shared.track_name(), "Master");
    let (window_low_db, window_high_db) = params.window();
    let input = ReportInput {
        plugin_version: env!("CARGO_PKG_VERSION").to_owned(),
        created: SystemTime::now(),
        thresholds: Thresholds {
            window_low_db,
            window_high_db,
            tp_ceiling_db: params.tp_ceiling_db.value(),
            null_tolerance_db: params.null_tolerance_db.value(),
        },
        master: BusInput {
            name,
            slot: own_slot,
            alive: true,
            reading: shared.snapshot.read().unwrap_or_default(),
        },
        stems: list.stems,
    };
    (input, list.other_masters)
}

/// Builds and writes the report into `dir`; the status says where it went or why it did not.
pub fn write_now(dir: &str, input: &ReportInput) -> ReportStatus {
    let report = build_report(input);
    match write_report(Path::new(dir.trim()), &report) {
        Ok(files) => ReportStatus::Written(files.json),
        Err(e) => ReportStatus::Failed(e.to_string()),
    }
}
