//! Implied Black volatility by Jäckel's "Let's Be Rational" (2015), through
//! the MIT-licensed `implied-vol` crate: machine precision wherever the price
//! determines the volatility, in two iterations at most.

use super::batch::{lanes_valid, log_moneyness, BsBatch, Calls, Lanes, Param, BLOCK};
use super::fastmath::exp;
use crate::error::Error;
use crate::market::{MarketState, OptionSpec, OptionType};
use implied_vol::{DefaultSpecialFn, ImpliedBlackVolatilityNormalised};

/// Why a price has no implied volatility.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum IvError {
    /// The price is not a finite number.
    #[error("price {0} is not a finite number")]
    NotFinite(f64),
    /// Below the lower no-arbitrage bound (discounted intrinsic value of the forward).
    #[error(
        "price {price} is below the no-arbitrage lower bound {bound} (discounted intrinsic value)"
    )]
    BelowIntrinsic {
        /// The price given.
        price: f64,
        /// `e^{−rT}·max(φ(F − K), 0)`.
        bound: f64,
    },
    /// At or above the upper bound (`S e^{−qT}` for calls, `K e^{−rT}` for puts).
    #[error("price {price} is at or above the no-arbitrage upper bound {bound}")]
    AboveUpperBound {
        /// The price given.
        price: f64,
        /// The bound.
        bound: f64,
    },
    /// The option has expired: only its intrinsic value is attainable.
    #[error("maturity is 0: the price must equal the intrinsic value {intrinsic}")]
    Expired {
        /// Intrinsic value.
        intrinsic: f64,
    },
}

/// The annualised volatility at which Black–Scholes–Merton reproduces
/// `price`.
///
/// Bounds (`F` the forward): a call lies in `[e^{−rT}(F − K)⁺, S e^{−qT})`, a
/// put in `[e^{−rT}(K − F)⁺, K e^{−rT})`. In the money, the intrinsic value
/// `±(S e^{−qT} − K e^{−rT})` is itself known only to the rounding of its
/// two legs, so prices within 8 ulps of `S e^{−qT} + K e^{−rT}` of it count
/// as the intrinsic value, whose implied volatility is 0: such a price
/// carries no information about σ. Below that band the price is an error.
pub fn implied_vol(price: f64, spec: &OptionSpec, state: &MarketState) -> Result<f64, IvError> {
    let options = BsBatch {
        spot: Param::Scalar(state.spot()),
        strike: Param::Scalar(spec.strike()),
        maturity: Param::Scalar(spec.maturity()),
        vol: Param::Scalar(0.0),
        rate: Param::Scalar(state.rate()),
        dividend: Param::Scalar(state.dividend()),
        call: Calls::Scalar(spec.option_type() == OptionType::Call),
    };
    let mut l = Lanes::<1>::default();
    options.load(0, 1, &mut l);
    l.v[0] = price;
    let mut pre = Prepared::<1>::default();
    prepare(1, &l, &mut pre);
    solve(&l, &pre, 0)
}

/// The implied volatilities of many options at once: the arguments of
/// [`BsBatch`] (its volatility unused) and one price per option (or one for
/// all).
#[derive(Debug, Clone, Copy)]
pub struct IvBatch<'a> {
    /// The options' prices.
    pub price: Param<'a>,
    /// The options and markets.
    pub options: BsBatch<'a>,
}

impl IvBatch<'_> {
    /// Implied vols of options `start..start + out.len()` into `out`; a
    /// price without one goes to `on_error` (with its option's index),
    /// whose value is written or whose error stops the work. An invalid
    /// option (strike, maturity, spot, rate, dividend) stops it too, with
    /// its index and error. The same numbers as [`implied_vol()`] gives each
    /// option alone.
    pub fn implied_vols_into(
        &self,
        start: usize,
        out: &mut [f64],
        on_error: impl Fn(usize, f64, IvError) -> Result<f64, Error>,
    ) -> Result<(), (usize, Error)> {
        let mut l = Lanes::<BLOCK>::default();
        let mut pre = Prepared::<BLOCK>::default();
        for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let (first, len) = (start + b * BLOCK, chunk.len());
            self.options.load(first, len, &mut l);
            if !lanes_valid(&l, len, false) {
                if let Some(bad) = self.options.first_invalid(first..first + len) {
                    return Err(bad);
                }
            }
            self.price.load_into(first, &mut l.v[..len]);
            prepare_block(len, &l, &mut pre);
            for (j, slot) in chunk.iter_mut().enumerate() {
                *slot = match solve(&l, &pre, j) {
                    Ok(v) => v,
                    Err(e) => on_error(first + j, l.v[j], e).map_err(|err| (first + j, err))?,
                };
            }
        }
        Ok(())
    }
}

/// What the vectorised pass found for a lane.
const SOLVE: f64 = 0.0;
const ZERO: f64 = 1.0;
const NOT_FINITE: f64 = 2.0;
const BELOW: f64 = 3.0;
const ABOVE: f64 = 4.0;
const EXPIRED: f64 = 5.0;

/// The normalisation of each lane (Jäckel's `x`, normalised time value
/// `b`), its bounds and its outcome code.
#[derive(Clone, Copy)]
struct Prepared<const N: usize> {
    code: [f64; N],
    x: [f64; N],
    b: [f64; N],
    lower: [f64; N],
    upper: [f64; N],
}

impl<const N: usize> Default for Prepared<N> {
    fn default() -> Self {
        Prepared {
            code: [ZERO; N],
            x: [0.0; N],
            b: [0.0; N],
            lower: [0.0; N],
            upper: [0.0; N],
        }
    }
}

/// The bounds checks and the normalisation, branch-free over the lanes.
///
/// Bounds (`F` the forward): a call lies in `[e^{−rT}(F − K)⁺, S e^{−qT})`,
/// a put in `[e^{−rT}(K − F)⁺, K e^{−rT})`; prices within 8 ulps of
/// `S e^{−qT} + K e^{−rT}` of the intrinsic value count as intrinsic (vol
/// 0). The normalised time value is `b = price/scale − intrinsic(x)` with
/// `scale = e^{−rT}√(FK)` and `intrinsic(x) = max(±2 sinh(x/2), 0)`.
#[inline(always)]
fn prepare<const N: usize>(len: usize, l: &Lanes<N>, pre: &mut Prepared<N>) {
    for i in 0..len.min(N) {
        let (s, k, t, p, r, q, sign) = (l.s[i], l.k[i], l.t[i], l.v[i], l.r[i], l.q[i], l.sign[i]);
        let se = s * exp(-q * t);
        let ke = k * exp(-r * t);
        let diff = sign * (se - ke);
        let lower = if diff > 0.0 { diff } else { 0.0 };
        let upper = if sign > 0.0 { se } else { ke };
        let band = if lower > 0.0 {
            8.0 * f64::EPSILON * (se + ke)
        } else {
            0.0
        };
        let x = log_moneyness(s, k, t, r, q);
        // e^{−rT}·√(F·K) = √(S e^{−qT})·√(K e^{−rT}); square roots apart so
        // that S·K cannot overflow. The discounted legs are already at hand,
        // so no third exponential.
        let (root_se, root_ke) = (se.sqrt(), ke.sqrt());
        let scale = root_se * root_ke;
        // e^{x/2} = √(F/K) = √(S e^{−qT})/√(K e^{−rT}): a division, not a
        // fourth exponential.
        let intrinsic = sign * two_sinh_half(x, root_se / root_ke);
        let intrinsic = if intrinsic > 0.0 { intrinsic } else { 0.0 };
        let b = p / scale - intrinsic;
        let code = if b <= 0.0 { ZERO } else { SOLVE };
        let code = if t == 0.0 { EXPIRED } else { code };
        let code = if p <= lower + band { ZERO } else { code };
        let code = if p >= upper { ABOVE } else { code };
        let code = if p < lower - band { BELOW } else { code };
        let code = if p.abs() < f64::INFINITY {
            code
        } else {
            NOT_FINITE
        };
        pre.code[i] = code;
        pre.x[i] = x;
        pre.b[i] = b;
        pre.lower[i] = lower;
        pre.upper[i] = upper;
    }
}

/// `2 sinh(x/2)`, branch-free, with `h = e^{x/2}` given: the Taylor series
/// (to `y¹⁹/19!`, whose remainder is below `2e-20` relative) for
/// `|y| = |x/2| < 1`, where `h − 1/h` would cancel, else that difference.
#[inline(always)]
fn two_sinh_half(x: f64, h: f64) -> f64 {
    const C: [f64; 10] = [
        1.0,
        1.0 / 6.0,
        1.0 / 120.0,
        1.0 / 5040.0,
        1.0 / 362_880.0,
        1.0 / 39_916_800.0,
        1.0 / 6_227_020_800.0,
        1.0 / 1_307_674_368_000.0,
        1.0 / 355_687_428_096_000.0,
        1.0 / 121_645_100_408_832_000.0,
    ];
    let y = 0.5 * x;
    let z = y * y;
    let mut p = C[9];
    for c in C[..9].iter().rev() {
        p = p * z + c;
    }
    let wide = h - 1.0 / h;
    if y.abs() < 1.0 {
        2.0 * (y * p)
    } else {
        wide
    }
}

/// [`prepare`] for a block, compiled for AVX-512 or AVX2 when the CPU has
/// it (the same bits: no fused multiply-adds).
fn prepare_block(len: usize, l: &Lanes<BLOCK>, pre: &mut Prepared<BLOCK>) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512(len: usize, l: &Lanes<BLOCK>, pre: &mut Prepared<BLOCK>) {
            prepare(len, l, pre)
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(len: usize, l: &Lanes<BLOCK>, pre: &mut Prepared<BLOCK>) {
            prepare(len, l, pre)
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { avx512(len, l, pre) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2(len, l, pre) };
        }
    }
    prepare(len, l, pre)
}

/// Lane `i`'s implied vol: Jäckel's "Let's Be Rational" on the normalised
/// time value, or the outcome the vectorised pass found.
fn solve<const N: usize>(l: &Lanes<N>, pre: &Prepared<N>, i: usize) -> Result<f64, IvError> {
    let (price, lower, upper) = (l.v[i], pre.lower[i], pre.upper[i]);
    let code = pre.code[i];
    if code == NOT_FINITE {
        Err(IvError::NotFinite(price))
    } else if code == BELOW {
        Err(IvError::BelowIntrinsic {
            price,
            bound: lower,
        })
    } else if code == ABOVE {
        Err(IvError::AboveUpperBound {
            price,
            bound: upper,
        })
    } else if code == EXPIRED {
        Err(IvError::Expired { intrinsic: lower })
    } else if code == ZERO {
        Ok(0.0)
    } else {
        let total = ImpliedBlackVolatilityNormalised::builder()
            .log_moneyness(pre.x[i])
            .normalised_price(pre.b[i])
            .build_unchecked()
            .calculate::<DefaultSpecialFn>();
        match total {
            Some(v) if v.is_finite() => Ok(v / l.t[i].sqrt()),
            _ => Err(IvError::AboveUpperBound {
                price,
                bound: upper,
            }),
        }
    }
}
