//! Shared helpers: sample statistics with standard errors, running the real
//! binary, temporary files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use synthmarket::market::PathChunk;
use synthmarket::sim::{Driver, PathGenerator};

/// Sample mean, sample variance (n − 1) and fourth central moment.
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub var: f64,
    pub m4: f64,
}

pub fn moments(xs: &[f64]) -> Moments {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    Moments { n, mean, var, m4 }
}

impl Moments {
    /// Standard error of the mean.
    pub fn se_mean(&self) -> f64 {
        (self.var / self.n).sqrt()
    }
    /// Standard error of the sample variance, √((μ₄ − σ⁴)/n).
    pub fn se_var(&self) -> f64 {
        ((self.m4 - self.var * self.var) / self.n).sqrt()
    }
    /// Excess kurtosis.
    pub fn excess_kurtosis(&self) -> f64 {
        self.m4 / (self.var * self.var) - 3.0
    }
}

/// Asserts |estimate − truth| ≤ k·se and reports the z-score on failure.
#[track_caller]
pub fn assert_within(what: &str, estimate: f64, truth: f64, se: f64, k: f64) {
    let z = (estimate - truth) / se;
    assert!(
        z.abs() <= k,
        "{what}: estimate {estimate:.6e}, truth {truth:.6e}, se {se:.3e}, z = {z:.2} (allowed ±{k})"
    );
}

/// Runs `paths` paths of `steps` steps and applies `f` to every (path, asset)
/// spot and variance series.
pub fn collect_series<G: PathGenerator>(
    g: &G,
    seed: u64,
    paths: u64,
    steps: usize,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    Driver::new(seed, paths)
        .collect(g, steps, |c: &PathChunk| {
            let mut out = Vec::new();
            for p in 0..c.paths() {
                for a in 0..c.assets() {
                    out.push((
                        c.spot_series(p, a).collect(),
                        c.variance_series(p, a).collect(),
                    ));
                }
            }
            out
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

/// Terminal spot and variance of each path (one asset).
pub fn terminal<G: PathGenerator>(
    g: &G,
    seed: u64,
    paths: u64,
    steps: usize,
) -> (Vec<f64>, Vec<f64>) {
    let per_chunk = Driver::new(seed, paths)
        .collect(g, steps, |c: &PathChunk| {
            (0..c.paths())
                .map(|p| (c.spot(p, steps)[0], c.variance(p, steps)[0]))
                .collect::<Vec<_>>()
        })
        .unwrap();
    per_chunk.into_iter().flatten().unzip()
}

/// A call (`is_call`) or put with strike `k` and maturity `t`.
pub fn spec(is_call: bool, k: f64, t: f64) -> synthmarket::market::OptionSpec {
    use synthmarket::market::{OptionSpec, OptionType};
    let kind = if is_call {
        OptionType::Call
    } else {
        OptionType::Put
    };
    OptionSpec::new(kind, k, t).unwrap()
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synthmarket"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

/// `simulate -q --out dir ARGS…`, which must succeed.
pub fn simulate_into(dir: &Path, args: &[&str]) {
    let o = bin()
        .args(["simulate", "-q", "--out"])
        .arg(dir)
        .args(args)
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", stderr(&o));
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The repository's shipped data directory.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}
