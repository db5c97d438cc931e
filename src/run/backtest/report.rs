//! The backtest's report directory: `backtest.md` (the table across models
//! with how each was fitted), `backtest.csv` (one row per model),
//! `backtest.json` (everything), `one_day.csv` (per model and test day) and
//! per model a fan chart, a PIT histogram and the exceedance timeline.

use super::outcome::{BacktestReport, ModelBacktest};
use super::score::{INTERVAL, VAR_LEVELS};
use crate::error::{Error, Result};
use crate::io::{table_number, write_atomic};
use crate::market::SpotHistory;
use crate::plot::forecast as charts;
use std::fmt::Write as _;
use std::path::Path;

/// The file-name stem of a model's charts.
fn slug(model: &str) -> String {
    match model {
        "GJR-GARCH-t" => "garch".into(),
        other => other.to_lowercase(),
    }
}

fn pct(level: f64) -> String {
    format!("{} %", (100.0 * level).round())
}

/// `backtest.md`.
pub fn markdown(rep: &BacktestReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Forecast backtest\n");
    let _ = writeln!(
        s,
        "Data: {}. Every model is fitted (or trained) on the {} returns up to {} and sees nothing later; its state is then filtered through the real returns, and it forecasts each test day from the close before it. Test: {}.\n",
        rep.data, rep.train_days, rep.train_to, rep.test_period
    );
    let _ = writeln!(
        s,
        "One day ahead from every test day (VaR, PIT, CRPS); from {} rolling origins ({} to {}), {} simulated paths each, the central {:.0} % interval and the PIT at each horizon. Seed {}.\n",
        rep.origins.len(),
        rep.origins.first().map_or(String::new(), |d| d.to_string()),
        rep.origins.last().map_or(String::new(), |d| d.to_string()),
        rep.draws,
        100.0 * INTERVAL,
        rep.seed
    );
    if let Some(c) = &rep.command_line {
        let _ = writeln!(s, "`{c}`\n");
    }
    s.push_str(&summary(rep));
    let _ = writeln!(s, "\n## The models\n");
    for m in &rep.models {
        let _ = writeln!(
            s,
            "- **{}**: {}. One-day law: {}.",
            m.model, m.description, m.one_day.method
        );
    }
    s.push_str(READING);
    s
}

/// The table across models (metric rows, one column per model), as
/// `backtest.md` holds it and `synthmarket backtest` prints it.
pub fn summary(rep: &BacktestReport) -> String {
    let mut s = String::from("| metric |");
    for m in &rep.models {
        let _ = write!(s, " {} |", m.model);
    }
    let _ = write!(s, "\n|---|");
    for _ in &rep.models {
        let _ = write!(s, "---|");
    }
    s.push('\n');
    let mut row = |name: String, cell: &dyn Fn(&ModelBacktest) -> String| {
        let _ = write!(s, "| {name} |");
        for m in &rep.models {
            let _ = write!(s, " {} |", cell(m));
        }
        s.push('\n');
    };
    for (i, level) in VAR_LEVELS.iter().enumerate() {
        let l = pct(*level);
        row(
            format!("{l} VaR exceedances (n = {})", rep.test_days),
            &|m| m.one_day.var[i].exceedances.to_string(),
        );
        row(format!("{l} VaR exceedance rate"), &|m| {
            format!("{:.4}", m.one_day.var[i].rate)
        });
        row(format!("{l} Kupiec POF p"), &|m| {
            table_number(m.one_day.var[i].kupiec.p_value)
        });
        row(format!("{l} Christoffersen independence p"), &|m| {
            table_number(m.one_day.var[i].independence.p_value)
        });
        row(format!("{l} conditional coverage p"), &|m| {
            table_number(m.one_day.var[i].conditional_coverage.p_value)
        });
    }
    row("PIT KS p (1 day)".into(), &|m| {
        table_number(m.one_day.pit_ks.p_value)
    });
    row("PIT Berkowitz p (1 day)".into(), &|m| {
        table_number(m.one_day.berkowitz.p_value)
    });
    row("mean CRPS (% log return)".into(), &|m| {
        format!("{:.5}", m.one_day.crps)
    });
    if rep.models.iter().any(|m| m.crps_ratio_to_gbm.is_some()) {
        row("CRPS ratio to GBM".into(), &|m| {
            m.crps_ratio_to_gbm
                .map_or("n/a".into(), |x| format!("{x:.4}"))
        });
    }
    let horizons: Vec<usize> = rep.models.first().map_or(Vec::new(), |m| {
        m.horizons.iter().map(|h| h.horizon).collect()
    });
    for (j, h) in horizons.iter().enumerate() {
        row(
            format!("h = {h}: {:.0} % coverage", 100.0 * INTERVAL),
            &|m| {
                let x = &m.horizons[j];
                format!("{:.4} ({}/{})", x.coverage, x.covered, x.origins)
            },
        );
        row(format!("h = {h}: PIT KS p"), &|m| {
            table_number(m.horizons[j].pit_ks.p_value)
        });
    }
    s
}

/// How to read the table (`backtest.md`).
const READING: &str = "\n## Reading the table\n\n\
A p-value below 0.05 rejects the model at the 5 % level. **Kupiec**: is the exceedance rate the level? **Christoffersen independence**: do exceedances cluster (a hit more likely the day after a hit)? **Conditional coverage**: both at once. **PIT KS**: is the realised return's quantile under the forecast uniform? **Berkowitz**: are the PITs' normal scores i.i.d. N(0, 1) against a Gaussian AR(1)? **CRPS**: the continuous ranked probability score (Gneiting & Raftery 2007), the forecast's distance to what happened, in percent log return; lower is better, and its ratio to GBM's shows what conditioning on the state gains. The multi-day rows come from few origins (one every few weeks) and have little power: read them as a sanity check.\n\n\
Charts: `fan_<model>.svg` (forecast fans from consecutive origins around the test period's worst move, with the realised price), `pit_<model>.svg` (one-day PIT histogram), `exceedances_<model>.svg` (returns against the VaRs).\n";

/// `backtest.csv`: one row per model.
fn table_csv(rep: &BacktestReport) -> String {
    let mut s = String::from("model,test_days,origins,draws");
    for l in VAR_LEVELS {
        let p = (100.0 * l).round();
        let _ = write!(
            s,
            ",var{p}_exceedances,var{p}_rate,var{p}_kupiec_p,var{p}_independence_p,var{p}_conditional_coverage_p"
        );
    }
    s.push_str(",pit_ks_p,berkowitz_p,crps_pct,crps_ratio_to_gbm");
    if let Some(m) = rep.models.first() {
        for h in &m.horizons {
            let _ = write!(s, ",h{0}_coverage,h{0}_pit_ks_p", h.horizon);
        }
    }
    s.push('\n');
    for m in &rep.models {
        let _ = write!(
            s,
            "{},{},{},{}",
            m.model,
            rep.test_days,
            rep.origins.len(),
            rep.draws
        );
        for v in &m.one_day.var {
            let _ = write!(
                s,
                ",{},{},{},{},{}",
                v.exceedances,
                v.rate,
                v.kupiec.p_value,
                v.independence.p_value,
                v.conditional_coverage.p_value
            );
        }
        let _ = write!(
            s,
            ",{},{},{},{}",
            m.one_day.pit_ks.p_value,
            m.one_day.berkowitz.p_value,
            m.one_day.crps,
            m.crps_ratio_to_gbm.map_or(String::new(), |x| x.to_string())
        );
        for h in &m.horizons {
            let _ = write!(s, ",{},{}", h.coverage, h.pit_ks.p_value);
        }
        s.push('\n');
    }
    s
}

/// `one_day.csv`: per model and test day, the realised return, the VaRs,
/// the PIT and the CRPS (log-return units).
fn one_day_csv(rep: &BacktestReport, history: &SpotHistory, n_train: usize) -> String {
    let r = history.log_returns();
    let dates = &history.dates()[1..];
    let mut s = String::from("date,model,log_return");
    for l in VAR_LEVELS {
        let _ = write!(s, ",var{}", (100.0 * l).round());
    }
    s.push_str(",pit,crps\n");
    for m in &rep.models {
        let d = &m.one_day.days;
        for (i, t) in (n_train..r.len()).enumerate() {
            let _ = write!(s, "{},{},{}", dates[t], m.model, r[t]);
            for v in &d.var {
                let _ = write!(s, ",{}", v[i]);
            }
            let _ = writeln!(s, ",{},{}", d.pit[i], d.crps[i]);
        }
    }
    s
}

/// Computes the charts, then writes every file of the report.
pub fn write(
    rep: &BacktestReport,
    history: &SpotHistory,
    n_train: usize,
    origins: &[usize],
    dir: &Path,
) -> Result<()> {
    let r = history.log_returns();
    let prices = history.prices();
    // Fans from consecutive origins around the worst move of the longest
    // horizon: how each model met the test period's hardest weeks.
    let max_h = rep
        .models
        .first()
        .and_then(|m| m.fans.first())
        .map_or(1, Vec::len);
    let worst = origins
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let sum = |t: usize| r[t..t + max_h].iter().sum::<f64>();
            sum(*a.1).total_cmp(&sum(*b.1))
        })
        .map_or(0, |(k, _)| k);
    let first = worst.saturating_sub(3);
    let shown: Vec<usize> = (first..(first + 5).min(origins.len())).collect();
    let from = origins[shown[0]].saturating_sub(max_h);
    let to = (origins[*shown.last().unwrap_or(&0)] + max_h).min(r.len());
    let mut files: Vec<(String, String)> = Vec::new();
    for m in &rep.models {
        let stem = slug(&m.model);
        let fans: Vec<charts::Fan> = shown
            .iter()
            .map(|&k| {
                let t = origins[k];
                // prices[t] is the close before day t (returns are one
                // behind the prices).
                charts::Fan {
                    origin: t,
                    quantiles: m.fans[k]
                        .iter()
                        .map(|q| q.map(|x| prices[t] * x.exp()))
                        .collect(),
                }
            })
            .collect();
        let realised: Vec<(usize, f64)> = (from..=to).map(|t| (t, prices[t])).collect();
        files.push((
            format!("fan_{stem}.svg"),
            charts::fan(
                &format!(
                    "{}: forecast fans (5-95 %, 25-75 %, median) and the realised price",
                    m.model
                ),
                &realised,
                &fans,
                &|x| history.dates()[x.min(prices.len() - 1)].to_string(),
            )?,
        ));
        files.push((
            format!("pit_{stem}.svg"),
            charts::pit_histogram(&format!("{}: one-day PIT", m.model), &m.one_day.days.pit)?,
        ));
        files.push((
            format!("exceedances_{stem}.svg"),
            charts::exceedances(
                &format!("{}: returns and one-day VaR", m.model),
                &r[n_train..],
                &m.one_day.days.var,
                &VAR_LEVELS,
            )?,
        ));
    }
    let json = serde_json::to_string_pretty(rep)
        .map_err(|e| Error::Internal(format!("serialising the backtest: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    for (name, svg) in &files {
        write_atomic(dir.join(name), svg.as_bytes())?;
    }
    write_atomic(
        dir.join("one_day.csv"),
        one_day_csv(rep, history, n_train).as_bytes(),
    )?;
    write_atomic(dir.join("backtest.csv"), table_csv(rep).as_bytes())?;
    write_atomic(dir.join("backtest.json"), json.as_bytes())?;
    write_atomic(dir.join("backtest.md"), markdown(rep).as_bytes())?;
    Ok(())
}
