//! The headroom figure, the one-line verdict under it, and the table of readings: what a bus
//! measured, in words and numbers.

use super::theme::{self, Sizes};
use crate::dsp::level::to_db;
use crate::dsp::snapshot::{EventSnapshot, MeterSnapshot};
use crate::plugin::readout::{format_db, format_position, Headline, NO_VALUE};
use egui::{RichText, Ui};

/// "Headroom", the figure in its status colour, and the sentence saying what it means.
pub fn headroom(ui: &mut Ui, s: &Sizes, head: &Headline) {
    let colour = theme::tone(head.tone);
    ui.label(
        RichText::new("HEADROOM")
            .font(theme::bold(s.small))
            .color(theme::TEXT_DIM),
    );
    let figure = headroom_text(head.headroom_db);
    ui.label(RichText::new(figure).font(theme::bold(s.big)).color(colour));
    ui.label(
        RichText::new(&head.verdict)
            .font(theme::bold(s.body))
            .color(colour),
    );
}

/// A headroom figure: "4.4 dB", "0.0 dB" at full scale, "\u{2212}0.3 dB" past it (a true peak
/// over 0 dBFS), or a dash for silence.
pub fn headroom_text(h: Option<f32>) -> String {
    match h {
        None => NO_VALUE.to_owned(),
        Some(h) => format!("{} dB", format_db(Some(h)).trim_start_matches('+')),
    }
}

/// The readings as a two-column grid: per-channel peaks, events with their song positions,
/// signal health.
pub fn readings(ui: &mut Ui, s: &Sizes, id: &str, snap: &MeterSnapshot) {
    let n = snap.channel_count();
    let per_channel = |v: &[f32]| {
        if n == 0 {
            return NO_VALUE.to_owned();
        }
        v[..n]
            .iter()
            .map(|&x| format_db(to_db(x)))
            .collect::<Vec<_>>()
            .join("  /  ")
    };
    let fault = theme::tone(crate::plugin::readout::Tone::Fault);
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([14.0 * s.scale, 5.0 * s.scale])
        .show(ui, |ui| {
            let mut row = |k: &str, v: String, bad: bool| {
                ui.label(RichText::new(k).color(theme::TEXT_DIM));
                let text = RichText::new(v).size(s.body);
                ui.label(if bad { text.color(fault) } else { text });
                ui.end_row();
            };
            let channels = if n == 1 { "" } else { " L / R" };
            row(
                &format!("True peak{channels} (dBTP)"),
                per_channel(&snap.true_peak),
                false,
            );
            row(
                &format!("Sample peak{channels} (dBFS)"),
                per_channel(&snap.sample_peak),
                false,
            );
            let ev = |e: EventSnapshot| {
                let log = e.to_log();
                match log.count {
                    0 => "0".to_owned(),
                    1 => format!("1 at {}", format_position(log.first, snap.sample_rate)),
                    c => format!(
                        "{c}  first {}, last {}",
                        format_position(log.first, snap.sample_rate),
                        format_position(log.last, snap.sample_rate)
                    ),
                }
            };
            row("Clipped samples", ev(snap.clips), snap.clips.count > 0);
            row(
                "True-peak overs",
                ev(snap.true_peak_overs),
                snap.true_peak_overs.count > 0,
            );
            row("Flat tops", ev(snap.flat_tops), snap.flat_tops.count > 0);
            row(
                "NaN / Inf",
                snap.non_finite.to_string(),
                snap.non_finite > 0,
            );
            let dc = if n == 0 {
                NO_VALUE.to_owned()
            } else {
                snap.dc_offset[..n]
                    .iter()
                    .map(|d| format!("{:.2} %", d * 100.0))
                    .collect::<Vec<_>>()
                    .join("  /  ")
            };
            row("DC offset", dc, false);
            if let Some(c) = snap.correlation() {
                row(
                    "Correlation",
                    format!("{c:+.2}  (now {:+.2})", snap.correlation_recent),
                    c < 0.0,
                );
            }
        });
}
