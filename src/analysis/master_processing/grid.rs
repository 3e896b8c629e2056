//! The 2-D histogram of windows the master-processing decision reads: the stem sum's peak
//! level against a gain (master over sum), both in dB.

use crate::analysis::level_bins::db;

/// Sum-peak bins: 0.25 dB wide…
pub const LEVEL_BIN_DB: f32 = 0.25;
const LEVEL_LOW_DB: f32 = -90.0;
/// …from −90 dBFS to +24 dBFS.
pub const LEVEL_BINS: usize = 456;
/// Gain bins: 0.1 dB from −24 dB to +24 dB, one centred on 0 dB (a master driven into its
/// limiter is louder than the sum wherever the limiter rests).
const GAIN_BIN_DB: f32 = 0.1;
const GAIN_LOW_DB: f32 = -24.05;
const GAIN_BINS: usize = 481;

/// 2-D histogram of windows: sum peak level × gain.
#[derive(Clone, Debug)]
pub struct Grid {
    counts: Vec<u32>,
}

impl Grid {
    /// An empty grid.
    pub fn new() -> Self {
        Self {
            counts: vec![0; LEVEL_BINS * GAIN_BINS],
        }
    }

    /// Counts a window at sum-peak bin `level` and gain `gain_db`.
    pub fn add(&mut self, level: usize, gain_db: f32) {
        let c = &mut self.counts[level * GAIN_BINS + gain_bin(gain_db)];
        *c = c.saturating_add(1);
    }

    /// The counts of one sum-peak bin, by gain.
    pub fn row(&self, level: usize) -> &[u32] {
        &self.counts[level * GAIN_BINS..(level + 1) * GAIN_BINS]
    }

    /// Count over levels `lo..hi`.
    pub fn count(&self, lo: usize, hi: usize) -> u64 {
        (lo..hi)
            .map(|l| self.row(l).iter().map(|&c| c as u64).sum::<u64>())
            .sum()
    }

    /// The gain (dB, bin centre) at quantile `q` over levels `lo..hi`.
    pub fn quantile(&self, lo: usize, hi: usize, q: f64) -> Option<f32> {
        let n = self.count(lo, hi);
        if n == 0 {
            return None;
        }
        let target = ((n as f64 * q).ceil() as u64).clamp(1, n);
        let mut acc = 0;
        for g in 0..GAIN_BINS {
            acc += (lo..hi).map(|l| self.row(l)[g] as u64).sum::<u64>();
            if acc >= target {
                return Some(gain_centre(g));
            }
        }
        None
    }

    /// The most common gain over levels `lo..hi` (dB): three-bin sums, so that a gain on a
    /// bin edge is not split.
    pub fn mode(&self, lo: usize, hi: usize) -> f32 {
        let mut best = (0u64, GAIN_BINS / 2);
        for g in 0..GAIN_BINS {
            let c: u64 = (lo..hi)
                .map(|l| {
                    let row = self.row(l);
                    row[g.saturating_sub(1)..(g + 2).min(GAIN_BINS)]
                        .iter()
                        .map(|&c| c as u64)
                        .sum::<u64>()
                })
                .sum();
            if c > best.0 {
                best = (c, g);
            }
        }
        gain_centre(best.1)
    }

    /// Least-squares slope of (level + gain) over level across levels `lo..hi`.
    pub fn slope(&self, lo: usize, hi: usize) -> Option<f32> {
        let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
        for l in lo..hi {
            let x = level_centre(l) as f64;
            for (g, &c) in self.row(l).iter().enumerate() {
                let c = c as f64;
                let y = x + gain_centre(g) as f64;
                n += c;
                sx += c * x;
                sy += c * y;
                sxx += c * x * x;
                sxy += c * x * y;
            }
        }
        let var = sxx / n - (sx / n).powi(2);
        (n > 1.0 && var > 1e-3).then(|| ((sxy / n - sx * sy / (n * n)) / var) as f32)
    }

    /// Empties every bin.
    pub fn clear(&mut self) {
        self.counts.fill(0);
    }
}

/// The sum-peak bin of a linear peak (`None` for silence or under the range).
pub fn level_bin(peak: f32) -> Option<usize> {
    let l = ((db(peak)? - LEVEL_LOW_DB) / LEVEL_BIN_DB).floor();
    (l >= 0.0).then(|| (l as usize).min(LEVEL_BINS - 1))
}

/// Centre of sum-peak bin `l`, dBFS.
pub fn level_centre(l: usize) -> f32 {
    LEVEL_LOW_DB + (l as f32 + 0.5) * LEVEL_BIN_DB
}

/// The gain bin of `gain_db` (clamped to the range).
fn gain_bin(gain_db: f32) -> usize {
    let g = ((gain_db - GAIN_LOW_DB) / GAIN_BIN_DB).floor();
    g.clamp(0.0, (GAIN_BINS - 1) as f32) as usize
}

/// Centre of gain bin `g`, dB.
fn gain_centre(g: usize) -> f32 {
    GAIN_LOW_DB + (g as f32 + 0.5) * GAIN_BIN_DB
}
