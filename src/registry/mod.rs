//! The in-process registry through which Stemcheck instances see each other.
//!
//! A fixed table of [`CAPACITY`] slots lives in a `static` of the plugin library, made on first
//! use (off the audio thread: the first claim happens when an instance is created). An
//! instance claims a slot when it is created and releases it when it is dropped; every claim
//! starts a new generation, so a reader can tell a reused slot from its previous owner.
//!
//! What a slot publishes, and who writes it:
//!
//! * [`SlotReading`] — the owner's latest meter snapshot and role, written by the owner's audio
//!   thread once per block through a single-writer sequence lock: wait-free, O(1) in the
//!   number of slots, no lock, no allocation, no system call. The snapshot carries the
//!   heartbeat: a block counter and the transport position after the block.
//! * [`NameRecord`] — the display name, written off the audio thread (main or GUI thread)
//!   through the sequence lock's shared-writer path.
//!
//! Memory ordering: the slot's state word follows the claim / open / release protocol of
//! [`crate::sync::slot_state`] (its doc comment has the orderings and why they suffice), and
//! each record follows the sequence-lock protocol of [`crate::sync::seqlock`]. A reader loads
//! the state (Acquire), copies the records, and keeps them only if the state still names the
//! same live generation: then every record it copied was written by that owner and none is
//! torn. Readers never write to a slot, so they never delay a writer.
//!
//! * An [`AudioTap`] — the owner's last ≥ 2.5 s of audio by transport position, written by
//!   its audio thread (see [`tap`] for the protocol). The slot holds a pointer to it that is
//!   swapped only off the audio thread; a replaced or withdrawn tap is freed by the epoch
//!   collector (`crossbeam-epoch`) once no reader still holds it. The master's
//!   [`feed::LiveFeed`] reads every stem's tap by position.
//!
//! Staleness is judged by the reader ([`Liveness`]): a slot whose block counter has not moved
//! for a second is stale. The audio thread does not read a clock.
//!
//! Versioning: the table starts with a [`LayoutHeader`] (magic, layout version, capacity and
//! record sizes). Readers check it before trusting a table, so a table written by another
//! build with another layout is refused rather than misread. Each plugin library has its own
//! table: instances loaded from the same library file see each other.

pub mod feed;
mod handle;
mod liveness;
pub mod pace;
pub mod pressure;
mod slot;
mod table;
pub mod tap;

pub use handle::SlotHandle;
pub use liveness::{Liveness, STALE_AFTER};
pub use pressure::{Backoff, Hold, Pressure};
pub use slot::{default_name, NameRecord, NameSource, Role, SlotReading, NAME_BYTES};
pub use table::{Entry, LayoutHeader, Registry, CAPACITY, LAYOUT_VERSION, READ_PATIENCE};
pub use tap::{AudioTap, TapRange, TapWriter};
