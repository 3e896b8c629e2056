//! The sample rates the meters are built for. Outside them an instance still runs (the host
//! may ask for any rate) but passes audio through unmeasured and says so.

/// Lowest sample rate the meters measure, Hz.
pub const MIN_METERED_RATE: f32 = 8_000.0;
/// Highest sample rate the meters measure, Hz.
pub const MAX_METERED_RATE: f32 = 768_000.0;

/// Whether the meters measure at `rate` Hz (finite and within
/// [`MIN_METERED_RATE`]..=[`MAX_METERED_RATE`]).
pub fn is_metered_rate(rate: f32) -> bool {
    (MIN_METERED_RATE..=MAX_METERED_RATE).contains(&rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metered_range_is_closed_and_excludes_nonsense() {
        for rate in [8_000.0, 44_100.0, 48_000.0, 192_000.0, 768_000.0] {
            assert!(is_metered_rate(rate), "{rate}");
        }
        for rate in [
            0.0,
            -48_000.0,
            1.0,
            1_234.567_8,
            7_999.9,
            768_000.1,
            1e6,
            f32::NAN,
            f32::INFINITY,
        ] {
            assert!(!is_metered_rate(rate), "{rate}");
        }
    }
}
