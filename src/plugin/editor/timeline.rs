//! The pass timeline: the bus's peak level over song position for the current pass, over the
//! delivery window's band and the ceiling, with a mark wherever a clip, a true-peak over, a
//! flat top or a finding happened, so "where did it clip?" is answered by looking.

use super::scale::MeterScale;
use super::theme::{self, Sizes};
use crate::dsp::timeline::{EVENT_CLIP, EVENT_FLAT_TOP, EVENT_NAN_INF, EVENT_OVER};
use crate::plugin::readout::{format_db, level_tone, Tone};
use crate::plugin::timeline_share::TimelineCopy;
use crate::report::fmt_time;
use egui::{pos2, Align2, Color32, Rect, Sense, Shape, Stroke, Ui, Vec2};

/// A mark on the timeline that is not in the bins: a finding about another bus (the master
/// shows where each stem clipped).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Song position, samples.
    pub pos: i64,
    /// What happened there ("03_Keys clips").
    pub label: String,
    /// Fault (red) or warning (amber).
    pub tone: Tone,
}

/// Thresholds and rate the timeline needs.
#[derive(Clone, Copy, Debug)]
pub struct TimelineMarks {
    /// Delivery window (low, high), dBFS.
    pub window: (f32, f32),
    /// True-peak ceiling, dBTP.
    pub ceiling: f32,
    /// Sample rate of the bus, for song times.
    pub sample_rate: f32,
    /// Where the transport is now, if known.
    pub playhead: Option<i64>,
}

impl TimelineMarks {
    /// The meters' thresholds, with the rate and position of `snap`.
    pub fn of(
        marks: super::meters::MeterMarks,
        snap: &crate::dsp::snapshot::MeterSnapshot,
    ) -> Self {
        let pos = snap.position;
        Self {
            window: marks.window,
            ceiling: marks.ceiling,
            sample_rate: snap.sample_rate,
            playhead: (pos != crate::dsp::snapshot::NO_POSITION
                && snap.flags & crate::dsp::snapshot::FLAG_PLAYING != 0)
                .then_some(pos),
        }
    }
}

/// Marks for every event a stem logged (its first and last clip, over and flat top), for the
/// master's timeline.
pub fn stem_markers(report: &crate::report::Report) -> Vec<Marker> {
    let mut out = Vec::new();
    for stem in &report.stems {
        let l = &stem.levels;
        for (first, last, what) in [
            (l.clip_first_samples, l.clip_last_samples, "clips"),
            (
                l.true_peak_over_first_samples,
                l.true_peak_over_last_samples,
                "true-peak over",
            ),
            (
                l.flat_top_first_samples,
                l.flat_top_last_samples,
                "flat top",
            ),
        ] {
            for pos in [first, last].into_iter().flatten() {
                out.push(Marker {
                    pos,
                    label: format!("{}: {what}", stem.name),
                    tone: Tone::Fault,
                });
            }
        }
    }
    out
}

/// The colour of a bin's events, most serious first.
fn event_tone(flags: u8) -> Option<Tone> {
    if flags & (EVENT_CLIP | EVENT_FLAT_TOP | EVENT_NAN_INF | EVENT_OVER) != 0 {
        Some(Tone::Fault)
    } else {
        None
    }
}

/// Draws the timeline `height` px tall at the full width.
pub fn show(
    ui: &mut Ui,
    s: &Sizes,
    height: f32,
    copy: &TimelineCopy,
    marks: TimelineMarks,
    markers: &[Marker],
) {
    let (rect, response) =
        ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    let font = theme::regular(s.small);
    let axis_h = s.small + 6.0;
    let scale_w = 30.0 * s.scale + 4.0;
    let plot = Rect::from_min_max(
        pos2(rect.left() + scale_w, rect.top() + 2.0),
        pos2(rect.right() - 4.0, rect.bottom() - axis_h),
    );
    let scale = MeterScale::new(marks.window.0, marks.ceiling);
    let y_db = |db: f32| plot.bottom() - scale.fraction_db(db) * plot.height();
    painter.rect_filled(plot, 3.0, theme::BAR_BACK);
    let band = Rect::from_x_y_ranges(plot.x_range(), y_db(marks.window.1)..=y_db(marks.window.0));
    painter.rect_filled(band, 0.0, theme::window_band());
    for db in scale.ticks(
        plot.height(),
        s.small + 2.0,
        &[marks.window.1, marks.window.0],
    ) {
        painter.text(
            pos2(plot.left() - 6.0, y_db(db)),
            Align2::RIGHT_CENTER,
            super::meters::scale_label(db),
            font.clone(),
            theme::TEXT_DIM,
        );
    }
    painter.extend(Shape::dashed_line(
        &[
            pos2(plot.left(), y_db(marks.ceiling)),
            pos2(plot.right(), y_db(marks.ceiling)),
        ],
        Stroke::new(1.0, theme::tone(Tone::Fault)),
        5.0,
        3.0,
    ));

    let Some(origin) = copy.origin.filter(|_| !copy.bins.is_empty()) else {
        painter.text(
            plot.center(),
            Align2::CENTER_CENTER,
            "Play the session: the pass is drawn here as it plays.",
            theme::regular(s.body),
            theme::TEXT_DIM,
        );
        return;
    };
    let rate = f64::from(marks.sample_rate.max(1.0));
    let span = (copy.bins.len() as i64 * copy.bin_len).max(1);
    let x_of = |pos: i64| plot.left() + (pos - origin) as f32 / span as f32 * plot.width();

    // One column per pixel: the loudest bin under it, in the colour of its level.
    let columns = plot.width().floor().max(1.0) as usize;
    let per_col = copy.bins.len() as f32 / columns as f32;
    let mut events: Vec<(f32, Tone)> = Vec::new();
    for col in 0..columns {
        let a = (col as f32 * per_col).floor() as usize;
        let b = (((col + 1) as f32 * per_col).ceil() as usize).clamp(a + 1, copy.bins.len());
        let Some(bins) = copy.bins.get(a..b) else {
            continue;
        };
        let level = bins
            .iter()
            .filter(|b| b.has_data())
            .map(|b| b.level)
            .fold(0.0, f32::max);
        let x = plot.left() + col as f32;
        if level > 0.0 {
            let top = plot.bottom() - scale.fraction(level) * plot.height();
            let colour = theme::tone(level_tone(level, marks.window, marks.ceiling));
            painter.rect_filled(
                Rect::from_x_y_ranges(x..=x + 1.0, top..=plot.bottom()),
                0.0,
                colour.gamma_multiply(0.85),
            );
        }
        let flags = bins.iter().fold(0, |f, b| f | b.flags);
        if let Some(tone) = event_tone(flags) {
            if events.last().is_none_or(|&(last, _)| x - last > 3.0) {
                events.push((x, tone));
            }
        }
    }
    for (x, tone) in &events {
        mark(&painter, plot, *x, theme::tone(*tone));
    }
    for m in markers {
        if (origin..origin + span).contains(&m.pos) {
            mark(&painter, plot, x_of(m.pos), theme::tone(m.tone));
        }
    }
    if let Some(p) = marks
        .playhead
        .filter(|p| (origin..=origin + span).contains(p))
    {
        painter.vline(x_of(p), plot.y_range(), Stroke::new(1.0, theme::TEXT));
    }

    // Time axis: start, end, and round times between that fit.
    let seconds = span as f64 / rate;
    let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0]
        .into_iter()
        .find(|&st| plot.width() as f64 / (seconds / st) >= 70.0 * f64::from(s.scale))
        .unwrap_or(1200.0);
    let first = (origin as f64 / rate / step).ceil() * step;
    let mut t = first;
    while t * rate <= (origin + span) as f64 {
        let x = x_of((t * rate) as i64);
        painter.vline(
            x,
            plot.bottom()..=plot.bottom() + 3.0,
            Stroke::new(1.0, theme::TEXT_DIM),
        );
        painter.text(
            pos2(x, plot.bottom() + 3.0),
            Align2::CENTER_TOP,
            fmt_time((t * rate) as i64, rate),
            font.clone(),
            theme::TEXT_DIM,
        );
        t += step;
    }

    // Hovering says where and how loud.
    if let Some(p) = response.hover_pos().filter(|p| plot.contains(*p)) {
        let pos = origin + ((p.x - plot.left()) / plot.width() * span as f32) as i64;
        let i = ((pos - origin) / copy.bin_len) as usize;
        if let Some(bin) = copy.bins.get(i) {
            painter.vline(
                p.x,
                plot.y_range(),
                Stroke::new(1.0, Color32::from_white_alpha(90)),
            );
            let db = crate::dsp::level::to_db(bin.level);
            response.on_hover_text(format!(
                "{}  peak {} dB",
                fmt_time(pos, rate),
                format_db(db)
            ));
        }
    }
}

/// A fault mark: a line down the plot and a small flag at its top.
fn mark(painter: &egui::Painter, plot: Rect, x: f32, colour: Color32) {
    painter.vline(
        x,
        plot.y_range(),
        Stroke::new(1.5, colour.gamma_multiply(0.8)),
    );
    painter.add(Shape::convex_polygon(
        vec![
            pos2(x - 4.0, plot.top()),
            pos2(x + 4.0, plot.top()),
            pos2(x, plot.top() + 6.0),
        ],
        colour,
        Stroke::NONE,
    ));
}
