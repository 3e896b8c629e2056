//! The bus meters: per channel a sample-peak bar and a true-peak bar with their hold lines,
//! over the delivery window's band and the ceiling line, with a scale, channel labels, the
//! hold values as numbers and a legend. Everything is drawn inside the rect it is given, so
//! the meters grow with the window.

use super::scale::MeterScale;
use super::theme::{self, Sizes};
use crate::dsp::level::to_db;
use crate::dsp::snapshot::MeterSnapshot;
use crate::plugin::readout::{format_db, level_tone, Tone};
use egui::{pos2, Align2, Color32, Rect, Sense, Shape, Stroke, Ui, Vec2};

/// Narrowest the meters get, logical pixels (scale, two stereo bar pairs, margins).
pub const MIN_WIDTH: f32 = 150.0;

/// Thresholds the meters draw.
#[derive(Clone, Copy, Debug)]
pub struct MeterMarks {
    /// Delivery window (low, high), dBFS.
    pub window: (f32, f32),
    /// True-peak ceiling, dBTP.
    pub ceiling: f32,
}

/// Allocates `size` in `ui` and draws the meters of `snap` into it.
pub fn show(ui: &mut Ui, s: &Sizes, size: Vec2, snap: &MeterSnapshot, marks: MeterMarks) -> Rect {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    draw(ui, s, rect, snap, marks);
    rect
}

/// Layout of the meter area, from top to bottom.
struct Rows {
    holds: Rect,
    bars: Rect,
    channels: Rect,
    legend: Rect,
}

fn rows(s: &Sizes, rect: Rect) -> Rows {
    let line = s.small + 4.0;
    let holds = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 2.0 * line + 2.0));
    let legend = Rect::from_min_max(pos2(rect.left(), rect.bottom() - 2.0 * line), rect.max);
    let channels = Rect::from_min_max(
        pos2(rect.left(), legend.top() - line - 2.0),
        pos2(rect.right(), legend.top()),
    );
    let bars = Rect::from_min_max(
        pos2(rect.left(), holds.bottom() + s.small / 2.0 + 2.0),
        pos2(rect.right(), channels.top() - 2.0),
    );
    Rows {
        holds,
        bars,
        channels,
        legend,
    }
}

/// Draws the meters of `snap` into `rect`.
pub fn draw(ui: &Ui, s: &Sizes, rect: Rect, snap: &MeterSnapshot, marks: MeterMarks) {
    let painter = ui.painter_at(rect);
    let rows = rows(s, rect);
    let scale = MeterScale::new(marks.window.0, marks.ceiling);
    let label_font = theme::regular(s.small);
    let scale_w = 30.0 * s.scale + 4.0;
    let bars = Rect::from_min_max(
        pos2(rows.bars.left() + scale_w, rows.bars.top()),
        rows.bars.max,
    );
    let y_of = |f: f32| bars.bottom() - f * bars.height();
    let y_db = |db: f32| y_of(scale.fraction_db(db));

    // Window band and ceiling across every bar.
    let band = Rect::from_x_y_ranges(bars.x_range(), y_db(marks.window.1)..=y_db(marks.window.0));
    painter.rect_filled(bars, 3.0, theme::BAR_BACK);
    painter.rect_filled(band, 0.0, theme::window_band());

    // Scale: labels on the left, faint lines across.
    let pinned = [marks.window.1, marks.window.0];
    for db in scale.ticks(bars.height(), s.small + 2.0, &pinned) {
        let y = y_db(db);
        let in_window = (marks.window.0..=marks.window.1).contains(&db);
        painter.text(
            pos2(bars.left() - 6.0, y),
            Align2::RIGHT_CENTER,
            scale_label(db),
            label_font.clone(),
            if in_window {
                theme::tone(Tone::InWindow)
            } else {
                theme::TEXT_DIM
            },
        );
        painter.hline(
            bars.x_range(),
            y,
            Stroke::new(1.0, Color32::from_white_alpha(14)),
        );
    }
    let ceiling_y = y_db(marks.ceiling);
    painter.extend(Shape::dashed_line(
        &[pos2(bars.left(), ceiling_y), pos2(bars.right(), ceiling_y)],
        Stroke::new(1.5, theme::tone(Tone::Fault)),
        5.0,
        3.0,
    ));

    // Before the first activation the layout is unknown: draw the usual stereo pair.
    let n = match snap.channel_count() {
        0 => 2,
        n => n,
    };
    let column = bars.width() / n as f32;
    let pad = (column * 0.1).clamp(3.0, 12.0);
    for c in 0..n {
        let x0 = bars.left() + c as f32 * column + pad;
        let inner = column - 2.0 * pad;
        let sp_w = inner * 0.4;
        let gap = (inner * 0.08).max(2.0);
        let sp = Rect::from_x_y_ranges(x0..=x0 + sp_w, bars.y_range());
        let tp = Rect::from_x_y_ranges(x0 + sp_w + gap..=x0 + inner, bars.y_range());
        let active = c < snap.channel_count();
        let (sp_now, sp_hold, tp_now, tp_hold) = if active {
            (
                snap.sample_peak_display[c],
                snap.sample_peak[c],
                snap.true_peak_display[c],
                snap.true_peak[c],
            )
        } else {
            (0.0, 0.0, 0.0, 0.0)
        };
        let tone = theme::tone(level_tone(tp_now, marks.window, marks.ceiling));
        bar(&painter, sp, scale.fraction(sp_now), theme::SAMPLE_PEAK);
        bar(&painter, tp, scale.fraction(tp_now), tone);
        hold_line(&painter, sp, scale.fraction(sp_hold), sp_hold, theme::TEXT);
        let hold_tone = theme::tone(level_tone(tp_hold, marks.window, marks.ceiling));
        hold_line(&painter, tp, scale.fraction(tp_hold), tp_hold, hold_tone);

        // Hold values above the column: true peak (bold, in its status colour), sample peak.
        let cx = x0 + inner / 2.0;
        let tp_text = if active {
            format_db(to_db(tp_hold))
        } else {
            String::new()
        };
        let sp_text = if active {
            format_db(to_db(sp_hold))
        } else {
            String::new()
        };
        painter.text(
            pos2(cx, rows.holds.top()),
            Align2::CENTER_TOP,
            tp_text,
            theme::bold(s.body),
            if tp_hold > 0.0 {
                hold_tone
            } else {
                theme::TEXT_DIM
            },
        );
        painter.text(
            pos2(cx, rows.holds.top() + s.body + 3.0),
            Align2::CENTER_TOP,
            sp_text,
            label_font.clone(),
            theme::TEXT_DIM,
        );
        let name = match (n, c) {
            (1, _) => "M",
            (_, 0) => "L",
            _ => "R",
        };
        painter.text(
            pos2(cx, rows.channels.center().y),
            Align2::CENTER_CENTER,
            name,
            theme::bold(s.small),
            theme::TEXT,
        );
    }
    // Row captions at the left of the hold values.
    painter.text(
        pos2(rows.holds.left(), rows.holds.top() + 1.0),
        Align2::LEFT_TOP,
        "TP",
        label_font.clone(),
        theme::TEXT_DIM,
    );
    painter.text(
        pos2(rows.holds.left(), rows.holds.top() + s.body + 3.0),
        Align2::LEFT_TOP,
        "SP",
        label_font.clone(),
        theme::TEXT_DIM,
    );
    legend(&painter, s, rows.legend);
}

/// A scale label: whole dB without decimals ("\u{2212}12"), others with one ("\u{2212}4.5").
pub fn scale_label(db: f32) -> String {
    if db.fract() == 0.0 {
        let whole = db as i32;
        if whole < 0 {
            format!("\u{2212}{}", -whole)
        } else {
            format!("{whole}")
        }
    } else {
        format_db(Some(db)).trim_start_matches('+').to_owned()
    }
}

/// One bar filled to `fraction` of its height.
fn bar(painter: &egui::Painter, rect: Rect, fraction: f32, colour: Color32) {
    if fraction <= 0.0 {
        return;
    }
    let top = rect.bottom() - fraction * rect.height();
    painter.rect_filled(
        Rect::from_x_y_ranges(rect.x_range(), top..=rect.bottom()),
        1.0,
        colour,
    );
}

/// The hold mark: a line across the bar at the held level.
fn hold_line(painter: &egui::Painter, rect: Rect, fraction: f32, linear: f32, colour: Color32) {
    if linear <= 0.0 {
        return;
    }
    let y = rect.bottom() - fraction * rect.height();
    painter.hline(rect.x_range(), y, Stroke::new(2.5, colour));
}

/// Two lines along the bottom: the bars' colours, then the hold line and the ceiling.
fn legend(painter: &egui::Painter, s: &Sizes, rect: Rect) {
    let font = theme::regular(s.small);
    let line = rect.height() / 2.0;
    let swatch = |x: f32, y: f32, colour: Color32| {
        painter.rect_filled(
            Rect::from_center_size(pos2(x + 4.0, y), Vec2::new(8.0, s.small * 0.8)),
            1.0,
            colour,
        );
        x + 12.0
    };
    let caption = |x: f32, y: f32, text: &str| {
        painter
            .text(
                pos2(x, y),
                Align2::LEFT_CENTER,
                text,
                font.clone(),
                theme::TEXT_DIM,
            )
            .right()
            + 12.0
    };
    let y = rect.top() + line / 2.0;
    let x = swatch(rect.left(), y, theme::SAMPLE_PEAK);
    let x = caption(x, y, "Sample peak");
    let x = swatch(x, y, theme::tone(Tone::InWindow));
    caption(x, y, "True peak");

    let y = y + line;
    let x = rect.left();
    painter.hline(x..=x + 10.0, y, Stroke::new(2.5, theme::TEXT));
    let x = caption(x + 14.0, y, "Hold");
    painter.extend(Shape::dashed_line(
        &[pos2(x, y), pos2(x + 14.0, y)],
        Stroke::new(1.5, theme::tone(Tone::Fault)),
        4.0,
        2.0,
    ));
    let x = caption(x + 18.0, y, "Ceiling");
    let x = swatch(x, y, Color32::from_rgb(0x2e, 0x5a, 0x45));
    caption(x, y, "Window");
}
