//! The scorecard: a synthetic panel against one real history.
//!
//! * Facts are computed per synthetic path and summarised as mean and spread
//!   across paths, so a panel is compared fairly with one real history of
//!   similar length; a fact is "present" in the panel when it is present in
//!   at least half of the paths.
//! * Distances: Wasserstein-1 between the real and the pooled synthetic
//!   distributions of non-overlapping 1-, 5- and 20-day log returns; RMS
//!   distances between the real profile and the mean synthetic profile of
//!   the ACFs of r (lags 1–20), |r| and r² (lags 1–250) and of the leverage
//!   correlations (k = 1–20); absolute differences of the tail indices and of
//!   the excess kurtosis.
//! * The discriminative score ([`super::discriminator`]) and the
//!   memorization audit ([`super::memorization`]).
//! * The noise-aware scorecard ([`super::spread`]): each statistic's real
//!   value placed in the model's spread over series of the real length.

use super::discriminator::{self, DiscriminativeScore, DiscriminatorConfig};
use super::distances::{aggregate, profile_distance, wasserstein1};
use super::memorization::{self, MemorizationAudit, MemorizationConfig};
use super::spread::Spread;
use super::{Facts, FactsConfig};
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::Serialize;

/// Fewest real returns a scorecard takes: the discriminator needs five
/// folds of five windows of at least five days.
pub const MIN_REAL_RETURNS: usize = 125;

/// Settings of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorecardConfig {
    /// The fact battery.
    pub facts: FactsConfig,
    /// Horizons (days) of the Wasserstein distances.
    pub w1_horizons: Vec<usize>,
    /// Window length (days) of the discriminator and the memorization audit.
    pub window: usize,
    /// Seed of the window samples and folds.
    pub seed: u64,
}

impl Default for ScorecardConfig {
    fn default() -> Self {
        ScorecardConfig {
            facts: FactsConfig::default(),
            w1_horizons: vec![1, 5, 20],
            window: 20,
            seed: 42,
        }
    }
}

/// One statistic: real value, synthetic mean and spread across paths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatRow {
    /// Name of the statistic.
    pub statistic: String,
    /// Real value.
    pub real: f64,
    /// Mean across synthetic paths.
    pub synthetic_mean: f64,
    /// Standard deviation across synthetic paths.
    pub synthetic_sd: f64,
    /// |synthetic mean − real|.
    pub distance: f64,
}

/// One stylized fact in both markets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactRow {
    /// The fact and the statistic its verdict rests on.
    pub fact: String,
    /// Present in the real series.
    pub real_present: bool,
    /// The statistic on the real series.
    pub real_value: f64,
    /// Share of synthetic paths where the fact is present.
    pub synthetic_share: f64,
    /// Present in at least half of the synthetic paths.
    pub synthetic_present: bool,
    /// Mean of the statistic across synthetic paths.
    pub synthetic_value: f64,
    /// |synthetic value − real value|.
    pub distance: f64,
}

/// Distances between the real and the synthetic market (0 = identical).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distances {
    /// (horizon in days, Wasserstein-1 between h-day log-return laws).
    pub wasserstein: Vec<(usize, f64)>,
    /// RMS distance of the ACF of r, lags 1–20.
    pub acf_r: f64,
    /// RMS distance of the ACF of |r|, lags 1–250.
    pub acf_abs: f64,
    /// RMS distance of the ACF of r², lags 1–250.
    pub acf_sq: f64,
    /// RMS distance of corr(r_t, |r_{t+k}|), k = 1–20.
    pub leverage_abs: f64,
    /// RMS distance of corr(r_t, r²_{t+k}), k = 1–20.
    pub leverage_sq: f64,
    /// |Δ| of the left-tail Hill index.
    pub hill_left: f64,
    /// |Δ| of the right-tail Hill index.
    pub hill_right: f64,
    /// |Δ| of the daily excess kurtosis.
    pub excess_kurtosis: f64,
}

/// Mean synthetic profiles (for plots and the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profiles {
    /// ACF of r.
    pub acf_r: Vec<f64>,
    /// ACF of |r|.
    pub acf_abs: Vec<f64>,
    /// ACF of r².
    pub acf_sq: Vec<f64>,
    /// corr(r_t, |r_{t+k}|).
    pub leverage_abs: Vec<f64>,
    /// corr(r_t, r²_{t+k}).
    pub leverage_sq: Vec<f64>,
    /// (horizon, excess kurtosis).
    pub kurtosis_by_horizon: Vec<(usize, f64)>,
    /// White-noise band of one path.
    pub band: f64,
}

/// The whole scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// Real returns compared.
    pub real_returns: usize,
    /// Synthetic paths.
    pub synthetic_paths: usize,
    /// Returns per synthetic path (the shortest path).
    pub synthetic_returns_per_path: usize,
    /// Statistics side by side.
    pub statistics: Vec<StatRow>,
    /// Stylized facts side by side.
    pub facts: Vec<FactRow>,
    /// Distances.
    pub distances: Distances,
    /// Discriminative score.
    pub discriminative: DiscriminativeScore,
    /// Memorization audit.
    pub memorization: MemorizationAudit,
    /// The noise-aware scorecard: the real value of each statistic placed
    /// in the model's spread over series of the real length.
    pub spread: Spread,
    /// Facts of the real series.
    pub real: Facts,
    /// Mean synthetic profiles.
    pub synthetic: Profiles,
    /// Cross-consistency of the market's option chains, when it has them
    /// (filled in by the caller that reads them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<super::consistency::Consistency>,
}

/// Mean of the finite values (NaN if none).
fn finite_mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Mean and sample standard deviation of the finite values.
fn finite_mean_sd(v: &[f64]) -> (f64, f64) {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let m = finite_mean(f.iter().copied());
    let n = f.len() as f64;
    let sd = (f.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    (m, sd)
}

/// Lag-wise mean of profiles of possibly different lengths (over the
/// shortest).
fn mean_profile<'a>(profiles: impl Iterator<Item = &'a [f64]> + Clone) -> Vec<f64> {
    let len = profiles.clone().map(<[f64]>::len).min().unwrap_or(0);
    (0..len)
        .map(|k| finite_mean(profiles.clone().map(|p| p[k])))
        .collect()
}

/// A named statistic read off a series' facts.
type Stat = (&'static str, fn(&Facts) -> f64);

/// The statistics of the side-by-side table.
pub const STATISTICS: [Stat; 12] = [
    ("mean daily log return", |f| f.mean),
    ("annualised vol", |f| f.annual_vol),
    ("skewness", |f| f.skewness),
    ("excess kurtosis", |f| f.excess_kurtosis),
    ("Hill index, left tail", |f| f.hill_left),
    ("Hill index, right tail", |f| f.hill_right),
    ("acf r, lag 1", |f| f.acf_r[0]),
    ("acf |r|, lag 1", |f| f.acf_abs[0]),
    ("acf |r|, lag 100", |f| {
        f.acf_abs.get(99).copied().unwrap_or(f64::NAN)
    }),
    ("acf |r| decay exponent", |f| f.decay_abs),
    ("corr(r_t, |r_t+1|)", |f| f.leverage_abs[0]),
    ("median loss wait / gain wait", |f| {
        f.median_wait_loss / f.median_wait_gain
    }),
];

impl Scorecard {
    /// Scores `synthetic` paths (daily log returns per path) against the real
    /// returns `real`. The memorization audit compares them with `training`
    /// (the real returns the generator learnt from) and `heldout` (real
    /// returns it never saw); `real` may be either, both, or another period.
    pub fn compute(
        real: &[f64],
        training: &[f64],
        heldout: &[f64],
        synthetic: &[Vec<f64>],
        cfg: &ScorecardConfig,
    ) -> Result<Scorecard> {
        if synthetic.is_empty() {
            return Err(Error::parameter("synthetic paths", 0, "need at least one"));
        }
        let real_facts = Facts::of_returns(real, &cfg.facts)?;
        let syn_facts: Vec<Facts> = synthetic
            .par_iter()
            .map(|r| Facts::of_returns(r, &cfg.facts))
            .collect::<Result<_>>()?;
        let statistics = STATISTICS
            .iter()
            .map(|(name, f)| {
                let v: Vec<f64> = syn_facts.iter().map(f).collect();
                let (m, sd) = finite_mean_sd(&v);
                let r = f(&real_facts);
                StatRow {
                    statistic: (*name).to_string(),
                    real: r,
                    synthetic_mean: m,
                    synthetic_sd: sd,
                    distance: (m - r).abs(),
                }
            })
            .collect();
        let real_verdicts = real_facts.verdicts();
        let syn_verdicts: Vec<_> = syn_facts.iter().map(Facts::verdicts).collect();
        let n = syn_facts.len() as f64;
        let facts = real_verdicts
            .iter()
            .enumerate()
            .map(|(i, rv)| {
                let share = syn_verdicts.iter().filter(|v| v[i].present).count() as f64 / n;
                let value = finite_mean(syn_verdicts.iter().map(|v| v[i].value));
                FactRow {
                    fact: rv.fact.to_string(),
                    real_present: rv.present,
                    real_value: rv.value,
                    synthetic_share: share,
                    synthetic_present: share >= 0.5,
                    synthetic_value: value,
                    distance: (value - rv.value).abs(),
                }
            })
            .collect();
        let profile = |g: fn(&Facts) -> &[f64]| mean_profile(syn_facts.iter().map(g));
        let synthetic_profiles = Profiles {
            acf_r: profile(|f| &f.acf_r),
            acf_abs: profile(|f| &f.acf_abs),
            acf_sq: profile(|f| &f.acf_sq),
            leverage_abs: profile(|f| &f.leverage_abs),
            leverage_sq: profile(|f| &f.leverage_sq),
            kurtosis_by_horizon: syn_facts[0]
                .kurtosis_by_horizon
                .iter()
                .enumerate()
                .map(|(i, (h, _))| {
                    (
                        *h,
                        finite_mean(syn_facts.iter().map(|f| f.kurtosis_by_horizon[i].1)),
                    )
                })
                .collect(),
            band: finite_mean(syn_facts.iter().map(|f| f.band)),
        };
        let wasserstein = cfg
            .w1_horizons
            .iter()
            .map(|&h| {
                let pooled: Vec<f64> = synthetic.iter().flat_map(|r| aggregate(r, h)).collect();
                (h, wasserstein1(&aggregate(real, h), &pooled))
            })
            .collect();
        let mean_of = |f: fn(&Facts) -> f64| finite_mean(syn_facts.iter().map(f));
        let distances = Distances {
            wasserstein,
            acf_r: profile_distance(&real_facts.acf_r, &synthetic_profiles.acf_r),
            acf_abs: profile_distance(&real_facts.acf_abs, &synthetic_profiles.acf_abs),
            acf_sq: profile_distance(&real_facts.acf_sq, &synthetic_profiles.acf_sq),
            leverage_abs: profile_distance(
                &real_facts.leverage_abs,
                &synthetic_profiles.leverage_abs,
            ),
            leverage_sq: profile_distance(&real_facts.leverage_sq, &synthetic_profiles.leverage_sq),
            hill_left: (mean_of(|f| f.hill_left) - real_facts.hill_left).abs(),
            hill_right: (mean_of(|f| f.hill_right) - real_facts.hill_right).abs(),
            excess_kurtosis: (mean_of(|f| f.excess_kurtosis) - real_facts.excess_kurtosis).abs(),
        };
        // A short real series (a test period of a few hundred days) has too
        // few windows of `cfg.window` days for five folds of five: the
        // window shrinks to leave 25 (at least 5 days; the score reports
        // the length used).
        let folds = DiscriminatorConfig::default().folds;
        let window = cfg.window.min(real.len() / (5 * folds)).max(5);
        let discriminative = discriminator::score(
            real,
            synthetic,
            &DiscriminatorConfig {
                window,
                ..DiscriminatorConfig::default()
            },
        )?;
        // Likewise the audit's windows for a short held-out part (it needs
        // ten held-out windows).
        let audit_window = cfg.window.min(heldout.len() / 10).max(5);
        let memorization = memorization::audit(
            training,
            heldout,
            synthetic,
            &MemorizationConfig {
                window: audit_window,
                seed: cfg.seed,
                ..MemorizationConfig::default()
            },
        )?;
        let spread =
            Spread::with_facts(real, &real_facts, synthetic, Some(&syn_facts), &cfg.facts)?;
        Ok(Scorecard {
            spread,
            real_returns: real.len(),
            synthetic_paths: synthetic.len(),
            synthetic_returns_per_path: synthetic.iter().map(Vec::len).min().unwrap_or(0),
            statistics,
            facts,
            distances,
            discriminative,
            memorization,
            real: real_facts,
            synthetic: synthetic_profiles,
            options: None,
        })
    }

    /// The distances as (name, value) rows, in report order.
    pub fn distance_rows(&self) -> Vec<(String, f64)> {
        let d = &self.distances;
        let mut rows: Vec<(String, f64)> = d
            .wasserstein
            .iter()
            .map(|(h, v)| (format!("Wasserstein-1, {h}-day returns"), *v))
            .collect();
        rows.extend([
            ("acf r profile (RMS, lags 1-20)".to_string(), d.acf_r),
            ("acf |r| profile (RMS, lags 1-250)".to_string(), d.acf_abs),
            ("acf r^2 profile (RMS, lags 1-250)".to_string(), d.acf_sq),
            (
                "leverage |r| profile (RMS, k 1-20)".to_string(),
                d.leverage_abs,
            ),
            (
                "leverage r^2 profile (RMS, k 1-20)".to_string(),
                d.leverage_sq,
            ),
            ("Hill index, left tail |diff|".to_string(), d.hill_left),
            ("Hill index, right tail |diff|".to_string(), d.hill_right),
            ("excess kurtosis |diff|".to_string(), d.excess_kurtosis),
        ]);
        rows
    }
}
