"""Runs across processes and machines on Dask (issue 43).

A run of P paths splits into N shards: shard K holds paths
floor(K*P/N) ... floor((K+1)*P/N) - 1, drawn from the same per-path random
streams as the whole run, so the shards concatenated in order are the
single-machine run, bit for bit (``synthmarket simulate --shard K/N``).
:func:`simulate` runs the shards as tasks on a Dask cluster's workers and
writes a partitioned Parquet dataset::

    out/
      run.json                       the whole run's manifest (and its shards)
      spot/part-00000.parquet ...    one file per shard, in path order
      options/part-00000.parquet ... with chains

which ``synthmarket.load(out)``, ``pandas.read_parquet(out + "/spot")``,
polars (``pl.scan_parquet(out + "/spot/*.parquet")``), DuckDB or Spark read as
one table. The scheduling is Dask's: this module only cuts the run and
gathers the manifest.

Example (a local cluster; for machines, ``Client("tcp://scheduler:8786")``
with ``out`` on a filesystem every worker sees, or an fsspec URL such as
``"s3://bucket/markets/heston"`` when s3fs is installed)::

    from dask.distributed import Client, LocalCluster
    import synthmarket as sm
    from synthmarket import distributed

    with Client(LocalCluster(n_workers=2, threads_per_worker=1)) as client:
        distributed.simulate(client, model="heston", paths=100_000, steps=252,
                             shards=16, out="markets/heston")
    market = sm.load("markets/heston")
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Dict, List, Optional

from . import _native, _params_json
from ._synthmarket import SynthmarketError

__all__ = ["simulate"]


def _is_url(out: str) -> bool:
    return "://" in out


def _put(local: str, out: str, relative: str) -> None:
    """Moves the local file ``local`` to ``out/relative`` (a path or an
    fsspec URL)."""
    if _is_url(out):
        import fsspec

        with open(local, "rb") as src, fsspec.open(f"{out.rstrip('/')}/{relative}", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.remove(local)
    else:
        target = os.path.join(out, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(local, target)


def _run_shard(params: str, out: str, index: int, threads: Optional[int]) -> Dict[str, Any]:
    """One task: simulates shard ``index`` into a local temporary directory
    and moves its Parquet files into the dataset; returns its manifest."""
    with tempfile.TemporaryDirectory(prefix="synthmarket-shard-") as tmp:
        manifest = json.loads(_native.simulate_to_dir(params, tmp, threads))
        for entry in manifest["files"]:
            stem = entry["name"].split(".")[0]
            _put(os.path.join(tmp, entry["name"]), out, f"{stem}/part-{index:05d}.parquet")
    return manifest


def _read_text(path: str) -> Optional[str]:
    if _is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        return fs.cat_file(p).decode() if fs.exists(p) else None
    return open(path).read() if os.path.exists(path) else None


def _write_text(path: str, text: str) -> None:
    if _is_url(path):
        import fsspec

        with fsspec.open(path, "w") as f:
            f.write(text)
    else:
        tmp = path + ".partial"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)


def _remove(out: str, relative: str) -> None:
    if _is_url(out):
        import fsspec

        fs, p = fsspec.core.url_to_fs(f"{out.rstrip('/')}/{relative}")
        if fs.exists(p):
            fs.rm(p, recursive=True)
    else:
        shutil.rmtree(os.path.join(out, relative), ignore_errors=True)


def simulate(
    client,
    model: str = "heston",
    paths: int = 1000,
    steps: int = 252,
    seed: int = 42,
    options: bool = False,
    *,
    out: str,
    shards: Optional[int] = None,
    threads: Optional[int] = None,
    overwrite: bool = False,
    **params: Any,
) -> str:
    """Simulates a market as ``shards`` tasks on the Dask cluster of
    ``client`` and writes it to ``out`` as a partitioned Parquet dataset.

    Parameters
    ----------
    client : dask.distributed.Client
        The cluster's client (a ``LocalCluster`` or a scheduler address).
    model, paths, steps, seed, options, **params
        As :func:`synthmarket.simulate` (``format`` is always Parquet).
    out : str
        The dataset directory: a path every worker can write (local for a
        ``LocalCluster``, a shared filesystem for several machines) or an
        fsspec URL (``s3://…``, ``gs://…``; the filesystem's package must be
        installed on the workers).
    shards : int, optional
        Number of shards (tasks) [default: two per worker]. At most
        ``paths``; the output does not depend on it.
    threads : int, optional
        Threads per task [default: all of the worker's cores].
    overwrite : bool
        Replace a different run already in ``out`` (without it, that is an
        error and nothing is written).

    Returns
    -------
    str
        ``out``; read it with :func:`synthmarket.load`.

    Raises
    ------
    SynthmarketError
        For bad parameters (checked before any task runs), a bad shard
        count, or an ``out`` that holds a different run.
    """
    for key in ("format", "shard"):
        if key in params:
            raise SynthmarketError(f"invalid parameter `{key}`: distributed.simulate chooses it")
    out = os.fspath(out)
    base = json.loads(_params_json(model, paths, steps, seed, options, params))
    base["format"] = "parquet"
    # Validate here, before any task: the whole run's parameters, on a
    # one-path shard (it costs next to nothing).
    probe = dict(base, shard=f"0/{max(paths, 1)}")
    with tempfile.TemporaryDirectory(prefix="synthmarket-check-") as tmp:
        command = json.loads(_native.simulate_to_dir(json.dumps(probe), tmp, 1))["command"]
    command = command.replace(f" --shard 0/{max(paths, 1)}", "")
    if shards is None:
        workers = len(client.scheduler_info().get("workers", {})) or 1
        shards = min(paths, 2 * workers)
    if not isinstance(shards, int) or shards < 1:
        raise SynthmarketError(f"invalid parameter `shards` = {shards!r}: at least 1")
    if shards > paths:
        raise SynthmarketError(
            f"invalid parameter `shards` = {shards}: a {paths}-path run has at most {paths} shards"
        )
    run_json = f"{out.rstrip('/')}/run.json" if _is_url(out) else os.path.join(out, "run.json")
    existing = _read_text(run_json)
    if existing is not None and not overwrite:
        theirs = json.loads(existing).get("command")
        if theirs != command:
            raise SynthmarketError(
                f"{out} already holds a different run (`{theirs}`); write to another directory, "
                "delete it, or pass overwrite=True"
            )
    if not _is_url(out):
        os.makedirs(out, exist_ok=True)
    if existing is not None:
        # run.json marks a complete dataset: remove it first, then the parts.
        if _is_url(out):
            _remove(out, "run.json")
        else:
            os.remove(run_json)
    for stem in ("spot", "options"):
        _remove(out, stem)

    texts = [json.dumps(dict(base, shard=f"{k}/{shards}")) for k in range(shards)]
    futures = client.map(_run_shard, texts, [out] * shards, range(shards), [threads] * shards, pure=False)
    manifests: List[Dict[str, Any]] = client.gather(futures)

    whole = dict(manifests[0])
    whole.pop("shard", None)
    whole["command"] = command
    whole["files"] = [
        {
            "name": entry["name"].split(".")[0] + "/",
            "rows": sum(m["files"][i]["rows"] for m in manifests),
            "columns": entry["columns"],
        }
        for i, entry in enumerate(manifests[0]["files"])
    ]
    whole["shards"] = [dict(m["shard"], file=f"part-{k:05d}.parquet") for k, m in enumerate(manifests)]
    _write_text(run_json, json.dumps(whole, indent=2) + "\n")
    return out
