//! Implied volatility: inverting the 50-digit reference prices recovers the
//! volatility that produced them to the precision the price allows, and
//! prices outside the no-arbitrage bounds are typed errors.

use crate::bsm_reference::CASES;
use crate::common::spec;
use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::{implied_vol, BlackScholes, IvError};

/// A price known to half an ulp determines σ to `ε·P/(σ·vega)` relative
/// (the condition number of the inverse). Where the time value is lost in
/// the price's rounding (deep in the money), the bound is loose: the price
/// does not determine the vol there.
#[test]
fn inverts_reference_prices_to_the_precision_the_price_allows() {
    let mut checked = 0;
    let mut worst = 0.0f64;
    for (i, &(is_call, s, k, t, r, q, v, want)) in CASES.iter().enumerate() {
        let (price, vega) = (want[0], want[3]);
        if price < 1e-300 || vega == 0.0 {
            continue; // underflowed: no information about σ left
        }
        let state = MarketState::new(s, r, q).unwrap();
        let cond = price / (v * vega);
        if cond > 1e12 {
            continue; // e.g. 30 years at 500 %: the price is S·e^{−qT} to every digit
        }
        let iv = implied_vol(price, &spec(is_call, k, t), &state)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        let err = (iv - v).abs() / v;
        let tol = 1e-14 + 8.0 * f64::EPSILON * cond;
        assert!(
            err <= tol,
            "case {i} (S={s}, K={k}, T={t}, σ={v}): iv {iv}, error {err:.2e} > {tol:.2e}"
        );
        if cond < 1e3 {
            worst = worst.max(err);
            checked += 1;
        }
    }
    // Most of the grid is well conditioned and recovered to a few ulp.
    assert!(checked > 250, "{checked}");
    assert!(worst < 1e-13, "{worst:e}");
}

#[test]
fn tiny_prices_short_and_long_maturities_and_huge_vols_round_trip() {
    let state = MarketState::new(100.0, 0.03, 0.01).unwrap();
    let minute = 1.0 / (365.0 * 24.0 * 60.0);
    for (kind, k, t, vol) in [
        (OptionType::Call, 300.0, 1.0, 0.2),  // price ~1e-8
        (OptionType::Call, 150.0, 0.25, 0.1), // price ~1e-40
        (OptionType::Put, 40.0, 0.5, 0.1),    // price ~1e-140
        (OptionType::Call, 100.2, minute, 0.3),
        (OptionType::Put, 100.0, 30.0, 0.2),
        (OptionType::Call, 100.0, 1.0, 5.0),
        (OptionType::Put, 120.0, 2.0, 5.0),
    ] {
        let spec = OptionSpec::new(kind, k, t).unwrap();
        let price = BlackScholes::new(vol).unwrap().price(&spec, &state);
        assert!(price > 1e-200, "{kind} K={k}: {price}");
        let iv = implied_vol(price, &spec, &state).unwrap();
        assert!(
            (iv - vol).abs() / vol < 1e-12,
            "{kind} K={k} T={t}: iv {iv} vs {vol}"
        );
    }
    // A 1e-200 price: the inverse reprices it to 1e-12.
    let spec = OptionSpec::new(OptionType::Call, 250.0, 1.0).unwrap();
    let iv = implied_vol(1e-200, &spec, &state).unwrap();
    let back = BlackScholes::new(iv).unwrap().price(&spec, &state);
    assert!(
        (back / 1e-200 - 1.0).abs() < 1e-12,
        "iv {iv}, repriced {back:e}"
    );
}

#[test]
fn prices_outside_no_arbitrage_bounds_are_typed_errors() {
    let (s, k, t, r, q): (f64, f64, f64, f64, f64) = (100.0, 90.0, 1.0, 0.05, 0.02);
    let state = MarketState::new(s, r, q).unwrap();
    let f = s * ((r - q) * t).exp();
    let df = (-r * t).exp();
    let call = OptionSpec::new(OptionType::Call, k, t).unwrap();
    let put = OptionSpec::new(OptionType::Put, k, t).unwrap();
    // Call: e^{−rT}(F − K) ≤ C < S e^{−qT}.
    let lower = df * (f - k);
    assert!(matches!(
        implied_vol(lower * 0.999, &call, &state),
        Err(IvError::BelowIntrinsic { .. })
    ));
    // At the intrinsic value, within the rounding of its legs: σ = 0.
    assert_eq!(implied_vol(lower, &call, &state), Ok(0.0));
    assert_eq!(implied_vol(lower * (1.0 - 1e-15), &call, &state), Ok(0.0));
    let upper = s * (-q * t).exp();
    assert!(matches!(
        implied_vol(upper, &call, &state),
        Err(IvError::AboveUpperBound { .. })
    ));
    assert!(matches!(
        implied_vol(upper * 1.01, &call, &state),
        Err(IvError::AboveUpperBound { .. })
    ));
    // Put: 0 ≤ P < K e^{−rT} (out of the money: intrinsic 0).
    assert!(matches!(
        implied_vol(-1e-9, &put, &state),
        Err(IvError::BelowIntrinsic { .. })
    ));
    assert!(matches!(
        implied_vol(k * df, &put, &state),
        Err(IvError::AboveUpperBound { .. })
    ));
    assert!(matches!(
        implied_vol(f64::NAN, &put, &state),
        Err(IvError::NotFinite(_))
    ));
    let expired = OptionSpec::new(OptionType::Call, k, 0.0).unwrap();
    assert!(matches!(
        implied_vol(15.0, &expired, &state),
        Err(IvError::Expired { .. })
    ));
    assert_eq!(implied_vol(10.0, &expired, &state), Ok(0.0));
    let msg = implied_vol(lower * 0.5, &call, &state)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("below the no-arbitrage lower bound"), "{msg}");
}

#[test]
fn deep_out_of_the_money_values_underflow_to_zero_never_nan() {
    let state = MarketState::new(100.0, 0.0, 0.0).unwrap();
    for (kind, k) in [(OptionType::Call, 1e4), (OptionType::Put, 1e-2)] {
        let g = BlackScholes::new(0.01)
            .unwrap()
            .greeks(&OptionSpec::new(kind, k, 1.0 / 365.0).unwrap(), &state);
        for x in [
            g.price,
            g.delta,
            g.gamma,
            g.vega,
            g.theta,
            g.rho,
            g.dividend_rho,
        ] {
            assert_eq!(x, 0.0, "{kind} K={k}: {g:?}");
        }
    }
    // Zero maturity and zero vol: intrinsic value, finite greeks.
    for (t, vol) in [(0.0, 0.2), (1.0, 0.0)] {
        let g = BlackScholes::new(vol)
            .unwrap()
            .greeks(&OptionSpec::new(OptionType::Call, 90.0, t).unwrap(), &state);
        assert_eq!(g.price, 10.0);
        assert_eq!((g.delta, g.gamma), (1.0, 0.0));
    }
    assert!(BlackScholes::new(-0.1)
        .unwrap_err()
        .to_string()
        .contains("`volatility` = -0.1"));
    assert!(OptionSpec::new(OptionType::Call, 0.0, 1.0)
        .unwrap_err()
        .to_string()
        .contains("`strike`"));
    assert!(OptionSpec::new(OptionType::Call, 1.0, -1.0)
        .unwrap_err()
        .to_string()
        .contains("`maturity`"));
    assert!(MarketState::new(f64::NAN, 0.0, 0.0)
        .unwrap_err()
        .to_string()
        .contains("`spot`"));
}
