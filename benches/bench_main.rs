//! Criterion benchmarks. Each hot path is measured beside a reference taken in
//! the same run, and the ratios are printed at the end against their targets
//! (targets are reported, not asserted: wall-clock figures vary by machine).
//!
//! Run: `cargo bench --bench bench_main` (add `-- --quick` for a fast pass).

mod market;
mod pricing;
mod report;
mod scale;
mod sim;
mod start;

use criterion::Criterion;
use std::path::PathBuf;

fn main() {
    let started = std::time::SystemTime::now();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("criterion");
    let mut c = Criterion::default()
        .output_directory(&out)
        .configure_from_args();
    sim::benches(&mut c);
    market::benches(&mut c);
    pricing::benches(&mut c);
    scale::benches(&mut c);
    start::benches(&mut c);
    c.final_summary();
    report::print(&out, started, sim::RATIOS);
    report::print(&out, started, pricing::RATIOS);
    report::print(&out, started, market::RATIOS);
    report::print(&out, started, scale::RATIOS);
    report::print(&out, started, start::RATIOS);
}
