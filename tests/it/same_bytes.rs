//! Issue 41 point 6: the same seed gives the same bytes for every model and
//! output format, at 1 and 2 threads, and the shards of a run hold exactly
//! its rows. One test per model; each runs the real binary in both formats
//! with chains where the model prices them.

use crate::common::{bin, stderr};
use std::path::Path;
use synthmarket::io::parquet::ParquetCursor;

/// Every data row of a spot or options file as text (CSV: its lines after
/// the header; Parquet: each row's cells as the CSV writes them).
fn records(path: &Path) -> Vec<String> {
    if path.extension().is_some_and(|e| e == "parquet") {
        let mut cur = ParquetCursor::open(path).unwrap();
        let n = cur.names().len();
        let mut out = Vec::new();
        while cur.advance().unwrap() {
            out.push(
                (0..n)
                    .map(|c| cur.cell(c).to_text())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        out
    } else {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().skip(1).map(str::to_owned).collect()
    }
}

fn simulate(out: &Path, threads: &str, args: &[&str]) {
    let o = bin()
        .env("RAYON_NUM_THREADS", threads)
        .args(["simulate", "-q", "--out"])
        .arg(out)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// Runs `args` (plus a small grid and seed) in CSV and Parquet, whole at 1
/// and at 2 threads and as 3 shards at 2 threads: the whole runs' files are
/// byte-identical, and the shards' rows concatenated are the whole run's.
fn same_bytes(model_args: &[&str], options: bool) {
    same_bytes_in(model_args, options, &["csv", "parquet"]);
}

fn same_bytes_in(model_args: &[&str], options: bool, formats: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut base = vec!["--paths", "7", "--steps", "12", "--seed", "11"];
    base.extend_from_slice(model_args);
    if options {
        base.extend_from_slice(&[
            "--options",
            "--expiries",
            "tenors",
            "--tenors",
            "30,91",
            "--moneyness",
            "0.9,1,1.1",
            "--chain-every",
            "4",
        ]);
    }
    for &format in formats {
        let args = [&base[..], &["--format", format]].concat();
        let files: Vec<String> = std::iter::once("spot")
            .chain(options.then_some("options"))
            .map(|f| format!("{f}.{format}"))
            .collect();
        let one = dir.path().join(format!("{format}-1"));
        let two = dir.path().join(format!("{format}-2"));
        simulate(&one, "1", &args);
        simulate(&two, "2", &args);
        for f in files.iter().map(String::as_str).chain(["run.json"]) {
            let (a, b) = (
                std::fs::read(one.join(f)).unwrap(),
                std::fs::read(two.join(f)).unwrap(),
            );
            assert!(a == b, "{model_args:?} {f}: 1 and 2 threads differ");
        }
        let shards: Vec<_> = (0..3)
            .map(|k| {
                let shard = dir.path().join(format!("{format}-s{k}"));
                let shard_arg = format!("{k}/3");
                simulate(&shard, "2", &[&args[..], &["--shard", &shard_arg]].concat());
                shard
            })
            .collect();
        for f in &files {
            let joined: Vec<String> = shards.iter().flat_map(|s| records(&s.join(f))).collect();
            let whole = records(&one.join(f));
            assert!(!whole.is_empty());
            assert!(
                joined == whole,
                "{model_args:?} {f}: the shards' rows are not the whole run's"
            );
        }
    }
}

#[test]
fn gbm_same_bytes() {
    same_bytes(&["--model", "gbm"], true);
}

#[test]
fn correlated_gbm_same_bytes() {
    same_bytes(
        &[
            "--model",
            "gbm",
            "--assets",
            "a,b",
            "--s0",
            "100,50",
            "--sigma",
            "0.2,0.3",
            "--correlation",
            "1,0.6;0.6,1",
        ],
        false,
    );
}

#[test]
fn heston_same_bytes() {
    same_bytes(&["--model", "heston"], true);
    same_bytes(&["--model", "heston", "--scheme", "euler"], false);
}

/// The GJR-GARCH law table is fitted by each run (12 s on 2 cores): its
/// chains are checked in CSV, the nested mode's in both formats.
#[test]
fn garch_same_bytes() {
    same_bytes_in(&["--model", "garch"], true, &["csv"]);
    same_bytes(
        &[
            "--model",
            "garch",
            "--chain-pricing",
            "nested",
            "--nested-paths",
            "300",
        ],
        true,
    );
}

#[test]
fn deep_same_bytes() {
    same_bytes(&["--model", "deep"], true);
    same_bytes(
        &[
            "--model",
            "deep",
            "--chain-pricing",
            "nested",
            "--nested-paths",
            "300",
        ],
        true,
    );
}

#[test]
fn market_same_bytes() {
    same_bytes(
        &["--model", "deep", "--model-path", "models/sp500-panel"],
        true,
    );
}
