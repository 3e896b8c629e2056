//! The pass as a picture: the bus's peak level over song position, in a fixed number of
//! bins, with the events (clips, true-peak overs, flat tops, NaN/Inf) of each bin.
//!
//! The bins start [`BASE_BIN_LEN`] samples wide at the pass's first position. When the pass
//! outgrows them, neighbouring bins merge (the louder level, both events) and each bin
//! becomes twice as wide, so any pass length fits in the same memory, allocated once, and
//! each block costs O(1) (a merge, at most once per doubling of the pass, costs one walk over
//! the bins).

/// Bins of a timeline: more than any editor draws across.
pub const BINS: usize = 1024;
/// Width of a bin when a pass starts, samples (21 ms at 48 kHz; 1024 of them cover 22 s).
pub const BASE_BIN_LEN: i64 = 1024;

/// Event bit: a sample at or above full scale in the bin.
pub const EVENT_CLIP: u8 = 1;
/// Event bit: a true-peak over in the bin.
pub const EVENT_OVER: u8 = 2;
/// Event bit: a flat-topped run began in the bin.
pub const EVENT_FLAT_TOP: u8 = 4;
/// Event bit: a NaN or infinite sample in the bin.
pub const EVENT_NAN_INF: u8 = 8;
/// Marks a bin that holds data (a bin the transport skipped stays without it).
pub const HAS_DATA: u8 = 128;

/// One bin: its loudest peak (linear) and its events.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bin {
    /// Loudest peak in the bin, linear (the meter's 2x-oversampled peak and the sample peak).
    pub level: f32,
    /// `EVENT_*` bits, and [`HAS_DATA`].
    pub flags: u8,
}

impl Bin {
    fn merge(self, other: Bin) -> Bin {
        Bin {
            level: self.level.max(other.level),
            flags: self.flags | other.flags,
        }
    }

    /// The bin as one word: level bits low, flags above (what the publication carries).
    pub fn to_word(self) -> u64 {
        u64::from(self.level.to_bits()) | (u64::from(self.flags) << 32)
    }

    /// Back from [`Bin::to_word`].
    pub fn from_word(w: u64) -> Bin {
        Bin {
            level: f32::from_bits(w as u32),
            flags: (w >> 32) as u8,
        }
    }

    /// Whether the transport played through this bin.
    pub fn has_data(self) -> bool {
        self.flags & HAS_DATA != 0
    }
}

/// The pass's timeline. Allocates only in [`PassTimeline::new`].
#[derive(Clone, Debug)]
pub struct PassTimeline {
    bins: Vec<Bin>,
    /// Song position of bin 0's start, once the pass has begun.
    origin: Option<i64>,
    bin_len: i64,
    /// Bins up to (not including) this one may hold data.
    used: usize,
    /// Bumped whenever every bin changes (a clear or a merge), so a copy knows to resend all.
    generation: u64,
    /// Lowest bin changed since [`PassTimeline::take_dirty`].
    dirty_from: usize,
}

impl Default for PassTimeline {
    fn default() -> Self {
        Self::new()
    }
}

impl PassTimeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self {
            bins: vec![Bin::default(); BINS],
            origin: None,
            bin_len: BASE_BIN_LEN,
            used: 0,
            generation: 0,
            dirty_from: 0,
        }
    }

    /// Forgets the pass (a reset or a new pass).
    pub fn clear(&mut self) {
        self.bins.fill(Bin::default());
        self.origin = None;
        self.bin_len = BASE_BIN_LEN;
        self.used = 0;
        self.generation += 1;
        self.dirty_from = 0;
    }

    /// Records a block of `len` samples played at song position `pos`: its loudest peak and
    /// its events.
    pub fn record(&mut self, pos: i64, len: usize, level: f32, events: u8) {
        if len == 0 {
            return;
        }
        let origin = *self.origin.get_or_insert(pos);
        let level = if level.is_finite() {
            level.max(0.0)
        } else {
            0.0
        };
        let first = pos - origin;
        let last = first + len as i64 - 1;
        if first < 0 {
            // Before the pass began: a new pass is started by the meter, never seen here.
            return;
        }
        while last / self.bin_len >= BINS as i64 {
            self.merge();
        }
        let (a, b) = (
            (first / self.bin_len) as usize,
            (last / self.bin_len) as usize,
        );
        // Events belong to the block, not to a sample we know: they go to its first bin.
        for (i, bin) in self.bins[a..=b].iter_mut().enumerate() {
            let flags = HAS_DATA | if i == 0 { events } else { 0 };
            *bin = bin.merge(Bin { level, flags });
        }
        self.used = self.used.max(b + 1);
        self.dirty_from = self.dirty_from.min(a);
    }

    /// Halves the resolution: bin i becomes bins 2i and 2i+1 merged.
    fn merge(&mut self) {
        for i in 0..BINS / 2 {
            self.bins[i] = self.bins[2 * i].merge(self.bins[2 * i + 1]);
        }
        self.bins[BINS / 2..].fill(Bin::default());
        self.bin_len *= 2;
        self.used = self.used.div_ceil(2);
        self.generation += 1;
        self.dirty_from = 0;
    }

    /// The bins (all [`BINS`]; those from [`PassTimeline::used`] on hold nothing).
    pub fn bins(&self) -> &[Bin] {
        &self.bins
    }

    /// Song position of the first bin's start; `None` before the pass began.
    pub fn origin(&self) -> Option<i64> {
        self.origin
    }

    /// Samples per bin.
    pub fn bin_len(&self) -> i64 {
        self.bin_len
    }

    /// Bins that may hold data.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Changes whenever every bin changed (clear, merge).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The lowest bin changed since the last call, and resets it (for a partial copy).
    pub fn take_dirty(&mut self) -> usize {
        std::mem::replace(&mut self.dirty_from, self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_land_in_their_bins_with_their_events() {
        let mut t = PassTimeline::new();
        t.record(-2048, 512, 0.5, 0);
        t.record(-1536, 512, 0.25, EVENT_CLIP);
        assert_eq!(t.origin(), Some(-2048));
        assert_eq!(t.bins()[0].level, 0.5);
        assert_eq!(t.bins()[0].flags, HAS_DATA | EVENT_CLIP);
        assert!(!t.bins()[1].has_data());
        assert_eq!(t.used(), 1);
    }

    #[test]
    fn a_long_pass_merges_into_wider_bins_keeping_peaks_and_events() {
        let mut t = PassTimeline::new();
        let block = 480;
        // Ten minutes at 48 kHz, a peak and a clip at 4:00.
        let peak_at = 48_000 * 240;
        let mut pos = 0;
        while pos < 48_000 * 600 {
            let hit = (pos..pos + block).contains(&peak_at);
            t.record(
                pos,
                block as usize,
                if hit { 1.0 } else { 0.1 },
                if hit { EVENT_CLIP } else { 0 },
            );
            pos += block;
        }
        assert!(t.bin_len() * BINS as i64 >= 48_000 * 600);
        assert!(t.used() <= BINS);
        let i = (peak_at / t.bin_len()) as usize;
        assert_eq!(t.bins()[i].level, 1.0);
        assert_ne!(t.bins()[i].flags & EVENT_CLIP, 0);
        let clips = t
            .bins()
            .iter()
            .filter(|b| b.flags & EVENT_CLIP != 0)
            .count();
        assert_eq!(clips, 1);
        assert!(t.bins()[..t.used()].iter().all(|b| b.has_data()));
    }

    #[test]
    fn a_skipped_stretch_stays_empty_and_words_round_trip() {
        let mut t = PassTimeline::new();
        t.record(0, 1024, 0.3, 0);
        t.record(10 * 1024, 1024, 0.3, EVENT_OVER);
        assert!(!t.bins()[5].has_data());
        let b = t.bins()[10];
        assert_eq!(Bin::from_word(b.to_word()), b);
        t.clear();
        assert_eq!(t.used(), 0);
        assert_eq!(t.origin(), None);
    }
}
