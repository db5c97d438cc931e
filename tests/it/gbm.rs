//! GBM against closed forms, correlated GBM, validation, and the MLE fit.

use crate::common::{assert_within, collect_series, data, moments, terminal};
use synthmarket::market::{SpotHistory, TimeGrid};
use synthmarket::sim::{CorrelatedGbm, CorrelationMatrix, Drift, Gbm, GbmEstimate, GbmParams};

const DT: f64 = 1.0 / 252.0;

fn gbm(s0: f64, drift: Drift, sigma: f64, steps: usize) -> Gbm {
    Gbm::new(
        GbmParams::new(s0, drift, sigma).unwrap(),
        &TimeGrid::new(steps, DT).unwrap(),
    )
}

/// Lognormal moments of GBM (e.g. Hull, *Options, Futures and Other
/// Derivatives*, 10th ed., §15.1): E[S_T] = S0 e^{μT},
/// Var[S_T] = S0² e^{2μT} (e^{σ²T} − 1).
#[test]
fn terminal_spot_mean_and_variance_match_lognormal_closed_form() {
    let (s0, mu, sigma, steps) = (100.0, 0.08, 0.3, 252);
    let t = steps as f64 * DT;
    let g = gbm(s0, Drift::RealWorld { mu }, sigma, steps);
    let (st, _) = terminal(&g, 11, 200_000, steps);
    let m = moments(&st);
    let mean = s0 * (mu * t).exp();
    let var = s0 * s0 * (2.0 * mu * t).exp() * ((sigma * sigma * t).exp() - 1.0);
    assert_within("E[S_T]", m.mean, mean, m.se_mean(), 4.0);
    assert_within("Var[S_T]", m.var, var, m.se_var(), 4.0);
}

/// Under the exact log scheme each log-return is N((μ − σ²/2)dt, σ²dt),
/// i.i.d.: mean, variance and excess kurtosis 0 (SE √(24/n)).
#[test]
fn log_returns_are_exactly_gaussian_with_the_right_moments() {
    let (mu, sigma, steps) = (0.05, 0.25, 252);
    let g = gbm(50.0, Drift::RealWorld { mu }, sigma, steps);
    let mut r = Vec::new();
    for (spot, var) in collect_series(&g, 5, 2_000, steps) {
        assert!(
            var.iter().all(|&v| v == sigma * sigma),
            "GBM variance state is σ²"
        );
        r.extend(spot.windows(2).map(|w| (w[1] / w[0]).ln()));
    }
    let m = moments(&r);
    assert_within(
        "mean log-return",
        m.mean,
        (mu - 0.5 * sigma * sigma) * DT,
        m.se_mean(),
        4.0,
    );
    assert_within(
        "variance of log-return",
        m.var,
        sigma * sigma * DT,
        m.se_var(),
        4.0,
    );
    assert_within(
        "excess kurtosis",
        m.excess_kurtosis(),
        0.0,
        (24.0 / m.n).sqrt(),
        4.0,
    );
}

#[test]
fn risk_neutral_drift_is_rate_minus_dividend() {
    let (r, q, steps) = (0.04, 0.015, 126);
    let t = steps as f64 * DT;
    let g = gbm(
        100.0,
        Drift::RiskNeutral {
            rate: r,
            dividend: q,
        },
        0.2,
        steps,
    );
    let (st, _) = terminal(&g, 3, 100_000, steps);
    let m = moments(&st);
    assert_within(
        "E[S_T] = S0 e^{(r-q)T}",
        m.mean,
        100.0 * ((r - q) * t).exp(),
        m.se_mean(),
        4.0,
    );
}

/// The sample correlation of correlated GBM log-returns matches the input.
/// Standard error of a sample correlation for Gaussian data: (1 − ρ²)/√n.
#[test]
fn correlated_gbm_reproduces_the_correlation_matrix() {
    let rho = [[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]];
    let rows: Vec<Vec<f64>> = rho.iter().map(|r| r.to_vec()).collect();
    let grid = TimeGrid::new(252, DT).unwrap();
    let params: Vec<GbmParams> = [(100.0, 0.2), (50.0, 0.35), (10.0, 0.1)]
        .iter()
        .map(|&(s0, sigma)| GbmParams::new(s0, Drift::RealWorld { mu: 0.03 }, sigma).unwrap())
        .collect();
    let g = CorrelatedGbm::new(&params, CorrelationMatrix::new(&rows).unwrap(), &grid).unwrap();
    let series = collect_series(&g, 9, 400, 252);
    // series holds (path, asset) in order: regroup returns per asset.
    let mut returns = [Vec::new(), Vec::new(), Vec::new()];
    for (i, (spot, _)) in series.iter().enumerate() {
        returns[i % 3].extend(spot.windows(2).map(|w| (w[1] / w[0]).ln()));
    }
    let n = returns[0].len() as f64;
    for i in 0..3 {
        for j in (i + 1)..3 {
            let (a, b) = (moments(&returns[i]), moments(&returns[j]));
            let cov = returns[i]
                .iter()
                .zip(&returns[j])
                .map(|(x, y)| (x - a.mean) * (y - b.mean))
                .sum::<f64>()
                / (n - 1.0);
            let corr = cov / (a.var * b.var).sqrt();
            let se = (1.0 - rho[i][j] * rho[i][j]) / n.sqrt();
            assert_within(&format!("corr({i},{j})"), corr, rho[i][j], se, 4.0);
        }
    }
}

#[track_caller]
fn rejects_correlation(rows: &[&[f64]], expect: &[&str]) {
    let rows: Vec<Vec<f64>> = rows.iter().map(|r| r.to_vec()).collect();
    let msg = CorrelationMatrix::new(&rows).unwrap_err().to_string();
    assert!(msg.contains("correlation"), "{msg}");
    for e in expect {
        assert!(msg.contains(e), "`{msg}` should contain `{e}`");
    }
}

#[test]
fn rejects_invalid_correlation_matrices() {
    // Symmetric, unit diagonal, entries in [-1, 1], but eigenvalues
    // {1.9, 1.9, -0.8}: not positive definite.
    rejects_correlation(
        &[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]],
        &["not positive definite"],
    );
    // Perfect correlation is only semi-definite.
    rejects_correlation(&[&[1.0, 1.0], &[1.0, 1.0]], &["not positive definite"]);
    rejects_correlation(
        &[&[1.0, 0.5], &[0.4, 1.0]],
        &["not symmetric", "(1, 2) = 0.5"],
    );
    rejects_correlation(&[&[2.0, 0.5], &[0.5, 1.0]], &["outside [-1, 1]"]);
    rejects_correlation(
        &[&[0.9, 0.5], &[0.5, 1.0]],
        &["diagonal entry (1, 1) = 0.9 must be 1"],
    );
    rejects_correlation(&[&[1.0, 0.5], &[0.5]], &["not square", "row 2 has 1"]);
    rejects_correlation(&[&[1.0, f64::NAN], &[f64::NAN, 1.0]], &["not finite"]);
    rejects_correlation(&[], &["empty"]);
}

#[test]
fn rejects_invalid_gbm_parameters() {
    let msg = |r: synthmarket::Result<GbmParams>| r.unwrap_err().to_string();
    let rw = Drift::RealWorld { mu: 0.05 };
    assert!(msg(GbmParams::new(0.0, rw, 0.2)).contains("`s0` = 0"));
    assert!(msg(GbmParams::new(-1.0, rw, 0.2)).contains("positive"));
    assert!(msg(GbmParams::new(100.0, rw, -0.2)).contains("`sigma` = -0.2"));
    assert!(msg(GbmParams::new(100.0, rw, f64::NAN)).contains("`sigma`"));
    assert!(msg(GbmParams::new(
        100.0,
        Drift::RealWorld { mu: f64::INFINITY },
        0.2
    ))
    .contains("`mu`"));
    let rn = Drift::RiskNeutral {
        rate: f64::NAN,
        dividend: 0.0,
    };
    assert!(msg(GbmParams::new(100.0, rn, 0.2)).contains("`rate`"));
    assert!(TimeGrid::new(0, DT)
        .unwrap_err()
        .to_string()
        .contains("`steps`"));
    assert!(TimeGrid::new(10, -1.0)
        .unwrap_err()
        .to_string()
        .contains("`dt`"));
}

/// On a long simulated history the MLE recovers the true parameters within
/// 3 of its own standard errors.
#[test]
fn mle_recovers_simulated_parameters() {
    let (mu, sigma, steps) = (0.07, 0.22, 20_000);
    let g = gbm(100.0, Drift::RealWorld { mu }, sigma, steps);
    let (spot, _) = collect_series(&g, 21, 1, steps).remove(0);
    let start = chrono::NaiveDate::from_ymd_opt(1950, 1, 2).unwrap();
    let dates = (0..spot.len())
        .map(|i| start + chrono::Days::new(i as u64))
        .collect();
    let h = SpotHistory::new("simulated", dates, spot).unwrap();
    let fit = GbmEstimate::fit(&h, 252.0).unwrap();
    assert_within("sigma", fit.sigma, sigma, fit.sigma_se, 3.0);
    assert_within("mu", fit.mu, mu, fit.mu_se, 3.0);
}

/// Pinned against an independent computation in plain Python (stdlib only):
/// log returns of `adj_close`, population variance, ×252, μ = mean·252 + σ²/2
/// → μ = 0.05400552542294952, σ = 0.19108456730166337 (5030 returns).
#[test]
fn mle_on_sp500_matches_independent_computation() {
    let h = SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap();
    let fit = GbmEstimate::fit_daily(&h).unwrap();
    assert_eq!(fit.returns, 5030);
    assert!(
        (fit.sigma / 0.19108456730166337 - 1.0).abs() < 1e-12,
        "{}",
        fit.sigma
    );
    assert!(
        (fit.mu / 0.05400552542294952 - 1.0).abs() < 1e-10,
        "{}",
        fit.mu
    );
    // se(σ) = σ/√(2n)
    assert!((fit.sigma_se - 0.19108456730166337 / (2.0f64 * 5030.0).sqrt()).abs() < 1e-15);
    assert_eq!(fit.last_price, 2506.850098);
}
