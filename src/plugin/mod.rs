//! The nice-plug plugin: wires the framework-free meters to the host.

pub mod activation;
pub mod bulletin;
pub mod editor;
pub mod editor_thread;
pub mod notes_board;
pub mod overview;
pub mod params;
pub mod readout;
pub mod render;
pub mod report_worker;
pub mod shared;
pub mod stream;
pub mod timeline_share;
pub mod x11_window;

use crate::dsp::bus_meter::MeterSettings;
use crate::dsp::pass::TransportState;
use crate::dsp::session_facts::MusicalState;
use crate::dsp::snapshot::MeterSnapshot;
use crate::registry::{Role, SlotReading};
use activation::{contain, Heartbeat, MeterState};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditorState, RepaintNotifier};
use params::StemcheckParams;
use report_worker::ReportWorker;
use shared::Shared;
use std::sync::Arc;
use stream::{Stream, StreamConfig};

pub use crate::dsp::rates::{MAX_METERED_RATE, MIN_METERED_RATE};

/// One Stemcheck instance: meters its bus and passes the audio through untouched.
pub struct Stemcheck {
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// The meter and the audio tap's writer, made in `activate` (kept across activations at
    /// the same rate and layout), used in `process`.
    stream: Stream,
    /// Whether the transport played during the previous block (to see a pass end). Kept
    /// across an activation that keeps the stream: Ardour deactivates and activates every
    /// insert at the end of an export and, with "silence plugins when stopped", at a stop,
    /// before the first stopped block that ends the pass.
    was_playing: bool,
    /// Writes reports off the audio thread; started in `initialize`.
    report_worker: Option<ReportWorker>,
    /// Counts published blocks in every state (metering, bypassed, unmetered).
    heartbeat: Heartbeat,
    /// What an unmetered instance publishes (made in `activate`).
    blank: MeterSnapshot,
    /// The meters panicked during a block: they stay off until the next activation.
    faulted: bool,
    /// What of the pass timeline the audio thread has published.
    timeline_writer: timeline_share::TimelineWriter,
}

impl Default for Stemcheck {
    fn default() -> Self {
        Self {
            params: Arc::new(StemcheckParams::default()),
            shared: Arc::new(Shared::default()),
            editor_state: editor::default_state(),
            repaint: RepaintNotifier::new(),
            stream: Stream::default(),
            was_playing: false,
            report_worker: None,
            heartbeat: Heartbeat::default(),
            blank: MeterSnapshot::default(),
            faulted: false,
            timeline_writer: timeline_share::TimelineWriter::default(),
        }
    }
}

impl Stemcheck {
    fn settings(&self) -> MeterSettings {
        MeterSettings {
            tp_ceiling_db: self.params.tp_ceiling_db.value(),
        }
    }
}

/// Replaces subnormal samples by zero and leaves every other value bit-for-bit as it was.
#[inline]
pub fn flush_subnormals(samples: &mut [f32]) {
    for s in samples {
        if s.is_subnormal() {
            *s = 0.0;
        }
    }
}

impl Plugin for Stemcheck {
    const NAME: &'static str = "Stemcheck";
    const VENDOR: &'static str = "Stemcheck";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = editor_thread::JoiningEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        params::sanitize_state(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.editor_state.clone(),
            self.repaint.clone(),
            self.params.clone(),
            self.shared.clone(),
        )
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let host = render::host_render(context.plugin_api(), buffer_config.process_mode);
        self.shared.host_render.set(host);
        // Never refuse (SPEC 2): a refused activation leaves nice-plug without buffers, and
        // hosts that call `process` anyway (JUCE-based ones do) would crash in the wrapper.
        if contain(|| self.prepare(audio_io_layout, buffer_config, host)).is_none() {
            self.stream = Stream::default();
            nice_error!("Stemcheck: activation failed inside; passing audio through unmetered");
        }
        true
    }

    fn reset(&mut self) {
        // The host restarts the stream (after a seek while stopped, around an export): the
        // pass and its readings are kept; a new pass still starts afresh.
        if contain(|| self.stream.restart()).is_none() {
            self.faulted = true;
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let transport = context.transport();
        let state = TransportState {
            playing: transport.playing,
            pos_samples: transport.pos_samples(),
        };
        let music = musical_state(transport);
        if contain(|| self.run_block(buffer, state, music)).is_none() {
            // Whatever the meters were doing is abandoned (not dropped: freeing is not for the
            // audio thread); the audio is the host's input, with subnormals flushed.
            self.faulted = true;
            for channel in buffer.as_slice().iter_mut() {
                flush_subnormals(channel);
            }
            let blank =
                self.heartbeat
                    .stamp(self.blank, MeterState::Unmetered, state, buffer.samples());
            self.shared.snapshot.write(blank);
            if let Some(slot) = &self.shared.slot {
                slot.publish(&SlotReading::new(blank, self.params.role()));
            }
        }
        ProcessStatus::Normal
    }
}

impl Stemcheck {
    /// Prepares an activation at any rate: meters within the metered rates, pass-through and
    /// "not metering" outside them.
    fn prepare(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        host: crate::analysis::coverage::HostRender,
    ) {
        let rate = buffer_config.sample_rate;
        let channels = audio_io_layout
            .main_input_channels
            .map_or(0, NonZeroU32::get) as usize;
        self.faulted = false;
        self.blank = activation::blank_snapshot(rate, channels);
        if activation::meters_at(rate, channels) {
            let config = StreamConfig {
                sample_rate: rate,
                channels,
                max_block: buffer_config.max_buffer_size,
                host,
            };
            if let Some(tap) = self.stream.activate(config, self.settings()) {
                // A new meter (new rate or layout): its timeline starts over, so publish all
                // of it with its first block; a pass it had is gone.
                self.timeline_writer = timeline_share::TimelineWriter::default();
                self.was_playing = false;
                self.shared.set_tap(tap);
            }
        } else {
            nice_warn!(
                "Stemcheck does not meter {channels} channels at {rate} Hz (it meters mono and \
                 stereo at {MIN_METERED_RATE} to {MAX_METERED_RATE} Hz): audio passes through \
                 untouched"
            );
            self.stream = Stream::default();
            self.was_playing = false;
            self.shared.clear_tap();
        }
        self.shared.publish_name(&self.params.label());
        if self.report_worker.is_none() {
            match ReportWorker::spawn(self.shared.clone(), self.params.clone()) {
                Ok(worker) => self.report_worker = Some(worker),
                // The meters work without it; only reports are lost, and the editor says so.
                Err(e) => self
                    .shared
                    .set_report_status(shared::ReportStatus::Failed(format!(
                        "Reports are unavailable: the report thread did not start ({e})"
                    ))),
            }
        }
    }

    /// One block: meters it (or not, when bypassed or unmetered) and publishes the readings.
    fn run_block(&mut self, buffer: &mut Buffer, state: TransportState, music: MusicalState) {
        let settings = self.settings();
        let len = buffer.samples();
        // In every state, metered or not: a subnormal sample leaves as zero (SPEC 2), so a
        // bypassed or unmetered instance never hands the next plugin denormals to slow it.
        for channel in buffer.as_slice().iter_mut() {
            flush_subnormals(channel);
        }
        if self.params.role() == Role::Master {
            self.stream.hold_own_tap();
        }
        let meter_state = match &self.stream.meter {
            Some(_) if self.faulted => MeterState::Unmetered,
            Some(_) if self.params.bypassed() => MeterState::Bypassed,
            Some(_) => MeterState::Metering,
            None => MeterState::Unmetered,
        };
        let snapshot = match &mut self.stream.meter {
            Some(meter) if meter_state != MeterState::Unmetered => {
                if self.shared.take_reset_request() {
                    meter.reset();
                }
                meter.set_settings(settings);
                if meter_state == MeterState::Metering {
                    let channels = buffer.as_slice();
                    meter.process_with_music(channels, state, music);
                    if let (Some(tap), true, Some(pos)) =
                        (&mut self.stream.tap, state.playing, state.pos_samples)
                    {
                        let mut chans: [&[f32]; 2] = [&[], &[]];
                        for (dst, src) in chans.iter_mut().zip(channels.iter()) {
                            *dst = src;
                        }
                        tap.write(pos, &chans[..channels.len().min(2)]);
                    }
                    self.timeline_writer
                        .publish(&self.shared.timeline, meter.timeline_mut());
                }
                self.shared.session.write(meter.session_facts());
                meter.snapshot()
            }
            _ => self.blank,
        };
        let snapshot = self.heartbeat.stamp(snapshot, meter_state, state, len);
        self.shared.snapshot.write(snapshot);
        if let Some(slot) = &self.shared.slot {
            slot.publish(&SlotReading::new(snapshot, self.params.role()));
        }
        if self.was_playing && !state.playing {
            self.shared.note_pass_ended();
        }
        self.was_playing = state.playing;
        self.repaint.request_repaint();
    }
}

/// What the host says about musical time, as plain values. Bar positions count only with the
/// host's own beat position: CLAP always carries bar fields, so without a beat timeline they
/// are zeros, not facts.
fn musical_state(transport: &Transport) -> MusicalState {
    let sig = match (transport.time_sig_numerator, transport.time_sig_denominator) {
        (Some(n), Some(d)) if n > 0 && d > 0 => Some((n as u32, d as u32)),
        _ => None,
    };
    let beats = transport.pos_beats;
    MusicalState {
        tempo: transport.tempo,
        time_sig: sig,
        pos_beats: beats,
        bar_start_beats: beats.and(transport.bar_start_pos_beats()),
        bar_number: beats.and(transport.bar_number()),
    }
    .sanitized()
}

impl ClapPlugin for Stemcheck {
    const CLAP_ID: &'static str = "com.stemcheck.stemcheck";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Stem export meter: sample peak, true peak and headroom on every stem bus");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Mono,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for Stemcheck {
    const VST3_CLASS_ID: [u8; 16] = *b"StemcheckMeter01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}
