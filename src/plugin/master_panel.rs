//! The master's part of the editor: the stems table, the live verdict with its findings, and
//! the report controls. Reads the registry; writes only parameters and persisted fields.
//!
//! Everything shown comes from the report built for this frame (the same `build_report` the
//! report thread writes), so the screen and the file always agree: order, levels, windows,
//! sample-rate mismatches and findings are derived in one place.

use super::overview::Overview;
use super::params::{RoleChoice, StemcheckParams};
use super::readout::format_db;
use super::report_worker::gather;
use super::shared::{ReportStatus, Shared};
use crate::report::{
    build_report, LimiterReport, LimiterVerdict, Report, Severity, StemReport, Verdict,
    WindowStatus,
};
use egui::{Color32, RichText};

/// Colours of the panel, shared with the meter view.
pub struct Palette {
    /// In the window / ready.
    pub good: Color32,
    /// Under the window.
    pub under: Color32,
    /// Over the window / warnings.
    pub warn: Color32,
    /// Faults / not ready.
    pub bad: Color32,
    /// Stale or idle.
    pub idle: Color32,
}

/// What the panel keeps between frames.
pub struct MasterPanel {
    overview: Overview,
    dir_edit: Option<String>,
}

impl MasterPanel {
    /// A panel reading `overview`'s registry.
    pub fn new(overview: Overview) -> Self {
        Self {
            overview,
            dir_edit: None,
        }
    }

    /// Draws the panel for one frame.
    pub fn draw(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        params: &StemcheckParams,
        palette: &Palette,
    ) {
        let (input, other_masters) = gather(shared, params, &mut self.overview);
        let report = build_report(&input);
        verdict_banner(ui, &report, palette);
        if other_masters > 0 {
            ui.label(
                RichText::new(format!(
                    "{other_masters} other instance(s) also set to Master: keep one master per \
                     session."
                ))
                .color(palette.warn),
            );
        }
        let stems = &report.stems;
        ui.label(format!(
            "{} stem{} visible in this process",
            stems.len(),
            if stems.len() == 1 { "" } else { "s" }
        ))
        .on_hover_text(
            "Instances loaded by the same plugin file in this host process. Hosts that run \
             plugins in separate processes keep instances apart.",
        );
        stems_table(ui, stems, palette);
        sum_line(ui, &report, palette);
        ui.add_space(6.0);
        findings_list(ui, &report, palette);
        ui.separator();
        self.report_controls(ui, shared, params, palette);
    }

    fn report_controls(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        params: &StemcheckParams,
        palette: &Palette,
    ) {
        ui.horizontal(|ui| {
            ui.label("Report folder");
            let edit = self.dir_edit.get_or_insert_with(|| params.report_dir());
            let response = ui.add(egui::TextEdit::singleline(edit).desired_width(260.0));
            if response.lost_focus() {
                StemcheckParams::set_string(&params.report_dir, edit.trim());
                self.dir_edit = None;
            }
        });
        ui.horizontal(|ui| {
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
            if ui.button("Write report").clicked() {
                shared.request_report();
            }
        });
        match shared.report_status() {
            ReportStatus::None => {}
            ReportStatus::Written(path) => {
                ui.label(format!("Report written: {}", path.display()));
            }
            ReportStatus::Failed(why) => {
                ui.label(RichText::new(why).color(palette.bad));
            }
        }
    }
}

fn verdict_banner(ui: &mut egui::Ui, report: &Report, palette: &Palette) {
    let colour = match report.verdict {
        Verdict::Ready => palette.good,
        Verdict::Warnings => palette.warn,
        Verdict::NotReady => palette.bad,
    };
    ui.label(
        RichText::new(report.verdict.banner())
            .size(28.0)
            .strong()
            .color(colour),
    );
}

fn findings_list(ui: &mut egui::Ui, report: &Report, palette: &Palette) {
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
    {
        let colour = match f.severity {
            Severity::Fail => palette.bad,
            _ => palette.warn,
        };
        ui.label(RichText::new(format!("{}  {}", f.severity.as_str(), f.message)).color(colour));
    }
}

fn stems_table(ui: &mut egui::Ui, stems: &[StemReport], palette: &Palette) {
    // The loudest channel of a per-channel reading (`None` = digital silence).
    let loudest = |levels: &[Option<f64>]| levels.iter().flatten().copied().reduce(f64::max);
    let db = |v: Option<f64>| format_db(v.map(|v| v as f32));
    egui::ScrollArea::vertical()
        .max_height(260.0)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("stems")
                .num_columns(11)
                .striped(true)
                .spacing([12.0, 2.0])
                .show(ui, |ui| {
                    for h in [
                        "Stem",
                        "Peak",
                        "True peak",
                        "Headroom",
                        "Overs",
                        "Clips",
                        "Rate",
                        "Dynamics",
                        "Gain",
                        "Offset",
                        "",
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for stem in stems {
                        let l = &stem.levels;
                        let window_colour = match l.window {
                            WindowStatus::Under => palette.under,
                            WindowStatus::In => palette.good,
                            WindowStatus::Over => palette.warn,
                        };
                        ui.label(&stem.name);
                        ui.label(db(loudest(&l.sample_peak_dbfs)));
                        ui.label(db(loudest(&l.true_peak_dbtp)));
                        let headroom = l
                            .headroom_db
                            .map_or("-".to_owned(), |h| format!("{h:.1} dB"));
                        ui.label(RichText::new(headroom).color(window_colour));
                        let count = |n: u64| {
                            let t = RichText::new(n.to_string());
                            if n > 0 {
                                t.color(palette.bad)
                            } else {
                                t
                            }
                        };
                        ui.label(count(l.true_peak_overs));
                        ui.label(count(l.clipped_samples));
                        let rate =
                            RichText::new(stem.sample_rate.map_or("-".to_owned(), |hz| {
                                format!("{:.1} k", hz as f32 / 1000.0)
                            }));
                        ui.label(if stem.sample_rate_mismatch {
                            rate.color(palette.bad)
                        } else {
                            rate
                        });
                        ui.label(dynamics_text(&stem.limiter, palette));
                        ui.label(gain_text(stem, palette));
                        ui.label(match stem.offset_samples {
                            Some(0) => RichText::new("0"),
                            Some(k) => RichText::new(format!("{k:+}")).color(palette.bad),
                            None => RichText::new("-"),
                        });
                        ui.label(if stem.alive {
                            RichText::new("alive").color(palette.good)
                        } else {
                            RichText::new("stale").color(palette.idle)
                        });
                        ui.end_row();
                    }
                });
        });
}

/// The limiter / clipper verdict of a bus ("-" until analysed).
fn dynamics_text(l: &LimiterReport, palette: &Palette) -> RichText {
    match l.verdict {
        None => RichText::new("-"),
        Some(LimiterVerdict::Unprocessed) => RichText::new("none"),
        Some(LimiterVerdict::Limited) => RichText::new("limited").color(palette.warn),
        Some(LimiterVerdict::Clipped) => RichText::new("clipped").color(palette.bad),
    }
}

/// The fitted gain of a stem: "0.0" at unity, the channels apart when they differ, "inv"
/// for an inverted stem.
fn gain_text(stem: &StemReport, palette: &Palette) -> RichText {
    let Some(gains) = &stem.gain_db else {
        return RichText::new("-");
    };
    let shown: Vec<String> = gains
        .iter()
        .map(|g| g.map_or("-".into(), |g| format!("{g:+.1}")))
        .collect();
    let mut text = if shown.windows(2).all(|w| w[0] == w[1]) {
        shown.first().cloned().unwrap_or_default()
    } else {
        shown.join(" / ")
    };
    if stem.polarity_inverted == Some(true) {
        text.push_str(" inv");
    }
    let off = gains.iter().flatten().any(|g| g.abs() > 0.1);
    match (stem.polarity_inverted == Some(true), off) {
        (true, _) => RichText::new(text).color(palette.bad),
        (false, true) => RichText::new(text).color(palette.warn),
        _ => RichText::new(text),
    }
}

/// One line of sum-check figures under the table.
fn sum_line(ui: &mut egui::Ui, report: &Report, palette: &Palette) {
    let s = &report.sum;
    let Some(null) = s.null_depth_db else {
        ui.label(
            RichText::new("Sum-check: play the session to compare the stems with the master.")
                .color(palette.idle),
        );
        return;
    };
    let db = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1} dB"));
    let mut text = format!(
        "Sum-check: null {} (fitted {}), unaccounted {}, cancellation {}, stem sum peaks at {}",
        db(Some(null)),
        db(s.null_depth_fitted_db),
        db(s.unaccounted_db),
        db(s.cancellation_db),
        s.sum_true_peak_dbtp
            .map_or("-".into(), |v| format!("{v:.1} dBTP")),
    );
    if let Some(gr) = report.master.limiter.gain_reduction_db {
        if report.master.limiter.verdict == Some(LimiterVerdict::Limited) {
            text.push_str(&format!(
                "; master processing reduces it by up to {gr:.1} dB"
            ));
        }
    }
    let colour = if null > report.thresholds.null_tolerance_db {
        palette.bad
    } else {
        palette.good
    };
    ui.label(RichText::new(text).color(colour));
}

/// The role selector, shown to every instance.
pub fn role_selector(
    ui: &mut egui::Ui,
    params: &StemcheckParams,
    setter: Option<&nice_plug::prelude::ParamSetter>,
) {
    let current = params.role_choice();
    ui.label("Role");
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
