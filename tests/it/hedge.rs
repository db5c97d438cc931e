//! `synthmarket hedge` on simulated markets: the discretisation error of a
//! Black–Scholes delta hedge, the variance premium a seller earns, costs,
//! and bad input.

use crate::common::{bin, simulate_into as simulate, stderr};
use std::path::Path;

/// Runs a hedge and reads back pnl.csv: (pnl, implied vol, realised vol, costs).
fn hedge(market: &Path, out: &str, args: &[&str]) -> Vec<(f64, f64, f64, f64)> {
    let out = market.join(out);
    let o = bin()
        .args(["hedge", "-q", "--market"])
        .arg(market)
        .arg("--out")
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out.join("pnl.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
            (v[0], v[2], v[3], v[5])
        })
        .collect()
}

fn mean_se(x: &[f64]) -> (f64, f64, f64) {
    let m = crate::common::moments(x);
    (m.mean, m.se_mean(), m.var.sqrt())
}

/// Under GBM with the model's own (Black–Scholes) deltas the hedging error
/// has mean ≈ 0 and a standard deviation ∝ 1/√(rebalances) (Bertsimas,
/// Kogan & Lo 2000; Derman & Kamal's "When you cannot hedge continuously"
/// gives σ_P&L ≈ √(π/4)·vega·σ/√N for an at-the-money option): weekly
/// rebalancing (every 5th day) has √5 times the daily error, within 20 %.
#[test]
fn gbm_hedging_error_has_mean_zero_and_falls_like_one_over_root_n() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path();
    simulate(
        m,
        &[
            "--model",
            "gbm",
            "--mu",
            "0.08",
            "--sigma",
            "0.25",
            "--rate",
            "0.02",
            "--paths",
            "2000",
            "--steps",
            "70",
            "--options",
            "--months",
            "3",
            "--strikes",
            "8",
        ],
    );
    let daily: Vec<f64> = hedge(m, "d", &["--expiry", "3"])
        .iter()
        .map(|o| o.0)
        .collect();
    let weekly: Vec<f64> = hedge(m, "w", &["--expiry", "3", "--rebalance", "weekly"])
        .iter()
        .map(|o| o.0)
        .collect();
    let (md, sed, sd_d) = mean_se(&daily);
    let (mw, sew, sd_w) = mean_se(&weekly);
    assert!(md.abs() < 3.0 * sed, "daily mean {md} ± {sed}");
    assert!(mw.abs() < 3.0 * sew, "weekly mean {mw} ± {sew}");
    let ratio = sd_w / sd_d / 5f64.sqrt();
    assert!((0.8..1.2).contains(&ratio), "std ratio / √5 = {ratio}");
}

/// Selling above the realised vol pays: in a Heston market priced under the
/// same parameters the hedge is fair on average, and the paths that realise
/// less than the implied vol of the sale earn the seller money (the P&L is
/// ≈ ½∫Γ S²(σ²_implied − σ²_realised) dt). In a GJR-GARCH market whose
/// chains carry the S&P 500's variance premium (λ = 1.38, implied variance
/// above expected realised variance), the seller earns on average.
#[test]
fn selling_above_realised_vol_earns_the_seller_money() {
    let dir = tempfile::tempdir().unwrap();
    let heston = dir.path().join("heston");
    simulate(
        &heston,
        &[
            "--model",
            "heston",
            "--paths",
            "1000",
            "--steps",
            "50",
            "--options",
            "--months",
            "2",
            "--strikes",
            "6",
        ],
    );
    let runs = hedge(&heston, "h", &[]);
    let all: Vec<f64> = runs.iter().map(|o| o.0).collect();
    let (m, se, _) = mean_se(&all);
    assert!(m.abs() < 3.0 * se, "Heston mean P&L {m} ± {se}");
    let below: Vec<f64> = runs.iter().filter(|o| o.2 < o.1).map(|o| o.0).collect();
    let (m, se, _) = mean_se(&below);
    assert!(
        below.len() > 200 && m > 5.0 * se,
        "{} paths: {m} ± {se}",
        below.len()
    );

    let garch = dir.path().join("garch");
    simulate(
        &garch,
        &[
            "--model",
            "garch",
            "--paths",
            "1000",
            "--steps",
            "50",
            "--options",
            "--months",
            "2",
            "--strikes",
            "6",
        ],
    );
    let all: Vec<f64> = hedge(&garch, "h", &[]).iter().map(|o| o.0).collect();
    let (m, se, _) = mean_se(&all);
    assert!(m > 5.0 * se, "GARCH mean P&L {m} ± {se}");
}

/// Costs are charged on every trade and nothing else changes: the P&L with
/// costs is the P&L without them minus the costs paid, path by path.
#[test]
fn costs_lower_the_pnl_by_what_was_paid() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path();
    simulate(
        m,
        &[
            "--paths",
            "50",
            "--steps",
            "40",
            "--options",
            "--months",
            "2",
            "--strikes",
            "5",
        ],
    );
    let free = hedge(m, "a", &["--option", "put", "--moneyness", "0.95"]);
    let paid = hedge(
        m,
        "b",
        &["--option", "put", "--moneyness", "0.95", "--cost-bps", "20"],
    );
    for (f, p) in free.iter().zip(&paid) {
        assert_eq!(f.3, 0.0);
        assert!(p.3 > 0.0);
        assert!((f.0 - p.3 - p.0).abs() < 1e-9, "{f:?} {p:?}");
    }
}

#[test]
fn bad_hedge_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    simulate(&plain, &["--paths", "3", "--steps", "5"]);
    let chains = dir.path().join("chains");
    simulate(
        &chains,
        &[
            "--paths",
            "3",
            "--steps",
            "5",
            "--options",
            "--months",
            "2",
            "--strikes",
            "2",
        ],
    );
    let fails = |market: &Path, args: &[&str], expect: &str| {
        let out = dir.path().join("out");
        let o = bin()
            .args(["hedge", "--market"])
            .arg(market)
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
        assert!(!out.exists());
    };
    fails(&plain, &[], "no option chains");
    fails(
        &chains,
        &["--rebalance", "fortnightly"],
        "`rebalance` = fortnightly",
    );
    fails(
        &chains,
        &["--strike", "101.3"],
        "`strike` = 101.3: not quoted",
    );
    fails(&chains, &["--strike", "100"], "paths end on");
    fails(&chains, &["--expiry", "4"], "quotes 2 expiries");
    fails(&chains, &["--cost-bps", "5000"], "`cost`");
}
