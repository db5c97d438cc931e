//! Issue 36, point 4: trains the deep generator with `train`'s default flags
//! on each of 22 series (S&P 500 and NASDAQ 1999-2018, the 20 stocks of the
//! 1990-2018 panel) and prints, per series, the noise-aware scorecard of the
//! held-out test part for the deep model, GJR-GARCH-t and Heston (each
//! fitted on the same training days), whether deep beats each, and the
//! memorization audits. `cargo run --release --example generalisation [OUT_DIR] [A,B] [on|off]`
//! (about 5 minutes on 2 cores); `A,B` trains with `--feature-squash A,B`
//! (`off`: none), a third argument `on` or `off` with `--variance-core`
//! (default: `train`'s, on).
//! The book's deep-generator chapter holds its output.
use synthmarket::run::train::{train, TrainOptions};

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("synthmarket-generalisation"),
        Into::into,
    );
    let squash = std::env::args()
        .nth(2)
        .map_or(Ok(None), |s| TrainOptions::parse_feature_squash(&s));
    let squash = squash.expect("the second argument: A,B or off");
    // Without a third argument, `train`'s default (the core on).
    let core = std::env::args()
        .nth(3)
        .map(|s| TrainOptions::parse_variance_core(&s))
        .transpose()
        .expect("the third argument: on or off");
    let panel = root.join("data/sp500_20stocks_1990_2018.csv");
    let header = std::fs::read_to_string(&panel).expect("panel");
    let tickers: Vec<String> = header
        .lines()
        .next()
        .expect("header")
        .split(',')
        .skip(1)
        .map(str::to_string)
        .collect();
    let mut series: Vec<(String, std::path::PathBuf, Option<String>)> = vec![
        ("S&P 500".into(), root.join("data/sp500_daily.csv"), None),
        ("NASDAQ".into(), root.join("data/nasdaq_daily.csv"), None),
    ];
    series.extend(
        tickers
            .into_iter()
            .map(|t| (t.clone(), panel.clone(), Some(t))),
    );
    println!("| series | test returns | deep matched | deep mean \\|z\\| | GJR-GARCH-t matched | GJR-GARCH-t mean \\|z\\| | Heston matched | Heston mean \\|z\\| | deep beats GARCH | deep beats Heston | audits passed |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut both, mut pairs, mut matched) = (0, 0, 0);
    for (name, file, column) in &series {
        let mut opts =
            TrainOptions::new(vec![file.clone()], out.join(name.replace(['&', ' '], "")));
        opts.column = column.clone();
        opts.feature_squash = squash;
        opts.variance_core = core;
        let o = train(&opts, |_| {}).expect("train");
        let m = &o.metrics;
        let get = |model: &str| m.scorecards.iter().find(|e| e.model == model).expect(model);
        let (d, g, h) = (get("deep"), get("GJR-GARCH-t"), get("Heston"));
        let (bg, bh) = (d.spread.beats(&g.spread), d.spread.beats(&h.spread));
        both += usize::from(bg && bh);
        pairs += d.spread.rows.len();
        matched += d.spread.matched;
        let audits = [d, g, h]
            .iter()
            .filter(|e| e.card.memorization.passed)
            .count();
        println!(
            "| {name} | {} | {} | {:.2} | {} | {:.2} | {} | {:.2} | {} | {} | {audits} of 3 |",
            m.report.split.2 - m.report.split.1,
            d.spread.matched,
            d.spread.mean_abs_z,
            g.spread.matched,
            g.spread.mean_abs_z,
            h.spread.matched,
            h.spread.mean_abs_z,
            if bg { "yes" } else { "no" },
            if bh { "yes" } else { "no" },
        );
    }
    println!(
        "\ndeep beats both on {both} of {} series; it matches {matched} of {pairs} (series, statistic) pairs ({:.1} %)",
        series.len(),
        100.0 * matched as f64 / pairs as f64
    );
}
