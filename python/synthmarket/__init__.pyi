"""Type stubs of the synthmarket package (see __init__.py for the docs)."""

import os
from pathlib import Path
from typing import Any, Dict, Literal, Optional, Tuple, Union, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
ArrayLike = npt.ArrayLike

class SynthmarketError(ValueError):
    """Bad input: a parameter, a file, a line or a field (CLI exit code 2)."""

class SynthmarketIOError(OSError):
    """An I/O or internal failure (CLI exit code 1)."""

class Market:
    """A simulated market: paths with their variance state and chains."""

    spot: pd.DataFrame
    options: Optional[pd.DataFrame]
    manifest: Dict[str, Any]
    def to_dir(
        self,
        path: PathLike,
        threads: Optional[int] = None,
        *,
        format: Optional[Literal["csv", "parquet"]] = None,
        overwrite: bool = False,
    ) -> Path: ...

def simulate(
    model: Literal["gbm", "heston", "garch", "deep"] = "heston",
    paths: int = 1000,
    steps: int = 252,
    seed: int = 42,
    options: bool = False,
    *,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
    **params: Any,
) -> Market: ...
def load(path: PathLike) -> Market: ...
@overload
def bs_price(
    spot: float,
    strike: float,
    maturity: float,
    vol: float,
    rate: float = 0.0,
    dividend: float = 0.0,
    call: bool = True,
    *,
    option_type: Optional[str] = None,
    threads: Optional[int] = 1,
) -> float: ...
@overload
def bs_price(
    spot: ArrayLike,
    strike: ArrayLike,
    maturity: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
    call: ArrayLike = True,
    *,
    option_type: Optional[ArrayLike] = None,
    threads: Optional[int] = 1,
) -> npt.NDArray[np.float64]: ...
def bs_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    maturity: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
    call: ArrayLike = True,
    *,
    option_type: Optional[ArrayLike] = None,
    threads: Optional[int] = 1,
    frame: bool = False,
) -> Union[Dict[str, Any], pd.DataFrame]: ...
def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    maturity: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
    call: ArrayLike = True,
    *,
    option_type: Optional[ArrayLike] = None,
    on_error: Literal["nan", "raise"] = "nan",
    threads: Optional[int] = 1,
) -> Union[float, npt.NDArray[np.float64]]: ...
def heston_price(
    spot: ArrayLike,
    strike: ArrayLike,
    maturity: ArrayLike,
    v0: float,
    kappa: float,
    theta: float,
    xi: float,
    rho: float,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
    call: ArrayLike = True,
    *,
    option_type: Optional[ArrayLike] = None,
) -> Union[float, npt.NDArray[np.float64]]: ...
def calibrate_gbm(
    data: PathLike, column: Optional[str] = None, periods_per_year: float = 252.0
) -> Dict[str, Any]: ...
def calibrate_garch(data: PathLike, column: Optional[str] = None) -> Dict[str, Any]: ...
def calibrate_heston(input: PathLike) -> Dict[str, Any]: ...
def train(
    data: Union[PathLike, "list[PathLike]"],
    out: PathLike,
    *,
    epochs: Optional[int] = None,
    seed: Optional[int] = None,
    hidden: Optional["list[int]"] = None,
    eval_paths: Optional[int] = None,
    column: Optional[str] = None,
    init: Optional[PathLike] = None,
    candidates: Optional[int] = None,
    feature_squash: Union[None, str, Tuple[float, float]] = None,
) -> Dict[str, Any]: ...
def backtest(
    data: PathLike,
    train_to: str,
    report: Optional[PathLike] = None,
    *,
    models: Union[str, "tuple[str, ...]", "list[str]"] = ("all",),
    column: Optional[str] = None,
    every: Optional[int] = None,
    horizons: Optional["list[int]"] = None,
    draws: Optional[int] = None,
    seed: Optional[int] = None,
    model_path: Optional[PathLike] = None,
) -> pd.DataFrame: ...
def validate(
    real: PathLike,
    synthetic: Union[Market, PathLike],
    report: Optional[PathLike] = None,
    *,
    column: Optional[str] = None,
    vix: Optional[PathLike] = None,
) -> pd.DataFrame: ...
def hedge(
    market: Union[Market, PathLike],
    option: Literal["call", "put"] = "call",
    *,
    strike: Optional[float] = None,
    moneyness: float = 1.0,
    expiry: Union[str, int] = 2,
    rebalance: Union[str, int] = "daily",
    cost_bps: float = 0.0,
    out: Optional[PathLike] = None,
    asset: Optional[str] = None,
) -> pd.DataFrame: ...
