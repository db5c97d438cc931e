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
use super::simd::exp;
use super::{draw_normal_block, fill_chunk_lockstep, PathGenerator};

/// Steps per block of pre-drawn normals (two per step; see [`draw_normal_block`]).
const NORMAL_BLOCK: usize = 32;
use crate::error::Result;
use crate::market::PathChunk;
use crate::market::TimeGrid;
use crate::rng::{path_rng, PathRng};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

pub(crate) use crate::pricing::heston::check_variance_params;

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
        check_variance_params(v0, kappa, theta, xi, rho)?;
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

    /// E(v_t) = θ + (v0 − θ)e^{−κt} (the CIR mean).
    pub fn mean_variance(&self, t: f64) -> f64 {
        self.theta + (self.v0 - self.theta) * (-self.kappa * t).exp()
    }

    /// Var(v_t) = v0 ξ² e^{−κt}(1 − e^{−κt})/κ + θ ξ² (1 − e^{−κt})²/(2κ)
    /// (Cox, Ingersoll & Ross 1985, eq. 19).
    pub fn variance_of_variance(&self, t: f64) -> f64 {
        let e = (-self.kappa * t).exp();
        let xi2 = self.xi * self.xi;
        self.v0 * xi2 * e * (1.0 - e) / self.kappa
            + self.theta * xi2 * (1.0 - e).powi(2) / (2.0 * self.kappa)
    }
}

impl HestonParams {
    /// Heston matched to a history of daily log returns by moments (the
    /// baseline `train` scores the deep model against on each history; the
    /// option-surface calibration is `calibrate heston`). With `garch` the
    /// GJR-GARCH-t fitted to the same returns:
    ///
    /// * θ = v0 = 252 × the sample variance;
    /// * κ = −252 ln(persistence) of the GARCH fit (the same half-life of a
    ///   variance shock);
    /// * ξ from the excess kurtosis k of the daily returns: a daily return is
    ///   √(v·dt)·Z, so k = 3 Var(v)/θ² and the stationary CIR law has Var(v) =
    ///   θξ²/(2κ) (Cox, Ingersoll & Ross 1985), giving ξ = √(2κθk/3) (at least
    ///   1e-3 when k ≤ 0);
    /// * ρ = the correlation of each day's return with the change of the GARCH
    ///   conditional variance it causes (the daily analogue of corr(dW, dW_v));
    ///   for Gaussian innovations and a pure leverage GJR (α = 0) it is −0.71.
    pub fn moments_fit(
        returns: &[f64],
        garch: &super::GarchParams,
        s0: f64,
        drift: Drift,
    ) -> Result<HestonParams> {
        let (mean, var) = crate::stats::mean_var(returns);
        let theta = 252.0 * var;
        let kappa = -252.0 * garch.persistence().ln();
        let n = returns.len() as f64;
        let m4 = returns.iter().map(|r| (r - mean).powi(4)).sum::<f64>() / n;
        let excess = m4 / (var * var) - 3.0;
        let xi = (2.0 * kappa * theta * excess / 3.0).max(1e-6).sqrt();
        let v = super::garch::filtered_variances(garch, returns);
        let dv: Vec<f64> = v.windows(2).map(|w| w[1] - w[0]).collect();
        let rho = crate::stats::pearson(returns, &dv).clamp(-0.99, 0.99);
        HestonParams::new(
            s0,
            drift,
            theta,
            kappa,
            theta,
            xi,
            if rho.is_finite() { rho } else { 0.0 },
        )
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
    two_a: f64,
    // Euler: √(1 − ρ²), √dt.
    rho_bar: f64,
    sqrt_dt: f64,
}

/// Deterministic quantities of one QE step (see [`Heston::qe_pre`]).
#[derive(Debug, Clone, Copy, Default)]
struct QePre {
    /// 2/ψ; the quadratic branch applies when t ≥ 2/ψ_c.
    t: f64,
    a: f64,
    b: f64,
    expo: f64,
    factor: f64,
}

/// Andersen's switching threshold ψ_c between the quadratic and exponential branches.
const PSI_C: f64 = 1.5;
/// The same threshold on t = 2/ψ: the quadratic branch applies when t ≥ T_C.
const T_C: f64 = 2.0 / PSI_C;

/// Per-path Heston state: spot relative to S0, and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HestonState {
    /// S_t/S_0
    pub ratio: f64,
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
            two_a: 2.0 * (k2 + 0.5 * k4),
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

    /// The deterministic part of a QE step from variance `v`: everything
    /// that needs no random number. Branch-free (the branch not taken
    /// computes values that are discarded), so a loop of it over the paths of
    /// a chunk vectorises; its square roots and divisions dominate the cost.
    ///
    /// The state carries the spot ratio `S/S0` multiplicatively, so the
    /// martingale correction enters as a factor and no logarithm is needed on
    /// the common (quadratic) branch: with `d = 1 − 2Aa`,
    /// `exp(−ln M(A)) = exp(−A b² a/d)·√d` (Andersen 2008, §4.2).
    #[inline(always)]
    fn qe_pre(&self, v: f64) -> QePre {
        let m = v * self.e + self.c0;
        let s2 = v * self.c1 + self.c2;
        // t = 2/ψ with ψ = s²/m²; the quadratic branch is ψ ≤ ψ_c, i.e. t ≥ 2/ψ_c.
        let t = 2.0 * m * m / s2;
        // Quadratic branch: v' = a(b + Z)² with b² = t − 1 + √(t(t − 1)), a = m/(1 + b²).
        let b2 = t - 1.0 + (t * (t - 1.0)).sqrt();
        let q = 1.0 + b2;
        // d = 1 − 2Aa = (q − 2Am)/q. One division gives both 1/q and
        // 1/(q − 2Am): r = 1/(q·(q − 2Am)). An exact zero q − 2Am is replaced
        // by a tiny stand-in, which yields a = m/q and d ≈ 0 (uncorrected).
        let qd = q - self.two_a * m;
        let qd_safe = if qd != 0.0 { qd } else { f64::MIN_POSITIVE };
        let r = 1.0 / (q * qd_safe);
        let d = qd * qd_safe * r;
        let corrected = d > 0.0;
        QePre {
            t,
            a: m * qd_safe * r,
            b: b2.sqrt(),
            // −A b² a/d = −A b² m/(q − 2Am) = −A b² m q r
            expo: if corrected {
                -self.a * b2 * m * q * r - 0.5 * self.k3 * v
            } else {
                self.k0 + self.k1 * v
            },
            factor: if corrected { d.sqrt() } else { 1.0 },
        }
    }

    /// Next variance on the quadratic branch, `a(b + Z)²`.
    #[inline(always)]
    fn qe_quadratic(pre: &QePre, z: f64) -> f64 {
        let bz = pre.b + z;
        pre.a * bz * bz
    }

    /// The exponential branch (`ψ > ψ_c`, rare at daily steps): a mass
    /// `p` at zero and an exponential tail of rate `β`, sampled by inversion
    /// from `U = Φ(z)`. Every QE step thus consumes exactly two normals,
    /// whichever branch it takes, so the normals can be drawn ahead in
    /// blocks. `1 − U = Φ(−z) = erfc(z/√2)/2` is computed directly, accurate
    /// in the tail. Returns `(v_next, expo, factor)` with this branch's
    /// martingale correction; when M(A) does not exist (A ≥ β: large positive
    /// ρ with a coarse step) the uncorrected K0 is used, as Andersen's §4.2
    /// prescribes (likewise d ≤ 0 on the quadratic branch).
    #[inline(never)]
    fn qe_exponential(&self, v: f64, z: f64) -> (f64, f64, f64) {
        let m = v * self.e + self.c0;
        let s2 = v * self.c1 + self.c2;
        let psi = s2 / (m * m);
        let p = (psi - 1.0) / (psi + 1.0);
        let beta = (1.0 - p) / m;
        let tail = 0.5 * libm::erfc(z * std::f64::consts::FRAC_1_SQRT_2);
        let v_next = if tail >= 1.0 - p {
            0.0
        } else {
            ((1.0 - p) / tail).ln() / beta
        };
        if self.a < beta {
            // 1/M(A) with M(A) = p + β(1 − p)/(β − A).
            let inv_m = (beta - self.a) / (p * (beta - self.a) + beta * (1.0 - p));
            (v_next, -0.5 * self.k3 * v, inv_m)
        } else {
            (v_next, self.k0 + self.k1 * v, 1.0)
        }
    }

    /// Spot-ratio multiplier given the draws:
    /// `S'/S = exp(μΔ + expo + K2 v' + √(K3 v + K4 v')·Z)·factor`.
    #[inline(always)]
    fn qe_spot(&self, v: f64, v_next: f64, expo: f64, factor: f64, z: f64) -> f64 {
        let diffusion = (self.k3 * v + self.k4 * v_next).sqrt() * z;
        exp(self.mu_dt + expo + self.k2 * v_next + diffusion) * factor
    }

    #[inline]
    fn step_qe(&self, s: &mut HestonState, rng: &mut PathRng) {
        let zv: f64 = rng.sample(StandardNormal);
        let zs: f64 = rng.sample(StandardNormal);
        let pre = self.qe_pre(s.v);
        let (v_next, expo, factor) = if pre.t >= T_C {
            (Self::qe_quadratic(&pre, zv), pre.expo, pre.factor)
        } else {
            self.qe_exponential(s.v, zv)
        };
        s.ratio *= self.qe_spot(s.v, v_next, expo, factor, zs);
        s.v = v_next;
    }

    /// QE over a whole chunk in lockstep, in phases: the deterministic
    /// arithmetic as loops over arrays (vectorised), the random draws scalar.
    /// Bitwise identical to calling [`PathGenerator::step`] path by path.
    fn fill_chunk_qe(&self, seed: u64, chunk: &mut PathChunk) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { self.fill_chunk_qe_avx512(seed, chunk) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.fill_chunk_qe_avx2(seed, chunk) };
        }
        self.fill_chunk_qe_body(seed, chunk)
    }

    /// The same code compiled for AVX-512 (8 lanes instead of SSE2's 2).
    /// Rust never fuses a multiply and an add unless asked (`mul_add`, not
    /// used here), so every operation rounds exactly as on the SSE2 path
    /// and results are bit-identical on every x86-64 machine.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn fill_chunk_qe_avx512(&self, seed: u64, chunk: &mut PathChunk) {
        self.fill_chunk_qe_body(seed, chunk)
    }

    /// The same code compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_chunk_qe_avx2(&self, seed: u64, chunk: &mut PathChunk) {
        self.fill_chunk_qe_body(seed, chunk)
    }

    #[inline(always)]
    fn fill_chunk_qe_body(&self, seed: u64, chunk: &mut PathChunk) {
        let n = chunk.paths();
        let first = chunk.first_path();
        let mut rngs: Vec<PathRng> = (0..n).map(|p| path_rng(seed, first + p as u64)).collect();
        let mut z = vec![0.0f64; 2 * n * NORMAL_BLOCK];
        let mut v_buf = vec![self.params.v0; n];
        let mut ratio_buf = vec![1.0f64; n];
        let mut next_buf = vec![1.0f64; n];
        let mut t_buf = vec![0.0f64; n];
        let s0 = self.params.s0;
        let (spot, var) = chunk.step_mut(0);
        spot.fill(s0);
        var.fill(self.params.v0);
        let steps = chunk.steps();
        for block in (1..=steps).step_by(NORMAL_BLOCK) {
            let len = NORMAL_BLOCK.min(steps + 1 - block);
            draw_normal_block::<2>(&mut rngs, len, &mut z);
            for j in 0..len {
                let (spot, var) = chunk.step_mut(block + j);
                // Equal-length slices let the compiler drop bounds checks and vectorise.
                let (spot, var) = (&mut spot[..n], &mut var[..n]);
                let (v, t) = (&v_buf[..n], &mut t_buf[..n]);
                let (ratio, next) = (&ratio_buf[..n], &mut next_buf[..n]);
                let zv = &z[2 * j * n..(2 * j + 1) * n];
                let zs = &z[(2 * j + 1) * n..(2 * j + 2) * n];
                // One vectorised pass assuming the quadratic branch everywhere,
                // writing the step straight into the chunk...
                for p in 0..n {
                    let pre = self.qe_pre(v[p]);
                    let vn = Self::qe_quadratic(&pre, zv[p]);
                    let r = ratio[p] * self.qe_spot(v[p], vn, pre.expo, pre.factor, zs[p]);
                    t[p] = pre.t;
                    next[p] = r;
                    spot[p] = s0 * r;
                    var[p] = vn;
                }
                // ...then the few paths on the exponential branch are redone
                // from their previous state.
                for p in 0..n {
                    if t[p] < T_C {
                        let (vn, e, f) = self.qe_exponential(v[p], zv[p]);
                        let r = ratio[p] * self.qe_spot(v[p], vn, e, f, zs[p]);
                        next[p] = r;
                        spot[p] = s0 * r;
                        var[p] = vn;
                    }
                }
                v_buf.copy_from_slice(var);
                std::mem::swap(&mut ratio_buf, &mut next_buf);
            }
        }
    }

    #[inline]
    fn step_euler(&self, s: &mut HestonState, rng: &mut PathRng) {
        let vp = s.v.max(0.0);
        let z1: f64 = rng.sample(StandardNormal);
        let z2: f64 = rng.sample(StandardNormal);
        let zs = self.params.rho * z1 + self.rho_bar * z2;
        let sd = vp.sqrt() * self.sqrt_dt;
        s.ratio *= exp((self.mu_dt - 0.5 * vp * self.dt) + sd * zs);
        s.v += self.params.kappa * (self.params.theta - vp) * self.dt + self.params.xi * sd * z1;
    }
}

impl PathGenerator for Heston {
    type State = HestonState;

    fn initial_state(&self) -> HestonState {
        HestonState {
            ratio: 1.0,
            v: self.params.v0,
        }
    }

    #[inline]
    fn observe(&self, s: &HestonState, spot: &mut [f64], variance: &mut [f64]) {
        spot[0] = self.params.s0 * s.ratio;
        variance[0] = s.v.max(0.0);
    }

    #[inline]
    fn step(&self, s: &mut HestonState, rng: &mut PathRng) {
        match self.scheme {
            HestonScheme::Qe => self.step_qe(s, rng),
            HestonScheme::Euler => self.step_euler(s, rng),
        }
    }

    fn fill_chunk(&self, seed: u64, chunk: &mut PathChunk) {
        match self.scheme {
            HestonScheme::Qe => self.fill_chunk_qe(seed, chunk),
            HestonScheme::Euler => fill_chunk_lockstep(self, seed, chunk),
        }
    }
}
