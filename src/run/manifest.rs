//! `run.json`: everything needed to reproduce a run bit for bit.

use crate::market::TimeGrid;
use crate::pricing::ChainSpec;
use crate::rng::RNG_NAME;
use crate::run::ChainModel;
use crate::run::ModelSpec;
use crate::run::OutputFormat;
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
    /// Number of paths of the whole run.
    pub paths: u64,
    /// The part of the run these files hold, when they are one shard of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardEntry>,
    /// Format of the files (`csv` or `parquet`).
    pub format: OutputFormat,
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
    /// The real history and date the run starts from (`--history`,
    /// `--from`): file, hash, date, close and starting state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_start: Option<crate::run::start::HistoryStart>,
}

/// The option chains of a run.
#[derive(Debug, Clone, Serialize)]
pub struct OptionsEntry {
    /// Grid of contracts.
    pub chains: ChainSpec,
    /// Pricing model conditioned on each path's state.
    pub model: ChainModel,
}

/// The shard of a run a directory holds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ShardEntry {
    /// K of K/N, from 0.
    pub index: u64,
    /// N of K/N.
    pub count: u64,
    /// Index of the shard's first path in the whole run.
    pub first_path: u64,
    /// Number of paths in the shard.
    pub paths: u64,
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

/// What the commands that read a market back need from its `run.json`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketInfo {
    /// Step length in years.
    pub dt: f64,
    /// Rate per year the chains are priced with.
    pub rate: f64,
    /// Dividend yield per year the chains are priced with.
    pub dividend: f64,
    /// Chains are written every this many steps.
    pub chain_every: usize,
    /// Whether the chains use the listed grid (fixed expiries and strikes).
    pub listed: bool,
}

impl MarketInfo {
    /// Reads `dir/run.json` of a run written with `--options`.
    pub fn read(dir: &std::path::Path) -> crate::Result<Self> {
        use crate::error::{Error, Location};
        let path = dir.join("run.json");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(Location::file(&path), format!("not valid JSON: {e}")))?;
        let options = &json["options"];
        if options.is_null() {
            return Err(Error::input(
                Location::file(&path).field("options"),
                "this market has no option chains: simulate it with --options",
            ));
        }
        let number = |value: &serde_json::Value, field: &str| {
            value.as_f64().ok_or_else(|| {
                Error::input(
                    Location::file(&path).field(field),
                    "missing or not a number (was this written by `simulate --options`?)",
                )
            })
        };
        Ok(MarketInfo {
            dt: number(&json["grid"]["dt"], "grid.dt")?,
            rate: number(&options["model"]["rate"], "options.model.rate")?,
            dividend: number(&options["model"]["dividend"], "options.model.dividend")?,
            chain_every: number(&options["chains"]["every"], "options.chains.every")? as usize,
            listed: options["chains"]["grid"] == "listed",
        })
    }
}
