//! The model of a run: each model's flags resolved into its checked
//! parameters ([`ModelSpec`]), as `run.json` records them. The parameter
//! types themselves (and their checks) live with each model in `sim/` and
//! `deep/`.

use super::params::{Numbers, SimulateParams};
use crate::error::{Error, Result};
use crate::sim::{CorrelationMatrix, GarchParams, GbmParams, HestonParams, HestonScheme};
use serde::Serialize;

impl SimulateParams {
    pub(super) fn resolve_gbm(&self) -> Result<ModelSpec> {
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

    pub(super) fn resolve_heston(&self) -> Result<ModelSpec> {
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
    pub(super) fn resolve_garch(&self) -> Result<ModelSpec> {
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

    pub(super) fn resolve_deep(&self) -> Result<ModelSpec> {
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
        if let Some(dir) = self
            .model_path
            .as_deref()
            .filter(|d| crate::deep::panel::PanelModel::is_panel_dir(d))
        {
            if self.s0.is_some() {
                return Err(Error::parameter(
                    "s0",
                    format!("{s0}"),
                    "a market model starts every asset at its last training price (panel.json's last_prices); drop --s0",
                ));
            }
            let model = crate::deep::panel::PanelModel::load(dir)?;
            return Ok(ModelSpec::Panel {
                model_path: dir.display().to_string(),
                model: Box::new(model),
            });
        }
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
    /// A market model (`--model deep --model-path DIR` with a
    /// `panel.json`): many stocks and their index, daily.
    Panel {
        /// The model directory.
        model_path: String,
        /// The loaded model (recorded in run.json by its name and assets).
        #[serde(rename = "panel", serialize_with = "ser_panel")]
        model: Box<crate::deep::panel::PanelModel>,
    },
}

fn ser_panel<S: serde::Serializer>(
    m: &crate::deep::panel::PanelModel,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("panel", 3)?;
    st.serialize_field("name", &m.config().name)?;
    st.serialize_field("assets", m.assets())?;
    st.serialize_field("s0", m.start_spots())?;
    st.end()
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
