//! Reads criterion's estimates back and prints ratios against references
//! measured in the same run.

use std::path::Path;
use std::time::SystemTime;

/// A ratio to report: `rate(numerator) / rate(denominator)` where the rate is
/// elements per second of each benchmark, with a target.
pub struct Ratio {
    pub label: &'static str,
    /// criterion id "group/function" of the measured item
    pub numerator: &'static str,
    /// criterion id of the reference
    pub denominator: &'static str,
    /// elements per iteration of numerator and denominator
    pub elements: (f64, f64),
    /// minimum acceptable ratio
    pub target: f64,
}

/// Mean time of benchmark `id`, only if it was measured after `since` (this
/// run): criterion keeps the estimates of earlier runs, which must not be
/// mixed into this run's ratios.
fn mean_ns(dir: &Path, id: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(id).join("new").join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

pub fn print(dir: &Path, since: SystemTime, ratios: &[Ratio]) {
    println!("\n== ratios against references measured in this run ==");
    for r in ratios {
        match (
            mean_ns(dir, r.numerator, since),
            mean_ns(dir, r.denominator, since),
        ) {
            (Some(n), Some(d)) => {
                let rate_n = r.elements.0 / n * 1e9;
                let rate_d = r.elements.1 / d * 1e9;
                let ratio = rate_n / rate_d;
                // Ratios of very different rates (a market's chains against
                // normal draws) need scientific notation.
                let show = |x: f64| {
                    if x != 0.0 && x.abs() < 1e-3 {
                        format!("{x:.3e}")
                    } else {
                        format!("{x:.4}")
                    }
                };
                println!(
                    "{:<52} {:>10.3e}/s vs {:>10.3e}/s  ratio {:>9} (target ≥ {})  {}",
                    r.label,
                    rate_n,
                    rate_d,
                    show(ratio),
                    show(r.target),
                    if ratio >= r.target { "MET" } else { "MISSED" }
                );
            }
            _ => println!("{:<52} not measured in this run", r.label),
        }
    }
}
