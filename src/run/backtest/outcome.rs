//! What a backtest measured: per model and for the whole run (the
//! contents of `backtest.json`).

use super::score::{HorizonScore, OneDayScore};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::PathBuf;

/// The backtest of one model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelBacktest {
    /// The model's name.
    pub model: String,
    /// How it was fitted, in words.
    pub description: String,
    /// One day ahead, from every test day.
    pub one_day: OneDayScore,
    /// From the rolling origins, per horizon.
    pub horizons: Vec<HorizonScore>,
    /// Mean CRPS relative to GBM's (constant volatility), when GBM is scored.
    pub crps_ratio_to_gbm: Option<f64>,
    /// Per rolling origin and day ahead, the [`FAN_QUANTILES`] of the
    /// simulated cumulative log return (for the fan chart).
    #[serde(skip)]
    pub fans: Vec<Vec<[f64; 5]>>,
}

/// Quantiles drawn in the fan charts.
pub const FAN_QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// What [`super::backtest()`] measured (and wrote into the report directory).
#[derive(Debug, Clone, Serialize)]
pub struct BacktestReport {
    /// The history, its column, and the hash of its bytes.
    pub data: String,
    /// The last day the models saw.
    pub train_to: NaiveDate,
    /// Training returns (up to `train_to`).
    pub train_days: usize,
    /// Test days: the first and last date and their number.
    pub test_period: String,
    /// Test days scored one day ahead.
    pub test_days: usize,
    /// Dates of the rolling origins (the close each forecast starts from).
    pub origins: Vec<NaiveDate>,
    /// Simulated paths per origin.
    pub draws: u64,
    /// The seed.
    pub seed: u64,
    /// Per model.
    pub models: Vec<ModelBacktest>,
    /// The deep model's directory, when the backtest trained one.
    pub trained_model: Option<PathBuf>,
    /// The command line, when the face gave one.
    pub command_line: Option<String>,
}
