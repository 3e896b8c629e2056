//! Hands the pass timeline from the audio thread to the editor: a [`SeqArray`] of a few
//! header words and one word per bin. The audio thread stores only the bins a block changed
//! (all of them after a merge or a new pass), so publishing costs O(1) per block; the editor
//! copies the whole array when it paints.

use crate::dsp::snapshot::NO_POSITION;
use crate::dsp::timeline::{Bin, PassTimeline, BINS};
use crate::sync::seq_array::SeqArray;

const ORIGIN: usize = 0;
const BIN_LEN: usize = 1;
const USED: usize = 2;
const HEADER: usize = 3;

/// A copy of the timeline for drawing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineCopy {
    /// Song position where the first bin starts; `None` before the pass began.
    pub origin: Option<i64>,
    /// Samples per bin.
    pub bin_len: i64,
    /// The bins that may hold data, from the pass's start.
    pub bins: Vec<Bin>,
}

/// The published timeline (one per instance).
pub struct TimelineShare {
    words: SeqArray,
}

impl Default for TimelineShare {
    fn default() -> Self {
        let words = SeqArray::new(HEADER + BINS);
        // Before the pass began there is no origin (made before any reader or writer runs).
        words.write(|w| w.set(ORIGIN, NO_POSITION as u64));
        Self { words }
    }
}

/// The audio thread's side: what it last published, to send only what changed.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimelineWriter {
    generation: Option<u64>,
    used: usize,
}

impl TimelineWriter {
    /// Publishes what changed in `timeline` since the last call. Real-time safe.
    pub fn publish(&mut self, share: &TimelineShare, timeline: &mut PassTimeline) {
        let dirty = timeline.take_dirty();
        let all = self.generation != Some(timeline.generation());
        let used = timeline.used();
        if !all && dirty >= used && used == self.used {
            return;
        }
        let from = if all { 0 } else { dirty };
        // After a clear or merge, bins past the new end may still hold old data: zero them.
        let to = if all { used.max(self.used) } else { used };
        let bins = timeline.bins();
        share.words.write(|w| {
            for (i, bin) in bins.iter().enumerate().take(to).skip(from) {
                w.set(HEADER + i, bin.to_word());
            }
            w.set(ORIGIN, timeline.origin().unwrap_or(NO_POSITION) as u64);
            w.set(BIN_LEN, timeline.bin_len() as u64);
            w.set(USED, used as u64);
        });
        self.generation = Some(timeline.generation());
        self.used = used;
    }
}

impl TimelineShare {
    /// A consistent copy, or `None` when the audio thread kept writing over every attempt.
    pub fn read(&self) -> Option<TimelineCopy> {
        let mut words = vec![0u64; HEADER + BINS];
        if !self.words.try_read_into(&mut words, 8) {
            return None;
        }
        let origin = words[ORIGIN] as i64;
        let used = (words[USED] as usize).min(BINS);
        Some(TimelineCopy {
            origin: (origin != NO_POSITION).then_some(origin),
            bin_len: (words[BIN_LEN] as i64).max(1),
            bins: words[HEADER..HEADER + used]
                .iter()
                .map(|&w| Bin::from_word(w))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_follows_the_timeline_through_merges_and_clears() {
        let share = TimelineShare::default();
        let mut writer = TimelineWriter::default();
        let mut t = PassTimeline::new();
        assert_eq!(share.read().unwrap().origin, None);
        let mut pos = 0;
        for k in 0..3000 {
            t.record(pos, 512, (k % 100) as f32 / 100.0, 0);
            writer.publish(&share, &mut t);
            pos += 512;
            if k % 97 == 0 {
                let copy = share.read().unwrap();
                assert_eq!(copy.bins, &t.bins()[..t.used()], "block {k}");
                assert_eq!((copy.origin, copy.bin_len), (t.origin(), t.bin_len()));
            }
        }
        t.clear();
        t.record(100, 512, 0.5, 0);
        writer.publish(&share, &mut t);
        let copy = share.read().unwrap();
        assert_eq!(copy.origin, Some(100));
        assert_eq!(copy.bins.len(), 1);
    }
}
