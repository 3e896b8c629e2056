//! Stemcheck: stem-export metering.
pub mod dsp;
pub mod sync;
