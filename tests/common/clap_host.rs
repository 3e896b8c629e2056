//! A small CLAP host for the integration tests, built on `clack-host`.
//!
//! The test's own thread is both the main thread and the audio thread. The host's `thread-check`
//! extension reports "audio thread" only while `process()`, `start_processing()` or
//! `stop_processing()` is running, so the plugin defers its GUI-thread work to
//! `on_main_thread()`, which the host runs after every call that may have requested it.
//!
//! `clack-host` ships no CLAP extensions itself (they live in `clack-extensions`), so the few
//! extension ABIs used here are declared in this file as `#[repr(C)]` mirrors of the CLAP headers.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use clack_host::entry::PluginEntry;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::io::EventBuffer;
use clack_host::events::{EventFlags, EventHeader, Pckn};
use clack_host::extensions::prelude::{
    clap_host, Extension, ExtensionImplementation, HostExtensionSide, HostHandlers, HostWrapper,
    PluginExtensionSide, RawExtension, RawExtensionImplementation,
};
use clack_host::host::{HostExtensions, HostInfo, SharedHandler};
use clack_host::plugin::PluginInstance as ClackInstance;
use clack_host::process::audio_buffers::{
    AudioPortBuffer, AudioPortBufferType, AudioPorts, InputChannel,
};
use clack_host::process::{PluginAudioConfiguration, StartedPluginAudioProcessor};
use clack_host::stream::{InputStream, OutputStream};
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

fn target_dir(root: &Path) -> PathBuf {
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
        Self { entry }
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
    fn to_event(self) -> TransportEvent {
        let seconds = self.pos_samples as f64 / self.sample_rate;
        let beats = seconds * TRANSPORT_TEMPO / 60.0;
        let bar = (beats / 4.0).floor();
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(seconds),
            tempo: TRANSPORT_TEMPO,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_int(0),
            loop_end_beats: BeatTime::from_int(0),
            loop_start_seconds: SecondsTime::from_int(0),
            loop_end_seconds: SecondsTime::from_int(0),
            bar_start: BeatTime::from_float(bar * 4.0),
            bar_number: bar as i32,
            time_signature_numerator: 4,
            time_signature_denominator: 4,
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
    audio_ports: Option<PluginAudioPorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    pending_events: EventBuffer,
    output_events: EventBuffer,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    /// `[port][channel][frame]`, port 0 being the main port.
    input_buffers: Vec<Vec<Vec<f32>>>,
    /// `[port][channel][frame]`, port 0 being the main port.
    output_buffers: Vec<Vec<Vec<f32>>>,
    channels: usize,
    max_frames: usize,
    steady_time: u64,
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
            |_| (),
            &bundle.entry,
            &id,
            &host_info,
        )
        .unwrap_or_else(|e| panic!("failed to instantiate plugin {plugin_id:?}: {e}"));

        let plugin = instance.plugin_shared_handle();
        let params = plugin.get_extension::<PluginParams>();
        let state = plugin.get_extension::<PluginState>();
        let audio_ports = plugin.get_extension::<PluginAudioPorts>();
        let ports_config = plugin.get_extension::<PluginAudioPortsConfig>();

        let mut this = Self {
            instance,
            processor: None,
            params,
            state,
            audio_ports,
            ports_config,
            pending_events: EventBuffer::with_capacity(256),
            output_events: EventBuffer::with_capacity(256),
            input_ports: AudioPorts::with_capacity(0, 0),
            output_ports: AudioPorts::with_capacity(0, 0),
            input_buffers: Vec::new(),
            output_buffers: Vec::new(),
            channels: 0,
            max_frames: 0,
            steady_time: 0,
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

        self.select_layout(channels);
        let inputs = self.port_channel_counts(true);
        let outputs = self.port_channel_counts(false);
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

        let frames = max_frames as usize;
        self.input_buffers = inputs.iter().map(|&n| vec![vec![0.0; frames]; n]).collect();
        self.output_buffers = outputs
            .iter()
            .map(|&n| vec![vec![0.0; frames]; n])
            .collect();
        self.input_ports = AudioPorts::with_capacity(inputs.iter().sum(), inputs.len());
        self.output_ports = AudioPorts::with_capacity(outputs.iter().sum(), outputs.len());
        self.channels = channels;
        self.max_frames = frames;

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
        let transport = transport.map(TransportInfo::to_event);

        self.set_audio_thread(true);
        let result = {
            let processor = self.processor.as_mut().expect("checked above");
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
                    .with_output_buffers(self.output_buffers.iter_mut().map(|port| {
                        AudioPortBuffer {
                            latency: 0,
                            channels: AudioPortBufferType::f32_output_only(
                                port.iter_mut().map(|buffer| &mut buffer[..frames]),
                            ),
                        }
                    }));
            self.output_events.clear();
            processor.process(
                &inputs,
                &mut outputs,
                &self.pending_events.as_input(),
                &mut self.output_events.as_output(),
                Some(self.steady_time),
                transport.as_ref(),
            )
        };
        self.set_audio_thread(false);
        self.pending_events.clear();
        self.steady_time += frames as u64;
        if let Err(e) = result {
            panic!("plugin process() failed: {e}");
        }

        let output = self.output_buffers[0]
            .iter()
            .map(|buffer| buffer[..frames].to_vec())
            .collect();
        self.service_main_thread();
        output
    }

    /// Saves the plugin's state through the CLAP `state` extension.
    pub fn save_state(&mut self) -> Vec<u8> {
        let ext = self
            .state
            .expect("the plugin does not expose the CLAP state extension");
        let mut data = Vec::new();
        let saved = {
            let mut stream = OutputStream::from_writer(&mut data);
            let handle = self.instance.plugin_handle();
            let save = handle
                .use_extension(&ext.0)
                .save
                .expect("clap_plugin_state.save is null");
            // SAFETY: the plugin pointer and the stream are valid for the duration of the call,
            // and this runs on the main thread.
            unsafe {
                save(
                    handle.as_raw_ptr().cast(),
                    std::ptr::from_mut(stream.as_raw_mut()).cast_const().cast(),
                )
            }
        };
        assert!(saved, "the plugin failed to save its state");
        self.service_main_thread();
        data
    }

    /// Loads a state through the CLAP `state` extension; `Err` when the plugin refuses it.
    pub fn load_state(&mut self, data: &[u8]) -> Result<(), String> {
        let ext = self
            .state
            .expect("the plugin does not expose the CLAP state extension");
        let loaded = {
            let mut reader = data;
            let mut stream = InputStream::from_reader(&mut reader);
            let handle = self.instance.plugin_handle();
            let load = handle
                .use_extension(&ext.0)
                .load
                .expect("clap_plugin_state.load is null");
            // SAFETY: the plugin pointer and the stream are valid for the duration of the call,
            // and this runs on the main thread.
            unsafe {
                load(
                    handle.as_raw_ptr().cast(),
                    std::ptr::from_mut(stream.as_raw_mut()).cast_const().cast(),
                )
            }
        };
        self.service_main_thread();
        if loaded {
            Ok(())
        } else {
            Err(format!(
                "the plugin refused the state ({} bytes)",
                data.len()
            ))
        }
    }

    /// All parameters as `(clap_id, name, min, max, default)`.
    ///
    /// nice-plug reports every parameter in its normalised form: `min` is 0 and `max` is 1, or the
    /// step count for stepped (int/enum/bool) parameters; `clap_id` is
    /// [`clap_param_id`]`(string id)`.
    pub fn param_infos(&mut self) -> Vec<(u32, String, f64, f64, f64)> {
        let (params, plugin) = self.params_ext();
        let count = params.count.map_or(0, |count| {
            // SAFETY: valid plugin pointer, main thread.
            unsafe { count(plugin) }
        });
        let get_info = params
            .get_info
            .expect("clap_plugin_params.get_info is null");
        (0..count)
            .map(|index| {
                // SAFETY: an all-zero `clap_param_info` is valid (null cookie, empty strings).
                let mut info: RawParamInfo = unsafe { std::mem::zeroed() };
                // SAFETY: valid plugin and out pointers, main thread.
                let ok = unsafe { get_info(plugin, index, &mut info) };
                assert!(ok, "clap_plugin_params.get_info({index}) failed");
                (
                    info.id,
                    c_chars_to_string(&info.name),
                    info.min_value,
                    info.max_value,
                    info.default_value,
                )
            })
            .collect()
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
        let (params, plugin) = self.params_ext();
        let get_value = params
            .get_value
            .expect("clap_plugin_params.get_value is null");
        let mut value = 0.0;
        // SAFETY: valid plugin and out pointers, main thread.
        let ok = unsafe { get_value(plugin, clap_id, &mut value) };
        assert!(ok, "the plugin has no parameter with CLAP id {clap_id}");
        value
    }

    /// The plugin's text for `value` of parameter `clap_id` (`value_to_text`).
    pub fn param_value_text(&mut self, clap_id: u32, value: f64) -> String {
        let (params, plugin) = self.params_ext();
        let value_to_text = params
            .value_to_text
            .expect("clap_plugin_params.value_to_text is null");
        let mut buffer: [c_char; 256] = [0; 256];
        // SAFETY: valid plugin pointer and buffer of the given capacity, main thread.
        let ok = unsafe { value_to_text(plugin, clap_id, value, buffer.as_mut_ptr(), 256) };
        assert!(ok, "value_to_text failed for CLAP id {clap_id}");
        c_chars_to_string(&buffer)
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

    fn params_ext(&mut self) -> (&RawPluginParams, *const c_void) {
        let ext = self
            .params
            .expect("the plugin does not expose the CLAP params extension");
        let handle = self.instance.plugin_handle();
        (handle.use_extension(&ext.0), handle.as_raw_ptr().cast())
    }

    /// Sends the pending events through `clap_plugin_params.flush` (inactive plugin only).
    fn flush_params(&mut self) {
        let (params, plugin) = self.params_ext();
        let flush = params.flush.expect("clap_plugin_params.flush is null");
        self.output_events.clear();
        let input = self.pending_events.as_input();
        let mut output = self.output_events.as_output();
        // SAFETY: valid plugin and event list pointers; the plugin is inactive and this runs on
        // the main thread.
        unsafe {
            flush(
                plugin,
                std::ptr::from_ref(input.as_raw()).cast(),
                std::ptr::from_ref(output.as_raw()).cast(),
            );
        }
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
    }

    /// Selects the audio-ports-config whose main input and output have `channels` channels.
    fn select_layout(&mut self, channels: usize) {
        let Some(ext) = self.ports_config else {
            assert!(
                channels == 2,
                "mono requested but the plugin does not expose the CLAP audio-ports-config \
                 extension"
            );
            return;
        };
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin: *const c_void = handle.as_raw_ptr().cast();
        let count = raw.count.map_or(0, |count| {
            // SAFETY: valid plugin pointer, main thread.
            unsafe { count(plugin) }
        });
        let get = raw.get.expect("clap_plugin_audio_ports_config.get is null");
        let select = raw
            .select
            .expect("clap_plugin_audio_ports_config.select is null");
        let mut seen = Vec::new();
        for index in 0..count {
            // SAFETY: an all-zero `clap_audio_ports_config` is valid (null port types).
            let mut config: RawAudioPortsConfig = unsafe { std::mem::zeroed() };
            // SAFETY: valid plugin and out pointers, main thread.
            if !unsafe { get(plugin, index, &mut config) } {
                continue;
            }
            let ins = config.main_input_channel_count as usize;
            let outs = config.main_output_channel_count as usize;
            seen.push(format!(
                "{} {:?} ({ins} in, {outs} out)",
                config.id,
                c_chars_to_string(&config.name)
            ));
            if config.has_main_input
                && config.has_main_output
                && ins == channels
                && outs == channels
            {
                // SAFETY: valid plugin pointer; the plugin is inactive and this runs on the main
                // thread.
                let selected = unsafe { select(plugin, config.id) };
                assert!(
                    selected,
                    "the plugin refused audio-ports-config {}",
                    config.id
                );
                return;
            }
        }
        panic!("the plugin offers no {channels}-channel audio-ports-config; it offers: {seen:?}");
    }

    /// The channel count of every input (`is_input`) or output port, main port first.
    fn port_channel_counts(&mut self, is_input: bool) -> Vec<usize> {
        let ext = self
            .audio_ports
            .expect("the plugin does not expose the CLAP audio-ports extension");
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin: *const c_void = handle.as_raw_ptr().cast();
        let count = raw.count.map_or(0, |count| {
            // SAFETY: valid plugin pointer, main thread.
            unsafe { count(plugin, is_input) }
        });
        let get = raw.get.expect("clap_plugin_audio_ports.get is null");
        (0..count)
            .map(|index| {
                // SAFETY: an all-zero `clap_audio_port_info` is valid (null port type).
                let mut info: RawAudioPortInfo = unsafe { std::mem::zeroed() };
                // SAFETY: valid plugin and out pointers, main thread.
                let ok = unsafe { get(plugin, index, is_input, &mut info) };
                assert!(
                    ok,
                    "clap_plugin_audio_ports.get({index}, {is_input}) failed"
                );
                if index == 0 {
                    assert!(
                        info.flags & AUDIO_PORT_IS_MAIN != 0,
                        "port 0 is not the main port"
                    );
                }
                info.channel_count as usize
            })
            .collect()
    }
}

impl Drop for PluginInstance {
    fn drop(&mut self) {
        self.deactivate();
    }
}

fn c_chars_to_string(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Host handlers
// ---------------------------------------------------------------------------------------------

struct HarnessHost;

impl HostHandlers for HarnessHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = ();
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
    track_info_requests: AtomicUsize,
}

impl HostShared {
    fn new(track_name: Option<CString>) -> Self {
        Self {
            track_name,
            in_audio: AtomicBool::new(false),
            callback_requested: AtomicBool::new(false),
            flush_requested: AtomicBool::new(false),
            track_info_requests: AtomicUsize::new(0),
        }
    }
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {}

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// Runs `f` on the host's shared handler, or returns `fallback` if clack rejects the pointer.
///
/// # Safety
///
/// `host` must be a `clap_host` pointer handed to the plugin by this host.
unsafe fn with_shared<T>(
    host: *const clap_host,
    fallback: T,
    f: impl FnOnce(&HostShared) -> T,
) -> T {
    // SAFETY: guaranteed by the caller.
    unsafe { HostWrapper::<HarnessHost>::handle(host, |wrapper| Ok(f(wrapper.shared()))) }
        .unwrap_or(fallback)
}

// ---------------------------------------------------------------------------------------------
// Extension ABIs (mirrors of the CLAP headers)
// ---------------------------------------------------------------------------------------------

/// `CLAP_NAME_SIZE`.
const NAME_SIZE: usize = 256;
/// `CLAP_PATH_SIZE`.
const PATH_SIZE: usize = 1024;
/// `CLAP_AUDIO_PORT_IS_MAIN`.
const AUDIO_PORT_IS_MAIN: u32 = 1;
/// `CLAP_TRACK_INFO_HAS_TRACK_NAME`.
const TRACK_INFO_HAS_TRACK_NAME: u64 = 1;

/// The plugin argument of every plugin-side extension function (`const clap_plugin *`).
type RawPlugin = *const c_void;

/// `clap_param_info`.
#[repr(C)]
struct RawParamInfo {
    id: u32,
    flags: u32,
    cookie: *mut c_void,
    name: [c_char; NAME_SIZE],
    module: [c_char; PATH_SIZE],
    min_value: f64,
    max_value: f64,
    default_value: f64,
}

/// `clap_plugin_params`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawPluginParams {
    count: Option<unsafe extern "C" fn(RawPlugin) -> u32>,
    get_info: Option<unsafe extern "C" fn(RawPlugin, u32, *mut RawParamInfo) -> bool>,
    get_value: Option<unsafe extern "C" fn(RawPlugin, u32, *mut f64) -> bool>,
    value_to_text: Option<unsafe extern "C" fn(RawPlugin, u32, f64, *mut c_char, u32) -> bool>,
    text_to_value: Option<unsafe extern "C" fn(RawPlugin, u32, *const c_char, *mut f64) -> bool>,
    flush: Option<unsafe extern "C" fn(RawPlugin, *const c_void, *const c_void)>,
}

/// `clap_plugin_state`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawPluginState {
    save: Option<unsafe extern "C" fn(RawPlugin, *const c_void) -> bool>,
    load: Option<unsafe extern "C" fn(RawPlugin, *const c_void) -> bool>,
}

/// `clap_audio_port_info`.
#[repr(C)]
struct RawAudioPortInfo {
    id: u32,
    name: [c_char; NAME_SIZE],
    flags: u32,
    channel_count: u32,
    port_type: *const c_char,
    in_place_pair: u32,
}

/// `clap_plugin_audio_ports`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawPluginAudioPorts {
    count: Option<unsafe extern "C" fn(RawPlugin, bool) -> u32>,
    get: Option<unsafe extern "C" fn(RawPlugin, u32, bool, *mut RawAudioPortInfo) -> bool>,
}

/// `clap_audio_ports_config`.
#[repr(C)]
struct RawAudioPortsConfig {
    id: u32,
    name: [c_char; NAME_SIZE],
    input_port_count: u32,
    output_port_count: u32,
    has_main_input: bool,
    main_input_channel_count: u32,
    main_input_port_type: *const c_char,
    has_main_output: bool,
    main_output_channel_count: u32,
    main_output_port_type: *const c_char,
}

/// `clap_plugin_audio_ports_config`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawPluginAudioPortsConfig {
    count: Option<unsafe extern "C" fn(RawPlugin) -> u32>,
    get: Option<unsafe extern "C" fn(RawPlugin, u32, *mut RawAudioPortsConfig) -> bool>,
    select: Option<unsafe extern "C" fn(RawPlugin, u32) -> bool>,
}

/// `clap_host_thread_check`.
#[repr(C)]
struct RawHostThreadCheck {
    is_main_thread: Option<unsafe extern "C" fn(*const clap_host) -> bool>,
    is_audio_thread: Option<unsafe extern "C" fn(*const clap_host) -> bool>,
}

/// `clap_host_params`.
#[repr(C)]
struct RawHostParams {
    rescan: Option<unsafe extern "C" fn(*const clap_host, u32)>,
    clear: Option<unsafe extern "C" fn(*const clap_host, u32, u32)>,
    request_flush: Option<unsafe extern "C" fn(*const clap_host)>,
}

/// `clap_track_info`.
#[repr(C)]
struct RawTrackInfo {
    flags: u64,
    name: [c_char; NAME_SIZE],
    /// `clap_color`: alpha, red, green, blue.
    color: [u8; 4],
    audio_channel_count: i32,
    audio_port_type: *const c_char,
}

/// `clap_host_track_info`.
#[repr(C)]
struct RawHostTrackInfo {
    get: Option<unsafe extern "C" fn(*const clap_host, *mut RawTrackInfo) -> bool>,
}

macro_rules! plugin_extension {
    ($name:ident, $raw:ty, [$($id:expr),+]) => {
        #[derive(Clone, Copy)]
        struct $name(RawExtension<PluginExtensionSide, $raw>);

        // SAFETY: the identifiers are the CLAP ones of the extension whose struct `$raw` mirrors.
        unsafe impl Extension for $name {
            const IDENTIFIERS: &'static [&'static CStr] = &[$($id),+];
            type ExtensionSide = PluginExtensionSide;

            unsafe fn from_raw(raw: RawExtension<PluginExtensionSide>) -> Self {
                // SAFETY: the caller guarantees the pointer is of the extension named above.
                Self(unsafe { raw.cast() })
            }
        }
    };
}

plugin_extension!(PluginParams, RawPluginParams, [c"clap.params"]);
plugin_extension!(PluginState, RawPluginState, [c"clap.state"]);
plugin_extension!(PluginAudioPorts, RawPluginAudioPorts, [c"clap.audio-ports"]);
plugin_extension!(
    PluginAudioPortsConfig,
    RawPluginAudioPortsConfig,
    [c"clap.audio-ports-config"]
);

macro_rules! host_extension {
    ($name:ident, [$($id:expr),+], $implementation:expr) => {
        #[derive(Clone, Copy)]
        struct $name;

        // SAFETY: the identifiers are the CLAP ones of the extension implemented below.
        unsafe impl Extension for $name {
            const IDENTIFIERS: &'static [&'static CStr] = &[$($id),+];
            type ExtensionSide = HostExtensionSide;

            unsafe fn from_raw(_raw: RawExtension<HostExtensionSide>) -> Self {
                Self
            }
        }

        // SAFETY: the implementation is a `#[repr(C)]` mirror of the CLAP extension struct.
        unsafe impl ExtensionImplementation<HarnessHost> for $name {
            const IMPLEMENTATION: RawExtensionImplementation =
                RawExtensionImplementation::new(&$implementation);
        }
    };
}

host_extension!(
    HostThreadCheck,
    [c"clap.thread-check"],
    RawHostThreadCheck {
        is_main_thread: Some(thread_check_is_main_thread),
        is_audio_thread: Some(thread_check_is_audio_thread),
    }
);

host_extension!(
    HostParams,
    [c"clap.params"],
    RawHostParams {
        rescan: Some(params_rescan),
        clear: Some(params_clear),
        request_flush: Some(params_request_flush),
    }
);

host_extension!(
    HostTrackInfo,
    [c"clap.track-info/1", c"clap.track-info.draft/1"],
    RawHostTrackInfo {
        get: Some(track_info_get),
    }
);

unsafe extern "C" fn thread_check_is_main_thread(host: *const clap_host) -> bool {
    // SAFETY: the plugin passes back the host pointer it was given.
    unsafe {
        with_shared(host, false, |shared| {
            !shared.in_audio.load(Ordering::SeqCst)
        })
    }
}

unsafe extern "C" fn thread_check_is_audio_thread(host: *const clap_host) -> bool {
    // SAFETY: the plugin passes back the host pointer it was given.
    unsafe { with_shared(host, false, |shared| shared.in_audio.load(Ordering::SeqCst)) }
}

unsafe extern "C" fn params_rescan(_host: *const clap_host, _flags: u32) {}

unsafe extern "C" fn params_clear(_host: *const clap_host, _param_id: u32, _flags: u32) {}

unsafe extern "C" fn params_request_flush(host: *const clap_host) {
    // SAFETY: the plugin passes back the host pointer it was given.
    unsafe {
        with_shared(host, (), |shared| {
            shared.flush_requested.store(true, Ordering::SeqCst);
        });
    }
}

unsafe extern "C" fn track_info_get(host: *const clap_host, info: *mut RawTrackInfo) -> bool {
    if info.is_null() {
        return false;
    }
    // SAFETY: the plugin passes back the host pointer it was given.
    let track = unsafe {
        with_shared(host, None, |shared| {
            let name = shared.track_name.as_ref()?;
            shared.track_info_requests.fetch_add(1, Ordering::SeqCst);
            let mut track = RawTrackInfo {
                flags: TRACK_INFO_HAS_TRACK_NAME,
                name: [0; NAME_SIZE],
                color: [0; 4],
                audio_channel_count: 0,
                audio_port_type: std::ptr::null(),
            };
            for (dst, &src) in track
                .name
                .iter_mut()
                .zip(name.as_bytes().iter().take(NAME_SIZE - 1))
            {
                *dst = src as c_char;
            }
            Some(track)
        })
    };
    match track {
        Some(track) => {
            // SAFETY: `info` is non-null and points to a `clap_track_info` owned by the plugin.
            unsafe { info.write(track) };
            true
        }
        None => false,
    }
}
