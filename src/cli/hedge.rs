//! `synthmarket hedge`: sell an option from a simulated market's chain and
//! delta-hedge it on every path with the chain's own deltas. The flags, then
//! [`synthmarket::run::hedge`] does the work; the summary is printed here.

use crate::cli::table_number as num;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use synthmarket::error::{Error, Result};
use synthmarket::hedge::{HedgeSpec, PnlSummary};
use synthmarket::market::OptionType;
use synthmarket::run::hedge::{summary_rows, HedgeOptions, HedgeReport};

const AFTER_HELP: &str = "Sells one option on the market's first date at its chain price and
delta-hedges it with the underlying until expiry, on every path, with the
deltas the chain itself quotes (Black-Scholes-Merton deltas at each option's
implied vol). The cash account earns the market's rate and the shares its
dividend yield (both from run.json); each trade pays --cost-bps of its
notional, the final unwind included.

The market is a directory written by `simulate --options` with the listed
expiry grid (the default), so the same contract is quoted day after day. On
a day where the strike has left the quoted strike window, the delta is the
Black-Scholes-Merton delta at the nearest quoted strike's implied vol (the
report counts those days).

Output in --out (default MARKET/hedge): pnl.csv (one row per path),
summary.json, report.md and pnl.svg (histogram; P&L against realised vol).
A summary is printed: mean with its standard error, std, quantiles and the
95 % expected shortfall of the seller's P&L (currency per option).

Examples:
  synthmarket simulate --model heston --paths 1000 --steps 126 --options --out mkt
  synthmarket hedge --market mkt --option call --expiry 3 --rebalance daily
  synthmarket hedge --market mkt --option put --moneyness 0.9 --rebalance weekly --cost-bps 5";

/// `synthmarket hedge`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct HedgeCmd {
    /// Market directory from `simulate --options` (spot.csv, options.csv, run.json)
    #[arg(long)]
    market: PathBuf,
    /// Option sold: call or put
    #[arg(long, default_value_t = HedgeOptions::DEFAULT_OPTION)]
    option: OptionType,
    /// Strike; must be quoted on the first date [default: the quoted strike nearest to spot × --moneyness]
    #[arg(long, conflicts_with = "moneyness")]
    strike: Option<f64>,
    /// Strike as a fraction of the first date's spot, rounded to the nearest quoted strike
    #[arg(long, default_value_t = HedgeOptions::DEFAULT_MONEYNESS)]
    moneyness: f64,
    /// Expiry: an ISO date quoted on the first date, or N for the N-th quoted expiry
    #[arg(long, default_value = HedgeOptions::DEFAULT_EXPIRY)]
    expiry: String,
    /// Rebalancing: daily, weekly (every 5 trading days) or a number of steps
    #[arg(long, default_value = HedgeOptions::DEFAULT_REBALANCE)]
    rebalance: String,
    /// Transaction cost per trade, in basis points of the traded notional
    #[arg(long, default_value_t = HedgeOptions::DEFAULT_COST_BPS)]
    cost_bps: f64,
    /// Output directory [default: MARKET/hedge, MARKET/hedge-ASSET with --asset]
    #[arg(long)]
    out: Option<PathBuf>,
    /// The asset to hedge in a market of several (a name of its `asset` column, e.g. `index` or `AAPL` of models/sp500-panel)
    #[arg(long)]
    asset: Option<String>,
}

impl HedgeCmd {
    /// The library's options for these flags.
    fn options(&self) -> HedgeOptions {
        HedgeOptions {
            market: self.market.clone(),
            option: self.option,
            strike: self.strike,
            moneyness: self.moneyness,
            expiry: self.expiry.clone(),
            rebalance: self.rebalance.clone(),
            cost_bps: self.cost_bps,
            out: self.out.clone(),
            asset: self.asset.clone(),
        }
    }
}

pub fn run(cmd: HedgeCmd, quiet: bool) -> Result<()> {
    execute(&cmd, quiet, true).map(|_| ())
}

/// Runs the hedge and writes its outputs ([`synthmarket::run::hedge::hedge`]),
/// with a progress bar over options.csv unless `quiet`; prints the summary
/// when `print`.
pub(crate) fn execute(cmd: &HedgeCmd, quiet: bool, print: bool) -> Result<PnlSummary> {
    let started = std::time::Instant::now();
    let style =
        ProgressStyle::with_template("reading options.csv {bar:40} {bytes}/{total_bytes} ({eta})")
            .map_err(|e| Error::Internal(e.to_string()))?;
    // The bar appears when options.csv is read for the quotes, sized to it.
    let bar: OnceLock<ProgressBar> = OnceLock::new();
    let progress = |read: u64, size: u64| {
        if !quiet {
            bar.get_or_init(|| {
                ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr())
                    .with_style(style.clone())
            })
            .set_position(read);
        }
    };
    let report = synthmarket::run::hedge::hedge(&cmd.options(), &progress);
    if let Some(p) = bar.get() {
        p.finish_and_clear();
    }
    let HedgeReport {
        spec,
        expiry,
        steps_to_expiry,
        fallback_deltas,
        outcomes,
        summary,
        out,
    } = report?;
    if print {
        print_summary(
            &spec,
            &expiry,
            steps_to_expiry,
            &summary,
            &out,
            fallback_deltas,
        );
    }
    // Logged here, after the bar is cleared (a line logged under a live bar
    // would be erased with it).
    tracing::info!(
        "hedged {} paths in {:.1} s",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

fn print_summary(
    spec: &HedgeSpec,
    expiry: &str,
    steps: usize,
    s: &PnlSummary,
    out: &Path,
    fallback_days: usize,
) {
    println!(
        "Short 1 {} K = {} expiring {expiry} ({steps} steps), delta-hedged every {} step(s) on {} paths:",
        spec.option_type, spec.strike, spec.every, s.paths
    );
    for (name, x) in summary_rows(s) {
        println!("  {name:<36} {}", num(x));
    }
    if fallback_days > 0 {
        println!("  ({fallback_days} path-days hedged with the nearest quoted strike's vol)");
    }
    println!(
        "Wrote pnl.csv, summary.json, report.md, pnl.svg to {}",
        out.display()
    );
}
