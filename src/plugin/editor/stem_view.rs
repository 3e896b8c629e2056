//! A stem's editor: the meter column, then its readings, what the master concluded about it,
//! and the thresholds.

use super::brief;
use super::bus_column;
use super::conclusions;
use super::controls;
use super::layout::{columns, section};
use super::loudness;
use super::meters::MeterMarks;
use super::status;
use super::theme::Sizes;
use super::timeline::{self, TimelineMarks};
use crate::dsp::snapshot::MeterSnapshot;
use crate::plugin::bulletin::{Posting, StemConclusion};
use crate::plugin::params::StemcheckParams;
use crate::plugin::readout::Headline;
use crate::plugin::timeline_share::TimelineCopy;
use egui::Ui;
use nice_plug::prelude::ParamSetter;
use std::sync::Arc;

/// Draws the stem's view below the header.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    ui: &mut Ui,
    s: &Sizes,
    params: &StemcheckParams,
    setter: Option<&ParamSetter>,
    head: &Headline,
    snap: &MeterSnapshot,
    marks: MeterMarks,
    pass: &TimelineCopy,
    master: Option<&(Arc<Posting>, Option<StemConclusion>)>,
) {
    columns(
        ui,
        s,
        "stem-column",
        |ui| bus_column::show(ui, s, head, snap, marks),
        |ui| {
            section(ui, s, "WHAT THE MASTER HEARS", |ui| {
                conclusions::show(ui, s, master)
            });
            section(ui, s, "READINGS", |ui| {
                status::readings(ui, s, "stem-readings", snap)
            });
            section(ui, s, "LOUDNESS", |ui| {
                loudness::show(ui, s, "stem-loudness", snap)
            });
            section(ui, s, "PASS", |ui| {
                let marks = TimelineMarks::of(marks, snap);
                timeline::show(ui, s, 120.0 * s.scale, pass, marks, &[]);
            });
            section(ui, s, "NOTE FOR THE MASTER'S READ-ME", |ui| {
                brief::stem(ui, params)
            });
            if let Some(setter) = setter {
                section(ui, s, "SETTINGS", |ui| {
                    controls::settings(ui, s, params, setter, false)
                });
            }
        },
    );
}
