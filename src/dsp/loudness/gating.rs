//! The distribution of block loudness over a pass, in fixed memory: what integrated loudness
//! (BS.1770 gating) and loudness range (EBU Tech 3342) are computed from.
//!
//! A pass can last hours, so the blocks are not stored one by one. They are counted in a
//! histogram of [`BIN_LU`] = 0.01 LU bins from −70 LUFS (the absolute gate; nothing below it
//! is ever used) to +30 LUFS, 10 000 bins. Every 100 bins also keep the exact count and the
//! exact energy sum of their blocks. A gated mean is then exact except for the blocks within
//! one fine bin of the relative threshold, and a percentile is exact to half a bin:
//!
//! - integrated loudness: the coarse bins above the threshold contribute their exact energy;
//!   only the fine bins of the threshold's own coarse bin use their centre level, off by at
//!   most 0.005 LU per block, for blocks 10 LU under the programme (a tenth of its power each),
//!   so the error is far below 0.005 LU;
//! - loudness range: each percentile is the centre of its fine bin, within 0.005 LU of the
//!   exact order statistic, so LRA is within 0.01 LU.
//!
//! Both tolerances are an order of magnitude inside what the tests require (0.05 LU against a
//! reference implementation that keeps every block). A query walks at most 100 coarse and
//! 100 fine bins, so it costs the same after a minute or after ten hours.

/// Width of a fine bin in LU.
pub const BIN_LU: f64 = 0.01;
/// Lowest level counted, LUFS (the absolute gate).
pub const FLOOR_LUFS: f64 = -70.0;
/// Fine bins per coarse bin (1 LU).
const FINE_PER_COARSE: usize = 100;
/// Coarse bins: −70 to +30 LUFS.
const COARSE_BINS: usize = 100;
/// Fine bins in all.
const FINE_BINS: usize = FINE_PER_COARSE * COARSE_BINS;

/// BS.1770's offset between the weighted mean square and loudness: L = −0.691 + 10·log10(z).
pub const LOUDNESS_OFFSET_DB: f64 = -0.691;

/// Loudness (LUFS) of a weighted mean square; `-inf` for zero.
#[inline]
pub fn lufs(mean_square: f64) -> f64 {
    LOUDNESS_OFFSET_DB + 10.0 * mean_square.log10()
}

/// The weighted mean square of a loudness (LUFS).
#[inline]
pub fn mean_square(lufs: f64) -> f64 {
    10f64.powf((lufs - LOUDNESS_OFFSET_DB) / 10.0)
}

/// Whether a value at the absolute gate itself counts: BS.1770 keeps blocks strictly above
/// its thresholds, EBU Tech 3342 keeps values at or above them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateEdge {
    /// Keep values strictly above a threshold (integrated loudness, BS.1770).
    Above,
    /// Keep values at or above a threshold (loudness range, Tech 3342).
    AtOrAbove,
}

/// The histogram of one kind of block (400 ms gating blocks, or 3 s short-term windows).
/// Allocates only in [`GatingHistogram::new`].
#[derive(Clone, Debug)]
pub struct GatingHistogram {
    edge: GateEdge,
    fine: Box<[u32]>,
    coarse_count: Box<[u64]>,
    coarse_energy: Box<[f64]>,
    /// Blocks above the absolute gate, and their energy sum.
    count: u64,
    energy: f64,
    /// Fine bins touched since the last clear (so clearing is cheap).
    touched: Option<(usize, usize)>,
}

impl GatingHistogram {
    /// An empty histogram whose gates treat values at a threshold as `edge` says.
    pub fn new(edge: GateEdge) -> Self {
        Self {
            edge,
            fine: vec![0; FINE_BINS].into_boxed_slice(),
            coarse_count: vec![0; COARSE_BINS].into_boxed_slice(),
            coarse_energy: vec![0.0; COARSE_BINS].into_boxed_slice(),
            count: 0,
            energy: 0.0,
            touched: None,
        }
    }

    /// Forgets every block (no allocation; clears only the bins in use).
    pub fn clear(&mut self) {
        if let Some((lo, hi)) = self.touched.take() {
            self.fine[lo..=hi].fill(0);
        }
        self.coarse_count.fill(0);
        self.coarse_energy.fill(0.0);
        self.count = 0;
        self.energy = 0.0;
    }

    /// Blocks counted (above the absolute gate).
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no block passed the absolute gate.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds one block of weighted mean square `z`; blocks not above the absolute gate are
    /// left out.
    pub fn add(&mut self, z: f64) {
        let level = lufs(z);
        let kept = match self.edge {
            GateEdge::Above => level > FLOOR_LUFS,
            GateEdge::AtOrAbove => level >= FLOOR_LUFS,
        };
        if !kept || !level.is_finite() {
            return;
        }
        let bin = fine_bin(level);
        self.fine[bin] += 1;
        self.coarse_count[bin / FINE_PER_COARSE] += 1;
        self.coarse_energy[bin / FINE_PER_COARSE] += z;
        self.count += 1;
        self.energy += z;
        self.touched = Some(match self.touched {
            Some((lo, hi)) => (lo.min(bin), hi.max(bin)),
            None => (bin, bin),
        });
    }

    /// The count and energy sum of the blocks at or above the relative threshold `threshold`
    /// (LUFS), and the fine bin where counting starts.
    fn above(&self, threshold: f64) -> (u64, f64, usize) {
        let start = self.first_bin_kept(threshold);
        let coarse_of_start = start / FINE_PER_COARSE;
        let next_coarse = (coarse_of_start + 1) * FINE_PER_COARSE;
        let (mut n, mut e) = (0u64, 0.0f64);
        for bin in start..next_coarse.min(FINE_BINS) {
            let c = self.fine[bin];
            if c > 0 {
                n += u64::from(c);
                e += f64::from(c) * mean_square(centre(bin));
            }
        }
        for c in coarse_of_start + 1..COARSE_BINS {
            n += self.coarse_count[c];
            e += self.coarse_energy[c];
        }
        (n, e, start)
    }

    /// The first fine bin whose centre passes a relative threshold (LUFS).
    fn first_bin_kept(&self, threshold: f64) -> usize {
        let pos = (threshold - FLOOR_LUFS) / BIN_LU - 0.5;
        // Bin b's centre is FLOOR + (b + 0.5)·BIN; keep b when its centre passes the gate.
        let b = match self.edge {
            GateEdge::Above => pos.floor() + 1.0,
            GateEdge::AtOrAbove => pos.ceil(),
        };
        b.clamp(0.0, FINE_BINS as f64) as usize
    }

    /// Integrated loudness (LUFS) per BS.1770: the mean of the blocks above the absolute gate,
    /// then of those above a relative gate `relative_lu` below that mean (−10 LU). `None` when
    /// every block was gated.
    pub fn gated_loudness(&self, relative_lu: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let threshold = lufs(self.energy / self.count as f64) + relative_lu;
        let (n, e, _) = self.above(threshold);
        (n > 0).then(|| lufs(e / n as f64))
    }

    /// Loudness range (LU) per EBU Tech 3342: the spread between the 10th and 95th percentiles
    /// of the values above a relative gate `relative_lu` below their mean (−20 LU). `None`
    /// when every value was gated.
    pub fn range(&self, relative_lu: f64, low: f64, high: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let threshold = lufs(self.energy / self.count as f64) + relative_lu;
        let (n, _, start) = self.above(threshold);
        if n == 0 {
            return None;
        }
        // Ranks as in Tech 3342's reference code: round((n − 1)·p), counted from the lowest.
        let rank = |p: f64| ((n - 1) as f64 * p).round() as u64;
        let (lo, hi) = (
            self.value_at_rank(start, rank(low)),
            self.value_at_rank(start, rank(high)),
        );
        Some(hi - lo)
    }

    /// The centre level of the fine bin holding the `rank`-th value (from 0) counted from
    /// fine bin `start` upwards.
    fn value_at_rank(&self, start: usize, rank: u64) -> f64 {
        let mut seen = 0u64;
        let mut bin = start;
        // Finish the start's coarse bin fine bin by fine bin, then skip whole coarse bins.
        let first_full = (start / FINE_PER_COARSE + 1) * FINE_PER_COARSE;
        while bin < first_full.min(FINE_BINS) {
            seen += u64::from(self.fine[bin]);
            if seen > rank {
                return centre(bin);
            }
            bin += 1;
        }
        let mut coarse = first_full / FINE_PER_COARSE;
        while coarse < COARSE_BINS && seen + self.coarse_count[coarse] <= rank {
            seen += self.coarse_count[coarse];
            coarse += 1;
        }
        let end = ((coarse + 1) * FINE_PER_COARSE).min(FINE_BINS);
        for bin in coarse * FINE_PER_COARSE..end {
            seen += u64::from(self.fine[bin]);
            if seen > rank {
                return centre(bin);
            }
        }
        centre(FINE_BINS - 1)
    }
}

/// The fine bin of a level (LUFS) at or above the floor; levels above the top share the last.
#[inline]
fn fine_bin(level: f64) -> usize {
    (((level - FLOOR_LUFS) / BIN_LU) as usize).min(FINE_BINS - 1)
}

/// The centre level of a fine bin.
#[inline]
fn centre(bin: usize) -> f64 {
    FLOOR_LUFS + (bin as f64 + 0.5) * BIN_LU
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definitions applied to a list, as the standards' reference code does.
    fn exact(levels: &[f64]) -> (Option<f64>, Option<f64>) {
        let mean =
            |v: &[f64]| lufs(v.iter().map(|&l| mean_square(l)).sum::<f64>() / v.len() as f64);
        let abs_i: Vec<f64> = levels.iter().copied().filter(|&l| l > -70.0).collect();
        let integrated = (!abs_i.is_empty()).then(|| {
            let t = mean(&abs_i) - 10.0;
            let rel: Vec<f64> = abs_i.iter().copied().filter(|&l| l > t).collect();
            mean(&rel)
        });
        let abs_r: Vec<f64> = levels.iter().copied().filter(|&l| l >= -70.0).collect();
        let range = (!abs_r.is_empty()).then(|| {
            let t = mean(&abs_r) - 20.0;
            let mut rel: Vec<f64> = abs_r.iter().copied().filter(|&l| l >= t).collect();
            rel.sort_by(f64::total_cmp);
            let at = |p: f64| rel[((rel.len() - 1) as f64 * p).round() as usize];
            at(0.95) - at(0.10)
        });
        (integrated, range)
    }

    #[test]
    fn gated_mean_and_range_match_the_definitions_on_a_list() {
        // A programme-like spread: a loud body, a quiet tail, silence, some overs.
        let mut state = 12_345u32;
        let mut levels = Vec::new();
        for i in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let u = state as f64 / u32::MAX as f64;
            levels.push(match i % 10 {
                0 => -90.0,
                1 | 2 => -45.0 + 15.0 * u,
                _ => -25.0 + 12.0 * u,
            });
        }
        levels.push(32.0); // above the top bin: counted at the top, energy exact
        let (want_i, want_r) = exact(&levels);
        let mut hi = GatingHistogram::new(GateEdge::Above);
        let mut hr = GatingHistogram::new(GateEdge::AtOrAbove);
        for &l in &levels {
            hi.add(mean_square(l));
            hr.add(mean_square(l));
        }
        let got_i = hi.gated_loudness(-10.0).unwrap();
        let got_r = hr.range(-20.0, 0.10, 0.95).unwrap();
        assert!(
            (got_i - want_i.unwrap()).abs() < 0.005,
            "{got_i} vs {want_i:?}"
        );
        assert!(
            (got_r - want_r.unwrap()).abs() < 0.011,
            "{got_r} vs {want_r:?}"
        );
    }

    #[test]
    fn everything_gated_is_none_and_clear_forgets() {
        let mut h = GatingHistogram::new(GateEdge::Above);
        h.add(0.0);
        h.add(mean_square(-75.0));
        assert!(h.is_empty());
        assert_eq!(h.gated_loudness(-10.0), None);
        assert_eq!(h.range(-20.0, 0.1, 0.95), None);
        h.add(mean_square(-23.0));
        assert!((h.gated_loudness(-10.0).unwrap() + 23.0).abs() < 1e-9);
        assert_eq!(h.range(-20.0, 0.1, 0.95), Some(0.0));
        h.clear();
        assert!(h.is_empty() && h.fine.iter().all(|&c| c == 0));
    }
}
