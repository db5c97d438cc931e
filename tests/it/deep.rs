//! The deep generator: training lowers the validation loss, a saved model
//! generates bit for bit what the trained one did, paths depend only on the
//! seed, and a model trained on Gaussian returns generates near-Gaussian ones.

use crate::common::{collect_series, data};
use chrono::{Days, NaiveDate};
use synthmarket::deep::{self, DeepGenerator, MixtureNet, TrainOptions};
use synthmarket::market::{SpotHistory, TimeGrid};
use synthmarket::sim::{Drift, Gbm, GbmParams};

fn slice(h: &SpotHistory, n: usize) -> SpotHistory {
    SpotHistory::new(
        h.source(),
        h.dates()[..n].to_vec(),
        h.prices()[..n].to_vec(),
    )
    .unwrap()
}

fn small() -> TrainOptions {
    TrainOptions {
        name: "test".into(),
        hidden: vec![16],
        epochs: 15,
        patience: 15,
        ..TrainOptions::default()
    }
}

#[test]
fn training_on_a_slice_lowers_the_validation_loss() {
    let h = slice(
        &SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap(),
        2000,
    );
    let (_, report) = deep::train(&[h], &small(), |_, _, _| {}).unwrap();
    let v0 = report.history[0].2;
    let best = report.history[report.best_epoch].2;
    assert_eq!(report.history[0].0, 0);
    assert!(best < v0 - 0.01, "validation NLL {v0} -> {best}");
    assert!(report.nll.0.is_finite() && report.nll.1.is_finite());
}

fn paths(net: MixtureNet, seed: u64) -> Vec<(Vec<f64>, Vec<f64>)> {
    let grid = TimeGrid::new(300, 1.0 / 252.0).unwrap();
    let g = DeepGenerator::new(net, Some(100.0), &grid).unwrap();
    collect_series(&g, seed, 6, 300)
}

#[test]
fn saved_model_generates_bit_for_bit_and_paths_depend_only_on_the_seed() {
    let h = slice(
        &SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap(),
        2000,
    );
    let (net, _) = deep::train(&[h], &small(), |_, _, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    deep::save(&net, dir.path()).unwrap();
    let loaded = MixtureNet::load(dir.path()).unwrap();
    assert_eq!(loaded.layers(), net.layers());
    assert_eq!(loaded.shape(), net.shape());
    assert_eq!(loaded.config(), net.config());
    let a = paths(net.clone(), 7);
    assert_eq!(a, paths(loaded, 7));
    assert_ne!(a, paths(net, 8));
    for (s, v) in &a {
        assert!(s.iter().all(|x| x.is_finite() && *x > 0.0));
        assert!(v.iter().all(|x| x.is_finite() && *x > 0.0));
    }
}

#[test]

fn a_model_trained_on_gbm_generates_near_gaussian_returns() {
    let n = 5000;
    let gbm = Gbm::new(
        GbmParams::new(100.0, Drift::RealWorld { mu: 0.05 }, 0.2).unwrap(),
        &TimeGrid::new(n, 1.0 / 252.0).unwrap(),
    );
    let spot = collect_series(&gbm, 3, 1, n).remove(0).0;
    let start = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap();
    let dates: Vec<NaiveDate> = (0..=n as u64).map(|i| start + Days::new(i)).collect();
    let h = SpotHistory::new("gbm.csv", dates, spot).unwrap();
    let (net, _) = deep::train(&[h], &TrainOptions::default(), |_, _, _| {}).unwrap();
    let r: Vec<f64> = paths(net, 1)
        .iter()
        .flat_map(|(s, _)| s.windows(2).map(|w| (w[1] / w[0]).ln()).collect::<Vec<_>>())
        .collect();
    let m = crate::common::moments(&r);
    // 1,800 Gaussian returns: the excess kurtosis has a standard error of
    // √(24/n) ≈ 0.115; the learnt model must stay within 4 of them of 0.
    assert!(
        m.excess_kurtosis().abs() < 4.0 * (24.0 / r.len() as f64).sqrt(),
        "{}",
        m.excess_kurtosis()
    );
}
