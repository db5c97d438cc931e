//! Issue 43: a run written as Parquet against the same run written as CSV,
//! end to end through `SimulationJob::write_to_dir` on 2 threads: a Heston
//! run (paths only) and a deep market with daily chains (long layout). The
//! target is a ratio of at least 1.0 (Parquet no slower); the files' sizes
//! are printed beside (and pinned by tests/it/scale.rs).

use crate::report::Ratio;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use synthmarket::run::{ModelKind, OutputFormat, SimulateParams};

/// Heston paths per iteration (252 steps).
const HESTON_PATHS: u64 = 2_000;
/// Deep paths per iteration, with a chain of 6 expiries × 21 strikes on
/// each of 253 days.
const DEEP_PATHS: u64 = 4;

pub const RATIOS: &[Ratio] = &[
    Ratio {
        label: "Heston run: Parquet vs CSV (2 threads)",
        numerator: "scale/heston_parquet",
        denominator: "scale/heston_csv",
        elements: (1.0, 1.0),
        target: 1.0,
    },
    Ratio {
        label: "deep market with daily chains: Parquet vs CSV (2 threads)",
        numerator: "scale/deep_chains_parquet",
        denominator: "scale/deep_chains_csv",
        elements: (1.0, 1.0),
        target: 1.0,
    },
];

fn size(dir: &std::path::Path, name: &str) -> u64 {
    std::fs::metadata(dir.join(name)).map_or(0, |m| m.len())
}

pub fn benches(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("scale");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    let runs = [
        ("heston", ModelKind::Heston, HESTON_PATHS, false),
        ("deep_chains", ModelKind::Deep, DEEP_PATHS, true),
    ];
    for (name, model, paths, options) in runs {
        for format in [OutputFormat::Csv, OutputFormat::Parquet] {
            let job = SimulateParams {
                model: Some(model),
                paths: Some(paths),
                options,
                format: Some(format),
                ..Default::default()
            }
            .resolve()
            .unwrap();
            let out = dir.path().join(format!("{name}_{}", format.extension()));
            g.bench_function(format!("{name}_{}", format.extension()), |b| {
                b.iter(|| pool.install(|| black_box(job.write_to_dir(&out, &|_| {}).unwrap())))
            });
        }
        let (csv, pq) = (
            dir.path().join(format!("{name}_csv")),
            dir.path().join(format!("{name}_parquet")),
        );
        for stem in ["spot", "options"] {
            let (a, b) = (
                size(&csv, &format!("{stem}.csv")),
                size(&pq, &format!("{stem}.parquet")),
            );
            if a > 0 && b > 0 {
                println!(
                    "scale/{name}: {stem}.csv {a} bytes, {stem}.parquet {b} bytes: {:.2}x smaller",
                    a as f64 / b as f64
                );
            }
        }
    }
    g.finish();
}
