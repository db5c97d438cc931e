//! Black–Scholes–Merton over many options at once: the one implementation
//! behind [`BlackScholes::price`](super::BlackScholes::price),
//! [`BlackScholes::greeks`](super::BlackScholes::greeks) and the Python
//! package's vectorised functions.
//!
//! Options are processed in blocks of [`BLOCK`] lanes (struct of arrays):
//! the arguments of a block are copied into arrays, a branch-free loop
//! over the lanes (auto-vectorised; on x86-64 a copy compiled for AVX2 is
//! chosen at run time) computes the textbook closed forms with the
//! [`fastmath`](super::fastmath) functions, and a scalar pass then prices,
//! by Jäckel's normalised Black function, the few lanes where the textbook
//! difference of the two legs would lose more than two digits. A lane's
//! result does not depend on the block it is in, its position or the
//! vector width (no fused multiply-add), so one option priced alone and
//! the same option among a million give the same bits.

use super::fastmath::{exp, ln, norm_cdf_and_exp};
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType};
use implied_vol::{DefaultSpecialFn, PriceBlackScholesNormalised};
use serde::Serialize;
use std::ops::Range;

/// Price and sensitivities of one option.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Greeks {
    /// Present value.
    pub price: f64,
    /// ∂V/∂S.
    pub delta: f64,
    /// ∂²V/∂S².
    pub gamma: f64,
    /// ∂V/∂σ, per 1.00 of volatility.
    pub vega: f64,
    /// ∂V/∂t as calendar time passes (= −∂V/∂T), per year.
    pub theta: f64,
    /// ∂V/∂r, per 1.00 of rate.
    pub rho: f64,
    /// ∂V/∂q, per 1.00 of dividend yield.
    pub dividend_rho: f64,
}

impl Greeks {
    /// Every field NaN: an option with no implied volatility.
    pub fn nan() -> Self {
        Greeks {
            price: f64::NAN,
            delta: f64::NAN,
            gamma: f64::NAN,
            vega: f64::NAN,
            theta: f64::NAN,
            rho: f64::NAN,
            dividend_rho: f64::NAN,
        }
    }
}

/// `vol` is a volatility: finite and ≥ 0.
pub(crate) fn check_vol(vol: f64) -> Result<()> {
    if !(vol.is_finite() && vol >= 0.0) {
        return Err(Error::parameter(
            "volatility",
            vol,
            "must be finite and ≥ 0 (annualised, 0.2 = 20 %)",
        ));
    }
    Ok(())
}

/// Lanes per block.
pub const BLOCK: usize = 64;

/// One argument of a batch: a value shared by every option, or one value
/// per option.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    /// The same value for all.
    Scalar(f64),
    /// One value per option.
    Each(&'a [f64]),
}

impl Param<'_> {
    /// The value of option `i` (NaN past the end of a per-option slice).
    #[inline(always)]
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Param::Scalar(x) => *x,
            Param::Each(v) => v.get(i).copied().unwrap_or(f64::NAN),
        }
    }

    /// Copies options `start..start + out.len()` into `out` (NaN past the
    /// end of a per-option slice).
    #[inline(always)]
    fn load(&self, start: usize, out: &mut [f64]) {
        match self {
            Param::Scalar(x) => out.fill(*x),
            Param::Each(v) => {
                let src = v.get(start..).unwrap_or(&[]);
                let m = src.len().min(out.len());
                out[..m].copy_from_slice(&src[..m]);
                out[m..].fill(f64::NAN);
            }
        }
    }

    /// Copies options `start..start + out.len()` into `out` (NaN past the
    /// end of a per-option slice).
    pub(super) fn load_into(&self, start: usize, out: &mut [f64]) {
        self.load(start, out)
    }

    /// Whether `ok` holds for every value of options `range` (a
    /// vectorisable scan).
    #[inline(always)]
    fn all(&self, range: Range<usize>, ok: impl Fn(f64) -> bool) -> bool {
        match self {
            Param::Scalar(x) => ok(*x),
            Param::Each(v) => v
                .get(range)
                .is_some_and(|s| s.iter().fold(true, |acc, &x| acc & ok(x))),
        }
    }
}

/// Calls (`true`) or puts, shared or one per option.
#[derive(Debug, Clone, Copy)]
pub enum Calls<'a> {
    /// The same kind for all.
    Scalar(bool),
    /// One flag per option.
    Each(&'a [bool]),
}

impl Calls<'_> {
    /// Whether option `i` is a call (a put past the end of the slice).
    #[inline(always)]
    pub fn at(&self, i: usize) -> bool {
        match self {
            Calls::Scalar(c) => *c,
            Calls::Each(v) => v.get(i).copied().unwrap_or(false),
        }
    }

    fn load_signs(&self, start: usize, out: &mut [f64]) {
        for (j, o) in out.iter_mut().enumerate() {
            *o = if self.at(start + j) { 1.0 } else { -1.0 };
        }
    }
}

/// Options and markets for Black–Scholes–Merton: spot, strike, maturity
/// (years), volatility, rate and dividend yield, each shared or one per
/// option, and the call flags.
#[derive(Debug, Clone, Copy)]
pub struct BsBatch<'a> {
    /// Spot (> 0).
    pub spot: Param<'a>,
    /// Strike (> 0).
    pub strike: Param<'a>,
    /// Years to expiry (≥ 0).
    pub maturity: Param<'a>,
    /// Annualised volatility (≥ 0).
    pub vol: Param<'a>,
    /// Continuously compounded rate.
    pub rate: Param<'a>,
    /// Continuous dividend yield.
    pub dividend: Param<'a>,
    /// Calls or puts.
    pub call: Calls<'a>,
}

/// The seven output slices of [`BsBatch::greeks_into`], one slot per option.
#[derive(Debug)]
pub struct GreeksOut<'b> {
    /// Present value.
    pub price: &'b mut [f64],
    /// ∂V/∂S.
    pub delta: &'b mut [f64],
    /// ∂²V/∂S².
    pub gamma: &'b mut [f64],
    /// ∂V/∂σ per 1.00 of vol.
    pub vega: &'b mut [f64],
    /// −∂V/∂T per year.
    pub theta: &'b mut [f64],
    /// ∂V/∂r per 1.00 of rate.
    pub rho: &'b mut [f64],
    /// ∂V/∂q per 1.00 of dividend yield.
    pub dividend_rho: &'b mut [f64],
}

impl<'b> From<[&'b mut [f64]; 7]> for GreeksOut<'b> {
    /// The outputs in field order: price, delta, gamma, vega, theta, rho,
    /// dividend_rho.
    fn from([price, delta, gamma, vega, theta, rho, dividend_rho]: [&'b mut [f64]; 7]) -> Self {
        GreeksOut {
            price,
            delta,
            gamma,
            vega,
            theta,
            rho,
            dividend_rho,
        }
    }
}

impl GreeksOut<'_> {
    /// The number of options (the shortest slice).
    pub fn len(&self) -> usize {
        [
            self.price.len(),
            self.delta.len(),
            self.gamma.len(),
            self.vega.len(),
            self.theta.len(),
            self.rho.len(),
            self.dividend_rho.len(),
        ]
        .into_iter()
        .min()
        .unwrap_or(0)
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> BsBatch<'a> {
    /// The option and market of option `i`, checked as
    /// [`OptionSpec::new`], [`MarketState::new`] and
    /// [`BlackScholes::new`](super::BlackScholes::new) check them (in that
    /// order: strike, maturity, spot, rate, dividend, volatility).
    pub fn at(&self, i: usize) -> Result<(OptionSpec, MarketState, f64)> {
        let kind = if self.call.at(i) {
            OptionType::Call
        } else {
            OptionType::Put
        };
        let spec = OptionSpec::new(kind, self.strike.at(i), self.maturity.at(i))?;
        let state = MarketState::new(self.spot.at(i), self.rate.at(i), self.dividend.at(i))?;
        let vol = self.vol.at(i);
        check_vol(vol)?;
        Ok((spec, state, vol))
    }

    /// The first option of `range` with an invalid argument, and the error
    /// its checks give (see [`Self::at`]); `None` when all are valid. A
    /// vectorisable scan of each per-option argument; only a failing range
    /// is searched option by option. ([`Self::price_into`] and
    /// [`Self::greeks_into`] check each block as they load it.)
    pub fn first_invalid(&self, range: Range<usize>) -> Option<(usize, Error)> {
        let positive = |x: f64| x.is_finite() & (x > 0.0);
        let non_negative = |x: f64| x.is_finite() & (x >= 0.0);
        let finite = |x: f64| x.is_finite();
        let ok = self.strike.all(range.clone(), positive)
            && self.maturity.all(range.clone(), non_negative)
            && self.spot.all(range.clone(), positive)
            && self.rate.all(range.clone(), finite)
            && self.dividend.all(range.clone(), finite)
            && self.vol.all(range.clone(), non_negative);
        if ok {
            return None;
        }
        range
            .into_iter()
            .find_map(|i| self.at(i).err().map(|e| (i, e)))
    }

    /// Loads options `start..start + len` into `lanes`.
    pub(super) fn load<const N: usize>(&self, start: usize, len: usize, l: &mut Lanes<N>) {
        let len = len.min(N);
        self.spot.load(start, &mut l.s[..len]);
        self.strike.load(start, &mut l.k[..len]);
        self.maturity.load(start, &mut l.t[..len]);
        self.vol.load(start, &mut l.v[..len]);
        self.rate.load(start, &mut l.r[..len]);
        self.dividend.load(start, &mut l.q[..len]);
        self.call.load_signs(start, &mut l.sign[..len]);
    }

    /// Loads the block of options `start..start + len` into `l` and checks
    /// it: the first invalid option's index and error, if any.
    #[inline(always)]
    fn load_checked<const N: usize>(
        &self,
        start: usize,
        len: usize,
        l: &mut Lanes<N>,
    ) -> std::result::Result<(), (usize, Error)> {
        self.load(start, len, l);
        let len = len.min(N);
        if !lanes_valid(l, len, true) {
            if let Some(bad) = self.first_invalid(start..start + len) {
                return Err(bad);
            }
        }
        Ok(())
    }
}

/// Whether the loaded lanes `..len` are valid options (and volatilities,
/// when `vol` is set): a vectorisable fold.
#[inline(always)]
pub(super) fn lanes_valid<const N: usize>(l: &Lanes<N>, len: usize, vol: bool) -> bool {
    let len = len.min(N);
    let mut ok = true;
    for i in 0..len {
        let (s, k, t, v, r, q) = (l.s[i], l.k[i], l.t[i], l.v[i], l.r[i], l.q[i]);
        ok &= (k > 0.0) & (k < f64::INFINITY) & (0.0..f64::INFINITY).contains(&t);
        ok &= (s > 0.0) & (s < f64::INFINITY) & (r.abs() < f64::INFINITY);
        ok &= (q.abs() < f64::INFINITY) & (!vol | (0.0..f64::INFINITY).contains(&v));
    }
    ok
}

impl<'a> BsBatch<'a> {
    /// Prices of options `start..start + out.len()` into `out`, each block
    /// checked as it is loaded: an invalid option stops the work with its
    /// index and error (the options before it are priced).
    pub fn price_into(
        &self,
        start: usize,
        out: &mut [f64],
    ) -> std::result::Result<(), (usize, Error)> {
        if out.len() == 1 {
            let mut l = Lanes::<1>::default();
            self.load_checked(start, 1, &mut l)?;
            let mut fix = [false; 1];
            price_lanes(1, &l, out, &mut fix);
            fix_up(&l, 1, &fix, out);
            return Ok(());
        }
        let mut l = Lanes::<BLOCK>::default();
        for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let len = chunk.len();
            self.load_checked(start + b * BLOCK, len, &mut l)?;
            let mut fix = [false; BLOCK];
            price_block(len, &l, chunk, &mut fix);
            fix_up(&l, len, &fix, chunk);
        }
        Ok(())
    }

    /// Prices and greeks of options `start..start + out.len()` into the
    /// slices of `out` (checked as [`Self::price_into`] checks them).
    pub fn greeks_into(
        &self,
        start: usize,
        out: GreeksOut<'_>,
    ) -> std::result::Result<(), (usize, Error)> {
        let n = out.len();
        let GreeksOut {
            price,
            delta,
            gamma,
            vega,
            theta,
            rho,
            dividend_rho,
        } = out;
        let mut l = Lanes::<BLOCK>::default();
        let mut b0 = 0;
        while b0 < n {
            let len = (n - b0).min(BLOCK);
            let r = b0..b0 + len;
            self.load_checked(start + b0, len, &mut l)?;
            let mut fix = [false; BLOCK];
            let mut o = [
                &mut price[r.clone()],
                &mut delta[r.clone()],
                &mut gamma[r.clone()],
                &mut vega[r.clone()],
                &mut theta[r.clone()],
                &mut rho[r.clone()],
                &mut dividend_rho[r],
            ];
            greeks_block(len, &l, &mut o, &mut fix);
            fix_up(&l, len, &fix, o[0]);
            b0 += len;
        }
        Ok(())
    }

    /// Price and greeks of option `i` alone (the same bits as in a block).
    pub fn greeks_one(&self, i: usize) -> Greeks {
        let mut l = Lanes::<1>::default();
        self.load(i, 1, &mut l);
        let mut v = [[0.0f64; 1]; 7];
        let mut fix = [false; 1];
        {
            let [a, b, c, d, e, f, g] = &mut v;
            let mut o = [
                &mut a[..],
                &mut b[..],
                &mut c[..],
                &mut d[..],
                &mut e[..],
                &mut f[..],
                &mut g[..],
            ];
            greeks_lanes(1, &l, &mut o, &mut fix);
            fix_up(&l, 1, &fix, o[0]);
        }
        Greeks {
            price: v[0][0],
            delta: v[1][0],
            gamma: v[2][0],
            vega: v[3][0],
            theta: v[4][0],
            rho: v[5][0],
            dividend_rho: v[6][0],
        }
    }
}

/// The arguments of up to `N` options, one array per argument.
#[derive(Clone, Copy)]
pub(super) struct Lanes<const N: usize> {
    pub s: [f64; N],
    pub k: [f64; N],
    pub t: [f64; N],
    /// The volatility (for implied vols, the price).
    pub v: [f64; N],
    pub r: [f64; N],
    pub q: [f64; N],
    /// +1 for calls, −1 for puts.
    pub sign: [f64; N],
}

impl<const N: usize> Default for Lanes<N> {
    fn default() -> Self {
        Lanes {
            s: [1.0; N],
            k: [1.0; N],
            t: [0.0; N],
            v: [0.0; N],
            r: [0.0; N],
            q: [0.0; N],
            sign: [1.0; N],
        }
    }
}

/// The closed-form quantities of one lane.
struct Terms {
    d1: f64,
    sd: f64,
    sqrt_t: f64,
    se: f64,
    ke: f64,
    n1: f64,
    n2: f64,
    /// e^{−d1²/2}.
    e1: f64,
    price: f64,
    /// The textbook difference lost more than two digits: price by
    /// Jäckel's function instead.
    fallback: bool,
}

/// Log-moneyness `x = ln(S/K) + (r − q)T`, never from a rounded forward.
#[inline(always)]
pub(super) fn log_moneyness(s: f64, k: f64, t: f64, r: f64, q: f64) -> f64 {
    ln(s / k) + (r - q) * t
}

#[inline(always)]
fn terms(s: f64, k: f64, t: f64, v: f64, r: f64, q: f64, sign: f64) -> Terms {
    let sqrt_t = t.sqrt();
    let sd = v * sqrt_t;
    let se = s * exp(-q * t);
    let ke = k * exp(-r * t);
    let x = log_moneyness(s, k, t, r, q);
    // d1 → ±∞ when there is no diffusion left (σ√T = 0).
    let at_zero = if x > 0.0 {
        f64::INFINITY
    } else if x < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    let d1 = if sd > 0.0 { x / sd + 0.5 * sd } else { at_zero };
    let d2 = d1 - sd;
    let (n1, e1) = norm_cdf_and_exp(sign * d1);
    let (n2, _) = norm_cdf_and_exp(sign * d2);
    let (a, b) = (se * n1, ke * n2);
    let direct = sign * (a - b);
    let ok = (direct > 0.0) & ((a + b) < 100.0 * direct);
    let intrinsic = sign * (se - ke);
    let intrinsic = if intrinsic > 0.0 { intrinsic } else { 0.0 };
    let zero_sd = sd == 0.0;
    Terms {
        d1,
        sd,
        sqrt_t,
        se,
        ke,
        n1,
        n2,
        e1,
        price: if zero_sd { intrinsic } else { direct },
        fallback: !zero_sd & !ok,
    }
}

#[inline(always)]
fn price_lanes<const N: usize>(len: usize, l: &Lanes<N>, out: &mut [f64], fix: &mut [bool; N]) {
    let len = len.min(N).min(out.len());
    for i in 0..len {
        let tm = terms(l.s[i], l.k[i], l.t[i], l.v[i], l.r[i], l.q[i], l.sign[i]);
        out[i] = tm.price;
        fix[i] = tm.fallback;
    }
}

#[inline(always)]
fn greeks_lanes<const N: usize>(
    len: usize,
    l: &Lanes<N>,
    o: &mut [&mut [f64]; 7],
    fix: &mut [bool; N],
) {
    // 1/√(2π)
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    let len = o.iter().fold(len.min(N), |m, s| m.min(s.len()));
    let [price, delta, gamma, vega, theta, rho, dividend_rho] = o;
    for i in 0..len {
        let (s, t, sigma, r, q, sign) = (l.s[i], l.t[i], l.v[i], l.r[i], l.q[i], l.sign[i]);
        let tm = terms(s, l.k[i], t, sigma, r, q, sign);
        // S e^{−qT} φ(d1) appears in gamma, vega and theta.
        let se_pdf = tm.se * (INV_SQRT_2PI * tm.e1);
        // At the money with no diffusion the payoff kink is still ahead.
        let g0 = if tm.d1 == 0.0 { f64::INFINITY } else { 0.0 };
        let g = se_pdf / (s * s * tm.sd);
        let decay = -se_pdf * sigma / (2.0 * tm.sqrt_t);
        price[i] = tm.price;
        fix[i] = tm.fallback;
        // With n1 = N(±d1), n2 = N(±d2) for calls/puts (Haug 2007, §1.1):
        delta[i] = sign * tm.se / s * tm.n1;
        gamma[i] = if tm.sd > 0.0 { g } else { g0 };
        vega[i] = se_pdf * tm.sqrt_t;
        theta[i] =
            (if t > 0.0 { decay } else { 0.0 }) + sign * (q * tm.se * tm.n1 - r * tm.ke * tm.n2);
        rho[i] = sign * t * tm.ke * tm.n2;
        dividend_rho[i] = -sign * t * tm.se * tm.n1;
    }
}

/// Jäckel's normalised Black function for the lanes flagged in `fix`.
fn fix_up<const N: usize>(l: &Lanes<N>, len: usize, fix: &[bool; N], price: &mut [f64]) {
    for i in 0..len.min(N).min(price.len()) {
        if fix[i] {
            price[i] = normalised_price(l.s[i], l.k[i], l.t[i], l.v[i], l.r[i], l.q[i], l.sign[i]);
        }
    }
}

/// The price by Jäckel's normalised Black function ("Let's Be Rational",
/// Wilmott 2015): `e^{−rT}√(FK)·(intrinsic(x) + b(x, σ√T))`, exact to a few
/// ulp where the textbook difference cancels.
fn normalised_price(s: f64, k: f64, t: f64, v: f64, r: f64, q: f64, sign: f64) -> f64 {
    let x = log_moneyness(s, k, t, r, q);
    if x.is_nan() {
        // ln(S/K) and (r − q)T infinite with opposite signs (S/K underflowing
        // to 0 under a rate near f64::MAX, found by tests/it/fuzz.rs): no
        // forward exists, and Jäckel's function requires a number.
        return f64::NAN;
    }
    let sd = v * t.sqrt();
    let b = PriceBlackScholesNormalised::builder()
        .log_moneyness(x)
        .total_volatility(sd)
        .build_unchecked()
        .calculate::<DefaultSpecialFn>();
    let b = if b.is_finite() { b.max(0.0) } else { 0.0 };
    // e^{−rT}·√(S e^{(r−q)T}·K); square roots apart so that S·K cannot overflow.
    let scale = s.sqrt() * k.sqrt() * exp(-0.5 * (r + q) * t);
    let intrinsic = (sign * 2.0 * (0.5 * x).sinh()).max(0.0);
    scale * (intrinsic + b)
}

/// Runs `$body` (a call of an `#[inline(always)]` lane loop) compiled for
/// AVX-512 or AVX2 when the CPU has it, else for the baseline. All give the
/// same bits: Rust never fuses a multiply and an add unless asked
/// (`mul_add`, not used), so the wider registers only change the speed.
macro_rules! dispatch {
    ($name:ident, $generic:ident, ($($arg:ident : $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, checked just above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

dispatch!(price_block, price_lanes, (len: usize, l: &Lanes<BLOCK>, out: &mut [f64], fix: &mut [bool; BLOCK]));
dispatch!(greeks_block, greeks_lanes, (len: usize, l: &Lanes<BLOCK>, o: &mut [&mut [f64]; 7], fix: &mut [bool; BLOCK]));

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn the_dispatched_kernels_equal_the_baseline_bit_for_bit() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(46);
        for _ in 0..200 {
            let mut l = Lanes::<BLOCK>::default();
            for i in 0..BLOCK {
                l.s[i] = 100.0;
                l.k[i] = rng.random_range(1.0..1000.0);
                l.t[i] = if i % 17 == 0 {
                    0.0
                } else {
                    rng.random_range(0.0..10.0)
                };
                l.v[i] = if i % 13 == 0 {
                    0.0
                } else {
                    rng.random_range(0.0..3.0)
                };
                l.r[i] = rng.random_range(-0.05..0.2);
                l.q[i] = rng.random_range(-0.05..0.2);
                l.sign[i] = if rng.random::<bool>() { 1.0 } else { -1.0 };
            }
            let (mut a, mut b) = ([0.0; BLOCK], [0.0; BLOCK]);
            let (mut fa, mut fb) = ([false; BLOCK], [false; BLOCK]);
            price_block(BLOCK, &l, &mut a, &mut fa);
            price_lanes(BLOCK, &l, &mut b, &mut fb);
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
            assert_eq!(fa, fb);
            let mut ga = [[0.0; BLOCK]; 7];
            let mut gb = [[0.0; BLOCK]; 7];
            {
                let [x0, x1, x2, x3, x4, x5, x6] = &mut ga;
                greeks_block(BLOCK, &l, &mut [x0, x1, x2, x3, x4, x5, x6], &mut fa);
                let [x0, x1, x2, x3, x4, x5, x6] = &mut gb;
                greeks_lanes(BLOCK, &l, &mut [x0, x1, x2, x3, x4, x5, x6], &mut fb);
            }
            for (x, y) in ga.iter().zip(&gb) {
                assert_eq!(x.map(f64::to_bits), y.map(f64::to_bits));
            }
            // A lane alone (N = 1, scalar code) gives the same bits as in the block.
            for i in [0, 5, 63] {
                let mut one = Lanes::<1>::default();
                (one.s[0], one.k[0], one.t[0], one.v[0]) = (l.s[i], l.k[i], l.t[i], l.v[i]);
                (one.r[0], one.q[0], one.sign[0]) = (l.r[i], l.q[i], l.sign[i]);
                let mut p = [0.0];
                price_lanes(1, &one, &mut p, &mut [false]);
                assert_eq!(p[0].to_bits(), a[i].to_bits());
            }
        }
    }
}
