"""synthmarket: synthetic equity markets, spot paths with their variance
state and the option chains that belong to them, from models calibrated on
(or trained on) real histories.

The Python face of the Rust library: every function runs the library
in-process (no subprocess, the GIL released while it works) and returns numpy
arrays and pandas DataFrames that Rust filled directly.

Units everywhere: time in years (1/252 = one trading day), rates, drifts and
volatilities annualised and continuously compounded, variance annualised
(0.04 = 20 % volatility); vega per 1.00 of volatility, theta per year.

>>> import synthmarket as sm
>>> m = sm.simulate(model="heston", paths=100, steps=21, seed=7, options=True)
>>> m.spot.columns.tolist()
['path', 'step', 'date', 'spot', 'variance']
>>> bool(sm.bs_price(100.0, 100.0, 1.0, 0.2) > 7.9)
True
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import pandas as pd

from . import _synthmarket as _native
from ._synthmarket import SynthmarketError, SynthmarketIOError

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "SynthmarketError",
    "SynthmarketIOError",
    "Market",
    "simulate",
    "backtest",
    "load",
    "bs_price",
    "bs_greeks",
    "implied_vol",
    "heston_price",
    "calibrate_gbm",
    "calibrate_garch",
    "calibrate_heston",
    "train",
    "validate",
    "hedge",
]

PathLike = Union[str, "os.PathLike[str]"]

# ---------------------------------------------------------------- tables


def _frame(columns) -> pd.DataFrame:
    """A DataFrame over the arrays Rust filled (no copy of the floats)."""
    data = {}
    for name, kind, values, categories in columns:
        if kind == "date":
            data[name] = values.view("datetime64[ns]")
        elif kind == "category":
            data[name] = pd.Categorical.from_codes(values.astype(np.int32), categories)
        else:
            data[name] = values
    return pd.DataFrame(data, copy=False)


_SPOT_DTYPES = {"path": "int64", "step": "int64", "spot": "float64", "variance": "float64"}


def _read_parquet(path: Path, dates) -> pd.DataFrame:
    """A Parquet file, or a directory of parts (a sharded run), with the
    dtypes ``simulate`` returns: dates as datetime64[ns], categories as
    pandas categoricals."""
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas(date_as_object=False)
    for name in dates:
        if name in frame.columns:
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def _read_csv(path: Path, dates) -> pd.DataFrame:
    # pandas >= 2 parses floats to the nearest double (round trip) by default.
    frame = pd.read_csv(path, parse_dates=list(dates))
    for name in dates:
        frame[name] = frame[name].astype("datetime64[ns]")
    return frame


class Market:
    """A simulated market: paths with their variance state and, when asked,
    the option chains priced in each path's state.

    Attributes
    ----------
    spot : pandas.DataFrame
        One row per (path, step[, asset]): ``path`` (int64), ``step`` (int64),
        ``date`` (datetime64), ``asset`` (category, multi-asset runs only),
        ``spot``, ``variance`` (annualised instantaneous variance; float64).
        The columns of the CLI's ``spot.csv``.
    options : pandas.DataFrame or None
        The chains, the columns of the CLI's ``options.csv``: ``path``,
        ``step``, ``date``, ``expiry``, ``maturity`` (years), ``strike``,
        ``option_type`` (category: call/put), ``price``, ``implied_vol``,
        ``delta``, ``gamma``, ``vega`` (per 1.00 of vol), ``theta`` (per year).
        NaN where a price sits on a no-arbitrage bound (no implied vol).
    manifest : dict
        The run manifest (``run.json``): seed, model and parameters, grid,
        files, crate version; enough to reproduce the run bit for bit.
    """

    def __init__(
        self,
        spot: pd.DataFrame,
        options: Optional[pd.DataFrame],
        manifest: Dict[str, Any],
        *,
        _params: Optional[str] = None,
        _source: Optional[Path] = None,
    ) -> None:
        self.spot = spot
        self.options = options
        self.manifest = manifest
        self._params = _params
        self._source = _source

    def __repr__(self) -> str:
        model = self.manifest.get("model", {}).get("model", "?")
        chains = "" if self.options is None else f", {len(self.options)} option rows"
        return (
            f"<synthmarket.Market {model}: {self.manifest.get('paths')} paths, "
            f"{len(self.spot)} spot rows{chains}>"
        )

    def to_dir(self, path: PathLike, threads: Optional[int] = None, *, format: Optional[str] = None,
               overwrite: bool = False) -> Path:
        """Writes ``spot.csv``, ``options.csv`` (with chains) and ``run.json``
        into the directory ``path`` (created if missing), the same files, byte
        for byte, as ``synthmarket simulate`` with the same parameters;
        ``format="parquet"`` writes ``spot.parquet`` and ``options.parquet``
        instead (as ``simulate --format parquet``).

        A simulated market is written by running its job again (same seed,
        same numbers); a loaded one by copying its files. A directory that
        holds a different run is an error unless ``overwrite``.
        """
        out = Path(path)
        if self._params is not None:
            params = json.loads(self._params)
            if format is not None:
                params["format"] = format
            if overwrite:
                params["overwrite"] = True
            _native.simulate_to_dir(json.dumps(params), str(out), threads)
            # hedge() and validate() read this directory instead of writing one.
            self._source = out
        elif self._source is not None:
            names = [f["name"] for f in self.manifest.get("files", [])] + ["run.json"]
            if format is not None and not all(n.endswith(format) for n in names[:-1]):
                raise SynthmarketError(
                    f"this Market was loaded from {self._source}; it is copied as it is, not converted to {format}"
                )
            out.mkdir(parents=True, exist_ok=True)
            for name in names:
                src = self._source / name
                if src.is_dir():
                    shutil.copytree(src, out / name, dirs_exist_ok=True)
                elif src.exists() and src.resolve() != (out / name).resolve():
                    shutil.copyfile(src, out / name)
        else:
            raise SynthmarketError("this Market has neither parameters nor a source directory")
        return out


def _params_json(model: str, paths: int, steps: int, seed: int, options: bool, params) -> str:
    keys: Dict[str, Any] = {"model": model, "paths": paths, "steps": steps, "seed": seed}
    if options:
        keys["options"] = True
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (os.PathLike,)):
            value = os.fspath(value)
        keys[name.replace("_", "-")] = value
    return json.dumps(keys)


def simulate(
    model: str = "heston",
    paths: int = 1000,
    steps: int = 252,
    seed: int = 42,
    options: bool = False,
    *,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
    **params: Any,
) -> Market:
    """Simulates a market in memory, exactly as ``synthmarket simulate``
    (with ``out``, into that directory as the CLI writes it, then read back).

    Parameters
    ----------
    model : {"gbm", "heston", "garch", "deep"}
        The spot model. ``deep`` is the pretrained S&P 500 generator unless
        ``model_path`` names a model directory from ``train``.
    paths, steps : int
        Paths, and steps per path (daily steps by default: ``dt`` = 1/252).
    seed : int
        Seed of every random stream; the same seed gives the same numbers,
        whatever ``threads``.
    options : bool
        Also price option chains in each path's state (``Market.options``).
    threads : int, optional
        Worker threads (all cores by default); results do not depend on it.
    out : path, optional
        Write ``spot.csv``, ``options.csv`` and ``run.json`` there (the CLI's
        files, streamed with flat memory: for markets larger than memory)
        and return the Market read back from them. ``format="parquet"``
        writes ``spot.parquet`` and ``options.parquet`` instead (typed,
        zstd-compressed, several times smaller and faster to read);
        ``shard="K/N"`` only shard K of N of the run (see
        ``synthmarket.distributed``); ``overwrite=True`` replaces a
        different run's files.
    **params
        Any ``simulate`` flag, with ``_`` for ``-``: ``s0``, ``mu``, ``rate``,
        ``dividend``, ``start`` ("YYYY-MM-DD"), ``dt``; GBM ``sigma`` (a
        list for several assets), ``assets``, ``correlation`` (list of rows);
        Heston ``v0``, ``kappa``, ``theta``, ``xi``, ``rho``, ``scheme``;
        GJR-GARCH ``mean``, ``omega``, ``alpha``, ``gamma``, ``beta``, ``nu``;
        deep ``model_path``; a real start: ``history`` (a price file),
        ``start`` ("YYYY-MM-DD", a trading day of it: every model starts in
        the state the history implies at that close, the close as spot),
        ``column``, ``vix`` (Heston's v0 from the VIX file),
        ``history_index`` (a market model: ``history`` is its stocks' wide
        file, this the index's on the same dates);
        chains ``months``, ``strikes``, ``strike_step``,
        ``expiries`` ("listed"/"tenors"), ``tenors``, ``moneyness``,
        ``chain_every``, ``chain_layout``, ``variance_premium``,
        ``chain_pricing``, ``nested_paths``. Units and defaults as in
        ``synthmarket simulate --help``.

    Returns
    -------
    Market
        ``.spot`` and ``.options`` DataFrames and the ``.manifest`` dict.

    Raises
    ------
    SynthmarketError
        For a bad parameter, with the CLI's message.
    """
    if params.get("history") is not None:
        # With a history, ``start`` is the real date the run starts from
        # (the CLI's --from).
        if "start" in params:
            params["from"] = params.pop("start")
        if "from_" in params:
            params["from"] = params.pop("from_")
    text = _params_json(model, paths, steps, seed, options, params)
    if out is not None:
        _native.simulate_to_dir(text, os.fspath(out), threads)
        market = load(out)
        market._params = text
        return market
    spot, chains, manifest = _native.simulate(text, threads)
    return Market(
        _frame(spot),
        None if chains is None else _frame(chains),
        json.loads(manifest),
        _params=text,
    )


def load(path: PathLike) -> Market:
    """Reads a directory written by ``synthmarket simulate`` (CSV or
    Parquet), ``Market.to_dir`` or ``synthmarket.distributed.simulate`` (a
    sharded Parquet dataset) into a Market with the same columns and dtypes
    as ``simulate`` returns."""
    root = Path(path)
    run_json = root / "run.json"
    if not run_json.exists():
        raise SynthmarketError(f"cannot read {run_json}: no run.json (not a simulate output directory?)")
    manifest = json.loads(run_json.read_text())

    def read(stem: str, dates):
        # A sharded run (synthmarket.distributed) keeps its parts in a folder.
        for candidate in (root / f"{stem}.parquet", root / stem):
            if candidate.exists():
                return _read_parquet(candidate, dates)
        if (root / f"{stem}.csv").exists():
            return _read_csv(root / f"{stem}.csv", dates)
        return None

    spot = read("spot", ["date"])
    if spot is None:
        raise SynthmarketError(f"{root} has a run.json but no spot.csv or spot.parquet")
    if "asset" in spot.columns:
        names = [a["name"] for a in manifest.get("model", {}).get("assets", [])] or None
        spot["asset"] = pd.Categorical(spot["asset"].astype(str), categories=names)
    options = read("options", ["date", "expiry"])
    if options is not None and "option_type" in options.columns:
        options["option_type"] = pd.Categorical(options["option_type"].astype(str), categories=["call", "put"])
    return Market(spot, options, manifest, _source=root)


# ---------------------------------------------------------------- pricing


def _broadcast(**arrays):
    """The broadcast shape and each argument as a float64 (or bool) 1-D
    array of length 1 (a scalar) or of the full size, without copying
    arguments that already are."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    size = int(np.prod(shape, dtype=np.int64))
    out = {}
    for name, a in arrays.items():
        dtype = bool if name == "call" else np.float64
        a = np.asarray(a, dtype=dtype)
        if a.size == 1:
            out[name] = a.reshape(1)
        elif a.shape == shape:
            out[name] = np.ascontiguousarray(a).reshape(-1)
        else:
            out[name] = np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
    return shape, size, out


def _call_flags(call, option_type):
    if option_type is None:
        return call
    kinds = np.asarray(option_type)
    flags = kinds == "call"
    if not np.all(flags | (kinds == "put")):
        raise SynthmarketError("invalid parameter `option_type`: each value must be 'call' or 'put'")
    return flags


def bs_price(spot, strike, maturity, vol, rate=0.0, dividend=0.0, call=True, *, option_type=None, threads=1):
    """Black–Scholes–Merton prices, vectorised with numpy broadcasting.

    Parameters
    ----------
    spot, strike : array_like
        Spot and strike (> 0).
    maturity : array_like
        Years to expiry (≥ 0).
    vol : array_like
        Annualised volatility (0.2 = 20 %, ≥ 0).
    rate, dividend : array_like
        Continuously compounded rate and dividend yield per year.
    call : bool or array_like of bool
        Calls (True) or puts (False); or give ``option_type`` ("call"/"put").
    threads : int or None
        Worker threads (1 by default; None for all cores). Results are the
        same bit for bit whatever the count.

    Returns
    -------
    numpy.ndarray (float64) of the broadcast shape, or a float for scalars.
    Prices are accurate to a few ulp, far out of the money included (Jäckel's
    "Let's Be Rational" normalised Black function where the textbook formula
    cancels).
    """
    shape, n, a = _broadcast(
        spot=spot, strike=strike, maturity=maturity, vol=vol, rate=rate, dividend=dividend,
        call=_call_flags(call, option_type),
    )
    out = _native.bs_price(n, a["spot"], a["strike"], a["maturity"], a["vol"], a["rate"], a["dividend"], a["call"], threads)
    return out.reshape(shape) if shape else float(out[0])


_GREEKS = ("price", "delta", "gamma", "vega", "theta", "rho", "dividend_rho")


def bs_greeks(spot, strike, maturity, vol, rate=0.0, dividend=0.0, call=True, *, option_type=None, threads=1, frame=False):
    """Black–Scholes–Merton price and greeks, vectorised with broadcasting
    (arguments as :func:`bs_price`).

    Returns a dict of arrays (or a DataFrame with ``frame=True``): ``price``,
    ``delta`` (∂V/∂S), ``gamma`` (∂²V/∂S²), ``vega`` (∂V/∂σ per 1.00 of vol),
    ``theta`` (∂V/∂t per year as time passes), ``rho`` (per 1.00 of rate),
    ``dividend_rho`` (per 1.00 of dividend yield). Closed forms of Haug,
    *The Complete Guide to Option Pricing Formulas*, 2nd ed.
    """
    shape, n, a = _broadcast(
        spot=spot, strike=strike, maturity=maturity, vol=vol, rate=rate, dividend=dividend,
        call=_call_flags(call, option_type),
    )
    arrays = _native.bs_greeks(n, a["spot"], a["strike"], a["maturity"], a["vol"], a["rate"], a["dividend"], a["call"], threads)
    result = {name: (x.reshape(shape) if shape else float(x[0])) for name, x in zip(_GREEKS, arrays)}
    if frame:
        return pd.DataFrame({k: np.ravel(v) for k, v in result.items()})
    return result


def implied_vol(price, spot, strike, maturity, rate=0.0, dividend=0.0, call=True, *, option_type=None, on_error="nan", threads=1):
    """Implied Black–Scholes–Merton volatility of option prices, vectorised
    with broadcasting (other arguments as :func:`bs_price`).

    Four Halley steps in vector lanes for most options, kept only when
    settled to within about 1e-14 relative of Jäckel's answer, and Jäckel's
    "Let's Be Rational" (machine precision in two iterations) for the rest;
    about 95 ns an option on one thread on a random book.
    A price outside the no-arbitrage bounds (below intrinsic value or above
    the spot/strike bound) has no implied vol: NaN with ``on_error="nan"``
    (the default), a ``SynthmarketError`` naming the element with
    ``on_error="raise"``.
    """
    if on_error not in ("nan", "raise"):
        raise SynthmarketError(f"invalid parameter `on_error` = {on_error!r}: 'nan' or 'raise'")
    shape, n, a = _broadcast(
        price=price, spot=spot, strike=strike, maturity=maturity, rate=rate, dividend=dividend,
        call=_call_flags(call, option_type),
    )
    out = _native.implied_vol(n, a["price"], a["spot"], a["strike"], a["maturity"], a["rate"], a["dividend"], a["call"], on_error == "raise", threads)
    return out.reshape(shape) if shape else float(out[0])


def heston_price(spot, strike, maturity, v0, kappa, theta, xi, rho, rate=0.0, dividend=0.0, call=True, *, option_type=None):
    """Heston prices by Fourier-cosine expansion (Fang & Oosterlee 2008) to
    near machine precision, vectorised over spot, strike, maturity, rate,
    dividend and call with broadcasting; one model (``v0`` initial variance,
    ``kappa`` mean reversion per year, ``theta`` long-run variance, ``xi``
    vol of variance, ``rho`` spot-variance correlation) for all."""
    shape, n, a = _broadcast(
        spot=spot, strike=strike, maturity=maturity, rate=rate, dividend=dividend,
        call=_call_flags(call, option_type),
    )
    out = _native.heston_price(n, a["spot"], a["strike"], a["maturity"], a["rate"], a["dividend"], a["call"],
                               float(v0), float(kappa), float(theta), float(xi), float(rho))
    return out.reshape(shape) if shape else float(out[0])


# ---------------------------------------------------------------- fitting


def calibrate_gbm(data: PathLike, column: Optional[str] = None, periods_per_year: float = 252.0) -> Dict[str, Any]:
    """Maximum-likelihood GBM drift and volatility of a price history (CSV
    with ``date`` and ``adj_close``/``close`` or ``column``): a dict with
    ``s0`` (last price), ``mu``, ``sigma`` (annualised) and their standard
    errors, ready for ``simulate(model="gbm", s0=..., mu=..., sigma=...)``."""
    return _native.calibrate_gbm(os.fspath(data), column, periods_per_year)


def calibrate_garch(data: PathLike, column: Optional[str] = None) -> Dict[str, Any]:
    """Maximum-likelihood GJR-GARCH(1,1)-t of a daily price history: a dict
    with ``s0``, ``v0`` (annualised conditional variance for the next day),
    ``mean``, ``omega``, ``alpha``, ``gamma``, ``beta``, ``nu`` (daily units)
    and their standard errors (``se``), ready for
    ``simulate(model="garch", **{k: fit[k] for k in ("s0", "v0", "mean", ...)})``."""
    return _native.calibrate_garch(os.fspath(data), column)


def calibrate_heston(input: PathLike) -> Dict[str, Any]:
    """Heston fitted to an implied-vol surface (an option file with spot,
    strike, maturity, rate, dividend and implied_vol, or option_type and
    price), as ``synthmarket calibrate heston``: a dict with ``v0``,
    ``kappa``, ``theta``, ``xi``, ``rho``, the first quote's ``s0``,
    ``rate`` and ``dividend``, and the fit's RMSE and largest error in vol
    points, ready for ``simulate(model="heston", ...)``."""
    return _native.calibrate_heston(os.fspath(input))


def train(data, out: PathLike, *, epochs: Optional[int] = None, seed: Optional[int] = None,
          hidden: Optional[list] = None, eval_paths: Optional[int] = None,
          column: Optional[str] = None, init: Optional[PathLike] = None,
          candidates: Optional[int] = None,
          feature_squash: Union[None, str, Tuple[float, float]] = None,
          variance_core: Optional[bool] = None) -> Dict[str, Any]:
    """Trains the deep generator on one or more price histories (the first
    is the target) into the model directory ``out`` (config.json,
    model.safetensors, metrics.json, MODEL_CARD.md), as ``synthmarket
    train`` (seconds on 2 cores). Returns the metrics (``metrics.json``:
    the training report, test-period likelihoods and scorecards against
    GJR-GARCH-t and GBM), with the printed summary under ``"summary"``.
    Use it with ``simulate(model="deep", model_path=out)``. ``column``
    names the price column of every history (default ``adj_close`` if
    present, else ``close``): one stock of a wide file, e.g.
    ``train("data/sp500_20stocks_1990_2018.csv", "models/aapl", column="AAPL")``.
    A history needs 1,000 daily returns from scratch; ``init`` (a trained
    model directory, e.g. ``"models/sp500"``) fine-tunes that model instead,
    which takes histories from 250 returns up. Each net's free-running
    volatility is checked against the volatility it assigns to the real
    days; a net beyond a factor of 2 is replaced by the next seed's, up to
    ``candidates`` nets (default 8; ``metrics["candidates"]`` lists them).
    ``feature_squash`` ``(A, B)`` squashes the network's inputs smoothly (each
    ln average of z² enters as A·tanh(f/A), each signed average as
    B·tanh(f/B); ``(4, 1.5)`` damps the S&P 500 model's free-running
    volatility), as ``--feature-squash A,B``; ``None`` or ``"off"`` (the
    default) keeps them as they are. A value that is not two positive
    scales raises ``ValueError``. ``variance_core`` is ``--variance-core
    on|off``: ``True`` puts ln σ on a multi-scale GJR-like variance that
    the network only rescales (and starts the innovation law's widest
    component heavy-tailed, ν ≈ 4.9), ``False`` trains as before 2026-12-07;
    ``None`` (the default) is the CLI's default, on for one series."""
    paths = [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(p) for p in data]
    if feature_squash is not None and not isinstance(feature_squash, str):
        feature_squash = ",".join(repr(float(x)) for x in feature_squash)
    metrics, summary = _native.train(paths, os.fspath(out), epochs, seed, hidden, eval_paths, column,
                                     None if init is None else os.fspath(init), candidates,
                                     feature_squash,
                                     None if variance_core is None else bool(variance_core))
    result = json.loads(metrics)
    result["summary"] = summary
    return result


# ---------------------------------------------------------------- analysis


def backtest(data: PathLike, train_to: str, report: Optional[PathLike] = None, *, models=("all",),
             column: Optional[str] = None, every: Optional[int] = None, horizons: Optional[list] = None,
             draws: Optional[int] = None, seed: Optional[int] = None,
             model_path: Optional[PathLike] = None) -> pd.DataFrame:
    """Backtests the models as forecasters, as ``synthmarket backtest``:
    each is fitted (the deep model trained) on ``data`` up to ``train_to``
    ("YYYY-MM-DD") and forecasts every later day from the real history
    before it. ``models``: any of "gbm", "heston", "garch", "deep", "all".

    Returns one row per model (the columns of ``backtest.csv``: VaR
    exceedances and Kupiec / Christoffersen / conditional-coverage
    p-values at 1 % and 5 %, PIT KS and Berkowitz p-values, mean CRPS in
    percent log return and its ratio to GBM's, 90 % coverage and PIT KS
    p-value per horizon); ``.attrs["one_day"]`` is a DataFrame per model and
    test day (return, VaRs, PIT, CRPS) and ``.attrs["report"]`` the whole
    backtest.json. With ``report`` the report directory (with charts) is
    kept there, otherwise it is written to a temporary directory and removed.
    """
    if isinstance(models, str):
        models = [models]
    tmp = None
    if report is None:
        tmp = Path(tempfile.mkdtemp(prefix="synthmarket-backtest-"))
        report = tmp / "report"
    try:
        text = _native.backtest(os.fspath(data), str(train_to), os.fspath(report), list(models), column, every,
                                None if horizons is None else list(horizons), draws, seed,
                                None if model_path is None else os.fspath(model_path))
        frame = pd.read_csv(Path(report) / "backtest.csv")
        frame.attrs["one_day"] = pd.read_csv(Path(report) / "one_day.csv", parse_dates=["date"])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    frame.attrs["report"] = json.loads(text)
    return frame



def _market_dir(market, tmp: list) -> Path:
    if isinstance(market, Market):
        if market._source is not None:
            return market._source
        d = Path(tempfile.mkdtemp(prefix="synthmarket-"))
        tmp.append(d)
        market.to_dir(d)
        return d
    return Path(market)


def validate(real: PathLike, synthetic, report: Optional[PathLike] = None, *, column: Optional[str] = None,
             vix: Optional[PathLike] = None) -> pd.DataFrame:
    """The stylized-fact scorecard of a synthetic market against a real
    price history, as ``synthmarket validate``.

    ``synthetic`` is a Market, a directory from ``simulate`` or a
    ``spot.csv``. With ``report`` the report directory (report.md,
    scorecard.json, SVG charts) is written there, otherwise to a temporary
    directory that is removed. Returns the scorecard's statistics as a
    DataFrame (statistic, real, synthetic_mean, synthetic_sd, distance); the
    noise-aware scorecard (each statistic's real value placed in the model's
    spread over series of the real length: percentile, p_value, z, matches)
    is ``.attrs["spread"]``, a DataFrame; the whole scorecard is in
    ``.attrs["scorecard"]``.
    """
    tmp: list = []
    try:
        syn = _market_dir(synthetic, tmp)
        if syn.is_dir():
            syn = syn / "spot.csv"
        if report is None:
            d = Path(tempfile.mkdtemp(prefix="synthmarket-report-"))
            tmp.append(d)
            report = d / "report"
        card_json, description = _native.validate(os.fspath(real), os.fspath(syn), os.fspath(report), column,
                                                  None if vix is None else os.fspath(vix))
    finally:
        for d in tmp:
            shutil.rmtree(d, ignore_errors=True)
    card = json.loads(card_json)
    frame = pd.DataFrame(card["statistics"])
    frame.attrs["scorecard"] = card
    frame.attrs["spread"] = pd.DataFrame(card["spread"]["rows"])
    frame.attrs["real"] = description
    return frame


def hedge(market, option: str = "call", *, strike: Optional[float] = None, moneyness: float = 1.0,
          expiry: Union[str, int] = 2, rebalance: Union[str, int] = "daily", cost_bps: float = 0.0,
          out: Optional[PathLike] = None, asset: Optional[str] = None) -> pd.DataFrame:
    """Sells one option from a market's chain on its first date and
    delta-hedges it on every path, as ``synthmarket hedge``. ``asset``
    picks one asset of a market of several (e.g. ``"index"`` or
    ``"AAPL"`` of ``models/sp500-panel``).

    ``market`` is a Market with listed chains or its directory. ``expiry``
    is an ISO date or N for the N-th quoted expiry; ``rebalance`` "daily",
    "weekly" or a number of steps; ``cost_bps`` the cost per trade in basis
    points of notional. Returns the seller's P&L per path (pnl, premium,
    implied_vol, realised_vol, trades, costs); the CLI's ``summary.json``
    (the contract, the hedge, and the P&L's mean, standard error,
    quantiles and expected shortfall) is in ``.attrs["summary"]``. The
    CLI's files (pnl.csv, summary.json, report.md, pnl.svg) go to ``out``
    (default: a temporary directory, removed).
    """
    tmp: list = []
    try:
        root = _market_dir(market, tmp)
        if out is None:
            d = Path(tempfile.mkdtemp(prefix="synthmarket-hedge-"))
            tmp.append(d)
            out = d
        columns, expiry_date = _native.hedge(os.fspath(root), option, strike, moneyness, str(expiry),
                                             str(rebalance), cost_bps, os.fspath(out), asset)
        # The CLI's summary.json: the contract, the hedge and the P&L summary.
        summary = (Path(out) / "summary.json").read_text()
    finally:
        for d in tmp:
            shutil.rmtree(d, ignore_errors=True)
    frame = _frame(columns)
    frame.attrs["summary"] = json.loads(summary)
    frame.attrs["expiry"] = expiry_date
    return frame
