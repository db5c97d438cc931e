//! `synthmarket demo`: the whole pipeline on shipped defaults, as the
//! commands a user would type, each printed before it runs.

use crate::cli::table_number as num;
use crate::cli::{Cli, Command};
use clap::{Args, Parser};
use std::path::{Path, PathBuf};
use synthmarket::error::{Error, Result};
use synthmarket::io::write_atomic;

const AFTER_HELP: &str = "Runs, on the shipped defaults and the bundled S&P 500 history:
  1. simulate: the pretrained deep generator, Heston, and GJR-GARCH-t, each
     with weekly option chains (3 listed monthly expiries x 11 strikes,
     calls and puts; the deep model's from its stored risk-neutral pricing
     table and GJR-GARCH's from its law table, both with the S&P 500
     variance premium);
  2. validate: the stylized-fact scorecard of every model against the real
     S&P 500 (1999-2018), with charts, and for the markets with chains their
     cross-consistency (parity, IV30 against the conditional vol, variance
     risk premium, the IV30 index against the real VIX) and the static-arbitrage
     certifier on every chain (as `check-arbitrage` does for one file);
  3. hedge: sell the second listed at-the-money call and delta-hedge it
     weekly on every path of each market;
  4. simulate from a real date: the deep model's futures from the S&P 500's
     state at the close of 2008-09-12 (the Friday before Lehman's
     bankruptcy), 63 trading days, drawn as a fan with what happened;
  5. a market: 20 S&P 500 stocks and the index generated jointly by the
     shipped market model (models/sp500-panel), one trading year with
     monthly chains on every asset (certified by check-arbitrage), validated
     against the real 1990-2018 panel (correlations in calm and volatile
     regimes, eigenvalues, the cross-section's memorisation audit).
Each step is printed as the command that does it, so the demo doubles as a
tutorial. Output (OUT = --out):
  OUT/sp500_daily.csv, OUT/vix_daily.csv the real histories used
  OUT/{deep,heston,garch}/spot.csv       paths with their variance state
  OUT/{deep,heston,garch}/options.csv    the chains (path, step, date, expiry, strike, type, price, iv, greeks)
  OUT/*/run.json                         everything needed to reproduce the run
  OUT/*/report/                          report.md, scorecard.json and SVG charts
  OUT/{deep,heston,garch}/hedge/         hedged P&L per path, report and chart
  OUT/from-2008/spot.csv, fan.svg        futures from 2008-09-12 and the realised path
  OUT/market/spot.csv, options.csv,      the market and its chains (asset column)
  OUT/market/report/                     and its panel report";

/// `synthmarket demo`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct DemoCmd {
    /// Output directory
    #[arg(long, default_value = "synthmarket-demo")]
    out: PathBuf,
    /// Paths per model
    #[arg(long, default_value_t = 200)]
    paths: usize,
    /// Trading days per path (at least 100, for the scorecard)
    #[arg(long, default_value_t = 252)]
    steps: usize,
    /// Seed of every simulation
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// The S&P 500 history shipped in `data/` (see data/PROVENANCE.md), so the
/// demo runs from a bare binary anywhere.
const SP500: &[u8] = include_bytes!("../../data/sp500_daily.csv");

/// The VIX closes shipped in `data/` (2014-2018), for the chains' vol index.
const VIX: &[u8] = include_bytes!("../../data/vix_daily.csv");

/// Parses one command line of the tool (as a user would type it, without
/// the program name), printing it first.
fn command(line: &[String]) -> Result<Command> {
    println!("\n$ synthmarket {}", line.join(" "));
    let cli =
        Cli::try_parse_from(std::iter::once("synthmarket".to_string()).chain(line.iter().cloned()))
            .map_err(|e| Error::Internal(format!("demo command line: {e}")))?;
    Ok(cli.command)
}

/// Runs a `simulate` command line (printed first), quiet if `quiet`.
fn run_simulate(mut line: Vec<String>, quiet: bool) -> Result<()> {
    if quiet {
        line.push("-q".into());
    }
    match command(&line)? {
        Command::Simulate(c) => crate::cli::simulate::run(*c, quiet),
        _ => Err(Error::Internal("demo: expected a simulate line".into())),
    }
}

fn args(parts: &[&str], path_args: &[(&str, &Path)]) -> Vec<String> {
    parts
        .iter()
        .map(|s| s.to_string())
        .chain(
            path_args
                .iter()
                .flat_map(|(flag, p)| [flag.to_string(), p.display().to_string()]),
        )
        .collect()
}

pub fn run(cmd: DemoCmd, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    if cmd.steps < 100 {
        return Err(Error::parameter(
            "steps",
            cmd.steps,
            "the scorecard's fact battery needs at least 100 daily returns per path",
        ));
    }
    if cmd.paths < 2 {
        return Err(Error::parameter(
            "paths",
            cmd.paths,
            "the hedge P&L distribution needs at least 2 paths",
        ));
    }
    let out = &cmd.out;
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.clone(),
        source,
    })?;
    let real = out.join("sp500_daily.csv");
    write_atomic(&real, SP500)?;
    let vix = out.join("vix_daily.csv");
    write_atomic(&vix, VIX)?;
    let (paths, steps, seed) = (
        cmd.paths.to_string(),
        cmd.steps.to_string(),
        cmd.seed.to_string(),
    );
    // Weekly chains of 3 expiries x 11 strikes keep options.csv near 100 MB
    // per model; `simulate --options` alone writes daily chains of 6 x 21.
    const CHAINS: &[&str] = &[
        "--options",
        "--months",
        "3",
        "--strikes",
        "5",
        "--chain-every",
        "5",
    ];
    let models: [(&str, &[&str]); 3] = [("deep", CHAINS), ("heston", CHAINS), ("garch", CHAINS)];
    println!(
        "synthmarket demo: {} paths x {} trading days per model into {}",
        cmd.paths,
        cmd.steps,
        out.display()
    );
    let mut rows = Vec::new();
    for (name, extra) in models {
        let dir = out.join(name);
        let mut line = args(
            &[
                "simulate", "--model", name, "--paths", &paths, "--steps", &steps, "--seed", &seed,
            ],
            &[("--out", &dir)],
        );
        line.extend(extra.iter().map(|s| s.to_string()));
        // The demo's directory is its own: a rerun with other settings
        // replaces it.
        line.push("--overwrite".into());
        run_simulate(line, quiet)?;
        let report = dir.join("report");
        let mut line = args(
            &["validate"],
            &[
                ("--real", &real),
                ("--synthetic", &dir.join("spot.csv")),
                ("--report", &report),
            ],
        );
        if !extra.is_empty() {
            line.extend(["--vix".to_string(), vix.display().to_string()]);
        }
        let card = match command(&line)? {
            Command::Validate(c) => crate::cli::validate::write_report(&c)?.scorecard,
            _ => return Err(Error::Internal("demo: expected a validate line".into())),
        };
        println!("  -> {}", report.join("report.md").display());
        if let Some(c) = &card.options {
            println!(
                "  -> chains: parity error {:.1e} x spot; corr(IV30, conditional vol) {}; mean IV30² {} vs next-21-day realised {}",
                c.parity_max_error,
                num(c.iv30_conditional_vol_corr),
                num(c.mean_implied_variance),
                num(c.mean_realised_variance)
            );
            let f = &c.synthetic_index;
            println!(
                "  -> IV30 index: mean {}, vol of vol {}, corr(change, return) {}{}",
                num(f.mean),
                num(f.vol_of_vol),
                num(f.corr_change_return),
                c.real_index.as_ref().map_or(String::new(), |r| format!(
                    " (real VIX 2014-2018: {}, {}, {})",
                    num(r.mean),
                    num(r.vol_of_vol),
                    num(r.corr_change_return)
                ))
            );
        }
        if let Some(a) = card.options.as_ref().and_then(|c| c.arbitrage.as_ref()) {
            println!(
                "  -> arbitrage certifier: {} options in {} chains, {} violation(s)",
                a.options,
                a.chains,
                a.total()
            );
        }
        let mut hedge = None;
        if !extra.is_empty() {
            let line = args(&["hedge", "--rebalance", "weekly"], &[("--market", &dir)]);
            let summary = match command(&line)? {
                Command::Hedge(c) => crate::cli::hedge::execute(&c, quiet, false)?,
                _ => return Err(Error::Internal("demo: expected a hedge line".into())),
            };
            println!(
                "  -> short ATM call, weekly delta hedge: mean P&L {} ± {}, std {}, 95 % ES {} (premium {}); {}",
                num(summary.mean),
                num(summary.std_error),
                num(summary.std),
                num(summary.expected_shortfall_95),
                num(summary.mean_premium),
                dir.join("hedge").join("report.md").display()
            );
            hedge = Some(summary);
        }
        rows.push((name, card, hedge));
    }

    from_a_real_date(out, &real, &paths, &seed, quiet)?;
    // A few one-year panels: 10 paths x 252 days x 21 assets.
    market(out, &cmd.paths.min(10).to_string(), &seed, quiet)?;

    println!("\nScorecard against the real S&P 500, 1999-2018 (distances: 0 = identical; lower is better):");
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "model", "W1 1d", "acf |r|", "leverage", "Hill L", "Hill R", "discrim.", "memoriz."
    );
    for (name, card, _) in &rows {
        let d = &card.distances;
        println!(
            "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            name,
            num(d.wasserstein.first().map_or(f64::NAN, |w| w.1)),
            num(d.acf_abs),
            num(d.leverage_abs),
            num(d.hill_left),
            num(d.hill_right),
            num(card.discriminative.accuracy),
            if card.memorization.passed {
                "passed"
            } else {
                "FAILED"
            }
        );
    }
    println!(
        "(discrim. = accuracy of a classifier telling real from synthetic 20-day windows, 0.5 = indistinguishable;\n memoriz. = synthetic windows no closer to the training data than held-out real windows are)"
    );
    println!(
        "\nEverything is in {}/ (finished in {:.1} s). Next: open */report/report.md, or try\n  synthmarket hedge --market {} --option put --moneyness 0.95 --rebalance weekly --cost-bps 5",
        out.display(),
        started.elapsed().as_secs_f64(),
        out.join("heston").display()
    );
    Ok(())
}

/// The date the demo's conditioned run starts from: the Friday before
/// Lehman Brothers filed for bankruptcy.
const FROM: &str = "2008-09-12";

/// Trading days simulated from [`FROM`] (a quarter).
const FROM_STEPS: usize = 63;

/// Step 4: the deep model's futures from the real state on [`FROM`], and a
/// fan chart with the realised closes drawn over it.
fn from_a_real_date(out: &Path, real: &Path, paths: &str, seed: &str, quiet: bool) -> Result<()> {
    use synthmarket::io::spot_csv::SpotPanel;
    use synthmarket::market::{parse_iso_date, SpotHistory};
    use synthmarket::plot::forecast::{fan, Fan};
    let dir = out.join("from-2008");
    let steps = FROM_STEPS.to_string();
    let line = args(
        &[
            "simulate",
            "--model",
            "deep",
            "--from",
            FROM,
            "--paths",
            paths,
            "--steps",
            &steps,
            "--seed",
            seed,
            "--overwrite",
        ],
        &[("--history", real), ("--out", &dir)],
    );
    run_simulate(line, quiet)?;
    let panel = SpotPanel::read(&dir.join("spot.csv"))?;
    let history = SpotHistory::from_csv(real, None)?;
    let date = parse_iso_date(FROM).map_err(|m| Error::parameter("from", FROM, m))?;
    let i = history.index_of(date, "from")?;
    let prices = history.prices();
    let end = (i + FROM_STEPS).min(prices.len() - 1);
    let quantiles: Vec<[f64; 5]> = (1..=FROM_STEPS)
        .map(|k| {
            let mut v: Vec<f64> = panel.spots.iter().map(|s| s[k]).collect();
            v.sort_by(f64::total_cmp);
            let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
            [q(0.05), q(0.25), q(0.5), q(0.75), q(0.95)]
        })
        .collect();
    let last = quantiles[FROM_STEPS - 1];
    let realised: Vec<(usize, f64)> = (i.saturating_sub(FROM_STEPS)..=end)
        .map(|t| (t, prices[t]))
        .collect();
    let svg = fan(
        &format!(
            "Deep model from the S&P 500 on {FROM}: {} futures (5-95 %, 25-75 %, median) and what happened",
            panel.spots.len()
        ),
        &realised,
        &[Fan {
            origin: i,
            quantiles,
        }],
        &|x| history.dates()[x.min(prices.len() - 1)].to_string(),
    )?;
    write_atomic(dir.join("fan.svg"), svg.as_bytes())?;
    let below = panel
        .spots
        .iter()
        .filter(|s| s[FROM_STEPS] <= prices[end])
        .count();
    println!(
        "  -> after {FROM_STEPS} days: realised close {} (from {}); the model's 5-95 % range {}-{}, median {}; the realised close is at the {:.1} % point of the {} futures; {}",
        num(prices[end]),
        num(prices[i]),
        num(last[0]),
        num(last[4]),
        num(last[2]),
        100.0 * below as f64 / panel.spots.len() as f64,
        panel.spots.len(),
        dir.join("fan.svg").display()
    );
    Ok(())
}

/// The shipped market model (`models/sp500-panel`: panel.json and each
/// asset's net), written into OUT so the demo runs from a bare binary.
const PANEL_MODEL: &[(&str, &[u8])] = &[
    (
        "panel.json",
        include_bytes!("../../models/sp500-panel/panel.json"),
    ),
    (
        "nets/00-AAPL/config.json",
        include_bytes!("../../models/sp500-panel/nets/00-AAPL/config.json"),
    ),
    (
        "nets/00-AAPL/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/00-AAPL/model.safetensors"),
    ),
    (
        "nets/01-AMD/config.json",
        include_bytes!("../../models/sp500-panel/nets/01-AMD/config.json"),
    ),
    (
        "nets/01-AMD/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/01-AMD/model.safetensors"),
    ),
    (
        "nets/02-BAC/config.json",
        include_bytes!("../../models/sp500-panel/nets/02-BAC/config.json"),
    ),
    (
        "nets/02-BAC/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/02-BAC/model.safetensors"),
    ),
    (
        "nets/03-BBY/config.json",
        include_bytes!("../../models/sp500-panel/nets/03-BBY/config.json"),
    ),
    (
        "nets/03-BBY/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/03-BBY/model.safetensors"),
    ),
    (
        "nets/04-CVX/config.json",
        include_bytes!("../../models/sp500-panel/nets/04-CVX/config.json"),
    ),
    (
        "nets/04-CVX/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/04-CVX/model.safetensors"),
    ),
    (
        "nets/05-GE/config.json",
        include_bytes!("../../models/sp500-panel/nets/05-GE/config.json"),
    ),
    (
        "nets/05-GE/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/05-GE/model.safetensors"),
    ),
    (
        "nets/06-HD/config.json",
        include_bytes!("../../models/sp500-panel/nets/06-HD/config.json"),
    ),
    (
        "nets/06-HD/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/06-HD/model.safetensors"),
    ),
    (
        "nets/07-JNJ/config.json",
        include_bytes!("../../models/sp500-panel/nets/07-JNJ/config.json"),
    ),
    (
        "nets/07-JNJ/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/07-JNJ/model.safetensors"),
    ),
    (
        "nets/08-JPM/config.json",
        include_bytes!("../../models/sp500-panel/nets/08-JPM/config.json"),
    ),
    (
        "nets/08-JPM/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/08-JPM/model.safetensors"),
    ),
    (
        "nets/09-KO/config.json",
        include_bytes!("../../models/sp500-panel/nets/09-KO/config.json"),
    ),
    (
        "nets/09-KO/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/09-KO/model.safetensors"),
    ),
    (
        "nets/10-LLY/config.json",
        include_bytes!("../../models/sp500-panel/nets/10-LLY/config.json"),
    ),
    (
        "nets/10-LLY/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/10-LLY/model.safetensors"),
    ),
    (
        "nets/11-MRK/config.json",
        include_bytes!("../../models/sp500-panel/nets/11-MRK/config.json"),
    ),
    (
        "nets/11-MRK/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/11-MRK/model.safetensors"),
    ),
    (
        "nets/12-MSFT/config.json",
        include_bytes!("../../models/sp500-panel/nets/12-MSFT/config.json"),
    ),
    (
        "nets/12-MSFT/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/12-MSFT/model.safetensors"),
    ),
    (
        "nets/13-PEP/config.json",
        include_bytes!("../../models/sp500-panel/nets/13-PEP/config.json"),
    ),
    (
        "nets/13-PEP/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/13-PEP/model.safetensors"),
    ),
    (
        "nets/14-PFE/config.json",
        include_bytes!("../../models/sp500-panel/nets/14-PFE/config.json"),
    ),
    (
        "nets/14-PFE/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/14-PFE/model.safetensors"),
    ),
    (
        "nets/15-PG/config.json",
        include_bytes!("../../models/sp500-panel/nets/15-PG/config.json"),
    ),
    (
        "nets/15-PG/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/15-PG/model.safetensors"),
    ),
    (
        "nets/16-RRC/config.json",
        include_bytes!("../../models/sp500-panel/nets/16-RRC/config.json"),
    ),
    (
        "nets/16-RRC/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/16-RRC/model.safetensors"),
    ),
    (
        "nets/17-UNH/config.json",
        include_bytes!("../../models/sp500-panel/nets/17-UNH/config.json"),
    ),
    (
        "nets/17-UNH/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/17-UNH/model.safetensors"),
    ),
    (
        "nets/18-WMT/config.json",
        include_bytes!("../../models/sp500-panel/nets/18-WMT/config.json"),
    ),
    (
        "nets/18-WMT/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/18-WMT/model.safetensors"),
    ),
    (
        "nets/19-XOM/config.json",
        include_bytes!("../../models/sp500-panel/nets/19-XOM/config.json"),
    ),
    (
        "nets/19-XOM/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/19-XOM/model.safetensors"),
    ),
    (
        "nets/20-index/config.json",
        include_bytes!("../../models/sp500-panel/nets/20-index/config.json"),
    ),
    (
        "nets/20-index/model.safetensors",
        include_bytes!("../../models/sp500-panel/nets/20-index/model.safetensors"),
    ),
    (
        "pricing.json",
        include_bytes!("../../models/sp500-panel/pricing.json"),
    ),
];

/// The real 20-stock panel and its index (data/PROVENANCE.md).
const PANEL: &[u8] = include_bytes!("../../data/sp500_20stocks_1990_2018.csv");
const PANEL_INDEX: &[u8] = include_bytes!("../../data/sp500_index_1990_2018.csv");

/// Step 5: a market of 20 stocks and the index from the shipped market
/// model, with monthly chains on every asset, certified and validated
/// against the real panel.
fn market(out: &Path, paths: &str, seed: &str, quiet: bool) -> Result<()> {
    let model = out.join("models").join("sp500-panel");
    for (name, bytes) in PANEL_MODEL {
        let path = model.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        write_atomic(&path, bytes)?;
    }
    let real = out.join("sp500_20stocks_1990_2018.csv");
    write_atomic(&real, PANEL)?;
    let index = out.join("sp500_index_1990_2018.csv");
    write_atomic(&index, PANEL_INDEX)?;
    let dir = out.join("market");
    let line = args(
        &[
            "simulate",
            "--model",
            "deep",
            "--paths",
            paths,
            "--steps",
            "252",
            "--seed",
            seed,
            "--options",
            "--months",
            "3",
            "--strikes",
            "5",
            "--chain-every",
            "21",
            "--overwrite",
        ],
        &[("--model-path", &model), ("--out", &dir)],
    );
    run_simulate(line, quiet)?;
    let line = args(
        &["check-arbitrage"],
        &[("--input", &dir.join("options.csv"))],
    );
    let Command::CheckArbitrage(c) = command(&line)? else {
        return Err(Error::Internal(
            "demo: expected a check-arbitrage line".into(),
        ));
    };
    crate::cli::check_arbitrage::run(c)?;
    let report = dir.join("report");
    let line = args(
        &["validate"],
        &[
            ("--real", &real),
            ("--index", &index),
            ("--synthetic", &dir.join("spot.csv")),
            ("--report", &report),
        ],
    );
    let Command::Validate(c) = command(&line)? else {
        return Err(Error::Internal("demo: expected a validate line".into()));
    };
    let v = synthmarket::run::validate_panel::write_panel_report(&c.options())?;
    let get = |name: &str| v.facts.iter().find(|f| f.name == name);
    for name in [
        "mean pairwise correlation",
        "correlation, high-vol decile",
        "correlation, calm half",
    ] {
        if let Some(f) = get(name) {
            println!(
                "  {name:<30} real {:>7}  synthetic median {:>7} (range {} to {} over {} one-year panels)",
                num(f.real),
                num(f.median),
                num(f.min),
                num(f.max),
                v.synthetic_paths
            );
        }
    }
    println!(
        "  memorisation audit of the cross-section: {}; -> {}",
        if v.memorization.passed {
            "passed"
        } else {
            "FAILED"
        },
        report.join("report.md").display()
    );
    Ok(())
}
