//! Maximum-likelihood training in candle, with a chronological
//! train/validation/test split and early stopping on the validation loss.

use super::features::{FeatureState, HALF_LIVES, N_FEATURES};
use super::model::{layer_names, DeepConfig, MixtureNet, K};
use crate::error::{Error, Result};
use crate::market::SpotHistory;
use crate::rng::aux_rng;
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Days at the start of each series whose features are still warming up
/// (left out of the loss).
const WARMUP: usize = 50;

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
    /// Training observations (all series).
    pub train_observations: usize,
    /// Index of the first validation and first test return of the first
    /// series, and its length.
    pub split: (usize, usize, usize),
    /// Per-observation NLL of daily log returns, first series: train,
    /// validation, test.
    pub nll: (f64, f64, f64),
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One training series: its standardised returns and split points.
struct Series {
    z: Vec<f64>,
    n_train: usize,
    n_val: usize,
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
/// mixture the network outputs for `x`.
fn loss(layers: &[(Var, Var)], x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    // The MLP layers, then a linear skip from the inputs to the outputs
    // (the last pair): a log-linear multi-scale volatility model that the MLP
    // corrects, which extrapolates sensibly to calmer or wilder regimes.
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
    let log_w = candle_nn::ops::log_softmax(&h.narrow(1, 0, K)?, 1)?;
    let loc = h.narrow(1, K, K)?;
    let log_s = h.narrow(1, 2 * K, K)?.clamp(-20.0, 10.0)?;
    let inv_nu = (candle_nn::ops::sigmoid(&h.narrow(1, 3 * K, K)?)? * 0.5)?.clamp(1e-6, 0.5)?;
    let nu = inv_nu.recip()?;
    let u = y.broadcast_sub(&loc)?.mul(&(log_s.neg()?.exp()?))?;
    let log_kernel = ((u.sqr()?.mul(&inv_nu)? + 1.0)?
        .log()?
        .mul(&((&nu + 1.0)? * 0.5)?)?)
    .neg()?;
    let log_c = ((lgamma(&((&nu + 1.0)? * 0.5)?)? - lgamma(&(&nu * 0.5)?)?)?
        - ((nu.log()? + std::f64::consts::PI.ln())? * 0.5)?)?;
    let log_f = ((log_w + log_c)? - log_s)?.add(&log_kernel)?;
    log_f.log_sum_exp(D::Minus1)?.mean_all()?.neg()
}

/// Standard-normal He initialisation from the project's RNG (candle's CPU
/// RNG cannot be seeded); the output layer starts small with component
/// scales spread apart so the components differ from the first step.
fn init_layers(dims: &[usize], seed: u64, dev: &Device) -> candle_core::Result<Vec<(Var, Var)>> {
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
            let mut b = vec![0f32; n_out];
            if i == last {
                for (k, v) in [-0.4f32, 0.0, 0.6].iter().enumerate() {
                    b[2 * K + k] = *v;
                }
            }
            Ok((
                Var::from_tensor(&Tensor::from_vec(w, (n_out, n_in), dev)?)?,
                Var::from_tensor(&Tensor::from_vec(b, n_out, dev)?)?,
            ))
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    // The skip layer starts at zero.
    let (n_in, n_out) = (dims[0], dims[dims.len() - 1]);
    layers.push((
        Var::from_tensor(&Tensor::zeros((n_out, n_in), DType::F32, dev)?)?,
        Var::from_tensor(&Tensor::zeros(n_out, DType::F32, dev)?)?,
    ));
    Ok(layers)
}

fn snapshot(layers: &[(Var, Var)]) -> candle_core::Result<Vec<(Vec<f64>, Vec<f64>)>> {
    layers
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
        .collect()
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
    let mut series = Vec::new();
    let mut train_rows: Vec<([f64; N_FEATURES], f64)> = Vec::new();
    for h in histories {
        let r = h.log_returns();
        let n = r.len();
        let n_test = (n as f64 * opts.test_fraction).round() as usize;
        let n_val = (n as f64 * opts.val_fraction).round() as usize;
        let n_train = n - n_val - n_test;
        if n_train < WARMUP + 500 || n_val < 100 {
            return Err(Error::parameter(
                "data",
                h.source().display(),
                format!("{n} returns leave {n_train} for training and {n_val} for validation; need 550 and 100"),
            ));
        }
        let (_, var) = crate::stats::mean_var(&r[..n_train]);
        let scale = var.sqrt();
        let z: Vec<f64> = r.iter().map(|x| x / scale).collect();
        let mut state = FeatureState::default();
        for (t, &zt) in z.iter().enumerate().take(n_train) {
            if t >= WARMUP {
                let mut f = [0.0; N_FEATURES];
                state.features(&mut f);
                train_rows.push((f, zt));
            }
            state.update(zt);
        }
        series.push((Series { z, n_train, n_val }, scale));
    }
    let (target, scale) = (&series[0].0, series[0].1);
    let dev = Device::Cpu;
    let dims: Vec<usize> = std::iter::once(N_FEATURES)
        .chain(opts.hidden.iter().copied())
        .chain([4 * K])
        .collect();
    let layers = init_layers(&dims, opts.seed, &dev).map_err(candle_err)?;
    let vars: Vec<Var> = layers
        .iter()
        .flat_map(|(w, b)| [w.clone(), b.clone()])
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
    let first = &histories[0];
    let config = |initial: &FeatureState| DeepConfig {
        format: 1,
        name: opts.name.clone(),
        hidden: opts.hidden.clone(),
        components: K,
        half_lives: HALF_LIVES.to_vec(),
        scale,
        initial_state: initial.to_vec(),
        last_price: *first.prices().last().unwrap_or(&1.0),
        data: histories
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
            .collect(),
        seed: opts.seed,
    };
    let end_state = FeatureState::after(&target.z);
    let z_val_end = target.n_train + target.n_val;
    // Validation NLL of daily log returns, through the f64 inference path
    // (the one generation uses).
    let r: Vec<f64> = target.z.iter().map(|z| z * scale).collect();
    let val_nll = |net: &MixtureNet| net.nll(&r[..z_val_end], target.n_train);
    let mut rng = aux_rng(opts.seed, 0x4241_5443);
    let mut order: Vec<usize> = (0..train_rows.len()).collect();
    let initial = snapshot(&layers).map_err(candle_err)?;
    let v0 = val_nll(&MixtureNet::from_parts(initial.clone(), config(&end_state)));
    let mut best = (v0, 0usize, initial);
    // Epoch 0: the initial weights (no training loss yet).
    let mut history = vec![(0, f64::NAN, v0)];
    let mut epochs_run = 0;
    for epoch in 1..=opts.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(opts.batch) {
            let rows: Vec<[f64; N_FEATURES]> = batch.iter().map(|&i| train_rows[i].0).collect();
            let y: Vec<f32> = batch.iter().map(|&i| train_rows[i].1 as f32).collect();
            let x = to_tensor(&rows, &dev).map_err(candle_err)?;
            let y = Tensor::from_vec(y, (batch.len(), 1), &dev).map_err(candle_err)?;
            let l = loss(&layers, &x, &y).map_err(candle_err)?;
            opt.backward_step(&l).map_err(candle_err)?;
            total += l.to_scalar::<f32>().map_err(candle_err)? as f64 * batch.len() as f64;
        }
        let train_loss = total / train_rows.len() as f64;
        let net =
            MixtureNet::from_parts(snapshot(&layers).map_err(candle_err)?, config(&end_state));
        let v = val_nll(&net);
        if !v.is_finite() || !train_loss.is_finite() {
            return Err(Error::Internal(format!(
                "training diverged at epoch {epoch} (train {train_loss}, validation {v}); try a smaller --learning-rate"
            )));
        }
        history.push((epoch, train_loss, v));
        progress(epoch, train_loss, v);
        epochs_run = epoch;
        if v < best.0 - 1e-6 {
            best = (v, epoch, snapshot(&layers).map_err(candle_err)?);
        } else if epoch - best.1 >= opts.patience {
            break;
        }
    }
    let net = MixtureNet::from_parts(best.2, config(&end_state));
    // NLL of daily log returns (return units) on each part of the target.
    let nll_range = |from: usize, to: usize| net.nll(&r[..to], from);
    let n = r.len();
    let report = TrainReport {
        epochs_run,
        best_epoch: best.1,
        history,
        train_observations: train_rows.len(),
        split: (target.n_train, z_val_end, n),
        nll: (
            nll_range(WARMUP, target.n_train),
            nll_range(target.n_train, z_val_end),
            if z_val_end < n {
                nll_range(z_val_end, n)
            } else {
                f64::NAN
            },
        ),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((net, report))
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
    let partial = dir.join(".model.safetensors.partial");
    candle_core::safetensors::save(&tensors, &partial).map_err(candle_err)?;
    std::fs::rename(&partial, dir.join("model.safetensors")).map_err(|source| Error::Write {
        path: dir.join("model.safetensors"),
        source,
    })?;
    let json = serde_json::to_string_pretty(net.config())
        .map_err(|e| Error::Internal(format!("serialising the config: {e}")))?;
    crate::io::write_atomic(dir.join("config.json"), json.as_bytes())
}
