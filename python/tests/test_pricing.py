"""Vectorised pricing against published values, the Rust library (the CLI's
`price` command on the same options) and its own inverses."""

import io

import numpy as np
import pandas as pd
import pytest

import synthmarket as sm


def test_black_scholes_matches_published_values():
    # Hull, Options, Futures and Other Derivatives (8th ed.), Example 15.6:
    # S 42, K 40, r 10 %, sigma 20 %, T 0.5: call 4.76, put 0.81 (to the cent).
    assert sm.bs_price(42.0, 40.0, 0.5, 0.2, 0.1, call=True) == pytest.approx(4.7594, abs=5e-5)
    assert sm.bs_price(42.0, 40.0, 0.5, 0.2, 0.1, call=False) == pytest.approx(0.8086, abs=5e-5)
    # Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), §1.1.1:
    # S 60, K 65, T 0.25, r 8 %, sigma 30 %: call 2.1334.
    assert sm.bs_price(60.0, 65.0, 0.25, 0.3, 0.08) == pytest.approx(2.1334, abs=5e-5)
    # Haug §2.1: delta of S 105, K 100, T 0.5, r 10 %, b 0 (q = r), sigma 36 %: call 0.5946, put -0.3566.
    g = sm.bs_greeks(105.0, 100.0, 0.5, 0.36, 0.1, 0.1, call=[True, False])
    assert g["delta"] == pytest.approx([0.5946, -0.3566], abs=5e-5)


def test_heston_matches_the_mpmath_reference():
    # tests/reference/heston_mpmath.py (Lewis integral, 30 digits), case feller_ok:
    # S 100, r 2 %, q 1 %, v0 0.04, kappa 2, theta 0.04, xi 0.3, rho -0.7, T 1.
    got = sm.heston_price(100.0, [80.0, 100.0, 125.0], 1.0, 0.04, 2.0, 0.04, 0.3, -0.7, 0.02, 0.01, call=True)
    want = [2.2109079454659772e1, 8.062461478849283, 7.8219110990733713e-1]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    put = sm.heston_price(100.0, 100.0, 1.0, 0.04, 2.0, 0.04, 0.3, -0.7, 0.02, 0.01, option_type="put")
    assert put == pytest.approx(7.0773454346080078, rel=1e-9)


def random_options(n, seed=0):
    rng = np.random.default_rng(seed)
    return dict(
        spot=np.full(n, 100.0),
        strike=rng.uniform(50, 150, n),
        maturity=rng.uniform(0.02, 2.0, n),
        vol=rng.uniform(0.05, 1.0, n),
        rate=0.03,
        dividend=0.01,
        call=rng.uniform(size=n) < 0.5,
    )


def test_prices_and_greeks_equal_the_cli_price_command(tmp_path, run_cli):
    o = random_options(500, seed=1)
    table = pd.DataFrame({
        "option_type": np.where(o["call"], "call", "put"), "spot": o["spot"], "strike": o["strike"],
        "maturity": o["maturity"], "rate": o["rate"], "dividend": o["dividend"], "volatility": o["vol"]})
    table.to_csv(tmp_path / "in.csv", index=False, float_format="%.17g")
    run_cli("price", "--model", "bs", "--input", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    cli = pd.read_csv(tmp_path / "out.csv")
    g = sm.bs_greeks(**o)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        np.testing.assert_array_equal(g[name], cli[name].to_numpy(), err_msg=name)
    np.testing.assert_array_equal(sm.bs_price(**o), g["price"])


def test_broadcasting_shapes_and_scalars():
    strikes = np.array([[90.0], [100.0], [110.0]])
    maturities = np.array([0.25, 0.5, 1.0, 2.0])
    p = sm.bs_price(100.0, strikes, maturities, 0.2)
    assert p.shape == (3, 4)
    assert p[1, 2] == sm.bs_price(100.0, 100.0, 1.0, 0.2)
    assert isinstance(sm.bs_price(100.0, 100.0, 1.0, 0.2), float)
    with pytest.raises(ValueError):
        sm.bs_price(100.0, [90.0, 100.0], [0.5, 1.0, 2.0], 0.2)


def test_implied_vol_inverts_the_price_to_1e_12():
    # Where vega >= 1e-3 per vol point (py_vollib's unit; 0.1 per 1.00 of
    # vol here). Below that a price's own rounding moves sigma by more:
    # one ulp of a deep in-the-money call worth 36 (7e-15) over a vega of
    # 0.0018 per 1.00 is 4e-12 of sigma, for any inversion.
    o = random_options(20_000, seed=2)
    price = sm.bs_price(**o)
    vega = sm.bs_greeks(**o)["vega"]
    args = {k: v for k, v in o.items() if k != "vol"}
    iv = sm.implied_vol(price, **args)
    resolved = vega >= 0.1
    assert resolved.mean() > 0.9
    assert np.max(np.abs(iv[resolved] - o["vol"][resolved])) <= 1e-12
    # Everywhere the inversion reprices to the input within a few ulp.
    ok = np.isfinite(iv)
    assert ok.mean() > 0.99
    repriced = sm.bs_price(o["spot"][ok], o["strike"][ok], o["maturity"][ok], iv[ok], 0.03, 0.01, o["call"][ok])
    np.testing.assert_allclose(repriced, price[ok], rtol=1e-12, atol=1e-13)


def test_implied_vol_outside_the_bounds_is_nan_or_raises():
    # A call is worth at most the spot and at least its intrinsic value.
    prices = np.array([5.0, 150.0, 0.5])  # fine; above the spot; below intrinsic (S 100, K 90)
    iv = sm.implied_vol(prices, 100.0, [100.0, 100.0, 90.0], 1.0)
    assert np.isfinite(iv[0]) and np.isnan(iv[1]) and np.isnan(iv[2])
    with pytest.raises(sm.SynthmarketError, match="element 1"):
        sm.implied_vol(prices, 100.0, [100.0, 100.0, 90.0], 1.0, on_error="raise")


def test_bad_arguments_raise_instead_of_crashing():
    with pytest.raises(sm.SynthmarketError, match="strike"):
        sm.bs_price(100.0, -5.0, 1.0, 0.2)
    with pytest.raises(sm.SynthmarketError, match="volatility"):
        sm.bs_price(100.0, 100.0, 1.0, np.nan)
    with pytest.raises(sm.SynthmarketError, match="threads"):
        sm.bs_price(100.0, 100.0, 1.0, 0.2, threads=0)
    with pytest.raises(sm.SynthmarketError, match="option_type"):
        sm.bs_price(100.0, 100.0, 1.0, 0.2, option_type="straddle")
    with pytest.raises(sm.SynthmarketError, match="rho"):
        sm.heston_price(100.0, 100.0, 1.0, 0.04, 2.0, 0.04, 0.3, -1.5)


def test_results_do_not_depend_on_threads():
    o = random_options(100_000, seed=3)
    np.testing.assert_array_equal(sm.bs_price(**o, threads=1), sm.bs_price(**o, threads=2))
    np.testing.assert_array_equal(sm.bs_price(**o, threads=1), sm.bs_price(**o, threads=None))
    price = sm.bs_price(**o)
    args = {k: v for k, v in o.items() if k != "vol"}
    np.testing.assert_array_equal(sm.implied_vol(price, **args, threads=1), sm.implied_vol(price, **args, threads=2))
