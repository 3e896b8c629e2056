//! Two workarounds for baseview 0.4.2's X11 backend, applied to every editor window while it
//! is built (on the window's own thread, before its event loop runs).
//!
//! **Editors that never paint.** baseview paces frames with the X Present extension: it asks
//! the server for a completion event (`PresentNotifyMSC`), draws when that event arrives, and
//! sends no new request until it has. It subscribes to those events (`PresentSelectInput`)
//! only when the window is first mapped. A redraw requested before that (egui-baseview polls
//! the repaint notifier every 1/64 s from the moment the window exists, and the notifier is
//! set by every audio block and starts set) sends the first request while nobody listens:
//! its completion is dropped by the server, baseview waits for it forever, and the editor
//! never draws a frame. It happens whenever the host takes longer than one poll interval
//! between `gui.create` and `gui.show` (a loaded machine, or a host that shows the window
//! later). [`listen_for_present_completions`] subscribes baseview's own connection to the
//! window's completion events as soon as the window exists, so that first completion arrives
//! and the frame chain starts. baseview selects them again when the window is mapped; it
//! ignores the duplicate events that follow (same serial).
//!
//! **A crash when the last editor closes.** Each baseview window loads `libEGL.so.1` and
//! unloads it when it closes; closing the last editor unloads libglvnd's EGL and Mesa's
//! driver while Mesa threads may still exit and run their thread-local destructors in the
//! unloaded code (seen as a SIGSEGV in `__nptl_deallocate_tsd`). [`keep_egl_loaded`] keeps
//! the library loaded for the life of the process.

use nice_plug_egui::baseview::WindowContext;

/// Subscribes the editor window's X connection to the window's Present completion events
/// (see the module documentation). Does nothing on other platforms or without Present.
pub fn listen_for_present_completions(window: &WindowContext) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        linux::listen_for_present_completions(window)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = window;
        Ok(())
    }
}

/// Keeps `libEGL.so.1` loaded until the process exits (see the module documentation); runs
/// once per process.
pub fn keep_egl_loaded() {
    #[cfg(target_os = "linux")]
    linux::keep_egl_loaded();
}

#[cfg(target_os = "linux")]
mod linux {
    use nice_plug_egui::baseview::WindowContext;
    use raw_window_handle::{HasDisplayHandle, HasWindowHandle, RawDisplayHandle, RawWindowHandle};
    use std::sync::Once;
    use x11rb::connection::{Connection, RequestConnection};
    use x11rb::protocol::present::{self, ConnectionExt as _};
    use x11rb::xcb_ffi::XCBConnection;

    pub fn listen_for_present_completions(window: &WindowContext) -> Result<(), String> {
        let platform = window.platform_handle();
        let display = platform
            .display_handle()
            .map_err(|e| format!("no display handle: {e}"))?;
        let native = platform
            .window_handle()
            .map_err(|e| format!("no window handle: {e}"))?;
        let (RawDisplayHandle::Xcb(display), RawWindowHandle::Xcb(native)) =
            (display.as_raw(), native.as_raw())
        else {
            // Not an XCB window: nothing to work around.
            return Ok(());
        };
        let Some(raw) = display.connection else {
            return Err("the window's XCB connection is null".to_owned());
        };
        // SAFETY: `raw` is baseview's live `xcb_connection_t` for this window, which outlives
        // this call (the window is being built on this thread and is not dropped here);
        // `should_drop: false` leaves it open. libxcb connections are thread-safe, and this
        // runs on the window's thread before its event loop, so baseview is not using it now.
        let conn = unsafe { XCBConnection::from_raw_xcb_connection(raw.as_ptr(), false) }
            .map_err(|e| format!("cannot use the window's XCB connection: {e}"))?;
        let has_present = conn
            .extension_information(present::X11_EXTENSION_NAME)
            .map_err(|e| format!("X connection failed: {e}"))?
            .is_some();
        if !has_present {
            // baseview then paces frames with a timer, which needs no events.
            return Ok(());
        }
        let event_id = conn
            .generate_id()
            .map_err(|e| format!("no X id for the Present events: {e}"))?;
        let selected = conn
            .present_select_input(
                event_id,
                native.window.get(),
                present::EventMask::COMPLETE_NOTIFY,
            )
            .map_err(|e| format!("X connection failed: {e}"))?
            .check();
        selected.map_err(|e| format!("PresentSelectInput refused: {e}"))
    }

    pub fn keep_egl_loaded() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: dlopen of a system library that baseview has already loaded in this
            // process (so no new initialisers run); the handle is never closed, and
            // RTLD_NODELETE keeps the library mapped even when every other handle is closed.
            // A null result (no libEGL) changes nothing: baseview reports that itself.
            unsafe {
                libc::dlopen(
                    c"libEGL.so.1".as_ptr(),
                    libc::RTLD_LAZY | libc::RTLD_NODELETE,
                );
            }
        });
    }
}
