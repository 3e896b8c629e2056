//! Stemcheck: stem-export metering as a CLAP and VST3 plugin.
//!
//! [`dsp`] holds the meters with no plugin-framework types (tests and tools use it directly),
//! [`analysis`] the framework-free sum-check of a master against its stems,
//! [`sync`] the lock-free publication, [`registry`] the table through which instances see each
//! other, [`report`] the sign-off rules and the written report, and [`plugin`] wires them all
//! to nice-plug.

pub mod analysis;
pub mod dsp;
pub mod plugin;
pub mod registry;
pub mod report;
pub mod sync;
#[cfg(test)]
mod test_signal;

pub use plugin::Stemcheck;

nice_plug::nice_export_clap!(plugin::Stemcheck);
nice_plug::nice_export_vst3!(plugin::Stemcheck);
