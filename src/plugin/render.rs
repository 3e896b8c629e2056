//! What the host says about offline rendering, as far as nice-plug passes it on.
//!
//! CLAP: the host's `render` extension reaches the plugin as [`ProcessMode::Offline`] at
//! activation (nice-plug restarts an active plugin when the mode changes), so it is trusted.
//!
//! VST3: nice-plug 0.4.2 takes the mode only from `IAudioProcessor::setupProcessing`, and the
//! `BufferConfig` it hands to the next activation carries the mode of the *previous* call
//! (it stores the configuration before the new mode); the mode a host gives with every block
//! (`ProcessData::processMode`, the only place Ardour 7 marks its export as `kOffline`) is
//! not passed on at all. So for VST3 the mode is [`HostRender::Unknown`], and the master's
//! analysis infers an offline render from the host running ahead of the wall clock.

use crate::analysis::coverage::HostRender;
use nice_plug::prelude::{PluginApi, ProcessMode};
use std::sync::atomic::{AtomicU8, Ordering};

/// The host's render mode as Stemcheck can know it.
pub fn host_render(api: PluginApi, mode: ProcessMode) -> HostRender {
    match (api, mode) {
        (PluginApi::Vst3, _) => HostRender::Unknown,
        (_, ProcessMode::Offline) => HostRender::Offline,
        _ => HostRender::Realtime,
    }
}

/// Whether an instance's audio thread may wait for the master's analysis: when the host
/// declared an offline render, or when its mode is unknown (then it waits only while a
/// master holds its tap, which the master does only once it has found the host rendering
/// offline).
pub fn may_wait(host: HostRender) -> bool {
    matches!(host, HostRender::Offline | HostRender::Unknown)
}

/// A [`HostRender`] shared between the activation (main thread) and the analysis thread.
#[derive(Debug, Default)]
pub struct SharedHostRender(AtomicU8);

impl SharedHostRender {
    /// Stores the mode of the latest activation.
    pub fn set(&self, host: HostRender) {
        let v = match host {
            HostRender::Realtime => 0,
            HostRender::Offline => 1,
            HostRender::Unknown => 2,
        };
        // Relaxed: a lone value; the analysis thread only needs to see it eventually.
        self.0.store(v, Ordering::Relaxed);
    }

    /// The mode of the latest activation.
    pub fn get(&self) -> HostRender {
        match self.0.load(Ordering::Relaxed) {
            1 => HostRender::Offline,
            2 => HostRender::Unknown,
            _ => HostRender::Realtime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_is_trusted_and_vst3_is_inferred() {
        assert_eq!(
            host_render(PluginApi::Clap, ProcessMode::Offline),
            HostRender::Offline
        );
        assert_eq!(
            host_render(PluginApi::Clap, ProcessMode::Realtime),
            HostRender::Realtime
        );
        assert_eq!(
            host_render(PluginApi::Clap, ProcessMode::Buffered),
            HostRender::Realtime
        );
        for mode in [ProcessMode::Offline, ProcessMode::Realtime] {
            assert_eq!(host_render(PluginApi::Vst3, mode), HostRender::Unknown);
        }
        assert!(!may_wait(HostRender::Realtime));
        assert!(may_wait(HostRender::Offline) && may_wait(HostRender::Unknown));
        let shared = SharedHostRender::default();
        assert_eq!(shared.get(), HostRender::Realtime);
        shared.set(HostRender::Unknown);
        assert_eq!(shared.get(), HostRender::Unknown);
    }
}
