//! Heston calibration: recovers the parameters of a surface it priced
//! itself, and reports the fit in vol points.

use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::calibrate::{
    calibrate_heston, initial_guess, HestonBounds, SurfacePoint,
};
use synthmarket::pricing::{implied_vol, HestonModel};

fn surface(truth: [f64; 5]) -> Vec<SurfacePoint> {
    let [v0, kappa, theta, xi, rho] = truth;
    let model = HestonModel::new(v0, kappa, theta, xi, rho).unwrap();
    let state = MarketState::new(100.0, 0.02, 0.01).unwrap();
    let mut points = Vec::new();
    for t in [0.1, 0.25, 0.5, 1.0, 2.0] {
        for k in [70.0, 80.0, 90.0, 95.0, 100.0, 105.0, 110.0, 120.0, 130.0] {
            // Out-of-the-money side, as quoted in practice.
            let ty = if k < 100.0 {
                OptionType::Put
            } else {
                OptionType::Call
            };
            let spec = OptionSpec::new(ty, k, t).unwrap();
            let vol = implied_vol(model.price(&spec, &state), &spec, &state).unwrap();
            points.push(SurfacePoint { spec, state, vol });
        }
    }
    points
}

#[test]
fn recovers_the_parameters_of_a_self_priced_surface() {
    // A Feller-violating set (2κθ = 0.18 < ξ² = 0.36) with strong skew.
    let truth = [0.03, 1.5, 0.06, 0.6, -0.7];
    let points = surface(truth);
    let start = initial_guess(&points);
    let fit = calibrate_heston(&points, start, HestonBounds::default()).unwrap();
    eprintln!("{fit:?}");
    assert!(fit.rmse_vol_points < 1e-6, "{fit:?}");
    for (i, name) in ["v0", "kappa", "theta", "xi", "rho"].iter().enumerate() {
        let rel = (fit.params[i] - truth[i]).abs() / truth[i].abs();
        assert!(
            rel < 1e-4,
            "{name}: {} vs {} ({fit:?})",
            fit.params[i],
            truth[i]
        );
    }
}

#[test]
fn rejects_too_few_quotes_and_starts_outside_bounds() {
    let points = surface([0.04, 2.0, 0.04, 0.5, -0.5]);
    let err = calibrate_heston(
        &points[..3],
        [0.04, 2.0, 0.04, 0.5, -0.5],
        HestonBounds::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 5 quotes"), "{err}");
    let err = calibrate_heston(
        &points,
        [0.04, 2.0, 0.04, 0.5, -1.0],
        HestonBounds::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`rho` = -1: initial value must lie strictly inside"),
        "{err}"
    );
}

/// A. Sepp's DAX surface of 5 July 2002 (13 strikes × 8 maturities), as in
/// QuantLib's test-suite/hestonmodel.cpp (testDAXCalibration), which expects
/// the sum of squared implied-vol errors, in vol points, to be 177.2 ± 1.0
/// from the start v0 = θ = 0.1, κ = 1, ξ = 0.5, ρ = −0.5. Fixture:
/// tests/fixtures/dax_2002-07-05.csv (maturities rounded to weeks and zero
/// rates interpolated as QuantLib does).
#[test]
fn dax_surface_fit_matches_the_published_error() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dax_2002-07-05.csv");
    let toml = dir.path().join("dax.toml");
    let o = crate::common::bin()
        .args(["calibrate", "heston", "--input"])
        .arg(&fixture)
        .arg("--out")
        .arg(&toml)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let out = crate::common::stdout(&o);
    let rmse: f64 = out
        .split("RMSE ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let sse = rmse * rmse * 104.0;
    assert!((sse - 177.2).abs() < 1.0, "SSE {sse} vs 177.2\n{out}");
    // The written config drives a simulation with chains.
    let run = dir.path().join("run");
    let o = crate::common::bin()
        .args([
            "simulate",
            "-q",
            "--paths",
            "2",
            "--steps",
            "3",
            "--options",
            "--months",
            "1",
            "--strikes",
            "1",
            "--config",
        ])
        .arg(&toml)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    assert!(std::fs::read_to_string(run.join("spot.csv"))
        .unwrap()
        .contains(",4468.17,"));
}

#[test]
fn a_joint_fit_of_several_states_recovers_the_shared_variance_law() {
    // Three states of one market (calm, normal, stressed), each surface
    // priced by the same (κ, θ, ξ, ρ) from its own v0: the joint fit with
    // v0 given recovers the four shared parameters.
    let law = [1.2, 0.05, 0.7, -0.65];
    let states: Vec<(f64, Vec<SurfacePoint>)> = [0.01, 0.04, 0.16]
        .iter()
        .map(|&v0| {
            let [kappa, theta, xi, rho] = law;
            (v0, surface([v0, kappa, theta, xi, rho]))
        })
        .collect();
    let fit = synthmarket::pricing::calibrate::calibrate_heston_states(
        &states,
        [2.0, 0.03, 0.4, -0.3],
        HestonBounds::default(),
    )
    .unwrap();
    eprintln!("{fit:?}");
    assert!(fit.rmse_vol_points < 1e-6, "{fit:?}");
    assert_eq!(fit.params[0], 0.01);
    for (i, name) in ["kappa", "theta", "xi", "rho"].iter().enumerate() {
        let rel = (fit.params[i + 1] - law[i]).abs() / law[i].abs();
        assert!(
            rel < 1e-4,
            "{name}: {} vs {} ({fit:?})",
            fit.params[i + 1],
            law[i]
        );
    }
    // A state's v0 outside the bounds is refused, naming v0.
    let bad = vec![(3.0, states[0].1.clone())];
    let err = synthmarket::pricing::calibrate::calibrate_heston_states(
        &bad,
        [2.0, 0.03, 0.4, -0.3],
        HestonBounds::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("v0"), "{err}");
}
