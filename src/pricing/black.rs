//! Black–Scholes–Merton with continuous rate `r` and dividend yield `q`.
//!
//! Prices come from Jäckel's normalised Black function ("Let's Be Rational",
//! Wilmott 2015) through the MIT-licensed `implied-vol` crate, accurate to a
//! few ulp including far out of the money, where the textbook difference
//! `S e^{−qT} N(d1) − K e^{−rT} N(d2)` loses every digit to cancellation.
//! Greeks use the closed forms of Haug, *The Complete Guide to Option Pricing
//! Formulas* (2nd ed., 2007), §1.1 and §2.1, with the normal CDF from libm's
//! `erfc`.

use super::{norm_cdf, norm_pdf};
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType};
use implied_vol::{DefaultSpecialFn, PriceBlackScholesNormalised};
use serde::Serialize;

/// Black–Scholes–Merton with a flat volatility.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlackScholes {
    vol: f64,
}

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

impl BlackScholes {
    /// A model with annualised volatility `vol ≥ 0`.
    pub fn new(vol: f64) -> Result<Self> {
        if !(vol.is_finite() && vol >= 0.0) {
            return Err(Error::parameter(
                "volatility",
                vol,
                "must be finite and ≥ 0 (annualised, 0.2 = 20 %)",
            ));
        }
        Ok(BlackScholes { vol })
    }

    /// The volatility.
    pub fn vol(&self) -> f64 {
        self.vol
    }

    /// Present value of `spec` in `state`.
    pub fn price(&self, spec: &OptionSpec, state: &MarketState) -> f64 {
        self.terms(spec, state).price
    }

    /// Jäckel's normalised Black function at log-moneyness `x` and total
    /// volatility `sd = σ√T`: exact to a few ulp everywhere.
    fn price_normalised(&self, spec: &OptionSpec, state: &MarketState, x: f64, sd: f64) -> f64 {
        let n = Normalised::with_log_moneyness(spec, state, x);
        let p = PriceBlackScholesNormalised::builder()
            .log_moneyness(n.x)
            .total_volatility(sd)
            .build_unchecked()
            .calculate::<DefaultSpecialFn>();
        let b = if p.is_finite() { p.max(0.0) } else { 0.0 };
        n.scale * (n.intrinsic(spec.option_type()) + b)
    }

    /// d1, d2, the legs and the price, shared by [`Self::price`] and
    /// [`Self::greeks`]. The textbook difference of the two legs is used
    /// when it loses at most two digits to cancellation (the common case,
    /// and three times faster); otherwise Jäckel's normalised function.
    fn terms(&self, spec: &OptionSpec, state: &MarketState) -> Terms {
        let sqrt_t = spec.maturity().sqrt();
        let sd = self.vol * sqrt_t;
        let (se, ke) = legs(spec, state);
        let log_moneyness = Normalised::log_moneyness(spec, state);
        // d1 → ±∞ when there is no diffusion left (σ√T = 0).
        let d1 = if sd > 0.0 {
            log_moneyness / sd + 0.5 * sd
        } else if log_moneyness > 0.0 {
            f64::INFINITY
        } else if log_moneyness < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        };
        let d2 = d1 - sd;
        let sign = spec.option_type().sign();
        // N(±d1), N(±d2) for the option's side.
        let n1 = norm_cdf(sign * d1);
        let n2 = norm_cdf(sign * d2);
        let price = if sd == 0.0 {
            (sign * (se - ke)).max(0.0)
        } else {
            let (a, b) = (se * n1, ke * n2);
            let direct = sign * (a - b);
            if direct > 0.0 && (a + b) < 100.0 * direct {
                direct
            } else {
                self.price_normalised(spec, state, log_moneyness, sd)
            }
        };
        Terms {
            d1,
            sd,
            sqrt_t,
            se,
            ke,
            n1,
            n2,
            price,
        }
    }

    /// Price and all greeks.
    pub fn greeks(&self, spec: &OptionSpec, state: &MarketState) -> Greeks {
        let (s, t) = (state.spot(), spec.maturity());
        let (r, q, sigma) = (state.rate(), state.dividend(), self.vol);
        let Terms {
            d1,
            sd,
            sqrt_t,
            se,
            ke,
            n1,
            n2,
            price,
        } = self.terms(spec, state);
        let pdf = norm_pdf(d1);
        // S e^{−qT} φ(d1) appears in gamma, vega and theta.
        let se_pdf = se * pdf;
        let gamma = if sd > 0.0 {
            se_pdf / (s * s * sd)
        } else if d1 == 0.0 {
            // At the money with no diffusion the payoff kink is still ahead.
            f64::INFINITY
        } else {
            0.0
        };
        let vega = se_pdf * sqrt_t;
        let decay = if t > 0.0 {
            -se_pdf * sigma / (2.0 * sqrt_t)
        } else {
            0.0
        };
        let sign = spec.option_type().sign();
        // With n1 = N(±d1), n2 = N(±d2) for calls/puts (Haug 2007, §1.1):
        Greeks {
            price,
            delta: sign * se / s * n1,
            gamma,
            vega,
            theta: decay + sign * (q * se * n1 - r * ke * n2),
            rho: sign * t * ke * n2,
            dividend_rho: -sign * t * se * n1,
        }
    }
}

/// Intermediate quantities of one Black–Scholes–Merton valuation.
struct Terms {
    d1: f64,
    sd: f64,
    sqrt_t: f64,
    se: f64,
    ke: f64,
    n1: f64,
    n2: f64,
    price: f64,
}

/// `S e^{−qT}` and `K e^{−rT}`, the present values of the two legs.
pub(crate) fn legs(spec: &OptionSpec, state: &MarketState) -> (f64, f64) {
    let t = spec.maturity();
    (
        state.spot() * (-state.dividend() * t).exp(),
        spec.strike() * (-state.rate() * t).exp(),
    )
}

/// `max(φ(S e^{−qT} − K e^{−rT}), 0)`: the value with no diffusion left,
/// exact at zero maturity.
pub(crate) fn discounted_intrinsic(spec: &OptionSpec, state: &MarketState) -> f64 {
    no_arbitrage_bounds(spec, state).lower
}

/// The no-arbitrage bounds of a European option's present value, with the
/// two legs they are made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// `max(φ(S e^{−qT} − K e^{−rT}), 0)`.
    pub lower: f64,
    /// `S e^{−qT}` for calls, `K e^{−rT}` for puts.
    pub upper: f64,
    /// `S e^{−qT}`.
    pub spot_leg: f64,
    /// `K e^{−rT}`.
    pub strike_leg: f64,
}

/// Lower and upper no-arbitrage bounds of `spec` in `state`.
pub(crate) fn no_arbitrage_bounds(spec: &OptionSpec, state: &MarketState) -> Bounds {
    let (se, ke) = legs(spec, state);
    Bounds {
        lower: (spec.option_type().sign() * (se - ke)).max(0.0),
        upper: match spec.option_type() {
            OptionType::Call => se,
            OptionType::Put => ke,
        },
        spot_leg: se,
        strike_leg: ke,
    }
}

/// Jäckel's normalisation of an option in a market: log-moneyness
/// `x = ln(F/K)` and `scale = e^{−rT}·√(FK)`, so that a price is
/// `scale·(intrinsic(x) + b)` with `b` the normalised time value.
///
/// `x` is formed as `ln(S/K) + (r − q)T`, never from a rounded forward:
/// at the money with a one-minute maturity, rounding `F` to a double would
/// already cost nine digits of `x`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalised {
    pub x: f64,
    pub scale: f64,
}

impl Normalised {
    pub fn new(spec: &OptionSpec, state: &MarketState) -> Self {
        Self::with_log_moneyness(spec, state, Self::log_moneyness(spec, state))
    }

    /// `x = ln(S/K) + (r − q)T`.
    pub fn log_moneyness(spec: &OptionSpec, state: &MarketState) -> f64 {
        (state.spot() / spec.strike()).ln() + (state.rate() - state.dividend()) * spec.maturity()
    }

    /// The normalisation for an already computed `x`.
    pub fn with_log_moneyness(spec: &OptionSpec, state: &MarketState, x: f64) -> Self {
        let (s, k, t) = (state.spot(), spec.strike(), spec.maturity());
        let (r, q) = (state.rate(), state.dividend());
        Normalised {
            x,
            // e^{−rT}·√(S e^{(r−q)T}·K); square roots apart so that S·K cannot overflow.
            scale: s.sqrt() * k.sqrt() * (-0.5 * (r + q) * t).exp(),
        }
    }

    /// Normalised intrinsic value: `max(±2 sinh(x/2), 0)`.
    pub fn intrinsic(&self, option_type: OptionType) -> f64 {
        (option_type.sign() * 2.0 * (0.5 * self.x).sinh()).max(0.0)
    }
}
