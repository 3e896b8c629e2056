//! The brief, typed where it belongs: title, artist and notes in the master's editor, a note
//! in each stem's. Saved with the instance (persisted fields) and written into the read-me;
//! every field is capped at the report's lengths as it is typed.

use super::theme::{self, Sizes};
use crate::plugin::params::StemcheckParams;
use crate::report::{
    StemReport, ARTIST_MAX_CHARS, NOTES_MAX_CHARS, STEM_NOTE_MAX_CHARS, TITLE_MAX_CHARS,
};
use egui::{RichText, Ui};
use std::sync::RwLock;

/// A text field bound to a persisted string: edits are saved as they are typed (GUI thread;
/// the audio thread never reads these fields).
fn field(
    ui: &mut Ui,
    value: &RwLock<String>,
    widget: impl FnOnce(&mut String) -> egui::TextEdit<'_>,
) {
    let mut text = match value.read() {
        Ok(s) => s.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    if ui.add(widget(&mut text)).changed() {
        StemcheckParams::set_string(value, &text);
    }
}

/// The master's brief: title, artist, notes, and the notes the stems carry.
pub fn master(ui: &mut Ui, s: &Sizes, params: &StemcheckParams, stems: &[StemReport]) {
    egui::Grid::new("brief")
        .num_columns(2)
        .spacing([14.0 * s.scale, 6.0 * s.scale])
        .show(ui, |ui| {
            ui.label(RichText::new("Title").color(theme::TEXT_DIM));
            field(ui, &params.brief_title, |t| {
                egui::TextEdit::singleline(t)
                    .hint_text("song title")
                    .char_limit(TITLE_MAX_CHARS)
                    .desired_width(300.0 * s.scale)
            });
            ui.end_row();
            ui.label(RichText::new("Artist").color(theme::TEXT_DIM));
            field(ui, &params.brief_artist, |t| {
                egui::TextEdit::singleline(t)
                    .hint_text("artist")
                    .char_limit(ARTIST_MAX_CHARS)
                    .desired_width(300.0 * s.scale)
            });
            ui.end_row();
            ui.label(RichText::new("Notes").color(theme::TEXT_DIM));
            field(ui, &params.brief_notes, |t| {
                egui::TextEdit::multiline(t)
                    .hint_text("target platform, mood, what is baked in…")
                    .char_limit(NOTES_MAX_CHARS)
                    .desired_rows(3)
                    .desired_width(300.0 * s.scale)
            });
            ui.end_row();
        });
    let noted: Vec<&StemReport> = stems.iter().filter(|s| !s.note.is_empty()).collect();
    ui.add_space(4.0 * s.scale);
    if noted.is_empty() {
        ui.label(
            RichText::new("No stem has a note yet: type one in each stem's Stemcheck.")
                .color(theme::TEXT_DIM),
        );
    }
    for stem in noted {
        ui.label(
            RichText::new(format!("{}: {}", stem.name, stem.note.replace('\n', " ")))
                .size(s.small)
                .color(theme::TEXT),
        );
    }
}

/// A stem's note: what it holds and what processing is baked in.
pub fn stem(ui: &mut Ui, params: &StemcheckParams) {
    field(ui, &params.stem_note, |t| {
        egui::TextEdit::multiline(t)
            .hint_text("what this stem holds, what is baked in (shown in the master's read-me)")
            .char_limit(STEM_NOTE_MAX_CHARS)
            .desired_rows(2)
            .desired_width(f32::INFINITY)
    });
}
