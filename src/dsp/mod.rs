//! Signal analysis with no plugin-framework types: usable from the plugin, tests and tools.

pub mod interpolator;
pub mod simd;
pub mod true_peak;
