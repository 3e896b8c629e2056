//! The egui editor. It only reads what the audio thread and the master's analysis publish,
//! and writes parameters and persisted fields through the host.
//!
//! One instance's editor shows its role: a stem shows its meters, headroom and verdict, its
//! readings and what the master concluded about it; the master adds the verdict banner, the
//! findings, the stems table, the sum-check and the report controls. Each part lives in its
//! own module and draws into the space it is given, so everything grows with the window.

mod brief;
mod bus_column;
mod conclusions;
mod controls;
pub mod findings;
pub mod fonts;
mod layout;
mod loudness;
mod master_view;
pub mod meters;
pub mod scale;
mod status;
mod stem_view;
pub mod stems_table;
pub mod theme;
pub mod timeline;

use super::editor_thread::{JoiningEditor, WindowThread};
use super::params::StemcheckParams;
use super::readout::headline;
use super::shared::{resolve_name, Shared};
use super::timeline_share::TimelineCopy;
use crate::dsp::snapshot::MeterSnapshot;
use crate::registry::{Registry, Role, CAPACITY};
use egui::{RichText, Vec2};
use master_view::MasterView;
use meters::MeterMarks;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::{
    create_egui_editor, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};
use std::sync::Arc;
use theme::Sizes;

/// Default size of a stem's editor, logical pixels: the meters, headroom, readings and the
/// master's conclusions fit without scrolling.
pub const STEM_SIZE: (f32, f32) = (760.0, 540.0);
/// Default size of the master's editor: banner, findings and an 8-stem table fit.
pub const MASTER_SIZE: (f32, f32) = (1040.0, 720.0);
/// Smallest size the window can be made.
pub const MIN_SIZE: (f32, f32) = (520.0, 400.0);

/// The editor's size state, created with the plugin.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(STEM_SIZE.0, STEM_SIZE.1), 1.0)
}

/// Creates the editor (called by the host on the main thread); its windows are closed only
/// after their thread ended (see `editor_thread`).
pub fn create(
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
) -> Option<JoiningEditor> {
    let settings = EguiNiceSettings {
        title: "Stemcheck".to_owned(),
        resize_hint: ResizeHint::resizable()
            .with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)),
        ..Default::default()
    };
    let thread = WindowThread::new();
    let app = MeterEditor::new(params, shared).recording_window_thread(thread.clone());
    create_egui_editor(state, repaint, settings, app).map(|e| JoiningEditor::new(e, thread))
}

/// The editor's own state: handles to the shared values and the latest snapshot read.
pub struct MeterEditor {
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
    gui: Option<GuiContext>,
    last: MeterSnapshot,
    edits: controls::Edits,
    master: MasterView,
    sizes: Sizes,
    /// The latest copy of the pass timeline.
    pass: TimelineCopy,
    /// The window was just opened: bring it to the saved (or the role's default) size.
    restore_size: bool,
    /// The role drawn in the previous frame, to follow a role change with the default size.
    last_role: Option<Role>,
    /// Where the window's thread is recorded when the window is built (the plugin's editor).
    window_thread: Option<Arc<WindowThread>>,
}

impl MeterEditor {
    /// An editor over `params` and `shared` (the plugin makes one; tests and benches too).
    pub fn new(params: Arc<StemcheckParams>, shared: Arc<Shared>) -> Self {
        Self {
            params,
            shared,
            gui: None,
            last: MeterSnapshot::default(),
            edits: controls::Edits::default(),
            master: MasterView::new(Registry::global()),
            sizes: Sizes::scaled(1.0),
            pass: TimelineCopy::default(),
            restore_size: false,
            last_role: None,
            window_thread: None,
        }
    }

    /// Records each window's thread in `thread` when the window is built, so that closing the
    /// editor can wait for that thread to end.
    pub fn recording_window_thread(mut self, thread: Arc<WindowThread>) -> Self {
        self.window_thread = Some(thread);
        self
    }
}

impl NiceEguiApp for MeterEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        if let Some(thread) = &self.window_thread {
            thread.record_current();
        }
        // baseview 0.4.2 workarounds: see `x11_window` (editors that never paint, and a crash
        // when the last editor closes).
        super::x11_window::keep_egl_loaded();
        if let Err(e) = super::x11_window::listen_for_present_completions(frame.baseview_window()) {
            nice_warn!("the editor window may stay blank: {e}");
        }
        theme::install(&egui_ctx);
        self.sizes = Sizes::scaled(1.0);
        self.gui = Some(nice_gui_ctx);
        self.restore_size = true;
        Ok(())
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        // Saved with the session (a persisted field), so the editor reopens at this size.
        let size = (
            new_size.logical.width as f32,
            new_size.logical.height as f32,
        );
        if size.0 >= MIN_SIZE.0 - 1.0 && size.1 >= MIN_SIZE.1 - 1.0 {
            self.params.set_editor_size(size);
        }
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        // Called on the main thread whenever the host names the track, editor open or not:
        // this is where the stem's name reaches the registry.
        self.shared.set_track_name(info.name());
        self.shared.publish_name(&self.params.label());
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        self.draw(ui);
    }
}

impl MeterEditor {
    /// Asks for the saved size when the window opens, and for the new role's default size
    /// when the role changes while the window still has the old role's default size.
    fn follow_size(&mut self, ui: &egui::Ui, role: Role) {
        let now = ui.ctx().content_rect().size();
        let default_of = |r: Role| {
            Vec2::from(if r == Role::Master {
                MASTER_SIZE
            } else {
                STEM_SIZE
            })
        };
        let target = if std::mem::take(&mut self.restore_size) {
            Some(
                self.params
                    .editor_size(MIN_SIZE)
                    .map_or(default_of(role), Vec2::from),
            )
        } else {
            match self.last_role {
                Some(last) if last != role && (now - default_of(last)).length() < 3.0 => {
                    Some(default_of(role))
                }
                _ => None,
            }
        };
        self.last_role = Some(role);
        if let Some(target) = target.filter(|t| (*t - now).length() >= 3.0) {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::InnerSize(target));
        }
    }

    /// Draws one frame (everything but the host window plumbing, so tests can run it).
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        // A read fails only while the audio thread publishes non-stop; keep the last one then.
        if let Some(s) = self.shared.snapshot.read() {
            self.last = s;
        }
        let role = self.params.role();
        let is_master = role == Role::Master;
        let default = if is_master { MASTER_SIZE } else { STEM_SIZE };
        self.follow_size(ui, role);
        let sizes = Sizes::for_window(ui.max_rect().size(), Vec2::from(default));
        if sizes != self.sizes {
            theme::apply(ui.ctx(), &sizes);
            self.sizes = sizes;
        }
        let s = self.sizes;
        let snap = self.last;
        let marks = MeterMarks {
            window: self.params.window(),
            ceiling: self.params.tp_ceiling_db.value(),
        };
        let head = headline(&snap, marks.window, marks.ceiling);
        if let Some(copy) = self.shared.timeline.read() {
            self.pass = copy;
        }
        let setter = self.gui.as_ref().map(|g| g.param_setter());

        egui::Frame::new()
            .fill(theme::BACKGROUND)
            .inner_margin(egui::Margin::same(theme::MARGIN as i8))
            .show(ui, |ui| {
                ui.set_min_size(ui.available_size());
                let unnamed = if is_master { "Master" } else { "Stemcheck" };
                let (name, _) =
                    resolve_name(&self.params.label(), &self.shared.track_name(), unnamed);
                controls::header(
                    ui,
                    &s,
                    &name,
                    &self.params,
                    &self.shared,
                    setter.as_ref(),
                    &mut self.edits,
                );
                if self.shared.slot.is_none() {
                    ui.label(
                        RichText::new(format!(
                            "The registry is full ({CAPACITY} instances): this instance meters, \
                             but no master can see it."
                        ))
                        .color(theme::tone(super::readout::Tone::Over)),
                    );
                }
                if let Some(line) = super::activation::status_line(&snap) {
                    ui.label(RichText::new(line).color(theme::tone(super::readout::Tone::Over)));
                }
                ui.add_space(theme::GAP / 2.0);
                if is_master {
                    self.master.draw(
                        ui,
                        &s,
                        &self.shared,
                        &self.params,
                        setter.as_ref(),
                        &mut self.edits,
                        &head,
                        &snap,
                        marks,
                        &self.pass,
                    );
                } else {
                    let master = self
                        .shared
                        .slot
                        .as_ref()
                        .and_then(|h| super::bulletin::read(h.index(), h.generation()));
                    stem_view::draw(
                        ui,
                        &s,
                        &self.params,
                        setter.as_ref(),
                        &head,
                        &snap,
                        marks,
                        &self.pass,
                        master.as_ref(),
                    );
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::snapshot::{EventSnapshot, FLAG_HAS_CORRELATION};
    use egui::Rect;

    fn editor(shared: Arc<Shared>, track_name: &str) -> MeterEditor {
        shared.set_track_name(track_name);
        MeterEditor::new(Arc::new(StemcheckParams::default()), shared)
    }

    /// Lays the editor out headlessly for a few frames and returns the text it painted.
    fn frame_texts(app: &mut MeterEditor, size: (f32, f32)) -> String {
        let ctx = egui::Context::default();
        theme::install(&ctx);
        // A character the bundled fonts cannot draw fails the test instead of drawing a box.
        ctx.set_missing_glyph_policy(egui::epaint::text::MissingGlyphPolicy::Panic);
        let input = || egui::RawInput {
            screen_rect: Some(Rect::from_min_size(
                egui::Pos2::ZERO,
                Vec2::new(size.0, size.1),
            )),
            ..Default::default()
        };
        let mut texts = String::new();
        for _ in 0..2 {
            let mut out = ctx.run_ui(input(), |ui| app.draw(ui));
            // No GPU here: the font atlas upload is dropped on purpose.
            out.textures_delta.clear();
            texts.clear();
            for shape in out.shapes {
                collect_text(&shape.shape, &mut texts);
            }
        }
        texts
    }

    fn collect_text(shape: &egui::Shape, out: &mut String) {
        match shape {
            egui::Shape::Text(t) => {
                out.push_str(t.galley.text());
                out.push('|');
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| collect_text(s, out)),
            _ => {}
        }
    }

    #[test]
    fn the_editor_shows_the_published_readings() {
        let shared = Arc::new(Shared::default());
        shared.snapshot.write(MeterSnapshot {
            channels: 2,
            sample_rate: 48_000.0,
            sample_peak: [0.5, 0.25],
            true_peak: [0.6, 0.3],
            sample_peak_display: [0.4, 0.2],
            true_peak_display: [0.45, 0.22],
            clips: EventSnapshot {
                count: 0,
                first: i64::MIN,
                last: i64::MIN,
            },
            true_peak_overs: EventSnapshot {
                count: 2,
                first: 48_000,
                last: 96_000,
            },
            correlation: 0.5,
            correlation_recent: 0.4,
            flags: FLAG_HAS_CORRELATION,
            ..Default::default()
        });
        let mut app = editor(shared, "07_Vocals_Lead");
        let texts = frame_texts(&mut app, STEM_SIZE);
        for want in [
            "07_Vocals_Lead",
            "HEADROOM",
            "4.4 dB",
            "In the window",
            "Reset",
            "0:01.000",
            "+0.50",
            "\u{2212}4.4",
            "Sample peak",
            "True peak",
        ] {
            assert!(texts.contains(want), "missing {want:?} in {texts}");
        }
        // The smallest window still shows the name and the verdict.
        let mut app = editor(Arc::new(Shared::default()), "");
        let texts = frame_texts(&mut app, MIN_SIZE);
        assert!(
            texts.contains("Stemcheck") && texts.contains("No signal yet"),
            "{texts}"
        );
    }

    #[test]
    fn the_master_lists_every_stem_by_name() {
        use crate::plugin::params::RoleChoice;
        use crate::registry::{NameSource, SlotReading};
        // The editor reads the process-wide registry; stems claimed here are unique by name.
        let reg = Registry::global();
        let stems: Vec<_> = ["zz_test_02_Bass", "zz_test_01_Kick", "zz_test_10_Pad"]
            .iter()
            .map(|name| {
                let h = reg.claim(name, NameSource::Host).unwrap();
                let snapshot = MeterSnapshot {
                    channels: 2,
                    sample_rate: 44_100.0,
                    sample_peak: [0.5, 0.5],
                    true_peak: [0.5, 0.5],
                    blocks: 1,
                    ..Default::default()
                };
                h.publish(&SlotReading::new(snapshot, Role::Stem));
                h
            })
            .collect();
        let shared = Arc::new(Shared::default());
        shared.snapshot.write(MeterSnapshot {
            channels: 2,
            sample_rate: 48_000.0,
            ..Default::default()
        });
        let params = Arc::new(StemcheckParams::with_role(RoleChoice::Master));
        let mut app = MeterEditor::new(params, shared);
        let texts = frame_texts(&mut app, MASTER_SIZE);
        let at = |name: &str| {
            texts
                .find(name)
                .unwrap_or_else(|| panic!("{name} missing: {texts}"))
        };
        assert!(at("zz_test_01_Kick") < at("zz_test_02_Bass"));
        assert!(
            at("zz_test_02_Bass") < at("zz_test_10_Pad"),
            "natural order"
        );
        for want in [
            "Master",
            "NO PASS YET",
            "VISIBLE IN THIS PROCESS",
            "Dynamics",
            "Offset",
            "State",
            "44.1 k",
            "\u{2212}6.0",
            // Known before any pass: the stems' rate differs from the master's.
            "runs at 44100 Hz but the master at 48000 Hz",
        ] {
            assert!(texts.contains(want), "missing {want:?} in {texts}");
        }
        // Further down the scrolling column: in view when the window is tall enough.
        let texts = frame_texts(&mut app, (MASTER_SIZE.0, 1400.0));
        for want in ["Report folder", "Write report", "MASTER READINGS"] {
            assert!(texts.contains(want), "missing {want:?} in {texts}");
        }
        drop(stems);
    }

    #[test]
    fn a_reset_request_is_taken_exactly_once() {
        let shared = Shared::default();
        assert!(!shared.take_reset_request());
        shared.request_reset();
        assert!(shared.take_reset_request());
        assert!(!shared.take_reset_request());
    }
}
