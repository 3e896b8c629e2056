//! A bus's readings as one plain, fixed-size value: what the audio thread publishes and what
//! the editor (and later the master instance) reads.

use super::events::EventLog;
use super::level::to_db;
use super::loudness::LoudnessReadings;

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

/// [`LoudnessSnapshot::valid`] bit: `momentary_lufs` holds a reading.
pub const LOUDNESS_MOMENTARY: u32 = 1;
/// [`LoudnessSnapshot::valid`] bit: `short_term_lufs` holds a reading.
pub const LOUDNESS_SHORT_TERM: u32 = 2;
/// [`LoudnessSnapshot::valid`] bit: `max_momentary_lufs` holds a reading.
pub const LOUDNESS_MAX_MOMENTARY: u32 = 4;
/// [`LoudnessSnapshot::valid`] bit: `max_short_term_lufs` holds a reading.
pub const LOUDNESS_MAX_SHORT_TERM: u32 = 8;
/// [`LoudnessSnapshot::valid`] bit: `integrated_lufs` holds a reading.
pub const LOUDNESS_INTEGRATED: u32 = 16;
/// [`LoudnessSnapshot::valid`] bit: `lra_lu` holds a reading.
pub const LOUDNESS_RANGE: u32 = 32;

/// Seconds after a reset during which EBU Tech 3341 asks a meter to flag its loudness range
/// as not yet stable.
pub const LRA_SETTLING_SECONDS: f32 = 60.0;

/// A bus's loudness (BS.1770 / EBU R 128) as plain values. A value whose `valid` bit is clear
/// is no reading (silence, or every block gated) and holds 0; read them through the methods.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LoudnessSnapshot {
    /// Momentary loudness, the last 400 ms, LUFS.
    pub momentary_lufs: f32,
    /// Short-term loudness, the last 3 s, LUFS.
    pub short_term_lufs: f32,
    /// Highest momentary loudness since reset, LUFS.
    pub max_momentary_lufs: f32,
    /// Highest short-term loudness since reset, LUFS.
    pub max_short_term_lufs: f32,
    /// Integrated loudness since reset (gated per BS.1770), LUFS.
    pub integrated_lufs: f32,
    /// Loudness range since reset (EBU Tech 3342), LU.
    pub lra_lu: f32,
    /// Seconds metered since reset.
    pub seconds: f32,
    /// `LOUDNESS_*` bits: which values hold a reading.
    pub valid: u32,
}

impl From<LoudnessReadings> for LoudnessSnapshot {
    fn from(r: LoudnessReadings) -> Self {
        let mut s = Self {
            seconds: r.seconds,
            ..Default::default()
        };
        let values = [
            (r.momentary, LOUDNESS_MOMENTARY, &mut s.momentary_lufs),
            (r.short_term, LOUDNESS_SHORT_TERM, &mut s.short_term_lufs),
            (
                r.max_momentary,
                LOUDNESS_MAX_MOMENTARY,
                &mut s.max_momentary_lufs,
            ),
            (
                r.max_short_term,
                LOUDNESS_MAX_SHORT_TERM,
                &mut s.max_short_term_lufs,
            ),
            (r.integrated, LOUDNESS_INTEGRATED, &mut s.integrated_lufs),
            (r.range, LOUDNESS_RANGE, &mut s.lra_lu),
        ];
        let mut valid = 0;
        for (value, bit, field) in values {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                *field = v;
                valid |= bit;
            }
        }
        s.valid = valid;
        s
    }
}

impl LoudnessSnapshot {
    fn get(&self, bit: u32, value: f32) -> Option<f32> {
        (self.valid & bit != 0).then_some(value)
    }

    /// Momentary loudness (LUFS), `None` for silence.
    pub fn momentary(&self) -> Option<f32> {
        self.get(LOUDNESS_MOMENTARY, self.momentary_lufs)
    }

    /// Short-term loudness (LUFS), `None` for silence.
    pub fn short_term(&self) -> Option<f32> {
        self.get(LOUDNESS_SHORT_TERM, self.short_term_lufs)
    }

    /// Highest momentary loudness since reset (LUFS).
    pub fn max_momentary(&self) -> Option<f32> {
        self.get(LOUDNESS_MAX_MOMENTARY, self.max_momentary_lufs)
    }

    /// Highest short-term loudness since reset (LUFS).
    pub fn max_short_term(&self) -> Option<f32> {
        self.get(LOUDNESS_MAX_SHORT_TERM, self.max_short_term_lufs)
    }

    /// Integrated loudness (LUFS), `None` for silence or when every block was gated.
    pub fn integrated(&self) -> Option<f32> {
        self.get(LOUDNESS_INTEGRATED, self.integrated_lufs)
    }

    /// Loudness range (LU), `None` for silence or when every value was gated.
    pub fn lra(&self) -> Option<f32> {
        self.get(LOUDNESS_RANGE, self.lra_lu)
    }

    /// Whether the loudness range has seen the 60 s EBU Tech 3341 asks for before it is
    /// considered stable.
    pub fn lra_settled(&self) -> bool {
        self.seconds >= LRA_SETTLING_SECONDS
    }
}

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
    /// Loudness (BS.1770 / EBU R 128).
    pub loudness: LoudnessSnapshot,
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

    /// Peak-to-loudness ratio, dB: the highest true peak (dBTP, loudest channel) minus the
    /// integrated loudness (LUFS); `None` while either is missing.
    pub fn plr_db(&self) -> Option<f32> {
        Some(to_db(self.max_true_peak())? - self.loudness.integrated()?)
    }
}
