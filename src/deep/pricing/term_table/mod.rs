//! The fast pricer of the deep model's chains: risk-neutral terminal laws
//! keyed, per maturity, on a forecast of the at-the-money vol to that
//! maturity.
//!
//! The deep model's state is ten feature averages, not one variance: two
//! states with the same one-day variance can have one-month at-the-money
//! vols from 0.26 to 0.40, so a table keyed on the one-day variance alone,
//! like the GJR-GARCH one ([`crate::sim::law_table`]), misses by up to 8 vol
//! points. Here each maturity knot `T` has its own key: the forecast
//! risk-neutral at-the-money vol to `T`, `σ̂_T = exp(ŷ_T/2)` with `ŷ_T =
//! β_T·x + g_T(x)`: `β_T·x` a least-squares regression of `ln σ²_ATM(T)`
//! (the implied variance of the state's nested at-the-money call) on the
//! state's [`REGRESSORS`] `x` (a constant, the network's ten clamped
//! inputs, ln of the one-day variance and ln of the model's mean-field
//! variance forecast to `T`), and `g_T` a small network fitted to its
//! residuals ([`super::key_net`]) once a Gaussian process has smoothed them
//! ([`super::denoise`]).
//!
//! **Fit** ([`TermTable::fit`]): [`STATES`] = 3,024 states of the model's
//! own stationary regime (144 at each of 21 quantiles of the one-day
//! variance), each started as a risk-neutral generator with
//! `paths_per_state` nested paths to 378 days ([`DEFAULT_PATHS_PER_STATE`]
//! = 2,500). Each state's at-the-money target is its paths' payoff less a
//! delta hedge along them, a control variate. For each maturity knot the
//! states are sorted by `ŷ_T` and cut into 21 groups of 144. A group's
//! *shape* is the law of its pooled log ratios `ln(S_T/F_T)`, each state's
//! divided by its own forecast `σ̂_T√T`, in 256 blocks as in the GARCH
//! table; its key is the group's mean forecast vol.
//!
//! **Shape correction.** Shapes within a group still differ with the state,
//! so each knot also carries a least-squares regression of every state's
//! standardised quantiles at [`SHAPE_PROBS`] (0.1 % to 99.9 %) on its
//! regressors, and a 12-32-32-15 tanh network ([`super::key_net::TanhNet`])
//! on the regression's residuals (smoothed by a Gaussian process first at
//! and above the median). A state's shape is its group's shape moved, block
//! by block, by its predicted quantiles less a reference: at and above the
//! median a blend of the group's mean prediction and the pooled shape's own
//! quantiles (half and half; 0.3 and 0.7 at 99.9 %), below it the mean
//! prediction alone. Beyond 99.9 % the blocks' excess over that quantile is
//! scaled by the state's predicted 99 %–99.9 % spacing over the reference's.
//!
//! **Prices** ([`TermTable::chain_calls`]): a chain at maturity `t` mixes
//! the shapes of the two maturity knots around `t`, each at the two keys
//! around the state's own forecast for that knot (weights linear in vol and
//! in days), every shape scaled by the state's forecast standard deviation
//! to `t` and renormalised to mean 1 ([`Slice`]), the mixture's scale then
//! corrected once so that its own at-the-money vol is the forecast. Each
//! slice is therefore an expectation under one mean-1 law: no butterfly,
//! vertical-spread or parity violation. Calendar order is imposed when a
//! chain is priced: the call function of each expiry is the running
//! maximum, in forward moneyness, of its own and those of the shorter
//! expiries; a maximum of call functions of mean-1 laws is one too.
//!
//! **Storage and accuracy.** The table is fitted once per model and
//! variance premium and stored beside the model (`pricing.safetensors`
//! with `pricing.json`, written by `synthmarket fit-pricing`; [`TermTable::save`],
//! [`TermTable::load`]). Its accuracy against nested Monte Carlo at fresh
//! states is measured by [`probe`](fn@probe), beside the exact mode's own error at
//! its default size ([`exact_mode_vols`]), and stated in the model card:
//! at the 324 stored probe states the table errs by 0.07–0.25 vol points RMS
//! at the money and 0.12–0.37 across ±2 sd from calm to stressed states,
//! about as accurate as the exact mode at 20,000 nested paths per chain.
//!
//! The design notes and experiments are in the book, chapter "The deep
//! pricing table: design notes and experiments": why the key is the
//! at-the-money vol, how the references' weights, the nested path count,
//! the upper tail's scaling and the smoothing were chosen, the measurements
//! behind each choice, and the designs tried and not kept.
//!
//! The code: `fit.rs` fits the table, `shape.rs` holds the shape
//! correction, `price.rs` prices a chain, `storage.rs` reads and writes the
//! table, `probe.rs` measures it against nested Monte Carlo, and
//! `estimate.rs` holds the nested estimates the fit and the probe share.

mod estimate;
mod fit;
mod price;
mod probe;
mod shape;
mod storage;

pub use super::regressors::REGRESSORS;
pub use fit::FitProgress;
pub use price::Slice;
pub use probe::{
    exact_mode_vols, nested_reference, probe, probe_against, probe_seed, ProbePoint, ReferenceVol,
    PROBE_SD,
};
pub use shape::SHAPE_PROBS;

use super::key_net::KeyNet;
use crate::deep::{DeepGenerator, MixtureNet};
use crate::error::Result;
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::sim::law_table::KNOT_LEVELS;
use serde::{Deserialize, Serialize};
use shape::{ShapeCorrection, UpperTail};

/// States per group (one law per group and maturity knot).
const GROUP: usize = 144;

/// States in a fit: `GROUP` (144) at each of the variance quantiles
/// [`KNOT_LEVELS`].
pub const STATES: usize = KNOT_LEVELS.len() * GROUP;

/// Nested paths per state of a fit, unless asked otherwise
/// (`fit-pricing --paths`, and a table fitted on the fly by `simulate`).
/// 2,500 rather than the 1,250 of earlier tables: it halves the variance
/// of the noise in the at-the-money targets the key learns from, and the
/// at-the-money bar is then met at every probed sample (design notes), for
/// a fit of about 38 minutes on 2 cores instead of 24.
pub const DEFAULT_PATHS_PER_STATE: u64 = 2500;

/// Seed of a fit, unless asked otherwise.
pub const DEFAULT_SEED: u64 = 2024;

/// A generator of `net` for nested pricing (daily; its start is replaced by
/// each state's).
fn generator(net: &MixtureNet) -> Result<DeepGenerator> {
    DeepGenerator::new(
        net.clone(),
        None,
        &TimeGrid::new(1, 1.0 / TRADING_DAYS_PER_YEAR)?,
    )
}

/// The `format` of tables this build writes and reads: 3 keys on the
/// at-the-money vol forecast by a regression and a network on its residuals
/// ([`super::key_net`]). Format 2 keyed on the regression alone, and format
/// 1 (no `format` field in `pricing.json`) on the mean variance; their
/// groups were cut by other forecasts, so such tables are refused with a
/// request to refit.
pub const TABLE_FORMAT: u32 = 3;

fn format_1() -> u32 {
    1
}

/// How a table was fitted (`pricing.json`), and what its probe measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermTableInfo {
    /// [`TABLE_FORMAT`] of the table.
    #[serde(default = "format_1")]
    pub format: u32,
    /// λ of the pricing measure.
    pub variance_premium: f64,
    /// Nested paths per state.
    pub paths_per_state: u64,
    /// States in the fit.
    pub states: usize,
    /// Seed of the fit.
    pub seed: u64,
    /// Maturity knots (trading days).
    pub days: Vec<u32>,
    /// Accuracy against nested Monte Carlo at fresh states, if measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSummary>,
    /// [`MixtureNet::fingerprint`] of the model the table was fitted for:
    /// a table copied beside another model is refused at load (tables
    /// written before the fingerprint have none and load as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The deep model's pricing table (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct TermTable {
    info: TermTableInfo,
    /// The model (its mean-field forecasts are regressors).
    net: MixtureNet,
    /// Per maturity knot, the regression coefficients.
    coef: Vec<[f64; REGRESSORS]>,
    /// Per maturity knot, the network correcting the regression
    /// ([`super::key_net`]).
    key_nets: Vec<KeyNet>,
    /// Per maturity knot, the ascending keys (forecast vols) of its groups.
    keys: Vec<Vec<f64>>,
    /// Block probabilities (the same for every law).
    p: Vec<f64>,
    /// Shape of (maturity j, group g) at `j·groups + g`: ascending values
    /// of `ln(S_T/F_T) / (σ̂√T)` under `p`.
    x: Vec<Vec<f64>>,
    /// The shape correction, if the table has one: per maturity knot, the
    /// regression of a state's standardised quantiles at [`SHAPE_PROBS`] on
    /// its regressors, and per (knot, group) the reference a state's
    /// predictions are measured from: the blend ([`REFERENCE_BLEND`],
    /// [`REFERENCE_BLEND_LOWER`] below the median, [`REFERENCE_BLEND_TOP`]
    /// at 99.9 %) of the mean prediction
    /// over the group's states and the group's pooled shape's own
    /// quantiles.
    ///
    /// [`REFERENCE_BLEND`]: shape::REFERENCE_BLEND
    /// [`REFERENCE_BLEND_LOWER`]: shape::REFERENCE_BLEND_LOWER
    /// [`REFERENCE_BLEND_TOP`]: shape::REFERENCE_BLEND_TOP
    shape: Option<ShapeCorrection>,
    /// Per block of `p`, where its middle (in cumulative probability) lies
    /// among [`SHAPE_PROBS`] (`bracket`'s index and weight): the same for
    /// every shape, so found once, not on every chain.
    shift_at: Vec<(usize, f64)>,
    /// The extreme upper tail ([`UpperTail`]): the first block beyond the
    /// last of [`SHAPE_PROBS`], and each shape's own quantile there.
    upper: UpperTail,
}

// The probe's summary is defined here, with the record that stores it
// (`TermTableInfo`), rather than in `probe.rs`, which uses this file.

/// The table's accuracy against nested Monte Carlo at fresh states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeSummary {
    /// States probed (from a stationary run with another seed).
    pub states: usize,
    /// Nested paths per state.
    pub paths: u64,
    /// Maturities probed (trading days).
    pub days: Vec<u32>,
    /// Largest |table − nested| implied-vol error at the money (vol points,
    /// i.e. percent).
    pub atm_max: f64,
    /// RMS at-the-money error (vol points).
    pub atm_rms: f64,
    /// Largest error across ±2 standard deviations of moneyness (in units
    /// of the nested at-the-money vol).
    pub wing_max: f64,
    /// RMS error across ±2 standard deviations.
    pub wing_rms: f64,
    /// Standard error of a nested at-the-money vol (vol points), the noise
    /// floor of the comparison.
    pub atm_se: f64,
    /// Options left out because no nested path finished beyond the strike
    /// (far upside calls of stressed states): their vol is not resolved.
    #[serde(default)]
    pub unresolved: usize,
    /// The exact mode's own error against the same references at the same
    /// options, at its default sample size (absent from probes stored
    /// before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<ExactModeError>,
}

/// How far the exact mode (`simulate --chain-pricing nested`) is from the
/// probe's references ([`exact_mode_vols`]), in vol points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactModeError {
    /// Nested paths per chain.
    pub paths: u64,
    /// Largest at-the-money error.
    pub atm_max: f64,
    /// RMS at-the-money error.
    pub atm_rms: f64,
    /// Largest error across ±2 standard deviations.
    pub wing_max: f64,
    /// RMS error across ±2 standard deviations.
    pub wing_rms: f64,
}

impl TermTable {
    /// How the table was fitted.
    pub fn info(&self) -> &TermTableInfo {
        &self.info
    }

    /// λ of the pricing measure the laws are under.
    pub fn variance_premium(&self) -> f64 {
        self.info.variance_premium
    }

    /// Records the probe's summary (stored in `pricing.json`).
    pub fn set_probe(&mut self, probe: ProbeSummary) {
        self.info.probe = Some(probe);
    }

    /// Longest maturity the table prices, in years.
    pub fn max_maturity(&self) -> f64 {
        f64::from(*self.info.days.last().unwrap_or(&0)) / TRADING_DAYS_PER_YEAR
    }
}
