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

/// A net trained on squashed features records their scales in its config,
/// generates from them after a save and load (the same bits), and without
/// them it is another model (the scales are part of it, not a hint); a
/// scale that is not positive is a named error.
#[test]
fn a_squashed_model_keeps_its_scales_through_save_and_load() {
    let h = slice(
        &SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap(),
        2000,
    );
    let opts = TrainOptions {
        feature_squash: Some([4.0, 1.5]),
        ..small()
    };
    let (net, _) = deep::train(&[h], &opts, |_, _, _| {}).unwrap();
    assert_eq!(net.config().feature_squash, Some([4.0, 1.5]));
    // The training box is of squashed features: inside ±4 and ±1.5.
    for (i, [lo, hi]) in net.config().feature_bounds.iter().enumerate() {
        let c = if i % 2 == 0 { 4.0 } else { 1.5 };
        assert!(-c < *lo && *hi < c, "feature {i}: [{lo}, {hi}]");
    }
    let dir = tempfile::tempdir().unwrap();
    deep::save(&net, dir.path()).unwrap();
    let loaded = MixtureNet::load(dir.path()).unwrap();
    assert_eq!(loaded.config(), net.config());
    let a = paths(net, 7);
    assert_eq!(a, paths(loaded, 7));
    let config = dir.path().join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object_mut().unwrap().remove("feature_squash");
    std::fs::write(&config, json.to_string()).unwrap();
    assert_ne!(a, paths(MixtureNet::load(dir.path()).unwrap(), 7));
    json["feature_squash"] = serde_json::json!([4.0, -1.0]);
    std::fs::write(&config, json.to_string()).unwrap();
    let err = MixtureNet::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("config.json") && err.contains("feature_squash"),
        "{err}"
    );
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
    // Both forms as `synthmarket train` fits them: the network alone with
    // a near-Gaussian law, and on the variance core with the law's widest
    // component starting heavy-tailed (ν ≈ 4.9), which the fit must leave.
    for variance_core in [false, true] {
        let opts = TrainOptions {
            variance_core,
            heavy_start: variance_core,
            ..TrainOptions::default()
        };
        let (net, _) = deep::train(std::slice::from_ref(&h), &opts, |_, _, _| {}).unwrap();
        let r: Vec<f64> = paths(net, 1)
            .iter()
            .flat_map(|(s, _)| s.windows(2).map(|w| (w[1] / w[0]).ln()).collect::<Vec<_>>())
            .collect();
        let m = crate::common::moments(&r);
        // 1,800 Gaussian returns: the excess kurtosis has a standard error
        // of √(24/n) ≈ 0.115; the learnt model must stay within 4 of them
        // of 0.
        assert!(
            m.excess_kurtosis().abs() < 4.0 * (24.0 / r.len() as f64).sqrt(),
            "core and heavy start {variance_core}: {}",
            m.excess_kurtosis()
        );
    }
}

fn models_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500")
}

/// The model embedded in the binary is the one in `models/sp500`, and its
/// held-out NLL recomputed here is the one its metrics.json reports.
#[test]
fn shipped_model_is_models_sp500_and_reproduces_its_metrics() {
    let shipped = MixtureNet::shipped().unwrap();
    let on_disk = MixtureNet::load(&models_dir()).unwrap();
    assert_eq!(shipped.layers(), on_disk.layers());
    assert_eq!(shipped.shape(), on_disk.shape());
    assert_eq!(shipped.config(), on_disk.config());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("metrics.json")).unwrap())
            .unwrap();
    let (_, test_from, n) = (
        metrics["report"]["split"][0].as_u64().unwrap() as usize,
        metrics["report"]["split"][1].as_u64().unwrap() as usize,
        metrics["report"]["split"][2].as_u64().unwrap() as usize,
    );
    let r = SpotHistory::from_csv(data("sp500_daily.csv"), None)
        .unwrap()
        .log_returns();
    assert_eq!(r.len(), n);
    let nll = shipped.nll(&r, test_from);
    let reported = metrics["test_nll_deep"].as_f64().unwrap();
    assert!((nll - reported).abs() < 1e-12, "{nll} vs {reported}");
}

/// Issue 36, points 2 and 3, on the shipped model: 200 paths of 5,030 days
/// (the S&P 500 history's length) from the end of training, at a seed other
/// than the model card's, meet every bar history sets for 20-year paths
/// (`synthmarket::facts::extremes`: median largest rise ≤ 9 %, its 95th
/// percentile ≤ 14.3 %, falls bigger than rises, at most one day beyond
/// ±10 % in a median path, excess kurtosis 5–12, nothing beyond ±40 %),
/// and the S&P 500's |r| autocorrelation at lags 50, 100 and 250 falls
/// inside the paths' spread (p ≥ 0.05). At the card's seed the figures are
/// the ones `metrics.json` (and so the card) reports.
#[test]
fn shipped_model_has_extremes_like_history_and_long_memory() {
    use synthmarket::facts::extremes::PathExtremes;
    use synthmarket::facts::spread::Spread;
    use synthmarket::facts::FactsConfig;
    let r = SpotHistory::from_csv(data("sp500_daily.csv"), None)
        .unwrap()
        .log_returns();
    let grid = TimeGrid::new(r.len(), 1.0 / 252.0).unwrap();
    let g = DeepGenerator::new(MixtureNet::shipped().unwrap(), None, &grid).unwrap();
    let paths = |seed| synthmarket::run::train::simulate_returns(&g, seed, 200, r.len()).unwrap();

    let at9 = paths(9);
    let e = PathExtremes::of(&at9).unwrap();
    assert!(e.like_history(), "{:#?}", e.against_history());
    let spread = Spread::compute(&r, &at9, &FactsConfig::default()).unwrap();
    for lag in ["50", "100", "250"] {
        let row = spread
            .rows
            .iter()
            .find(|row| row.statistic == format!("acf |r|, lag {lag}"))
            .unwrap();
        assert!(row.matches, "{row:?}");
    }

    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("metrics.json")).unwrap())
            .unwrap();
    let card = &metrics["long_paths"];
    let at_card = PathExtremes::of(&paths(card["seed"].as_u64().unwrap())).unwrap();
    assert_eq!(serde_json::to_value(&at_card).unwrap(), card["extremes"]);
}

/// The variance state is the one-step conditional variance: from a fixed
/// state, the sample variance of 200,000 one-day log returns matches
/// `variance · dt` within 4 standard errors (the SE from the sample fourth
/// moment; the shipped law's components all have ν > 4, so it is finite).
#[test]
fn variance_state_is_the_one_step_conditional_variance() {
    let net = MixtureNet::shipped().unwrap();
    assert!(net.innovation_law().nu.iter().all(|nu| *nu > 4.0));
    let grid = TimeGrid::new(1, 1.0 / 252.0).unwrap();
    let g = DeepGenerator::new(net, Some(100.0), &grid).unwrap();
    let n = 200_000;
    let series = collect_series(&g, 11, n, 1);
    let v0 = series[0].1[0];
    assert!(series.iter().all(|(_, v)| v[0] == v0));
    let r: Vec<f64> = series.iter().map(|(s, _)| (s[1] / s[0]).ln()).collect();
    let mean = r.iter().sum::<f64>() / n as f64;
    let c2 = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let c4 = r.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
    let se = ((c4 - c2 * c2) / n as f64).sqrt();
    crate::common::assert_within("one-day variance", c2, v0 / 252.0, se, 4.0);
}

#[test]
fn simulate_deep_is_reproducible_across_threads_and_model_paths() {
    use crate::common::{bin, stderr};
    let dir = tempfile::tempdir().unwrap();
    let sim = |name: &str, threads: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let o = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "simulate", "--model", "deep", "--paths", "64", "--steps", "40", "-q",
            ])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out.join("spot.csv")).unwrap()
    };
    let one = sim("a", "1", &[]);
    assert!(one == sim("b", "2", &[]), "thread counts differ");
    let path = models_dir();
    assert!(one == sim("c", "2", &["--model-path", path.to_str().unwrap()]));
    assert!(one != sim("d", "2", &["--seed", "7"]));
    assert_eq!(String::from_utf8_lossy(&one).lines().count(), 1 + 64 * 41);
}

#[test]
fn a_broken_model_directory_is_a_clear_error() {
    use crate::common::{run, stderr};
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        models_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model.safetensors"), b"not a tensor file").unwrap();
    let out = dir.path().join("out");
    // Exits 2 naming the broken file, and writes nothing.
    let fails_naming = |file: &str| {
        let o = run(&[
            "simulate",
            "--model",
            "deep",
            "--model-path",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(file), "{}", stderr(&o));
        assert!(!out.exists());
    };
    fails_naming("model.safetensors");
    std::fs::write(dir.path().join("config.json"), b"{\"format\": 2}").unwrap();
    fails_naming("config.json");
    // A complete model of an older format (whose raw ν parameters decode to
    // other laws) is refused, not silently misread.
    std::fs::copy(
        models_dir().join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    let config = std::fs::read_to_string(models_dir().join("config.json")).unwrap();
    assert!(config.contains("\"format\": 3"));
    std::fs::write(
        dir.path().join("config.json"),
        config.replace("\"format\": 3", "\"format\": 2"),
    )
    .unwrap();
    fails_naming("config.json");
}

/// The S&P 500 file's header and last `rows` rows, written as `dir/name`.
fn sp500_tail(dir: &std::path::Path, name: &str, rows: usize) -> std::path::PathBuf {
    let text = std::fs::read_to_string(data("sp500_daily.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let path = dir.join(name);
    let body = [&lines[..1], &lines[lines.len() - rows..]]
        .concat()
        .join("\n");
    std::fs::write(&path, body + "\n").unwrap();
    path
}

/// Issue 36, point 5: `train` takes a history of about 1,000 returns (the
/// last 1,100 days of the S&P 500 file): the test-period scorecard's
/// discriminator and memorization audit shrink their windows to what the
/// short test part holds (they needed 25 and 10 windows of 20 days), and
/// the model is written. Under the split's minimum the error names the file
/// and the count.
#[test]
fn train_takes_a_short_history_and_refuses_a_tiny_one_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: usize| sp500_tail(dir.path(), name, rows);
    let short = write("short.csv", 1101);
    let out = dir.path().join("model");
    let o = crate::common::run(&[
        "train",
        "--data",
        short.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "20",
        "-q",
    ]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    assert!(out.join("model.safetensors").exists());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let window = metrics["scorecards"][0]["card"]["discriminative"]["window"]
        .as_u64()
        .unwrap();
    assert!((5..20).contains(&window), "discriminator window {window}");
    // Every model is also placed in the noise-aware scorecard of the test
    // period (21 statistics), and the summary's checks say whether the deep
    // model beats GJR-GARCH-t and Heston under it.
    for card in metrics["scorecards"].as_array().unwrap() {
        assert_eq!(
            card["spread"]["rows"].as_array().unwrap().len(),
            21,
            "{}",
            card["model"]
        );
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("under the noise-aware criterion"),
        "{stdout}"
    );

    let tiny = write("tiny.csv", 200);
    let o = crate::common::run(&[
        "train",
        "--data",
        tiny.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = crate::common::stderr(&o);
    assert!(
        err.contains("tiny.csv")
            && err.contains("199 daily returns")
            && err.contains("at least 1000"),
        "{err}"
    );
}

/// Issue 36, point 5: a history of 250 to 1,000 returns is learnt by
/// fine-tuning a trained model (`--init`). On the last 400 days of the S&P
/// 500 file (60 test returns: too few for the scorecards, which the summary
/// says) the run starts from the shipped model's weights and early stopping
/// never keeps weights worse than that start; on the last 1,100 days the
/// start of a fine-tuning run (epoch 0, scored on the validation part)
/// predicts far better than a random initialisation on the same days.
/// Without --init the error points to it; under 250 returns even --init is refused, naming the
/// file and the count; a model of other hidden widths is refused naming
/// both.
#[test]
fn train_fine_tunes_a_short_history_from_a_model_and_refuses_under_250() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: usize| sp500_tail(dir.path(), name, rows);
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500");
    let short = write("short.csv", 401);
    let out = dir.path().join("tuned");
    let train = |data: &std::path::Path, init: Option<&std::path::Path>, extra: &[&str]| {
        let mut args = vec![
            "train".to_string(),
            "--data".into(),
            data.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "-q".into(),
        ];
        if let Some(i) = init {
            args.extend(["--init".into(), i.to_str().unwrap().into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        crate::common::run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = train(&short, None, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = crate::common::stderr(&o);
    assert!(
        err.contains("short.csv") && err.contains("400 daily returns") && err.contains("--init"),
        "{err}"
    );

    let o = train(&short, Some(&shipped), &[]);
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("60 returns): too short for the stylized-fact scorecards"),
        "{stdout}"
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let history = metrics["report"]["history"].as_array().unwrap();
    let val = |i: usize| history[i][2].as_f64().unwrap();
    let start = val(0);
    let best = history
        .iter()
        .map(|h| h[2].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(best <= start, "kept {best}, start {start}");
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(card.contains("Fine-tuned: both runs start from"), "{card}");

    // The start of a fine-tuning run against a cold start, both scored at
    // epoch 0 on the same validation days (the last 1,100 days' split); one
    // candidate each, so that both are the seed-42 start; without the
    // variance core, whose own fit comes before epoch 0 and would make the
    // cold start a volatility model already.
    let long = write("long.csv", 1101);
    let epoch0 = |init: Option<&std::path::Path>| {
        let o = train(
            &long,
            init,
            &[
                "--epochs",
                "1",
                "--eval-paths",
                "20",
                "--candidates",
                "1",
                "--variance-core",
                "off",
            ],
        );
        assert!(o.status.success(), "{}", crate::common::stderr(&o));
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
                .unwrap();
        m["report"]["history"][0][2].as_f64().unwrap()
    };
    let (tuned, cold) = (epoch0(Some(&shipped)), epoch0(None));
    // NLL per day of daily log returns: the shipped model's start is a
    // volatility model already; the random start is a near-Gaussian law at
    // the training volatility.
    assert!(
        tuned < cold - 0.05,
        "fine-tuning start {tuned}, cold start {cold}"
    );

    let tiny = write("tiny.csv", 200);
    let o = train(&tiny, Some(&shipped), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = crate::common::stderr(&o);
    assert!(
        err.contains("tiny.csv")
            && err.contains("199 daily returns")
            && err.contains("at least 250"),
        "{err}"
    );
    let o = train(&short, Some(&shipped), &["--hidden", "16"]);
    assert_eq!(o.status.code(), Some(2));
    let err = crate::common::stderr(&o);
    assert!(err.contains("hidden") && err.contains("[32, 32]"), "{err}");
}

/// Issue 36, point 4's input: `train --column` reads one stock of the wide
/// 20-stock panel; a column that is not there is named in the error.
#[test]
fn train_reads_one_column_of_a_wide_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("aapl");
    let panel = data("sp500_20stocks_1990_2018.csv");
    let args = |column: &str| {
        vec![
            "train".to_string(),
            "--data".into(),
            panel.to_str().unwrap().into(),
            "--column".into(),
            column.into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--epochs".into(),
            "3".into(),
            "--eval-paths".into(),
            "20".into(),
            "-q".into(),
        ]
    };
    let run =
        |a: Vec<String>| crate::common::run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args("AAPL"));
    assert!(o.status.success(), "{}", crate::common::stderr(&o));
    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(
        config.contains("sp500_20stocks_1990_2018.csv (AAPL, 1990-01-02 to 2018-12-31)"),
        "{config}"
    );
    let o = run(args("TSLA"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        crate::common::stderr(&o).contains("TSLA"),
        "{}",
        crate::common::stderr(&o)
    );
}

/// Issue 36: nets of near-equal likelihood can differ severalfold in their
/// extremes, so `train` checks each net's free-running volatility against
/// its filter on the real days and trains the next seed while it runs away.
/// On the S&P 500 (1999-2018) seed 43's free-running volatility runs away
/// (its 99th percentile about four times its filter's): with `--seed 43
/// --candidates 2` the metrics list seed 43 beyond the factor-2 guard and
/// seed 44 within it, seed 44 is kept and its seed is in config.json. The
/// default seed 42 stays within the guard and is kept alone. (These are the
/// nets without the variance core, `--variance-core off`; the core's nets
/// of the same seeds are other nets.)
#[test]
fn train_passes_over_a_net_whose_volatility_runs_away() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, out: &std::path::Path| {
        let o = crate::common::run(&[
            "train",
            "--data",
            data("sp500_daily.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            seed,
            "--candidates",
            "2",
            "--eval-paths",
            "20",
            "--variance-core",
            "off",
            "-q",
        ]);
        assert!(o.status.success(), "{}", crate::common::stderr(&o));
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
        };
        (read("metrics.json"), read("config.json"))
    };
    let distance = |x: &serde_json::Value| x["volatility"]["distance"].as_f64().unwrap();
    let out = dir.path().join("from43");
    let (metrics, config) = run("43", &out);
    let c = metrics["candidates"].as_array().unwrap();
    let seeds: Vec<u64> = c.iter().map(|x| x["seed"].as_u64().unwrap()).collect();
    assert_eq!(seeds, [43, 44]);
    assert_eq!(c[0]["chosen"], false);
    assert_eq!(c[1]["chosen"], true);
    assert_eq!(config["seed"], 44);
    assert!(distance(&c[0]) > 1.0, "{}", c[0]);
    assert!(distance(&c[1]) <= std::f64::consts::LN_2, "{}", c[1]);
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(card.contains("Kept: seed 44."), "{card}");

    let (metrics, config) = run("42", &dir.path().join("from42"));
    let c = metrics["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0]["seed"].as_u64(), c[0]["chosen"].as_bool()),
        (Some(42), Some(true))
    );
    assert_eq!(config["seed"], 42);

    // Within the guard is not yet history's extremes: without the squash
    // the seed-42 net's 20-year paths (the card's long-path section, 200
    // paths from the end of 2018) have a median largest up-day above the
    // 9 % bar (measured 10.5 %, 95th percentile 20.9 %), which the card
    // marks; the shipped model, the same net with `--feature-squash
    // 4,1.5`, meets every bar (`shipped_model_has_extremes_like_history_and_long_memory`).
    let long = &metrics["long_paths"]["extremes"];
    assert_eq!(
        (long["paths"].as_u64(), long["days"].as_u64()),
        (Some(200), Some(5030))
    );
    assert!(long["rise_median"].as_f64().unwrap() > 0.09, "{long}");
    let card = std::fs::read_to_string(dir.path().join("from42/MODEL_CARD.md")).unwrap();
    assert!(
        card.contains("## Long paths: extremes and memory")
            && card.contains("| median largest daily rise ≤ +9.0 % | +10.5 % | **no** |"),
        "{card}"
    );
}
