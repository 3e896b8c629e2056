//! A private X server for the editor tests: `Xvfb` started by the test process on a free
//! display, top-level windows the host creates for the editors to embed into, and screenshots.
//!
//! [`Xvfb::start`] sets `DISPLAY` for the whole process, so it must run before the process has
//! any other thread (the picture tests have their own `main` for that reason).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt as _, CreateWindowAux, EventMask, ImageFormat, ImageOrder,
    PropMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::COPY_DEPTH_FROM_PARENT;

use super::picture::Picture;

/// An `Xvfb` process owned by the test; it is terminated when this is dropped.
pub struct Xvfb {
    child: Child,
    /// Kept open: Xvfb wrote its display number here and may not expect a closed pipe.
    _display_pipe: ChildStdout,
    display: String,
}

impl Xvfb {
    /// Starts `Xvfb` with one `width`×`height` 24-bit screen on the first free display number
    /// (Xvfb picks it and reports it through `-displayfd`), waits until it accepts clients, and
    /// points `DISPLAY` at it.
    ///
    /// Panics with an installation hint if `Xvfb` is missing: the picture tests need it.
    ///
    /// Call this before the process starts any thread: it changes the environment.
    pub fn start(width: u32, height: u32) -> Self {
        let mut command = Command::new("Xvfb");
        command
            // fd 1 is the pipe below: Xvfb writes the display number there once it is ready.
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the closure runs in the forked child before exec and only makes one
        // async-signal-safe system call: it asks the kernel to terminate Xvfb when this test
        // process's spawning thread exits, so an aborted or killed test leaves no server behind.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "could not start Xvfb ({e}); the editor picture tests need an X server: install \
                 the Debian packages `xvfb x11-xkb-utils xkb-data libgl1-mesa-dri`"
            )
        });
        let mut pipe = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        let read = pipe.read_line(&mut line);
        let number = line.trim();
        if read.is_err() || number.is_empty() || number.parse::<u32>().is_err() {
            let _ = child.kill();
            let output = child.wait_with_output().ok();
            let stderr = output
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default();
            panic!("Xvfb did not report a display number (read {line:?}):\n{stderr}");
        }
        let display = format!(":{number}");
        // Safe here: the caller guarantees no other thread exists yet (see above), so nothing
        // reads the environment concurrently.
        std::env::set_var("DISPLAY", &display);
        // Xvfb's log would fill the pipe and block it; nobody reads it after start-up.
        drop(child.stderr.take());
        Self {
            child,
            _display_pipe: pipe.into_inner(),
            display,
        }
    }

    /// The display name, e.g. `:99`.
    pub fn display(&self) -> &str {
        &self.display
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM first, so Xvfb removes its socket and lock file; SIGKILL if it lingers.
        // SAFETY: `kill` on the pid of our own child, which has not been reaped yet.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The host's own connection to the X server: it creates the windows editors are embedded in
/// and reads pixels back from the screen.
pub struct XHost {
    conn: RustConnection,
    root: Window,
    root_visual: u32,
}

/// One top-level window created by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostWindow {
    /// The X11 window id (what the plugin gets through `set_parent`).
    pub id: Window,
    /// Position of its top-left corner on the screen.
    pub x: i16,
    /// Position of its top-left corner on the screen.
    pub y: i16,
    /// Current width.
    pub width: u16,
    /// Current height.
    pub height: u16,
}

impl XHost {
    /// Connects to `$DISPLAY`, checking that the screen stores 24-bit colour as 32-bit
    /// little-endian pixels (what [`XHost::capture`] decodes).
    pub fn connect() -> Self {
        let (conn, screen_num) = RustConnection::connect(None)
            .unwrap_or_else(|e| panic!("cannot connect to the X server at $DISPLAY: {e}"));
        let setup = conn.setup();
        let screen = &setup.roots[screen_num];
        assert_eq!(
            screen.root_depth, 24,
            "the screen must be 24-bit (Xvfb -screen 0 WxHx24)"
        );
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == 24)
            .map(|f| f.bits_per_pixel);
        assert_eq!(bpp, Some(32), "24-bit pixels must be stored in 32 bits");
        assert_eq!(
            setup.image_byte_order,
            ImageOrder::LSB_FIRST,
            "the capture decodes little-endian pixels"
        );
        let (root, root_visual) = (screen.root, screen.root_visual);
        Self {
            conn,
            root,
            root_visual,
        }
    }

    /// Creates and maps a top-level window at (`x`, `y`), filled with `background` (0xRRGGBB)
    /// wherever nothing is drawn over it.
    pub fn create_window(
        &self,
        title: &str,
        (x, y): (i16, i16),
        (width, height): (u16, u16),
        background: u32,
    ) -> HostWindow {
        let id = self.conn.generate_id().expect("an X id");
        self.conn
            .create_window(
                COPY_DEPTH_FROM_PARENT,
                id,
                self.root,
                x,
                y,
                width,
                height,
                0,
                WindowClass::INPUT_OUTPUT,
                self.root_visual,
                &CreateWindowAux::new()
                    .background_pixel(background)
                    .event_mask(EventMask::STRUCTURE_NOTIFY),
            )
            .expect("CreateWindow");
        self.conn
            .change_property8(
                PropMode::REPLACE,
                id,
                x11rb::protocol::xproto::AtomEnum::WM_NAME,
                x11rb::protocol::xproto::AtomEnum::STRING,
                title.as_bytes(),
            )
            .expect("WM_NAME");
        self.conn.map_window(id).expect("MapWindow");
        self.sync();
        HostWindow {
            id,
            x,
            y,
            width,
            height,
        }
    }

    /// Resizes `window` (its top-left corner stays).
    pub fn resize_window(&self, window: &mut HostWindow, (width, height): (u16, u16)) {
        self.conn
            .configure_window(
                window.id,
                &ConfigureWindowAux::new()
                    .width(u32::from(width))
                    .height(u32::from(height)),
            )
            .expect("ConfigureWindow");
        self.sync();
        window.width = width;
        window.height = height;
    }

    /// Destroys `window` (and anything still embedded in it).
    pub fn destroy_window(&self, window: HostWindow) {
        self.conn.destroy_window(window.id).expect("DestroyWindow");
        self.sync();
    }

    /// What the screen shows inside `window` now: read from the root window, so the embedded
    /// editor's pixels are included whatever its visual.
    pub fn capture(&self, window: &HostWindow) -> Picture {
        let reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.root,
                window.x,
                window.y,
                window.width,
                window.height,
                u32::MAX,
            )
            .expect("GetImage request")
            .reply()
            .unwrap_or_else(|e| panic!("GetImage of {window:?} failed: {e}"));
        let (w, h) = (usize::from(window.width), usize::from(window.height));
        assert_eq!(
            reply.data.len(),
            w * h * 4,
            "GetImage returned a short image"
        );
        let mut rgb = Vec::with_capacity(w * h * 3);
        for pixel in reply.data.chunks_exact(4) {
            // Little-endian 0x00RRGGBB: blue first.
            rgb.extend_from_slice(&[pixel[2], pixel[1], pixel[0]]);
        }
        Picture::new(u32::from(window.width), u32::from(window.height), rgb)
    }

    /// Discards the events queued for this connection (the host reacts to none of them).
    pub fn drain_events(&self) {
        while let Ok(Some(_)) = self.conn.poll_for_event() {}
    }

    /// Waits until the server has handled every request sent so far.
    pub fn sync(&self) {
        self.conn
            .sync()
            .unwrap_or_else(|e| panic!("X connection lost: {e}"));
    }
}
