//! Lock-free publication primitives of Stemcheck, built from atomics only.
//!
//! [`seqlock`] copies a plain-old-data value from one writer to any number of readers without
//! ever blocking the writer, and [`seq_array`] does the same for a long array of which the
//! writer updates a few words at a time; [`slot_state`] is the claim / open / release protocol of a
//! registry slot, with a generation so that a reader can tell a reused slot from its previous
//! owner. Both are model-checked with loom (`tests/loom.rs`).

mod atomic;
pub mod seq_array;
pub mod seqlock;
pub mod slot_state;
