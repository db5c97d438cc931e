#!/usr/bin/env python3
"""Reading a market back: Parquet against CSV (issue 43).

Writes the same two runs in both formats with the synthmarket package (a
Heston run's spot paths; a deep market with daily chains), then times
reading each file into pandas and into polars, in one process, best of
several turns, and prints the ratios (target: Parquet at least 2x faster)
and the file sizes. It reports, it does not assert.

Usage, in an environment with synthmarket, pyarrow and polars installed
(benches/python-requirements.txt):

    python benches/read_bench.py            # about a minute
    python benches/read_bench.py --quick    # seconds
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import polars as pl

import synthmarket as sm


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small runs")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    heston_paths, deep_paths = (200, 2) if args.quick else (2000, 20)
    print(f"runs: Heston {heston_paths} paths x 252 steps; deep {deep_paths} paths with daily chains "
          f"(6 expiries x 21 strikes); best of {args.repeat}; pandas {pd.__version__}, polars {pl.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = [("heston spot", dict(model="heston", paths=heston_paths), "spot", ["date"]),
                ("deep options", dict(model="deep", paths=deep_paths, options=True), "options", ["date", "expiry"])]
        print(f"{'file':<16} {'reader':<8} {'CSV s':>8} {'Parquet s':>10} {'ratio':>7} {'target':>7}  sizes")
        for label, params, stem, dates in runs:
            for fmt in ("csv", "parquet"):
                sm.simulate(**params, out=root / f"{stem}_{fmt}", format=fmt)
            csv = root / f"{stem}_csv" / f"{stem}.csv"
            pq = root / f"{stem}_parquet" / f"{stem}.parquet"
            sizes = f"{os.path.getsize(csv) / 1e6:.1f} MB vs {os.path.getsize(pq) / 1e6:.1f} MB " \
                    f"({os.path.getsize(csv) / os.path.getsize(pq):.2f}x smaller)"
            readers = {
                "pandas": (lambda: pd.read_csv(csv, parse_dates=dates), lambda: pd.read_parquet(pq)),
                "polars": (lambda: pl.read_csv(csv, try_parse_dates=True), lambda: pl.read_parquet(pq)),
            }
            for name, (read_csv, read_parquet) in readers.items():
                a, b = best(read_csv, args.repeat), best(read_parquet, args.repeat)
                ratio = a / b
                print(f"{label:<16} {name:<8} {a:8.3f} {b:10.3f} {ratio:6.2f}x {'2x':>7}  "
                      f"{'met' if ratio >= 2 else 'NOT MET'}; {sizes}")


if __name__ == "__main__":
    main()
