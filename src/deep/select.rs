//! Choosing among training candidates (issue 36): nets trained from
//! different seeds reach near-equal validation likelihoods, yet their
//! free-running paths differ severalfold in their extremes.
//!
//! Why: one-step maximum likelihood pins the network where the data are. In
//! the rare states of the top 0.1 % of volatility it has almost no data, and
//! there a free-running path can feed its own large returns back into ever
//! larger volatility. Eight seeds of the S&P 500 model (1999–2018, the
//! default flags) gave validation NLLs within 0.01 nat a day of each other,
//! while the median largest up-day over 200 paths of 20 years ranged from
//! 11.6 % to 50 % (the docs' deep-generator chapter has the table).
//!
//! So each candidate is checked against its own filter: the annualised
//! conditional volatility the net assigns to the real days it was fitted on
//! (the filter), against the volatility along paths it generates freely
//! from the same start, over as many days. A net whose stationary law of
//! volatility is its filter's has learnt dynamics that stay where the data
//! are. The distance is the largest absolute log ratio of the two laws'
//! quantiles at [`QUANTILES`].
//!
//! Candidates are trained in seed order and the first within [`GUARD`]
//! (a factor of 2 at every quantile) is kept; if none is, then among those
//! whose validation likelihood is not worse than the best one's by more
//! than two standard errors of the paired daily difference, the nearest.
//! Why a guard and not the nearest of all: distances a few hundredths apart
//! are noise (100 paths against one filtered history), and ranking by them
//! is not neutral. On the S&P 500 trained to 2014 the nearest of eight
//! (seed 47, 0.169) beat seed 42 (0.172) by 0.003 and was the worse risk
//! model: 31 exceedances of its 5 % VaR in 1,006 test days (Kupiec p
//! 0.003) against seed 42's 49 (p 0.85). A factor of 2 is a runaway by any
//! reading (the S&P 500's seed 43: 3.9 × its filter at the 99th
//! percentile, 146 days beyond ±10 % in a median 20-year path).

use super::{DeepGenerator, FeatureState, MixtureNet, WARMUP};
use crate::error::Result;
use crate::market::{PathChunk, TimeGrid};
use crate::sim::Driver;
use serde::Serialize;

/// The quantiles of the volatility law compared: the body, the shoulder and
/// the tail where runaway shows first.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

/// Paths generated per candidate for its free-running volatility law.
pub const CHECK_PATHS: u64 = 100;

/// A candidate is admissible when its validation log-likelihood falls short
/// of the best candidate's by at most this many standard errors of the mean
/// paired daily difference.
pub const ADMISSIBLE_SE: f64 = 2.0;

/// A candidate whose distance is at most this (ln 2: its free-running
/// volatility within a factor of 2 of its filter at every quantile) is kept
/// without training more.
pub const GUARD: f64 = std::f64::consts::LN_2;

/// The volatility check of one net.
#[derive(Debug, Clone, Serialize)]
pub struct VolatilityCheck {
    /// (quantile, filtered volatility on the real days, free-running
    /// volatility), annualised, at each of [`QUANTILES`].
    pub quantiles: Vec<(f64, f64, f64)>,
    /// The largest |ln(free-running / filtered)| over the quantiles.
    pub distance: f64,
}

/// Compares the annualised volatility `net` assigns to the real days
/// `r[WARMUP..]` (daily log returns, the part it was fitted on) with the
/// volatility along [`CHECK_PATHS`] paths it generates from the state after
/// the first [`WARMUP`] days, each `r.len() − WARMUP` days long.
pub fn volatility_check(net: &MixtureNet, r: &[f64], seed: u64) -> Result<VolatilityCheck> {
    let scale = net.config().scale;
    let filtered: Vec<f64> = net
        .filtered_variances(r, WARMUP)
        .into_iter()
        .map(|v| (v * 252.0).sqrt() * scale)
        .collect();
    let z: Vec<f64> = r[..WARMUP.min(r.len())].iter().map(|x| x / scale).collect();
    let steps = filtered.len();
    let grid = TimeGrid::new(steps, 1.0 / 252.0)?;
    let g = DeepGenerator::new(
        net.with_initial_state(&FeatureState::after(&z)),
        Some(100.0),
        &grid,
    )?;
    let free: Vec<f64> = Driver::new(seed, CHECK_PATHS)
        .collect(&g, steps, |c: &PathChunk| {
            (0..c.paths())
                .flat_map(|p| c.variance_series(p, 0).take(steps).map(f64::sqrt))
                .collect::<Vec<f64>>()
        })?
        .into_iter()
        .flatten()
        .collect();
    let (filtered, free) = (sorted(filtered), sorted(free));
    let quantiles: Vec<(f64, f64, f64)> = QUANTILES
        .iter()
        .map(|&q| (q, quantile(&filtered, q), quantile(&free, q)))
        .collect();
    let distance = quantiles
        .iter()
        .map(|(_, a, b)| (b / a).ln().abs())
        .fold(0.0, f64::max);
    Ok(VolatilityCheck {
        quantiles,
        // A NaN (an empty or degenerate law) ranks last.
        distance: if distance.is_nan() {
            f64::INFINITY
        } else {
            distance
        },
    })
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The `q` quantile of sorted values (nearest rank); NaN when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// One training candidate as the selection saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The seed it was trained from.
    pub seed: u64,
    /// Its validation NLL per day (out of sample: the selection run's
    /// weights).
    pub validation_nll: f64,
    /// How many standard errors of the paired daily difference its
    /// validation log-likelihood falls short of the best candidate's (0 for
    /// the best).
    pub nll_gap_se: f64,
    /// Whether that gap is at most [`ADMISSIBLE_SE`].
    pub admissible: bool,
    /// Its volatility check.
    pub volatility: VolatilityCheck,
    /// Whether it was kept.
    pub chosen: bool,
}

/// Marks the chosen candidate: `validation[i]` holds candidate i's daily
/// validation log-likelihoods (the same days for all), `checks[i]` its
/// volatility check. Returns the candidates (in seed order) and the index
/// of the chosen one: the first within [`GUARD`], else the admissible
/// candidate with the smallest distance (the first on ties).
pub fn choose(
    seeds: &[u64],
    validation: &[&[f64]],
    checks: Vec<VolatilityCheck>,
) -> (Vec<Candidate>, usize) {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let best = (0..validation.len())
        .min_by(|&a, &b| mean(validation[b]).total_cmp(&mean(validation[a])))
        .unwrap_or(0);
    let gap_se = |i: usize| -> f64 {
        if i == best {
            return 0.0;
        }
        let d: Vec<f64> = validation[best]
            .iter()
            .zip(validation[i])
            .map(|(a, b)| a - b)
            .collect();
        let (m, var) = crate::stats::mean_var(&d);
        let se = (var / d.len().max(1) as f64).sqrt();
        if se > 0.0 {
            m / se
        } else if m > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let mut candidates: Vec<Candidate> = seeds
        .iter()
        .zip(checks)
        .enumerate()
        .map(|(i, (&seed, volatility))| {
            let nll_gap_se = gap_se(i);
            Candidate {
                seed,
                validation_nll: -mean(validation[i]),
                nll_gap_se,
                admissible: nll_gap_se <= ADMISSIBLE_SE,
                volatility,
                chosen: false,
            }
        })
        .collect();
    let guarded = candidates
        .iter()
        .position(|c| c.volatility.distance <= GUARD);
    let chosen = guarded.unwrap_or_else(|| {
        (0..candidates.len())
            .filter(|&i| candidates[i].admissible)
            .min_by(|&a, &b| {
                candidates[a]
                    .volatility
                    .distance
                    .total_cmp(&candidates[b].volatility.distance)
            })
            .unwrap_or(best)
    });
    if let Some(c) = candidates.get_mut(chosen) {
        c.chosen = true;
    }
    (candidates, chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(distance: f64) -> VolatilityCheck {
        VolatilityCheck {
            quantiles: vec![(0.5, 0.15, 0.15)],
            distance,
        }
    }

    /// Paired daily log-likelihoods: candidate 0 is the best; candidate 1
    /// falls short by 0.001 a day against a daily spread of 0.1 (0.5 se
    /// over 1,000 days); candidate 2 by 0.02 (10 se). The nearest
    /// volatility law wins among the admissible ones only.
    #[test]
    fn the_nearest_admissible_volatility_law_is_kept() {
        let days = 1000;
        let base: Vec<f64> = (0..days)
            .map(|t| ((t * 7919) % 101) as f64 / 100.0)
            .collect();
        let noise = |t: usize| if t.is_multiple_of(2) { 0.1 } else { -0.1 };
        let v0 = &base[..];
        let v1: Vec<f64> = (0..days).map(|t| base[t] - 0.001 + noise(t)).collect();
        let v2: Vec<f64> = (0..days).map(|t| base[t] - 0.02 + noise(t)).collect();
        let (c, chosen) = choose(
            &[5, 6, 7],
            &[v0, &v1, &v2],
            vec![check(0.9), check(0.8), check(0.7)],
        );
        assert_eq!(chosen, 1);
        assert!(c[1].chosen && !c[0].chosen && !c[2].chosen);
        assert_eq!(c[0].nll_gap_se, 0.0);
        // Mean difference 0.001, sd of the differences 0.1: 0.001/(0.1/√1000).
        assert!((c[1].nll_gap_se - 0.001 / (0.1 / (days as f64).sqrt())).abs() < 0.01);
        assert!(c[1].admissible && !c[2].admissible);
        assert_eq!(c.iter().map(|c| c.seed).collect::<Vec<_>>(), [5, 6, 7]);
        // The first within the guard is kept, eligible or not by likelihood
        // (training stops there; earlier candidates ran away).
        let (_, chosen) = choose(
            &[5, 6, 7],
            &[v0, &v1, &v2],
            vec![check(0.9), check(0.8), check(GUARD)],
        );
        assert_eq!(chosen, 2);
    }

    /// One candidate is kept as it is; equal distances keep the first.
    #[test]
    fn one_candidate_or_a_tie() {
        let v = vec![0.5; 10];
        let (c, chosen) = choose(&[42], &[&v], vec![check(2.0)]);
        assert_eq!((chosen, c.len(), c[0].chosen), (0, 1, true));
        let (_, chosen) = choose(&[1, 2], &[&v, &v], vec![check(0.9), check(0.9)]);
        assert_eq!(chosen, 0);
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
