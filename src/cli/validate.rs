//! `synthmarket validate`: the flags, then [`synthmarket::run::validate`]
//! does the work and the scorecard is printed as a table.

use crate::cli::table_number as num;
use clap::Args;
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::facts::scorecard::Scorecard;
use synthmarket::run::validate::{presence as yes, ValidateOptions, ValidateReport};

const AFTER_HELP: &str = "Compares a synthetic market with a real history, fact by fact, and
writes a report. The synthetic input is a spot.csv (every path is scored on its
own and summarised as mean and spread across paths) or a price history.

Scores (0 = identical, except the discriminative accuracy):
  * the noise-aware scorecard: for 21 statistics (kurtosis, tail indices,
    ACF of r, the |r|-ACF at lags 1 to 250, leverage, kurtosis of 5- and
    20-day returns, the largest rise and fall, days beyond ±10 %), where the
    real value falls among the same statistic of synthetic series of the
    real series' length (the paths cut into windows): percentile, two-sided
    rank p-value, z. A statistic matches when p >= 0.05; a model beats
    another when it matches more and has the smaller mean |z|. Simulate at
    least 39 series of the real length for a mismatch to be detectable;
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
    #[arg(long, default_value_t = ValidateOptions::DEFAULT_WINDOW)]
    window: usize,
    /// Tail fraction of the Hill estimator
    #[arg(long, default_value_t = ValidateOptions::DEFAULT_TAIL_FRACTION)]
    tail_fraction: f64,
    /// Seed of the window samples and cross-validation folds
    #[arg(long, default_value_t = ValidateOptions::DEFAULT_SEED)]
    seed: u64,
    /// Real vol index (date plus close in vol points, e.g. data/vix_daily.csv) to compare with the synthetic 30-day implied vol when the market has options.csv; --real supplies the index's returns over the same dates
    #[arg(long)]
    vix: Option<PathBuf>,
    /// Real index on the panel's dates, for a market of many assets: when --synthetic has an asset column (a market model's spot.csv), --real is a wide panel (date, one column per stock) and this is its index
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
}

impl ValidateCmd {
    /// The library's options for these flags.
    pub(crate) fn options(&self) -> ValidateOptions {
        ValidateOptions {
            real: self.real.clone(),
            column: self.column.clone(),
            synthetic: self.synthetic.clone(),
            report: self.report.clone(),
            train_end: self.train_end.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            window: self.window,
            tail_fraction: self.tail_fraction,
            seed: self.seed,
            vix: self.vix.clone(),
            index: self.index.clone(),
        }
    }
}

pub fn run(cmd: ValidateCmd) -> Result<()> {
    if synthmarket::io::market_csv::has_asset_column(&cmd.synthetic)? {
        let r = synthmarket::run::validate_panel::write_panel_report(&cmd.options())?;
        println!("Real: {}", r.real_description);
        println!(
            "Synthetic: {} ({} panels × {} days)\n",
            cmd.synthetic.display(),
            r.synthetic_paths,
            r.synthetic_days
        );
        println!(
            "{:<38} {:>9} {:>9} {:>21} {:>6}  matches",
            "statistic", "real", "median", "synthetic range", "p"
        );
        for f in r.facts.iter().chain(&r.extremes) {
            println!(
                "{:<38} {:>9.4} {:>9.4} [{:>9.4}, {:>9.4}] {:>6}  {}",
                f.name,
                f.real,
                f.median,
                f.min,
                f.max,
                if f.p.is_nan() {
                    "-".to_string()
                } else {
                    format!("{:.3}", f.p)
                },
                if f.matches { "yes" } else { "NO" }
            );
        }
        let m = &r.memorization;
        println!(
            "\nmemorisation audit of the cross-section: {} (Z_U {:.2}, {} replays of {} windows)",
            if m.passed { "passed" } else { "FAILED" },
            m.z_u,
            m.replays,
            m.synthetic_windows
        );
        println!("report: {}/report.md", cmd.report.display());
        return Ok(());
    }
    let ValidateReport {
        scorecard,
        real_description,
    } = write_report(&cmd)?;
    print_table(&scorecard, &real_description, &cmd);
    Ok(())
}

/// Computes the scorecard and writes the report directory (nothing on
/// stdout), as [`synthmarket::run::validate::write_report`].
pub(crate) fn write_report(cmd: &ValidateCmd) -> Result<ValidateReport> {
    synthmarket::run::validate::write_report(&cmd.options())
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
    let sp = &card.spread;
    println!(
        "{:<40} {:>10}  (mean |z| {}; {} series of {} days; p >= 0.05 matches)",
        "noise-aware: statistics matched",
        format!("{} of {}", sp.matched, sp.rows.len()),
        num(sp.mean_abs_z),
        sp.series,
        sp.series_len
    );
    println!("\nReport: {}", cmd.report.join("report.md").display());
}
