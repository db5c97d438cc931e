//! Forecast backtests (`synthmarket backtest`): each model is fitted (or
//! trained) on a real history up to a date, then asked to forecast every
//! later day from the real history before it, and scored against what
//! happened — the way market-risk models are checked: VaR exceedances
//! (Kupiec 1995; Christoffersen 1998), the probability integral transform
//! (Kolmogorov–Smirnov; Berkowitz 2001), the CRPS (Gneiting & Raftery
//! 2007), and the coverage of simulated intervals at longer horizons.
//!
//! Both faces fill a [`BacktestOptions`] and call [`backtest()`]; the
//! report directory holds `backtest.md`, `backtest.csv`, `backtest.json`,
//! `one_day.csv` and the charts.

mod forecaster;
mod outcome;
mod report;
mod score;

pub use forecaster::{Forecast, Forecaster, ONE_DAY_DRAWS};
pub use outcome::{BacktestReport, ModelBacktest, FAN_QUANTILES};
pub use report::{markdown, summary};
pub use score::{
    score_horizon, score_one_day, HorizonScore, OneDayScore, OneDaySeries, VarScore, INTERVAL,
    VAR_LEVELS,
};

use super::params::ModelKind;
use super::train::{train_histories, TrainOptions, TrainProgress};
use crate::deep::MixtureNet;
use crate::error::{Error, Location, Result};
use crate::forecast::Sample;
use crate::market::SpotHistory;
use crate::sim::{Drift, GarchEstimate, HestonParams};
use chrono::NaiveDate;
use std::path::PathBuf;

/// Fewest test days a backtest scores (a year of trading days: at the 1 %
/// level fewer days leave the exceedance tests without power).
pub const MIN_TEST_DAYS: usize = 250;

/// Fewest training returns for the fitted baselines (GJR-GARCH-t's
/// likelihood over fewer days does not pin its persistence); the deep model
/// has its own floor ([`crate::deep::MIN_RETURNS_COLD`]).
pub const MIN_TRAIN_DAYS: usize = 250;

/// The settings of a backtest, one field per flag of `synthmarket backtest`.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestOptions {
    /// The price history (date plus a price column).
    pub data: PathBuf,
    /// Its price column (`None`: `adj_close` if present, else `close`).
    pub column: Option<String>,
    /// The models to score, in this order.
    pub models: Vec<ModelKind>,
    /// The last day the models may see; every later day is forecast.
    pub train_to: NaiveDate,
    /// The report directory (created if missing).
    pub report: PathBuf,
    /// Days between the rolling origins of the multi-day forecasts.
    pub every: usize,
    /// Horizons (trading days) scored from the rolling origins.
    pub horizons: Vec<usize>,
    /// Simulated paths per origin.
    pub draws: u64,
    /// Seed of every simulation.
    pub seed: u64,
    /// A trained deep model to score instead of training one on the days up
    /// to [`Self::train_to`]; its config must show no data after that day.
    pub model_path: Option<PathBuf>,
    /// The command that started the backtest, quoted in the report.
    pub command_line: Option<String>,
}

impl BacktestOptions {
    /// Default of [`Self::every`].
    pub const DEFAULT_EVERY: usize = 21;
    /// Default of [`Self::horizons`].
    pub const DEFAULT_HORIZONS: [usize; 3] = [1, 5, 21];
    /// Default of [`Self::draws`].
    pub const DEFAULT_DRAWS: u64 = 10_000;
    /// Default of [`Self::seed`].
    pub const DEFAULT_SEED: u64 = 42;

    /// Options backtesting every model on `data` trained up to `train_to`,
    /// with the CLI's defaults.
    pub fn new(data: impl Into<PathBuf>, train_to: NaiveDate, report: impl Into<PathBuf>) -> Self {
        BacktestOptions {
            data: data.into(),
            column: None,
            models: vec![
                ModelKind::Gbm,
                ModelKind::Heston,
                ModelKind::Garch,
                ModelKind::Deep,
            ],
            train_to,
            report: report.into(),
            every: Self::DEFAULT_EVERY,
            horizons: Self::DEFAULT_HORIZONS.to_vec(),
            draws: Self::DEFAULT_DRAWS,
            seed: Self::DEFAULT_SEED,
            model_path: None,
            command_line: None,
        }
    }

    fn check(&self) -> Result<()> {
        if self.models.is_empty() {
            return Err(Error::parameter("model", "none", "name at least one model"));
        }
        if self.every == 0 {
            return Err(Error::parameter("every", 0, "must be at least 1 day"));
        }
        if self.horizons.is_empty() || self.horizons.contains(&0) {
            return Err(Error::parameter(
                "horizons",
                format!("{:?}", self.horizons),
                "give one or more horizons of at least 1 day",
            ));
        }
        if self.draws < 100 {
            return Err(Error::parameter(
                "draws",
                self.draws,
                "at least 100 simulated paths per origin (the 5 % and 95 % quantiles need them)",
            ));
        }
        if self.model_path.is_some() && !self.models.contains(&ModelKind::Deep) {
            return Err(Error::parameter(
                "model-path",
                self.model_path
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                "only the deep model reads a model directory: add --model deep (or all)",
            ));
        }
        Ok(())
    }
}

/// What [`backtest()`] tells its progress callback.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BacktestProgress {
    /// Training the deep model on the days up to the end of training.
    Training(TrainProgress),
    /// Forecasting: `done` of `total` units of work (one unit per model
    /// and test day, then per model and origin).
    Forecasting {
        /// The model at work.
        model: String,
        /// Units done.
        done: u64,
        /// Units in all.
        total: u64,
    },
}

/// The deep model's `config.json` lists each training series as `FILE
/// (COLUMN, FIRST to LAST)`: the last day it saw, if every entry parses.
fn last_day_seen(net: &MixtureNet) -> Option<NaiveDate> {
    net.config()
        .data
        .iter()
        .map(|d| {
            let inner = d.rsplit_once('(')?.1.strip_suffix(')')?;
            let last = inner.rsplit_once(" to ")?.1;
            NaiveDate::parse_from_str(last.trim(), "%Y-%m-%d").ok()
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// Seed of the simulations of model `m` from the state before day `t`.
fn stream(seed: u64, m: usize, t: usize) -> u64 {
    crate::rng::splitmix64(seed ^ crate::rng::splitmix64(((m as u64) << 40) ^ t as u64))
}

/// Fits or trains each model of `opts.models` on the history up to
/// [`BacktestOptions::train_to`], forecasts every later day, scores the
/// forecasts and writes the report directory. Input errors (the file, the
/// dates, a look-ahead model) come before anything is written.
pub fn backtest(
    opts: &BacktestOptions,
    mut progress: impl FnMut(BacktestProgress),
) -> Result<BacktestReport> {
    opts.check()?;
    let history = SpotHistory::from_csv(&opts.data, opts.column.as_deref())?;
    let r = history.log_returns();
    let dates = &history.dates()[1..];
    let n = r.len();
    let n_train = dates.partition_point(|d| *d <= opts.train_to);
    let at = || Location::file(&opts.data).field("train-to");
    if n_train < MIN_TRAIN_DAYS {
        return Err(Error::input(
            at(),
            format!(
                "{} leaves {n_train} training returns (the history starts on {}): the models need at least {MIN_TRAIN_DAYS}",
                opts.train_to,
                history.dates()[0]
            ),
        ));
    }
    if n - n_train < MIN_TEST_DAYS {
        return Err(Error::input(
            at(),
            format!(
                "{} leaves {} test days (the history ends on {}): a backtest needs at least {MIN_TEST_DAYS}",
                opts.train_to,
                n - n_train,
                dates[n - 1]
            ),
        ));
    }
    let max_h = *opts.horizons.iter().max().unwrap_or(&1);
    // Origins: the state before day t (after the close of day t − 1), while
    // a full path of the longest horizon fits in the history.
    let origins: Vec<usize> = (n_train..)
        .step_by(opts.every)
        .take_while(|t| t + max_h <= n)
        .collect();
    if origins.len() < 2 {
        return Err(Error::parameter(
            "horizons",
            max_h,
            format!(
                "the longest horizon leaves {} rolling origin(s) in the {} test days",
                origins.len(),
                n - n_train
            ),
        ));
    }
    let supplied = match &opts.model_path {
        Some(dir) if opts.models.contains(&ModelKind::Deep) => {
            let net = MixtureNet::load(dir)?;
            match last_day_seen(&net) {
                Some(last) if last <= opts.train_to => Some(net),
                Some(last) => {
                    return Err(Error::input(
                        Location::file(dir.join("config.json")).field("data"),
                        format!(
                            "the model was trained on data up to {last}, after --train-to {}: its forecasts would see the future (look-ahead); train one with `synthmarket backtest --model deep` or give a model trained on data up to {}",
                            opts.train_to, opts.train_to
                        ),
                    ))
                }
                None => {
                    return Err(Error::input(
                        Location::file(dir.join("config.json")).field("data"),
                        "cannot tell the last day the model saw (expected entries `FILE (COLUMN, FIRST to LAST)`): refusing a possible look-ahead",
                    ))
                }
            }
        }
        _ => None,
    };
    let training = &r[..n_train];
    let garch_fit = GarchEstimate::fit_returns(training)?;
    let gp = garch_fit.params;
    let mut trained_model = None;
    let mut forecasters = Vec::with_capacity(opts.models.len());
    for kind in &opts.models {
        forecasters.push(match kind {
            ModelKind::Gbm => Forecaster::gbm(training)?,
            ModelKind::Garch => Forecaster::garch(
                gp,
                &r,
                format!(
                    "maximum likelihood on the training returns: mu {:.3e}, omega {:.3e}, alpha {:.4}, gamma {:.4}, beta {:.4}, nu {:.2}; variance filtered through the test days",
                    gp.mu, gp.omega, gp.alpha, gp.gamma, gp.beta, gp.nu
                ),
            ),
            ModelKind::Heston => {
                let (m, v) = crate::stats::mean_var(training);
                let sigma2 = 252.0 * v;
                let drift = Drift::RealWorld {
                    mu: 252.0 * m + 0.5 * sigma2,
                };
                let h = HestonParams::moments_fit(training, &gp, 1.0, drift)?;
                Forecaster::heston(
                    h,
                    &gp,
                    &r,
                    format!(
                        "moments fit on the training returns: theta {:.4}, kappa {:.2}, xi {:.3}, rho {:.2}; v0 each day the GJR-GARCH-t filtered variance × 252",
                        h.theta(), h.kappa(), h.xi(), h.rho()
                    ),
                )
            }
            ModelKind::Deep => {
                let (net, how) = match &supplied {
                    Some(net) => (
                        net.clone(),
                        format!(
                            "{} (given; trained on data up to {})",
                            opts.model_path.as_ref().map_or(String::new(), |p| p.display().to_string()),
                            last_day_seen(net).map_or(String::new(), |d| d.to_string())
                        ),
                    ),
                    None => {
                        let past = history.until(opts.train_to, "train-to")?;
                        let dir = opts.report.join("deep-model");
                        let mut t = TrainOptions::new(vec![opts.data.clone()], &dir);
                        t.command_line = opts.command_line.clone();
                        let out = train_histories(&[past], &t, |p| {
                            progress(BacktestProgress::Training(p))
                        })?;
                        trained_model = Some(dir.clone());
                        (
                            out.net,
                            format!(
                                "trained by `synthmarket train` defaults on the days up to {} (model card in {})",
                                opts.train_to,
                                dir.display()
                            ),
                        )
                    }
                };
                Forecaster::deep(net, &r, format!("{how}; features run through the test days"))
            }
        });
    }
    let test = &r[n_train..];
    let per_model = (test.len() + origins.len()) as u64;
    let total = per_model * forecasters.len() as u64;
    let mut models = Vec::with_capacity(forecasters.len());
    for (m, f) in forecasters.iter().enumerate() {
        let base = m as u64 * per_model;
        let mut laws = Vec::with_capacity(test.len());
        for t in n_train..n {
            laws.push(f.one_day(t, stream(opts.seed, m, t))?);
            if (t - n_train) % 50 == 0 {
                progress(BacktestProgress::Forecasting {
                    model: f.name().to_string(),
                    done: base + (t - n_train) as u64,
                    total,
                });
            }
        }
        let one_day = score_one_day(&laws, test, f.one_day_method())?;
        let mut fans = Vec::with_capacity(origins.len());
        let mut sims: Vec<Vec<Sample>> =
            vec![Vec::with_capacity(origins.len()); opts.horizons.len()];
        for (k, &t) in origins.iter().enumerate() {
            let paths = f.simulate(t, max_h, opts.draws, stream(opts.seed, m, n + t))?;
            fans.push(
                (0..max_h)
                    .map(|k| {
                        let s = Sample::new(
                            "simulated cumulative returns",
                            paths.iter().map(|p| p[k]).collect(),
                        )?;
                        Ok(FAN_QUANTILES.map(|q| s.quantile(q)))
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
            for (j, h) in opts.horizons.iter().enumerate() {
                sims[j].push(Sample::new(
                    "simulated cumulative returns",
                    paths.iter().map(|p| p[h - 1]).collect(),
                )?);
            }
            progress(BacktestProgress::Forecasting {
                model: f.name().to_string(),
                done: base + (test.len() + k + 1) as u64,
                total,
            });
        }
        let horizons = opts
            .horizons
            .iter()
            .zip(&sims)
            .map(|(h, s)| {
                let realised: Vec<f64> =
                    origins.iter().map(|t| r[*t..t + h].iter().sum()).collect();
                score_horizon(*h, s, &realised)
            })
            .collect::<Result<Vec<_>>>()?;
        models.push(ModelBacktest {
            model: f.name().to_string(),
            description: f.description().to_string(),
            one_day,
            horizons,
            crps_ratio_to_gbm: None,
            fans,
        });
    }
    if let Some(gbm) = models
        .iter()
        .find(|m| m.model == "GBM")
        .map(|m| m.one_day.crps)
    {
        for m in &mut models {
            m.crps_ratio_to_gbm = Some(m.one_day.crps / gbm);
        }
    }
    let out = BacktestReport {
        data: format!(
            "{} ({}, {} to {})",
            opts.data.display(),
            history.column(),
            history.dates()[0],
            dates[n - 1]
        ),
        train_to: opts.train_to,
        train_days: n_train,
        test_period: format!(
            "{} to {} ({} days)",
            dates[n_train],
            dates[n - 1],
            n - n_train
        ),
        test_days: n - n_train,
        origins: origins.iter().map(|t| dates[t - 1]).collect(),
        draws: opts.draws,
        seed: opts.seed,
        models,
        trained_model,
        command_line: opts.command_line.clone(),
    };
    report::write(&out, &history, n_train, &origins, &opts.report)?;
    Ok(out)
}
