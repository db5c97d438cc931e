//! Heston QE and Euler against closed forms, in Feller-satisfying and
//! Feller-violating regimes.

use crate::common::{assert_within, moments, terminal};
use synthmarket::market::{PathChunk, TimeGrid};
use synthmarket::rng::path_rng;
use synthmarket::sim::{Drift, Gbm, GbmParams, Heston, HestonParams, HestonScheme, PathGenerator};

const DT: f64 = 1.0 / 252.0;

/// Feller satisfied: 2κθ = 0.16 > ξ² = 0.09.
fn feller_ok(drift: Drift) -> HestonParams {
    HestonParams::new(100.0, drift, 0.09, 2.0, 0.04, 0.3, -0.7).unwrap()
}

/// Andersen (2008), test case I: κ = 0.5, θ = 0.04, ξ = 1, ρ = −0.9,
/// v0 = 0.04 — Feller badly violated (2κθ = 0.04 ≪ ξ² = 1).
fn andersen_case_1(drift: Drift) -> HestonParams {
    HestonParams::new(100.0, drift, 0.04, 0.5, 0.04, 1.0, -0.9).unwrap()
}

fn heston(p: HestonParams, scheme: HestonScheme, steps: usize) -> Heston {
    Heston::new(p, scheme, &TimeGrid::new(steps, DT).unwrap())
}

/// E[v_T] = θ + (v0 − θ)e^{−κT} and Var[v_T] (CIR, Cox–Ingersoll–Ross 1985
/// eq. 19). QE matches the first two conditional moments of every step
/// exactly (Andersen 2008 §3.2.3), so both unconditional moments are exact.
#[test]
fn qe_variance_moments_match_cir_closed_form() {
    let rn = Drift::RiskNeutral {
        rate: 0.0,
        dividend: 0.0,
    };
    for (name, p, steps) in [
        ("feller ok", feller_ok(rn), 252),
        ("andersen I", andersen_case_1(rn), 504),
    ] {
        assert_eq!(p.feller_satisfied(), name == "feller ok");
        let t = steps as f64 * DT;
        let (_, vt) = terminal(&heston(p, HestonScheme::Qe, steps), 17, 100_000, steps);
        assert!(
            vt.iter().all(|v| v.is_finite() && *v >= 0.0),
            "{name}: v_T ≥ 0"
        );
        let m = moments(&vt);
        assert_within(
            &format!("{name}: E[v_T]"),
            m.mean,
            p.mean_variance(t),
            m.se_mean(),
            4.0,
        );
        assert_within(
            &format!("{name}: Var[v_T]"),
            m.var,
            p.variance_of_variance(t),
            m.se_var(),
            4.0,
        );
    }
}

/// Martingale property E[S_T] = S0 e^{(r−q)T}, for both schemes and both
/// regimes (QE via Andersen's martingale correction, §4.2).
#[test]
fn discounted_spot_is_a_martingale() {
    let (r, q) = (0.03, 0.01);
    let rn = Drift::RiskNeutral {
        rate: r,
        dividend: q,
    };
    for (name, p) in [
        ("feller ok", feller_ok(rn)),
        ("andersen I", andersen_case_1(rn)),
    ] {
        for scheme in [HestonScheme::Qe, HestonScheme::Euler] {
            let steps = 252;
            let t = steps as f64 * DT;
            let (st, _) = terminal(&heston(p, scheme, steps), 23, 100_000, steps);
            assert!(st.iter().all(|s| s.is_finite() && *s > 0.0));
            let m = moments(&st);
            assert_within(
                &format!("{name} {scheme:?}: E[S_T]"),
                m.mean,
                100.0 * ((r - q) * t).exp(),
                m.se_mean(),
                4.0,
            );
        }
    }
}

/// QE and full-truncation Euler price the same at-the-money European call
/// within Monte-Carlo error (independent seeds; SE of the difference
/// √(se₁² + se₂²)). At daily steps both schemes' biases are far below it.
#[test]
fn qe_and_euler_agree_on_a_european_call() {
    let (r, k, steps) = (0.02, 100.0, 252);
    let t = steps as f64 * DT;
    let p = feller_ok(Drift::RiskNeutral {
        rate: r,
        dividend: 0.0,
    });
    let price = |scheme, seed| {
        let (st, _) = terminal(&heston(p, scheme, steps), seed, 200_000, steps);
        let payoffs: Vec<f64> = st
            .iter()
            .map(|s| (s - k).max(0.0) * (-r * t).exp())
            .collect();
        let m = moments(&payoffs);
        (m.mean, m.se_mean())
    };
    let (qe, se_qe) = price(HestonScheme::Qe, 1);
    let (eu, se_eu) = price(HestonScheme::Euler, 2);
    assert!(
        qe > 5.0 && qe < 20.0,
        "sanity: ATM call at 30 % vol ≈ 12.6, got {qe}"
    );
    assert_within(
        "QE − Euler call price",
        qe - eu,
        0.0,
        (se_qe * se_qe + se_eu * se_eu).sqrt(),
        4.0,
    );
}

/// Extreme regimes never produce NaN, negative variance or non-positive spot:
/// ξ large, κ small, v0 = 0, ρ = ±1, and a coarse step with ρ > 0 where
/// Andersen's martingale correction does not exist.
#[test]
fn extreme_parameters_stay_finite_and_non_negative() {
    let rn = Drift::RiskNeutral {
        rate: 0.0,
        dividend: 0.0,
    };
    let cases = [
        (
            HestonParams::new(100.0, rn, 0.0, 0.1, 0.01, 3.0, -1.0).unwrap(),
            DT,
            252,
        ),
        (
            HestonParams::new(100.0, rn, 0.5, 0.2, 0.04, 2.0, 1.0).unwrap(),
            DT,
            252,
        ),
        (
            HestonParams::new(100.0, rn, 0.04, 0.5, 0.04, 2.0, 0.9).unwrap(),
            1.0,
            10,
        ),
        (
            HestonParams::new(1e-3, rn, 2.0, 10.0, 1.0, 5.0, 0.0).unwrap(),
            0.1,
            50,
        ),
    ];
    for (p, dt, steps) in cases {
        for scheme in [HestonScheme::Qe, HestonScheme::Euler] {
            let g = Heston::new(p, scheme, &TimeGrid::new(steps, dt).unwrap());
            let mut c = PathChunk::new(0, 256, steps, 1);
            g.fill_chunk(5, &mut c);
            for path in 0..256 {
                for k in 0..=steps {
                    let (s, v) = (c.spot(path, k)[0], c.variance(path, k)[0]);
                    assert!(s.is_finite() && s >= 0.0, "{p:?} {scheme:?}: spot {s}");
                    assert!(v.is_finite() && v >= 0.0, "{p:?} {scheme:?}: variance {v}");
                }
            }
        }
    }
}

/// The chunked (vectorised, lockstep) generators are bit-identical to
/// stepping each path on its own.
#[test]
fn chunked_generation_equals_path_by_path_stepping() {
    fn check<G: PathGenerator>(g: &G, steps: usize) {
        let mut c = PathChunk::new(100, 37, steps, 1);
        g.fill_chunk(99, &mut c);
        for p in 0..37 {
            let mut rng = path_rng(99, 100 + p as u64);
            let mut state = g.initial_state();
            let (mut s, mut v) = ([0.0], [0.0]);
            for k in 0..=steps {
                if k > 0 {
                    g.step(&mut state, &mut rng);
                }
                g.observe(&state, &mut s, &mut v);
                assert_eq!(
                    s[0].to_bits(),
                    c.spot(p, k)[0].to_bits(),
                    "path {p} step {k}"
                );
                assert_eq!(
                    v[0].to_bits(),
                    c.variance(p, k)[0].to_bits(),
                    "path {p} step {k}"
                );
            }
        }
    }
    let grid = TimeGrid::new(70, DT).unwrap();
    let rn = Drift::RiskNeutral {
        rate: 0.01,
        dividend: 0.0,
    };
    check(&Gbm::new(GbmParams::new(10.0, rn, 0.4).unwrap(), &grid), 70);
    // A low-variance start visits QE's exponential branch too.
    let p = HestonParams::new(100.0, rn, 0.0001, 0.5, 0.04, 1.0, -0.9).unwrap();
    for scheme in [HestonScheme::Qe, HestonScheme::Euler] {
        check(&Heston::new(p, scheme, &grid), 70);
    }
}

#[test]
fn rejects_invalid_heston_parameters() {
    let rn = Drift::RiskNeutral {
        rate: 0.0,
        dividend: 0.0,
    };
    let err = |v0, kappa, theta, xi, rho| {
        HestonParams::new(100.0, rn, v0, kappa, theta, xi, rho)
            .unwrap_err()
            .to_string()
    };
    assert!(err(-0.01, 1.0, 0.04, 0.5, 0.0).contains("`v0` = -0.01"));
    assert!(err(0.04, 0.0, 0.04, 0.5, 0.0)
        .contains("`kappa` = 0: mean-reversion speed must be positive"));
    assert!(err(0.04, -1.0, 0.04, 0.5, 0.0).contains("`kappa`"));
    assert!(err(0.04, 1.0, 0.0, 0.5, 0.0).contains("`theta` = 0: long-run variance"));
    assert!(err(0.04, 1.0, 0.04, 0.0, 0.0).contains("`xi` = 0: volatility of variance"));
    assert!(err(0.04, 1.0, 0.04, 0.5, 1.5).contains("`rho` = 1.5: correlation must lie in [-1, 1]"));
    assert!(err(0.04, 1.0, 0.04, 0.5, f64::NAN).contains("`rho`"));
    assert!(err(f64::NAN, 1.0, 0.04, 0.5, 0.0).contains("`v0`"));
    assert!(err(0.04, f64::INFINITY, 0.04, 0.5, 0.0).contains("`kappa`"));
    // Feller violation itself is accepted.
    assert!(!HestonParams::new(100.0, rn, 0.04, 0.5, 0.04, 1.0, -0.9)
        .unwrap()
        .feller_satisfied());
}

/// QE Monte-Carlo prices of European calls agree with the exact (Fourier)
/// Heston price within 4 standard errors, for Feller-satisfying parameters
/// and for Andersen's case I, at daily steps and at Andersen's coarse step
/// of 1/8 year (his §5 finds QE's bias small even there).
#[test]
fn qe_call_prices_match_fourier_prices() {
    use synthmarket::market::{MarketState, OptionSpec, OptionType};
    use synthmarket::pricing::HestonModel;
    let (r, q) = (0.03, 0.01);
    let rn = Drift::RiskNeutral {
        rate: r,
        dividend: q,
    };
    for (name, p, steps, dt) in [
        ("feller ok, daily", feller_ok(rn), 252, DT),
        ("andersen I, daily", andersen_case_1(rn), 504, DT),
        ("andersen I, dt = 1/8", andersen_case_1(rn), 16, 0.125),
    ] {
        let t = steps as f64 * dt;
        let g = Heston::new(p, HestonScheme::Qe, &TimeGrid::new(steps, dt).unwrap());
        let (st, _) = terminal(&g, 29, 200_000, steps);
        let model = HestonModel::new(p.v0(), p.kappa(), p.theta(), p.xi(), p.rho()).unwrap();
        let state = MarketState::new(100.0, r, q).unwrap();
        for k in [80.0, 100.0, 130.0] {
            let exact = model.price(&OptionSpec::new(OptionType::Call, k, t).unwrap(), &state);
            let payoffs: Vec<f64> = st
                .iter()
                .map(|s| (s - k).max(0.0) * (-r * t).exp())
                .collect();
            let m = moments(&payoffs);
            assert_within(
                &format!("{name}, K = {k}: QE vs Fourier"),
                m.mean,
                exact,
                m.se_mean(),
                4.0,
            );
        }
    }
}

/// `HestonParams::moments_fit` (the Heston baseline `train` fits to a spot
/// history) inverts the CIR law: a daily Heston return is √(v·dt)·Z, so its
/// excess kurtosis is 3 Var(v)/θ² = 3ξ²/(2κθ) (stationary CIR variance
/// θξ²/(2κ), Cox, Ingersoll & Ross 1985). On 24 Heston paths of 20,000 days
/// (κ 3, θ 0.04, ξ 0.4, ρ 0, started at θ), with κ given through a GARCH
/// persistence of e^{−3/252}, the mean fitted θ and ξ are the true ones
/// within 4 standard errors of the mean over paths, and ρ (the return's
/// correlation with the change of a symmetric GARCH variance) is 0 within 4
/// (seed 29: θ 0.0394 ± 0.0005, ξ 0.386 ± 0.007, ρ −0.010 ± 0.004; the
/// kurtosis estimator is a little low on finite paths, and the −v/2 drift
/// of log returns ties r to the variance level).
#[test]
fn moments_fit_recovers_theta_xi_and_a_zero_rho_from_heston_returns() {
    let drift = Drift::RealWorld { mu: 0.0 };
    let truth = HestonParams::new(100.0, drift, 0.04, 3.0, 0.04, 0.4, 0.0).unwrap();
    let steps = 20_000;
    let series =
        crate::common::collect_series(&heston(truth, HestonScheme::Qe, steps), 29, 24, steps);
    let beta = (-3.0f64 / 252.0).exp() - 0.05;
    let garch =
        synthmarket::sim::GarchParams::new(0.0, 0.04 / 252.0 * 0.0119, 0.05, 0.0, beta, 30.0)
            .unwrap();
    assert!((-252.0 * garch.persistence().ln() - 3.0).abs() < 1e-9);
    let fits: Vec<HestonParams> = series
        .iter()
        .map(|(s, _)| {
            let r: Vec<f64> = s.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
            HestonParams::moments_fit(&r, &garch, 100.0, drift).unwrap()
        })
        .collect();
    for (name, value, truth) in [
        (
            "theta",
            fits.iter().map(|f| f.theta()).collect::<Vec<_>>(),
            0.04,
        ),
        ("xi", fits.iter().map(|f| f.xi()).collect(), 0.4),
        ("rho", fits.iter().map(|f| f.rho()).collect(), 0.0),
    ] {
        let m = moments(&value);
        assert_within(
            &format!("moments fit: {name}"),
            m.mean,
            truth,
            m.se_mean(),
            4.0,
        );
    }
}
