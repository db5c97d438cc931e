//! The noise-aware scorecard (issue 36): where the real value of each
//! statistic falls in the model's own distribution of that statistic over
//! synthetic series of the real series' length.
//!
//! One real history is one draw: a single number such as its excess
//! kurtosis carries sampling noise of the same size as the differences
//! between good models. So the synthetic paths are cut into series as long
//! as the real one (non-overlapping windows; a path shorter than the real
//! series is used whole, and the report says so), the statistic is computed
//! on each, and the real value is placed in that spread:
//!
//! * its **percentile**: the share of synthetic values below it (ties count
//!   half);
//! * a **two-sided p-value**, `2·min(#below + 1, #above + 1)/(N + 1)`
//!   capped at 1 (the rank test of a value against N draws of its null
//!   distribution, with ties split evenly);
//! * a **z-score**, `(real − mean)/sd` of the synthetic values.
//!
//! A model *matches* a statistic when p ≥ 0.05. Model A *beats* model B
//! when A matches at least as many statistics and has the smaller mean |z|
//! ([`Spread::beats`]; "at least as many" so that two models matching
//! every statistic are told apart by |z|).

use super::{Facts, FactsConfig};
use crate::error::{Error, Result};
use crate::stats::quantile_sorted;
use rayon::prelude::*;
use serde::Serialize;

/// The significance level of a match: p ≥ 0.05.
pub const MATCH_LEVEL: f64 = 0.05;

/// A daily log return beyond this size (±10 %) counts as an extreme day.
pub const EXTREME_DAY: f64 = 0.10;

/// One statistic of a series: its name and how to read it off the series'
/// facts and returns.
pub struct SpreadStat {
    /// Name, as reported.
    pub name: &'static str,
    /// The statistic.
    pub value: fn(&Facts, &[f64]) -> f64,
}

impl std::fmt::Debug for SpreadStat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn at(v: &[f64], lag: usize) -> f64 {
    v.get(lag - 1).copied().unwrap_or(f64::NAN)
}

fn horizon_kurtosis(f: &Facts, h: usize) -> f64 {
    f.kurtosis_by_horizon
        .iter()
        .find(|(k, _)| *k == h)
        .map_or(f64::NAN, |(_, x)| *x)
}

/// Days beyond ±[`EXTREME_DAY`], as a number.
pub(super) fn extreme_days(r: &[f64]) -> f64 {
    r.iter().filter(|x| x.abs() > EXTREME_DAY).count() as f64
}

/// The largest value (−∞ if empty).
pub(super) fn max_of(r: &[f64]) -> f64 {
    r.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The smallest value (+∞ if empty).
pub(super) fn min_of(r: &[f64]) -> f64 {
    r.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The statistics of the noise-aware table: the stylized facts' statistics
/// (fat tails, the |r|-ACF and leverage profiles, no linear
/// autocorrelation, aggregational Gaussianity) and the extremes.
pub const SPREAD_STATS: [SpreadStat; 21] = [
    SpreadStat {
        name: "excess kurtosis",
        value: |f, _| f.excess_kurtosis,
    },
    SpreadStat {
        name: "Hill index, left tail",
        value: |f, _| f.hill_left,
    },
    SpreadStat {
        name: "Hill index, right tail",
        value: |f, _| f.hill_right,
    },
    SpreadStat {
        name: "acf r, lag 1",
        value: |f, _| at(&f.acf_r, 1),
    },
    SpreadStat {
        name: "acf r, lag 5",
        value: |f, _| at(&f.acf_r, 5),
    },
    SpreadStat {
        name: "acf |r|, lag 1",
        value: |f, _| at(&f.acf_abs, 1),
    },
    SpreadStat {
        name: "acf |r|, lag 5",
        value: |f, _| at(&f.acf_abs, 5),
    },
    SpreadStat {
        name: "acf |r|, lag 10",
        value: |f, _| at(&f.acf_abs, 10),
    },
    SpreadStat {
        name: "acf |r|, lag 20",
        value: |f, _| at(&f.acf_abs, 20),
    },
    SpreadStat {
        name: "acf |r|, lag 50",
        value: |f, _| at(&f.acf_abs, 50),
    },
    SpreadStat {
        name: "acf |r|, lag 100",
        value: |f, _| at(&f.acf_abs, 100),
    },
    SpreadStat {
        name: "acf |r|, lag 250",
        value: |f, _| at(&f.acf_abs, 250),
    },
    SpreadStat {
        name: "corr(r_t, |r_t+1|)",
        value: |f, _| at(&f.leverage_abs, 1),
    },
    SpreadStat {
        name: "corr(r_t, |r_t+5|)",
        value: |f, _| at(&f.leverage_abs, 5),
    },
    SpreadStat {
        name: "corr(r_t, |r_t+10|)",
        value: |f, _| at(&f.leverage_abs, 10),
    },
    SpreadStat {
        name: "excess kurtosis, 5-day returns",
        value: |f, _| horizon_kurtosis(f, 5),
    },
    SpreadStat {
        name: "excess kurtosis, 20-day returns",
        value: |f, _| horizon_kurtosis(f, 20),
    },
    SpreadStat {
        name: "largest daily rise",
        value: |_, r| max_of(r),
    },
    SpreadStat {
        name: "largest daily fall",
        value: |_, r| min_of(r),
    },
    SpreadStat {
        name: "largest fall + largest rise",
        value: |_, r| min_of(r) + max_of(r),
    },
    SpreadStat {
        name: "days beyond ±10 %",
        value: |_, r| extreme_days(r),
    },
];

/// One statistic: the real value placed in the synthetic spread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpreadRow {
    /// Name of the statistic.
    pub statistic: String,
    /// The real series' value.
    pub real: f64,
    /// Mean over the synthetic series.
    pub synthetic_mean: f64,
    /// Standard deviation over the synthetic series.
    pub synthetic_sd: f64,
    /// 5th and 95th percentiles of the synthetic values.
    pub synthetic_p05: f64,
    /// 95th percentile of the synthetic values.
    pub synthetic_p95: f64,
    /// Share of synthetic values below the real one (ties count half).
    pub percentile: f64,
    /// Two-sided rank p-value of the real value.
    pub p_value: f64,
    /// (real − mean)/sd.
    pub z: f64,
    /// p ≥ [`MATCH_LEVEL`].
    pub matches: bool,
}

/// The noise-aware scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    /// Returns per synthetic series (the real series' length, or the
    /// shortest path when the paths are shorter).
    pub series_len: usize,
    /// Synthetic series compared (windows of the paths).
    pub series: usize,
    /// Whether the paths were shorter than the real series (the spread is
    /// then that of shorter series: wider than it should be).
    pub paths_shorter_than_real: bool,
    /// One row per statistic of [`SPREAD_STATS`].
    pub rows: Vec<SpreadRow>,
    /// Statistics matched (p ≥ 0.05).
    pub matched: usize,
    /// Mean |z| over the statistics with a finite z.
    pub mean_abs_z: f64,
}

impl Spread {
    /// Places `real` (daily log returns) in the spread of `synthetic`
    /// (paths of daily log returns) cut into series of the real length.
    pub fn compute(real: &[f64], synthetic: &[Vec<f64>], cfg: &FactsConfig) -> Result<Spread> {
        Self::with_facts(real, &Facts::of_returns(real, cfg)?, synthetic, None, cfg)
    }

    /// [`Self::compute`] given the facts already computed of `real` and,
    /// when the caller has them, of each synthetic path: when every path is
    /// exactly one series long (the usual case: paths as long as the real
    /// history), the series are the paths and their facts are reused.
    pub(crate) fn with_facts(
        real: &[f64],
        real_facts: &Facts,
        synthetic: &[Vec<f64>],
        path_facts: Option<&[Facts]>,
        cfg: &FactsConfig,
    ) -> Result<Spread> {
        let len = real.len();
        let shortest = synthetic.iter().map(Vec::len).min().unwrap_or(0);
        let paths_shorter_than_real = shortest < len;
        let series_len = if paths_shorter_than_real {
            shortest
        } else {
            len
        };
        let windows: Vec<&[f64]> = synthetic
            .iter()
            .flat_map(|p| p.chunks_exact(series_len.max(1)))
            .collect();
        if windows.len() < 2 {
            return Err(Error::parameter(
                "synthetic paths",
                windows.len(),
                format!(
                    "the noise-aware scorecard needs at least 2 synthetic series of {series_len} returns"
                ),
            ));
        }
        let computed: Vec<Facts>;
        let facts: &[Facts] = match path_facts {
            Some(f) if synthetic.iter().all(|p| p.len() == series_len) => f,
            _ => {
                computed = windows
                    .par_iter()
                    .map(|w| Facts::of_returns(w, cfg))
                    .collect::<Result<_>>()?;
                &computed
            }
        };
        let rows: Vec<SpreadRow> = SPREAD_STATS
            .iter()
            .map(|stat| {
                let values: Vec<f64> = facts
                    .iter()
                    .zip(&windows)
                    .map(|(f, w)| (stat.value)(f, w))
                    .filter(|x| x.is_finite())
                    .collect();
                row(stat.name, (stat.value)(real_facts, real), values)
            })
            .collect();
        let matched = rows.iter().filter(|r| r.matches).count();
        let zs: Vec<f64> = rows
            .iter()
            .map(|r| r.z.abs())
            .filter(|z| z.is_finite())
            .collect();
        let mean_abs_z = if zs.is_empty() {
            f64::NAN
        } else {
            zs.iter().sum::<f64>() / zs.len() as f64
        };
        Ok(Spread {
            series_len,
            series: windows.len(),
            paths_shorter_than_real,
            rows,
            matched,
            mean_abs_z,
        })
    }
}

impl Spread {
    /// Whether this model beats `other` on the same real series: it
    /// matches at least as many statistics and has the smaller mean |z|.
    pub fn beats(&self, other: &Spread) -> bool {
        self.matched >= other.matched && self.mean_abs_z < other.mean_abs_z
    }

    /// The rows as a Markdown table: statistic, real value, the synthetic
    /// mean and 5–95 % range, the real value's percentile, p, z, and
    /// whether it matches (`validate`'s report and the model card).
    pub fn rows_markdown(&self) -> String {
        use crate::io::table_number as num;
        use std::fmt::Write as _;
        let mut s = String::from(
            "| statistic | real | synthetic mean | synthetic 5–95 % | percentile | p | z | matches |\n|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} – {} | {:.1} % | {:.3} | {} | {} |",
                r.statistic.replace('|', "\\|"),
                num(r.real),
                num(r.synthetic_mean),
                num(r.synthetic_p05),
                num(r.synthetic_p95),
                100.0 * r.percentile,
                r.p_value,
                num(r.z),
                if r.matches { "yes" } else { "**no**" }
            );
        }
        s
    }
}

/// The row of one statistic: `real` against the finite synthetic `values`.
fn row(name: &str, real: f64, mut values: Vec<f64>) -> SpreadRow {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let sd =
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0).max(1.0)).sqrt();
    let below = values.iter().filter(|&&x| x < real).count() as f64;
    let ties = values.iter().filter(|&&x| x == real).count() as f64;
    let above = n as f64 - below - ties;
    let (below, above) = (below + 0.5 * ties, above + 0.5 * ties);
    let ok = real.is_finite() && n > 0;
    let percentile = if ok { below / n as f64 } else { f64::NAN };
    let p_value = if ok {
        (2.0 * (below.min(above) + 1.0) / (n as f64 + 1.0)).min(1.0)
    } else {
        f64::NAN
    };
    let z = if ok && sd > 0.0 {
        (real - mean) / sd
    } else {
        f64::NAN
    };
    SpreadRow {
        statistic: name.to_string(),
        real,
        synthetic_mean: mean,
        synthetic_sd: sd,
        synthetic_p05: quantile_sorted(&values, 0.05),
        synthetic_p95: quantile_sorted(&values, 0.95),
        percentile,
        p_value,
        z,
        matches: p_value >= MATCH_LEVEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(matched: usize, mean_abs_z: f64) -> Spread {
        Spread {
            series_len: 100,
            series: 40,
            paths_shorter_than_real: false,
            rows: Vec::new(),
            matched,
            mean_abs_z,
        }
    }

    /// Issue 36's criterion: more or as many matches and a smaller mean |z|
    /// beat; a tie on both, fewer matches or a larger |z| do not.
    #[test]
    fn beats_needs_at_least_as_many_matches_and_a_smaller_mean_z() {
        assert!(scored(21, 0.5).beats(&scored(21, 0.6)));
        assert!(scored(21, 0.5).beats(&scored(19, 0.6)));
        assert!(!scored(20, 0.4).beats(&scored(21, 0.6)));
        assert!(!scored(21, 0.7).beats(&scored(20, 0.6)));
        assert!(!scored(21, 0.5).beats(&scored(21, 0.5)));
    }

    #[test]
    fn the_rank_p_value_is_uniform_under_the_null_and_small_in_the_tail() {
        // A value in the middle of 99 draws: percentile 0.5, p = 1.
        let values: Vec<f64> = (0..99).map(f64::from).collect();
        let r = row("x", 49.0, values.clone());
        assert_eq!(r.percentile, 0.5);
        assert_eq!(r.p_value, 1.0);
        assert!(r.matches);
        // Beyond every draw: p = 2/(N + 1) = 0.02, no match.
        let r = row("x", 1000.0, values.clone());
        assert_eq!(r.percentile, 1.0);
        assert!((r.p_value - 2.0 / 100.0).abs() < 1e-15);
        assert!(!r.matches);
        // At the 2nd smallest of 99: p = 2·(1 + 1)/100 = 0.04 < 0.05.
        let r = row("x", 0.5, values);
        assert!((r.p_value - 0.04).abs() < 1e-15);
        assert!(!r.matches);
    }

    #[test]
    fn z_and_quantiles_follow_the_textbook_formulas() {
        // Values 1..=5: mean 3, sample sd √2.5; 5 % quantile 1.2, 95 % 4.8.
        let r = row("x", 6.0, vec![5.0, 3.0, 1.0, 4.0, 2.0]);
        assert!((r.synthetic_mean - 3.0).abs() < 1e-15);
        assert!((r.synthetic_sd - 2.5f64.sqrt()).abs() < 1e-15);
        assert!((r.z - 3.0 / 2.5f64.sqrt()).abs() < 1e-15);
        assert!((r.synthetic_p05 - 1.2).abs() < 1e-12);
        assert!((r.synthetic_p95 - 4.8).abs() < 1e-12);
    }
}
