//! The egui editor: bars, the headroom number, counters, reset. It only reads snapshots
//! published by the audio thread and writes parameters through the host.

use super::master_panel::{role_selector, MasterPanel, Palette};
use super::overview::Overview;
use super::params::StemcheckParams;
use super::readout::{bar_fraction, format_db, format_position, headline, Tone};
use super::shared::{resolve_name, Shared};
use crate::dsp::level::{from_db, to_db};
use crate::dsp::snapshot::MeterSnapshot;
use crate::registry::{Registry, Role, CAPACITY};
use egui::{self, Align2, Color32, FontId, Rect, RichText, Sense, Stroke, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};
use std::sync::Arc;

/// Initial editor size in logical pixels.
const DEFAULT_SIZE: (u32, u32) = (640, 560);

/// The editor's size state, created with the plugin.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        LogicalSize::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32),
        1.0,
    )
}

/// Creates the editor (called by the host on the main thread).
pub fn create(
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
) -> Option<EguiEditor<MeterEditor>> {
    let settings = EguiNiceSettings {
        title: "Stemcheck".to_owned(),
        resize_hint: ResizeHint::resizable().with_min_logical_size(LogicalSize::new(360.0, 320.0)),
        ..Default::default()
    };
    let app = MeterEditor::new(params, shared);
    create_egui_editor(state, repaint, settings, app)
}

/// The editor's own state: handles to the shared values and the latest snapshot read.
pub struct MeterEditor {
    params: Arc<StemcheckParams>,
    shared: Arc<Shared>,
    gui: Option<GuiContext>,
    last: MeterSnapshot,
    /// The label while the user edits it (committed when the field loses focus).
    label_edit: Option<String>,
    master: MasterPanel,
}

impl MeterEditor {
    /// An editor over `params` and `shared` (the plugin makes one; tests and benches too).
    pub fn new(params: Arc<StemcheckParams>, shared: Arc<Shared>) -> Self {
        Self {
            params,
            shared,
            gui: None,
            last: MeterSnapshot::default(),
            label_edit: None,
            master: MasterPanel::new(Overview::new(Registry::global())),
        }
    }
}

/// The editor's colours for the master panel.
fn palette() -> Palette {
    Palette {
        good: colour(Tone::InWindow),
        under: colour(Tone::Under),
        warn: colour(Tone::Over),
        bad: colour(Tone::Fault),
        idle: colour(Tone::Idle),
    }
}

/// Colour for a tone.
fn colour(tone: Tone) -> Color32 {
    match tone {
        Tone::Idle => Color32::from_gray(140),
        Tone::Under => Color32::from_rgb(90, 160, 235),
        Tone::InWindow => Color32::from_rgb(80, 200, 110),
        Tone::Over => Color32::from_rgb(240, 170, 40),
        Tone::Fault => Color32::from_rgb(235, 70, 60),
    }
}

impl NiceEguiApp for MeterEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(nice_gui_ctx);
        // baseview 0.4.2 workarounds: see `x11_window` (editors that never paint, and a crash
        // when the last editor closes).
        super::x11_window::keep_egl_loaded();
        if let Err(e) = super::x11_window::listen_for_present_completions(frame.baseview_window()) {
            nice_warn!("the editor window may stay blank: {e}");
        }
        Ok(())
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
    /// Draws one frame (everything but the host window plumbing, so tests can run it).
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        // A read fails only while the audio thread publishes non-stop; keep the last one then.
        if let Some(s) = self.shared.snapshot.read() {
            self.last = s;
        }
        let snap = self.last;
        let window = self.params.window();
        let ceiling = self.params.tp_ceiling_db.value();
        let head = headline(&snap, window, ceiling);

        let is_master = self.params.role() == Role::Master;
        ui.horizontal(|ui| {
            let unnamed = if is_master { "Master" } else { "Stemcheck" };
            let (name, _) = resolve_name(&self.params.label(), &self.shared.track_name(), unnamed);
            ui.heading(name);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("Reset")
                    .on_hover_text("Clear holds and counters")
                    .clicked()
                {
                    self.shared.request_reset();
                }
            });
        });
        ui.separator();

        ui.horizontal(|ui| {
            draw_bars(ui, &snap, window, ceiling);
            ui.vertical(|ui| {
                ui.label("Headroom");
                let number = match head.headroom_db {
                    Some(h) => format!("{h:.1} dB"),
                    None => "-".to_owned(),
                };
                ui.label(
                    RichText::new(number)
                        .size(44.0)
                        .strong()
                        .color(colour(head.tone)),
                );
                ui.label(RichText::new(&head.verdict).color(colour(head.tone)));
                ui.add_space(8.0);
                egui::Grid::new("readings")
                    .num_columns(2)
                    .spacing([16.0, 4.0])
                    .show(ui, |ui| {
                        readings_grid(ui, &snap);
                    });
            });
        });
        ui.separator();
        if is_master {
            self.master.draw(ui, &self.shared, &self.params, &palette());
            ui.separator();
        }
        self.identity_row(ui);
        if let Some(gui) = &self.gui {
            let setter = gui.param_setter();
            egui::Grid::new("settings").num_columns(2).show(ui, |ui| {
                ui.label("Window low");
                ui.add(ParamSlider::for_param(&self.params.window_low_db, &setter));
                ui.end_row();
                ui.label("Window high");
                ui.add(ParamSlider::for_param(&self.params.window_high_db, &setter));
                ui.end_row();
                ui.label("True-peak ceiling");
                ui.add(ParamSlider::for_param(&self.params.tp_ceiling_db, &setter));
                ui.end_row();
            });
        }
    }

    /// Role, label, and the registry-full notice.
    fn identity_row(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let setter = self.gui.as_ref().map(|g| g.param_setter());
            role_selector(ui, &self.params, setter.as_ref());
            ui.add_space(12.0);
            ui.label("Label");
            let edit = self.label_edit.get_or_insert_with(|| self.params.label());
            let response = ui.add(
                egui::TextEdit::singleline(edit)
                    .hint_text("host's track name")
                    .desired_width(180.0),
            );
            if response.lost_focus() {
                let label = edit.trim().to_owned();
                StemcheckParams::set_string(&self.params.label, &label);
                self.shared.publish_name(&label);
                self.label_edit = None;
            }
        });
        if self.shared.slot.is_none() {
            ui.label(
                RichText::new(format!(
                    "The registry is full ({CAPACITY} instances): this instance meters, but \
                     no master can see it."
                ))
                .color(colour(Tone::Over)),
            );
        }
    }
}

/// The counters and health figures, two columns.
fn readings_grid(ui: &mut egui::Ui, snap: &MeterSnapshot) {
    let n = snap.channel_count();
    let per_channel = |v: &[f32]| {
        v[..n]
            .iter()
            .map(|&x| format_db(to_db(x)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let row = |ui: &mut egui::Ui, k: &str, v: String, bad: bool| {
        ui.label(k);
        let text = RichText::new(v);
        ui.label(if bad {
            text.color(colour(Tone::Fault))
        } else {
            text
        });
        ui.end_row();
    };
    row(ui, "True peak (dBTP)", per_channel(&snap.true_peak), false);
    row(
        ui,
        "Sample peak (dBFS)",
        per_channel(&snap.sample_peak),
        false,
    );
    let ev = |e: crate::dsp::snapshot::EventSnapshot| {
        let log = e.to_log();
        if log.count == 0 {
            "0".to_owned()
        } else {
            format!(
                "{}  (first {}, last {})",
                log.count,
                format_position(log.first, snap.sample_rate),
                format_position(log.last, snap.sample_rate)
            )
        }
    };
    row(ui, "Clipped samples", ev(snap.clips), snap.clips.count > 0);
    row(
        ui,
        "True-peak overs",
        ev(snap.true_peak_overs),
        snap.true_peak_overs.count > 0,
    );
    row(
        ui,
        "Flat tops",
        ev(snap.flat_tops),
        snap.flat_tops.count > 0,
    );
    row(
        ui,
        "NaN / Inf",
        snap.non_finite.to_string(),
        snap.non_finite > 0,
    );
    let dc = snap.dc_offset[..n]
        .iter()
        .map(|d| format!("{d:+.5}"))
        .collect::<Vec<_>>()
        .join(" / ");
    row(ui, "DC offset", dc, false);
    if let Some(c) = snap.correlation() {
        row(
            ui,
            "Correlation",
            format!("{c:+.2} (now {:+.2})", snap.correlation_recent),
            c < 0.0,
        );
    }
}

/// Per channel: a sample-peak bar and a true-peak bar, each with its hold line, over the
/// window band and the ceiling line.
fn draw_bars(ui: &mut egui::Ui, snap: &MeterSnapshot, window: (f32, f32), ceiling: f32) {
    let n = snap.channel_count().max(1);
    let bar_w = 14.0;
    let width = n as f32 * (2.0 * bar_w + 10.0) + 34.0;
    let height = ui.available_height().clamp(160.0, 600.0) - 120.0;
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height.max(140.0)), Sense::hover());
    let painter = ui.painter_at(rect);
    let y = |frac: f32| rect.bottom() - frac * rect.height();
    let db_y = |db: f32| y(bar_fraction(from_db(db)));
    let scale_x = rect.left() + 30.0;

    // Scale, window band, ceiling.
    for db in [0.0f32, -3.0, -6.0, -12.0, -24.0, -48.0] {
        let yy = db_y(db);
        painter.text(
            egui::pos2(scale_x - 4.0, yy),
            Align2::RIGHT_CENTER,
            format!("{db:.0}"),
            FontId::proportional(10.0),
            Color32::GRAY,
        );
    }
    let band = Rect::from_x_y_ranges(scale_x..=rect.right(), db_y(window.1)..=db_y(window.0));
    painter.rect_filled(band, 0.0, Color32::from_rgba_unmultiplied(80, 200, 110, 28));
    painter.line_segment(
        [
            egui::pos2(scale_x, db_y(ceiling)),
            egui::pos2(rect.right(), db_y(ceiling)),
        ],
        Stroke::new(1.0, colour(Tone::Fault)),
    );

    let tone_of = |linear: f32| match to_db(linear) {
        None => Tone::Idle,
        Some(db) if db > ceiling => Tone::Fault,
        Some(db) if db > window.1 => Tone::Over,
        Some(db) if db >= window.0 => Tone::InWindow,
        Some(_) => Tone::Under,
    };
    let mut x = scale_x + 6.0;
    for c in 0..snap.channel_count() {
        for (display, hold) in [
            (snap.sample_peak_display[c], snap.sample_peak[c]),
            (snap.true_peak_display[c], snap.true_peak[c]),
        ] {
            let bar = Rect::from_x_y_ranges(x..=x + bar_w, rect.top()..=rect.bottom());
            painter.rect_filled(bar, 2.0, Color32::from_gray(35));
            let fill =
                Rect::from_x_y_ranges(x..=x + bar_w, y(bar_fraction(display))..=rect.bottom());
            painter.rect_filled(fill, 2.0, colour(tone_of(display)));
            let hy = y(bar_fraction(hold));
            if hold > 0.0 {
                painter.line_segment(
                    [egui::pos2(x, hy), egui::pos2(x + bar_w, hy)],
                    Stroke::new(2.0, colour(tone_of(hold))),
                );
            }
            x += bar_w + 2.0;
        }
        painter.text(
            egui::pos2(x - bar_w - 1.0, rect.bottom() + 1.0),
            Align2::CENTER_TOP,
            if c == 0 { "L" } else { "R" },
            FontId::proportional(10.0),
            Color32::GRAY,
        );
        x += 8.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::snapshot::{EventSnapshot, FLAG_HAS_CORRELATION};

    fn editor(shared: Arc<Shared>, track_name: &str) -> MeterEditor {
        shared.set_track_name(track_name);
        MeterEditor::new(Arc::new(StemcheckParams::default()), shared)
    }

    /// Lays the editor out headlessly for a few frames and returns the text it painted.
    fn frame_texts(app: &mut MeterEditor, size: (f32, f32)) -> String {
        let ctx = egui::Context::default();
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
        let texts = frame_texts(&mut app, (520.0, 440.0));
        for want in [
            "07_Vocals_Lead",
            "Headroom",
            "4.4 dB",
            "In the window",
            "Reset",
            "0:01.000",
            "+0.50",
        ] {
            assert!(texts.contains(want), "missing {want:?} in {texts}");
        }
        // Small and mono still lay out.
        let mut app = editor(Arc::new(Shared::default()), "");
        let texts = frame_texts(&mut app, (200.0, 150.0));
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
        let texts = frame_texts(&mut app, (640.0, 900.0));
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
            "NOT READY",
            "44.1 k",
            "-6.0",
            "Report folder",
            "Write report",
        ] {
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
