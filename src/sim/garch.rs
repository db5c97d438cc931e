//! GJR-GARCH(1,1) with standardised Student-t innovations: the econometric
//! baseline (Glosten, Jagannathan & Runkle, J. Finance 48, 1993; Bollerslev,
//! Rev. Econ. Stat. 69, 1987, for the t innovations).
//!
//! On daily log returns `r_t = μ + ε_t`, `ε_t = σ_t z_t`, `z_t` a Student-t
//! with ν degrees of freedom scaled to unit variance, and
//! `σ²_t = ω + (α + γ·1{ε_{t−1} < 0}) ε²_{t−1} + β σ²_{t−1}`.
//! All parameters are in daily units of decimal log returns.

use super::PathGenerator;
use crate::error::{Error, Result};
use crate::market::{SpotHistory, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::rng::PathRng;
use crate::sim::risk_neutral::DailyPricing;
use argmin::core::{CostFunction, Executor};
use argmin::solver::neldermead::NelderMead;
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::StudentT;
use serde::Serialize;

/// Validated GJR-GARCH(1,1)-t parameters (daily units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GarchParams {
    /// Mean daily log return μ.
    pub mu: f64,
    /// Variance intercept ω (> 0).
    pub omega: f64,
    /// ARCH coefficient α (≥ 0).
    pub alpha: f64,
    /// Leverage coefficient γ (α + γ ≥ 0).
    pub gamma: f64,
    /// GARCH coefficient β (≥ 0).
    pub beta: f64,
    /// Degrees of freedom ν (> 2).
    pub nu: f64,
}

impl GarchParams {
    /// Checks the constraints, including covariance stationarity
    /// `α + γ/2 + β < 1` (innovations are symmetric).
    pub fn new(mu: f64, omega: f64, alpha: f64, gamma: f64, beta: f64, nu: f64) -> Result<Self> {
        let all = [
            ("mean", mu),
            ("omega", omega),
            ("alpha", alpha),
            ("gamma", gamma),
            ("beta", beta),
            ("nu", nu),
        ];
        if let Some((name, x)) = all.iter().find(|(_, x)| !x.is_finite()) {
            return Err(Error::parameter(*name, x, "must be finite"));
        }
        if omega <= 0.0 {
            return Err(Error::parameter(
                "omega",
                omega,
                "must be positive (daily variance units)",
            ));
        }
        if alpha < 0.0 {
            return Err(Error::parameter("alpha", alpha, "must be ≥ 0"));
        }
        if alpha + gamma < 0.0 {
            return Err(Error::parameter(
                "gamma",
                gamma,
                "alpha + gamma must be ≥ 0",
            ));
        }
        if beta < 0.0 {
            return Err(Error::parameter("beta", beta, "must be ≥ 0"));
        }
        if nu <= 2.0 {
            return Err(Error::parameter(
                "nu",
                nu,
                "degrees of freedom must exceed 2 (finite variance)",
            ));
        }
        let p = alpha + 0.5 * gamma + beta;
        if p >= 1.0 {
            return Err(Error::parameter(
                "beta",
                beta,
                format!("persistence alpha + gamma/2 + beta = {p} must be < 1 (covariance stationarity)"),
            ));
        }
        Ok(GarchParams {
            mu,
            omega,
            alpha,
            gamma,
            beta,
            nu,
        })
    }

    /// Persistence `α + γ/2 + β`.
    pub fn persistence(&self) -> f64 {
        self.alpha + 0.5 * self.gamma + self.beta
    }

    /// Unconditional daily variance `ω/(1 − persistence)`.
    pub fn unconditional_variance(&self) -> f64 {
        self.omega / (1.0 - self.persistence())
    }

    fn as_array(&self) -> [f64; 6] {
        [
            self.mu, self.omega, self.alpha, self.gamma, self.beta, self.nu,
        ]
    }
}

/// The variance at which the recursion starts: `arch`'s backcast, an
/// exponentially weighted (0.94) average of the first 75 squared residuals,
/// so estimates are comparable with that package.
fn backcast(resid: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut w, mut total) = (0.0, 1.0, 0.0);
    for e in resid.take(75) {
        s += w * e * e;
        total += w;
        w *= 0.94;
    }
    s / total
}

/// Log-likelihood of daily log returns under `p`, and the conditional
/// variance for the day after the last return.
pub fn log_likelihood(p: &GarchParams, returns: &[f64]) -> (f64, f64) {
    let nu = p.nu;
    let c = libm::lgamma(0.5 * (nu + 1.0))
        - libm::lgamma(0.5 * nu)
        - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln();
    let mut s2 = backcast(returns.iter().map(|r| r - p.mu));
    let mut ll = 0.0;
    for &r in returns {
        let e = r - p.mu;
        ll += c - 0.5 * s2.ln() - 0.5 * (nu + 1.0) * (e * e / ((nu - 2.0) * s2)).ln_1p();
        let a = if e < 0.0 { p.alpha + p.gamma } else { p.alpha };
        s2 = p.omega + a * e * e + p.beta * s2;
    }
    (ll, s2)
}

/// The conditional variances of the returns under `p`: element t is the
/// variance of day t given the days before it (from the backcast, as in
/// [`log_likelihood`]); one more element follows the last return.
pub fn filtered_variances(p: &GarchParams, returns: &[f64]) -> Vec<f64> {
    let mut s2 = backcast(returns.iter().map(|r| r - p.mu));
    let mut out = Vec::with_capacity(returns.len() + 1);
    out.push(s2);
    for &r in returns {
        let e = r - p.mu;
        let a = if e < 0.0 { p.alpha + p.gamma } else { p.alpha };
        s2 = p.omega + a * e * e + p.beta * s2;
        out.push(s2);
    }
    out
}

/// Maximum-likelihood estimate with standard errors.
#[derive(Debug, Clone, Serialize)]
pub struct GarchEstimate {
    /// Estimated parameters.
    pub params: GarchParams,
    /// Standard errors of (μ, ω, α, γ, β, ν) from the inverse Hessian of the
    /// log-likelihood (NaN where it is not positive definite).
    pub se: [f64; 6],
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Number of returns.
    pub returns: usize,
    /// Conditional variance for the day after the sample (daily).
    pub last_variance: f64,
    /// Last price of the history.
    pub last_price: f64,
}

struct NegLogLik<'a> {
    returns: &'a [f64],
    sd: f64,
}

impl NegLogLik<'_> {
    /// Unconstrained x → parameters: μ = x₀·sd, ω = e^{x₁}·sd², α = e^{x₂},
    /// γ = x₃, β = e^{x₄}, ν = 2 + e^{x₅}.
    fn params(&self, x: &[f64]) -> Result<GarchParams> {
        GarchParams::new(
            x[0] * self.sd,
            x[1].exp() * self.sd * self.sd,
            x[2].exp(),
            x[3],
            x[4].exp(),
            2.0 + x[5].exp(),
        )
    }
}

impl CostFunction for NegLogLik<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(match self.params(x) {
            Ok(p) => {
                let ll = log_likelihood(&p, self.returns).0;
                if ll.is_finite() {
                    -ll
                } else {
                    f64::INFINITY
                }
            }
            Err(_) => f64::INFINITY,
        })
    }
}

impl GarchEstimate {
    /// Fits daily log returns of `history` by maximum likelihood.
    pub fn fit(history: &SpotHistory) -> Result<Self> {
        let returns = history.log_returns();
        if returns.len() < 100 {
            return Err(Error::input(
                crate::error::Location::file(history.source()),
                format!("{} returns: GARCH needs at least 100", returns.len()),
            ));
        }
        let mut fit = Self::fit_returns(&returns)?;
        fit.last_price = *history.prices().last().unwrap_or(&f64::NAN);
        Ok(fit)
    }

    /// Fits a series of daily log returns.
    pub fn fit_returns(returns: &[f64]) -> Result<Self> {
        let (mean, var) = crate::stats::mean_var(returns);
        let sd = var.sqrt();
        if sd <= 0.0 || sd.is_nan() {
            return Err(Error::parameter(
                "returns",
                "constant",
                "a series with no variation has no GARCH fit",
            ));
        }
        let problem = NegLogLik { returns, sd };
        // Start: typical daily equity values; the simplex spans them.
        let x0 = vec![
            mean / sd,
            (0.05f64).ln(),
            (0.03f64).ln(),
            0.08,
            (0.88f64).ln(),
            (6.0f64).ln(),
        ];
        let mut best = x0;
        let mut best_cost = f64::INFINITY;
        // Nelder–Mead with restarts from the best point (a standard guard
        // against premature simplex collapse).
        for round in 0..4 {
            let step = if round == 0 { 0.3 } else { 0.05 };
            let mut simplex = vec![best.clone()];
            for i in 0..6 {
                let mut v = best.clone();
                v[i] += step * (1.0 + v[i].abs()).min(2.0);
                simplex.push(v);
            }
            let solver = NelderMead::new(simplex)
                .with_sd_tolerance(1e-12)
                .map_err(|e| Error::Internal(format!("Nelder-Mead setup: {e}")))?;
            let res = Executor::new(NegLogLik { returns, sd }, solver)
                .configure(|s| s.max_iters(4000))
                .run()
                .map_err(|e| Error::Internal(format!("Nelder-Mead: {e}")))?;
            let state = res.state();
            if let Some(p) = &state.best_param {
                if state.best_cost < best_cost {
                    best_cost = state.best_cost;
                    best = p.clone();
                }
            }
        }
        let params = problem.params(&best)?;
        let (ll, last_variance) = log_likelihood(&params, returns);
        Ok(GarchEstimate {
            params,
            se: standard_errors(&params, returns),
            log_likelihood: ll,
            returns: returns.len(),
            last_variance,
            last_price: f64::NAN,
        })
    }
}

/// Standard errors from the inverse of the numerical Hessian of the
/// negative log-likelihood in the natural parameters (central differences).
/// A parameter at its bound (α or α + γ at 0) is held fixed, as is usual,
/// and gets NaN ("at bound"); the others come from the remaining block.
fn standard_errors(p: &GarchParams, returns: &[f64]) -> [f64; 6] {
    let x = p.as_array();
    let f = |v: &[f64; 6]| -> f64 {
        match GarchParams::new(v[0], v[1], v[2], v[3], v[4], v[5]) {
            Ok(q) => -log_likelihood(&q, returns).0,
            Err(_) => f64::NAN,
        }
    };
    let h: [f64; 6] =
        std::array::from_fn(|i| 1e-4 * x[i].abs().max(if i == 1 { 1e-6 } else { 1e-3 }));
    let at_bound = |i: usize| match i {
        2 => x[2] < 2.0 * h[2],
        3 => x[2] + x[3] < 2.0 * h[3],
        _ => false,
    };
    let free: Vec<usize> = (0..6).filter(|&i| !at_bound(i)).collect();
    let m = free.len();
    let mut hess = DMatrix::<f64>::zeros(m, m);
    for (a, &i) in free.iter().enumerate() {
        for (b, &j) in free.iter().enumerate().skip(a) {
            let at = |di: f64, dj: f64| {
                let mut v = x;
                v[i] += di * h[i];
                v[j] += dj * h[j];
                f(&v)
            };
            let d = (at(1.0, 1.0) - at(1.0, -1.0) - at(-1.0, 1.0) + at(-1.0, -1.0))
                / (4.0 * h[i] * h[j]);
            hess[(a, b)] = d;
            hess[(b, a)] = d;
        }
    }
    let mut se = [f64::NAN; 6];
    if let Some(c) = hess.cholesky() {
        let cov = c.inverse();
        for (a, &i) in free.iter().enumerate() {
            se[i] = cov[(a, a)].sqrt();
        }
    }
    se
}

/// GJR-GARCH-t path generator on a daily grid. The variance state is the
/// conditional variance of the next day's return, annualised (×252).
#[derive(Debug, Clone)]
pub struct Garch {
    params: GarchParams,
    s0: f64,
    sigma2_0: f64,
    t_dist: StudentT<f64>,
    t_scale: f64,
    /// The pricing measure, when paths are risk-neutral.
    q: Option<DailyPricing>,
}

/// Per-path GARCH state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarchState {
    /// S_t/S_0.
    pub ratio: f64,
    /// Conditional daily variance of the next return.
    pub sigma2: f64,
}

/// The model's name in messages.
pub(crate) const GARCH_NAME: &str = "GJR-GARCH";

/// Surrogate knots above the stationary regime's top variance quantile
/// (0.995), each [`EXTRA_KNOT_RATIO`] times the variance of the one below:
/// up to 7.6 × that variance, 2.8 × its vol.
const EXTRA_KNOTS: usize = 5;

/// Variance ratio between the extra knots.
const EXTRA_KNOT_RATIO: f64 = 1.5;

impl Garch {
    /// A generator from `s0` with initial annualised conditional variance
    /// `v0` (default: the unconditional variance). The grid must be daily.
    pub fn new(params: GarchParams, s0: f64, v0: Option<f64>, grid: &TimeGrid) -> Result<Self> {
        super::gbm::check_spot("s0", s0)?;
        super::require_daily(GARCH_NAME, grid.dt())?;
        let sigma2_0 = match v0 {
            Some(v) if v.is_finite() && v > 0.0 => v / TRADING_DAYS_PER_YEAR,
            Some(v) => {
                return Err(Error::parameter(
                    "v0",
                    v,
                    "initial variance must be positive",
                ))
            }
            None => params.unconditional_variance(),
        };
        let t_dist = StudentT::new(params.nu)
            .map_err(|e| Error::parameter("nu", params.nu, e.to_string()))?;
        Ok(Garch {
            params,
            s0,
            sigma2_0,
            t_dist,
            t_scale: ((params.nu - 2.0) / params.nu).sqrt(),
            q: None,
        })
    }

    /// The same model under the pricing measure `measure` (the conditional
    /// variance × λ, the mean set by the martingale condition); the variance
    /// state is then the risk-neutral one. Needs ν > 4 (a finite fourth
    /// cumulant for the martingale correction).
    pub fn risk_neutral(mut self, measure: &crate::sim::RiskNeutral) -> Result<Self> {
        let nu = self.params.nu;
        if nu <= 4.0 {
            return Err(Error::parameter(
                "nu",
                nu,
                "risk-neutral GJR-GARCH paths need nu > 4 (finite kurtosis of the innovations)",
            ));
        }
        // Unit-variance t: cumulants 0, 1, 0, 6/(ν−4).
        self.q = Some(measure.daily([0.0, 1.0, 0.0, 6.0 / (nu - 4.0)]));
        Ok(self)
    }

    /// The knots of the pricing surrogate: the variance quantiles of the
    /// model's stationary regime, each as a risk-neutral generator started
    /// there (the variance is GJR-GARCH's whole state), then five knots
    /// beyond the top quantile, each 1.5 × the variance of the one below.
    pub fn surrogate_knots(
        &self,
        measure: &crate::sim::RiskNeutral,
        seed: u64,
    ) -> Result<Vec<crate::sim::Knot<Garch>>> {
        let real_world = Garch {
            q: None,
            sigma2_0: self.params.unconditional_variance(),
            ..self.clone()
        };
        let q = real_world.clone().risk_neutral(measure)?;
        let mut knots =
            crate::sim::law_table::knots(&real_world, seed, 1, |v, _| q.from_variance(v));
        // A crisis path leaves the stationary quantiles behind (a 76 %-vol
        // state on ten paths of a year, where the top knot sits near 45 %),
        // and beyond the last knot a table can only reuse its law: the exact
        // mode measured such chains 4 vol points too low. GJR-GARCH's state
        // is its variance alone, so knots can sit at any variance.
        let top = knots
            .last()
            .and_then(|k| k.generators.first())
            .map(|g| g.sigma2_0 * TRADING_DAYS_PER_YEAR)
            .ok_or_else(|| Error::Internal("GJR-GARCH surrogate without knots".into()))?;
        for i in 1..=EXTRA_KNOTS {
            knots.push(crate::sim::Knot {
                generators: vec![q.from_variance(top * EXTRA_KNOT_RATIO.powi(i as i32))],
            });
        }
        Ok(knots)
    }

    /// A generator like this one starting from annualised conditional
    /// variance `v0` (the state of a path, for nested pricing).
    pub fn from_variance(&self, v0: f64) -> Self {
        let mut g = self.clone();
        g.sigma2_0 = v0 / TRADING_DAYS_PER_YEAR;
        g
    }

    /// The parameters.
    pub fn params(&self) -> &GarchParams {
        &self.params
    }
}

impl PathGenerator for Garch {
    type State = GarchState;

    fn initial_state(&self) -> GarchState {
        GarchState {
            ratio: 1.0,
            sigma2: self.sigma2_0,
        }
    }

    fn observe(&self, s: &GarchState, spot: &mut [f64], variance: &mut [f64]) {
        spot[0] = self.s0 * s.ratio;
        let lambda = self.q.map_or(1.0, |q| q.lambda);
        variance[0] = lambda * s.sigma2 * TRADING_DAYS_PER_YEAR;
    }

    fn step(&self, s: &mut GarchState, rng: &mut PathRng) {
        let z: f64 = rng.sample(self.t_dist) * self.t_scale;
        let sigma = s.sigma2.sqrt();
        let e = sigma * z;
        let log_return = match &self.q {
            None => self.params.mu + e,
            Some(q) => q.log_return(sigma, z),
        };
        s.ratio *= super::simd::exp(log_return);
        let p = &self.params;
        let a = if e < 0.0 { p.alpha + p.gamma } else { p.alpha };
        s.sigma2 = p.omega + a * e * e + p.beta * s.sigma2;
    }
}
