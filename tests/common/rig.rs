//! A session of stem instances and a master, each on its own thread, played through the CLAP
//! host in the orders and at the speeds hosts use: paced or flat out, stems before or after
//! the master, stems in parallel on worker threads, or every instance running free; reports
//! read back from the master's report folder.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stemcheck::report::Report;

use super::audio::{Stereo, RATE};
use super::clap_host::{bundle_path, PluginInstance, TransportInfo};
use super::state::configure_master;
use super::threads::ThreadedInstance;

/// The plugin's CLAP id.
pub const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
/// Largest block the host sends.
pub const MAX_FRAMES: u32 = 512;
/// Block lengths, cycled: odd and tiny ones included.
pub const BLOCKS: [usize; 5] = [512, 333, 17, 480, 1];
/// Longest a report may take to appear after a stop.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(15);

/// The order in which the host runs the instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// One thread: every stem, then the master, block by block.
    StemsFirst,
    /// One thread: the master, then every stem.
    MasterFirst,
    /// Each block: the stems in parallel on their threads, then the master (a DAW's graph).
    Workers,
    /// Every instance on its own thread with no synchronisation at all: each plays the whole
    /// range as fast as it can.
    FreeRunning,
}

/// How a stretch is played.
#[derive(Clone, Copy, Debug)]
pub struct Play {
    /// Instance order and threads.
    pub order: Order,
    /// `Some(x)`: x times real time; `None`: flat out.
    pub speed: Option<f64>,
    /// A stem that stops being processed from a position on: (stem index, position).
    pub stem_stops: Option<(usize, usize)>,
}

impl Play {
    /// Flat out, in `order`.
    pub fn flat_out(order: Order) -> Self {
        Self {
            order,
            speed: None,
            stem_stops: None,
        }
    }

    /// `speed` times real time, stems first.
    pub fn paced(speed: f64) -> Self {
        Self {
            order: Order::StemsFirst,
            speed: Some(speed),
            stem_stops: None,
        }
    }
}

/// A session's audio: each stem's input and the master's.
#[derive(Clone)]
pub struct Audio {
    /// Every stem's audio, in instance order.
    pub stems: Arc<Vec<Stereo>>,
    /// The master's input.
    pub master: Arc<Stereo>,
}

impl Audio {
    /// Frames of the session.
    pub fn frames(&self) -> usize {
        self.master[0].len()
    }
}

/// Stem names: `01_Drums` … for the first eight, `NN_Stem` after.
pub fn stem_name(i: usize) -> String {
    const NAMES: [&str; 8] = [
        "Drums", "Bass", "Keys", "Guitar", "Pad", "Lead", "Perc", "Vox",
    ];
    format!("{:02}_{}", i + 1, NAMES.get(i).copied().unwrap_or("Stem"))
}

/// Stem instances and a master (auto report into a temporary folder), all activated.
pub struct Rig {
    /// The stem instances, in [`stem_name`] order.
    pub stems: Vec<ThreadedInstance>,
    /// The master instance.
    pub master: ThreadedInstance,
    dir: tempfile::TempDir,
    seen: BTreeSet<PathBuf>,
}

fn activated(p: &mut PluginInstance) {
    p.activate(RATE, MAX_FRAMES, 2);
}

impl Rig {
    /// `stems` stem instances and a master; `offline` sets the CLAP render mode before the
    /// activation.
    pub fn new(stems: usize, offline: bool) -> Self {
        let path = bundle_path();
        let dir = tempfile::tempdir().expect("a temporary report folder");
        let stems = (0..stems)
            .map(|i| {
                ThreadedInstance::spawn(path.clone(), PLUGIN_ID, stem_name(i), move |p| {
                    if offline {
                        p.set_render_mode(true);
                    }
                    activated(p);
                })
            })
            .collect();
        let report_dir = dir.path().to_owned();
        let master = ThreadedInstance::spawn(path, PLUGIN_ID, "Master".into(), move |p| {
            configure_master(p, &report_dir);
            if offline {
                p.set_render_mode(true);
            }
            activated(p);
        });
        Self {
            stems,
            master,
            dir,
            seen: BTreeSet::new(),
        }
    }

    /// Every instance, the master last.
    pub fn all(&self) -> impl Iterator<Item = &ThreadedInstance> {
        self.stems.iter().chain(std::iter::once(&self.master))
    }

    /// Sets the render mode of every active instance (each asks for a restart, which the host
    /// performs); returns the restarts done.
    pub fn set_offline(&self, offline: bool) -> usize {
        self.all()
            .map(|i| {
                i.call(move |p| {
                    let before = p.restarts();
                    p.set_render_mode(offline);
                    p.restarts() - before
                })
            })
            .sum()
    }

    /// Deactivates and activates every instance again, then resets it (what Ardour does at the
    /// end of an export, and at every stop with "silence plugins when stopped").
    pub fn reactivate_all(&self) {
        for i in self.all() {
            i.call(|p| {
                p.reactivate();
                p.reset();
            });
        }
    }

    /// Plays `[from, to)` of `audio` as `how` says.
    pub fn play(&self, audio: &Audio, from: usize, to: usize, how: Play) {
        let started = Instant::now();
        if how.order == Order::FreeRunning {
            let done: Vec<_> = self
                .all()
                .enumerate()
                .map(|(i, inst)| {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let audio = audio.clone();
                    let stop = how.stem_stops.filter(|s| s.0 == i).map_or(to, |s| s.1);
                    let master = i == self.stems.len();
                    inst.post(move |p| {
                        let mut pos = from;
                        for &len in BLOCKS.iter().cycle() {
                            if pos >= stop.min(to) {
                                break;
                            }
                            let len = len.min(to - pos);
                            let x: &Stereo = if master {
                                &audio.master
                            } else {
                                &audio.stems[i]
                            };
                            process(p, x, pos, len);
                            pos += len;
                        }
                        let _ = tx.send(());
                    });
                    rx
                })
                .collect();
            for rx in done {
                rx.recv()
                    .expect("an instance's thread failed while playing");
            }
            return;
        }
        let mut pos = from;
        for &len in BLOCKS.iter().cycle() {
            if pos >= to {
                break;
            }
            let len = len.min(to - pos);
            let stem_jobs = |rig: &Self, wait: bool| {
                let replies: Vec<_> = rig
                    .stems
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| how.stem_stops.is_none_or(|(s, at)| *i != s || pos < at))
                    .map(|(i, inst)| {
                        let audio = audio.stems.clone();
                        let (tx, rx) = std::sync::mpsc::channel();
                        inst.post(move |p| {
                            process(p, &audio[i], pos, len);
                            let _ = tx.send(());
                        });
                        if !wait {
                            rx.recv().expect("a stem's thread failed");
                        }
                        rx
                    })
                    .collect();
                if wait {
                    for rx in replies {
                        rx.recv().expect("a stem's thread failed");
                    }
                }
            };
            let master = |rig: &Self| {
                let audio = audio.master.clone();
                rig.master.call(move |p| process(p, &audio, pos, len));
            };
            match how.order {
                Order::StemsFirst => {
                    stem_jobs(self, false);
                    master(self);
                }
                Order::MasterFirst => {
                    master(self);
                    stem_jobs(self, false);
                }
                Order::Workers => {
                    stem_jobs(self, true);
                    master(self);
                }
                Order::FreeRunning => unreachable!(),
            }
            pos += len;
            if let Some(speed) = how.speed {
                let due = Duration::from_secs_f64((pos - from) as f64 / RATE / speed);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// Three stopped blocks on every instance, the transport at `at`.
    pub fn stop(&self, at: usize) {
        for _ in 0..3 {
            for i in self.all() {
                i.call(move |p| {
                    let silence = vec![vec![0.0f32; 256]; 2];
                    p.process(
                        &silence,
                        Some(TransportInfo {
                            playing: false,
                            pos_samples: at as i64,
                            sample_rate: RATE,
                        }),
                    );
                });
            }
        }
    }

    /// The next report the master writes, waiting up to [`REPORT_TIMEOUT`].
    pub fn report(&mut self, what: &str) -> Report {
        next_report(self.dir.path(), &mut self.seen, what)
    }
}

/// The next report in `dir` not among `seen` (then added to it), waiting up to
/// [`REPORT_TIMEOUT`].
pub fn next_report(dir: &std::path::Path, seen: &mut BTreeSet<PathBuf>, what: &str) -> Report {
    let asked = Instant::now();
    loop {
        let files: BTreeSet<PathBuf> = std::fs::read_dir(dir)
            .expect("the report folder lists")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        if let Some(new) = files.difference(seen).next().cloned() {
            seen.insert(new.clone());
            let text = std::fs::read_to_string(&new).expect("the report reads");
            let report: Report = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{what}: not a report ({e}):\n{text}"));
            print_report(what, &report);
            return report;
        }
        assert!(
            asked.elapsed() < REPORT_TIMEOUT,
            "{what}: no report after {REPORT_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes `[pos, pos + len)` of `x` as a playing block and checks the audio passes through.
fn process(p: &mut PluginInstance, x: &Stereo, pos: usize, len: usize) {
    let input: Vec<Vec<f32>> = x.iter().map(|c| c[pos..pos + len].to_vec()).collect();
    let out = p.process(
        &input,
        Some(TransportInfo {
            playing: true,
            pos_samples: pos as i64,
            sample_rate: RATE,
        }),
    );
    assert!(out == input, "the audio changed at {pos}");
}

/// One line of what a report says, and its findings.
pub fn print_report(what: &str, r: &Report) {
    let p = &r.pass;
    println!(
        "{what}: {} | pass {:?}..{:?} | mode {:?} (inferred {:?}), speed {:?}x, frames {:?}, unchecked {:?} \
         ({:?}) | compared {:?}, skipped {:?} | null {:?} dB, sum TP {:?}",
        r.verdict.as_str(),
        p.start_samples,
        p.end_samples,
        p.render_mode,
        p.render_mode_inferred,
        p.speed,
        p.analysed_frames,
        p.unchecked_frames,
        p.unchecked_reason,
        r.sum.compared_frames,
        r.sum.skipped_frames,
        r.sum.null_depth_db,
        r.sum.sum_true_peak_dbtp,
    );
    for f in &r.findings {
        if f.severity != stemcheck::report::Severity::Info {
            println!(
                "  {} {} {:?}: {}",
                f.severity.as_str(),
                f.id,
                f.stem,
                f.message
            );
        }
    }
}

/// Aborts the test process, with a message, if the guard is not dropped within `limit`: a
/// host order that deadlocks fails instead of hanging.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    /// Starts watching `what`.
    pub fn new(what: &str, limit: Duration) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let what = what.to_owned();
        let flag = done.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                if started.elapsed() > limit {
                    eprintln!("DEADLOCK: {what} did not finish within {limit:?}");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
