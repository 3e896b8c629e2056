//! What an activation keeps: a pass survives what DAWs do around playback.
//!
//! Hosts deactivate and activate plugins around playback without changing anything (Ardour
//! flushes every insert at the end of an export and, with "silence plugins when the transport
//! is stopped", at every stop; a CLAP render-mode change restarts the processor). At the same
//! sample rate and channel count the meter and the audio tap of the previous activation are
//! kept, so the pass's readings and the master's analysis go on; only a new rate or layout
//! starts afresh.

use super::render::may_wait;
use crate::analysis::coverage::HostRender;
use crate::dsp::bus_meter::{BusMeter, MeterSettings, RESUME_TOLERANCE_SECONDS};
use crate::registry::{AudioTap, TapWriter};
use std::sync::Arc;

/// The frames by which a restart may begin before where the pass stopped and still continue
/// it: a quarter of a second, or one host block when that is longer.
pub fn resume_tolerance(sample_rate: f32, max_block: u32) -> usize {
    ((f64::from(sample_rate) * RESUME_TOLERANCE_SECONDS) as usize).max(max_block as usize)
}

/// The ring a waiting tap keeps free: four of the host's largest blocks, at least 8192
/// frames, so stems run a few blocks ahead of the master still hold the start of a render
/// when the master's analysis first looks.
pub fn tap_slack(max_block: u32) -> usize {
    (4 * max_block as usize).max(8192)
}

/// One activation's stream: the rate, layout and block size the host asked for.
#[derive(Clone, Copy, Debug)]
pub struct StreamConfig {
    /// Sample rate, Hz.
    pub sample_rate: f32,
    /// Channels metered.
    pub channels: usize,
    /// Largest block the host will send.
    pub max_block: u32,
    /// What the host said about rendering offline.
    pub host: HostRender,
}

/// The meter and tap of an instance, made or kept by [`Stream::activate`].
#[derive(Default)]
pub struct Stream {
    /// Meters the bus (made in `activate`: allocation is allowed there).
    pub meter: Option<BusMeter>,
    /// Writes the bus's audio into its tap while the transport plays.
    pub tap: Option<TapWriter>,
    /// The master's own tap has been held since the activation.
    held: bool,
}

impl Stream {
    /// Prepares the stream for an activation. Returns the new tap to publish when one was made
    /// (`None`: the previous one is kept, with its readings and pass).
    pub fn activate(
        &mut self,
        config: StreamConfig,
        settings: MeterSettings,
    ) -> Option<Arc<AudioTap>> {
        let tolerance = resume_tolerance(config.sample_rate, config.max_block);
        let same = self.meter.as_ref().is_some_and(|m| {
            m.sample_rate() == config.sample_rate && m.channel_count() == config.channels
        }) && self.tap.is_some();
        let made = if same {
            if let Some(meter) = &mut self.meter {
                meter.stream_restarted();
            }
            None
        } else {
            self.meter = Some(BusMeter::new(config.channels, config.sample_rate, settings));
            // A new tap for a new rate or layout; a master still reading the old one keeps it
            // until it lets go.
            let tap = Arc::new(AudioTap::new(config.channels, config.sample_rate));
            self.tap = Some(TapWriter::new(tap.clone()));
            Some(tap)
        };
        if let Some(meter) = &mut self.meter {
            meter.set_resume_tolerance(tolerance);
        }
        if let Some(tap) = &mut self.tap {
            tap.set_resume_tolerance(tolerance);
            tap.set_slack(tap_slack(config.max_block));
            tap.set_waiting(may_wait(config.host));
        }
        self.held = false;
        made
    }

    /// Audio thread, once per activation while the instance is the master: where it may
    /// wait, holds its own tap until its analysis takes over, so a render that starts right
    /// after the activation loses nothing before the analysis thread first looks.
    pub fn hold_own_tap(&mut self) {
        if !std::mem::replace(&mut self.held, true) {
            if let Some(tap) = &mut self.tap {
                tap.hold_until_read();
            }
        }
    }

    /// The host restarted the stream (`reset`): readings and pass are kept.
    pub fn restart(&mut self) {
        if let Some(meter) = &mut self.meter {
            meter.stream_restarted();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::pass::TransportState;

    fn config(rate: f32, channels: usize) -> StreamConfig {
        StreamConfig {
            sample_rate: rate,
            channels,
            max_block: 512,
            host: HostRender::Realtime,
        }
    }

    #[test]
    fn the_same_stream_keeps_its_readings_and_a_new_one_starts_afresh() {
        let mut s = Stream::default();
        assert!(s
            .activate(config(48_000.0, 2), MeterSettings::default())
            .is_some());
        let loud = vec![0.5f32; 512];
        let play = TransportState {
            playing: true,
            pos_samples: Some(0),
        };
        s.meter.as_mut().unwrap().process(&[&loud, &loud], play);
        let tap = s.tap.as_ref().unwrap().tap().clone();
        assert!(s
            .activate(config(48_000.0, 2), MeterSettings::default())
            .is_none());
        s.restart();
        assert!(Arc::ptr_eq(s.tap.as_ref().unwrap().tap(), &tap), "same tap");
        let snap = s.meter.as_ref().unwrap().snapshot();
        assert_eq!(snap.max_sample_peak(), 0.5, "readings kept");
        assert_eq!((snap.pass_start, snap.pass_end), (0, 512), "pass kept");
        assert!(s
            .activate(config(44_100.0, 2), MeterSettings::default())
            .is_some());
        assert_eq!(s.meter.as_ref().unwrap().snapshot().max_sample_peak(), 0.0);
        assert!(s
            .activate(config(44_100.0, 1), MeterSettings::default())
            .is_some());
        assert_eq!(s.meter.as_ref().unwrap().channel_count(), 1);
        assert_eq!(resume_tolerance(48_000.0, 512), 12_000);
        assert_eq!(resume_tolerance(8_000.0, 4096), 4096);
    }
}
