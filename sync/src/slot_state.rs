//! The life cycle of a registry slot in one atomic word: `generation << 2 | phase`.
//!
//! Phases: `FREE` → (claim) `CLAIMING` → (open) `LIVE` → (release) `FREE`. Each claim starts a
//! new generation, so a reader can tell a reused slot from its previous owner.
//!
//! Protocol:
//!
//! * Owner: [`SlotState::try_claim`] moves `FREE(g)` to `CLAIMING(g + 1)` with a
//!   compare-and-swap (AcqRel: Acquire so that the previous owner's last stores happen before
//!   ours, Release is harmless). While `CLAIMING`, no reader looks at the slot's records, so the
//!   owner writes its initial records there; [`SlotState::open`] then stores `LIVE(g + 1)` with
//!   Release, which publishes those records with it. [`SlotState::release`] stores `FREE(g + 1)`
//!   with Release once the owner has stopped writing.
//! * Reader: [`SlotState::live_generation`] loads the word with Acquire (pairs with `open`, so
//!   the initial records are visible) and yields `g` if the phase is `LIVE`; the reader copies
//!   the records (each through its own sequence lock); [`SlotState::still_live`] then issues an
//!   Acquire fence and reloads the word: if it still reads `LIVE(g)`, every record copied was
//!   written by generation `g`'s owner. A record written by a later owner carries a sequence
//!   number stored after that owner's claim, and the sequence lock's Acquire load of it makes
//!   that claim visible to the reload, which then cannot read `LIVE(g)` any more.
//!
//! Every operation is a handful of atomic instructions: no lock, no allocation, no system call.
//! Generations wrap after 2^62 claims of one slot, which no session reaches.

use crate::atomic::{fence, AtomicU64, Ordering};

const PHASE_MASK: u64 = 0b11;
const FREE: u64 = 0;
const CLAIMING: u64 = 1;
const LIVE: u64 = 2;

/// A slot's phase and generation.
pub struct SlotState {
    word: AtomicU64,
}

impl Default for SlotState {
    fn default() -> Self {
        Self::new()
    }
}

impl SlotState {
    /// A free slot at generation 0.
    pub fn new() -> Self {
        Self {
            word: AtomicU64::new(FREE),
        }
    }

    /// Claims a free slot: returns the new generation, or `None` if the slot is taken.
    pub fn try_claim(&self) -> Option<u64> {
        let current = self.word.load(Ordering::Relaxed);
        if current & PHASE_MASK != FREE {
            return None;
        }
        let generation = (current >> 2).wrapping_add(1);
        self.word
            .compare_exchange(
                current,
                generation << 2 | CLAIMING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| generation)
    }

    /// Makes a claimed slot visible to readers (after its initial records are written).
    pub fn open(&self, generation: u64) {
        debug_assert_eq!(
            self.word.load(Ordering::Relaxed),
            generation << 2 | CLAIMING
        );
        // Release: the records written while claiming are visible to a reader that sees LIVE.
        self.word.store(generation << 2 | LIVE, Ordering::Release);
    }

    /// Frees the slot (the owner has stopped writing its records).
    pub fn release(&self, generation: u64) {
        // Release: the owner's last record stores happen before the next claim (AcqRel there).
        self.word.store(generation << 2 | FREE, Ordering::Release);
    }

    /// The generation of the owner if the slot is live.
    pub fn live_generation(&self) -> Option<u64> {
        // Acquire pairs with `open`: the initial records are visible from here on.
        let word = self.word.load(Ordering::Acquire);
        (word & PHASE_MASK == LIVE).then_some(word >> 2)
    }

    /// After copying a slot's records: whether they all belong to `generation`'s owner.
    pub fn still_live(&self, generation: u64) -> bool {
        // The fence keeps the record loads above from moving below this reload.
        fence(Ordering::Acquire);
        self.word.load(Ordering::Relaxed) == generation << 2 | LIVE
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn life_cycle_and_generations() {
        let s = SlotState::new();
        assert_eq!(s.live_generation(), None);
        let g = s.try_claim().expect("free slot");
        assert_eq!(g, 1);
        assert_eq!(s.try_claim(), None, "claimed twice");
        assert_eq!(s.live_generation(), None, "visible before open");
        s.open(g);
        assert_eq!(s.live_generation(), Some(1));
        assert!(s.still_live(1));
        s.release(g);
        assert!(!s.still_live(1));
        assert_eq!(s.live_generation(), None);
        let g2 = s.try_claim().expect("free again");
        assert_eq!(g2, 2, "a reused slot gets a new generation");
        s.open(g2);
        assert!(!s.still_live(1), "the old owner's generation is gone");
        assert!(s.still_live(2));
    }
}
