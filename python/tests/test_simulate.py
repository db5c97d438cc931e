"""simulate / load / to_dir against the CLI on the same seed: the same
numbers bit for bit, the same files byte for byte."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import synthmarket as sm


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


CASES = [
    ("heston", dict(paths=40, steps=30, seed=11, options=True, months=2, strikes=5, chain_every=5)),
    ("gbm", dict(paths=30, steps=25, seed=3, sigma=[0.2, 0.35], correlation=[[1, 0.6], [0.6, 1]], assets=["aaa", "bbb"])),
    ("garch", dict(paths=20, steps=40, seed=5, options=True, months=1, strikes=3, chain_every=10)),
    ("deep", dict(paths=6, steps=30, seed=9, options=True, months=2, strikes=5, chain_every=10, chain_layout="wide")),
]


def cli_args(model, params):
    args = ["simulate", "--model", model]
    for key, value in params.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, list) and value and isinstance(value[0], list):
            args += [flag, ";".join(",".join(str(x) for x in row) for row in value)]
        elif isinstance(value, list):
            args += [flag, ",".join(str(x) for x in value)]
        else:
            args += [flag, str(value)]
    return args


@pytest.mark.parametrize("model,params", CASES, ids=[c[0] for c in CASES])
def test_simulate_equals_the_cli_bit_for_bit(tmp_path, run_cli, model, params):
    run_cli(*cli_args(model, params), "--out", tmp_path / "cli")
    market = sm.simulate(model=model, **params)
    loaded = sm.load(tmp_path / "cli")
    # The in-memory frames equal what the CLI wrote, value for value.
    pd.testing.assert_frame_equal(market.spot, loaded.spot, check_exact=True)
    assert (market.options is None) == (loaded.options is None)
    if market.options is not None:
        pd.testing.assert_frame_equal(market.options, loaded.options, check_exact=True)
    # to_dir writes the CLI's files byte for byte.
    market.to_dir(tmp_path / "py")
    for name in ("spot.csv", "options.csv", "run.json"):
        cli_file, py_file = tmp_path / "cli" / name, tmp_path / "py" / name
        assert cli_file.exists() == py_file.exists(), name
        if cli_file.exists() and name != "run.json":
            assert md5(cli_file) == md5(py_file), name
    # run.json: the same manifest (the command line is the job's own).
    assert json.loads((tmp_path / "cli" / "run.json").read_text()) == json.loads((tmp_path / "py" / "run.json").read_text())
    # The manifest in memory is the one written, row counts included.
    assert market.manifest == loaded.manifest


def test_dtypes_are_the_documented_ones():
    m = sm.simulate(model="heston", paths=3, steps=5, options=True, months=1, strikes=3)
    assert m.spot.dtypes.astype(str).to_dict() == {
        "path": "int64", "step": "int64", "date": "datetime64[ns]", "spot": "float64", "variance": "float64"}
    assert list(m.options.columns) == ["path", "step", "date", "expiry", "maturity", "strike", "option_type",
                                       "price", "implied_vol", "delta", "gamma", "vega", "theta"]
    assert str(m.options["expiry"].dtype) == "datetime64[ns]"
    assert list(m.options["option_type"].cat.categories) == ["call", "put"]
    # Steps are business days from 2025-01-02 (a Thursday): the 3rd step is Tuesday 2025-01-07.
    assert m.spot.loc[m.spot.step == 3, "date"].iloc[0] == pd.Timestamp("2025-01-07")


def test_same_seed_same_numbers_for_any_thread_count():
    a = sm.simulate(model="heston", paths=300, steps=20, seed=4, threads=1)
    b = sm.simulate(model="heston", paths=300, steps=20, seed=4, threads=2)
    pd.testing.assert_frame_equal(a.spot, b.spot, check_exact=True)
    c = sm.simulate(model="heston", paths=300, steps=20, seed=5, threads=2)
    assert not np.array_equal(a.spot.spot.to_numpy(), c.spot.spot.to_numpy())


def test_gbm_terminal_mean_matches_the_closed_form():
    # E[S_T] = S0 e^{mu T}; sd of the mean over n paths: S0 e^{mu T} sqrt(e^{sigma^2 T} - 1) / sqrt(n).
    n, s0, mu, sigma = 20_000, 100.0, 0.05, 0.2
    m = sm.simulate(model="gbm", paths=n, steps=252, seed=1, s0=s0, mu=mu, sigma=sigma)
    last = m.spot[m.spot.step == 252].spot.to_numpy()
    want = s0 * np.exp(mu)
    se = want * np.sqrt(np.expm1(sigma**2)) / np.sqrt(n)
    assert abs(last.mean() - want) < 4 * se


def test_bad_parameters_raise_the_cli_message(run_cli, tmp_path):
    with pytest.raises(sm.SynthmarketError) as err:
        sm.simulate(model="heston", paths=10, xi=-1.0)
    cli = run_cli("simulate", "--model", "heston", "--paths", "10", "--xi", "-1", "--out", tmp_path / "x", check=False)
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"error: {err.value}"
    assert not (tmp_path / "x" / "spot.csv").exists()
    with pytest.raises(sm.SynthmarketError, match="unknown field `volatility`"):
        sm.simulate(model="gbm", volatility=0.2)
    with pytest.raises(sm.SynthmarketError, match="does not apply to --model gbm"):
        sm.simulate(model="gbm", kappa=2.0)
    with pytest.raises(sm.SynthmarketError, match="threads"):
        sm.simulate(model="gbm", paths=2, steps=2, threads=0)


def test_load_refuses_a_directory_without_run_json(tmp_path):
    with pytest.raises(sm.SynthmarketError, match="run.json"):
        sm.load(tmp_path)


def test_version_is_the_crates(root):
    import re

    def version(path):
        return re.search(r'^version = "([^"]+)"', path.read_text(), re.M).group(1)

    crate = version(root / "Cargo.toml")
    assert sm.__version__ == crate
    assert version(root / "python" / "Cargo.toml") == crate


def test_simulate_into_a_directory_is_the_cli_run(tmp_path, run_cli):
    m = sm.simulate(model="garch", paths=10, steps=20, seed=2, options=True, months=1, strikes=3, out=tmp_path / "py")
    run_cli("simulate", "--model", "garch", "--paths", "10", "--steps", "20", "--seed", "2", "--options",
            "--months", "1", "--strikes", "3", "--out", tmp_path / "cli")
    for name in ("spot.csv", "options.csv"):
        assert md5(tmp_path / "py" / name) == md5(tmp_path / "cli" / name)
    pd.testing.assert_frame_equal(m.spot, sm.simulate(model="garch", paths=10, steps=20, seed=2).spot, check_exact=True)
