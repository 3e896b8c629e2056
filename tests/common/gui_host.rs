//! A CLAP host that shows plugin editors: it embeds each editor in an X11 window of its own
//! (CLAP `gui` extension, API `x11`, not floating) and plays audio through the plugins on a
//! separate audio thread, as a DAW does.
//!
//! Two threads, told apart by their ids in the host's `thread-check` extension: the thread
//! that creates [`ThreadRoles`] is the main thread (it is also the GUI thread: it creates,
//! resizes and destroys the editors and runs `on_main_thread()`), and the thread started by
//! [`AudioThread::spawn`] is the audio thread (`start_processing()`, `process()`,
//! `stop_processing()`). Any other thread (the editor's own window thread) is neither.
//!
//! The audio buffers and port negotiation come from [`super::clap_host`].

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::audio_ports_config::PluginAudioPortsConfig;
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window as ClapWindow,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
    PluginParams,
};
use clack_extensions::state::PluginState;
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_extensions::track_info::{HostTrackInfo, HostTrackInfoImpl, TrackInfo, TrackInfoWriter};
use clack_host::events::io::EventBuffer;
use clack_host::host::SharedHandler;
use clack_host::host::{HostError, HostExtensions, HostHandlers, HostInfo, MainThreadHandler};
use clack_host::plugin::PluginInstance as ClackInstance;
use clack_host::process::{PluginAudioConfiguration, StoppedPluginAudioProcessor};
use clack_host::utils::ClapId;

use super::clap_host::{configure_ports, AudioIo, ClapBundle, TransportInfo};
use super::state::StateIo;
use super::xserver::{HostWindow, XHost};

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

/// Which thread is the main thread and which the audio thread, by id.
pub struct ThreadRoles {
    main: ThreadId,
    audio: OnceLock<ThreadId>,
}

impl ThreadRoles {
    /// Roles with the calling thread as the main thread (and no audio thread yet).
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            main: thread::current().id(),
            audio: OnceLock::new(),
        })
    }

    /// Whether the calling thread is the main thread.
    pub fn is_main(&self) -> bool {
        thread::current().id() == self.main
    }

    /// Whether the calling thread is the audio thread.
    pub fn is_audio(&self) -> bool {
        self.audio.get() == Some(&thread::current().id())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The host's audio thread: runs the jobs it is given, one after the other.
pub struct AudioThread {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl AudioThread {
    /// Starts the audio thread and registers it in `roles` (one audio thread per process).
    pub fn spawn(roles: &Arc<ThreadRoles>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel();
        let roles = roles.clone();
        let thread = thread::Builder::new()
            .name("audio".to_owned())
            .spawn(move || {
                let id = thread::current().id();
                assert!(
                    roles.audio.set(id).is_ok(),
                    "only one audio thread per process"
                );
                ready.send(()).expect("the main thread waits for this");
                for job in queue {
                    job();
                }
            })
            .expect("spawning the audio thread");
        started.recv().expect("the audio thread registered itself");
        Self {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Runs `job` on the audio thread; its result arrives on the returned channel.
    pub fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> mpsc::Receiver<R> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .as_ref()
            .expect("the audio thread is running")
            .send(Box::new(move || {
                let _ = tx.send(job());
            }))
            .expect("the audio thread is running");
        rx
    }
}

impl Drop for AudioThread {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Playing a session
// ---------------------------------------------------------------------------------------------

/// One activated plugin's audio side, handed to the audio thread to play and handed back.
pub struct Track {
    /// The plugin's audio processor (started and stopped on the audio thread).
    pub processor: StoppedPluginAudioProcessor<GuiHost>,
    /// Its buffers.
    pub io: AudioIo,
    /// What it plays.
    pub input: Input,
}

/// A generator of stem audio: fills `[channel][frame]` for the block starting at song position
/// `pos` (samples).
pub type Source = Box<dyn FnMut(i64, &mut [Vec<f32>]) + Send>;

/// What a track receives in each block.
pub enum Input {
    /// A stem: audio from its source.
    Source(Source),
    /// A bus (the master): the sum of the outputs of every `Source` track before it.
    SumOfStems,
}

/// A stem at sample rate `rate` playing one note in third `slot` of every 0.6 s cycle: a tone at `freq` Hz with its
/// octave, a 2 ms attack and a 80 ms decay, at a velocity that changes from cycle to cycle (so
/// its peaks spread as a played part's do), the loudest peaking near `peak_db`; hard-clipped at
/// full scale, so a stem driven above 0 dBFS clips as a real bus would.
pub fn notes(rate: f64, slot: usize, freq: f32, peak_db: f32) -> Input {
    // The first note is the loudest; the others spread below it without repeating, as a
    // played part's do (a repeating set of peaks reads as a limiter's ceiling).
    let velocity_of = |cycle: i64| {
        if cycle == 0 {
            return 1.0;
        }
        let h = (cycle as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        0.5 + 0.45 * (h as f32 / (1u64 << 24) as f32)
    };
    // sin + 0.3 sin 2x peaks at 1.14, the envelope at 0.975: scale the loudest note to peak_db.
    let amp = 10f32.powf(peak_db / 20.0) / (1.137 * 0.975);
    let cycle = (0.6 * rate) as i64;
    let third = cycle / 3;
    Input::Source(Box::new(move |pos, out: &mut [Vec<f32>]| {
        for k in 0..out[0].len() {
            let t = pos + k as i64;
            let in_cycle = t.rem_euclid(cycle);
            if (in_cycle / third) as usize != slot {
                continue;
            }
            let velocity = velocity_of(t / cycle);
            let age = (in_cycle - slot as i64 * third) as f32 / rate as f32;
            let envelope = velocity * (age / 0.002).min(1.0) * (-age / 0.08).exp();
            let w = std::f32::consts::TAU * freq * (t as f32 / rate as f32);
            let v = (amp * envelope * (w.sin() + 0.3 * (2.0 * w).sin())).clamp(-1.0, 1.0);
            out[0][k] = v;
            out[1][k] = v * 0.9;
        }
    }))
}

/// A session playing on the audio thread: blocks of `block` frames at the sample rate's pace,
/// transport playing from song position 0.
pub struct Playback {
    stop: Arc<AtomicBool>,
    blocks: Arc<AtomicU64>,
    done: mpsc::Receiver<Result<Vec<Track>, String>>,
}

impl Playback {
    /// Starts `tracks` (in order: stems before the master that sums them) on `audio`.
    pub fn start(audio: &AudioThread, tracks: Vec<Track>, sample_rate: f64, block: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let blocks = Arc::new(AtomicU64::new(0));
        let done = {
            let (stop, blocks) = (stop.clone(), blocks.clone());
            audio.run(move || play(tracks, sample_rate, block, &stop, &blocks))
        };
        Self { stop, blocks, done }
    }

    /// How many blocks have been played so far.
    pub fn blocks(&self) -> u64 {
        // Relaxed: a progress counter, read for reporting only.
        self.blocks.load(Ordering::Relaxed)
    }

    /// Stops the transport and processing; returns the tracks to deactivate them.
    pub fn stop(self) -> Vec<Track> {
        // Relaxed: a lone flag; the tracks come back through the channel, which synchronises.
        self.stop.store(true, Ordering::Relaxed);
        match self.done.recv() {
            Ok(Ok(tracks)) => tracks,
            Ok(Err(e)) => panic!("playback failed: {e}"),
            Err(_) => panic!("the audio thread died while playing"),
        }
    }
}

fn play(
    tracks: Vec<Track>,
    sample_rate: f64,
    block: usize,
    stop: &AtomicBool,
    blocks: &AtomicU64,
) -> Result<Vec<Track>, String> {
    let mut started = Vec::with_capacity(tracks.len());
    for track in tracks {
        let processor = track
            .processor
            .start_processing()
            .map_err(|e| format!("start_processing failed: {e}"))?;
        started.push((processor, track.io, track.input));
    }
    let events = EventBuffer::new();
    let channels = 2;
    let mut stems_sum = vec![vec![0.0f32; block]; channels];
    let mut input = vec![vec![0.0f32; block]; channels];
    let begin = Instant::now();
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let pos = (n * block as u64) as i64;
        let transport = TransportInfo {
            playing: true,
            pos_samples: pos,
            sample_rate,
        };
        stems_sum.iter_mut().for_each(|c| c.fill(0.0));
        for (processor, io, source) in &mut started {
            match source {
                Input::Source(generate) => {
                    input.iter_mut().for_each(|c| c.fill(0.0));
                    generate(pos, &mut input);
                    let out = io.process(processor, &input, &events, Some(transport))?;
                    for (sum, channel) in stems_sum.iter_mut().zip(&out) {
                        sum.iter_mut().zip(channel).for_each(|(s, v)| *s += v);
                    }
                }
                Input::SumOfStems => {
                    io.process(processor, &stems_sum, &events, Some(transport))?;
                }
            }
        }
        n += 1;
        blocks.store(n, Ordering::Relaxed);
        // Real-time pace: the next block is due when the previous one has played.
        let due = begin + Duration::from_secs_f64(n as f64 * block as f64 / sample_rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    Ok(started
        .into_iter()
        .map(|(processor, io, input)| Track {
            processor: processor.stop_processing(),
            io,
            input,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Plugin instances with editors
// ---------------------------------------------------------------------------------------------

/// The CLAP `gui` API the host embeds with.
const X11_EMBEDDED: GuiConfiguration<'static> = GuiConfiguration {
    api_type: GuiApiType::X11,
    is_floating: false,
};

/// One plugin instance whose editor the host can open in a window of its own.
pub struct GuiInstance {
    instance: ClackInstance<GuiHost>,
    gui: PluginGui,
    params: Option<PluginParams>,
    state: Option<PluginState>,
    audio_ports: Option<PluginAudioPorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    name: String,
    editor: Option<HostWindow>,
    /// Resize requests already honoured.
    resizes_done: usize,
    /// The scale factor the host gives the editor (`gui.set_scale`).
    scale: f64,
}

/// What opening an editor did.
#[derive(Clone, Copy, Debug)]
pub struct OpenedEditor {
    /// The window the editor is embedded in.
    pub window: HostWindow,
    /// The size the plugin asked for (`get_size`).
    pub size: GuiSize,
    /// When the host called `create()`.
    pub created_at: Instant,
    /// When `show()` returned.
    pub shown_at: Instant,
}

impl GuiInstance {
    /// Creates the plugin `plugin_id` from `bundle` on a track named `track_name` (the host's
    /// `track-info`).
    pub fn new(
        bundle: &ClapBundle,
        plugin_id: &str,
        track_name: &str,
        roles: &Arc<ThreadRoles>,
    ) -> Self {
        assert!(roles.is_main(), "instances are created on the main thread");
        let id = CString::new(plugin_id).expect("plugin id contains a NUL byte");
        let name = CString::new(track_name).expect("track name contains a NUL byte");
        let host_info = HostInfo::new(
            "stemcheck GUI test host",
            "stemcheck",
            "https://example.com",
            env!("CARGO_PKG_VERSION"),
        )
        .expect("host info contains a NUL byte");
        let roles = roles.clone();
        let instance = ClackInstance::<GuiHost>::new(
            move |_| GuiHostShared::new(roles, name),
            |shared| GuiHostMainThread { shared },
            bundle.entry(),
            &id,
            &host_info,
        )
        .unwrap_or_else(|e| panic!("failed to instantiate plugin {plugin_id:?}: {e}"));
        let plugin = instance.plugin_shared_handle();
        let gui = plugin
            .get_extension::<PluginGui>()
            .expect("the plugin has no CLAP gui extension");
        let mut this = Self {
            params: plugin.get_extension(),
            state: plugin.get_extension(),
            audio_ports: plugin.get_extension(),
            ports_config: plugin.get_extension(),
            gui,
            instance,
            name: track_name.to_owned(),
            editor: None,
            resizes_done: 0,
            scale: 1.0,
        };
        this.service_main_thread();
        this
    }

    /// The track name the host gives this instance.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Activates the plugin (stereo) and returns its audio side for the audio thread, which
    /// starts processing.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32, input: Input) -> Track {
        let io = configure_ports(
            &self.instance.plugin_handle(),
            self.audio_ports,
            self.ports_config,
            2,
            max_frames,
        );
        let processor = self
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
        self.service_main_thread();
        Track {
            processor,
            io,
            input,
        }
    }

    /// Deactivates the plugin with the audio side the audio thread handed back.
    pub fn deactivate(&mut self, track: Track) {
        self.instance.deactivate(track.processor);
        self.service_main_thread();
    }

    /// Runs `on_main_thread()` while the plugin asks for it, applies parameter flush requests
    /// and the editor's resize requests. Call it often from the main thread (a host's event
    /// loop does).
    pub fn service_main_thread(&mut self) {
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
        if flush && !self.instance.is_active() {
            if let (Some(params), Some(mut handle)) =
                (self.params, self.instance.inactive_plugin_handle())
            {
                let (input, mut output) = (EventBuffer::new(), EventBuffer::new());
                params.flush(&mut handle, &input.as_input(), &mut output.as_output());
            }
        }
    }

    /// Opens the editor embedded in a new host window at `at` (screen position) whose
    /// background is `background` (0xRRGGBB): `create` (x11, embedded), `set_scale(1)`,
    /// `get_size`, a window of that size, `set_parent`, `show`.
    pub fn open_editor(&mut self, x: &XHost, at: (i16, i16), background: u32) -> OpenedEditor {
        self.open_editor_shown_after(x, at, background, Duration::ZERO)
    }

    /// Like [`GuiInstance::open_editor`], with the host taking `before_show` between
    /// `set_parent` and `show` (servicing the main thread meanwhile), as hosts that embed the
    /// editor first and show its window later do.
    pub fn open_editor_shown_after(
        &mut self,
        x: &XHost,
        at: (i16, i16),
        background: u32,
        before_show: Duration,
    ) -> OpenedEditor {
        assert!(
            self.editor.is_none(),
            "{}: the editor is already open",
            self.name
        );
        let created_at = Instant::now();
        let handle = self.instance.plugin_handle();
        assert!(
            self.gui.is_api_supported(&handle, X11_EMBEDDED),
            "{}: the plugin does not support embedded x11 editors",
            self.name
        );
        self.gui
            .create(&handle, X11_EMBEDDED)
            .unwrap_or_else(|e| panic!("{}: gui.create failed: {e}", self.name));
        // X11 has no system scale the plugin could read: the host says it (1 unless a test
        // asks for HiDPI).
        let _ = self.gui.set_scale(&handle, self.scale);
        let size = self
            .gui
            .get_size(&handle)
            .unwrap_or_else(|| panic!("{}: gui.get_size failed", self.name));
        let window = x.create_window(
            &format!("Stemcheck: {}", self.name),
            at,
            (to_u16(size.width), to_u16(size.height)),
            background,
        );
        // SAFETY: the window stays alive until `close_editor` has destroyed the editor.
        unsafe {
            self.gui
                .set_parent(&handle, ClapWindow::from_x11_handle(window.id.into()))
                .unwrap_or_else(|e| panic!("{}: gui.set_parent failed: {e}", self.name));
        }
        let show_at = Instant::now() + before_show;
        while Instant::now() < show_at {
            self.service_main_thread();
            thread::sleep(Duration::from_millis(2));
        }
        let handle = self.instance.plugin_handle();
        self.gui
            .show(&handle)
            .unwrap_or_else(|e| panic!("{}: gui.show failed: {e}", self.name));
        let shown_at = Instant::now();
        self.editor = Some(window);
        self.service_main_thread();
        OpenedEditor {
            window,
            size,
            created_at,
            shown_at,
        }
    }

    /// Resizes the open editor as a user dragging the host window's corner would:
    /// `adjust_size` to the nearest size the editor accepts, the host window, then `set_size`.
    /// Returns the size used.
    pub fn resize_editor(&mut self, x: &XHost, wanted: GuiSize) -> GuiSize {
        let mut window = self.editor.expect("the editor is not open");
        let handle = self.instance.plugin_handle();
        assert!(
            self.gui.can_resize(&handle),
            "{}: the editor is not resizable",
            self.name
        );
        let size = self.gui.adjust_size(&handle, wanted).unwrap_or(wanted);
        x.resize_window(&mut window, (to_u16(size.width), to_u16(size.height)));
        self.gui
            .set_size(&handle, size)
            .unwrap_or_else(|e| panic!("{}: gui.set_size({size:?}) failed: {e}", self.name));
        self.editor = Some(window);
        self.service_main_thread();
        size
    }

    /// The window the editor is embedded in, while open.
    pub fn editor_window(&self) -> Option<HostWindow> {
        self.editor
    }

    /// Closes the editor (`hide`, `destroy`) and destroys its host window.
    pub fn close_editor(&mut self, x: &XHost) {
        let window = self.editor.take().expect("the editor is not open");
        let handle = self.instance.plugin_handle();
        let _ = self.gui.hide(&handle);
        self.gui.destroy(&handle);
        x.destroy_window(window);
        self.service_main_thread();
    }

    /// Whether the plugin told the host its editor closed by itself (`gui.closed`).
    pub fn editor_closed_by_plugin(&self) -> bool {
        self.instance
            .access_shared_handler(|shared| shared.closed.load(Ordering::SeqCst))
    }

    /// Resizes the host window to the latest size the editor asked for since the last call,
    /// as a host that accepts `gui.request_resize` does (the editor has resized itself).
    pub fn honour_resize_requests(&mut self, x: &XHost) {
        let requests = self.resize_requests();
        let Some(&size) = requests
            .get(self.resizes_done..)
            .and_then(<[GuiSize]>::last)
        else {
            return;
        };
        self.resizes_done = requests.len();
        if let Some(mut window) = self.editor {
            x.resize_window(&mut window, (to_u16(size.width), to_u16(size.height)));
            self.editor = Some(window);
        }
    }

    /// Sets the scale factor the host gives the next editor it opens (a HiDPI screen: 2).
    pub fn set_gui_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// The current size of the host window the editor is embedded in.
    pub fn editor_size(&self) -> Option<GuiSize> {
        self.editor.map(|w| GuiSize {
            width: u32::from(w.width),
            height: u32::from(w.height),
        })
    }

    /// The sizes the editor asked the host for (`gui.request_resize`), oldest first.
    pub fn resize_requests(&self) -> Vec<GuiSize> {
        self.instance.access_shared_handler(|shared| {
            shared
                .resize_requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
    }

    /// Host functions the plugin called from a thread the CLAP spec does not allow.
    pub fn thread_violations(&self) -> Vec<String> {
        self.instance.access_shared_handler(|shared| {
            shared
                .violations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
    }
}

impl StateIo for GuiInstance {
    fn save_state(&mut self) -> Vec<u8> {
        let ext = self.state.expect("the plugin has no CLAP state extension");
        let mut data = Vec::new();
        let saved = ext.save(&self.instance.plugin_handle(), &mut data);
        assert!(saved.is_ok(), "the plugin failed to save its state");
        self.service_main_thread();
        data
    }

    fn load_state(&mut self, data: &[u8]) -> Result<(), String> {
        let ext = self.state.expect("the plugin has no CLAP state extension");
        let mut reader = data;
        let loaded = ext.load(&self.instance.plugin_handle(), &mut reader);
        self.service_main_thread();
        loaded.map_err(|_| format!("the plugin refused the state ({} bytes)", data.len()))
    }
}

impl Drop for GuiInstance {
    fn drop(&mut self) {
        if self.editor.take().is_some() {
            let handle = self.instance.plugin_handle();
            self.gui.destroy(&handle);
        }
    }
}

fn to_u16(pixels: u32) -> u16 {
    u16::try_from(pixels).unwrap_or_else(|_| panic!("{pixels} px does not fit an X window"))
}

/// Services every instance's main-thread requests and the host's X events for `duration`,
/// as a host's event loop would.
pub fn run_main_loop(instances: &mut [GuiInstance], x: &XHost, duration: Duration) {
    let end = Instant::now() + duration;
    loop {
        for instance in instances.iter_mut() {
            instance.service_main_thread();
            instance.honour_resize_requests(x);
        }
        x.drain_events();
        if Instant::now() >= end {
            break;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// Services the main loop until the editor in `opened` has painted (under half of its window
/// still shows `background`), for at most `timeout` after `show()`. Returns the time from
/// `show()` to the first capture that saw the paint, or `None` if it never painted.
pub fn wait_for_paint(
    instances: &mut [GuiInstance],
    x: &XHost,
    opened: &OpenedEditor,
    background: [u8; 3],
    timeout: Duration,
) -> Option<Duration> {
    wait_for_paints(
        instances,
        x,
        std::slice::from_ref(opened),
        background,
        timeout,
    )[0]
}

/// [`wait_for_paint`] for several editors at once: each is watched from its own `show()`.
pub fn wait_for_paints(
    instances: &mut [GuiInstance],
    x: &XHost,
    opened: &[OpenedEditor],
    background: [u8; 3],
    timeout: Duration,
) -> Vec<Option<Duration>> {
    let mut painted = vec![None; opened.len()];
    loop {
        let mut waiting = false;
        for (editor, result) in opened.iter().zip(painted.iter_mut()) {
            if result.is_some() {
                continue;
            }
            let picture = x.capture(&editor.window);
            let elapsed = editor.shown_at.elapsed();
            if picture.fraction_near(background, 8) < 0.5 {
                *result = Some(elapsed);
            } else if elapsed < timeout {
                waiting = true;
            }
        }
        if !waiting {
            return painted;
        }
        run_main_loop(instances, x, Duration::from_millis(5));
    }
}

/// The threads of this process now, by kernel id, with their names.
pub fn live_threads() -> std::collections::BTreeMap<u32, String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists this process's threads")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let tid = entry.file_name().to_str()?.parse().ok()?;
            // A thread that ended since the listing has no name to read: it is gone.
            let name = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            Some((tid, name.trim().to_owned()))
        })
        .collect()
}

/// The threads alive now that were not in `before` (a [`live_threads`] listing), as
/// "id:name".
pub fn threads_started_since(before: &std::collections::BTreeMap<u32, String>) -> Vec<String> {
    live_threads()
        .into_iter()
        .filter(|(tid, _)| !before.contains_key(tid))
        .map(|(tid, name)| format!("{tid}:{name}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Host handlers
// ---------------------------------------------------------------------------------------------

/// The host handlers of [`GuiInstance`].
pub struct GuiHost;

impl HostHandlers for GuiHost {
    type Shared<'a> = GuiHostShared;
    type MainThread<'a> = GuiHostMainThread<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostThreadCheck>()
            .register::<HostParams>()
            .register::<HostTrackInfo>()
            .register::<HostGui>();
    }
}

/// The host's state shared with every thread of one instance.
pub struct GuiHostShared {
    roles: Arc<ThreadRoles>,
    track_name: CString,
    callback_requested: AtomicBool,
    flush_requested: AtomicBool,
    closed: AtomicBool,
    resize_requests: Mutex<Vec<GuiSize>>,
    violations: Mutex<Vec<String>>,
}

impl GuiHostShared {
    fn new(roles: Arc<ThreadRoles>, track_name: CString) -> Self {
        Self {
            roles,
            track_name,
            callback_requested: AtomicBool::new(false),
            flush_requested: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            resize_requests: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
        }
    }

    fn note_violation(&self, what: &str) {
        let thread = thread::current();
        let name = thread.name().unwrap_or("unnamed");
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{what} called on thread {name:?}"));
    }
}

impl SharedHandler<'_> for GuiHostShared {
    fn request_restart(&self) {}

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostThreadCheckImpl for GuiHostShared {
    fn is_main_thread(&self) -> bool {
        self.roles.is_main()
    }

    fn is_audio_thread(&self) -> bool {
        self.roles.is_audio()
    }
}

impl HostParamsImplShared for GuiHostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

impl HostGuiImpl for GuiHostShared {
    fn resize_hints_changed(&self) {}

    fn request_resize(&self, new_size: GuiSize) -> Result<(), HostError> {
        self.resize_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(new_size);
        Ok(())
    }

    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn closed(&self, _was_destroyed: bool) {
        if !self.roles.is_main() {
            self.note_violation("clap_host_gui.closed");
        }
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// The host's main-thread state of one instance.
pub struct GuiHostMainThread<'a> {
    shared: &'a GuiHostShared,
}

impl<'a> MainThreadHandler<'a> for GuiHostMainThread<'a> {}

impl HostParamsImplMainThread for GuiHostMainThread<'_> {
    fn rescan(&self, _flags: ParamRescanFlags) {
        if !self.shared.roles.is_main() {
            self.shared.note_violation("clap_host_params.rescan");
        }
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        if !self.shared.roles.is_main() {
            self.shared.note_violation("clap_host_params.clear");
        }
    }
}

impl HostTrackInfoImpl for GuiHostMainThread<'_> {
    fn get<'a>(&'a self, writer: &mut TrackInfoWriter<'_, 'a>) {
        if !self.shared.roles.is_main() {
            self.shared.note_violation("clap_host_track_info.get");
        }
        writer.set(&TrackInfo::new().with_name(Some(self.shared.track_name.as_bytes())));
    }
}
