//! Issue 44: a run that starts from a real date (`--history --from`) against
//! the same run from the model's default state. The warm-up (reading the
//! history, filtering the state through it) is done once when the job is
//! resolved, not per path, so the conditioned run should be within 5 % of
//! the plain one: target ratio 0.95. Each iteration resolves the job and
//! writes it (spot only), so the warm-up is inside the measured time.

use crate::report::Ratio;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::path::PathBuf;
use synthmarket::run::params::DateArg;
use synthmarket::run::{ModelKind, SimulateParams};

/// Paths per iteration, of the default 252 steps (a plain `simulate` run).
const PATHS: u64 = 1_000;
const STEPS: usize = 252;

pub const RATIOS: &[Ratio] = &[
    Ratio {
        label: "deep run from 2008-09-12 vs from its default state",
        numerator: "start/deep_from_history",
        denominator: "start/deep_default",
        elements: (1.0, 1.0),
        target: 0.95,
    },
    Ratio {
        label: "GJR-GARCH run from 2008-09-12 vs its default state",
        numerator: "start/garch_from_history",
        denominator: "start/garch_default",
        elements: (1.0, 1.0),
        target: 0.95,
    },
    Ratio {
        label: "market run (100 paths, 21 assets) from 2008-10-10 vs its end-of-training state",
        numerator: "start/market_from_history",
        denominator: "start/market_default",
        elements: (1.0, 1.0),
        target: 0.95,
    },
];

/// Paths per iteration of the market model (21 assets each).
const MARKET_PATHS: u64 = 100;

pub fn benches(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let history = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sp500_daily.csv"));
    let mut g = c.benchmark_group("start");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    for (name, model) in [("deep", ModelKind::Deep), ("garch", ModelKind::Garch)] {
        for conditioned in [false, true] {
            let params = SimulateParams {
                model: Some(model),
                paths: Some(PATHS),
                steps: Some(STEPS),
                history: conditioned.then(|| history.clone()),
                from: conditioned.then(|| DateArg("2008-09-12".into())),
                overwrite: true,
                ..Default::default()
            };
            let id = if conditioned {
                format!("{name}_from_history")
            } else {
                format!("{name}_default")
            };
            let out = dir.path().join(&id);
            g.bench_function(&id, |b| {
                b.iter(|| {
                    pool.install(|| {
                        let job = params.resolve().unwrap();
                        black_box(job.write_to_dir(&out, &|_| {}).unwrap())
                    })
                })
            });
        }
    }
    // The market model: both histories read and all 21 nets run through
    // them once per resolved job.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for conditioned in [false, true] {
        let params = SimulateParams {
            model: Some(ModelKind::Deep),
            model_path: Some(root.join("models/sp500-panel")),
            paths: Some(MARKET_PATHS),
            steps: Some(STEPS),
            history: conditioned.then(|| root.join("data/sp500_20stocks_1990_2018.csv")),
            history_index: conditioned.then(|| root.join("data/sp500_index_1990_2018.csv")),
            from: conditioned.then(|| DateArg("2008-10-10".into())),
            overwrite: true,
            ..Default::default()
        };
        let id = if conditioned {
            "market_from_history"
        } else {
            "market_default"
        };
        let out = dir.path().join(id);
        g.bench_function(id, |b| {
            b.iter(|| {
                pool.install(|| {
                    let job = params.resolve().unwrap();
                    black_box(job.write_to_dir(&out, &|_| {}).unwrap())
                })
            })
        });
    }
    g.finish();
}
