//! Estimates from nested paths shared by the table's fit and its probe:
//! the at-the-money log variance of a call, and forward calls with a
//! delta-hedge control variate.

use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR};
use crate::pricing::implied_vol;
use rayon::prelude::*;

/// ln of the squared implied vol of `call`, the at-the-money call
/// `E[(S_T/F_T − 1)^+]` of a mean-1 law at maturity `t` (years): the key
/// and scale of the table.
pub(super) fn atm_log_variance(call: f64, t: f64) -> Result<f64> {
    let spec = OptionSpec::new(OptionType::Call, 1.0, t)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    let vol = implied_vol(call, &spec, &market)
        .map_err(|e| Error::Internal(format!("at-the-money vol of a nested sample: {e}")))?;
    Ok((vol * vol).max(1e-12).ln())
}

/// The at-the-money forward call to `days` trading days estimated from
/// nested paths of `X = S/F` with a delta-hedge control variate
/// ([`hedged_call`] at strike 1).
pub(super) fn hedged_atm_call(paths: &[Vec<f64>], days: usize, vol: f64) -> f64 {
    hedged_call(paths, days, 1.0, vol).0
}

/// The forward call struck at `k` to `days` trading days estimated from
/// nested paths of `X = S/F` (`paths[p][k]`: path `p`'s ratio after day
/// `k + 1`, at least `days` of them) with a delta-hedge control variate:
/// the mean of `(X_T − k)⁺ − Σ_j N(d₁(X_j/k, T − t_j, vol))·(X_{j+1} − X_j)`,
/// and its standard error (the per-path values' sd over √n). `X` is a
/// martingale under the pricing measure, so the hedge's gains have mean
/// zero and the estimate is unbiased whatever `vol`; they cancel most of
/// the payoff's noise (at the money the standard deviation falls 4.5–11
/// times on the shipped model, at ±2 sd 1.1–4.5 times with each strike's
/// own vol for the deltas; see the design notes). A put's hedged estimate is
/// this less `1 − k` (parity holds path by path, as `X_0 = 1`). Delta
/// hedging as a control variate: Clewlow and Carverhill, "On the
/// simulation of contingent claims", Journal of Derivatives 2(2), 1994.
/// Per-path values are computed in parallel and summed in path order
/// (bit-identical whatever the thread count).
pub(super) fn hedged_call(paths: &[Vec<f64>], days: usize, k: f64, vol: f64) -> (f64, f64) {
    // The remaining sd `vol·√(T − t_j)` before each day, the same on every
    // path, so found once here rather than per path and day.
    let remaining: Vec<f64> = (0..days)
        .map(|j| vol * ((days - j) as f64 / TRADING_DAYS_PER_YEAR).sqrt())
        .collect();
    let hedged: Vec<f64> = paths
        .par_iter()
        .map(|x| {
            let (mut at, mut gains) = (1.0f64, 0.0);
            // d₁ by hand rather than `BlackScholes::greeks` (all five
            // greeks per call): this loop runs 2,500 paths × up to 378
            // days × 20 knots per fit state.
            for (&next, &sd) in x[..days].iter().zip(&remaining) {
                let d1 = (at / k).ln() / sd + 0.5 * sd;
                gains += crate::pricing::norm_cdf(d1) * (next - at);
                at = next;
            }
            (at - k).max(0.0) - gains
        })
        .collect();
    let n = paths.len() as f64;
    let mean = hedged.iter().sum::<f64>() / n;
    let var = hedged.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under geometric Brownian motion at 20 % vol the hedged estimates of
    /// forward calls to 63 days match Black–Scholes' closed form (`N(d₁) −
    /// k·N(d₂)` with `d₁,₂ = (−ln k ± σ²T/2)/(σ√T)`; at the money `2N(σ√T/2)
    /// − 1`) within 4 of their own standard errors, at the money and at
    /// strikes 0.85 and 1.15 (about ∓1.4 sd), with the hedge at the true vol
    /// and at a wrong one (30 %: still unbiased, less variance removed); the
    /// standard error returned is the per-path values' sd over √n, and that
    /// sd is far below the plain payoff's (measured: 13.7 times below at
    /// the money with the hedge at the true vol and 8.3 at the wrong one,
    /// 57.6 / 17.0 at 0.85 (the put side, hedged as a call), 7.0 / 2.3 at
    /// 1.15; asserted 3 at the money and 2 off it).
    #[test]
    fn the_hedged_call_is_unbiased_and_less_noisy() {
        use rand_distr::{Distribution, StandardNormal};
        let (vol, days, n) = (0.2, 63, 4_000);
        let dt = 1.0 / TRADING_DAYS_PER_YEAR;
        let paths: Vec<Vec<f64>> = (0..n)
            .map(|p| {
                let mut rng = crate::rng::path_rng(11, p);
                let mut x = 1.0f64;
                (0..days)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        x *= (vol * dt.sqrt() * z - 0.5 * vol * vol * dt).exp();
                        x
                    })
                    .collect()
            })
            .collect();
        let t = days as f64 * dt;
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let root = vol * t.sqrt();
        for (k, ratio) in [(1.0, 3.0), (0.85, 2.0), (1.15, 2.0)] {
            let (d1, d2) = (
                (-f64::ln(k) + 0.5 * root * root) / root,
                (-f64::ln(k) - 0.5 * root * root) / root,
            );
            let exact = crate::pricing::norm_cdf(d1) - k * crate::pricing::norm_cdf(d2);
            let plain: Vec<f64> = paths.iter().map(|x| (x[days - 1] - k).max(0.0)).collect();
            for hedge_vol in [vol, 0.3] {
                // Per-path hedged values: the estimator on one path at a time.
                let each: Vec<f64> = paths
                    .iter()
                    .map(|x| hedged_call(std::slice::from_ref(x), days, k, hedge_vol).0)
                    .collect();
                let (estimate, se) = hedged_call(&paths, days, k, hedge_vol);
                let expected_se = sd(&each) / (n as f64).sqrt();
                assert!(
                    (se / expected_se - 1.0).abs() < 1e-3,
                    "{se} vs {expected_se}"
                );
                assert!(
                    (estimate - exact).abs() < 4.0 * se,
                    "strike {k}, hedge vol {hedge_vol}: {estimate} vs {exact} (se {se})"
                );
                assert!(
                    sd(&each) < sd(&plain) / ratio,
                    "strike {k}: {} vs {}",
                    sd(&each),
                    sd(&plain)
                );
            }
        }
        assert_eq!(
            hedged_atm_call(&paths, days, vol),
            hedged_call(&paths, days, 1.0, vol).0
        );
    }
}
