//! Issue 36 study: given a trained deep model directory, simulate 200 paths as long as the real history from
//! its end-of-training state and report the extremes, the volatility-state quantiles and the noise-aware
//! scorecard against the real series. `cargo run --release --example deep_study -- MODEL_DIR [DATA.csv] [COLUMN] [SEED]`.
use synthmarket::deep::{DeepGenerator, MixtureNet};
use synthmarket::facts::spread::Spread;
use synthmarket::facts::FactsConfig;
use synthmarket::market::{PathChunk, SpotHistory, TimeGrid};
use synthmarket::sim::{Driver, PathGenerator};

fn sim<G: PathGenerator>(g: &G, seed: u64, paths: u64, steps: usize) -> Vec<Vec<f64>> {
    synthmarket::run::train::simulate_returns(g, seed, paths, steps).unwrap()
}

fn sim_vol<G: PathGenerator>(g: &G, seed: u64, paths: u64, steps: usize) -> Vec<f64> {
    Driver::new(seed, paths)
        .collect(g, steps, |c: &PathChunk| {
            (0..c.paths())
                .flat_map(|p| c.variance_series(p, 0).map(f64::sqrt).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

fn med(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = &args[1];
    let data = args
        .get(2)
        .map(String::as_str)
        .unwrap_or("data/sp500_daily.csv");
    let column = args.get(3).filter(|s| !s.is_empty()).map(String::as_str);
    let seed: u64 = args.get(4).map_or(9, |s| s.parse().unwrap());
    let net = MixtureNet::load(std::path::Path::new(model)).unwrap();
    println!("law {:?}", net.innovation_law());
    {
        let (w, _) = net.layers().last().unwrap();
        let row: Vec<f64> = w[10..20].to_vec();
        println!(
            "skip ln-sigma weights on ln-variance features {:?} 2*sum {:.3}",
            [row[0], row[2], row[4], row[6], row[8]].map(|v| (v * 1000.0).round() / 1000.0),
            2.0 * (row[0] + row[2] + row[4] + row[6] + row[8])
        );
    }
    let h = SpotHistory::from_csv(data, column).unwrap();
    let real = h.log_returns();
    let steps = real.len();
    let grid = TimeGrid::new(steps, 1.0 / 252.0).unwrap();
    let g = DeepGenerator::new(net, Some(100.0), &grid).unwrap();
    let t = std::time::Instant::now();
    let paths = sim(&g, seed, 200, steps);
    let secs = t.elapsed().as_secs_f64();
    let e = synthmarket::facts::extremes::PathExtremes::of(&paths).unwrap();
    println!(
        "{model}: {steps} steps x 200 paths in {secs:.2} s ({:.2} M path-steps/s)",
        200.0 * steps as f64 / secs / 1e6
    );
    println!(
        "max up: median {:.4} p95 {:.4} | max down: median {:.4} | days>10%: median {} | kurt median {:.2} | max|r| {:.4}",
        e.rise_median, e.rise_p95, e.fall_median, e.extreme_days_median, e.kurtosis_median, e.largest_move
    );
    {
        let net = g.net();
        let scale = net.config().scale;
        let mut st = synthmarket::deep::FeatureState::default();
        let mut rv = Vec::new();
        for x in &real {
            let m = net.mixture(&st);
            rv.push((m.variance() * 252.0).sqrt() * scale);
            st.update(x / scale);
        }
        let sv = sim_vol(&g, seed, 200, steps);
        let qs = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0];
        println!(
            "vol real  {:?}",
            qs.map(|q| (med(rv[50..].to_vec(), q) * 1000.0).round() / 1000.0)
        );
        println!(
            "vol synth {:?}",
            qs.map(|q| (med(sv.clone(), q) * 1000.0).round() / 1000.0)
        );
    }
    let sp = Spread::compute(&real, &paths, &FactsConfig::default()).unwrap();
    println!(
        "spread vs {data} {:?}: matched {}/{} mean|z| {:.2}",
        column,
        sp.matched,
        sp.rows.len(),
        sp.mean_abs_z
    );
    for r in &sp.rows {
        println!(
            "  {:32} real {:9.4} synth {:9.4} ± {:8.4} pct {:5.3} p {:5.3} z {:6.2}{}",
            r.statistic,
            r.real,
            r.synthetic_mean,
            r.synthetic_sd,
            r.percentile,
            r.p_value,
            r.z,
            if r.matches { "" } else { "  MISS" }
        );
    }
}
