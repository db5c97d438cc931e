//! Training the deep generator (`synthmarket train`): fit the network on
//! real histories, score it on the held-out test period beside GJR-GARCH-t,
//! GBM and Heston baselines, and write the model directory (`config.json`,
//! `model.safetensors`, `metrics.json`, `MODEL_CARD.md`).
//!
//! Both faces (the CLI, the Python module) fill a [`TrainOptions`] and call
//! [`train()`]; printing the summary is theirs ([`TrainOutput::summary`]),
//! and so is any progress display (the [`TrainProgress`] callback).

use crate::deep::{self, select, DeepGenerator, FeatureState, MixtureNet, TrainReport};
use crate::error::{Error, Result};
use crate::facts::extremes::PathExtremes;
use crate::facts::scorecard::{Scorecard, ScorecardConfig};
use crate::facts::spread::Spread;
use crate::facts::FactsConfig;
use crate::io::write_atomic;
use crate::market::{PathChunk, SpotHistory, TimeGrid};
use crate::sim::{
    garch_log_likelihood, Drift, Driver, Garch, GarchEstimate, Gbm, GbmParams, Heston,
    HestonParams, HestonScheme, PathGenerator,
};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The settings of a training run, one field per flag of `synthmarket
/// train` (the error messages name the flags: `data`, `hidden`,
/// `val-fraction/test-fraction`, `epochs/batch`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Price histories to learn from (date plus `adj_close`/`close`); the
    /// first is the target: validation, test, the output scale and the
    /// generation start come from it, the others add training examples.
    pub data: Vec<PathBuf>,
    /// The price column of every history (`None`: `adj_close` if present,
    /// else `close`); a wide file of several series (one column per
    /// ticker) is read one column at a time.
    pub column: Option<String>,
    /// The model directory written (created if missing); its last component
    /// names the model.
    pub out: PathBuf,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Early stopping: epochs without a better validation loss.
    pub patience: usize,
    /// Seed of the initial weights, minibatches and evaluation paths.
    pub seed: u64,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// Share of each history used for validation (after the training part).
    pub val_fraction: f64,
    /// Share of each history held out for testing (the end).
    pub test_fraction: f64,
    /// Refit on training and validation together for the selected number of
    /// epochs; `false` keeps the early-stopped weights.
    pub refit: bool,
    /// Paths simulated per model for the test-period scorecards.
    pub eval_paths: u64,
    /// Most networks trained, from seeds `seed`, `seed + 1`, …: training
    /// stops at the first whose free-running volatility stays within a
    /// factor of 2 of its filter on the real days, else keeps the nearest
    /// of near-best likelihood ([`crate::deep::select`]). 1 trains `seed`
    /// alone.
    pub candidates: usize,
    /// A market model's index nets, trained from seeds `seed`, `seed + 1`,
    /// … and scored on their own free-running paths; the best is kept
    /// ([`crate::deep::panel::index`]). 1 (the default) trains `seed` alone,
    /// unscored. Single-series training does not use it.
    pub index_candidates: usize,
    /// A trained model directory to start from (fine-tuning) instead of a
    /// random initialisation: its hidden widths must equal [`Self::hidden`];
    /// histories of 250 to 1,000 returns can only be learnt this way.
    pub init: Option<PathBuf>,
    /// Scales `[a, b]` of the smooth squash of the network's features (the
    /// `ln` averages of z² and the signed averages; see the book's "Squashed
    /// features"), or none: the features as they are. In a market it
    /// applies to the stocks' residual nets; the index net has
    /// [`Self::index_form`].
    pub feature_squash: Option<[f64; 2]>,
    /// Put each net's ln σ on a variance core (half the ln of a non-negative
    /// combination of the averages of z² and of the negative days' z²,
    /// [`deep::MixtureNet::core_variance`]) plus the network's bounded
    /// output, instead of the network's output alone. `None`: the default
    /// of the run, [`Self::DEFAULT_VARIANCE_CORE`] for one series,
    /// [`Self::DEFAULT_MARKET_VARIANCE_CORE`] for a market's residual nets
    /// (its index net has [`Self::index_form`]).
    pub variance_core: Option<bool>,
    /// A market's index net's variance core and feature squash
    /// (single-series training does not use it).
    pub index_form: deep::panel::IndexForm,
    /// The command that started the run, quoted in `MODEL_CARD.md` (the CLI
    /// gives its command line); `None`: the card quotes none.
    pub command_line: Option<String>,
}

impl TrainOptions {
    /// Default of [`Self::epochs`].
    pub const DEFAULT_EPOCHS: usize = 300;
    /// Default of [`Self::patience`].
    pub const DEFAULT_PATIENCE: usize = 30;
    /// Default of [`Self::seed`].
    pub const DEFAULT_SEED: u64 = 42;
    /// Default of [`Self::hidden`]: two layers of 32 units.
    pub const DEFAULT_HIDDEN: [usize; 2] = [32, 32];
    /// Default of [`Self::batch`].
    pub const DEFAULT_BATCH: usize = 256;
    /// Default of [`Self::learning_rate`].
    pub const DEFAULT_LEARNING_RATE: f64 = 3e-3;
    /// Default of [`Self::val_fraction`].
    pub const DEFAULT_VAL_FRACTION: f64 = 0.15;
    /// Default of [`Self::test_fraction`].
    pub const DEFAULT_TEST_FRACTION: f64 = 0.15;
    /// Default of [`Self::refit`].
    pub const DEFAULT_REFIT: bool = true;
    /// Default of [`Self::eval_paths`].
    pub const DEFAULT_EVAL_PATHS: u64 = 100;
    /// Default of [`Self::candidates`]: a few seconds each, and only
    /// trained while the earlier ones run away ([`crate::deep::select`]).
    pub const DEFAULT_CANDIDATES: usize = 8;
    /// Default of [`Self::index_candidates`]: one net, as the shipped
    /// market model was trained (the book's market chapter measures what
    /// more candidates change).
    pub const DEFAULT_INDEX_CANDIDATES: usize = 1;
    /// Default of [`Self::variance_core`] for one series: on, measured in
    /// the book's "Variance core" section (held-out likelihood, the
    /// 22-series table of issue 36, the one-day VaR backtests).
    pub const DEFAULT_VARIANCE_CORE: bool = true;
    /// Default of [`Self::variance_core`] for a market's residual nets:
    /// off. With it on every net, the stocks' clustering comes right but
    /// the market's correlations fall and the high-vol decile misses (the
    /// book's market chapter, "The index net's form").
    pub const DEFAULT_MARKET_VARIANCE_CORE: bool = false;
    /// Default of [`Self::index_form`]: on a variance core, with the
    /// feature squash of the single-series S&P 500 model (`models/sp500`,
    /// 4,1.5); measured in the book's market chapter ("The index net's
    /// form": the index's largest days near history's, the stocks' widest
    /// days down severalfold, every cross-section fact still matched).
    pub const DEFAULT_INDEX_FORM: deep::panel::IndexForm = deep::panel::IndexForm {
        variance_core: true,
        feature_squash: Some([4.0, 1.5]),
    };
    /// AdamW weight decay (not a setting).
    pub const WEIGHT_DECAY: f64 = 1e-4;

    /// Options training on the histories in `data` (the first is the target)
    /// into the model directory `out`, with the CLI's defaults.
    pub fn new(data: Vec<PathBuf>, out: impl Into<PathBuf>) -> Self {
        TrainOptions {
            data,
            column: None,
            out: out.into(),
            epochs: Self::DEFAULT_EPOCHS,
            patience: Self::DEFAULT_PATIENCE,
            seed: Self::DEFAULT_SEED,
            hidden: Self::DEFAULT_HIDDEN.to_vec(),
            batch: Self::DEFAULT_BATCH,
            learning_rate: Self::DEFAULT_LEARNING_RATE,
            val_fraction: Self::DEFAULT_VAL_FRACTION,
            test_fraction: Self::DEFAULT_TEST_FRACTION,
            refit: Self::DEFAULT_REFIT,
            eval_paths: Self::DEFAULT_EVAL_PATHS,
            candidates: Self::DEFAULT_CANDIDATES,
            index_candidates: Self::DEFAULT_INDEX_CANDIDATES,
            init: None,
            feature_squash: None,
            variance_core: None,
            index_form: Self::DEFAULT_INDEX_FORM,
            command_line: None,
        }
    }

    /// Parses `--feature-squash`'s value: `off`, or two positive scales
    /// `A,B` (the [`Self::feature_squash`] they give).
    pub fn parse_feature_squash(s: &str) -> std::result::Result<Option<[f64; 2]>, String> {
        if s == "off" {
            return Ok(None);
        }
        let v: Vec<f64> = s
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .unwrap_or_default();
        match v[..] {
            [a, b] if a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0 => Ok(Some([a, b])),
            _ => Err(format!(
                "{s:?}: give two positive scales A,B, e.g. 4,1.5, or off"
            )),
        }
    }

    /// Parses `--variance-core`'s value, `on` or `off` (the
    /// [`Self::variance_core`] it gives).
    pub fn parse_variance_core(s: &str) -> std::result::Result<bool, String> {
        match s {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(format!("{s:?}: give on or off")),
        }
    }

    /// The model's name: the last component of [`Self::out`], or `model`.
    pub fn model_name(&self) -> String {
        self.out
            .file_name()
            .map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// The settings [`deep::train`] takes (without the model to start from).
    fn deep_options(&self) -> deep::TrainOptions {
        let variance_core = self.variance_core.unwrap_or(Self::DEFAULT_VARIANCE_CORE);
        deep::TrainOptions {
            init: None,
            name: self.model_name(),
            hidden: self.hidden.clone(),
            epochs: self.epochs,
            patience: self.patience,
            batch: self.batch,
            learning_rate: self.learning_rate,
            weight_decay: Self::WEIGHT_DECAY,
            val_fraction: self.val_fraction,
            test_fraction: self.test_fraction,
            seed: self.seed,
            refit: self.refit,
            feature_squash: self.feature_squash,
            variance_core,
            // A core model's law starts heavy; models without the core
            // (`models/sp500`, `--variance-core off`) train as before it, so
            // their cards' commands still reproduce them.
            heavy_start: variance_core,
        }
    }
}

/// Fewest test-period returns for the scorecards: the fact battery's 100
/// and the discriminator's 125.
pub const MIN_TEST_RETURNS: usize = crate::facts::scorecard::MIN_REAL_RETURNS;

/// What [`train()`] tells its progress callback.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TrainProgress {
    /// An epoch of the selection run finished (epochs count from 1 up to at
    /// most [`TrainOptions::epochs`]).
    Epoch {
        /// The epoch.
        epoch: usize,
        /// Training NLL (standardised returns) of the epoch.
        train_nll: f64,
        /// Validation NLL per day (daily log returns) after the epoch.
        validation_nll: f64,
    },
    /// Training candidate `index` of `of` (from 1) starts, from `seed`;
    /// its epochs follow.
    Candidate {
        /// The candidate, from 1.
        index: usize,
        /// The most that may be trained ([`TrainOptions::candidates`]);
        /// training stops at the first that passes the check.
        of: usize,
        /// Its seed.
        seed: u64,
    },
    /// Training is over; the evaluation against the baselines starts (no
    /// more epochs follow).
    Evaluating,
}

pub use super::train_metrics::{LongPaths, ModelScorecard, TrainMetrics};

/// What [`train()`] produced (and wrote into [`Self::out`]).
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The trained network (as saved in the model directory).
    pub net: MixtureNet,
    /// What `metrics.json` holds.
    pub metrics: TrainMetrics,
    /// The summary `synthmarket train` prints ([`TrainMetrics::summary`]).
    pub summary: String,
    /// The model directory: `config.json`, `model.safetensors`,
    /// `metrics.json` and `MODEL_CARD.md`.
    pub out: PathBuf,
}

/// Trains the deep generator on the histories in `opts.data`, scores it on
/// the first history's test period beside GJR-GARCH-t, GBM and Heston
/// baselines (each fitted on the training and validation days), and writes
/// the model directory [`TrainOptions::out`]. `progress` hears of each
/// epoch, then of the start of the evaluation. Nothing goes to stdout; one
/// `tracing` info line follows training.
pub fn train(opts: &TrainOptions, progress: impl FnMut(TrainProgress)) -> Result<TrainOutput> {
    let histories: Vec<SpotHistory> = opts
        .data
        .iter()
        .map(|p| SpotHistory::from_csv(p, opts.column.as_deref()))
        .collect::<Result<_>>()?;
    train_histories(&histories, opts, progress)
}

/// [`train()`] on histories already in memory (the first is the target;
/// [`TrainOptions::data`] and [`TrainOptions::column`] are not read): what
/// `synthmarket backtest` uses to train on the days up to `--train-to` only.
pub fn train_histories(
    histories: &[SpotHistory],
    opts: &TrainOptions,
    mut progress: impl FnMut(TrainProgress),
) -> Result<TrainOutput> {
    if opts.candidates == 0 {
        return Err(Error::parameter(
            "candidates",
            0,
            "train at least one network",
        ));
    }
    let init = opts.init.as_deref().map(MixtureNet::load).transpose()?;
    let target = histories
        .first()
        .ok_or_else(|| Error::parameter("data", "none", "give at least one history"))?;
    let r = target.log_returns();
    let mut fits = Vec::with_capacity(opts.candidates);
    let mut checks = Vec::with_capacity(opts.candidates);
    for c in 0..opts.candidates {
        let seed = opts.seed.wrapping_add(c as u64);
        progress(TrainProgress::Candidate {
            index: c + 1,
            of: opts.candidates,
            seed,
        });
        let deep_opts = deep::TrainOptions {
            init: init.clone(),
            seed,
            ..opts.deep_options()
        };
        let (net, report) =
            deep::train(histories, &deep_opts, |epoch, train_nll, validation_nll| {
                progress(TrainProgress::Epoch {
                    epoch,
                    train_nll,
                    validation_nll,
                });
            })?;
        // The part the final weights were fitted on.
        let fit_end = if report.refit {
            report.split.1
        } else {
            report.split.0
        };
        let check = select::volatility_check(&net, &r[..fit_end], opts.seed)?;
        let within = check.distance <= select::GUARD;
        fits.push((seed, net, report));
        checks.push(check);
        if within {
            break;
        }
    }
    let seeds: Vec<u64> = fits.iter().map(|f| f.0).collect();
    let validation: Vec<&[f64]> = fits
        .iter()
        .map(|f| f.2.validation_log_likelihoods.as_slice())
        .collect();
    let (candidates, chosen) = select::choose(&seeds, &validation, checks);
    let (_, net, report) = fits.swap_remove(chosen);
    progress(TrainProgress::Evaluating);
    tracing::info!(
        "kept the net of seed {} of {} candidates; it trained {} epochs in {:.1} s (best: epoch {})",
        seeds[chosen],
        seeds.len(),
        report.epochs_run,
        report.seconds,
        report.best_epoch
    );
    let metrics = evaluate(target, &net, report, candidates, opts)?;
    let card = model_card(&net, &metrics, opts);
    deep::save(&net, &opts.out)?;
    let json = serde_json::to_string_pretty(&metrics)
        .map_err(|e| Error::Internal(format!("serialising metrics: {e}")))?;
    write_atomic(opts.out.join("metrics.json"), json.as_bytes())?;
    write_atomic(opts.out.join("MODEL_CARD.md"), card.as_bytes())?;
    Ok(TrainOutput {
        net,
        summary: metrics.summary(),
        metrics,
        out: opts.out.clone(),
    })
}

/// Daily log returns of `paths` paths of `g` over `steps` steps (one
/// vector per path), as the test-period scorecards use them.
pub fn simulate_returns<G: PathGenerator>(
    g: &G,
    seed: u64,
    paths: u64,
    steps: usize,
) -> Result<Vec<Vec<f64>>> {
    Ok(Driver::new(seed, paths)
        .collect(g, steps, |c: &PathChunk| {
            (0..c.paths())
                .map(|p| {
                    let s: Vec<f64> = c.spot_series(p, 0).collect();
                    s.windows(2)
                        .map(|w| (w[1] / w[0]).ln())
                        .collect::<Vec<f64>>()
                })
                .collect::<Vec<_>>()
        })?
        .into_iter()
        .flatten()
        .collect())
}

/// Held-out NLL beside GJR-GARCH-t's, and test-period scorecards of the deep
/// model and the baselines (each fitted on the training and validation part).
fn evaluate(
    h: &SpotHistory,
    net: &MixtureNet,
    report: TrainReport,
    candidates: Vec<select::Candidate>,
    opts: &TrainOptions,
) -> Result<TrainMetrics> {
    let r = h.log_returns();
    let (n_train, test_from, n) = report.split;
    let dates = &h.dates()[1..];
    let fit_part = &r[..test_from];
    let garch = GarchEstimate::fit_returns(fit_part)?;
    let (ll_all, _) = garch_log_likelihood(&garch.params, &r);
    let (ll_fit, s2_end) = garch_log_likelihood(&garch.params, fit_part);
    let test = &r[test_from..];
    let test_nll_garch = -(ll_all - ll_fit) / test.len() as f64;
    let test_nll_deep = report.nll.2;
    let steps = test.len();
    let grid = TimeGrid::new(steps, 1.0 / 252.0)?;
    let s0 = h.prices()[test_from];
    let (mu_fit, var_fit) = crate::stats::mean_var(fit_part);
    let sigma = (252.0 * var_fit).sqrt();
    let mu = 252.0 * mu_fit + 0.5 * sigma * sigma;
    let cfg = ScorecardConfig {
        seed: opts.seed,
        ..ScorecardConfig::default()
    };
    let training = &r[..n_train];
    let score =
        |model: &str, description: String, paths: Vec<Vec<f64>>| -> Result<ModelScorecard> {
            Ok(ModelScorecard {
                model: model.to_string(),
                description,
                spread: Spread::compute(test, &paths, &FactsConfig::default())?,
                card: Scorecard::compute(test, training, test, &paths, &cfg)?,
            })
        };
    // The deep model starts from the state at the start of the test period.
    let scale = net.config().scale;
    let z_fit: Vec<f64> = fit_part.iter().map(|x| x / scale).collect();
    let deep_net = net.with_initial_state(&FeatureState::after(&z_fit));
    let deep_gen = DeepGenerator::new(deep_net, Some(s0), &grid)?;
    let p = garch.params;
    let persistence = p.persistence();
    let heston = HestonParams::moments_fit(fit_part, &p, s0, Drift::RealWorld { mu })?;
    let (seed, paths) = (opts.seed, opts.eval_paths);
    // A test period too short for the fact battery gets no scorecards (the
    // summary and the model card say so); the held-out NLLs remain.
    let scorecards = if test.len() < MIN_TEST_RETURNS {
        Vec::new()
    } else {
        vec![
        score(
            "deep",
            format!("{} (this model), from the state on {}", net.config().name, dates[test_from]),
            simulate_returns(&deep_gen, seed, paths, steps)?,
        )?,
        score(
            "GJR-GARCH-t",
            format!(
                "fitted on the same days: gamma {:.4}, beta {:.4}, nu {:.2}; from the filtered variance on {}",
                p.gamma, p.beta, p.nu, dates[test_from]
            ),
            simulate_returns(&Garch::new(p, s0, Some(252.0 * s2_end), &grid)?, seed, paths, steps)?,
        )?,
        score(
            "GBM",
            format!("fitted on the same days: mu {mu:.4}, sigma {sigma:.4}"),
            simulate_returns(&Gbm::new(GbmParams::new(s0, Drift::RealWorld { mu }, sigma)?, &grid), seed, paths, steps)?,
        )?,
        score(
            "Heston",
            format!(
                "moments fit on the same days: theta = v0 = {:.4} (sample variance), kappa {:.2} (GARCH persistence {persistence:.4}), xi {:.3} (excess kurtosis), rho {:.2} (return against GARCH variance change)",
                heston.theta(), heston.kappa(), heston.xi(), heston.rho()
            ),
            simulate_returns(&Heston::new(heston, HestonScheme::Qe, &grid), seed, paths, steps)?,
        )?,
        ]
    };
    // Long free-running paths from the end of the history (the net's own
    // initial state), as long as the whole history.
    let long_paths = if r.len() < MIN_TEST_RETURNS {
        None
    } else {
        let grid = TimeGrid::new(r.len(), 1.0 / 252.0)?;
        let g = DeepGenerator::new(net.clone(), None, &grid)?;
        let paths = simulate_returns(&g, seed, LongPaths::PATHS, r.len())?;
        Some(LongPaths {
            seed,
            scale: net.config().scale,
            extremes: PathExtremes::of(&paths)?,
            spread: Spread::compute(&r, &paths, &FactsConfig::default())?,
        })
    };
    Ok(TrainMetrics {
        long_paths,
        candidates,
        test_nll_deep,
        test_nll_garch,
        garch_fit_on: format!(
            "{} to {} ({} returns)",
            dates[0],
            dates[test_from - 1],
            test_from
        ),
        test_period: format!(
            "{} to {} ({} returns)",
            dates[test_from],
            dates[n - 1],
            n - test_from
        ),
        report,
        scorecards,
    })
}

/// The text of `MODEL_CARD.md`.
fn model_card(net: &MixtureNet, m: &TrainMetrics, opts: &TrainOptions) -> String {
    let c = net.config();
    let r = &m.report;
    let mut s = String::new();
    let _ = writeln!(s, "# Model card: {}\n", c.name);
    let _ = writeln!(
        s,
        "Written by `synthmarket train` {}.\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "## Data\n");
    for d in &c.data {
        let _ = writeln!(s, "- {d}");
    }
    let _ = writeln!(
        s,
        "\nChronological split of each series: training (first {:.0} %), validation ({:.0} %, early stopping), test ({:.0} %, never seen in training). Target series: test period {}; GJR-GARCH-t and the baselines are fitted on {}.\n",
        100.0 * (1.0 - opts.val_fraction - opts.test_fraction),
        100.0 * opts.val_fraction,
        100.0 * opts.test_fraction,
        m.test_period,
        m.garch_fit_on
    );
    let _ = writeln!(s, "## Architecture\n");
    let _ = writeln!(
        s,
        "An autoregressive model of the daily log return r_t = {scale:.6} · z_t (the scale is the training volatility): z_t = σ_t (μ_t + ε_t). An MLP ({nf} inputs → {hidden} ReLU → 2 outputs) plus a linear skip from the inputs gives μ_t (bounded by ±0.1 through tanh) and ln σ_t; ε_t follows one {k}-component Student-t mixture (weights, locations, scales and ν > 4 learnt: finite kurtosis, as the GJR-GARCH-t fit of ν ≈ 10 on the same days supports) shared by all days. Inputs: ln of exponentially weighted averages of z² and normalised averages of z at half-lives {hl:?} days, clamped to the box seen in training.\n\nWhy this shape, against what the generator must do:\n\n- **Fat tails are learnt, not assumed.** They come from the t mixture (a network pushing Gaussian noise through Lipschitz maps cannot make power tails; Wiese et al. 2020) and from the volatility it learns; the mixture starts near-Gaussian (ν ≈ 53; trained from scratch on a variance core, its widest component starts at ν ≈ 4.9, since ν is weakly identified and from near-Gaussian starts the fit stayed light-tailed), and a model trained on GBM returns generates excess kurtosis near 0 (a test).\n- **Clustering with slow decay, and leverage.** Averages at five scales from 1 to 256 days approximate the power-law-like decay of the |r| autocorrelation that a single GARCH recursion cannot; the signed averages carry the leverage effect.\n- **Why one innovation law for all days.** When every mixture parameter depended on the state, the fit placed narrow components at precise rebound locations after given patterns (near-deterministic next-day returns that a generator then replays); the state now drives what the data identify well (volatility and a small drift).\n- **Stable long paths.** Inputs are clamped to the training box, so a generated path never asks the network about states it has not seen, and paths of any length stay stationary.\n- **Fast, reproducible training and generation.** Features are fixed recursions of the data, so training is a feed-forward fit over all days (about a second on 2 cores) rather than backpropagation through time; generation is one small MLP evaluation per path and day in plain f64 Rust, with randomness from the project's per-path seeded streams (candle's CPU RNG cannot be seeded), so paths do not depend on batching or threads.\n- **A variance state for pricing.** The one-step conditional variance of the mixture, × 252, is the path's `variance` column (a Monte-Carlo test checks it).\n",
        scale = c.scale,
        nf = deep::N_FEATURES,
        hidden = c.hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(" → "),
        k = 3,
        hl = c.half_lives,
    );
    let _ = writeln!(s, "## Training\n");
    let _ = writeln!(
        s,
        "Maximum likelihood, AdamW (lr {}, weight decay 1e-4), minibatch {}, seed {}. Selection run on the training part: {} epochs, best validation NLL at epoch {} (patience {}). {} {:.1} s wall clock for both runs on this machine ({} threads available; `synthmarket train` including the evaluation below takes a few seconds more).\n{}",
        opts.learning_rate,
        opts.batch,
        c.seed,
        r.epochs_run,
        r.best_epoch,
        opts.patience,
        if r.refit {
            format!(
                "Final fit: the same initialisation trained for {} epochs on the training and validation parts together ({} observations), so the model knows the regime just before the test period as a GARCH fitted on the same days does.",
                r.best_epoch, r.final_observations
            )
        } else {
            format!("The selection run's weights are kept ({} observations).", r.train_observations)
        },
        r.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        opts.command_line
            .as_ref()
            .map_or_else(String::new, |line| format!("\n`{line}`\n")),
    );
    if let Some(kept) = m.candidates.iter().find(|c| c.chosen) {
        let _ = writeln!(
            s,
            "Free-running check: nets of near-equal validation likelihood can differ severalfold in the extremes of the paths they generate, because one-step likelihood has almost no data in the states of the top 0.1 % of volatility. So the net's annualised volatility along {} paths it generates freely from the start of the fitted days, as many days long, is compared with the volatility it assigns to the real days (its filter) at the quantiles below. Candidates are trained from seed {} on (at most {}) until one stays within a factor of 2 at every quantile (largest |log ratio| ≤ ln 2); if none does, the nearest of those whose validation log-likelihood is within {} standard errors (paired daily difference) of the best is kept. Kept: seed {}{}.\n\n{}",
            deep::select::CHECK_PATHS,
            opts.seed,
            opts.candidates,
            deep::select::ADMISSIBLE_SE,
            kept.seed,
            if m.candidates.len() == 1 {
                ", the first"
            } else {
                ""
            },
            m.candidates_table()
        );
    }
    if let Some([a, b]) = net.config().feature_squash {
        let _ = writeln!(
            s,
            "Squashed features: before the box, each ln average of z² enters as {a}·tanh(f/{a}) and each normalised signed average as {b}·tanh(f/{b}), in training and generation alike: the network's response in the sparse corners of the feature space is compressed towards what it learnt nearer the centre, which damps the feedback of its free-running volatility on itself (measured on the S&P 500 in the book's section on squashed features). The returns' law itself is not cut: the tail comes from the Student-t mixture scaled by the learnt volatility.\n"
        );
    }
    if let Some(core) = net.core() {
        let w: Vec<String> = core
            .iter()
            .map(|v| format!("{:.3}", deep::softplus(*v)))
            .collect();
        let _ = writeln!(
            s,
            "Variance core: ln σ is half the ln of a core variance plus the network's correction, bounded to ±{} (σ scaled by 0.61 to 1.65). The core is a non-negative combination of 1, the moving averages of z² and those of z² on the negative days only, at half-lives {:?} days — an ARCH(∞) variance with a leverage half, as in GJR-GARCH, whose kernel mixes five exponentials. Weights (constant; z² by half-life; negative days' z² by half-life): {}; {}; {}. It is fitted first with the innovation law (the network adding nothing; its selection run kept epoch {}, early-stopped on the validation NLL), then held while the network is fitted on it; the network does not see the 1-day averages, so the last day's shock moves σ through the core (linearly in its square) and the slower averages. {}\n",
            deep::CORE_CORRECTION,
            deep::HALF_LIVES,
            w[0],
            w[1..6].join(", "),
            w[6..].join(", "),
            r.core_epochs
                .map_or_else(|| "–".to_string(), |e| e.to_string()),
            net.config().core_bounds.map_or_else(
                || "The core is not bounded.".to_string(),
                |[lo, hi]| format!("The core variance is held to [{lo:.3}, {hi:.3}], its range over the fitted days, as the features are held to their box.")
            )
        );
    }
    if let Some(init) = &opts.init {
        let _ = writeln!(
            s,
            "Fine-tuned: both runs start from the weights and innovation law of {} instead of a random initialisation (epoch 0 of the selection run is that model on this history's validation part; if no epoch beats it, its weights are kept).\n",
            init.display()
        );
    }
    let _ = writeln!(s, "## Held-out scores\n");
    let _ = writeln!(
        s,
        "Negative log-likelihood per day of daily log returns (lower is better): train {:.4}, validation {:.4}, **test {:.4}**; GJR-GARCH-t fitted on the same days, same test period: **{:.4}**. {}\n",
        r.nll.0,
        r.nll.1,
        m.test_nll_deep,
        m.test_nll_garch,
        if m.test_nll_deep < m.test_nll_garch {
            "The deep model predicts the test period better than GJR-GARCH-t."
        } else {
            "GJR-GARCH-t predicts the test period better than the deep model."
        }
    );
    if m.scorecards.is_empty() {
        let _ = writeln!(
            s,
            "Test period {}: {}",
            m.test_period,
            TrainMetrics::TOO_SHORT
        );
    } else {
        let _ = writeln!(
            s,
            "Scorecards on the test period ({} paths per model of the test period's length, each model started from the test period's first day; real = the test period; memorization audit against the training part):\n",
            opts.eval_paths
        );
        s.push_str(&m.table());
        let _ = writeln!(
            s,
            "\nNoise-aware scorecard (issue 36's criterion: where each statistic of the test period falls among the model's own paths of that length; a statistic matches at p ≥ 0.05):\n\n{}",
            m.spread_table()
        );
        for e in &m.scorecards {
            let _ = writeln!(s, "\n- **{}**: {}", e.model, e.description);
        }
        let _ = writeln!(
            s,
            "\nChecks against the baselines (computed from the table):\n\n{}\nRead the tail and kurtosis rows with their noise in mind: the real figures come from one test period, and the spread of each statistic across synthetic paths is in metrics.json (`statistics`, `synthetic_sd`).",
            m.checks_text()
        );
    }
    if let Some(l) = &m.long_paths {
        let _ = writeln!(s, "\n## Long paths: extremes and memory\n");
        s.push_str(&l.card_section());
    }
    let _ = writeln!(s, "\n## Intended use and limits\n");
    let _ = writeln!(
        s,
        "Synthetic daily index returns with realistic stylized facts for backtests, hedging studies and validation of risk models. Not a forecast: the model knows nothing beyond the training series, has no regime shifts, crashes or calendar effects beyond what the data showed, and is daily only. It is trained on one index history (plus any extra series given); using it for single stocks or other frequencies is outside its design. Its tail is modelled, not clipped: each day's return is a draw of the Student-t mixture times the volatility state (the long-path section above measures the extremes this gives); the generator only guards against numeric overflow, at ±40 training standard deviations (the long-path section gives the largest day in those units)."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_deep_trainers_and_the_name_is_the_directorys() {
        let opts = TrainOptions::new(vec!["a.csv".into()], "models/mine");
        let ours = opts.deep_options();
        let theirs = deep::TrainOptions::default();
        assert_eq!(ours.name, "mine");
        assert_eq!(ours.hidden, theirs.hidden);
        assert_eq!(
            (
                ours.epochs,
                ours.patience,
                ours.batch,
                ours.seed,
                ours.refit
            ),
            (
                theirs.epochs,
                theirs.patience,
                theirs.batch,
                theirs.seed,
                theirs.refit
            )
        );
        assert_eq!(
            (
                ours.learning_rate,
                ours.weight_decay,
                ours.val_fraction,
                ours.test_fraction
            ),
            (
                theirs.learning_rate,
                theirs.weight_decay,
                theirs.val_fraction,
                theirs.test_fraction
            )
        );
        assert_eq!(TrainOptions::new(vec![], "/").model_name(), "model");
    }

    #[test]
    fn a_missing_history_is_an_error_before_any_epoch() {
        let opts = TrainOptions::new(vec!["/nonexistent/prices.csv".into()], "unused");
        let mut heard = 0;
        let err = train(&opts, |_| heard += 1).unwrap_err();
        assert!(matches!(err, Error::Read { .. }), "{err}");
        assert_eq!(heard, 0);
        assert!(!std::path::Path::new("unused").exists());
    }
}
