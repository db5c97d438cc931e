"""Issue 43 from Python: Parquet markets read back equal to the in-memory
run, shards tile the run, and a run split into shards on a Dask
LocalCluster (2 worker processes) reads back equal to the single-machine
run; polars queries the dataset."""

import json

import pandas as pd
import pytest

import synthmarket as sm

HESTON = dict(model="heston", paths=23, steps=40, seed=7, options=True, months=2, strikes=3, chain_every=10)


def test_parquet_output_reads_back_equal_to_the_in_memory_run(tmp_path, run_cli):
    ref = sm.simulate(**HESTON)
    m = sm.simulate(**HESTON, out=tmp_path / "pq", format="parquet")
    assert (tmp_path / "pq" / "spot.parquet").exists() and not (tmp_path / "pq" / "spot.csv").exists()
    pd.testing.assert_frame_equal(m.spot, ref.spot)
    pd.testing.assert_frame_equal(m.options, ref.options)
    assert m.manifest["format"] == "parquet"
    # The CLI with the same flags writes the same rows.
    run_cli("simulate", "--model", "heston", "--paths", 23, "--steps", 40, "--seed", 7, "--options",
            "--months", 2, "--strikes", 3, "--chain-every", 10, "--format", "parquet", "--out", tmp_path / "cli")
    cli = sm.load(tmp_path / "cli")
    pd.testing.assert_frame_equal(cli.spot, ref.spot)
    pd.testing.assert_frame_equal(cli.options, ref.options)
    # hedge reads the Parquet market.
    assert len(sm.hedge(m, rebalance=10)) == 23


def test_to_dir_writes_parquet_and_refuses_another_run(tmp_path):
    m = sm.simulate(model="gbm", paths=5, steps=10, seed=1)
    m.to_dir(tmp_path / "a", format="parquet")
    pd.testing.assert_frame_equal(sm.load(tmp_path / "a").spot, m.spot)
    other = sm.simulate(model="gbm", paths=5, steps=10, seed=2)
    with pytest.raises(sm.SynthmarketError, match="already holds a different run"):
        other.to_dir(tmp_path / "a", format="parquet")
    other.to_dir(tmp_path / "a", format="parquet", overwrite=True)
    pd.testing.assert_frame_equal(sm.load(tmp_path / "a").spot, other.spot)


def test_shards_concatenated_equal_the_whole_run():
    whole = sm.simulate(model="garch", paths=10, steps=30, seed=4)
    parts = [sm.simulate(model="garch", paths=10, steps=30, seed=4, shard=f"{k}/3") for k in range(3)]
    # floor(K*10/3): 0, 3, 6.
    assert [p.manifest["shard"]["first_path"] for p in parts] == [0, 3, 6]
    joined = pd.concat([p.spot for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole.spot)
    with pytest.raises(sm.SynthmarketError, match="K must be below N"):
        sm.simulate(model="garch", paths=10, shard="3/2")


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_a_run_on_dask_reads_back_equal_to_the_single_machine_run(tmp_path, client):
    from synthmarket import distributed

    out = distributed.simulate(client, **HESTON, shards=4, out=str(tmp_path / "ds"))
    manifest = json.loads((tmp_path / "ds" / "run.json").read_text())
    assert [s["first_path"] for s in manifest["shards"]] == [0, 5, 11, 17]
    assert sorted(p.name for p in (tmp_path / "ds" / "spot").iterdir()) == [
        f"part-{k:05d}.parquet" for k in range(4)
    ]
    ref = sm.simulate(**HESTON, out=tmp_path / "single", format="parquet")
    assert manifest["command"] == ref.manifest["command"]
    m = sm.load(out)
    pd.testing.assert_frame_equal(m.spot, ref.spot)
    pd.testing.assert_frame_equal(m.options, ref.options)
    assert manifest["files"][1]["rows"] == len(ref.options)

    # The query the book shows: 30-day at-the-money implied vol by path, in polars.
    pl = pytest.importorskip("polars")
    atm = (
        pl.scan_parquet(str(tmp_path / "ds" / "options" / "*.parquet"))
        .join(pl.scan_parquet(str(tmp_path / "ds" / "spot" / "*.parquet")), on=["path", "step"])
        .filter(pl.col("option_type") == "call")
        .with_columns(((pl.col("strike") / pl.col("spot")).log().abs()).alias("distance"))
        .sort("distance")
        .group_by(["path", "step"], maintain_order=True)
        .first()
        .group_by("path")
        .agg(pl.col("implied_vol").mean().alias("atm_vol"))
        .sort("path")
        .collect()
    )
    assert atm.height == 23 and atm["atm_vol"].is_between(0.05, 1.0).all()

    # Another run into the same dataset is refused; the same one reruns.
    with pytest.raises(sm.SynthmarketError, match="already holds a different run"):
        distributed.simulate(client, **dict(HESTON, seed=8), shards=2, out=out)
    distributed.simulate(client, **HESTON, shards=2, out=out)
    pd.testing.assert_frame_equal(sm.load(out).spot, ref.spot)


def test_bad_shard_counts_are_refused(tmp_path, client):
    from synthmarket import distributed

    with pytest.raises(sm.SynthmarketError, match="at most 3 shards"):
        distributed.simulate(client, model="gbm", paths=3, shards=4, out=str(tmp_path / "x"))
    with pytest.raises(sm.SynthmarketError, match="at least 1"):
        distributed.simulate(client, model="gbm", paths=3, shards=0, out=str(tmp_path / "x"))
    with pytest.raises(sm.SynthmarketError, match="kappa"):
        distributed.simulate(client, model="heston", paths=3, kappa=-1.0, out=str(tmp_path / "x"))
    assert not (tmp_path / "x" / "run.json").exists()
