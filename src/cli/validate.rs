use crate::cli::table_number as num;
use crate::error::{Error, Result};
use crate::facts::scorecard::{Scorecard, ScorecardConfig};
use crate::facts::FactsConfig;
use crate::io::spot_csv::SpotPanel;
use crate::io::write_atomic;
use crate::market::parse_iso_date;
use crate::market::SpotHistory;
use crate::plot;
use chrono::NaiveDate;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

Output in --report DIR: report.md, scorecard.json, and SVG charts
(returns_histogram, qq, acf, leverage, kurtosis_horizons, paths_fan).

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
    let (spots, synthetic): (Vec<Vec<f64>>, Vec<Vec<f64>>) = if is_panel {
        let panel = SpotPanel::read(&cmd.synthetic)?;
        let r = panel.log_returns();
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
    let json = serde_json::to_string_pretty(&card)
        .map_err(|e| Error::Internal(format!("serialising the scorecard: {e}")))?;
    let md = report_md(&card, &real.description, &cmd.synthetic);
    std::fs::create_dir_all(&cmd.report).map_err(|source| Error::Write {
        path: cmd.report.clone(),
        source,
    })?;
    for ((file, _), svg) in CHARTS.iter().zip(&charts) {
        write_atomic(cmd.report.join(file), svg.as_bytes())?;
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
