//! The verdict banner and the list of reasons under it.

use super::theme::{self, Sizes};
use crate::plugin::readout::Tone;
use crate::report::{Finding, Report, Severity, Verdict};
use egui::{Color32, CornerRadius, RichText, Stroke, Ui};

/// Colour of a verdict.
pub fn verdict_colour(v: Verdict) -> Color32 {
    theme::tone(match v {
        Verdict::Ready => Tone::InWindow,
        Verdict::Warnings => Tone::Over,
        Verdict::NotReady => Tone::Fault,
    })
}

/// Colour of a severity.
pub fn severity_colour(s: Severity) -> Color32 {
    theme::tone(match s {
        Severity::Fail => Tone::Fault,
        Severity::Warn => Tone::Over,
        Severity::Info => Tone::Under,
    })
}

/// What the banner says.
#[derive(Clone, Debug, PartialEq)]
pub struct BannerText {
    /// The big word(s): READY, WARNINGS, NOT READY, or NO PASS YET.
    pub headline: String,
    /// The counts or the instruction beside it.
    pub detail: String,
    /// The verdict, or `None` before the first pass (no verdict is given then).
    pub verdict: Option<Verdict>,
}

/// The banner for `report`: no verdict until something was played.
pub fn banner_text(report: &Report) -> BannerText {
    if !report.pass.played() {
        return BannerText {
            headline: "NO PASS YET".into(),
            detail: "Play the session from its start: the checks need a whole pass.".into(),
            verdict: None,
        };
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let (fails, warns) = (count(Severity::Fail), count(Severity::Warn));
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let detail = match (fails, warns) {
        (0, 0) => "Every check passed for this pass.".to_owned(),
        (0, w) => format!(
            "{}: worth a look before the bounce.",
            plural(w, "warning", "warnings")
        ),
        (f, 0) => format!(
            "{} to fix before the bounce.",
            plural(f, "problem", "problems")
        ),
        (f, w) => format!(
            "{} to fix, {}.",
            plural(f, "problem", "problems"),
            plural(w, "warning", "warnings")
        ),
    };
    BannerText {
        headline: report.verdict.banner().to_owned(),
        detail,
        verdict: Some(report.verdict),
    }
}

/// Rules that mean something before any pass was played (the rest judge a pass's readings).
const BEFORE_A_PASS: [&str; 3] = ["stems.sample_rate", "stems.none", "stem.stale"];

/// The findings to list under the banner: before the first pass only those that do not
/// judge a pass (a wrong sample rate is known at once; "silent" is not).
pub fn shown(report: &Report) -> Vec<Finding> {
    let played = report.pass.played();
    report
        .findings
        .iter()
        .filter(|f| played || BEFORE_A_PASS.contains(&f.id.as_str()))
        .cloned()
        .collect()
}

/// Draws the banner across the available width.
pub fn banner(ui: &mut Ui, s: &Sizes, text: &BannerText) {
    let colour = text.verdict.map_or(theme::tone(Tone::Idle), verdict_colour);
    egui::Frame::new()
        .fill(colour.gamma_multiply(0.18))
        .stroke(Stroke::new(1.5, colour))
        .corner_radius(CornerRadius::same(theme::RADIUS))
        .inner_margin(egui::Margin::symmetric(14, 8))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(&text.headline)
                        .font(theme::bold(s.banner))
                        .color(colour),
                );
                ui.add_space(10.0);
                ui.label(RichText::new(&text.detail).size(s.body).color(theme::TEXT));
            });
        });
}

/// The findings, most serious first, each with its severity and its sentence. Information
/// notes are included after the warnings when `with_info`.
pub fn list(ui: &mut Ui, s: &Sizes, findings: &[Finding], with_info: bool) {
    let shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| with_info || f.severity != Severity::Info)
        .collect();
    if shown.is_empty() {
        ui.label(RichText::new("No problems found.").color(theme::TEXT_DIM));
        return;
    }
    let width = ui.available_width();
    let chip_w = 44.0 * s.scale;
    for f in shown {
        ui.horizontal_top(|ui| {
            let colour = severity_colour(f.severity);
            let chip = match f.severity {
                Severity::Fail => "FAIL",
                Severity::Warn => "WARN",
                Severity::Info => "INFO",
            };
            egui::Frame::new()
                .fill(colour.gamma_multiply(0.22))
                .corner_radius(CornerRadius::same(3))
                .inner_margin(egui::Margin::symmetric(5, 1))
                .show(ui, |ui| {
                    ui.set_width(chip_w - 10.0);
                    ui.label(RichText::new(chip).font(theme::bold(s.small)).color(colour));
                });
            // The sentence wraps in what is left of the row's width.
            let rest = (width - chip_w - ui.spacing().item_spacing.x).max(60.0);
            ui.allocate_ui_with_layout(
                egui::Vec2::new(rest, 0.0),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_max_width(rest);
                    ui.add(egui::Label::new(RichText::new(&f.message).size(s.body)).wrap());
                },
            );
        });
    }
}
