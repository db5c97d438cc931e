//! Option chains on a simulated path: for one (date, spot, variance) state,
//! the contracts of a listed-style or constant-tenor grid, priced by the
//! model conditioned on that state.
//!
//! * GBM paths: Black–Scholes–Merton at the path's σ.
//! * Heston paths: the Heston price (COS) with `v0` set to the path's `v_t`,
//!   so each chain moves with its own spot and variance.
//! * GJR-GARCH paths: the model's own risk-neutral laws at the path's
//!   conditional variance ([`super::surrogate`], fitted by nested Monte
//!   Carlo of the risk-neutral model, [`super::risk_neutral`]).
//! * Deep-model paths: its pricing table, keyed on the path's feature
//!   state ([`super::term_table`]).
//! * Either daily model in the exact mode: nested Monte Carlo at every
//!   chain, restarted in the path's state ([`super::nested`]).
//!
//! Maturities run on the simulation's clock: business days to expiry / 252.
//! Greeks are Black–Scholes–Merton greeks at each option's implied
//! volatility (the practitioner convention; for GBM they are the model's).

use super::{implied_vol, BlackScholes, HestonPricer, NestedPricer, SurrogateTable, TermTable};
use crate::error::{Error, Result};
use crate::io::chain_csv::Layout;
use crate::market::{BusinessCalendar, MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR};
use chrono::{Days, NaiveDate};
use serde::Serialize;

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
        k % self.every == 0
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

/// The pricing model of a chain, given the path's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "pricing", rename_all = "snake_case")]
pub enum ChainModel {
    /// Black–Scholes–Merton at σ = √variance.
    Black {
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// Heston with v0 = the path's variance.
    Heston {
        /// κ, θ, ξ, ρ, with the variance-free parts of the characteristic
        /// function kept across chains.
        #[serde(flatten)]
        model: std::sync::Arc<HestonPricer>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// A daily model's risk-neutral laws (GJR-GARCH-t), looked up at the
    /// path's variance state ([`super::surrogate`]).
    Table {
        /// The fitted laws; run.json records how they were fitted (λ,
        /// nested paths per knot, the knots' variances).
        #[serde(flatten)]
        table: std::sync::Arc<SurrogateTable>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// The deep model's risk-neutral laws, looked up from the path's
    /// feature state ([`super::term_table`]).
    Deep {
        /// The fitted table; run.json records how it was fitted.
        #[serde(flatten)]
        table: std::sync::Arc<TermTable>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// The exact mode of the daily models (GJR-GARCH-t, deep): each chain
    /// priced by nested Monte Carlo of the risk-neutral generator restarted
    /// in the path's state ([`super::nested`]).
    Nested {
        /// The restarted model, λ, nested paths and seed; run.json records
        /// all but the model's parameters (the run's own).
        #[serde(flatten)]
        pricer: std::sync::Arc<NestedPricer>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
}

/// The error for an expiry beyond a law table's last maturity.
fn check_max_maturity(maturity: f64, max: f64) -> Result<()> {
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

/// (call, put) prices per strike from undiscounted forward calls
/// `E[(S_T/F − k)^+]`: calls from the law, puts by parity (the law's mean is
/// the forward, so parity holds exactly).
fn calls_and_puts(
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

impl ChainModel {
    /// Rate and dividend yield per year the chains are priced with.
    pub fn rate_dividend(&self) -> (f64, f64) {
        match *self {
            ChainModel::Black { rate, dividend }
            | ChainModel::Heston { rate, dividend, .. }
            | ChainModel::Table { rate, dividend, .. }
            | ChainModel::Deep { rate, dividend, .. }
            | ChainModel::Nested { rate, dividend, .. } => (rate, dividend),
        }
    }

    /// λ of the daily models' pricing measure (`None` for Black–Scholes
    /// and Heston chains, which have no variance premium).
    pub fn variance_premium(&self) -> Option<f64> {
        match self {
            ChainModel::Table { table, .. } => Some(table.variance_premium()),
            ChainModel::Deep { table, .. } => Some(table.variance_premium()),
            ChainModel::Nested { pricer, .. } => Some(pricer.variance_premium),
            ChainModel::Black { .. } | ChainModel::Heston { .. } => None,
        }
    }

    /// Prices every contract of `spec` on `date` for a path at `spot` with
    /// instantaneous variance `variance` and generator state `path_state`
    /// (the deep model's feature averages; empty for the other models).
    /// `at` is the chain's (path, step): the nested mode draws its sample
    /// from a stream of its own for each.
    pub fn price(
        &self,
        spec: &ChainSpec,
        date: NaiveDate,
        spot: f64,
        variance: f64,
        path_state: &[f64],
        at: (u64, usize),
    ) -> Result<Vec<ChainRow>> {
        let (rate, dividend) = self.rate_dividend();
        let state = MarketState::new(spot, rate, dividend)?;
        let contracts = spec.contracts(date, spot);
        // The deep table and the nested mode price the whole chain at once
        // (calendar order across its expiries): forward calls per expiry.
        let forward_strikes = |maturity: f64, strikes: &[f64]| -> Vec<f64> {
            let forward = state.forward(maturity);
            strikes.iter().map(|k| k / forward).collect()
        };
        let chain_calls: Option<Vec<Vec<f64>>> = match self {
            ChainModel::Deep { table, .. } => {
                let mut slices = Vec::with_capacity(contracts.len());
                for (_, maturity, strikes) in &contracts {
                    check_max_maturity(*maturity, table.max_maturity())?;
                    slices.push((*maturity, forward_strikes(*maturity, strikes)));
                }
                Some(table.chain_calls(path_state, variance, &slices)?)
            }
            ChainModel::Nested { pricer, .. } => {
                // Maturities are whole business days / 252.
                let slices: Vec<(usize, Vec<f64>)> = contracts
                    .iter()
                    .map(|(_, maturity, strikes)| {
                        (
                            (maturity * TRADING_DAYS_PER_YEAR).round() as usize,
                            forward_strikes(*maturity, strikes),
                        )
                    })
                    .collect();
                Some(pricer.chain_calls(variance, path_state, at, &slices)?)
            }
            _ => None,
        };
        let mut rows = Vec::with_capacity(2 * contracts.iter().map(|c| c.2.len()).sum::<usize>());
        for (e, (expiry, maturity, strikes)) in contracts.into_iter().enumerate() {
            // Model (call, put) prices per strike; Black–Scholes prices come
            // with the greeks below.
            let model_prices: Option<Vec<(f64, f64)>> = match self {
                ChainModel::Black { .. } => None,
                ChainModel::Table { table, .. } => {
                    check_max_maturity(maturity, table.max_maturity())?;
                    let forward = state.forward(maturity);
                    let ks: Vec<f64> = strikes.iter().map(|k| k / forward).collect();
                    let calls = table.forward_calls(variance, maturity, &ks);
                    Some(calls_and_puts(&state, maturity, &strikes, &calls))
                }
                ChainModel::Deep { .. } | ChainModel::Nested { .. } => {
                    let calls = chain_calls.as_ref().map_or(&[][..], |c| &c[e][..]);
                    Some(calls_and_puts(&state, maturity, &strikes, calls))
                }
                ChainModel::Heston { model, .. } => Some(
                    model
                        .slice(variance, maturity)
                        .calls_and_puts(&strikes, &state)?,
                ),
            };
            let forward = state.forward(maturity);
            for (i, &strike) in strikes.iter().enumerate() {
                let call = OptionSpec::new(OptionType::Call, strike, maturity)?;
                let put = OptionSpec::new(OptionType::Put, strike, maturity)?;
                // One implied vol per strike, from the out-of-the-money
                // option: its price carries the volatility with the least
                // cancellation, and the in-the-money one shares it by parity.
                let (prices, iv) = match &model_prices {
                    None => (None, variance.max(0.0).sqrt()),
                    Some(p) => {
                        let (c, q) = p[i];
                        let iv = if strike < forward {
                            implied_vol(q, &put, &state)
                        } else {
                            implied_vol(c, &call, &state)
                        };
                        (Some((c, q)), iv.unwrap_or(f64::NAN))
                    }
                };
                // Greeks at the shared implied vol: the call's, and the put's
                // from them by parity (same gamma and vega; delta less
                // e^{−qT}; theta less q·S e^{−qT} plus r·K e^{−rT}).
                let (call_greeks, put_price) = match BlackScholes::new(iv) {
                    Ok(b) if iv.is_finite() => (b.greeks(&call, &state), b.price(&put, &state)),
                    _ => (super::Greeks::nan(), f64::NAN),
                };
                let (spot_leg, strike_leg) = (
                    spot * (-dividend * maturity).exp(),
                    strike * state.discount(maturity),
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
}
