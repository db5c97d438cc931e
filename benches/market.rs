//! Whole markets written to disk: spot paths with a chain of 10 monthly
//! expiries × 21 strikes (calls and puts, wide layout) on every path and
//! day, through `SimulationJob::write_to_dir` as `simulate` runs it, on 2
//! threads. Issue 6 asks for 1,000 paths × 252 days of this within 2
//! minutes on 2 cores with flat memory: the README gives the full-size
//! figures (`/usr/bin/time synthmarket simulate … --paths 1000`); this
//! measures the same work on fewer paths per iteration.

use crate::report::Ratio;
use criterion::{Criterion, Throughput};
use rand::Rng;
use rand_distr::StandardNormal;
use std::hint::black_box;
use synthmarket::io::chain_csv::Layout;
use synthmarket::rng::path_rng;
use synthmarket::run::{ModelKind, SimulateParams};

/// Paths per iteration, and the chains they carry (a chain on each of 253
/// days: step 0 to 252).
const PATHS: u64 = 8;
const CHAINS: f64 = (PATHS * 253) as f64;
/// Normal draws of the reference per iteration.
const DRAWS: usize = 1 << 20;

pub const RATIOS: &[Ratio] = &[
    // The target: 1,000 × 253 chains in 120 s is 2,108 chains/s on 2
    // cores; standard normals run at about 2e8/s on one core of this
    // machine class (the `paths/normal_draw` reference of sim.rs), so the
    // ratio must be at least 2,108 / 2e8 ≈ 1.05e-5.
    Ratio {
        label: "Heston market chains (2 threads) vs N(0,1) draws (1 core)",
        numerator: "market/heston",
        denominator: "market/normal_draw",
        elements: (CHAINS, DRAWS as f64),
        target: 1.05e-5,
    },
    Ratio {
        label: "deep market chains (2 threads) vs N(0,1) draws (1 core)",
        numerator: "market/deep",
        denominator: "market/normal_draw",
        elements: (CHAINS, DRAWS as f64),
        target: 1.05e-5,
    },
];

#[inline(never)]
fn draw_normals(out: &mut [f64]) {
    let mut rng = path_rng(7, 0);
    for z in out.iter_mut() {
        *z = rng.sample(StandardNormal);
    }
}

pub fn benches(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("market");
    g.sample_size(10);
    let mut normals = vec![0.0f64; DRAWS];
    g.throughput(Throughput::Elements(DRAWS as u64));
    g.bench_function("normal_draw", |b| {
        b.iter(|| {
            draw_normals(&mut normals);
            black_box(&normals);
        })
    });
    g.throughput(Throughput::Elements(CHAINS as u64));
    for (name, model) in [("heston", ModelKind::Heston), ("deep", ModelKind::Deep)] {
        let job = SimulateParams {
            model: Some(model),
            paths: Some(PATHS),
            options: true,
            months: Some(10),
            strikes: Some(10),
            chain_layout: Some(Layout::Wide),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let out = dir.path().join(name);
        g.bench_function(name, |b| {
            b.iter(|| pool.install(|| black_box(job.write_to_dir(&out, &|_| {}).unwrap())))
        });
    }
    g.finish();
}
