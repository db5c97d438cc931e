//! Option chains of a market model (issue 37): one Heston variance law in
//! standardised variance, fitted to the index net's own risk-neutral prices
//! and shared by every asset.
//!
//! Why this design. The single-series deep model prices its chains from a
//! table of its nested risk-neutral laws ([`crate::deep::TermTable`]),
//! fitted in about an hour per model; 21 such tables would take a day, and
//! a stock's risk-neutral law depends on the index's path too (its return
//! loads on the index's), so a table per net would not even be the right
//! object. Instead:
//!
//! * **The index's law, fitted once.** The index net is restarted under the
//!   pricing measure ([`crate::sim::risk_neutral`]: variance λ times the
//!   real-world one, the martingale drift) at [`FIT_QUANTILES`] of its
//!   stationary variance, from calm to stressed; nested Monte Carlo
//!   ([`crate::deep::NestedPricer`], [`FIT_NESTED_PATHS`] paths) prices a
//!   surface at each ([`FIT_DAYS`] × [`FIT_MONEYNESS`] standard deviations);
//!   one Heston law (κ, θ, ξ, ρ) is fitted to all of them at once by
//!   Levenberg–Marquardt with each state's v0 = λ × its variance
//!   ([`crate::pricing::calibrate::calibrate_heston_states`]). The fit's
//!   error is recorded in `pricing.json`. About a minute on 2 cores.
//! * **Each asset the same law in its own units.** In standardised variance
//!   `u = v θ_m / θ_i` the law is the index's, so asset i prices with
//!   `θ_i = θ · L_i / L_m` (L its long-run real-world variance: the mean of
//!   the generator's variance state over [`LONG_RUN_PATHS`] ×
//!   [`LONG_RUN_DAYS`] days), `ξ_i = ξ √(θ_i/θ)`, the same κ, and
//!   `ρ_i = ρ · c_i` with `c_i = β_i √(L_m/L_i)` its return's correlation
//!   with the index's: the leverage of a stock is the market's, through its
//!   systematic part (single stocks' skews are flatter than the index's;
//!   Bakshi, Kapadia & Madan 2003, "Stock return characteristics, skew
//!   laws, and the differential pricing of individual equity options",
//!   Rev. Financ. Stud. 16). Each chain uses v0 = λ × the asset's own
//!   variance state, so its at-the-money vol tracks that state, and the
//!   index's chains are cheaper than its constituents' whenever the
//!   generator's correlations are below one.
//! * **Free of static arbitrage by construction**: every chain is a Heston
//!   chain (COS prices of one law, clamped to their bounds), the pricer the
//!   Heston runs use.

use super::PanelModel;
use crate::deep::{DeepGenerator, FeatureState, NestedPricer};
use crate::error::{Error, Location, Result};
use crate::market::{MarketState, OptionSpec, OptionType, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::pricing::calibrate::{calibrate_heston_states, HestonBounds, SurfacePoint};
use crate::pricing::{implied_vol, HestonPricer};
use crate::sim::{Driver, RiskNeutral};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format version of a market model's `pricing.json`.
pub const MARKET_PRICING_FORMAT: u32 = 1;

/// The pricing file in a market model's directory.
pub const MARKET_PRICING_FILE: &str = "pricing.json";

/// Quantiles of the index's stationary variance at which its surfaces are
/// priced.
pub const FIT_QUANTILES: [f64; 7] = [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95];

/// Maturities of the fitted surfaces, trading days (a week to a year: the
/// chains' range).
pub const FIT_DAYS: [usize; 6] = [5, 21, 42, 63, 126, 252];

/// Strikes of the fitted surfaces: `ln(K/F)` in standard deviations of the
/// state's risk-neutral variance over the maturity.
pub const FIT_MONEYNESS: [f64; 9] = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0];

/// Nested paths per fitted state (Monte-Carlo error of an at-the-money vol
/// about 0.2 vol points, see [`crate::deep::pricing::nested`]).
pub const FIT_NESTED_PATHS: u64 = 20_000;

/// Paths and days of the simulation that gives each asset's long-run
/// variance and the index's stationary states.
pub const LONG_RUN_PATHS: u64 = 8;
/// See [`LONG_RUN_PATHS`].
pub const LONG_RUN_DAYS: usize = 2520;

/// Seed of the fit's simulations.
pub const FIT_SEED: u64 = 0x6d61_726b_6574;

/// One asset's Heston law.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetLaw {
    /// The asset's name.
    pub name: String,
    /// Its long-run real-world variance, annualised (the mean of its
    /// variance state over the long-run simulation).
    pub long_run_variance: f64,
    /// The correlation of its daily return with the index's implied by its
    /// beta and long-run variances, `β √(L_m/L)` held in [0, 1] (1 for the
    /// index).
    pub systematic: f64,
    /// Risk-neutral long-run variance θ.
    pub theta: f64,
    /// Volatility of variance ξ.
    pub xi: f64,
    /// Correlation of return and variance ρ.
    pub rho: f64,
}

/// One fitted state of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitState {
    /// Quantile of the index's stationary variance.
    pub quantile: f64,
    /// Its real-world variance, annualised.
    pub variance: f64,
    /// Root-mean-square implied-vol error of the shared law on its surface,
    /// vol points.
    pub rmse_vol_points: f64,
}

/// A market model's `pricing.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketPricingConfig {
    /// [`MARKET_PRICING_FORMAT`].
    pub format: u32,
    /// Always `"market-heston"`.
    pub kind: String,
    /// [`PanelModel::fingerprint`] of the model it was fitted for.
    pub model: String,
    /// λ of the pricing measure.
    pub variance_premium: f64,
    /// κ of the shared law (per year).
    pub kappa: f64,
    /// Root-mean-square implied-vol error of the fit over every state's
    /// surface, vol points.
    pub rmse_vol_points: f64,
    /// Largest absolute implied-vol error, vol points.
    pub max_error_vol_points: f64,
    /// Nested paths per state.
    pub nested_paths: u64,
    /// Maturities of the fitted surfaces (trading days).
    pub days: Vec<usize>,
    /// Strikes of the fitted surfaces (standard deviations of log-moneyness).
    pub moneyness: Vec<f64>,
    /// The fitted states.
    pub states: Vec<FitState>,
    /// Each asset's law, in the model's asset order (stocks, then the index,
    /// whose law is the fitted one).
    pub assets: Vec<AssetLaw>,
}

/// The chains of a market model: one [`HestonPricer`] per asset.
#[derive(Debug)]
pub struct MarketPricing {
    config: MarketPricingConfig,
    pricers: Vec<HestonPricer>,
}

impl PartialEq for MarketPricing {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

/// `run.json` records the whole `pricing.json`.
impl Serialize for MarketPricing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}

/// What the fit reports as it goes: (states priced, states in all).
pub type MarketFitProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);

impl MarketPricing {
    /// Builds the pricers of a configuration, checking it against `model`
    /// (`file` names the source in errors).
    pub fn from_config(
        config: MarketPricingConfig,
        model: &PanelModel,
        file: &Path,
    ) -> Result<Self> {
        let bad = |field: &str, msg: String| Error::input(Location::file(file).field(field), msg);
        if config.format != MARKET_PRICING_FORMAT || config.kind != "market-heston" {
            return Err(bad(
                "format",
                format!(
                    "format {} kind `{}`: this build reads format {MARKET_PRICING_FORMAT} kind `market-heston` (refit with `synthmarket fit-pricing --model DIR`)",
                    config.format, config.kind
                ),
            ));
        }
        let ours = model.fingerprint();
        if config.model != ours {
            return Err(bad(
                "model",
                format!(
                    "this pricing table was fitted for another market model (fingerprint {}; the model beside it is {ours}): refit it with `synthmarket fit-pricing --model DIR`",
                    config.model
                ),
            ));
        }
        let names: Vec<&str> = config.assets.iter().map(|a| a.name.as_str()).collect();
        if names != model.assets() {
            return Err(bad(
                "assets",
                format!(
                    "laws for {names:?}, but the model's assets are {:?}",
                    model.assets()
                ),
            ));
        }
        RiskNeutral::new(0.0, 0.0, config.variance_premium)
            .map_err(|e| bad("variance_premium", e.to_string()))?;
        let pricers = config
            .assets
            .iter()
            .map(|a| {
                HestonPricer::new(config.kappa, a.theta, a.xi, a.rho)
                    .map_err(|e| bad("assets", format!("{}: {e}", a.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MarketPricing { config, pricers })
    }

    /// Reads `dir/pricing.json` when there is one.
    pub fn load(dir: &Path, model: &PanelModel) -> Result<Option<Self>> {
        let file = dir.join(MARKET_PRICING_FILE);
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path: file, source }),
        };
        let config: MarketPricingConfig = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(
                Location::file(&file).line(e.line() as u64),
                format!(
                    "not a market model's pricing.json: {}",
                    crate::io::json::describe(&bytes, &e)
                ),
            )
        })?;
        Self::from_config(config, model, &file).map(Some)
    }

    /// Writes `dir/pricing.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(&self.config)
            .map_err(|e| Error::Internal(format!("serialising pricing.json: {e}")))?;
        json.push(b'\n');
        crate::io::write_atomic(dir.join(MARKET_PRICING_FILE), &json)
    }

    /// The configuration (what `pricing.json` holds).
    pub fn config(&self) -> &MarketPricingConfig {
        &self.config
    }

    /// λ of the pricing measure.
    pub fn variance_premium(&self) -> f64 {
        self.config.variance_premium
    }

    /// Asset `asset`'s pricer, whose v0 is [`Self::initial_variance`].
    pub fn pricer(&self, asset: usize) -> Option<&HestonPricer> {
        self.pricers.get(asset)
    }

    /// The risk-neutral initial variance of a path whose real-world
    /// variance state is `variance`: λ × it.
    pub fn initial_variance(&self, variance: f64) -> f64 {
        self.config.variance_premium * variance
    }

    /// Fits the market's law (see the module docs) at variance premium
    /// `lambda`; `progress` is told the states priced so far.
    pub fn fit(model: &PanelModel, lambda: f64, progress: MarketFitProgress) -> Result<Self> {
        let measure = RiskNeutral::new(0.0, 0.0, lambda)?;
        let d = model.assets().len();
        let m = d - 1;
        // The long-run variance of every asset, from the market generator.
        let grid = TimeGrid::new(LONG_RUN_DAYS, 1.0 / TRADING_DAYS_PER_YEAR)?;
        let panel = super::PanelGenerator::new(model.clone(), &grid)?;
        let sums = Driver::new(FIT_SEED, LONG_RUN_PATHS).collect(&panel, LONG_RUN_DAYS, |c| {
            let mut s = vec![0.0; d];
            for p in 0..c.paths() {
                for k in 0..=c.steps() {
                    for (a, v) in c.variance(p, k).iter().enumerate() {
                        s[a] += v;
                    }
                }
            }
            s
        })?;
        let n = (LONG_RUN_PATHS as usize * (LONG_RUN_DAYS + 1)) as f64;
        let long_run: Vec<f64> = (0..d)
            .map(|a| sums.iter().map(|s| s[a]).sum::<f64>() / n)
            .collect();
        // The index net as the market runs it (its output factor folded
        // into its scale), and its stationary states.
        let net = model.nets()[m]
            .with_scale(model.nets()[m].config().scale * model.config().output_scale[m]);
        let index = DeepGenerator::new(net.clone(), Some(1.0), &grid)?;
        let mut states: Vec<(f64, Vec<f64>)> = Driver::new(FIT_SEED ^ 1, LONG_RUN_PATHS)
            .keep_state(true)
            .collect(&index, LONG_RUN_DAYS, |c| {
                let mut out = Vec::new();
                for p in 0..c.paths() {
                    // A year of burn-in from the end-of-training state.
                    for k in (252..=c.steps()).step_by(5) {
                        out.push((c.variance(p, k)[0], c.state(p, k).to_vec()));
                    }
                }
                out
            })?
            .into_iter()
            .flatten()
            .collect();
        states.sort_by(|a, b| a.0.total_cmp(&b.0));
        let picked: Vec<(f64, (f64, Vec<f64>))> = FIT_QUANTILES
            .iter()
            .map(|&q| {
                let i = ((q * states.len() as f64) as usize).min(states.len() - 1);
                (q, states[i].clone())
            })
            .collect();
        // Each state's surface by nested Monte Carlo under the measure.
        let nested = NestedPricer::deep(&net, &measure, FIT_NESTED_PATHS, FIT_SEED)?;
        let unit = MarketState::new(1.0, 0.0, 0.0)?;
        let mut surfaces = Vec::with_capacity(picked.len());
        for (s, (_, (variance, raw))) in picked.iter().enumerate() {
            FeatureState::from_slice(raw)
                .ok_or_else(|| Error::Internal("index state of the wrong length".into()))?;
            let v0 = lambda * variance;
            let slices: Vec<(usize, Vec<f64>)> = FIT_DAYS
                .iter()
                .map(|&days| {
                    let sd = (v0 * days as f64 / TRADING_DAYS_PER_YEAR).sqrt();
                    (days, FIT_MONEYNESS.iter().map(|x| (x * sd).exp()).collect())
                })
                .collect();
            let calls = nested.chain_calls(*variance, raw, (0, s), &slices)?;
            let mut points = Vec::new();
            for ((days, strikes), calls) in slices.iter().zip(&calls) {
                let t = *days as f64 / TRADING_DAYS_PER_YEAR;
                for (&k, &c) in strikes.iter().zip(calls) {
                    // Out of the money: puts below the forward (by parity).
                    let (ty, price) = if k < 1.0 {
                        (OptionType::Put, c - (1.0 - k))
                    } else {
                        (OptionType::Call, c)
                    };
                    let spec = OptionSpec::new(ty, k, t)?;
                    if let Ok(vol) = implied_vol(price, &spec, &unit) {
                        points.push(SurfacePoint {
                            spec,
                            state: unit,
                            vol,
                        });
                    }
                }
            }
            surfaces.push((v0, points));
            progress(s + 1, picked.len());
        }
        let median = lambda * picked[picked.len() / 2].1 .0;
        let fit =
            calibrate_heston_states(&surfaces, [2.0, median, 0.5, -0.6], HestonBounds::default())?;
        let [_, kappa, theta, xi, rho] = fit.params;
        // Each state's own error under the shared law.
        let fit_states = picked
            .iter()
            .zip(&surfaces)
            .map(|((q, (variance, _)), (v0, points))| FitState {
                quantile: *q,
                variance: *variance,
                rmse_vol_points: state_rmse(*v0, points, [kappa, theta, xi, rho]),
            })
            .collect();
        let assets = model
            .assets()
            .iter()
            .enumerate()
            .map(|(a, name)| {
                let systematic = if a == m {
                    1.0
                } else {
                    (model.config().betas[a] * (long_run[m] / long_run[a]).sqrt()).clamp(0.0, 1.0)
                };
                let theta_a = theta * long_run[a] / long_run[m];
                AssetLaw {
                    name: name.clone(),
                    long_run_variance: long_run[a],
                    systematic,
                    theta: theta_a,
                    xi: xi * (theta_a / theta).sqrt(),
                    rho: rho * systematic,
                }
            })
            .collect();
        let config = MarketPricingConfig {
            format: MARKET_PRICING_FORMAT,
            kind: "market-heston".into(),
            model: model.fingerprint(),
            variance_premium: lambda,
            kappa,
            rmse_vol_points: fit.rmse_vol_points,
            max_error_vol_points: fit.max_error_vol_points,
            nested_paths: FIT_NESTED_PATHS,
            days: FIT_DAYS.to_vec(),
            moneyness: FIT_MONEYNESS.to_vec(),
            states: fit_states,
            assets,
        };
        Self::from_config(config, model, Path::new(MARKET_PRICING_FILE))
    }
}

/// Root-mean-square implied-vol error, vol points, of the Heston law
/// `[κ, θ, ξ, ρ]` from `v0` on `points`.
fn state_rmse(v0: f64, points: &[SurfacePoint], [kappa, theta, xi, rho]: [f64; 4]) -> f64 {
    let Ok(model) = crate::pricing::HestonModel::new(v0, kappa, theta, xi, rho) else {
        return f64::NAN;
    };
    let sq: f64 = points
        .iter()
        .map(|p| {
            let price = model.price(&p.spec, &p.state);
            implied_vol(price, &p.spec, &p.state).map_or(1.0, |v| (v - p.vol).powi(2))
        })
        .sum();
    100.0 * (sq / points.len().max(1) as f64).sqrt()
}
