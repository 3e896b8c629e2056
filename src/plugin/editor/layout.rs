//! How the window is divided: a header row, then (master only) the banner and the findings,
//! then the meter column on the left, which always fills the height, and a column on the
//! right that scrolls when its panels do not fit.

use super::theme::{self, Sizes};
use egui::{pos2, Rect, Ui, UiBuilder, Vec2};

/// Width of the meter column for a window `width` wide.
pub fn meter_column_width(width: f32, s: &Sizes) -> f32 {
    (width * 0.3).clamp(210.0 * s.scale.min(1.2), 380.0)
}

/// Splits what is left of `ui` into the meter column and the scrolling column, and fills
/// them. The scrolling column's panels are laid out top to bottom at its full width.
pub fn columns(
    ui: &mut Ui,
    s: &Sizes,
    scroll_id: &str,
    left: impl FnOnce(&mut Ui),
    right: impl FnOnce(&mut Ui),
) {
    let rest = ui.available_rect_before_wrap();
    let left_w = meter_column_width(rest.width(), s);
    let left_rect = Rect::from_min_size(rest.min, Vec2::new(left_w, rest.height()));
    let right_rect = Rect::from_min_max(pos2(left_rect.right() + theme::GAP, rest.top()), rest.max);
    ui.scope_builder(UiBuilder::new().max_rect(left_rect), |ui| {
        theme::panel().show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            left(ui);
        });
    });
    ui.scope_builder(UiBuilder::new().max_rect(right_rect), |ui| {
        egui::ScrollArea::vertical()
            .id_salt(scroll_id)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                // Leave room for the scroll bar so panels never run under it.
                ui.set_max_width((ui.available_width() - 4.0).max(0.0));
                right(ui);
            });
    });
    ui.allocate_rect(rest, egui::Sense::hover());
}

/// A titled panel at the full width of the column.
pub fn section(ui: &mut Ui, s: &Sizes, title: &str, body: impl FnOnce(&mut Ui)) {
    theme::panel().show(ui, |ui| {
        ui.set_width(ui.available_width());
        theme::title(ui, s, title);
        ui.add_space(2.0);
        body(ui);
    });
    ui.add_space(theme::GAP);
}
