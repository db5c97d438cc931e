//! Black–Scholes–Merton prices and greeks against a 50-digit mpmath
//! evaluation of the closed forms (tests/reference/bsm_mpmath.py), over
//! maturities from one minute to 30 years, vols from 0.1 % to 500 %, spot
//! scales 0.01 to 1e6, strikes 50 %–200 % of spot, positive and negative
//! rates.

use crate::bsm_reference::CASES;
use crate::common::spec;
use synthmarket::market::MarketState;
use synthmarket::pricing::BlackScholes;

/// Relative error, except near underflow: below 1e-300 the normalised time
/// value `price / (e^{−rT}√(FK))` is subnormal (fewer than 16 digits by the
/// definition of f64), so there the error is measured against 1e-300 and
/// must stay below 1e-12 of it, i.e. 1e-312 absolute.
fn rel_err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}

#[test]
fn prices_and_greeks_match_50_digit_reference() {
    let mut worst = [0.0f64; 7];
    let names = [
        "price",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
        "dividend_rho",
    ];
    for (i, &(is_call, s, k, t, r, q, v, want)) in CASES.iter().enumerate() {
        let g = BlackScholes::new(v)
            .unwrap()
            .greeks(&spec(is_call, k, t), &MarketState::new(s, r, q).unwrap());
        let got = [
            g.price,
            g.delta,
            g.gamma,
            g.vega,
            g.theta,
            g.rho,
            g.dividend_rho,
        ];
        for j in 0..7 {
            assert!(got[j].is_finite(), "case {i}: {} is {}", names[j], got[j]);
            // Theta is a sum of terms of both signs: its error is measured
            // against the size of those terms.
            let err = if j == 4 {
                (got[j] - want[j]).abs() / want[7].max(1e-300)
            } else {
                rel_err(got[j], want[j])
            };
            if err > worst[j] {
                worst[j] = err;
            }
            assert!(
                err <= 1e-12,
                "case {i} ({}, S={s}, K={k}, T={t}, r={r}, q={q}, σ={v}): {} = {:e}, reference {:e}, error {err:.2e}",
                if is_call { "call" } else { "put" },
                names[j],
                got[j],
                want[j]
            );
        }
    }
    eprintln!(
        "worst relative errors: {:?}",
        names.iter().zip(worst).collect::<Vec<_>>()
    );
}
