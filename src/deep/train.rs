//! Maximum-likelihood training in candle, with a chronological
//! train/validation/test split and early stopping on the validation loss.

use super::features::{FeatureState, HALF_LIVES, N_FEATURES};
use super::model::{
    layer_names, DeepConfig, MixtureNet, FORMAT, INV_NU_MAX, K, MEAN_BOUND, N_OUT, SHAPE_NAME,
};
use crate::error::{Error, Result};
use crate::market::SpotHistory;
use crate::rng::aux_rng;
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Days at the start of each series whose features are still warming up
/// (left out of the loss); a run that starts from a real date needs at
/// least this many returns before it.
pub const WARMUP: usize = 50;

/// Fewest daily returns a history may have: below this, even a fine-tuned
/// model has under 125 training days after the warm-up and a validation
/// part of a few weeks, too little to tell a better fit from noise.
pub const MIN_RETURNS: usize = 250;

/// Fewest daily returns for training from scratch (without
/// [`TrainOptions::init`]): 70 % of 1,000 leaves 650 training days after
/// the warm-up for the 1,500-odd weights of the default network.
pub const MIN_RETURNS_COLD: usize = 1000;

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Model name (written in the config).
    pub name: String,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Minibatch size.
    pub batch: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Share of each series held out for validation (after the training part).
    pub val_fraction: f64,
    /// Share of each series held out for testing (the end).
    pub test_fraction: f64,
    /// Seed of the initial weights and the minibatch order.
    pub seed: u64,
    /// Refit on training and validation together for the selected number
    /// of epochs.
    pub refit: bool,
    /// Start from this trained model's weights and innovation law (fine-
    /// tuning) instead of a random initialisation; its hidden widths must
    /// be [`Self::hidden`]. Lets a history of [`MIN_RETURNS`] to
    /// [`MIN_RETURNS_COLD`] returns be learnt.
    pub init: Option<MixtureNet>,
    /// Scales of the smooth squash of the features
    /// ([`crate::deep::squash`]), or none. Ignored with [`Self::init`]: a
    /// fine-tuned net keeps the features its weights were fitted on.
    pub feature_squash: Option<[f64; 2]>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            name: "model".into(),
            hidden: vec![32, 32],
            epochs: 300,
            patience: 30,
            batch: 256,
            learning_rate: 3e-3,
            weight_decay: 1e-4,
            val_fraction: 0.15,
            test_fraction: 0.15,
            seed: 42,
            refit: true,
            init: None,
            feature_squash: None,
        }
    }
}

/// What training measured.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Epochs run.
    pub epochs_run: usize,
    /// Epoch of the kept weights (best validation loss).
    pub best_epoch: usize,
    /// (epoch, train NLL of standardised returns, validation NLL of daily
    /// log returns) per epoch; epoch 0 holds the initial weights'
    /// validation NLL.
    pub history: Vec<(usize, f64, f64)>,
    /// Training observations (all series) of the selection run.
    pub train_observations: usize,
    /// Observations of the final fit (training and validation parts when
    /// `refit`).
    pub final_observations: usize,
    /// Whether the kept weights were refitted on training and validation
    /// together for `best_epoch` epochs.
    pub refit: bool,
    /// Index of the first validation and first test return of the first
    /// series, and its length.
    pub split: (usize, usize, usize),
    /// Per-observation NLL of daily log returns, first series: train,
    /// validation, test, of the selection run's best weights (validation is
    /// out of sample here).
    pub selection_nll: (f64, f64, f64),
    /// The log-likelihood of each validation day (first series) under the
    /// selection run's best weights, out of sample: what comparing training
    /// candidates on the same days needs (not written to `metrics.json`).
    #[serde(skip)]
    pub validation_log_likelihoods: Vec<f64>,
    /// The same for the final weights (validation is in sample after a
    /// refit; test is never seen).
    pub nll: (f64, f64, f64),
    /// Wall-clock seconds.
    pub seconds: f64,
}

fn to_tensor(rows: &[[f64; N_FEATURES]], dev: &Device) -> candle_core::Result<Tensor> {
    let flat: Vec<f32> = rows.iter().flatten().map(|v| *v as f32).collect();
    Tensor::from_vec(flat, (rows.len(), N_FEATURES), dev)
}

/// ln Γ(x) for x > 1 as tensor ops: shift by 6 and Stirling's series
/// (error below 1e-9 for x + 6 ≥ 7; candle has no lgamma).
fn lgamma(x: &Tensor) -> candle_core::Result<Tensor> {
    let mut prod = x.clone();
    for i in 1..6 {
        prod = prod.mul(&(x + i as f64)?)?;
    }
    let y = (x + 6.0)?;
    let inv = y.recip()?;
    let inv2 = inv.sqr()?;
    let series = inv.mul(
        &((1.0 / 12.0)
            - (&inv2 * (1.0 / 360.0))?.mul(&((&inv2 * (360.0 / 1260.0))?.neg()? + 1.0)?)?)?,
    )?;
    let stirling = (((&y - 0.5)?.mul(&y.log()?)? - &y)? + 0.5 * (2.0 * std::f64::consts::PI).ln())?;
    (stirling + series)? - prod.log()?
}

/// Mean negative log-likelihood of standardised returns `y` (N×1) under the
/// model: `y = σ(x) (μ(x) + ε)`, ε from the shared Student-t mixture `shape`.
fn loss(layers: &[(Var, Var)], shape: &Var, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    // The MLP layers, then a linear skip from the inputs to the outputs
    // (the last pair): a log-linear multi-scale volatility model that the MLP
    // corrects.
    let (mlp, skip) = layers.split_at(layers.len() - 1);
    let mut h = x.clone();
    for (i, (w, b)) in mlp.iter().enumerate() {
        h = h
            .matmul(&w.as_tensor().t()?)?
            .broadcast_add(b.as_tensor())?;
        if i + 1 < mlp.len() {
            h = h.relu()?;
        }
    }
    let h = (h + x
        .matmul(&skip[0].0.as_tensor().t()?)?
        .broadcast_add(skip[0].1.as_tensor())?)?;
    let mean = (h.narrow(1, 0, 1)?.tanh()? * MEAN_BOUND)?;
    let log_sigma = h.narrow(1, 1, 1)?.clamp(-12.0, 6.0)?;
    // Innovation (N×1): y/σ − μ.
    let e = (y.mul(&log_sigma.neg()?.exp()?)? - mean)?;
    let p = shape.as_tensor().unsqueeze(0)?;
    let log_w = candle_nn::ops::log_softmax(&p.narrow(1, 0, K)?, 1)?;
    let loc = p.narrow(1, K, K)?;
    let log_s = p.narrow(1, 2 * K, K)?.clamp(-20.0, 10.0)?;
    let inv_nu = (candle_nn::ops::sigmoid(&p.narrow(1, 3 * K, K)?)? * INV_NU_MAX)?
        .clamp(1e-6, INV_NU_MAX)?;
    let nu = inv_nu.recip()?;
    let u = e
        .broadcast_sub(&loc)?
        .broadcast_mul(&(log_s.neg()?.exp()?))?;
    let log_kernel = ((u.sqr()?.broadcast_mul(&inv_nu)? + 1.0)?
        .log()?
        .broadcast_mul(&((&nu + 1.0)? * 0.5)?)?)
    .neg()?;
    let log_c = ((lgamma(&((&nu + 1.0)? * 0.5)?)? - lgamma(&(&nu * 0.5)?)?)?
        - ((nu.log()? + std::f64::consts::PI.ln())? * 0.5)?)?;
    let per_component = ((log_w + log_c)? - log_s)?;
    let log_f = log_kernel.broadcast_add(&per_component)?;
    (log_f.log_sum_exp(D::Minus1)? - log_sigma.squeeze(1)?)?
        .mean_all()?
        .neg()
}

/// Standard-normal He initialisation from the project's RNG (candle's CPU
/// RNG cannot be seeded); the output layer starts small (σ ≈ 1, μ ≈ 0) and
/// the skip layer at zero. The innovation law starts with equal weights,
/// scales spread apart so the components differ from the first step, and
/// ν ≈ 50.
fn init_layers(
    dims: &[usize],
    seed: u64,
    dev: &Device,
) -> candle_core::Result<(Vec<(Var, Var)>, Var)> {
    let mut rng = aux_rng(seed, 0x4445_4550);
    let last = dims.len() - 2;
    let mut layers = (0..dims.len() - 1)
        .map(|i| {
            let (n_in, n_out) = (dims[i], dims[i + 1]);
            let gain = if i == last { 0.1 } else { 1.0 } * (2.0 / n_in as f64).sqrt();
            let w: Vec<f32> = (0..n_in * n_out)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    (gain * z) as f32
                })
                .collect();
            Ok((
                Var::from_tensor(&Tensor::from_vec(w, (n_out, n_in), dev)?)?,
                Var::from_tensor(&Tensor::zeros(n_out, DType::F32, dev)?)?,
            ))
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let (n_in, n_out) = (dims[0], dims[dims.len() - 1]);
    layers.push((
        Var::from_tensor(&Tensor::zeros((n_out, n_in), DType::F32, dev)?)?,
        Var::from_tensor(&Tensor::zeros(n_out, DType::F32, dev)?)?,
    ));
    let mut shape = vec![0f32; 4 * K];
    for (k, v) in [-0.4f32, 0.0, 0.6].iter().enumerate() {
        shape[2 * K + k] = *v;
        // 1/ν = sigmoid(−2.5)/4 ≈ 0.019: near-Gaussian components (ν ≈ 53),
        // so heavy tails are learnt from the data rather than assumed.
        shape[3 * K + k] = -2.5;
    }
    let shape = Var::from_tensor(&Tensor::from_vec(shape, 4 * K, dev)?)?;
    Ok((layers, shape))
}

/// A trained network's layers and innovation law as training variables
/// (the start of a fine-tuning run).
fn from_net(net: &MixtureNet, dev: &Device) -> candle_core::Result<(Vec<(Var, Var)>, Var)> {
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
    let layers = net
        .layers()
        .iter()
        .map(|(w, b)| {
            let (n_out, n_in) = (b.len(), w.len() / b.len().max(1));
            Ok((
                Var::from_tensor(&Tensor::from_vec(f32s(w), (n_out, n_in), dev)?)?,
                Var::from_tensor(&Tensor::from_vec(f32s(b), n_out, dev)?)?,
            ))
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let shape = Var::from_tensor(&Tensor::from_vec(f32s(net.shape()), 4 * K, dev)?)?;
    Ok((layers, shape))
}

type Weights = (Vec<(Vec<f64>, Vec<f64>)>, Vec<f64>);

fn snapshot(layers: &[(Var, Var)], shape: &Var) -> candle_core::Result<Weights> {
    let l = layers
        .iter()
        .map(|(w, b)| {
            Ok((
                w.as_tensor()
                    .flatten_all()?
                    .to_dtype(DType::F64)?
                    .to_vec1()?,
                b.as_tensor().to_dtype(DType::F64)?.to_vec1()?,
            ))
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok((l, shape.as_tensor().to_dtype(DType::F64)?.to_vec1()?))
}

/// The training device: the first CUDA GPU when built with the `cuda`
/// feature and one is present, else the CPU. Minibatch order and initial
/// weights come from the project's RNG either way; GPU reductions may round
/// differently, so a GPU-trained model is not bit-identical to a CPU-trained
/// one (generation from a saved model is, on any machine).
fn device() -> Device {
    #[cfg(feature = "cuda")]
    {
        if let Ok(d) = Device::cuda_if_available(0) {
            return d;
        }
    }
    Device::Cpu
}

fn candle_err(e: candle_core::Error) -> Error {
    Error::Internal(format!("candle: {e}"))
}

/// Trains on the histories (the first is the target: validation, test and
/// the generation start come from it). Calls `progress(epoch, train, val)`
/// after every epoch. Returns the best network and the report.
pub fn train(
    histories: &[SpotHistory],
    opts: &TrainOptions,
    mut progress: impl FnMut(usize, f64, f64),
) -> Result<(MixtureNet, TrainReport)> {
    let started = std::time::Instant::now();
    if histories.is_empty() {
        return Err(Error::parameter(
            "data",
            "none",
            "give at least one history",
        ));
    }
    if !(opts.val_fraction > 0.0
        && opts.test_fraction >= 0.0
        && opts.val_fraction + opts.test_fraction < 0.8)
    {
        return Err(Error::parameter(
            "val-fraction/test-fraction",
            format!("{}/{}", opts.val_fraction, opts.test_fraction),
            "need a positive validation share and at least 20 % left for training",
        ));
    }
    if opts.hidden.is_empty() || opts.hidden.iter().any(|h| *h == 0 || *h > 1024) {
        return Err(Error::parameter(
            "hidden",
            format!("{:?}", opts.hidden),
            "1 to 1024 units per layer",
        ));
    }
    if opts.batch == 0 || opts.epochs == 0 {
        return Err(Error::parameter(
            "epochs/batch",
            format!("{}/{}", opts.epochs, opts.batch),
            "must be positive",
        ));
    }
    if let Some(init) = &opts.init {
        if init.config().hidden != opts.hidden {
            return Err(Error::parameter(
                "hidden",
                format!("{:?}", opts.hidden),
                format!(
                    "the model to start from ({}) has hidden widths {:?}; fine-tuning keeps its architecture",
                    init.dir().map_or_else(|| "the shipped model".to_string(), |d| d.display().to_string()),
                    init.config().hidden
                ),
            ));
        }
    }
    let feature_squash = match &opts.init {
        Some(init) => init.config().feature_squash,
        None => opts.feature_squash,
    };
    // Without a model to start from the network needs a longer history; the
    // minimum parts scale with it (cold: 550 training and 100 validation
    // returns at 1,000; fine-tuning: 175 and 38 at 250).
    let (min_returns, min_train, min_val) = if opts.init.is_some() {
        (MIN_RETURNS, WARMUP + 125, 38)
    } else {
        (MIN_RETURNS_COLD, WARMUP + 500, 100)
    };
    let mut parts = Vec::new();
    for h in histories {
        let r = h.log_returns();
        let n = r.len();
        if n < min_returns {
            let hint = if n >= MIN_RETURNS {
                format!("; from {MIN_RETURNS} returns up a trained model can be fine-tuned on it (--init DIR, e.g. --init models/sp500)")
            } else {
                String::new()
            };
            return Err(Error::parameter(
                "data",
                h.source().display(),
                format!(
                    "{n} daily returns (column {}); training {} needs at least {min_returns}{hint}",
                    h.column(),
                    if opts.init.is_some() {
                        "from a model"
                    } else {
                        "from scratch"
                    }
                ),
            ));
        }
        let n_test = (n as f64 * opts.test_fraction).round() as usize;
        let n_val = (n as f64 * opts.val_fraction).round() as usize;
        let n_train = n - n_val - n_test;
        if n_train < min_train || n_val < min_val {
            return Err(Error::parameter(
                "data",
                h.source().display(),
                format!("{n} returns leave {n_train} for training and {n_val} for validation; need {min_train} and {min_val} (lower --val-fraction/--test-fraction)"),
            ));
        }
        parts.push((r, n_train, n_val));
    }
    let (r, n_train, n_val) = (&parts[0].0, parts[0].1, parts[0].2);
    let val_end = n_train + n_val;
    let n = r.len();
    let dev = device();
    let dims: Vec<usize> = std::iter::once(N_FEATURES)
        .chain(opts.hidden.iter().copied())
        .chain([N_OUT])
        .collect();
    let first = &histories[0];
    let data: Vec<String> = histories
        .iter()
        .map(|h| {
            format!(
                "{} ({}, {} to {})",
                h.source().display(),
                h.column(),
                h.dates()[0],
                h.dates()[h.len() - 1]
            )
        })
        .collect();
    // The config of a net fitted on `fitted`: its scale, feature box and the
    // start state at the end of the target file.
    let config_for = |fitted: &Fitted| DeepConfig {
        format: FORMAT,
        name: opts.name.clone(),
        hidden: opts.hidden.clone(),
        components: K,
        half_lives: HALF_LIVES.to_vec(),
        scale: fitted.scale,
        initial_state: FeatureState::after(&r.iter().map(|x| x / fitted.scale).collect::<Vec<_>>())
            .to_vec(),
        feature_bounds: fitted.bounds.clone(),
        feature_squash,
        last_price: *first.prices().last().unwrap_or(&1.0),
        data: data.clone(),
        seed: opts.seed,
    };

    // 1. Selection: fit on the training part, stop early on the validation NLL.
    let selection = Fitted::rows(&parts, feature_squash, |n_train, _| n_train);
    // Built once: each epoch's validation net only swaps the weights.
    let selection_config = config_for(&selection);
    let mut history = Vec::new();
    let (weights, best_epoch, epochs_run) = fit(
        &selection,
        &dims,
        opts,
        opts.epochs,
        true,
        &dev,
        |epoch, train_loss, weights| {
            let net = MixtureNet::from_parts(
                weights.0.clone(),
                weights.1.clone(),
                selection_config.clone(),
            );
            let v = net.nll(&r[..val_end], n_train);
            history.push((epoch, train_loss, v));
            if epoch > 0 {
                progress(epoch, train_loss, v);
            }
            v
        },
    )?;
    let selected = MixtureNet::from_parts(weights.0, weights.1, selection_config);
    let nll_of = |net: &MixtureNet, from: usize, to: usize| {
        if from < to {
            net.nll(&r[..to], from)
        } else {
            f64::NAN
        }
    };
    // The validation days' log-likelihoods, kept for comparing candidates;
    // their mean is the validation NLL (as `MixtureNet::nll` computes it).
    let validation_log_likelihoods = selected.log_likelihoods(&r[..val_end], n_train);
    let selection_nll = (
        nll_of(&selected, WARMUP, n_train),
        -validation_log_likelihoods.iter().sum::<f64>() / validation_log_likelihoods.len() as f64,
        nll_of(&selected, val_end, n),
    );
    // 2. Refit on training and validation together for the selected number of
    // epochs (the usual final fit: the model then knows the most recent
    // regime before the test period, as a GARCH fitted on the same days does).
    let (net, final_rows) = if opts.refit && best_epoch > 0 {
        let all = Fitted::rows(&parts, feature_squash, |n_train, n_val| n_train + n_val);
        let (w, _, _) = fit(&all, &dims, opts, best_epoch, false, &dev, |_, _, _| 0.0)?;
        let rows = all.rows.len();
        (MixtureNet::from_parts(w.0, w.1, config_for(&all)), rows)
    } else {
        (selected, selection.rows.len())
    };
    let report = TrainReport {
        epochs_run,
        best_epoch,
        history,
        train_observations: selection.rows.len(),
        final_observations: final_rows,
        refit: opts.refit && best_epoch > 0,
        split: (n_train, val_end, n),
        selection_nll,
        validation_log_likelihoods,
        nll: (
            nll_of(&net, WARMUP, n_train),
            nll_of(&net, n_train, val_end),
            nll_of(&net, val_end, n),
        ),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((net, report))
}

/// Training rows of all series up to a split point, with the target's scale
/// and the box of the features seen.
struct Fitted {
    rows: Vec<([f64; N_FEATURES], f64)>,
    scale: f64,
    bounds: Vec<[f64; 2]>,
}

impl Fitted {
    /// Rows of each series' first `upto(n_train, n_val)` returns,
    /// each series standardised by its own volatility over those returns.
    fn rows(
        parts: &[(Vec<f64>, usize, usize)],
        squash: Option<[f64; 2]>,
        upto: impl Fn(usize, usize) -> usize,
    ) -> Fitted {
        let mut rows = Vec::new();
        let mut target_scale = 1.0;
        for (i, (r, n_train, n_val)) in parts.iter().enumerate() {
            let end = upto(*n_train, *n_val);
            let (_, var) = crate::stats::mean_var(&r[..end]);
            let scale = var.sqrt();
            if i == 0 {
                target_scale = scale;
            }
            let mut state = FeatureState::default();
            for (t, x) in r[..end].iter().enumerate() {
                let z = x / scale;
                if t >= WARMUP {
                    let mut f = [0.0; N_FEATURES];
                    state.squashed_features(&mut f, squash);
                    rows.push((f, z));
                }
                state.update(z);
            }
        }
        let mut bounds = vec![[f64::INFINITY, f64::NEG_INFINITY]; N_FEATURES];
        for (f, _) in &rows {
            for (b, v) in bounds.iter_mut().zip(f) {
                b[0] = b[0].min(*v);
                b[1] = b[1].max(*v);
            }
        }
        Fitted {
            rows,
            scale: target_scale,
            bounds,
        }
    }
}

/// Minibatch AdamW on `data.rows` for up to `epochs` epochs from a seeded
/// initialisation. `score(epoch, train_loss, weights)` is called on the
/// initial weights (epoch 0, loss NaN) and after every epoch. With
/// `early_stop` the weights with the lowest score are kept and training stops
/// after `opts.patience` epochs without improvement; without it all epochs
/// run and the last weights are kept. Returns (weights, kept epoch, epochs
/// run).
fn fit(
    data: &Fitted,
    dims: &[usize],
    opts: &TrainOptions,
    epochs: usize,
    early_stop: bool,
    dev: &Device,
    mut score: impl FnMut(usize, f64, &Weights) -> f64,
) -> Result<(Weights, usize, usize)> {
    let (layers, shape) = match &opts.init {
        Some(net) => from_net(net, dev),
        None => init_layers(dims, opts.seed, dev),
    }
    .map_err(candle_err)?;
    let vars: Vec<Var> = layers
        .iter()
        .flat_map(|(w, b)| [w.clone(), b.clone()])
        .chain([shape.clone()])
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: opts.learning_rate,
            weight_decay: opts.weight_decay,
            ..ParamsAdamW::default()
        },
    )
    .map_err(candle_err)?;
    let mut rng = aux_rng(opts.seed, 0x4241_5443);
    let mut order: Vec<usize> = (0..data.rows.len()).collect();
    let initial = snapshot(&layers, &shape).map_err(candle_err)?;
    let s0 = score(0, f64::NAN, &initial);
    let mut best = (s0, 0usize, initial);
    let mut epochs_run = 0;
    for epoch in 1..=epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(opts.batch) {
            let rows: Vec<[f64; N_FEATURES]> = batch.iter().map(|&i| data.rows[i].0).collect();
            let y: Vec<f32> = batch.iter().map(|&i| data.rows[i].1 as f32).collect();
            let x = to_tensor(&rows, dev).map_err(candle_err)?;
            let y = Tensor::from_vec(y, (batch.len(), 1), dev).map_err(candle_err)?;
            let l = loss(&layers, &shape, &x, &y).map_err(candle_err)?;
            opt.backward_step(&l).map_err(candle_err)?;
            total += l.to_scalar::<f32>().map_err(candle_err)? as f64 * batch.len() as f64;
        }
        let train_loss = total / data.rows.len() as f64;
        let weights = snapshot(&layers, &shape).map_err(candle_err)?;
        let v = score(epoch, train_loss, &weights);
        if !v.is_finite() || !train_loss.is_finite() {
            return Err(Error::Internal(format!(
                "training diverged at epoch {epoch} (train {train_loss}, validation {v}); try a smaller --learning-rate"
            )));
        }
        epochs_run = epoch;
        if !early_stop || v < best.0 - 1e-6 {
            best = (v, epoch, weights);
        } else if epoch - best.1 >= opts.patience {
            break;
        }
    }
    Ok((best.2, best.1, epochs_run))
}

/// Writes `config.json` and `model.safetensors` of `net` into `dir`.
pub fn save(net: &MixtureNet, dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let dev = Device::Cpu;
    let mut tensors = std::collections::HashMap::new();
    for ((wn, bn), (w, b)) in layer_names(net.layers().len())
        .into_iter()
        .zip(net.layers())
    {
        let (n_out, n_in) = (b.len(), w.len() / b.len());
        let wt: Vec<f32> = w.iter().map(|v| *v as f32).collect();
        let bt: Vec<f32> = b.iter().map(|v| *v as f32).collect();
        tensors.insert(
            wn,
            Tensor::from_vec(wt, (n_out, n_in), &dev).map_err(candle_err)?,
        );
        tensors.insert(bn, Tensor::from_vec(bt, n_out, &dev).map_err(candle_err)?);
    }
    let shape: Vec<f32> = net.shape().iter().map(|v| *v as f32).collect();
    tensors.insert(
        SHAPE_NAME.to_string(),
        Tensor::from_vec(shape, 4 * K, &dev).map_err(candle_err)?,
    );
    // A pricing table in the directory belongs to the model being replaced
    // (`synthmarket fit-pricing` writes one for this model).
    for stale in ["pricing.json", "pricing.safetensors"] {
        let path = dir.join(stale);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Write { path, source }),
        }
    }
    crate::io::write_safetensors(dir.join("model.safetensors"), &tensors)?;
    let json = serde_json::to_string_pretty(net.config())
        .map_err(|e| Error::Internal(format!("serialising the config: {e}")))?;
    crate::io::write_atomic(dir.join("config.json"), json.as_bytes())
}
