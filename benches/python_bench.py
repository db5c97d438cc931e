#!/usr/bin/env python3
"""synthmarket against numpy/scipy and py_vollib_vectorized (issue 46).

One process, the same random arrays on both sides, the two sides timed in
turns with time.perf_counter (best of several repeats each; the median of
the per-round ratios is printed beside the best-over-best ratio) and the
ratio printed against the issue's target:

  bs_price        >= 1.5x  numpy + scipy.special.ndtr price
  bs_greeks       >= 1.5x  numpy price + five greeks (delta, gamma, vega,
                           theta, rho)
  implied_vol     >= 3x    py_vollib_vectorized 0.1.1, max |sigma error|
                           <= 1e-12 where vega >= 1e-3 (both sides reported)
  simulate heston >= 2x    a vectorised numpy Andersen (2008) QE over the
                           same grid that also builds the same DataFrame
                           (one thread each), and >= 3x with synthmarket's
                           default threads against the same one-thread numpy

The machine's load average is printed before and after: another process
using the cores (a build, a test run) slows both sides unevenly, and the
Heston default-threads ratio most.

The one-thread ratios pin both sides to one thread: OMP/OPENBLAS/MKL/NUMBA
thread counts are set to 1 before numpy is imported (and threadpoolctl
limits them again), synthmarket gets threads=1.

It reports, it does not assert: the exit code is 0 unless something crashes.

Usage (from the repository root, in an environment with
benches/python-requirements.txt and synthmarket installed):

    python benches/python_bench.py            # full size (about a minute)
    python benches/python_bench.py --quick    # smoke run (seconds)

OpenBLAS: on some processors this workplace sets OPENBLAS_CORETYPE (and
OPENBLAS_L2_SIZE) for older OpenBLAS builds; they slow a current numpy's
BLAS. None of the reference code below calls BLAS (it is elementwise ufuncs,
scipy.special.ndtr and numpy's Generator), but the bench prints both
variables and the BLAS kernel threadpoolctl sees, and to benchmark without
them run it as
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benches/python_bench.py
(both unset together, in that command alone).
"""

from __future__ import annotations

import os

# One thread for every native pool numpy, scipy and numba might use; this must
# happen before they are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
from scipy.special import ndtr  # noqa: E402

import synthmarket as sm  # noqa: E402

SEED = 20240646  # issue 46
INV_SQRT_2PI = 0.3989422804014327

# ------------------------------------------------------------------ inputs


def make_options(n: int, seed: int = SEED):
    """The issue's random book: S 100, K 50-150, T 0.02-2 y, sigma 0.05-1,
    r 3 %, q 1 %, half calls. Every argument is a float64 (bool) array of
    length n, the same objects passed to both sides."""
    rng = np.random.default_rng(seed)
    return dict(
        spot=np.full(n, 100.0),
        strike=rng.uniform(50.0, 150.0, n),
        maturity=rng.uniform(0.02, 2.0, n),
        vol=rng.uniform(0.05, 1.0, n),
        rate=np.full(n, 0.03),
        dividend=np.full(n, 0.01),
        call=rng.random(n) < 0.5,
    )


# ------------------------------------------------------------------ numpy references


def np_bs_price(spot, strike, maturity, vol, rate, dividend, call):
    """Black-Scholes-Merton price, vectorised numpy + scipy.special.ndtr."""
    sqrt_t = np.sqrt(maturity)
    sd = vol * sqrt_t
    d1 = (np.log(spot / strike) + (rate - dividend) * maturity) / sd + 0.5 * sd
    d2 = d1 - sd
    sign = np.where(call, 1.0, -1.0)
    se = spot * np.exp(-dividend * maturity)
    ke = strike * np.exp(-rate * maturity)
    return sign * (se * ndtr(sign * d1) - ke * ndtr(sign * d2))


def np_bs_greeks(spot, strike, maturity, vol, rate, dividend, call):
    """Price and five greeks (delta, gamma, vega, theta, rho), vectorised,
    the closed forms of Haug (2007) sec. 1.1 (theta per year, vega and rho
    per 1.00)."""
    sqrt_t = np.sqrt(maturity)
    sd = vol * sqrt_t
    d1 = (np.log(spot / strike) + (rate - dividend) * maturity) / sd + 0.5 * sd
    d2 = d1 - sd
    sign = np.where(call, 1.0, -1.0)
    se = spot * np.exp(-dividend * maturity)
    ke = strike * np.exp(-rate * maturity)
    n1 = ndtr(sign * d1)
    n2 = ndtr(sign * d2)
    se_pdf = se * (INV_SQRT_2PI * np.exp(-0.5 * d1 * d1))
    ke_n2 = ke * n2
    return dict(
        price=sign * (se * n1 - ke_n2),
        delta=sign * np.exp(-dividend * maturity) * n1,
        gamma=se_pdf / (spot * spot * sd),
        vega=se_pdf * sqrt_t,
        theta=-se_pdf * vol / (2.0 * sqrt_t) + sign * (dividend * se * n1 - rate * ke_n2),
        rho=sign * maturity * ke_n2,
    )


HESTON = dict(s0=100.0, v0=0.04, kappa=2.0, theta=0.04, xi=0.5, rho=-0.7)
START = "2025-01-02"


def step_dates_ns(steps: int, dt: float = 1.0 / 252.0, start: str = START) -> np.ndarray:
    """Dates of steps 0..steps as int64 ns: synthmarket's Mon-Fri calendar,
    step k on round(k*dt*252) business days after start."""
    offsets = np.rint(np.arange(steps + 1) * dt * 252.0).astype(np.int64)
    days = np.busday_offset(np.datetime64(start, "D"), offsets, roll="forward")
    return days.astype("datetime64[ns]").view(np.int64)


def np_heston_qe(paths: int, steps: int, seed: int, s0, v0, kappa, theta, xi, rho,
                 mu=0.0, dt=1.0 / 252.0, dates_ns=None) -> pd.DataFrame:
    """Andersen (2008) quadratic-exponential Heston with martingale
    correction (psi_c = 1.5, gamma1 = gamma2 = 1/2), vectorised over paths
    with numpy, one loop over steps; returns the DataFrame synthmarket's
    Market.spot has (path, step, date, spot, variance; path-major rows)."""
    rng = np.random.default_rng(seed)
    e = np.exp(-kappa * dt)
    c0 = theta * (1.0 - e)
    c1 = xi * xi * e * (1.0 - e) / kappa
    c2 = theta * xi * xi * (1.0 - e) ** 2 / (2.0 * kappa)
    k0 = -rho * kappa * theta / xi * dt
    k1 = 0.5 * dt * (kappa * rho / xi - 0.5) - rho / xi
    k2 = 0.5 * dt * (kappa * rho / xi - 0.5) + rho / xi
    k3 = 0.5 * dt * (1.0 - rho * rho)
    k4 = 0.5 * dt * (1.0 - rho * rho)
    big_a = k2 + 0.5 * k4
    drift = mu * dt
    # Output in the frame's path-major order: row p*(steps+1) + k.
    spot = np.empty((paths, steps + 1))
    var = np.empty((paths, steps + 1))
    spot[:, 0] = s0
    var[:, 0] = v0
    v = np.full(paths, float(v0))
    x = np.zeros(paths)  # ln(S/S0)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            zv, zs = rng.standard_normal((2, paths))
            m = c0 + e * v
            s2 = c1 * v + c2
            two_over_psi = 2.0 * m * m / s2
            quad = two_over_psi >= 2.0 / 1.5  # psi <= psi_c
            # Quadratic branch everywhere (NaN where psi > psi_c, fixed below).
            b2 = two_over_psi - 1.0 + np.sqrt(two_over_psi * (two_over_psi - 1.0))
            a = m / (1.0 + b2)
            bz = np.sqrt(b2) + zv
            vn = a * bz * bz
            d = 1.0 - 2.0 * big_a * a
            # K0* + K1 v = -ln M(A) - K3 v / 2 (Andersen sec. 4.2, Prop. 5).
            expo = -big_a * b2 * a / d + 0.5 * np.log(d) - 0.5 * k3 * v
            if not d.min() > 0.0:
                expo = np.where(d > 0.0, expo, k0 + k1 * v)
            if not quad.all():
                i = np.flatnonzero(~quad)
                vi, mi = v[i], m[i]
                psi = s2[i] / (mi * mi)
                p = (psi - 1.0) / (psi + 1.0)
                beta = (1.0 - p) / mi
                tail = ndtr(-zv[i])  # 1 - U with U = Phi(zv)
                vn[i] = np.where(tail >= 1.0 - p, 0.0, np.log((1.0 - p) / tail) / beta)
                expo[i] = np.where(
                    big_a < beta,
                    -np.log(p + beta * (1.0 - p) / (beta - big_a)) - 0.5 * k3 * vi,
                    k0 + k1 * vi,
                )
            x += drift + expo + k2 * vn + np.sqrt(k3 * v + k4 * vn) * zs
            v = vn
            spot[:, k] = np.exp(x)
            var[:, k] = vn
    spot *= s0
    if dates_ns is None:
        dates_ns = step_dates_ns(steps, dt)
    rows = paths * (steps + 1)
    frame = pd.DataFrame(
        {
            "path": np.repeat(np.arange(paths, dtype=np.int64), steps + 1),
            "step": np.tile(np.arange(steps + 1, dtype=np.int64), paths),
            "date": np.tile(dates_ns, paths).view("datetime64[ns]"),
            "spot": spot.reshape(rows),
            "variance": var.reshape(rows),
        },
        copy=False,
    )
    return frame


# ------------------------------------------------------------------ timing


def best_of(fn, repeat: int, warmup: int = 1):
    """(best seconds, last result) over `repeat` timed calls after `warmup`
    untimed ones; the garbage collector off while timing."""
    result = None
    for _ in range(warmup):
        result = fn()
    best = float("inf")
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            result = None  # free the previous output before the next call
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return best, result


def interleaved(fns, repeat: int, warmup: int = 1):
    """Times several functions in turns (a, b, c, a, b, c, ... with the order
    rotated each round), so that each sees the same machine conditions: on a
    shared virtual machine the speed drifts by tens of per cent over seconds.
    Returns, per function, (best seconds, all seconds, last result)."""
    results = [None] * len(fns)
    for _ in range(warmup):
        for i, fn in enumerate(fns):
            results[i] = fn()
    times = [[] for _ in fns]
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for rnd in range(repeat):
            order = list(range(len(fns)))
            order = order[rnd % len(fns):] + order[:rnd % len(fns)]
            for i in order:
                results[i] = None
                t0 = time.perf_counter()
                results[i] = fns[i]()
                times[i].append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return [(min(t), t, r) for t, r in zip(times, results)]


ROWS = []


def row(op, unit, n_units, ref, ours, target, note=""):
    """`ref` and `ours` are (best, all times) from `interleaved`: the ratio is
    best over best; the median of the per-round ratios is shown beside it."""
    (t_ref, all_ref), (t_sm, all_sm) = ref[:2], ours[:2]
    ref_ns = t_ref / n_units * 1e9
    sm_ns = t_sm / n_units * 1e9
    ratio = t_ref / t_sm
    median = float(np.median(np.asarray(all_ref) / np.asarray(all_sm)))
    ROWS.append(dict(operation=op, unit=unit, reference_ns=ref_ns, synthmarket_ns=sm_ns,
                     ratio=ratio, median_ratio=median, target=target, met=ratio >= target, note=note))


def print_table():
    head = (f"{'operation':<46} {'unit':<10} {'ref ns':>8} {'sm ns':>8} {'ratio':>7} {'median':>7} "
            f"{'target':>7}  result")
    print(head)
    print("-" * len(head))
    for r in ROWS:
        print(f"{r['operation']:<46} {r['unit']:<10} {r['reference_ns']:>8.2f} {r['synthmarket_ns']:>8.2f} "
              f"{r['ratio']:>6.2f}x {r['median_ratio']:>6.2f}x {r['target']:>6.1f}x  {'met' if r['met'] else 'NOT MET'}"
              + (f"  ({r['note']})" if r["note"] else ""))


# ------------------------------------------------------------------ environment


def describe_environment():
    print(f"python {platform.python_version()}  numpy {np.__version__}  scipy {scipy.__version__}  "
          f"pandas {pd.__version__}  synthmarket {sm.__version__}")
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}, "
          f"affinity = {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} cpus")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{var} = {os.environ.get(var, '(unset)')}")
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            print(f"threadpool: {pool.get('user_api')} {pool.get('internal_api')} {pool.get('version')} "
                  f"architecture={pool.get('architecture')} threads={pool.get('num_threads')}")
    except ImportError:
        print("threadpoolctl not installed: BLAS kernel not reported")


# ------------------------------------------------------------------ sections


def bench_black_scholes(n, repeat):
    args = make_options(n)
    a = [args[k] for k in ("spot", "strike", "maturity", "vol", "rate", "dividend", "call")]

    r_ref, r_sm = interleaved([lambda: np_bs_price(*a), lambda: sm.bs_price(*a, threads=1)], repeat)
    ref, got = r_ref[2], r_sm[2]
    big = np.abs(got) > 1e-6
    rel = float(np.max(np.abs(got - ref)[big] / np.abs(got)[big])) if big.any() else 0.0
    print(f"bs_price: max |difference| to numpy {float(np.max(np.abs(got - ref))):.2e}, relative where "
          f"price > 1e-6: {rel:.2e} (numpy's difference of legs loses digits far out of the money)")
    row("bs_price (1 thread)", "option", n, r_ref, r_sm, 1.5)

    g_ref, g_sm = interleaved([lambda: np_bs_greeks(*a), lambda: sm.bs_greeks(*a, threads=1)], repeat)
    ref_g, got_g = g_ref[2], g_sm[2]
    worst = {k: float(np.max(np.abs(got_g[k] - ref_g[k]) / np.maximum(np.abs(ref_g[k]), 1e-8)))
             for k in ref_g}
    print("bs_greeks: max relative difference to numpy " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    row("bs_greeks (1 thread; ref: price + 5 greeks)", "option", n, g_ref, g_sm, 1.5,
        "synthmarket also computes dividend_rho")

    # Where bs_price's time goes (informational): the same call with
    # scalars for the constant arguments (no per-element loads of them).
    kt = (args["strike"], args["maturity"], args["vol"])
    s_ref, s_sm = interleaved([lambda: np_bs_price(100.0, *kt, 0.03, 0.01, args["call"]),
                               lambda: sm.bs_price(100.0, *kt, 0.03, 0.01, args["call"], threads=1)], repeat)
    row("bs_price, S/r/q scalars (info)", "option", n, s_ref, s_sm, 1.5)
    return args, got_g


def bench_implied_vol(n, repeat, args, greeks):
    try:
        from py_vollib_vectorized import vectorized_implied_volatility
        import numba
        from importlib.metadata import version
        pv_version = version("py_vollib_vectorized")
    except ImportError as e:  # reported, not fatal
        print(f"implied_vol: py_vollib_vectorized not importable ({e}); skipped")
        return
    print(f"py_vollib_vectorized {pv_version}, numba {numba.__version__} "
          f"(NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')})")
    # Prices from the true sigma, by synthmarket's pricer (Jaeckel's
    # normalised Black function, a few ulp everywhere).
    price = greeks["price"]
    vega = greeks["vega"]
    sigma = args["vol"]
    s, k, t, r, q, call = (args[x] for x in ("spot", "strike", "maturity", "rate", "dividend", "call"))
    flag = np.where(call, "c", "p")

    def pv():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return vectorized_implied_volatility(price, s, k, t, r, flag, q=q, model="black_scholes_merton",
                                                 on_error="ignore", return_as="numpy")

    pv(), pv()  # numba compile (cached on disk after the first run) outside the timing
    i_ref, i_sm = interleaved([pv, lambda: sm.implied_vol(price, s, k, t, r, q, call, threads=1)], repeat)
    iv_ref, iv_sm = i_ref[2], i_sm[2]
    iv_ref = np.asarray(iv_ref, dtype=float).ravel()

    def max_error(iv, mask):
        err = np.abs(iv - sigma)[mask]
        return (float(np.nanmax(err)) if err.size and not np.isnan(err).all() else 0.0), int(np.isnan(err).sum())

    # "vega >= 1e-3" in py_vollib's unit, per vol point (0.01): synthmarket's
    # vega is per 1.00 of vol, so the mask is vega >= 0.1 there (as in
    # python/tests/test_pricing.py). Per 1.00 (vega >= 1e-3) is also printed:
    # there one ulp of a price of 36 (7e-15) alone moves sigma by 7e-12.
    for label, mask in (("vega >= 1e-3 per vol point", vega >= 0.1),
                        ("vega >= 1e-3 per 1.00 of vol (info)", vega >= 1e-3)):
        (max_sm, nan_sm), (max_ref, nan_ref) = max_error(iv_sm, mask), max_error(iv_ref, mask)
        verdict = "met" if max_sm <= 1e-12 and nan_sm == 0 else "NOT MET"
        print(f"implied_vol, {label}: {int(mask.sum())} of {n} options; max |sigma error| synthmarket "
              f"{max_sm:.2e} ({nan_sm} NaN), py_vollib_vectorized {max_ref:.2e} ({nan_ref} NaN); "
              f"<= 1e-12: {verdict}")
        if label.startswith("vega >= 1e-3 per vol point"):
            note = f"max err {max_sm:.1e} vs {max_ref:.1e}, {verdict}"
    row("implied_vol (1 thread) vs py_vollib_vectorized", "option", n, i_ref, i_sm, 3.0,
        note)


def bench_heston(paths, steps, repeat):
    dates = step_dates_ns(steps)
    path_steps = paths * steps

    def ref():
        return np_heston_qe(paths, steps, SEED, **HESTON, dates_ns=dates)

    def ours(threads):
        return sm.simulate(model="heston", paths=paths, steps=steps, seed=SEED, threads=threads, **HESTON).spot

    h_ref, h_one, h_all = interleaved([ref, lambda: ours(1), lambda: ours(None)], repeat)
    df_ref, df_one, df_all = h_ref[2], h_one[2], h_all[2]
    t_ref = h_ref[0]

    # Same thing on both sides: shape, columns, dtypes, keys and dates.
    same = (df_ref.shape == df_one.shape and list(df_ref.columns) == list(df_one.columns)
            and list(df_ref.dtypes) == list(df_one.dtypes)
            and np.array_equal(df_ref["path"].to_numpy(), df_one["path"].to_numpy())
            and np.array_equal(df_ref["step"].to_numpy(), df_one["step"].to_numpy())
            and np.array_equal(df_ref["date"].to_numpy(), df_one["date"].to_numpy()))
    print(f"heston frames: {df_one.shape[0]} rows x {list(df_one.columns)}; numpy frame has the same shape, "
          f"columns, dtypes, path/step/date columns: {same}; threads=None frame equals threads=1: "
          f"{df_all.equals(df_one)}")
    # The two schemes draw different normals: compare the laws, not the paths.
    last = steps
    ev = HESTON["theta"] + (HESTON["v0"] - HESTON["theta"]) * np.exp(-HESTON["kappa"] * steps / 252.0)
    for name, df in (("numpy", df_ref), ("synthmarket", df_one)):
        st = df["spot"].to_numpy().reshape(paths, steps + 1)[:, last]
        vt = df["variance"].to_numpy().reshape(paths, steps + 1)[:, last]
        print(f"  {name:<12} E[S_T] = {st.mean():8.4f} +- {st.std() / np.sqrt(paths):.4f} (exact 100), "
              f"E[v_T] = {vt.mean():.5f} +- {vt.std() / np.sqrt(paths):.5f} (exact {ev:.5f})")
    del df_ref, df_one, df_all
    h_ref, h_one, h_all = h_ref[:2], h_one[:2], h_all[:2]

    # Where synthmarket's time goes: the native call (simulation and the
    # columns Rust fills) against the DataFrame assembly in Python.
    text = sm._params_json("heston", paths, steps, SEED, False, HESTON)
    native = sm._native
    t_native, cols = best_of(lambda: native.simulate(text, 1), repeat)
    t_frame, _ = best_of(lambda: sm._frame(cols[0]), repeat)
    print(f"  synthmarket one thread: native simulate {t_native * 1e3:.1f} ms "
          f"({t_native / path_steps * 1e9:.2f} ns/path-step), DataFrame assembly {t_frame * 1e3:.2f} ms; "
          f"numpy reference {t_ref * 1e3:.1f} ms")

    row("simulate heston QE (1 thread)", "path-step", path_steps, h_ref, h_one, 2.0)
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    row(f"simulate heston QE (default threads, {ncpu} cpus)", "path-step", path_steps, h_ref, h_all, 3.0,
        "numpy on one thread")


# ------------------------------------------------------------------ diagnosis


def diagnose(n, repeat):
    """Where synthmarket's pricing time goes, from Python: the native call
    alone (no broadcasting), the fixed cost of a call, inputs that never take
    Jaeckel's normalised-Black fallback, and how many of the random book do."""
    args = make_options(n)
    a = [args[k] for k in ("spot", "strike", "maturity", "vol", "rate", "dividend", "call")]
    nat = sm._native

    def ns(fn, units=n, rep=repeat):
        return best_of(fn, rep)[0] / units * 1e9

    print(f"  bs_price via sm.bs_price, threads=1              {ns(lambda: sm.bs_price(*a, threads=1)):8.2f} ns/option")
    print(f"  bs_price native call alone (no broadcasting)     {ns(lambda: nat.bs_price(n, *a, 1)):8.2f} ns/option")
    print(f"  bs_price native, threads=None (all cores)        {ns(lambda: nat.bs_price(n, *a, None)):8.2f} ns/option")
    atm = [np.full(n, x) for x in (100.0, 100.0, 1.0, 0.2, 0.03, 0.01)] + [np.ones(n, bool)]
    print(f"  bs_price native, at the money, T 1, sigma 0.2    {ns(lambda: nat.bs_price(n, *atm, 1)):8.2f} ns/option"
          "  (no fallback, |d|/sqrt2 < 0.84: erfc without exp)")
    one = [x[:1] for x in a]
    print(f"  one-option call, threads=1                       {ns(lambda: nat.bs_price(1, *one, 1), 1, 200) / 1e3:8.2f} us per call")
    print(f"  one-option call, threads=None                    {ns(lambda: nat.bs_price(1, *one, None), 1, 200) / 1e3:8.2f} us per call")
    print(f"  bs_greeks native call alone                      {ns(lambda: nat.bs_greeks(n, *a, 1)):8.2f} ns/option")
    print(f"  numpy reference price                            {ns(lambda: np_bs_price(*a)):8.2f} ns/option")
    print(f"  scipy.special.ndtr alone                         {ns(lambda: ndtr(args['vol'])):8.2f} ns/element")
    print(f"  np.exp alone                                     {ns(lambda: np.exp(args['vol'])):8.2f} ns/element")
    print(f"  np.log alone                                     {ns(lambda: np.log(args['vol'])):8.2f} ns/element")
    # The share of the book priced by the fallback (synthmarket's criterion:
    # the textbook difference loses more than two digits).
    s, k, t, v, r, q, c = a
    sd = v * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q) * t) / sd + 0.5 * sd
    sign = np.where(c, 1.0, -1.0)
    legs_a = s * np.exp(-q * t) * ndtr(sign * d1)
    legs_b = k * np.exp(-r * t) * ndtr(sign * (d1 - sd))
    direct = sign * (legs_a - legs_b)
    fallback = ~((direct > 0) & (legs_a + legs_b < 100 * direct))
    z = np.abs(np.concatenate([d1, d1 - sd])) / np.sqrt(2.0)
    print(f"  random book: {fallback.mean():.1%} of options take the normalised-Black fallback; erfc arguments "
          f"|x| < 0.84375 (polynomial, no exp): {(z < 0.84375).mean():.1%}, 0.84375-1.25 (no exp): "
          f"{((z >= 0.84375) & (z < 1.25)).mean():.1%}, >= 1.25 (two exp calls in musl's erfc): {(z >= 1.25).mean():.1%}")


# ------------------------------------------------------------------ memory

_MEMORY_CHILD = r"""
import os, sys, json, resource
for v in ("OMP_NUM_THREADS","OPENBLAS_NUM_THREADS","MKL_NUM_THREADS"): os.environ[v] = "1"
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import python_bench as b
import numpy as np
what, size = sys.argv[2], int(sys.argv[3])
def rss_kib():  # current resident set
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1])
def hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"): return int(line.split()[1])
if what == "heston":
    import synthmarket as sm
    b.step_dates_ns(252)
    sm.simulate(model="heston", paths=10, steps=5, seed=1, threads=1)
    base = rss_kib()
    with open("/proc/self/clear_refs", "w") as f: f.write("5")  # reset VmHWM
    m = sm.simulate(model="heston", paths=size, steps=252, seed=1, threads=1, **b.HESTON)
    out = int(m.spot.memory_usage(index=False, deep=False).sum())
elif what == "heston-numpy":
    d = b.step_dates_ns(252)
    base = rss_kib()
    with open("/proc/self/clear_refs", "w") as f: f.write("5")
    df = b.np_heston_qe(size, 252, 1, **b.HESTON, dates_ns=d)
    out = int(df.memory_usage(index=False, deep=False).sum())
elif what == "greeks":
    import synthmarket as sm
    a = b.make_options(size)
    sm.bs_greeks(100.0, 100.0, 1.0, 0.2)
    base = rss_kib()
    with open("/proc/self/clear_refs", "w") as f: f.write("5")
    g = sm.bs_greeks(*[a[k] for k in ("spot","strike","maturity","vol","rate","dividend","call")], threads=1)
    out = sum(x.nbytes for x in g.values())
print(json.dumps({"peak_growth": (hwm_kib() - base) * 1024, "output": out, "rss_after": (rss_kib() - base) * 1024}))
"""


def bench_memory(paths, n):
    """Peak resident memory a call adds, against the size of what it
    returns (1.0 = one copy of the output), each in a fresh process."""
    script = os.path.abspath(__file__)
    for what, size in (("heston", paths), ("heston-numpy", paths), ("greeks", n)):
        try:
            res = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, script, what, str(size)],
                                 capture_output=True, text=True, timeout=600, check=True)
            m = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"  {what:<13} output {m['output'] / 2**20:7.1f} MiB, peak growth {m['peak_growth'] / 2**20:7.1f} MiB "
                  f"= {m['peak_growth'] / max(m['output'], 1):.2f}x the output (kept after: "
                  f"{m['rss_after'] / max(m['output'], 1):.2f}x)")
        except Exception as e:  # a report, not a test
            print(f"  {what}: memory measurement failed: {e}")


# ------------------------------------------------------------------ main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run of a few seconds")
    ap.add_argument("--options", type=int, default=None, help="options per vectorised call (default 10^6)")
    ap.add_argument("--paths", type=int, default=None, help="Heston paths (default 10,000; 252 steps)")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats per measurement (best is kept)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurements")
    ap.add_argument("--diagnose", action="store_true", help="also time the parts of bs_price (where the time goes)")
    ap.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    opts = ap.parse_args(argv)
    n = opts.options or (20_000 if opts.quick else 1_000_000)
    paths = opts.paths or (500 if opts.quick else 10_000)
    steps = 252
    repeat = opts.repeat or (2 if opts.quick else 7)

    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(1)
    except ImportError:
        limiter = None

    describe_environment()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          + ("  (other work is running: ratios are unreliable)" if os.getloadavg()[0] > 0.5 else ""))
    print(f"sizes: {n} options, Heston {paths} paths x {steps} steps; best of {repeat}; seed {SEED}")
    print()
    args, greeks = bench_black_scholes(n, repeat)
    bench_implied_vol(n, max(2, repeat // 2), args, greeks)
    del args, greeks
    gc.collect()
    bench_heston(paths, steps, max(2, repeat // 2))
    print()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print_table()
    if opts.quick or n < 1_000_000 or paths < 10_000:
        print("(smoke sizes: these ratios do not measure the issue's targets, which are set at 10^6 options and "
              "10,000 x 252 paths; numpy's fixed cost per call dominates small arrays)")
    if not opts.no_memory:
        print()
        print("memory (peak RSS a call adds in a fresh process, over its output's size):")
        bench_memory(paths, n)
    if opts.diagnose:
        print()
        print("diagnosis (synthmarket's pricing cost by part):")
        diagnose(n, repeat)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(ROWS, f, indent=1, default=float)
    if limiter is not None:
        limiter.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
