//! The host-visible parameters. Their ids are a contract (SPEC 6.1): never rename them.

use crate::registry::Role;
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Lowest value any level threshold may take, dBFS.
pub const THRESHOLD_MIN_DB: f32 = -30.0;
/// Highest value any level threshold may take, dBFS.
pub const THRESHOLD_MAX_DB: f32 = 0.0;

/// Lowest null tolerance, dB.
pub const NULL_TOLERANCE_MIN_DB: f32 = -140.0;

/// The `role` parameter's values: what this instance is in the session.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// Meters one stem bus (the default).
    #[id = "Stem"]
    Stem,
    /// Sits on the master bus and shows every stem.
    #[id = "Master"]
    Master,
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
    /// Stem or Master.
    #[id = "role"]
    pub role: EnumParam<RoleChoice>,
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

    /// The user's name for the stem; empty = use the host's track name.
    #[persist = "label"]
    pub label: Arc<RwLock<String>>,
    /// Folder the master writes its reports into; empty = no automatic report.
    #[persist = "report_dir"]
    pub report_dir: Arc<RwLock<String>>,
    /// Write a report when the transport stops after a pass.
    #[persist = "auto_report"]
    pub auto_report: Arc<AtomicBool>,
}

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
            role: EnumParam::new("Role", RoleChoice::Stem),
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
            label: Arc::new(RwLock::new(String::new())),
            report_dir: Arc::new(RwLock::new(String::new())),
            auto_report: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl StemcheckParams {
    /// Parameters whose role starts as `role` (tests and benches; a host sets the role through
    /// the parameter or a saved state).
    pub fn with_role(role: RoleChoice) -> Self {
        Self {
            role: EnumParam::new("Role", role),
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
        self.role.value().into()
    }

    /// The user's label (empty when unset). Never call from the audio thread.
    pub fn label(&self) -> String {
        read_string(&self.label)
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
