//! `synthmarket calibrate`: fit GBM or GJR-GARCH-t to a price history, or
//! Heston to an option file's surface ([`synthmarket::run::calibrate`]),
//! print the fit and write a config for `simulate --config`.

use clap::{Args, Subcommand};
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::io::write_atomic;
use synthmarket::market::{SpotHistory, TRADING_DAYS_PER_YEAR};
use synthmarket::run::calibrate::{calibrate_heston_file, garch_config_toml, gbm_config_toml};
use synthmarket::sim::{GarchEstimate, GbmEstimate};

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
    /// Heston parameters fitted to an implied-volatility surface (Levenberg-Marquardt)
    #[command(after_help = "Input columns (any order; others ignored):
  spot,strike,maturity,rate,dividend   per quote (rates may differ by maturity)
  implied_vol                          the market implied vol (0.2 = 20 %), or instead
  option_type,price                    a price, converted to its implied vol

Minimises the sum of squared implied-vol errors over v0, kappa, theta, xi, rho
within bounds (v0, theta in [1e-4, 2], kappa in [0.01, 20], xi in [0.01, 5],
rho in [-0.999, 0.999]); prints the fit's RMSE in vol points and writes a
config for `simulate --config` (s0, rate and dividend from the first quote).

Example:
  synthmarket calibrate heston --input surface.csv --out heston.toml
  synthmarket simulate --config heston.toml --options --out runs/heston")]
    Heston(HestonCmd),
    /// GJR-GARCH(1,1) with Student-t innovations by maximum likelihood on daily log returns
    #[command(
        after_help = "Prints the daily parameters with standard errors (inverse Hessian), the
persistence and the annualised long-run volatility, and writes a config for
`simulate --model garch --config` with s0 the last price and v0 the annualised
conditional variance for the day after the sample.

Model: r_t = mean + e_t, e_t = s_t z_t (z_t Student-t, unit variance),
s_t^2 = omega + (alpha + gamma 1{e_(t-1) < 0}) e_(t-1)^2 + beta s_(t-1)^2.

Example:
  synthmarket calibrate garch --data data/sp500_daily.csv --out garch.toml
  synthmarket simulate --config garch.toml --paths 1000 --out runs/garch"
    )]
    Garch(GarchCmd),
}

/// Flags of `calibrate garch`.
#[derive(Debug, Args)]
pub struct GarchCmd {
    /// Daily price history: CSV with `date` and a price column
    #[arg(long)]
    data: PathBuf,
    /// Price column [default: adj_close if present, else close]
    #[arg(long)]
    column: Option<String>,
    /// Where to write the config (`-` for stdout)
    #[arg(long, short, default_value = "garch.toml")]
    out: PathBuf,
}

/// Flags of `calibrate heston`.
#[derive(Debug, Args)]
pub struct HestonCmd {
    /// Implied-vol surface (CSV; `-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Where to write the config (`-` for stdout)
    #[arg(long, short, default_value = "heston.toml")]
    out: PathBuf,
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
        CalibrateCmd::Heston(c) => heston(c),
        CalibrateCmd::Garch(c) => garch(c),
    }
}

fn gbm(cmd: GbmCmd) -> Result<()> {
    let history = SpotHistory::from_csv(&cmd.data, cmd.column.as_deref())?;
    let fit = GbmEstimate::fit(&history, cmd.periods_per_year)?;
    let dates = history.dates();
    let span = format!("{} to {}", dates[0], dates[dates.len() - 1]);
    let toml = gbm_config_toml(&fit, &history);
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
    emit_config(&cmd.out, &toml)?;
    Ok(())
}

fn heston(cmd: HestonCmd) -> Result<()> {
    let surface = calibrate_heston_file(&cmd.input)?;
    let fit = &surface.fit;
    let [v0, kappa, theta, xi, rho] = fit.params;
    println!(
        "Heston calibrated to {} quotes of {} in {:.2} s ({} surface evaluations, {})",
        fit.quotes,
        cmd.input.display(),
        surface.seconds,
        fit.evaluations,
        fit.termination
    );
    for (name, value, what) in [
        ("v0", v0, "initial variance"),
        ("kappa", kappa, "mean reversion per year"),
        ("theta", theta, "long-run variance"),
        ("xi", xi, "volatility of variance"),
        ("rho", rho, "spot-variance correlation"),
    ] {
        println!("  {name:<6} {value:>12.6}   {what}");
    }
    println!(
        "  fit: RMSE {:.4} vol points, largest error {:.4} vol points; Feller 2*kappa*theta {} xi^2",
        fit.rmse_vol_points,
        fit.max_error_vol_points,
        if 2.0 * kappa * theta >= xi * xi { ">=" } else { "<" }
    );
    emit_config(&cmd.out, &surface.config_toml())?;
    Ok(())
}

fn garch(cmd: GarchCmd) -> Result<()> {
    let history = SpotHistory::from_csv(&cmd.data, cmd.column.as_deref())?;
    let started = std::time::Instant::now();
    let fit = GarchEstimate::fit(&history)?;
    let p = fit.params;
    let dates = history.dates();
    let span = format!("{} to {}", dates[0], dates[dates.len() - 1]);
    println!(
        "GJR-GARCH(1,1)-t maximum-likelihood fit: {} ({}, {span}, {} returns) in {:.2} s",
        cmd.data.display(),
        history.column(),
        fit.returns,
        started.elapsed().as_secs_f64()
    );
    println!("  {:<6} {:>14} {:>12}", "param", "estimate", "std.err");
    for (i, (name, value, what)) in [
        ("mean", p.mu, "mean daily log return"),
        ("omega", p.omega, "variance intercept (daily)"),
        ("alpha", p.alpha, "ARCH coefficient"),
        (
            "gamma",
            p.gamma,
            "leverage: extra weight of negative shocks",
        ),
        ("beta", p.beta, "GARCH coefficient"),
        ("nu", p.nu, "Student-t degrees of freedom"),
    ]
    .into_iter()
    .enumerate()
    {
        let se = if fit.se[i].is_finite() {
            format!("{:>12.4e}", fit.se[i])
        } else {
            format!("{:>12}", "at bound")
        };
        println!("  {name:<6} {value:>14.6e} {se}   {what}");
    }
    let half_life = (0.5f64).ln() / p.persistence().ln();
    println!(
        "  persistence {:.5} (half-life {:.0} days), long-run vol {:.2} %, log-likelihood {:.3}",
        p.persistence(),
        half_life,
        100.0 * (TRADING_DAYS_PER_YEAR * p.unconditional_variance()).sqrt(),
        fit.log_likelihood
    );
    let toml = garch_config_toml(&fit, &history);
    emit_config(&cmd.out, &toml)?;
    Ok(())
}

/// Writes a calibrated config to `out` (atomically), or prints it for `-`.
fn emit_config(out: &std::path::Path, toml: &str) -> Result<()> {
    if out.as_os_str() == "-" {
        print!("{toml}");
        return Ok(());
    }
    write_atomic(out, toml.as_bytes())?;
    println!(
        "wrote {} (use: synthmarket simulate --config {} --out DIR)",
        out.display(),
        out.display()
    );
    Ok(())
}
