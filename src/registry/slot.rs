//! What one registry slot holds: its state word and two records.

use super::tap::AudioTap;
use crate::dsp::snapshot::MeterSnapshot;
use crate::sync::seqlock::SeqLock;
use crate::sync::slot_state::SlotState;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Bytes of UTF-8 a name keeps (longer names are cut at a character boundary).
pub const NAME_BYTES: usize = 64;

/// The name of an instance nobody named: "Stem 3" for slot index 2.
pub fn default_name(slot: usize) -> String {
    format!("Stem {}", slot + 1)
}

/// What an instance is in the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Meters one stem bus.
    Stem,
    /// Sits on the master bus and shows every stem.
    Master,
}

impl Role {
    fn to_u32(self) -> u32 {
        match self {
            Role::Stem => 0,
            Role::Master => 1,
        }
    }

    fn from_u32(v: u32) -> Self {
        if v == 1 {
            Role::Master
        } else {
            Role::Stem
        }
    }
}

/// Where a slot's display name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameSource {
    /// Nothing named it: "Stem 3" after its slot.
    Slot,
    /// The host's track or bus name.
    Host,
    /// The user's label, which overrides the host's name.
    Label,
}

/// A display name as plain bytes, so it can travel through a sequence lock.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct NameRecord {
    bytes: [u8; NAME_BYTES],
    len: u32,
    source: u32,
}

impl Default for NameRecord {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

impl NameRecord {
    /// A record of `name` (cut to [`NAME_BYTES`] at a character boundary).
    pub fn new(name: &str, source: NameSource) -> Self {
        let mut end = name.len().min(NAME_BYTES);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; NAME_BYTES];
        bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
        Self {
            bytes,
            len: end as u32,
            source: match source {
                NameSource::Slot => 0,
                NameSource::Host => 1,
                NameSource::Label => 2,
            },
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        let len = (self.len as usize).min(NAME_BYTES);
        // A record is only ever built by `new` from a `&str` cut at a boundary, but it crosses
        // threads as raw words: fall back to the valid prefix rather than trust it blindly.
        match std::str::from_utf8(&self.bytes[..len]) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&self.bytes[..e.valid_up_to()]).unwrap_or_default(),
        }
    }

    /// Where the name came from.
    pub fn source(&self) -> NameSource {
        match self.source {
            1 => NameSource::Host,
            2 => NameSource::Label,
            _ => NameSource::Slot,
        }
    }
}

/// What the owner's audio thread publishes every block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct SlotReading {
    /// The bus's meter readings (with the heartbeat: block count and transport position).
    pub snapshot: MeterSnapshot,
    role: u32,
    reserved: u32,
}

impl SlotReading {
    /// A reading of `snapshot` by an instance in `role`.
    pub fn new(snapshot: MeterSnapshot, role: Role) -> Self {
        Self {
            snapshot,
            role: role.to_u32(),
            reserved: 0,
        }
    }

    /// The publishing instance's role.
    pub fn role(&self) -> Role {
        Role::from_u32(self.role)
    }
}

/// One slot of the table.
pub(crate) struct Slot {
    pub(crate) state: SlotState,
    pub(crate) name: SeqLock<NameRecord>,
    pub(crate) reading: SeqLock<SlotReading>,
    /// The owner's audio tap, swapped in and out off the audio thread; a replaced tap is
    /// freed through the epoch collector once no reader can still hold its pointer.
    pub(crate) tap: crossbeam_epoch::Atomic<Arc<AudioTap>>,
}

impl Slot {
    /// Replaces the published tap (never on the audio thread: it pins an epoch, which may
    /// allocate the first time a thread does it).
    pub(crate) fn swap_tap(&self, tap: Option<Arc<AudioTap>>) {
        use crossbeam_epoch::{Owned, Shared};
        let guard = crossbeam_epoch::pin();
        let new = match tap {
            Some(tap) => Owned::new(tap).into_shared(&guard),
            None => Shared::null(),
        };
        // AcqRel: Release publishes the new tap's initialised contents to readers that load it
        // (Acquire); Acquire orders our later destruction of the old one after its publication.
        let old = self.tap.swap(new, Ordering::AcqRel, &guard);
        if !old.is_null() {
            // SAFETY: `old` was made by `Owned::new` here and is now unreachable from the
            // slot; readers that loaded it did so under a guard pinned before this swap, and
            // the collector frees it only after all such guards are gone.
            unsafe { guard.defer_destroy(old) };
        }
    }

    /// A counted reference to the published tap, if any.
    pub(crate) fn load_tap(&self) -> Option<Arc<AudioTap>> {
        let guard = crossbeam_epoch::pin();
        // Acquire pairs with the Release of `swap_tap`: the tap's contents are initialised.
        let shared = self.tap.load(Ordering::Acquire, &guard);
        // SAFETY: the pointer is null or came from `Owned::new` in `swap_tap`; the guard keeps
        // it from being freed until we have cloned the Arc inside.
        unsafe { shared.as_ref() }.cloned()
    }

    pub(crate) fn new() -> Self {
        Self {
            state: SlotState::new(),
            name: SeqLock::new(NameRecord::default()),
            reading: SeqLock::new(SlotReading::default()),
            tap: crossbeam_epoch::Atomic::null(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let name = "é".repeat(40); // 80 bytes
        let record = NameRecord::new(&name, NameSource::Label);
        assert_eq!(record.as_str(), "é".repeat(32));
        assert_eq!(record.source(), NameSource::Label);
        assert_eq!(
            NameRecord::new("01_Kick", NameSource::Host).as_str(),
            "01_Kick"
        );
    }
}
