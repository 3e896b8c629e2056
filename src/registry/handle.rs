//! The owner's side of a slot: publish, name, release on drop.

use super::slot::{NameRecord, NameSource, Slot, SlotReading};
use super::table::Registry;
use super::tap::AudioTap;
use std::sync::Arc;

/// An instance's claim on one slot. Dropping it releases the slot.
pub struct SlotHandle {
    registry: &'static Registry,
    index: usize,
    generation: u64,
}

impl SlotHandle {
    pub(super) fn new(registry: &'static Registry, index: usize, generation: u64) -> Self {
        Self {
            registry,
            index,
            generation,
        }
    }

    fn slot(&self) -> &Slot {
        self.registry.slot(self.index)
    }

    /// The slot's index in the table.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The generation of this claim.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The name of an instance nobody named: "Stem 3" for slot index 2.
    pub fn default_name(&self) -> String {
        super::slot::default_name(self.index)
    }

    /// Publishes this block's reading. Audio thread only (the single writer of the reading):
    /// wait-free, no allocation, no system call.
    pub fn publish(&self, reading: &SlotReading) {
        self.slot().reading.write(*reading);
    }

    /// Publishes this instance's audio tap (or withdraws it with `None`). Never from the
    /// audio thread. A reader holding the old tap keeps it alive until it lets go.
    pub fn set_tap(&self, tap: Option<Arc<AudioTap>>) {
        self.slot().swap_tap(tap);
    }

    /// Publishes the display name. Never from the audio thread (two naming threads may meet).
    pub fn set_name(&self, name: &str, source: NameSource) {
        self.slot().name.write_shared(NameRecord::new(name, source));
    }
}

impl Drop for SlotHandle {
    fn drop(&mut self) {
        // Withdraw the tap first, so no reader of a later owner's generation can find it.
        self.slot().swap_tap(None);
        self.slot().state.release(self.generation);
    }
}

impl std::fmt::Debug for SlotHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotHandle")
            .field("index", &self.index)
            .field("generation", &self.generation)
            .finish()
    }
}
