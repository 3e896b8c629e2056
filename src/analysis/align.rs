//! Estimates stem offsets from a window of the history.
//!
//! Each stem is correlated against the master *minus every other stem* placed at its
//! current estimate (lag and gain), not against the master directly. With eight stems of
//! similar level the master holds seven times more of "everything else" than of the stem
//! being looked for; removing the others leaves a target that is essentially the stem
//! itself, so the correlation peak is sharp even for tonal material, and a stem whose lag
//! is exact yields the same lag for any window. Estimates start at lag 0 / unity gain (a
//! correct session) and are refined stem by stem (Gauss–Seidel) until no lag changes,
//! at most [`MAX_SWEEPS`] times: one wrong stem adds noise to the others' targets in the
//! first sweep only.

use super::config::Layout;
use super::history::History;
use super::lag::LagEstimator;
use super::stem_channel;

/// A stem's lag moves only if the new one leaves less than this share of the residual the
/// current one leaves.
const MOVE_RATIO: f64 = 0.9;

/// Steps of the walk down the residual from a lag: enough for the few samples a broad
/// correlation peak can be off by, few enough to stay cheap (each step is one fit over the
/// window).
const MAX_STEPS: usize = 32;

/// Sweeps over the stems being estimated; the second normally confirms the first.
const MAX_SWEEPS: usize = 3;

/// Where a stem is believed to reach the master: lag in frames, and gain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Placement {
    /// Frames late (negative: early), as in the report's `offset_samples`.
    pub lag: i64,
    /// Broadband gain; only used to subtract the stem from other stems' targets.
    pub gain: f32,
}

impl Default for Placement {
    fn default() -> Self {
        Self { lag: 0, gain: 1.0 }
    }
}

/// One stem over one window of master frames: what every fit of its placement reads.
#[derive(Clone, Copy)]
struct StemWindow<'a> {
    history: &'a History,
    /// The stem's channel count.
    channels: usize,
    /// The stem's index.
    stem: usize,
    /// First master frame of the window.
    from: i64,
    /// Frames in the window.
    len: usize,
}

/// Scratch for estimation, allocated once.
pub(super) struct Aligner {
    estimator: LagEstimator,
    max_lag: usize,
    residual: Vec<Vec<f32>>,
    target: Vec<Vec<f32>>,
    shifted: Vec<Vec<f32>>,
    segment: Vec<f32>,
}

impl Aligner {
    /// Buffers for the layout's window and channel count.
    pub fn new(layout: &Layout) -> Self {
        let w = layout.window;
        let per_channel = || vec![vec![0.0f32; w]; layout.channels];
        Self {
            estimator: LagEstimator::new(layout.fft_len, layout.max_lag),
            max_lag: layout.max_lag,
            residual: per_channel(),
            target: per_channel(),
            shifted: per_channel(),
            segment: vec![0.0; w + 2 * layout.max_lag],
        }
    }

    /// Re-estimates the placements of the stems in `todo` from master frames
    /// `from..from + len` (`len` ≤ the layout's window), every other stem standing where
    /// `placements` says.
    pub fn estimate(
        &mut self,
        history: &History,
        stem_channels: &[usize],
        from: i64,
        len: usize,
        placements: &mut [Placement],
        todo: &[usize],
    ) {
        let channels = self.residual.len();
        for ch in 0..channels {
            history.read_master(ch, from, &mut self.residual[ch][..len]);
        }
        for (i, p) in placements.iter().enumerate() {
            for ch in 0..channels {
                let r = &mut self.residual[ch][..len];
                let s = &mut self.shifted[ch][..len];
                history.read_stem(i, stem_channel(stem_channels[i], ch), from - p.lag, s);
                for (r, &s) in r.iter_mut().zip(s.iter()) {
                    *r -= p.gain * s;
                }
            }
        }
        for _ in 0..MAX_SWEEPS {
            let mut changed = false;
            for &i in todo {
                let old = placements[i];
                let window = StemWindow {
                    history,
                    channels: stem_channels[i],
                    stem: i,
                    from,
                    len,
                };
                let new = self.place(window, old);
                changed |= new.lag != old.lag;
                placements[i] = new;
            }
            if !changed {
                break;
            }
        }
    }

    /// One stem: puts it back into the residual, finds its lag and gain there, and takes
    /// it out again at the new placement.
    fn place(&mut self, w: StemWindow, old: Placement) -> Placement {
        let StemWindow {
            history,
            channels: channels_of_stem,
            stem,
            from,
            len,
        } = w;
        let channels = self.residual.len();
        self.estimator.begin();
        for ch in 0..channels {
            let sc = stem_channel(channels_of_stem, ch);
            let s = &mut self.shifted[ch][..len];
            history.read_stem(stem, sc, from - old.lag, s);
            for ((t, &r), &s) in self.target[ch][..len]
                .iter_mut()
                .zip(&self.residual[ch][..len])
                .zip(s.iter())
            {
                *t = r + old.gain * s;
            }
            history.read_stem(
                stem,
                sc,
                from - self.max_lag as i64,
                &mut self.segment[..len + 2 * self.max_lag],
            );
            self.estimator.add_pair(
                &self.segment[..len + 2 * self.max_lag],
                &self.target[ch][..len],
            );
        }
        let mut lag = match self.estimator.estimate() {
            Some((lag, _)) => lag,
            // Silent here: nothing to place; the residual is unchanged.
            None => return old,
        };
        // The correlation of sustained low tones has a broad peak that noise can move by
        // several samples, while the residual has its minimum exactly at the true lag: walk
        // down the residual from the correlation's lag and from the current one, and keep
        // the better end.
        let (down_new, at_new) = self.descend(w, lag);
        let (down_old, at_old) = self.descend(w, old.lag);
        let (candidate, at_candidate) = if at_new < at_old {
            (down_new, at_new)
        } else {
            (down_old, at_old)
        };
        // A periodic stem (sustained tones, a line-up sine) fits as well a period away: move
        // only when the new lag explains the target clearly better than the current one.
        lag = old.lag;
        if candidate != old.lag {
            let (_, at_current) = self.fit_at(w, old.lag);
            if at_candidate < MOVE_RATIO * at_current {
                lag = candidate;
            }
        }
        let (gain, _) = self.fit_at(w, lag);
        for ch in 0..channels {
            for ((r, &t), &s) in self.residual[ch][..len]
                .iter_mut()
                .zip(&self.target[ch][..len])
                .zip(&self.shifted[ch][..len])
            {
                *r = t - gain * s;
            }
        }
        Placement { lag, gain }
    }

    /// From `start`, steps one frame at a time towards a lower fitted residual until neither
    /// neighbour is lower (at most [`MAX_STEPS`] steps, within `±max_lag`). Returns the lag
    /// reached and its residual.
    fn descend(&mut self, w: StemWindow, start: i64) -> (i64, f64) {
        let limit = self.max_lag as i64;
        let mut at = start.clamp(-limit, limit);
        let (_, mut best) = self.fit_at(w, at);
        // Both neighbours at first; once a direction pays, only that one (the other was just
        // left behind).
        let mut steps: &[i64] = &[-1, 1];
        for _ in 0..MAX_STEPS {
            let Some((next, residual)) = steps
                .iter()
                .map(|&step| at + step)
                .filter(|next| next.abs() <= limit)
                .map(|next| (next, self.fit_at(w, next).1))
                .find(|&(_, residual)| residual < best)
            else {
                break;
            };
            steps = if next < at { &[-1] } else { &[1] };
            at = next;
            best = residual;
        }
        (at, best)
    }

    /// Reads the stem at `lag` into `shifted` and returns its least-squares gain against the
    /// target, over all channels, and the residual energy that gain leaves.
    fn fit_at(&mut self, w: StemWindow, lag: i64) -> (f32, f64) {
        let (mut num, mut den, mut tt) = (0.0f64, 0.0f64, 0.0f64);
        for ch in 0..self.residual.len() {
            let s = &mut self.shifted[ch][..w.len];
            w.history
                .read_stem(w.stem, stem_channel(w.channels, ch), w.from - lag, s);
            for (&t, &s) in self.target[ch][..w.len].iter().zip(s.iter()) {
                num += t as f64 * s as f64;
                den += s as f64 * s as f64;
                tt += t as f64 * t as f64;
            }
        }
        if den > 0.0 {
            ((num / den) as f32, (tt - num * num / den).max(0.0))
        } else {
            (0.0, tt)
        }
    }
}
