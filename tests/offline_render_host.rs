//! Offline renders and faster-than-real-time playback through a real CLAP host: stem instances
//! and a master, each on its own thread, played flat out with the CLAP render mode set to
//! offline (every frame must be checked, whatever the host order) or left in real time (what
//! could not be checked is counted and the sign-off says so), and a pass that must survive the
//! deactivations, resets and early restarts DAWs do around playback.
//!
//! The instances share one registry per process, so the tests take turns ([`SERIAL`]).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::audio::*;
use common::rig::*;
use stemcheck::report::{RenderModeReport, Report, Severity, UncheckedReason, Verdict};

/// Each pass: 5 s of audio.
const FRAMES: usize = 240_000;
/// A bound no order may exceed (a deadlock fails the test instead of hanging it).
const LIMIT: Duration = Duration::from_secs(180);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn audio(stems: Vec<Stereo>, master: Stereo) -> Audio {
    Audio {
        stems: Arc::new(stems),
        master: Arc::new(master),
    }
}

/// The clean session of `n` stems.
fn clean(n: usize, frames: usize) -> Audio {
    let s = stems(n, frames);
    let m = mix(&s, &vec![UNITY; n], None);
    audio(s, m)
}

/// Plays the whole session from 0, stops, and returns the report.
fn pass(rig: &mut Rig, what: &str, a: &Audio, how: Play) -> Report {
    let _watch = Watchdog::new(what, LIMIT);
    rig.play(a, 0, a.frames(), how);
    rig.stop(a.frames());
    rig.report(what)
}

fn ids(r: &Report) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.stem.clone()))
        .collect();
    v.sort();
    v
}

fn has(r: &Report, id: &str) -> bool {
    r.findings.iter().any(|f| f.id == id)
}

/// Every frame of the pass compared and seen.
fn assert_whole(what: &str, r: &Report, frames: usize) {
    assert_eq!(r.pass.unchecked_frames, Some(0), "{what}: {:?}", r.pass);
    assert_eq!(r.pass.analysed_frames, Some(frames as u64), "{what}");
    assert_eq!(r.sum.unchecked_frames, Some(0), "{what}");
    assert!(!has(r, "sum.incomplete"), "{what}");
    for s in &r.stems {
        assert_eq!(s.limiter.unseen_frames, Some(0), "{what}: {}", s.name);
    }
    assert_eq!(r.master.limiter.unseen_frames, Some(0), "{what}");
}

#[test]
fn offline_flat_out_gives_the_figures_of_a_paced_run() {
    let _serial = serial();
    let mut rig = Rig::new(8, false);
    let base = stems(8, FRAMES);
    let unity = vec![UNITY; 8];
    let clean_mix = mix(&base, &unity, None);
    let mut limited = base.clone();
    limited[0] = limit(&base[0], 8.0, peak(&base[0]));
    let mut late = unity.clone();
    late[2].delay = 7;
    let sessions = [
        ("clean", audio(base.clone(), clean_mix.clone())),
        (
            "stem limiter",
            audio(limited.clone(), mix(&limited, &unity, None)),
        ),
        (
            "master limiter",
            audio(base.clone(), limit(&clean_mix, 6.0, peak(&clean_mix))),
        ),
        ("offset", audio(base.clone(), mix(&base, &late, None))),
    ];
    for (name, a) in &sessions {
        let paced = pass(
            &mut rig,
            &format!("{name}, 4x real time"),
            a,
            Play::paced(4.0),
        );
        assert_eq!(rig.set_offline(true), 9, "every instance restarted");
        let offline = pass(
            &mut rig,
            &format!("{name}, offline flat out"),
            a,
            Play::flat_out(Order::StemsFirst),
        );
        assert_eq!(rig.set_offline(false), 9);
        assert_eq!(paced.pass.render_mode, Some(RenderModeReport::Realtime));
        assert_eq!(offline.pass.render_mode, Some(RenderModeReport::Offline));
        assert_eq!(offline.pass.render_mode_inferred, Some(false));
        assert!(offline.pass.speed.is_some() && paced.pass.speed.is_some());
        assert_whole(name, &paced, FRAMES);
        assert_whole(name, &offline, FRAMES);
        assert_eq!(paced.verdict, offline.verdict, "{name}");
        assert_eq!(ids(&paced), ids(&offline), "{name}");
        assert_eq!(paced.sum.compared_frames, offline.sum.compared_frames);
        assert_eq!(paced.sum.skipped_frames, offline.sum.skipped_frames);
        let close = |a: Option<f64>, b: Option<f64>, tol: f64| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= tol || (a < -120.0 && b < -120.0),
            (None, None) => true,
            _ => false,
        };
        assert!(
            close(paced.sum.null_depth_db, offline.sum.null_depth_db, 0.01),
            "{name}"
        );
        assert!(close(
            paced.sum.unaccounted_db,
            offline.sum.unaccounted_db,
            0.01
        ));
        assert!(close(
            paced.sum.sum_true_peak_dbtp,
            offline.sum.sum_true_peak_dbtp,
            0.0
        ));
        assert_eq!(paced.master.limiter, offline.master.limiter, "{name}");
        for (p, o) in paced.stems.iter().zip(&offline.stems) {
            assert_eq!(p.limiter, o.limiter, "{name}: {}", p.name);
            assert_eq!(p.gain_db, o.gain_db, "{name}: {}", p.name);
            assert_eq!(p.offset_samples, o.offset_samples, "{name}: {}", p.name);
        }
        match *name {
            "clean" => assert_eq!(offline.verdict, Verdict::Ready),
            "stem limiter" => assert!(offline
                .findings
                .iter()
                .any(|f| f.id == "limiter.stem" && f.stem.as_deref() == Some("01_Drums"))),
            "master limiter" => assert!(has(&offline, "limiter.master")),
            _ => assert!(offline
                .findings
                .iter()
                .any(|f| f.id == "sum.offset" && f.stem.as_deref() == Some("03_Keys"))),
        }
    }
}

#[test]
fn real_time_flat_out_counts_what_it_could_not_check_and_is_never_ready() {
    let _serial = serial();
    // One host thread, no pacing, blocks of 512: as fast as the instances go. The master's
    // analysis of 16 stems costs far more per frame than metering them, so it falls behind.
    let n = 16;
    let frames = 20 * 48_000;
    let a = clean(n, frames);
    let bundle = common::clap_host::ClapBundle::load(&common::clap_host::bundle_path());
    let dir = tempfile::tempdir().unwrap();
    let mut stems: Vec<_> = (0..n)
        .map(|i| {
            let mut p = common::clap_host::PluginInstance::new_with_track_name(
                &bundle,
                PLUGIN_ID,
                &stem_name(i),
            );
            p.activate(RATE, MAX_FRAMES, 2);
            p
        })
        .collect();
    let mut master =
        common::clap_host::PluginInstance::new_with_track_name(&bundle, PLUGIN_ID, "Master");
    common::state::configure_master(&mut master, dir.path());
    master.activate(RATE, MAX_FRAMES, 2);
    let _watch = Watchdog::new("real time, flat out", LIMIT);
    let transport = |pos: usize, playing: bool| {
        Some(common::clap_host::TransportInfo {
            playing,
            pos_samples: pos as i64,
            sample_rate: RATE,
        })
    };
    for pos in (0..frames).step_by(512) {
        let block = |x: &Stereo| -> Vec<Vec<f32>> {
            x.iter().map(|c| c[pos..pos + 512].to_vec()).collect()
        };
        for (p, x) in stems.iter_mut().zip(a.stems.iter()) {
            p.process(&block(x), transport(pos, true));
        }
        master.process(&block(&a.master), transport(pos, true));
    }
    let silence = vec![vec![0.0f32; 256]; 2];
    for _ in 0..3 {
        for p in stems.iter_mut().chain(std::iter::once(&mut master)) {
            p.process(&silence, transport(frames, false));
        }
    }
    let r = next_report(dir.path(), &mut Default::default(), "real time, flat out");
    assert_eq!(r.pass.render_mode, Some(RenderModeReport::Realtime));
    assert_ne!(r.verdict, Verdict::Ready);
    let unchecked = r.pass.unchecked_frames.expect("counted");
    assert!(
        unchecked as f64 > 0.01 * frames as f64,
        "the flat-out host outran the analysis: {:?}",
        r.pass
    );
    assert_eq!(r.pass.unchecked_reason, Some(UncheckedReason::Outran));
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "sum.incomplete")
        .expect("sum.incomplete");
    assert_eq!(f.severity, Severity::Warn);
    assert!(f.message.contains("faster than real time"), "{}", f.message);
    let speed = r.pass.speed.expect("speed measured");
    let said = if speed < 10.0 {
        format!("{speed:.1}×")
    } else {
        format!("{speed:.0}×")
    };
    assert!(f.message.contains(&said), "{} / {speed}", f.message);
}

#[test]
fn offline_every_host_order_finishes_and_checks_every_frame() {
    let _serial = serial();
    let mut rig = Rig::new(6, true);
    let a = clean(6, FRAMES);
    for order in [
        Order::StemsFirst,
        Order::MasterFirst,
        Order::Workers,
        Order::FreeRunning,
    ] {
        let what = format!("offline, {order:?}");
        let r = pass(&mut rig, &what, &a, Play::flat_out(order));
        assert_eq!(r.pass.render_mode, Some(RenderModeReport::Offline));
        assert_whole(&what, &r, FRAMES);
        assert_eq!(r.sum.compared_frames, Some(FRAMES as u64), "{what}");
        assert_eq!(r.verdict, Verdict::Ready, "{what}: {:?}", ids(&r));
        assert!(r.pass.complete);
    }
}

#[test]
fn offline_a_stem_that_stops_being_processed_is_counted_and_named() {
    let _serial = serial();
    let mut rig = Rig::new(4, true);
    let a = clean(4, FRAMES);
    let stop_at = FRAMES / 2;
    let how = Play {
        stem_stops: Some((2, stop_at)),
        ..Play::flat_out(Order::StemsFirst)
    };
    let r = pass(&mut rig, "offline, 03_Keys stops half-way", &a, how);
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "sum.incomplete")
        .expect("sum.incomplete");
    assert!(f.message.contains("03_Keys"), "{}", f.message);
    assert_eq!(r.pass.unchecked_reason, Some(UncheckedReason::Missing));
    let keys = r.stems.iter().find(|s| s.name == "03_Keys").unwrap();
    let unseen = keys.limiter.unseen_frames.unwrap();
    // Its last block before the stop may end a few frames past the half.
    assert!(
        (FRAMES as u64 / 2 - 512..=FRAMES as u64 / 2).contains(&unseen),
        "{unseen}"
    );
    for s in r.stems.iter().filter(|s| s.name != "03_Keys") {
        assert_eq!(s.limiter.unseen_frames, Some(0), "{}", s.name);
    }
    assert_eq!(r.master.limiter.unseen_frames, Some(0));
    assert_eq!(r.pass.unchecked_frames, Some(unseen));
    assert_ne!(r.verdict, Verdict::Ready);
}

#[test]
fn offline_a_master_alone_checks_its_own_signal() {
    let _serial = serial();
    let mut rig = Rig::new(0, true);
    let s = stems(3, FRAMES);
    let m = mix(&s, &[UNITY; 3], None);
    let a = audio(Vec::new(), m);
    let r = pass(
        &mut rig,
        "offline, a master alone",
        &a,
        Play::flat_out(Order::StemsFirst),
    );
    assert_whole("master alone", &r, FRAMES);
    assert!(has(&r, "stems.none"));
    assert!(r.master.limiter.verdict.is_some());
}

#[test]
fn a_pass_survives_reactivation_reset_and_a_restart_a_block_early() {
    let _serial = serial();
    let mut rig = Rig::new(4, false);
    // 03_Keys peaks in the first half only.
    let mut s = stems(4, FRAMES);
    for c in &mut s[2] {
        c[1000] = 0.4;
    }
    let m = mix(&s, &[UNITY; 4], None);
    let keys_peak_db = 20.0 * 0.4f64.log10();
    let a = audio(s, m);
    let half = FRAMES / 2;
    let _watch = Watchdog::new("stop, reactivate, continue", LIMIT);
    rig.play(&a, 0, half, Play::paced(8.0));
    rig.stop(half);
    let first = rig.report("first half");
    assert!(first.pass.complete);
    // What DAWs do around a stop: deactivate, activate and reset every insert.
    rig.reactivate_all();
    // Continue one block before where the pass stopped (latency compensation).
    rig.play(&a, half - 512, FRAMES, Play::paced(8.0));
    rig.stop(FRAMES);
    let r = rig.report("continued a block early");
    assert!(r.pass.complete, "{:?}", r.pass);
    assert_eq!(
        (r.pass.start_samples, r.pass.end_samples),
        (Some(0), Some(FRAMES as i64))
    );
    assert!(!has(&r, "pass.incomplete"));
    assert_whole("continued", &r, FRAMES);
    assert_eq!(r.sum.compared_frames, Some(FRAMES as u64));
    let keys = r.stems.iter().find(|s| s.name == "03_Keys").unwrap();
    let peak = keys.levels.sample_peak_dbfs[0].unwrap();
    assert!(
        (peak - keys_peak_db).abs() < 0.01,
        "03_Keys peak {peak} dBFS"
    );
    assert_eq!(r.verdict, Verdict::Ready, "{:?}", ids(&r));
}

#[test]
fn a_reactivation_before_the_first_stopped_block_still_ends_the_pass() {
    let _serial = serial();
    // Ardour's order with "silence plugins when the transport is stopped", and at the end of
    // an export: the last playing block, then every insert deactivated and activated, then
    // the stopped blocks. The stop must still end the pass and bring its report.
    let mut rig = Rig::new(3, true);
    let a = clean(3, FRAMES);
    let _watch = Watchdog::new("reactivation before the first stopped block", LIMIT);
    rig.play(&a, 0, FRAMES, Play::flat_out(Order::StemsFirst));
    rig.reactivate_all();
    rig.stop(FRAMES);
    let r = rig.report("reactivated before the stopped blocks");
    assert!(r.pass.complete, "{:?}", r.pass);
    assert_whole("reactivated before the stopped blocks", &r, FRAMES);
    assert_eq!(r.verdict, Verdict::Ready, "{:?}", ids(&r));
}

#[test]
fn a_reactivation_between_the_stop_and_the_report_keeps_the_pass() {
    let _serial = serial();
    let mut rig = Rig::new(4, true);
    let a = clean(4, FRAMES);
    let _watch = Watchdog::new("reactivation before the report", LIMIT);
    rig.play(&a, 0, FRAMES, Play::flat_out(Order::StemsFirst));
    rig.stop(FRAMES);
    // At once, before the report thread looks: Ardour flushes every insert after an export.
    rig.reactivate_all();
    rig.stop(FRAMES);
    let r = rig.report("reactivated after the stop");
    assert!(r.pass.complete);
    assert_whole("reactivated", &r, FRAMES);
    assert!(r.stems.iter().all(|s| !s.levels.silent));
    assert_eq!(r.verdict, Verdict::Ready, "{:?}", ids(&r));
}
