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

/// Market-model paths per iteration, their chain dates (steps 0, 5, …,
/// 250) and assets.
const PANEL_PATHS: u64 = 4;
const PANEL_ASSETS: f64 = 21.0;
const PANEL_CHAINS: f64 = PANEL_PATHS as f64 * 51.0 * PANEL_ASSETS;
const PANEL_STEPS: f64 = PANEL_PATHS as f64 * 252.0 * PANEL_ASSETS;

pub const RATIOS: &[Ratio] = &[
    // The market target: 100 paths × 51 dates × 21 assets = 107,100 chains
    // in 120 s is 893 chains/s on 2 cores, against about 2e8 normal draws/s
    // on one core: at least 893 / 2e8 ≈ 4.5e-6.
    Ratio {
        label: "market-model chains, 21 assets (2 threads) vs N(0,1) draws (1 core)",
        numerator: "market/panel",
        denominator: "market/normal_draw",
        elements: (PANEL_CHAINS, DRAWS as f64),
        target: 4.5e-6,
    },
    // …and 100 × 252 × 21 = 529,200 asset-days in 120 s is 4,410 per
    // second: at least 2.2e-5 of the draws' rate.
    Ratio {
        label: "market-model asset-days with chains (2 threads) vs N(0,1) draws (1 core)",
        numerator: "market/panel",
        denominator: "market/normal_draw",
        elements: (PANEL_STEPS, DRAWS as f64),
        target: 2.2e-5,
    },
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
    let panel = SimulateParams {
        model: Some(ModelKind::Deep),
        model_path: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500-panel"),
        ),
        paths: Some(PANEL_PATHS),
        options: true,
        months: Some(3),
        strikes: Some(5),
        chain_every: Some(5),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    g.throughput(Throughput::Elements(PANEL_CHAINS as u64));
    let out = dir.path().join("panel");
    g.bench_function("panel", |b| {
        b.iter(|| pool.install(|| black_box(panel.write_to_dir(&out, &|_| {}).unwrap())))
    });
    g.finish();
}
