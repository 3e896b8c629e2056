//! A small CLAP host for the integration tests, built on `clack-host`.
//!
//! The test's own thread is both the main thread and the audio thread. The host's `thread-check`
//! extension reports "audio thread" only while `process()`, `start_processing()` or
//! `stop_processing()` is running, so the plugin defers its GUI-thread work to
//! `on_main_thread()`, which the host runs after every call that may have requested it.
//!
//! The CLAP extensions on both sides (plugin params, state, audio-ports, audio-ports-config and
//! render; host thread-check, params and track-info) come from `clack-extensions`. A restart the
//! plugin requests (nice-plug does when the render mode changes while it is active) is done as
//! a host does it: deactivate and activate again with the same configuration, at the next
//! main-thread service after a block.
//!
//! An instance lives on the thread that created it (clack's instances are not `Send`); to run
//! instances on worker threads, create each on its own thread (`tests/common/threads.rs`).

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use clack_extensions::audio_ports::{AudioPortFlags, AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_extensions::track_info::{HostTrackInfo, HostTrackInfoImpl, TrackInfo, TrackInfoWriter};
use clack_host::entry::PluginEntry;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::io::EventBuffer;
use clack_host::events::{EventFlags, EventHeader, Pckn};
use clack_host::host::{HostExtensions, HostHandlers, HostInfo, MainThreadHandler, SharedHandler};
use clack_host::plugin::{PluginInstance as ClackInstance, PluginMainThreadHandle};
use clack_host::process::audio_buffers::{
    AudioPortBuffer, AudioPortBufferType, AudioPorts, InputChannel,
};
use clack_host::process::{PluginAudioConfiguration, StartedPluginAudioProcessor};
use clack_host::utils::{BeatTime, ClapId, SecondsTime};

/// Tempo of the transport sent with [`PluginInstance::process`], in beats per minute.
pub const TRANSPORT_TEMPO: f64 = 120.0;

// ---------------------------------------------------------------------------------------------
// Building the bundle
// ---------------------------------------------------------------------------------------------

/// Builds the plugin bundle once per test process and returns the path of `Stemcheck.clap`.
///
/// Runs `cargo xtask bundle stemcheck --features assert_process_allocs` (debug profile, so any
/// allocation inside the plugin's `process()` panics) in the crate root, and looks for the bundle
/// in `$CARGO_TARGET_DIR/bundled` (default `target/bundled`). Panics with the build's output if
/// the build fails or produces no CLAP bundle.
pub fn bundle_path() -> PathBuf {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(build_bundle).clone()
}

fn build_bundle() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args = [
        "xtask",
        "bundle",
        "stemcheck",
        "--features",
        "assert_process_allocs",
    ];
    let output = Command::new(&cargo)
        .current_dir(root)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {cargo:?} {}: {e}", args.join(" ")));
    let log = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`cargo {}` failed ({}):\n{log}",
        args.join(" "),
        output.status
    );

    let path = target_dir(root).join("bundled").join("Stemcheck.clap");
    assert!(
        path.exists(),
        "`cargo {}` succeeded but {} does not exist (does the plugin export a CLAP entry?):\n{log}",
        args.join(" "),
        path.display()
    );
    path
}

/// The cargo target directory of the crate at `root` (`$CARGO_TARGET_DIR`, default `target`).
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        _ => root.join("target"),
    }
}

// ---------------------------------------------------------------------------------------------
// Bundle and public types
// ---------------------------------------------------------------------------------------------

/// A loaded `.clap` bundle (its entry), from which several plugin instances can be created.
pub struct ClapBundle {
    entry: PluginEntry,
}

impl ClapBundle {
    /// Loads the bundle at `path`, panicking if it is not a valid CLAP entry.
    pub fn load(path: &Path) -> Self {
        // SAFETY: loading a dynamic library runs its initialisers; the bundle under test is our
        // own plugin, which is exactly what these tests exercise.
        let entry = unsafe { PluginEntry::load(path) }
            .unwrap_or_else(|e| panic!("failed to load CLAP bundle {}: {e}", path.display()));
        // Never unload the library: the plugin's std registers pthread TLS destructors on every
        // test thread that creates an instance, and those would run from unmapped code if the
        // last bundle were dropped (dlclose) before such a thread exits.
        std::mem::forget(entry.clone());
        Self { entry }
    }

    /// Loads the bundle at `path` without keeping it loaded: when this value and every
    /// instance made from it are dropped, the host side calls the entry's `deinit` and unloads
    /// the library (`dlclose`), as a host unloading a plugin does.
    pub fn load_unloadable(path: &Path) -> Self {
        // SAFETY: as in `load`; the caller drops every instance before this value.
        let entry = unsafe { PluginEntry::load(path) }
            .unwrap_or_else(|e| panic!("failed to load CLAP bundle {}: {e}", path.display()));
        Self { entry }
    }

    /// The bundle's entry, to create instances with other host handlers.
    pub fn entry(&self) -> &PluginEntry {
        &self.entry
    }

    /// The ids of all plugins exposed by the bundle's plugin factory.
    pub fn plugin_ids(&self) -> Vec<String> {
        let Some(factory) = self.entry.get_plugin_factory() else {
            return Vec::new();
        };
        factory
            .plugin_descriptors()
            .filter_map(|descriptor| descriptor.id())
            .map(|id| id.to_string_lossy().into_owned())
            .collect()
    }
}

/// Transport info passed with one [`PluginInstance::process`] call.
///
/// It is sent as the process call's transport, with a seconds timeline, a beats timeline at
/// [`TRANSPORT_TEMPO`] in 4/4, and the playing flag set from `playing`.
#[derive(Clone, Copy, Debug)]
pub struct TransportInfo {
    /// Whether the transport is playing.
    pub playing: bool,
    /// Song position of the block's first sample, in samples.
    pub pos_samples: i64,
    /// Sample rate used to convert `pos_samples` to seconds and beats.
    pub sample_rate: f64,
}

impl TransportInfo {
    /// The CLAP transport event for this position, with [`HostMusic::default`]'s tempo,
    /// signature and timelines.
    pub fn to_event(self) -> TransportEvent {
        self.to_event_with(&HostMusic::default())
    }

    /// The CLAP transport event for this position, with what `music` says the host sends.
    pub fn to_event_with(self, music: &HostMusic) -> TransportEvent {
        let seconds = self.pos_samples as f64 / self.sample_rate;
        let tempo = music.tempo_at(self.pos_samples);
        let beats = music.beats_at(self.pos_samples, self.sample_rate);
        let (num, den) = music.time_sig.unwrap_or((4, 4));
        let bar_len = f64::from(num) * 4.0 / f64::from(den);
        let bar = (beats / bar_len).floor();
        let mut flags = TransportFlags::HAS_SECONDS_TIMELINE;
        if music.tempo.is_some() {
            flags |= TransportFlags::HAS_TEMPO;
        }
        if music.beats_timeline {
            flags |= TransportFlags::HAS_BEATS_TIMELINE;
        }
        if music.time_sig.is_some() {
            flags |= TransportFlags::HAS_TIME_SIGNATURE;
        }
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(seconds),
            tempo: tempo.unwrap_or(0.0),
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_int(0),
            loop_end_beats: BeatTime::from_int(0),
            loop_start_seconds: SecondsTime::from_int(0),
            loop_end_seconds: SecondsTime::from_int(0),
            bar_start: BeatTime::from_float(bar * bar_len),
            bar_number: bar as i32,
            time_signature_numerator: num,
            time_signature_denominator: den,
        }
    }
}

/// What a host sends about musical time with every transport (tempo, signature, beats
/// timeline), and a tempo change during the song. The default is what the test host always
/// sent: [`TRANSPORT_TEMPO`] in 4/4 with every timeline.
#[derive(Clone, Copy, Debug)]
pub struct HostMusic {
    /// Tempo in quarter notes per minute; `None`: no `HAS_TEMPO` flag.
    pub tempo: Option<f64>,
    /// Time signature; `None`: no `HAS_TIME_SIGNATURE` flag (bars are then counted in 4/4).
    pub time_sig: Option<(u16, u16)>,
    /// Whether the beats timeline (song position in beats, bar start and number) is sent.
    pub beats_timeline: bool,
    /// From this position (samples) on, the tempo is the second value.
    pub tempo_change: Option<(i64, f64)>,
}

impl Default for HostMusic {
    fn default() -> Self {
        Self {
            tempo: Some(TRANSPORT_TEMPO),
            time_sig: Some((4, 4)),
            beats_timeline: true,
            tempo_change: None,
        }
    }
}

impl HostMusic {
    /// A host that sends no tempo, no signature and no beats: only the seconds timeline.
    pub fn none() -> Self {
        Self {
            tempo: None,
            time_sig: None,
            beats_timeline: false,
            tempo_change: None,
        }
    }

    /// The tempo at `pos` samples.
    pub fn tempo_at(&self, pos: i64) -> Option<f64> {
        match self.tempo_change {
            Some((at, t)) if pos >= at && self.tempo.is_some() => Some(t),
            _ => self.tempo,
        }
    }

    /// Song position in quarter notes at `pos` samples (the tempo integrated; a host without
    /// a tempo counts at [`TRANSPORT_TEMPO`], though it does not send beats then).
    pub fn beats_at(&self, pos: i64, rate: f64) -> f64 {
        let first = self.tempo.unwrap_or(TRANSPORT_TEMPO);
        match self.tempo_change {
            Some((at, t)) if pos > at => {
                at as f64 / rate * first / 60.0 + (pos - at) as f64 / rate * t / 60.0
            }
            _ => pos as f64 / rate * first / 60.0,
        }
    }
}

/// The CLAP parameter id that nice-plug derives from a parameter's string id (the `#[id = "..."]`
/// of its `Params` struct): a 31-bit `hash * 31 + byte` string hash.
pub fn clap_param_id(string_id: &str) -> u32 {
    let hash = string_id.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    });
    hash & !(1 << 31)
}

/// One plugin instance, created from a [`ClapBundle`].
///
/// Dropping an active instance deactivates it first.
pub struct PluginInstance {
    instance: ClackInstance<HarnessHost>,
    processor: Option<StartedPluginAudioProcessor<HarnessHost>>,
    params: Option<PluginParams>,
    state: Option<PluginState>,
    render: Option<PluginRender>,
    audio_ports: Option<PluginAudioPorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    pending_events: EventBuffer,
    output_events: EventBuffer,
    io: AudioIo,
    /// The configuration of the latest activation (for a restart): rate, block, channels.
    config: (f64, u32, usize),
    /// Restarts done at the plugin's request.
    restarts: usize,
}

impl PluginInstance {
    /// Creates and initialises the plugin `plugin_id` from `bundle`, with no track info.
    pub fn new(bundle: &ClapBundle, plugin_id: &str) -> Self {
        Self::create(bundle, plugin_id, None)
    }

    /// Like [`PluginInstance::new`], with the host's `track-info` extension reporting `name` as
    /// the track name.
    pub fn new_with_track_name(bundle: &ClapBundle, plugin_id: &str, name: &str) -> Self {
        Self::create(bundle, plugin_id, Some(name))
    }

    fn create(bundle: &ClapBundle, plugin_id: &str, track_name: Option<&str>) -> Self {
        let id = CString::new(plugin_id).expect("plugin id contains a NUL byte");
        let track_name =
            track_name.map(|name| CString::new(name).expect("track name contains a NUL byte"));
        let host_info = HostInfo::new(
            "stemcheck test host",
            "stemcheck",
            "https://example.com",
            env!("CARGO_PKG_VERSION"),
        )
        .expect("host info contains a NUL byte");
        let instance = ClackInstance::<HarnessHost>::new(
            move |_| HostShared::new(track_name),
            |shared| HostMainThread { shared },
            &bundle.entry,
            &id,
            &host_info,
        )
        .unwrap_or_else(|e| panic!("failed to instantiate plugin {plugin_id:?}: {e}"));

        let plugin = instance.plugin_shared_handle();
        let params = plugin.get_extension::<PluginParams>();
        let state = plugin.get_extension::<PluginState>();
        let render = plugin.get_extension::<PluginRender>();
        let audio_ports = plugin.get_extension::<PluginAudioPorts>();
        let ports_config = plugin.get_extension::<PluginAudioPortsConfig>();

        let mut this = Self {
            instance,
            processor: None,
            params,
            state,
            render,
            audio_ports,
            ports_config,
            pending_events: EventBuffer::with_capacity(256),
            output_events: EventBuffer::with_capacity(256),
            io: AudioIo::new(&[], &[], 1),
            config: (0.0, 0, 0),
            restarts: 0,
        };
        this.service_main_thread();
        this
    }

    /// Activates the plugin and starts processing.
    ///
    /// `channels` is 1 or 2: the matching main-input/main-output layout is selected through the
    /// plugin's `audio-ports-config` extension (panics if mono is requested and the plugin does
    /// not expose it). An already active instance is deactivated first.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32, channels: usize) {
        assert!(
            channels == 1 || channels == 2,
            "channels must be 1 or 2, got {channels}"
        );
        assert!(max_frames > 0, "max_frames must be at least 1");
        if self.processor.is_some() {
            self.deactivate();
        }

        // The steady time runs on across activations, as a host's sample counter does.
        let steady_time = self.io.steady_time();
        self.io = configure_ports(
            &self.instance.plugin_handle(),
            self.audio_ports,
            self.ports_config,
            channels,
            max_frames,
        );
        self.io.set_steady_time(steady_time);
        self.config = (sample_rate, max_frames, channels);

        let stopped = self
            .instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate,
                    min_frames_count: 1,
                    max_frames_count: max_frames,
                },
            )
            .unwrap_or_else(|e| panic!("plugin activation failed: {e}"));
        self.set_audio_thread(true);
        let started = stopped.start_processing();
        self.set_audio_thread(false);
        let started = started.unwrap_or_else(|e| panic!("start_processing failed: {e}"));
        self.processor = Some(started);
        self.service_main_thread();
    }

    /// Stops processing and deactivates the plugin. Does nothing if it is not active.
    pub fn deactivate(&mut self) {
        let Some(started) = self.processor.take() else {
            return;
        };
        self.set_audio_thread(true);
        let stopped = started.stop_processing();
        self.set_audio_thread(false);
        self.instance.deactivate(stopped);
        self.service_main_thread();
    }

    /// Sets the CLAP render mode through the plugin's `render` extension (main thread). An
    /// active plugin asks for a restart, which the next main-thread service performs.
    pub fn set_render_mode(&mut self, offline: bool) {
        let ext = self
            .render
            .expect("the plugin does not expose the CLAP render extension");
        let mode = if offline {
            RenderMode::Offline
        } else {
            RenderMode::Realtime
        };
        let handle = self.instance.plugin_handle();
        ext.set(&handle, mode)
            .unwrap_or_else(|_| panic!("the plugin refused render mode {mode:?}"));
        self.service_main_thread();
    }

    /// How many restarts the plugin asked for and got.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Deactivates and activates again with the same configuration, as hosts do around
    /// playback (Ardour's flush of every insert at the end of an export).
    pub fn reactivate(&mut self) {
        assert!(
            self.processor.is_some(),
            "reactivate() on an inactive plugin"
        );
        let (rate, frames, channels) = self.config;
        self.deactivate();
        self.activate(rate, frames, channels);
    }

    /// Calls the plugin's `reset()` (a stream restart, e.g. after a seek while stopped).
    pub fn reset(&mut self) {
        assert!(self.processor.is_some(), "reset() on an inactive plugin");
        self.set_audio_thread(true);
        if let Some(processor) = self.processor.as_mut() {
            processor.reset();
        }
        self.set_audio_thread(false);
        self.service_main_thread();
    }

    /// Sets what the host sends about musical time from the next block on.
    pub fn set_host_music(&mut self, music: HostMusic) {
        self.io.music = music;
    }

    /// Processes one block: `input[channel][frame]` in, `output[channel][frame]` out.
    ///
    /// Every channel must have the same length, between 1 and the activation's `max_frames`.
    /// Parameter changes queued with [`PluginInstance::set_param_value`] are sent at sample 0;
    /// with `Some(transport)` the call carries that transport.
    pub fn process(
        &mut self,
        input: &[Vec<f32>],
        transport: Option<TransportInfo>,
    ) -> Vec<Vec<f32>> {
        assert!(
            self.processor.is_some(),
            "process() called on an inactive plugin; call activate() first"
        );
        self.set_audio_thread(true);
        let processor = self.processor.as_mut().expect("checked above");
        let result = self
            .io
            .process(processor, input, &self.pending_events, transport);
        self.set_audio_thread(false);
        self.pending_events.clear();
        let output = result.unwrap_or_else(|e| panic!("plugin process() failed: {e}"));
        self.service_main_thread();
        output
    }

    /// Saves the plugin's state through the CLAP `state` extension.
    pub fn save_state(&mut self) -> Vec<u8> {
        let ext = self
            .state
            .expect("the plugin does not expose the CLAP state extension");
        let mut data = Vec::new();
        let saved = ext.save(&self.instance.plugin_handle(), &mut data);
        assert!(saved.is_ok(), "the plugin failed to save its state");
        self.service_main_thread();
        data
    }

    /// Loads a state through the CLAP `state` extension; `Err` when the plugin refuses it.
    pub fn load_state(&mut self, data: &[u8]) -> Result<(), String> {
        let ext = self
            .state
            .expect("the plugin does not expose the CLAP state extension");
        let mut reader = data;
        let loaded = ext.load(&self.instance.plugin_handle(), &mut reader);
        self.service_main_thread();
        loaded.map_err(|_| format!("the plugin refused the state ({} bytes)", data.len()))
    }

    /// All parameters as `(clap_id, name, min, max, default)`.
    ///
    /// nice-plug reports every parameter in its normalised form: `min` is 0 and `max` is 1, or the
    /// step count for stepped (int/enum/bool) parameters; `clap_id` is
    /// [`clap_param_id`]`(string id)`.
    pub fn param_infos(&mut self) -> Vec<(u32, String, f64, f64, f64)> {
        let params = self.params_ext();
        let handle = self.instance.plugin_handle();
        (0..params.count(&handle))
            .map(|index| {
                let mut buffer = ParamInfoBuffer::new();
                let info = params
                    .get_info(&handle, index, &mut buffer)
                    .unwrap_or_else(|| panic!("clap_plugin_params.get_info({index}) failed"));
                (
                    info.id.get(),
                    String::from_utf8_lossy(info.name).into_owned(),
                    info.min_value,
                    info.max_value,
                    info.default_value,
                )
            })
            .collect()
    }

    /// Whether the parameter `clap_id` carries CLAP's `IS_BYPASS` flag (the host's bypass).
    pub fn param_is_bypass(&mut self, clap_id: u32) -> bool {
        let params = self.params_ext();
        let handle = self.instance.plugin_handle();
        (0..params.count(&handle)).any(|index| {
            let mut buffer = ParamInfoBuffer::new();
            params
                .get_info(&handle, index, &mut buffer)
                .is_some_and(|info| {
                    info.id.get() == clap_id
                        && info
                            .flags
                            .contains(clack_extensions::params::ParamInfoFlags::IS_BYPASS)
                })
        })
    }

    /// The CLAP id of the parameter whose display name is `name`, if any.
    pub fn param_id_by_name(&mut self, name: &str) -> Option<u32> {
        self.param_infos()
            .into_iter()
            .find(|(_, param_name, ..)| param_name == name)
            .map(|(id, ..)| id)
    }

    /// The parameter's current value (in CLAP units, see [`PluginInstance::param_infos`]), read
    /// through the params extension. Panics if the id is unknown.
    pub fn param_value(&mut self, clap_id: u32) -> f64 {
        let params = self.params_ext();
        let handle = self.instance.plugin_handle();
        ClapId::from_raw(clap_id)
            .and_then(|id| params.get_value(&handle, id))
            .unwrap_or_else(|| panic!("the plugin has no parameter with CLAP id {clap_id}"))
    }

    /// The plugin's text for `value` of parameter `clap_id` (`value_to_text`).
    pub fn param_value_text(&mut self, clap_id: u32, value: f64) -> String {
        let params = self.params_ext();
        let handle = self.instance.plugin_handle();
        let mut buffer = [0u8; 256];
        let text = ClapId::from_raw(clap_id)
            .ok_or(std::fmt::Error)
            .and_then(|id| params.value_to_text(&handle, id, value, &mut buffer))
            .unwrap_or_else(|_| panic!("value_to_text failed for CLAP id {clap_id}"));
        String::from_utf8_lossy(text).into_owned()
    }

    /// Sets a parameter (in CLAP units, see [`PluginInstance::param_infos`]).
    ///
    /// While active, this queues a CLAP param-value event for the next `process()` call; while
    /// inactive, it is applied at once through the params extension's `flush`.
    pub fn set_param_value(&mut self, clap_id: u32, value: f64) {
        let event = ParamValueEvent::new(0, ClapId::new(clap_id), Pckn::match_all(), value);
        self.pending_events.push(&event);
        if self.processor.is_none() {
            self.flush_params();
        }
    }

    /// Whether the plugin is currently activated.
    pub fn is_active(&self) -> bool {
        self.processor.is_some()
    }

    /// How many times the plugin has read the track info (only instances created with
    /// [`PluginInstance::new_with_track_name`] offer the `track-info` extension).
    pub fn track_info_requests(&self) -> usize {
        self.instance
            .access_shared_handler(|shared| shared.track_info_requests.load(Ordering::SeqCst))
    }

    fn params_ext(&self) -> PluginParams {
        self.params
            .expect("the plugin does not expose the CLAP params extension")
    }

    /// Sends the pending events through `clap_plugin_params.flush` (inactive plugin only).
    fn flush_params(&mut self) {
        let params = self.params_ext();
        self.output_events.clear();
        let mut handle = self
            .instance
            .inactive_plugin_handle()
            .expect("params can only be flushed while the plugin is inactive");
        params.flush(
            &mut handle,
            &self.pending_events.as_input(),
            &mut self.output_events.as_output(),
        );
        self.pending_events.clear();
        self.service_main_thread();
    }

    fn set_audio_thread(&self, in_audio: bool) {
        self.instance
            .access_shared_handler(|shared| shared.in_audio.store(in_audio, Ordering::SeqCst));
    }

    /// Runs `on_main_thread()` while the plugin keeps requesting it, and honours flush requests.
    fn service_main_thread(&mut self) {
        for _ in 0..64 {
            let requested = self.instance.access_shared_handler(|shared| {
                shared.callback_requested.swap(false, Ordering::SeqCst)
            });
            if !requested {
                break;
            }
            self.instance.call_on_main_thread_callback();
        }
        let flush = self
            .instance
            .access_shared_handler(|shared| shared.flush_requested.swap(false, Ordering::SeqCst));
        if flush && self.processor.is_none() && self.params.is_some() {
            self.flush_params();
        }
        let restart = self
            .instance
            .access_shared_handler(|shared| shared.restart_requested.swap(false, Ordering::SeqCst));
        if restart && self.processor.is_some() {
            self.restarts += 1;
            self.reactivate();
        }
    }
}

impl Drop for PluginInstance {
    fn drop(&mut self) {
        self.deactivate();
    }
}
// ---------------------------------------------------------------------------------------------
// Audio ports and buffers (shared with the GUI host)
// ---------------------------------------------------------------------------------------------

/// Selects the `channels`-channel layout through the plugin's audio-ports-config extension
/// (panics if the plugin does not offer it) and returns buffers for the resulting ports.
pub fn configure_ports(
    handle: &PluginMainThreadHandle,
    audio_ports: Option<PluginAudioPorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    channels: usize,
    max_frames: u32,
) -> AudioIo {
    select_layout(handle, ports_config, channels);
    let inputs = port_channel_counts(handle, audio_ports, true);
    let outputs = port_channel_counts(handle, audio_ports, false);
    assert_eq!(
        inputs.first().copied(),
        Some(channels),
        "main input port has the wrong channel count (input ports: {inputs:?})"
    );
    assert_eq!(
        outputs.first().copied(),
        Some(channels),
        "main output port has the wrong channel count (output ports: {outputs:?})"
    );
    AudioIo::new(&inputs, &outputs, max_frames as usize)
}

/// Selects the audio-ports-config whose main input and output have `channels` channels.
fn select_layout(
    handle: &PluginMainThreadHandle,
    ports_config: Option<PluginAudioPortsConfig>,
    channels: usize,
) {
    let Some(ext) = ports_config else {
        assert!(
            channels == 2,
            "mono requested but the plugin does not expose the CLAP audio-ports-config \
             extension"
        );
        return;
    };
    let mut seen = Vec::new();
    for index in 0..ext.count(handle) {
        let mut buffer = AudioPortsConfigBuffer::new();
        let Some(config) = ext.get(handle, index, &mut buffer) else {
            continue;
        };
        let ins = config.main_input.map(|port| port.channel_count as usize);
        let outs = config.main_output.map(|port| port.channel_count as usize);
        seen.push(format!(
            "{} {:?} ({} in, {} out)",
            config.id,
            String::from_utf8_lossy(config.name),
            ins.unwrap_or(0),
            outs.unwrap_or(0)
        ));
        if ins == Some(channels) && outs == Some(channels) {
            let selected = ext.select(handle, config.id);
            assert!(
                selected.is_ok(),
                "the plugin refused audio-ports-config {}",
                config.id
            );
            return;
        }
    }
    panic!("the plugin offers no {channels}-channel audio-ports-config; it offers: {seen:?}");
}

/// The channel count of every input (`is_input`) or output port, main port first.
fn port_channel_counts(
    handle: &PluginMainThreadHandle,
    audio_ports: Option<PluginAudioPorts>,
    is_input: bool,
) -> Vec<usize> {
    let ext = audio_ports.expect("the plugin does not expose the CLAP audio-ports extension");
    (0..ext.count(handle, is_input))
        .map(|index| {
            let mut buffer = AudioPortInfoBuffer::new();
            let info = ext
                .get(handle, index, is_input, &mut buffer)
                .unwrap_or_else(|| {
                    panic!("clap_plugin_audio_ports.get({index}, {is_input}) failed")
                });
            if index == 0 {
                assert!(
                    info.flags.contains(AudioPortFlags::IS_MAIN),
                    "port 0 is not the main port"
                );
            }
            info.channel_count as usize
        })
        .collect()
}

/// The host's side of one plugin's audio: a buffer per port and channel, the port lists, and
/// the steady time. Whoever owns it calls the plugin's `process()` through it, on any thread.
pub struct AudioIo {
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    /// `[port][channel][frame]`, port 0 being the main port.
    input_buffers: Vec<Vec<Vec<f32>>>,
    /// `[port][channel][frame]`, port 0 being the main port.
    output_buffers: Vec<Vec<Vec<f32>>>,
    output_events: EventBuffer,
    channels: usize,
    max_frames: usize,
    steady_time: u64,
    /// What the host sends about musical time with each transport.
    pub music: HostMusic,
}

impl AudioIo {
    /// Buffers for ports with `inputs` and `outputs` channels (main port first), blocks of up to
    /// `max_frames`.
    pub fn new(inputs: &[usize], outputs: &[usize], max_frames: usize) -> Self {
        Self {
            input_buffers: inputs
                .iter()
                .map(|&n| vec![vec![0.0; max_frames]; n])
                .collect(),
            output_buffers: outputs
                .iter()
                .map(|&n| vec![vec![0.0; max_frames]; n])
                .collect(),
            input_ports: AudioPorts::with_capacity(inputs.iter().sum(), inputs.len()),
            output_ports: AudioPorts::with_capacity(outputs.iter().sum(), outputs.len()),
            output_events: EventBuffer::with_capacity(256),
            channels: inputs.first().copied().unwrap_or(0),
            max_frames,
            steady_time: 0,
            music: HostMusic::default(),
        }
    }

    /// The host's sample counter so far.
    pub fn steady_time(&self) -> u64 {
        self.steady_time
    }

    /// Sets the host's sample counter (it runs on across activations).
    pub fn set_steady_time(&mut self, steady_time: u64) {
        self.steady_time = steady_time;
    }

    /// Processes one block through `processor`: `input[channel][frame]` into the main input
    /// (other inputs silent), `events` and `transport` with it; returns the main output.
    ///
    /// Every channel must have the same length, between 1 and the `max_frames` given to
    /// [`AudioIo::new`].
    pub fn process<H: HostHandlers>(
        &mut self,
        processor: &mut StartedPluginAudioProcessor<H>,
        input: &[Vec<f32>],
        events: &EventBuffer,
        transport: Option<TransportInfo>,
    ) -> Result<Vec<Vec<f32>>, String> {
        assert_eq!(
            input.len(),
            self.channels,
            "input has {} channels, the plugin was activated with {}",
            input.len(),
            self.channels
        );
        let frames = input[0].len();
        assert!(
            (1..=self.max_frames).contains(&frames),
            "block length {frames} is outside 1..={}",
            self.max_frames
        );
        assert!(
            input.iter().all(|channel| channel.len() == frames),
            "all input channels must have the same length"
        );

        for (port_index, port) in self.input_buffers.iter_mut().enumerate() {
            for (channel, buffer) in port.iter_mut().enumerate() {
                if port_index == 0 {
                    buffer[..frames].copy_from_slice(&input[channel]);
                } else {
                    buffer[..frames].fill(0.0);
                }
            }
        }
        for buffer in self.output_buffers.iter_mut().flatten() {
            buffer[..frames].fill(0.0);
        }
        let music = self.music;
        let transport = transport.map(|t| t.to_event_with(&music));

        let inputs = self
            .input_ports
            .with_input_buffers(self.input_buffers.iter_mut().map(|port| {
                AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut()
                            .map(|buffer| InputChannel::variable(&mut buffer[..frames])),
                    ),
                }
            }));
        let mut outputs =
            self.output_ports
                .with_output_buffers(self.output_buffers.iter_mut().map(|port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        port.iter_mut().map(|buffer| &mut buffer[..frames]),
                    ),
                }));
        self.output_events.clear();
        let result = processor.process(
            &inputs,
            &mut outputs,
            &events.as_input(),
            &mut self.output_events.as_output(),
            Some(self.steady_time),
            transport.as_ref(),
        );
        self.steady_time += frames as u64;
        result.map_err(|e| e.to_string())?;

        Ok(self.output_buffers[0]
            .iter()
            .map(|buffer| buffer[..frames].to_vec())
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Host handlers
// ---------------------------------------------------------------------------------------------

struct HarnessHost;

impl HostHandlers for HarnessHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, shared: &Self::Shared<'_>) {
        builder
            .register::<HostThreadCheck>()
            .register::<HostParams>();
        if shared.track_name.is_some() {
            builder.register::<HostTrackInfo>();
        }
    }
}

struct HostShared {
    track_name: Option<CString>,
    in_audio: AtomicBool,
    callback_requested: AtomicBool,
    flush_requested: AtomicBool,
    restart_requested: AtomicBool,
    track_info_requests: AtomicUsize,
}

impl HostShared {
    fn new(track_name: Option<CString>) -> Self {
        Self {
            track_name,
            in_audio: AtomicBool::new(false),
            callback_requested: AtomicBool::new(false),
            flush_requested: AtomicBool::new(false),
            restart_requested: AtomicBool::new(false),
            track_info_requests: AtomicUsize::new(0),
        }
    }
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        !self.in_audio.load(Ordering::SeqCst)
    }

    fn is_audio_thread(&self) -> bool {
        self.in_audio.load(Ordering::SeqCst)
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

struct HostMainThread<'a> {
    shared: &'a HostShared,
}

impl<'a> MainThreadHandler<'a> for HostMainThread<'a> {}

impl HostParamsImplMainThread for HostMainThread<'_> {
    fn rescan(&self, _flags: ParamRescanFlags) {}

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostTrackInfoImpl for HostMainThread<'_> {
    fn get<'a>(&'a self, writer: &mut TrackInfoWriter<'_, 'a>) {
        // Leaving the writer unset makes the plugin's `get()` call return false.
        let Some(name) = &self.shared.track_name else {
            return;
        };
        self.shared
            .track_info_requests
            .fetch_add(1, Ordering::SeqCst);
        writer.set(&TrackInfo::new().with_name(Some(name.as_bytes())));
    }
}
