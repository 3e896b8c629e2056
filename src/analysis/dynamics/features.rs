//! The measurements a verdict is drawn from, computed from the binned statistics.

use super::shape::ShapeStats;
use super::windows::WindowStats;
use crate::analysis::level_bins::{bin, bin_at_db, centre_db, db, Histogram, BINS};

/// Width of the band at the ceiling where a limiter's window peaks gather, dB. A
/// sample-peak limiter puts them within a bin of its ceiling; true-peak limiters with
/// oversampling leave sample peaks a few tenths of a dB under theirs.
pub const CEILING_BAND_DB: f32 = 0.5;
/// Where the ceiling is searched: this far under the highest window peak, dB (a limiter
/// that overshoots now and then leaves a few peaks above its ceiling).
const CEILING_SEARCH_DB: f32 = 1.5;
/// The band under the ceiling band that the pile-up is compared with, dB.
const REFERENCE_BAND_DB: f32 = 3.0;
/// Flat tops count within this distance of the highest sample, dB.
const FLAT_TOP_BAND_DB: f32 = 0.1;
/// Windows this far under the ceiling and above count as active (carrying the bus's
/// programme rather than its tails and silence), dB.
const ACTIVE_RANGE_DB: f32 = 30.0;

/// Everything the verdict looks at, in plain numbers. Exposed for calibration and
/// diagnostics; the verdict itself is [`DynamicsResult`](super::DynamicsResult).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DynamicsFeatures {
    /// Highest finite |sample|, dBFS (`None` for silence).
    pub peak_dbfs: Option<f32>,
    /// Level of the densest [`CEILING_BAND_DB`]-wide band of window peaks near the top,
    /// dBFS: the median window peak in it.
    pub ceiling_dbfs: Option<f32>,
    /// Complete windows with signal.
    pub windows: u64,
    /// Windows within the active range under the ceiling.
    pub active_windows: u64,
    /// Windows whose peak lies in the ceiling band (or above it).
    pub ceiling_windows: u64,
    /// Windows in the reference band just under the ceiling band.
    pub reference_windows: u64,
    /// Density of window peaks in the ceiling band over the density in the reference band
    /// (per dB): about 1 or less for a natural top end, far above 1 for a pile-up.
    pub pile_up: f32,
    /// Standard deviation of the crest factor (peak over the loudness around it) of the
    /// windows in the ceiling band, dB: near 0 when they are copies of one sound, larger when
    /// sounds of different loudness share one peak level.
    pub ceiling_crest_spread_db: f32,
    /// Mean crest factor of those windows, dB.
    pub ceiling_crest_db: f32,
    /// Half-cycle peaks in the ceiling band per window in it.
    pub half_cycles_per_window: f32,
    /// Half-cycle peaks: density in the ceiling band over the density in the reference band.
    pub half_cycle_pile_up: f32,
    /// Runs of ≥ 2 identical samples within [`FLAT_TOP_BAND_DB`] of the peak.
    pub flat_runs: u64,
    /// Samples in those runs.
    pub flat_samples: u64,
    /// Samples in the top [`FLAT_TOP_BAND_DB`] over the samples in the next 1 dB under it,
    /// per dB.
    pub top_sample_spike: f32,
    /// Peak over the highest short-term (3 s) loudness (unweighted), dB.
    pub peak_to_short_term_db: Option<f32>,
}

/// Computes the features from the statistics.
pub(super) fn features(
    peak: f32,
    samples: &Histogram,
    shape: &ShapeStats,
    windows: &WindowStats,
    window_count: u64,
) -> DynamicsFeatures {
    let mut f = DynamicsFeatures {
        peak_dbfs: db(peak),
        windows: windows.count.iter().map(|&c| c as u64).sum(),
        ..Default::default()
    };
    let Some(peak_db) = f.peak_dbfs else {
        return f;
    };
    let Some(top) = (1..BINS).rev().find(|&b| windows.count[b] > 0) else {
        return f;
    };
    let top_db = centre_db(top);
    // Densest band of CEILING_BAND_DB in the search range.
    let band = bins_in(CEILING_BAND_DB, top);
    let search_lo = bin_at_db(top_db - CEILING_SEARCH_DB).min(top);
    let count = |from: usize, to: usize| -> u64 {
        windows.count[from.min(BINS)..to.min(BINS)]
            .iter()
            .map(|&c| c as u64)
            .sum()
    };
    let mut best = (0u64, top + 1 - band.min(top + 1));
    let mut lo = search_lo;
    while lo + band <= top + 1 {
        let c = count(lo, lo + band);
        if c > best.0 {
            best = (c, lo);
        }
        lo += 1;
    }
    let band_lo = best.1;
    let band_hi = band_lo + band;
    // The ceiling: the median window peak in the band.
    let in_band = count(band_lo, band_hi);
    let mut acc = 0;
    let mut median = band_lo;
    for b in band_lo..band_hi {
        acc += windows.count[b] as u64;
        if 2 * acc >= in_band {
            median = b;
            break;
        }
    }
    let ceiling_db = centre_db(median);
    f.ceiling_dbfs = Some(ceiling_db);
    f.ceiling_windows = count(band_lo, top + 1);
    let ref_lo = bin_at_db(centre_db(band_lo) - REFERENCE_BAND_DB);
    f.reference_windows = count(ref_lo, band_lo);
    f.active_windows = count(bin_at_db(ceiling_db - ACTIVE_RANGE_DB), top + 1);
    let band_db = centre_db(band_hi) - centre_db(band_lo);
    let ref_db = centre_db(band_lo) - centre_db(ref_lo);
    f.pile_up = density_ratio(f.ceiling_windows, band_db, f.reference_windows, ref_db);
    // Crest moments over the band and above.
    let (mut n, mut s, mut q) = (0f64, 0f64, 0f64);
    for b in band_lo..=top {
        n += windows.count[b] as f64;
        s += windows.crest_sum[b];
        q += windows.crest_sq[b];
    }
    if n > 0.0 {
        let mean = s / n;
        f.ceiling_crest_db = mean as f32;
        f.ceiling_crest_spread_db = (q / n - mean * mean).max(0.0).sqrt() as f32;
    }
    let hc_band = shape.half_cycles.sum(band_lo, BINS);
    let hc_ref = shape.half_cycles.sum(ref_lo, band_lo);
    f.half_cycles_per_window = hc_band as f32 / (f.ceiling_windows.max(1)) as f32;
    f.half_cycle_pile_up = density_ratio(hc_band, band_db, hc_ref, ref_db);
    let flat_lo = bin_at_db(peak_db - FLAT_TOP_BAND_DB);
    f.flat_runs = shape.flat_runs.sum(flat_lo, BINS);
    f.flat_samples = shape.flat_samples.sum(flat_lo, BINS);
    let spike_ref_lo = bin_at_db(peak_db - FLAT_TOP_BAND_DB - 1.0);
    f.top_sample_spike = density_ratio(
        samples.sum(flat_lo, BINS),
        FLAT_TOP_BAND_DB,
        samples.sum(spike_ref_lo, flat_lo),
        1.0,
    );
    if windows.max_short_term > 0.0 && window_count > 0 {
        f.peak_to_short_term_db = Some(peak_db - 10.0 * windows.max_short_term.log10() as f32);
    }
    let _ = bin;
    f
}

/// Number of bins spanning `width_db` just under bin `top`.
fn bins_in(width_db: f32, top: usize) -> usize {
    let lo = bin_at_db(centre_db(top) - width_db);
    (top + 1 - lo.min(top)).max(1)
}

/// (a per dB) / (b per dB), with one count of slack under b so that an empty reference band
/// reads as a large but finite ratio.
fn density_ratio(a: u64, a_db: f32, b: u64, b_db: f32) -> f32 {
    let a = a as f32 / a_db.max(1e-3);
    let b = (b as f32).max(1.0) / b_db.max(1e-3);
    a / b
}
