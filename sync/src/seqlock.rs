//! A single-writer sequence lock over a plain-old-data value, built from atomics only.
//!
//! Protocol (after Boehm, "Can seqlocks get along with programming language memory models?"):
//!
//! * Writer: bump `seq` to odd (Relaxed store), then a Release fence so that no data store can
//!   become visible before the odd value; store every word Relaxed; finally store `seq` + 2
//!   (even) with Release, which orders the data stores before it.
//! * Reader: load `seq` with Acquire (retry while odd); load every word Relaxed; an Acquire
//!   fence keeps those loads from moving below the second `seq` load (Relaxed); accept only if
//!   the two `seq` values are equal. Equal even values mean no write overlapped the reads, so
//!   the words are one publication: never a torn value.
//!
//! The writer never waits (wait-free, O(size) stores, no allocation, no system call). A reader
//! retries only while a write overlaps its copy; [`SeqLock::read`] bounds its retries and then
//! reports `None` rather than spin on a writer that publishes non-stop.
//!
//! Values written from more than one thread (a name that the main thread and the GUI thread
//! may both set, never the audio thread) go through [`SeqLock::write_shared`] instead: the
//! writer takes the odd sequence number with a compare-and-swap, so two such writers exclude
//! each other while readers stay exactly as above. One lock uses one of the two write paths,
//! never both.

use crate::atomic::{fence, spin, AtomicU64, Ordering};

/// Holds one `T` for one writer and any number of readers.
pub struct SeqLock<T: bytemuck::Pod> {
    seq: AtomicU64,
    words: Box<[AtomicU64]>,
    _value: std::marker::PhantomData<T>,
}

impl<T: bytemuck::Pod> SeqLock<T> {
    /// A lock holding `value`. Panics unless `T`'s size is a multiple of 8 bytes.
    pub fn new(value: T) -> Self {
        assert!(
            std::mem::size_of::<T>().is_multiple_of(8),
            "SeqLock needs a size that is a multiple of 8 bytes"
        );
        // The words start out holding `value`: no store is needed before the lock is shared.
        let words = bytemuck::bytes_of(&value)
            .chunks_exact(8)
            .map(|chunk| AtomicU64::new(u64::from_ne_bytes(chunk.try_into().expect("8 bytes"))))
            .collect();
        Self {
            seq: AtomicU64::new(0),
            words,
            _value: std::marker::PhantomData,
        }
    }

    /// Publishes `value`. Only one thread may write (the owner of the value).
    pub fn write(&self, value: T) {
        let seq = self.seq.load(Ordering::Relaxed);
        // Odd: a write is in progress. The Release fence below keeps the data stores after it.
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.store_words(&value);
        // Even again; Release publishes the data stores above with it.
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Publishes `value` when several threads may write (never from the audio thread: a writer
    /// waits here while another one is mid-write).
    pub fn write_shared(&self, value: T) {
        let mut seq = self.seq.load(Ordering::Relaxed);
        loop {
            if seq % 2 == 1 {
                // Another writer holds the lock.
                spin();
                seq = self.seq.load(Ordering::Relaxed);
                continue;
            }
            // Acquire: the previous writer's data stores happen before ours, so ours land last.
            match self.seq.compare_exchange_weak(
                seq,
                seq.wrapping_add(1),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => seq = now,
            }
        }
        // From here on as in `write`: no data store may become visible before the odd value.
        fence(Ordering::Release);
        self.store_words(&value);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    fn store_words(&self, value: &T) {
        let bytes = bytemuck::bytes_of(value);
        for (word, chunk) in self.words.iter().zip(bytes.chunks_exact(8)) {
            let v = u64::from_ne_bytes(chunk.try_into().expect("8-byte chunk"));
            word.store(v, Ordering::Relaxed);
        }
    }

    /// Tries to copy a consistent value; `None` after `attempts` overlapping writes.
    pub fn try_read(&self, attempts: usize) -> Option<T> {
        for _ in 0..attempts {
            // Acquire pairs with the writer's final Release store.
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                spin();
                continue;
            }
            let mut value = T::zeroed();
            let bytes = bytemuck::bytes_of_mut(&mut value);
            for (word, chunk) in self.words.iter().zip(bytes.chunks_exact_mut(8)) {
                chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
            }
            // Keeps the data loads above from being reordered after the check below.
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return Some(value);
            }
        }
        None
    }

    /// Copies a consistent value, retrying up to a thousand overlapping writes.
    pub fn read(&self) -> Option<T> {
        self.try_read(1000)
    }

    /// Copies a consistent value, waiting until `deadline` for one (never on the audio
    /// thread: it sleeps). [`SeqLock::read`] gives up within microseconds, which is too soon
    /// when the writer was preempted in the middle of a write: the sequence stays odd until the
    /// scheduler runs it again, milliseconds later on a loaded machine. A reader that must see
    /// every value (not merely the latest when there is one) waits it out here, and still ends
    /// at `deadline` should the writer never finish.
    pub fn read_until(&self, deadline: std::time::Instant) -> Option<T> {
        loop {
            if let Some(value) = self.read() {
                return Some(value);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            // Let the preempted writer run (under loom, a spin yields to the other threads).
            #[cfg(not(loom))]
            std::thread::sleep(std::time::Duration::from_micros(50));
            #[cfg(loom)]
            spin();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[repr(C)]
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    struct Pair {
        a: u64,
        b: u64,
        c: [u64; 6],
    }

    #[test]
    fn readers_never_see_a_torn_value() {
        let lock = Arc::new(SeqLock::new(Pair {
            a: 0,
            b: 0,
            c: [0; 6],
        }));
        let writer = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                for i in 1..=200_000u64 {
                    lock.write(Pair {
                        a: i,
                        b: i.wrapping_mul(3),
                        c: [i; 6],
                    });
                }
            })
        };
        let mut seen = 0u64;
        while !writer.is_finished() || seen == 0 {
            if let Some(p) = lock.try_read(10) {
                assert_eq!(p.b, p.a.wrapping_mul(3), "torn read");
                assert!(p.c.iter().all(|&v| v == p.a), "torn read");
                assert!(p.a >= seen, "went back in time");
                seen = p.a;
            }
        }
        writer.join().unwrap();
        assert_eq!(lock.read().unwrap().a, 200_000);
    }

    #[test]
    fn a_reader_waits_out_a_writer_preempted_mid_write() {
        use std::time::{Duration, Instant};
        let lock = Arc::new(SeqLock::new(Pair {
            a: 1,
            b: 3,
            c: [1; 6],
        }));
        // A writer that took the odd sequence number and then lost the CPU, as `write` does
        // between its first and last store.
        lock.seq.store(1, Ordering::Relaxed);
        assert!(lock.read().is_none(), "a bounded read gives up on it");
        let gave_up = Instant::now();
        assert!(
            lock.read_until(gave_up + Duration::from_millis(5))
                .is_none(),
            "a writer that never finishes: the wait ends at its deadline"
        );
        let writer = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                // The rest of the interrupted `write`: its data, then the even number.
                lock.store_words(&Pair {
                    a: 2,
                    b: 6,
                    c: [2; 6],
                });
                lock.seq.store(2, Ordering::Release);
            })
        };
        let p = lock
            .read_until(Instant::now() + Duration::from_secs(10))
            .expect("the value once the writer has finished");
        assert_eq!((p.a, p.b, p.c), (2, 6, [2; 6]), "the finished write, whole");
        writer.join().unwrap();
    }

    #[test]
    fn shared_writers_never_interleave() {
        let lock = Arc::new(SeqLock::new(Pair {
            a: 0,
            b: 0,
            c: [0; 6],
        }));
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for i in 1..=50_000u64 {
                        let v = i * 2 + w;
                        lock.write_shared(Pair {
                            a: v,
                            b: v.wrapping_mul(3),
                            c: [v; 6],
                        });
                    }
                })
            })
            .collect();
        while writers.iter().any(|w| !w.is_finished()) {
            if let Some(p) = lock.try_read(10) {
                assert_eq!(p.b, p.a.wrapping_mul(3), "torn read");
                assert!(p.c.iter().all(|&v| v == p.a), "writers interleaved");
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        let last = lock.read().unwrap();
        assert!(last.c.iter().all(|&v| v == last.a));
    }
}
