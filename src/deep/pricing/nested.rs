//! The exact mode of the daily models' chains: every chain priced by nested
//! Monte Carlo of the risk-neutral generator, restarted in its own path's
//! state (`simulate --options --chain-pricing nested`).
//!
//! The fast pricers of these chains ([`crate::sim::law_table`] for GJR-GARCH-t,
//! [`super::term_table`] for the deep model) are fitted against exactly
//! this computation at a sample of states; this mode runs it at every chain
//! instead, so a user can check a surrogate on their own paths, or price a
//! small market without one. It costs `paths × days to the last expiry`
//! generator steps per chain (for the deep model, 1.4 s per chain of six
//! monthly expiries at 20,000 paths on 2 cores; GJR-GARCH's steps are about
//! 15 times cheaper), so it suits validation runs: few paths,
//! `--chain-every` a week or a month.
//!
//! A chain at path `i`, step `k` draws its nested paths from the stream
//! seeded by `(seed, i, k)` ([`chain_seed`]): output does not depend on the
//! thread count or the order chains are priced in.
//!
//! **No arbitrage by construction.** Each expiry's terminal ratios are
//! divided by their sample mean (the empirical martingale correction, Duan
//! & Simonato 1998), so each expiry is priced under a discrete law of mean
//! 1: call prices are an expectation, hence monotone and convex in the
//! strike and within their bounds, and puts follow by parity exactly. The
//! expiries share their nested paths but a finite sample is not a
//! martingale, so calendar order is imposed as for the deep table: each
//! expiry's call function is the running maximum, in forward moneyness, of
//! its own and the shorter expiries' (a maximum of call functions of mean-1
//! laws is one too).

use crate::deep::{DeepGenerator, FeatureState, MixtureNet};
use crate::error::{Error, Result};
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::rng::splitmix64;
use crate::sim::risk_neutral::{terminal_ratios, RiskNeutral};
use crate::sim::{Garch, GarchParams};
use serde::Serialize;

/// Nested paths per chain unless asked otherwise (`--nested-paths`): the
/// Monte-Carlo error of an at-the-money implied vol σ is then about
/// 1.5σ/√n (payoff sd ≈ 0.6·σ√T·F over vega ≈ 0.4·√T·F), 0.3 vol points
/// at 20 % vol. Measured on the deep model shipped until 2026-12-07 at 324
/// probed states (the 160,000-path references then stored in
/// `tests/reference/deep_probe_160k.csv`), against their 160,000-path
/// control-variate references
/// ([`super::term_table::exact_mode_vols`]): RMS 0.12–0.31 vol points at
/// the money and 0.22–0.53 across ±2 sd from calm to stressed states at
/// 10,000 paths, 0.10–0.21 and 0.16–0.38 at 20,000; the deep table's own
/// errors there are 0.07–0.25 and 0.12–0.37. A check of the table by this
/// mode therefore needs well over 20,000 paths per chain.
pub const DEFAULT_NESTED_PATHS: u64 = 10_000;

/// The fewest and most nested paths a chain may ask for.
pub const NESTED_PATHS_RANGE: (u64, u64) = (100, 10_000_000);

/// Which daily model is restarted, with what it needs to restart.
#[derive(Debug, Clone)]
enum Restart {
    /// GJR-GARCH-t under the pricing measure; the path's conditional
    /// variance is its whole state.
    Garch(Garch),
    /// The deep model under the pricing measure; the path's feature
    /// averages are its state.
    Deep(Box<DeepGenerator>),
}

/// Prices whole chains by nested Monte Carlo (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct NestedPricer {
    /// `garch` or `deep`.
    pub model: &'static str,
    /// λ of the pricing measure.
    pub variance_premium: f64,
    /// Nested paths per chain.
    pub nested_paths: u64,
    /// Seed of the nested streams (each chain's is derived from it, its
    /// path and its step).
    pub nested_seed: u64,
    #[serde(skip)]
    restart: Restart,
}

/// Equal when they price alike: the same model kind, measure, sample size
/// and seed (the model's parameters are the run's, compared with it).
impl PartialEq for NestedPricer {
    fn eq(&self, other: &Self) -> bool {
        self.model == other.model
            && self.variance_premium == other.variance_premium
            && self.nested_paths == other.nested_paths
            && self.nested_seed == other.nested_seed
    }
}

/// The stream seed of the chain at path `path`, step `step` of a run whose
/// nested seed is `seed`.
pub fn chain_seed(seed: u64, path: u64, step: usize) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ path) ^ step as u64)
}

fn check_paths(paths: u64) -> Result<()> {
    let (lo, hi) = NESTED_PATHS_RANGE;
    if !(lo..=hi).contains(&paths) {
        return Err(Error::parameter(
            "nested-paths",
            paths,
            format!("nested paths per chain must lie in [{lo}, {hi}] (Monte-Carlo error of a vol falls as 1/√paths; the default {DEFAULT_NESTED_PATHS} gives about 0.3 vol points at the money)"),
        ));
    }
    Ok(())
}

/// A one-day grid: the restarted generators are daily.
fn daily() -> Result<TimeGrid> {
    TimeGrid::new(1, 1.0 / TRADING_DAYS_PER_YEAR)
}

impl NestedPricer {
    /// Chains of GJR-GARCH-t paths with parameters `params`.
    pub fn garch(
        params: &GarchParams,
        measure: &RiskNeutral,
        paths: u64,
        seed: u64,
    ) -> Result<Self> {
        check_paths(paths)?;
        let g = Garch::new(*params, 1.0, None, &daily()?)?.risk_neutral(measure)?;
        Ok(NestedPricer {
            model: "garch",
            variance_premium: measure.variance_premium,
            nested_paths: paths,
            nested_seed: seed,
            restart: Restart::Garch(g),
        })
    }

    /// Chains of the deep model `net`'s paths.
    pub fn deep(net: &MixtureNet, measure: &RiskNeutral, paths: u64, seed: u64) -> Result<Self> {
        check_paths(paths)?;
        let g = DeepGenerator::new(net.clone(), Some(1.0), &daily()?)?.risk_neutral(measure);
        Ok(NestedPricer {
            model: "deep",
            variance_premium: measure.variance_premium,
            nested_paths: paths,
            nested_seed: seed,
            restart: Restart::Deep(Box::new(g)),
        })
    }

    /// Undiscounted call prices per unit forward, `E[(S_T/F − k)^+]`, for a
    /// whole chain of the path in state (`variance`: its real-world
    /// annualised conditional variance; `raw`: its
    /// [`crate::sim::PathGenerator::observe_state`] values, empty for
    /// GJR-GARCH) at path `path`, step `step`. `slices[e] = (maturity in
    /// trading days, strikes in units of that maturity's forward)`; calendar
    /// order is imposed across them (see the module docs).
    pub fn chain_calls(
        &self,
        variance: f64,
        raw: &[f64],
        (path, step): (u64, usize),
        slices: &[(usize, Vec<f64>)],
    ) -> Result<Vec<Vec<f64>>> {
        let mut days: Vec<usize> = slices.iter().map(|s| s.0).collect();
        days.sort_unstable();
        days.dedup();
        let seed = chain_seed(self.nested_seed, path, step);
        let n = self.nested_paths;
        let terminal = match &self.restart {
            Restart::Garch(g) => {
                if !(variance.is_finite() && variance > 0.0) {
                    return Err(Error::Internal(format!(
                        "a GJR-GARCH path reported variance {variance}"
                    )));
                }
                terminal_ratios(&g.from_variance(variance), seed, n, &days)?
            }
            Restart::Deep(g) => {
                let state = FeatureState::from_slice(raw).ok_or_else(|| {
                    Error::Internal(format!(
                        "nested deep pricing needs the model's {} state values, got {raw:?}",
                        crate::deep::STATE_LEN
                    ))
                })?;
                terminal_ratios(&g.from_state(&state), seed, n, &days)?
            }
        };
        let laws: Vec<EmpiricalLaw> = (0..days.len())
            .map(|i| EmpiricalLaw::new(terminal.iter().map(|r| r[i]).collect()))
            .collect();
        // Each expiry's law (expiries of equal maturity share one).
        let law_of: Vec<&EmpiricalLaw> = slices
            .iter()
            .map(|(d, _)| &laws[days.binary_search(d).unwrap_or(0)])
            .collect();
        Ok(calendar_ordered(slices, |e, k| law_of[e].call(k)))
    }
}

/// A sample of `S_T/S_0` divided by its mean: a discrete law of mean 1
/// (also the reference of the deep table's probe, [`super::term_table::probe`]).
pub(super) struct EmpiricalLaw {
    /// Ascending values.
    x: Vec<f64>,
    /// Suffix sums of `x`.
    sx: Vec<f64>,
}

impl EmpiricalLaw {
    pub(super) fn new(mut x: Vec<f64>) -> Self {
        let mean = x.iter().sum::<f64>() / x.len().max(1) as f64;
        for v in &mut x {
            *v /= mean;
        }
        x.sort_by(f64::total_cmp);
        let mut sx = vec![0.0; x.len() + 1];
        for i in (0..x.len()).rev() {
            sx[i] = sx[i + 1] + x[i];
        }
        EmpiricalLaw { x, sx }
    }

    /// `E[(X − k)^+]`.
    pub(super) fn call(&self, k: f64) -> f64 {
        let first = self.x.partition_point(|x| *x <= k);
        (self.sx[first] - k * (self.x.len() - first) as f64) / self.x.len() as f64
    }
}

/// Undiscounted forward calls of a chain in calendar order: for
/// `slices[e] = (maturity, strikes in units of its forward)`, each expiry's
/// call function is the running maximum of its own, `call(e, k)`, and
/// those of every expiry of no longer maturity. A maximum of call
/// functions of mean-1 laws is one too, so each slice stays arbitrage-free
/// and no calendar spread is negative (used by this nested mode and by
/// the deep table, [`super::term_table`]).
pub(super) fn calendar_ordered<T: PartialOrd>(
    slices: &[(T, Vec<f64>)],
    call: impl Fn(usize, f64) -> f64,
) -> Vec<Vec<f64>> {
    slices
        .iter()
        .map(|(t, ks)| {
            ks.iter()
                .map(|&k| {
                    slices
                        .iter()
                        .enumerate()
                        .filter(|(_, (u, _))| u <= t)
                        .map(|(e, _)| call(e, k))
                        .fold(0.0, f64::max)
                })
                .collect()
        })
        .collect()
}

/// Whole chains by nested Monte Carlo restarted in the path's state; puts
/// by parity.
impl crate::pricing::ChainPricer for NestedPricer {
    fn chain_prices(
        &self,
        market: &crate::market::MarketState,
        state: &crate::pricing::PathState<'_>,
        expiries: &[crate::pricing::Expiry],
    ) -> Result<Option<crate::pricing::ChainPrices>> {
        use crate::pricing::chain::{chain_from_forward_calls, forward_strikes};
        // Maturities are whole business days / 252.
        let slices: Vec<(usize, Vec<f64>)> = expiries
            .iter()
            .map(|(_, maturity, strikes)| {
                (
                    (maturity * TRADING_DAYS_PER_YEAR).round() as usize,
                    forward_strikes(market, *maturity, strikes),
                )
            })
            .collect();
        let calls = self.chain_calls(state.variance, state.features, state.at, &slices)?;
        Ok(Some(chain_from_forward_calls(market, expiries, &calls)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The law's calls are those of the sample by direct summation, and its
    /// mean is 1 (call at 0).
    #[test]
    fn empirical_calls_match_direct_sums() {
        let raw = vec![1.3, 0.7, 1.0, 1.1, 0.95, 1.05, 0.8];
        let mean = raw.iter().sum::<f64>() / 7.0;
        let law = EmpiricalLaw::new(raw.clone());
        assert!((law.call(0.0) - 1.0).abs() < 1e-15);
        for k in [0.5, 0.75, 0.9, 1.0, 1.02, 1.2, 1.5] {
            let direct = raw.iter().map(|x| (x / mean - k).max(0.0)).sum::<f64>() / 7.0;
            assert!((law.call(k) - direct).abs() < 1e-15, "k {k}");
        }
    }

    #[test]
    fn chain_seeds_differ_by_path_and_step() {
        let s = [
            chain_seed(1, 0, 0),
            chain_seed(1, 1, 0),
            chain_seed(1, 0, 1),
            chain_seed(2, 0, 0),
        ];
        for i in 0..s.len() {
            for j in 0..i {
                assert_ne!(s[i], s[j]);
            }
        }
    }
}
