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

use std::sync::atomic::{fence, AtomicU64, Ordering};

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
        let words = (0..std::mem::size_of::<T>() / 8)
            .map(|_| AtomicU64::new(0))
            .collect();
        let lock = Self {
            seq: AtomicU64::new(0),
            words,
            _value: std::marker::PhantomData,
        };
        lock.write(value);
        lock
    }

    /// Publishes `value`. Only one thread may write (the owner of the value).
    pub fn write(&self, value: T) {
        let seq = self.seq.load(Ordering::Relaxed);
        // Odd: a write is in progress. The Release fence below keeps the data stores after it.
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        let bytes = bytemuck::bytes_of(&value);
        for (word, chunk) in self.words.iter().zip(bytes.chunks_exact(8)) {
            let v = u64::from_ne_bytes(chunk.try_into().expect("8-byte chunk"));
            word.store(v, Ordering::Relaxed);
        }
        // Even again; Release publishes the data stores above with it.
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Tries to copy a consistent value; `None` after `attempts` overlapping writes.
    pub fn try_read(&self, attempts: usize) -> Option<T> {
        for _ in 0..attempts {
            // Acquire pairs with the writer's final Release store.
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
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
}

#[cfg(test)]
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
}
