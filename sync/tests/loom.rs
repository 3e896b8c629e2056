//! Model checks of the publication protocols: loom runs every test body under every
//! interleaving (and every weak-memory outcome it models) of its threads.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p stemcheck-sync --test loom --release`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use stemcheck_sync::seq_array::SeqArray;
use stemcheck_sync::seqlock::SeqLock;
use stemcheck_sync::slot_state::SlotState;

/// A record whose two halves must always agree.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Record {
    owner: u64,
    value: u64,
}

fn record(owner: u64, value: u64) -> Record {
    Record { owner, value }
}

/// Runs `f` under loom. Every actor of a test runs in a thread spawned inside the model (the
/// model's main thread only joins them): loom did not explore the interleavings of work done
/// on the main thread itself, and with stores made there before the spawn it let a later load
/// read a value older than one that happens before it (so `SeqLock::new` stores nothing).
/// Loom also remembers only the last 7 stores of each atomic, so each test stays within that
/// (a sequence lock spends 2 per write).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // Bounding preemptions keeps the search finite and fast; 3 covers the overlaps that matter
    // (a read straddling one or two writes).
    builder.preemption_bound = Some(3);
    builder.check(f);
}

#[test]
fn seqlock_reader_never_sees_a_torn_value() {
    model(|| {
        let lock = Arc::new(SeqLock::new(record(0, 0)));
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                lock.write(record(1, 10));
                lock.write(record(2, 20));
            })
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || {
                if let Some(r) = lock.try_read(3) {
                    assert_eq!(r.value, r.owner * 10, "torn read: {r:?}");
                }
            })
        };
        writer.join().unwrap();
        reader.join().unwrap();
        let last = lock.try_read(1).expect("no writer left");
        assert_eq!((last.owner, last.value), (2, 20));
    });
}

#[test]
fn shared_writers_exclude_each_other() {
    model(|| {
        let lock = Arc::new(SeqLock::new(record(0, 0)));
        let writers: Vec<_> = [1, 2]
            .into_iter()
            .map(|owner| {
                let lock = lock.clone();
                thread::spawn(move || lock.write_shared(record(owner, owner * 10)))
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let last = lock.try_read(1).expect("no writer left");
        assert_eq!(
            last.value,
            last.owner * 10,
            "two writers interleaved: {last:?}"
        );
        assert!(last.owner == 1 || last.owner == 2);
    });
}

#[test]
fn a_reader_accepts_only_records_of_the_live_generation() {
    model(|| {
        let state = Arc::new(SlotState::new());
        let records = Arc::new(SeqLock::new(record(0, 0)));
        let owners = {
            let (state, records) = (state.clone(), records.clone());
            thread::spawn(move || {
                // First owner: claim, write, open, release.
                let g = state.try_claim().expect("free");
                records.write(record(g, g * 10));
                state.open(g);
                state.release(g);
                // The slot is reused by a second owner with other records.
                let g2 = state.try_claim().expect("free again");
                records.write(record(g2, g2 * 10));
                state.open(g2);
            })
        };
        let reader = {
            let (state, records) = (state.clone(), records.clone());
            thread::spawn(move || {
                if let Some(g) = state.live_generation() {
                    if let Some(r) = records.try_read(2) {
                        if state.still_live(g) {
                            assert_eq!(r.owner, g, "accepted another owner's record");
                            assert_eq!(r.value, g * 10);
                        }
                    }
                }
            })
        };
        owners.join().unwrap();
        reader.join().unwrap();
        assert_eq!(state.live_generation(), Some(2));
    });
}

#[test]
fn seq_array_reader_sees_whole_publications_of_partial_writes() {
    model(|| {
        let array = Arc::new(SeqArray::new(3));
        let writer = {
            let array = array.clone();
            thread::spawn(move || {
                // Word 0 is a generation, words 1 and 2 must always equal it; the second
                // write changes only some words.
                array.write(|w| {
                    w.set(0, 1);
                    w.set(1, 1);
                    w.set(2, 1);
                });
                array.write(|w| {
                    w.set(0, 2);
                    w.set(2, 2);
                    w.set(1, 2);
                });
            })
        };
        let reader = {
            let array = array.clone();
            thread::spawn(move || {
                let mut out = [0; 3];
                if array.try_read_into(&mut out, 3) {
                    assert!(out[1] == out[0] && out[2] == out[0], "torn read: {out:?}");
                }
            })
        };
        writer.join().unwrap();
        reader.join().unwrap();
    });
}
