//! Running sums from which the least-squares gains and every energy ratio are solved.
//!
//! Per master channel, with x_i the stem regressors at their lags, m the master and
//! e = m − Σx_i the unity-sum residual, it keeps Σx_i·x_j (the Gram matrix), Σx_i·e, Σe², Σm²
//! and Σ(Σx_i)². Fitting the *deviation from unity* d = g − 1 against e (rather than g against
//! m) keeps the fitted residual e'e − dᵀ(…) free of the cancellation between two nearly equal
//! large numbers that would otherwise floor a clean session near −100 dB.

/// The sums of one master channel.
#[derive(Clone, Debug)]
pub(super) struct ChannelSums {
    /// Σx_i·x_j, row-major `n × n`, upper triangle filled (j ≥ i).
    pub gram: Vec<f64>,
    /// Σx_i·e.
    pub cross: Vec<f64>,
    /// Σe²: the unity-sum residual energy.
    pub residual: f64,
    /// Σm².
    pub master: f64,
    /// Σ(Σx_i)²: the energy of the unity stem sum.
    pub sum: f64,
}

impl ChannelSums {
    fn new(n: usize) -> Self {
        Self {
            gram: vec![0.0; n * n],
            cross: vec![0.0; n],
            residual: 0.0,
            master: 0.0,
            sum: 0.0,
        }
    }

    fn clear(&mut self) {
        self.gram.fill(0.0);
        self.cross.fill(0.0);
        self.residual = 0.0;
        self.master = 0.0;
        self.sum = 0.0;
    }
}

/// The sums of every master channel, and the scratch a block is added with.
pub(super) struct NormalEquations {
    n: usize,
    pub channels: Vec<ChannelSums>,
    /// Per-block sums, added to the totals once per block so the totals see a few large
    /// terms instead of millions of tiny ones (less rounding on long passes).
    local: ChannelSums,
    residual: Vec<f64>,
    active: Vec<usize>,
}

impl NormalEquations {
    /// Sums for `channels` master channels of `n` regressors each, for blocks up to `block`.
    pub fn new(channels: usize, n: usize, block: usize) -> Self {
        Self {
            n,
            channels: (0..channels).map(|_| ChannelSums::new(n)).collect(),
            local: ChannelSums::new(n),
            residual: vec![0.0; block],
            active: Vec::with_capacity(n),
        }
    }

    /// Zeroes every sum.
    pub fn clear(&mut self) {
        self.channels.iter_mut().for_each(ChannelSums::clear);
    }

    /// Adds one block of master channel `ch`: `x` holds the `n` regressors one after the
    /// other, each `m.len()` long. Unusable frames must already be zero in `x` and `m`.
    pub fn add_block(&mut self, ch: usize, x: &[f64], m: &[f64]) {
        let (n, len) = (self.n, m.len());
        debug_assert_eq!(x.len(), n * len);
        let local = &mut self.local;
        local.clear();
        let e = &mut self.residual[..len];
        e.copy_from_slice(m);
        // A regressor that is zero throughout the block adds nothing: skipping it makes
        // silent stems (and stems between notes) free.
        self.active.clear();
        for i in 0..n {
            let xi = &x[i * len..(i + 1) * len];
            if xi.iter().any(|&v| v != 0.0) {
                self.active.push(i);
                for (r, &v) in e.iter_mut().zip(xi) {
                    *r -= v;
                }
            }
        }
        local.master = dot(m, m);
        local.residual = dot(e, e);
        // m − e is the unity stem sum.
        local.sum = m
            .iter()
            .zip(e.iter())
            .map(|(&a, &b)| (a - b) * (a - b))
            .sum();
        for (k, &i) in self.active.iter().enumerate() {
            let xi = &x[i * len..(i + 1) * len];
            local.cross[i] = dot(xi, e);
            for &j in &self.active[k..] {
                local.gram[i * n + j] = dot(xi, &x[j * len..(j + 1) * len]);
            }
        }
        let total = &mut self.channels[ch];
        total.master += local.master;
        total.residual += local.residual;
        total.sum += local.sum;
        for (k, &i) in self.active.iter().enumerate() {
            total.cross[i] += local.cross[i];
            for &j in &self.active[k..] {
                total.gram[i * n + j] += local.gram[i * n + j];
            }
        }
    }
}

/// Dot product with four independent partial sums, so the loop vectorises and the
/// summation error grows slower than with one serial chain.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 4;
    let mut acc = [0.0f64; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_match_their_definitions() {
        let len = 5;
        let x = [
            1.0, 2.0, 0.0, -1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 1.0, 1.0, 2.0,
        ];
        let m = [4.0, 2.0, 1.0, 0.0, 3.0];
        let mut ne = NormalEquations::new(1, 3, len);
        ne.add_block(0, &x, &m);
        ne.add_block(0, &x, &m);
        let s = &ne.channels[0];
        let e: Vec<f64> = (0..len)
            .map(|t| m[t] - x[t] - x[5 + t] - x[10 + t])
            .collect();
        let d = |a: &[f64], b: &[f64]| 2.0 * a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        assert_eq!(s.master, d(&m, &m));
        assert_eq!(s.residual, d(&e, &e));
        assert_eq!(s.gram[2], d(&x[..5], &x[10..]));
        assert_eq!(s.gram[8], d(&x[10..], &x[10..]));
        assert_eq!(s.cross[0], d(&x[..5], &e));
        // The silent regressor never enters.
        assert_eq!(s.gram[4], 0.0);
        let sum: Vec<f64> = (0..len).map(|t| x[t] + x[10 + t]).collect();
        assert_eq!(s.sum, d(&sum, &sum));
    }
}
