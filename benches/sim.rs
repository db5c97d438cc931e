//! Path generators and the driver.

use crate::report::Ratio;
use criterion::{BenchmarkId, Criterion, Throughput};
use rand::Rng;
use rand_distr::StandardNormal;
use std::hint::black_box;
use synthmarket::deep::{DeepGenerator, MixtureNet};
use synthmarket::market::{PathChunk, TimeGrid};
use synthmarket::rng::path_rng;
use synthmarket::sim::{
    Drift, Driver, Gbm, GbmParams, Heston, HestonParams, HestonScheme, PathGenerator,
};

const PATHS: usize = 64;
const STEPS: usize = 252;
const PATH_STEPS: f64 = (PATHS * STEPS) as f64;
const DRIVER_PATHS: u64 = 1024;

pub const RATIOS: &[Ratio] = &[
    Ratio {
        label: "GBM path-steps vs N(0,1) draws (1 core)",
        numerator: "paths/gbm",
        denominator: "paths/normal_draw",
        elements: (PATH_STEPS, PATH_STEPS),
        target: 0.5,
    },
    Ratio {
        label: "Heston QE path-steps vs N(0,1) draws (1 core)",
        numerator: "paths/heston_qe",
        denominator: "paths/normal_draw",
        elements: (PATH_STEPS, PATH_STEPS),
        target: 0.25,
    },
    Ratio {
        label: "Heston Euler path-steps vs N(0,1) draws (1 core)",
        numerator: "paths/heston_euler",
        denominator: "paths/normal_draw",
        elements: (PATH_STEPS, PATH_STEPS),
        target: 0.0,
    },
    Ratio {
        // Issue 5 asks for ≥ 1e6 path-steps/s on 2 cores, i.e. 5e5/s per
        // core: with normal draws at ~2e8/s on this machine class that is a
        // ratio of 0.0025. The 2-thread driver figure is printed by criterion.
        label: "deep model path-steps vs N(0,1) draws (1 core)",
        numerator: "paths/deep",
        denominator: "paths/normal_draw",
        elements: (PATH_STEPS, PATH_STEPS),
        target: 0.0025,
    },
    Ratio {
        label: "driver speed-up, 2 threads vs 1 (Heston QE + CSV)",
        numerator: "driver/threads/2",
        denominator: "driver/threads/1",
        elements: (1.0, 1.0),
        target: 1.8,
    },
];

/// The reference: standard normals from one path's stream into a buffer.
/// Kept out of line so that its code generation does not depend on what
/// else the benchmark binary contains (inlined into the benchmark closure it
/// measured anywhere from 3.9 to 7 ns per draw between builds).
#[inline(never)]
fn draw_normals(path: u64, out: &mut [f64]) {
    let mut rng = path_rng(7, path);
    for z in out.iter_mut() {
        *z = rng.sample(StandardNormal);
    }
}

fn heston(grid: &TimeGrid, scheme: HestonScheme) -> Heston {
    let p = HestonParams::new(
        100.0,
        Drift::RiskNeutral {
            rate: 0.02,
            dividend: 0.0,
        },
        0.04,
        2.0,
        0.04,
        0.5,
        -0.7,
    )
    .unwrap();
    Heston::new(p, scheme, grid)
}

fn fill<G: PathGenerator>(g: &G, chunk: &mut PathChunk) {
    g.fill_chunk(7, chunk);
    black_box(chunk.spot(PATHS - 1, STEPS));
}

pub fn benches(c: &mut Criterion) {
    let grid = TimeGrid::new(STEPS, 1.0 / 252.0).unwrap();
    let gbm = Gbm::new(
        GbmParams::new(100.0, Drift::RealWorld { mu: 0.05 }, 0.2).unwrap(),
        &grid,
    );
    let qe = heston(&grid, HestonScheme::Qe);
    let euler = heston(&grid, HestonScheme::Euler);

    let mut g = c.benchmark_group("paths");
    g.throughput(Throughput::Elements(PATH_STEPS as u64));
    // Reference: the same number of standard-normal draws from the same RNG
    // (fresh per-path streams, as the generators use).
    let mut normals = vec![0.0f64; STEPS];
    g.bench_function("normal_draw", |b| {
        b.iter(|| {
            for p in 0..PATHS {
                draw_normals(p as u64, &mut normals);
                black_box(&normals);
            }
        })
    });
    let mut chunk = PathChunk::new(0, PATHS, STEPS, 1);
    g.bench_function("gbm", |b| b.iter(|| fill(&gbm, &mut chunk)));
    g.bench_function("heston_qe", |b| b.iter(|| fill(&qe, &mut chunk)));
    g.bench_function("heston_euler", |b| b.iter(|| fill(&euler, &mut chunk)));
    let deep = DeepGenerator::new(MixtureNet::shipped().unwrap(), Some(100.0), &grid).unwrap();
    g.bench_function("deep", |b| b.iter(|| fill(&deep, &mut chunk)));
    g.finish();

    // The deep model through the driver (no CSV) on 2 threads: the issue's
    // "≥ 1e6 path-steps per second on 2 cores", read from criterion's
    // throughput line.
    let mut g = c.benchmark_group("deep_driver");
    g.sample_size(10);
    g.throughput(Throughput::Elements(DRIVER_PATHS * STEPS as u64));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("threads/2", |b| {
        b.iter(|| {
            pool.install(|| {
                Driver::new(7, DRIVER_PATHS)
                    .run(
                        &deep,
                        STEPS,
                        |chunk| chunk.spot(0, STEPS)[0],
                        |x| {
                            black_box(x);
                            Ok(())
                        },
                    )
                    .unwrap()
            })
        })
    });
    g.finish();

    // Driver: simulate and format CSV in a rayon pool of 1 and of 2 threads.
    let mut g = c.benchmark_group("driver");
    g.sample_size(10);
    g.throughput(Throughput::Elements(DRIVER_PATHS * STEPS as u64));
    let format = synthmarket::io::spot_csv::SpotCsvFormat::new(
        &grid,
        &synthmarket::market::BusinessCalendar::new(
            chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
        )
        .unwrap(),
        None,
    );
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    let mut bytes = 0usize;
                    Driver::new(7, DRIVER_PATHS)
                        .run(
                            &qe,
                            STEPS,
                            |chunk| format.format_chunk(chunk),
                            |buf| {
                                bytes += buf.len();
                                Ok(())
                            },
                        )
                        .unwrap();
                    black_box(bytes)
                })
            })
        });
    }
    g.finish();
}
