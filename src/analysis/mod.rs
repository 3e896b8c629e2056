//! The sum-check analysis core: do the stems, summed, give back the master?
//!
//! Framework-free (no plugin or GUI types), so the plugin's master instance and an offline
//! checker feed the same code. Push aligned chunks of the master's and every stem's audio
//! into a [`SumCheck`]; read [`SumFigures`]: null depth at unity and with fitted gains,
//! per-stem per-channel gains and polarity, each stem's offset to the sample, the master
//! energy no stem explains, and how much the stems cancel each other. See
//! [`sum_check`] for the design (bounded memory, offsets estimated before the fit).

mod align;
pub mod config;
pub mod coverage;
pub mod dynamics;
pub mod figures;
mod history;
mod lag;
mod level_bins;
pub mod master_processing;
mod normal_equations;
pub mod session;
mod solve;
pub mod sum_check;

pub use config::SumCheckConfig;
pub use coverage::{Coverage, HostRender, RenderMode, Unchecked};
pub use dynamics::{DynamicsDetector, DynamicsFeatures, DynamicsResult, DynamicsVerdict};
pub use figures::{StemFit, SumFigures};
pub use master_processing::{MasterProcessing, MasterProcessingFeatures, MasterProcessingResult};
pub use sum_check::SumCheck;

/// The channel of a stem with `stem_channels` channels that feeds master channel `ch`:
/// a mono stem feeds every master channel, otherwise channel for channel, the stem's last
/// channel feeding any master channel beyond it.
fn stem_channel(stem_channels: usize, ch: usize) -> usize {
    ch.min(stem_channels.saturating_sub(1))
}
