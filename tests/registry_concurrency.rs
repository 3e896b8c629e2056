//! The registry under load: writers publishing at audio rate (and faster) while readers copy
//! every slot, and slots claimed and released while readers iterate. Every reading a writer
//! publishes is derived from one counter, so a reader can check that nothing it copied is torn
//! or belongs to another owner.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use stemcheck::dsp::snapshot::MeterSnapshot;
use stemcheck::registry::{NameSource, Registry, Role, SlotReading};

/// A reading whose every field follows from `n` and the owner's `tag`.
fn reading(tag: u64, n: u64) -> SlotReading {
    let x = n as f32;
    let mut s = MeterSnapshot {
        blocks: n,
        position: (n * 512) as i64,
        pass_start: tag as i64,
        pass_end: (n * 512 + tag) as i64,
        non_finite: n ^ tag,
        channels: 2,
        sample_rate: 48_000.0,
        ..Default::default()
    };
    s.sample_peak = [x, x + 1.0];
    s.true_peak = [x + 2.0, x + 3.0];
    s.clips.count = n.wrapping_mul(3);
    s.flat_tops.first = n as i64 - 1;
    SlotReading::new(
        s,
        if tag.is_multiple_of(2) {
            Role::Stem
        } else {
            Role::Master
        },
    )
}

/// Panics unless `r` is exactly `reading(tag, n)` for the `n` it carries.
fn check(r: &SlotReading, tag: u64) {
    let n = r.snapshot.blocks;
    assert_eq!(
        *r,
        reading(tag, n),
        "torn or foreign reading (tag {tag}, n {n})"
    );
}

fn leaked(capacity: usize) -> &'static Registry {
    Box::leak(Box::new(Registry::new(capacity)))
}

#[test]
fn readers_never_see_a_torn_reading() {
    let reg = leaked(64);
    let stop = Arc::new(AtomicBool::new(false));
    // 64 stems' worth of slots, published by 8 writer threads of 8 slots each, non-stop (far
    // above audio rate: a 48 kHz stream with 64-sample blocks publishes 750 times a second).
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let stop = stop.clone();
            thread::spawn(move || {
                let handles: Vec<_> = (0..8u64)
                    .map(|i| {
                        let tag = w * 8 + i;
                        let h = reg.claim(&format!("stem-{tag}"), NameSource::Host).unwrap();
                        (tag, h)
                    })
                    .collect();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    for (tag, h) in &handles {
                        h.publish(&reading(*tag, n));
                    }
                }
                n
            })
        })
        .collect();
    // Each reader checks at least this many copies. A listing waits (up to 100 ms) for a slot
    // whose writer is mid-write, and these writers never pause, so listings are slow here: the
    // count, not a duration, says when the readers have done enough; the time limit only
    // keeps a broken build from running forever.
    const COPIES_PER_READER: u64 = 5_000;
    let limit = Instant::now() + Duration::from_secs(60);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(move || {
                let mut out = Vec::with_capacity(reg.capacity());
                let (mut copies, mut skipped) = (0u64, 0usize);
                while copies < COPIES_PER_READER && Instant::now() < limit {
                    skipped += reg.read_into(&mut out);
                    for e in &out {
                        let tag: u64 = e.name.as_str()["stem-".len()..].parse().unwrap();
                        check(&e.reading, tag);
                        copies += 1;
                    }
                }
                (copies, skipped)
            })
        })
        .collect();
    let mut total = 0;
    for r in readers {
        let (copies, skipped) = r.join().unwrap();
        println!("reader: {copies} slot copies checked, {skipped} skipped mid-write");
        total += copies;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let n = w.join().unwrap();
        assert!(n > 100, "writer published only {n} rounds");
    }
    assert!(
        total >= 2 * COPIES_PER_READER,
        "readers checked only {total} copies"
    );
}

#[test]
fn claim_and_release_churn_while_readers_iterate() {
    let reg = leaked(32);
    let stop = Arc::new(AtomicBool::new(false));
    // Each churner claims a slot, names it after a unique tag, publishes, and drops it again.
    let churners: Vec<_> = (0..4u64)
        .map(|c| {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut rounds = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    rounds += 1;
                    let tag = c << 40 | rounds;
                    let h = reg.claim(&format!("stem-{tag}"), NameSource::Host).unwrap();
                    for n in 1..=3 {
                        h.publish(&reading(tag, n));
                    }
                    drop(h);
                }
                rounds
            })
        })
        .collect();
    // Long-lived stems next to the churn.
    let steady: Vec<_> = (0..8u64)
        .map(|i| {
            reg.claim(&format!("stem-{}", 1000 + i), NameSource::Label)
                .unwrap()
        })
        .collect();
    for (i, h) in steady.iter().enumerate() {
        h.publish(&reading(1000 + i as u64, 5));
    }
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut out = Vec::with_capacity(reg.capacity());
    let mut copies = 0u64;
    while Instant::now() < deadline {
        reg.read_into(&mut out);
        let mut steady_seen = 0;
        for e in &out {
            let tag: u64 = e.name.as_str()["stem-".len()..].parse().unwrap();
            // A just-claimed slot shows its empty first reading until the owner publishes.
            if e.reading.snapshot.blocks != 0 {
                check(&e.reading, tag);
            }
            steady_seen += usize::from((1000..1008).contains(&tag));
            copies += 1;
        }
        assert_eq!(steady_seen, 8, "a steady stem vanished during the churn");
    }
    stop.store(true, Ordering::Relaxed);
    for c in churners {
        let rounds = c.join().unwrap();
        assert!(rounds > 100, "churner ran only {rounds} rounds");
    }
    drop(steady);
    assert!(
        reg.entries().is_empty(),
        "slots left claimed after every owner dropped"
    );
    println!("{copies} slot copies checked during churn");
}
