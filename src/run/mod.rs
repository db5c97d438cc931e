//! A run: its settings (CLI flags = TOML keys), their resolution into a
//! checked job per model, the choice of chain pricer, and the job that wires
//! generator → pricer → writers into an output directory with its
//! `run.json` manifest.
//!
//! This is the one layer that knows every model; the faces (the CLI binary,
//! later the Python module) parse their arguments into [`SimulateParams`]
//! and call [`SimulationJob::write_to_dir`]; to score a market they fill a
//! [`ValidateOptions`] and call [`write_report`], to hedge an option of it a
//! [`HedgeOptions`] and call [`hedge()`], to train the deep generator a
//! [`TrainOptions`] and call [`train()`]; [`calibrate_heston_file`] fits
//! Heston to an option file's surface.

pub mod backtest;
pub mod calibrate;
pub mod chains;
pub mod collect;
pub mod hedge;
pub mod job;
pub mod manifest;
pub mod models;
mod out_dir;
pub use out_dir::CONFIRM_BYTES;
pub mod params;
pub mod start;
pub mod train;
mod train_metrics;
pub mod train_panel;
pub mod validate;
pub mod validate_panel;

pub use backtest::{backtest, BacktestOptions, BacktestProgress, BacktestReport};
pub use calibrate::{calibrate_heston_file, HestonSurfaceFit};
pub use chains::ChainModel;
pub use chains::{DEFAULT_VARIANCE_PREMIUM, GARCH_TABLE_PATHS};
pub use collect::MarketTables;
pub use hedge::{hedge, HedgeOptions, HedgeReport};
pub use job::RunOutput;
pub use job::SimulationJob;
pub use models::{GbmAsset, ModelSpec};
pub use params::{
    ChainPricing, DateArg, ExpiryGrid, ModelKind, Numbers, OutputFormat, Rows, Shard,
    SimulateParams,
};
pub use train::{train, train_histories, TrainMetrics, TrainOptions, TrainOutput, TrainProgress};
pub use train_panel::{train_panel, PanelMetrics, PanelTrainOutput};
pub use validate::{write_report, ValidateOptions, ValidateReport};
