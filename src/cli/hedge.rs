//! `synthmarket hedge`: sell an option from a simulated market's chain and
//! delta-hedge it on every path with the chain's own deltas.

use crate::cli::table_number as num;
use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use synthmarket::error::{Error, Location, Result};
use synthmarket::hedge::{HedgeOutcome, HedgePath, HedgeSpec, PnlSummary};
use synthmarket::io::chain_csv::{ChainReader, COLUMNS};
use synthmarket::io::spot_csv::SpotPanel;
use synthmarket::io::write_atomic;
use synthmarket::market::{
    parse_iso_date, MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR,
};
use synthmarket::plot;
use synthmarket::pricing::BlackScholes;
use synthmarket::run::manifest::MarketInfo;

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
    #[arg(long, default_value = "call")]
    option: OptionType,
    /// Strike; must be quoted on the first date [default: the quoted strike nearest to spot × --moneyness]
    #[arg(long, conflicts_with = "moneyness")]
    strike: Option<f64>,
    /// Strike as a fraction of the first date's spot, rounded to the nearest quoted strike
    #[arg(long, default_value_t = 1.0)]
    moneyness: f64,
    /// Expiry: an ISO date quoted on the first date, or N for the N-th quoted expiry
    #[arg(long, default_value = "2")]
    expiry: String,
    /// Rebalancing: daily, weekly (every 5 trading days) or a number of steps
    #[arg(long, default_value = "daily")]
    rebalance: String,
    /// Transaction cost per trade, in basis points of the traded notional
    #[arg(long, default_value_t = 0.0)]
    cost_bps: f64,
    /// Output directory [default: MARKET/hedge]
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Rebalancing interval in steps.
fn parse_rebalance(s: &str, dt: f64) -> Result<usize> {
    let daily_grid = (dt * TRADING_DAYS_PER_YEAR - 1.0).abs() < 1e-9;
    let named = |days: usize| {
        if daily_grid {
            Ok(days)
        } else {
            Err(Error::parameter(
                "rebalance",
                s,
                format!("the market's grid is not daily (dt = {dt}); give a number of steps"),
            ))
        }
    };
    match s {
        "daily" => named(1),
        "weekly" => named(5),
        _ => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Error::parameter(
                "rebalance",
                s,
                "daily, weekly or a whole number of steps ≥ 1",
            )),
        },
    }
}

/// One quote of the hedged expiry and type.
#[derive(Debug, Clone, Copy)]
struct Row {
    strike: f64,
    maturity: f64,
    price: f64,
    delta: f64,
    implied_vol: f64,
}

/// The columns read, in the order `simulate` writes them (path, step,
/// date, expiry, maturity, strike, option_type, price, implied_vol, delta).
fn columns() -> &'static [&'static str] {
    &COLUMNS[..10]
}

pub fn run(cmd: HedgeCmd, quiet: bool) -> Result<()> {
    execute(&cmd, quiet, true).map(|_| ())
}

/// Runs the hedge and writes its outputs; prints the summary when `print`.
pub(crate) fn execute(cmd: &HedgeCmd, quiet: bool, print: bool) -> Result<PnlSummary> {
    let started = std::time::Instant::now();
    let info = MarketInfo::read(&cmd.market)?;
    if !info.listed {
        return Err(Error::input(
            Location::file(cmd.market.join("run.json")).field("options.chains.grid"),
            "hedging needs the listed expiry grid (fixed strikes and expiries quoted day after day); simulate with --expiries listed",
        ));
    }
    let every = parse_rebalance(&cmd.rebalance, info.dt)?;
    if every % info.chain_every != 0 {
        return Err(Error::parameter(
            "rebalance",
            &cmd.rebalance,
            format!(
                "the market has chains every {} steps; rebalance on a multiple of that",
                info.chain_every
            ),
        ));
    }
    if !(cmd.moneyness.is_finite() && cmd.moneyness > 0.0) {
        return Err(Error::parameter(
            "moneyness",
            cmd.moneyness,
            "must be positive",
        ));
    }
    let panel = SpotPanel::read(&cmd.market.join("spot.csv"))?;
    let options_path = cmd.market.join("options.csv");
    let size = std::fs::metadata(&options_path)
        .map(|m| m.len())
        .unwrap_or(0);

    // The first chain: which expiries and strikes are quoted on day 0.
    let mut rdr = ChainReader::open(&options_path, columns(), None)?;
    let mut first: Vec<(NaiveDate, f64)> = Vec::new();
    while rdr.next_record()? {
        if rdr.text(0) != panel.ids[0] || rdr.text(1) != "0" {
            break;
        }
        if rdr.text(6).parse::<OptionType>().ok() == Some(cmd.option) {
            let expiry = parse_iso_date(rdr.text(3)).map_err(|e| rdr.error(3, e))?;
            first.push((expiry, rdr.number(5, false)?));
        }
    }
    if first.is_empty() {
        return Err(Error::input(
            Location::file(&options_path).line(2),
            format!(
                "no {} quoted at step 0 of path {}",
                cmd.option, panel.ids[0]
            ),
        ));
    }
    let mut expiries: Vec<NaiveDate> = first.iter().map(|e| e.0).collect();
    expiries.sort();
    expiries.dedup();
    let expiry = match cmd.expiry.parse::<usize>() {
        Ok(n) if (1..=expiries.len()).contains(&n) => expiries[n - 1],
        Ok(n) => {
            return Err(Error::parameter(
                "expiry",
                n,
                format!("the first date quotes {} expiries", expiries.len()),
            ))
        }
        Err(_) => {
            let d = parse_iso_date(&cmd.expiry)
                .map_err(|e| Error::parameter("expiry", &cmd.expiry, e))?;
            if !expiries.contains(&d) {
                return Err(Error::parameter(
                    "expiry",
                    &cmd.expiry,
                    format!("not quoted on the first date; quoted: {expiries:?}"),
                ));
            }
            d
        }
    };
    let strikes: Vec<f64> = first
        .iter()
        .filter(|e| e.0 == expiry)
        .map(|e| e.1)
        .collect();
    let strike = match cmd.strike {
        Some(k) => {
            if !strikes.iter().any(|s| (s - k).abs() <= 1e-9 * k) {
                return Err(Error::parameter(
                    "strike",
                    k,
                    format!("not quoted on the first date; quoted: {strikes:?}"),
                ));
            }
            k
        }
        None => {
            let target = cmd.moneyness * panel.spots[0][0];
            strikes
                .iter()
                .copied()
                .min_by(|a, b| (a - target).abs().total_cmp(&(b - target).abs()))
                .unwrap_or(target)
        }
    };
    let spec = HedgeSpec::new(
        cmd.option,
        strike,
        every,
        cmd.cost_bps * 1e-4,
        info.rate,
        info.dividend,
    )?;
    let expiry_iso = expiry.format("%Y-%m-%d").to_string();
    let last = panel.dates.iter().position(|d| *d == expiry_iso).ok_or_else(|| {
        Error::parameter(
            "expiry",
            &expiry_iso,
            format!(
                "the market's paths end on {} before this expiry (or the grid skips it): simulate more steps or pick an earlier expiry",
                panel.dates.last().map_or("?", String::as_str)
            ),
        )
    })?;

    // Every quote of that expiry and type, nearest strike per (path, step).
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        let p = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        p.set_style(
            ProgressStyle::with_template(
                "reading options.csv {bar:40} {bytes}/{total_bytes} ({eta})",
            )
            .map_err(|e| Error::Internal(e.to_string()))?,
        );
        p
    };
    let index: HashMap<&str, usize> = panel
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut quotes: Vec<Vec<Option<Row>>> = vec![vec![None; last + 1]; panel.ids.len()];
    let mut rdr = ChainReader::open(&options_path, columns(), Some(&progress))?;
    while rdr.next_record()? {
        if rdr.text(3) != expiry_iso.as_str()
            || rdr.text(6).parse::<OptionType>().ok() != Some(cmd.option)
        {
            continue;
        }
        let p = *index
            .get(rdr.text(0))
            .ok_or_else(|| rdr.error(0, format!("path {} is not in spot.csv", rdr.text(0))))?;
        let k: usize = rdr
            .text(1)
            .parse()
            .map_err(|_| rdr.error(1, format!("`{}` is not a step number", rdr.text(1))))?;
        if k > last {
            continue;
        }
        let row = Row {
            strike: rdr.number(5, false)?,
            maturity: rdr.number(4, false)?,
            price: rdr.number(7, false)?,
            implied_vol: rdr.number(8, true)?,
            delta: rdr.number(9, true)?,
        };
        let slot = &mut quotes[p][k];
        let nearer =
            slot.is_none_or(|old| (row.strike - strike).abs() < (old.strike - strike).abs());
        // Where the exact strike has no implied vol (a price on its bound),
        // a neighbour with one is no better: keep the exact quote.
        if nearer {
            *slot = Some(row);
        }
    }
    progress.finish_and_clear();

    // Per path: exact quotes, or the delta at the nearest strike's vol.
    let mut fallback_days = 0usize;
    let mut outcomes: Vec<HedgeOutcome> = Vec::with_capacity(panel.ids.len());
    for (p, path_quotes) in quotes.iter().enumerate() {
        let spot = &panel.spots[p];
        if spot.len() <= last {
            return Err(Error::input(
                Location::file(cmd.market.join("spot.csv")).field("step"),
                format!("path {} ends before the expiry", panel.ids[p]),
            ));
        }
        let mut quote = vec![None; last + 1];
        for (k, q) in path_quotes.iter().enumerate().take(last) {
            if k % every != 0 {
                continue;
            }
            let row = q.ok_or_else(|| {
                Error::input(
                    Location::file(&options_path).field("step"),
                    format!(
                        "path {} has no {} quote for {} at step {k}",
                        panel.ids[p], cmd.option, expiry_iso
                    ),
                )
            })?;
            let exact = (row.strike - strike).abs() <= 1e-9 * strike;
            if k == 0 && !exact {
                return Err(Error::input(
                    Location::file(&options_path).field("strike"),
                    format!(
                        "path {} does not quote strike {strike} on the first date",
                        panel.ids[p]
                    ),
                ));
            }
            let delta = if exact && row.delta.is_finite() {
                row.delta
            } else {
                fallback_days += 1;
                let state = MarketState::new(spot[k], info.rate, info.dividend)?;
                let option = OptionSpec::new(cmd.option, strike, row.maturity)?;
                match BlackScholes::new(row.implied_vol) {
                    Ok(bs) if row.implied_vol.is_finite() => bs.greeks(&option, &state).delta,
                    // No vol anywhere near: the option is on its bound,
                    // where the delta is that of the intrinsic value.
                    _ => intrinsic_delta(cmd.option, spot[k], strike),
                }
            };
            quote[k] = Some((row.price, delta, row.implied_vol));
        }
        let path = HedgePath {
            dt: info.dt,
            spot: spot[..=last].to_vec(),
            quote,
        };
        outcomes.push(spec.run(&path)?);
    }
    let summary = PnlSummary::of(&outcomes)?;
    let out = cmd.out.clone().unwrap_or_else(|| cmd.market.join("hedge"));
    write_outputs(
        &out,
        cmd,
        &spec,
        &expiry_iso,
        last,
        fallback_days,
        &panel,
        &outcomes,
        &summary,
    )?;
    if print {
        print_summary(&spec, &expiry_iso, last, &summary, &out, fallback_days);
    }
    tracing::info!(
        "hedged {} paths in {:.1} s",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

fn intrinsic_delta(option: OptionType, s: f64, k: f64) -> f64 {
    match (option, s > k) {
        (OptionType::Call, true) => 1.0,
        (OptionType::Put, false) => -1.0,
        _ => 0.0,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    out: &Path,
    cmd: &HedgeCmd,
    spec: &HedgeSpec,
    expiry: &str,
    steps: usize,
    fallback_days: usize,
    panel: &SpotPanel,
    outcomes: &[HedgeOutcome],
    summary: &PnlSummary,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let mut csv = String::from("path,pnl,premium,implied_vol,realised_vol,trades,costs\n");
    for (id, o) in panel.ids.iter().zip(outcomes) {
        let _ = writeln!(
            csv,
            "{id},{},{},{},{},{},{}",
            o.pnl, o.premium, o.implied_vol, o.realised_vol, o.trades, o.costs
        );
    }
    let json = serde_json::json!({
        "market": cmd.market,
        "option": spec,
        "expiry": expiry,
        "steps_to_expiry": steps,
        "rebalance": cmd.rebalance,
        "fallback_deltas": fallback_days,
        "summary": summary,
    });
    let pnl: Vec<f64> = outcomes.iter().map(|o| o.pnl).collect();
    let rv: Vec<f64> = outcomes.iter().map(|o| o.realised_vol).collect();
    let chart = plot::hedge_pnl(&pnl, &rv, outcomes[0].implied_vol)?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Delta hedge: short 1 {} K = {} expiring {expiry}\n\nMarket `{}`, {} paths, {steps} steps to expiry, rebalanced every {} step(s), costs {} bp of traded notional. Deltas: the chain's own (Black–Scholes–Merton at each option's implied vol); {fallback_days} path-days used the nearest quoted strike's vol.\n",
        spec.option_type,
        spec.strike,
        cmd.market.display(),
        summary.paths,
        spec.every,
        cmd.cost_bps,
    );
    md.push_str("| statistic | seller's P&L |\n|---|---|\n");
    for (name, x) in summary_rows(summary) {
        let _ = writeln!(md, "| {name} | {} |", num(x));
    }
    md.push_str("\n![P&L](pnl.svg)\n");
    write_atomic(out.join("pnl.csv"), csv.as_bytes())?;
    write_atomic(
        out.join("summary.json"),
        serde_json::to_string_pretty(&json)
            .map_err(|e| Error::Internal(e.to_string()))?
            .as_bytes(),
    )?;
    write_atomic(out.join("pnl.svg"), chart.as_bytes())?;
    write_atomic(out.join("report.md"), md.as_bytes())
}

fn summary_rows(s: &PnlSummary) -> Vec<(String, f64)> {
    let mut rows = vec![
        ("mean premium received".to_string(), s.mean_premium),
        ("mean P&L".into(), s.mean),
        ("standard error of the mean".into(), s.std_error),
        ("std".into(), s.std),
    ];
    rows.extend(
        s.quantiles
            .iter()
            .map(|(q, x)| (format!("{:.0} % quantile", 100.0 * q), *x)),
    );
    rows.push((
        "expected shortfall 95 % (loss > 0)".into(),
        s.expected_shortfall_95,
    ));
    rows.push(("mean transaction costs".into(), s.mean_costs));
    rows
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
