//! The meter column, the same on a stem and on the master: the headroom figure and its
//! verdict, a line of loudness, then the meters filling the rest of the height.

use super::loudness;
use super::meters::{self, MeterMarks};
use super::status;
use super::theme::Sizes;
use crate::dsp::snapshot::MeterSnapshot;
use crate::plugin::readout::Headline;
use egui::{Ui, Vec2};

/// Draws the column into `ui` (the column's panel).
pub fn show(ui: &mut Ui, s: &Sizes, head: &Headline, snap: &MeterSnapshot, marks: MeterMarks) {
    status::headroom(ui, s, head);
    loudness::summary(ui, s, snap);
    ui.add_space(6.0);
    let size = Vec2::new(
        ui.available_width().max(meters::MIN_WIDTH),
        ui.available_height().max(120.0),
    );
    meters::show(ui, s, size, snap, marks);
}
