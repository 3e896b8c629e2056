//! A single-writer sequence lock over an array of words that the writer may update in part:
//! a long record (a pass timeline of a thousand bins) of which a block changes one or two
//! words, so the writer stores only those, and a reader still copies all of it consistently.
//!
//! The protocol is [`crate::seqlock`]'s: the writer makes `seq` odd (Relaxed store, then a
//! Release fence so no word store becomes visible before it), stores the changed words
//! Relaxed, and makes `seq` even with a Release store. A reader loads `seq` with Acquire
//! (retrying while odd), copies every word Relaxed, issues an Acquire fence, and accepts the
//! copy only when `seq` is unchanged. Words the writer did not store keep their previous
//! publication's value, which is exactly the value of the new publication there, so an
//! accepted copy is always one whole publication.

use crate::atomic::{fence, spin, AtomicU64, Ordering};

/// An array of `len` words, one writer, any number of readers.
pub struct SeqArray {
    seq: AtomicU64,
    words: Box<[AtomicU64]>,
}

/// What a writer may do inside [`SeqArray::write`]: store words.
pub struct WordWriter<'a> {
    words: &'a [AtomicU64],
}

impl WordWriter<'_> {
    /// Stores `value` at `index` (ignored when out of range).
    #[inline]
    pub fn set(&self, index: usize, value: u64) {
        if let Some(word) = self.words.get(index) {
            // Relaxed: ordered by the sequence number's fence and Release store around it.
            word.store(value, Ordering::Relaxed);
        }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the array has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

impl SeqArray {
    /// An array of `len` zero words (allocates; make it before the audio thread runs).
    pub fn new(len: usize) -> Self {
        Self {
            seq: AtomicU64::new(0),
            words: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the array has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// One publication: `update` stores the words that changed. Only one thread may write.
    /// Wait-free: no allocation, no lock, no system call.
    pub fn write(&self, update: impl FnOnce(&WordWriter<'_>)) {
        let seq = self.seq.load(Ordering::Relaxed);
        // Odd: a write is in progress. The Release fence keeps the word stores after it.
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        update(&WordWriter { words: &self.words });
        // Even again; Release publishes the word stores above with it.
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Copies one whole publication into `out` (its first `len` words); false after
    /// `attempts` copies that a write overlapped.
    pub fn try_read_into(&self, out: &mut [u64], attempts: usize) -> bool {
        for _ in 0..attempts {
            // Acquire pairs with the writer's final Release store.
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                spin();
                continue;
            }
            for (o, word) in out.iter_mut().zip(self.words.iter()) {
                *o = word.load(Ordering::Relaxed);
            }
            // Keeps the word loads above from being reordered after the check below.
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return true;
            }
        }
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_keep_the_other_words() {
        let a = SeqArray::new(4);
        a.write(|w| {
            (0..4).for_each(|i| w.set(i, 7));
            w.set(9, 1);
        });
        a.write(|w| w.set(2, 9));
        let mut out = [0; 4];
        assert!(a.try_read_into(&mut out, 1));
        assert_eq!(out, [7, 7, 9, 7]);
    }
}
