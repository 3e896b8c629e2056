//! The nice-plug plugin: wires the framework-free meters to the host.

pub mod editor;
pub mod master_panel;
pub mod overview;
pub mod params;
pub mod readout;
pub mod render;
pub mod report_worker;
pub mod shared;
pub mod stream;

use crate::dsp::bus_meter::MeterSettings;
use crate::dsp::pass::TransportState;
use crate::registry::SlotReading;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditorState, RepaintNotifier};
use params::StemcheckParams;
use report_worker::ReportWorker;
use shared::Shared;
use std::sync::Arc;
use stream::{Stream, StreamConfig};

/// Lowest sample rate the plugin activates at.
pub const MIN_SAMPLE_RATE: f32 = 8_000.0;
/// Highest sample rate the plugin activates at.
pub const MAX_SAMPLE_RATE: f32 = 768_000.0;

/// One Stemcheck instance: meters its bus and passes the audio through untouched.
pub struct Stemcheck {
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// The meter and the audio tap's writer, made in `activate` (kept across activations at
    /// the same rate and layout), used in `process`.
    stream: Stream,
    /// Whether the transport played during the previous block (to see a pass end).
    was_playing: bool,
    /// Writes reports off the audio thread; started in `initialize`.
    report_worker: Option<ReportWorker>,
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

    type Editor = nice_plug_egui::EguiEditor<editor::MeterEditor>;
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
        let rate = buffer_config.sample_rate;
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
            nice_error!(
                "Stemcheck cannot meter at {rate} Hz: supported sample rates are \
                 {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
            );
            return false;
        }
        let channels = audio_io_layout
            .main_input_channels
            .map_or(0, NonZeroU32::get) as usize;
        if !(1..=2).contains(&channels) {
            nice_error!("Stemcheck meters mono and stereo buses, not {channels} channels");
            return false;
        }
        let host = render::host_render(context.plugin_api(), buffer_config.process_mode);
        self.shared.host_render.set(host);
        let config = StreamConfig {
            sample_rate: rate,
            channels,
            max_block: buffer_config.max_buffer_size,
            host,
        };
        if let Some(tap) = self.stream.activate(config, self.settings()) {
            self.shared.set_tap(tap);
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
        true
    }

    fn reset(&mut self) {
        // The host restarts the stream (after a seek while stopped, around an export): the
        // pass and its readings are kept; a new pass still starts afresh.
        self.stream.restart();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = self.settings();
        if self.params.role() == crate::registry::Role::Master {
            self.stream.hold_own_tap();
        }
        let Some(meter) = &mut self.stream.meter else {
            return ProcessStatus::Normal;
        };
        if self.shared.take_reset_request() {
            meter.reset();
        }
        meter.set_settings(settings);
        let transport = context.transport();
        let state = TransportState {
            playing: transport.playing,
            pos_samples: transport.pos_samples(),
        };
        let channels = buffer.as_slice();
        meter.process(channels, state);
        for channel in channels.iter_mut() {
            flush_subnormals(channel);
        }
        if let (Some(tap), true, Some(pos)) =
            (&mut self.stream.tap, state.playing, state.pos_samples)
        {
            let mut chans: [&[f32]; 2] = [&[], &[]];
            for (dst, src) in chans.iter_mut().zip(channels.iter()) {
                *dst = src;
            }
            tap.write(pos, &chans[..channels.len().min(2)]);
        }
        let snapshot = meter.snapshot();
        self.shared.snapshot.write(snapshot);
        if let Some(slot) = &self.shared.slot {
            slot.publish(&SlotReading::new(snapshot, self.params.role()));
        }
        if self.was_playing && !state.playing {
            self.shared.note_pass_ended();
        }
        self.was_playing = state.playing;
        self.repaint.request_repaint();
        ProcessStatus::Normal
    }
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
