//! `run.json`: everything needed to reproduce a run bit for bit.

use crate::config::ModelSpec;
use crate::market::TimeGrid;
use crate::pricing::{ChainModel, ChainSpec};
use crate::rng::RNG_NAME;
use serde::Serialize;

/// Contents of `run.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    /// `synthmarket` crate version that wrote the run.
    pub synthmarket_version: &'static str,
    /// Seed of the random streams.
    pub seed: u64,
    /// Random-number generator and stream derivation.
    pub rng: &'static str,
    /// Number of paths.
    pub paths: u64,
    /// Time grid (steps, dt in years).
    pub grid: TimeGrid,
    /// Date of step 0.
    pub start: String,
    /// Calendar rule mapping steps to dates.
    pub calendar: &'static str,
    /// Resolved model and parameters.
    pub model: ModelSpec,
    /// Option chains written, if any, and how they are priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<OptionsEntry>,
    /// Files written, with their columns.
    pub files: Vec<FileEntry>,
    /// An equivalent command line.
    pub command: String,
}

/// The option chains of a run.
#[derive(Debug, Clone, Serialize)]
pub struct OptionsEntry {
    /// Grid of contracts.
    pub chains: ChainSpec,
    /// Pricing model conditioned on each path's state.
    pub model: ChainModel,
}

/// One output file.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// File name inside the run directory.
    pub name: String,
    /// Number of data rows (header excluded).
    pub rows: u64,
    /// Column names.
    pub columns: Vec<String>,
}

impl RunManifest {
    /// Calendar description written into `run.json`.
    pub const CALENDAR: &'static str =
        "Mon-Fri business days, no holidays; step k falls round(k*dt*252) business days after start";

    /// The RNG description.
    pub fn rng_name() -> &'static str {
        RNG_NAME
    }
}
