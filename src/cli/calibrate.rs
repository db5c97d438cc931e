use crate::error::Result;
use crate::io::write_atomic;
use crate::market::{SpotHistory, TRADING_DAYS_PER_YEAR};
use crate::sim::GbmEstimate;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `synthmarket calibrate <model>`.
#[derive(Debug, Subcommand)]
pub enum CalibrateCmd {
    /// Maximum-likelihood GBM drift and volatility from a daily price history
    #[command(
        after_help = "Prints the annualised drift mu and volatility sigma with their \
standard errors, and writes a TOML file for `simulate --config` with s0 set to the last price.

Example:
  synthmarket calibrate gbm --data data/sp500_daily.csv --out sp500-gbm.toml
  synthmarket simulate --config sp500-gbm.toml --paths 1000 --out runs/sp500"
    )]
    Gbm(GbmCmd),
}

/// Flags of `calibrate gbm`.
#[derive(Debug, Args)]
pub struct GbmCmd {
    /// Price history: CSV with a `date` column (YYYY-MM-DD) and a price column
    #[arg(long)]
    data: PathBuf,
    /// Price column [default: adj_close if present, else close]
    #[arg(long)]
    column: Option<String>,
    /// Observations per year used to annualise
    #[arg(long, default_value_t = TRADING_DAYS_PER_YEAR)]
    periods_per_year: f64,
    /// Where to write the config (`-` for stdout)
    #[arg(long, short, default_value = "gbm.toml")]
    out: PathBuf,
}

pub fn run(cmd: CalibrateCmd) -> Result<()> {
    match cmd {
        CalibrateCmd::Gbm(c) => gbm(c),
    }
}

fn gbm(cmd: GbmCmd) -> Result<()> {
    let history = SpotHistory::from_csv(&cmd.data, cmd.column.as_deref())?;
    let fit = GbmEstimate::fit(&history, cmd.periods_per_year)?;
    let dates = history.dates();
    let span = format!("{} to {}", dates[0], dates[dates.len() - 1]);
    let toml = format!(
        "# GBM fitted by synthmarket {version} (maximum likelihood) to\n\
         # {file}, column `{col}`, {span}: {n} log returns, {ppy} per year.\n\
         # mu    = {mu:.6} ± {mu_se:.6} (1 s.e.)\n\
         # sigma = {sigma:.6} ± {sigma_se:.6} (1 s.e.)\n\
         # s0 is the last price of the history.\n\
         model = \"gbm\"\n\
         s0 = {s0:?}\n\
         mu = {mu:?}\n\
         sigma = {sigma:?}\n\
         dt = {dt:?}\n",
        version = env!("CARGO_PKG_VERSION"),
        file = cmd.data.display(),
        col = history.column(),
        n = fit.returns,
        ppy = cmd.periods_per_year,
        mu = fit.mu,
        mu_se = fit.mu_se,
        sigma = fit.sigma,
        sigma_se = fit.sigma_se,
        s0 = fit.last_price,
        dt = 1.0 / cmd.periods_per_year,
    );
    println!(
        "GBM maximum-likelihood fit: {} ({}, {span}, {} returns)",
        cmd.data.display(),
        history.column(),
        fit.returns
    );
    println!("  {:<8} {:>12} {:>12}", "param", "estimate", "std.err");
    println!(
        "  {:<8} {:>12.6} {:>12.6}   annualised drift, E[S_T] = S0 e^(mu T)",
        "mu", fit.mu, fit.mu_se
    );
    println!(
        "  {:<8} {:>12.6} {:>12.6}   annualised volatility",
        "sigma", fit.sigma, fit.sigma_se
    );
    println!(
        "  {:<8} {:>12.6}                last price",
        "s0", fit.last_price
    );
    if cmd.out.as_os_str() == "-" {
        print!("{toml}");
    } else {
        write_atomic(&cmd.out, toml.as_bytes())?;
        println!(
            "wrote {} (use: synthmarket simulate --config {} --out DIR)",
            cmd.out.display(),
            cmd.out.display()
        );
    }
    Ok(())
}
