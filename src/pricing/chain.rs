//! Option chains on a simulated path: for one (date, spot, variance) state,
//! the contracts of a listed-style or constant-tenor grid, priced by the
//! model conditioned on that state.
//!
//! * GBM paths: Black–Scholes–Merton at the path's σ.
//! * Heston paths: the Heston price (COS) with `v0` set to the path's `v_t`,
//!   so each chain moves with its own spot and variance.
//! * GJR-GARCH paths: the model's own risk-neutral laws at the path's
//!   conditional variance (`sim::law_table`, fitted by nested Monte
//!   Carlo of the risk-neutral model, `sim::risk_neutral`).
//! * Deep-model paths: its pricing table, keyed on the path's feature
//!   state (`deep::pricing::term_table`).
//! * Either daily model in the exact mode: nested Monte Carlo at every
//!   chain, restarted in the path's state (`deep::pricing::nested`).
//!
//! This module knows none of those models: it builds a chain's contracts
//! and rows over the per-state pricer trait [`ChainPricer`], which each
//! model's own pricer implements next to its model (a process owns its
//! pricing engines, as in QuantLib). [`BlackAtStateVol`] and
//! [`super::HestonPricer`] are the generic ones.
//!
//! Maturities run on the simulation's clock: business days to expiry / 252.
//! Greeks are Black–Scholes–Merton greeks at each option's implied
//! volatility (the practitioner convention; for GBM they are the model's).

use super::{implied_vol, BlackScholes};
use crate::error::{Error, Result};
use crate::market::{BusinessCalendar, MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR};
use chrono::{Days, NaiveDate};
use serde::Serialize;

/// Column names of a long-layout `options.csv`.
pub const COLUMNS: [&str; 13] = [
    "path",
    "step",
    "date",
    "expiry",
    "maturity",
    "strike",
    "option_type",
    "price",
    "implied_vol",
    "delta",
    "gamma",
    "vega",
    "theta",
];

/// Column names of a wide-layout `options.csv`.
pub const WIDE_COLUMNS: [&str; 13] = [
    "path",
    "step",
    "date",
    "expiry",
    "maturity",
    "strike",
    "implied_vol",
    "call",
    "put",
    "call_delta",
    "put_delta",
    "gamma",
    "vega",
];

/// Row layout of `options.csv`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One row per option: path,step,date,expiry,maturity,strike,option_type,
    /// price,implied_vol,delta,gamma,vega,theta
    #[default]
    Long,
    /// One row per strike, call and put side by side: path,step,date,expiry,
    /// maturity,strike,implied_vol,call,put,call_delta,put_delta,gamma,vega
    Wide,
}

impl Layout {
    /// The header of this layout.
    pub fn columns(self) -> &'static [&'static str; 13] {
        match self {
            Layout::Long => &COLUMNS,
            Layout::Wide => &WIDE_COLUMNS,
        }
    }

    /// The header of this layout, with an `asset` column after `date` when
    /// `asset` (the chains of a multi-asset run, as `spot.csv` has it).
    pub fn header(self, asset: bool) -> Vec<&'static str> {
        let mut h = self.columns().to_vec();
        if asset {
            h.insert(3, "asset");
        }
        h
    }
}

/// Which contracts a chain holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "grid", rename_all = "snake_case")]
pub enum ChainGrid {
    /// Monthly third-Friday expiries and absolute strikes on an increment
    /// grid around the day's spot: a contract can be followed day after day.
    Listed {
        /// Number of monthly expiries after each date.
        months: usize,
        /// Strikes each side of the at-the-money grid point.
        strikes_per_side: usize,
        /// Strike increment; `None` picks a listed-style step from the
        /// initial spot (about 2.5 % of it, rounded to 1, 2, 2.5 or 5 × 10ⁿ).
        strike_step: Option<f64>,
    },
    /// Constant maturities (calendar days) with strikes at fixed moneyness
    /// `K/S`.
    Tenors {
        /// Tenors in calendar days.
        days: Vec<u32>,
        /// Strikes as fractions of the day's spot.
        moneyness: Vec<f64>,
    },
}

/// A validated chain specification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainSpec {
    #[serde(flatten)]
    grid: ChainGrid,
    /// Chains are written every `every` steps (1 = every step).
    every: usize,
    /// Row layout of `options.csv`.
    layout: Layout,
}

impl ChainSpec {
    /// Validates the grid: at least one expiry and strike, positive step and
    /// moneyness, `every ≥ 1`.
    pub fn new(grid: ChainGrid, every: usize) -> Result<Self> {
        if every == 0 {
            return Err(Error::parameter("chain-every", 0, "must be at least 1"));
        }
        match &grid {
            ChainGrid::Listed {
                months,
                strike_step,
                ..
            } => {
                if *months == 0 {
                    return Err(Error::parameter(
                        "months",
                        0,
                        "at least one expiry is needed",
                    ));
                }
                if let Some(s) = strike_step {
                    if !(s.is_finite() && *s > 0.0) {
                        return Err(Error::parameter("strike-step", s, "must be positive"));
                    }
                }
            }
            ChainGrid::Tenors { days, moneyness } => {
                if days.is_empty() || days.contains(&0) {
                    return Err(Error::parameter(
                        "tenors",
                        format!("{days:?}"),
                        "give one or more positive tenors in calendar days",
                    ));
                }
                if moneyness.is_empty() || moneyness.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
                    return Err(Error::parameter(
                        "moneyness",
                        format!("{moneyness:?}"),
                        "give one or more positive strike/spot ratios",
                    ));
                }
            }
        }
        Ok(ChainSpec {
            grid,
            every,
            layout: Layout::Long,
        })
    }

    /// Sets the row layout of `options.csv` (long by default).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The row layout of `options.csv`.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Options in one chain (calls and puts), at most: for sizing buffers.
    pub fn options_per_chain(&self) -> usize {
        2 * match &self.grid {
            ChainGrid::Listed {
                months,
                strikes_per_side,
                ..
            } => months * (2 * strikes_per_side + 1),
            ChainGrid::Tenors { days, moneyness } => days.len() * moneyness.len(),
        }
    }

    /// The grid.
    pub fn grid(&self) -> &ChainGrid {
        &self.grid
    }

    /// Chains are written every this many steps.
    pub fn every(&self) -> usize {
        self.every
    }

    /// Whether step `k` carries a chain.
    pub fn at_step(&self, k: usize) -> bool {
        k.is_multiple_of(self.every)
    }

    /// Resolves the automatic strike step from the initial spot.
    pub fn with_initial_spot(mut self, s0: f64) -> Self {
        if let ChainGrid::Listed { strike_step, .. } = &mut self.grid {
            if strike_step.is_none() {
                *strike_step = Some(listed_step(s0));
            }
        }
        self
    }

    /// Sets the strike increment of listed chains to `step` unless one was
    /// given (a market's per-asset increments).
    pub fn with_strike_step(mut self, step: f64) -> Self {
        if let ChainGrid::Listed { strike_step, .. } = &mut self.grid {
            if strike_step.is_none() {
                *strike_step = Some(step);
            }
        }
        self
    }

    /// The contracts on `date` at `spot`: (expiry, maturity in years, strikes).
    pub fn contracts(&self, date: NaiveDate, spot: f64) -> Vec<(NaiveDate, f64, Vec<f64>)> {
        let maturity = |expiry| {
            BusinessCalendar::business_days_between(date, expiry) as f64 / TRADING_DAYS_PER_YEAR
        };
        match &self.grid {
            ChainGrid::Listed {
                months,
                strikes_per_side,
                strike_step,
            } => {
                let step = strike_step.unwrap_or_else(|| listed_step(spot));
                let centre = (spot / step).round();
                let n = *strikes_per_side as f64;
                let strikes: Vec<f64> = ((-(n as i64))..=(n as i64))
                    .map(|i| (centre + i as f64) * step)
                    .filter(|k| *k > 0.0)
                    .collect();
                BusinessCalendar::monthly_expiries_after(date, *months)
                    .into_iter()
                    .map(|e| (e, maturity(e), strikes.clone()))
                    .collect()
            }
            ChainGrid::Tenors { days, moneyness } => {
                let strikes: Vec<f64> = moneyness.iter().map(|m| m * spot).collect();
                days.iter()
                    .map(|&d| {
                        let e = date + Days::new(u64::from(d));
                        (e, maturity(e), strikes.clone())
                    })
                    .filter(|(_, t, _)| *t > 0.0)
                    .collect()
            }
        }
    }
}

/// A listed-style strike increment: about 2.5 % of spot, rounded down to
/// 1, 2, 2.5 or 5 × 10ⁿ (100 → 2.5, 2500 → 50, 40 → 1).
pub fn listed_step(spot: f64) -> f64 {
    let target = 0.025 * spot;
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.5, 2.0, 1.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s <= target * (1.0 + 1e-12))
        .unwrap_or(p)
}

/// The error for an expiry beyond a law table's last maturity.
pub fn check_max_maturity(maturity: f64, max: f64) -> Result<()> {
    if maturity > max + 1e-12 {
        return Err(Error::parameter(
            "expiries",
            format!("{maturity:.3} years"),
            format!(
                "the risk-neutral law table of this model reaches {max:.3} years; ask for shorter expiries"
            ),
        ));
    }
    Ok(())
}

/// A whole chain's (call, put) prices from each expiry's undiscounted
/// forward calls (`calls[e]` for `expiries[e]`, see [`calls_and_puts`]).
pub fn chain_from_forward_calls(
    market: &MarketState,
    expiries: &[Expiry],
    calls: &[Vec<f64>],
) -> ChainPrices {
    expiries
        .iter()
        .zip(calls)
        .map(|((_, maturity, strikes), c)| calls_and_puts(market, *maturity, strikes, c))
        .collect()
}

/// (call, put) prices per strike from undiscounted forward calls
/// `E[(S_T/F − k)^+]` (for [`ChainPricer`] implementations whose law gives
/// forward calls): calls from the law, puts by parity (the law's mean is
/// the forward, so parity holds exactly).
pub fn calls_and_puts(
    state: &MarketState,
    maturity: f64,
    strikes: &[f64],
    calls: &[f64],
) -> Vec<(f64, f64)> {
    let forward = state.forward(maturity);
    let df = state.discount(maturity);
    strikes
        .iter()
        .zip(calls)
        .map(|(k, c)| {
            let call = df * forward * c;
            (call, call - df * (forward - k))
        })
        .collect()
}

/// One priced option of a chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainRow {
    /// Expiry date.
    pub expiry: NaiveDate,
    /// Years to expiry (business days / 252).
    pub maturity: f64,
    /// Strike.
    pub strike: f64,
    /// Call or put.
    pub option_type: OptionType,
    /// Price.
    pub price: f64,
    /// Black–Scholes–Merton implied volatility (NaN where the price sits on
    /// a no-arbitrage bound to machine precision).
    pub implied_vol: f64,
    /// Delta, gamma, vega, theta at the implied volatility.
    pub delta: f64,
    /// Gamma.
    pub gamma: f64,
    /// Vega per 1.00 of vol.
    pub vega: f64,
    /// Theta per year.
    pub theta: f64,
}

/// One priced chain of a run: where it is and its rows, (call, put) pairs
/// per strike.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedChain {
    /// Path number.
    pub path: u64,
    /// Step of the path.
    pub step: usize,
    /// Asset, an index into the run's assets (0 for a single-asset run).
    pub asset: usize,
    /// The chain's options.
    pub rows: Vec<ChainRow>,
}

/// One path's state at a chain's date, as a [`ChainPricer`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct PathState<'a> {
    /// Instantaneous annualised variance of the path.
    pub variance: f64,
    /// The generator's recursion state beyond the variance (the deep
    /// model's feature averages; empty for the other models).
    pub features: &'a [f64],
    /// The chain's (path, step): a pricer that samples (the nested mode)
    /// draws from a stream of its own for each.
    pub at: (u64, usize),
}

/// One expiry of a chain: its date, years to it, and its strikes.
pub type Expiry = (NaiveDate, f64, Vec<f64>);

/// A chain's model prices: (call, put) per strike, per expiry.
pub type ChainPrices = Vec<Vec<(f64, f64)>>;

/// A model's pricer of one chain in one path's state: the per-state pricer
/// trait of the chain builder ([`price_chain`]). Each model's own pricer
/// implements it next to its model; this module knows none of them.
pub trait ChainPricer: Sync {
    /// (call, put) prices per strike for each expiry of `expiries`, in
    /// `market` (spot, rate, dividend) and the path's `state`; or `None`
    /// for Black–Scholes–Merton at σ = √variance, whose prices come with the
    /// greeks.
    fn chain_prices(
        &self,
        market: &MarketState,
        state: &PathState<'_>,
        expiries: &[Expiry],
    ) -> Result<Option<ChainPrices>>;
}

/// Black–Scholes–Merton at the path's own vol, σ = √variance: the chains
/// of GBM paths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlackAtStateVol;

impl ChainPricer for BlackAtStateVol {
    fn chain_prices(
        &self,
        _market: &MarketState,
        _state: &PathState<'_>,
        _expiries: &[Expiry],
    ) -> Result<Option<ChainPrices>> {
        Ok(None)
    }
}

/// Forward-moneyness strikes `K / F(T)` of one expiry.
pub fn forward_strikes(market: &MarketState, maturity: f64, strikes: &[f64]) -> Vec<f64> {
    let forward = market.forward(maturity);
    strikes.iter().map(|k| k / forward).collect()
}

/// Prices every contract of `spec` on `date` for a path at `spot` in state
/// `state` with `pricer`, at `rate` and `dividend` per year: each strike's
/// implied vol from its out-of-the-money option, the greeks at that vol.
pub fn price_chain(
    pricer: &dyn ChainPricer,
    spec: &ChainSpec,
    date: NaiveDate,
    spot: f64,
    state: &PathState<'_>,
    (rate, dividend): (f64, f64),
) -> Result<Vec<ChainRow>> {
    let market = MarketState::new(spot, rate, dividend)?;
    let contracts = spec.contracts(date, spot);
    let model_prices = pricer.chain_prices(&market, state, &contracts)?;
    let variance = state.variance;
    let mut rows = Vec::with_capacity(2 * contracts.iter().map(|c| c.2.len()).sum::<usize>());
    for (e, (expiry, maturity, strikes)) in contracts.into_iter().enumerate() {
        // Model (call, put) prices per strike; Black–Scholes prices come
        // with the greeks below.
        let model_prices = model_prices.as_ref().map(|p| &p[e]);
        let forward = market.forward(maturity);
        for (i, &strike) in strikes.iter().enumerate() {
            let call = OptionSpec::new(OptionType::Call, strike, maturity)?;
            let put = OptionSpec::new(OptionType::Put, strike, maturity)?;
            // One implied vol per strike, from the out-of-the-money
            // option: its price carries the volatility with the least
            // cancellation, and the in-the-money one shares it by parity.
            let (prices, iv) = match model_prices {
                None => (None, variance.max(0.0).sqrt()),
                Some(p) => {
                    let (c, q) = p[i];
                    let iv = if strike < forward {
                        implied_vol(q, &put, &market)
                    } else {
                        implied_vol(c, &call, &market)
                    };
                    (Some((c, q)), iv.unwrap_or(f64::NAN))
                }
            };
            // Greeks at the shared implied vol: the call's, and the put's
            // from them by parity (same gamma and vega; delta less
            // e^{−qT}; theta less q·S e^{−qT} plus r·K e^{−rT}).
            let (call_greeks, put_price) = match BlackScholes::new(iv) {
                Ok(b) if iv.is_finite() => (b.greeks(&call, &market), b.price(&put, &market)),
                _ => (super::Greeks::nan(), f64::NAN),
            };
            let (spot_leg, strike_leg) = (
                spot * (-dividend * maturity).exp(),
                strike * market.discount(maturity),
            );
            let g = call_greeks;
            let put_theta = g.theta - dividend * spot_leg + rate * strike_leg;
            let sides = [
                (
                    OptionType::Call,
                    prices.map_or(g.price, |p| p.0),
                    g.delta,
                    g.theta,
                ),
                (
                    OptionType::Put,
                    prices.map_or(put_price, |p| p.1),
                    g.delta - spot_leg / spot,
                    put_theta,
                ),
            ];
            for (option_type, price, delta, theta) in sides {
                rows.push(ChainRow {
                    expiry,
                    maturity,
                    strike,
                    option_type,
                    price,
                    implied_vol: iv,
                    delta,
                    gamma: g.gamma,
                    vega: g.vega,
                    theta,
                });
            }
        }
    }
    Ok(rows)
}
