//! Heston Fourier (COS) prices against published and independently computed
//! reference values.

use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::HestonModel;

/// A. Lewis, "Heston model reference prices" (financepress.com, 2019),
/// 50-digit values, as pinned in QuantLib's test-suite/hestonmodel.cpp
/// (testAllIntegrationMethods): S = 100, r = 0.01, q = 0.02, T = 1,
/// v0 = 0.04, κ = 4, θ = 0.25, ξ = 1, ρ = −0.5.
#[test]
#[allow(clippy::excessive_precision)] // the values as published, 50 digits
fn matches_lewis_reference_prices() {
    let model = HestonModel::new(0.04, 4.0, 0.25, 1.0, -0.5).unwrap();
    let state = MarketState::new(100.0, 0.01, 0.02).unwrap();
    let reference = [
        (
            80.0,
            7.958878113256768285213263077598987193482161301733,
            26.774758743998854221382195325726949201687074848341,
        ),
        (
            90.0,
            12.017966707346304987709573290236471654992071308187,
            20.933349000596710388139445766564068085476194042256,
        ),
        (
            100.0,
            17.055270961270109413522653999411000974895436309183,
            16.070154917028834278213466703938231827658768230714,
        ),
        (
            110.0,
            23.017825898442800538908781834822560777763225722188,
            12.132211516709844867860534767549426052805766831181,
        ),
        (
            120.0,
            29.811026202682471843340682293165857439167301370697,
            9.024913483457835636553375454092357136489051667150,
        ),
    ];
    let slice = model.slice(1.0);
    for (k, put, call) in reference {
        for (kind, want) in [(OptionType::Put, put), (OptionType::Call, call)] {
            let spec = OptionSpec::new(kind, k, 1.0).unwrap();
            let got = slice.price(&spec, &state);
            eprintln!("{kind} K={k}: {got:.15} vs {want:.15}: {:.2e}", got - want);
            // QuantLib's own tolerance for these values.
            assert!((got - want).abs() < 1e-12, "{kind} K={k}: {got} vs {want}");
            assert_eq!(got, model.price(&spec, &state));
        }
    }
}

/// Against Lewis's integral evaluated independently at 30 digits
/// (tests/reference/heston_mpmath.py) on the domain the pricer promises:
/// one week to 15 years, strikes 50 %–200 % of spot, a Feller-violating set
/// (Andersen's case I), ρ from −0.95 to +0.5. Tolerance: 1e-8·S absolute.
#[test]
fn matches_independent_lewis_integral_across_the_domain() {
    use crate::heston_reference::{CASES, DIVIDEND, RATE, SPOT};
    let state = MarketState::new(SPOT, RATE, DIVIDEND).unwrap();
    let mut worst = (0.0f64, "");
    for &(name, v0, kappa, theta, xi, rho, t, k, call, put) in CASES.iter() {
        let model = HestonModel::new(v0, kappa, theta, xi, rho).unwrap();
        let slice = model.slice(t);
        for (kind, want) in [(OptionType::Call, call), (OptionType::Put, put)] {
            let got = slice.price(&OptionSpec::new(kind, k, t).unwrap(), &state);
            let err = (got - want).abs();
            if err > worst.0 {
                worst = (err, name);
            }
            assert!(
                err <= 1e-8 * SPOT,
                "{name} T={t} K={k} {kind}: {got} vs {want} (error {err:.2e})"
            );
        }
    }
    eprintln!("worst absolute error {:.2e} ({})", worst.0, worst.1);
}

/// The chains' pricer (`HestonPricer`: the variance-free parts of the
/// characteristic function kept across initial variances, the interval
/// rounded up to a shared width) meets the same references: Lewis's values
/// to QuantLib's 1e-12, the independent integral to 1e-8·S. A slice does
/// not depend on what the cache held before: a fresh pricer and one warmed
/// on other variances and on the same key give bit-identical prices.
#[test]
#[allow(clippy::excessive_precision)] // the values as published, 50 digits
fn chain_pricer_meets_the_references_whatever_its_cache_holds() {
    use synthmarket::pricing::HestonPricer;
    let state = MarketState::new(100.0, 0.01, 0.02).unwrap();
    let pricer = HestonPricer::new(4.0, 0.25, 1.0, -0.5).unwrap();
    let strikes = [80.0, 100.0, 120.0];
    // (call, put) from matches_lewis_reference_prices.
    let want = [
        (
            26.774758743998854221382195325726949201687074848341,
            7.958878113256768285213263077598987193482161301733,
        ),
        (
            16.070154917028834278213466703938231827658768230714,
            17.055270961270109413522653999411000974895436309183,
        ),
        (
            9.024913483457835636553375454092357136489051667150,
            29.811026202682471843340682293165857439167301370697,
        ),
    ];
    let cold = pricer
        .slice(0.04, 1.0)
        .calls_and_puts(&strikes, &state)
        .unwrap();
    for ((k, got), want) in strikes.iter().zip(&cold).zip(want) {
        assert!(
            (got.0 - want.0).abs() < 1e-12,
            "call K={k}: {got:?} vs {want:?}"
        );
        assert!(
            (got.1 - want.1).abs() < 1e-12,
            "put K={k}: {got:?} vs {want:?}"
        );
    }
    for v0 in [0.01, 0.0399, 0.04001, 0.2] {
        pricer
            .slice(v0, 1.0)
            .calls_and_puts(&strikes, &state)
            .unwrap();
    }
    let warm = pricer
        .slice(0.04, 1.0)
        .calls_and_puts(&strikes, &state)
        .unwrap();
    assert_eq!(cold, warm);

    use crate::heston_reference::{CASES, DIVIDEND, RATE, SPOT};
    let state = MarketState::new(SPOT, RATE, DIVIDEND).unwrap();
    for &(name, v0, kappa, theta, xi, rho, t, k, call, put) in CASES.iter() {
        let pricer = HestonPricer::new(kappa, theta, xi, rho).unwrap();
        let (c, p) = pricer.slice(v0, t).calls_and_puts(&[k], &state).unwrap()[0];
        assert!(
            (c - call).abs() <= 1e-8 * SPOT && (p - put).abs() <= 1e-8 * SPOT,
            "{name} T={t} K={k}: ({c}, {p}) vs ({call}, {put})"
        );
    }
}
