//! The editor's look: colours chosen for a dark studio (every text colour reads at 4.5:1 or
//! more against the panels), text sizes (nothing under 12 px), spacing, and the egui style
//! built from them.

use super::super::readout::Tone;
use super::fonts;
use egui::{Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle, Vec2};

/// Window background.
pub const BACKGROUND: Color32 = Color32::from_rgb(0x15, 0x17, 0x1b);
/// Panels (grouped content) on the background.
pub const PANEL: Color32 = Color32::from_rgb(0x1f, 0x23, 0x29);
/// Panel outlines and separators.
pub const PANEL_EDGE: Color32 = Color32::from_rgb(0x30, 0x36, 0x3f);
/// Inside of a meter bar, below the level.
pub const BAR_BACK: Color32 = Color32::from_rgb(0x0f, 0x11, 0x14);
/// Main text: figures, names, sentences.
pub const TEXT: Color32 = Color32::from_rgb(0xe8, 0xeb, 0xf0);
/// Secondary text: labels, units, captions.
pub const TEXT_DIM: Color32 = Color32::from_rgb(0xa6, 0xae, 0xba);
/// Sample-peak bars (a cool neutral, so the true-peak bar carries the status colour).
pub const SAMPLE_PEAK: Color32 = Color32::from_rgb(0x8f, 0xa3, 0xbf);

/// Colour of a status tone.
pub fn tone(t: Tone) -> Color32 {
    match t {
        Tone::Idle => Color32::from_rgb(0x9a, 0xa3, 0xae),
        Tone::Under => Color32::from_rgb(0x5c, 0xad, 0xf0),
        Tone::InWindow => Color32::from_rgb(0x4c, 0xd0, 0x8c),
        Tone::Over => Color32::from_rgb(0xf5, 0xb7, 0x32),
        Tone::Fault => Color32::from_rgb(0xff, 0x5d, 0x55),
    }
}

/// The delivery window's band behind the bars.
pub fn window_band() -> Color32 {
    Color32::from_rgba_unmultiplied(0x4c, 0xd0, 0x8c, 44)
}

/// Text sizes, logical pixels, at the default window size. They grow with the window (see
/// [`Sizes::for_window`]); nothing is ever smaller than these.
pub mod size {
    /// Smallest text anywhere (scale labels, captions).
    pub const SMALL: f32 = 12.0;
    /// Body text, table cells, sentences.
    pub const BODY: f32 = 14.0;
    /// Section titles.
    pub const TITLE: f32 = 14.0;
    /// The instance's name.
    pub const HEADING: f32 = 20.0;
    /// The verdict banner.
    pub const BANNER: f32 = 26.0;
    /// The headroom figure.
    pub const BIG: f32 = 40.0;
}

/// The text sizes for one frame: the defaults times a scale that follows the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizes {
    /// Factor over the default sizes (1 at the default window size).
    pub scale: f32,
    /// See [`size::SMALL`].
    pub small: f32,
    /// See [`size::BODY`].
    pub body: f32,
    /// See [`size::TITLE`].
    pub title: f32,
    /// See [`size::HEADING`].
    pub heading: f32,
    /// See [`size::BANNER`].
    pub banner: f32,
    /// See [`size::BIG`].
    pub big: f32,
}

impl Sizes {
    /// Sizes scaled by `scale`.
    pub fn scaled(scale: f32) -> Self {
        Self {
            scale,
            small: size::SMALL * scale,
            body: size::BODY * scale,
            title: size::TITLE * scale,
            heading: size::HEADING * scale,
            banner: size::BANNER * scale,
            big: size::BIG * scale,
        }
    }

    /// Sizes for a window of `window` logical pixels whose default is `default`: text grows
    /// with the smaller of the two ratios, from 1 (never smaller) up to 1.6, in steps of 0.05
    /// so that a drag does not relayout every text at every pixel.
    pub fn for_window(window: Vec2, default: Vec2) -> Self {
        let ratio = (window.x / default.x).min(window.y / default.y);
        let scale = ((ratio.clamp(1.0, 1.6) * 20.0).floor()) / 20.0;
        Self::scaled(scale)
    }
}

/// Space between panels and inside them, logical pixels.
pub const GAP: f32 = 10.0;
/// Outer margin of the window.
pub const MARGIN: f32 = 12.0;
/// Corner radius of panels.
pub const RADIUS: u8 = 6;

/// Regular text of `size` px.
pub fn regular(size: f32) -> FontId {
    FontId::new(size, FontFamily::Proportional)
}

/// Bold text of `size` px.
pub fn bold(size: f32) -> FontId {
    FontId::new(size, fonts::bold())
}

/// Installs the fonts (once per editor window; also in tests' contexts).
pub fn install(ctx: &egui::Context) {
    fonts::install(ctx);
    ctx.set_visuals(egui::Visuals::dark());
    apply(ctx, &Sizes::scaled(1.0));
}

/// Applies the style for `sizes` to `ctx` (when the window's size moves the text scale).
pub fn apply(ctx: &egui::Context, sizes: &Sizes) {
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Small, regular(sizes.small)),
            (TextStyle::Body, regular(sizes.body)),
            (TextStyle::Monospace, regular(sizes.body)),
            (TextStyle::Button, regular(sizes.body)),
            (TextStyle::Heading, bold(sizes.heading)),
        ]
        .into();
        let v = &mut style.visuals;
        v.panel_fill = BACKGROUND;
        v.window_fill = PANEL;
        v.extreme_bg_color = BAR_BACK;
        v.faint_bg_color = Color32::from_rgb(0x25, 0x2a, 0x31);
        v.override_text_color = Some(TEXT);
        v.widgets.noninteractive.bg_stroke = Stroke::new(1.0, PANEL_EDGE);
        v.widgets.noninteractive.fg_stroke = Stroke::new(1.0, TEXT);
        v.widgets.inactive.fg_stroke = Stroke::new(1.0, TEXT);
        v.widgets.inactive.weak_bg_fill = Color32::from_rgb(0x2c, 0x32, 0x3b);
        v.widgets.inactive.bg_fill = Color32::from_rgb(0x2c, 0x32, 0x3b);
        v.widgets.hovered.weak_bg_fill = Color32::from_rgb(0x38, 0x40, 0x4b);
        v.widgets.active.weak_bg_fill = Color32::from_rgb(0x42, 0x4b, 0x58);
        v.selection.bg_fill = Color32::from_rgb(0x2f, 0x5f, 0x8f);
        v.selection.stroke = Stroke::new(1.0, TEXT);
        style.spacing.item_spacing = Vec2::new(8.0, 6.0) * sizes.scale;
        style.spacing.button_padding = Vec2::new(10.0, 4.0) * sizes.scale;
        style.spacing.interact_size.y = 24.0 * sizes.scale;
        style.spacing.scroll.bar_width = 10.0;
    });
}

/// A grouped panel: rounded, filled, with an inner margin.
pub fn panel() -> egui::Frame {
    egui::Frame::new()
        .fill(PANEL)
        .stroke(Stroke::new(1.0, PANEL_EDGE))
        .corner_radius(CornerRadius::same(RADIUS))
        .inner_margin(egui::Margin::same(GAP as i8))
}

/// A section title inside a panel.
pub fn title(ui: &mut egui::Ui, sizes: &Sizes, text: &str) {
    ui.label(
        egui::RichText::new(text)
            .font(bold(sizes.title))
            .color(TEXT_DIM),
    );
}
