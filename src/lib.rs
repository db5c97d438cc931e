//! # synthmarket
//!
//! Synthetic equity markets: reproducible spot paths together with the
//! instantaneous variance state that drove them, and the option chains that
//! belong to them, from models calibrated on (or trained on) real histories.
//!
//! ```text
//! real history (CSV) ─► calibrate / train ─► generator (GBM | Heston | GJR-GARCH-t | deep)
//!                                               │ seed, TimeGrid, Driver (parallel, streaming)
//!                                               ▼
//!                              paths: spot + variance state per step
//!                                               │ the model's own pricer, in each path's state
//!                                               ▼
//!                     option chains per (path, date): price, implied vol, greeks
//!                                               │
//!        writers (CSV, run.json) · arbitrage certifier · stylized-fact scorecard · hedge harness
//! ```
//!
//! ## Models
//!
//! * **GBM** ([`sim::Gbm`], [`sim::CorrelatedGbm`]): one asset or several
//!   with a correlation matrix; chains by Black–Scholes–Merton at the path's
//!   σ ([`pricing::BlackAtStateVol`]). Calibrated from a price history
//!   ([`sim::GbmEstimate`]).
//! * **Heston** ([`sim::Heston`], Andersen QE or Euler): stochastic variance;
//!   chains by the Heston Fourier-cosine price with `v0` = the path's
//!   variance ([`pricing::HestonPricer`]); calibrated to an implied-vol
//!   surface ([`pricing::calibrate`]).
//! * **GJR-GARCH(1,1)-t** ([`sim::Garch`], daily): the econometric baseline,
//!   fitted by maximum likelihood ([`sim::GarchEstimate`]); chains from its
//!   risk-neutral law table ([`sim::SurrogateTable`], under the measure of
//!   [`sim::risk_neutral`]).
//! * **Deep generator** ([`deep::DeepGenerator`], daily): an autoregressive
//!   network with a Student-t mixture law, trained in candle on real
//!   returns ([`deep::train`]); the S&P 500 model ships inside the crate
//!   ([`deep::MixtureNet::shipped`]). Chains from its own pricing table
//!   ([`deep::TermTable`]) or, exactly, by nested Monte Carlo
//!   ([`deep::NestedPricer`]).
//!
//! ## Layers
//!
//! Each module depends only on the ones below it (a test,
//! `tests/it/architecture.rs`, keeps it so):
//!
//! * [`run`] — a run's settings (CLI flags = TOML keys,
//!   [`run::SimulateParams`]), resolved into a checked
//!   [`run::SimulationJob`] that wires generator → chain pricer → writers
//!   into a directory with its `run.json` ([`run::manifest`]); the one layer
//!   that knows every model.
//! * Models: [`sim`] — the [`sim::PathGenerator`] trait, the seeded parallel
//!   [`sim::Driver`], GBM, Heston, GJR-GARCH-t and the daily models'
//!   pricing measure; [`deep`] — the deep generator and its pricing.
//! * Analysis: [`facts`] (stylized facts, distances, discriminator,
//!   memorization audit, scorecard), [`hedge`] (delta-hedge harness),
//!   [`plot`] (SVG charts).
//! * Forecast evaluation: [`forecast`] — VaR backtests, PIT tests and the
//!   CRPS of predictive laws against realised values; it knows no model.
//! * [`io`] — rows to CSV (spot, option files, chains) with atomic writes.
//! * [`pricing`] — generic pricing: Black–Scholes–Merton and greeks,
//!   implied vol, Heston Fourier prices, the chain builder over the
//!   per-state pricer trait [`pricing::ChainPricer`], the static-arbitrage
//!   certifier, calibration. It knows no generator.
//! * [`market`] — plain data: [`market::TimeGrid`], the business-day
//!   calendar, [`market::SpotHistory`], option specs, [`market::PathChunk`].
//! * Base: [`error`], [`rng`] (per-path streams, Xoshiro256++), [`stats`].
//!
//! The `synthmarket` command-line tool is a thin face over this library
//! (`src/main.rs` and `src/cli/`, not part of the library).
//!
//! ## Example
//!
//! Terminal spots of 10,000 Heston paths, computed in parallel and
//! reproducible from the seed:
//!
//! ```
//! use synthmarket::market::{PathChunk, TimeGrid};
//! use synthmarket::sim::{Driver, Drift, Heston, HestonParams, HestonScheme};
//!
//! let grid = TimeGrid::new(252, 1.0 / 252.0)?;
//! let params = HestonParams::new(
//!     100.0,
//!     Drift::RiskNeutral { rate: 0.03, dividend: 0.0 },
//!     0.04, 2.0, 0.04, 0.5, -0.7, // v0, kappa, theta, xi, rho
//! )?;
//! let model = Heston::new(params, HestonScheme::Qe, &grid);
//! // Terminal spots of 10,000 paths, in path order, computed in parallel.
//! let terminal: Vec<f64> = Driver::new(42, 10_000)
//!     .collect(&model, grid.steps(), |c: &PathChunk| {
//!         (0..c.paths()).map(|p| c.spot(p, grid.steps())[0]).collect::<Vec<_>>()
//!     })?
//!     .concat();
//! let mean = terminal.iter().sum::<f64>() / terminal.len() as f64;
//! // E[S_T] = 100·e^{0.03} ≈ 103.05; the standard error here is about 0.2.
//! assert!((mean - 103.045).abs() < 1.0, "{mean}");
//! # Ok::<(), synthmarket::Error>(())
//! ```
//!
//! A whole market into a directory, as `synthmarket simulate` writes it:
//!
//! ```no_run
//! use synthmarket::run::SimulateParams;
//!
//! let params = SimulateParams::from_toml_str(
//!     "model = \"heston\"\npaths = 100\noptions = true",
//!     std::path::Path::new("inline.toml"),
//! )?;
//! let job = params.resolve()?;
//! let out = job.write_to_dir(std::path::Path::new("runs/heston"), &|_| {})?;
//! println!("{} rows of spot", out.manifest.files[0].rows);
//! # Ok::<(), synthmarket::Error>(())
//! ```
//!
//! Units: time in years, rates and volatilities annualised and continuously
//! compounded, variance annualised (0.04 = 20 % volatility); vega per 1.00
//! of volatility, theta per year.
#![warn(missing_docs)]

pub mod deep;
pub mod error;
pub mod facts;
pub mod forecast;
pub mod hedge;
pub mod io;
pub mod market;
pub mod plot;
pub mod pricing;
pub mod rng;
pub mod run;
pub mod sim;
pub mod stats;

pub use error::{Error, Result};

/// The crate's version (`CARGO_PKG_VERSION`), as `run.json` records it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
