//! Scores of a sequence of forecasts against what happened: VaR exceedances
//! and their tests, PIT tests and CRPS for one day ahead; interval coverage
//! and PIT uniformity at longer horizons from rolling origins.

use super::forecaster::Forecast;
use crate::error::{Error, Result};
use crate::forecast::{
    berkowitz, christoffersen_independence, conditional_coverage, ks_uniform, kupiec, TestResult,
};
use serde::Serialize;

/// VaR levels scored one day ahead.
pub const VAR_LEVELS: [f64; 2] = [0.01, 0.05];

/// Central interval whose coverage is scored at each horizon.
pub const INTERVAL: f64 = 0.90;

/// The VaR backtest at one level.
#[derive(Debug, Clone, Serialize)]
pub struct VarScore {
    /// The level α (0.01: the 1 % VaR, the α-quantile of the return).
    pub level: f64,
    /// Days forecast.
    pub days: usize,
    /// Days whose return fell below the VaR.
    pub exceedances: usize,
    /// `exceedances / days` (α if the VaR is right).
    pub rate: f64,
    /// Kupiec (1995) proportion of failures, χ²(1).
    pub kupiec: TestResult,
    /// Christoffersen (1998) independence of exceedances, χ²(1).
    pub independence: TestResult,
    /// Christoffersen conditional coverage (the two together), χ²(2).
    pub conditional_coverage: TestResult,
}

/// One-day-ahead scores over the test days.
#[derive(Debug, Clone, Serialize)]
pub struct OneDayScore {
    /// How the model's one-day law was computed.
    pub method: String,
    /// The VaR backtests, one per level of [`VAR_LEVELS`].
    pub var: Vec<VarScore>,
    /// Kolmogorov–Smirnov test of the PITs against the uniform law.
    pub pit_ks: TestResult,
    /// Berkowitz (2001) test of the normal scores of the PITs.
    pub berkowitz: TestResult,
    /// Mean CRPS in percent log return (lower is better).
    pub crps: f64,
    /// Per-day series for the charts and the CSV (not in the summary).
    #[serde(skip)]
    pub days: OneDaySeries,
}

/// Per test day: the VaRs, the PIT and the CRPS.
#[derive(Debug, Clone, Default)]
pub struct OneDaySeries {
    /// VaR (a log return) per level of [`VAR_LEVELS`], per day.
    pub var: Vec<Vec<f64>>,
    /// PIT of the realised return, per day.
    pub pit: Vec<f64>,
    /// CRPS (log return units), per day.
    pub crps: Vec<f64>,
}

/// Scores one-day forecasts (`forecasts[i]` for the return `realised[i]`).
pub fn score_one_day(
    forecasts: &[Forecast],
    realised: &[f64],
    method: String,
) -> Result<OneDayScore> {
    if forecasts.len() != realised.len() || realised.len() < 3 {
        return Err(Error::Internal(format!(
            "{} forecasts for {} returns",
            forecasts.len(),
            realised.len()
        )));
    }
    let var: Vec<Vec<f64>> = VAR_LEVELS
        .iter()
        .map(|a| forecasts.iter().map(|f| f.quantile(*a)).collect())
        .collect();
    let scores = VAR_LEVELS
        .iter()
        .zip(&var)
        .map(|(a, q)| {
            let hits: Vec<bool> = realised.iter().zip(q).map(|(y, q)| y < q).collect();
            let exceedances = hits.iter().filter(|h| **h).count();
            VarScore {
                level: *a,
                days: hits.len(),
                exceedances,
                rate: exceedances as f64 / hits.len() as f64,
                kupiec: kupiec(&hits, *a),
                independence: christoffersen_independence(&hits),
                conditional_coverage: conditional_coverage(&hits, *a),
            }
        })
        .collect();
    let (pit, z): (Vec<f64>, Vec<f64>) = forecasts
        .iter()
        .zip(realised)
        .map(|(f, y)| f.pit(*y))
        .unzip();
    let crps: Vec<f64> = forecasts
        .iter()
        .zip(realised)
        .map(|(f, y)| f.crps(*y))
        .collect();
    Ok(OneDayScore {
        method,
        var: scores,
        pit_ks: ks_uniform(&pit)?,
        berkowitz: berkowitz(&z)?,
        crps: 100.0 * crps.iter().sum::<f64>() / crps.len() as f64,
        days: OneDaySeries { var, pit, crps },
    })
}

/// Scores at one horizon from rolling origins.
#[derive(Debug, Clone, Serialize)]
pub struct HorizonScore {
    /// Horizon in trading days.
    pub horizon: usize,
    /// Origins scored.
    pub origins: usize,
    /// Origins whose realised cumulative return fell inside the central
    /// [`INTERVAL`] interval of the simulated ones.
    pub covered: usize,
    /// `covered / origins` (0.90 if the intervals are right).
    pub coverage: f64,
    /// Kolmogorov–Smirnov test of the PITs of the realised cumulative
    /// returns against the uniform law.
    pub pit_ks: TestResult,
    /// The PITs, one per origin.
    pub pit: Vec<f64>,
}

/// Scores simulated cumulative returns at `horizon` days from each origin
/// (`sims[i]`: the draws from origin `i`) against the realised ones.
pub fn score_horizon(
    horizon: usize,
    sims: &[crate::forecast::Sample],
    realised: &[f64],
) -> Result<HorizonScore> {
    let lo = 0.5 * (1.0 - INTERVAL);
    let mut covered = 0;
    let mut pit = Vec::with_capacity(sims.len());
    for (s, y) in sims.iter().zip(realised) {
        if s.quantile(lo) <= *y && *y <= s.quantile(1.0 - lo) {
            covered += 1;
        }
        pit.push(s.cdf(*y));
    }
    Ok(HorizonScore {
        horizon,
        origins: sims.len(),
        covered,
        coverage: covered as f64 / sims.len().max(1) as f64,
        pit_ks: ks_uniform(&pit)?,
        pit,
    })
}
