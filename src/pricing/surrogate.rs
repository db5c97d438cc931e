//! The fast pricer of the daily generators' chains: a table of risk-neutral
//! terminal laws, fitted once per model by nested Monte Carlo.
//!
//! For a grid of variance states (knots) and maturities (trading days), the
//! table holds the law of `S_T / F_T` under the pricing measure
//! ([`super::risk_neutral`]) as `B` equally likely values: the means of `B`
//! consecutive blocks of the sorted, martingale-corrected nested Monte-Carlo
//! sample. A chain in variance state `v` at maturity `T` is priced under the
//! mixture of the (at most four) knot laws around `(ln v, T)` with bilinear
//! weights.
//!
//! Why a table of laws rather than fitted Heston or SSVI parameters:
//!
//! * **Arbitrage-free by construction.** Every price is the expectation of
//!   its payoff under one probability law with mean `F_T` (block means keep
//!   the mean; a mixture of such laws is one), so a slice has no butterfly,
//!   vertical-spread or parity violation. Across maturities the weights in
//!   `v` are the same, and between maturity knots prices move linearly in
//!   `T`, so calendar order holds wherever it holds at the knots (the
//!   certifier checks every written chain).
//! * **Accurate.** Short-dated smiles of these models are steeper than
//!   Heston can fit: on the shipped deep model a per-state Heston
//!   calibration to nested Monte Carlo missed by 2–15 vol points RMS in
//!   high-variance states (measured when this was designed), the table only
//!   by its interpolation and Monte-Carlo error, measured against nested
//!   Monte Carlo in the tests and the model card.
//! * **Fast.** A price is two binary searches per knot law over suffix sums.
//!
//! What the variance state cannot carry: GJR-GARCH's state is its variance,
//! so the table is exact up to interpolation. The deep model's state has ten
//! numbers; its knots pool nested paths started from states of the model's
//! own stationary distribution with that variance, so the table prices the
//! average law given the variance (the best a one-number state can do); the
//! spread around it is measured and stated.

use super::risk_neutral::RiskNeutral;
use crate::error::{Error, Result};
use crate::market::{PathChunk, TRADING_DAYS_PER_YEAR};
use crate::sim::{Driver, PathGenerator};
use serde::{Deserialize, Serialize};

/// Maturity knots (trading days) of the tables this build fits: dense at the
/// short end, where laws change fastest, to 18 months.
pub const DAY_KNOTS: [u32; 20] = [
    1, 2, 3, 5, 7, 10, 15, 21, 30, 42, 63, 84, 105, 126, 168, 210, 252, 294, 336, 378,
];

/// Values per law.
pub const BLOCKS: usize = 256;

/// Probability edges of the blocks: 238 equal blocks between the 2 % and
/// 98 % quantiles and 9 blocks in each tail halving in probability towards
/// the extremes (down to 2 %/256), so far out-of-the-money prices, which
/// live in the last fraction of a percent of the law, are resolved.
fn block_edges() -> Vec<f64> {
    let tail: Vec<f64> = (0..=8).map(|i| 0.02 * 0.5f64.powi(8 - i)).collect();
    let mut e = vec![0.0];
    e.extend(&tail);
    e.extend((1..238).map(|i| 0.02 + 0.96 * f64::from(i) / 238.0));
    e.extend(tail.iter().rev().map(|u| 1.0 - u));
    e.push(1.0);
    e
}

/// A fitted table. The law of `S_T/F_T` does not depend on the rate or the
/// dividend yield (they only move the forward), so one table serves every
/// run; it does depend on the variance premium λ it was fitted with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurrogateTable {
    /// λ of the pricing measure the laws are under.
    pub variance_premium: f64,
    /// Annualised real-world variance state (a path's `variance` column) of
    /// each knot, ascending.
    pub variances: Vec<f64>,
    /// Maturity knots in trading days, ascending.
    pub days: Vec<u32>,
    /// Probability of each block (common to all laws; sums to 1).
    pub weights: Vec<f64>,
    /// Law of knot (i, j) at `i·days.len() + j`: `BLOCKS` ascending values
    /// of `S_T/F_T` (block means) with mean 1 under `weights` (stored in
    /// single precision).
    #[serde(with = "single")]
    pub laws: Vec<Vec<f64>>,
    /// Nested paths per variance knot.
    pub paths: u64,
    /// Seed of the nested paths.
    pub seed: u64,
    /// Per law, suffix sums of w·x and of w (built at load, not stored).
    #[serde(skip)]
    suffix: Vec<(Vec<f64>, Vec<f64>)>,
    /// √ of each knot variance.
    #[serde(skip)]
    vols: Vec<f64>,
}

/// One variance knot to fit: the Q generators whose pooled paths define its
/// law (one per starting state; a GARCH knot has one).
pub struct Knot<G> {
    /// Starting states, as generators started there.
    pub generators: Vec<G>,
}

impl SurrogateTable {
    /// Fits the table by nested Monte Carlo: for each knot, `paths` inner
    /// paths split evenly among its generators (the same seeds at every
    /// knot, so the surface is smooth across states). `progress` is called
    /// after each knot.
    pub fn fit<G: PathGenerator>(
        knots: &[Knot<G>],
        measure: RiskNeutral,
        paths: u64,
        seed: u64,
        progress: &dyn Fn(usize),
    ) -> Result<Self> {
        let days = DAY_KNOTS.to_vec();
        let last = *days.last().unwrap_or(&1) as usize;
        let mut variances = Vec::with_capacity(knots.len());
        let mut laws = Vec::with_capacity(knots.len() * days.len());
        let mut weights = Vec::new();
        for (i, knot) in knots.iter().enumerate() {
            let n_gen = knot.generators.len().max(1) as u64;
            // At least 2 samples in the smallest block.
            let per = paths.div_ceil(n_gen).max(26_000 / n_gen + 1);
            let mut pooled: Vec<Vec<f64>> = vec![Vec::new(); days.len()];
            let mut log_var = 0.0;
            for (j, g) in knot.generators.iter().enumerate() {
                let mut s = [0.0];
                let mut v = [0.0];
                g.observe(&g.initial_state(), &mut s, &mut v);
                // Generators report the risk-neutral variance (λ × real-world).
                log_var += (v[0] / measure.variance_premium).ln();
                let s0 = s[0];
                let samples: Vec<Vec<f64>> = Driver::new(seed.wrapping_add(j as u64), per)
                    .collect(g, last, |c: &PathChunk| {
                        (0..c.paths())
                            .map(|p| {
                                days.iter()
                                    .map(|&d| c.spot(p, d as usize)[0] / s0)
                                    .collect()
                            })
                            .collect::<Vec<Vec<f64>>>()
                    })?
                    .into_iter()
                    .flatten()
                    .collect();
                for (m, pool) in pooled.iter_mut().enumerate() {
                    // Each state's sample is martingale-corrected on its own
                    // (its mean ratio to the forward is 1).
                    let mean = samples.iter().map(|x| x[m]).sum::<f64>() / samples.len() as f64;
                    pool.extend(samples.iter().map(|x| x[m] / mean));
                }
            }
            if knot.generators.is_empty() {
                return Err(Error::Internal("surrogate knot without a state".into()));
            }
            variances.push((log_var / knot.generators.len() as f64).exp());
            for pool in &mut pooled {
                let (w, law) = block_means(pool);
                weights = w;
                laws.push(law);
            }
            progress(i + 1);
        }
        if variances
            .windows(2)
            .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
        {
            return Err(Error::Internal(format!(
                "surrogate knots must have increasing variance: {variances:?}"
            )));
        }
        Ok(SurrogateTable {
            variance_premium: measure.variance_premium,
            variances,
            days,
            weights,
            laws,
            paths,
            seed,
            suffix: Vec::new(),
            vols: Vec::new(),
        }
        .indexed())
    }

    /// Builds the suffix sums (after deserialising).
    pub fn indexed(mut self) -> Self {
        self.vols = self.variances.iter().map(|v| v.sqrt()).collect();
        let w = &self.weights;
        self.suffix = self
            .laws
            .iter()
            .map(|law| {
                let mut sx = vec![0.0; law.len() + 1];
                let mut sw = vec![0.0; law.len() + 1];
                for i in (0..law.len()).rev() {
                    sx[i] = sx[i + 1] + w[i] * law[i];
                    sw[i] = sw[i + 1] + w[i];
                }
                (sx, sw)
            })
            .collect();
        self
    }

    /// Checks a deserialised table (knots ascending, laws of `BLOCKS`
    /// ascending finite positive values), restores each law's mean to 1
    /// after single-precision storage, and builds the suffix sums.
    pub fn checked(mut self) -> std::result::Result<Self, String> {
        if self.weights.len() != BLOCKS
            || self.weights.iter().any(|w| !(w.is_finite() && *w > 0.0))
            || (self.weights.iter().sum::<f64>() - 1.0).abs() > 1e-9
        {
            return Err(format!(
                "weights must be {BLOCKS} positive probabilities summing to 1"
            ));
        }
        for law in &mut self.laws {
            let mean = law
                .iter()
                .zip(&self.weights)
                .map(|(x, w)| x * w)
                .sum::<f64>();
            if mean.is_finite() && mean > 0.0 {
                for x in law.iter_mut() {
                    *x /= mean;
                }
            }
        }
        self.validate()?;
        Ok(self.indexed())
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !(0.25..=4.0).contains(&self.variance_premium) {
            return Err("variance_premium must lie in [0.25, 4]".into());
        }
        if self.variances.len() < 2
            || self
                .variances
                .windows(2)
                .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
            || self.variances.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err("variance knots must be at least two, positive and increasing".into());
        }
        if self.days.is_empty() || self.days[0] == 0 || self.days.windows(2).any(|w| w[0] >= w[1]) {
            return Err("maturity knots must be positive and increasing".into());
        }
        if self.laws.len() != self.variances.len() * self.days.len() {
            return Err("one law per (variance, maturity) knot is needed".into());
        }
        for law in &self.laws {
            let mean = law
                .iter()
                .zip(&self.weights)
                .map(|(x, w)| x * w)
                .sum::<f64>();
            if law.len() != BLOCKS
                || law.windows(2).any(|w| w[0] > w[1])
                || law.iter().any(|x| !(x.is_finite() && *x > 0.0))
                || (mean - 1.0).abs() > 1e-9
            {
                return Err(format!(
                    "each law must hold {BLOCKS} ascending positive values of mean 1"
                ));
            }
        }
        Ok(())
    }

    /// Longest maturity the table prices, in years.
    pub fn max_maturity(&self) -> f64 {
        f64::from(*self.days.last().unwrap_or(&0)) / TRADING_DAYS_PER_YEAR
    }

    /// The knot laws and weights for annualised variance state `v` and
    /// maturity `t` years (states outside the knots use the end knot).
    fn weights(&self, v: f64, t: f64) -> [(usize, f64); 4] {
        // Weights linear in volatility: at-the-money prices are nearly
        // linear in σ (≈ 0.4·σ√T), so the mixture's error between knots is
        // second order (weights linear in ln v overprice by the convexity
        // of e^{ln v / 2}: measured +0.1 to +0.4 vol points).
        let (i, wi) = bracket(&self.vols, v.max(0.0).sqrt());
        let d: Vec<f64> = self.days.iter().map(|&d| f64::from(d)).collect();
        let (j, wj) = bracket(&d, t * TRADING_DAYS_PER_YEAR);
        let n = self.days.len();
        [
            (i * n + j, (1.0 - wi) * (1.0 - wj)),
            (i * n + j + 1, (1.0 - wi) * wj),
            ((i + 1) * n + j, wi * (1.0 - wj)),
            ((i + 1) * n + j + 1, wi * wj),
        ]
    }

    /// Undiscounted call prices per unit forward, `E[(S_T/F − k)^+]`, for
    /// strikes `k` in units of the forward, at variance state `v` and
    /// maturity `t` (years, at most [`Self::max_maturity`]).
    pub fn forward_calls(&self, v: f64, t: f64, k: &[f64]) -> Vec<f64> {
        let w = self.weights(v, t);
        k.iter()
            .map(|&k| {
                w.iter()
                    .filter(|(_, w)| *w > 0.0)
                    .map(|&(idx, w)| {
                        let first = self.laws[idx].partition_point(|x| *x <= k);
                        let (sx, sw) = &self.suffix[idx];
                        w * (sx[first] - k * sw[first])
                    })
                    .sum()
            })
            .collect()
    }
}

/// Quantile levels of the stationary variance distribution where the knots
/// sit (outside them, chains use the end knot's law).
pub const KNOT_LEVELS: [f64; 21] = [
    0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9,
    0.94, 0.97, 0.985, 0.995,
];

/// States along real-world paths of `g` in its stationary regime: 64 paths
/// of ten years, the first year dropped, one state every 5 days, with each
/// state's annualised variance, sorted by variance.
pub fn stationary_states<G: PathGenerator>(g: &G, seed: u64) -> Vec<(f64, G::State)>
where
    G::State: Clone,
{
    let mut out = Vec::new();
    let (mut s, mut v) = ([0.0], [0.0]);
    for p in 0..64 {
        let mut rng = crate::rng::path_rng(seed, p);
        let mut state = g.initial_state();
        for day in 1..=2520 {
            g.step(&mut state, &mut rng);
            if day > 252 && day % 5 == 0 {
                g.observe(&state, &mut s, &mut v);
                out.push((v[0], state.clone()));
            }
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// For each of [`KNOT_LEVELS`], the `per` states of `sorted` nearest in
/// rank to that quantile.
pub fn knot_states<S: Clone>(sorted: &[(f64, S)], per: usize) -> Vec<Vec<(f64, S)>> {
    let n = sorted.len();
    KNOT_LEVELS
        .iter()
        .map(|q| {
            let centre = (q * n as f64) as usize;
            let lo = centre.saturating_sub(per / 2).min(n.saturating_sub(per));
            sorted[lo..(lo + per).min(n)].to_vec()
        })
        .collect()
}

/// Laws stored as single precision (7 significant digits are far below the
/// Monte-Carlo error) to halve the file.
mod single {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(laws: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<Vec<f32>> = laws
            .iter()
            .map(|l| l.iter().map(|x| *x as f32).collect())
            .collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        let v: Vec<Vec<f32>> = Vec::deserialize(d)?;
        Ok(v.into_iter()
            .map(|l| l.into_iter().map(f64::from).collect())
            .collect())
    }
}

/// (i, w): `x` lies between `knots[i]` and `knots[i + 1]` at fraction `w`
/// (clamped to the ends).
fn bracket(knots: &[f64], x: f64) -> (usize, f64) {
    let n = knots.len();
    if n < 2 || x <= knots[0] {
        return (0, 0.0);
    }
    if x >= knots[n - 1] {
        return (n - 2, 1.0);
    }
    let i = knots.partition_point(|k| *k <= x) - 1;
    (i, (x - knots[i]) / (knots[i + 1] - knots[i]))
}

/// The block probabilities and block means of the sorted sample (blocks at
/// [`block_edges`]), the means rescaled so the law has mean exactly 1.
fn block_means(sample: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    sample.sort_by(f64::total_cmp);
    let n = sample.len();
    let cuts: Vec<usize> = block_edges()
        .iter()
        .map(|u| ((u * n as f64).round() as usize).min(n))
        .collect();
    let (weights, mut means): (Vec<f64>, Vec<f64>) = cuts
        .windows(2)
        .map(|c| {
            let part = &sample[c[0]..c[1]];
            (
                part.len() as f64 / n as f64,
                part.iter().sum::<f64>() / part.len().max(1) as f64,
            )
        })
        .unzip();
    let mean: f64 = weights.iter().zip(&means).map(|(w, x)| w * x).sum();
    for x in &mut means {
        *x /= mean;
    }
    (weights, means)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_weights_interpolate_and_clamp() {
        let k = [1.0, 2.0, 4.0];
        assert_eq!(bracket(&k, 0.5), (0, 0.0));
        assert_eq!(bracket(&k, 3.0), (1, 0.5));
        assert_eq!(bracket(&k, 9.0), (1, 1.0));
    }

    #[test]
    fn block_means_keep_the_mean() {
        let mut s: Vec<f64> = (1..=30_000)
            .rev()
            .map(|i| f64::from(i) / 15_000.5)
            .collect();
        let (w, b) = block_means(&mut s);
        assert_eq!(block_edges().len(), BLOCKS + 1);
        assert_eq!(b.len(), BLOCKS);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w.iter().all(|w| *w > 0.0));
        let mean: f64 = w.iter().zip(&b).map(|(w, x)| w * x).sum();
        assert!((mean - 1.0).abs() < 1e-12);
        assert!(b.windows(2).all(|p| p[0] < p[1]));
    }
}
