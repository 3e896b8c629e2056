//! The measurements a verdict is drawn from, computed from the binned statistics.

use super::events::EventStats;
use super::shape::ShapeStats;
use crate::analysis::level_bins::{bin_at_db, centre_db, db, Histogram, BINS};

/// Widths of the band at the top where a limiter's event peaks gather, in level bins
/// (0.034–0.068 dB each): a sample-peak limiter puts them within a bin or two of its
/// ceiling, a true-peak limiter leaves sample peaks a few tenths of a dB under its own.
/// Each width is tried and the most significant pile-up kept.
const BAND_BINS: [usize; 3] = [2, 4, 8];
/// Where the band is searched: its top this far under the highest event peak at most, dB
/// (a limiter that overshoots now and then leaves a few peaks above its ceiling). The
/// events above the band count with it, against an expectation over the whole span.
const SEARCH_DB: f32 = 0.5;
/// The band under the ceiling band whose density of events the pile-up is compared with:
/// this many times the ceiling band's width, and at least [`MIN_REFERENCE_DB`]. Adjacent
/// and not much wider, so that it measures how sharply the density steps up at the
/// ceiling, not how the level is spread over the whole top end.
const REFERENCE_WIDTHS: f32 = 4.0;
const MIN_REFERENCE_DB: f32 = 1.0;
/// Flat tops count within this distance of the highest sample, dB.
const FLAT_TOP_BAND_DB: f32 = 0.1;
/// Events this far under the ceiling and above are the bus's programme, dB.
const ACTIVE_RANGE_DB: f32 = 30.0;

/// Everything the verdict looks at, in plain numbers. Exposed for calibration and
/// diagnostics; the verdict itself is [`DynamicsResult`](super::DynamicsResult).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DynamicsFeatures {
    /// Highest finite |sample|, dBFS (`None` for silence).
    pub peak_dbfs: Option<f32>,
    /// Events (separate excursions of the level) within the active range.
    pub events: u64,
    /// Mean exact peak level of the events in the ceiling band, dBFS.
    pub ceiling_dbfs: Option<f32>,
    /// Width of the ceiling band kept, dB.
    pub band_db: f32,
    /// Events whose peak lies in the ceiling band or above it.
    pub ceiling_events: u64,
    /// Events the band would hold if the density of the band under it went on: what a
    /// natural top end predicts.
    pub expected_events: f32,
    /// −log10 of the chance of seeing that many events in the band if nothing piled them
    /// up (Poisson around the expectation, the highest event itself not counted).
    pub pile_up: f32,
    /// Standard deviation of the exact peak levels of the ceiling events, dB.
    pub peak_spread_db: f32,
    /// Standard deviation of their crest factors (peak over the loudness around it), dB:
    /// near 0 when they are copies of one sound.
    pub crest_spread_db: f32,
    /// Standard deviation of their brightness (log2 zero-crossing rate).
    pub brightness_spread: f32,
    /// Runs of ≥ 2 identical samples within 0.1 dB of the peak.
    pub flat_runs: u64,
    /// Samples in those runs.
    pub flat_samples: u64,
    /// Samples in the top 0.1 dB over the samples in the 1 dB under it, per dB.
    pub top_sample_spike: f32,
    /// Peak over the highest short-term (3 s) loudness (unweighted), dB.
    pub peak_to_short_term_db: Option<f32>,
}

/// Computes the features from the statistics.
pub(super) fn features(
    peak: f32,
    samples: &Histogram,
    shape: &ShapeStats,
    events: &EventStats,
    max_short_term: f64,
) -> DynamicsFeatures {
    let mut f = DynamicsFeatures {
        peak_dbfs: db(peak),
        ..Default::default()
    };
    let Some(peak_db) = f.peak_dbfs else {
        return f;
    };
    let flat_lo = bin_at_db(peak_db - FLAT_TOP_BAND_DB);
    f.flat_runs = shape.flat_runs.sum(flat_lo, BINS);
    f.flat_samples = shape.flat_samples.sum(flat_lo, BINS);
    let spike_lo = bin_at_db(peak_db - FLAT_TOP_BAND_DB - 1.0);
    f.top_sample_spike = density_ratio(
        samples.sum(flat_lo, BINS),
        FLAT_TOP_BAND_DB,
        samples.sum(spike_lo, flat_lo),
        1.0,
    );
    if max_short_term > 0.0 {
        f.peak_to_short_term_db = Some(peak_db - 10.0 * max_short_term.log10() as f32);
    }
    event_features(&mut f, events);
    f
}

/// Counts of events in bins `from..to`.
fn count(e: &EventStats, from: usize, to: usize) -> u64 {
    e.count[from.min(BINS)..to.min(BINS)]
        .iter()
        .map(|&c| c as u64)
        .sum()
}

/// The pile-up of event peaks at the top, for the band width that makes it most
/// significant.
fn event_features(f: &mut DynamicsFeatures, e: &EventStats) {
    let Some(top) = (1..BINS).rev().find(|&b| e.count[b] > 0) else {
        return;
    };
    let top_db = centre_db(top);
    f.events = count(e, bin_at_db(top_db - ACTIVE_RANGE_DB), top + 1);
    let search_lo = bin_at_db(top_db - SEARCH_DB).min(top);
    let mut best: Option<(f32, usize, u64, f32)> = None;
    for &width in &BAND_BINS {
        // Densest band of this width in the search range (ties: the higher one).
        let mut band = (top + 1 - width.min(top + 1), 0);
        let mut lo = search_lo.saturating_sub(width);
        while lo + width <= top + 1 {
            let c = count(e, lo, lo + width);
            if c >= band.1 {
                band = (lo, c);
            }
            lo += 1;
        }
        let band_lo = band.0;
        let n = count(e, band_lo, top + 1);
        let width_db = centre_db(band_lo + width) - centre_db(band_lo);
        let span_db = centre_db(top + 1) - centre_db(band_lo);
        let ref_lo =
            bin_at_db(centre_db(band_lo) - (REFERENCE_WIDTHS * width_db).max(MIN_REFERENCE_DB));
        let reference = count(e, ref_lo, band_lo);
        let ref_db = centre_db(band_lo) - centre_db(ref_lo);
        // One event of slack in the reference, so that an empty band under the top does
        // not make a pair of events look impossible.
        let expected = (reference as f32 + 1.0) * span_db / ref_db;
        let score = poisson_tail_log10(n.saturating_sub(1), expected);
        if best.is_none_or(|b| score > b.0) {
            best = Some((score, band_lo, n, expected));
        }
    }
    let Some((score, band_lo, n, expected)) = best else {
        return;
    };
    f.pile_up = score;
    f.ceiling_events = n;
    f.expected_events = expected;
    f.band_db = centre_db(top + 1) - centre_db(band_lo);
    let (mut k, mut l, mut lq, mut c, mut cq, mut b, mut bq) =
        (0f64, 0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    for i in band_lo..=top {
        k += e.count[i] as f64;
        l += e.level[i];
        lq += e.level_sq[i];
        c += e.crest[i];
        cq += e.crest_sq[i];
        b += e.bright[i];
        bq += e.bright_sq[i];
    }
    if k > 0.0 {
        let spread = |s: f64, q: f64| (q / k - (s / k).powi(2)).max(0.0).sqrt() as f32;
        f.ceiling_dbfs = Some((l / k) as f32);
        f.peak_spread_db = spread(l, lq);
        f.crest_spread_db = spread(c, cq);
        f.brightness_spread = spread(b, bq);
    }
}

/// −log10 P(N ≥ k) for N Poisson with mean `lambda` (0 when k is 0).
fn poisson_tail_log10(k: u64, lambda: f32) -> f32 {
    if k == 0 {
        return 0.0;
    }
    let lambda = (lambda as f64).max(1e-9);
    // log of the first term e^-λ λ^k / k!, then the ratio series of the rest.
    let mut log_term = -lambda + k as f64 * lambda.ln() - ln_factorial(k);
    let mut sum = 0.0f64;
    let mut term = 1.0f64;
    let mut i = k;
    while term > 1e-12 * sum.max(1e-300) && i < k + 10_000 {
        sum += term;
        i += 1;
        term *= lambda / i as f64;
    }
    log_term += sum.ln();
    (-log_term / std::f64::consts::LN_10).max(0.0) as f32
}

/// ln(k!) by Stirling's series (exact enough from k = 1 up).
fn ln_factorial(k: u64) -> f64 {
    if k < 2 {
        return 0.0;
    }
    if k < 20 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let x = k as f64;
    x * x.ln() - x + 0.5 * (std::f64::consts::TAU * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x * x)
}

/// (a per dB) / (b per dB), with one count of slack under b so that an empty reference band
/// reads as a large but finite ratio.
fn density_ratio(a: u64, a_db: f32, b: u64, b_db: f32) -> f32 {
    let a = a as f32 / a_db.max(1e-3);
    let b = (b as f32).max(1.0) / b_db.max(1e-3);
    a / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail_matches_direct_sums() {
        // P(N ≥ 3 | 0.5) = 1 − e^-0.5 (1 + 0.5 + 0.125)
        let p = 1.0 - (-0.5f64).exp() * (1.0 + 0.5 + 0.125);
        assert!((poisson_tail_log10(3, 0.5) as f64 + p.log10()).abs() < 1e-3);
        assert_eq!(poisson_tail_log10(0, 3.0), 0.0);
        assert!(poisson_tail_log10(1, 100.0) < 1e-3);
        assert!(poisson_tail_log10(200, 1.0) > 300.0);
        let exact: f64 = (1..=30).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(30) - exact).abs() < 1e-9);
    }
}
