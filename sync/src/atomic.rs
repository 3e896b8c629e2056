//! The atomics the primitives use: std's, or loom's when model-checking (`--cfg loom`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Backs off while another thread holds an odd sequence number.
#[inline]
pub(crate) fn spin() {
    // Under loom a spin must yield, or the model checker would explore the loop forever.
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}
