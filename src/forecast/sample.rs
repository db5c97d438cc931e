//! An empirical law: the draws of a simulation, with its distribution
//! function, quantiles and sample CRPS.

use crate::error::{Error, Result};

/// An empirical law: draws from a simulation (e.g. 10,000 simulated h-day
/// returns from one origin), kept sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The draws in increasing order.
    sorted: Vec<f64>,
    /// ½E|X − X′| over all ordered pairs (V-statistic).
    half_mean_abs_diff: f64,
}

impl Sample {
    /// A sample from its draws (in any order). Errors (naming `what`) on an
    /// empty sample or a non-finite draw.
    pub fn new(what: &str, mut draws: Vec<f64>) -> Result<Sample> {
        if draws.is_empty() {
            return Err(Error::parameter(
                what,
                "0 draws",
                "a sample needs at least one draw",
            ));
        }
        if let Some((i, x)) = draws.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(Error::parameter(
                what,
                format!("draw {i} = {x}"),
                "every draw must be finite",
            ));
        }
        draws.sort_by(f64::total_cmp);
        // ½E|X − X′| = (1/n²) Σ_i (2i − n − 1) x_(i) (i = 1..n); centred on
        // the middle draw, which the weights (summing to 0) cancel, so that
        // a large common offset costs no precision.
        let n = draws.len() as f64;
        let mid = draws[draws.len() / 2];
        let s: f64 = draws
            .iter()
            .enumerate()
            .map(|(i, &x)| (2.0 * i as f64 + 1.0 - n) * (x - mid))
            .sum();
        Ok(Sample {
            half_mean_abs_diff: s / (n * n),
            sorted: draws,
        })
    }

    /// Number of draws.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether there are no draws (never, for a constructed sample).
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The draws in increasing order.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Fraction of draws ≤ y (the PIT of y against the sample); NaN for NaN.
    pub fn cdf(&self, y: f64) -> f64 {
        if y.is_nan() {
            return f64::NAN;
        }
        self.sorted.partition_point(|&x| x <= y) as f64 / self.sorted.len() as f64
    }

    /// The p-quantile, 0 ≤ p ≤ 1 (NaN outside), with linear interpolation
    /// between order statistics: numpy's default `'linear'` method
    /// (Hyndman–Fan type 7), index (n − 1)p, with numpy's interpolation
    /// formula so that results agree to the last bit.
    pub fn quantile(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        let n = self.sorted.len();
        let h = (n - 1) as f64 * p;
        let lo = h.floor();
        let i = lo as usize;
        if i + 1 >= n {
            return self.sorted[n - 1];
        }
        let (a, b) = (self.sorted[i], self.sorted[i + 1]);
        let g = h - lo;
        let diff = b - a;
        if g >= 0.5 {
            b - diff * (1.0 - g)
        } else {
            a + diff * g
        }
    }

    /// The sample CRPS E|X − y| − ½E|X − X′|, the second term the
    /// V-statistic over all n² ordered pairs (as the reference computation
    /// and scoringRules' `crps_sample` do), O(n).
    pub fn crps(&self, y: f64) -> f64 {
        let n = self.sorted.len() as f64;
        let e_abs: f64 = self.sorted.iter().map(|x| (x - y).abs()).sum::<f64>() / n;
        e_abs - self.half_mean_abs_diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::OneDayLaw;

    /// 1/√π, the ½E|Z − Z′| of the standard normal.
    const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;

    #[test]
    fn sample_crps_by_hand() {
        // Draws {3, 1, 2}, y = 2.5: E|X − y| = 2.5/3, E|X − X′| = 8/9 over the
        // nine ordered pairs, CRPS = 2.5/3 − 4/9 = 3.5/9; the same as
        // ∫(F_n − 1{x ≥ y})² = 1/9 + ½·4/9 + ½·1/9.
        let s = Sample::new("draws", vec![3.0, 1.0, 2.0]).unwrap();
        assert!((s.crps(2.5) - 3.5 / 9.0).abs() < 1e-15);
        // One draw: CRPS = |x − y|.
        let one = Sample::new("draws", vec![1.5]).unwrap();
        assert_eq!(one.crps(-0.5), 2.0);
        // A large common offset costs nothing.
        let off = Sample::new("draws", vec![1e9 + 3.0, 1e9 + 1.0, 1e9 + 2.0]).unwrap();
        assert!((off.crps(1e9 + 2.5) - 3.5 / 9.0).abs() < 1e-7);
    }

    #[test]
    fn sample_crps_of_normal_draws_is_near_the_closed_form() {
        use rand_distr::{Distribution, StandardNormal};
        // 100,000 N(0.05, 1.3²) draws (fixed seed). The sample CRPS is a
        // V-statistic with influence ψ(x) = |x − y| − E|x − X′|; its standard
        // error is sd(ψ)/√n, and its bias ½E|X − X′|/n = 1.3/(√π n) ≈ 7e-6.
        let (mean, sd) = (0.05, 1.3);
        let mut rng = crate::rng::aux_rng(20240601, 7);
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                mean + sd * z
            })
            .collect();
        let n = draws.len() as f64;
        let law = OneDayLaw::Normal { mean, sd };
        let sample = Sample::new("draws", draws.clone()).unwrap();
        for y in [-2.0, 0.3, 4.0] {
            // E|x − X′| for X′ ~ N(mean, sd²) is the normal CRPS plus ½E|X − X′|.
            let half = sd * FRAC_1_SQRT_PI;
            let psi: Vec<f64> = draws
                .iter()
                .map(|&x| (x - y).abs() - (law.crps(x) + half))
                .collect();
            let (_, var) = crate::stats::mean_var(&psi);
            let se = (var / n).sqrt();
            let (got, want) = (sample.crps(y), law.crps(y));
            assert!(
                (got - want).abs() < 4.0 * se,
                "y={y}: {got} vs {want} (se {se:e})"
            );
            assert!(se < 5e-3, "{se}");
        }
    }

    #[test]
    fn sample_quantile_and_cdf_match_numpy() {
        // numpy 2.4.6: numpy.quantile(x, p) (method 'linear') for
        // x_i = sin(1.3 i)·(i mod 7), i = 0..10, printed with repr().
        let x: Vec<f64> = (0..11)
            .map(|i| (1.3 * f64::from(i)).sin() * f64::from(i % 7))
            .collect();
        let s = Sample::new("x", x).unwrap();
        let cases = [
            (0.0, -3.5338186228806125),
            (0.1, -2.063298477551922),
            (0.25, -1.175896818461859),
            (0.5, 0.0),
            (0.73, 1.0443819026817731),
            (0.999, 5.943952482629953),
            (1.0, 5.99126007224763),
        ];
        for (p, want) in cases {
            assert_eq!(s.quantile(p), want, "p={p}");
        }
        assert!(s.quantile(-0.1).is_nan() && s.quantile(f64::NAN).is_nan());
        // Two draws are exactly 0: the fraction ≤ 0 counts both.
        assert_eq!(s.cdf(0.0), 6.0 / 11.0);
        assert_eq!(s.cdf(-10.0), 0.0);
        assert_eq!(s.cdf(10.0), 1.0);
        assert_eq!((s.len(), s.is_empty()), (11, false));
    }

    #[test]
    fn sample_rejects_empty_and_non_finite_draws() {
        let e = Sample::new("h21 draws", vec![]).unwrap_err().to_string();
        assert!(e.contains("h21 draws") && e.contains("at least one"), "{e}");
        let e = Sample::new("h21 draws", vec![1.0, f64::NAN])
            .unwrap_err()
            .to_string();
        assert!(e.contains("h21 draws") && e.contains("draw 1 = NaN"), "{e}");
    }
}
