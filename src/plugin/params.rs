//! The host-visible parameters. Their ids are a contract (SPEC 6.1): never rename them.

use nice_plug::prelude::*;

/// Lowest value any level threshold may take, dBFS.
pub const THRESHOLD_MIN_DB: f32 = -30.0;
/// Highest value any level threshold may take, dBFS.
pub const THRESHOLD_MAX_DB: f32 = 0.0;

/// Parameters shared by the audio thread, the editor and the host.
#[derive(Params)]
pub struct StemcheckParams {
    /// Bottom of the headroom window, dBFS (a peak below it has more headroom than asked).
    #[id = "window_low_db"]
    pub window_low_db: FloatParam,
    /// Top of the headroom window, dBFS (a true peak above it is over the window).
    #[id = "window_high_db"]
    pub window_high_db: FloatParam,
    /// True-peak ceiling, dBTP: every inter-sample peak above it counts as an over.
    #[id = "tp_ceiling_db"]
    pub tp_ceiling_db: FloatParam,
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
            window_low_db: level_param("Window low", -6.0),
            window_high_db: level_param("Window high", -3.0),
            tp_ceiling_db: level_param("True-peak ceiling", -1.0),
        }
    }
}

impl StemcheckParams {
    /// The headroom window as (low, high), in order even if the host set them crossed.
    pub fn window(&self) -> (f32, f32) {
        let (a, b) = (self.window_low_db.value(), self.window_high_db.value());
        (a.min(b), a.max(b))
    }
}
