"""calibrate, validate and hedge against the CLI on the same inputs."""

import json

import numpy as np
import pandas as pd
import pytest

import synthmarket as sm


def test_calibrate_gbm_matches_the_cli(root, run_cli, tmp_path):
    fit = sm.calibrate_gbm(root / "data" / "sp500_daily.csv")
    run_cli("calibrate", "gbm", "--data", root / "data" / "sp500_daily.csv", "--out", tmp_path / "gbm.toml")
    text = (tmp_path / "gbm.toml").read_text()
    cfg = dict(line.split(" = ") for line in text.splitlines() if " = " in line and not line.startswith("#"))
    assert float(cfg["mu"]) == fit["mu"] and float(cfg["sigma"]) == fit["sigma"] and float(cfg["s0"]) == fit["s0"]
    # The MLE of sigma is the sample sd of log returns (annualised); its SE ~ sigma / sqrt(2n).
    assert fit["sigma_se"] == pytest.approx(fit["sigma"] / np.sqrt(2 * fit["returns"]), rel=0.01)
    m = sm.simulate(model="gbm", paths=5, steps=5, s0=fit["s0"], mu=fit["mu"], sigma=fit["sigma"])
    assert m.spot.spot.iloc[0] == fit["s0"]


def test_calibrate_garch_is_a_stationary_fit(root):
    fit = sm.calibrate_garch(root / "data" / "sp500_daily.csv")
    persistence = fit["alpha"] + fit["beta"] + fit["gamma"] / 2
    assert 0.9 < persistence < 1.0 and 4 < fit["nu"] < 30 and fit["gamma"] > 0
    keys = ("s0", "v0", "mean", "omega", "alpha", "gamma", "beta", "nu")
    m = sm.simulate(model="garch", paths=3, steps=5, **{k: fit[k] for k in keys})
    assert len(m.spot) == 18


def test_validate_returns_the_clis_scorecard(root, run_cli, tmp_path):
    market = sm.simulate(model="garch", paths=30, steps=252, seed=2)
    card = sm.validate(root / "data" / "sp500_daily.csv", market, report=tmp_path / "py")
    market.to_dir(tmp_path / "m")
    run_cli("validate", "--real", root / "data" / "sp500_daily.csv", "--synthetic", tmp_path / "m" / "spot.csv",
            "--report", tmp_path / "cli")
    cli = json.loads((tmp_path / "cli" / "scorecard.json").read_text())
    assert card.attrs["scorecard"]["statistics"] == cli["statistics"]
    assert list(card.columns) == ["statistic", "real", "synthetic_mean", "synthetic_sd", "distance"]
    assert len(card) == len(cli["statistics"]) > 5
    assert (tmp_path / "py" / "report.md").exists()
    spread = card.attrs["spread"]
    assert len(spread) == 21 and spread["p_value"].between(0, 1).all()
    cli_rows = pd.DataFrame(cli["spread"]["rows"])
    assert list(spread["statistic"]) == list(cli_rows["statistic"])
    for column in ("real", "percentile", "p_value", "z"):
        np.testing.assert_array_equal(spread[column].astype(float), cli_rows[column].astype(float))


def test_hedge_returns_the_clis_pnl(run_cli, tmp_path):
    market = sm.simulate(model="heston", paths=50, steps=63, seed=8, options=True, months=3, strikes=7, chain_every=1)
    pnl = sm.hedge(market, "call", rebalance="weekly", out=tmp_path / "py")
    market.to_dir(tmp_path / "m")
    run_cli("hedge", "--market", tmp_path / "m", "--option", "call", "--rebalance", "weekly", "--out", tmp_path / "cli")
    cli = pd.read_csv(tmp_path / "cli" / "pnl.csv")
    np.testing.assert_array_equal(pnl["pnl"].to_numpy(), cli["pnl"].to_numpy())
    summary, cli_summary = pnl.attrs["summary"], json.loads((tmp_path / "cli" / "summary.json").read_text())
    # The same summary; only the market's directory differs (a temporary copy).
    assert summary.pop("market") != cli_summary.pop("market")
    assert summary == cli_summary
    assert len(pnl) == 50


def test_hedge_without_chains_is_a_clear_error(tmp_path):
    market = sm.simulate(model="heston", paths=5, steps=10)
    with pytest.raises(sm.SynthmarketError, match="options"):
        sm.hedge(market)


def test_calibrate_heston_matches_the_cli(root, run_cli):
    fit = sm.calibrate_heston(root / "tests" / "fixtures" / "dax_2002-07-05.csv")
    out = run_cli("calibrate", "heston", "--input", root / "tests" / "fixtures" / "dax_2002-07-05.csv", "--out", "-")
    cfg = dict(line.split(" = ") for line in out.stdout.splitlines() if " = " in line and not line.startswith("#"))
    for name in ("v0", "kappa", "theta", "xi", "rho", "s0", "rate", "dividend"):
        assert float(cfg[name]) == fit[name], name
    # The CLI's header reports the same fit error, to 6 decimals.
    assert fit["quotes"] == 104
    assert f"RMSE {fit['rmse_vol_points']:.6f} vol points" in out.stdout


def test_train_fine_tunes_a_short_history_from_a_model_as_the_cli(root, tmp_path, run_cli):
    lines = (root / "data" / "sp500_daily.csv").read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:1] + lines[-401:]) + "\n")
    with pytest.raises(sm.SynthmarketError, match="--init"):
        sm.train(short, tmp_path / "cold")
    metrics = sm.train(short, tmp_path / "py", init=root / "models" / "sp500", eval_paths=10)
    assert metrics["scorecards"] == [] and "too short" in metrics["summary"]
    run_cli("train", "--data", short, "--init", root / "models" / "sp500", "--out", tmp_path / "cli", "--eval-paths", "10")
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()


def test_train_writes_a_model_that_simulate_uses(root, tmp_path, run_cli):
    metrics = sm.train(root / "data" / "sp500_daily.csv", tmp_path / "model", epochs=5, eval_paths=10)
    assert metrics["report"]["epochs_run"] <= 5 and "summary" in metrics
    for name in ("config.json", "model.safetensors", "metrics.json", "MODEL_CARD.md"):
        assert (tmp_path / "model" / name).exists(), name
    run_cli("train", "--data", root / "data" / "sp500_daily.csv", "--out", tmp_path / "cli", "--epochs", "5", "--eval-paths", "10")
    assert (tmp_path / "model" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()
    m = sm.simulate(model="deep", paths=3, steps=10, model_path=tmp_path / "model")
    assert len(m.spot) == 33


def test_backtest_and_a_simulation_from_a_real_date_as_the_cli(root, run_cli, tmp_path):
    """backtest() returns backtest.csv's rows (the CLI's numbers: the GJR-GARCH-t
    fit reproduces arch's 12 and 46 exceedances on the S&P 500, 2015-2018) and
    simulate(history=, start=) starts at the real close of that date."""
    data = root / "data" / "sp500_daily.csv"
    frame = sm.backtest(data, "2014-12-31", tmp_path / "py", models=["gbm", "garch"], draws=500)
    assert list(frame["model"]) == ["GBM", "GJR-GARCH-t"]
    garch = frame.set_index("model").loc["GJR-GARCH-t"]
    assert (garch["var1_exceedances"], garch["var5_exceedances"]) == (12, 46)
    assert len(frame.attrs["one_day"]) == 2 * 1006
    run_cli("backtest", "--data", data, "--model", "gbm,garch", "--train-to", "2014-12-31", "--draws", "500",
            "--report", tmp_path / "cli")
    assert (tmp_path / "py" / "backtest.csv").read_text() == (tmp_path / "cli" / "backtest.csv").read_text()

    m = sm.simulate("deep", paths=5, steps=10, history=data, start="2008-09-12")
    first = m.spot[m.spot["step"] == 0]
    assert (first["spot"] == 1251.699951).all()
    assert m.manifest["history_start"]["date"] == "2008-09-12"
    with pytest.raises(sm.SynthmarketError, match="not a trading day"):
        sm.simulate("deep", paths=5, steps=10, history=data, start="2008-09-13")


def test_a_market_simulates_with_chains_and_hedges_one_asset(root, run_cli, tmp_path):
    # The market model: chains on every asset with an `asset` column, the
    # CLI's numbers, and a hedge of one of its assets as the CLI's.
    market = sm.simulate(model="deep", model_path=root / "models" / "sp500-panel", paths=2, steps=21,
                         seed=4, options=True, months=2, strikes=2, chain_every=5)
    assert list(market.options.columns[:5]) == ["path", "step", "date", "asset", "expiry"]
    assert set(market.options["asset"]) == set(market.spot["asset"])
    market.to_dir(tmp_path / "m")
    run_cli("simulate", "--model", "deep", "--model-path", root / "models" / "sp500-panel", "--paths", "2",
            "--steps", "21", "--seed", "4", "--options", "--months", "2", "--strikes", "2", "--chain-every", "5",
            "--out", tmp_path / "cli-m")
    assert (tmp_path / "m" / "options.csv").read_bytes() == (tmp_path / "cli-m" / "options.csv").read_bytes()
    pnl = sm.hedge(tmp_path / "m", "put", asset="index", expiry=1, rebalance=5, out=tmp_path / "py")
    run_cli("hedge", "--market", tmp_path / "m", "--option", "put", "--asset", "index", "--expiry", "1",
            "--rebalance", "5", "--out", tmp_path / "cli")
    cli = pd.read_csv(tmp_path / "cli" / "pnl.csv")
    np.testing.assert_array_equal(pnl["pnl"].to_numpy(), cli["pnl"].to_numpy())
    assert pnl.attrs["summary"]["asset"] == "index"
    with pytest.raises(sm.SynthmarketError, match="asset"):
        sm.hedge(tmp_path / "m", "put", expiry=1, rebalance=5)


def test_a_market_starts_from_a_real_date_as_the_cli(root, run_cli, tmp_path):
    """simulate(history=PANEL, history_index=INDEX, start=DATE) starts every
    asset of a market at its real close of DATE, with the CLI's numbers; a
    market without history_index is refused with the flag's name."""
    model = root / "models" / "sp500-panel"
    panel, index = root / "data" / "sp500_20stocks_1990_2018.csv", root / "data" / "sp500_index_1990_2018.csv"
    m = sm.simulate("deep", paths=3, steps=5, model_path=model, history=panel, history_index=index,
                    start="2008-10-10")
    first = m.spot[m.spot["step"] == 0]
    closes = pd.read_csv(panel).set_index("date").loc["2008-10-10"]
    assert (first.loc[first["asset"] == "index", "spot"] == 899.22).all()
    assert (first.loc[first["asset"] == "AAPL", "spot"] == closes["AAPL"]).all()
    assert m.manifest["history_start"]["index_file"] == str(index)
    run_cli("simulate", "--model", "deep", "--model-path", model, "--paths", "3", "--steps", "5",
            "--history", panel, "--history-index", index, "--from", "2008-10-10", "--out", tmp_path / "cli")
    cli = pd.read_csv(tmp_path / "cli" / "spot.csv")
    np.testing.assert_array_equal(m.spot["spot"].to_numpy(), cli["spot"].to_numpy())
    with pytest.raises(sm.SynthmarketError, match="history-index"):
        sm.simulate("deep", paths=3, steps=5, model_path=model, history=panel, start="2008-10-10")


def test_train_squashes_features_as_the_cli(root, tmp_path, run_cli):
    """feature_squash=(A, B) is --feature-squash A,B: the same weights, the
    scales in config.json; a value that is not two positive scales is a
    ValueError with the CLI's reason, and nothing is written."""
    data = root / "data" / "sp500_daily.csv"
    sm.train(data, tmp_path / "py", epochs=2, eval_paths=10, candidates=1, feature_squash=(4, 1.5))
    config = json.loads((tmp_path / "py" / "config.json").read_text())
    assert config["feature_squash"] == [4.0, 1.5]
    run_cli("train", "--data", data, "--out", tmp_path / "cli", "--epochs", "2", "--eval-paths", "10",
            "--candidates", "1", "--feature-squash", "4,1.5")
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()
    for bad in ((0, 1.5), "4", "a,b"):
        with pytest.raises(ValueError, match="feature_squash"):
            sm.train(data, tmp_path / "bad", epochs=2, feature_squash=bad)
        assert not (tmp_path / "bad").exists()


def test_train_variance_core_is_the_cli_flag(root, tmp_path, run_cli):
    """variance_core=False is --variance-core off (the same weights, no
    core in config.json); by default the core is on, as the CLI's."""
    data = root / "data" / "sp500_daily.csv"
    sm.train(data, tmp_path / "off", epochs=2, eval_paths=10, candidates=1, variance_core=False)
    run_cli("train", "--data", data, "--out", tmp_path / "cli", "--epochs", "2", "--eval-paths", "10",
            "--candidates", "1", "--variance-core", "off")
    assert (tmp_path / "off" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()
    assert "variance_core" not in json.loads((tmp_path / "off" / "config.json").read_text())
    sm.train(data, tmp_path / "on", epochs=2, eval_paths=10, candidates=1)
    config = json.loads((tmp_path / "on" / "config.json").read_text())
    assert config["variance_core"] is True and len(config["core_bounds"]) == 2
