//! Maximum-likelihood training in candle, with a chronological
//! train/validation/test split and early stopping on the validation loss.

use super::features::{FeatureState, CORE_LEN, HALF_LIVES, N_FEATURES};
use super::fit::{candle_err, device, fit, init_core, Fitted, Settings, Stage, Weights, WARMUP};
use super::model::{layer_names, DeepConfig, MixtureNet, CORE_NAME, FORMAT, K, N_OUT, SHAPE_NAME};
use crate::error::{Error, Result};
use crate::market::SpotHistory;
use candle_core::{Device, Tensor};
use serde::Serialize;

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
    /// Put ln σ on a variance core ([`MixtureNet::core_variance`]).
    /// Ignored with [`Self::init`]: a fine-tuned net keeps its own form.
    pub variance_core: bool,
    /// Start the innovation law with its widest component heavy-tailed
    /// (ν ≈ 4.9, [`crate::deep::HEAVY_START_RAW_NU`]) instead of every
    /// component near-Gaussian (ν ≈ 53). Ignored with [`Self::init`].
    pub heavy_start: bool,
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
            variance_core: false,
            heavy_start: false,
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
    /// With a variance core: the epoch of the kept core (its own fit, best
    /// validation loss), before the network's fit on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_epochs: Option<usize>,
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
    let (feature_squash, variance_core) = match &opts.init {
        Some(init) => (init.config().feature_squash, init.config().variance_core),
        None => (opts.feature_squash, opts.variance_core),
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
            .config_values(variance_core),
        feature_bounds: fitted.bounds.clone(),
        feature_squash,
        variance_core,
        core_bounds: None,
        last_price: *first.prices().last().unwrap_or(&1.0),
        data: data.clone(),
        seed: opts.seed,
    };

    let settings = Settings {
        learning_rate: opts.learning_rate,
        weight_decay: opts.weight_decay,
        batch: opts.batch,
        patience: opts.patience,
        seed: opts.seed,
        init: opts.init.as_ref(),
        heavy_start: opts.heavy_start,
    };
    // 1. Selection: fit on the training part, stop early on the validation NLL.
    let selection = Fitted::rows(&parts, feature_squash, variance_core, |n_train, _| n_train);
    // Built once: each epoch's validation net only swaps the weights.
    let selection_config = config_for(&selection);
    let mut history = Vec::new();
    // 1a. With a variance core, the core and the innovation law are fitted
    // first, the network adding nothing (a multi-scale GJR-GARCH with the
    // mixture law, stopped early on the validation NLL); the network is
    // then fitted on the core held fixed. Fitted jointly from the start,
    // the network's many weights absorb the level and the core's weights
    // barely move from their initial values (measured).
    let start_core = opts
        .init
        .as_ref()
        .and_then(|n| n.core().map(<[f64]>::to_vec))
        .unwrap_or_else(init_core);
    let start_law = opts.init.as_ref().map(|n| n.shape().to_vec());
    let core_fit = if variance_core {
        let (w, best, _) = fit(
            &selection,
            &dims,
            &settings,
            &Stage::Core(&start_core, start_law.as_deref()),
            opts.epochs,
            true,
            &dev,
            |_, _, w| {
                assemble(w.clone(), selection_config.clone(), &selection)
                    .nll(&r[..val_end], n_train)
            },
        )?;
        Some((core_of(&w)?, w.1, best))
    } else {
        None
    };
    let stage = match &core_fit {
        Some((core, law, _)) => Stage::OnCore(core, law),
        None => Stage::Net,
    };
    let (weights, best_epoch, epochs_run) = fit(
        &selection,
        &dims,
        &settings,
        &stage,
        opts.epochs,
        true,
        &dev,
        |epoch, train_loss, weights| {
            let net = assemble(weights.clone(), selection_config.clone(), &selection);
            let v = net.nll(&r[..val_end], n_train);
            history.push((epoch, train_loss, v));
            if epoch > 0 {
                progress(epoch, train_loss, v);
            }
            v
        },
    )?;
    let selected = assemble(weights, selection_config, &selection);
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
        let all = Fitted::rows(&parts, feature_squash, variance_core, |n_train, n_val| {
            n_train + n_val
        });
        let refit_core = match &core_fit {
            Some((_, _, core_epochs)) => {
                let stage = Stage::Core(&start_core, start_law.as_deref());
                let (w, _, _) = fit(
                    &all,
                    &dims,
                    &settings,
                    &stage,
                    *core_epochs,
                    false,
                    &dev,
                    |_, _, _| 0.0,
                )?;
                Some((core_of(&w)?, w.1))
            }
            None => None,
        };
        let stage = match &refit_core {
            Some((core, law)) => Stage::OnCore(core, law),
            None => Stage::Net,
        };
        let (w, _, _) = fit(
            &all,
            &dims,
            &settings,
            &stage,
            best_epoch,
            false,
            &dev,
            |_, _, _| 0.0,
        )?;
        let rows = all.rows.len();
        (assemble(w, config_for(&all), &all), rows)
    } else {
        (selected, selection.rows.len())
    };
    let report = TrainReport {
        epochs_run,
        best_epoch,
        core_epochs: core_fit.as_ref().map(|c| c.2),
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

/// The variance core's raw parameters of the weights of a core fit.
fn core_of(w: &Weights) -> Result<Vec<f64>> {
    w.2.clone()
        .ok_or_else(|| Error::Internal("a variance core fit without its core".into()))
}

/// The net of trained weights `w` and `config`; with a variance core, its
/// bounds are the range of the core variance over the rows it was fitted
/// on.
fn assemble(w: Weights, mut config: DeepConfig, fitted: &Fitted) -> MixtureNet {
    if let Some(raw) = &w.2 {
        let weights = super::model::decode_core(raw);
        let (lo, hi) = fitted
            .rows
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), row| {
                let v = super::model::core_variance_of(&weights, &row.2);
                (lo.min(v), hi.max(v))
            });
        config.core_bounds = Some([lo, hi]);
    }
    MixtureNet::from_parts(w.0, w.1, w.2, config)
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
    if let Some(core) = net.core() {
        let core: Vec<f32> = core.iter().map(|v| *v as f32).collect();
        tensors.insert(
            CORE_NAME.to_string(),
            Tensor::from_vec(core, CORE_LEN, &dev).map_err(candle_err)?,
        );
    }
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
