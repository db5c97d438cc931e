//! Scoring a synthetic market against a real history (`synthmarket
//! validate`): the [`Scorecard`] of stylized facts, distances,
//! discriminator and memorization audit, and for a market with chains their
//! cross-consistency and the static-arbitrage certifier; written as a report
//! directory (report.md, scorecard.json, SVG charts).
//!
//! Both faces (the CLI, the Python module) fill a [`ValidateOptions`] and
//! call [`write_report`]; printing the scorecard is theirs.

use crate::error::{Error, Result};
use crate::facts::consistency::{
    ArbitrageSummary, ChainAtm, Consistency, PathChains, VolIndexFacts,
};
use crate::facts::scorecard::{Scorecard, ScorecardConfig};
use crate::facts::FactsConfig;
use crate::io::chain_csv::ChainReader;
use crate::io::parquet::market_file;
use crate::io::spot_csv::{is_spot_csv, SpotPanel};
use crate::io::table_number as num;
use crate::io::write_atomic;
use crate::market::SpotHistory;
use crate::market::{parse_iso_date, OptionType};
use crate::plot;
use crate::pricing::arbitrage::{ChainQuotes, Quote, Tolerance};
use crate::run::manifest::MarketInfo;
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The settings of a validation, one field per flag of `synthmarket
/// validate` (the error messages name the flags: `tail-fraction`,
/// `train-end`, `from/to`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateOptions {
    /// Real price history (date plus `adj_close`/`close` or [`Self::column`]).
    pub real: PathBuf,
    /// Price column of the real history; `None`: `adj_close` if present,
    /// else `close`.
    pub column: Option<String>,
    /// Synthetic market: a `spot.csv` from a simulation (every path scored
    /// on its own), or a price history. A `spot.csv` with an `options.csv`
    /// and `run.json` beside it also has its chains checked.
    pub synthetic: PathBuf,
    /// Report directory (created if missing).
    pub report: PathBuf,
    /// Last date (YYYY-MM-DD) of the generator's training data; `None`: the
    /// first 80 % of the real returns.
    pub train_end: Option<String>,
    /// Compare with real returns from this date on (YYYY-MM-DD).
    pub from: Option<String>,
    /// Compare with real returns up to this date (YYYY-MM-DD).
    pub to: Option<String>,
    /// Window length in days of the discriminator and the memorization audit.
    pub window: usize,
    /// Tail fraction of the Hill estimator, in (0, 0.5).
    pub tail_fraction: f64,
    /// Seed of the window samples and cross-validation folds.
    pub seed: u64,
    /// Real vol index (date plus close in vol points, e.g. the VIX) to
    /// compare with the synthetic 30-day implied vol when the market has
    /// chains; [`Self::real`] supplies its returns over the same dates.
    pub vix: Option<PathBuf>,
    /// The real index on the panel's dates, for a panel validation (a
    /// synthetic `spot.csv` with an `asset` column against a wide real
    /// panel: see [`crate::run::validate_panel`]).
    pub index: Option<PathBuf>,
}

impl ValidateOptions {
    /// Default of [`Self::window`].
    pub const DEFAULT_WINDOW: usize = 20;
    /// Default of [`Self::tail_fraction`].
    pub const DEFAULT_TAIL_FRACTION: f64 = 0.05;
    /// Default of [`Self::seed`].
    pub const DEFAULT_SEED: u64 = 42;

    /// Options comparing `synthetic` with `real` into the report directory
    /// `report`, everything else at its default (the whole real history,
    /// no vol index).
    pub fn new(
        real: impl Into<PathBuf>,
        synthetic: impl Into<PathBuf>,
        report: impl Into<PathBuf>,
    ) -> Self {
        ValidateOptions {
            real: real.into(),
            column: None,
            synthetic: synthetic.into(),
            report: report.into(),
            train_end: None,
            from: None,
            to: None,
            window: Self::DEFAULT_WINDOW,
            tail_fraction: Self::DEFAULT_TAIL_FRACTION,
            seed: Self::DEFAULT_SEED,
            vix: None,
            index: None,
        }
    }
}

/// What [`write_report`] computed (and wrote into the report directory).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateReport {
    /// The scorecard, with the chains' cross-consistency when the market has
    /// them (as written to `scorecard.json`).
    pub scorecard: Scorecard,
    /// The real data in words: file, column, the compared range and the
    /// training / held-out split (the report's `Real:` line).
    pub real_description: String,
}

fn date_arg(flag: &str, s: &Option<String>) -> Result<Option<NaiveDate>> {
    s.as_deref()
        .map(|v| {
            parse_iso_date(v).map_err(|m| Error::parameter(flag, v, format!("not a date: {m}")))
        })
        .transpose()
}

/// How the reports write a fact's verdict: `present` or `absent`.
pub fn presence(present: bool) -> &'static str {
    if present {
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

fn real_data(opts: &ValidateOptions) -> Result<RealData> {
    let hist = SpotHistory::from_csv(&opts.real, opts.column.as_deref())?;
    let r = hist.log_returns();
    // Return i is dated dates[i + 1].
    let dates = &hist.dates()[1..];
    let train_len = match date_arg("train-end", &opts.train_end)? {
        Some(d) => dates.partition_point(|x| *x <= d),
        None => (r.len() as f64 * 0.8).round() as usize,
    };
    let from = date_arg("from", &opts.from)?;
    let to = date_arg("to", &opts.to)?;
    let lo = from.map_or(0, |d| dates.partition_point(|x| *x < d));
    let hi = to.map_or(r.len(), |d| dates.partition_point(|x| *x <= d));
    if hi <= lo + 100 {
        return Err(Error::parameter(
            "from/to",
            format!(
                "{}..{}",
                opts.from.as_deref().unwrap_or("start"),
                opts.to.as_deref().unwrap_or("end")
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
        opts.real.display(),
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
    let sp = &card.spread;
    let _ = writeln!(s, "## Noise-aware scorecard\n");
    let _ = writeln!(
        s,
        "Where the real value of each statistic falls among the same statistic of {} synthetic \
         series of {} daily returns{}: its percentile, the two-sided rank p-value and \
         z = (real − mean)/sd. A statistic **matches** when p ≥ 0.05. **{} of {} match; mean |z| {}.** \
         (One model beats another when it matches more statistics and has the smaller mean |z|.)\n",
        sp.series,
        sp.series_len,
        if sp.paths_shorter_than_real {
            " (the paths are shorter than the real series, so the spread is that of shorter series: wider)"
        } else {
            ", the real series' length"
        },
        sp.matched,
        sp.rows.len(),
        num(sp.mean_abs_z)
    );
    if sp.series < 39 {
        let _ = writeln!(
            s,
            "*With {} synthetic series the smallest attainable p is 2/{} ≥ 0.05: no statistic can fail. \
             Simulate at least 39 series of the real length.*\n",
            sp.series,
            sp.series + 1
        );
    }
    s.push_str(&sp.rows_markdown());
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
            presence(f.real_present),
            num(f.real_value),
            presence(f.synthetic_present),
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

const CHARTS: [(&str, &str); 7] = [
    ("returns_histogram.svg", "Return distribution (log density)"),
    ("qq.svg", "QQ plot against the normal"),
    ("acf.svg", "ACF of r and |r|"),
    ("leverage.svg", "Leverage profile"),
    ("kurtosis_horizons.svg", "Kurtosis across horizons"),
    ("paths_fan.svg", "Sample paths"),
    (
        "spread.svg",
        "Noise-aware scorecard: percentiles of the real values",
    ),
];

/// Computes the scorecard of `opts.synthetic` against `opts.real` and
/// writes the report directory `opts.report`: report.md, scorecard.json and
/// the SVG charts (returns_histogram, qq, acf, leverage, kurtosis_horizons,
/// paths_fan, spread, and with chains smile). Everything is computed before
/// anything is written; nothing goes to stdout.
pub fn write_report(opts: &ValidateOptions) -> Result<ValidateReport> {
    if !(opts.tail_fraction > 0.0 && opts.tail_fraction < 0.5) {
        return Err(Error::parameter(
            "tail-fraction",
            opts.tail_fraction,
            "must lie in (0, 0.5)",
        ));
    }
    if crate::io::market_csv::has_asset_column(&opts.synthetic)? {
        return Err(Error::parameter(
            "synthetic",
            opts.synthetic.display(),
            "a multi-asset market (an asset column): validate it against a real panel with run::validate_panel::write_panel_report (the CLI does this itself)",
        ));
    }
    refuse_index(opts)?;
    let started = std::time::Instant::now();
    let real = real_data(opts)?;
    let is_panel = is_spot_csv(&opts.synthetic)?;
    let mut consistency = None;
    let mut smile_svg = None;
    let (spots, synthetic): (Vec<Vec<f64>>, Vec<Vec<f64>>) = if is_panel {
        let panel = SpotPanel::read(&opts.synthetic)?;
        let r = panel.log_returns();
        let dir = opts.synthetic.parent().unwrap_or(Path::new("."));
        if market_file(dir, "options").exists() {
            let (c, svg) = chain_consistency(opts, &real.history, dir, &panel)?;
            consistency = Some(c);
            smile_svg = Some(svg);
        }
        (panel.spots, r)
    } else {
        let h = SpotHistory::from_csv(&opts.synthetic, None)?;
        let r = vec![h.log_returns()];
        (vec![h.prices().to_vec()], r)
    };
    let cfg = ScorecardConfig {
        facts: FactsConfig {
            tail_fraction: opts.tail_fraction,
            ..FactsConfig::default()
        },
        window: opts.window,
        seed: opts.seed,
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
        plot::spread(&card.spread)?,
    ];
    let mut md = report_md(&card, &real.description, &opts.synthetic);
    if let Some(c) = &consistency {
        md.push_str(&consistency_md(c));
    }
    let card = Scorecard {
        options: consistency,
        ..card
    };
    let json = serde_json::to_string_pretty(&card)
        .map_err(|e| Error::Internal(format!("serialising the scorecard: {e}")))?;
    std::fs::create_dir_all(&opts.report).map_err(|source| Error::Write {
        path: opts.report.clone(),
        source,
    })?;
    for ((file, _), svg) in CHARTS.iter().zip(&charts) {
        write_atomic(opts.report.join(file), svg.as_bytes())?;
    }
    if let Some(svg) = &smile_svg {
        write_atomic(opts.report.join("smile.svg"), svg.as_bytes())?;
    }
    write_atomic(opts.report.join("scorecard.json"), json.as_bytes())?;
    write_atomic(opts.report.join("report.md"), md.as_bytes())?;
    tracing::info!(
        "report written to {} in {:.1} s",
        opts.report.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ValidateReport {
        scorecard: card,
        real_description: real.description,
    })
}

fn refuse_index(opts: &ValidateOptions) -> Result<()> {
    match &opts.index {
        Some(p) => Err(Error::parameter(
            "index",
            p.display(),
            "applies to a panel validation (a synthetic spot.csv with an asset column)",
        )),
        None => Ok(()),
    }
}

/// The chains' cross-consistency (see [`crate::facts::consistency`]), read
/// from `dir/options.csv` and `dir/run.json` beside the spot file; `real` is
/// the real history, whose returns go beside `opts.vix`.
fn chain_consistency(
    opts: &ValidateOptions,
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
    let mut rdr = ChainReader::open(&market_file(dir, "options"), &names, None)?;
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
    let real_index = match &opts.vix {
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
    let month = 21.0 / crate::market::TRADING_DAYS_PER_YEAR;
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
                    t * crate::market::TRADING_DAYS_PER_YEAR,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_start_at_the_cli_defaults() {
        let o = ValidateOptions::new("real.csv", "spot.csv", "report");
        assert_eq!((o.window, o.tail_fraction, o.seed), (20, 0.05, 42));
        assert_eq!((o.train_end, o.from, o.to, o.vix), (None, None, None, None));
    }

    #[test]
    fn a_bad_tail_fraction_is_refused_before_anything_is_read_or_written() {
        let dir = std::env::temp_dir().join(format!("synthmarket-validate-{}", std::process::id()));
        for tail in [0.0, 0.5, 0.7, f64::NAN] {
            let opts = ValidateOptions {
                tail_fraction: tail,
                ..ValidateOptions::new(dir.join("none.csv"), dir.join("none.csv"), &dir)
            };
            let e = write_report(&opts).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("`tail-fraction`"), "{e}");
        }
        assert!(!dir.exists());
    }

    #[test]
    fn verdict_words() {
        assert_eq!((presence(true), presence(false)), ("present", "absent"));
    }
}
