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
//! Units: time in years, rates and volatilities annualised and continuously
//! compounded, variance annualised (0.04 = 20 % volatility).
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod error;
pub mod io;
pub mod market;
pub mod rng;
pub mod sim;

pub use error::{Error, Result};
