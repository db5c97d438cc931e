//! Choosing the market model's index net among candidates trained from
//! successive seeds, by how its free-running paths score against the
//! index's own history (issue 37).
//!
//! Why: the index net drives every stock (their betas and their residuals'
//! market scale), so a net whose free-running law runs away from the data
//! puts implausible days into every asset. Nets of near-equal likelihood
//! differ severalfold in those extremes ([`crate::deep::select`] has the
//! single-series measurements). On the S&P 500 1990–2018 index, eight seeds
//! (42–49) trained with the default flags gave a median per-path largest
//! up-day of 9.4 % to 45.8 % over 200 paths of 7,306 days (real: 11.0 %),
//! and the volatility guard of single-series training admitted seed 42 at
//! 21.1 %. The guard compares volatility quantiles; what a user sees is
//! the stylized facts and the extremes, so those choose here.
//!
//! The rule, on the fit days (training and validation; the test part is
//! never seen): each candidate generates [`INDEX_CHECK_PATHS`] paths as
//! long as those days, with its variance-targeted output scale.
//!
//! 0. The single-series runaway guard first
//!    ([`crate::deep::select::volatility_check`] within
//!    [`crate::deep::select::GUARD`]); beyond it a net competes only when
//!    none is within. Why: the two criteria below judge the paths after the
//!    output factor, which hides how far the net's free-running volatility
//!    is from its filter. Without the guard, 16 seeds (42–57) chose seed
//!    56, whose output factor was 1.96 (its free paths twice too calm, with
//!    rare explosions): its market's stocks had a median |r| ACF at lag 1
//!    of 0.099 (real 0.230), and one index path a kurtosis of 268.
//! 1. Issue 36's noise-aware criterion: the real value of each statistic of
//!    [`crate::facts::spread::SPREAD_STATS`] (tails, clustering at lags
//!    1–250, leverage, aggregational kurtosis, the largest rise and fall,
//!    days beyond ±10 %) is placed in the spread of the paths' values, and
//!    the candidates that match the most (p ≥ 0.05) stay.
//! 2. Among those, the one whose typical extremes are history's: the
//!    smallest [`IndexCandidate::extremes_distance`], the larger of
//!    |ln(median largest rise / real largest rise)| and the same for the
//!    falls. Why not the mean |z| of criterion 1: a net that runs away
//!    widens the very spread its extremes are judged against, so its
//!    largest days pass at p ≥ 0.05 with small z. On the S&P 500 index
//!    (seeds 42–49) six nets matched all 21 statistics with mean |z| 0.68
//!    to 0.83, a spread of noise, while their median largest up-day ranged
//!    from 10.2 % to 20.5 % (real 11.0 %).
//!
//! With one candidate (`--index-candidates 1`) the first seed's net is kept
//! unscored, as before this selection existed.

use crate::deep::model::MixtureNet;
use crate::deep::{DeepGenerator, TrainReport};
use crate::error::{Error, Result};
use crate::facts::spread::Spread;
use crate::facts::FactsConfig;
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::sim::Driver;
use serde::Serialize;

/// Free-running paths per index candidate.
pub const INDEX_CHECK_PATHS: u64 = 100;

/// How one index candidate scored.
#[derive(Debug, Clone, Serialize)]
pub struct IndexCandidate {
    /// Training seed.
    pub seed: u64,
    /// Statistics matched (p ≥ 0.05) of [`Self::statistics`].
    pub matched: usize,
    /// Statistics scored.
    pub statistics: usize,
    /// Mean |z| over the statistics.
    pub mean_abs_z: f64,
    /// The single-series runaway check's distance
    /// ([`crate::deep::select::volatility_check`]): the largest |ln| ratio
    /// of free-running to filtered volatility quantiles. A candidate beyond
    /// [`crate::deep::select::GUARD`] is admitted only when none is within.
    pub guard_distance: f64,
    /// Median over the paths of the largest daily log return.
    pub largest_rise: f64,
    /// Median over the paths of the smallest daily log return.
    pub largest_fall: f64,
    /// The larger of |ln(largest_rise / real largest rise)| and
    /// |ln(largest_fall / real largest fall)|, the real ones over the fit
    /// days.
    pub extremes_distance: f64,
    /// The output factor of variance targeting.
    pub output_scale: f64,
    /// Validation NLL per day at the best epoch.
    pub validation_nll: f64,
    /// Whether this candidate is the model's index net.
    pub chosen: bool,
}

/// A chosen index net: the net, its report, its output factor and every
/// candidate's score.
pub(super) struct ChosenIndex {
    pub net: MixtureNet,
    pub report: TrainReport,
    pub output_scale: f64,
    pub candidates: Vec<IndexCandidate>,
}

/// Trains `count` candidates with `train(seed)` from `seed`, `seed + 1`, …
/// and keeps the best by the rule of this module, scored against the fit
/// days `fit` (daily log returns of the index).
pub(super) fn choose_index(
    fit: &[f64],
    seed: u64,
    count: usize,
    mut train: impl FnMut(u64, usize) -> Result<(MixtureNet, TrainReport)>,
) -> Result<ChosenIndex> {
    if count == 0 {
        return Err(Error::parameter(
            "index-candidates",
            0,
            "at least one index net must be trained",
        ));
    }
    // The best so far: its position among the candidates, its net, its
    // report and its output factor.
    let mut best: Option<(usize, MixtureNet, TrainReport, f64)> = None;
    let mut candidates: Vec<IndexCandidate> = Vec::with_capacity(count);
    for c in 0..count {
        let s = seed.wrapping_add(c as u64);
        let (net, report) = train(s, c)?;
        let output_scale = variance_target(&net, fit, s)?;
        let validation_nll = report.selection_nll.1;
        let candidate = if count == 1 {
            // Nothing to choose between: no paths spent on scoring.
            IndexCandidate {
                seed: s,
                matched: 0,
                statistics: 0,
                mean_abs_z: f64::NAN,
                guard_distance: f64::NAN,
                largest_rise: f64::NAN,
                largest_fall: f64::NAN,
                extremes_distance: f64::NAN,
                output_scale,
                validation_nll,
                chosen: false,
            }
        } else {
            score(&net, output_scale, fit, s, validation_nll)?
        };
        if best
            .as_ref()
            .is_none_or(|b| beats(&candidate, &candidates[b.0]))
        {
            best = Some((c, net, report, output_scale));
        }
        candidates.push(candidate);
    }
    let (at, net, report, output_scale) =
        best.ok_or_else(|| Error::Internal("no index candidate".into()))?;
    candidates[at].chosen = true;
    Ok(ChosenIndex {
        net,
        report,
        output_scale,
        candidates,
    })
}

/// Whether candidate `a` beats `b`: within the runaway guard when `b` is
/// not; else, both within or both beyond, more statistics matched, or as
/// many and the smaller extremes distance.
fn beats(a: &IndexCandidate, b: &IndexCandidate) -> bool {
    let within = |c: &IndexCandidate| c.guard_distance <= crate::deep::select::GUARD;
    if within(a) != within(b) {
        return within(a);
    }
    a.matched > b.matched || (a.matched == b.matched && a.extremes_distance < b.extremes_distance)
}

/// The score of `net`, its output multiplied by `output_scale`, on
/// [`INDEX_CHECK_PATHS`] free-running paths as long as `fit`.
fn score(
    net: &MixtureNet,
    output_scale: f64,
    fit: &[f64],
    seed: u64,
    validation_nll: f64,
) -> Result<IndexCandidate> {
    let steps = fit.len();
    let grid = TimeGrid::new(steps, 1.0 / TRADING_DAYS_PER_YEAR)?;
    let gen = DeepGenerator::new(net.clone(), Some(1.0), &grid)?;
    let paths: Vec<Vec<f64>> =
        Driver::new(crate::rng::splitmix64(seed ^ 0x1d3c), INDEX_CHECK_PATHS)
            .log_returns(&gen, steps)?
            .into_iter()
            .map(|mut r| {
                let mut one = r.swap_remove(0);
                one.iter_mut().for_each(|x| *x *= output_scale);
                one
            })
            .collect();
    let spread = Spread::compute(fit, &paths, &FactsConfig::default())?;
    let median_of = |f: fn(f64, f64) -> f64, init: f64| {
        crate::stats::median(
            paths
                .iter()
                .map(|p| p.iter().copied().fold(init, f))
                .collect(),
        )
    };
    let largest_rise = median_of(f64::max, f64::NEG_INFINITY);
    let largest_fall = median_of(f64::min, f64::INFINITY);
    let real_rise = fit.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let real_fall = fit.iter().copied().fold(f64::INFINITY, f64::min);
    let extremes_distance = (largest_rise / real_rise)
        .ln()
        .abs()
        .max((largest_fall / real_fall).ln().abs());
    // The check trains nothing: it filters the fit days and generates its
    // own paths (unscaled: its distance compares volatility laws, which
    // the output factor would shift).
    let guard_distance = crate::deep::select::volatility_check(net, fit, seed)?.distance;
    Ok(IndexCandidate {
        seed,
        matched: spread.matched,
        statistics: spread.rows.len(),
        mean_abs_z: spread.mean_abs_z,
        guard_distance,
        largest_rise,
        largest_fall,
        // NaN (a history without a rise or a fall) ranks last.
        extremes_distance: if extremes_distance.is_nan() {
            f64::INFINITY
        } else {
            extremes_distance
        },
        output_scale,
        validation_nll,
        chosen: false,
    })
}

/// Paths of a net's own simulation for [`variance_target`].
pub(super) const TARGET_PATHS: u64 = 16;

/// The factor that puts the median, over [`TARGET_PATHS`] simulated paths
/// as long as `r`, of the standard deviation of a net's daily returns on
/// the standard deviation of `r` (its training returns): variance targeting
/// (Engle & Mezrich, "GARCH for groups", Risk 9, 1996), applied to the
/// output only, so the net's recursion and its clustering are untouched.
/// Why: a net fitted by likelihood one day ahead need not have the
/// history's unconditional variance when it runs free on its own draws
/// (the S&P 500 index net of the shipped panel runs 28 % too volatile), and
/// in a market the ratio of index to residual variance sets every
/// correlation.
fn variance_target(net: &MixtureNet, r: &[f64], seed: u64) -> Result<f64> {
    use crate::sim::{Driver, PathGenerator};
    let grid = crate::market::TimeGrid::new(r.len(), 1.0 / crate::market::TRADING_DAYS_PER_YEAR)?;
    let gen = crate::deep::DeepGenerator::new(net.clone(), Some(1.0), &grid)?;
    let sds: Vec<f64> = Driver::new(crate::rng::splitmix64(seed ^ 0x7a26), TARGET_PATHS)
        .collect(&gen, r.len(), |chunk| {
            (0..chunk.paths())
                .map(|p| {
                    let s: Vec<f64> = chunk.spot_series(p, 0).collect();
                    let lr: Vec<f64> = s.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
                    crate::stats::mean_var(&lr).1.sqrt()
                })
                .collect::<Vec<_>>()
        })?
        .into_iter()
        .flatten()
        .collect();
    debug_assert_eq!(gen.assets(), 1);
    let c = crate::stats::mean_var(r).1.sqrt() / crate::stats::median(sds);
    if c.is_finite() && c > 0.0 {
        Ok(c)
    } else {
        Err(Error::Internal(format!("variance target {c}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(seed: u64, matched: usize, extremes_distance: f64) -> IndexCandidate {
        IndexCandidate {
            seed,
            matched,
            statistics: 21,
            mean_abs_z: 0.7,
            guard_distance: 0.4,
            largest_rise: 0.1,
            largest_fall: -0.1,
            extremes_distance,
            output_scale: 1.0,
            validation_nll: 1.0,
            chosen: false,
        }
    }

    #[test]
    fn within_the_guard_then_more_matched_then_the_nearer_extremes() {
        // Issue 36's order: the count of matched facts first.
        assert!(beats(&candidate(43, 21, 0.9), &candidate(42, 20, 0.5)));
        assert!(!beats(&candidate(43, 20, 0.5), &candidate(42, 21, 0.9)));
        // The S&P 500 index's seeds 48 and 42 (distances 0.075 and 0.35).
        assert!(beats(&candidate(48, 21, 0.075), &candidate(42, 21, 0.35)));
        // A net that runs away (beyond the guard) loses to any within it.
        let mut runaway = candidate(56, 21, 0.02);
        runaway.guard_distance = 0.9;
        assert!(beats(&candidate(48, 19, 0.3), &runaway));
        assert!(!beats(&runaway, &candidate(48, 19, 0.3)));
        // A tie keeps the earlier seed.
        assert!(!beats(&candidate(43, 21, 0.7), &candidate(42, 21, 0.7)));
    }

    #[test]
    fn no_candidates_is_an_error_not_a_panic() {
        let r = choose_index(&[0.01; 10], 42, 0, |_, _| {
            Err(Error::Internal("never trained".into()))
        });
        assert!(matches!(r, Err(Error::Parameter { .. })));
    }
}
