//! A market of many stocks and their index, generated jointly (issue 37).
//!
//! Design (why this shape):
//! * **A common market state.** The index is one deep model (the same
//!   network as the single-series generator, [`crate::deep`]); its
//!   volatility state is the market's. It may have a form of its own
//!   ([`IndexForm`]: by default a variance core and squashed features),
//!   since its extremes become every stock's.
//! * **Each stock's own state.** A stock's daily log return is
//!   `r_i = β_i r_m + e_i`: its OLS beta on the index times the index return
//!   plus a residual, and the residual is a deep model of its own, trained
//!   on that stock's residual history. So each stock keeps its own tails and
//!   volatility clustering, and its beta and idiosyncratic volatility are
//!   its own. The residual's volatility also follows the market's:
//!   it is `(v_m,t / v̄)^{γ_i/2}` times its net's draw, with γ_i = k × the
//!   OLS slope of `ln |e_t|` on `½ ln v_m,t`; the common multiplier k is
//!   set by simulated moments so that the synthetic correlation ratio (most
//!   volatile decile over calm half) matches the real one on the training
//!   days (the one-day-ahead filter `v_m,t` is a noisy measure of the
//!   market's variance, so the regression slope is attenuated; k ≈ 1.55 on
//!   the shipped panel).
//! * **Correlation that rises with volatility.** The pairwise correlation
//!   of two stocks is `β_iβ_j v_m / √(v_i v_j)`: when the market's variance
//!   `v_m` rises faster than the residuals', correlations rise. On top, the
//!   innovations of all the nets (index and residuals) are joined by a
//!   Student-t copula ([`copula`]), whose shared χ² variable makes large
//!   innovations arrive together: a crash day raises every volatility state
//!   at once, as in the real panel.
//! * **Single-day crashes.** Each residual also jumps, rarely
//!   ([`jumps`]): a compound Poisson component fitted to the days the
//!   residual moved beyond eight local standard deviations, which the nets
//!   were trained without.
//! * **Cheap and exact to generate.** A day is one normal draw per asset,
//!   one χ² draw, a triangular matrix product, a tabulated quantile map per
//!   asset and one small network evaluation per asset; randomness comes
//!   from the path's own stream, so a path is bit-identical at any thread
//!   count.
//!
//! A model directory holds `panel.json` (assets, betas, last prices, the
//! copula, the directory of each net) and one ordinary deep model
//! directory per asset under `nets/`.

pub mod copula;
mod generator;
pub mod index;
pub mod jumps;
pub mod pricing;
mod start;
mod train;

pub use copula::{CopulaFit, ScoreMap, TCopula};
pub use generator::{PanelGenerator, PanelState};
pub use jumps::JumpLaw;
pub use pricing::{MarketPricing, MarketPricingConfig};
pub use train::{
    train_panel, IndexForm, PanelProgress, PanelTrainReport, CALIBRATION_PATHS, K_RANGE, K_STEPS,
    MAX_GAMMA,
};

use super::model::MixtureNet;
use crate::error::{Error, Location, Result};
use crate::forecast::OneDayLaw;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Format version of `panel.json`.
pub const PANEL_FORMAT: u32 = 1;

/// The file that marks a model directory as a market model.
pub const PANEL_FILE: &str = "panel.json";

/// The name of the index among a panel's assets.
pub const INDEX_NAME: &str = "index";

/// `panel.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelConfig {
    /// Format version ([`PANEL_FORMAT`]).
    pub format: u32,
    /// Always `"panel"`.
    pub kind: String,
    /// Model name.
    pub name: String,
    /// Asset names: the stocks in the panel's column order, then `index`.
    pub assets: Vec<String>,
    /// Each stock's beta on the index (OLS slope of daily log returns on
    /// the training and validation days).
    pub betas: Vec<f64>,
    /// Each asset's last price in the training files (the start spot).
    pub last_prices: Vec<f64>,
    /// Per asset, its net's directory relative to the model directory.
    pub nets: Vec<String>,
    /// The t copula of the nets' innovations (assets' order).
    pub copula: CopulaConfig,
    /// Training data: files and dates.
    pub data: Vec<String>,
    /// Seed of training.
    pub seed: u64,
    /// Per stock, the exponent γ of the market scale of its residual: the
    /// residual is `(v_m,t / v̄)^{γ/2}` times its net's draw, `v_m,t` the
    /// index net's conditional daily variance and `ln v̄` =
    /// [`Self::market_ln_var`].
    pub market_gamma: Vec<f64>,
    /// Mean of `ln v_m,t` over the training days (the market scale's centre).
    pub market_ln_var: f64,
    /// Per asset, the [min, max] of its net's conditional scale σ_t over
    /// the training days. Generation holds σ_t inside it: the network is
    /// fitted on real states only, and the joint extremes of its feature
    /// box (each feature clamped to its own range) can give a scale no real
    /// day had, from which a path's volatility runs away.
    pub sigma_range: Vec<[f64; 2]>,
    /// Per asset, the factor on its net's output (variance targeting, see
    /// `variance_target` in `train.rs`): the net's recursion sees its own
    /// draw z, the series moves by `c·z·scale`.
    pub output_scale: Vec<f64>,
    /// The stocks' idiosyncratic jumps ([`jumps`]); absent in a model
    /// trained without them (too few jump days in its panel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jumps: Option<JumpLaw>,
}

/// The copula in `panel.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopulaConfig {
    /// Degrees of freedom.
    pub nu: f64,
    /// Correlation rows.
    pub correlation: Vec<Vec<f64>>,
}

/// A trained market model: one net per asset (the residual of each stock,
/// then the index), the betas and the copula.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelModel {
    config: PanelConfig,
    nets: Vec<MixtureNet>,
    copula: TCopula,
    dir: Option<PathBuf>,
    /// The closes of the day a run starts from
    /// ([`PanelModel::started_from`]); `None`: `last_prices`.
    start_spots: Option<Vec<f64>>,
}

/// A net's innovation law as a [`OneDayLaw`].
pub(crate) fn law_of(net: &MixtureNet) -> OneDayLaw {
    let l = net.innovation_law();
    OneDayLaw::TMixture {
        weight: l.weight.to_vec(),
        loc: l.loc.to_vec(),
        scale: l.scale.to_vec(),
        nu: l.nu.to_vec(),
    }
}

impl PanelModel {
    /// Whether `dir` holds a market model (a `panel.json`).
    pub fn is_panel_dir(dir: &Path) -> bool {
        dir.join(PANEL_FILE).is_file()
    }

    /// Builds a model from its parts, checking that they agree.
    pub fn from_parts(
        config: PanelConfig,
        nets: Vec<MixtureNet>,
        dir: Option<PathBuf>,
    ) -> Result<Self> {
        let file = dir
            .as_ref()
            .map_or_else(|| PathBuf::from(PANEL_FILE), |d| d.join(PANEL_FILE));
        let bad = |field: &str, msg: String| Error::input(Location::file(&file).field(field), msg);
        let d = config.assets.len();
        if config.format != PANEL_FORMAT || config.kind != "panel" {
            return Err(bad(
                "format",
                format!(
                    "format {} kind `{}`: this build reads format {PANEL_FORMAT} kind `panel` (retrain with `synthmarket train --data PANEL --index INDEX`)",
                    config.format, config.kind
                ),
            ));
        }
        if d < 3 || config.assets.last().map(String::as_str) != Some(INDEX_NAME) {
            return Err(bad(
                "assets",
                format!(
                    "need at least two stocks and `{INDEX_NAME}` last; found {:?}",
                    config.assets
                ),
            ));
        }
        if nets.len() != d || config.nets.len() != d {
            return Err(bad("nets", format!("{} nets for {d} assets", nets.len())));
        }
        if config.betas.len() != d - 1 || config.betas.iter().any(|b| !b.is_finite()) {
            return Err(bad(
                "betas",
                format!("need {} finite betas (one per stock)", d - 1),
            ));
        }
        if config.market_gamma.len() != d - 1
            || config.market_gamma.iter().any(|g| !g.is_finite())
            || !config.market_ln_var.is_finite()
        {
            return Err(bad(
                "market_gamma",
                format!("need {} finite exponents and a finite market_ln_var", d - 1),
            ));
        }
        if config.sigma_range.len() != d
            || config
                .sigma_range
                .iter()
                .any(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && *lo > 0.0 && lo <= hi))
        {
            return Err(bad(
                "sigma_range",
                format!("need {d} ranges [lo, hi] with 0 < lo <= hi"),
            ));
        }
        if config.output_scale.len() != d
            || config
                .output_scale
                .iter()
                .any(|c| !(c.is_finite() && *c > 0.0))
        {
            return Err(bad(
                "output_scale",
                format!("need {d} positive finite factors"),
            ));
        }
        if config.last_prices.len() != d
            || config
                .last_prices
                .iter()
                .any(|p| !(p.is_finite() && *p > 0.0))
        {
            return Err(bad(
                "last_prices",
                format!("need {d} positive finite prices (one per asset)"),
            ));
        }
        if config.copula.correlation.len() != d
            || config.copula.correlation.iter().any(|r| r.len() != d)
        {
            return Err(bad("copula", format!("the correlation must be {d}×{d}")));
        }
        if let Some(j) = &config.jumps {
            j.check(d - 1, &file)?;
        }
        let copula = TCopula::new(
            config.copula.nu,
            config.copula.correlation.concat(),
            d,
            &file.display().to_string(),
        )?;
        Ok(PanelModel {
            start_spots: None,
            config,
            nets,
            copula,
            dir,
        })
    }

    /// Loads `dir/panel.json` and the nets it names.
    pub fn load(dir: &Path) -> Result<Self> {
        let file = dir.join(PANEL_FILE);
        let bytes = std::fs::read(&file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?;
        let config: PanelConfig = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(
                Location::file(&file).line(e.line() as u64),
                format!(
                    "not a market model's panel.json: {}",
                    crate::io::json::describe(&bytes, &e)
                ),
            )
        })?;
        let nets = config
            .nets
            .iter()
            .map(|n| MixtureNet::load(&dir.join(n)))
            .collect::<Result<Vec<_>>>()?;
        PanelModel::from_parts(config, nets, Some(dir.to_path_buf()))
    }

    /// Writes `panel.json` and every net into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        for (net, sub) in self.nets.iter().zip(&self.config.nets) {
            super::save(net, &dir.join(sub))?;
        }
        let json = serde_json::to_string_pretty(&self.config)
            .map_err(|e| Error::Internal(format!("serialising panel.json: {e}")))?;
        crate::io::write_atomic(dir.join(PANEL_FILE), json.as_bytes())
    }

    /// `panel.json`.
    pub fn config(&self) -> &PanelConfig {
        &self.config
    }

    /// Asset names (the stocks, then `index`).
    pub fn assets(&self) -> &[String] {
        &self.config.assets
    }

    /// Each asset's spot at step 0 (the stocks, then the index): its last
    /// training price, or its close on the day the run starts from.
    pub fn start_spots(&self) -> &[f64] {
        self.start_spots
            .as_deref()
            .unwrap_or(&self.config.last_prices)
    }

    /// The nets (each stock's residual, then the index).
    pub fn nets(&self) -> &[MixtureNet] {
        &self.nets
    }

    /// The copula.
    pub fn copula(&self) -> &TCopula {
        &self.copula
    }

    /// A fingerprint of the model: the first 16 hex digits of the SHA-256
    /// of its `panel.json` as serialised and every net's
    /// [`MixtureNet::fingerprint`]. Its pricing file records it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&self.config).unwrap_or_default());
        for net in &self.nets {
            h.update(net.fingerprint().as_bytes());
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        hex[..16].to_string()
    }

    /// Where it was loaded from.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

/// A net's directory name for an asset: its position and its name with
/// every character outside `[A-Za-z0-9._-]` replaced by `_` (a ticker such
/// as `BRK/B` cannot name a directory).
pub(crate) fn net_dir(i: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("nets/{i:02}-{clean}")
}
