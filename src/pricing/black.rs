//! Black–Scholes–Merton with continuous rate `r` and dividend yield `q`.
//!
//! Prices are the textbook difference `S e^{−qT} N(d1) − K e^{−rT} N(d2)`
//! where it loses at most two digits, else Jäckel's normalised Black
//! function ("Let's Be Rational", Wilmott 2015) through the MIT-licensed
//! `implied-vol` crate, accurate to a few ulp including far out of the
//! money, where the difference loses every digit to cancellation. Greeks use
//! the closed forms of Haug, *The Complete Guide to Option Pricing Formulas*
//! (2nd ed., 2007), §1.1 and §2.1. Both run through the block kernel of
//! [`super::batch`] with the branch-free functions of [`super::fastmath`].

pub use super::batch::Greeks;
use super::batch::{check_vol, BsBatch, Calls, Param};
use crate::error::Result;
use crate::market::{MarketState, OptionSpec, OptionType};
use serde::Serialize;

/// Black–Scholes–Merton with a flat volatility.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlackScholes {
    vol: f64,
}

impl BlackScholes {
    /// A model with annualised volatility `vol ≥ 0`.
    pub fn new(vol: f64) -> Result<Self> {
        check_vol(vol)?;
        Ok(BlackScholes { vol })
    }

    /// The volatility.
    pub fn vol(&self) -> f64 {
        self.vol
    }

    /// Present value of `spec` in `state`: the textbook difference of the
    /// two legs where it loses at most two digits to cancellation, else
    /// Jäckel's normalised Black function (see [`super::batch`], the same
    /// code that prices whole arrays).
    pub fn price(&self, spec: &OptionSpec, state: &MarketState) -> f64 {
        let mut out = [0.0];
        // Valid by construction of the three types: the check cannot fail.
        let _ = self.batch(spec, state).price_into(0, &mut out);
        out[0]
    }

    /// Price and all greeks.
    pub fn greeks(&self, spec: &OptionSpec, state: &MarketState) -> Greeks {
        self.batch(spec, state).greeks_one(0)
    }

    /// The one-option batch of `spec` in `state`.
    fn batch(&self, spec: &OptionSpec, state: &MarketState) -> BsBatch<'static> {
        BsBatch {
            spot: Param::Scalar(state.spot()),
            strike: Param::Scalar(spec.strike()),
            maturity: Param::Scalar(spec.maturity()),
            vol: Param::Scalar(self.vol),
            rate: Param::Scalar(state.rate()),
            dividend: Param::Scalar(state.dividend()),
            call: Calls::Scalar(spec.option_type() == OptionType::Call),
        }
    }
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

/// The no-arbitrage bounds of a European option's present value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// `max(φ(S e^{−qT} − K e^{−rT}), 0)`.
    pub lower: f64,
    /// `S e^{−qT}` for calls, `K e^{−rT}` for puts.
    pub upper: f64,
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
    }
}

/// Jäckel's log-moneyness of an option in a market, `x = ln(F/K)`, formed
/// as `ln(S/K) + (r − q)T`, never from a rounded forward: at the money with
/// a one-minute maturity, rounding `F` to a double would already cost nine
/// digits of `x`. (The Black–Scholes batch computes the same with
/// [`super::fastmath::ln`].)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalised {
    pub x: f64,
}

impl Normalised {
    pub fn new(spec: &OptionSpec, state: &MarketState) -> Self {
        Normalised {
            x: (state.spot() / spec.strike()).ln()
                + (state.rate() - state.dividend()) * spec.maturity(),
        }
    }
}
