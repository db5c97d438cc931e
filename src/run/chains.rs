//! The chain pricer of a run: which model's [`ChainPricer`] prices the
//! chains, with the rate and dividend it prices them at. This is the one
//! place that knows every model's pricer; the chain builder itself
//! ([`crate::pricing::price_chain`]) knows only the trait.

use crate::deep::{NestedPricer, TermTable};
use crate::error::Result;
use crate::pricing::{
    price_chain, BlackAtStateVol, ChainPricer, ChainRow, ChainSpec, HestonPricer, PathState,
};
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
            ChainModel::Black { .. } | ChainModel::Heston { .. } => None,
        }
    }

    /// The model's per-state pricer.
    pub fn pricer(&self) -> &dyn ChainPricer {
        match self {
            ChainModel::Black { .. } => &BlackAtStateVol,
            ChainModel::Heston { model, .. } => &**model,
            ChainModel::Table { table, .. } => &**table,
            ChainModel::Deep { table, .. } => &**table,
            ChainModel::Nested { pricer, .. } => &**pricer,
        }
    }

    /// Prices every contract of `spec` on `date` for a path at `spot` with
    /// instantaneous variance `variance` and generator state `path_state`
    /// (the deep model's feature averages; empty for the other models).
    /// `at` is the chain's (path, step): the nested mode draws its sample
    /// from a stream of its own for each.
    pub fn price(
        &self,
        spec: &ChainSpec,
        date: NaiveDate,
        spot: f64,
        variance: f64,
        path_state: &[f64],
        at: (u64, usize),
    ) -> Result<Vec<ChainRow>> {
        let state = PathState {
            variance,
            features: path_state,
            at,
        };
        price_chain(
            self.pricer(),
            spec,
            date,
            spot,
            &state,
            self.rate_dividend(),
        )
    }
}
