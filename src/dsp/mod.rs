//! Signal analysis with no plugin-framework types: usable from the plugin, tests and tools.

pub mod bus_meter;
pub mod channel_meter;
pub mod correlation;
pub mod events;
pub mod interpolator;
pub mod level;
pub mod loudness;
pub mod pass;
pub mod peak_refine;
pub mod rates;
pub mod session_facts;
pub mod simd;
pub mod snapshot;
pub mod timeline;
pub mod tone;
pub mod true_peak;
