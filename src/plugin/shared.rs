//! State shared between the audio thread and the editor, all lock-free.

use crate::dsp::snapshot::MeterSnapshot;
use crate::sync::seqlock::SeqLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the audio thread publishes and the editor reads (and the reset request going back).
pub struct Shared {
    /// The latest meter readings, written once per block by the audio thread.
    pub snapshot: SeqLock<MeterSnapshot>,
    reset_requested: AtomicBool,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            snapshot: SeqLock::new(MeterSnapshot::default()),
            reset_requested: AtomicBool::new(false),
        }
    }
}

impl Shared {
    /// Asks the audio thread to reset the meters before its next block.
    pub fn request_reset(&self) {
        // Relaxed is enough: the flag carries no data; the audio thread only needs to see it
        // eventually, and the meters it clears are its own.
        self.reset_requested.store(true, Ordering::Relaxed);
    }

    /// Takes a pending reset request (audio thread).
    pub fn take_reset_request(&self) -> bool {
        self.reset_requested.swap(false, Ordering::Relaxed)
    }
}
