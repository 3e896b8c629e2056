//! The master's table of every stem: levels, window status, events, the analysis's verdicts
//! per stem, and whether it is alive. It draws from the same report the master writes, so
//! the screen and the file always agree.

use super::theme::{self, Sizes};
use crate::plugin::readout::{format_db, Tone, NO_VALUE};
use crate::report::{LimiterReport, LimiterVerdict, StemReport, WindowStatus};
use egui::{Color32, RichText, Ui};

/// The column titles, in order.
pub const COLUMNS: [&str; 12] = [
    "Stem",
    "Peak",
    "True peak",
    "Headroom",
    "LUFS",
    "Overs",
    "Clips",
    "Dynamics",
    "Gain",
    "Offset",
    "Rate",
    "State",
];

/// The cells of one stem's row, as text and colour (testable without a window).
pub fn row_cells(stem: &StemReport) -> Vec<(String, Color32)> {
    let l = &stem.levels;
    let plain = theme::TEXT;
    let loudest = |levels: &[Option<f64>]| levels.iter().flatten().copied().reduce(f64::max);
    let db = |v: Option<f64>| format_db(v.map(|v| v as f32));
    let fault = l.true_peak_overs > 0 || l.clipped_samples > 0 || l.flat_tops > 0;
    let window = match (l.headroom_db, l.window) {
        (None, _) => theme::tone(Tone::Idle),
        _ if fault => theme::tone(Tone::Fault),
        (_, WindowStatus::Under) => theme::tone(Tone::Under),
        (_, WindowStatus::In) => theme::tone(Tone::InWindow),
        (_, WindowStatus::Over) => theme::tone(Tone::Over),
    };
    let count = |n: u64| {
        (
            n.to_string(),
            if n > 0 {
                theme::tone(Tone::Fault)
            } else {
                plain
            },
        )
    };
    let tp_colour = if l.true_peak_overs > 0 {
        theme::tone(Tone::Fault)
    } else {
        window
    };
    vec![
        (stem.name.clone(), plain),
        (db(loudest(&l.sample_peak_dbfs)), plain),
        (db(loudest(&l.true_peak_dbtp)), tp_colour),
        (
            l.headroom_db
                .map_or(NO_VALUE.to_owned(), |h| format!("{h:.1} dB")),
            window,
        ),
        loudness(stem),
        count(l.true_peak_overs),
        count(l.clipped_samples),
        dynamics(stem),
        gain(stem),
        offset(stem.offset_samples),
        rate(stem),
        state(stem),
    ]
}

/// Draws the table; it scrolls sideways when the window is narrow.
pub fn show(ui: &mut Ui, s: &Sizes, stems: &[StemReport]) {
    egui::ScrollArea::horizontal()
        .id_salt("stems-table")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("stems")
                .num_columns(COLUMNS.len())
                .striped(true)
                .min_col_width(28.0 * s.scale)
                .spacing([11.0 * s.scale, 5.0 * s.scale])
                .show(ui, |ui| {
                    for h in COLUMNS {
                        ui.label(
                            RichText::new(h)
                                .font(theme::bold(s.small))
                                .color(theme::TEXT_DIM),
                        );
                    }
                    ui.end_row();
                    for stem in stems {
                        for (i, (text, colour)) in row_cells(stem).into_iter().enumerate() {
                            let t = RichText::new(text).size(s.body).color(colour);
                            let cell = ui.label(if i == 0 {
                                t.font(theme::bold(s.body))
                            } else {
                                t
                            });
                            // The stem's note from the brief, on its name.
                            if i == 0 && !stem.note.is_empty() {
                                cell.on_hover_text(&stem.note);
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}

/// The stem's integrated loudness (LUFS), a dash for silence or a fully gated pass.
fn loudness(stem: &StemReport) -> (String, Color32) {
    match stem.levels.loudness.integrated_lufs {
        Some(i) => (format_db(Some(i as f32)), theme::TEXT),
        None => (NO_VALUE.into(), theme::TEXT_DIM),
    }
}

/// The limiter / clipper verdict of a bus (a dash until analysed); a bus whose meters saw
/// clipping reads as clipped whatever the detector made of it.
fn dynamics(stem: &StemReport) -> (String, Color32) {
    let l: &LimiterReport = &stem.limiter;
    if stem.levels.clipped_samples > 0 || stem.levels.flat_tops > 0 {
        return ("clipped".into(), theme::tone(Tone::Fault));
    }
    match l.verdict {
        None => (NO_VALUE.into(), theme::TEXT_DIM),
        Some(LimiterVerdict::Unprocessed) => ("none".into(), theme::TEXT),
        Some(LimiterVerdict::Limited) => ("limited".into(), theme::tone(Tone::Over)),
        Some(LimiterVerdict::Clipped) => ("clipped".into(), theme::tone(Tone::Fault)),
    }
}

/// The fitted gain: one figure when the channels agree, "L / R" when not, "inv" when the
/// stem arrives inverted.
fn gain(stem: &StemReport) -> (String, Color32) {
    let Some(gains) = &stem.gain_db else {
        return (NO_VALUE.into(), theme::TEXT_DIM);
    };
    let shown: Vec<String> = gains
        .iter()
        .map(|g| format_db(g.map(|g| g as f32)))
        .collect();
    let mut text = if shown.windows(2).all(|w| w[0] == w[1]) {
        shown.first().cloned().unwrap_or_default()
    } else {
        shown.join(" / ")
    };
    text.push_str(" dB");
    let inverted = stem.polarity_inverted == Some(true);
    if inverted {
        text.push_str(" inv");
    }
    let off = gains.iter().flatten().any(|g| g.abs() > 0.1);
    let colour = if inverted {
        theme::tone(Tone::Fault)
    } else if off {
        theme::tone(Tone::Over)
    } else {
        theme::TEXT
    };
    (text, colour)
}

fn offset(k: Option<i64>) -> (String, Color32) {
    match k {
        Some(0) => ("0".into(), theme::TEXT),
        Some(k) => (format!("{k:+} smp"), theme::tone(Tone::Fault)),
        None => (NO_VALUE.into(), theme::TEXT_DIM),
    }
}

fn rate(stem: &StemReport) -> (String, Color32) {
    let text = stem.sample_rate.map_or(NO_VALUE.to_owned(), |hz| {
        format!("{:.1} k", hz as f32 / 1000.0)
    });
    let colour = if stem.sample_rate_mismatch {
        theme::tone(Tone::Fault)
    } else {
        theme::TEXT
    };
    (text, colour)
}

fn state(stem: &StemReport) -> (String, Color32) {
    if stem.levels.bypassed {
        ("bypassed".into(), theme::tone(Tone::Over))
    } else if stem.levels.unmetered {
        ("not metering".into(), theme::tone(Tone::Over))
    } else if stem.alive {
        ("alive".into(), theme::tone(Tone::InWindow))
    } else {
        ("stale".into(), theme::tone(Tone::Idle))
    }
}
