//! The table of slots: claim, read every live slot, and the layout header.

use super::handle::SlotHandle;
use super::slot::{default_name, NameRecord, NameSource, Slot, SlotReading};
use super::tap::AudioTap;
use crossbeam_utils::CachePadded;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Slots in the process-wide table: 64 live stems are the design load, 256 the guarantee.
pub const CAPACITY: usize = 256;
/// Version of the slot layout. Bump it whenever [`Slot`]'s records, or the audio tap a slot
/// points to, change shape (2: taps carry the reader's back-pressure hold; 3: meter snapshots
/// carry loudness).
pub const LAYOUT_VERSION: u32 = 3;
const MAGIC: u64 = u64::from_le_bytes(*b"STEMCHK\0");
/// How long [`Registry::read_into`] waits, in all, for owners caught in the middle of a write
/// (preempted between its first and last store). A scheduler time slice is a few
/// milliseconds; this covers several on a loaded machine.
pub const READ_PATIENCE: Duration = Duration::from_millis(100);

/// Describes a table's layout, so that a reader can refuse one it would misread.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutHeader {
    /// Always `b"STEMCHK\0"`.
    pub magic: u64,
    /// [`LAYOUT_VERSION`] of the build that made the table.
    pub version: u32,
    /// Number of slots.
    pub capacity: u32,
    /// Size of a name record in bytes.
    pub name_size: u32,
    /// Size of a reading record in bytes.
    pub reading_size: u32,
}

impl LayoutHeader {
    /// The header this build writes.
    pub fn current(capacity: usize) -> Self {
        Self {
            magic: MAGIC,
            version: LAYOUT_VERSION,
            capacity: capacity as u32,
            name_size: std::mem::size_of::<NameRecord>() as u32,
            reading_size: std::mem::size_of::<SlotReading>() as u32,
        }
    }

    /// Whether this build can read a table with this header.
    pub fn is_readable(&self) -> bool {
        let ours = Self::current(self.capacity as usize);
        self.magic == ours.magic
            && self.version == ours.version
            && self.name_size == ours.name_size
            && self.reading_size == ours.reading_size
    }
}

/// One live slot as a reader copied it: all of it from the same owner, none of it torn.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Index of the slot.
    pub slot: usize,
    /// Generation of the owner's claim.
    pub generation: u64,
    /// Display name as published (empty until the owner names itself).
    pub name: NameRecord,
    /// The latest reading.
    pub reading: SlotReading,
}

impl Entry {
    /// The name to show: the published one, or "Stem N" after the slot.
    pub fn display_name(&self) -> String {
        match self.name.as_str() {
            "" => default_name(self.slot),
            name => name.to_owned(),
        }
    }
}

/// The table of slots.
pub struct Registry {
    header: LayoutHeader,
    // Cache-line padding keeps one instance's per-block writes from slowing its neighbours'.
    slots: Box<[CachePadded<Slot>]>,
}

static GLOBAL: OnceLock<Registry> = OnceLock::new();

impl Registry {
    /// A table of `capacity` free slots (the plugin uses [`Registry::global`]; tests make
    /// their own).
    pub fn new(capacity: usize) -> Self {
        Self {
            header: LayoutHeader::current(capacity),
            slots: (0..capacity)
                .map(|_| CachePadded::new(Slot::new()))
                .collect(),
        }
    }

    /// The process-wide table of this plugin library, made on first use.
    pub fn global() -> &'static Registry {
        GLOBAL.get_or_init(|| Registry::new(CAPACITY))
    }

    /// The table's layout header.
    pub fn header(&self) -> LayoutHeader {
        self.header
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn slot(&self, index: usize) -> &Slot {
        &self.slots[index]
    }

    /// Claims a free slot, publishes `name` and an empty reading in it, and opens it to
    /// readers. `None` when every slot is taken. Never call from the audio thread (it scans
    /// the table).
    pub fn claim(&'static self, name: &str, source: NameSource) -> Option<SlotHandle> {
        self.slots.iter().enumerate().find_map(|(index, slot)| {
            let generation = slot.state.try_claim()?;
            // While claiming, no reader looks at the records: reset them for the new owner.
            slot.name.write_shared(NameRecord::new(name, source));
            slot.reading.write(SlotReading::default());
            slot.state.open(generation);
            Some(SlotHandle::new(self, index, generation))
        })
    }

    /// Copies every live slot into `out` (cleared first). With `out`'s capacity at
    /// [`Registry::capacity`] this does not allocate. Off the audio thread only: it may sleep
    /// while an owner finishes a write it was preempted in (up to [`READ_PATIENCE`] in all).
    /// Returns the number of slots skipped because their owner was still mid-write after
    /// that, or changed while being read.
    pub fn read_into(&self, out: &mut Vec<Entry>) -> usize {
        out.clear();
        if !self.header.is_readable() {
            return 0;
        }
        let mut skipped = 0;
        // One deadline for the whole listing: an owner preempted in the middle of publishing
        // is waited for (a stem skipped here would be left out of a pass or a report), but a
        // listing never takes much longer than READ_PATIENCE.
        let deadline = Instant::now() + READ_PATIENCE;
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(generation) = slot.state.live_generation() else {
                continue;
            };
            let (Some(name), Some(reading)) = (
                slot.name.read_until(deadline),
                slot.reading.read_until(deadline),
            ) else {
                skipped += 1;
                continue;
            };
            if slot.state.still_live(generation) {
                out.push(Entry {
                    slot: index,
                    generation,
                    name,
                    reading,
                });
            } else {
                skipped += 1;
            }
        }
        skipped
    }

    /// Whether the owner of claim `generation` still holds `slot` (one atomic load).
    pub fn is_live(&self, slot: usize, generation: u64) -> bool {
        self.slots
            .get(slot)
            .is_some_and(|s| s.state.still_live(generation))
    }

    /// The audio tap of a live slot's owner, if it published one and still owns the slot.
    /// Not for the audio thread (pins an epoch).
    pub fn tap(&self, slot: usize, generation: u64) -> Option<Arc<AudioTap>> {
        if !self.is_live(slot, generation) {
            return None;
        }
        let s = &self.slots[slot];
        let tap = s.load_tap()?;
        // Re-check: the tap we cloned must have been published by this very owner.
        s.state.still_live(generation).then_some(tap)
    }

    /// Every live slot, in slot order.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::with_capacity(self.capacity());
        self.read_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::slot::Role;

    fn leaked(capacity: usize) -> &'static Registry {
        Box::leak(Box::new(Registry::new(capacity)))
    }

    #[test]
    fn claim_publish_release() {
        let reg = leaked(4);
        let a = reg.claim("01_Kick", NameSource::Host).unwrap();
        let b = reg.claim("", NameSource::Slot).unwrap();
        let mut reading = SlotReading::new(Default::default(), Role::Master);
        reading.snapshot.blocks = 7;
        a.publish(&reading);
        let entries = reg.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].display_name(), "01_Kick");
        assert_eq!(entries[0].reading.snapshot.blocks, 7);
        assert_eq!(entries[0].reading.role(), Role::Master);
        assert_eq!(entries[1].display_name(), "Stem 2");
        drop(a);
        let entries = reg.entries();
        assert_eq!(entries.len(), 1, "a released slot disappears at once");
        assert_eq!(entries[0].slot, 1);
        let c = reg.claim("03_Keys", NameSource::Label).unwrap();
        assert_eq!(c.index(), 0, "the freed slot is reused");
        assert_eq!(c.generation(), 2, "with a new generation");
        let entries = reg.entries();
        assert_eq!(
            entries[0].reading.snapshot.blocks, 0,
            "the old reading is gone"
        );
        assert_eq!(entries[0].display_name(), "03_Keys");
        drop(b);
    }

    #[test]
    fn a_full_table_refuses_claims() {
        let reg = leaked(3);
        let held: Vec<_> = (0..3)
            .map(|_| reg.claim("", NameSource::Slot).expect("free slot"))
            .collect();
        assert!(reg.claim("", NameSource::Slot).is_none());
        drop(held);
        assert!(reg.claim("", NameSource::Slot).is_some());
    }

    #[test]
    fn the_global_table_holds_at_least_256() {
        assert!(Registry::global().capacity() >= 256);
        assert!(Registry::global().header().is_readable());
    }

    #[test]
    fn another_layout_is_refused() {
        let mut other = LayoutHeader::current(CAPACITY);
        assert!(other.is_readable());
        other.version += 1;
        assert!(!other.is_readable());
        let mut other = LayoutHeader::current(CAPACITY);
        other.reading_size += 8;
        assert!(!other.is_readable());
        let mut reg = Registry::new(2);
        reg.header.version += 1;
        let reg: &'static Registry = Box::leak(Box::new(reg));
        let _h = reg.claim("x", NameSource::Host).unwrap();
        assert!(
            reg.entries().is_empty(),
            "a table of another layout is not read"
        );
    }
}
