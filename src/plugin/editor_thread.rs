//! The editor is closed only once its window thread has ended.
//!
//! baseview 0.4.2 runs each editor window on a thread of its own and means to join it when the
//! window is dropped, but on X11 its `Drop` first asks the thread to show the window and
//! returns early, without joining, when the thread has already left its loop and cannot
//! answer. That is the usual case: measured in the library unload test, the window threads
//! (with Mesa's rendering and disk-cache threads under them) were still running after
//! `gui.destroy` returned in 4 of 6 rounds. A host may unload the plugin, or exit, right
//! after closing its editor; the detached thread then tears down its GL context and unloads
//! Mesa's driver while the process exits under it (a SIGSEGV at exit), or returns into the
//! plugin's unloaded code.
//!
//! [`JoiningEditor`] wraps the egui editor: the window's builder records its thread
//! ([`WindowThread::record_current`], called from the editor's `build` on that thread), and
//! dropping the window waits, after baseview's own drop, until that thread no longer exists.

use super::editor::MeterEditor;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::NativeSize;
use nice_plug::editor::{
    Editor, EditorHandle, HostMethods, ParentWindowHandle, ResizeHint, SpawnedEditor,
};
use nice_plug::plugin::TrackInfo;
use nice_plug::prelude::nice_warn;
use nice_plug_egui::{baseview, EguiEditor, EguiEditorHandle};
use std::error::Error;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long closing an editor waits for its window thread; it usually ends within tens of
/// milliseconds. Past this the editor closes anyway, with a warning in the log.
pub const WAIT_LIMIT: Duration = Duration::from_secs(5);

/// The id of the editor window's thread, recorded on that thread while the window is built.
#[derive(Debug, Default)]
pub struct WindowThread {
    /// The kernel's thread id (Linux), 0 while none is recorded.
    tid: AtomicI32,
}

impl WindowThread {
    /// A slot with no thread recorded.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records the calling thread as the window's thread (called from the editor's `build`).
    pub fn record_current(&self) {
        // Release: pairs with the Acquire in `take`, so the id is visible to the thread that
        // spawned the window even without relying on baseview's own start-up handshake.
        self.tid.store(current_tid(), Ordering::Release);
    }

    /// Takes the recorded thread id, leaving none.
    fn take(&self) -> i32 {
        // Acquire: see `record_current`.
        self.tid.swap(0, Ordering::Acquire)
    }
}

/// The plugin's editor: the egui editor whose windows are closed only after their thread
/// ended.
pub struct JoiningEditor {
    inner: EguiEditor<MeterEditor>,
    thread: Arc<WindowThread>,
}

impl JoiningEditor {
    /// Wraps `inner`, whose app records its window thread in `thread`.
    pub fn new(inner: EguiEditor<MeterEditor>, thread: Arc<WindowThread>) -> Self {
        Self { inner, thread }
    }
}

impl Editor for JoiningEditor {
    type Handle = JoiningHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        // A window whose build failed recorded nothing: don't wait on an older thread's id.
        self.thread.take();
        let spawned = self.inner.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        // baseview returns only after the window was built on its thread, so the id is there.
        let tid = self.thread.take();
        Ok(SpawnedEditor {
            handle: JoiningHandle(spawned.handle),
            window: JoinedWindow {
                window: Some(spawned.window),
                tid,
            },
        })
    }

    fn size(&self) -> NativeSize<u32> {
        self.inner.size()
    }

    fn resize_hint(&self) -> ResizeHint {
        self.inner.resize_hint()
    }

    fn track_info_updated(&self, info: TrackInfo) {
        self.inner.track_info_updated(info)
    }
}

/// The editor window: baseview's window and the id of its thread, waited for on drop.
pub struct JoinedWindow {
    /// `None` only after the standalone runner took it.
    window: Option<baseview::Window>,
    tid: i32,
}

impl JoinedWindow {
    fn get(&self) -> &baseview::Window {
        self.window
            .as_ref()
            .expect("the window is present until it is dropped")
    }
}

impl Drop for JoinedWindow {
    fn drop(&mut self) {
        // baseview's drop stops the window's thread (and sometimes joins it).
        drop(self.window.take());
        if self.tid != 0 && !wait_for_thread_end(self.tid, WAIT_LIMIT) {
            nice_warn!(
                "the editor's window thread had not ended {} s after the editor closed",
                WAIT_LIMIT.as_secs()
            );
        }
    }
}

/// The egui editor's handle over a [`JoinedWindow`].
pub struct JoiningHandle(EguiEditorHandle);

impl EditorHandle for JoiningHandle {
    type Window = JoinedWindow;
    type Error = baseview::Error;

    fn run_until_closed(mut window: Self::Window) -> Result<(), Self::Error> {
        let inner = window
            .window
            .take()
            .expect("the window is present until it is dropped");
        EguiEditorHandle::run_until_closed(inner)
    }

    fn set_parent(
        &self,
        parent: ParentWindowHandle,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.0.set_parent(parent, window.get())
    }

    fn show(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.0.show(window.get())
    }

    fn hide(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.0.hide(window.get())
    }

    fn set_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.0.set_size(new_size, window.get())
    }

    fn host_main_thread_callback(&self, window: &Self::Window) {
        self.0.host_main_thread_callback(window.get())
    }

    fn adjust_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Option<NativeSize<u32>> {
        self.0.adjust_size(new_size, window.get())
    }

    fn set_fallback_scale_factor(
        &self,
        scale_factor: f64,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.0.set_fallback_scale_factor(scale_factor, window.get())
    }

    fn state_changed(&self) {
        self.0.state_changed()
    }

    fn param_value_changed(&self, id: &str, normalized_value: f32) {
        self.0.param_value_changed(id, normalized_value)
    }

    fn param_modulation_changed(&self, id: &str, modulation_offset: f32) {
        self.0.param_modulation_changed(id, modulation_offset)
    }
}

/// The calling thread's kernel id; 0 where threads are not waited for.
fn current_tid() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions and cannot fail.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Waits until the thread `tid` of this process has ended, up to `limit`. True once it has
/// (or when called on that very thread, which cannot wait for itself).
pub fn wait_for_thread_end(tid: i32, limit: Duration) -> bool {
    if tid == current_tid() {
        return true;
    }
    let deadline = Instant::now() + limit;
    loop {
        if !thread_exists(tid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether thread `tid` of this process still exists.
fn thread_exists(tid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `tgkill` with signal 0 sends nothing; it only reports whether the thread
        // exists (ESRCH once it has exited and been released, which for a detached thread
        // follows its last instruction in user space).
        let result = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, 0) };
        result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn waits_until_a_detached_thread_has_ended() {
        let slot = WindowThread::new();
        let (go, wait) = mpsc::channel::<()>();
        let recorder = slot.clone();
        let (recorded, on_record) = mpsc::channel();
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let finishing = finished.clone();
        // Detached: the handle is dropped, as baseview drops it.
        drop(std::thread::spawn(move || {
            recorder.record_current();
            recorded.send(()).unwrap();
            wait.recv().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            finishing.store(true, Ordering::SeqCst);
        }));
        on_record.recv().unwrap();
        let tid = slot.take();
        assert_ne!(tid, 0, "the thread recorded its id");
        assert!(
            thread_exists(tid),
            "the thread is alive before it is released"
        );
        assert!(
            !wait_for_thread_end(tid, Duration::from_millis(20)),
            "a thread that has not ended is not reported ended"
        );
        go.send(()).unwrap();
        assert!(wait_for_thread_end(tid, Duration::from_secs(5)));
        assert!(
            finished.load(Ordering::SeqCst),
            "the wait returned only after the thread's last statement"
        );
        assert!(!thread_exists(tid));
        assert_eq!(slot.take(), 0, "taking the id leaves none");
    }

    #[test]
    fn a_thread_does_not_wait_for_itself() {
        assert!(wait_for_thread_end(current_tid(), Duration::ZERO));
    }
}
