//! The recent K-weighted energy in short slices, summed into the sliding momentary (400 ms) and
//! short-term (3 s) windows.
//!
//! Every 100 ms step (the gating step of BS.1770, `round(rate / 10)` samples) is cut into
//! [`SLICES_PER_STEP`] slices of about 5 ms. The windows end on slice boundaries, so the maxima
//! of momentary and short-term loudness are taken every 5 ms: a burst is caught within 2.5 ms
//! of its best alignment (−0.03 dB for a 400 ms burst), which EBU Tech 3341 cases 13 and 14
//! need (their bursts start 20 ms apart, off any 100 ms grid).

/// Slices per 100 ms step.
pub const SLICES_PER_STEP: usize = 20;
/// Steps in the momentary window (400 ms).
pub const MOMENTARY_STEPS: usize = 4;
/// Steps in the short-term window (3 s).
pub const SHORT_TERM_STEPS: usize = 30;
const MOMENTARY_SLICES: usize = MOMENTARY_STEPS * SLICES_PER_STEP;
const SHORT_TERM_SLICES: usize = SHORT_TERM_STEPS * SLICES_PER_STEP;

/// The last 3 s of slice energies and the two window sums. Allocates only in
/// [`SlidingWindows::new`].
#[derive(Clone, Debug)]
pub struct SlidingWindows {
    /// Samples in a step.
    step_len: usize,
    /// Energy of the last [`SHORT_TERM_SLICES`] slices, oldest overwritten first.
    ring: Box<[f64]>,
    /// Where the next slice goes.
    next: usize,
    /// Slices completed since the last clear.
    slices: u64,
    momentary_sum: f64,
    short_term_sum: f64,
}

impl SlidingWindows {
    /// Windows for steps of `step_len` samples.
    pub fn new(step_len: usize) -> Self {
        Self {
            step_len,
            ring: vec![0.0; SHORT_TERM_SLICES].into_boxed_slice(),
            next: 0,
            slices: 0,
            momentary_sum: 0.0,
            short_term_sum: 0.0,
        }
    }

    /// Forgets every slice (windows read as if preceded by silence).
    pub fn clear(&mut self) {
        self.ring.fill(0.0);
        self.next = 0;
        self.slices = 0;
        self.momentary_sum = 0.0;
        self.short_term_sum = 0.0;
    }

    /// Length in samples of slice `index` of a step (the slices of a step differ by at most
    /// one sample and add up to the step exactly).
    pub fn slice_len(&self, index: usize) -> usize {
        (index + 1) * self.step_len / SLICES_PER_STEP - index * self.step_len / SLICES_PER_STEP
    }

    /// Slices completed since the last clear.
    pub fn slices(&self) -> u64 {
        self.slices
    }

    /// Adds the energy (Σ over channels of the weighted samples squared) of one slice.
    pub fn push(&mut self, energy: f64) {
        let ring_len = self.ring.len();
        let momentary_at = match self.next.checked_sub(MOMENTARY_SLICES) {
            Some(at) => at,
            None => self.next + ring_len - MOMENTARY_SLICES,
        };
        let leaving_momentary = self.ring[momentary_at];
        let leaving_short_term = self.ring[self.next];
        self.ring[self.next] = energy;
        self.next = if self.next + 1 == ring_len {
            0
        } else {
            self.next + 1
        };
        self.slices += 1;
        if self.slices.is_multiple_of(SLICES_PER_STEP as u64) {
            // Once a step, sum afresh: running sums of floats drift, and after loud audio a
            // silence must read as exactly zero.
            self.momentary_sum = self.sum_last(MOMENTARY_SLICES);
            self.short_term_sum = self.sum_last(SHORT_TERM_SLICES);
        } else {
            self.momentary_sum = (self.momentary_sum + energy - leaving_momentary).max(0.0);
            self.short_term_sum = (self.short_term_sum + energy - leaving_short_term).max(0.0);
        }
    }

    /// The sum of the last `count` slices (at most the ring's length).
    fn sum_last(&self, count: usize) -> f64 {
        // The newest slices are just before `next`; older ones wrap to the ring's end.
        let recent = count.min(self.next);
        let wrapped = count - recent;
        let new: f64 = self.ring[self.next - recent..self.next].iter().sum();
        let old: f64 = self.ring[self.ring.len() - wrapped..].iter().sum();
        new + old
    }

    /// Weighted mean square over the last 400 ms (time before the last clear counts as
    /// silence).
    pub fn momentary(&self) -> f64 {
        self.momentary_sum / (MOMENTARY_STEPS * self.step_len) as f64
    }

    /// Weighted mean square over the last 3 s (time before the last clear counts as silence).
    pub fn short_term(&self) -> f64 {
        self.short_term_sum / (SHORT_TERM_STEPS * self.step_len) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_tile_the_step_at_awkward_rates() {
        for step in [800, 4_410, 4_800, 8_820, 76_800] {
            let w = SlidingWindows::new(step);
            let total: usize = (0..SLICES_PER_STEP).map(|i| w.slice_len(i)).sum();
            assert_eq!(total, step);
        }
    }

    #[test]
    fn windows_average_their_slices_and_silence_reads_zero() {
        let mut w = SlidingWindows::new(4_800);
        for _ in 0..SHORT_TERM_SLICES {
            w.push(240.0 * 0.25);
        }
        assert!((w.momentary() - 0.25).abs() < 1e-12);
        assert!((w.short_term() - 0.25).abs() < 1e-12);
        for _ in 0..MOMENTARY_SLICES {
            w.push(0.0);
        }
        assert_eq!(w.momentary(), 0.0);
        assert!((w.short_term() - 0.25 * (600.0 - 80.0) / 600.0).abs() < 1e-12);
    }
}
