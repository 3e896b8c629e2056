//! A bus's readings as one plain, fixed-size value: what the audio thread publishes and what
//! the editor (and later the master instance) reads.

use super::events::EventLog;

/// Channels a snapshot carries (the plugin offers mono and stereo buses).
pub const MAX_CHANNELS: usize = 2;
/// Stands for "no position" in the `i64` position fields.
pub const NO_POSITION: i64 = i64::MIN;

/// An [`EventLog`] as plain integers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct EventSnapshot {
    /// Number of events.
    pub count: u64,
    /// Transport position of the first, or [`NO_POSITION`].
    pub first: i64,
    /// Transport position of the last, or [`NO_POSITION`].
    pub last: i64,
}

impl From<EventLog> for EventSnapshot {
    fn from(log: EventLog) -> Self {
        Self {
            count: log.count,
            first: log.first.unwrap_or(NO_POSITION),
            last: log.last.unwrap_or(NO_POSITION),
        }
    }
}

impl EventSnapshot {
    /// Back to optional positions.
    pub fn to_log(self) -> EventLog {
        let pos = |p: i64| (p != NO_POSITION).then_some(p);
        EventLog {
            count: self.count,
            first: pos(self.first),
            last: pos(self.last),
        }
    }
}

/// A bus whose sample peak since reset stays below this (−100 dBFS) counts as silent: dither
/// and denormal noise are no programme.
pub const SILENCE_LINEAR: f32 = 1e-5;

/// Flag bit: the transport was playing during the latest block.
pub const FLAG_PLAYING: u32 = 1;
/// Flag bit: playback jumped forward during the pass.
pub const FLAG_PASS_JUMPED: u32 = 2;
/// Flag bit: the correlation fields hold a value.
pub const FLAG_HAS_CORRELATION: u32 = 4;
/// Flag bit: the instance is not metering (its sample rate is outside the metered range, or
/// the meters stopped after an internal error); audio passes through untouched and every
/// reading stays empty.
pub const FLAG_UNMETERED: u32 = 8;
/// Flag bit: the host bypasses the instance; audio passes through untouched and the readings
/// hold what was measured before the bypass.
pub const FLAG_BYPASSED: u32 = 16;

/// Everything one bus meter shows, levels linear. Plain old data, so it can be copied through
/// a sequence lock word by word.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MeterSnapshot {
    /// Samples at or above full scale (all channels).
    pub clips: EventSnapshot,
    /// Inter-sample peaks above the ceiling (all channels).
    pub true_peak_overs: EventSnapshot,
    /// Flat-top runs (all channels).
    pub flat_tops: EventSnapshot,
    /// NaN or infinite samples seen.
    pub non_finite: u64,
    /// Start of the played range, or [`NO_POSITION`].
    pub pass_start: i64,
    /// End of the played range, or [`NO_POSITION`].
    pub pass_end: i64,
    /// Transport position after the latest block, or [`NO_POSITION`].
    pub position: i64,
    /// Blocks metered since the instance started; changes with every publish.
    pub blocks: u64,
    /// Sample rate of the bus.
    pub sample_rate: f32,
    /// Channels metered (1 or 2).
    pub channels: u32,
    /// Highest |sample| since reset, per channel.
    pub sample_peak: [f32; MAX_CHANNELS],
    /// Decaying sample peak, per channel.
    pub sample_peak_display: [f32; MAX_CHANNELS],
    /// Highest true peak since reset, per channel.
    pub true_peak: [f32; MAX_CHANNELS],
    /// Decaying true peak, per channel.
    pub true_peak_display: [f32; MAX_CHANNELS],
    /// Mean sample value since reset, per channel.
    pub dc_offset: [f32; MAX_CHANNELS],
    /// Stereo correlation over the pass (valid with [`FLAG_HAS_CORRELATION`]).
    pub correlation: f32,
    /// Stereo correlation over about 300 ms.
    pub correlation_recent: f32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Keeps the size a multiple of eight bytes.
    pub reserved: u32,
}

impl MeterSnapshot {
    /// The channels in use, as a range for the per-channel arrays.
    pub fn channel_count(&self) -> usize {
        (self.channels as usize).min(MAX_CHANNELS)
    }

    /// Highest true peak over the channels (linear).
    pub fn max_true_peak(&self) -> f32 {
        self.true_peak[..self.channel_count()]
            .iter()
            .fold(0.0, |m, &v| m.max(v))
    }

    /// Highest sample peak over the channels (linear).
    pub fn max_sample_peak(&self) -> f32 {
        self.sample_peak[..self.channel_count()]
            .iter()
            .fold(0.0, |m, &v| m.max(v))
    }

    /// Whether the bus has been silent since reset (sample peak below −100 dBFS).
    pub fn is_silent(&self) -> bool {
        self.max_sample_peak() < SILENCE_LINEAR
    }

    /// Whether the instance is not metering at all ([`FLAG_UNMETERED`]).
    pub fn is_unmetered(&self) -> bool {
        self.flags & FLAG_UNMETERED != 0
    }

    /// Whether the host bypasses the instance ([`FLAG_BYPASSED`]).
    pub fn is_bypassed(&self) -> bool {
        self.flags & FLAG_BYPASSED != 0
    }

    /// Whether the meters measured the latest block (neither unmetered nor bypassed).
    pub fn is_metering(&self) -> bool {
        self.flags & (FLAG_UNMETERED | FLAG_BYPASSED) == 0
    }

    /// Stereo correlation over the pass, if measured.
    pub fn correlation(&self) -> Option<f32> {
        (self.flags & FLAG_HAS_CORRELATION != 0).then_some(self.correlation)
    }
}
