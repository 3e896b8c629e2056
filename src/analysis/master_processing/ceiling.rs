//! The master's loudest windows, kept exactly, for the brickwall test: windows whose stem sum
//! would have put the master well over its own highest peak, yet whose master peak sits on
//! that peak to a tenth of a dB, are a limiter's ceiling even when only a couple of hits
//! reached it.

/// Windows kept (by master peak); a fixed array, so memory does not grow with the input.
const KEPT: usize = 64;
/// Master peaks within this of the highest count as at the ceiling, dB: a sample-peak
/// limiter holds its ceiling to a hundredth of a dB; two unprocessed windows agree this
/// closely only by chance.
const AT_CEILING_DB: f32 = 0.1;
/// A window at the ceiling counts when the sum, at the reference gain, would have peaked
/// this much above it, dB.
const MIN_OVERSHOOT_DB: f32 = 1.0;
/// The windows at the ceiling must come from sum peaks this far apart, dB: copies of one
/// sound at one level reach one master peak without any limiter.
const MIN_SUM_SPREAD_DB: f32 = 0.5;
/// Fewest such windows: one window is a coincidence.
const MIN_WINDOWS: usize = 2;

/// One window: master peak and sum peak, dBFS.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Peaks {
    master: f32,
    sum: f32,
}

/// The [`KEPT`] windows with the highest master peaks, highest first.
#[derive(Clone, Debug)]
pub struct TopWindows {
    kept: [Peaks; KEPT],
    len: usize,
}

/// What the brickwall test found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Brickwall {
    /// Windows at the master's ceiling that the sum would have taken over it.
    pub windows: usize,
    /// The largest overshoot among them, dB (the gain reduction of the loudest hit).
    pub overshoot_db: f32,
    /// The test passed.
    pub found: bool,
}

impl TopWindows {
    /// No window kept yet.
    pub fn new() -> Self {
        Self {
            kept: [Peaks::default(); KEPT],
            len: 0,
        }
    }

    /// Forgets every window.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Offers a window (peaks in dBFS); kept if among the [`KEPT`] highest master peaks
    /// (the earlier window wins a tie, so the result does not depend on chunking).
    pub fn offer(&mut self, master_db: f32, sum_db: f32) {
        let item = Peaks {
            master: master_db,
            sum: sum_db,
        };
        let mut at = self.len;
        while at > 0 && self.kept[at - 1].master < master_db {
            at -= 1;
        }
        if at >= KEPT {
            return;
        }
        let end = self.len.min(KEPT - 1);
        self.kept.copy_within(at..end, at + 1);
        self.kept[at] = item;
        self.len = (self.len + 1).min(KEPT);
    }

    /// The brickwall test with the master at `reference_db` over the sum where nothing is
    /// processed.
    pub fn brickwall(&self, reference_db: f32) -> Brickwall {
        let mut out = Brickwall::default();
        let Some(ceiling) = self.kept[..self.len].first().map(|p| p.master) else {
            return out;
        };
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in self.kept[..self.len]
            .iter()
            .take_while(|p| p.master >= ceiling - AT_CEILING_DB)
        {
            let overshoot = p.sum + reference_db - ceiling;
            if overshoot >= MIN_OVERSHOOT_DB {
                out.windows += 1;
                out.overshoot_db = out.overshoot_db.max(overshoot);
                lo = lo.min(p.sum);
                hi = hi.max(p.sum);
            }
        }
        out.found = out.windows >= MIN_WINDOWS && hi - lo >= MIN_SUM_SPREAD_DB;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_highest_in_order() {
        let mut t = TopWindows::new();
        for i in 0..200 {
            t.offer(-((i * 37) % 200) as f32 * 0.1, 0.0);
        }
        assert_eq!(t.len, KEPT);
        assert_eq!(t.kept[0].master, 0.0);
        assert!(t.kept[..KEPT]
            .windows(2)
            .all(|w| w[0].master >= w[1].master));
        assert!((t.kept[KEPT - 1].master + 6.3).abs() < 1e-4);
    }

    #[test]
    fn a_ceiling_held_against_different_sums_is_a_brickwall() {
        let mut t = TopWindows::new();
        t.offer(-5.0, -2.0);
        t.offer(-5.02, -3.1);
        t.offer(-6.0, -6.0);
        let b = t.brickwall(0.0);
        assert!(b.found);
        assert_eq!(b.windows, 2);
        assert!((b.overshoot_db - 3.0).abs() < 1e-4);
        // The same sum twice: copies, not a limiter.
        let mut t = TopWindows::new();
        t.offer(-5.0, -2.0);
        t.offer(-5.0, -2.0);
        assert!(!t.brickwall(0.0).found);
        // A master fader: the master is under the sum by a constant, no ceiling.
        let mut t = TopWindows::new();
        t.offer(-5.0, -3.0);
        t.offer(-7.0, -5.0);
        assert!(!t.brickwall(-2.0).found);
    }
}
