//! The meters' dB scale: where a level sits on a bar, and which scale labels fit. Plain
//! numbers (no GUI types), so the layout rules are tested without a window.
//!
//! The scale is piecewise linear in dB. A peak meter for stem delivery is read between about
//! −12 dBFS and the top, where the delivery window (−6…−3 dBFS by default) and the true-peak
//! ceiling (−1 dBTP) are: that "detail zone" gets 56 % of the height, 4.7 % per dB, so the
//! default window is 14 % of the bar (42 px on a 300 px bar) instead of the 5 % a linear
//! −60…+3 scale gives it. Above 0 dBFS, a short overs zone shows how far past full scale a
//! peak went; below the detail zone the height falls off (−24 dB at 22 %, −60 dB at the
//! bottom), enough to see a quiet stem move. A window or ceiling set lower than −12 dBFS
//! pulls the detail zone down with it, so the bands they draw are always the tall ones.

/// Top of the scale, dBFS.
pub const TOP_DB: f32 = 3.0;
/// Bottom of the scale, dBFS.
pub const BOTTOM_DB: f32 = -60.0;

/// A dB → height mapping for one set of thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeterScale {
    /// Breakpoints (dB, fraction of the height from the bottom), from the top down.
    points: [(f32, f32); 5],
}

impl MeterScale {
    /// The scale for a window whose bottom is `window_low_db` and a ceiling of `ceiling_db`.
    pub fn new(window_low_db: f32, ceiling_db: f32) -> Self {
        // The detail zone reaches 6 dB below the lowest threshold, and at least to −12 dBFS.
        let detail = (window_low_db.min(ceiling_db) - 6.0).clamp(-40.0, -12.0);
        let quiet = (detail - 12.0).max(BOTTOM_DB + 12.0);
        Self {
            points: [
                (TOP_DB, 1.0),
                (0.0, 0.94),
                (detail, 0.38),
                (quiet, 0.22),
                (BOTTOM_DB, 0.0),
            ],
        }
    }

    /// Fraction of the height (0 = bottom, 1 = top) for a level in dB; clamped to the scale.
    pub fn fraction_db(&self, db: f32) -> f32 {
        if db.is_nan() {
            return 0.0;
        }
        let db = db.clamp(BOTTOM_DB, TOP_DB);
        for pair in self.points.windows(2) {
            let ((hi_db, hi_f), (lo_db, lo_f)) = (pair[0], pair[1]);
            if db >= lo_db {
                let t = (db - lo_db) / (hi_db - lo_db);
                return lo_f + t * (hi_f - lo_f);
            }
        }
        0.0
    }

    /// Fraction of the height for a linear level (silence at the bottom).
    pub fn fraction(&self, linear: f32) -> f32 {
        if linear > 0.0 && linear.is_finite() {
            self.fraction_db(20.0 * linear.log10())
        } else if linear.is_infinite() {
            1.0
        } else {
            0.0
        }
    }

    /// The scale labels that fit on a bar `height` px tall with labels `label_height` px
    /// tall: every label at least `label_height` apart from every other. `pinned` levels (the
    /// window's ends) come first, then 0 dBFS, then the rest by importance; a label that would
    /// touch one already placed is left out.
    pub fn ticks(&self, height: f32, label_height: f32, pinned: &[f32]) -> Vec<f32> {
        const BY_IMPORTANCE: [f32; 14] = [
            0.0, -12.0, -24.0, -60.0, -3.0, -6.0, -9.0, -18.0, -40.0, -30.0, -48.0, 3.0, -1.0,
            -15.0,
        ];
        let mut placed: Vec<f32> = Vec::new();
        for &db in pinned.iter().chain(BY_IMPORTANCE.iter()) {
            if !(BOTTOM_DB..=TOP_DB).contains(&db) || placed.contains(&db) {
                continue;
            }
            let y = self.fraction_db(db) * height;
            let fits = placed
                .iter()
                .all(|&p| (self.fraction_db(p) * height - y).abs() >= label_height);
            // Labels are centred on their level: keep them inside the bar's height.
            let inside = y >= label_height / 2.0 - 0.5 && y <= height - label_height / 2.0 + 0.5;
            if fits && inside {
                placed.push(db);
            }
        }
        placed.sort_by(|a, b| b.total_cmp(a));
        placed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_monotonic_and_spans_the_bar() {
        let s = MeterScale::new(-6.0, -1.0);
        assert_eq!(s.fraction_db(TOP_DB), 1.0);
        assert_eq!(s.fraction_db(BOTTOM_DB), 0.0);
        assert_eq!(s.fraction_db(-100.0), 0.0);
        assert_eq!(s.fraction(0.0), 0.0);
        let mut last = -1.0;
        for i in 0..=630 {
            let f = s.fraction_db(BOTTOM_DB + i as f32 * 0.1);
            assert!(f >= last, "not monotonic at {i}");
            last = f;
        }
    }

    #[test]
    fn the_delivery_window_gets_real_height() {
        let s = MeterScale::new(-6.0, -1.0);
        let window = s.fraction_db(-3.0) - s.fraction_db(-6.0);
        assert!(window > 0.13, "window is {window} of the bar");
        // Against a linear −60…+3 dB scale, which gives it 3/63 of the bar.
        assert!(window > 2.5 * 3.0 / 63.0);
        let ceiling_to_top = s.fraction_db(0.0) - s.fraction_db(-1.0);
        assert!(ceiling_to_top > 0.04, "{ceiling_to_top}");
        // A window set low keeps its height.
        let low = MeterScale::new(-18.0, -1.0);
        assert!(low.fraction_db(-15.0) - low.fraction_db(-18.0) > 0.05);
    }

    #[test]
    fn labels_never_overlap_at_any_height() {
        let s = MeterScale::new(-6.0, -1.0);
        for h in (60..1400).step_by(7) {
            let h = h as f32;
            let ticks = s.ticks(h, 14.0, &[-3.0, -6.0]);
            for pair in ticks.windows(2) {
                let gap = (s.fraction_db(pair[0]) - s.fraction_db(pair[1])) * h;
                assert!(gap >= 14.0, "{pair:?} {gap} px apart at {h} px");
            }
            if h >= 160.0 {
                assert!(
                    ticks.contains(&-3.0) && ticks.contains(&-6.0),
                    "{h}: {ticks:?}"
                );
                assert!(ticks.contains(&0.0), "{h}: {ticks:?}");
            }
            if h >= 300.0 {
                assert!(
                    ticks.contains(&-12.0) && ticks.contains(&-24.0),
                    "{h}: {ticks:?}"
                );
            }
        }
    }
}
