//! The meter of one bus: its channels, stereo correlation, loudness, the pass and its
//! automatic reset.

use super::channel_meter::{ChannelMeter, ChannelReadings};
use super::correlation::Correlation;
use super::events::EventLog;
use super::level::from_db;
use super::loudness::{LoudnessMeter, LoudnessReadings};
use super::pass::{PassRange, PassTracker, TransportState};
use super::snapshot::{
    EventSnapshot, MeterSnapshot, FLAG_HAS_CORRELATION, FLAG_PASS_JUMPED, FLAG_PLAYING,
    MAX_CHANNELS, NO_POSITION,
};

/// Fall rate of the moving bars, dB per second (IEC 60268-18 peak meters: 20 dB in 1.7 s).
pub const DISPLAY_FALL_DB_PER_SECOND: f32 = 11.8;

/// The thresholds the meter needs while metering.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeterSettings {
    /// True-peak ceiling in dBTP: a true peak above it is an over.
    pub tp_ceiling_db: f32,
}

impl Default for MeterSettings {
    fn default() -> Self {
        Self {
            tp_ceiling_db: -1.0,
        }
    }
}

/// Meter of a mono or stereo bus. Allocates only in [`BusMeter::new`]; `process` is
/// real-time safe for any block length.
#[derive(Clone, Debug)]
pub struct BusMeter {
    sample_rate: f32,
    channels: Vec<ChannelMeter>,
    correlation: Correlation,
    loudness: LoudnessMeter,
    pass: PassTracker,
    settings: MeterSettings,
    /// Transport position where the next block would start, if known.
    position: Option<i64>,
    playing: bool,
    blocks: u64,
}

impl BusMeter {
    /// A meter for `channels` channels (1..=2) at `sample_rate` Hz.
    pub fn new(channels: usize, sample_rate: f32, settings: MeterSettings) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&channels), "1 or 2 channels");
        let ceiling = from_db(settings.tp_ceiling_db);
        Self {
            sample_rate,
            channels: (0..channels).map(|_| ChannelMeter::new(ceiling)).collect(),
            correlation: Correlation::default(),
            loudness: LoudnessMeter::new(sample_rate),
            pass: PassTracker::default(),
            settings,
            position: None,
            playing: false,
            blocks: 0,
        }
    }

    /// Channels metered.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Applies new thresholds (no allocation; safe between blocks on the audio thread).
    pub fn set_settings(&mut self, settings: MeterSettings) {
        if settings != self.settings {
            self.settings = settings;
            let ceiling = from_db(settings.tp_ceiling_db);
            self.channels
                .iter_mut()
                .for_each(|c| c.set_ceiling(ceiling));
        }
    }

    /// Clears every reading and the pass (the reset button).
    pub fn reset(&mut self) {
        self.clear_readings();
        self.pass.clear();
    }

    /// Clears readings and filter history: the next block starts a new stream.
    pub fn restart(&mut self) {
        self.channels.iter_mut().for_each(ChannelMeter::restart);
        self.correlation = Correlation::default();
        self.loudness.restart();
        self.pass.clear();
    }

    /// Clears the channels' readings (keeping their filter history), the correlation and the
    /// loudness.
    fn clear_readings(&mut self) {
        self.channels.iter_mut().for_each(ChannelMeter::reset);
        self.correlation = Correlation::default();
        self.loudness.reset();
    }

    /// Meters one block. `block[c]` is channel `c`; extra channels are ignored, and all
    /// channels must have the same length. Starts a new pass (a reset) when playback starts
    /// again from a position the pass already covered.
    pub fn process<C: AsRef<[f32]>>(&mut self, block: &[C], transport: TransportState) {
        let len = block.first().map_or(0, |c| c.as_ref().len());
        if self.pass.on_block(transport, len) {
            // The tracker has already started the new range itself.
            self.clear_readings();
        }
        let decay = (-DISPLAY_FALL_DB_PER_SECOND * len as f32 / self.sample_rate / 20.0
            * std::f32::consts::LN_10)
            .exp();
        for (meter, samples) in self.channels.iter_mut().zip(block) {
            let start = meter_start_offset(transport, meter);
            meter.process(samples.as_ref(), start, decay);
        }
        let mut planes: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        for (plane, samples) in planes.iter_mut().zip(block) {
            *plane = samples.as_ref();
        }
        self.loudness
            .process(&planes[..block.len().min(self.channels.len())]);
        if let [left, right, ..] = block {
            self.correlation.add(
                left.as_ref(),
                right.as_ref(),
                len as f64 / self.sample_rate as f64,
            );
        }
        self.playing = transport.playing;
        self.position =
            transport
                .pos_samples
                .map(|p| if transport.playing { p + len as i64 } else { p });
        self.blocks += 1;
    }

    /// The readings of channel `c`.
    pub fn channel(&self, c: usize) -> ChannelReadings {
        self.channels[c].readings()
    }

    /// The loudness readings.
    pub fn loudness(&self) -> LoudnessReadings {
        self.loudness.readings()
    }

    /// The played range since the last reset.
    pub fn pass(&self) -> PassRange {
        self.pass.range()
    }

    /// All readings as one plain value.
    pub fn snapshot(&self) -> MeterSnapshot {
        let mut s = MeterSnapshot {
            sample_rate: self.sample_rate,
            channels: self.channels.len() as u32,
            blocks: self.blocks,
            ..Default::default()
        };
        let (mut clips, mut overs, mut flats) = (
            EventLog::default(),
            EventLog::default(),
            EventLog::default(),
        );
        for (c, meter) in self.channels.iter().enumerate() {
            let r = meter.readings();
            s.sample_peak[c] = r.sample_peak;
            s.sample_peak_display[c] = r.sample_peak_display;
            s.true_peak[c] = r.true_peak;
            s.true_peak_display[c] = r.true_peak_display;
            s.dc_offset[c] = r.dc_offset;
            s.non_finite += r.non_finite;
            clips.merge(&r.clips);
            overs.merge(&r.true_peak_overs);
            flats.merge(&r.flat_tops);
        }
        s.clips = EventSnapshot::from(clips);
        s.true_peak_overs = EventSnapshot::from(overs);
        s.flat_tops = EventSnapshot::from(flats);
        let pass = self.pass.range();
        s.pass_start = pass.start.unwrap_or(NO_POSITION);
        s.pass_end = pass.end.unwrap_or(NO_POSITION);
        s.position = self.position.unwrap_or(NO_POSITION);
        s.loudness = self.loudness.readings().into();
        if let (Some(c), Some(recent)) = (self.correlation.pass(), self.correlation.recent()) {
            s.correlation = c;
            s.correlation_recent = recent;
            s.flags |= FLAG_HAS_CORRELATION;
        }
        if self.playing {
            s.flags |= FLAG_PLAYING;
        }
        if pass.jumped {
            s.flags |= FLAG_PASS_JUMPED;
        }
        s
    }
}

/// Offset from a channel meter's sample index to transport samples for this block.
fn meter_start_offset(transport: TransportState, meter: &ChannelMeter) -> Option<i64> {
    transport.pos_samples.map(|p| p - meter.next_index())
}
