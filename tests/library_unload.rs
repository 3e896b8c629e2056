//! A host that unloads the plugin library (`dlclose`) while threads that called into it live
//! on: each round loads the bundle on a thread of its own, runs a master and two stems on it
//! (activation, processing, the report thread, a state round trip) and drops them; the test's
//! thread then unloads the library while the round's thread stays alive until every round is
//! done. The threads then end,
//! which runs whatever per-thread destructors the library left on them. A destructor left in
//! unmapped code would crash this process.

mod common;

use std::sync::{Arc, Barrier};

use common::clap_host::*;

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const ROUNDS: usize = 12;

/// Whether the plugin library is mapped into this process now.
fn library_mapped() -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps reads")
        .lines()
        .any(|l| l.ends_with("Stemcheck.clap"))
}

/// Loads the bundle, runs a session on it, drops every instance, and hands the bundle back
/// (the caller unloads it, on another thread).
fn one_round(round: usize) -> ClapBundle {
    let bundle = ClapBundle::load_unloadable(&bundle_path());
    let mut instances: Vec<PluginInstance> = ["Master", "01_A", "02_B"]
        .iter()
        .map(|name| PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, name))
        .collect();
    let role = clap_param_id("role");
    instances[0].set_param_value(role, 1.0);
    for (i, p) in instances.iter_mut().enumerate() {
        let rate = if i == 2 && round % 2 == 1 {
            1_234.567_8
        } else {
            48_000.0
        };
        p.activate(rate, 256, 2);
        for pos in (0..4_096).step_by(256) {
            let input = vec![vec![0.25f32; 256]; 2];
            let out = p.process(
                &input,
                Some(TransportInfo {
                    playing: true,
                    pos_samples: pos,
                    sample_rate: rate,
                }),
            );
            assert_eq!(out, input, "round {round}: pass-through");
        }
        let state = p.save_state();
        p.load_state(&state).expect("its own state");
    }
    // Let the master's report thread look at the stems at least once.
    std::thread::sleep(std::time::Duration::from_millis(120));
    drop(instances);
    bundle
}

#[test]
fn the_library_unloads_while_threads_that_used_it_live_on() {
    // Build (and check) the bundle before the first round, outside the timed threads.
    let _ = bundle_path();
    assert!(!library_mapped(), "nothing loaded the library yet");
    let done = Arc::new(Barrier::new(ROUNDS + 1));
    let mut threads = Vec::new();
    let mut unmapped = 0;
    for round in 0..ROUNDS {
        let (tx, rx) = std::sync::mpsc::channel();
        let done = done.clone();
        threads.push(std::thread::spawn(move || {
            // The host's audio and main thread for this round; the library is unloaded by
            // the test's thread while this one lives on, as a host unloads a plugin from its
            // main thread while its audio threads keep running.
            tx.send(one_round(round)).expect("the test waits");
            // Live on past the unload, with whatever the library left on this thread.
            done.wait();
        }));
        let bundle = rx.recv().expect("the round ran");
        drop(bundle);
        if !library_mapped() {
            unmapped += 1;
        }
    }
    println!("{unmapped} of {ROUNDS} rounds left the library unmapped before their thread ended");
    done.wait();
    for t in threads {
        t.join().expect("a round's thread ended cleanly");
    }
    // glibc keeps a library loaded while a live thread holds one of its per-thread destructors
    // (registered through `__cxa_thread_atexit_impl`), so no destructor can run from unmapped
    // code. With every such thread gone, the next unload really unmaps it.
    std::thread::spawn(|| drop(ClapBundle::load_unloadable(&bundle_path())))
        .join()
        .expect("a load and unload on a fresh thread");
    println!(
        "every thread ended; after one more load and unload the library is mapped: {}",
        library_mapped()
    );
    assert!(
        !library_mapped(),
        "the library stays mapped after its last unload with no thread holding it"
    );
}
