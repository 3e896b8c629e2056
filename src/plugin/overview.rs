//! The master's view of the registry: every other live stem, named and timed. The report
//! (`build_report`) puts them in order; the editor and the report thread both draw from it.

use crate::registry::{Entry, Liveness, Registry, Role, STALE_AFTER};
use crate::report::BusInput;
use std::time::Instant;

/// What the master sees of the other instances.
#[derive(Clone, Debug, Default)]
pub struct StemList {
    /// Every stem (role Stem) but this instance, in slot order.
    pub stems: Vec<BusInput>,
    /// Other instances whose role is also Master (they are not stems; more than one master
    /// is shown as a problem).
    pub other_masters: usize,
    /// The claim generation of each of `stems`, to match them with the sum-check's stems.
    pub generations: Vec<u64>,
}

/// Reads the registry for a master; keeps its buffers and the heartbeat timing between reads.
pub struct Overview {
    registry: &'static Registry,
    entries: Vec<Entry>,
    liveness: Liveness,
}

impl Overview {
    /// A view of `registry`.
    pub fn new(registry: &'static Registry) -> Self {
        Self {
            registry,
            entries: Vec::with_capacity(registry.capacity()),
            liveness: Liveness::new(registry.capacity(), STALE_AFTER),
        }
    }

    /// The claim generation of `slot` at the last [`Overview::read`], if it was live then.
    pub fn generation_of(&self, slot: usize) -> Option<u64> {
        self.entries
            .iter()
            .find(|e| e.slot == slot)
            .map(|e| e.generation)
    }

    /// Reads every live slot but `own_slot` at `now`.
    pub fn read(&mut self, own_slot: Option<usize>, now: Instant) -> StemList {
        self.registry.read_into(&mut self.entries);
        let mut list = StemList::default();
        for entry in &self.entries {
            let alive = self.liveness.observe(entry, now);
            if Some(entry.slot) == own_slot {
                continue;
            }
            if entry.reading.role() == Role::Master {
                list.other_masters += 1;
                continue;
            }
            let mut bus = BusInput::new(
                entry.display_name(),
                Some(entry.slot),
                alive,
                entry.reading.snapshot,
            );
            bus.note = super::notes_board::read(entry.slot, entry.generation);
            list.stems.push(bus);
            list.generations.push(entry.generation);
        }
        list
    }
}
