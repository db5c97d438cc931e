//! The command-line interface: one file per subcommand, each parsing its
//! flags, calling the library and writing the result.

mod backtest;
mod calibrate;
mod check_arbitrage;
mod demo;
mod facts;
mod fit_pricing;
mod fit_pricing_market;
mod hedge;
mod iv;
mod price;
mod simulate;
mod train;
mod validate;

use clap::{Parser, Subcommand};
use synthmarket::error::Result;

const ABOUT: &str = "Synthetic equity markets: reproducible spot paths with their variance \
state, from models calibrated on real histories.";

const LONG_ABOUT: &str = "Synthetic equity markets: reproducible spot paths with their variance \
state, from models calibrated on real histories.

Units everywhere: time in years (1/252 = one trading day), rates, drifts and \
volatilities annualised and continuously compounded, variance annualised \
(0.04 = 20 % volatility).

Typical session:
  synthmarket calibrate gbm --data data/sp500_daily.csv --out sp500-gbm.toml
  synthmarket simulate --config sp500-gbm.toml --paths 10000 --out runs/gbm
  synthmarket simulate --model heston --v0 0.04 --kappa 2 --theta 0.04 --xi 0.5 --rho -0.7 --out runs/heston

Exit codes: 0 success, 1 internal or I/O failure, 2 bad input or usage.";

/// Top-level command line.
#[derive(Debug, Parser)]
#[command(name = "synthmarket", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// No progress bar and no log lines below warnings
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output on stderr (-v info is the default, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole pipeline on shipped defaults: deep, Heston and GARCH markets with chains, scorecards, arbitrage checks and hedges in ./synthmarket-demo
    Demo(demo::DemoCmd),
    /// Simulate spot paths (GBM, correlated GBM, Heston) into DIR/spot.csv and DIR/run.json
    Simulate(Box<simulate::SimulateCmd>),
    /// Fit a model to a real price history and write a config for `simulate --config`
    #[command(subcommand)]
    Calibrate(calibrate::CalibrateCmd),
    /// Price an option file with Black-Scholes-Merton (with greeks) or Heston
    Price(price::PriceCmd),
    /// Implied Black-Scholes-Merton volatilities of an option file's prices
    Iv(iv::IvCmd),
    /// Certify option chains free of static arbitrage (bounds, parity, strike and calendar)
    CheckArbitrage(check_arbitrage::CheckArbitrageCmd),
    /// Stylized facts of a price history or of every path of a spot.csv
    Facts(facts::FactsCmd),
    /// Train the deep generator on real histories and write a model directory
    Train(train::TrainCmd),
    /// Fit a deep model's option-pricing table by nested Monte Carlo and store it (with its accuracy) in the model directory
    FitPricing(fit_pricing::FitPricingCmd),
    /// Sell an option from a simulated market's chain and delta-hedge it on every path; P&L distribution and charts
    Hedge(hedge::HedgeCmd),
    /// Backtest the models as forecasters against the history that followed: VaR, PIT, CRPS, interval coverage
    Backtest(Box<backtest::BacktestCmd>),
    /// Score a synthetic market against a real history: facts, distances, discriminator, memorization audit, charts
    Validate(validate::ValidateCmd),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(cmd) => demo::run(cmd, cli.quiet),
        Command::Simulate(cmd) => simulate::run(*cmd, cli.quiet),
        Command::Calibrate(cmd) => calibrate::run(cmd),
        Command::Price(cmd) => price::run(cmd),
        Command::Iv(cmd) => iv::run(cmd),
        Command::CheckArbitrage(cmd) => check_arbitrage::run(cmd),
        Command::Facts(cmd) => facts::run(cmd),
        Command::Validate(cmd) => validate::run(cmd),
        Command::Backtest(cmd) => backtest::run(*cmd, cli.quiet),
        Command::Hedge(cmd) => hedge::run(cmd, cli.quiet),
        Command::Train(cmd) => train::run(cmd, cli.quiet),
        Command::FitPricing(cmd) => fit_pricing::run(cmd, cli.quiet),
    }
}

/// Numbers in tables, as the library's reports write them.
pub(crate) use synthmarket::io::table_number;

/// Sets up `tracing` on stderr.
pub fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0 | 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SYNTHMARKET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}
