//! The network's configuration, its weights for inference (plain f64 Rust,
//! so generation is independent of batch size and threads), and the Student-t
//! mixture it outputs.

use super::features::{FeatureState, CORE_LEN, LEGACY_STATE_LEN, N_FEATURES, STATE_LEN};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `models/<name>/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeepConfig {
    /// Format version of the model directory.
    pub format: u32,
    /// Model name.
    pub name: String,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Mixture components.
    pub components: usize,
    /// Half-lives of the feature averages (days).
    pub half_lives: Vec<f64>,
    /// Daily log returns are divided by this before entering the network.
    pub scale: f64,
    /// Recursion state at the end of the training file (generation starts here).
    pub initial_state: Vec<f64>,
    /// Per feature, the [min, max] seen in training: inputs are clamped to
    /// this box, so the network never extrapolates to states it was not
    /// fitted on (an unclamped log-linear variance map can run away along a
    /// generated path).
    pub feature_bounds: Vec<[f64; 2]>,
    /// The scales `[a, b]` of the smooth squash of the features
    /// ([`super::squash`]) applied before the box, or none
    /// (models trained before it existed, or with `--feature-squash off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_squash: Option<[f64; 2]>,
    /// Whether the network's ln σ sits on a variance core
    /// ([`MixtureNet::core_variance`]): half the ln of a non-negative
    /// combination of the averages of z² and of the negative days' z², plus
    /// the network's output bounded to ±[`CORE_CORRECTION`]; the network's
    /// 1-day inputs then have the box [0, 0]. False for models trained
    /// before it existed or with `--variance-core off`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub variance_core: bool,
    /// The [min, max] of the core variance over the days the net was fitted
    /// on: the core is held to this range as the features are held to
    /// their box, so that a generated path never takes the core where no
    /// real day was (where its linear feedback on itself could run away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_bounds: Option<[f64; 2]>,
    /// Last price of the training file (default s0).
    pub last_price: f64,
    /// Training data: file, column, first and last date.
    pub data: Vec<String>,
    /// Seed of the initialisation and minibatches.
    pub seed: u64,
}

/// One mixture of Student-t laws for a standardised return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mixture<const K: usize> {
    /// Weights (sum 1).
    pub weight: [f64; K],
    /// Locations.
    pub loc: [f64; K],
    /// Scales (not standard deviations).
    pub scale: [f64; K],
    /// Degrees of freedom (> 2).
    pub nu: [f64; K],
}

impl<const K: usize> Mixture<K> {
    /// Variance of the mixture.
    pub fn variance(&self) -> f64 {
        let mean: f64 = (0..K).map(|k| self.weight[k] * self.loc[k]).sum();
        let second: f64 = (0..K)
            .map(|k| {
                let nu = self.nu[k];
                self.weight[k]
                    * (self.scale[k] * self.scale[k] * nu / (nu - 2.0) + self.loc[k].powi(2))
            })
            .sum();
        second - mean * mean
    }

    /// Log-density at `z`.
    pub fn log_density(&self, z: f64) -> f64 {
        let terms: [f64; K] = std::array::from_fn(|k| {
            let (nu, s) = (self.nu[k], self.scale[k]);
            let u = (z - self.loc[k]) / s;
            self.weight[k].ln() + libm::lgamma(0.5 * (nu + 1.0))
                - libm::lgamma(0.5 * nu)
                - 0.5 * (nu * std::f64::consts::PI).ln()
                - s.ln()
                - 0.5 * (nu + 1.0) * (u * u / nu).ln_1p()
        });
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
    }
}

/// Number of mixture components of the shipped architecture.
pub const K: usize = 3;

/// Largest 1/ν: degrees of freedom stay above 4, so every component has a
/// finite variance (the variance state) and a finite fourth moment. Why 4:
/// the scorecard's kurtosis facts (excess kurtosis, aggregational
/// Gaussianity) are only defined for finite-kurtosis innovations, and the
/// S&P 500 supports it: GJR-GARCH-t fits ν ≈ 10 on the same days, and
/// volatility clustering makes the unconditional tails heavier than the
/// innovations' (Cont 2001, "Empirical properties of asset returns", puts
/// the tail index of daily returns between 2 and 5). With ν > 3 (format 2)
/// the model put a ν ≈ 3 component in the tails; its paths had a sample
/// excess kurtosis of 8 ± 12 on three-year windows against 5 real.
pub const INV_NU_MAX: f64 = 1.0 / 4.0;

/// Format version of model directories this build writes and reads
/// (3: ν > 4; format 2 had ν > 3, so its raw ν parameters mean other laws).
pub const FORMAT: u32 = 3;

/// Outputs of the network per day: the raw conditional mean and ln σ.
pub const N_OUT: usize = 2;

/// Largest conditional mean, in units of the conditional scale σ: daily
/// index returns have Sharpe ratios of a few hundredths, so a bound of 0.1
/// loses nothing real and stops the mean from chasing noise.
pub const MEAN_BOUND: f64 = 0.1;

/// Inference weights. The network maps the features to a conditional mean
/// and scale, `z = σ_t (μ_t + ε_t)`; `ε` follows one Student-t mixture (the
/// innovation law) learnt from all training days. `layers` are dense layers
/// with ReLU between them plus a linear skip from the inputs (the last pair);
/// `shape` holds the innovation law as `[logits; loc; ln scale; raw]`
/// (K each) with `1/ν = sigmoid(raw)·INV_NU_MAX`.
///
/// Why the innovation law is shared by all days: a mixture whose every
/// parameter depends on the state can put a narrow component at a precise
/// location after a given pattern (seen as near-deterministic rebounds that
/// kill the |r| autocorrelation at lag 1 in generated paths). The state
/// drives what the data identify well, the level of volatility and a small
/// drift; the tails and skew of the innovations are estimated from every day
/// at once.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureNet {
    /// (weights row-major out×in, bias) per layer.
    layers: Vec<(Vec<f64>, Vec<f64>)>,
    /// The innovation law (4K raw parameters).
    shape: Vec<f64>,
    /// The innovation law, decoded once.
    law: Mixture<K>,
    /// The variance core's raw parameters (softplus gives the weights), if
    /// the model has one.
    core: Option<Vec<f64>>,
    /// Its weights, decoded once.
    core_weights: Option<[f64; CORE_LEN]>,
    config: DeepConfig,
    dir: Option<PathBuf>,
}

/// Reusable activation buffers for [`MixtureNet::mixture_with`].
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    cur: Vec<f64>,
    next: Vec<f64>,
}

/// One dense layer, `out = W·input + b` (ReLU when `relu`), into `out`.
fn dense(w: &[f64], b: &[f64], input: &[f64], relu: bool, out: &mut Vec<f64>) {
    let n_in = input.len();
    out.clear();
    out.extend(b.iter().enumerate().map(|(o, bias)| {
        let v = bias
            + w[o * n_in..(o + 1) * n_in]
                .iter()
                .zip(input)
                .map(|(a, c)| a * c)
                .sum::<f64>();
        if relu && v < 0.0 {
            0.0
        } else {
            v
        }
    }));
}

/// Decodes `[logits; loc; ln scale; raw ν]` into a mixture.
fn decode_law(p: &[f64]) -> Mixture<K> {
    let m = p[..K].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: [f64; K] = std::array::from_fn(|k| (p[k] - m).exp());
    let total: f64 = e.iter().sum();
    Mixture {
        weight: e.map(|v| v / total),
        loc: std::array::from_fn(|k| p[K + k]),
        scale: std::array::from_fn(|k| p[2 * K + k].clamp(-20.0, 10.0).exp()),
        nu: std::array::from_fn(|k| {
            let inv_nu = INV_NU_MAX / (1.0 + (-p[3 * K + k]).exp());
            1.0 / inv_nu.max(1e-6)
        }),
    }
}

/// Name of the innovation law's tensor in the safetensors file.
pub(crate) const SHAPE_NAME: &str = "innovation";

/// Largest |correction| of ln σ that the network adds to a variance core's
/// (`c·tanh(g/c)`): the network may scale the core's σ by e^±0.5 (0.61 to
/// 1.65), enough to reshape it with the state, not enough to cancel its
/// response to a shock (a 4-sd fall multiplies a GJR-like core variance by
/// several times) or to turn a stationary core into a runaway one.
pub const CORE_CORRECTION: f64 = 0.5;

/// Name of the variance core's tensor in the safetensors file.
pub(crate) const CORE_NAME: &str = "core";

/// `ln(1 + e^x)`, computed without overflow: the map from the core's raw
/// parameters to its non-negative weights.
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The core variance of the regressors `c` under weights `w` (floored at
/// 1e-12, as in training).
pub(crate) fn core_variance_of(w: &[f64; CORE_LEN], c: &[f64; CORE_LEN]) -> f64 {
    w.iter().zip(c).map(|(a, b)| a * b).sum::<f64>().max(1e-12)
}

/// The variance core's weights from its raw parameters.
pub(crate) fn decode_core(raw: &[f64]) -> [f64; CORE_LEN] {
    std::array::from_fn(|i| softplus(raw[i]))
}

/// Layer names in the safetensors file.
pub(crate) fn layer_names(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("layer{i}.weight"), format!("layer{i}.bias")))
        .collect()
}

impl MixtureNet {
    /// Loads `DIR/config.json` and `DIR/model.safetensors`.
    pub fn load(dir: &Path) -> Result<MixtureNet> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|source| Error::Read { path: p, source })
        };
        MixtureNet::from_bytes(
            &read("config.json")?,
            &read("model.safetensors")?,
            Some(dir),
        )
    }

    /// Parses a model held in memory: `config.json` and
    /// `model.safetensors` bytes; `dir` names them in errors (`None`: the
    /// shipped model).
    pub fn from_bytes(config: &[u8], weights: &[u8], dir: Option<&Path>) -> Result<MixtureNet> {
        let where_ = |f: &str| {
            dir.map_or_else(
                || format!("shipped model {f}"),
                |d| d.join(f).display().to_string(),
            )
        };
        let config: DeepConfig = serde_json::from_slice(config).map_err(|e| {
            Error::parameter(
                "model config",
                where_("config.json"),
                crate::io::json::describe(config, &e),
            )
        })?;
        if config.format != FORMAT {
            return Err(Error::parameter(
                "model config",
                where_("config.json"),
                format!(
                    "format {} is not readable by this build (it reads format {FORMAT}); retrain the model with `synthmarket train`",
                    config.format
                ),
            ));
        }
        if config.components != K || config.half_lives != super::HALF_LIVES {
            return Err(Error::parameter(
                "model config",
                where_("config.json"),
                format!(
                    "this build reads {K}-component models with half-lives {:?}",
                    super::HALF_LIVES
                ),
            ));
        }
        if FeatureState::from_slice(&config.initial_state).is_none()
            || !(config.scale.is_finite() && config.scale > 0.0)
            || config.feature_bounds.len() != N_FEATURES
            || config
                .feature_bounds
                .iter()
                .any(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo <= hi))
            || config
                .feature_squash
                .is_some_and(|s| s.iter().any(|c| !(c.is_finite() && *c > 0.0)))
            || config
                .core_bounds
                .is_some_and(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi))
        {
            return Err(Error::parameter(
                "model config",
                where_("config.json"),
                format!("initial_state must hold {LEGACY_STATE_LEN} or {STATE_LEN} finite values (non-negative averages of squares), scale must be positive, feature_bounds must hold {N_FEATURES} finite [min, max] pairs, feature_squash, if present, two positive scales and core_bounds, if present, 0 < min ≤ max"),
            ));
        }
        let tensors = candle_core::safetensors::load_buffer(weights, &candle_core::Device::Cpu)
            .map_err(|e| {
                Error::parameter("model weights", where_("model.safetensors"), e.to_string())
            })?;
        let dims: Vec<usize> = std::iter::once(N_FEATURES)
            .chain(config.hidden.iter().copied())
            .chain([N_OUT])
            .collect();
        let mut layers = Vec::new();
        let mut shapes: Vec<(usize, usize)> = dims.windows(2).map(|w| (w[0], w[1])).collect();
        shapes.push((N_FEATURES, N_OUT));
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f64>> {
            let t = tensors.get(name).ok_or_else(|| {
                Error::parameter(
                    "model weights",
                    where_("model.safetensors"),
                    format!("no tensor `{name}`"),
                )
            })?;
            if t.dims() != shape {
                return Err(Error::parameter(
                    "model weights",
                    where_("model.safetensors"),
                    format!("`{name}` has shape {:?}, expected {shape:?}", t.dims()),
                ));
            }
            let v: Vec<f64> = t
                .flatten_all()
                .and_then(|t| t.to_dtype(candle_core::DType::F64))
                .and_then(|t| t.to_vec1())
                .map_err(|e| Error::Internal(format!("reading `{name}`: {e}")))?;
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::parameter(
                    "model weights",
                    where_("model.safetensors"),
                    format!("`{name}` holds a non-finite value"),
                ));
            }
            Ok(v)
        };
        for ((wn, bn), (n_in, n_out)) in layer_names(shapes.len()).into_iter().zip(shapes) {
            layers.push((get(&wn, &[n_out, n_in])?, get(&bn, &[n_out])?));
        }
        let shape = get(SHAPE_NAME, &[4 * K])?;
        let core = if config.variance_core {
            Some(get(CORE_NAME, &[CORE_LEN])?)
        } else {
            None
        };
        Ok(MixtureNet {
            layers,
            law: decode_law(&shape),
            shape,
            core_weights: core.as_deref().map(decode_core),
            core,
            config,
            dir: dir.map(Path::to_path_buf),
        })
    }

    /// Builds a net from trained weights (row-major), the innovation law's
    /// raw parameters, the variance core's (if `config.variance_core`) and
    /// its config.
    pub(crate) fn from_parts(
        layers: Vec<(Vec<f64>, Vec<f64>)>,
        shape: Vec<f64>,
        core: Option<Vec<f64>>,
        config: DeepConfig,
    ) -> Self {
        MixtureNet {
            layers,
            law: decode_law(&shape),
            shape,
            core_weights: core.as_deref().map(decode_core),
            core,
            config,
            dir: None,
        }
    }

    /// The variance core's raw parameters, if the model has one.
    pub fn core(&self) -> Option<&[f64]> {
        self.core.as_deref()
    }

    /// The core variance of the next standardised return in `state`:
    /// `w · [1, averages of z², averages of the negative days' z²]` with the core's
    /// non-negative weights, or 1 for a model without a core. ln σ is half
    /// its ln plus the network's output, so that one day's shock moves the
    /// next day's variance linearly in its square, as in a GJR-GARCH
    /// filter, and the network shapes the rest.
    pub fn core_variance(&self, state: &FeatureState) -> f64 {
        match &self.core_weights {
            None => 1.0,
            Some(w) => {
                let v = core_variance_of(w, &state.core_regressors());
                match self.config.core_bounds {
                    Some([lo, hi]) => v.clamp(lo, hi),
                    None => v,
                }
            }
        }
    }

    /// The layers: (weights row-major out×in, bias).
    pub fn layers(&self) -> &[(Vec<f64>, Vec<f64>)] {
        &self.layers
    }

    /// The innovation law's raw parameters `[logits; loc; ln scale; raw ν]`.
    pub fn shape(&self) -> &[f64] {
        &self.shape
    }

    /// The same network starting generation from another recursion state
    /// (for example the state at the start of a test period).
    pub fn with_initial_state(&self, state: &FeatureState) -> MixtureNet {
        let mut net = self.clone();
        net.config.initial_state = state.config_values(net.config.variance_core);
        net
    }

    /// The same network with another output scale (the market model's
    /// variance targeting folded into a net, to run it as one series).
    pub(crate) fn with_scale(&self, scale: f64) -> MixtureNet {
        let mut net = self.clone();
        net.config.scale = scale;
        net
    }

    /// Its configuration.
    pub fn config(&self) -> &DeepConfig {
        &self.config
    }

    /// A fingerprint of the network: the first 16 hex digits of the SHA-256
    /// of its weights and innovation law as stored (f32, layer order) and
    /// its output scale. A pricing table records the fingerprint of the
    /// model it was fitted for.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (w, b) in &self.layers {
            for v in w.iter().chain(b) {
                h.update((*v as f32).to_le_bytes());
            }
        }
        for v in self.shape.iter().chain(self.core.iter().flatten()) {
            h.update((*v as f32).to_le_bytes());
        }
        h.update(self.config.scale.to_le_bytes());
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        hex[..16].to_string()
    }

    /// Where it was loaded from (None: the shipped model).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The mixture for the next standardised return given the state.
    pub fn mixture(&self, state: &FeatureState) -> Mixture<K> {
        self.mixture_with(state, &mut Scratch::default())
    }

    /// [`MixtureNet::mixture`] with the activations in `scratch`, so a path
    /// that evaluates the network every day allocates nothing per day.
    pub fn mixture_with(&self, state: &FeatureState, scratch: &mut Scratch) -> Mixture<K> {
        let (mean, sigma) = self.conditional_with(state, scratch);
        self.mixture_at(mean, sigma)
    }

    /// The network's inputs in `state`: its features, squashed by the
    /// model's scales if it has them, clamped to the training box.
    pub fn inputs(&self, state: &FeatureState) -> [f64; N_FEATURES] {
        let mut x = [0.0; N_FEATURES];
        state.squashed_features(&mut x, self.config.feature_squash);
        for (v, [lo, hi]) in x.iter_mut().zip(&self.config.feature_bounds) {
            *v = v.clamp(*lo, *hi);
        }
        x
    }

    /// The network's outputs given the state: the bounded mean μ_t and the
    /// scale σ_t of `z = σ_t (μ_t + ε)`.
    pub fn conditional_with(&self, state: &FeatureState, scratch: &mut Scratch) -> (f64, f64) {
        let x = self.inputs(state);
        let (mlp, skip) = self.layers.split_at(self.layers.len() - 1);
        let Scratch { cur, next } = scratch;
        cur.clear();
        cur.extend_from_slice(&x);
        for (i, (w, b)) in mlp.iter().enumerate() {
            dense(w, b, cur, i + 1 < mlp.len(), next);
            std::mem::swap(cur, next);
        }
        dense(&skip[0].0, &skip[0].1, &x, false, next);
        let mean = MEAN_BOUND * (cur[0] + next[0]).tanh();
        let out = cur[1] + next[1];
        let log_sigma = match self.core_weights {
            None => out,
            Some(_) => {
                0.5 * self.core_variance(state).ln()
                    + CORE_CORRECTION * (out / CORE_CORRECTION).tanh()
            }
        };
        let sigma = log_sigma.clamp(-12.0, 6.0).exp();
        (mean, sigma)
    }

    /// A deterministic forecast of the variance ahead: the recursion run
    /// forward with each day's draw replaced by its conditional moments
    /// (`E[z]`, `E[z²]`), and the average one-day variance of `z` over the
    /// first `d` days for each `d` of `days` (ascending, ≥ 1). Not the
    /// conditional expectation (the network is non-linear), but a smooth
    /// function of the whole state that carries the network's own
    /// dynamics: the pricing table regresses on it.
    pub fn mean_field_variance(&self, state: &FeatureState, days: &[usize]) -> Vec<f64> {
        let mut s = *state;
        let mut scratch = Scratch::default();
        let mut out = Vec::with_capacity(days.len());
        let mut acc = 0.0;
        let mut day = 0;
        for &d in days {
            while day < d {
                let (mean, sigma) = self.conditional_with(&s, &mut scratch);
                let mix = self.mixture_at(mean, sigma);
                let m1: f64 = (0..K).map(|k| mix.weight[k] * mix.loc[k]).sum();
                let var = mix.variance();
                acc += var;
                s.update_moments(m1, var + m1 * m1);
                day += 1;
            }
            out.push(acc / d.max(1) as f64);
        }
        out
    }

    /// The law of `z = σ (μ + ε)`.
    pub fn mixture_at(&self, mean: f64, sigma: f64) -> Mixture<K> {
        let law = self.law;
        let mut mix = law;
        for k in 0..K {
            mix.loc[k] = sigma * (mean + law.loc[k]);
            mix.scale[k] = sigma * law.scale[k];
        }
        mix
    }

    /// The innovation law ε (the mixture for σ = 1, μ = 0).
    pub fn innovation_law(&self) -> Mixture<K> {
        self.law
    }

    /// The first four cumulants of the innovation law (finite: ν > 4).
    pub fn innovation_cumulants(&self) -> [f64; 4] {
        let law = &self.law;
        let mut m = [0.0; 4];
        for k in 0..K {
            let mk =
                crate::sim::risk_neutral::student_t_moments(law.loc[k], law.scale[k], law.nu[k]);
            for (a, b) in m.iter_mut().zip(mk) {
                *a += law.weight[k] * b;
            }
        }
        crate::sim::risk_neutral::cumulants(m)
    }

    /// Mean negative log-likelihood per observation of daily log returns
    /// `r[from..]` (in return units), conditioning on all earlier returns.
    pub fn nll(&self, r: &[f64], from: usize) -> f64 {
        let ll = self.log_likelihoods(r, from);
        -ll.iter().sum::<f64>() / ll.len() as f64
    }

    /// The log-likelihood of each daily log return of `r[from..]` (in
    /// return units), conditioning on all earlier returns: what a paired
    /// comparison of two models on the same days needs.
    pub fn log_likelihoods(&self, r: &[f64], from: usize) -> Vec<f64> {
        let ln_s = self.config.scale.ln();
        self.filter(r, from, |mix, z| mix.log_density(z) - ln_s)
    }

    /// The one-day variance of the standardised return `z = r / scale`
    /// that the model gives each day of `r[from..]` (daily log returns),
    /// conditioning on all earlier days: the model's filter of a real
    /// history.
    pub fn filtered_variances(&self, r: &[f64], from: usize) -> Vec<f64> {
        self.filter(r, from, |mix, _| mix.variance())
    }

    /// `f(law of the day, its standardised return)` for each day of
    /// `r[from..]`, the features run through every earlier day from the
    /// default state.
    fn filter<T>(
        &self,
        r: &[f64],
        from: usize,
        mut f: impl FnMut(&Mixture<K>, f64) -> T,
    ) -> Vec<T> {
        let s = self.config.scale;
        let mut state = FeatureState::default();
        let mut scratch = Scratch::default();
        let mut out = Vec::with_capacity(r.len().saturating_sub(from));
        for (t, x) in r.iter().enumerate() {
            let z = x / s;
            if t >= from {
                out.push(f(&self.mixture_with(&state, &mut scratch), z));
            }
            state.update(z);
        }
        out
    }
}
