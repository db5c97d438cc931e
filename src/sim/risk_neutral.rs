//! The pricing measure of the daily generators (GJR-GARCH-t and the deep
//! model), and nested Monte Carlo under it.
//!
//! **The measure.** Under the real-world measure a daily model gives the
//! next log return as `r = m_t + σ_t ε` with ε from a fixed innovation law
//! and (m_t, σ_t) functions of the path's state. Under the pricing measure
//! used here
//!
//! * the return is `r = (r_f − q)/252 + √λ σ_t ε − ln E[exp(√λ σ_t ε)]`, so
//!   the discounted spot (with dividends) is a martingale one day at a time
//!   (Duan 1995, "The GARCH option pricing model", Math. Finance 5: the
//!   locally risk-neutral valuation relationship sets the conditional mean
//!   to the risk-free rate);
//! * the conditional variance is λ times the real-world one, along every
//!   path, with the state driven by the same standardised innovations ε.
//!   This is the form a variance-dependent pricing kernel gives GARCH
//!   models: Christoffersen, Heston & Jacobs (2013, "Capturing option
//!   anomalies with a variance-dependent pricing kernel", Rev. Financ. Stud.
//!   26) find the risk-neutral variance a constant multiple of the physical
//!   one, larger than 1 when variance risk is priced. λ = 1 is Duan's LRNVR;
//!   λ > 1 gives implied variance above expected realised variance, the
//!   variance risk premium of real index options.
//!
//! `ln E[exp(aε)]` is taken to fourth order in `a` from the innovation law's
//! cumulants (the laws have ν > 4, so they exist). Daily `a` is about 0.01,
//! so the neglected fifth-order term is below 1e-11 per day; a Student-t has
//! no moment generating function at all, so this is also what makes the
//! correction finite. Any remaining drift from the expansion or from Monte
//! Carlo noise is removed by the empirical martingale correction of the
//! nested pricer (Duan & Simonato 1998, "Empirical martingale simulation for
//! asset prices", Management Science 44).

use crate::error::{Error, Result};
use crate::market::PathChunk;
use crate::market::TRADING_DAYS_PER_YEAR;
use crate::sim::{Driver, PathGenerator};
use serde::Serialize;

/// The pricing measure: rate, dividend yield and the variance multiplier λ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskNeutral {
    /// Continuously compounded risk-free rate per year.
    pub rate: f64,
    /// Continuous dividend yield per year.
    pub dividend: f64,
    /// λ: risk-neutral over real-world conditional variance (1 = no variance
    /// risk premium).
    pub variance_premium: f64,
}

impl RiskNeutral {
    /// Checks the parameters: finite rate and dividend, 0.25 ≤ λ ≤ 4.
    pub fn new(rate: f64, dividend: f64, variance_premium: f64) -> Result<Self> {
        for (name, x) in [("rate", rate), ("dividend", dividend)] {
            if !x.is_finite() || x.abs() > 1.0 {
                return Err(Error::parameter(
                    name,
                    x,
                    "must be a finite continuous rate per year, |x| ≤ 1",
                ));
            }
        }
        if !(0.25..=4.0).contains(&variance_premium) {
            return Err(Error::parameter(
                "variance-premium",
                variance_premium,
                "the risk-neutral / real-world variance ratio must lie in [0.25, 4] (1 = none; S&P 500 options imply about 1.4)",
            ));
        }
        Ok(RiskNeutral {
            rate,
            dividend,
            variance_premium,
        })
    }

    /// The measure applied to a daily model whose innovation law has the
    /// first four cumulants `cumulants`.
    pub(crate) fn daily(&self, cumulants: [f64; 4]) -> DailyPricing {
        DailyPricing {
            drift: (self.rate - self.dividend) / TRADING_DAYS_PER_YEAR,
            sqrt_lambda: self.variance_premium.sqrt(),
            lambda: self.variance_premium,
            mean: cumulants[0],
            centred: [0.0, cumulants[1], cumulants[2], cumulants[3]],
        }
    }
}

/// A daily model under the pricing measure: what a generator needs per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DailyPricing {
    /// Log-forward drift per trading day.
    drift: f64,
    /// √λ (kept: it scales every day's shock).
    sqrt_lambda: f64,
    /// λ, the factor on the reported variance state.
    pub lambda: f64,
    /// Mean of the innovation law.
    mean: f64,
    /// Cumulants of the centred innovation law.
    centred: [f64; 4],
}

impl DailyPricing {
    /// The daily log return for real-world shock σ·ε (ε from the innovation
    /// law): the same ε, centred and scaled by √λ, with the martingale drift.
    #[inline]
    pub fn log_return(&self, sigma: f64, eps: f64) -> f64 {
        let a = self.sqrt_lambda * sigma;
        self.drift + a * (eps - self.mean) - log_mgf(&self.centred, a)
    }
}

/// The first four cumulants of a law from its first four raw moments.
pub fn cumulants(m: [f64; 4]) -> [f64; 4] {
    let [m1, m2, m3, m4] = m;
    [
        m1,
        m2 - m1 * m1,
        m3 - 3.0 * m2 * m1 + 2.0 * m1.powi(3),
        m4 - 4.0 * m3 * m1 - 3.0 * m2 * m2 + 12.0 * m2 * m1 * m1 - 6.0 * m1.powi(4),
    ]
}

/// `ln E[exp(a X)]` to fourth order in `a`, from the cumulants of X.
#[inline]
pub fn log_mgf(k: &[f64; 4], a: f64) -> f64 {
    a * (k[0] + a * (k[1] / 2.0 + a * (k[2] / 6.0 + a * k[3] / 24.0)))
}

/// Raw moments 1–4 of a Student-t with ν > 4 degrees of freedom, shifted by
/// `loc` and scaled by `scale`.
pub fn student_t_moments(loc: f64, scale: f64, nu: f64) -> [f64; 4] {
    let e2 = nu / (nu - 2.0);
    let e4 = 3.0 * nu * nu / ((nu - 2.0) * (nu - 4.0));
    let s2 = scale * scale;
    [
        loc,
        loc * loc + s2 * e2,
        loc.powi(3) + 3.0 * loc * s2 * e2,
        loc.powi(4) + 6.0 * loc * loc * s2 * e2 + s2 * s2 * e4,
    ]
}

/// `S_T / S_0` at each of `days` (trading days) on `paths` paths of
/// `generator`, one row per path; deterministic for a seed, whatever the
/// thread count.
pub(crate) fn terminal_ratios<G: PathGenerator>(
    generator: &G,
    seed: u64,
    paths: u64,
    days: &[usize],
) -> Result<Vec<Vec<f64>>> {
    let last = days.iter().copied().max().unwrap_or(0);
    Ok(Driver::new(seed, paths)
        .collect(generator, last, |c: &PathChunk| {
            (0..c.paths())
                .map(|p| {
                    let s0 = c.spot(p, 0)[0];
                    days.iter().map(|&d| c.spot(p, d)[0] / s0).collect()
                })
                .collect::<Vec<_>>()
        })?
        .into_iter()
        .flatten()
        .collect())
}

/// Prices of European calls from nested Monte Carlo: `paths` risk-neutral
/// paths of `generator` (already started in the state to price from, at
/// `spot`), with the empirical martingale correction applied per maturity.
/// `maturities` are in trading days; `strikes[i]` are the strikes of
/// maturity `i`. Returns, per maturity, the call prices; puts follow by
/// parity (exact under the corrected sample: its mean terminal spot is the
/// forward). Deterministic for a given seed, whatever the thread count.
pub fn nested_calls<G: PathGenerator>(
    generator: &G,
    measure: &RiskNeutral,
    spot: f64,
    seed: u64,
    paths: u64,
    maturities: &[usize],
    strikes: &[Vec<f64>],
) -> Result<Vec<Vec<f64>>> {
    if maturities.is_empty() {
        return Ok(Vec::new());
    }
    if maturities.contains(&0) || strikes.len() != maturities.len() || paths < 2 {
        return Err(Error::parameter(
            "maturities",
            format!("{maturities:?}"),
            "nested pricing needs maturities of at least one day, one strike list per maturity and at least 2 paths",
        ));
    }
    let terminal = terminal_ratios(generator, seed, paths, maturities)?;
    let n = terminal.len() as f64;
    Ok(maturities
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let t = d as f64 / TRADING_DAYS_PER_YEAR;
            let forward = spot * ((measure.rate - measure.dividend) * t).exp();
            let mean = terminal.iter().map(|s| s[i]).sum::<f64>() / n;
            // Ratios to S_0 times this factor have mean F: the empirical
            // martingale correction.
            let fix = forward / mean;
            let df = (-measure.rate * t).exp();
            strikes[i]
                .iter()
                .map(|&k| {
                    df * terminal
                        .iter()
                        .map(|s| (s[i] * fix - k).max(0.0))
                        .sum::<f64>()
                        / n
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cumulants_and_mgf_are_exact() {
        // N(μ, s²): raw moments μ, μ²+s², μ³+3μs², μ⁴+6μ²s²+3s⁴; cumulants
        // μ, s², 0, 0; ln E[e^{aX}] = aμ + a²s²/2 exactly.
        let (mu, s) = (0.3_f64, 1.7_f64);
        let m = [
            mu,
            mu * mu + s * s,
            mu.powi(3) + 3.0 * mu * s * s,
            mu.powi(4) + 6.0 * mu * mu * s * s + 3.0 * s.powi(4),
        ];
        let k = cumulants(m);
        for (got, want) in k.iter().zip([mu, s * s, 0.0, 0.0]) {
            assert!((got - want).abs() < 1e-12, "{k:?}");
        }
        let a = 0.37;
        assert!((log_mgf(&k, a) - (a * mu + 0.5 * a * a * s * s)).abs() < 1e-14);
    }

    #[test]
    fn student_t_excess_kurtosis_is_six_over_nu_minus_four() {
        // A unit-scale t_ν has excess kurtosis 6/(ν−4) (any text on the
        // Student-t, e.g. Johnson, Kotz & Balakrishnan, vol. 2, ch. 28).
        let nu = 9.0;
        let k = cumulants(student_t_moments(0.0, 1.0, nu));
        let var = nu / (nu - 2.0);
        assert!((k[1] - var).abs() < 1e-12);
        assert!((k[3] / (var * var) - 6.0 / (nu - 4.0)).abs() < 1e-12);
    }
}
