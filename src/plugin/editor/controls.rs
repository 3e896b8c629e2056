//! What the user sets: the role and label in the header, Reset, the thresholds, and the
//! master's report folder and buttons. Everything else in the editor only reads.

use super::theme::{self, Sizes};
use crate::plugin::params::{RoleChoice, StemcheckParams};
use crate::plugin::readout::Tone;
use crate::plugin::shared::{ReportStatus, Shared};
use egui::{RichText, Ui};
use nice_plug::prelude::ParamSetter;
use nice_plug_egui::widgets::ParamSlider;

/// Text fields being edited (committed when they lose focus).
#[derive(Default)]
pub struct Edits {
    label: Option<String>,
    report_dir: Option<String>,
}

/// The header row: the instance's name, Role, Label, Reset.
pub fn header(
    ui: &mut Ui,
    s: &Sizes,
    name: &str,
    params: &StemcheckParams,
    shared: &Shared,
    setter: Option<&ParamSetter>,
    edits: &mut Edits,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(name).font(theme::bold(s.heading)));
        ui.add_space(12.0);
        role_selector(ui, params, setter);
        ui.add_space(8.0);
        ui.label(RichText::new("Label").color(theme::TEXT_DIM));
        let edit = edits.label.get_or_insert_with(|| params.label());
        let response = ui.add(
            egui::TextEdit::singleline(edit)
                .hint_text("host's track name")
                .desired_width(150.0 * s.scale),
        );
        if response.lost_focus() {
            let label = edit.trim().to_owned();
            StemcheckParams::set_string(&params.label, &label);
            shared.publish_name(&label);
            edits.label = None;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Reset")
                .on_hover_text("Clear holds, counters and the pass")
                .clicked()
            {
                shared.request_reset();
            }
        });
    });
}

/// The role selector: two buttons, Stem and Master.
pub fn role_selector(ui: &mut Ui, params: &StemcheckParams, setter: Option<&ParamSetter>) {
    let current = params.role_choice();
    ui.label(RichText::new("Role").color(theme::TEXT_DIM));
    for (choice, text) in [(RoleChoice::Stem, "Stem"), (RoleChoice::Master, "Master")] {
        let clicked = ui.selectable_label(current == choice, text).clicked();
        if clicked && current != choice {
            if let Some(setter) = setter {
                setter.begin_set_parameter(&params.role);
                setter.set_parameter(&params.role, choice.value());
                setter.end_set_parameter(&params.role);
            }
        }
    }
}

/// The thresholds (host parameters), in a grid of sliders.
pub fn settings(
    ui: &mut Ui,
    s: &Sizes,
    params: &StemcheckParams,
    setter: &ParamSetter,
    master: bool,
) {
    egui::Grid::new("settings")
        .num_columns(2)
        .spacing([14.0 * s.scale, 6.0 * s.scale])
        .show(ui, |ui| {
            let row = |ui: &mut Ui, name: &str, param| {
                ui.label(RichText::new(name).color(theme::TEXT_DIM));
                ui.add(ParamSlider::for_param(param, setter).with_width(180.0 * s.scale));
                ui.end_row();
            };
            row(ui, "Window low", &params.window_low_db);
            row(ui, "Window high", &params.window_high_db);
            row(ui, "True-peak ceiling", &params.tp_ceiling_db);
            if master {
                row(ui, "Null tolerance", &params.null_tolerance_db);
            }
        });
}

/// The master's report folder, its two ways of writing, and the last attempt's result.
pub fn report(
    ui: &mut Ui,
    s: &Sizes,
    shared: &Shared,
    params: &StemcheckParams,
    edits: &mut Edits,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Report folder").color(theme::TEXT_DIM));
        let edit = edits.report_dir.get_or_insert_with(|| params.report_dir());
        let response = ui.add(
            egui::TextEdit::singleline(edit)
                .hint_text("a folder for the JSON and Markdown report")
                .desired_width(300.0 * s.scale),
        );
        if response.lost_focus() {
            StemcheckParams::set_string(&params.report_dir, edit.trim());
            edits.report_dir = None;
        }
    });
    ui.horizontal_wrapped(|ui| {
        if ui.button("Write report").clicked() {
            shared.request_report();
        }
        let mut auto = params.auto_report();
        if ui
            .checkbox(&mut auto, "Write a report when playback stops")
            .changed()
        {
            // Relaxed: a lone flag read by the report thread.
            params
                .auto_report
                .store(auto, std::sync::atomic::Ordering::Relaxed);
        }
    });
    match shared.report_status() {
        ReportStatus::None => {}
        ReportStatus::Written(path) => {
            ui.label(
                RichText::new(format!("Report written: {}", path.display()))
                    .color(theme::tone(Tone::InWindow)),
            );
        }
        ReportStatus::Failed(why) => {
            ui.label(RichText::new(why).color(theme::tone(Tone::Fault)));
        }
    }
}
