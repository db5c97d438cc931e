//! The market model (issue 37): the shipped `models/sp500-panel` against
//! the real S&P 500 panel, bit-identical paths at any thread count, a small
//! market trained from scratch, and the runs and model files it refuses.

use crate::common::{data, run, stderr};
use std::path::{Path, PathBuf};
use synthmarket::deep::panel::{PanelGenerator, PanelModel};
use synthmarket::facts::{extreme_rows, panel_fact_rows, panel_facts, spearman, PanelFacts};
use synthmarket::market::{PanelHistory, PathChunk, SpotHistory, TimeGrid};
use synthmarket::run::train_panel::simulate_panel_returns;
use synthmarket::sim::Driver;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500-panel")
}

/// The real panel's log returns: the 20 stocks, then the index.
fn real_returns() -> Vec<Vec<f64>> {
    let panel = PanelHistory::from_csv(data("sp500_20stocks_1990_2018.csv")).unwrap();
    let index = SpotHistory::from_csv(data("sp500_index_1990_2018.csv"), None).unwrap();
    panel
        .assets()
        .iter()
        .chain([&index])
        .map(SpotHistory::log_returns)
        .collect()
}

/// 20 synthetic panels as long as the real one (7,306 days), seed 42: the
/// evaluation of the model card (`models/sp500-panel/MODEL_CARD.md`). Every
/// fact's real value lies inside the 20 panels' range (a rank test at level
/// 2/21 = 9.5 %): mean correlation, top eigenvalue share, eigenvalues above
/// the Marchenko–Pastur edge, correlation in the most volatile decile and
/// in the calm half, median excess kurtosis and |r| autocorrelations, the
/// index's kurtosis; the betas keep their rank order (median Spearman ≥
/// 0.8). The high/calm correlation ratio is a training target (the market
/// exponents' multiplier is set by simulated moments on it, on the
/// training days and other seeds), so its match is not a test of the
/// model; the calm and volatile correlations separately still are.
///
/// Extremes (issue 37 point 3): each stock's and the index's largest and
/// smallest real day against the 20 panels' range of the same statistic,
/// both ways: the model should neither miss real crashes (AAPL's −73 % log
/// day of 2000-09-29, RRC's −110 % of 1990-04-10, which the jump component
/// makes reachable) nor make every path's extreme larger than history's.
/// The index's two lie inside their range, and so do AAPL's and RRC's
/// crashes. Of the 40 stocks' extremes, a
/// correct model leaves each outside its range with probability 2/21 (the
/// rank test's level), 3.8 of 40 on average, and all 40 inside only 1.8 %
/// of the time (were they independent); at most 8 outside is asserted
/// (P(Binomial(40, 2/21) ≥ 9) = 1.1 %). The shipped model has 2 (CVX's
/// and UNH's largest days, 0.189 and 0.298 in log, above all 20 panels'
/// 0.146 and 0.281).
#[test]
fn shipped_market_reproduces_the_real_cross_section() {
    let model = PanelModel::load(&shipped()).unwrap();
    let names = model.assets().to_vec();
    let real_r = real_returns();
    let real = panel_facts(&real_r[..20], &real_r[20]).unwrap();
    let days = 7306;
    let grid = TimeGrid::new(days, 1.0 / 252.0).unwrap();
    let gen = PanelGenerator::new(model, &grid).unwrap();
    let sims = simulate_panel_returns(&gen, 42, 20, days).unwrap();
    let syn: Vec<PanelFacts> = sims
        .iter()
        .map(|p| panel_facts(&p[..20], &p[20]).unwrap())
        .collect();
    let rows = panel_fact_rows(&real, &syn);
    assert_eq!(rows.len(), 11);
    for r in &rows {
        assert!(r.matches, "{r:?}");
    }
    let extremes = extreme_rows(&names, &real_r, &sims);
    assert_eq!(extremes.len(), 42);
    let (stocks, index) = extremes.split_at(40);
    for r in index {
        assert!(r.name.starts_with("index") && r.matches, "{r:?}");
    }
    let outside: Vec<_> = stocks.iter().filter(|r| !r.matches).collect();
    assert!(outside.len() <= 8, "{outside:?}");
    // The crashes the jump component is there for stay reachable.
    for name in ["AAPL smallest day", "RRC smallest day"] {
        let r = stocks.iter().find(|r| r.name == name).unwrap();
        assert!(r.matches, "{r:?}");
    }
    // Correlation rises with the index's volatility in every panel.
    for f in &syn {
        assert!(f.corr_high_vol > 1.5 * f.corr_calm, "{f:?}");
        assert!(spearman(&f.betas, &real.betas) >= 0.8);
    }
}

fn spots(paths: u64, chunk: usize, threads: usize) -> Vec<u64> {
    let model = PanelModel::load(&shipped()).unwrap();
    let grid = TimeGrid::new(60, 1.0 / 252.0).unwrap();
    let gen = PanelGenerator::new(model, &grid).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        Driver::new(5, paths)
            .chunk_paths(chunk)
            .collect(&gen, 60, |c: &PathChunk| {
                (0..c.paths())
                    .flat_map(|p| {
                        (0..21)
                            .flat_map(|a| c.spot_series(p, a).map(f64::to_bits).collect::<Vec<_>>())
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .concat()
    })
}

#[test]
fn market_paths_are_bit_identical_at_any_thread_count_and_chunking() {
    let reference = spots(7, 7, 1);
    assert_eq!(spots(7, 2, 3), reference);
    assert_eq!(spots(7, 1, 4), reference);
    // Path i does not depend on how many paths were asked for.
    let fewer = spots(3, 3, 2);
    assert_eq!(fewer[..], reference[..fewer.len()]);
}

/// Three stocks of the shipped panel over its first 1,400 days: the market
/// trains, its betas are the OLS betas of the training and validation days
/// (checked against the closed form cov/var computed here), it saves and
/// loads back equal, and `simulate` writes 4 assets per step.
#[test]
fn a_small_market_trains_saves_and_simulates() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("sp500_20stocks_1990_2018.csv")).unwrap();
    let idx = std::fs::read_to_string(data("sp500_index_1990_2018.csv")).unwrap();
    let keep = |line: &str, cols: &[usize]| {
        let f: Vec<&str> = line.split(',').collect();
        cols.iter().map(|&c| f[c]).collect::<Vec<_>>().join(",")
    };
    let panel: Vec<String> = text
        .lines()
        .take(1401)
        .map(|l| keep(l, &[0, 5, 10, 20]))
        .collect();
    let index: Vec<String> = idx.lines().take(1401).map(str::to_string).collect();
    let pfile = crate::common::write(dir.path(), "panel.csv", &(panel.join("\n") + "\n"));
    let ifile = crate::common::write(dir.path(), "index.csv", &(index.join("\n") + "\n"));
    let out = dir.path().join("mkt");
    let mut opts = synthmarket::run::TrainOptions::new(vec![pfile.clone()], &out);
    opts.epochs = 3;
    opts.index_candidates = 2;
    let trained = synthmarket::run::train_panel(&opts, &ifile, |_| {}).unwrap();
    assert_eq!(trained.model.assets(), ["CVX", "KO", "XOM", "index"]);
    // Two index nets, from seeds 42 and 43, each scored on the 21
    // statistics of the noise-aware scorecard; one is kept, and it is the
    // one that scored best: within the runaway guard first, then more
    // matched, then the nearer extremes.
    let c = &trained.metrics.training.index_candidates;
    assert_eq!(c.iter().map(|c| c.seed).collect::<Vec<_>>(), [42, 43]);
    assert!(c.iter().all(|c| c.statistics == 21
        && c.mean_abs_z.is_finite()
        && c.extremes_distance >= 0.0
        && c.guard_distance >= 0.0));
    let kept: Vec<_> = c.iter().filter(|c| c.chosen).collect();
    assert_eq!(kept.len(), 1);
    let (kept, other) = (kept[0], c.iter().find(|c| !c.chosen).unwrap());
    let within = |c: &synthmarket::deep::panel::index::IndexCandidate| {
        c.guard_distance <= synthmarket::deep::select::GUARD
    };
    let order = |c| (!within(c), std::cmp::Reverse(c.matched));
    assert!(
        order(kept) < order(other)
            || (order(kept) == order(other) && kept.extremes_distance <= other.extremes_distance),
        "{c:?}"
    );
    let loaded = PanelModel::load(&out).unwrap();
    assert_eq!(loaded.config(), trained.model.config());
    // OLS betas on returns 1..fit_end (the test part, 15 %, excluded).
    let p = PanelHistory::from_csv(&pfile).unwrap();
    let rm = SpotHistory::from_csv(&ifile, None).unwrap().log_returns();
    let n_returns = rm.len();
    assert_eq!(n_returns, 1399);
    let fit_end = n_returns - (n_returns as f64 * 0.15).round() as usize;
    for (a, b) in p.assets().iter().zip(&loaded.config().betas) {
        let r = a.log_returns();
        let (x, y) = (&rm[..fit_end], &r[..fit_end]);
        let n = fit_end as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let cov: f64 = x.iter().zip(y).map(|(u, v)| (u - mx) * (v - my)).sum();
        let var: f64 = x.iter().map(|u| (u - mx) * (u - mx)).sum();
        assert!(
            (cov / var - b).abs() < 1e-12,
            "{}: {b} vs {}",
            a.column(),
            cov / var
        );
    }
    let o = run(&[
        "simulate",
        "-q",
        "--model",
        "deep",
        "--model-path",
        out.to_str().unwrap(),
        "--paths",
        "2",
        "--steps",
        "5",
        "--out",
        dir.path().join("run").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let spot = std::fs::read_to_string(dir.path().join("run/spot.csv")).unwrap();
    let mut lines = spot.lines();
    assert_eq!(lines.next(), Some("path,step,date,asset,spot,variance"));
    assert_eq!(lines.count(), 2 * 6 * 4);
    assert!(spot.contains(",index,"));
}

#[test]
fn market_runs_it_cannot_do_are_refused_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = shipped();
    for extra in [
        vec!["--options", "--strike-step", "5"],
        vec!["--options", "--chain-pricing", "nested"],
        vec!["--s0", "100"],
        vec!["--history", "data/sp500_daily.csv", "--from", "2008-09-12"],
    ] {
        let out = dir.path().join("run");
        let mut args = vec![
            "simulate",
            "-q",
            "--model",
            "deep",
            "--model-path",
            model.to_str().unwrap(),
            "--paths",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra.iter().copied());
        let o = crate::common::bin()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(!out.exists(), "{extra:?} left output");
    }
}

/// `--index-candidates` belongs to market training: without `--index`, or
/// at 0, it is refused with its name, exit 2, before any output.
#[test]
fn index_flags_out_of_place_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let (panel, index) = (
        data("sp500_20stocks_1990_2018.csv"),
        data("sp500_index_1990_2018.csv"),
    );
    let (panel, index, o) = (
        panel.to_str().unwrap(),
        index.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let single = |flag: &'static str, value: &'static str| {
        vec!["train", "-q", "--data", index, flag, value, "--out", o]
    };
    for (args, flag) in [
        (single("--index-candidates", "3"), "index-candidates"),
        (single("--index-variance-core", "on"), "index-variance-core"),
        (
            single("--index-feature-squash", "4,1.5"),
            "index-feature-squash",
        ),
        (
            single("--index-feature-squash", "off"),
            "index-feature-squash",
        ),
        (
            vec![
                "train",
                "-q",
                "--data",
                panel,
                "--index",
                index,
                "--index-candidates",
                "0",
                "--out",
                o,
            ],
            "index-candidates",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(flag), "{}", stderr(&r));
        assert!(!out.exists(), "{args:?} left output");
    }
}

/// A panel.json whose copula correlation is not positive definite is named
/// with its file and field, exit 2.
#[test]
fn a_broken_panel_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("m");
    let src = shipped();
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        let to = copy.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let path = copy.join("panel.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["copula"]["correlation"][0][1] = serde_json::json!(0.99);
    json["copula"]["correlation"][1][0] = serde_json::json!(0.99);
    json["copula"]["correlation"][0][2] = serde_json::json!(-0.99);
    json["copula"]["correlation"][2][0] = serde_json::json!(-0.99);
    json["copula"]["correlation"][1][2] = serde_json::json!(0.99);
    json["copula"]["correlation"][2][1] = serde_json::json!(0.99);
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    let err = PanelModel::load(&copy).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.contains("panel.json") && msg.contains("positive definite"),
        "{msg}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `validate` on a market: a wide real panel plus its index against a
/// synthetic `spot.csv` with an asset column writes the panel report (the
/// facts with verdicts, the extremes, the cross-section's memorisation
/// audit, three charts); without `--index`, or with a ticker the synthetic
/// market lacks, it stops with exit 2 and writes nothing.
#[test]
fn validate_reads_a_wide_panel_and_a_long_market() {
    let dir = tempfile::tempdir().unwrap();
    let market = dir.path().join("mkt");
    crate::common::simulate_into(
        &market,
        &[
            "--model",
            "deep",
            "--model-path",
            shipped().to_str().unwrap(),
            "--paths",
            "6",
            "--steps",
            "400",
        ],
    );
    let spot = market.join("spot.csv");
    let real = data("sp500_20stocks_1990_2018.csv");
    let index = data("sp500_index_1990_2018.csv");
    let report = dir.path().join("report");
    let args = |with_index: bool, real: &Path, report: &Path| {
        let mut a: Vec<String> = vec![
            "validate".into(),
            "--real".into(),
            real.display().to_string(),
            "--synthetic".into(),
            spot.display().to_string(),
            "--report".into(),
            report.display().to_string(),
        ];
        if with_index {
            a.extend(["--index".into(), index.display().to_string()]);
        }
        a
    };
    let o = crate::common::bin()
        .args(args(true, &real, &report))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = crate::common::stdout(&o);
    assert!(
        out.contains("mean pairwise correlation") && out.contains("memorisation audit"),
        "{out}"
    );
    for f in [
        "report.md",
        "panel.json",
        "correlation.svg",
        "eigenvalues.svg",
        "correlation_vs_vol.svg",
    ] {
        assert!(report.join(f).exists(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("panel.json")).unwrap()).unwrap();
    assert_eq!(json["synthetic_paths"], 6);
    assert_eq!(json["synthetic_days"], 400);
    assert_eq!(json["assets"].as_array().unwrap().len(), 21);
    assert_eq!(json["memorization"]["replays"], 0);

    let no_index = dir.path().join("r2");
    let o = crate::common::bin()
        .args(args(false, &real, &no_index))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--index") || stderr(&o).contains("`index`"),
        "{}",
        stderr(&o)
    );
    assert!(!no_index.exists());

    // A real panel with a ticker the market does not have.
    let text = std::fs::read_to_string(&real).unwrap();
    let renamed = crate::common::write(dir.path(), "other.csv", &text.replacen("AAPL", "ZZZZ", 1));
    let other = dir.path().join("r3");
    let o = crate::common::bin()
        .args(args(true, &renamed, &other))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ZZZZ") && stderr(&o).contains("spot.csv"),
        "{}",
        stderr(&o)
    );
    assert!(!other.exists());
}
