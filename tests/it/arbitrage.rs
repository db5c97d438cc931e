//! The static-arbitrage certifier: clean chains pass, each planted kind of
//! violation is caught, and simulated chains certify clean.

use crate::common::{bin, stderr, stdout, write};
use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::arbitrage::{check_chain, Kind, Quote, Tolerance};
use synthmarket::pricing::BlackScholes;

const STRIKES: [f64; 9] = [80.0, 85.0, 90.0, 95.0, 100.0, 105.0, 110.0, 115.0, 120.0];

/// A clean two-expiry chain from Black–Scholes with a downward skew
/// σ(K) = 0.2 − 0.1·ln(K/100) (S = 100, r = 3 %, q = 1 %), vol scaled by
/// `term_vol[i]` per expiry.
fn chain(term_vol: [f64; 2]) -> Vec<Quote> {
    let state = MarketState::new(100.0, 0.03, 0.01).unwrap();
    let mut out = Vec::new();
    for (e, &t) in [0.25, 0.5].iter().enumerate() {
        for k in STRIKES {
            let vol = term_vol[e] * (0.2 - 0.1 * (k / 100.0f64).ln());
            for ty in [OptionType::Call, OptionType::Put] {
                let g = BlackScholes::new(vol)
                    .unwrap()
                    .greeks(&OptionSpec::new(ty, k, t).unwrap(), &state);
                out.push(Quote {
                    expiry: e as u32,
                    maturity: t,
                    strike: k,
                    option_type: ty,
                    price: g.price,
                    implied_vol: vol,
                    vega: g.vega,
                });
            }
        }
    }
    out
}

fn kinds(quotes: &[Quote]) -> Vec<Kind> {
    let mut k: Vec<Kind> = check_chain(quotes, Tolerance::default())
        .iter()
        .map(|v| v.kind)
        .collect();
    k.dedup();
    k
}

fn find(q: &mut [Quote], e: u32, k: f64, ty: OptionType) -> &mut Quote {
    q.iter_mut()
        .find(|x| x.expiry == e && x.strike == k && x.option_type == ty)
        .unwrap()
}

#[test]
fn clean_chain_passes() {
    assert!(check_chain(&chain([1.0, 1.0]), Tolerance::default()).is_empty());
}

#[test]
fn each_planted_violation_is_caught() {
    use OptionType::{Call, Put};
    // Parity: one put 1 cent too expensive.
    let mut q = chain([1.0, 1.0]);
    find(&mut q, 0, 100.0, Put).price += 0.01;
    assert!(kinds(&q).contains(&Kind::Parity), "{:?}", kinds(&q));

    // Bounds: a call (and its put, keeping parity) above S e^{−qT}.
    let mut q = chain([1.0, 1.0]);
    find(&mut q, 0, 80.0, Call).price += 200.0;
    find(&mut q, 0, 80.0, Put).price += 200.0;
    assert!(kinds(&q).contains(&Kind::Bounds), "{:?}", kinds(&q));

    // Monotonicity: the 110 call priced above the 105 call.
    let mut q = chain([1.0, 1.0]);
    let c105 = find(&mut q, 1, 105.0, Call).price;
    find(&mut q, 1, 110.0, Call).price = c105 + 0.001;
    assert!(kinds(&q).contains(&Kind::Monotonicity), "{:?}", kinds(&q));

    // Convexity: the 100 put raised by a butterfly's worth plus a hair —
    // still monotone, no longer convex.
    let mut q = chain([1.0, 1.0]);
    let (p95, p100, p105) = (
        find(&mut q, 0, 95.0, Put).price,
        find(&mut q, 0, 100.0, Put).price,
        find(&mut q, 0, 105.0, Put).price,
    );
    let fly = 0.5 * (p95 + p105) - p100;
    find(&mut q, 0, 100.0, Put).price += fly + 1e-4;
    let found = check_chain(&q, Tolerance::default());
    assert!(
        found
            .iter()
            .any(|v| v.kind == Kind::Convexity && v.strikes == vec![95.0, 100.0, 105.0]),
        "{found:?}"
    );

    // Calendar: the half-year smile at 60 % of the quarter's vol, so its
    // total variance σ²T falls below the quarter's.
    let q = chain([1.0, 0.6]);
    assert_eq!(kinds(&q), vec![Kind::Calendar]);
    // …whereas 72 % keeps 0.5·0.72² = 0.259 > 0.25 of the quarter's variance.
    assert!(check_chain(&chain([1.0, 0.72]), Tolerance::default()).is_empty());
}

#[test]
fn every_simulated_grid_certifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    for (i, args) in [
        &[
            "--model",
            "heston",
            "--options",
            "--expiries",
            "tenors",
            "--xi",
            "1.0",
            "--rho",
            "-0.9",
        ][..],
        &[
            "--model",
            "heston",
            "--options",
            "--months",
            "4",
            "--v0",
            "0.09",
            "--rate",
            "0.05",
            "--dividend",
            "0.02",
        ][..],
        &[
            "--model",
            "gbm",
            "--mu",
            "0.1",
            "--rate",
            "0.03",
            "--options",
            "--expiries",
            "tenors",
        ][..],
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(format!("r{i}"));
        let o = bin()
            .args(["simulate", "-q", "--paths", "10", "--steps", "40", "--out"])
            .arg(&out)
            .args(*args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let o = bin()
            .args(["check-arbitrage", "--input"])
            .arg(out.join("options.csv"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stdout(&o));
    }
}

#[test]
fn simulated_chains_certify_and_planted_files_fail_via_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bin()
        .args([
            "simulate",
            "-q",
            "--paths",
            "8",
            "--steps",
            "20",
            "--rate",
            "0.02",
            "--options",
            "--months",
            "3",
            "--strikes",
            "4",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let opts = out.join("options.csv");
    let o = bin()
        .args(["check-arbitrage", "--input"])
        .arg(&opts)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 violation(s)"));

    // Plant: make the first call of the file worth 1000.
    let text = std::fs::read_to_string(&opts).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut f: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    f[7] = "1000".into();
    lines[1] = f.join(",");
    let planted = write(dir.path(), "planted.csv", &(lines.join("\n") + "\n"));
    let report = dir.path().join("report.csv");
    let o = bin()
        .args(["check-arbitrage", "--input"])
        .arg(&planted)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("static-arbitrage violation(s) found"));
    let rep = std::fs::read_to_string(&report).unwrap();
    assert!(
        rep.starts_with(
            "path,date,expiry,other_expiry,kind,option_type,strikes,size\n0,2025-01-02,"
        ),
        "{rep}"
    );

    let bad = write(
        dir.path(),
        "bad.csv",
        "expiry,maturity,strike,option_type,price\n2025-03-21,0.2,100,call,x\n",
    );
    let o = bin()
        .args(["check-arbitrage", "--input"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv, line 2, field `price`"),
        "{}",
        stderr(&o)
    );
}
