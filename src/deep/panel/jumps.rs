//! Idiosyncratic jumps of the stocks: a compound Poisson component in each
//! residual, for the single-day crashes (an earnings warning, a failed
//! drug, a scandal) that a continuous volatility model does not make.
//!
//! Why: the residual nets' Student-t mixtures are fitted by likelihood on
//! every day, where a −52 % day (AAPL, 2000-09-29) is one of 6,000; their
//! tails cannot both fit the ordinary days and make such days at the rate
//! history has them (the first market model had AAPL's, PG's, LLY's and
//! MRK's worst real days outside the range of 20 synthetic histories). The
//! classical answer is a jump-diffusion (Merton, "Option pricing when
//! underlying stock returns are discontinuous", J. Financial Economics 3,
//! 1976): a continuous part plus rare jumps. Here the continuous part is
//! the deep residual net, trained on the residual with its jump days taken
//! out, and the jumps are:
//!
//! * **Detection.** A day is a jump when its residual exceeds
//!   [`THRESHOLD`] times the residual's local standard deviation: a causal
//!   exponentially weighted estimate (decay [`EWMA_DECAY`], RiskMetrics'
//!   daily value, J.P. Morgan/Reuters 1996) that jump days do not update,
//!   held above [`FLOOR`] times the residual's standard deviation (a
//!   tick-quantised stretch of zero returns would otherwise make every
//!   tick a jump). Only the training and validation days are searched.
//! * **Rate.** Each stock's rate is the posterior mean of a Poisson rate
//!   under a gamma prior of one pseudo-jump at the panel's pooled rate:
//!   `(n_i + 1) / (T + 1/λ̄)`. A stock with no jump in its history keeps
//!   a small rate, a stock with many its own.
//! * **Size.** In units of the stock's residual standard deviation, pooled
//!   over the stocks (a single stock has a handful of jumps): a fall with
//!   probability `p_down`, and the size's logarithm normal, fitted by
//!   maximum likelihood separately for falls and rises (pooled over both
//!   when one side has fewer than [`MIN_SIDE`] jumps).
//!
//! A jump moves the price only: the net's recursion does not see it (it
//! was trained without them), so a jump is a one-day event, not a change of
//! the volatility state.

use crate::error::{Error, Location, Result};
use crate::rng::PathRng;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Detection threshold, in local standard deviations of the residual.
pub const THRESHOLD: f64 = 8.0;

/// Decay of the local variance (RiskMetrics' daily λ).
pub const EWMA_DECAY: f64 = 0.94;

/// Floor of the local standard deviation, as a fraction of the residual's
/// standard deviation over the searched days.
pub const FLOOR: f64 = 0.25;

/// Fewest jumps of one sign for a law of its own.
pub const MIN_SIDE: usize = 5;

/// Fewest jumps in the whole panel for a jump component at all.
pub const MIN_JUMPS: usize = 3;

/// The jump component in `panel.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JumpLaw {
    /// Detection threshold used (local standard deviations).
    pub threshold: f64,
    /// Per stock, the probability of a jump on a day.
    pub rates: Vec<f64>,
    /// Per stock, the unit of jump sizes: the standard deviation of its
    /// residual log return over the training and validation days.
    pub scales: Vec<f64>,
    /// Probability that a jump is a fall.
    pub p_down: f64,
    /// Mean and standard deviation of the logarithm of a fall's size (in
    /// units of `scales`).
    pub down: [f64; 2],
    /// Same for a rise.
    pub up: [f64; 2],
}

/// The jump days found in one stock's residual.
#[derive(Debug, Clone, Serialize)]
pub struct JumpDays {
    /// Day indices (into the log returns).
    pub days: Vec<usize>,
    /// The residual log return of each.
    pub sizes: Vec<f64>,
}

/// The days of `e` (the searched days, whose variance is `var`) whose
/// residual exceeds [`THRESHOLD`] local standard deviations (see the
/// module's text).
fn detect(e: &[f64], var: f64) -> JumpDays {
    let floor = (FLOOR * FLOOR * var).max(f64::MIN_POSITIVE);
    let start = &e[..e.len().min(63)];
    let mut v = crate::stats::mean_var(start).1.max(floor);
    let mut out = JumpDays {
        days: Vec::new(),
        sizes: Vec::new(),
    };
    for (t, &x) in e.iter().enumerate() {
        if x.abs() > THRESHOLD * v.sqrt() {
            out.days.push(t);
            out.sizes.push(x);
            continue;
        }
        v = (EWMA_DECAY * v + (1.0 - EWMA_DECAY) * x * x).max(floor);
    }
    out
}

/// `e` with its jump days (searched over all of it, as [`JumpLaw::fit`]
/// searches the training days) set to 0: what a residual net sees.
pub(crate) fn dejumped(e: &[f64]) -> Vec<f64> {
    let found = detect(e, crate::stats::mean_var(e).1);
    let mut out = e.to_vec();
    for t in found.days {
        out[t] = 0.0;
    }
    out
}

/// Maximum-likelihood normal law of `x`: (mean, population sd).
fn normal_fit(x: &[f64]) -> [f64; 2] {
    let (m, v) = crate::stats::mean_var(x);
    [m, v.sqrt()]
}

impl JumpLaw {
    /// Fits the law from each stock's residual `e[i]` (daily log returns),
    /// searching days `..to`. `None` when the panel has fewer than
    /// [`MIN_JUMPS`] jumps.
    pub fn fit(e: &[Vec<f64>], to: usize) -> (Option<JumpLaw>, Vec<JumpDays>) {
        let mut found = Vec::with_capacity(e.len());
        let mut scales = Vec::with_capacity(e.len());
        for x in e {
            let x = &x[..to.min(x.len())];
            let var = crate::stats::mean_var(x).1;
            found.push(detect(x, var));
            scales.push(var.sqrt());
        }
        let n: usize = found.iter().map(|f| f.days.len()).sum();
        if n < MIN_JUMPS || e.is_empty() || to == 0 {
            return (None, found);
        }
        let days = to as f64;
        let pooled = n as f64 / (days * e.len() as f64);
        let rates = found
            .iter()
            .map(|f| (f.days.len() as f64 + 1.0) / (days + 1.0 / pooled))
            .collect();
        let (mut down, mut up) = (Vec::new(), Vec::new());
        for (f, s) in found.iter().zip(&scales) {
            for x in &f.sizes {
                let u = (x.abs() / s).ln();
                if *x < 0.0 {
                    down.push(u);
                } else {
                    up.push(u);
                }
            }
        }
        let both: Vec<f64> = down.iter().chain(&up).copied().collect();
        let side = |x: &[f64]| {
            if x.len() >= MIN_SIDE {
                normal_fit(x)
            } else {
                normal_fit(&both)
            }
        };
        let law = JumpLaw {
            threshold: THRESHOLD,
            rates,
            scales,
            p_down: down.len() as f64 / n as f64,
            down: side(&down),
            up: side(&up),
        };
        (Some(law), found)
    }

    /// Checks a law read from `file` for `stocks` stocks.
    pub fn check(&self, stocks: usize, file: &std::path::Path) -> Result<()> {
        let bad = |msg: String| Error::input(Location::file(file).field("jumps"), msg);
        if self.rates.len() != stocks || self.scales.len() != stocks {
            return Err(bad(format!(
                "need {stocks} rates and {stocks} scales (one per stock)"
            )));
        }
        if self.rates.iter().any(|r| !(0.0..1.0).contains(r)) {
            return Err(bad("every rate must be a probability in [0, 1)".into()));
        }
        if self.scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(bad("every scale must be positive and finite".into()));
        }
        if !(0.0..=1.0).contains(&self.p_down) {
            return Err(bad(format!("p_down {} is not a probability", self.p_down)));
        }
        // ln size within [-20, 10] and its sd within [0, 3]: a size beyond
        // e^10 standard deviations of a stock is no jump but an error.
        for [m, s] in [self.down, self.up] {
            if !((-20.0..=10.0).contains(&m) && (0.0..=3.0).contains(&s)) {
                return Err(bad(format!(
                    "a size law needs a log mean in [-20, 10] and a log sd in [0, 3]; found [{m}, {s}]"
                )));
            }
        }
        Ok(())
    }

    /// `E[J²]` of stock `j`'s jump, given one.
    fn second_moment(&self, j: usize) -> f64 {
        let m2 = |[m, s]: [f64; 2]| (2.0 * m + 2.0 * s * s).exp();
        self.scales[j]
            * self.scales[j]
            * (self.p_down * m2(self.down) + (1.0 - self.p_down) * m2(self.up))
    }

    /// Daily variance the jumps add to stock `j`'s return (`λ E[J²]`).
    pub fn variance(&self, j: usize) -> f64 {
        self.rates[j] * self.second_moment(j)
    }

    /// Stock `j`'s jump of the day (0 on most days): one uniform draw, and
    /// two more on a jump day.
    #[inline]
    pub fn draw(&self, j: usize, rng: &mut PathRng) -> f64 {
        let u: f64 = rng.random();
        if u >= self.rates[j] {
            return 0.0;
        }
        let fall = rng.random::<f64>() < self.p_down;
        let [m, s] = if fall { self.down } else { self.up };
        let n: f64 = rng.sample(StandardNormal);
        let size = self.scales[j] * (m + s * n).exp();
        if fall {
            -size
        } else {
            size
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A residual of alternating ±1 % days with one −30 % day: that day is
    /// found (30 local sd), nothing else is, and the day's variance does not
    /// enter the local estimate (a second −10 % day right after, 10 local
    /// sd, is found too).
    #[test]
    fn detects_the_crash_days_only() {
        let mut e: Vec<f64> = (0..500usize)
            .map(|t| if t.is_multiple_of(2) { 0.01 } else { -0.01 })
            .collect();
        e[300] = -0.30;
        e[301] = -0.10;
        let f = detect(&e, crate::stats::mean_var(&e).1);
        assert_eq!(f.days, [300, 301]);
        assert_eq!(f.sizes, [-0.30, -0.10]);
        // Days after `to` are not searched.
        assert!(JumpLaw::fit(&[e], 300).1[0].days.is_empty());
    }

    /// The rate is the gamma-Poisson posterior mean: with 2 and 0 jumps in
    /// 500 days the pooled rate is 2/1000 and the rates are 3/1000 and
    /// 1/1000; the jump moments follow the log-normal law.
    #[test]
    fn rates_shrink_to_the_pooled_rate() {
        let wiggle = |t: usize| if t.is_multiple_of(2) { 0.01 } else { -0.01 };
        let mut a: Vec<f64> = (0..500).map(wiggle).collect();
        let b: Vec<f64> = (0..500).map(wiggle).collect();
        a[200] = -0.3;
        a[400] = 0.2;
        let mut c = b.clone();
        c[100] = -0.25;
        let (law, found) = JumpLaw::fit(&[a, b, c], 500);
        let law = law.unwrap();
        assert_eq!(found[0].days, [200, 400]);
        let pooled = 3.0 / 1500.0;
        assert!((law.rates[0] - 3.0 / (500.0 + 1.0 / pooled)).abs() < 1e-15);
        assert!((law.rates[1] - 1.0 / (500.0 + 1.0 / pooled)).abs() < 1e-15);
        assert!((law.p_down - 2.0 / 3.0).abs() < 1e-15);
        // Fewer than MIN_SIDE on each side: one pooled law for both.
        assert_eq!(law.down, law.up);
        law.check(3, std::path::Path::new("panel.json")).unwrap();
        let mut broken = law.clone();
        broken.rates[1] = 1.5;
        assert!(broken.check(3, std::path::Path::new("panel.json")).is_err());
    }

    /// A draw's mean square over many days is `λ E[J²]` (4 standard errors).
    #[test]
    fn draws_have_the_law_s_second_moment() {
        let law = JumpLaw {
            threshold: THRESHOLD,
            rates: vec![0.05],
            scales: vec![0.02],
            p_down: 0.7,
            down: [2.0, 0.5],
            up: [1.5, 0.3],
        };
        let mut rng = crate::rng::path_rng(7, 0);
        let n = 200_000;
        let x: Vec<f64> = (0..n).map(|_| law.draw(0, &mut rng).powi(2)).collect();
        let (m, v) = crate::stats::mean_var(&x);
        let se = (v / n as f64).sqrt();
        assert!(
            (m - law.variance(0)).abs() < 4.0 * se,
            "{m} {}",
            law.variance(0)
        );
    }
}
