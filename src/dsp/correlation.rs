//! Stereo correlation: over the whole pass, and a moving value for the display.

/// Correlation of two channels, +1 identical, 0 unrelated, −1 inverted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Correlation {
    lr: f64,
    ll: f64,
    rr: f64,
    display: [f64; 3],
}

/// Weight of the newest block in the display value, per second of audio (about 300 ms).
const DISPLAY_RATE_PER_SECOND: f64 = 1.0 / 0.3;

impl Correlation {
    /// Adds one stereo block; `seconds` is its length in seconds.
    pub fn add(&mut self, left: &[f32], right: &[f32], seconds: f64) {
        // Lanes of partial sums: no serial chain of f64 adds, so the loop vectorises.
        const LANES: usize = 4;
        let (mut lr4, mut ll4, mut rr4) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
        let (lc, rc) = (left.chunks_exact(LANES), right.chunks_exact(LANES));
        let (lt, rt) = (lc.remainder(), rc.remainder());
        for (l, r) in lc.zip(rc) {
            for k in 0..LANES {
                // Non-finite samples are metered as silence, as everywhere else.
                let a = if l[k].is_finite() { l[k] as f64 } else { 0.0 };
                let b = if r[k].is_finite() { r[k] as f64 } else { 0.0 };
                lr4[k] += a * b;
                ll4[k] += a * a;
                rr4[k] += b * b;
            }
        }
        for (k, (&l, &r)) in lt.iter().zip(rt).enumerate() {
            let a = if l.is_finite() { l as f64 } else { 0.0 };
            let b = if r.is_finite() { r as f64 } else { 0.0 };
            lr4[k] += a * b;
            ll4[k] += a * a;
            rr4[k] += b * b;
        }
        let (lr, ll, rr) = (
            lr4.iter().sum::<f64>(),
            ll4.iter().sum::<f64>(),
            rr4.iter().sum::<f64>(),
        );
        self.lr += lr;
        self.ll += ll;
        self.rr += rr;
        let keep = (-seconds * DISPLAY_RATE_PER_SECOND).exp();
        for (d, v) in self.display.iter_mut().zip([lr, ll, rr]) {
            *d = *d * keep + v;
        }
    }

    /// Over everything since reset; `None` until both channels carried signal.
    pub fn pass(&self) -> Option<f32> {
        ratio(self.lr, self.ll, self.rr)
    }

    /// Over roughly the last 300 ms.
    pub fn recent(&self) -> Option<f32> {
        ratio(self.display[0], self.display[1], self.display[2])
    }
}

fn ratio(lr: f64, ll: f64, rr: f64) -> Option<f32> {
    let norm = (ll * rr).sqrt();
    (norm > 1e-20).then(|| (lr / norm).clamp(-1.0, 1.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_inverted_and_silent() {
        let x: Vec<f32> = (0..480).map(|i| (i as f32 * 0.1).sin()).collect();
        let neg: Vec<f32> = x.iter().map(|v| -v).collect();
        let mut c = Correlation::default();
        c.add(&x, &x, 0.01);
        assert!((c.pass().unwrap() - 1.0).abs() < 1e-6);
        let mut c = Correlation::default();
        c.add(&x, &neg, 0.01);
        assert!((c.pass().unwrap() + 1.0).abs() < 1e-6);
        assert_eq!(Correlation::default().pass(), None);
    }
}
