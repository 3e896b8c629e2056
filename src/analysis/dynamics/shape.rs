//! Waveform shape of one channel: sign changes, and runs of identical samples (flat tops)
//! binned by level.

use crate::analysis::level_bins::Histogram;

/// Runs of at least this many identical samples are binned: two equal neighbours already
/// happen at the crest of a slow wave from a 16-bit source, so the decision looks at the run
/// lengths, not at this floor.
const MIN_RUN: u32 = 2;

/// What every channel's shape adds to, binned by level.
#[derive(Clone, Debug)]
pub(super) struct ShapeStats {
    /// Runs of identical non-zero samples, counted once per run at the run's level.
    pub flat_runs: Histogram,
    /// Samples in those runs.
    pub flat_samples: Histogram,
}

impl ShapeStats {
    /// Empty histograms.
    pub fn new() -> Self {
        Self {
            flat_runs: Histogram::new(),
            flat_samples: Histogram::new(),
        }
    }

    /// Empties every histogram.
    pub fn clear(&mut self) {
        self.flat_runs.clear();
        self.flat_samples.clear();
    }
}

/// The half-cycle and run in progress on one channel.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ChannelShape {
    positive: bool,
    run_value: f32,
    run_len: u32,
}

impl ChannelShape {
    /// Adds one finite sample; true if it changed sign.
    #[inline]
    pub fn push(&mut self, x: f32, stats: &mut ShapeStats) -> bool {
        // Zero keeps the current sign: only a change counts.
        let crossed = (x > 0.0 && !self.positive) || (x < 0.0 && self.positive);
        if crossed {
            self.positive = x > 0.0;
        }
        if x == self.run_value {
            self.run_len += 1;
        } else {
            if self.run_len >= MIN_RUN && self.run_value != 0.0 {
                let level = self.run_value.abs();
                stats.flat_runs.add(level, 1);
                stats.flat_samples.add(level, self.run_len as u64);
            }
            self.run_value = x;
            self.run_len = 1;
        }
        crossed
    }
}
