//! The chain pricer of a run: which model's [`ChainPricer`] prices the
//! chains, with the rate and dividend it prices them at. This is the one
//! place that knows every model's pricer; the chain builder itself
//! ([`crate::pricing::price_chain`]) knows only the trait.

use super::models::ModelSpec;
use super::params::{ChainPricing, ExpiryGrid, Numbers, SimulateParams};
use crate::deep::pricing::term_table::FitProgress;
use crate::deep::{NestedPricer, TermTable};
use crate::error::Error;
use crate::error::Result;
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::pricing::ChainGrid;
use crate::pricing::{
    price_chain, BlackAtStateVol, ChainPricer, ChainRow, ChainSpec, HestonPricer, PathState,
};
use crate::sim::GarchParams;
use crate::sim::SurrogateTable;
use chrono::NaiveDate;
use serde::Serialize;

/// The pricing model of a run's chains, given the path's state: one
/// variant per model's pricer, recorded in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "pricing", rename_all = "snake_case")]
pub enum ChainModel {
    /// Black–Scholes–Merton at σ = √variance.
    Black {
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// Heston with v0 = the path's variance.
    Heston {
        /// κ, θ, ξ, ρ, with the variance-free parts of the characteristic
        /// function kept across chains.
        #[serde(flatten)]
        model: std::sync::Arc<HestonPricer>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// A daily model's risk-neutral laws (GJR-GARCH-t), looked up at the
    /// path's variance state ([`crate::sim::law_table`]).
    Table {
        /// The fitted laws; run.json records how they were fitted (λ,
        /// nested paths per knot, the knots' variances).
        #[serde(flatten)]
        table: std::sync::Arc<SurrogateTable>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// The deep model's risk-neutral laws, looked up from the path's
    /// feature state ([`crate::deep::pricing::term_table`]).
    Deep {
        /// The fitted table; run.json records how it was fitted.
        #[serde(flatten)]
        table: std::sync::Arc<TermTable>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// A market model's chains: each asset a Heston law in its own units,
    /// one law in standardised variance fitted to the index net's nested
    /// prices ([`crate::deep::panel::pricing`]); v0 = λ × the asset's
    /// variance state.
    Market {
        /// The fitted laws; run.json records the whole `pricing.json`.
        #[serde(flatten)]
        laws: std::sync::Arc<crate::deep::panel::MarketPricing>,
        /// Each asset's strike increment of listed chains (empty for
        /// tenor chains): the listed step of its start price.
        strike_steps: Vec<f64>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
    /// The exact mode of the daily models (GJR-GARCH-t, deep): each chain
    /// priced by nested Monte Carlo of the risk-neutral generator restarted
    /// in the path's state ([`crate::deep::pricing::nested`]).
    Nested {
        /// The restarted model, λ, nested paths and seed; run.json records
        /// all but the model's parameters (the run's own).
        #[serde(flatten)]
        pricer: std::sync::Arc<NestedPricer>,
        /// Rate per year.
        rate: f64,
        /// Dividend yield per year.
        dividend: f64,
    },
}

impl ChainModel {
    /// Rate and dividend yield per year the chains are priced with.
    pub fn rate_dividend(&self) -> (f64, f64) {
        match *self {
            ChainModel::Black { rate, dividend }
            | ChainModel::Heston { rate, dividend, .. }
            | ChainModel::Table { rate, dividend, .. }
            | ChainModel::Deep { rate, dividend, .. }
            | ChainModel::Market { rate, dividend, .. }
            | ChainModel::Nested { rate, dividend, .. } => (rate, dividend),
        }
    }

    /// λ of the daily models' pricing measure (`None` for Black–Scholes
    /// and Heston chains, which have no variance premium).
    pub fn variance_premium(&self) -> Option<f64> {
        match self {
            ChainModel::Table { table, .. } => Some(table.variance_premium()),
            ChainModel::Deep { table, .. } => Some(table.variance_premium()),
            ChainModel::Nested { pricer, .. } => Some(pricer.variance_premium),
            ChainModel::Market { laws, .. } => Some(laws.variance_premium()),
            ChainModel::Black { .. } | ChainModel::Heston { .. } => None,
        }
    }

    /// Asset `asset`'s per-state pricer, and the variance it is given for
    /// a path whose variance state is `variance` (the market's chains
    /// price from λ × it; the others from the state itself).
    fn pricer(&self, asset: usize, variance: f64) -> Result<(&dyn ChainPricer, f64)> {
        Ok(match self {
            ChainModel::Black { .. } => (&BlackAtStateVol, variance),
            ChainModel::Heston { model, .. } => (&**model, variance),
            ChainModel::Table { table, .. } => (&**table, variance),
            ChainModel::Deep { table, .. } => (&**table, variance),
            ChainModel::Nested { pricer, .. } => (&**pricer, variance),
            ChainModel::Market { laws, .. } => (
                laws.pricer(asset)
                    .ok_or_else(|| Error::Internal(format!("no market law for asset {asset}")))?,
                laws.initial_variance(variance),
            ),
        })
    }

    /// Prices every contract of `spec` on `date` for asset `asset` (0 in a
    /// single-asset run) of a path at `spot` with instantaneous variance
    /// `variance` and generator state `path_state` (the deep model's
    /// feature averages; empty for the other models). `at` is the chain's
    /// (path, step): the nested mode draws its sample from a stream of its
    /// own for each.
    #[allow(clippy::too_many_arguments)]
    pub fn price(
        &self,
        spec: &ChainSpec,
        date: NaiveDate,
        asset: usize,
        spot: f64,
        variance: f64,
        path_state: &[f64],
        at: (u64, usize),
    ) -> Result<Vec<ChainRow>> {
        let (pricer, variance) = self.pricer(asset, variance)?;
        let state = PathState {
            variance,
            features: path_state,
            at,
        };
        price_chain(pricer, spec, date, spot, &state, self.rate_dividend())
    }

    /// The chain specification of asset `asset` given the run's: a
    /// market's listed chains take each asset's own strike increment.
    pub fn asset_spec(&self, spec: &ChainSpec, asset: usize) -> ChainSpec {
        match self {
            ChainModel::Market { strike_steps, .. } => match strike_steps.get(asset) {
                Some(&step) => spec.clone().with_strike_step(step),
                None => spec.clone(),
            },
            _ => spec.clone(),
        }
    }
}

impl SimulateParams {
    /// The chains asked for, and the pricer of `model`'s chains.
    pub(super) fn resolve_options(
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
        if let (ModelSpec::Panel { .. }, Some(step)) = (model, self.strike_step) {
            return Err(Error::parameter(
                "strike-step",
                step,
                "a market's listed chains take each asset's own increment (about 2.5 % of its start price): drop --strike-step, or use --expiries tenors for strikes in moneyness",
            ));
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
        if let (true, ModelSpec::Panel { .. }) = (nested, model) {
            return Err(Error::parameter(
                "chain-pricing",
                "nested",
                "a market's chains are priced by its fitted Heston laws (fit-pricing measures them against nested Monte Carlo of the index); the nested mode is for single-series models",
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
                    "option chains of correlated GBM assets are not written: use one asset, or a market model (--model deep --model-path models/sp500-panel)",
                ))
            }
            ModelSpec::Panel { model, .. } => {
                let lambda = self.variance_premium.unwrap_or(DEFAULT_VARIANCE_PREMIUM);
                crate::sim::RiskNeutral::new(rate, dividend, lambda)?;
                let pricing = market_pricing(model, lambda)?;
                let strike_steps = match spec.grid() {
                    ChainGrid::Listed { .. } => model
                        .start_spots()
                        .iter()
                        .map(|&s| crate::pricing::chain::listed_step(s))
                        .collect(),
                    ChainGrid::Tenors { .. } => Vec::new(),
                };
                return Ok(Some((
                    spec,
                    ChainModel::Market {
                        laws: std::sync::Arc::new(pricing),
                        strike_steps,
                        rate,
                        dividend,
                    },
                )));
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
            ModelSpec::Panel { .. } => {
                return Err(Error::Internal("market chains refused above".into()))
            }
        };
        Ok(Some((spec.with_initial_spot(s0), pricing)))
    }
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

/// A market model's chain laws: the ones stored with it when fitted with
/// this λ, otherwise fitted now (about 20 s on 2 cores).
fn market_pricing(
    model: &crate::deep::panel::PanelModel,
    lambda: f64,
) -> Result<crate::deep::panel::MarketPricing> {
    use crate::deep::panel::MarketPricing;
    if let Some(dir) = model.dir() {
        if let Some(p) = MarketPricing::load(dir, model)? {
            if (p.variance_premium() - lambda).abs() < 1e-12 {
                return Ok(p);
            }
            tracing::warn!(
                "the stored market pricing was fitted with variance premium {}; fitting it for {lambda} now, about 20 s (store it with `synthmarket fit-pricing --model {} --variance-premium {lambda}`)",
                p.variance_premium(),
                dir.display()
            );
        }
    }
    tracing::info!("fitting the market's option laws: nested Monte Carlo of the index at {} states, about 20 s", crate::deep::panel::pricing::FIT_QUANTILES.len());
    MarketPricing::fit(model, lambda, &|_, _| {})
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
