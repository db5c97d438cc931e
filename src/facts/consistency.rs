//! Cross-consistency of a synthetic market's option chains with its spot
//! paths, and of its implied-vol index with a real one (VIX).
//!
//! From each chain (one path, one date) the 30-day at-the-money implied vol
//! `IV30` is read off the chain: the call nearest the forward in each expiry,
//! total implied variance interpolated linearly in maturity to 21 trading
//! days (30 calendar days; flat vol outside the quoted expiries), the way
//! the VIX targets a constant 30-day horizon. Checks:
//!
//! * put–call parity against the path's own forward, `C − P = S e^{−qT} −
//!   K e^{−rT}` (largest error relative to spot);
//! * `IV30` tracks the generator's conditional vol `√variance`: their
//!   correlation across every chain of every path;
//! * a positive variance risk premium: mean `IV30²` above the mean variance
//!   realised over the next 21 trading days (as in real markets: Carr & Wu
//!   2009, "Variance risk premiums");
//! * the vol index's own facts beside the real VIX's: mean level, vol of
//!   its changes (annualised), correlation of its changes with the index's
//!   log return over the same interval (the leverage effect in volatility
//!   markets).

use crate::error::{Error, Result};
use crate::stats::{mean_var, pearson};
use serde::Serialize;

/// Trading days of the 30-calendar-day horizon.
pub const HORIZON_DAYS: f64 = 21.0;

/// One chain's at-the-money quotes: (maturity in years, implied vol) per
/// expiry, nearest the forward.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainAtm {
    /// (maturity, implied vol, |ln K/F|) of the best quote per expiry so far.
    slices: Vec<(f64, f64, f64)>,
}

impl ChainAtm {
    /// Offers a call quote; kept if nearer the forward than its expiry's.
    pub fn offer(&mut self, maturity: f64, implied_vol: f64, log_moneyness: f64) {
        if !implied_vol.is_finite() {
            return;
        }
        let m = log_moneyness.abs();
        match self
            .slices
            .iter_mut()
            .find(|s| (s.0 - maturity).abs() < 1e-12)
        {
            Some(s) if m < s.2 => *s = (maturity, implied_vol, m),
            Some(_) => {}
            None => self.slices.push((maturity, implied_vol, m)),
        }
    }

    /// The 30-day at-the-money implied vol (NaN without quotes).
    pub fn iv30(&self) -> f64 {
        let t = HORIZON_DAYS / crate::market::TRADING_DAYS_PER_YEAR;
        let mut s = self.slices.clone();
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        let Some(first) = s.first() else {
            return f64::NAN;
        };
        if t <= first.0 {
            return first.1;
        }
        for w in s.windows(2) {
            let ((t0, v0, _), (t1, v1, _)) = (w[0], w[1]);
            if t <= t1 {
                let (w0, w1) = (v0 * v0 * t0, v1 * v1 * t1);
                return ((w0 + (w1 - w0) * (t - t0) / (t1 - t0)) / t).sqrt();
            }
        }
        s.last().map_or(f64::NAN, |l| l.1)
    }
}

/// Level and dynamics of a vol index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VolIndexFacts {
    /// Mean level (annualised vol, 0.15 = 15 %).
    pub mean: f64,
    /// Standard deviation of its changes over the sampling interval,
    /// annualised (× √(252 / interval days)).
    pub vol_of_vol: f64,
    /// Correlation of its changes with the log return over the interval.
    pub corr_change_return: f64,
    /// Changes counted.
    pub changes: usize,
}

impl VolIndexFacts {
    /// From series of (index level, spot) sampled every `interval` trading
    /// days, one series per path.
    pub fn of(series: &[Vec<(f64, f64)>], interval: usize) -> Result<Self> {
        let levels: Vec<f64> = series.iter().flatten().map(|p| p.0).collect();
        let (mut dv, mut r) = (Vec::new(), Vec::new());
        for s in series {
            for w in s.windows(2) {
                dv.push(w[1].0 - w[0].0);
                r.push((w[1].1 / w[0].1).ln());
            }
        }
        if dv.len() < 10 || interval == 0 {
            return Err(Error::parameter(
                "options",
                dv.len(),
                "the vol-index facts need at least 10 changes of the 30-day implied vol",
            ));
        }
        Ok(VolIndexFacts {
            mean: mean_var(&levels).0,
            vol_of_vol: (mean_var(&dv).1 * crate::market::TRADING_DAYS_PER_YEAR / interval as f64)
                .sqrt(),
            corr_change_return: pearson(&dv, &r),
            changes: dv.len(),
        })
    }
}

/// The cross-consistency figures of a market.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consistency {
    /// Chains read.
    pub chains: usize,
    /// Call–put pairs checked for parity.
    pub parity_pairs: usize,
    /// Largest |C − P − (S e^{−qT} − K e^{−rT})| / S.
    pub parity_max_error: f64,
    /// Correlation of IV30 with the path's conditional vol √variance.
    pub iv30_conditional_vol_corr: f64,
    /// Mean IV30² (chains with 21 trading days of path after them).
    pub mean_implied_variance: f64,
    /// Mean variance realised over the next 21 trading days (annualised).
    pub mean_realised_variance: f64,
    /// The synthetic IV30 index's facts.
    pub synthetic_index: VolIndexFacts,
    /// The real index's facts over the same interval, when given.
    pub real_index: Option<VolIndexFacts>,
    /// Where the real index comes from.
    pub real_index_source: Option<String>,
    /// The arbitrage certifier run on every chain
    /// ([`crate::pricing::arbitrage::check_chain`]), filled by the reader
    /// of the quotes.
    pub arbitrage: Option<ArbitrageSummary>,
}

/// What the arbitrage certifier found on a market's chains.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArbitrageSummary {
    /// Relative tolerance (prices: this times a slice's largest strike).
    pub tolerance: f64,
    /// Chains certified (one per path and date).
    pub chains: usize,
    /// Options checked.
    pub options: usize,
    /// Violations found, by kind.
    pub violations: std::collections::BTreeMap<String, usize>,
    /// The first violations, described.
    pub examples: Vec<String>,
}

impl ArbitrageSummary {
    /// Total violations.
    pub fn total(&self) -> usize {
        self.violations.values().sum()
    }
}

/// Per path: (step, IV30) of each chain date, with the path's spots and
/// variances; the chain dates every `interval` steps.
pub struct PathChains<'a> {
    /// (step, IV30) in step order.
    pub iv30: Vec<(usize, f64)>,
    /// Spot at every step.
    pub spot: &'a [f64],
    /// Variance state at every step.
    pub variance: &'a [f64],
}

impl Consistency {
    /// Computes the figures from every path's chain dates (parity measured
    /// by the caller while reading the quotes).
    pub fn compute(
        paths: &[PathChains],
        interval: usize,
        parity: (usize, f64),
        real_index: Option<(VolIndexFacts, String)>,
    ) -> Result<Self> {
        let (mut iv, mut vol, mut implied, mut realised) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut series = Vec::with_capacity(paths.len());
        let h = HORIZON_DAYS as usize;
        let mut chains = 0;
        for p in paths {
            let mut s = Vec::new();
            for &(k, x) in &p.iv30 {
                chains += 1;
                if !x.is_finite() || k >= p.spot.len() {
                    continue;
                }
                iv.push(x);
                vol.push(p.variance[k].max(0.0).sqrt());
                s.push((x, p.spot[k]));
                if k + h < p.spot.len() {
                    implied.push(x * x);
                    let rv: f64 = (k..k + h)
                        .map(|j| (p.spot[j + 1] / p.spot[j]).ln().powi(2))
                        .sum();
                    realised.push(rv * crate::market::TRADING_DAYS_PER_YEAR / HORIZON_DAYS);
                }
            }
            series.push(s);
        }
        if implied.is_empty() {
            return Err(Error::parameter(
                "steps",
                paths.first().map_or(0, |p| p.spot.len()),
                "the variance risk premium needs chains with 21 trading days of path after them",
            ));
        }
        Ok(Consistency {
            chains,
            parity_pairs: parity.0,
            parity_max_error: parity.1,
            iv30_conditional_vol_corr: pearson(&iv, &vol),
            mean_implied_variance: mean_var(&implied).0,
            mean_realised_variance: mean_var(&realised).0,
            synthetic_index: VolIndexFacts::of(&series, interval)?,
            real_index_source: real_index.as_ref().map(|r| r.1.clone()),
            real_index: real_index.map(|r| r.0),
            arbitrage: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Total variance is interpolated linearly in maturity: slices at 10
    /// and 42 trading days with vols 0.2 and 0.3 give, at 21 days,
    /// √((0.04·10 + (0.09·42 − 0.04·10)·11/32)/21)/… on the 1/252 clock.
    #[test]
    fn iv30_interpolates_total_variance() {
        let mut c = ChainAtm::default();
        let (t0, t1) = (10.0 / 252.0, 42.0 / 252.0);
        c.offer(t1, 0.3, 0.0);
        c.offer(t0, 0.25, 0.05);
        c.offer(t0, 0.2, 0.01); // nearer the forward: replaces 0.25
        c.offer(t0, 0.9, 0.02); // farther: ignored
        let t = 21.0 / 252.0;
        let w = 0.04 * t0 + (0.09 * t1 - 0.04 * t0) * (t - t0) / (t1 - t0);
        assert!((c.iv30() - (w / t).sqrt()).abs() < 1e-15);
        let mut one = ChainAtm::default();
        one.offer(t1, 0.3, 0.0);
        assert_eq!(one.iv30(), 0.3);
        assert!(ChainAtm::default().iv30().is_nan());
    }

    #[test]
    fn vol_index_facts_of_a_known_series() {
        // Index up 0.01 when spot falls 1 %, down 0.01 when it rises 1 %.
        let s: Vec<(f64, f64)> = (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    (0.20, 100.0)
                } else {
                    (0.21, 99.0)
                }
            })
            .collect();
        let f = VolIndexFacts::of(&[s], 1).unwrap();
        assert!((f.mean - 0.205).abs() < 1e-12);
        assert!((f.corr_change_return + 1.0).abs() < 1e-9);
        // 39 changes, 20 of +0.01 and 19 of −0.01: population variance
        // 1e-4 − (0.01/39)², annualised by √252.
        let want = ((1e-4 - (0.01f64 / 39.0).powi(2)) * 252.0).sqrt();
        assert!((f.vol_of_vol - want).abs() < 1e-9, "{}", f.vol_of_vol);
    }
}
