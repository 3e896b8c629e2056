//! Settings of the sum-check, and the buffer sizes that follow from them.

/// How a [`SumCheck`](super::SumCheck) is set up. [`SumCheckConfig::new`] gives the defaults;
/// out-of-range values are clamped when the sizes are derived, never trusted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SumCheckConfig {
    /// Channels of the master (the number of regressions run side by side).
    pub channels: usize,
    /// Sample rate of the session in Hz; sizes the lag-estimation window.
    pub sample_rate: f32,
    /// Largest stem offset searched, in samples, either way: offsets in
    /// `-max_lag..=max_lag` are found exactly.
    pub max_lag: usize,
    /// Shortest stretch of audio a stem's offset is estimated from, in seconds. The window
    /// is rounded up so that it and the searched lags fill a power-of-two FFT.
    pub lag_window_seconds: f32,
}

/// Offsets searched by default, either way: 42.7 ms at 48 kHz covers plugin latencies and
/// the delays a misrouted bus picks up without making the FFT larger than 2^16 at 48 kHz.
pub const DEFAULT_MAX_LAG: usize = 2048;

/// Default estimation window: one second of music is plenty for a whitened correlation
/// (the peak stands hundreds of times above the other lags), and keeps the history short.
pub const DEFAULT_LAG_WINDOW_SECONDS: f32 = 1.0;

impl SumCheckConfig {
    /// The defaults for a master of `channels` channels at `sample_rate`.
    pub fn new(channels: usize, sample_rate: f32) -> Self {
        Self {
            channels,
            sample_rate,
            max_lag: DEFAULT_MAX_LAG,
            lag_window_seconds: DEFAULT_LAG_WINDOW_SECONDS,
        }
    }

    /// The sizes every buffer is allocated with.
    pub(super) fn layout(&self) -> Layout {
        let channels = self.channels.clamp(1, 64);
        let max_lag = self.max_lag.clamp(1, 1 << 20);
        let rate = if self.sample_rate.is_finite() && self.sample_rate > 0.0 {
            self.sample_rate
        } else {
            48_000.0
        };
        let seconds = if self.lag_window_seconds.is_finite() && self.lag_window_seconds > 0.0 {
            self.lag_window_seconds.min(30.0)
        } else {
            DEFAULT_LAG_WINDOW_SECONDS
        };
        // The window must dwarf the largest lag or its edges (where the stem's audio falls
        // outside the window) would blur the correlation peak.
        let asked = ((rate * seconds).ceil() as usize).max(8 * max_lag);
        let fft_len = (asked + 2 * max_lag).next_power_of_two();
        let window = fft_len - 2 * max_lag;
        let block = BLOCK;
        let piece = PIECE;
        Layout {
            channels,
            max_lag,
            window,
            fft_len,
            block,
            piece,
            // What the oldest consumer still needs: the stem samples a lagged frame or an
            // estimation window reads (`max_lag` behind the cursor), the trailing distance
            // (window + max_lag), one unconsumed block and one newly written piece.
            history: window + 2 * max_lag + block + piece,
        }
    }
}

/// Frames consumed at once by the fit: long enough for the Gram products to run as
/// vectorised dot products, short enough for the block matrix to stay in cache.
const BLOCK: usize = 256;

/// Largest run of frames written to the history before the consumer catches up, so a chunk
/// of any length fits the fixed history.
const PIECE: usize = 4096;

/// Sizes derived from a [`SumCheckConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// Master channels.
    pub channels: usize,
    /// Largest searched offset.
    pub max_lag: usize,
    /// Master frames a lag is estimated from.
    pub window: usize,
    /// Real FFT length: `window + 2 * max_lag`, a power of two.
    pub fft_len: usize,
    /// Frames per fit block.
    pub block: usize,
    /// Frames written per step of `push`.
    pub piece: usize,
    /// Frames the history keeps.
    pub history: usize,
}

impl Layout {
    /// How far the fit trails the newest pushed frame: a whole estimation window plus the
    /// stem samples a negative lag reads ahead.
    pub fn trailing(&self) -> usize {
        self.window + self.max_lag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_window_fills_a_power_of_two_fft() {
        let l = SumCheckConfig::new(2, 48_000.0).layout();
        assert_eq!(l.fft_len, 65_536);
        assert_eq!(l.window + 2 * l.max_lag, l.fft_len);
        assert!(l.window >= 48_000);
    }

    #[test]
    fn bad_values_are_clamped() {
        let mut c = SumCheckConfig::new(0, f32::NAN);
        c.max_lag = 0;
        c.lag_window_seconds = -1.0;
        let l = c.layout();
        assert_eq!(l.channels, 1);
        assert_eq!(l.max_lag, 1);
        assert!(l.window >= 48_000 && l.fft_len.is_power_of_two());
    }
}
