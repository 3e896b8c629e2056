//! A small dense solver for the normal equations: Cholesky with a tiny relative ridge.
//!
//! The Gram matrix of stems is symmetric and positive semi-definite, but two stems can be
//! (nearly) linearly dependent — an exact duplicate, a stem that is another one's copy on
//! this channel. The ridge, 1e-10 of the largest diagonal, keeps every pivot positive so such
//! a system still solves, and because the unknowns are deviations from unity gain the ridge
//! pulls an undetermined combination towards "both at unity" rather than towards silence.
//! Its bias on a well-determined gain is ~1e-10 relative: far below the 0.01 dB asked.

/// Ridge relative to the largest diagonal element.
const RIDGE: f64 = 1e-10;

/// Solves `(A + λI) x = b` for symmetric positive semi-definite `A` given by its upper
/// triangle (`a[i * n + j]`, j ≥ i; the lower triangle is ignored). Returns `None` for an
/// empty or all-zero `A`. Never returns NaN for finite input.
pub(super) fn solve_ridge(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    debug_assert_eq!(a.len(), n * n);
    let max_diag = (0..n).map(|i| a[i * n + i]).fold(0.0f64, f64::max);
    if !(max_diag > 0.0 && max_diag.is_finite()) {
        return None;
    }
    let ridge = (RIDGE * max_diag).max(f64::MIN_POSITIVE);
    // Lower-triangular factor L, row-major, with A + λI = L·Lᵀ.
    let mut l = vec![0.0f64; n * n];
    for j in 0..n {
        let row_j = j * n;
        let mut pivot = a[row_j + j] + ridge;
        pivot -= l[row_j..row_j + j].iter().map(|v| v * v).sum::<f64>();
        // Exact arithmetic keeps the pivot ≥ λ; rounding on a near-singular system could
        // not, so a non-positive pivot falls back to the ridge instead of a NaN.
        let pivot = if pivot > ridge * 1e-3 { pivot } else { ridge };
        let d = pivot.sqrt();
        l[row_j + j] = d;
        for i in j + 1..n {
            let row_i = i * n;
            let dotted: f64 = l[row_i..row_i + j]
                .iter()
                .zip(&l[row_j..row_j + j])
                .map(|(p, q)| p * q)
                .sum();
            // Upper triangle of A: element (j, i) with i > j.
            l[row_i + j] = (a[row_j + i] - dotted) / d;
        }
    }
    // Forward: L·y = b, then back: Lᵀ·x = y.
    let mut x = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * x[k]).sum();
        x[i] = (x[i] - s) / l[i * n + i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (x[i] - s) / l[i * n + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_well_conditioned_system() {
        // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]] (upper triangle given), x = [1, -2, 0.5].
        let a = [4.0, 2.0, 0.0, 0.0, 5.0, 1.0, 0.0, 0.0, 3.0];
        let want = [1.0, -2.0, 0.5];
        let b = [
            4.0 * want[0] + 2.0 * want[1],
            2.0 * want[0] + 5.0 * want[1] + want[2],
            want[1] + 3.0 * want[2],
        ];
        let x = solve_ridge(&a, &b).unwrap();
        for (g, w) in x.iter().zip(want) {
            assert!((g - w).abs() < 1e-8, "{x:?}");
        }
    }

    #[test]
    fn singular_systems_stay_finite() {
        // Two identical regressors: any split of the sum fits; the ridge picks an equal one.
        let a = [1.0, 1.0, 0.0, 1.0];
        let x = solve_ridge(&a, &[2.0, 2.0]).unwrap();
        assert!(x.iter().all(|v| v.is_finite()));
        assert!(
            (x[0] + x[1] - 2.0).abs() < 1e-6 && (x[0] - x[1]).abs() < 1e-6,
            "{x:?}"
        );
        // A zero column (silent regressor): its unknown stays 0.
        let a = [2.0, 0.0, 0.0, 0.0];
        let x = solve_ridge(&a, &[4.0, 0.0]).unwrap();
        assert!((x[0] - 2.0).abs() < 1e-8 && x[1] == 0.0, "{x:?}");
        assert!(solve_ridge(&[0.0], &[1.0]).is_none());
        assert!(solve_ridge(&[], &[]).is_none());
    }
}
