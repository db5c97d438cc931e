use crate::cli::table_number as num;
use chrono::NaiveDate;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use synthmarket::error::{Error, Result};
use synthmarket::facts::consistency::{
    ArbitrageSummary, ChainAtm, Consistency, PathChains, VolIndexFacts,
};
use synthmarket::facts::scorecard::{Scorecard, ScorecardConfig};
use synthmarket::facts::FactsConfig;
use synthmarket::io::chain_csv::ChainReader;
use synthmarket::io::spot_csv::SpotPanel;
use synthmarket::io::write_atomic;
use synthmarket::market::SpotHistory;
use synthmarket::market::{parse_iso_date, OptionType};
use synthmarket::plot;
use synthmarket::pricing::arbitrage::{ChainQuotes, Quote, Tolerance};
use synthmarket::run::manifest::MarketInfo;

const AFTER_HELP: &str = "Compares a synthetic market with a real history, fact by fact, and
writes a report. The synthetic input is a spot.csv (every path is scored on its
own and summarised as mean and spread across paths) or a price history.

Scores (0 = identical, except the discriminative accuracy):
  * stylized facts present or absent in each market, with the statistic and
    its distance to the real value;
  * Wasserstein-1 distance between real and synthetic 1-, 5- and 20-day
    log-return distributions;
  * RMS distances between the ACF profiles of r, |r| and r^2 and between the
    leverage profiles; differences of tail indices and kurtosis;
  * discriminative score: held-out accuracy of a logistic classifier telling
    real from synthetic windows of --window days (0.5 = indistinguishable);
  * memorization audit: distances of synthetic windows to their nearest
    training window compared with held-out real windows' (Meehan et al. 2020);
    fails when synthetic windows sit closer (Z_U < -3) or replay training data.

The real history is split at --train-end for the audit: returns up to that
date are what the generator learnt from, later ones are held out (default:
the last 20 % are held out). --from/--to restrict the real returns that the
facts and distances compare against (e.g. a test period); the audit always
uses the whole file.

When the spot.csv sits beside an options.csv (simulate --options, either
layout), every chain goes through the static-arbitrage certifier of
check-arbitrage (tolerance 1e-9), and the chains are checked against the
paths: put-call parity against each path's forward, the 30-day at-the-money implied vol (IV30) against the conditional
vol (correlation), mean IV30^2 against the variance realised over the next
21 trading days (a positive variance risk premium), and the IV30 index's mean,
vol of vol and corr(change, return) beside a real index (--vix, e.g.
data/vix_daily.csv, with --real's returns on the same dates, sampled at the
chains' spacing).

Output in --report DIR: report.md, scorecard.json, and SVG charts
(returns_histogram, qq, acf, leverage, kurtosis_horizons, paths_fan, and
with chains smile: the first path's smiles and IV30 against its vol).

Example:
  synthmarket simulate --config garch.toml --paths 100 --steps 5030 --out runs/garch
  synthmarket validate --real data/sp500_daily.csv --synthetic runs/garch/spot.csv --report runs/garch/report";

/// `synthmarket validate`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ValidateCmd {
    /// Real price history (date plus adj_close/close or --column)
    #[arg(long)]
    real: PathBuf,
    /// Price column of the real history [default: adj_close if present, else close]
    #[arg(long)]
    column: Option<String>,
    /// Synthetic market: a spot.csv from `simulate`, or a price history
    #[arg(long)]
    synthetic: PathBuf,
    /// Report directory (created if missing)
    #[arg(long)]
    report: PathBuf,
    /// Last date of the generator's training data (YYYY-MM-DD) [default: the first 80 % of the returns]
    #[arg(long)]
    train_end: Option<String>,
    /// Compare with real returns from this date on (YYYY-MM-DD)
    #[arg(long)]
    from: Option<String>,
    /// Compare with real returns up to this date (YYYY-MM-DD)
    #[arg(long)]
    to: Option<String>,
    /// Window length in days of the discriminator and the memorization audit
    #[arg(long, default_value_t = 20)]
    window: usize,
    /// Tail fraction of the Hill estimator
    #[arg(long, default_value_t = 0.05)]
    tail_fraction: f64,
    /// Seed of the window samples and cross-validation folds
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Real vol index (date plus close in vol points, e.g. data/vix_daily.csv) to compare with the synthetic 30-day implied vol when the market has options.csv; --real supplies the index's returns over the same dates
    #[arg(long)]
    vix: Option<PathBuf>,
}

fn date_arg(flag: &str, s: &Option<String>) -> Result<Option<NaiveDate>> {
    s.as_deref()
        .map(|v| {
            parse_iso_date(v).map_err(|m| Error::parameter(flag, v, format!("not a date: {m}")))
        })
        .transpose()
}

fn yes(b: bool) -> &'static str {
    if b {
        "present"
    } else {
        "absent"
    }
}

/// The real returns and where the training part ends, after the date flags.
struct RealData {
    /// The history itself (its dates pair a real vol index with returns).
    history: SpotHistory,
    all: Vec<f64>,
    train_len: usize,
    compare: Vec<f64>,
    description: String,
}

fn real_data(cmd: &ValidateCmd) -> Result<RealData> {
    let hist = SpotHistory::from_csv(&cmd.real, cmd.column.as_deref())?;
    let r = hist.log_returns();
    // Return i is dated dates[i + 1].
    let dates = &hist.dates()[1..];
    let train_len = match date_arg("train-end", &cmd.train_end)? {
        Some(d) => dates.partition_point(|x| *x <= d),
        None => (r.len() as f64 * 0.8).round() as usize,
    };
    let from = date_arg("from", &cmd.from)?;
    let to = date_arg("to", &cmd.to)?;
    let lo = from.map_or(0, |d| dates.partition_point(|x| *x < d));
    let hi = to.map_or(r.len(), |d| dates.partition_point(|x| *x <= d));
    if hi <= lo + 100 {
        return Err(Error::parameter(
            "from/to",
            format!(
                "{}..{}",
                cmd.from.as_deref().unwrap_or("start"),
                cmd.to.as_deref().unwrap_or("end")
            ),
            format!(
                "leaves {} real returns; the facts need at least 100",
                hi.saturating_sub(lo)
            ),
        ));
    }
    let desc_range = |a: usize, b: usize| {
        if b > a {
            format!("{} to {}", dates[a], dates[b - 1])
        } else {
            "none".to_string()
        }
    };
    let description = format!(
        "{} ({}): compared {} ({} returns); generator training data {} ({} returns), held out {} ({} returns)",
        cmd.real.display(),
        hist.column(),
        desc_range(lo, hi),
        hi - lo,
        desc_range(0, train_len),
        train_len,
        desc_range(train_len, r.len()),
        r.len() - train_len,
    );
    Ok(RealData {
        history: hist,
        compare: r[lo..hi].to_vec(),
        train_len,
        all: r,
        description,
    })
}

/// Markdown report.
fn report_md(card: &Scorecard, real: &str, synthetic: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Scorecard: synthetic vs real\n");
    let _ = writeln!(s, "- Real: {real}");
    let _ = writeln!(
        s,
        "- Synthetic: {} ({} paths of {} daily returns; facts per path, mean ± sd across paths)",
        synthetic.display(),
        card.synthetic_paths,
        card.synthetic_returns_per_path
    );
    let _ = writeln!(
        s,
        "- Written by synthmarket {}\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "## Stylized facts\n");
    let _ = writeln!(
        s,
        "| fact (statistic) | real | real value | synthetic | share of paths | synthetic value | distance |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for f in &card.facts {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.0} % | {} | {} |",
            f.fact,
            yes(f.real_present),
            num(f.real_value),
            yes(f.synthetic_present),
            100.0 * f.synthetic_share,
            num(f.synthetic_value),
            num(f.distance)
        );
    }
    let _ = writeln!(s, "\n## Statistics\n");
    let _ = writeln!(
        s,
        "| statistic | real | synthetic mean | synthetic sd | distance |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in &card.statistics {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.statistic,
            num(r.real),
            num(r.synthetic_mean),
            num(r.synthetic_sd),
            num(r.distance)
        );
    }
    let _ = writeln!(s, "\n## Distances (0 = identical)\n");
    let _ = writeln!(s, "| distance | value |\n|---|---|");
    for (name, v) in card.distance_rows() {
        let _ = writeln!(s, "| {name} | {} |", num(v));
    }
    let d = &card.discriminative;
    let _ = writeln!(s, "\n## Discriminative score\n");
    let _ = writeln!(
        s,
        "A ridge logistic classifier on 12 features of non-overlapping {}-day windows, \
         {} real and {} synthetic windows, 5-fold cross-validated: held-out accuracy \
         **{:.3} ± {:.3}** (0.5 = indistinguishable).",
        d.window, d.windows_per_class, d.windows_per_class, d.accuracy, d.standard_error
    );
    let m = &card.memorization;
    let _ = writeln!(s, "\n## Memorization audit\n");
    let _ = writeln!(
        s,
        "Nearest-training-window distances of {} synthetic and {} held-out real windows of {} days \
         (against {} training windows): median {} (synthetic) vs {} (held out); share of synthetic \
         windows below the held-out 5 % quantile {:.3}; Mann–Whitney Z_U = {:.2}; replays {} \
         ({:.2} %). **{}**",
        m.synthetic_windows,
        m.heldout_windows,
        m.window,
        m.training_windows,
        num(m.median_nn_synthetic),
        num(m.median_nn_heldout),
        m.share_below_heldout_q05,
        m.z_u,
        m.replays,
        100.0 * m.replay_share,
        if m.passed {
            "Passed: synthetic windows are no closer to the training data than unseen real data."
        } else {
            "FAILED: the synthetic data sit closer to the training data than unseen real data, or replay it."
        }
    );
    let _ = writeln!(s, "\n## Charts\n");
    for (file, title) in CHARTS {
        let _ = writeln!(s, "### {title}\n\n![{title}]({file})\n");
    }
    s
}

const CHARTS: [(&str, &str); 6] = [
    ("returns_histogram.svg", "Return distribution (log density)"),
    ("qq.svg", "QQ plot against the normal"),
    ("acf.svg", "ACF of r and |r|"),
    ("leverage.svg", "Leverage profile"),
    ("kurtosis_horizons.svg", "Kurtosis across horizons"),
    ("paths_fan.svg", "Sample paths"),
];

pub fn run(cmd: ValidateCmd) -> Result<()> {
    let (card, real) = write_report(&cmd)?;
    print_table(&card, &real, &cmd);
    Ok(())
}

/// Computes the scorecard and writes the report directory (nothing on
/// stdout); returns the scorecard and the real data's description.
pub(crate) fn write_report(cmd: &ValidateCmd) -> Result<(Scorecard, String)> {
    if !(cmd.tail_fraction > 0.0 && cmd.tail_fraction < 0.5) {
        return Err(Error::parameter(
            "tail-fraction",
            cmd.tail_fraction,
            "must lie in (0, 0.5)",
        ));
    }
    let started = std::time::Instant::now();
    let real = real_data(cmd)?;
    let is_panel = crate::cli::facts::is_spot_csv(&cmd.synthetic)?;
    let mut consistency = None;
    let mut smile_svg = None;
    let (spots, synthetic): (Vec<Vec<f64>>, Vec<Vec<f64>>) = if is_panel {
        let panel = SpotPanel::read(&cmd.synthetic)?;
        let r = panel.log_returns();
        let dir = cmd.synthetic.parent().unwrap_or(Path::new("."));
        if dir.join("options.csv").exists() {
            let (c, svg) = chain_consistency(cmd, &real.history, dir, &panel)?;
            consistency = Some(c);
            smile_svg = Some(svg);
        }
        (panel.spots, r)
    } else {
        let h = SpotHistory::from_csv(&cmd.synthetic, None)?;
        let r = vec![h.log_returns()];
        (vec![h.prices().to_vec()], r)
    };
    let cfg = ScorecardConfig {
        facts: FactsConfig {
            tail_fraction: cmd.tail_fraction,
            ..FactsConfig::default()
        },
        window: cmd.window,
        seed: cmd.seed,
        ..ScorecardConfig::default()
    };
    let (training, heldout) = real.all.split_at(real.train_len);
    let card = Scorecard::compute(&real.compare, training, heldout, &synthetic, &cfg)?;
    let pooled: Vec<f64> = synthetic.iter().flatten().copied().collect();
    // Everything is computed before anything is written.
    let charts = [
        plot::return_histogram(&real.compare, &pooled)?,
        plot::qq(&real.compare, &pooled)?,
        plot::acf(&card)?,
        plot::leverage(&card)?,
        plot::kurtosis_horizons(&card)?,
        plot::path_fan(&spots, 10)?,
    ];
    let mut md = report_md(&card, &real.description, &cmd.synthetic);
    if let Some(c) = &consistency {
        md.push_str(&consistency_md(c));
    }
    let card = Scorecard {
        options: consistency,
        ..card
    };
    let json = serde_json::to_string_pretty(&card)
        .map_err(|e| Error::Internal(format!("serialising the scorecard: {e}")))?;
    std::fs::create_dir_all(&cmd.report).map_err(|source| Error::Write {
        path: cmd.report.clone(),
        source,
    })?;
    for ((file, _), svg) in CHARTS.iter().zip(&charts) {
        write_atomic(cmd.report.join(file), svg.as_bytes())?;
    }
    if let Some(svg) = &smile_svg {
        write_atomic(cmd.report.join("smile.svg"), svg.as_bytes())?;
    }
    write_atomic(cmd.report.join("scorecard.json"), json.as_bytes())?;
    write_atomic(cmd.report.join("report.md"), md.as_bytes())?;
    tracing::info!(
        "report written to {} in {:.1} s",
        cmd.report.display(),
        started.elapsed().as_secs_f64()
    );
    Ok((card, real.description))
}

fn print_table(card: &Scorecard, real: &str, cmd: &ValidateCmd) {
    println!("Real: {real}");
    println!(
        "Synthetic: {} ({} paths × {} returns)",
        cmd.synthetic.display(),
        card.synthetic_paths,
        card.synthetic_returns_per_path
    );
    println!(
        "\n{:<58} {:>8} {:>10}  {:>8} {:>5} {:>10} {:>10}",
        "fact (statistic)", "real", "value", "synth", "share", "value", "distance"
    );
    for f in &card.facts {
        println!(
            "{:<58} {:>8} {:>10}  {:>8} {:>4.0}% {:>10} {:>10}",
            f.fact,
            yes(f.real_present),
            num(f.real_value),
            yes(f.synthetic_present),
            100.0 * f.synthetic_share,
            num(f.synthetic_value),
            num(f.distance)
        );
    }
    println!("\n{:<40} {:>10}", "distance (0 = identical)", "value");
    for (name, v) in card.distance_rows() {
        println!("{name:<40} {:>10}", num(v));
    }
    let d = &card.discriminative;
    println!(
        "{:<40} {:>10}  (± {:.3}; 0.5 = indistinguishable)",
        "discriminative accuracy",
        num(d.accuracy),
        d.standard_error
    );
    let m = &card.memorization;
    println!(
        "{:<40} {:>10}  (Z_U {:.2}, {} replays, median NN {} vs held-out {})",
        "memorization audit",
        if m.passed { "passed" } else { "FAILED" },
        m.z_u,
        m.replays,
        num(m.median_nn_synthetic),
        num(m.median_nn_heldout)
    );
    println!("\nReport: {}", cmd.report.join("report.md").display());
}

/// The chains' cross-consistency (see [`synthmarket::facts::consistency`]), read
/// from `dir/options.csv` and `dir/run.json` beside the spot file; `real` is
/// the `--real` history, whose returns go beside `--vix`.
fn chain_consistency(
    cmd: &ValidateCmd,
    real: &SpotHistory,
    dir: &Path,
    panel: &SpotPanel,
) -> Result<(Consistency, String)> {
    let info = MarketInfo::read(dir)?;
    let names = [
        "path",
        "step",
        "maturity",
        "strike",
        "option_type",
        "price",
        "implied_vol",
        "expiry",
        "vega",
    ];
    let mut rdr = ChainReader::open(&dir.join("options.csv"), &names, None)?;
    let index: std::collections::HashMap<&str, usize> = panel
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut chains: Vec<std::collections::BTreeMap<usize, ChainAtm>> =
        vec![Default::default(); panel.ids.len()];
    let (mut pairs, mut worst) = (0usize, 0.0f64);
    let mut last_call: Option<(usize, usize, f64, f64, f64)> = None;
    // The first path's calls per step, (maturity, ln(K/F), IV), for the smile chart.
    let mut first_path: std::collections::BTreeMap<usize, Vec<(f64, f64, f64)>> =
        Default::default();
    // The certifier, one chain (path, step) at a time.
    let tol = Tolerance {
        price: ARBITRAGE_TOLERANCE,
        variance: ARBITRAGE_TOLERANCE,
    };
    let mut certified = ArbitrageSummary {
        tolerance: ARBITRAGE_TOLERANCE,
        ..Default::default()
    };
    let mut chain: (Option<(usize, usize)>, ChainQuotes) = Default::default();
    let mut certify = |chain: &mut (Option<(usize, usize)>, ChainQuotes)| {
        if let Some((p, k)) = chain.0.take() {
            certified.chains += 1;
            certified.options += chain.1.len();
            for v in chain.1.check(tol) {
                let kind = format!("{:?}", v.kind).to_lowercase();
                if certified.examples.len() < 5 {
                    certified.examples.push(format!(
                        "path {} step {k} expiry {}: {kind} at strikes {:?}, size {:.2e}",
                        panel.ids[p],
                        chain.1.label(v.expiry),
                        v.strikes,
                        v.size
                    ));
                }
                *certified.violations.entry(kind).or_default() += 1;
            }
        }
        chain.1.clear();
    };
    while rdr.next_record()? {
        let invalid = |i: usize| rdr.error(i, format!("`{}` is not valid here", rdr.text(i)));
        let p = *index.get(rdr.text(0)).ok_or_else(|| invalid(0))?;
        let k: usize = rdr.text(1).parse().map_err(|_| invalid(1))?;
        let (t, strike, price) = (
            rdr.number(2, false)?,
            rdr.number(3, false)?,
            rdr.number(5, false)?,
        );
        let s = *panel.spots[p].get(k).ok_or_else(|| invalid(1))?;
        let forward = s * ((info.rate - info.dividend) * t).exp();
        let implied_vol = rdr.number(6, true)?;
        let option_type: OptionType = rdr.text(4).parse().map_err(|_| invalid(4))?;
        if p == 0 && option_type == OptionType::Call {
            first_path
                .entry(k)
                .or_default()
                .push((t, (strike / forward).ln(), implied_vol));
        }
        match option_type {
            OptionType::Call => {
                chains[p]
                    .entry(k)
                    .or_default()
                    .offer(t, implied_vol, (strike / forward).ln());
                last_call = Some((p, k, t, strike, price));
            }
            OptionType::Put => {
                if let Some((cp, ck, ct, cs, cprice)) = last_call.take() {
                    if (cp, ck) == (p, k) && ct == t && cs == strike {
                        let parity = cprice
                            - price
                            - (s * (-info.dividend * t).exp() - strike * (-info.rate * t).exp());
                        worst = worst.max(parity.abs() / s);
                        pairs += 1;
                    }
                }
            }
        }
        if chain.0 != Some((p, k)) {
            certify(&mut chain);
            chain.0 = Some((p, k));
        }
        chain.1.push(
            rdr.text(7),
            Quote {
                expiry: 0,
                maturity: t,
                strike,
                option_type,
                price,
                implied_vol,
                vega: rdr.number(8, true)?,
            },
        );
    }
    certify(&mut chain);
    let paths: Vec<PathChains> = chains
        .iter()
        .enumerate()
        .map(|(p, m)| PathChains {
            iv30: m.iter().map(|(k, a)| (*k, a.iv30())).collect(),
            spot: &panel.spots[p],
            variance: &panel.variances[p],
        })
        .collect();
    let every = info.chain_every;
    let real_index = match &cmd.vix {
        Some(v) => Some((real_vol_index(real, v, every)?, v.display().to_string())),
        None => None,
    };
    let mut c = Consistency::compute(&paths, every, (pairs, worst), real_index)?;
    c.arbitrage = Some(certified);
    let chart = smile_chart(&panel.ids[0], &first_path, &paths[0])?;
    Ok((c, chart))
}

/// The smile chart of the first path: the smile of the expiry nearest one
/// month at five chain dates spread over the path, and IV30 against the
/// conditional vol at every chain date.
fn smile_chart(
    id: &str,
    calls: &std::collections::BTreeMap<usize, Vec<(f64, f64, f64)>>,
    path: &PathChains,
) -> Result<String> {
    let steps: Vec<usize> = calls.keys().copied().collect();
    let picked: Vec<usize> = if steps.len() <= 5 {
        steps.clone()
    } else {
        (0..5).map(|i| steps[i * (steps.len() - 1) / 4]).collect()
    };
    let month = 21.0 / synthmarket::market::TRADING_DAYS_PER_YEAR;
    let smiles: Vec<plot::Smile> = picked
        .iter()
        .map(|k| {
            let rows = &calls[k];
            let t = rows
                .iter()
                .map(|r| r.0)
                .min_by(|a, b| (a - month).abs().total_cmp(&(b - month).abs()))
                .unwrap_or(month);
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                // A price on its no-arbitrage bound has no vol to show (the
                // deep and GARCH laws put no mass beyond their sampled tails).
                .filter(|r| r.0 == t && r.2 > 0.0)
                .map(|r| (r.1, r.2))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            plot::Smile {
                label: format!(
                    "step {k}: {:.0} days, spot {:.1}, vol {:.1} %",
                    t * synthmarket::market::TRADING_DAYS_PER_YEAR,
                    path.spot.get(*k).copied().unwrap_or(f64::NAN),
                    100.0
                        * path
                            .variance
                            .get(*k)
                            .map_or(f64::NAN, |v| v.max(0.0).sqrt())
                ),
                points,
            }
        })
        .collect();
    let iv30: Vec<(f64, f64)> = path.iv30.iter().map(|&(k, v)| (k as f64, v)).collect();
    let vol: Vec<(f64, f64)> = path
        .iv30
        .iter()
        .filter_map(|&(k, _)| Some((k as f64, path.variance.get(k)?.max(0.0).sqrt())))
        .collect();
    plot::smiles(
        &format!("Implied-vol smiles of path {id}, expiry nearest 1 month"),
        &smiles,
        &iv30,
        &vol,
    )
}

/// The certifier's relative tolerance in `validate` (as `check-arbitrage`'s
/// default): prices to 1e-9 × the slice's largest strike.
const ARBITRAGE_TOLERANCE: f64 = 1e-9;

/// The real index's facts, sampled every `every` trading days, with the
/// returns of `real` over the same dates.
fn real_vol_index(real: &SpotHistory, vix: &Path, every: usize) -> Result<VolIndexFacts> {
    let index = SpotHistory::from_csv(vix, None)?;
    let by_date: std::collections::HashMap<NaiveDate, f64> = real
        .dates()
        .iter()
        .copied()
        .zip(real.prices().iter().copied())
        .collect();
    let series: Vec<(f64, f64)> = index
        .dates()
        .iter()
        .zip(index.prices())
        .filter_map(|(d, v)| by_date.get(d).map(|s| (v / 100.0, *s)))
        .step_by(every.max(1))
        .collect();
    VolIndexFacts::of(&[series], every)
}

fn consistency_md(c: &Consistency) -> String {
    let mut s = String::from("\n## Option chains: cross-consistency\n\n");
    let _ = writeln!(
        s,
        "{} chains; IV30 = 30-day (21 trading days) at-the-money implied vol, interpolated in total variance.\n",
        c.chains
    );
    s.push_str("| check | value | holds |\n|---|---|---|\n");
    let rows = [
        (
            format!(
                "put-call parity vs the path's forward, max error / spot ({} pairs)",
                c.parity_pairs
            ),
            format!("{:.1e}", c.parity_max_error),
            c.parity_max_error < 1e-8,
        ),
        (
            "corr(IV30, conditional vol)".to_string(),
            num(c.iv30_conditional_vol_corr),
            c.iv30_conditional_vol_corr > 0.9,
        ),
        (
            "mean IV30² vs mean next-21-day realised variance".to_string(),
            format!(
                "{} vs {}",
                num(c.mean_implied_variance),
                num(c.mean_realised_variance)
            ),
            c.mean_implied_variance > c.mean_realised_variance,
        ),
    ];
    let mut rows = rows.to_vec();
    if let Some(a) = &c.arbitrage {
        let found: Vec<String> = a
            .violations
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        rows.push((
            format!(
                "static arbitrage (bounds, parity, monotonicity, butterflies, calendar; tolerance {:e}), {} options in {} chains",
                a.tolerance, a.options, a.chains
            ),
            if found.is_empty() {
                "0 violations".to_string()
            } else {
                found.join(", ")
            },
            a.total() == 0,
        ));
    }
    for (name, value, holds) in rows {
        let _ = writeln!(
            s,
            "| {name} | {value} | {} |",
            if holds { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        s,
        "\n| vol index | mean level | vol of vol (annualised) | corr(change, return) | changes |\n|---|---|---|---|---|"
    );
    let mut line = |name: &str, f: &VolIndexFacts| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} |",
            num(f.mean),
            num(f.vol_of_vol),
            num(f.corr_change_return),
            f.changes
        );
    };
    line("synthetic IV30", &c.synthetic_index);
    if let (Some(r), Some(src)) = (&c.real_index, &c.real_index_source) {
        line(&format!("real ({src})"), r);
    }
    s.push_str(
        "\n### Smiles and their dynamics\n\nThe first path's smile (expiry nearest one month) at five dates, and its 30-day at-the-money implied vol against its conditional vol; strikes whose price sits on a no-arbitrage bound (no implied vol) are left out.\n\n![Implied-vol smiles of the first path](smile.svg)\n",
    );
    s
}
