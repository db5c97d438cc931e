//! Delta-hedging an option of a simulated market (`synthmarket hedge`):
//! sell one option from the market's chain on its first date and
//! delta-hedge it on every path with the chain's own deltas, then write the
//! P&L per path, its summary, a report and a chart.
//!
//! Both faces (the CLI, the Python module) fill a [`HedgeOptions`] and call
//! [`hedge`]; printing the summary is theirs ([`summary_rows`] gives its
//! rows).

use crate::error::{Error, Location, Result};
use crate::hedge::{HedgeOutcome, HedgePath, HedgeSpec, PnlSummary};
use crate::io::chain_csv::{ChainReader, COLUMNS};
use crate::io::parquet::market_file;
use crate::io::spot_csv::SpotPanel;
use crate::io::table_number as num;
use crate::io::write_atomic;
use crate::market::{parse_iso_date, MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR};
use crate::plot;
use crate::pricing::BlackScholes;
use crate::run::manifest::MarketInfo;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The settings of a hedge, one field per flag of `synthmarket hedge` (the
/// error messages name the flags: `rebalance`, `expiry`, `strike`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeOptions {
    /// Market directory written by a simulation with chains on the listed
    /// expiry grid (`spot.csv`, `options.csv`, `run.json`).
    pub market: PathBuf,
    /// The option sold.
    pub option: OptionType,
    /// Strike, which must be quoted on the first date; `None`: the quoted
    /// strike nearest to the first spot × [`Self::moneyness`].
    pub strike: Option<f64>,
    /// Strike as a fraction of the first date's spot (used when
    /// [`Self::strike`] is `None`), rounded to the nearest quoted strike.
    pub moneyness: f64,
    /// Expiry: an ISO date quoted on the first date, or `N` for the N-th
    /// quoted expiry.
    pub expiry: String,
    /// Rebalancing: `daily`, `weekly` (every 5 trading days) or a number of
    /// steps (see [`parse_rebalance`]).
    pub rebalance: String,
    /// Transaction cost per trade, in basis points of the traded notional.
    pub cost_bps: f64,
    /// Output directory; `None`: `MARKET/hedge` (`MARKET/hedge-ASSET` with
    /// [`Self::asset`]).
    pub out: Option<PathBuf>,
    /// The asset of a market of several (its name in the `asset` column of
    /// `spot.csv` and `options.csv`); `None` for a one-asset market.
    pub asset: Option<String>,
}

impl HedgeOptions {
    /// Default of [`Self::option`].
    pub const DEFAULT_OPTION: OptionType = OptionType::Call;
    /// Default of [`Self::moneyness`] (at the money).
    pub const DEFAULT_MONEYNESS: f64 = 1.0;
    /// Default of [`Self::expiry`]: the second quoted expiry.
    pub const DEFAULT_EXPIRY: &'static str = "2";
    /// Default of [`Self::rebalance`].
    pub const DEFAULT_REBALANCE: &'static str = "daily";
    /// Default of [`Self::cost_bps`].
    pub const DEFAULT_COST_BPS: f64 = 0.0;

    /// Options hedging a short at-the-money call of the market in `market`
    /// (its second quoted expiry, rebalanced daily, no costs), written to
    /// `MARKET/hedge`.
    pub fn new(market: impl Into<PathBuf>) -> Self {
        HedgeOptions {
            market: market.into(),
            option: Self::DEFAULT_OPTION,
            strike: None,
            moneyness: Self::DEFAULT_MONEYNESS,
            expiry: Self::DEFAULT_EXPIRY.to_string(),
            rebalance: Self::DEFAULT_REBALANCE.to_string(),
            cost_bps: Self::DEFAULT_COST_BPS,
            out: None,
            asset: None,
        }
    }

    /// The output directory: [`Self::out`], or `MARKET/hedge`
    /// (`MARKET/hedge-ASSET` for one asset of a market).
    pub fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| match &self.asset {
            Some(a) => self.market.join(format!("hedge-{a}")),
            None => self.market.join("hedge"),
        })
    }
}

/// What [`hedge`] computed (and wrote into [`Self::out`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeReport {
    /// The hedged contract and how it was hedged (strike, rebalancing
    /// interval in steps, cost rate, rate and dividend).
    pub spec: HedgeSpec,
    /// The option's expiry (YYYY-MM-DD).
    pub expiry: String,
    /// Steps from the first date to the expiry.
    pub steps_to_expiry: usize,
    /// Path-days whose delta came from the nearest quoted strike's vol (the
    /// strike had left the quoted window, or had no delta).
    pub fallback_deltas: usize,
    /// The seller's outcome on each path, in the market's path order.
    pub outcomes: Vec<HedgeOutcome>,
    /// Their summary (mean, standard error, quantiles, expected shortfall).
    pub summary: PnlSummary,
    /// Where pnl.csv, summary.json, report.md and pnl.svg were written.
    pub out: PathBuf,
}

/// The rebalancing interval in steps of a `--rebalance` value: `daily` (1)
/// or `weekly` (5) on a daily grid (`dt` = 1/252), or a whole number of
/// steps ≥ 1 on any grid.
pub fn parse_rebalance(s: &str, dt: f64) -> Result<usize> {
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
/// date, expiry, maturity, strike, option_type, price, implied_vol, delta),
/// then `asset` for one asset of a market.
fn columns(asset: bool) -> Vec<&'static str> {
    let mut c = COLUMNS[..10].to_vec();
    if asset {
        c.push("asset");
    }
    c
}

/// Whether the current record is the hedged asset's (always, in a
/// one-asset market).
fn is_asset(rdr: &ChainReader<'_>, asset: Option<&str>) -> bool {
    asset.is_none_or(|a| rdr.text(10) == a)
}

/// Sells one option of the market in `opts.market` on its first date at its
/// chain price and delta-hedges it with the underlying until expiry, on
/// every path, with the deltas the chain quotes; writes pnl.csv,
/// summary.json, report.md and pnl.svg to [`HedgeOptions::out_dir`].
/// `progress` is told, while `options.csv` is read, the bytes read so far
/// and the file's size. Nothing goes to stdout.
pub fn hedge(opts: &HedgeOptions, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<HedgeReport> {
    let info = MarketInfo::read(&opts.market)?;
    if !info.listed {
        return Err(Error::input(
            Location::file(opts.market.join("run.json")).field("options.chains.grid"),
            "hedging needs the listed expiry grid (fixed strikes and expiries quoted day after day); simulate with --expiries listed",
        ));
    }
    let every = parse_rebalance(&opts.rebalance, info.dt)?;
    if every % info.chain_every != 0 {
        return Err(Error::parameter(
            "rebalance",
            &opts.rebalance,
            format!(
                "the market has chains every {} steps; rebalance on a multiple of that",
                info.chain_every
            ),
        ));
    }
    if !(opts.moneyness.is_finite() && opts.moneyness > 0.0) {
        return Err(Error::parameter(
            "moneyness",
            opts.moneyness,
            "must be positive",
        ));
    }
    let asset = opts.asset.as_deref();
    let panel = SpotPanel::read_asset(&market_file(&opts.market, "spot"), asset)?;
    let options_path = market_file(&opts.market, "options");
    let size = std::fs::metadata(&options_path)
        .map(|m| m.len())
        .unwrap_or(0);

    // The first chain: which expiries and strikes are quoted on day 0.
    let cols = columns(asset.is_some());
    let mut rdr = ChainReader::open(&options_path, &cols, None)?;
    let mut first: Vec<(NaiveDate, f64)> = Vec::new();
    while rdr.next_record()? {
        if rdr.text(0) != panel.ids[0] || rdr.text(1) != "0" {
            break;
        }
        if !is_asset(&rdr, asset) {
            continue;
        }
        if rdr.text(6).parse::<OptionType>().ok() == Some(opts.option) {
            let expiry = parse_iso_date(rdr.text(3)).map_err(|e| rdr.error(3, e))?;
            first.push((expiry, rdr.number(5, false)?));
        }
    }
    if first.is_empty() {
        return Err(Error::input(
            Location::file(&options_path).line(2),
            format!(
                "no {} quoted at step 0 of path {}{}",
                opts.option,
                panel.ids[0],
                asset.map_or(String::new(), |a| format!(" for asset `{a}`"))
            ),
        ));
    }
    let mut expiries: Vec<NaiveDate> = first.iter().map(|e| e.0).collect();
    expiries.sort();
    expiries.dedup();
    let expiry = match opts.expiry.parse::<usize>() {
        Ok(n) if (1..=expiries.len()).contains(&n) => expiries[n - 1],
        Ok(n) => {
            return Err(Error::parameter(
                "expiry",
                n,
                format!("the first date quotes {} expiries", expiries.len()),
            ))
        }
        Err(_) => {
            let d = parse_iso_date(&opts.expiry)
                .map_err(|e| Error::parameter("expiry", &opts.expiry, e))?;
            if !expiries.contains(&d) {
                return Err(Error::parameter(
                    "expiry",
                    &opts.expiry,
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
    let strike = match opts.strike {
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
            let target = opts.moneyness * panel.spots[0][0];
            strikes
                .iter()
                .copied()
                .min_by(|a, b| (a - target).abs().total_cmp(&(b - target).abs()))
                .unwrap_or(target)
        }
    };
    let spec = HedgeSpec::new(
        opts.option,
        strike,
        every,
        opts.cost_bps * 1e-4,
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
    let report_read = |read: u64| progress(read, size);
    let index: HashMap<&str, usize> = panel
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut quotes: Vec<Vec<Option<Row>>> = vec![vec![None; last + 1]; panel.ids.len()];
    let mut rdr = ChainReader::open(&options_path, &cols, Some(&report_read))?;
    while rdr.next_record()? {
        if !is_asset(&rdr, asset)
            || rdr.text(3) != expiry_iso.as_str()
            || rdr.text(6).parse::<OptionType>().ok() != Some(opts.option)
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

    // Per path: exact quotes, or the delta at the nearest strike's vol.
    let mut fallback_days = 0usize;
    let mut outcomes: Vec<HedgeOutcome> = Vec::with_capacity(panel.ids.len());
    for (p, path_quotes) in quotes.iter().enumerate() {
        let spot = &panel.spots[p];
        if spot.len() <= last {
            return Err(Error::input(
                Location::file(market_file(&opts.market, "spot")).field("step"),
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
                        panel.ids[p], opts.option, expiry_iso
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
                let option = OptionSpec::new(opts.option, strike, row.maturity)?;
                match BlackScholes::new(row.implied_vol) {
                    Ok(bs) if row.implied_vol.is_finite() => bs.greeks(&option, &state).delta,
                    // No vol anywhere near: the option is on its bound,
                    // where the delta is that of the intrinsic value.
                    _ => intrinsic_delta(opts.option, spot[k], strike),
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
    let out = opts.out_dir();
    write_outputs(
        &out,
        opts,
        &spec,
        &expiry_iso,
        last,
        fallback_days,
        &panel,
        &outcomes,
        &summary,
    )?;
    Ok(HedgeReport {
        spec,
        expiry: expiry_iso,
        steps_to_expiry: last,
        fallback_deltas: fallback_days,
        outcomes,
        summary,
        out,
    })
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
    opts: &HedgeOptions,
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
        "market": opts.market,
        "asset": opts.asset,
        "option": spec,
        "expiry": expiry,
        "steps_to_expiry": steps,
        "rebalance": opts.rebalance,
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
        opts.market.display(),
        summary.paths,
        spec.every,
        opts.cost_bps,
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

/// The summary's rows as the report and the CLI show them: (statistic,
/// seller's P&L in currency per option).
pub fn summary_rows(s: &PnlSummary) -> Vec<(String, f64)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebalance_names_need_a_daily_grid_and_numbers_are_steps() {
        let daily = 1.0 / TRADING_DAYS_PER_YEAR;
        assert_eq!(parse_rebalance("daily", daily).unwrap(), 1);
        assert_eq!(parse_rebalance("weekly", daily).unwrap(), 5);
        assert_eq!(parse_rebalance("3", daily).unwrap(), 3);
        assert_eq!(parse_rebalance("2", 1.0 / 52.0).unwrap(), 2);
        let e = parse_rebalance("weekly", 1.0 / 52.0).unwrap_err();
        assert!(e.to_string().contains("not daily"), "{e}");
        for bad in ["0", "-1", "monthly", ""] {
            let e = parse_rebalance(bad, daily).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("`rebalance`"), "{e}");
        }
    }

    #[test]
    fn a_missing_market_is_an_input_error_and_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("synthmarket-hedge-{}", std::process::id()));
        let opts = HedgeOptions::new(dir.join("no-such-market"));
        assert_eq!(opts.out_dir(), dir.join("no-such-market").join("hedge"));
        let e = hedge(&opts, &|_, _| {}).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("run.json"), "{e}");
        assert!(!opts.out_dir().exists());
    }
}
