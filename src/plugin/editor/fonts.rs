//! The editor's fonts, compiled into the plugin so text renders on every system: Roboto
//! (Apache-2.0, `assets/fonts/LICENSE-Roboto.txt`), whose digits all share one width, so
//! columns of numbers stay aligned (tabular figures) as they change.

use egui::{FontData, FontDefinitions, FontFamily};
use std::sync::Arc;

/// Roboto Regular: body text and numbers.
static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/Roboto-Regular.ttf");
/// Roboto Bold: the verdict banner, headings and emphasised figures.
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/Roboto-Bold.ttf");

/// Name of the bold family (`FontFamily::Name`).
pub const BOLD_FAMILY: &str = "bold";

/// The bold family, for [`egui::FontId`]s.
pub fn bold() -> FontFamily {
    FontFamily::Name(BOLD_FAMILY.into())
}

/// Font definitions with only the bundled fonts: proportional and monospace text use Roboto
/// Regular (its figures are tabular), the bold family Roboto Bold.
pub fn definitions() -> FontDefinitions {
    let mut defs = FontDefinitions::empty();
    defs.font_data
        .insert("roboto".into(), Arc::new(FontData::from_static(REGULAR)));
    defs.font_data
        .insert("roboto-bold".into(), Arc::new(FontData::from_static(BOLD)));
    defs.families
        .insert(FontFamily::Proportional, vec!["roboto".into()]);
    defs.families
        .insert(FontFamily::Monospace, vec!["roboto".into()]);
    defs.families
        .insert(bold(), vec!["roboto-bold".into(), "roboto".into()]);
    defs
}

/// Installs the bundled fonts into `ctx` (the editor's `build`, and the tests' contexts).
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_are_tabular_and_the_signs_match() {
        let ctx = egui::Context::default();
        install(&ctx);
        ctx.set_missing_glyph_policy(egui::epaint::text::MissingGlyphPolicy::Panic);
        let fonts_ctx = ctx.clone();
        let mut out = ctx.run_ui(egui::RawInput::default(), |_ui| {
            let width = |c: char, family: FontFamily| {
                fonts_ctx.fonts_mut(|f| f.glyph_width(&egui::FontId::new(14.0, family), c))
            };
            for family in [FontFamily::Proportional, bold()] {
                let zero = width('0', family.clone());
                assert!(zero > 5.0, "{family:?} has no real glyph for 0 ({zero})");
                for d in "123456789".chars() {
                    assert_eq!(width(d, family.clone()), zero, "{d} in {family:?}");
                }
                // The minus sign used for levels is as wide as the plus sign.
                let (minus, plus) = (width('\u{2212}', family.clone()), width('+', family));
                assert!((minus - plus).abs() < 0.3, "minus {minus} plus {plus}");
            }
        });
        // No GPU here: the font atlas upload is dropped on purpose.
        out.textures_delta.clear();
    }
}
