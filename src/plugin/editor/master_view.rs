//! The master's editor: the verdict banner and its reasons across the top, then the meter
//! column beside the stems table, the sum-check, the master's readings, the report controls
//! and the thresholds.
//!
//! Everything shown comes from the report built for this frame (the same `build_report` the
//! report thread writes), so the screen and the file always agree.

use super::controls::{self, Edits};
use super::findings;
use super::layout::{columns, section};
use super::meters::MeterMarks;
use super::theme::{self, Sizes};
use super::timeline::{self, TimelineMarks};
use super::{brief, bus_column, loudness, status, stems_table};
use crate::dsp::snapshot::MeterSnapshot;
use crate::plugin::overview::Overview;
use crate::plugin::params::StemcheckParams;
use crate::plugin::readout::{Headline, Tone};
use crate::plugin::report_worker::gather;
use crate::plugin::shared::Shared;
use crate::plugin::timeline_share::TimelineCopy;
use crate::registry::Registry;
use crate::report::{build_report, LimiterVerdict, Report};
use egui::{RichText, Ui};
use nice_plug::prelude::ParamSetter;

/// What the master's view keeps between frames.
pub struct MasterView {
    overview: Overview,
}

impl MasterView {
    /// A view reading `registry`.
    pub fn new(registry: &'static Registry) -> Self {
        Self {
            overview: Overview::new(registry),
        }
    }

    /// Draws the master's view below the header.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        &mut self,
        ui: &mut Ui,
        s: &Sizes,
        shared: &Shared,
        params: &StemcheckParams,
        setter: Option<&ParamSetter>,
        edits: &mut Edits,
        head: &Headline,
        snap: &MeterSnapshot,
        marks: MeterMarks,
        pass: &TimelineCopy,
    ) {
        let (input, other_masters) = gather(shared, params, &mut self.overview);
        let report = build_report(&input);
        findings::banner(ui, s, &findings::banner_text(&report));
        if other_masters > 0 {
            ui.label(
                RichText::new(format!(
                    "{other_masters} other instance(s) also set to Master: keep one master per \
                     session."
                ))
                .color(theme::tone(Tone::Over)),
            );
        }
        ui.add_space(theme::GAP / 2.0);
        let reasons = findings::shown(&report);
        if !reasons.is_empty() || report.pass.played() {
            // The reasons, right under the banner; a long list scrolls in its own area.
            let max = (ui.available_height() * 0.3).max(90.0);
            egui::ScrollArea::vertical()
                .id_salt("findings")
                .max_height(max)
                .auto_shrink([false, true])
                .show(ui, |ui| findings::list(ui, s, &reasons, false));
            ui.add_space(theme::GAP);
        }
        columns(
            ui,
            s,
            "master-column",
            |ui| bus_column::show(ui, s, head, snap, marks),
            |ui| {
                let n = report.stems.len();
                let title = format!("STEMS: {n} VISIBLE IN THIS PROCESS",);
                section(ui, s, &title, |ui| {
                    if n == 0 {
                        ui.label(
                            RichText::new(
                                "No stem instances here yet. Put Stemcheck on every stem bus. \
                                 Hosts that run plugins in separate processes keep instances \
                                 apart.",
                            )
                            .color(theme::TEXT_DIM),
                        );
                    } else {
                        stems_table::show(ui, s, &report.stems);
                    }
                });
                section(ui, s, "SUM-CHECK", |ui| sum_check(ui, s, &report));
                section(
                    ui,
                    s,
                    "PASS: MASTER LEVEL, AND WHERE ANY BUS CLIPPED OR WENT OVER",
                    |ui| {
                        let markers = timeline::stem_markers(&report);
                        timeline::show(
                            ui,
                            s,
                            130.0 * s.scale,
                            pass,
                            TimelineMarks::of(marks, snap),
                            &markers,
                        );
                    },
                );
                section(ui, s, "MASTER READINGS", |ui| {
                    status::readings(ui, s, "master-readings", snap)
                });
                section(ui, s, "MASTER LOUDNESS", |ui| {
                    loudness::show(ui, s, "master-loudness", snap)
                });
                section(ui, s, "REPORT", |ui| {
                    controls::report(ui, s, shared, params, edits)
                });
                section(ui, s, "BRIEF (WRITTEN INTO THE READ-ME)", |ui| {
                    brief::master(ui, s, params, &report.stems)
                });
                if let Some(setter) = setter {
                    section(ui, s, "SETTINGS", |ui| {
                        controls::settings(ui, s, params, setter, true)
                    });
                }
            },
        );
    }
}

/// The sum-check's figures as a small grid, green when the stems null, red when not.
fn sum_check(ui: &mut Ui, s: &Sizes, report: &Report) {
    let sum = &report.sum;
    let Some(null) = sum.null_depth_db else {
        ui.label(
            RichText::new("Play the session to compare the stems with the master.")
                .color(theme::TEXT_DIM),
        );
        return;
    };
    let db = |v: Option<f64>, unit: &str| {
        v.map_or(crate::plugin::readout::NO_VALUE.to_owned(), |v| {
            format!(
                "{} {unit}",
                crate::plugin::readout::format_db(Some(v as f32))
            )
        })
    };
    let nulls = null <= report.thresholds.null_tolerance_db;
    let verdict = theme::tone(if nulls { Tone::InWindow } else { Tone::Fault });
    egui::Grid::new("sum-check")
        .num_columns(4)
        .spacing([14.0 * s.scale, 5.0 * s.scale])
        .show(ui, |ui| {
            let cell = |ui: &mut Ui, k: &str, v: String, colour| {
                ui.label(RichText::new(k).color(theme::TEXT_DIM));
                ui.label(RichText::new(v).color(colour));
            };
            cell(ui, "Null at unity", db(Some(null), "dB"), verdict);
            cell(
                ui,
                "Fitted",
                db(sum.null_depth_fitted_db, "dB"),
                theme::TEXT,
            );
            ui.end_row();
            cell(ui, "Unaccounted", db(sum.unaccounted_db, "dB"), theme::TEXT);
            cell(
                ui,
                "Cancellation",
                db(sum.cancellation_db, "dB"),
                theme::TEXT,
            );
            ui.end_row();
            cell(
                ui,
                "Stem sum peaks at",
                db(sum.sum_true_peak_dbtp, "dBTP"),
                theme::TEXT,
            );
            let compared = sum.compared_frames.unwrap_or(0);
            let skipped = sum.skipped_frames.unwrap_or(0);
            cell(
                ui,
                "Frames compared",
                format!("{compared} ({skipped} skipped)"),
                if skipped > 0 {
                    theme::tone(Tone::Over)
                } else {
                    theme::TEXT
                },
            );
            ui.end_row();
            if report.master.limiter.verdict == Some(LimiterVerdict::Limited) {
                if let Some(gr) = report.master.limiter.gain_reduction_db {
                    cell(
                        ui,
                        "Master processing",
                        format!("up to {gr:.1} dB of gain reduction"),
                        theme::tone(Tone::Fault),
                    );
                    ui.end_row();
                }
            }
        });
}
