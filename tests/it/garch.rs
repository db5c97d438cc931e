//! GJR-GARCH(1,1)-t: the fit recovers simulated parameters within 3
//! standard errors and agrees with an independent implementation on the
//! S&P 500; the generator reproduces the model's moments.

use crate::common::{assert_within, collect_series, data};
use synthmarket::market::{SpotHistory, TimeGrid};
use synthmarket::sim::{garch_log_likelihood, Garch, GarchEstimate, GarchParams};

/// Reference: the `arch` Python package 8.0.0 (K. Sheppard),
/// `arch_model(100·log returns, mean="Constant", vol="GARCH", p=1, o=1, q=1,
/// dist="t").fit()`, on data/sp500_daily.csv adj_close, converted to decimal
/// units: μ = 3.672359e-4, ω = 1.315565e-6, α = 0 (at its bound),
/// γ = 0.1814835, β = 0.8986974, ν = 7.504018; log-likelihood −6748.2709 in
/// percent units, i.e. 16415.71 for decimal returns (+ n·ln 100).
#[test]
fn sp500_fit_matches_the_arch_package() {
    let h = SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap();
    let fit = GarchEstimate::fit(&h).unwrap();
    let p = fit.params;
    eprintln!("{fit:?}");
    let ll_arch = -6748.2708842225 + 5030.0 * 100f64.ln();
    assert!(
        (fit.log_likelihood - ll_arch).abs() < 0.05,
        "loglik {} vs {ll_arch}",
        fit.log_likelihood
    );
    assert!(
        (p.gamma - 0.1814835).abs() < 0.005 && (p.beta - 0.8986974).abs() < 0.005,
        "{p:?}"
    );
    assert!((p.nu - 7.504018).abs() < 0.1 && p.alpha < 0.005, "{p:?}");
    assert!(
        (p.omega / 1.315565e-6 - 1.0).abs() < 0.05 && (p.mu / 3.672359e-4 - 1.0).abs() < 0.05,
        "{p:?}"
    );
}

/// On a long series simulated with known parameters, the fit recovers each
/// within 3 of its standard errors.
#[test]
fn fit_recovers_simulated_parameters_within_3_se() {
    let truth = GarchParams::new(3e-4, 2e-6, 0.03, 0.10, 0.87, 6.0).unwrap();
    let steps = 20_000;
    let g = Garch::new(
        truth,
        100.0,
        None,
        &TimeGrid::new(steps, 1.0 / 252.0).unwrap(),
    )
    .unwrap();
    let (spot, _) = collect_series(&g, 77, 1, steps).remove(0);
    let returns: Vec<f64> = spot.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    let fit = GarchEstimate::fit_returns(&returns).unwrap();
    eprintln!("{fit:?}");
    let t = [
        truth.mu,
        truth.omega,
        truth.alpha,
        truth.gamma,
        truth.beta,
        truth.nu,
    ];
    let e = [
        fit.params.mu,
        fit.params.omega,
        fit.params.alpha,
        fit.params.gamma,
        fit.params.beta,
        fit.params.nu,
    ];
    for (i, name) in ["mu", "omega", "alpha", "gamma", "beta", "nu"]
        .iter()
        .enumerate()
    {
        assert!(
            fit.se[i].is_finite() && fit.se[i] > 0.0,
            "{name}: se {}",
            fit.se[i]
        );
        assert_within(name, e[i], t[i], fit.se[i], 3.0);
    }
    // The fitted log-likelihood is at least the truth's.
    assert!(fit.log_likelihood >= garch_log_likelihood(&truth, &returns).0 - 1e-6);
}

/// The generator's variance state is the annualised conditional variance,
/// and the unconditional variance of returns is ω/(1 − α − γ/2 − β).
#[test]
fn simulated_returns_have_the_unconditional_variance() {
    let p = GarchParams::new(0.0, 2e-6, 0.03, 0.10, 0.87, 6.0).unwrap();
    let steps = 2520;
    let g = Garch::new(p, 100.0, None, &TimeGrid::new(steps, 1.0 / 252.0).unwrap()).unwrap();
    let mut r2 = Vec::new();
    for (spot, var) in collect_series(&g, 3, 200, steps) {
        assert!(
            (var[0] / 252.0 - p.unconditional_variance()).abs() < 1e-18,
            "starts at the unconditional variance"
        );
        r2.extend(spot.windows(2).map(|w| (w[1] / w[0]).ln().powi(2)));
    }
    let m = crate::common::moments(&r2);
    // E[r²] = unconditional variance; squared returns are heavy-tailed and
    // autocorrelated, so the i.i.d. standard error is inflated tenfold.
    assert_within(
        "E[r^2]",
        m.mean,
        p.unconditional_variance(),
        10.0 * m.se_mean(),
        4.0,
    );
}

#[test]
fn rejects_invalid_garch_parameters() {
    let e = |r: synthmarket::Result<GarchParams>| r.unwrap_err().to_string();
    assert!(e(GarchParams::new(0.0, 0.0, 0.05, 0.1, 0.8, 6.0)).contains("`omega` = 0"));
    assert!(e(GarchParams::new(0.0, 1e-6, -0.1, 0.1, 0.8, 6.0)).contains("`alpha`"));
    assert!(
        e(GarchParams::new(0.0, 1e-6, 0.05, -0.1, 0.8, 6.0)).contains("alpha + gamma must be ≥ 0")
    );
    assert!(e(GarchParams::new(0.0, 1e-6, 0.05, 0.1, 0.95, 6.0)).contains("persistence"));
    assert!(e(GarchParams::new(0.0, 1e-6, 0.05, 0.1, 0.8, 2.0)).contains("`nu` = 2"));
    let grid = TimeGrid::new(10, 1.0 / 52.0).unwrap();
    let p = GarchParams::new(0.0, 1e-6, 0.05, 0.1, 0.8, 6.0).unwrap();
    assert!(Garch::new(p, 100.0, None, &grid)
        .unwrap_err()
        .to_string()
        .contains("daily model"));
}

#[test]
fn calibrate_garch_writes_a_config_that_simulates() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("g.toml");
    let o = crate::common::run(&[
        "calibrate",
        "garch",
        "--data",
        data("sp500_daily.csv").to_str().unwrap(),
        "--out",
        toml.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let out = crate::common::stdout(&o);
    assert!(
        out.contains("gamma") && out.contains("at bound") && out.contains("long-run vol 17.70 %"),
        "{out}"
    );
    let run = dir.path().join("run");
    let o = crate::common::run(&[
        "simulate",
        "-q",
        "--config",
        toml.to_str().unwrap(),
        "--paths",
        "3",
        "--steps",
        "5",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["model"]["model"], "garch");
    assert_eq!(json["model"]["s0"], 2506.850098);
    // GARCH keys are GARCH's alone, and λ must be a plausible variance ratio.
    let o = crate::common::run(&[
        "simulate",
        "--model",
        "heston",
        "--gamma",
        "0.1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = crate::common::run(&[
        "simulate",
        "--model",
        "garch",
        "--options",
        "--variance-premium",
        "9",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(crate::common::stderr(&o).contains("`variance-premium` = 9"));
}
