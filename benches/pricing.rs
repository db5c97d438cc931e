//! Pricing: Black–Scholes–Merton price + greeks, implied volatility, and a
//! Heston chain.

use crate::report::Ratio;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::{implied_vol, BlackScholes, HestonModel};

const GRID: usize = 1000;
const MATURITIES: [f64; 10] = [
    7.0 / 365.0,
    1.0 / 12.0,
    2.0 / 12.0,
    0.25,
    0.5,
    0.75,
    1.0,
    2.0,
    5.0,
    10.0,
];

pub const RATIOS: &[Ratio] = &[
    Ratio {
        label: "Heston chain 10×50 vs 500 BSM prices+greeks",
        numerator: "pricing/heston_chain_10x50",
        denominator: "pricing/bs_price_greeks",
        elements: (500.0, GRID as f64),
        target: 0.0,
    },
    Ratio {
        label: "implied-vol inversions vs BSM prices+greeks",
        numerator: "pricing/implied_vol",
        denominator: "pricing/bs_price_greeks",
        elements: (GRID as f64, GRID as f64),
        target: 0.0,
    },
];

/// A grid of options: strikes 50 %–200 %, maturities one minute to 30
/// years, vols 0.1 %–500 %, calls and puts.
fn grid(n: usize) -> Vec<(OptionSpec, MarketState, f64)> {
    let minute: f64 = 1.0 / (365.0 * 24.0 * 60.0);
    (0..n)
        .map(|i| {
            let f = |j: usize, m: usize| ((i * j) % m) as f64 / (m - 1) as f64;
            let k = 100.0 * 0.5 * 4f64.powf(f(7, 97));
            let t = minute * (30.0 / minute).powf(f(13, 89));
            let vol = 0.001 * 5000f64.powf(f(31, 83));
            let kind = if i % 2 == 0 {
                OptionType::Call
            } else {
                OptionType::Put
            };
            (
                OptionSpec::new(kind, k, t).unwrap(),
                MarketState::new(100.0, 0.03, 0.01).unwrap(),
                vol,
            )
        })
        .collect()
}

pub fn benches(c: &mut Criterion) {
    let options = grid(GRID);
    let priced: Vec<(OptionSpec, MarketState, f64, f64)> = options
        .iter()
        .map(|(s, m, v)| (*s, *m, *v, BlackScholes::new(*v).unwrap().price(s, m)))
        .collect();
    let mut g = c.benchmark_group("pricing");
    g.throughput(Throughput::Elements(GRID as u64));
    g.bench_function("bs_price_greeks", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for (s, m, v) in &options {
                let gk = BlackScholes::new(*v).unwrap().greeks(s, m);
                acc += gk.price + gk.delta + gk.gamma + gk.vega + gk.theta + gk.rho;
            }
            black_box(acc)
        })
    });
    // An ordinary listed chain: strikes 80–120 %, one week to two years,
    // vols 10–60 % (the extreme grid above sends many options to Jäckel's
    // slower far-from-the-money path).
    let chain: Vec<(OptionSpec, MarketState, f64)> = (0..GRID)
        .map(|i| {
            let f = |j: usize, m: usize| ((i * j) % m) as f64 / (m - 1) as f64;
            let kind = if i % 2 == 0 {
                OptionType::Call
            } else {
                OptionType::Put
            };
            (
                OptionSpec::new(kind, 80.0 + 40.0 * f(7, 97), 7.0 / 365.0 + 2.0 * f(13, 89))
                    .unwrap(),
                MarketState::new(100.0, 0.03, 0.01).unwrap(),
                0.1 + 0.5 * f(31, 83),
            )
        })
        .collect();
    g.bench_function("bs_price_greeks_chain", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for (s, m, v) in &chain {
                let gk = BlackScholes::new(*v).unwrap().greeks(s, m);
                acc += gk.price + gk.delta + gk.gamma + gk.vega + gk.theta + gk.rho;
            }
            black_box(acc)
        })
    });
    g.bench_function("implied_vol", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for (s, m, _, p) in &priced {
                acc += implied_vol(*p, s, m).unwrap_or(0.0);
            }
            black_box(acc)
        })
    });
    let model = HestonModel::new(0.04, 2.0, 0.04, 0.5, -0.7).unwrap();
    let state = MarketState::new(100.0, 0.03, 0.01).unwrap();
    let specs: Vec<Vec<OptionSpec>> = MATURITIES
        .iter()
        .map(|&t| {
            (0..50)
                .map(|j| {
                    OptionSpec::new(OptionType::Call, 50.0 + 150.0 * j as f64 / 49.0, t).unwrap()
                })
                .collect()
        })
        .collect();
    g.throughput(Throughput::Elements(500));
    g.bench_function("heston_chain_10x50", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for row in &specs {
                let slice = model.slice(row[0].maturity());
                acc += slice.prices(row, &state).iter().sum::<f64>();
            }
            black_box(acc)
        })
    });
    g.finish();

    // Worst implied-vol round-trip error over a 10⁶-option grid, where the
    // price determines the vol (condition number P/(σ·vega) below 1e3). The
    // forward prices carry up to ~2e-13 relative error themselves, which the
    // condition number amplifies; the repricing error |BS(iv) − P|/P shows
    // the inversion's own accuracy.
    let (mut worst, mut worst_reprice, mut used) = (0.0f64, 0.0f64, 0usize);
    for (s, m, v) in grid(1_000_000) {
        let gk = BlackScholes::new(v).unwrap().greeks(&s, &m);
        if gk.price < 1e-300 || gk.vega <= 0.0 || gk.price / (v * gk.vega) > 1e3 {
            continue;
        }
        if let Ok(iv) = implied_vol(gk.price, &s, &m) {
            worst = worst.max((iv - v).abs() / v);
            let back = BlackScholes::new(iv).unwrap().price(&s, &m);
            worst_reprice = worst_reprice.max((back - gk.price).abs() / gk.price);
            used += 1;
        }
    }
    println!(
        "implied vol over {used} well-conditioned options of a 10^6 grid: worst relative vol error {worst:.2e}, worst relative repricing error {worst_reprice:.2e}"
    );
}
