//! A run: its settings (CLI flags = TOML keys), their resolution into a
//! checked job per model, the choice of chain pricer, and the job that wires
//! generator → pricer → writers into an output directory with its
//! `run.json` manifest.
//!
//! This is the one layer that knows every model; the faces (the CLI binary,
//! later the Python module) parse their arguments into [`SimulateParams`]
//! and call [`SimulationJob::write_to_dir`].

pub mod chains;
pub mod job;
pub mod manifest;
pub mod models;
pub mod params;

pub use chains::ChainModel;
pub use chains::{DEFAULT_VARIANCE_PREMIUM, GARCH_TABLE_PATHS};
pub use job::RunOutput;
pub use job::SimulationJob;
pub use models::{GbmAsset, ModelSpec};
pub use params::{ChainPricing, DateArg, ExpiryGrid, ModelKind, Numbers, Rows, SimulateParams};
