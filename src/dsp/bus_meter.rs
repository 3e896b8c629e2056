//! The meter of one bus: its channels, stereo correlation, loudness, the pass and its
//! automatic reset.

use super::channel_meter::{ChannelMeter, ChannelReadings};
use super::correlation::Correlation;
use super::events::EventLog;
use super::level::from_db;
use super::loudness::{LoudnessMeter, LoudnessReadings};
use super::pass::{PassRange, PassTracker, TransportState};
use super::session_facts::{MusicalState, SessionFacts, SessionTracker};

/// A restart at most this long before where the pass stopped continues it (see
/// [`BusMeter::set_resume_tolerance`]): DAWs restart playback a block, or their latency, early.
pub const RESUME_TOLERANCE_SECONDS: f64 = 0.25;
use super::snapshot::{
    EventSnapshot, MeterSnapshot, FLAG_HAS_CORRELATION, FLAG_PASS_JUMPED, FLAG_PLAYING,
    MAX_CHANNELS, NO_POSITION,
};
use super::timeline::{PassTimeline, EVENT_CLIP, EVENT_FLAT_TOP, EVENT_NAN_INF, EVENT_OVER};

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
    timeline: PassTimeline,
    /// The host restarted the stream ([`BusMeter::stream_restarted`]): the filter history is
    /// dropped if the next played block does not continue the pass.
    fresh_stream: bool,
    /// Tempo, signature and bar positions over the pass (kept and cleared with the pass).
    session: SessionTracker,
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
            pass: PassTracker::with_resume_tolerance(
                (f64::from(sample_rate) * RESUME_TOLERANCE_SECONDS) as usize,
            ),
            settings,
            position: None,
            playing: false,
            blocks: 0,
            timeline: PassTimeline::new(),
            fresh_stream: false,
            session: SessionTracker::default(),
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

    /// A restart up to `frames` before where the pass stopped continues the pass (default
    /// [`RESUME_TOLERANCE_SECONDS`]); the plugin raises it to one host block when that is
    /// longer.
    pub fn set_resume_tolerance(&mut self, frames: usize) {
        self.pass.set_resume_tolerance(frames);
    }

    /// The host restarted its audio stream (a `reset`, or a deactivation and activation with
    /// the same layout): the readings and the pass are kept, so a pass survives what DAWs do
    /// around playback. If the next played block continues the pass, the filters continue
    /// too; if it starts a new pass, their history is dropped with the readings.
    pub fn stream_restarted(&mut self) {
        self.fresh_stream = true;
    }

    /// Clears every reading and the pass (the reset button).
    pub fn reset(&mut self) {
        self.clear_readings();
        self.pass.clear();
        self.timeline.clear();
        self.session.clear();
    }

    /// Clears readings and filter history: the next block starts a new stream.
    pub fn restart(&mut self) {
        self.channels.iter_mut().for_each(ChannelMeter::restart);
        self.correlation = Correlation::default();
        self.loudness.restart();
        self.pass.clear();
        self.timeline.clear();
        self.session.clear();
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
        self.process_with_music(block, transport, MusicalState::default());
    }

    /// [`process`](Self::process), with what the host says about tempo, signature and bars
    /// (kept as the pass's [`SessionFacts`]).
    pub fn process_with_music<C: AsRef<[f32]>>(
        &mut self,
        block: &[C],
        transport: TransportState,
        music: MusicalState,
    ) {
        let len = block.first().map_or(0, |c| c.as_ref().len());
        let start = self.pass.on_block(transport, len);
        if start.new_pass {
            self.session.clear();
        }
        if let (true, Some(pos)) = (transport.playing, transport.pos_samples) {
            let extends_end = self.pass.range().end == Some(pos + len as i64);
            self.session
                .on_played_block(music, len, self.sample_rate, extends_end);
        }
        if start.new_pass {
            // The tracker has already started the new range itself.
            if self.fresh_stream {
                self.channels.iter_mut().for_each(ChannelMeter::restart);
                self.loudness.restart();
            }
            self.clear_readings();
            self.timeline.clear();
        }
        let before = self.event_counts();
        if transport.playing {
            self.fresh_stream = false;
        }
        let decay = (-DISPLAY_FALL_DB_PER_SECOND * len as f32 / self.sample_rate / 20.0
            * std::f32::consts::LN_10)
            .exp();
        // A replayed head was metered before: the filters go on from where the pass stopped.
        let skip = start.replayed;
        let fresh = TransportState {
            playing: transport.playing,
            pos_samples: transport.pos_samples.map(|p| p + skip as i64),
        };
        if skip < len {
            for (meter, samples) in self.channels.iter_mut().zip(block) {
                let offset = meter_start_offset(fresh, meter);
                meter.process(&samples.as_ref()[skip..], offset, decay);
            }
            if let [left, right, ..] = block {
                self.correlation.add(
                    &left.as_ref()[skip..],
                    &right.as_ref()[skip..],
                    (len - skip) as f64 / self.sample_rate as f64,
                );
            }
            let mut planes: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
            for (plane, samples) in planes.iter_mut().zip(block) {
                *plane = &samples.as_ref()[skip..];
            }
            self.loudness
                .process(&planes[..block.len().min(self.channels.len())]);
        }
        if let (true, Some(pos)) = (transport.playing, transport.pos_samples) {
            let after = self.event_counts();
            let level = self
                .channels
                .iter()
                .map(ChannelMeter::last_block_peak)
                .fold(0.0, f32::max);
            let mut events = 0;
            for (bit, (b, a)) in [EVENT_CLIP, EVENT_OVER, EVENT_FLAT_TOP, EVENT_NAN_INF]
                .into_iter()
                .zip(before.into_iter().zip(after))
            {
                if a != b {
                    events |= bit;
                }
            }
            self.timeline.record(pos, len, level, events);
        }
        self.playing = transport.playing;
        self.position =
            transport
                .pos_samples
                .map(|p| if transport.playing { p + len as i64 } else { p });
        self.blocks += 1;
    }

    /// Clip, over, flat-top and NaN/Inf counts over the channels (to see which a block added).
    fn event_counts(&self) -> [u64; 4] {
        let mut n = [0; 4];
        for c in &self.channels {
            let r = c.readings();
            n[0] += r.clips.count;
            n[1] += r.true_peak_overs.count;
            n[2] += r.flat_tops.count;
            n[3] += r.non_finite;
        }
        n
    }

    /// The pass's timeline.
    pub fn timeline(&self) -> &PassTimeline {
        &self.timeline
    }

    /// The pass's timeline, to take what changed for a copy.
    pub fn timeline_mut(&mut self) -> &mut PassTimeline {
        &mut self.timeline
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

    /// Tempo, signature and bar positions at the pass's start and end.
    pub fn session_facts(&self) -> SessionFacts {
        self.session.facts()
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
