//! Run configuration: the `simulate` flags, mirrored one-to-one by the keys of
//! a TOML file (`--config FILE.toml`); flags override the file. Raw values are
//! checked once, here, and turned into validated model parameters.

use crate::deep::pricing::term_table::FitProgress;
use crate::error::{Error, Location, Result};
use crate::io::chain_csv::Layout;
use crate::market::{parse_iso_date, BusinessCalendar, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::pricing::{ChainGrid, ChainSpec, HestonPricer};
use crate::run::ChainModel;
use crate::sim::{CorrelationMatrix, Drift, GarchParams, GbmParams, HestonParams, HestonScheme};
use chrono::NaiveDate;
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

    /// Applies defaults and validates everything, producing a runnable job.
    pub fn resolve(&self) -> Result<SimulationJob> {
        self.resolve_with(&|_| {})
    }

    /// [`Self::resolve`], reporting to `fit_progress` the progress of a deep
    /// pricing table fitted on the way (when the model has none for the λ
    /// asked for: about an hour on 2 cores).
    pub fn resolve_with(
        &self,
        fit_progress: &(dyn Fn(FitProgress) + Sync),
    ) -> Result<SimulationJob> {
        let model = self.model.unwrap_or(ModelKind::Heston);
        let paths = self.paths.unwrap_or(1000);
        if paths == 0 {
            return Err(Error::parameter("paths", 0, "must be at least 1"));
        }
        let grid = TimeGrid::new(
            self.steps.unwrap_or(252),
            self.dt.unwrap_or(1.0 / TRADING_DAYS_PER_YEAR),
        )?;
        let start = match &self.start {
            Some(DateArg(s)) => parse_iso_date(s).map_err(|m| Error::parameter("start", s, m))?,
            None => NaiveDate::from_ymd_opt(2025, 1, 2).expect("valid constant date"),
        };
        let calendar = BusinessCalendar::new(start)?;

        let spec = match model {
            ModelKind::Gbm => self.resolve_gbm()?,
            ModelKind::Heston => self.resolve_heston()?,
            ModelKind::Garch => self.resolve_garch()?,
            ModelKind::Deep => self.resolve_deep()?,
        };
        // The daily models are checked here, before any output is written
        // (their generators are built only when the run streams).
        match &spec {
            ModelSpec::Garch { s0, .. } => {
                crate::sim::check_spot("s0", *s0)?;
                crate::sim::require_daily(crate::sim::GARCH_NAME, grid.dt())?;
            }
            ModelSpec::Deep { .. } => {
                crate::sim::require_daily(crate::deep::DEEP_NAME, grid.dt())?;
            }
            ModelSpec::Gbm { .. } | ModelSpec::Heston { .. } => {}
        }
        let options = self.resolve_options(&spec, fit_progress)?;
        Ok(SimulationJob {
            model: spec,
            grid,
            paths,
            seed: self.seed.unwrap_or(42),
            calendar,
            options,
        })
    }

    fn resolve_options(
        &self,
        model: &ModelSpec,
        fit_progress: &(dyn Fn(FitProgress) + Sync),
    ) -> Result<Option<(ChainSpec, ChainModel)>> {
        let chain_keys = [
            ("expiries", self.expiries.is_some()),
            ("months", self.months.is_some()),
            ("strikes", self.strikes.is_some()),
            ("strike-step", self.strike_step.is_some()),
            ("tenors", self.tenors.is_some()),
            ("moneyness", self.moneyness.is_some()),
            ("chain-every", self.chain_every.is_some()),
            ("variance-premium", self.variance_premium.is_some()),
            ("chain-layout", self.chain_layout.is_some()),
            ("chain-pricing", self.chain_pricing.is_some()),
            ("nested-paths", self.nested_paths.is_some()),
        ];
        if !self.options {
            if let Some((name, _)) = chain_keys.iter().find(|(_, set)| *set) {
                return Err(Error::parameter(*name, "(set)", "needs --options"));
            }
            return Ok(None);
        }
        let kind = self.expiries.unwrap_or(ExpiryGrid::Listed);
        let foreign: &[(&str, bool)] = match kind {
            ExpiryGrid::Listed => &chain_keys[4..6],
            ExpiryGrid::Tenors => &chain_keys[1..4],
        };
        if let Some((name, _)) = foreign.iter().find(|(_, set)| *set) {
            return Err(Error::parameter(
                *name,
                "(set)",
                format!(
                    "does not apply to --expiries {}",
                    if kind == ExpiryGrid::Listed {
                        "listed"
                    } else {
                        "tenors"
                    }
                ),
            ));
        }
        let grid = match kind {
            ExpiryGrid::Listed => ChainGrid::Listed {
                months: self.months.unwrap_or(6),
                strikes_per_side: self.strikes.unwrap_or(10),
                strike_step: self.strike_step,
            },
            ExpiryGrid::Tenors => {
                let days = match &self.tenors {
                    None => vec![7, 30, 60, 91, 182, 365],
                    Some(Numbers(v)) => v
                        .iter()
                        .map(|&d| {
                            if d.fract() == 0.0 && (1.0..=36_500.0).contains(&d) {
                                Ok(d as u32)
                            } else {
                                Err(Error::parameter(
                                    "tenors",
                                    d,
                                    "tenors are whole calendar days, 1 to 36500",
                                ))
                            }
                        })
                        .collect::<Result<Vec<u32>>>()?,
                };
                let moneyness = self
                    .moneyness
                    .as_ref()
                    .map(|m| m.0.clone())
                    .unwrap_or_else(|| (0..9).map(|i| 0.8 + 0.05 * f64::from(i)).collect());
                ChainGrid::Tenors { days, moneyness }
            }
        };
        let spec = ChainSpec::new(grid, self.chain_every.unwrap_or(1))?
            .with_layout(self.chain_layout.unwrap_or_default());
        let (rate, dividend) = (
            self.rate.unwrap_or(0.0),
            self.dividend.as_ref().map_or(0.0, |d| d.0[0]),
        );
        if let (Some(l), ModelSpec::Gbm { .. } | ModelSpec::Heston { .. }) =
            (self.variance_premium, model)
        {
            return Err(Error::parameter(
                "variance-premium",
                l,
                "applies to the daily models' chains (garch, deep); Heston chains are priced under the Heston parameters, GBM chains at the path's σ",
            ));
        }
        let nested = self.chain_pricing == Some(ChainPricing::Nested);
        if let (Some(n), false) = (self.nested_paths, nested) {
            return Err(Error::parameter(
                "nested-paths",
                n,
                "applies to --chain-pricing nested",
            ));
        }
        if let (true, ModelSpec::Gbm { .. } | ModelSpec::Heston { .. }) = (nested, model) {
            return Err(Error::parameter(
                "chain-pricing",
                "nested",
                "applies to the daily models' chains (garch, deep); Heston chains are already exact (Fourier-cosine prices), GBM chains are Black–Scholes at the path's σ",
            ));
        }
        // The nested mode's measure, paths per chain and seed (the run's,
        // tagged so the nested streams are never the spot paths' own).
        let nested_setup = || -> Result<(crate::sim::RiskNeutral, u64, u64)> {
            Ok((
                crate::sim::RiskNeutral::new(
                    rate,
                    dividend,
                    self.variance_premium.unwrap_or(DEFAULT_VARIANCE_PREMIUM),
                )?,
                self.nested_paths
                    .unwrap_or(crate::deep::pricing::nested::DEFAULT_NESTED_PATHS),
                self.seed.unwrap_or(42) ^ NESTED_SEED_TAG,
            ))
        };
        let nested_chains = |pricer| ChainModel::Nested {
            pricer: std::sync::Arc::new(pricer),
            rate,
            dividend,
        };
        let pricing = match model {
            ModelSpec::Garch { params, .. } if nested => {
                let (measure, paths, seed) = nested_setup()?;
                nested_chains(crate::deep::NestedPricer::garch(
                    params, &measure, paths, seed,
                )?)
            }
            ModelSpec::Deep { net, .. } if nested => {
                let (measure, paths, seed) = nested_setup()?;
                nested_chains(crate::deep::NestedPricer::deep(net, &measure, paths, seed)?)
            }
            ModelSpec::Gbm { assets, .. } if assets.len() == 1 => {
                ChainModel::Black { rate, dividend }
            }
            ModelSpec::Gbm { .. } => {
                return Err(Error::parameter(
                    "options",
                    "true",
                    "option chains are written for single-asset runs",
                ))
            }
            ModelSpec::Garch { params, s0, .. } => {
                let measure = crate::sim::RiskNeutral::new(
                    rate,
                    dividend,
                    self.variance_premium.unwrap_or(DEFAULT_VARIANCE_PREMIUM),
                )?;
                let table = fit_garch_table(params, *s0, measure)?;
                ChainModel::Table {
                    table: std::sync::Arc::new(table),
                    rate,
                    dividend,
                }
            }
            ModelSpec::Deep { net, .. } => {
                let lambda = self.variance_premium.unwrap_or(DEFAULT_VARIANCE_PREMIUM);
                crate::sim::RiskNeutral::new(rate, dividend, lambda)?;
                ChainModel::Deep {
                    table: std::sync::Arc::new(deep_pricing_table(
                        net,
                        self.model_path.as_deref(),
                        lambda,
                        fit_progress,
                    )?),
                    rate,
                    dividend,
                }
            }
            ModelSpec::Heston { params, .. } => ChainModel::Heston {
                model: std::sync::Arc::new(HestonPricer::new(
                    params.kappa(),
                    params.theta(),
                    params.xi(),
                    params.rho(),
                )?),
                rate,
                dividend,
            },
        };
        let s0 = match model {
            ModelSpec::Gbm { assets, .. } => assets[0].params.s0(),
            ModelSpec::Heston { params, .. } => params.s0(),
            ModelSpec::Garch { s0, .. } | ModelSpec::Deep { s0, .. } => *s0,
        };
        Ok(Some((spec.with_initial_spot(s0), pricing)))
    }

    fn n_assets(&self) -> Result<usize> {
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

    fn drift(&self, i: usize) -> Result<Drift> {
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

    fn reject_foreign(&self, model: &str, keys: &[(&str, bool)]) -> Result<()> {
        if let Some((name, _)) = keys.iter().find(|(_, set)| *set) {
            return Err(Error::parameter(
                *name,
                "(set)",
                format!("does not apply to --model {model}"),
            ));
        }
        Ok(())
    }

    fn resolve_gbm(&self) -> Result<ModelSpec> {
        self.reject_foreign(
            "gbm",
            &[
                ("v0", self.v0.is_some()),
                ("kappa", self.kappa.is_some()),
                ("theta", self.theta.is_some()),
                ("xi", self.xi.is_some()),
                ("rho", self.rho.is_some()),
                ("scheme", self.scheme.is_some()),
                ("mean", self.mean.is_some()),
                ("omega", self.omega.is_some()),
                ("alpha", self.alpha.is_some()),
                ("gamma", self.gamma.is_some()),
                ("beta", self.beta.is_some()),
                ("nu", self.nu.is_some()),
                ("model-path", self.model_path.is_some()),
            ],
        )?;
        let n = self.n_assets()?;
        let pick = |v: &Option<Numbers>, i: usize, default: f64| {
            v.as_ref()
                .map_or(default, |x| if x.0.len() == 1 { x.0[0] } else { x.0[i] })
        };
        let mut assets = Vec::with_capacity(n);
        for i in 0..n {
            let name = match &self.assets {
                Some(names) => names[i].clone(),
                None if n == 1 => "asset1".to_string(),
                None => format!("asset{}", i + 1),
            };
            let params = GbmParams::new(
                pick(&self.s0, i, 100.0),
                self.drift(i)?,
                pick(&self.sigma, i, 0.2),
            )
            .map_err(|e| name_asset(e, &name, n))?;
            assets.push(GbmAsset { name, params });
        }
        let correlation = match (&self.correlation, n) {
            (Some(rows), _) => Some(CorrelationMatrix::new(&rows.0)?),
            (None, 1) => None,
            (None, _) => {
                return Err(Error::parameter(
                    "correlation",
                    "(missing)",
                    format!("{n} assets need a {n}×{n} correlation matrix (e.g. --correlation \"1,0.5;0.5,1\")"),
                ))
            }
        };
        if let Some(c) = &correlation {
            if c.dim() != n {
                return Err(Error::parameter(
                    "correlation",
                    format!("{}×{}", c.dim(), c.dim()),
                    format!(
                        "the matrix is {d}×{d} but there are {n} assets",
                        d = c.dim()
                    ),
                ));
            }
        }
        Ok(ModelSpec::Gbm {
            assets,
            correlation,
        })
    }

    fn resolve_heston(&self) -> Result<ModelSpec> {
        self.reject_foreign(
            "heston",
            &[
                ("sigma", self.sigma.is_some()),
                ("assets", self.assets.is_some()),
                ("correlation", self.correlation.is_some()),
                ("mean", self.mean.is_some()),
                ("omega", self.omega.is_some()),
                ("alpha", self.alpha.is_some()),
                ("gamma", self.gamma.is_some()),
                ("beta", self.beta.is_some()),
                ("nu", self.nu.is_some()),
                ("model-path", self.model_path.is_some()),
            ],
        )?;
        let one = |name: &str, v: &Option<Numbers>, default: f64| match v {
            None => Ok(default),
            Some(n) if n.0.len() == 1 => Ok(n.0[0]),
            Some(n) => Err(Error::parameter(
                name,
                format!("{} values", n.0.len()),
                "Heston simulates one asset: give a single value",
            )),
        };
        let s0 = one("s0", &self.s0, 100.0)?;
        one("mu", &self.mu, 0.0)?;
        one("dividend", &self.dividend, 0.0)?;
        let params = HestonParams::new(
            s0,
            self.drift(0)?,
            self.v0.unwrap_or(0.04),
            self.kappa.unwrap_or(2.0),
            self.theta.unwrap_or(0.04),
            self.xi.unwrap_or(0.5),
            self.rho.unwrap_or(-0.7),
        )?;
        Ok(ModelSpec::Heston {
            params,
            scheme: self.scheme.unwrap_or_default(),
        })
    }
}

impl SimulateParams {
    fn resolve_garch(&self) -> Result<ModelSpec> {
        self.reject_foreign(
            "garch",
            &[
                ("sigma", self.sigma.is_some()),
                ("assets", self.assets.is_some()),
                ("correlation", self.correlation.is_some()),
                ("mu", self.mu.is_some()),
                ("kappa", self.kappa.is_some()),
                ("theta", self.theta.is_some()),
                ("xi", self.xi.is_some()),
                ("rho", self.rho.is_some()),
                ("scheme", self.scheme.is_some()),
                ("model-path", self.model_path.is_some()),
            ],
        )?;
        let s0 = match &self.s0 {
            None => 100.0,
            Some(n) if n.0.len() == 1 => n.0[0],
            Some(n) => {
                return Err(Error::parameter(
                    "s0",
                    format!("{} values", n.0.len()),
                    "GARCH simulates one asset: give a single value",
                ))
            }
        };
        // Defaults: the maximum-likelihood fit to data/sp500_daily.csv.
        let params = GarchParams::new(
            self.mean.unwrap_or(3.6728e-4),
            self.omega.unwrap_or(1.3158e-6),
            self.alpha.unwrap_or(0.0),
            self.gamma.unwrap_or(0.18144),
            self.beta.unwrap_or(0.89870),
            self.nu.unwrap_or(7.5058),
        )?;
        Ok(ModelSpec::Garch {
            params,
            s0,
            v0: self.v0,
        })
    }

    fn resolve_deep(&self) -> Result<ModelSpec> {
        self.reject_foreign(
            "deep",
            &[
                ("sigma", self.sigma.is_some()),
                ("assets", self.assets.is_some()),
                ("correlation", self.correlation.is_some()),
                ("mu", self.mu.is_some()),
                ("v0", self.v0.is_some()),
                ("kappa", self.kappa.is_some()),
                ("theta", self.theta.is_some()),
                ("xi", self.xi.is_some()),
                ("rho", self.rho.is_some()),
                ("scheme", self.scheme.is_some()),
                ("mean", self.mean.is_some()),
                ("omega", self.omega.is_some()),
                ("alpha", self.alpha.is_some()),
                ("gamma", self.gamma.is_some()),
                ("beta", self.beta.is_some()),
                ("nu", self.nu.is_some()),
            ],
        )?;
        let s0 = match &self.s0 {
            None => 100.0,
            Some(n) if n.0.len() == 1 => n.0[0],
            Some(n) => {
                return Err(Error::parameter(
                    "s0",
                    format!("{} values", n.0.len()),
                    "the deep model simulates one asset: give a single value",
                ))
            }
        };
        crate::sim::check_spot("s0", s0)?;
        let net = match &self.model_path {
            Some(dir) => crate::deep::MixtureNet::load(dir)?,
            None => crate::deep::MixtureNet::shipped()?,
        };
        Ok(ModelSpec::Deep {
            model_path: self.model_path.as_ref().map_or_else(
                || format!("shipped:{}", crate::deep::SHIPPED_MODEL),
                |p| p.display().to_string(),
            ),
            net: Box::new(net),
            s0,
        })
    }
}

fn name_asset(e: Error, name: &str, n: usize) -> Error {
    match e {
        Error::Parameter {
            name: p,
            value,
            reason,
        } if n > 1 => Error::Parameter {
            name: format!("{p}[{name}]"),
            value,
            reason,
        },
        other => other,
    }
}

/// One asset of a GBM run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GbmAsset {
    /// Name written in the `asset` column of multi-asset output.
    pub name: String,
    /// Its parameters.
    #[serde(flatten)]
    pub params: GbmParams,
}

/// A fully resolved model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ModelSpec {
    /// GBM, one or several assets.
    Gbm {
        /// Per-asset parameters.
        assets: Vec<GbmAsset>,
        /// Correlation of the Brownian motions (multi-asset only).
        #[serde(serialize_with = "ser_corr")]
        correlation: Option<CorrelationMatrix>,
    },
    /// Heston.
    Heston {
        /// Parameters.
        #[serde(flatten)]
        params: HestonParams,
        /// Scheme.
        scheme: HestonScheme,
    },
    /// GJR-GARCH(1,1)-t, daily.
    Garch {
        /// Parameters (daily units).
        #[serde(flatten)]
        params: GarchParams,
        /// Initial spot.
        s0: f64,
        /// Initial conditional variance, annualised (None: unconditional).
        v0: Option<f64>,
    },
    /// The deep generator, daily.
    Deep {
        /// `shipped:NAME` or the model directory.
        model_path: String,
        /// The loaded network (recorded in run.json by its name).
        #[serde(rename = "name", serialize_with = "ser_model_name")]
        net: Box<crate::deep::MixtureNet>,
        /// Initial spot.
        s0: f64,
    },
}

fn ser_model_name<S: serde::Serializer>(
    net: &crate::deep::MixtureNet,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&net.config().name)
}

fn ser_corr<S: serde::Serializer>(
    c: &Option<CorrelationMatrix>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    c.as_ref().map(|c| c.rows()).serialize(s)
}

/// Everything needed to run a simulation, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationJob {
    /// The model and its parameters.
    pub model: ModelSpec,
    /// Time grid.
    pub grid: TimeGrid,
    /// Number of paths.
    pub paths: u64,
    /// Seed.
    pub seed: u64,
    /// Calendar for the `date` column.
    pub calendar: BusinessCalendar,
    /// Option chains to write beside the paths, and how to price them.
    pub options: Option<(ChainSpec, ChainModel)>,
}

/// λ of the GARCH chains by default: E(VIX²) / E(realised variance over the
/// next 21 trading days) of the S&P 500, 2014-01-03 to 2018-11-30, from
/// `data/vix_daily.csv` and `data/sp500_daily.csv` (1.381; the VIX is the
/// 30-day risk-neutral expected variance, so the ratio is the variance risk
/// premium as a multiplier, Carr & Wu 2009, "Variance risk premiums").
pub const DEFAULT_VARIANCE_PREMIUM: f64 = 1.38;

/// XORed into the run's seed to seed the nested mode's streams.
const NESTED_SEED_TAG: u64 = 0x6e65_7374_6564;

/// Nested paths per variance knot of a GARCH law table (Monte-Carlo error
/// of an at-the-money implied vol about 0.1 vol point).
pub const GARCH_TABLE_PATHS: u64 = 40_000;

/// The deep model's pricing table: the one stored with the model (the
/// shipped one, or `pricing.*` in `--model-path`) when it was fitted with
/// this λ; otherwise one fitted now (minutes, with a progress bar).
fn deep_pricing_table(
    net: &crate::deep::MixtureNet,
    model_path: Option<&std::path::Path>,
    lambda: f64,
    fit_progress: &(dyn Fn(FitProgress) + Sync),
) -> Result<crate::deep::TermTable> {
    let stored = match model_path {
        Some(dir) => crate::deep::TermTable::load(dir, net)?,
        None => Some(crate::deep::shipped_pricing()?),
    };
    if let Some(t) = stored {
        if (t.variance_premium() - lambda).abs() < 1e-12 {
            return Ok(t);
        }
        tracing::warn!(
            "the stored pricing table was fitted with variance premium {}; fitting one for {lambda} now, about an hour on 2 cores (store it with `synthmarket fit-pricing --variance-premium {lambda}`)",
            t.variance_premium()
        );
    } else {
        tracing::warn!(
            "the model has no pricing table; fitting one now, about an hour on 2 cores (store it with `synthmarket fit-pricing --model DIR`)"
        );
    }
    crate::deep::TermTable::fit(
        net,
        lambda,
        crate::deep::pricing::term_table::DEFAULT_PATHS_PER_STATE,
        crate::deep::pricing::term_table::DEFAULT_SEED,
        fit_progress,
    )
}

/// Fits the risk-neutral law table of GJR-GARCH-t chains (seconds).
fn fit_garch_table(
    params: &GarchParams,
    s0: f64,
    measure: crate::sim::RiskNeutral,
) -> Result<crate::sim::SurrogateTable> {
    let grid = TimeGrid::new(1, 1.0 / TRADING_DAYS_PER_YEAR)?;
    let garch = crate::sim::Garch::new(*params, s0, None, &grid)?;
    let knots = garch.surrogate_knots(&measure, 0x5EED)?;
    tracing::info!(
        "fitting the GJR-GARCH risk-neutral laws: {} variance states x {} nested paths",
        knots.len(),
        GARCH_TABLE_PATHS
    );
    crate::sim::SurrogateTable::fit(&knots, measure, GARCH_TABLE_PATHS, 0x5EED, &|_| {})
}
