//! Lock-free sharing between the audio thread and its readers. The primitives live in the
//! `stemcheck-sync` crate so that they can be model-checked with loom on their own.

pub use stemcheck_sync::{seq_array, seqlock, slot_state};
