//! Validating a synthetic market of many assets against a real panel
//! (`synthmarket validate --real PANEL.csv --index INDEX.csv --synthetic
//! spot.csv`, issue 37 point 6): the cross-sectional facts with their
//! noise-aware verdicts, each asset's extremes, the memorisation audit of
//! the whole cross-section, and three charts (the correlation matrices side
//! by side, the eigenvalue spectrum, correlation against the index's
//! volatility), written as a report directory.

use super::validate::ValidateOptions;
use crate::error::{Error, Location, Result};
use crate::facts::memorization::{audit_panel, MemorizationAudit, MemorizationConfig};
use crate::facts::{
    extreme_rows, panel_fact_rows, panel_facts, panel_shape, PanelFactRow, PanelFacts, PanelShape,
};
use crate::io::market_csv::MarketSpots;
use crate::io::write_atomic;
use crate::market::{parse_iso_date, PanelHistory, SpotHistory};
use crate::plot::panel as charts;
use serde::Serialize;
use std::fmt::Write as _;

/// What a panel validation measured (as written to `panel.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelValidation {
    /// The real data in words.
    pub real_description: String,
    /// Stocks compared (the real panel's columns), then `index`.
    pub assets: Vec<String>,
    /// Synthetic panels (paths) and their days.
    pub synthetic_paths: usize,
    /// Days per synthetic path.
    pub synthetic_days: usize,
    /// Real days.
    pub real_days: usize,
    /// The cross-sectional facts, real against the synthetic panels.
    pub facts: Vec<PanelFactRow>,
    /// Each asset's largest and smallest day, real against synthetic.
    pub extremes: Vec<PanelFactRow>,
    /// The memorisation audit of the whole cross-section.
    pub memorization: MemorizationAudit,
    /// The real panel's facts.
    pub real: PanelFacts,
}

/// The report's chart files.
pub const PANEL_CHARTS: [(&str, &str); 3] = [
    (
        "correlation.svg",
        "correlation matrices, real and synthetic",
    ),
    ("eigenvalues.svg", "eigenvalue spectrum"),
    (
        "correlation_vs_vol.svg",
        "correlation against the index's volatility",
    ),
];

fn refuse(flag: &str, set: bool) -> Result<()> {
    if set {
        return Err(Error::parameter(
            flag,
            "(set)",
            "does not apply to a panel validation (a synthetic spot.csv with an asset column)",
        ));
    }
    Ok(())
}

/// Validates the multi-asset market `opts.synthetic` against the wide real
/// panel `opts.real` and its index `opts.index`, and writes the report
/// directory (`report.md`, `panel.json`, three SVG charts). Everything is
/// computed before anything is written.
pub fn write_panel_report(opts: &ValidateOptions) -> Result<PanelValidation> {
    refuse("column", opts.column.is_some())?;
    refuse("from", opts.from.is_some())?;
    refuse("to", opts.to.is_some())?;
    refuse("vix", opts.vix.is_some())?;
    let index_file = opts.index.as_ref().ok_or_else(|| {
        Error::parameter(
            "index",
            "(missing)",
            "a panel validation needs the real index on the panel's dates (--index FILE)",
        )
    })?;
    let panel = PanelHistory::from_csv(&opts.real)?;
    let index = SpotHistory::from_csv(index_file, None)?;
    panel.check_same_dates(&index)?;
    let market = MarketSpots::read(&opts.synthetic)?;
    // The synthetic assets in the real panel's order, the index last.
    let names: Vec<String> = panel
        .names()
        .into_iter()
        .map(str::to_string)
        .chain(["index".to_string()])
        .collect();
    let order = names
        .iter()
        .map(|n| {
            market.assets.iter().position(|a| a == n).ok_or_else(|| {
                Error::input(
                    Location::file(&opts.synthetic).field("asset"),
                    format!(
                        "the real panel has `{n}` but the synthetic market's assets are {:?}",
                        market.assets
                    ),
                )
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let real_r: Vec<Vec<f64>> = panel
        .assets()
        .iter()
        .chain([&index])
        .map(SpotHistory::log_returns)
        .collect();
    let d = names.len();
    let real_days = real_r[0].len();
    let sims: Vec<Vec<Vec<f64>>> = market
        .log_returns()
        .into_iter()
        .map(|p| order.iter().map(|&a| p[a].clone()).collect())
        .collect();
    let synthetic_days = sims[0][0].len();
    let real = panel_facts(&real_r[..d - 1], &real_r[d - 1])?;
    let syn: Vec<PanelFacts> = sims
        .iter()
        .map(|p| panel_facts(&p[..d - 1], &p[d - 1]))
        .collect::<Result<_>>()
        .map_err(|e| {
            Error::parameter(
                "synthetic",
                opts.synthetic.display(),
                format!("the synthetic panels' facts: {e}"),
            )
        })?;
    let facts = panel_fact_rows(&real, &syn);
    let extremes = extreme_rows(&names, &real_r, &sims);
    // The generator's training days: up to --train-end, else the first 80 %.
    let dates = &panel.dates()[1..];
    let train_len = match &opts.train_end {
        Some(s) => {
            let day = parse_iso_date(s)
                .map_err(|m| Error::parameter("train-end", s, format!("not a date: {m}")))?;
            dates.partition_point(|x| *x <= day)
        }
        None => (real_days as f64 * 0.8).round() as usize,
    };
    let (training, heldout): (Vec<Vec<f64>>, Vec<Vec<f64>>) = real_r
        .iter()
        .map(|r| (r[..train_len].to_vec(), r[train_len..].to_vec()))
        .unzip();
    let memorization = audit_panel(
        &training,
        &heldout,
        &sims,
        &MemorizationConfig {
            window: opts.window,
            seed: opts.seed,
            ..MemorizationConfig::default()
        },
    )?;
    let real_shape = panel_shape(&real_r[..d - 1], &real_r[d - 1])?;
    let shapes: Vec<PanelShape> = sims
        .iter()
        .map(|p| panel_shape(&p[..d - 1], &p[d - 1]))
        .collect::<Result<_>>()?;
    let n = d - 1;
    let median_corr: Vec<f64> = (0..n * n)
        .map(|k| {
            let mut v: Vec<f64> = shapes.iter().map(|s| s.correlation[k]).collect();
            v.sort_by(f64::total_cmp);
            let m = v.len();
            0.5 * (v[(m - 1) / 2] + v[m / 2])
        })
        .collect();
    let svgs = [
        charts::correlation_matrices(&real_shape.correlation, &median_corr, &names[..n])?,
        charts::eigen_spectrum(&real_shape, &shapes)?,
        charts::correlation_vs_vol(&real_shape, &shapes)?,
    ];
    let span = |a: usize, b: usize| {
        if b > a {
            format!("{} to {}", dates[a], dates[b - 1])
        } else {
            "none".to_string()
        }
    };
    let real_description = format!(
        "{} ({} stocks) and the index {}: {} returns; generator training data {} ({} returns), held out {} ({} returns)",
        opts.real.display(),
        n,
        index_file.display(),
        real_days,
        span(0, train_len),
        train_len,
        span(train_len, real_days),
        real_days - train_len
    );
    let report = PanelValidation {
        real_description,
        assets: names,
        synthetic_paths: sims.len(),
        synthetic_days,
        real_days,
        facts,
        extremes,
        memorization,
        real,
    };
    let md = report_md(&report, opts);
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::Internal(format!("serialising the panel report: {e}")))?;
    std::fs::create_dir_all(&opts.report).map_err(|source| Error::Write {
        path: opts.report.clone(),
        source,
    })?;
    for ((file, _), svg) in PANEL_CHARTS.iter().zip(&svgs) {
        write_atomic(opts.report.join(file), svg.as_bytes())?;
    }
    write_atomic(opts.report.join("panel.json"), json.as_bytes())?;
    write_atomic(opts.report.join("report.md"), md.as_bytes())?;
    Ok(report)
}

/// The rows as a Markdown table.
pub fn rows_md(rows: &[PanelFactRow]) -> String {
    let mut s = String::from(
        "| statistic | real | synthetic median | synthetic range | p | matches |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | [{:.4}, {:.4}] | {} | {} |",
            r.name.replace('|', "\\|"),
            r.real,
            r.median,
            r.min,
            r.max,
            if r.p.is_nan() {
                "–".to_string()
            } else {
                format!("{:.3}", r.p)
            },
            if r.matches { "yes" } else { "**no**" }
        );
    }
    s
}

fn report_md(r: &PanelValidation, opts: &ValidateOptions) -> String {
    let mut s = String::from("# Panel validation\n\n");
    let _ = writeln!(s, "Real: {}\n", r.real_description);
    let _ = writeln!(
        s,
        "Synthetic: {} ({} panels × {} days).\n",
        opts.synthetic.display(),
        r.synthetic_paths,
        r.synthetic_days
    );
    if r.synthetic_days != r.real_days {
        let _ = writeln!(
            s,
            "Note: the synthetic panels have {} days and the real one {}: each fact's spread \
             is that of the synthetic length, wider for shorter panels.\n",
            r.synthetic_days, r.real_days
        );
    }
    let _ = writeln!(
        s,
        "A fact matches when the real value lies inside the synthetic panels' range and its \
         two-sided rank p-value is at least 0.05 (with N panels the smallest p is 2/(N + 1)).\n"
    );
    let ok = r.facts.iter().filter(|f| f.matches).count();
    let _ = writeln!(s, "## Cross-section ({ok} of {} match)\n", r.facts.len());
    s.push_str(&rows_md(&r.facts));
    let ok = r.extremes.iter().filter(|f| f.matches).count();
    let _ = writeln!(s, "\n## Extremes ({ok} of {} inside)\n", r.extremes.len());
    s.push_str(&rows_md(&r.extremes));
    let m = &r.memorization;
    let _ = writeln!(
        s,
        "\n## Memorisation audit of the cross-section\n\nWindows of {} days of every asset \
         (each divided by its real training sd): median distance to the nearest training window \
         {:.4} synthetic against {:.4} held-out real; Mann-Whitney Z_U {:.2}; {} replays of {} \
         synthetic windows: **{}**.\n",
        m.window,
        m.median_nn_synthetic,
        m.median_nn_heldout,
        m.z_u,
        m.replays,
        m.synthetic_windows,
        if m.passed { "passed" } else { "FAILED" }
    );
    s.push_str("\n## Charts\n\n");
    for (file, what) in PANEL_CHARTS {
        let _ = writeln!(s, "![{what}]({file})\n");
    }
    s
}
