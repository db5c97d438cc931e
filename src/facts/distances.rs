//! Distances between a real and a synthetic market's return behaviour.

/// Wasserstein-1 distance between two empirical distributions:
/// `∫ |F_a(x) − F_b(x)| dx`, computed exactly on the merged sorted sample
/// (samples may differ in size). Matches `scipy.stats.wasserstein_distance`.
pub fn wasserstein1(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
    all.sort_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut ia, mut ib) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        let x = w[0];
        while ia < a.len() && a[ia] <= x {
            ia += 1;
        }
        while ib < b.len() && b[ib] <= x {
            ib += 1;
        }
        total += (ia as f64 / na - ib as f64 / nb).abs() * (w[1] - w[0]);
    }
    total
}

/// Non-overlapping `h`-day sums of daily returns.
pub fn aggregate(r: &[f64], h: usize) -> Vec<f64> {
    r.chunks_exact(h.max(1)).map(|c| c.iter().sum()).collect()
}

/// Root-mean-square difference between two profiles (ACF, leverage…) over
/// their common lags.
pub fn profile_distance(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return f64::NAN;
    }
    (a.iter()
        .zip(b)
        .take(n)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from scipy 1.x `scipy.stats.wasserstein_distance`.
    #[test]
    fn wasserstein_matches_scipy() {
        let (a, b, c) = ([0.0, 1.0, 3.0], [5.0, 6.0, 8.0], [0.5, 2.0, 2.5, 4.0, -1.0]);
        assert!((wasserstein1(&a, &b) - 5.0).abs() < 1e-15);
        assert!((wasserstein1(&a, &c) - 0.8666666666666667).abs() < 1e-15);
        assert!((wasserstein1(&c, &[0.1; 3]) - 1.94).abs() < 1e-14);
        assert_eq!(wasserstein1(&c, &c), 0.0);
        assert!(wasserstein1(&[], &a).is_nan());
    }

    #[test]
    fn aggregation_and_profiles() {
        assert_eq!(aggregate(&[1.0, 2.0, 3.0, 4.0, 5.0], 2), vec![3.0, 7.0]);
        assert_eq!(profile_distance(&[0.1, 0.2], &[0.1, 0.2, 0.9]), 0.0);
        assert!((profile_distance(&[0.0, 0.0], &[0.3, 0.4]) - (0.125f64).sqrt()).abs() < 1e-15);
    }
}
