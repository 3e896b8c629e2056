//! Every editor paints, at once and for as long as it is open: the built bundle's editors are
//! opened and closed over and over (several at once, through the CLAP `gui` extension, in a
//! private Xvfb) while a session plays on the audio thread and busy threads load every core.
//! Each opened editor must cover its host window within a bounded time after `show()` and keep
//! repainting (its picture changes while the meters move). In each round one editor is shown
//! 100 ms after it was embedded (`set_parent`), the others at once. The open-to-first-paint
//! times are printed.
//!
//! Own `main` (no libtest harness): Xvfb is started and `DISPLAY` set before any thread exists.
//! `STEMCHECK_PAINT_ROUNDS` (default 10) and `STEMCHECK_PAINT_LOAD` (busy threads, default 2)
//! change the run for measurements.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::clap_host::{bundle_path, ClapBundle};
use common::gui_host::{
    notes, run_main_loop, wait_for_paint, wait_for_paints, AudioThread, GuiInstance, Input,
    OpenedEditor, Playback, ThreadRoles,
};
use common::state::configure_master;
use common::xserver::{XHost, Xvfb};

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const RATE: f64 = 48_000.0;
const BLOCK: usize = 480;
const BACKGROUND: u32 = 0xFF00FF;
const BACKGROUND_RGB: [u8; 3] = [0xFF, 0x00, 0xFF];

/// Stems of the session (name, tone, peak dBFS); the master sums them. Every instance's
/// editor opens in each round, so a round opens four editors at once.
const STEMS: [(&str, f32, f32); 3] = [
    ("01_Drums", 110.0, -3.8),
    ("02_Bass", 55.0, -4.5),
    ("03_Keys", 330.0, -5.2),
];

/// How long an editor may take from `show()` to covering its window. A healthy open takes
/// well under a second even on a loaded machine; an editor that has stopped scheduling frames
/// never paints.
const PAINT_TIMEOUT: Duration = Duration::from_secs(3);
/// Editors opened alone, one after the other, to time an open.
const SINGLE_OPENS: usize = 8;
/// How long the host waits between `set_parent` and `show` for one editor in each round.
const LATE_SHOW: Duration = Duration::from_millis(100);
/// An editor's picture must change within this time: its meters follow notes that change
/// every 0.2 s.
const LIVE_WITHIN: Duration = Duration::from_secs(2);
/// How many pixels must change.
const LIVE_PIXELS: usize = 50;

fn env_or(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// Threads that keep the CPU busy until dropped.
struct CpuLoad {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<u64>>,
}

impl CpuLoad {
    fn start(threads: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|i| {
                let stop = stop.clone();
                thread::Builder::new()
                    .name(format!("busy-{i}"))
                    .spawn(move || {
                        let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
                        // Relaxed: a lone stop flag.
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..10_000 {
                                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005))
                                    .wrapping_add(1);
                            }
                        }
                        x
                    })
                    .expect("spawning a busy thread")
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for CpuLoad {
    fn drop(&mut self) {
        // Relaxed: a lone stop flag; join synchronises.
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn main() {
    let started = Instant::now();
    // Four editors side by side: three stems (760x540) and the master (1040x720).
    let xvfb = Xvfb::start(4400, 800);
    println!("Xvfb on display {}", xvfb.display());
    let roles = ThreadRoles::new();
    let bundle = ClapBundle::load(&bundle_path());
    let x = XHost::connect();
    let audio = AudioThread::spawn(&roles);
    let report_dir = tempfile::tempdir().expect("temporary report folder");
    let rounds = env_or("STEMCHECK_PAINT_ROUNDS", 10);
    let load_threads = env_or("STEMCHECK_PAINT_LOAD", 2);

    let mut instances: Vec<GuiInstance> = STEMS
        .iter()
        .map(|(name, ..)| GuiInstance::new(&bundle, PLUGIN_ID, name, &roles))
        .collect();
    let mut master = GuiInstance::new(&bundle, PLUGIN_ID, "Master", &roles);
    configure_master(&mut master, report_dir.path());
    instances.push(master);
    let tracks = instances
        .iter_mut()
        .enumerate()
        .map(|(i, instance)| {
            let input = match STEMS.get(i) {
                Some(&(_, freq, peak)) => notes(RATE, i, freq, peak),
                None => Input::SumOfStems,
            };
            instance.activate(RATE, BLOCK as u32, input)
        })
        .collect();
    let playback = Playback::start(&audio, tracks, RATE, BLOCK);
    let load = CpuLoad::start(load_threads);
    run_main_loop(&mut instances, &x, Duration::from_millis(500));

    let mut opens = 0usize;
    let mut failures = Vec::new();
    let mut first_paints = Vec::new();
    // One editor at a time: how long an open takes from `create()` to the first painted frame.
    for k in 0..SINGLE_OPENS {
        let i = k % instances.len();
        let editor = instances[i].open_editor(&x, (0, 0), BACKGROUND);
        opens += 1;
        match wait_for_paint(&mut instances, &x, &editor, BACKGROUND_RGB, PAINT_TIMEOUT) {
            Some(t) => first_paints.push(editor.shown_at - editor.created_at + t),
            None => failures.push(format!(
                "single open {k}, {}: never painted ({PAINT_TIMEOUT:?} after show())",
                instances[i].name()
            )),
        }
        instances[i].close_editor(&x);
    }
    for round in 0..rounds {
        // One editor a round is shown a while after it was embedded, as some hosts do.
        let late = round % instances.len();
        let opened: Vec<OpenedEditor> = (0..instances.len())
            .map(|i| {
                let before_show = if i == late { LATE_SHOW } else { Duration::ZERO };
                instances[i].open_editor_shown_after(
                    &x,
                    (i as i16 * 1060, 0),
                    BACKGROUND,
                    before_show,
                )
            })
            .collect();
        opens += opened.len();
        let paints = wait_for_paints(&mut instances, &x, &opened, BACKGROUND_RGB, PAINT_TIMEOUT);
        let painted: Vec<bool> = paints.iter().map(Option::is_some).collect();
        for (i, paint) in paints.iter().enumerate() {
            let name = instances[i].name();
            match paint {
                Some(_) => {}
                None => failures.push(format!(
                    "round {round}, {name}: never painted ({PAINT_TIMEOUT:?} after show(){})",
                    if i == late {
                        format!(", shown {LATE_SHOW:?} after set_parent()")
                    } else {
                        String::new()
                    }
                )),
            }
        }
        // Keeps painting: each picture must change while the meters move.
        let before: Vec<_> = opened.iter().map(|e| x.capture(&e.window)).collect();
        let mut changed = vec![0usize; opened.len()];
        let watch_from = Instant::now();
        loop {
            run_main_loop(&mut instances, &x, Duration::from_millis(50));
            for (i, editor) in opened.iter().enumerate() {
                if changed[i] < LIVE_PIXELS {
                    changed[i] = before[i].differing_pixels(&x.capture(&editor.window), 8);
                }
            }
            if changed.iter().all(|&n| n >= LIVE_PIXELS) || watch_from.elapsed() >= LIVE_WITHIN {
                break;
            }
        }
        for (i, &n) in changed.iter().enumerate() {
            if painted[i] && n < LIVE_PIXELS {
                failures.push(format!(
                    "round {round}, {}: painted, then stopped ({n} px changed in \
                     {LIVE_WITHIN:?} of audio)",
                    instances[i].name()
                ));
            }
        }
        for instance in instances.iter_mut() {
            instance.close_editor(&x);
        }
        let this_round: Vec<&String> = failures
            .iter()
            .filter(|f| f.starts_with(&format!("round {round},")))
            .collect();
        println!(
            "round {round}: {} of {} editors painted and kept painting{}",
            opened.len() - this_round.len(),
            opened.len(),
            this_round
                .iter()
                .map(|f| format!("\n  {f}"))
                .collect::<String>()
        );
    }
    drop(load);
    let violations: Vec<String> = instances
        .iter()
        .flat_map(|i| i.thread_violations())
        .collect();
    let tracks = playback.stop();
    for (instance, track) in instances.iter_mut().zip(tracks) {
        instance.deactivate(track);
    }
    drop(instances);
    drop(audio);
    drop(x);
    drop(xvfb);

    first_paints.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if !first_paints.is_empty() {
        let pick = |q: f64| first_paints[((first_paints.len() - 1) as f64 * q).round() as usize];
        println!(
            "create() to first paint, one editor at a time ({} opens, {load_threads} busy \
             threads): median {:.0} ms, 90th percentile {:.0} ms, max {:.0} ms",
            first_paints.len(),
            ms(pick(0.5)),
            ms(pick(0.9)),
            ms(pick(1.0))
        );
    }
    println!(
        "{} failures of {opens} opens ({SINGLE_OPENS} alone, then {rounds} rounds of {} \
         editors at once; {load_threads} busy threads)",
        failures.len(),
        STEMS.len() + 1
    );
    for f in &failures {
        println!("  {f}");
    }
    for v in &violations {
        println!("  thread violation: {v}");
    }
    let ok = failures.is_empty() && violations.is_empty() && opens > 0;
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; \
         finished in {:.2}s\n",
        if ok { "ok" } else { "FAILED" },
        usize::from(ok),
        usize::from(!ok),
        started.elapsed().as_secs_f64()
    );
    if !ok {
        std::process::exit(1);
    }
}
