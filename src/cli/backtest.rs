//! `synthmarket backtest`: forecast backtests against what happened. The
//! flags, then [`synthmarket::run::backtest()`] does the work; the progress
//! bar and the printed table are here.

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::market::parse_iso_date;
use synthmarket::run::backtest::{backtest, BacktestOptions, BacktestProgress};
use synthmarket::run::{ModelKind, TrainProgress};

const AFTER_HELP: &str =
    "Fits (or trains) each model on the history up to --train-to, using nothing
later, then forecasts every later day from the real history before it and
scores the forecasts against what happened:

One day ahead, from every test day:
  VaR at 1 % and 5 %: exceedance counts, Kupiec (1995) proportion of failures,
  Christoffersen (1998) independence and conditional coverage p-values;
  the PIT of the realised return: Kolmogorov-Smirnov and Berkowitz (2001)
  p-values; the mean CRPS (Gneiting & Raftery 2007) in percent log return.
  GBM, GJR-GARCH-t and deep forecast with their exact one-day laws; Heston's
  is simulated (10,000 draws a day).
From rolling origins every --every days: --draws simulated paths per origin,
  the coverage of the central 90 % interval and the PIT KS p-value at each
  of --horizons.

Models: gbm (constant volatility of the training returns), garch
(GJR-GARCH(1,1)-t by maximum likelihood, its variance filtered through the
test days), heston (moments fit, variance state from the GARCH filter), deep
(trained by `synthmarket train`'s defaults on the days up to --train-to, into
REPORT/deep-model; or --model-path of a model whose config shows no data
after --train-to).

Output (--report DIR): backtest.md (the table across models), backtest.csv
(one row per model), backtest.json, one_day.csv (per model and test day:
return, VaRs, PIT, CRPS), and per model fan_<model>.svg, pit_<model>.svg and
exceedances_<model>.svg.

Examples:
  synthmarket backtest --data data/sp500_daily.csv --train-to 2014-12-31 --report bt/sp500
  synthmarket backtest --data data/nasdaq_daily.csv --model garch --model deep \\
      --train-to 2014-12-31 --report bt/nasdaq
  synthmarket backtest --data data/sp500_20stocks_1990_2018.csv --column AAPL \\
      --model garch --train-to 2014-12-31 --report bt/aapl";

/// Which models to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Constant-volatility normal returns (the GBM baseline)
    Gbm,
    /// Heston stochastic volatility
    Heston,
    /// GJR-GARCH(1,1) with Student-t innovations
    Garch,
    /// The deep generator
    Deep,
    /// All four
    All,
}

/// `synthmarket backtest`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct BacktestCmd {
    /// Price history (date plus adj_close/close, or --column)
    #[arg(long)]
    data: PathBuf,
    /// Price column [default: adj_close if present, else close]
    #[arg(long)]
    column: Option<String>,
    /// Models to score (repeat, or comma-separated)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    model: Vec<Which>,
    /// The last day the models may see (YYYY-MM-DD); every later day is forecast
    #[arg(long, value_parser = parse_iso_date, value_name = "DATE")]
    train_to: chrono::NaiveDate,
    /// Report directory (created if missing)
    #[arg(long)]
    report: PathBuf,
    /// Trading days between the rolling origins of the multi-day forecasts
    #[arg(long, default_value_t = BacktestOptions::DEFAULT_EVERY)]
    every: usize,
    /// Horizons in trading days scored from the rolling origins
    #[arg(long, value_delimiter = ',', default_value = "1,5,21")]
    horizons: Vec<usize>,
    /// Simulated paths per rolling origin
    #[arg(long, default_value_t = BacktestOptions::DEFAULT_DRAWS)]
    draws: u64,
    /// Seed of every simulation
    #[arg(long, default_value_t = BacktestOptions::DEFAULT_SEED)]
    seed: u64,
    /// A trained deep model directory to score instead of training one (its data must end by --train-to)
    #[arg(long, value_name = "DIR")]
    model_path: Option<PathBuf>,
}

impl BacktestCmd {
    fn options(&self) -> BacktestOptions {
        let mut models = Vec::new();
        for w in &self.model {
            let add: &[ModelKind] = match w {
                Which::Gbm => &[ModelKind::Gbm],
                Which::Heston => &[ModelKind::Heston],
                Which::Garch => &[ModelKind::Garch],
                Which::Deep => &[ModelKind::Deep],
                Which::All => &[
                    ModelKind::Gbm,
                    ModelKind::Heston,
                    ModelKind::Garch,
                    ModelKind::Deep,
                ],
            };
            for m in add {
                if !models.contains(m) {
                    models.push(*m);
                }
            }
        }
        BacktestOptions {
            data: self.data.clone(),
            column: self.column.clone(),
            models,
            train_to: self.train_to,
            report: self.report.clone(),
            every: self.every,
            horizons: self.horizons.clone(),
            draws: self.draws,
            seed: self.seed,
            model_path: self.model_path.clone(),
            command_line: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        }
    }
}

pub fn run(cmd: BacktestCmd, quiet: bool) -> Result<()> {
    let bar = ProgressBar::new(1);
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = backtest(&cmd.options(), |p| match p {
        BacktestProgress::Training(TrainProgress::Epoch {
            epoch,
            validation_nll,
            ..
        }) => {
            bar.set_prefix("training the deep model");
            bar.set_length(synthmarket::run::TrainOptions::DEFAULT_EPOCHS as u64);
            bar.set_position(epoch as u64);
            bar.set_message(format!("validation NLL {validation_nll:.4}"));
        }
        BacktestProgress::Training(_) => {
            bar.set_prefix("scoring the trained model");
            bar.set_message("");
        }
        BacktestProgress::Forecasting { model, done, total } => {
            bar.set_prefix("forecasting");
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(model);
        }
        _ => {}
    });
    bar.finish_and_clear();
    let report = result?;
    print!("{}", synthmarket::run::backtest::summary(&report));
    println!(
        "wrote {}/{{backtest.md, backtest.csv, backtest.json, one_day.csv, fan_*.svg, pit_*.svg, exceedances_*.svg}}",
        cmd.report.display()
    );
    Ok(())
}
