//! The Heston (1993) stochastic-volatility model
//!
//! ```text
//! dS = μ S dt + √v S dW_S,   dv = κ(θ − v) dt + ξ √v dW_v,   d⟨W_S, W_v⟩ = ρ dt
//! ```
//!
//! simulated by Andersen's quadratic-exponential (QE) scheme with martingale
//! correction (default), or by full-truncation Euler.
//!
//! References: L. Andersen, "Simple and efficient simulation of the Heston
//! stochastic volatility model", J. Comput. Finance 11(3), 2008 — eqs. (23),
//! (26)–(29) (variance step, ψ_c = 1.5), (33) (log-spot step with
//! γ₁ = γ₂ = ½) and §4.2 / Proposition 5 (martingale correction); R. Lord,
//! R. Koekkoek & D. van Dijk, "A comparison of biased simulation schemes for
//! stochastic volatility models", Quant. Finance 10(2), 2010 (full truncation).

use super::gbm::{check_spot, Drift};
use super::PathGenerator;
use crate::error::{Error, Result};
use crate::market::TimeGrid;
use crate::rng::PathRng;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Validated Heston parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HestonParams {
    s0: f64,
    drift: Drift,
    v0: f64,
    kappa: f64,
    theta: f64,
    xi: f64,
    rho: f64,
}

impl HestonParams {
    /// `s0 > 0`; `v0 ≥ 0` (initial variance, annualised); `kappa > 0` (mean
    /// reversion per year); `theta > 0` (long-run variance); `xi > 0`
    /// (volatility of variance); `|rho| ≤ 1`. The Feller condition
    /// `2κθ ≥ ξ²` is *not* required.
    pub fn new(
        s0: f64,
        drift: Drift,
        v0: f64,
        kappa: f64,
        theta: f64,
        xi: f64,
        rho: f64,
    ) -> Result<Self> {
        check_spot("s0", s0)?;
        drift.validate()?;
        let positive = |name: &str, x: f64, what: &str| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(Error::parameter(name, x, format!("{what} must be positive and finite")))
            }
        };
        if !(v0.is_finite() && v0 >= 0.0) {
            return Err(Error::parameter(
                "v0",
                v0,
                "initial variance must be finite and ≥ 0 (annualised: 0.04 = 20 % vol)",
            ));
        }
        positive("kappa", kappa, "mean-reversion speed")?;
        positive("theta", theta, "long-run variance")?;
        positive("xi", xi, "volatility of variance")?;
        if !(rho.is_finite() && rho.abs() <= 1.0) {
            return Err(Error::parameter("rho", rho, "correlation must lie in [-1, 1]"));
        }
        Ok(HestonParams {
            s0,
            drift,
            v0,
            kappa,
            theta,
            xi,
            rho,
        })
    }

    /// Initial spot.
    pub fn s0(&self) -> f64 {
        self.s0
    }
    /// Drift of the spot.
    pub fn drift(&self) -> Drift {
        self.drift
    }
    /// Initial variance.
    pub fn v0(&self) -> f64 {
        self.v0
    }
    /// Mean-reversion speed κ.
    pub fn kappa(&self) -> f64 {
        self.kappa
    }
    /// Long-run variance θ.
    pub fn theta(&self) -> f64 {
        self.theta
    }
    /// Volatility of variance ξ.
    pub fn xi(&self) -> f64 {
        self.xi
    }
    /// Spot–variance correlation ρ.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// Whether `2κθ ≥ ξ²` (variance stays strictly positive).
    pub fn feller_satisfied(&self) -> bool {
        2.0 * self.kappa * self.theta >= self.xi * self.xi
    }

    /// E[v_t] = θ + (v0 − θ)e^{−κt} (the CIR mean).
    pub fn mean_variance(&self, t: f64) -> f64 {
        self.theta + (self.v0 - self.theta) * (-self.kappa * t).exp()
    }

    /// Var[v_t] = v0 ξ² e^{−κt}(1 − e^{−κt})/κ + θ ξ² (1 − e^{−κt})²/(2κ)
    /// (Cox, Ingersoll & Ross 1985, eq. 19).
    pub fn variance_of_variance(&self, t: f64) -> f64 {
        let e = (-self.kappa * t).exp();
        let xi2 = self.xi * self.xi;
        self.v0 * xi2 * e * (1.0 - e) / self.kappa
            + self.theta * xi2 * (1.0 - e).powi(2) / (2.0 * self.kappa)
    }
}

/// Discretisation scheme for Heston.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HestonScheme {
    /// Andersen (2008) quadratic-exponential with martingale correction.
    #[default]
    Qe,
    /// Full-truncation Euler (Lord, Koekkoek & van Dijk 2010) with log-Euler spot.
    Euler,
}

/// Heston generator on a fixed grid; all step constants are precomputed.
#[derive(Debug, Clone)]
pub struct Heston {
    params: HestonParams,
    scheme: HestonScheme,
    dt: f64,
    mu_dt: f64,
    // QE: m = v·e + c0, s² = v·c1 + c2.
    e: f64,
    c0: f64,
    c1: f64,
    c2: f64,
    // Log-spot step constants K0..K4 (Andersen eq. 33, γ₁ = γ₂ = ½) and A = K2 + K4/2.
    k0: f64,
    k1: f64,
    k2: f64,
    k3: f64,
    k4: f64,
    a: f64,
    // Euler: √(1 − ρ²), √dt.
    rho_bar: f64,
    sqrt_dt: f64,
}

/// Andersen's switching threshold ψ_c between the quadratic and exponential branches.
const PSI_C: f64 = 1.5;

/// Per-path Heston state: log-spot and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HestonState {
    /// ln(S_t/S_0)
    pub x: f64,
    /// v (for Euler the untruncated variable, which may dip below 0).
    pub v: f64,
}

impl Heston {
    /// A generator stepping `grid.dt()` years with `scheme`.
    pub fn new(params: HestonParams, scheme: HestonScheme, grid: &TimeGrid) -> Self {
        let dt = grid.dt();
        let HestonParams {
            kappa,
            theta,
            xi,
            rho,
            ..
        } = params;
        let e = (-kappa * dt).exp();
        let xi2 = xi * xi;
        let (g1, g2) = (0.5, 0.5);
        let k0 = -rho * kappa * theta / xi * dt;
        let k1 = g1 * dt * (kappa * rho / xi - 0.5) - rho / xi;
        let k2 = g2 * dt * (kappa * rho / xi - 0.5) + rho / xi;
        let k3 = g1 * dt * (1.0 - rho * rho);
        let k4 = g2 * dt * (1.0 - rho * rho);
        Heston {
            params,
            scheme,
            dt,
            mu_dt: params.drift.rate() * dt,
            e,
            c0: theta * (1.0 - e),
            c1: xi2 * e * (1.0 - e) / kappa,
            c2: theta * xi2 * (1.0 - e) * (1.0 - e) / (2.0 * kappa),
            k0,
            k1,
            k2,
            k3,
            k4,
            a: k2 + 0.5 * k4,
            rho_bar: (1.0 - rho * rho).max(0.0).sqrt(),
            sqrt_dt: dt.sqrt(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &HestonParams {
        &self.params
    }

    /// The scheme.
    pub fn scheme(&self) -> HestonScheme {
        self.scheme
    }

    /// Step length in years.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    #[inline]
    fn step_qe(&self, s: &mut HestonState, rng: &mut PathRng) {
        let v = s.v;
        let m = v * self.e + self.c0;
        let s2 = v * self.c1 + self.c2;
        let psi = s2 / (m * m);
        // v_next and ln M(A) = ln E[exp(A·v_next) | v], the martingale correction.
        let (v_next, log_m) = if psi <= PSI_C {
            // Quadratic branch: v' = a(b + Z)², Z ~ N(0,1).
            let t = 2.0 / psi;
            let b2 = t - 1.0 + (t * (t - 1.0)).sqrt();
            let a = m / (1.0 + b2);
            let z: f64 = rng.sample(StandardNormal);
            let bz = b2.sqrt() + z;
            let d = 1.0 - 2.0 * self.a * a;
            let log_m = if d > 0.0 {
                self.a * b2 * a / d - 0.5 * d.ln()
            } else {
                f64::NAN
            };
            (a * bz * bz, log_m)
        } else {
            // Exponential branch: mass p at 0, exponential tail with rate β.
            let p = (psi - 1.0) / (psi + 1.0);
            let beta = (1.0 - p) / m;
            let u: f64 = rng.random();
            let v_next = if u <= p {
                0.0
            } else {
                ((1.0 - p) / (1.0 - u)).ln() / beta
            };
            let log_m = if self.a < beta {
                (p + beta * (1.0 - p) / (beta - self.a)).ln()
            } else {
                f64::NAN
            };
            (v_next, log_m)
        };
        let z: f64 = rng.sample(StandardNormal);
        let diffusion = (self.k3 * v + self.k4 * v_next).sqrt() * z;
        s.x += if log_m.is_nan() {
            // The moment-generating function does not exist for this A
            // (large positive ρ with a coarse step): fall back to Andersen's
            // uncorrected K0, as his §4.2 prescribes.
            self.mu_dt + self.k0 + self.k1 * v + self.k2 * v_next + diffusion
        } else {
            // K0* + K1·v = −ln M(A) − K3·v/2.
            self.mu_dt - log_m - 0.5 * self.k3 * v + self.k2 * v_next + diffusion
        };
        s.v = v_next;
    }

    #[inline]
    fn step_euler(&self, s: &mut HestonState, rng: &mut PathRng) {
        let vp = s.v.max(0.0);
        let z1: f64 = rng.sample(StandardNormal);
        let z2: f64 = rng.sample(StandardNormal);
        let zs = self.params.rho * z1 + self.rho_bar * z2;
        let sd = vp.sqrt() * self.sqrt_dt;
        s.x += (self.mu_dt - 0.5 * vp * self.dt) + sd * zs;
        s.v += self.params.kappa * (self.params.theta - vp) * self.dt + self.params.xi * sd * z1;
    }
}

impl PathGenerator for Heston {
    type State = HestonState;

    fn initial_state(&self) -> HestonState {
        HestonState {
            x: 0.0,
            v: self.params.v0,
        }
    }

    #[inline]
    fn observe(&self, s: &HestonState, spot: &mut [f64], variance: &mut [f64]) {
        spot[0] = self.params.s0 * s.x.exp();
        variance[0] = s.v.max(0.0);
    }

    #[inline]
    fn step(&self, s: &mut HestonState, rng: &mut PathRng) {
        match self.scheme {
            HestonScheme::Qe => self.step_qe(s, rng),
            HestonScheme::Euler => self.step_euler(s, rng),
        }
    }
}
