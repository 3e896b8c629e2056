//! Reader-side staleness: a slot whose block counter stops moving is stale after a second.

use super::table::Entry;
use std::time::{Duration, Instant};

/// A stem that has published no block for this long is shown as stale.
pub const STALE_AFTER: Duration = Duration::from_secs(1);

#[derive(Clone, Copy)]
struct Seen {
    generation: u64,
    blocks: u64,
    changed: Instant,
}

/// Remembers, per slot, when its block counter last moved. The audio thread reads no clock;
/// the reader (editor, report writer) times the heartbeat instead. A slot seen for the first
/// time counts as alive from that moment.
pub struct Liveness {
    seen: Vec<Option<Seen>>,
    stale_after: Duration,
}

impl Liveness {
    /// A tracker for a table of `capacity` slots.
    pub fn new(capacity: usize, stale_after: Duration) -> Self {
        Self {
            seen: vec![None; capacity],
            stale_after,
        }
    }

    /// Records `entry` as seen at `now`; returns whether it is alive.
    pub fn observe(&mut self, entry: &Entry, now: Instant) -> bool {
        let Some(cell) = self.seen.get_mut(entry.slot) else {
            return true;
        };
        let blocks = entry.reading.snapshot.blocks;
        match cell {
            Some(seen) if seen.generation == entry.generation => {
                if seen.blocks != blocks {
                    seen.blocks = blocks;
                    seen.changed = now;
                }
                now.saturating_duration_since(seen.changed) < self.stale_after
            }
            _ => {
                *cell = Some(Seen {
                    generation: entry.generation,
                    blocks,
                    changed: now,
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{NameRecord, SlotReading};

    fn entry(generation: u64, blocks: u64) -> Entry {
        let mut reading = SlotReading::default();
        reading.snapshot.blocks = blocks;
        Entry {
            slot: 0,
            generation,
            name: NameRecord::default(),
            reading,
        }
    }

    #[test]
    fn stale_within_a_second_of_the_last_block() {
        let t0 = Instant::now();
        let mut live = Liveness::new(4, STALE_AFTER);
        assert!(live.observe(&entry(1, 10), t0));
        assert!(live.observe(&entry(1, 11), t0 + Duration::from_millis(500)));
        assert!(live.observe(&entry(1, 11), t0 + Duration::from_millis(1400)));
        assert!(!live.observe(&entry(1, 11), t0 + Duration::from_millis(1500)));
        assert!(live.observe(&entry(1, 12), t0 + Duration::from_millis(1600)));
        // A new owner of the slot starts alive, whatever its counter.
        assert!(live.observe(&entry(2, 12), t0 + Duration::from_millis(9000)));
    }
}
