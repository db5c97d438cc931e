//! Run configuration: the `simulate` flags, mirrored one-to-one by the keys of
//! a TOML file (`--config FILE.toml`); flags override the file. Raw values are
//! checked once, here, and turned into validated model parameters.

use crate::error::{Error, Location, Result};
use crate::io::chain_csv::Layout;
use crate::market::parse_iso_date;
use crate::sim::{Drift, HestonScheme};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;
use std::str::FromStr;

/// Which spot model to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Geometric Brownian motion (one or several correlated assets).
    Gbm,
    /// Heston stochastic volatility.
    Heston,
    /// GJR-GARCH(1,1) with Student-t innovations (daily).
    Garch,
    /// The deep generator: a trained network (daily; `--model-path`, or the
    /// shipped S&P 500 model).
    Deep,
}

/// A list of numbers: `0.2` or `0.2,0.3` on the command line, a number or an
/// array in TOML. One entry per asset (a single entry applies to all).
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers(pub Vec<f64>);

impl FromStr for Numbers {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        s.split(',')
            .map(|t| {
                t.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{}` is not a number", t.trim()))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Numbers)
    }
}

impl<'de> Deserialize<'de> for Numbers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(f64),
            Many(Vec<f64>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(x) => Numbers(vec![x]),
            OneOrMany::Many(v) => Numbers(v),
        })
    }
}

/// A matrix given by rows: `"1,0.5;0.5,1"` on the command line, an array of
/// arrays in TOML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Rows(pub Vec<Vec<f64>>);

impl FromStr for Rows {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        s.split(';')
            .map(|row| row.parse::<Numbers>().map(|n| n.0))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Rows)
    }
}

/// A calendar date: `"2025-01-02"` or a bare TOML date `2025-01-02`.
#[derive(Debug, Clone, PartialEq)]
pub struct DateArg(pub String);

impl FromStr for DateArg {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        parse_iso_date(s).map(|_| DateArg(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for DateArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Toml(toml::value::Datetime),
        }
        Ok(DateArg(match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Toml(dt) => dt.to_string(),
        }))
    }
}

/// Flags of `synthmarket simulate`; every one may also be a key of the TOML
/// file given with `--config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SimulateParams {
    /// Spot model [default: heston]
    #[arg(long, value_enum, help_heading = "Run")]
    pub model: Option<ModelKind>,
    /// Number of paths [default: 1000]
    #[arg(long, help_heading = "Run")]
    pub paths: Option<u64>,
    /// Steps per path [default: 252, one trading year]
    #[arg(long, help_heading = "Run")]
    pub steps: Option<usize>,
    /// Step length in years [default: 1/252, one trading day]
    #[arg(long, help_heading = "Run")]
    pub dt: Option<f64>,
    /// Seed of the random streams; same seed, same output [default: 42]
    #[arg(long, help_heading = "Run")]
    pub seed: Option<u64>,
    /// Date of step 0, YYYY-MM-DD, a weekday; steps follow a Mon–Fri calendar [default: 2025-01-02]
    #[arg(long, help_heading = "Run")]
    pub start: Option<DateArg>,
    /// File format: csv (text), or parquet (spot.parquet, options.parquet: typed columns, zstd-compressed, 4–6× smaller and several times faster to read in pandas, polars, DuckDB or Spark) [default: csv]
    #[arg(long, value_enum, help_heading = "Run")]
    pub format: Option<OutputFormat>,
    /// Write only shard K of N (K = 0…N−1): paths ⌊K·P/N⌋ … ⌊(K+1)·P/N⌋ − 1 of the P-path run (--paths), bit for bit the same as in the whole run; the N shards, concatenated in order, are the whole run. For runs across processes or machines (the Python package's synthmarket.distributed runs them on Dask)
    #[arg(long, help_heading = "Run")]
    pub shard: Option<Shard>,
    /// Replace the files of a different run already in the output directory (without it, a directory holding another run's run.json is an error and nothing is written; rerunning the same command always replaces its own files)
    #[arg(long, help_heading = "Run")]
    #[serde(default)]
    pub overwrite: bool,
    /// Write a run whose estimated size is above 50 GB (simulate estimates the output before writing: without --yes such a run is refused with the estimate; a run larger than the free space of the output's filesystem is refused even with --yes)
    #[arg(long, help_heading = "Run")]
    #[serde(default)]
    pub yes: bool,

    /// Start from a real date: the price history whose state at the close of --from starts every model (deep: its features warmed up on the history; garch: the filtered conditional variance; heston: v0 from --vix, else a GJR-GARCH-t filtered variance; gbm: sigma from the last 63 returns unless --sigma). Step 0 is that date, at the real close (--s0 rescales); no data after it is read
    #[arg(long, value_name = "FILE", help_heading = "Start from a real date")]
    pub history: Option<std::path::PathBuf>,
    /// The history's price column [default: adj_close if present, else close]
    #[arg(long, help_heading = "Start from a real date")]
    pub column: Option<String>,
    /// The date (YYYY-MM-DD, a trading day of --history) whose close is step 0
    #[arg(long, value_name = "DATE", help_heading = "Start from a real date")]
    pub from: Option<DateArg>,
    /// A market model (--model-path DIR with a panel.json): --history is its stocks' wide file (a date column, one column per ticker) and this the index's history on the same dates, as `train --data --index` reads them; every net's features run through its own series up to --from and every asset starts at its close
    #[arg(long, value_name = "FILE", help_heading = "Start from a real date")]
    pub history_index: Option<std::path::PathBuf>,
    /// Heston: a VIX history (date, close); v0 = (VIX on --from / 100)², and run.json sets the model's 30-day at-the-money implied vol at step 0 beside the VIX
    #[arg(long, value_name = "FILE", help_heading = "Start from a real date")]
    pub vix: Option<std::path::PathBuf>,

    /// Initial spot; a list gives one per asset (GBM) [default: 100]
    #[arg(long, allow_hyphen_values = true, help_heading = "Spot and drift")]
    pub s0: Option<Numbers>,
    /// Real-world drift per year (E(S_T) = S0·e^{mu·T}); a list gives one per asset. Excludes --rate/--dividend
    #[arg(long, allow_hyphen_values = true, help_heading = "Spot and drift")]
    pub mu: Option<Numbers>,
    /// Risk-neutral drift: continuously compounded rate per year [default: 0]
    #[arg(long, allow_hyphen_values = true, help_heading = "Spot and drift")]
    pub rate: Option<f64>,
    /// Risk-neutral drift: continuous dividend yield per year; a list gives one per asset [default: 0]
    #[arg(long, allow_hyphen_values = true, help_heading = "Spot and drift")]
    pub dividend: Option<Numbers>,

    /// GBM: annualised volatility (0.2 = 20 %); a list gives one per asset [default: 0.2]
    #[arg(long, allow_hyphen_values = true, help_heading = "GBM")]
    pub sigma: Option<Numbers>,
    /// GBM: asset names for a multi-asset run [default: asset1, asset2, …]
    #[arg(long, value_delimiter = ',', help_heading = "GBM")]
    pub assets: Option<Vec<String>>,
    /// GBM: correlation matrix of the assets' Brownian motions, rows separated by `;` (e.g. "1,0.6;0.6,1")
    #[arg(long, allow_hyphen_values = true, help_heading = "GBM")]
    pub correlation: Option<Rows>,

    /// Heston: initial variance (annualised; 0.04 = 20 % vol) [default: 0.04]
    #[arg(long, help_heading = "Heston")]
    pub v0: Option<f64>,
    /// Heston: mean-reversion speed of the variance, per year [default: 2.0]
    #[arg(long, allow_hyphen_values = true, help_heading = "Heston")]
    pub kappa: Option<f64>,
    /// Heston: long-run variance [default: 0.04]
    #[arg(long, allow_hyphen_values = true, help_heading = "Heston")]
    pub theta: Option<f64>,
    /// Heston: volatility of variance [default: 0.5]
    #[arg(long, allow_hyphen_values = true, help_heading = "Heston")]
    pub xi: Option<f64>,
    /// Heston: correlation of spot and variance shocks, in [-1, 1] [default: -0.7]
    #[arg(long, allow_hyphen_values = true, help_heading = "Heston")]
    pub rho: Option<f64>,
    /// Heston: discretisation scheme [default: qe]
    #[arg(long, value_enum, help_heading = "Heston")]
    pub scheme: Option<HestonScheme>,

    /// GARCH: mean daily log return [default: 3.673e-4, the S&P 500 1999–2018 fit]
    #[arg(
        long,
        allow_hyphen_values = true,
        help_heading = "GJR-GARCH (daily units)"
    )]
    pub mean: Option<f64>,
    /// GARCH: variance intercept omega, daily [default: 1.316e-6]
    #[arg(long, help_heading = "GJR-GARCH (daily units)")]
    pub omega: Option<f64>,
    /// GARCH: ARCH coefficient alpha [default: 0]
    #[arg(long, help_heading = "GJR-GARCH (daily units)")]
    pub alpha: Option<f64>,
    /// GARCH: leverage coefficient gamma (extra weight of negative shocks) [default: 0.1814]
    #[arg(
        long,
        allow_hyphen_values = true,
        help_heading = "GJR-GARCH (daily units)"
    )]
    pub gamma: Option<f64>,
    /// GARCH: GARCH coefficient beta [default: 0.8987]
    #[arg(long, help_heading = "GJR-GARCH (daily units)")]
    pub beta: Option<f64>,
    /// GARCH: Student-t degrees of freedom nu > 2 [default: 7.506]
    #[arg(long, help_heading = "GJR-GARCH (daily units)")]
    pub nu: Option<f64>,

    /// Deep: directory of a model written by `synthmarket train` [default: the shipped S&P 500 model]
    #[arg(long, help_heading = "Deep generator")]
    pub model_path: Option<std::path::PathBuf>,

    /// Also write DIR/options.csv: the option chain of every path and date, priced in the path's state
    #[arg(long, help_heading = "Option chains")]
    #[serde(default)]
    pub options: bool,
    /// Chain grid: third-Friday monthly expiries with fixed strikes, or constant tenors with moneyness strikes [default: listed]
    #[arg(long, value_enum, help_heading = "Option chains")]
    pub expiries: Option<ExpiryGrid>,
    /// GARCH and deep chains: risk-neutral / real-world conditional variance ratio λ (the variance risk premium; 1 = none). The default is E(VIX²) / E(next-21-day realised variance) of the S&P 500 over 2014-2018 (data/); the deep model's stored pricing table is fitted with it, another λ refits one (about an hour on 2 cores) [default: 1.38]
    #[arg(long, help_heading = "Option chains")]
    pub variance_premium: Option<f64>,
    /// Listed: number of monthly expiries after each date [default: 6]
    #[arg(long, help_heading = "Option chains")]
    pub months: Option<usize>,
    /// Listed: strikes each side of the at-the-money strike [default: 10, i.e. 21 strikes]
    #[arg(long, help_heading = "Option chains")]
    pub strikes: Option<usize>,
    /// Listed: strike increment [default: about 2.5 % of s0, rounded to 1, 2, 2.5 or 5 × 10^n]
    #[arg(long, help_heading = "Option chains")]
    pub strike_step: Option<f64>,
    /// Tenors: maturities in calendar days [default: 7,30,60,91,182,365]
    #[arg(long, help_heading = "Option chains")]
    pub tenors: Option<Numbers>,
    /// Tenors: strikes as fractions of spot [default: 0.8,0.85,…,1.2]
    #[arg(long, help_heading = "Option chains")]
    pub moneyness: Option<Numbers>,
    /// Write a chain every N steps [default: 1]
    #[arg(long, help_heading = "Option chains")]
    pub chain_every: Option<usize>,
    /// Rows of options.csv: one per option (long), or one per strike with the call and put side by side (wide: half the rows, ~40 % fewer bytes, for large markets; hedge and validate read both) [default: long]
    #[arg(long, value_enum, help_heading = "Option chains")]
    pub chain_layout: Option<Layout>,
    /// GARCH and deep chains: the fast pricer fitted once per model (table), or the exact mode (nested): every chain priced by nested Monte Carlo of the risk-neutral model restarted in its path's state, about a second per deep chain (0.1 s per GARCH chain) at 10,000 nested paths on 2 cores, for validation runs (few paths, --chain-every 5 or 21) [default: table]
    #[arg(long, value_enum, help_heading = "Option chains")]
    pub chain_pricing: Option<ChainPricing>,
    /// Nested mode: nested paths per chain. The error falls as 1/√paths; measured on the shipped deep model against 160,000-path control-variate references, at 10,000 it is 0.12–0.31 vol points RMS at the money and 0.22–0.53 across ±2 sd (calm to stressed states), at 20,000 0.10–0.21 and 0.16–0.38, about the deep table's own error: to check the table, use well over 20,000 [default: 10000]
    #[arg(long, help_heading = "Option chains")]
    pub nested_paths: Option<u64>,
}

/// The format of a run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Text: `spot.csv`, `options.csv`.
    #[default]
    Csv,
    /// Apache Parquet: `spot.parquet`, `options.parquet`.
    Parquet,
}

impl OutputFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Parquet => "parquet",
        }
    }
}

/// Shard `index` of `count` of a run: `K/N` on the command line and in
/// TOML (`shard = "1/4"`). Checked when parsed: `N ≥ 1`, `K < N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// K, from 0.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// The paths of this shard of a `paths`-path run, as (first, number):
    /// `⌊K·P/N⌋ … ⌊(K+1)·P/N⌋ − 1`, so shards differ in size by at most
    /// one path and tile `0…P−1` in order.
    pub fn paths(self, paths: u64) -> (u64, u64) {
        let bound = |k: u64| (u128::from(k) * u128::from(paths) / u128::from(self.count)) as u64;
        let (first, end) = (bound(self.index), bound(self.index + 1));
        (first, end - first)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (e.g. 0/4: the first of 4 shards)"))?;
        let parse = |t: &str, what: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}`: {what} `{}` is not a whole number ≥ 0", t.trim()))
        };
        let (index, count) = (parse(k, "K")?, parse(n, "N")?);
        if count == 0 {
            return Err(format!(
                "`{s}`: N must be at least 1 (the number of shards)"
            ));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: K must be below N (shards are numbered 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How the daily models' chains are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ChainPricing {
    /// The risk-neutral law table fitted once per model (fast).
    Table,
    /// Nested Monte Carlo at every chain (exact up to Monte-Carlo error; slow).
    Nested,
}

/// Option-chain grid kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryGrid {
    /// Third-Friday monthly expiries, absolute strikes on an increment grid.
    Listed,
    /// Constant maturities in calendar days, strikes by moneyness.
    Tenors,
}

impl SimulateParams {
    /// Reads a TOML config file. Unknown keys are errors, naming file and line.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses TOML text; `source` names it in errors.
    pub fn from_toml_str(text: &str, source: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let mut loc = Location::file(source);
            if let Some(span) = e.span() {
                loc = loc.line(1 + text[..span.start].matches('\n').count() as u64);
            }
            Error::input(loc, e.message().to_string())
        })
    }

    /// `self` (the flags) over `file`: a value given in both wins from the
    /// flags. Drift is one group: giving `--mu` or `--rate`/`--dividend` on the
    /// command line replaces the file's drift entirely.
    pub fn over(self, file: SimulateParams) -> SimulateParams {
        let flags_drift = self.mu.is_some() || self.rate.is_some() || self.dividend.is_some();
        let (mu, rate, dividend) = if flags_drift {
            (self.mu, self.rate, self.dividend)
        } else {
            (file.mu, file.rate, file.dividend)
        };
        SimulateParams {
            model: self.model.or(file.model),
            model_path: self.model_path.or(file.model_path),
            paths: self.paths.or(file.paths),
            steps: self.steps.or(file.steps),
            dt: self.dt.or(file.dt),
            seed: self.seed.or(file.seed),
            start: self.start.or(file.start),
            format: self.format.or(file.format),
            shard: self.shard.or(file.shard),
            overwrite: self.overwrite || file.overwrite,
            yes: self.yes || file.yes,
            history: self.history.or(file.history),
            column: self.column.or(file.column),
            from: self.from.or(file.from),
            history_index: self.history_index.or(file.history_index),
            vix: self.vix.or(file.vix),
            s0: self.s0.or(file.s0),
            mu,
            rate,
            dividend,
            sigma: self.sigma.or(file.sigma),
            assets: self.assets.or(file.assets),
            correlation: self.correlation.or(file.correlation),
            v0: self.v0.or(file.v0),
            kappa: self.kappa.or(file.kappa),
            theta: self.theta.or(file.theta),
            xi: self.xi.or(file.xi),
            rho: self.rho.or(file.rho),
            scheme: self.scheme.or(file.scheme),
            mean: self.mean.or(file.mean),
            omega: self.omega.or(file.omega),
            alpha: self.alpha.or(file.alpha),
            gamma: self.gamma.or(file.gamma),
            beta: self.beta.or(file.beta),
            nu: self.nu.or(file.nu),
            options: self.options || file.options,
            expiries: self.expiries.or(file.expiries),
            months: self.months.or(file.months),
            strikes: self.strikes.or(file.strikes),
            strike_step: self.strike_step.or(file.strike_step),
            tenors: self.tenors.or(file.tenors),
            moneyness: self.moneyness.or(file.moneyness),
            chain_every: self.chain_every.or(file.chain_every),
            chain_layout: self.chain_layout.or(file.chain_layout),
            variance_premium: self.variance_premium.or(file.variance_premium),
            chain_pricing: self.chain_pricing.or(file.chain_pricing),
            nested_paths: self.nested_paths.or(file.nested_paths),
        }
    }

    pub(super) fn n_assets(&self) -> Result<usize> {
        let lens = [
            ("s0", self.s0.as_ref().map(|v| v.0.len())),
            ("mu", self.mu.as_ref().map(|v| v.0.len())),
            ("dividend", self.dividend.as_ref().map(|v| v.0.len())),
            ("sigma", self.sigma.as_ref().map(|v| v.0.len())),
            ("assets", self.assets.as_ref().map(|v| v.len())),
            ("correlation", self.correlation.as_ref().map(|v| v.0.len())),
        ];
        // The per-asset lists set the number of assets; with only scalars, a
        // correlation matrix does (its size is checked against n later).
        let n_lists = lens[..5]
            .iter()
            .filter_map(|(_, l)| *l)
            .max()
            .unwrap_or(1)
            .max(1);
        let n = match (n_lists, &self.correlation) {
            (1, Some(rows)) if !rows.0.is_empty() => rows.0.len(),
            _ => n_lists,
        };
        for (name, len) in &lens[..5] {
            match *len {
                Some(0) => return Err(Error::parameter(*name, "[]", "must not be empty")),
                Some(l) if l != 1 && l != n => {
                    return Err(Error::parameter(
                        *name,
                        format!("{l} values"),
                        format!("expected 1 or {n} values, one per asset"),
                    ))
                }
                _ => {}
            }
        }
        if self.assets.as_ref().is_some_and(|a| a.len() != n) {
            return Err(Error::parameter(
                "assets",
                self.assets.as_ref().map_or(0, |a| a.len()),
                format!(
                    "names {} assets but the parameters describe {n}",
                    self.assets.as_ref().map_or(0, |a| a.len())
                ),
            ));
        }
        Ok(n)
    }

    pub(super) fn drift(&self, i: usize) -> Result<Drift> {
        let pick = |v: &Option<Numbers>, default: f64| {
            v.as_ref()
                .map_or(default, |n| if n.0.len() == 1 { n.0[0] } else { n.0[i] })
        };
        match (&self.mu, (self.rate.is_some() || self.dividend.is_some()) && !self.options) {
            (Some(_), true) => Err(Error::parameter(
                "mu",
                pick(&self.mu, 0.0),
                "give either a real-world drift (--mu) or a risk-neutral one (--rate/--dividend), not both \
                 (with --options, --rate/--dividend price the chains of real-world paths)",
            )),
            (Some(_), false) => Ok(Drift::RealWorld {
                mu: pick(&self.mu, 0.0),
            }),
            (None, _) => Ok(Drift::RiskNeutral {
                rate: self.rate.unwrap_or(0.0),
                dividend: pick(&self.dividend, 0.0),
            }),
        }
    }

    pub(super) fn reject_foreign(&self, model: &str, keys: &[(&str, bool)]) -> Result<()> {
        if let Some((name, _)) = keys.iter().find(|(_, set)| *set) {
            return Err(Error::parameter(
                *name,
                "(set)",
                format!("does not apply to --model {model}"),
            ));
        }
        Ok(())
    }
}
