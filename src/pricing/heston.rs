//! Heston European prices by the COS method.
//!
//! References: F. Fang & C. W. Oosterlee, "A novel pricing method for
//! European options based on Fourier-cosine series expansions", SIAM J. Sci.
//! Comput. 31(2), 2008 — eqs. (22)–(30), put coefficients and put–call parity
//! for calls; H. Albrecher, P. Mayer, W. Schoutens & J. Tistaert, "The little
//! Heston trap", Wilmott 2007 — the characteristic function in the form that
//! stays on the principal branch of the complex logarithm.
//!
//! The characteristic function is that of `X = ln(S_T/F_T)`, so one set of
//! its values per maturity serves every strike: the truncation interval for
//! `y = ln(S_T/K) = X + ln(F/K)` is `ln(F/K) + [c1 − w₋, c1 + w₊]`, whose
//! width — and so every frequency `u_k = kπ/(b − a)` and the phase
//! `e^{iu_k(ln(F/K) − a)}` — is the same for all strikes. The tail widths
//! `w±` come from Chernoff bounds (see [`HestonModel::slice`]); the number of
//! terms from the decay of the characteristic function.

use super::black::Normalised;
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType};
use num_complex::Complex64;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Checks the variance-process parameters shared by simulation and pricing:
/// `v0 ≥ 0`, `kappa > 0`, `theta > 0`, `xi > 0` (all finite), `|rho| ≤ 1`.
/// The Feller condition `2κθ ≥ ξ²` is *not* required.
pub(crate) fn check_variance_params(
    v0: f64,
    kappa: f64,
    theta: f64,
    xi: f64,
    rho: f64,
) -> Result<()> {
    let positive = |name: &str, x: f64, what: &str| {
        if x.is_finite() && x > 0.0 {
            Ok(())
        } else {
            Err(Error::parameter(
                name,
                x,
                format!("{what} must be positive and finite"),
            ))
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
        return Err(Error::parameter(
            "rho",
            rho,
            "correlation must lie in [-1, 1]",
        ));
    }
    Ok(())
}

/// Heston variance parameters for pricing (the spot, rate and dividend come
/// from the [`MarketState`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HestonModel {
    v0: f64,
    kappa: f64,
    theta: f64,
    xi: f64,
    rho: f64,
}

/// Cosine terms are added until |φ(u_k)| falls below this (φ(0) = 1): the
/// omitted terms are then below the f64 resolution of the price. The
/// number needed ranges from ~50 (smooth densities) to thousands (short
/// maturities with high vol of vol and ρ near −1, where φ decays only
/// exponentially in u).
const CF_TOLERANCE: f64 = 1e-14;
/// At least this many terms…
const MIN_TERMS: usize = 32;
/// …and at most this many.
const MAX_TERMS: usize = 65_536;
/// Tail mass allowed outside the truncation interval on each side.
const TAIL_MASS: f64 = 1e-13;
/// Exponents p of the moments E[e^{±pX}] tried in the Chernoff bounds: a
/// geometric grid of ratio √2 from 1/16 to 64 (the bound is minimised over it).
fn chernoff_exponents() -> impl Iterator<Item = f64> {
    (0..=20).map(|i| 2f64.powf(0.5 * f64::from(i) - 4.0))
}

/// The Chernoff exponents with both signs: −p for the left tail, +p for the
/// right.
fn signed_exponents() -> impl Iterator<Item = f64> {
    chernoff_exponents().map(|p| -p).chain(chernoff_exponents())
}

/// One maturity's characteristic-function values, ready to price any strike.
#[derive(Debug, Clone)]
pub struct HestonSlice {
    t: f64,
    /// b − a
    width: f64,
    /// x0 − a = L√c2 − c1 (independent of the strike)
    offset: f64,
    /// u_k = kπ/(b − a)
    u: Vec<f64>,
    /// 1/(1 + u_k²)
    inv_1pu2: Vec<f64>,
    /// Re-weighted coefficients: `w_k·φ_X(u_k)·e^{iu_k(x0 − a)}`, with w_0 = ½.
    coef: Vec<Complex64>,
}

impl HestonModel {
    /// Validated parameters: `v0 ≥ 0`, `kappa, theta, xi > 0`, `|rho| ≤ 1`.
    pub fn new(v0: f64, kappa: f64, theta: f64, xi: f64, rho: f64) -> Result<Self> {
        check_variance_params(v0, kappa, theta, xi, rho)?;
        Ok(HestonModel {
            v0,
            kappa,
            theta,
            xi,
            rho,
        })
    }

    /// `ln E[e^{iuX}]`, `X = ln(S_T/F_T)`, in the "little Heston trap" form
    /// (Albrecher et al. 2007): with `β = κ − ρξiu`,
    /// `d = √(β² + ξ²(iu + u²))` and `g = (β − d)/(β + d)`,
    /// `ln φ = κθ/ξ² [(β − d)T − 2 ln((1 − g e^{−dT})/(1 − g))]
    ///        + v0 (β − d)/ξ² (1 − e^{−dT})/(1 − g e^{−dT})`.
    /// Written without `g`: `(1 − g e)/(1 − g) = (β + d − (β − d)e)/(2d)` and
    /// `(1 − e)/(1 − g e) = (β + d)(1 − e)/(β + d − (β − d)e)`, which halves
    /// the complex divisions.
    pub fn log_cf(&self, u: Complex64, t: f64) -> Complex64 {
        let (c, d) = self.affine_cf(u, t);
        c + d * self.v0
    }

    /// The two parts of `ln φ = C(u, T) + D(u, T)·v0` (Heston's affine
    /// form; see [`Self::log_cf`]): neither depends on `v0`, so
    /// [`HestonPricer`] computes them once per maturity for every path.
    fn affine_cf(&self, u: Complex64, t: f64) -> (Complex64, Complex64) {
        let HestonModel {
            kappa,
            theta,
            xi,
            rho,
            ..
        } = *self;
        let i = Complex64::i();
        let xi2 = xi * xi;
        let beta = kappa - rho * xi * i * u;
        let d = (beta * beta + xi2 * (i * u + u * u)).sqrt();
        let bm = beta - d;
        let bp = beta + d;
        let e = (-d * t).exp();
        let den = bp - bm * e;
        let c = kappa * theta / xi2 * (bm * t - 2.0 * (den / (2.0 * d)).ln());
        let dd = bm * bp * (1.0 - e) / (xi2 * den);
        (c, dd)
    }

    /// `ln E[e^{pX}]` for real `p`: the characteristic function at `u = −ip`.
    /// `None` where the moment has exploded by `t`. With `β = κ − ρξp` and
    /// `d² = β² + ξ²(p − p²)`: for real `d` the moment is finite while the
    /// denominator `β + d − (β − d)e^{−dt}` stays positive; for imaginary
    /// `d = iδ` that denominator first vanishes at
    /// `T* = 2(π − atan2(δ, β))/δ` (Andersen & Piterbarg, "Moment explosions
    /// in stochastic volatility models", Finance Stoch. 11, 2007, §3).
    fn log_mgf(&self, p: f64, t: f64) -> Option<f64> {
        let (c, d) = self.affine_mgf(p, t)?;
        let m = c + d * self.v0;
        m.is_finite().then_some(m)
    }

    /// `ln E[e^{pX}] = C + D·v0` as `(C, D)`; `None` where the moment has
    /// exploded by `t` (which does not depend on `v0`).
    fn affine_mgf(&self, p: f64, t: f64) -> Option<(f64, f64)> {
        let HestonModel { kappa, xi, rho, .. } = *self;
        let beta = kappa - rho * xi * p;
        let d2 = beta * beta + xi * xi * (p - p * p);
        let exists = if d2 > 0.0 {
            let d = d2.sqrt();
            (beta + d) - (beta - d) * (-d * t).exp() > 0.0
        } else {
            let delta = (-d2).sqrt();
            t < 2.0 * (std::f64::consts::PI - delta.atan2(beta)) / delta
        };
        if !exists {
            return None;
        }
        let (c, d) = self.affine_cf(Complex64::new(0.0, -p), t);
        Some((c.re, d.re))
    }

    /// `c1 = E[X] = −½ E[∫v]` and the standard-deviation scale of `X` at `t`.
    fn mean_and_scale(&self, t: f64) -> (f64, f64) {
        let e = (-self.kappa * t).exp();
        let mean_var = self.theta * t + (self.v0 - self.theta) * (1.0 - e) / self.kappa;
        (-0.5 * mean_var, mean_var.max(1e-300).sqrt())
    }

    /// The truncation interval of `X` as (left width, right width) around
    /// `c1`, from the log-moments `mgf(j) = ln E[e^{p_j X}]` at the signed
    /// exponents `p_j` of [`signed_exponents`] (see [`Self::slice`]).
    fn interval(&self, t: f64, mgf: impl Fn(usize) -> Option<f64>) -> (f64, f64) {
        let (c1, sd) = self.mean_and_scale(t);
        let (mut left, mut right) = (f64::INFINITY, f64::INFINITY);
        for (j, p) in signed_exponents().enumerate() {
            if let Some(m) = mgf(j) {
                let w = (m - p * c1 - TAIL_MASS.ln()) / p.abs();
                let side = if p < 0.0 { &mut left } else { &mut right };
                *side = side.min(w);
            }
        }
        // E[e^{X}] = 1 always exists, so `right` is finite; guard anyway.
        let left = if left.is_finite() { left } else { 400.0 * sd };
        let right = if right.is_finite() { right } else { 40.0 * sd };
        (left, right)
    }

    /// Precomputes the characteristic function for maturity `t > 0`.
    pub fn slice(&self, t: f64) -> HestonSlice {
        // Truncation interval for X from Chernoff bounds on both tails:
        // P(X ≤ c1 − w) ≤ E[e^{−pX}]·e^{p(c1 − w)} for any p > 0, and
        // symmetrically on the right; w is the smallest over the moments that
        // exist. Heston's tails are exponential with rates set by its moment
        // explosions, so this is wide where a tail is heavy (ρ near −1 with
        // high vol of vol) and narrow where the density is nearly Gaussian,
        // which a fixed multiple of the standard deviation cannot be.
        // c1 = E[X] = −½ E[∫v] exactly.
        let exponents: Vec<f64> = signed_exponents().collect();
        let (left, right) = self.interval(t, |j| self.log_mgf(exponents[j], t));
        let (c1, _) = self.mean_and_scale(t);
        // x0 − a, with a = x0 + c1 − left.
        HestonSlice::build(t, left + right, left - c1, |_, uk| {
            self.log_cf(Complex64::new(uk, 0.0), t)
        })
    }

    /// Present value of one option.
    pub fn price(&self, spec: &OptionSpec, state: &MarketState) -> f64 {
        if spec.maturity() == 0.0 {
            return super::black::discounted_intrinsic(spec, state);
        }
        self.slice(spec.maturity()).price(spec, state)
    }
}

/// Heston slices for many initial variances at fixed `(κ, θ, ξ, ρ)`: the
/// chains of a simulated Heston market, one per path and date, each priced
/// with the path's own `v0`.
///
/// `ln φ(u) = C(u, T) + D(u, T)·v0` with `C` and `D` free of `v0`, so they
/// are computed once per maturity and frequency grid and kept: a slice then
/// costs one complex exponential per cosine term instead of a complex square
/// root, logarithm and two exponentials (the moments behind the truncation
/// interval are kept the same way). The frequency grid `u_k = kπ/w` depends
/// on `v0` through the interval width `w`, so widths are rounded up to the
/// grid `2^{n/8}`: nearby variances share one set of terms, and a wider
/// interval (extended on the right) keeps the tail bound. Memory is bounded
/// by the distinct maturities × width buckets met, not by the paths; the
/// values are a pure function of their key, so prices do not depend on
/// which thread filled the cache first.
#[derive(Debug, Serialize)]
pub struct HestonPricer {
    #[serde(flatten)]
    params: HestonVarianceParams,
    /// Per maturity (its bits): `(C, D)` of each signed Chernoff exponent.
    #[serde(skip)]
    mgf: Cache<u64, Vec<Option<(f64, f64)>>>,
    /// Per (maturity bits, width bucket): `(C, D)` of each cosine term k ≥ 1.
    #[serde(skip)]
    cf: Cache<(u64, i32), Vec<(Complex64, Complex64)>>,
}

/// A map shared by the threads pricing chains.
type Cache<K, V> = Mutex<HashMap<K, Arc<V>>>;

/// `(κ, θ, ξ, ρ)`, as run.json records them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct HestonVarianceParams {
    kappa: f64,
    theta: f64,
    xi: f64,
    rho: f64,
}

impl PartialEq for HestonPricer {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
    }
}

/// Width buckets per octave of the truncation interval (see [`HestonPricer`]).
const WIDTH_BUCKETS_PER_OCTAVE: f64 = 8.0;

impl HestonPricer {
    /// Validated parameters: `kappa, theta, xi > 0`, `|rho| ≤ 1`.
    pub fn new(kappa: f64, theta: f64, xi: f64, rho: f64) -> Result<Self> {
        check_variance_params(theta, kappa, theta, xi, rho)?;
        Ok(HestonPricer {
            params: HestonVarianceParams {
                kappa,
                theta,
                xi,
                rho,
            },
            mgf: Mutex::default(),
            cf: Mutex::default(),
        })
    }

    /// The slice of maturity `t > 0` for initial variance `v0` (negative
    /// values are taken as 0).
    pub fn slice(&self, v0: f64, t: f64) -> HestonSlice {
        let HestonVarianceParams {
            kappa,
            theta,
            xi,
            rho,
        } = self.params;
        let v0 = v0.max(0.0);
        let model = HestonModel {
            v0,
            kappa,
            theta,
            xi,
            rho,
        };
        let moments = cached(&self.mgf, t.to_bits(), |_| {
            Arc::new(signed_exponents().map(|p| model.affine_mgf(p, t)).collect())
        });
        let (left, right) = model.interval(t, |j| {
            let (c, d) = moments[j]?;
            let m = c + d * v0;
            m.is_finite().then_some(m)
        });
        let bucket = ((left + right).log2() * WIDTH_BUCKETS_PER_OCTAVE).ceil();
        let width = (bucket / WIDTH_BUCKETS_PER_OCTAVE).exp2();
        let key = (t.to_bits(), bucket as i32);
        let (c1, _) = model.mean_and_scale(t);
        let known = cached(&self.cf, key, |_| Arc::new(Vec::new()));
        let mut extra = Vec::new();
        let slice = HestonSlice::build(t, width, left - c1, |k, uk| {
            let (c, d) = match known.get(k - 1) {
                Some(&cd) => cd,
                None => {
                    let cd = model.affine_cf(Complex64::new(uk, 0.0), t);
                    extra.push(cd);
                    cd
                }
            };
            c + d * v0
        });
        if !extra.is_empty() {
            let mut all = Vec::with_capacity(known.len() + extra.len());
            all.extend_from_slice(&known);
            all.extend(extra);
            let mut map = self.cf.lock().unwrap_or_else(|e| e.into_inner());
            let entry = map.entry(key).or_default();
            if entry.len() < all.len() {
                *entry = Arc::new(all);
            }
        }
        slice
    }
}

/// The cached value of `key`, made by `make` on a miss. The lock is not
/// held while `make` runs; two threads missing at once compute the same
/// value and the first insert wins.
fn cached<K: std::hash::Hash + Eq + Copy, V>(
    map: &Cache<K, V>,
    key: K,
    make: impl FnOnce(K) -> Arc<V>,
) -> Arc<V> {
    if let Some(v) = map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(v);
    }
    let v = make(key);
    Arc::clone(
        map.lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert(v),
    )
}

impl HestonSlice {
    /// The cosine terms of maturity `t` on an interval of `width` with
    /// `x0 − a = offset`: `log_cf(k, u_k)` gives `ln φ(u_k)` for `k ≥ 1`.
    /// Terms are added until `|φ(u_k)|` falls below [`CF_TOLERANCE`].
    fn build(
        t: f64,
        width: f64,
        offset: f64,
        mut log_cf: impl FnMut(usize, f64) -> Complex64,
    ) -> HestonSlice {
        let mut u = Vec::with_capacity(256);
        let mut inv_1pu2 = Vec::with_capacity(256);
        let mut coef = Vec::with_capacity(256);
        for k in 0..MAX_TERMS {
            let uk = k as f64 * std::f64::consts::PI / width;
            // φ(u_k)·e^{iu_k(x0 − a)} as one complex exponential.
            let (c, magnitude) = if k == 0 {
                (Complex64::new(0.5, 0.0), 1.0)
            } else {
                let l = log_cf(k, uk);
                let magnitude = l.re.exp();
                let (sin, cos) = (l.im + uk * offset).sin_cos();
                (Complex64::new(magnitude * cos, magnitude * sin), magnitude)
            };
            u.push(uk);
            inv_1pu2.push(1.0 / (1.0 + uk * uk));
            coef.push(c);
            if k >= MIN_TERMS && magnitude < CF_TOLERANCE {
                break;
            }
        }
        HestonSlice {
            t,
            width,
            offset,
            u,
            inv_1pu2,
            coef,
        }
    }

    /// Maturity in years.
    pub fn maturity(&self) -> f64 {
        self.t
    }

    /// Number of cosine terms used for this maturity.
    pub fn terms(&self) -> usize {
        self.u.len()
    }

    /// Put values divided by `e^{−rT}·K`, for log-moneyness `x0 = ln(F/K)`
    /// of each strike: `(2/(b−a)) Σ' Re[φ(u_k) e^{iu_k(x0−a)}]·(ψ_k(a, d) − χ_k(a, d))`
    /// with `[a, b] = [x0 − offset, x0 − offset + width]` and `d = min(0, b)`
    /// (Fang & Oosterlee eqs. 22–25, 29). Strikes are the inner loop: each
    /// strike's `cos/sin(u_k(d − a))` advance by an independent rotation, so
    /// the loop vectorises across strikes.
    fn puts_over_discounted_strike(&self, x0: &[f64]) -> Vec<f64> {
        let n = x0.len();
        let mut ea = vec![0.0; n];
        let mut ed = vec![0.0; n];
        let mut rot_re = vec![1.0; n];
        let mut rot_im = vec![0.0; n];
        let mut z_re = vec![1.0; n];
        let mut z_im = vec![0.0; n];
        let mut sum = vec![0.0; n];
        let mut live = vec![false; n];
        for j in 0..n {
            let a = x0[j] - self.offset;
            let d = (a + self.width).min(0.0);
            if d > a {
                live[j] = true;
                ea[j] = a.exp();
                ed[j] = d.exp();
                let (s, c) = (std::f64::consts::PI * (d - a) / self.width).sin_cos();
                (rot_re[j], rot_im[j]) = (c, s);
                // k = 0 term: weight ½ is in coef[0]; ψ_0 = d − a, χ_0 = e^d − e^a.
                sum[j] = self.coef[0].re * ((d - a) - (ed[j] - ea[j]));
            } else {
                // The payoff vanishes on the whole interval.
                (ea[j], ed[j], rot_re[j], rot_im[j]) = (0.0, 0.0, 1.0, 0.0);
            }
        }
        for k in 1..self.u.len() {
            let (uk, inv_uk, inv_1pu2, c) = (
                self.u[k],
                1.0 / self.u[k],
                self.inv_1pu2[k],
                self.coef[k].re,
            );
            for j in 0..n {
                // Advance e^{i k θ_j}.
                let (zr, zi) = (z_re[j], z_im[j]);
                let (cos_k, sin_k) = (
                    zr * rot_re[j] - zi * rot_im[j],
                    zr * rot_im[j] + zi * rot_re[j],
                );
                z_re[j] = cos_k;
                z_im[j] = sin_k;
                let chi = inv_1pu2 * (cos_k * ed[j] - ea[j] + uk * sin_k * ed[j]);
                let psi = sin_k * inv_uk;
                sum[j] += c * (psi - chi);
            }
        }
        let scale = 2.0 / self.width;
        sum.iter()
            .zip(&live)
            .map(|(s, &l)| if l { scale * s } else { 0.0 })
            .collect()
    }

    /// Present values of several options of this slice's maturity, sharing
    /// the characteristic-function values (a chain).
    pub fn prices(&self, specs: &[OptionSpec], state: &MarketState) -> Vec<f64> {
        // One cosine sum per run of equal strikes (a call and a put of the
        // same strike share it: x0 does not depend on the type).
        let mut x0 = Vec::with_capacity(specs.len());
        let mut sum_of = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            if i == 0 || s.strike() != specs[i - 1].strike() {
                x0.push(Normalised::new(s, state).x);
            }
            sum_of.push(x0.len() - 1);
        }
        let puts = self.puts_over_discounted_strike(&x0);
        let df = state.discount(self.t);
        let se = state.spot() * (-state.dividend() * self.t).exp();
        specs
            .iter()
            .zip(sum_of.iter().map(|&i| puts[i]))
            .map(|(spec, p)| {
                let df_k = spec.strike() * df;
                let put = (df_k * p).max(0.0);
                let value = match spec.option_type() {
                    OptionType::Put => put,
                    // Put–call parity: C = P + S e^{−qT} − K e^{−rT}.
                    OptionType::Call => put + se - df_k,
                };
                // No-arbitrage bounds absorb truncation noise far from the money.
                let b = super::black::no_arbitrage_bounds(spec, state);
                value.clamp(b.lower, b.upper)
            })
            .collect()
    }

    /// Call and put present values at each strike, from one cosine sum per
    /// strike (the put; the call by parity), each clamped to its
    /// no-arbitrage bounds.
    pub fn calls_and_puts(&self, strikes: &[f64], state: &MarketState) -> Result<Vec<(f64, f64)>> {
        let specs: Vec<OptionSpec> = strikes
            .iter()
            .flat_map(|&k| {
                [OptionType::Call, OptionType::Put].map(|ty| OptionSpec::new(ty, k, self.t))
            })
            .collect::<Result<_>>()?;
        Ok(self
            .prices(&specs, state)
            .chunks_exact(2)
            .map(|p| (p[0], p[1]))
            .collect())
    }

    /// Present value of `spec` (its maturity must be this slice's).
    pub fn price(&self, spec: &OptionSpec, state: &MarketState) -> f64 {
        self.prices(std::slice::from_ref(spec), state)[0]
    }
}

/// Heston chains with `v0` = the path's variance, each expiry by COS.
impl super::ChainPricer for HestonPricer {
    fn chain_prices(
        &self,
        market: &MarketState,
        state: &super::PathState<'_>,
        expiries: &[super::Expiry],
    ) -> Result<Option<crate::pricing::ChainPrices>> {
        expiries
            .iter()
            .map(|(_, maturity, strikes)| {
                self.slice(state.variance, *maturity)
                    .calls_and_puts(strikes, market)
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}
