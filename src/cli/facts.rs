use clap::Args;
use std::path::PathBuf;
use synthmarket::error::{Error, Result};
use synthmarket::facts::{Facts, FactsConfig};
use synthmarket::io::spot_csv::read_series;

const AFTER_HELP: &str = "Input: a price history (date plus adj_close/close or --column), or a
simulate output spot.csv (columns path,step,...,spot), in which case the facts
are computed per path and reported as mean and spread across paths, with the
share of paths where each fact is present.

Statistics on daily log returns: mean, annualised vol, skewness, excess
kurtosis, Hill index of each tail, ACF of r (lags 1-20, band 1.96/sqrt(n)),
ACF of |r| and r^2 (lags 1-250) with a power-law decay exponent, leverage
corr(r_t, |r_t+k|), kurtosis of 1/5/20/60-day sums, gain/loss waiting times.

Example:
  synthmarket facts --input data/sp500_daily.csv
  synthmarket facts --input out/spot.csv";

/// `synthmarket facts`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct FactsCmd {
    /// Price history or spot.csv
    #[arg(long)]
    input: PathBuf,
    /// Price column of a history [default: adj_close if present, else close]
    #[arg(long)]
    column: Option<String>,
    /// Tail fraction of the Hill estimator
    #[arg(long, default_value_t = 0.05)]
    tail_fraction: f64,
}

pub fn run(cmd: FactsCmd) -> Result<()> {
    if !(cmd.tail_fraction > 0.0 && cmd.tail_fraction < 0.5) {
        return Err(Error::parameter(
            "tail-fraction",
            cmd.tail_fraction,
            "must lie in (0, 0.5)",
        ));
    }
    let cfg = FactsConfig {
        tail_fraction: cmd.tail_fraction,
        ..FactsConfig::default()
    };
    let series = read_series(&cmd.input, cmd.column.as_deref())?;
    let facts: Vec<Facts> = series
        .iter()
        .map(|r| Facts::of_returns(r, &cfg))
        .collect::<Result<_>>()?;
    let n = facts.len() as f64;
    let stat = |f: &dyn Fn(&Facts) -> f64| {
        let v: Vec<f64> = facts.iter().map(f).collect();
        let m = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        (m, sd)
    };
    println!(
        "Stylized facts of {}: {} series of {} daily returns{}",
        cmd.input.display(),
        facts.len(),
        facts[0].n,
        if facts.len() > 1 {
            " (mean ± sd across paths)"
        } else {
            ""
        }
    );
    /// A statistic to print: its name and how to read it off a series' facts.
    type Row = (&'static str, fn(&Facts) -> f64);
    let rows: [Row; 10] = [
        ("annualised vol", |f: &Facts| f.annual_vol),
        ("skewness", |f: &Facts| f.skewness),
        ("excess kurtosis", |f: &Facts| f.excess_kurtosis),
        ("Hill index, left tail", |f: &Facts| f.hill_left),
        ("Hill index, right tail", |f: &Facts| f.hill_right),
        ("acf r, lag 1", |f: &Facts| f.acf_r[0]),
        ("acf |r|, lag 1", |f: &Facts| f.acf_abs[0]),
        ("acf |r|, lag 100", |f: &Facts| {
            f.acf_abs.get(99).copied().unwrap_or(f64::NAN)
        }),
        ("acf |r| decay exponent", |f: &Facts| f.decay_abs),
        ("corr(r_t, |r_t+1|)", |f: &Facts| f.leverage_abs[0]),
    ];
    for (name, f) in &rows {
        let (m, sd) = stat(f);
        if facts.len() > 1 {
            println!("  {name:<26} {m:>10.4} ± {sd:.4}");
        } else {
            println!("  {name:<26} {m:>10.4}");
        }
    }
    let horizons: Vec<String> = facts[0]
        .kurtosis_by_horizon
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            format!(
                "{h}d {:.2}",
                stat(&|f: &Facts| f.kurtosis_by_horizon[i].1).0
            )
        })
        .collect();
    println!(
        "  {:<26} {}",
        "excess kurtosis by horizon",
        horizons.join(", ")
    );
    println!("  white-noise band: ±{:.4}", facts[0].band);
    println!("Facts (share of series where present):");
    let verdicts: Vec<_> = facts.iter().map(|f| f.verdicts()).collect();
    for (i, v) in verdicts[0].iter().enumerate() {
        let share = verdicts.iter().filter(|vs| vs[i].present).count() as f64 / n;
        let word = if share >= 0.5 { "present" } else { "absent" };
        println!("  {:<58} {word:<8} {:>4.0} %", v.fact, 100.0 * share);
    }
    Ok(())
}
