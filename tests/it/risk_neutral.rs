//! The pricing measure of the daily models and its law table: the
//! discounted spot is a martingale (the target E[S_T]/F = 1 is exact), the
//! risk-neutral conditional variance is λ times the real-world one, and the
//! GJR-GARCH law table prices like nested Monte Carlo of the same measure.

use synthmarket::deep::pricing::nested::DEFAULT_NESTED_PATHS;
use synthmarket::deep::pricing::term_table::{
    exact_mode_vols, nested_reference, probe_against, probe_seed, ReferenceVol,
};
use synthmarket::deep::{DeepGenerator, MixtureNet};
use synthmarket::market::{MarketState, OptionSpec, OptionType, TimeGrid};
use synthmarket::pricing::implied_vol;
use synthmarket::sim::{nested_calls, RiskNeutral, SurrogateTable};
use synthmarket::sim::{Driver, Garch, GarchParams, PathGenerator};

/// The S&P 500 fit of `arch` 8.0.0 (see garch.rs), daily units.
fn sp500_garch() -> GarchParams {
    GarchParams::new(
        3.672359e-4,
        1.315565e-6,
        0.0,
        0.1814835,
        0.8986974,
        7.504018,
    )
    .unwrap()
}

/// S_T/S_0 of every path at day `days`.
fn ratios<G: PathGenerator>(g: &G, paths: u64, days: usize) -> Vec<f64> {
    Driver::new(3, paths)
        .collect(g, days, |c: &synthmarket::market::PathChunk| {
            (0..c.paths())
                .map(|p| c.spot(p, days)[0] / c.spot(p, 0)[0])
                .collect::<Vec<f64>>()
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Without any empirical correction, the risk-neutral paths of both daily
/// models have E[S_T] = S_0·e^{(r−q)T} (within 4 standard errors of 100,000
/// paths over a year), with rate and dividend set and a variance premium.
#[test]
fn risk_neutral_paths_are_martingales() {
    let measure = RiskNeutral::new(0.03, 0.01, 1.4).unwrap();
    let grid = TimeGrid::new(252, 1.0 / 252.0).unwrap();
    let growth = (0.02f64).exp();
    let garch = Garch::new(sp500_garch(), 100.0, Some(0.09), &grid)
        .unwrap()
        .risk_neutral(&measure)
        .unwrap();
    let deep = DeepGenerator::new(MixtureNet::shipped().unwrap(), Some(100.0), &grid)
        .unwrap()
        .risk_neutral(&measure);
    for (name, r) in [
        ("garch", ratios(&garch, 100_000, 252)),
        ("deep", ratios(&deep, 40_000, 252)),
    ] {
        let (m, se) = mean_se(&r);
        assert!(
            (m - growth).abs() < 4.0 * se,
            "{name}: E[S_T/S_0] = {m} ± {se}, forward {growth}"
        );
        // The real-world drift is gone: the mean is not the real-world one
        // (GJR-GARCH μ·252 ≈ 9 % a year) by far more than the error.
        assert!((m - (0.0925f64).exp()).abs() > 10.0 * se, "{name}: {m}");
    }
}

/// One day ahead, the risk-neutral log return has variance λ·σ²_t (the
/// variance state it reports) while the real-world one has σ²_t: sample
/// variances of 200,000 one-day returns within 4 standard errors.
#[test]
fn risk_neutral_variance_is_lambda_times_real_world() {
    let lambda = 1.5;
    let measure = RiskNeutral::new(0.0, 0.0, lambda).unwrap();
    let grid = TimeGrid::new(1, 1.0 / 252.0).unwrap();
    let p = Garch::new(sp500_garch(), 100.0, Some(0.04), &grid).unwrap();
    let q = p.clone().risk_neutral(&measure).unwrap();
    let (mut s, mut v) = ([0.0], [0.0]);
    q.observe(&q.initial_state(), &mut s, &mut v);
    assert!((v[0] - lambda * 0.04).abs() < 1e-15, "state {}", v[0]);
    for (g, want) in [(&p, 0.04 / 252.0), (&q, lambda * 0.04 / 252.0)] {
        let r: Vec<f64> = ratios(g, 200_000, 1).iter().map(|x| x.ln()).collect();
        let (m, _) = mean_se(&r);
        let sq: Vec<f64> = r.iter().map(|x| (x - m).powi(2)).collect();
        let (var, se) = mean_se(&sq);
        assert!((var - want).abs() < 4.0 * se, "{var} ± {se} vs {want}");
    }
}

/// The GJR-GARCH law table against nested Monte Carlo of the same measure
/// in three variance states (calm, stressed, and a 60 %-vol crisis beyond
/// the stationary regime's top knot at 42 %, priced from the knots added
/// above it): within 0.5 vol points at the money and 1 vol point at ±1
/// standard deviation and at −2 standard deviations of moneyness, at 1, 3
/// and 6 months. The table's own error is its interpolation between knots
/// and Monte Carlo (40,000 paths per knot; 60,000 nested paths here). Not
/// yet within 1 vol point: the +2 standard deviation calls of the stressed
/// states (−1.05 at 6 months for v = 0.06, −1.45 at 1 month for v = 0.36,
/// about 2 standard errors of the two samples together), so that strike is
/// left out here and reported in issue 6. Before the added knots the crisis
/// state was priced with the top knot's law (real-world variance 0.178
/// against 0.36).
#[test]
fn garch_law_table_matches_nested_monte_carlo() {
    let measure = RiskNeutral::new(0.0, 0.0, 1.38).unwrap();
    let grid = TimeGrid::new(1, 1.0 / 252.0).unwrap();
    let p = Garch::new(sp500_garch(), 1.0, None, &grid).unwrap();
    let knots = p.surrogate_knots(&measure, 1).unwrap();
    let table = SurrogateTable::fit(&knots, measure, 40_000, 2, &|_| {}).unwrap();
    let q = p.clone().risk_neutral(&measure).unwrap();
    let days = [21usize, 63, 126];
    let xs = [-2.0, -1.0, 0.0, 1.0, 2.0];
    let state = MarketState::new(1.0, 0.0, 0.0).unwrap();
    let iv = |c: f64, k: f64, t: f64| {
        let (ty, price) = if k < 1.0 {
            (OptionType::Put, c - (1.0 - k))
        } else {
            (OptionType::Call, c)
        };
        implied_vol(price, &OptionSpec::new(ty, k, t).unwrap(), &state).unwrap()
    };
    for v in [0.015, 0.06, 0.36] {
        let strikes: Vec<Vec<f64>> = days
            .iter()
            .map(|&d| {
                let sd = (1.38 * v * d as f64 / 252.0).sqrt();
                xs.iter().map(|x| (x * sd).exp()).collect()
            })
            .collect();
        let nested = nested_calls(
            &q.from_variance(v),
            &measure,
            1.0,
            9,
            60_000,
            &days,
            &strikes,
        )
        .unwrap();
        for (i, &d) in days.iter().enumerate() {
            let t = d as f64 / 252.0;
            let fast = table.forward_calls(v, t, &strikes[i]);
            for (j, k) in strikes[i].iter().enumerate().take(4) {
                let err = 100.0 * (iv(fast[j], *k, t) - iv(nested[i][j], *k, t));
                let bound = if j == 2 {
                    synthmarket::pricing::ACCURACY_BAR_ATM
                } else {
                    synthmarket::pricing::ACCURACY_BAR_WINGS
                };
                assert!(
                    err.abs() < bound,
                    "v {v}, {d} days, strike {k:.4}: table − nested = {err:.3} vol points"
                );
            }
        }
    }
}

/// The shipped deep model's pricing table (`models/sp500/pricing.*`,
/// `synthmarket fit-pricing`) against nested Monte Carlo of the same
/// measure (40,000 paths, each price a delta-hedge control-variate
/// estimate: standard error of an at-the-money vol about 0.02 vol points,
/// of a ±2 sd one up to 0.19) at four fresh states from the calm to the
/// stressed end of the model's stationary regime, at 1 and 3 months.
///
/// Strikes at 0, ±1 and ±2 standard deviations of moneyness in units of
/// the nested sample's own at-the-money vol. Issue 6 asks for 0.5 vol
/// points at the money and 1 across ±2 standard deviations; the table
/// meets that at the model card's 8 states against 40,000 nested paths
/// and at most, not all, fresh states (the test after this one counts them
/// at 116 states) nor in every crisis state along the model's own paths
/// (the book, docs/src/pricing/along-paths.md). Held here to the issue's
/// bars plus 3 standard errors
/// of each option's nested vol, options whose nested estimate fits no vol
/// left out.
///
/// Measured at these four states with the table shipped since 2026-12-07
/// (the model with squashed features): ATM max 0.19, wings max 0.60. With
/// the model and table shipped before: 0.28 and 0.53 (against the plain
/// payoffs' mean as the nested price, before the control-variate
/// references: 0.28 and 0.85).
///
/// Earlier tables, against the plain references: with the previous
/// table (3,024 states × 2,500 nested paths, smoothed plain at-the-money
/// targets, quantile networks in the shape correction, its upper quantiles' targets smoothed, its
/// reference blended above the median and the mean prediction below, the
/// extreme upper tail scaled): ATM max 0.16, wings max 0.81 (0.80 before
/// the smoothed upper quantiles, 0.92 before the tail scaling). With 1,250 nested
/// paths per state: ATM max 0.45, wings max 1.09; with the blend on both
/// sides of the median too 0.45 and 1.13. With the regression alone in the shape correction: ATM max 0.44, wings max 2.73
/// (the guard then was 3.25 at ±1 sd and 4 at ±2 sd). With the 672-state table on raw targets (before
/// `pricing::denoise`): ATM max 1.11 (the most stressed state at 63
/// days), wings max 3.78. The table with the linear at-the-money key
/// read 0.99 and 3.72 here, the one keyed on the mean variance 1.07 and
/// 4.26, the learned key without rescaling each slice to its forecast 1.33
/// and 4.02. The learned key was kept for what it does on larger samples
/// (at-the-money forecast RMS in ln variance at 42 held-out states
/// 0.031–0.037 against 0.051–0.063; along ten of the model's paths against
/// the exact mode, 12,806 options within ±2 sd: RMS 0.52 against 0.64 vol
/// points, max 5.4 against 9.3; see `pricing::term_table`).
#[test]
fn deep_pricing_table_matches_nested_monte_carlo() {
    let table = synthmarket::deep::shipped_pricing().unwrap();
    let (summary, points) =
        synthmarket::deep::pricing::term_table::probe(&table, 4, 40_000, &[21, 63], 77, &|_| {})
            .unwrap();
    assert_eq!(points.len(), 4 * 2 * 5);
    let se = summary.atm_se;
    assert!(se > 0.0 && se < 0.1, "nested ATM SE {se}");
    assert!(summary.unresolved <= 2, "{summary:?}");
    let worst = |atm: bool| {
        points
            .iter()
            .filter(|p| p.nested > 0.0 && (p.sd == 0.0) == atm)
            .map(|p| (100.0 * (p.table - p.nested)).abs())
            .fold(0.0, f64::max)
    };
    eprintln!(
        "ATM max {:.2}, wings max {:.2} vol points (ATM SE {se:.3}, largest SE {:.3})",
        worst(true),
        worst(false),
        points.iter().map(|p| 100.0 * p.se).fold(0.0, f64::max)
    );
    for p in points.iter().filter(|p| p.nested > 0.0) {
        let err = 100.0 * (p.table - p.nested);
        let bound = match p.sd {
            0.0 => synthmarket::pricing::ACCURACY_BAR_ATM,
            _ => synthmarket::pricing::ACCURACY_BAR_WINGS,
        } + 300.0 * p.se;
        assert!(
            err.abs() < bound,
            "state {} (1-day vol {:.3}), {} days, {} sd: table {:.4} vs nested {:.4}",
            p.state,
            p.variance.sqrt(),
            p.days,
            p.sd,
            p.table,
            p.nested
        );
    }
}

/// The probe's options in `tests/reference/deep_probe_160k.csv`, by sample:
/// (seed, states, references).
fn deep_probe_references() -> Vec<(u64, usize, Vec<ReferenceVol>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/deep_probe_160k.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut samples: Vec<(u64, usize, Vec<ReferenceVol>)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 7, "{line}");
        let (seed, states): (u64, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let r = ReferenceVol {
            state: f[2].parse().unwrap(),
            days: f[3].parse().unwrap(),
            sd: f[4].parse().unwrap(),
            nested: f[5].parse().unwrap(),
            se: f[6].parse().unwrap(),
        };
        match samples.last_mut() {
            Some((s, _, refs)) if *s == seed => refs.push(r),
            _ => samples.push((seed, states, vec![r])),
        }
    }
    samples
}

/// Issue 6's bars at 116 states: the shipped deep pricing table against
/// nested Monte Carlo with 160,000 paths per state (`tests/reference/
/// deep_probe_160k.csv`, written by `cargo run --release --example
/// deep_probe_references`: the probes of `fit-pricing --probe-only --seed S
/// --probe-states N` for the three samples the table's design was tuned on
/// with an earlier model, seeds 2024, 99 and 7 with 8, 12 and 16 states, and
/// five fresh ones, seeds 13 to 29 with 16 each), strikes at 0, ±1, ±2
/// standard deviations of moneyness at 21, 63 and 126 days. Each reference
/// price is a delta-hedge control-variate estimate (standard errors in the
/// file). The references were computed once (44 minutes on 2 cores); the
/// table is priced at the same states here. A state passes when its
/// at-the-money errors are below 0.5 vol points and every error across ±2
/// sd below 1.
///
/// Measured with the shipped table (fitted 2026-12-07 for the model with
/// squashed features): 34 of the 36 tuning states pass (worst 0.48 at the
/// money, 2.06 across ±2 sd) and 76 of the 80 fresh ones, 95 % (worst 0.99
/// and 2.76); every miss is a stressed state's far option or long
/// maturity. With the model and table shipped before, at 324 states
/// (then stored): 34 of 36 (0.41, 1.17) and 276 of 288 fresh, 96 % (worst
/// 1.40 and 2.53). So issue 6's bars hold at about 95 % of fresh states,
/// not at all of them (the book, docs/src/pricing/deep-accuracy.md).
/// Held here to those counts and maxima, so a table that does worse fails.
#[test]
fn deep_pricing_table_against_160k_path_references_at_116_states() {
    use synthmarket::pricing::{ACCURACY_BAR_ATM, ACCURACY_BAR_WINGS};
    let table = synthmarket::deep::shipped_pricing().unwrap();
    // Per group (tuning, fresh): passing states, states, at-the-money
    // maximum, ±2 sd maximum (vol points).
    let mut groups = [(0, 0, 0.0f64, 0.0f64); 2];
    for (seed, states, refs) in deep_probe_references() {
        assert_eq!(refs.len(), states * 3 * 5, "seed {seed}");
        let points = probe_against(&table, states, probe_seed(seed), &refs).unwrap();
        let group = &mut groups[match seed {
            2024 | 99 | 7 => 0,
            _ => 1,
        }];
        for state in 0..states {
            let err = |atm: bool| {
                points
                    .iter()
                    .filter(|p| p.state == state && p.nested > 0.0 && (!atm || p.sd == 0.0))
                    .map(|p| (100.0 * (p.table - p.nested)).abs())
                    .fold(0.0, f64::max)
            };
            let (a, w) = (err(true), err(false));
            assert!(a.is_finite() && w.is_finite(), "seed {seed} state {state}");
            group.0 += usize::from(a < ACCURACY_BAR_ATM && w < ACCURACY_BAR_WINGS);
            group.1 += 1;
            group.2 = group.2.max(a);
            group.3 = group.3.max(w);
        }
    }
    eprintln!("(pass, states, ATM max, ±2 sd max) per group: {groups:?}");
    let [tuning, fresh] = groups;
    assert_eq!((tuning.1, fresh.1), (36, 80));
    assert!(tuning.0 >= 34 && fresh.0 >= 76, "{groups:?}");
    assert!(tuning.2 < 0.49 && tuning.3 < 2.07, "{tuning:?}");
    assert!(fresh.2 < 0.99 && fresh.3 < 2.76, "{fresh:?}");
}

/// The stored references are what the probe's nested part computes: seed
/// 2024's 8 states recomputed with 160,000 paths each, bit for bit.
#[test]
#[ignore = "about 2 minutes in release: recomputes one sample's 160,000-path references"]
fn deep_probe_reference_reproduces() {
    let table = synthmarket::deep::shipped_pricing().unwrap();
    let (seed, states, stored) = deep_probe_references().remove(0);
    let net = MixtureNet::shipped().unwrap();
    let (computed, _) = nested_reference(
        &net,
        table.variance_premium(),
        states,
        160_000,
        &[21, 63, 126],
        probe_seed(seed),
        &|_| {},
    )
    .unwrap();
    assert_eq!(computed, stored);
}

/// The exact mode (`simulate --chain-pricing nested`) at its default size,
/// [`DEFAULT_NESTED_PATHS`] plain nested paths per chain, against the same
/// 160,000-path control-variate references at the first two fresh samples
/// (seeds 13 and 17, 32 states × 15 options), beside the shipped table:
/// the exact mode is the further of the two from the references, so a
/// check of the table by the exact mode at its default size measures
/// mostly the exact mode's own Monte-Carlo error.
///
/// Measured with the table and model shipped since 2026-12-07: RMS error at
/// the money table 0.174 / exact mode 0.212 vol points, across ±2 sd
/// 0.266 / 0.293; states meeting both of issue 6's bars 30 / 26 of 32.
/// With the model shipped before: 0.140 / 0.199, 0.215 / 0.280, 30 / 27.
/// (With that model at 324 stored states, with other draws for the
/// exact mode, two at 10,000 paths and one at 20,000: of the 288 fresh
/// states the table passes at 276, the exact mode at 232 and 250 with
/// 10,000 paths and at 276 with 20,000; the book,
/// docs/src/pricing/exact-mode.md.)
#[test]
fn the_exact_mode_at_its_default_size_is_further_from_the_references_than_the_table() {
    use synthmarket::pricing::{ACCURACY_BAR_ATM, ACCURACY_BAR_WINGS};
    let table = synthmarket::deep::shipped_pricing().unwrap();
    let net = MixtureNet::shipped().unwrap();
    // (sum of squares at the money, count, over ±2 sd, count, passing states)
    // for the table and for the exact mode.
    let mut acc = [(0.0f64, 0usize, 0.0f64, 0usize, 0usize); 2];
    for (seed, states, refs) in deep_probe_references()
        .into_iter()
        .filter(|s| matches!(s.0, 13 | 17))
    {
        let points = probe_against(&table, states, probe_seed(seed), &refs).unwrap();
        let exact = exact_mode_vols(
            &net,
            table.variance_premium(),
            states,
            DEFAULT_NESTED_PATHS,
            probe_seed(seed),
            &refs,
        )
        .unwrap();
        assert_eq!(exact.len(), refs.len());
        for (which, a) in acc.iter_mut().enumerate() {
            let vol = |i: usize| {
                if which == 0 {
                    points[i].table
                } else {
                    exact[i]
                }
            };
            for state in 0..states {
                let (mut atm, mut wing) = (0.0f64, 0.0f64);
                for i in (0..refs.len()).filter(|&i| refs[i].state == state) {
                    if refs[i].nested <= 0.0 || vol(i) <= 0.0 {
                        continue;
                    }
                    let e = 100.0 * (vol(i) - refs[i].nested);
                    if refs[i].sd == 0.0 {
                        a.0 += e * e;
                        a.1 += 1;
                        atm = atm.max(e.abs());
                    }
                    a.2 += e * e;
                    a.3 += 1;
                    wing = wing.max(e.abs());
                }
                a.4 += usize::from(atm < ACCURACY_BAR_ATM && wing < ACCURACY_BAR_WINGS);
            }
        }
    }
    let rms = |s: f64, n: usize| (s / n as f64).sqrt();
    let [t, x] = acc;
    eprintln!(
        "table: ATM RMS {:.3}, ±2 sd RMS {:.3}, {} states pass; exact mode ({DEFAULT_NESTED_PATHS} paths): {:.3}, {:.3}, {}",
        rms(t.0, t.1),
        rms(t.2, t.3),
        t.4,
        rms(x.0, x.1),
        rms(x.2, x.3),
        x.4
    );
    assert!(
        t.1 == 96 && x.1 >= 90 && t.3 >= 470 && x.3 >= 450,
        "{acc:?}"
    );
    assert!(rms(t.0, t.1) < rms(x.0, x.1), "{acc:?}");
    assert!(rms(t.2, t.3) < rms(x.2, x.3), "{acc:?}");
    assert!(t.4 > x.4, "{acc:?}");
}
