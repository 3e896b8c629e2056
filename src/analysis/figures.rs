//! The sum-check's results, and how they are solved from the running sums.

use super::master_processing::MasterProcessingResult;
use super::normal_equations::ChannelSums;
use super::solve::solve_ridge;

/// Lowest ratio reported, in dB: a perfect null reads −200 dB, never −inf.
pub const FLOOR_DB: f32 = -200.0;

/// A stem on a channel with less energy than this, relative to the larger of the master's
/// and the loudest stem's (−140 dB), carries nothing to fit: its gain is `None`.
const SILENT_RELATIVE: f64 = 1e-14;

/// A fitted gain must be below this (−40 dB, inverted) to count as a polarity flip: a stem
/// that does not reach the master at all fits a gain of ±noise around zero, which is
/// reported by its gain, not as a flip.
pub const INVERTED_BELOW: f64 = -0.01;

/// Figures over every frame compared so far. Ratios are `None` when their reference is
/// silence (nothing to compare), never −inf or NaN; the floor is [`FLOOR_DB`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SumFigures {
    /// 10·log10(Σ(m − Σs)² / Σm²) with every stem at unity gain and at its detected offset.
    pub null_depth_db: Option<f32>,
    /// The same with the least-squares gains of [`StemFit::gain_db`].
    pub null_depth_fitted_db: Option<f32>,
    /// Master energy no stem explains, relative to the master: the residual after the fit.
    /// Equal to `null_depth_fitted_db` by definition today; kept apart because the report
    /// names both and a richer fit (per-stem filters) would lower only this one.
    pub unaccounted_db: Option<f32>,
    /// 10·log10(energy(Σs) / Σ energy(s)) at unity and at the detected offsets: about 0 dB for
    /// unrelated stems, well below for stems that cancel each other. A mono stem counts once
    /// per master channel it feeds.
    pub cancellation_db: Option<f32>,
    /// Frames (per channel) that entered the figures.
    pub compared_frames: u64,
    /// Frames skipped: a stem missing or non-finite there, or before the first pushed frame
    /// for a late stem (the frames a jump inserts are not frames of the pass and not counted).
    pub skipped_frames: u64,
    /// One entry per stem, in the order given to [`SumCheck::new`](super::SumCheck::new).
    pub stems: Vec<StemFit>,
    /// A limiter or compressor on the master after the stems, judged from the master against
    /// the stems summed at unity at their offsets.
    pub master_processing: MasterProcessingResult,
}

/// What the fit says about one stem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StemFit {
    /// Per master channel: |g| in dB, the fitted gain from the stem to the master (0 dB:
    /// fader and pan at unity). `None` where the stem carried no signal to fit.
    pub gain_db: Vec<Option<f32>>,
    /// A fitted gain is negative on some channel, and louder than [`INVERTED_BELOW`] in
    /// magnitude: the stem reaches the master inverted.
    pub polarity_inverted: bool,
    /// Frames the stem reaches the master late (negative: early), as `offset_samples` in the
    /// report. `None` until the stem has carried signal.
    pub offset_samples: Option<i64>,
    /// Pushed chunks in which this stem was missing (skipped for everything).
    pub missing_chunks: u64,
}

/// Totals and per-channel gains solved from the sums.
pub(super) struct Solved {
    pub master: f64,
    pub residual: f64,
    pub fitted: f64,
    pub sum: f64,
    pub parts: f64,
    /// `gains[stem][channel]`: the fitted linear gain, `None` for a silent regressor.
    pub gains: Vec<Vec<Option<f64>>>,
}

/// Solves every channel's normal equations for the gains and the fitted residual.
pub(super) fn solve(channels: &[ChannelSums], stems: usize) -> Solved {
    let mut out = Solved {
        master: 0.0,
        residual: 0.0,
        fitted: 0.0,
        sum: 0.0,
        parts: 0.0,
        gains: vec![vec![None; channels.len()]; stems],
    };
    for (ch, sums) in channels.iter().enumerate() {
        let diag = |i: usize| sums.gram[i * stems + i];
        let loudest = (0..stems).map(diag).fold(sums.master, f64::max);
        let active: Vec<usize> = (0..stems)
            .filter(|&i| diag(i) > 0.0 && diag(i) > SILENT_RELATIVE * loudest)
            .collect();
        let k = active.len();
        let mut gram = vec![0.0f64; k * k];
        for (a, &i) in active.iter().enumerate() {
            for (b, &j) in active.iter().enumerate().skip(a) {
                gram[a * k + b] = sums.gram[i * stems + j];
            }
        }
        let cross: Vec<f64> = active.iter().map(|&i| sums.cross[i]).collect();
        // Unknowns are deviations from unity: d = g − 1 minimises Σ(e − Σ d_i·x_i)².
        let mut fitted = sums.residual;
        if let Some(d) = solve_ridge(&gram, &cross) {
            // e'e − 2dᵀc + dᵀGd, exact for the d the ridge produced.
            let mut quad = 0.0;
            for a in 0..k {
                let mut row = gram[a * k + a] * d[a];
                for b in 0..k {
                    if b != a {
                        let g = if b > a {
                            gram[a * k + b]
                        } else {
                            gram[b * k + a]
                        };
                        row += g * d[b];
                    }
                }
                quad += d[a] * row;
            }
            let linear: f64 = d.iter().zip(&cross).map(|(d, c)| d * c).sum();
            fitted = (sums.residual - 2.0 * linear + quad).clamp(0.0, sums.residual);
            for (a, &i) in active.iter().enumerate() {
                out.gains[i][ch] = Some(1.0 + d[a]);
            }
        }
        out.master += sums.master;
        out.residual += sums.residual;
        out.fitted += fitted;
        out.sum += sums.sum;
        out.parts += (0..stems).map(diag).sum::<f64>();
    }
    out
}

/// 10·log10(num / den), floored at [`FLOOR_DB`]; `None` when `den` is silence.
pub(super) fn ratio_db(num: f64, den: f64) -> Option<f32> {
    if !(den > 0.0 && den.is_finite() && num.is_finite()) {
        return None;
    }
    Some(((10.0 * (num / den).log10()) as f32).max(FLOOR_DB))
}

/// A linear gain's magnitude in dB, floored at [`FLOOR_DB`].
pub(super) fn gain_db(g: f64) -> f32 {
    ((20.0 * g.abs().log10()) as f32).max(FLOOR_DB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_never_go_to_infinity() {
        assert_eq!(ratio_db(0.0, 1.0), Some(FLOOR_DB));
        assert_eq!(ratio_db(1.0, 0.0), None);
        assert_eq!(ratio_db(f64::NAN, 1.0), None);
        assert!((ratio_db(1.0, 10.0).unwrap() + 10.0).abs() < 1e-6);
        assert_eq!(gain_db(0.0), FLOOR_DB);
        assert!((gain_db(-0.5) + 6.0206).abs() < 1e-3);
    }
}
