//! Logarithmic level bins read straight from a float's bits, and histograms over them.
//!
//! The top 16 bits of a positive `f32` are its exponent and the 7 highest mantissa bits, so
//! `bits >> 16` splits every octave (6.02 dB) into 128 bins of 0.034–0.068 dB without a
//! logarithm: cheap enough for every sample on the audio thread, fine enough to see a
//! limiter's ceiling to a tenth of a dB.

/// Exponent field of the lowest binned level, 2^-20 (−120.4 dBFS).
const LOW_EXPONENT: u32 = 127 - 20;
/// Exponent field just above the highest binned level, 2^4 (+24.1 dBFS).
const HIGH_EXPONENT: u32 = 127 + 4;
/// Bins per octave (7 mantissa bits).
const PER_OCTAVE: u32 = 128;

/// Number of bins: 24 octaves, −120.4 to +24.1 dBFS.
pub const BINS: usize = ((HIGH_EXPONENT - LOW_EXPONENT) * PER_OCTAVE) as usize;

/// The bin of magnitude `x` (≥ 0, finite): levels below the range land in bin 0, above it in
/// the last bin.
#[inline]
pub fn bin(x: f32) -> usize {
    let b = (x.to_bits() >> 16) as i64 - (LOW_EXPONENT * PER_OCTAVE) as i64;
    b.clamp(0, BINS as i64 - 1) as usize
}

/// The lower edge of bin `b` (linear).
pub fn lower_edge(b: usize) -> f32 {
    f32::from_bits((b as u32 + LOW_EXPONENT * PER_OCTAVE) << 16)
}

/// The geometric centre of bin `b`, in dB.
pub fn centre_db(b: usize) -> f32 {
    let lo = lower_edge(b);
    let hi = f32::from_bits((b as u32 + 1 + LOW_EXPONENT * PER_OCTAVE) << 16);
    10.0 * (lo * hi).log10()
}

/// The first bin whose lower edge is at or above `db`.
pub fn bin_at_db(db: f32) -> usize {
    let x = 10f32.powf(db / 20.0);
    let b = bin(x);
    if lower_edge(b) < x && b + 1 < BINS {
        b + 1
    } else {
        b
    }
}

/// dB of a linear magnitude, `None` for silence.
pub fn db(x: f32) -> Option<f32> {
    (x > 0.0 && x.is_finite()).then(|| 20.0 * x.log10())
}

/// Counts per level bin. Allocated once.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Histogram {
    /// An empty histogram over [`BINS`] bins.
    pub fn new() -> Self {
        Self {
            counts: vec![0; BINS],
        }
    }

    /// Adds `n` at magnitude `x`.
    #[inline]
    pub fn add(&mut self, x: f32, n: u64) {
        self.counts[bin(x)] += n;
    }

    /// Empties every bin.
    pub fn clear(&mut self) {
        self.counts.fill(0);
    }

    /// Total count in bins `from..to` (clamped to the range).
    pub fn sum(&self, from: usize, to: usize) -> u64 {
        let to = to.min(BINS);
        if from >= to {
            return 0;
        }
        self.counts[from..to].iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_monotonic_and_fine() {
        let mut last = 0;
        for i in 0..2000 {
            let x = 10f32.powf((-100.0 + i as f32 * 0.06) / 20.0);
            let b = bin(x);
            assert!(b >= last);
            last = b;
            let width = centre_db(b + 1) - centre_db(b);
            assert!(width > 0.03 && width < 0.07, "{width}");
            assert!(lower_edge(b) <= x && x < lower_edge(b + 1));
        }
        assert_eq!(bin(0.0), 0);
        assert_eq!(bin(1e9), BINS - 1);
        assert!((centre_db(bin(1.0)) - 0.03).abs() < 0.05);
        assert!(lower_edge(bin_at_db(-6.0)) >= 10f32.powf(-0.3));
    }
}
