//! Pricing: Black–Scholes–Merton prices and greeks, implied volatility, and
//! Heston prices by Fourier-cosine expansion.
//!
//! A model prices an [`OptionSpec`](crate::market::OptionSpec) in a
//! [`MarketState`](crate::market::MarketState); the three are separate plain
//! types. Units: vega per 1.00 of volatility, theta per year (∂V/∂t as
//! calendar time passes), rho per 1.00 of rate, `dividend_rho` per 1.00 of
//! dividend yield.

pub mod arbitrage;
pub mod batch;
pub mod black;
pub mod calibrate;
pub mod chain;
pub mod fastmath;
pub mod heston;
pub mod implied_vol;

pub use black::{BlackScholes, Greeks};
pub use chain::{
    price_chain, BlackAtStateVol, ChainGrid, ChainPricer, ChainPrices, ChainRow, ChainSpec, Expiry,
    PathState, PricedChain,
};
pub use heston::{HestonModel, HestonPricer, HestonSlice};
pub use implied_vol::{implied_vol, IvError};

/// The accuracy asked of a fast chain pricer (the GJR-GARCH and deep
/// tables) against nested Monte Carlo of its own risk-neutral model (issue
/// 6): at most this many vol points at the money...
pub const ACCURACY_BAR_ATM: f64 = 0.5;
/// ...and this many across ±2 standard deviations of moneyness.
pub const ACCURACY_BAR_WINGS: f64 = 1.0;

/// Standard normal CDF, accurate to a few ulp in both tails (libm's `erfc`;
/// `statrs`' erfc is only about 1e-8 relative in the tails).
#[inline]
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal density.
#[inline]
pub fn norm_pdf(x: f64) -> f64 {
    // 1/√(2π)
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}
