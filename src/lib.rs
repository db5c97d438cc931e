//! # synthmarket
//!
//! Synthetic equity markets: reproducible spot paths together with the
//! instantaneous variance state that drove them, from models calibrated on
//! real histories.
//!
//! ```text
//! real history (CSV) ─► fit ─► generator (GBM | Heston) ─► Driver (seeded, parallel, streaming)
//!                                                              └─► spot.csv + run.json
//! ```
//!
//! * [`market`] — plain data: [`market::TimeGrid`], the business-day calendar,
//!   [`market::SpotHistory`] (validated real histories), [`market::PathChunk`].
//! * [`sim`] — the [`sim::PathGenerator`] trait, the [`sim::Driver`], and the
//!   GBM and Heston generators.
//! * [`config`] — the `simulate` parameters (CLI flags = TOML keys) and their
//!   validation into a [`config::SimulationJob`].
//! * [`io`] — CSV and manifest writers with atomic renames.
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
//! Units: time in years, rates and volatilities annualised and continuously
//! compounded, variance annualised (0.04 = 20 % volatility).
#![warn(missing_docs)]

pub mod deep;
pub mod error;
pub mod facts;
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
