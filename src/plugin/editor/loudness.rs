//! The loudness readings of a bus (stem or master): momentary and short-term now, their
//! maxima, integrated loudness, loudness range and PLR, from the bus's own snapshot.

use super::theme::{self, Sizes};
use crate::dsp::snapshot::MeterSnapshot;
use crate::plugin::readout::{format_db, NO_VALUE};
use egui::{RichText, Ui};

/// The rows of the loudness grid as (label, value) text (testable without a window).
pub fn rows(snap: &MeterSnapshot) -> Vec<(&'static str, String)> {
    let l = &snap.loudness;
    let lufs = |v: Option<f32>| match v {
        Some(_) => format!("{} LUFS", format_db(v)),
        None => NO_VALUE.to_owned(),
    };
    let lu = |v: Option<f32>| v.map_or(NO_VALUE.to_owned(), |v| format!("{v:.1} LU"));
    // EBU Tech 3341: the loudness range is not stable during the first minute.
    let range = match l.lra() {
        Some(v) if !l.lra_settled() => format!("{v:.1} LU (settling)"),
        v => lu(v),
    };
    vec![
        ("Momentary", lufs(l.momentary())),
        ("Short-term", lufs(l.short_term())),
        ("Integrated", lufs(l.integrated())),
        ("Loudness range", range),
        ("Max momentary", lufs(l.max_momentary())),
        ("Max short-term", lufs(l.max_short_term())),
        (
            "PLR",
            snap.plr_db()
                .map_or(NO_VALUE.to_owned(), |v| format!("{v:.1} dB")),
        ),
    ]
}

/// The one-line loudness summary of the meter column: short-term now and integrated over the
/// pass ("S −19.0  I −18.2 LUFS"), so loudness is in view at every window size.
pub fn summary_text(snap: &MeterSnapshot) -> String {
    let l = &snap.loudness;
    let v = |x: Option<f32>| match x {
        Some(_) => format_db(x),
        None => NO_VALUE.to_owned(),
    };
    format!("S {}   I {} LUFS", v(l.short_term()), v(l.integrated()))
}

/// Draws [`summary_text`] in the meter column.
pub fn summary(ui: &mut Ui, s: &Sizes, snap: &MeterSnapshot) {
    ui.label(
        RichText::new(summary_text(snap))
            .size(s.small)
            .color(theme::TEXT_DIM),
    );
}

/// Draws the loudness grid.
pub fn show(ui: &mut Ui, s: &Sizes, id: &str, snap: &MeterSnapshot) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([14.0 * s.scale, 5.0 * s.scale])
        .show(ui, |ui| {
            for (label, value) in rows(snap) {
                ui.label(RichText::new(label).color(theme::TEXT_DIM));
                ui.label(RichText::new(value).size(s.body));
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::loudness::LoudnessReadings;

    #[test]
    fn readings_show_in_lufs_and_silence_as_a_dash() {
        let mut snap = MeterSnapshot {
            channels: 2,
            true_peak: [0.5, 0.25],
            ..Default::default()
        };
        snap.loudness = LoudnessReadings {
            momentary: Some(-20.04),
            integrated: Some(-18.0),
            range: Some(6.23),
            seconds: 30.0,
            ..Default::default()
        }
        .into();
        let rows = rows(&snap);
        let get = |k: &str| rows.iter().find(|(l, _)| *l == k).expect(k).1.clone();
        assert_eq!(get("Momentary"), "\u{2212}20.0 LUFS");
        assert_eq!(get("Short-term"), NO_VALUE);
        assert_eq!(get("Loudness range"), "6.2 LU (settling)");
        // True peak -6.02 dBTP, integrated -18 LUFS.
        assert_eq!(get("PLR"), "12.0 dB");
        assert_eq!(summary_text(&snap), "S \u{2013}   I \u{2212}18.0 LUFS");
    }
}
