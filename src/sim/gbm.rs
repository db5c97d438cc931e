//! Geometric Brownian motion, single and correlated multi-asset, simulated by
//! the exact log scheme `S_{t+dt} = S_t·exp((μ − σ²/2)dt + σ√dt·Z)`.

use super::simd::exp;
use super::{draw_normal_block, PathGenerator};

/// Steps per block of pre-drawn normals (see [`draw_normal_block`]).
const NORMAL_BLOCK: usize = 128;
use crate::error::{Error, Result};
use crate::market::PathChunk;
use crate::market::{SpotHistory, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::rng::path_rng;
use crate::rng::PathRng;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

/// The drift of a spot process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "measure", rename_all = "snake_case")]
pub enum Drift {
    /// Real-world (physical) drift `μ`, continuously compounded per year.
    RealWorld {
        /// Annualised expected log-price growth plus σ²/2: E(S_T) = S_0·e^{μT}.
        mu: f64,
    },
    /// Risk-neutral drift `r − q`.
    RiskNeutral {
        /// Continuously compounded risk-free rate per year.
        rate: f64,
        /// Continuous dividend yield per year.
        dividend: f64,
    },
}

impl Drift {
    /// Checks that the numbers are finite.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, x: f64| {
            if x.is_finite() {
                Ok(())
            } else {
                Err(Error::parameter(
                    name,
                    x,
                    "must be a finite number per year",
                ))
            }
        };
        match *self {
            Drift::RealWorld { mu } => check("mu", mu),
            Drift::RiskNeutral { rate, dividend } => {
                check("rate", rate)?;
                check("dividend", dividend)
            }
        }
    }

    /// The drift rate of the spot: `μ` or `r − q`.
    pub fn rate(&self) -> f64 {
        match *self {
            Drift::RealWorld { mu } => mu,
            Drift::RiskNeutral { rate, dividend } => rate - dividend,
        }
    }
}

pub(crate) fn check_spot(name: &str, s0: f64) -> Result<()> {
    if s0.is_finite() && s0 > 0.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            name,
            s0,
            "initial spot must be positive and finite",
        ))
    }
}

/// Validated parameters of a one-asset GBM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GbmParams {
    s0: f64,
    drift: Drift,
    sigma: f64,
}

impl GbmParams {
    /// `s0 > 0`, finite drift, `sigma ≥ 0` (annualised volatility).
    pub fn new(s0: f64, drift: Drift, sigma: f64) -> Result<Self> {
        check_spot("s0", s0)?;
        drift.validate()?;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::parameter(
                "sigma",
                sigma,
                "volatility must be finite and ≥ 0 (annualised, 0.2 = 20 %)",
            ));
        }
        Ok(GbmParams { s0, drift, sigma })
    }

    /// Initial spot.
    pub fn s0(&self) -> f64 {
        self.s0
    }

    /// Drift.
    pub fn drift(&self) -> Drift {
        self.drift
    }

    /// Annualised volatility.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
}

/// One-asset GBM on a fixed grid.
#[derive(Debug, Clone)]
pub struct Gbm {
    params: GbmParams,
    /// (μ − σ²/2)·dt
    log_drift: f64,
    /// σ·√dt
    log_vol: f64,
    variance: f64,
}

impl Gbm {
    /// A generator stepping `grid.dt()` years at a time.
    pub fn new(params: GbmParams, grid: &TimeGrid) -> Self {
        let dt = grid.dt();
        let s = params.sigma;
        Gbm {
            params,
            log_drift: (params.drift.rate() - 0.5 * s * s) * dt,
            log_vol: s * dt.sqrt(),
            variance: s * s,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &GbmParams {
        &self.params
    }
}

impl PathGenerator for Gbm {
    /// Log-return since time 0, ln(S_t/S_0) (so step 0 reports S_0 exactly).
    type State = f64;

    fn initial_state(&self) -> f64 {
        0.0
    }

    #[inline]
    fn observe(&self, x: &f64, spot: &mut [f64], variance: &mut [f64]) {
        spot[0] = self.params.s0 * exp(*x);
        variance[0] = self.variance;
    }

    #[inline]
    fn step(&self, x: &mut f64, rng: &mut PathRng) {
        let z: f64 = rng.sample(StandardNormal);
        *x += self.log_drift + self.log_vol * z;
    }

    /// Lockstep over the chunk: the random draws are scalar, the
    /// exponentials run as a loop over all paths that the compiler
    /// vectorises. Bitwise identical to stepping path by path.
    fn fill_chunk(&self, seed: u64, chunk: &mut PathChunk) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.fill_chunk_avx2(seed, chunk) };
        }
        self.fill_chunk_body(seed, chunk)
    }
}

impl Gbm {
    /// [`PathGenerator::fill_chunk`] compiled for AVX2 without FMA, so every
    /// operation rounds as on the SSE2 path (bit-identical output).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_chunk_avx2(&self, seed: u64, chunk: &mut PathChunk) {
        self.fill_chunk_body(seed, chunk)
    }

    #[inline(always)]
    fn fill_chunk_body(&self, seed: u64, chunk: &mut PathChunk) {
        let n = chunk.paths();
        let first = chunk.first_path();
        let mut rngs: Vec<PathRng> = (0..n).map(|p| path_rng(seed, first + p as u64)).collect();
        let mut x = vec![0.0f64; n];
        let mut z = vec![0.0f64; n * NORMAL_BLOCK];
        let s0 = self.params.s0;
        let (spot, var) = chunk.step_mut(0);
        spot.fill(s0);
        var.fill(self.variance);
        let steps = chunk.steps();
        for block in (1..=steps).step_by(NORMAL_BLOCK) {
            let len = NORMAL_BLOCK.min(steps + 1 - block);
            draw_normal_block::<1>(&mut rngs, len, &mut z);
            for j in 0..len {
                let (spot, var) = chunk.step_mut(block + j);
                let zj = &z[j * n..(j + 1) * n];
                for ((x, s), &z) in x[..n].iter_mut().zip(spot[..n].iter_mut()).zip(zj) {
                    *x += self.log_drift + self.log_vol * z;
                    *s = s0 * exp(*x);
                }
                var.fill(self.variance);
            }
        }
    }
}

/// A validated correlation matrix: symmetric, unit diagonal, entries in
/// [−1, 1], positive definite. Holds its lower Cholesky factor.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatrix {
    matrix: DMatrix<f64>,
    cholesky: DMatrix<f64>,
}

impl CorrelationMatrix {
    /// Validates a matrix given as rows.
    pub fn new(rows: &[Vec<f64>]) -> Result<Self> {
        let n = rows.len();
        let bad = |reason: String| Error::parameter("correlation", format_rows(rows), reason);
        if n == 0 {
            return Err(bad("empty matrix".into()));
        }
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
            return Err(bad(format!(
                "not square: row {} has {} entries, expected {n}",
                i + 1,
                r.len()
            )));
        }
        let m = DMatrix::from_fn(n, n, |i, j| rows[i][j]);
        for i in 0..n {
            for j in 0..n {
                let c = m[(i, j)];
                if !c.is_finite() {
                    return Err(bad(format!("entry ({}, {}) is not finite", i + 1, j + 1)));
                }
                if c.abs() > 1.0 {
                    return Err(bad(format!(
                        "entry ({}, {}) = {c} is outside [-1, 1]",
                        i + 1,
                        j + 1
                    )));
                }
                if (c - m[(j, i)]).abs() > 1e-12 {
                    return Err(bad(format!(
                        "not symmetric: entry ({}, {}) = {c} but ({}, {}) = {}",
                        i + 1,
                        j + 1,
                        j + 1,
                        i + 1,
                        m[(j, i)]
                    )));
                }
            }
            if (m[(i, i)] - 1.0).abs() > 1e-12 {
                return Err(bad(format!(
                    "diagonal entry ({}, {}) = {} must be 1",
                    i + 1,
                    i + 1,
                    m[(i, i)]
                )));
            }
        }
        let cholesky = m.clone().cholesky().ok_or_else(|| {
            bad(
                "not positive definite (Cholesky factorisation failed); a valid correlation \
                 matrix has only positive eigenvalues — perfectly correlated assets are one asset"
                    .into(),
            )
        })?;
        let l = cholesky.l();
        // nalgebra accepts matrices with tiny positive pivots; reject those
        // that are numerically singular, whose factor would amplify noise.
        let min_pivot = (0..n).map(|i| l[(i, i)]).fold(f64::INFINITY, f64::min);
        if min_pivot < 1e-8 {
            return Err(bad(format!(
                "not positive definite (numerically singular: smallest Cholesky pivot {min_pivot:.3e})"
            )));
        }
        Ok(CorrelationMatrix {
            matrix: m,
            cholesky: l,
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.matrix[(i, j)]
    }

    /// The matrix as rows.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        (0..self.dim())
            .map(|i| (0..self.dim()).map(|j| self.matrix[(i, j)]).collect())
            .collect()
    }
}

fn format_rows(rows: &[Vec<f64>]) -> String {
    let inner: Vec<String> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    format!("[{}]", inner.join("; "))
}

/// Correlated multi-asset GBM: `Z = L·ε` with `L` the Cholesky factor of the
/// correlation matrix.
#[derive(Debug, Clone)]
pub struct CorrelatedGbm {
    assets: Vec<Gbm>,
    correlation: CorrelationMatrix,
}

impl CorrelatedGbm {
    /// One GBM per asset plus their correlation (dimension must match).
    pub fn new(
        params: &[GbmParams],
        correlation: CorrelationMatrix,
        grid: &TimeGrid,
    ) -> Result<Self> {
        if params.len() != correlation.dim() {
            return Err(Error::parameter(
                "correlation",
                format_rows(&correlation.rows()),
                format!(
                    "is {d}×{d} but there are {} assets",
                    params.len(),
                    d = correlation.dim()
                ),
            ));
        }
        Ok(CorrelatedGbm {
            assets: params.iter().map(|p| Gbm::new(*p, grid)).collect(),
            correlation,
        })
    }

    /// The correlation matrix.
    pub fn correlation(&self) -> &CorrelationMatrix {
        &self.correlation
    }
}

/// State of a correlated GBM path: log-returns since time 0 and a scratch vector.
#[derive(Debug, Clone)]
pub struct CorrelatedState {
    x: DVector<f64>,
    eps: DVector<f64>,
}

impl PathGenerator for CorrelatedGbm {
    type State = CorrelatedState;

    fn assets(&self) -> usize {
        self.assets.len()
    }

    fn initial_state(&self) -> CorrelatedState {
        let n = self.assets.len();
        CorrelatedState {
            x: DVector::zeros(n),
            eps: DVector::zeros(n),
        }
    }

    fn observe(&self, state: &CorrelatedState, spot: &mut [f64], variance: &mut [f64]) {
        for (i, g) in self.assets.iter().enumerate() {
            spot[i] = g.params.s0 * exp(state.x[i]);
            variance[i] = g.variance;
        }
    }

    fn step(&self, state: &mut CorrelatedState, rng: &mut PathRng) {
        for e in state.eps.iter_mut() {
            *e = rng.sample(StandardNormal);
        }
        let l = &self.correlation.cholesky;
        for (i, g) in self.assets.iter().enumerate() {
            // Row i of L·ε; L is lower triangular.
            let z: f64 = (0..=i).map(|j| l[(i, j)] * state.eps[j]).sum();
            state.x[i] += g.log_drift + g.log_vol * z;
        }
    }
}

/// Maximum-likelihood GBM estimate from a price history with its standard
/// errors, assuming equally spaced observations `1/periods_per_year` apart.
///
/// With log returns `r_i` (n of them) and `h = 1/periods_per_year`, the MLE is
/// `σ̂² = Σ(r_i − r̄)²/(n h)` and `μ̂ = r̄/h + σ̂²/2`; asymptotic standard errors
/// are `se(σ̂) = σ̂/√(2n)` and `se(μ̂) = √(σ̂²/(n h) + σ̂⁴/(2n))` (delta method:
/// r̄ and σ̂² are independent for Gaussian returns). See Campbell, Lo &
/// MacKinlay, *The Econometrics of Financial Markets* (1997), §9.3.2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GbmEstimate {
    /// Annualised drift μ (E(S_T) = S_0 e^{μT}).
    pub mu: f64,
    /// Standard error of μ.
    pub mu_se: f64,
    /// Annualised volatility σ.
    pub sigma: f64,
    /// Standard error of σ.
    pub sigma_se: f64,
    /// Number of log returns used.
    pub returns: usize,
    /// Observations per year assumed.
    pub periods_per_year: f64,
    /// Last observed price (a natural `s0` for simulation).
    pub last_price: f64,
}

impl GbmEstimate {
    /// Fits GBM by maximum likelihood to `history`.
    pub fn fit(history: &SpotHistory, periods_per_year: f64) -> Result<Self> {
        if !(periods_per_year.is_finite() && periods_per_year > 0.0) {
            return Err(Error::parameter(
                "periods-per-year",
                periods_per_year,
                "must be positive (252 for daily trading data)",
            ));
        }
        let r = history.log_returns();
        let n = r.len() as f64;
        let h = 1.0 / periods_per_year;
        let (mean, var) = crate::stats::mean_var(&r);
        let sigma2 = var / h;
        let sigma = sigma2.sqrt();
        Ok(GbmEstimate {
            mu: mean / h + 0.5 * sigma2,
            mu_se: (sigma2 / (n * h) + sigma2 * sigma2 / (2.0 * n)).sqrt(),
            sigma,
            sigma_se: sigma / (2.0 * n).sqrt(),
            returns: r.len(),
            periods_per_year,
            last_price: *history.prices().last().unwrap_or(&f64::NAN),
        })
    }

    /// Daily fit with the 252-trading-day convention.
    pub fn fit_daily(history: &SpotHistory) -> Result<Self> {
        Self::fit(history, TRADING_DAYS_PER_YEAR)
    }
}
