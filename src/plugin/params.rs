//! The host-visible parameters. Their ids are a contract (SPEC 6.1): never rename them.

use crate::registry::Role;
use crate::report::Brief;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Lowest value any level threshold may take, dBFS.
pub const THRESHOLD_MIN_DB: f32 = -30.0;
/// Highest value any level threshold may take, dBFS.
pub const THRESHOLD_MAX_DB: f32 = 0.0;

/// Lowest null tolerance, dB.
pub const NULL_TOLERANCE_MIN_DB: f32 = -140.0;

/// What the `role` parameter means: this instance's part in the session.
///
/// The parameter itself is a continuous value from 0 to 1 (see [`role_param`]): below 0.5 is
/// Stem, 0.5 and above is Master, and the value is kept as the host set it. A two-step enum
/// would round the host's value (0.76 becomes 1) while a host such as a JUCE-based one keeps
/// its own unrounded copy, so a saved and restored state would disagree with the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// Meters one stem bus (the default).
    Stem,
    /// Sits on the master bus and shows every stem.
    Master,
}

impl RoleChoice {
    /// The role a parameter value stands for (0.5 and above is Master; NaN is Stem).
    pub fn from_value(value: f32) -> Self {
        if value >= 0.5 {
            RoleChoice::Master
        } else {
            RoleChoice::Stem
        }
    }

    /// The parameter value that selects this role exactly (0 or 1).
    pub fn value(self) -> f32 {
        match self {
            RoleChoice::Stem => 0.0,
            RoleChoice::Master => 1.0,
        }
    }

    /// The role's name as hosts show it and older states saved it (`Stem`, `Master`).
    pub fn name(self) -> &'static str {
        match self {
            RoleChoice::Stem => "Stem",
            RoleChoice::Master => "Master",
        }
    }

    /// The role named `text` (`Stem`, `Master`, any case, or a number from 0 to 1).
    pub fn parse(text: &str) -> Option<f32> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("stem") {
            Some(0.0)
        } else if text.eq_ignore_ascii_case("master") {
            Some(1.0)
        } else {
            text.parse::<f32>().ok().filter(|v| (0.0..=1.0).contains(v))
        }
    }
}

/// The `role` parameter: 0..1, shown and typed as `Stem` or `Master` (see [`RoleChoice`]).
pub fn role_param(role: RoleChoice) -> FloatParam {
    FloatParam::new(
        "Role",
        role.value(),
        FloatRange::Linear { min: 0.0, max: 1.0 },
    )
    .with_value_to_string(Arc::new(|v| RoleChoice::from_value(v).name().to_owned()))
    .with_string_to_value(Arc::new(RoleChoice::parse))
}

impl From<RoleChoice> for Role {
    fn from(choice: RoleChoice) -> Self {
        match choice {
            RoleChoice::Stem => Role::Stem,
            RoleChoice::Master => Role::Master,
        }
    }
}

/// Parameters shared by the audio thread, the editor and the host, and the persisted fields
/// (saved with the host's session, never read by the audio thread).
#[derive(Params)]
pub struct StemcheckParams {
    /// Stem or Master: a value from 0 to 1, Master from 0.5 up (see [`RoleChoice`]).
    #[id = "role"]
    pub role: FloatParam,
    /// Bottom of the headroom window, dBFS (a peak below it has more headroom than asked).
    #[id = "window_low_db"]
    pub window_low_db: FloatParam,
    /// Top of the headroom window, dBFS (a true peak above it is over the window).
    #[id = "window_high_db"]
    pub window_high_db: FloatParam,
    /// True-peak ceiling, dBTP: every inter-sample peak above it counts as an over.
    #[id = "tp_ceiling_db"]
    pub tp_ceiling_db: FloatParam,
    /// Null depth above which the stems do not sum back to the master, dB.
    #[id = "null_tolerance_db"]
    pub null_tolerance_db: FloatParam,
    /// The host's bypass (CLAP `is_bypass`, VST3 `kIsBypass`): audio passes through untouched
    /// and the meters hold their readings.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// The user's name for the stem; empty = use the host's track name.
    #[persist = "label"]
    pub label: Arc<RwLock<String>>,
    /// Folder the master writes its reports into; empty = no automatic report.
    #[persist = "report_dir"]
    pub report_dir: Arc<RwLock<String>>,
    /// Write a report when the transport stops after a pass.
    #[persist = "auto_report"]
    pub auto_report: Arc<AtomicBool>,
    /// The editor's size in logical pixels, as the user left it; `None` = the role's default.
    #[persist = "editor_size"]
    pub editor_size: Arc<RwLock<Option<[f32; 2]>>>,
    /// The brief's song title (the master's; shown in its report).
    #[persist = "brief_title"]
    pub brief_title: Arc<RwLock<String>>,
    /// The brief's artist.
    #[persist = "brief_artist"]
    pub brief_artist: Arc<RwLock<String>>,
    /// The brief's notes for the recipient.
    #[persist = "brief_notes"]
    pub brief_notes: Arc<RwLock<String>>,
    /// This stem's note in the brief (what it holds, what is baked in).
    #[persist = "stem_note"]
    pub stem_note: Arc<RwLock<String>>,
}

/// Largest editor size kept from a saved state, logical pixels (anything larger is a corrupt
/// value, not a screen).
pub const EDITOR_SIZE_MAX: f32 = 8192.0;

fn level_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Linear {
            min: THRESHOLD_MIN_DB,
            max: THRESHOLD_MAX_DB,
        },
    )
    .with_step_size(0.1)
    .with_unit(" dB")
    .with_value_to_string(formatters::v2s_f32_rounded(1))
}

impl Default for StemcheckParams {
    fn default() -> Self {
        Self {
            role: role_param(RoleChoice::Stem),
            window_low_db: level_param("Window low", -6.0),
            window_high_db: level_param("Window high", -3.0),
            tp_ceiling_db: level_param("True-peak ceiling", -1.0),
            null_tolerance_db: FloatParam::new(
                "Null tolerance",
                -60.0,
                FloatRange::Linear {
                    min: NULL_TOLERANCE_MIN_DB,
                    max: THRESHOLD_MAX_DB,
                },
            )
            .with_step_size(0.5)
            .with_unit(" dB")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            label: Arc::new(RwLock::new(String::new())),
            report_dir: Arc::new(RwLock::new(String::new())),
            auto_report: Arc::new(AtomicBool::new(false)),
            editor_size: Arc::new(RwLock::new(None)),
            brief_title: Arc::new(RwLock::new(String::new())),
            brief_artist: Arc::new(RwLock::new(String::new())),
            brief_notes: Arc::new(RwLock::new(String::new())),
            stem_note: Arc::new(RwLock::new(String::new())),
        }
    }
}

impl StemcheckParams {
    /// Parameters whose role starts as `role` (tests and benches; a host sets the role through
    /// the parameter or a saved state).
    pub fn with_role(role: RoleChoice) -> Self {
        Self {
            role: role_param(role),
            ..Self::default()
        }
    }

    /// The headroom window as (low, high), in order even if the host set them crossed.
    pub fn window(&self) -> (f32, f32) {
        let (a, b) = (self.window_low_db.value(), self.window_high_db.value());
        (a.min(b), a.max(b))
    }

    /// The role, as the registry knows it.
    pub fn role(&self) -> Role {
        self.role_choice().into()
    }

    /// The role the parameter's value stands for.
    pub fn role_choice(&self) -> RoleChoice {
        RoleChoice::from_value(self.role.value())
    }

    /// Whether the host bypasses the instance.
    pub fn bypassed(&self) -> bool {
        self.bypass.value()
    }

    /// The user's label (empty when unset). Never call from the audio thread.
    pub fn label(&self) -> String {
        read_string(&self.label)
    }

    /// The master's brief: title, artist, notes. Never call from the audio thread.
    pub fn brief(&self) -> Brief {
        Brief {
            title: read_string(&self.brief_title),
            artist: read_string(&self.brief_artist),
            notes: read_string(&self.brief_notes),
        }
    }

    /// This stem's note (empty when unset). Never call from the audio thread.
    pub fn stem_note(&self) -> String {
        read_string(&self.stem_note)
    }

    /// The report folder (empty when unset). Never call from the audio thread.
    pub fn report_dir(&self) -> String {
        read_string(&self.report_dir)
    }

    /// Whether a report is written when the transport stops after a pass.
    pub fn auto_report(&self) -> bool {
        // Relaxed: a lone flag, read by the report thread; nothing else is ordered by it.
        self.auto_report.load(Ordering::Relaxed)
    }

    /// The editor size saved with the session, if it is a usable one (at least `min`, finite,
    /// at most [`EDITOR_SIZE_MAX`]); a corrupt value is ignored (and the default used).
    pub fn editor_size(&self, min: (f32, f32)) -> Option<(f32, f32)> {
        let saved = match self.editor_size.read() {
            Ok(s) => *s,
            Err(poisoned) => *poisoned.into_inner(),
        }?;
        let ok = |v: f32, lo: f32| v.is_finite() && (lo..=EDITOR_SIZE_MAX).contains(&v);
        (ok(saved[0], min.0) && ok(saved[1], min.1)).then_some((saved[0], saved[1]))
    }

    /// Remembers the editor's size (GUI thread).
    pub fn set_editor_size(&self, size: (f32, f32)) {
        let value = Some([size.0, size.1]);
        match self.editor_size.write() {
            Ok(mut s) => *s = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }

    /// Sets a string field. Never call from the audio thread.
    pub fn set_string(field: &RwLock<String>, value: &str) {
        match field.write() {
            Ok(mut s) => value.clone_into(&mut s),
            Err(poisoned) => value.clone_into(&mut poisoned.into_inner()),
        }
    }
}

/// Reads a string field; a lock poisoned by a panicking writer still holds a whole string.
fn read_string(field: &RwLock<String>) -> String {
    match field.read() {
        Ok(s) => s.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// Repairs a saved state before nice-plug applies it (SPEC 7: bad values are clamped or fall
/// back to defaults, and the log says so). nice-plug sets plain values as they come: a level
/// outside its range or infinite (`1e39` parses as an infinite f32) would reach the meters and
/// the report, and an enum index outside the variants makes the next state save panic, which
/// aborts the host. Values of the wrong type and unknown ids are already ignored by nice-plug.
pub fn sanitize_state(state: &mut PluginState) {
    let defaults = StemcheckParams::default();
    let floats = [
        ("window_low_db", &defaults.window_low_db),
        ("window_high_db", &defaults.window_high_db),
        ("tp_ceiling_db", &defaults.tp_ceiling_db),
        ("null_tolerance_db", &defaults.null_tolerance_db),
    ];
    for (id, param) in floats {
        let Some(ParamValue::F32(value)) = state.params.get_mut(id) else {
            continue;
        };
        let saved = *value;
        let range = param.range();
        let (min, max) = (range.unnormalize(0.0), range.unnormalize(1.0));
        let fixed = if saved.is_finite() {
            saved.clamp(min, max)
        } else {
            param.default_plain_value()
        };
        if fixed != saved {
            nice_warn!("Stemcheck: saved {id} = {saved} is outside {min}..={max}; using {fixed}");
            *value = fixed;
        }
    }
    if let Some(value) = state.params.get_mut("role") {
        let fixed = role_value(value);
        if fixed.is_none() {
            nice_warn!("Stemcheck: saved role {value:?} is not a role; using Stem");
        }
        *value = ParamValue::F32(fixed.unwrap_or(0.0));
    }
}

/// The `role` parameter's value from a saved one: this build's number from 0 to 1, or an older
/// build's enum (`"Stem"`/`"Master"`, or its index 0/1). `None` for anything else.
fn role_value(saved: &ParamValue) -> Option<f32> {
    match saved {
        ParamValue::F32(v) => Some(*v).filter(|v| (0.0..=1.0).contains(v)),
        ParamValue::I32(0) => Some(0.0),
        ParamValue::I32(1) => Some(1.0),
        ParamValue::String(name) => RoleChoice::parse(name).filter(|_| {
            // Only the names: an older build never saved the role as a number in a string.
            name.trim().eq_ignore_ascii_case("stem") || name.trim().eq_ignore_ascii_case("master")
        }),
        _ => None,
    }
}
