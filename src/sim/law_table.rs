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
//!   `T`, so calendar order holds wherever it holds at the knots; it is
//!   made to hold there by raising each knot law's call function to the
//!   shorter knot's where sampling error left it below (an upper envelope,
//!   itself the call function of a mean-1 law).
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

use super::risk_neutral::{terminal_ratios, RiskNeutral};
use crate::error::{Error, Result};
use crate::market::TRADING_DAYS_PER_YEAR;
use crate::sim::PathGenerator;

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
pub(crate) fn block_edges() -> Vec<f64> {
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
#[derive(Debug, Clone, PartialEq)]
pub struct SurrogateTable {
    /// λ of the pricing measure the laws are under.
    variance_premium: f64,
    /// Annualised real-world variance state (a path's `variance` column) of
    /// each knot, ascending.
    variances: Vec<f64>,
    /// √ of each knot variance (the interpolation coordinate).
    vols: Vec<f64>,
    /// Maturity knots in trading days, ascending.
    days: Vec<u32>,
    /// Law of knot (i, j) at `i·days.len() + j`: ascending values of
    /// `S_T/F_T` (block means, then the calendar repair) with mean 1.
    laws: Vec<Law>,
    /// Per law, suffix sums of p·x and of p (what a price needs).
    suffix: Vec<(Vec<f64>, Vec<f64>)>,
    /// Nested paths per variance knot.
    paths: u64,
}

/// run.json's record of a table: how it was fitted, not the laws
/// themselves (refitting with the run's seed reproduces them).
impl serde::Serialize for SurrogateTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SurrogateTable", 3)?;
        st.serialize_field("variance_premium", &self.variance_premium)?;
        st.serialize_field("nested_paths", &self.paths)?;
        st.serialize_field("variance_knots", &self.variances)?;
        st.end()
    }
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
        let day_steps: Vec<usize> = days.iter().map(|&d| d as usize).collect();
        let mut variances = Vec::with_capacity(knots.len());
        let mut laws: Vec<Law> = Vec::with_capacity(knots.len() * days.len());
        for (i, knot) in knots.iter().enumerate() {
            if knot.generators.is_empty() {
                return Err(Error::Internal("surrogate knot without a state".into()));
            }
            let n_gen = knot.generators.len() as u64;
            // At least 2 samples in the smallest block.
            let per = paths.div_ceil(n_gen).max(26_000 / n_gen + 1);
            let mut pooled: Vec<Vec<f64>> = vec![Vec::new(); days.len()];
            let mut log_var = 0.0;
            for (j, g) in knot.generators.iter().enumerate() {
                let (mut s, mut v) = ([0.0], [0.0]);
                g.observe(&g.initial_state(), &mut s, &mut v);
                // Generators report the risk-neutral variance (λ × real-world).
                log_var += (v[0] / measure.variance_premium).ln();
                let samples = terminal_ratios(g, seed.wrapping_add(j as u64), per, &day_steps)?;
                for (m, pool) in pooled.iter_mut().enumerate() {
                    // Each state's sample is martingale-corrected on its own
                    // (its mean ratio to the forward is 1).
                    let mean = samples.iter().map(|x| x[m]).sum::<f64>() / samples.len() as f64;
                    pool.extend(samples.iter().map(|x| x[m] / mean));
                }
            }
            variances.push((log_var / knot.generators.len() as f64).exp());
            for (j, pool) in pooled.iter_mut().enumerate() {
                let (p, x) = block_means(pool);
                let law = Law { x, p };
                // Calendar repair: each maturity's call function is raised
                // to the previous (already repaired) one's where Monte-Carlo
                // and blocking error put it below, so the laws of a variance
                // knot are in convex order and no calendar spread is
                // negative (see `Law::upper_envelope`).
                laws.push(match j {
                    0 => law,
                    _ => law.upper_envelope(&laws[laws.len() - 1]),
                });
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
        let suffix = laws
            .iter()
            .map(|law| {
                let n = law.x.len();
                let mut sx = vec![0.0; n + 1];
                let mut sw = vec![0.0; n + 1];
                for i in (0..n).rev() {
                    sx[i] = sx[i + 1] + law.p[i] * law.x[i];
                    sw[i] = sw[i + 1] + law.p[i];
                }
                (sx, sw)
            })
            .collect();
        Ok(SurrogateTable {
            variance_premium: measure.variance_premium,
            vols: variances.iter().map(|v| v.sqrt()).collect(),
            variances,
            days,
            laws,
            suffix,
            paths,
        })
    }

    /// λ of the pricing measure the laws are under.
    pub fn variance_premium(&self) -> f64 {
        self.variance_premium
    }

    /// Annualised real-world variance of each knot, ascending.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    /// Nested paths per variance knot.
    pub fn paths(&self) -> u64 {
        self.paths
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
        let (j, wj) = bracket(&self.days, t * TRADING_DAYS_PER_YEAR);
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
                        let first = self.laws[idx].x.partition_point(|x| *x <= k);
                        let (sx, sw) = &self.suffix[idx];
                        w * (sx[first] - k * sw[first])
                    })
                    .sum()
            })
            .collect()
    }
}

/// A discrete law of `S_T/F_T`: ascending values and their probabilities
/// (mean 1).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Law {
    x: Vec<f64>,
    p: Vec<f64>,
}

impl Law {
    /// `E[(X − k)^+]`.
    fn call(&self, k: f64) -> f64 {
        self.x
            .iter()
            .zip(&self.p)
            .map(|(x, p)| p * (x - k).max(0.0))
            .sum()
    }

    /// The law whose call function is the upper envelope `max(c_self,
    /// c_shorter)`. The maximum of two call functions of mean-1 laws is
    /// convex, equals `1 − k` left of both supports and 0 right of them, so
    /// it is the call function of a mean-1 law (Breeden–Litzenberger: the
    /// law's atoms are the envelope's kinks, their probabilities the slope
    /// changes), and that law dominates `shorter` in convex order: calendar
    /// spreads against it are never negative. Kinks are the atoms of
    /// either law and the points where the two functions cross.
    fn upper_envelope(&self, shorter: &Law) -> Law {
        let mut points: Vec<f64> = self.x.iter().chain(&shorter.x).copied().collect();
        points.sort_by(f64::total_cmp);
        points.dedup();
        let gap = |k: f64| self.call(k) - shorter.call(k);
        let gaps: Vec<f64> = points.iter().map(|&k| gap(k)).collect();
        if !gaps.iter().any(|g| *g < 0.0) {
            return self.clone();
        }
        let mut knots = Vec::with_capacity(points.len() + 8);
        for (i, &k) in points.iter().enumerate() {
            knots.push(k);
            if let (Some(&next), Some(&g1)) = (points.get(i + 1), gaps.get(i + 1)) {
                // Both functions are linear between neighbouring points:
                // a sign change of the gap is one crossing.
                let g0 = gaps[i];
                if g0 * g1 < 0.0 {
                    knots.push(k + (next - k) * g0 / (g0 - g1));
                }
            }
        }
        // The envelope's slope on each interval between kinks is the active
        // law's −P(X > k) (exact; differencing values would divide rounding
        // errors by the tiny gaps near crossings), −1 left of the first kink
        // and 0 right of the last; each kink's mass is the slope change.
        let tail = |law: &Law, k: f64| -> f64 {
            law.x
                .iter()
                .zip(&law.p)
                .filter(|(x, _)| **x > k)
                .map(|(_, p)| p)
                .sum()
        };
        let mut slopes = vec![-1.0];
        slopes.extend(knots.windows(2).map(|k| {
            let mid = 0.5 * (k[0] + k[1]);
            if gap(mid) >= 0.0 {
                -tail(self, mid)
            } else {
                -tail(shorter, mid)
            }
        }));
        slopes.push(0.0);
        let (mut x, mut p) = (Vec::new(), Vec::new());
        for (i, &k) in knots.iter().enumerate() {
            let mass = slopes[i + 1] - slopes[i];
            if mass > 0.0 {
                x.push(k);
                p.push(mass);
            }
        }
        let total: f64 = p.iter().sum();
        for q in &mut p {
            *q /= total;
        }
        Law { x, p }
    }
}

/// Quantile levels of the stationary variance distribution where the knots
/// sit (outside them, chains use the end knot's law; GJR-GARCH adds knots
/// above the top one, [`crate::sim::Garch::surrogate_knots`]).
pub const KNOT_LEVELS: [f64; 21] = [
    0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9,
    0.94, 0.97, 0.985, 0.995,
];

/// The knots of a model's table: states along real-world paths of
/// `real_world` in its stationary regime (64 paths of ten years, the first
/// year dropped, one state every 5 days), sorted by variance; at each of
/// [`KNOT_LEVELS`], the `per` states nearest in rank to that quantile, each
/// turned into a risk-neutral generator started there by `start(variance,
/// state)`.
pub fn knots<G: PathGenerator>(
    real_world: &G,
    seed: u64,
    per: usize,
    start: impl Fn(f64, &G::State) -> G,
) -> Vec<Knot<G>>
where
    G::State: Clone,
{
    let mut sorted = Vec::new();
    let (mut s, mut v) = ([0.0], [0.0]);
    for p in 0..64 {
        let mut rng = crate::rng::path_rng(seed, p);
        let mut state = real_world.initial_state();
        for day in 1..=2520 {
            real_world.step(&mut state, &mut rng);
            if day > 252 && day % 5 == 0 {
                real_world.observe(&state, &mut s, &mut v);
                sorted.push((v[0], state.clone()));
            }
        }
    }
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len();
    KNOT_LEVELS
        .iter()
        .map(|q| {
            let centre = (q * n as f64) as usize;
            let lo = centre.saturating_sub(per / 2).min(n.saturating_sub(per));
            Knot {
                generators: sorted[lo..(lo + per).min(n)]
                    .iter()
                    .map(|(v, state)| start(*v, state))
                    .collect(),
            }
        })
        .collect()
}

/// (i, w): `x` lies between `knots[i]` and `knots[i + 1]` at fraction `w`
/// (clamped to the ends).
pub(crate) fn bracket<T: Copy + Into<f64>>(knots: &[T], x: f64) -> (usize, f64) {
    let n = knots.len();
    let at = |i: usize| -> f64 { knots[i].into() };
    if n < 2 || x <= at(0) {
        return (0, 0.0);
    }
    if x >= at(n - 1) {
        return (n - 2, 1.0);
    }
    let i = knots.partition_point(|k| (*k).into() <= x) - 1;
    (i, (x - at(i)) / (at(i + 1) - at(i)))
}

/// The block probabilities and block means of the sorted sample (blocks at
/// [`block_edges`]), the means rescaled so the law has mean exactly 1.
pub(crate) fn block_means(sample: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    let (weights, mut means) = block_averages(sample);
    let mean: f64 = weights.iter().zip(&means).map(|(w, x)| w * x).sum();
    for x in &mut means {
        *x /= mean;
    }
    (weights, means)
}

/// Sorts `sample` and returns the probabilities and plain averages of its
/// blocks at [`block_edges`].
pub(crate) fn block_averages(sample: &mut [f64]) -> (Vec<f64>, Vec<f64>) {
    sample.sort_by(f64::total_cmp);
    let n = sample.len();
    let cuts: Vec<usize> = block_edges()
        .iter()
        .map(|u| ((u * n as f64).round() as usize).min(n))
        .collect();
    cuts.windows(2)
        .map(|c| {
            let part = &sample[c[0]..c[1]];
            (
                part.len() as f64 / n as f64,
                part.iter().sum::<f64>() / part.len().max(1) as f64,
            )
        })
        .unzip()
}

/// GJR-GARCH-t chains: each expiry's calls from the laws at the path's
/// conditional variance, puts by parity.
impl crate::pricing::ChainPricer for SurrogateTable {
    fn chain_prices(
        &self,
        market: &crate::market::MarketState,
        state: &crate::pricing::PathState<'_>,
        expiries: &[crate::pricing::Expiry],
    ) -> Result<Option<crate::pricing::ChainPrices>> {
        use crate::pricing::chain::{calls_and_puts, check_max_maturity, forward_strikes};
        let mut prices = Vec::with_capacity(expiries.len());
        for (_, maturity, strikes) in expiries {
            check_max_maturity(*maturity, self.max_maturity())?;
            let ks = forward_strikes(market, *maturity, strikes);
            let calls = self.forward_calls(state.variance, *maturity, &ks);
            prices.push(calls_and_puts(market, *maturity, strikes, &calls));
        }
        Ok(Some(prices))
    }
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
    fn upper_envelope_is_a_mean_one_law_above_both() {
        // Two mean-1 laws whose call functions cross: a narrow one with a
        // far right atom (the shape of a sampled far tail) and a wider one.
        let shorter = Law {
            x: vec![0.9, 1.0, 1.6],
            p: vec![0.5, 0.4, 0.1],
        };
        let m = shorter
            .x
            .iter()
            .zip(&shorter.p)
            .map(|(x, p)| x * p)
            .sum::<f64>();
        let shorter = Law {
            x: shorter.x.iter().map(|x| x / m).collect(),
            p: shorter.p,
        };
        let longer = Law {
            x: vec![0.7, 1.0, 1.3],
            p: vec![0.25, 0.5, 0.25],
        };
        let env = longer.upper_envelope(&shorter);
        assert!((env.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mean: f64 = env.x.iter().zip(&env.p).map(|(x, p)| x * p).sum();
        assert!((mean - 1.0).abs() < 1e-12);
        assert!(env.p.iter().all(|p| *p > 0.0));
        let mut crossed = false;
        for i in 0..=400 {
            let k = 0.5 + f64::from(i) * 0.003;
            let (a, b) = (longer.call(k), shorter.call(k));
            crossed |= b > a + 1e-9;
            assert!((env.call(k) - a.max(b)).abs() < 1e-12, "k = {k}");
        }
        assert!(crossed, "the test laws must cross");
        // Already in convex order: unchanged.
        let wider = Law {
            x: vec![0.5, 1.5],
            p: vec![0.5, 0.5],
        };
        let narrow = Law {
            x: vec![1.0],
            p: vec![1.0],
        };
        assert_eq!(wider.upper_envelope(&narrow), wider);
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
