//! Implied Black volatility by Jäckel's "Let's Be Rational" (2015), through
//! the MIT-licensed `implied-vol` crate: machine precision wherever the price
//! determines the volatility, in two iterations at most.

use super::black::{no_arbitrage_bounds, Bounds, Normalised};
use crate::market::{MarketState, OptionSpec};
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
    if !price.is_finite() {
        return Err(IvError::NotFinite(price));
    }
    let kind = spec.option_type();
    let t = spec.maturity();
    let Bounds {
        lower,
        upper,
        spot_leg,
        strike_leg,
    } = no_arbitrage_bounds(spec, state);
    let band = if lower > 0.0 {
        8.0 * f64::EPSILON * (spot_leg + strike_leg)
    } else {
        0.0
    };
    if price < lower - band {
        return Err(IvError::BelowIntrinsic {
            price,
            bound: lower,
        });
    }
    if price >= upper {
        return Err(IvError::AboveUpperBound {
            price,
            bound: upper,
        });
    }
    if price <= lower + band {
        return Ok(0.0);
    }
    if t == 0.0 {
        return Err(IvError::Expired { intrinsic: lower });
    }
    // Normalised time value.
    let n = Normalised::new(spec, state);
    let b = price / n.scale - n.intrinsic(kind);
    if b <= 0.0 {
        return Ok(0.0);
    }
    let total = ImpliedBlackVolatilityNormalised::builder()
        .log_moneyness(n.x)
        .normalised_price(b)
        .build_unchecked()
        .calculate::<DefaultSpecialFn>();
    match total {
        Some(v) if v.is_finite() => Ok(v / t.sqrt()),
        _ => Err(IvError::AboveUpperBound {
            price,
            bound: upper,
        }),
    }
}
