//! The report thread: writes the master's report off the audio thread, on the button and when
//! the transport stops after a pass (with `auto_report` on).
//!
//! The audio thread never waits for it or wakes it (waking is a system call): it bumps a
//! counter, and this thread looks ten times a second. The same look keeps the stems'
//! heartbeat timing current, so a report marks a stem stale within a second of its last block,
//! and republishes the instance's name when a state load changed its label.
//!
//! When the instance is the master, the same thread runs the session analysis: each look
//! reads the new audio of the master's and every stem's tap ([`LiveFeed`]) and analyses it
//! (sum-check, limiter detection), so none of that work touches an audio thread.

use super::bulletin;
use super::overview::Overview;
use super::params::StemcheckParams;
use super::shared::{resolve_name, AnalysisView, ReportStatus, Shared};
use crate::registry::feed::LiveFeed;
use crate::registry::{Registry, Role};
use crate::report::{build_report, write_report, BusInput, ReportInput, SumInput, Thresholds};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often the thread looks for work.
const POLL: Duration = Duration::from_millis(100);
/// How often a master's thread looks: its audio taps hold 2.5 s or more, so this keeps up with
/// a host running up to about 50 times faster than real time.
const MASTER_POLL: Duration = Duration::from_millis(40);

/// Longest an automatic report waits for the analysis to finish the pass.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);

/// Owns the report thread; dropping it stops and joins the thread.
pub struct ReportWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReportWorker {
    /// Starts the thread for one instance.
    pub fn spawn(shared: Arc<Shared>, params: Arc<StemcheckParams>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        // Counted now, not when the thread gets going: a pass that ends before the new thread
        // first runs (a short pass on a loaded machine) still gets its report.
        let seen = (shared.passes_ended(), shared.report_requests());
        let thread = std::thread::Builder::new()
            .name("stemcheck-report".to_owned())
            .spawn({
                let stop = stop.clone();
                move || run(&shared, &params, &stop, seen)
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

fn run(shared: &Shared, params: &StemcheckParams, stop: &AtomicBool, seen: (u64, u64)) {
    let mut overview = Overview::new(Registry::global());
    let (mut seen_passes, mut seen_requests) = seen;
    let mut seen_label = params.label();
    let mut feed: Option<LiveFeed> = None;
    let mut auto_pending: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(if feed.is_some() { MASTER_POLL } else { POLL });
        let label = params.label();
        if label != seen_label {
            shared.publish_name(&label);
            seen_label = label;
        }
        let (passes, requests) = (shared.passes_ended(), shared.report_requests());
        let own_slot = shared.slot.as_ref().map(|s| s.index());
        if params.role() != Role::Master {
            (seen_passes, seen_requests) = (passes, requests);
            if feed.take().is_some() {
                shared.set_analysis(None);
                bulletin::withdraw(own_slot);
            }
            continue;
        }
        analyse(shared, &mut feed);
        let (input, _) = gather(shared, params, &mut overview);
        // The stems' own editors show what this master concluded about them.
        bulletin::post(&build_report(&input), own_slot, |slot| {
            overview.generation_of(slot)
        });
        let asked = requests != seen_requests;
        if passes != seen_passes && params.auto_report() {
            auto_pending.get_or_insert_with(Instant::now);
        }
        (seen_passes, seen_requests) = (passes, requests);
        // An automatic report waits for the analysis to read the pass to its end (the feed
        // trails the audio by a tenth of a second), but never for long.
        let settled = feed.as_ref().is_none_or(LiveFeed::is_settled);
        let auto_due = auto_pending.is_some_and(|t| settled || t.elapsed() > SETTLE_LIMIT);
        if auto_due {
            auto_pending = None;
        }
        let dir = params.report_dir();
        if asked || (auto_due && !dir.trim().is_empty()) {
            shared.set_report_status(write_now(&dir, &input));
        }
    }
    bulletin::withdraw(shared.slot.as_ref().map(|s| s.index()));
}

/// One look at the taps: follows this instance's current tap (a reactivation makes a new one),
/// analyses the new audio, and publishes the figures.
fn analyse(shared: &Shared, feed: &mut Option<LiveFeed>) {
    let Some(tap) = shared.tap() else {
        return;
    };
    if !feed
        .as_ref()
        .is_some_and(|f| std::sync::Arc::ptr_eq(f.master_tap(), &tap))
    {
        let own_slot = shared.slot.as_ref().map(|s| s.index());
        *feed = Some(LiveFeed::new(Registry::global(), tap, own_slot));
    }
    let Some(feed) = feed else { return };
    if shared.take_analysis_reset() {
        feed.reset();
    }
    feed.poll();
    shared.set_analysis(feed.figures().map(|figures| {
        AnalysisView {
            stems: feed
                .stems()
                .iter()
                .map(|s| (s.slot, s.generation))
                .collect(),
            figures,
        }
    }));
}

/// Puts the master's analysis into the report input: the session figures, the master's
/// verdict, and each analysed stem's verdict and fit (matched by slot and claim generation).
fn attach_analysis(input: &mut ReportInput, generations: &[u64], view: &AnalysisView) {
    let f = &view.figures;
    input.master.dynamics = Some(f.master_dynamics);
    for (bus, &generation) in input.stems.iter_mut().zip(generations) {
        let Some(i) = view
            .stems
            .iter()
            .position(|&(slot, g)| Some(slot) == bus.slot && g == generation)
        else {
            continue;
        };
        bus.dynamics = f.stem_dynamics.get(i).copied();
        bus.fit = f.sum.stems.get(i).cloned();
    }
    input.sum = Some(SumInput::from_figures(f));
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
    let mut input = ReportInput {
        plugin_version: env!("CARGO_PKG_VERSION").to_owned(),
        created: SystemTime::now(),
        thresholds: Thresholds {
            window_low_db,
            window_high_db,
            tp_ceiling_db: params.tp_ceiling_db.value(),
            null_tolerance_db: params.null_tolerance_db.value(),
        },
        master: BusInput::new(
            name,
            own_slot,
            true,
            shared.snapshot.read().unwrap_or_default(),
        ),
        stems: list.stems,
        sum: None,
        files: None,
    };
    if let Some(view) = shared.analysis() {
        attach_analysis(&mut input, &list.generations, &view);
    }
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
