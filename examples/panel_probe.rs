//! Probe (not shipped): trains a market model, simulates paths and prints
//! the panel facts per path beside the real ones.
use synthmarket::deep::panel::{train_panel, PanelGenerator, PanelModel};
use synthmarket::deep::TrainOptions;
use synthmarket::facts::panel_facts;
use synthmarket::market::{PanelHistory, SpotHistory, TimeGrid};
use synthmarket::sim::{Driver, PathGenerator};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let paths: u64 = args.get(2).map_or(20, |s| s.parse().unwrap());
    let panel = PanelHistory::from_csv("data/sp500_20stocks_1990_2018.csv").unwrap();
    let index = SpotHistory::from_csv("data/sp500_index_1990_2018.csv", Some("close")).unwrap();
    if !PanelModel::is_panel_dir(&dir) {
        let t = std::time::Instant::now();
        let (m, rep) = train_panel(
            &panel,
            &index,
            &TrainOptions {
                name: "probe".into(),
                ..Default::default()
            },
            |p| {
                if let synthmarket::deep::panel::PanelProgress::Net { i, name, .. } = p {
                    eprintln!("net {i} {name} {:.1}s", t.elapsed().as_secs_f64())
                }
            },
        )
        .unwrap();
        eprintln!(
            "trained in {:.1}s copula nu {} profile {:?} gamma {:?} betas {:?}",
            rep.seconds, rep.copula_nu, rep.copula_profile, rep.market_gamma, rep.betas
        );
        m.save(&dir).unwrap();
    }
    let model = PanelModel::load(&dir).unwrap();
    let real_stocks: Vec<Vec<f64>> = panel.assets().iter().map(|a| a.log_returns()).collect();
    let real = panel_facts(&real_stocks, &index.log_returns()).unwrap();
    let steps = 7306;
    let grid = TimeGrid::new(steps, 1.0 / 252.0).unwrap();
    let gen = PanelGenerator::new(model, &grid).unwrap();
    let d = gen.assets();
    let t = std::time::Instant::now();
    let facts: Vec<_> = Driver::new(9, paths)
        .collect(&gen, steps, |chunk| {
            (0..chunk.paths())
                .map(|p| {
                    let series: Vec<Vec<f64>> = (0..d)
                        .map(|a| {
                            let s: Vec<f64> = chunk.spot_series(p, a).collect();
                            s.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
                        })
                        .collect();
                    let maxes: Vec<(f64, f64)> = series
                        .iter()
                        .map(|r| {
                            (
                                r.iter().cloned().fold(f64::MIN, f64::max),
                                r.iter().cloned().fold(f64::MAX, f64::min),
                            )
                        })
                        .collect();
                    let sd = |r: &[f64]| {
                        let m = r.iter().sum::<f64>() / r.len() as f64;
                        (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / r.len() as f64 * 252.0)
                            .sqrt()
                    };
                    let sds: Vec<f64> = series.iter().map(|r| sd(r)).collect();
                    (
                        panel_facts(&series[..d - 1], &series[d - 1]).unwrap(),
                        maxes,
                        sds,
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    eprintln!("simulated in {:.1}s", t.elapsed().as_secs_f64());
    let show = |name: &str, r: f64, v: Vec<f64>| {
        let mut v = v;
        v.sort_by(f64::total_cmp);
        let below = v.iter().filter(|x| **x < r).count();
        let above = v.len() - below;
        let p = (2.0 * ((below + 1).min(above + 1)) as f64 / (v.len() + 1) as f64).min(1.0);
        println!(
            "{name:28} real {r:8.4}  model median {:8.4} [{:8.4}, {:8.4}]  p {p:.3}",
            v[v.len() / 2],
            v[0],
            v[v.len() - 1]
        );
    };
    show(
        "mean corr",
        real.mean_correlation,
        facts.iter().map(|f| f.0.mean_correlation).collect(),
    );
    show(
        "top eigen share",
        real.top_eigen_share,
        facts.iter().map(|f| f.0.top_eigen_share).collect(),
    );
    show(
        "eigen above MP",
        real.eigen_above_mp as f64,
        facts.iter().map(|f| f.0.eigen_above_mp as f64).collect(),
    );
    show(
        "corr high vol",
        real.corr_high_vol,
        facts.iter().map(|f| f.0.corr_high_vol).collect(),
    );
    show(
        "corr calm",
        real.corr_calm,
        facts.iter().map(|f| f.0.corr_calm).collect(),
    );
    show(
        "corr ratio",
        real.corr_ratio,
        facts.iter().map(|f| f.0.corr_ratio).collect(),
    );
    show(
        "median kurtosis",
        real.median_excess_kurtosis,
        facts.iter().map(|f| f.0.median_excess_kurtosis).collect(),
    );
    show(
        "median acf1",
        real.median_acf_abs_1,
        facts.iter().map(|f| f.0.median_acf_abs_1).collect(),
    );
    show(
        "median acf50",
        real.median_acf_abs_50,
        facts.iter().map(|f| f.0.median_acf_abs_50).collect(),
    );
    show(
        "index kurtosis",
        real.index_excess_kurtosis,
        facts.iter().map(|f| f.0.index_excess_kurtosis).collect(),
    );
    let sp: Vec<f64> = facts
        .iter()
        .map(|f| synthmarket::facts::spearman(&f.0.betas, &real.betas))
        .collect();
    show("beta spearman", 1.0, sp);
    for (i, name) in gen.model().assets().iter().enumerate() {
        let r = if i < d - 1 {
            real_stocks[i].clone()
        } else {
            index.log_returns()
        };
        let m = r.iter().sum::<f64>() / r.len() as f64;
        let rsd = (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / r.len() as f64 * 252.0).sqrt();
        show(
            &format!("{name} annual sd"),
            rsd,
            facts.iter().map(|f| f.2[i]).collect(),
        );
        let mx: Vec<f64> = facts.iter().map(|f| f.1[i].0).collect();
        let mn: Vec<f64> = facts.iter().map(|f| f.1[i].1).collect();
        let (rmax, rmin) = if i < d - 1 {
            let r = &real_stocks[i];
            (
                r.iter().cloned().fold(f64::MIN, f64::max),
                r.iter().cloned().fold(f64::MAX, f64::min),
            )
        } else {
            let r = index.log_returns();
            (
                r.iter().cloned().fold(f64::MIN, f64::max),
                r.iter().cloned().fold(f64::MAX, f64::min),
            )
        };
        let b = if i < d - 1 {
            facts.iter().map(|f| f.0.betas[i]).sum::<f64>() / facts.len() as f64
        } else {
            1.0
        };
        show(
            &format!(
                "{name} max (beta {b:.2} vs {:.2})",
                if i < d - 1 { real.betas[i] } else { 1.0 }
            ),
            rmax,
            mx,
        );
        show(&format!("{name} min"), rmin, mn);
    }
}
