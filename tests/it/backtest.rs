//! Forecast backtests (issue 44): the tool's own backtest of GJR-GARCH-t
//! against an independent computation, and the command end to end.
//!
//! Reference: Python `arch` 8.0.0 (numpy 2.4.6, scipy 1.17.1), the script
//! `backtest/backtest.py` of the project's shared notes
//! (`backtest-reference.md`): GJR-GARCH(1,1)-t fitted on 100 × daily log
//! returns of `adj_close` from 1999-01-05 to 2014-12-31, parameters held
//! fixed, variance filtered through 2015-01-02 .. 2018-12-31 (1,006 days);
//! VaR = μ + σ_t·√((ν−2)/ν)·t_ν⁻¹(α); Kupiec, Christoffersen and
//! Berkowitz as in the textbooks; CRPS of the standardised t in closed form.
//! The full-precision values below are that script's JSON output.

use crate::common::{self, data};
use chrono::NaiveDate;
use synthmarket::market::SpotHistory;
use synthmarket::run::backtest::{score_one_day, Forecaster, OneDayScore};
use synthmarket::sim::GarchParams;

/// The parameters `arch` fitted, as the reference prints them (percent log
/// returns: μ and ω are rescaled to decimal returns here).
fn arch_params(mu: f64, omega: f64, alpha: f64, gamma: f64, beta: f64, nu: f64) -> GarchParams {
    GarchParams::new(mu / 100.0, omega / 1e4, alpha, gamma, beta, nu).unwrap()
}

/// The tool's one-day backtest of GJR-GARCH-t with fixed parameters on the
/// returns after 2014-12-31.
fn garch_backtest(file: &str, p: GarchParams) -> OneDayScore {
    let h = SpotHistory::from_csv(data(file), None).unwrap();
    let r = h.log_returns();
    let cut = NaiveDate::from_ymd_opt(2014, 12, 31).unwrap();
    let n_train = h.dates()[1..].partition_point(|d| *d <= cut);
    assert_eq!((n_train, r.len() - n_train), (4024, 1006));
    let f = Forecaster::garch(p, &r, String::new());
    let laws: Vec<_> = (n_train..r.len())
        .map(|t| f.one_day(t, 0).unwrap())
        .collect();
    score_one_day(&laws, &r[n_train..], f.one_day_method()).unwrap()
}

/// Three significant figures: |ours − reference| ≤ 0.5 units of the third.
fn three_figures(what: &str, ours: f64, reference: f64) {
    let unit = 10f64.powf(reference.abs().log10().floor() - 2.0);
    assert!(
        (ours - reference).abs() <= 0.5 * unit,
        "{what}: {ours} against the reference {reference}"
    );
}

#[test]
fn garch_backtest_reproduces_arch_on_the_sp500() {
    let s = garch_backtest(
        "sp500_daily.csv",
        arch_params(0.030223, 0.013580, 2.0e-9, 0.157946, 0.909642, 9.4479),
    );
    assert_eq!(s.var[0].exceedances, 12);
    assert_eq!(s.var[1].exceedances, 46);
    three_figures("1 % Kupiec p", s.var[0].kupiec.p_value, 0.5507758808672396);
    three_figures(
        "1 % Christoffersen p",
        s.var[0].independence.p_value,
        0.006347610892544501,
    );
    three_figures(
        "1 % conditional coverage p",
        s.var[0].conditional_coverage.p_value,
        0.020193347644008004,
    );
    three_figures("5 % Kupiec p", s.var[1].kupiec.p_value, 0.5281967717299014);
    three_figures(
        "5 % Christoffersen p",
        s.var[1].independence.p_value,
        0.07101093898750227,
    );
    three_figures("PIT KS p", s.pit_ks.p_value, 0.003191823355834912);
    three_figures("Berkowitz p", s.berkowitz.p_value, 0.011520520726397953);
    // CRPS in percent log return.
    three_figures("mean CRPS", s.crps, 0.4289812160528607);
}

#[test]
fn garch_backtest_reproduces_arch_on_the_nasdaq() {
    let s = garch_backtest(
        "nasdaq_daily.csv",
        arch_params(0.053400, 0.014283, 0.007345, 0.117197, 0.926135, 13.0351),
    );
    assert_eq!(s.var[0].exceedances, 18);
    assert_eq!(s.var[1].exceedances, 51);
    three_figures(
        "1 % Kupiec p",
        s.var[0].kupiec.p_value,
        0.023536942802426002,
    );
    three_figures(
        "1 % Christoffersen p",
        s.var[0].independence.p_value,
        0.03862567288744692,
    );
    three_figures("5 % Kupiec p", s.var[1].kupiec.p_value, 0.919517018413335);
    three_figures(
        "5 % conditional coverage p",
        s.var[1].conditional_coverage.p_value,
        0.6856459105848036,
    );
    three_figures("PIT KS p", s.pit_ks.p_value, 0.0003372228510589138);
    three_figures("Berkowitz p", s.berkowitz.p_value, 0.018821551801723766);
    three_figures("mean CRPS", s.crps, 0.5256946055172174);
}

/// GBM's one-day law is the constant-volatility normal of the training
/// returns (sample sd with n − 1), the reference's fourth model.
#[test]
fn constant_volatility_crps_matches_the_reference() {
    let h = SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap();
    let r = h.log_returns();
    let f = Forecaster::gbm(&r[..4024]).unwrap();
    let laws: Vec<_> = (4024..r.len()).map(|t| f.one_day(t, 0).unwrap()).collect();
    let s = score_one_day(&laws, &r[4024..], f.one_day_method()).unwrap();
    assert_eq!((s.var[0].exceedances, s.var[1].exceedances), (9, 24));
    three_figures("mean CRPS", s.crps, 0.4922249520509235);
}

#[test]
fn backtest_command_writes_the_report_and_refuses_look_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("bt");
    let out = common::run(&[
        "backtest",
        "--data",
        data("sp500_daily.csv").to_str().unwrap(),
        "--model",
        "gbm,garch",
        "--train-to",
        "2014-12-31",
        "--draws",
        "500",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for f in [
        "backtest.md",
        "backtest.csv",
        "backtest.json",
        "one_day.csv",
        "fan_garch.svg",
        "pit_gbm.svg",
        "exceedances_garch.svg",
    ] {
        assert!(report.join(f).exists(), "{f} missing");
    }
    let csv = std::fs::read_to_string(report.join("backtest.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    // 1006 test days per model in one_day.csv, plus the header.
    let rows = std::fs::read_to_string(report.join("one_day.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 2 * 1006);
    assert!(common::stdout(&out).contains("1 % VaR exceedances (n = 1006)"));

    // The shipped model saw data up to 2018: a look-ahead for 2014.
    let bad = dir.path().join("bad");
    let out = common::run(&[
        "backtest",
        "--data",
        data("sp500_daily.csv").to_str().unwrap(),
        "--model",
        "deep",
        "--model-path",
        concat!(env!("CARGO_MANIFEST_DIR"), "/models/sp500"),
        "--train-to",
        "2014-12-31",
        "--report",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.contains("look-ahead") && err.contains("config.json"),
        "{err}"
    );
    assert!(!bad.exists());

    // Fewer than 250 test days.
    let out = common::run(&[
        "backtest",
        "--data",
        data("sp500_daily.csv").to_str().unwrap(),
        "--train-to",
        "2018-06-01",
        "--report",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.contains("train-to") && err.contains("test days"),
        "{err}"
    );
    assert!(!bad.exists());
}

/// `simulate --history --from`: step 0 is the date at the real close, the
/// GJR-GARCH variance is the filter's through the returns up to the date
/// (none later), run.json says so; a date that is not a trading day, a
/// warm-up too short, or --from with --v0 exit 2 and write nothing.
#[test]
fn simulate_starts_from_a_real_date() {
    let dir = tempfile::tempdir().unwrap();
    let hist = data("sp500_daily.csv");
    let out = dir.path().join("garch");
    let o = common::run(&[
        "simulate",
        "--model",
        "garch",
        "--history",
        hist.to_str().unwrap(),
        "--from",
        "2008-09-12",
        "--paths",
        "3",
        "--steps",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let h = SpotHistory::from_csv(&hist, None).unwrap();
    let date = NaiveDate::from_ymd_opt(2008, 9, 12).unwrap();
    let past = h.until(date, "from").unwrap();
    let close = *past.prices().last().unwrap();
    let spot = std::fs::read_to_string(out.join("spot.csv")).unwrap();
    let row: Vec<&str> = spot.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[..3], ["0", "0", "2008-09-12"]);
    assert_eq!(row[3].parse::<f64>().unwrap(), close);
    // The run's default GJR-GARCH parameters, filtered through the past only.
    let p = GarchParams::new(3.6728e-4, 1.3158e-6, 0.0, 0.18144, 0.89870, 7.5058).unwrap();
    let s2 = *synthmarket::sim::filtered_variances(&p, &past.log_returns())
        .last()
        .unwrap();
    let v: f64 = row[4].parse().unwrap();
    assert!(
        (v / (252.0 * s2) - 1.0).abs() < 1e-12,
        "{v} vs {}",
        252.0 * s2
    );
    let manifest = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(manifest.contains("\"history_start\"") && manifest.contains("\"sha256\""));

    // Heston from the VIX: v0 = (VIX/100)² on the date, and the model's
    // 30-day ATM implied vol beside it. Under Heston the fair variance over
    // T is θ + (v0 − θ)(1 − e^{−κT})/(κT) (Gatheral, The Volatility Surface,
    // ch. 2); with ξ > 0 and ρ < 0 the ATM vol sits below that
    // variance-swap vol, and above √v0 here since v0 < θ.
    let vix_out = dir.path().join("vix");
    let vix = data("vix_daily.csv");
    let o = common::run(&[
        "simulate",
        "--model",
        "heston",
        "--history",
        hist.to_str().unwrap(),
        "--from",
        "2014-09-12",
        "--vix",
        vix.to_str().unwrap(),
        "--paths",
        "2",
        "--steps",
        "2",
        "--out",
        vix_out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vix_out.join("run.json")).unwrap()).unwrap();
    let start = &m["history_start"];
    assert_eq!(start["vix"].as_f64(), Some(13.31));
    let v0 = m["model"]["v0"].as_f64().unwrap_or(f64::NAN);
    assert!((v0 - 0.1331f64.powi(2)).abs() < 1e-15, "{m}");
    let (kappa, theta, t) = (2.0f64, 0.04, 21.0 / 252.0);
    let swap =
        (theta + (0.1331f64.powi(2) - theta) * (1.0 - (-kappa * t).exp()) / (kappa * t)).sqrt();
    let iv = start["model_iv30"].as_f64().unwrap() / 100.0;
    assert!(
        0.1331 < iv && iv < swap,
        "IV30 {iv}, variance-swap vol {swap}"
    );

    for (args, needle) in [
        (
            vec!["--model", "deep", "--from", "2008-09-13"],
            "not a trading day",
        ),
        (
            vec!["--model", "deep", "--from", "1999-02-01"],
            "needs at least 50",
        ),
        (
            vec!["--model", "garch", "--from", "2008-09-12", "--v0", "0.04"],
            "drop --v0",
        ),
        (
            vec!["--model", "gbm", "--from", "2030-01-02"],
            "after the history's last day",
        ),
    ] {
        let bad = dir.path().join("bad");
        let mut line = vec!["simulate", "--history", hist.to_str().unwrap()];
        line.extend(args);
        line.extend(["--out", bad.to_str().unwrap()]);
        let o = common::run(&line);
        assert_eq!(o.status.code(), Some(2), "{line:?}");
        assert!(
            common::stderr(&o).contains(needle),
            "{}",
            common::stderr(&o)
        );
        assert!(!bad.exists());
    }
}
