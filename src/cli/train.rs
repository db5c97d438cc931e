//! `synthmarket train`: train the deep generator. The flags, then
//! [`synthmarket::run::train()`] does the work; the progress bar and the
//! summary are here.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::run::train::{train, TrainOptions, TrainProgress};

const AFTER_HELP: &str = "Trains the deep generator: an autoregressive network whose output is a
3-component Student-t mixture for the next standardised daily log return,
conditioned on exponentially weighted averages of past squared and signed
returns (half-lives 1, 4, 16, 64, 256 days). Maximum likelihood with AdamW in
candle; early stopping on the validation loss.

Nets of near-equal likelihood can differ severalfold in the extremes of
the paths they generate, so each trained net generates paths freely and its
volatility is compared with the volatility it assigns to the real days: if
it runs away (beyond a factor of 2 at some quantile), the next seed is
trained (--seed + 1, ..., at most --candidates nets), and if none holds,
the nearest of near-best validation likelihood is kept.

Each history is split chronologically: the first part trains, the next
--val-fraction validates (early stopping), the last --test-fraction is never
seen and scores the model. The first --data file is the target: validation,
test, the output scale and the generation start come from it; further files
add training examples (each standardised by its own training volatility).

Output (--out DIR): config.json, model.safetensors, metrics.json (losses per
epoch, held-out NLL beside GJR-GARCH-t's, test-period scorecards of the deep
model and the baselines) and MODEL_CARD.md.

A history needs at least 1,000 daily returns to train from scratch. A
shorter one (250 returns or more) is learnt by fine-tuning a trained model:
--init models/sp500 starts from the shipped S&P 500 model's weights, and early
stopping keeps them if no epoch does better on the validation part. A test
part under 100 returns gets no stylized-fact scorecards, only the held-out NLL.

Option chains of the model's paths need its pricing table: run
`synthmarket fit-pricing --model DIR` once after training (about an hour
on 2 cores); without it `simulate --options` fits one in memory each time.

A market of many stocks and their index (--index): --data is a wide panel
(date, then one price column per stock) and --index the index on the same
dates. Each stock is beta times the index plus a residual with its own deep
model, whose volatility also follows the market's; a Student-t copula joins
the innovations. Trains in well under a minute for 20 stocks; the model
card scores the cross-section (correlations, eigenvalues, correlation in
calm and volatile regimes) on 20 synthetic panels as long as the history.

Example:
  synthmarket train --data data/sp500_20stocks_1990_2018.csv --index data/sp500_index_1990_2018.csv --out models/my-panel
  synthmarket train --data data/sp500_daily.csv --data data/nasdaq_daily.csv --out models/mine
  synthmarket simulate --model deep --model-path models/mine --paths 100 --out runs/deep
  synthmarket fit-pricing --model models/mine
  synthmarket train --data local_index.csv --init models/sp500 --out models/local";

/// `synthmarket train`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct TrainCmd {
    /// Price history to learn from (repeat for several; the first is the target)
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Price column of the histories [default: adj_close if present, else close]; names one series of a wide file (e.g. --data data/sp500_20stocks_1990_2018.csv --column AAPL)
    #[arg(long)]
    column: Option<String>,
    /// Output directory
    #[arg(long)]
    out: PathBuf,
    /// Maximum number of epochs
    #[arg(long, default_value_t = TrainOptions::DEFAULT_EPOCHS)]
    epochs: usize,
    /// Early stopping: epochs without a better validation loss
    #[arg(long, default_value_t = TrainOptions::DEFAULT_PATIENCE)]
    patience: usize,
    /// Seed of the initial weights, minibatches and evaluation paths
    #[arg(long, default_value_t = TrainOptions::DEFAULT_SEED)]
    seed: u64,
    /// Hidden layer widths
    #[arg(long, value_delimiter = ',', default_value = HIDDEN)]
    hidden: Vec<usize>,
    /// Minibatch size
    #[arg(long, default_value_t = TrainOptions::DEFAULT_BATCH)]
    batch: usize,
    /// AdamW learning rate
    #[arg(long, default_value_t = TrainOptions::DEFAULT_LEARNING_RATE)]
    learning_rate: f64,
    /// Share of each history used for validation (after the training part)
    #[arg(long, default_value_t = TrainOptions::DEFAULT_VAL_FRACTION)]
    val_fraction: f64,
    /// Share of each history held out for testing (the end)
    #[arg(long, default_value_t = TrainOptions::DEFAULT_TEST_FRACTION)]
    test_fraction: f64,
    /// Keep the early-stopped weights instead of refitting on training and
    /// validation together for the selected number of epochs
    #[arg(long)]
    no_refit: bool,
    /// Paths simulated per model for the test-period scorecards
    #[arg(long, default_value_t = TrainOptions::DEFAULT_EVAL_PATHS)]
    eval_paths: u64,
    /// Single series: most networks to train (seeds --seed, --seed + 1, ...): training stops at the first whose free-running volatility stays within a factor of 2 of the volatility it assigns to the real days; if none does, the nearest of near-best validation likelihood is kept (see MODEL_CARD.md)
    #[arg(long, default_value_t = TrainOptions::DEFAULT_CANDIDATES)]
    candidates: usize,
    /// Market models only: train N index nets (seeds --seed, --seed + 1, ...), let each generate 100 free-running paths as long as the fit days, and keep, among those within the runaway guard of --candidates, the one that matches the most of the noise-aware scorecard's 21 statistics, ties going to the one whose median largest rise and fall are nearest history's (default 1: --seed alone, as models/sp500-panel was trained; the book's market chapter measures the trade-off)
    #[arg(long, value_name = "N")]
    index_candidates: Option<usize>,
    /// Train a market: --data is a wide panel (date, then one price column per stock) and this file is their index on the same dates; writes a market model (panel.json and one net per asset under nets/)
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
    /// Start from a trained model directory (fine-tuning, e.g. --init models/sp500) instead of random weights; needed for histories of 250 to 1,000 returns
    #[arg(long, value_name = "DIR")]
    init: Option<PathBuf>,
    /// Squash the network's features smoothly before the training box: A,B are the scales of the ln averages of z² and of the signed averages (each f enters as A·tanh(f/A), B·tanh(f/B)); "off" (the default) keeps them as they are. With 4,1.5 the S&P 500 seed-42 net's free-running extremes came within history's (other seeds improved less; see the book's "Squashed features"); --init models carry their own; in a market (--index) it applies to the stocks' residual nets (the index net has --index-feature-squash)
    #[arg(long, value_name = "A,B", default_value = "off", value_parser = parse_squash)]
    feature_squash: Squash,
    /// Put the network's ln σ on a variance core: half the ln of a non-negative combination of the moving averages of squared returns (1 to 256-day half-lives) and of the negative part of the short signed averages, so one day's shock moves the next day's variance linearly in its square as in a GJR-GARCH filter; the network adds a correction within a factor e^±0.5 and does not see the 1-day averages; for one series the innovation law's widest component starts heavy-tailed (ν ≈ 4.9; the book's "A heavy start"; a market's nets, the index's included, start near-Gaussian). On since 2026-12-07 for one series: it predicts held-out days better (S&P 500 2016-2018: NLL -3.6172 against -3.5949 without, GJR-GARCH-t -3.6162) and its one-day VaR exceedances cluster less (see the book's "Variance core"); "off" keeps the network's output alone, as models trained before it. Default: on for one series, off for a market's residual nets (--index; on every net the stocks' correlations fell, see the book's market chapter), whose index net has --index-variance-core. --init models carry their own
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    variance_core: Option<OnOff>,
    /// Market models only: put the index net on a variance core (as --variance-core does for one series) [default: on]. The index drives every stock, so its extremes become theirs: with the core and --index-feature-squash 4,1.5 the largest days of the 1990-2018 market's index and stocks came near history's (see the book's market chapter, "The index net's form")
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    index_variance_core: Option<OnOff>,
    /// Market models only: squash the index net's features (as --feature-squash does for one series), "off" to keep them as they are [default: 4,1.5, the scales of models/sp500]
    #[arg(long, value_name = "A,B", value_parser = parse_squash)]
    index_feature_squash: Option<Squash>,
}

/// An `on|off` flag's value.
#[derive(Debug, Clone, Copy)]
struct OnOff(bool);

fn parse_on_off(s: &str) -> std::result::Result<OnOff, String> {
    TrainOptions::parse_variance_core(s).map(OnOff)
}

/// `--feature-squash`'s value ([`TrainOptions::parse_feature_squash`]; a
/// newtype, since clap reads an `Option` field as an optional flag).
#[derive(Debug, Clone, Copy)]
struct Squash(Option<[f64; 2]>);

fn parse_squash(s: &str) -> std::result::Result<Squash, String> {
    TrainOptions::parse_feature_squash(s).map(Squash)
}

/// The default of `--hidden` as the flag takes it:
/// [`TrainOptions::DEFAULT_HIDDEN`] (a test checks they agree).
const HIDDEN: &str = "32,32";

impl TrainCmd {
    /// The library's options for these flags; the model card quotes this
    /// process's command line.
    fn options(&self) -> TrainOptions {
        TrainOptions {
            data: self.data.clone(),
            column: self.column.clone(),
            out: self.out.clone(),
            epochs: self.epochs,
            patience: self.patience,
            seed: self.seed,
            hidden: self.hidden.clone(),
            batch: self.batch,
            learning_rate: self.learning_rate,
            val_fraction: self.val_fraction,
            test_fraction: self.test_fraction,
            refit: !self.no_refit,
            eval_paths: self.eval_paths,
            candidates: self.candidates,
            index_candidates: self
                .index_candidates
                .unwrap_or(TrainOptions::DEFAULT_INDEX_CANDIDATES),
            init: self.init.clone(),
            feature_squash: self.feature_squash.0,
            variance_core: self.variance_core.map(|v| v.0),
            index_form: synthmarket::deep::panel::IndexForm {
                variance_core: self
                    .index_variance_core
                    .map_or(TrainOptions::DEFAULT_INDEX_FORM.variance_core, |v| v.0),
                feature_squash: self
                    .index_feature_squash
                    .map_or(TrainOptions::DEFAULT_INDEX_FORM.feature_squash, |v| v.0),
            },
            command_line: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        }
    }
}

fn run_panel(cmd: TrainCmd, index: PathBuf, quiet: bool) -> Result<()> {
    use synthmarket::deep::panel::PanelProgress;
    let bar = ProgressBar::new(0);
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("training {bar:30} net {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut step = String::new();
    let result = synthmarket::run::train_panel(&cmd.options(), &index, |p| match p {
        PanelProgress::Net { i, of, name } => {
            bar.set_length(of as u64);
            bar.set_position(i as u64);
            bar.set_message(format!("{name}{step}"));
        }
        PanelProgress::Calibrating { k } => {
            step = format!(" (market exponents x{k:.3})");
        }
        PanelProgress::Copula => bar.set_message(format!("copula and variance targets{step}")),
        _ => {}
    });
    bar.finish_and_clear();
    let output = result?;
    print!("{}", output.summary);
    println!(
        "wrote {}/{{panel.json, nets/, metrics.json, MODEL_CARD.md}}",
        output.out.display()
    );
    Ok(())
}

pub fn run(cmd: TrainCmd, quiet: bool) -> Result<()> {
    if let Some(index) = cmd.index.clone() {
        return run_panel(cmd, index, quiet);
    }
    // The market-only flags, each with its single-series counterpart.
    let market_only = [
        (
            "index-candidates",
            cmd.index_candidates.map(|n| n.to_string()),
            "candidates",
        ),
        (
            "index-variance-core",
            cmd.index_variance_core
                .map(|v| if v.0 { "on" } else { "off" }.to_string()),
            "variance-core",
        ),
        (
            "index-feature-squash",
            cmd.index_feature_squash.map(|v| {
                v.0.map_or_else(|| "off".to_string(), |[a, b]| format!("{a},{b}"))
            }),
            "feature-squash",
        ),
    ];
    if let Some((flag, Some(value), single)) = market_only.into_iter().find(|f| f.1.is_some()) {
        return Err(synthmarket::Error::parameter(
            flag,
            value,
            format!("applies to a market model (--index FILE); a single series has --{single}"),
        ));
    }
    let bar = ProgressBar::new(cmd.epochs as u64);
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("training {bar:30} epoch {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut candidate = String::new();
    let result = train(&cmd.options(), |p| match p {
        TrainProgress::Candidate { index, of, seed } => {
            candidate = format!("candidate {index}/{of} (seed {seed}), ");
            bar.set_position(0);
        }
        TrainProgress::Epoch {
            epoch,
            train_nll,
            validation_nll,
        } => {
            bar.set_position(epoch as u64);
            bar.set_message(format!(
                "{candidate}train NLL {train_nll:.4}, validation NLL {validation_nll:.4}"
            ));
        }
        TrainProgress::Evaluating => bar.finish_and_clear(),
        _ => {}
    });
    bar.finish_and_clear();
    let output = result?;
    print!("{}", output.summary);
    println!(
        "wrote {}/{{config.json, model.safetensors, metrics.json, MODEL_CARD.md}}",
        output.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_flag_default_is_the_library_default() {
        let parsed: Vec<usize> = HIDDEN.split(',').map(|w| w.parse().unwrap()).collect();
        assert_eq!(parsed, TrainOptions::DEFAULT_HIDDEN);
    }

    #[test]
    fn variance_core_flag_reads_on_and_off_only() {
        assert!(parse_on_off("on").unwrap().0);
        assert!(!parse_on_off("off").unwrap().0);
        assert!(parse_on_off("yes").is_err());
    }
}
