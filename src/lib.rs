//! Stemcheck: stem-export metering.
pub mod dsp;
