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
use super::notes_board;
use super::overview::Overview;
use super::params::StemcheckParams;
use super::shared::{resolve_name, AnalysisView, ReportStatus, Shared};
use crate::analysis::coverage::Coverage;
use crate::dsp::snapshot::FLAG_PLAYING;
use crate::registry::feed::LiveFeed;
use crate::registry::{Registry, Role, READ_PATIENCE};
use crate::report::{
    build_report, write_report, BusInput, DeliveryInput, ReportInput, SumInput, Thresholds,
};
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
/// How often a master's thread reads the taps during an offline render (writers may be
/// waiting for it), or while a host whose render mode is unknown plays (a render must be
/// found before the taps overflow). The figures are still published every [`MASTER_POLL`].
const FAST_POLL: Duration = Duration::from_millis(1);

/// Longest an automatic report waits for the analysis to finish the pass (whatever it has not
/// read by then is reported as unchecked).
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

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
    let claim = shared.slot.as_ref().map(|s| (s.index(), s.generation()));
    let mut seen_note: Option<String> = None;
    let mut feed: Option<LiveFeed> = None;
    let mut auto_pending: Option<Instant> = None;
    let mut last_look: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        let fast = feed
            .as_ref()
            .is_some_and(|f| f.wants_fast_polls(Instant::now()));
        let interval = match (&feed, fast) {
            (_, true) => FAST_POLL,
            (Some(_), false) => MASTER_POLL,
            (None, _) => POLL,
        };
        // The first look at once: a master rendered right after its activation has its taps
        // held before they fill.
        if last_look.is_some() {
            std::thread::park_timeout(interval);
        }
        let is_master = params.role() == Role::Master;
        if is_master {
            read_taps(shared, &mut feed);
        }
        // The rest at the usual pace, however often the taps are read.
        let now = Instant::now();
        let due = if feed.is_some() { MASTER_POLL } else { POLL };
        if last_look.is_some_and(|t| now.saturating_duration_since(t) < due) {
            continue;
        }
        last_look = Some(now);
        let label = params.label();
        if label != seen_label {
            shared.publish_name(&label);
            seen_label = label;
        }
        // This instance's note, where a master can read it.
        let note = params.stem_note();
        if let (Some((slot, generation)), false) = (claim, seen_note.as_ref() == Some(&note)) {
            notes_board::post(slot, generation, &note);
            seen_note = Some(note);
        }
        let (passes, requests) = (shared.passes_ended(), shared.report_requests());
        let own_slot = shared.slot.as_ref().map(|s| s.index());
        if !is_master {
            (seen_passes, seen_requests) = (passes, requests);
            if feed.take().is_some() {
                shared.set_analysis(None);
                bulletin::withdraw(own_slot);
            }
            continue;
        }
        publish(shared, feed.as_ref());
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
    if let Some((slot, generation)) = claim {
        notes_board::withdraw(slot, generation);
    }
}

/// One look at the taps: follows this instance's current tap (a reactivation at another rate
/// or layout makes a new one), and analyses the new audio.
fn read_taps(shared: &Shared, feed: &mut Option<LiveFeed>) {
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
    feed.set_host_render(shared.host_render.get());
    if shared.take_analysis_reset() {
        feed.reset();
    }
    feed.poll();
}

/// Publishes the analysis's figures and coverage for the editor and the reports.
fn publish(shared: &Shared, feed: Option<&LiveFeed>) {
    let view = feed.and_then(|feed| {
        Some(AnalysisView {
            stems: feed
                .stems()
                .iter()
                .map(|s| (s.slot, s.generation))
                .collect(),
            figures: feed.figures()?,
            coverage: feed.coverage()?,
        })
    });
    shared.set_analysis(view);
}

/// Puts the master's analysis into the report input: the session figures, the master's
/// verdict, and each analysed stem's verdict and fit (matched by slot and claim generation).
fn attach_analysis(input: &mut ReportInput, generations: &[u64], view: &AnalysisView) {
    let f = &view.figures;
    let lost = view.coverage.lost;
    input.master.dynamics = Some(f.master_dynamics);
    input.master.unseen_frames = Some(lost);
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
        bus.unseen_frames = view.coverage.stem_unseen.get(i).map(|&n| n + lost);
    }
    input.sum = Some(SumInput::from_figures(f));
    // Once the transport has stopped, audio the analysis has not read yet counts as unchecked.
    let playing = input.master.reading.flags & FLAG_PLAYING != 0;
    input.coverage = Some(Coverage {
        ended: !playing,
        ..view.coverage.clone()
    });
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
            // The master's audio thread publishes every block: wait out a write it was
            // preempted in rather than report zeros.
            shared
                .snapshot
                .read_until(Instant::now() + READ_PATIENCE)
                .unwrap_or_default(),
        ),
        stems: list.stems,
        sum: None,
        files: None,
        coverage: None,
        delivery: DeliveryInput {
            session: shared.session.read(),
            host_track_name: shared.track_name(),
            brief: params.brief(),
        },
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
