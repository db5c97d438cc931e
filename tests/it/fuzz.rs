//! Issue 41 point 5: property-based fuzzing (proptest) of every parser and
//! pricing entry point a user's input reaches: the price-history loaders
//! (one series and a wide panel), the option-file loader with the
//! implied-vol and calibration paths behind it, the TOML run config with
//! its resolution, the model loaders (a deep net's config and weights, a
//! pricing table, a market's `panel.json` and `pricing.json`), and
//! `implied_vol` and Black–Scholes–Merton prices (one option and the
//! batch) on arbitrary finite and non-finite numbers. Each target must
//! return a value or an error, never panic.
//!
//! Cases per target: 2,000 in the test suite; `SYNTHMARKET_FUZZ_CASES`
//! sets more (`bash .ci/fuzz` runs 10⁶ per target). A failure prints the
//! shrunk input; it becomes a regression test below.

use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;
use std::sync::OnceLock;

fn config() -> Config {
    let cases = std::env::var("SYNTHMARKET_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// Numbers as text: ordinary prices, special values, malformed numbers.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1e-3f64..1e4).prop_map(|x| x.to_string()),
        2 => any::<f64>().prop_map(|x| x.to_string()),
        1 => Just(String::new()),
        1 => prop::sample::select(vec![
            "NaN", "inf", "-inf", "-1", "0", "-0", "1e309", "1e-320", "1,5", "0x10", " 7 ",
            "\"3\"", "--2", "１２",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

/// Dates as text: a valid run (maybe out of order or repeated) or noise.
fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (1990i32..2030, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => (0i32..99999, 0u32..40, 0u32..40).prop_map(|(y, m, d)| format!("{y}-{m}-{d}")),
        1 => Just(String::new()),
        1 => "\\PC{0,12}",
    ]
}

/// A table as cells: a header and rows.
type Cells = (Vec<String>, Vec<Vec<String>>);

/// One edit of a table: replace a cell by a number or date token, swap or
/// duplicate rows, drop or add a cell, insert a noise line.
#[derive(Debug, Clone)]
enum Edit {
    Cell(prop::sample::Index, prop::sample::Index, String),
    Swap(prop::sample::Index, prop::sample::Index),
    Duplicate(prop::sample::Index),
    Drop(prop::sample::Index),
    Extra(prop::sample::Index, String),
    Noise(prop::sample::Index, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    use prop::sample::Index;
    prop_oneof![
        4 => (any::<Index>(), any::<Index>(), prop_oneof![number(), date()])
            .prop_map(|(r, c, t)| Edit::Cell(r, c, t)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        1 => any::<Index>().prop_map(Edit::Duplicate),
        1 => any::<Index>().prop_map(Edit::Drop),
        1 => (any::<Index>(), number()).prop_map(|(r, t)| Edit::Extra(r, t)),
        1 => (any::<Index>(), "\\PC{0,20}").prop_map(|(r, t)| Edit::Noise(r, t)),
    ]
}

/// A table written as CSV after 0–3 edits (none in about a third of the
/// cases, so that valid files reach everything behind the parser), with
/// mostly commas and sometimes CRLF line ends; or arbitrary bytes.
fn csv_of(table: impl Strategy<Value = Cells>) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop_oneof![1 => Just(Vec::new()), 2 => prop::collection::vec(edit(), 1..4)];
    let sep = prop::sample::select(vec![",", ",", ",", ",", ",", ";", "\t"]);
    prop_oneof![
        12 => (table, edits, sep, any::<bool>()).prop_map(|((header, mut rows), edits, sep, crlf)| {
            let mut noise = Vec::new();
            for e in edits {
                let n = rows.len();
                match e {
                    Edit::Cell(r, c, t) if n > 0 => {
                        let row = &mut rows[r.index(n)];
                        if !row.is_empty() {
                            let i = c.index(row.len());
                            row[i] = t;
                        }
                    }
                    Edit::Swap(a, b) if n > 0 => rows.swap(a.index(n), b.index(n)),
                    Edit::Duplicate(r) if n > 0 => {
                        let row = rows[r.index(n)].clone();
                        rows.insert(r.index(n), row);
                    }
                    Edit::Drop(r) if n > 0 => {
                        rows[r.index(n)].pop();
                    }
                    Edit::Extra(r, t) if n > 0 => rows[r.index(n)].push(t),
                    Edit::Noise(r, t) => noise.push((r.index(n + 1), t)),
                    _ => {}
                }
            }
            let mut lines: Vec<String> = rows.iter().map(|r| r.join(sep)).collect();
            for (at, t) in noise {
                lines.insert(at.min(lines.len()), t);
            }
            lines.insert(0, header.join(sep));
            lines.join(if crlf { "\r\n" } else { "\n" }).into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

/// `days` consecutive dates from a start in 1990–2029.
fn dates(days: usize) -> impl Strategy<Value = Vec<String>> {
    (0u64..14_000).prop_map(move |start| {
        let d0 = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Days::new(start);
        (0..days as u64)
            .map(|k| (d0 + chrono::Days::new(k)).to_string())
            .collect()
    })
}

/// A price history: a header from `headers` (or noise) and `width` price
/// columns of positive prices on consecutive dates.
fn history_table(headers: Vec<&'static str>, width: usize) -> impl Strategy<Value = Cells> {
    let header = prop_oneof![
        6 => prop::sample::select(headers).prop_map(|h| h.split(',').map(str::to_string).collect()),
        1 => "\\PC{0,30}".prop_map(|h: String| vec![h]),
    ];
    (2usize..40).prop_flat_map(move |n| {
        (
            header.clone(),
            dates(n),
            prop::collection::vec(prop::collection::vec(1e-2f64..1e4, width), n),
        )
            .prop_map(|(header, dates, prices)| {
                let rows = dates
                    .into_iter()
                    .zip(prices)
                    .map(|(d, p)| {
                        std::iter::once(d)
                            .chain(p.iter().map(|x| x.to_string()))
                            .collect()
                    })
                    .collect();
                (header, rows)
            })
    })
}

/// Runs `target` on `config().cases` inputs from `strategy`: a panic is a
/// failure (proptest shrinks it and prints the smallest input). `target`
/// says whether the input got past parsing; some must, or the fuzzer would
/// only be testing the first error. Prints the counts.
fn fuzz<S: Strategy>(name: &str, strategy: S, target: impl Fn(S::Value) -> bool)
where
    S::Value: std::fmt::Debug,
{
    let accepted = std::sync::atomic::AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&strategy, |v| {
            if target(v) {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let accepted = accepted.into_inner();
    eprintln!(
        "fuzz {name}: {} cases, no panic; {accepted} got past parsing",
        config().cases
    );
    assert!(accepted > 0, "{name}: no input was accepted");
}

#[test]
fn fuzz_history_loader() {
    let columns = prop::sample::select(vec![
        None,
        None,
        None,
        Some("close"),
        Some("adj_close"),
        Some("volume"),
        Some(""),
    ]);
    let headers = vec![
        "date,close",
        "date,adj_close",
        "Date,Close",
        "date,close,volume",
        "close,date",
    ];
    fuzz(
        "price-history loader",
        (csv_of(history_table(headers, 1)), columns),
        |(text, column)| {
            match synthmarket::market::SpotHistory::from_reader(text.as_slice(), "fuzz.csv", column)
            {
                // What every command does next with a loaded history.
                Ok(h) => h.log_returns().iter().all(|x| x.is_finite()),
                Err(_) => false,
            }
        },
    );
}

#[test]
fn fuzz_panel_loader() {
    let headers = vec![
        "date,A,B",
        "date,A,B,C",
        "date,A,A",
        "date,index,B",
        "A,B",
        "date,,B",
    ];
    fuzz("panel loader", csv_of(history_table(headers, 2)), |text| {
        synthmarket::market::PanelHistory::from_bytes(&text, Path::new("fuzz.csv")).is_ok()
    });
}

#[test]
fn fuzz_option_loader() {
    use synthmarket::io::option_csv::OptionTable;
    fuzz("option-file loader", option_text(), |text| {
        let Ok(table) = OptionTable::from_bytes(&text, Path::new("fuzz.csv")) else {
            return false;
        };
        // `synthmarket iv`: every row's contract and price, inverted.
        let mut priced = false;
        if let (Ok(cols), Ok(p)) = (
            table.columns(OptionTable::CONTRACT_COLUMNS),
            table.column("price"),
        ) {
            for row in 0..table.len() {
                if let (Ok(price), Ok(Ok((spec, state)))) =
                    (table.number(row, p, "price"), table.contract(row, &cols))
                {
                    priced = true;
                    let _ = synthmarket::pricing::implied_vol(price, &spec, &state);
                }
            }
        }
        // `synthmarket calibrate --model heston`: the surface it reads.
        let _ = synthmarket::run::calibrate::surface_points(&table);
        priced
    });
}

#[test]
fn fuzz_toml_config() {
    use synthmarket::run::SimulateParams;
    fuzz("TOML config", toml_text(), |text| {
        match SimulateParams::from_toml_str(&text, Path::new("fuzz.toml")) {
            // Chains of the daily models fit law tables (seconds to an
            // hour): the fuzzer resolves runs without them.
            Ok(params) if !params.options => params.resolve().is_ok(),
            _ => false,
        }
    });
}

#[test]
fn fuzz_model_loader() {
    let edits = (
        0usize..2,
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<bool>(),
    );
    fuzz(
        "model loader (truncated or corrupted files)",
        edits,
        |(which, cut, flips, truncate)| {
            let (config, weights) = shipped_net();
            let mut parts = [config.clone(), weights.clone()];
            let target = &mut parts[which];
            if truncate {
                let at = cut.index(target.len() + 1);
                target.truncate(at);
            }
            for (i, b) in &flips {
                if !target.is_empty() {
                    let at = i.index(target.len());
                    target[at] = *b;
                }
            }
            synthmarket::deep::MixtureNet::from_bytes(&parts[0], &parts[1], Some(Path::new("fuzz")))
                .is_ok()
        },
    );
}

#[test]
fn fuzz_model_json() {
    // A deep net's config.json, a market's panel.json or its pricing.json
    // with one field replaced by an arbitrary value.
    fuzz(
        "model loader (a field of any type)",
        (0usize..3, any::<prop::sample::Index>(), json_value()),
        |(file, key, value)| {
            let texts = shipped_jsons();
            let mut doc: serde_json::Value = serde_json::from_slice(&texts[file]).unwrap();
            if let Some(obj) = doc.as_object_mut() {
                let keys: Vec<String> = obj.keys().cloned().collect();
                let k = &keys[key.index(keys.len())];
                obj.insert(k.clone(), value);
            }
            let bytes = serde_json::to_vec(&doc).unwrap();
            match file {
                0 => synthmarket::deep::MixtureNet::from_bytes(
                    &bytes,
                    &shipped_net().1,
                    Some(Path::new("fuzz")),
                )
                .is_ok(),
                1 => serde_json::from_slice::<synthmarket::deep::panel::PanelConfig>(&bytes)
                    .ok()
                    .is_some_and(|c| {
                        synthmarket::deep::panel::PanelModel::from_parts(
                            c,
                            shipped_panel().nets().to_vec(),
                            None,
                        )
                        .is_ok()
                    }),
                _ => {
                    serde_json::from_slice::<synthmarket::deep::panel::MarketPricingConfig>(&bytes)
                        .ok()
                        .is_some_and(|c| {
                            synthmarket::deep::panel::MarketPricing::from_config(
                                c,
                                shipped_panel(),
                                Path::new("fuzz/pricing.json"),
                            )
                            .is_ok()
                        })
                }
            }
        },
    );
}

#[test]
fn fuzz_implied_vol_and_bs_price() {
    use synthmarket::market::{MarketState, OptionSpec, OptionType};
    use synthmarket::pricing::batch::{BsBatch, Calls, Param};
    let numbers = (
        [special_f64(), special_f64(), special_f64(), special_f64()],
        [special_f64(), special_f64(), special_f64()],
        any::<bool>(),
    );
    fuzz(
        "implied_vol and Black-Scholes-Merton prices",
        numbers,
        |([price, strike, maturity, spot], [rate, dividend, vol], call)| {
            let ty = if call {
                OptionType::Call
            } else {
                OptionType::Put
            };
            let mut valid = false;
            if let (Ok(spec), Ok(state)) = (
                OptionSpec::new(ty, strike, maturity),
                MarketState::new(spot, rate, dividend),
            ) {
                valid = true;
                let _ = synthmarket::pricing::implied_vol(price, &spec, &state);
                if let Ok(bs) = synthmarket::pricing::BlackScholes::new(vol) {
                    let p = bs.price(&spec, &state);
                    let _ = bs.greeks(&spec, &state);
                    if p.is_finite() {
                        let _ = synthmarket::pricing::implied_vol(p, &spec, &state);
                    }
                }
            }
            // The batch (the Python module's bs_price and bs_greeks) takes
            // the numbers unchecked and must name the first bad one.
            let strikes = [strike, 100.0];
            let vols = [vol];
            let batch = BsBatch {
                spot: Param::Scalar(spot),
                strike: Param::Each(&strikes),
                maturity: Param::Scalar(maturity),
                vol: Param::Each(&vols),
                rate: Param::Scalar(rate),
                dividend: Param::Scalar(dividend),
                call: Calls::Scalar(call),
            };
            let mut out = [0.0; 3];
            let _ = batch.price_into(0, &mut out);
            let _ = batch.price_into(0, &mut out[..1]);
            valid
        },
    );
}

/// Arbitrary doubles, with the special values often.
fn special_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        3 => -2.0f64..200.0,
        2 => prop::sample::select(vec![
            0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE,
            f64::MAX, 1e-300, 5e-324, 1.0, 100.0,
        ]),
    ]
}

/// An option file: the contract columns and a price (some missing or
/// repeated, in any order) over rows of plausible contracts, then edited
/// as [`csv_of`] edits.
fn option_text() -> impl Strategy<Value = Vec<u8>> {
    let mut all = synthmarket::io::option_csv::OptionTable::CONTRACT_COLUMNS.to_vec();
    all.extend(["price", "note"]);
    let header = prop_oneof![
        3 => Just(all.clone()),
        1 => prop::sample::subsequence(all, 0..=8),
    ]
    .prop_shuffle();
    let table = (header, 0usize..30).prop_flat_map(|(header, n)| {
        let h = header.clone();
        let row = (
            prop::sample::select(vec!["call", "put"]),
            50.0f64..150.0,
            50.0f64..150.0,
            0.01f64..3.0,
            -0.01f64..0.1,
            0.0f64..0.05,
            0.0f64..60.0,
        )
            .prop_map(move |(ty, s, k, t, r, q, p)| {
                h.iter()
                    .map(|c| match *c {
                        "option_type" => ty.to_string(),
                        "spot" => s.to_string(),
                        "strike" => k.to_string(),
                        "maturity" => t.to_string(),
                        "rate" => r.to_string(),
                        "dividend" => q.to_string(),
                        "price" => p.to_string(),
                        _ => "x".to_string(),
                    })
                    .collect::<Vec<String>>()
            });
        (
            Just(header.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
            prop::collection::vec(row, n),
        )
    });
    csv_of(table)
}

/// A TOML run config: known keys with values of any TOML type, or noise.
fn toml_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "model",
        "paths",
        "steps",
        "dt",
        "seed",
        "start",
        "format",
        "shard",
        "overwrite",
        "mu",
        "rate",
        "dividend",
        "sigma",
        "s0",
        "v0",
        "assets",
        "correlation",
        "kappa",
        "theta",
        "xi",
        "rho",
        "scheme",
        "mean",
        "omega",
        "alpha",
        "gamma",
        "beta",
        "nu",
        "model-path",
        "history",
        "from",
        "column",
        "expiries",
        "months",
        "unknown",
    ]);
    let value = prop_oneof![
        prop::sample::select(vec![
            "\"gbm\"",
            "\"heston\"",
            "\"garch\"",
            "\"deep\"",
            "\"euler\"",
            "\"qe\"",
            "\"parquet\"",
            "\"1/2\"",
            "\"0/0\"",
            "\"2025-01-02\"",
            "\"2025-13-40\"",
            "true",
            "false",
            "[]",
            "[1, 2]",
            "[0.2, 0.3]",
            "[\"a\", \"b\"]",
            "\"1,0.5;0.5,1\"",
            "\"1,2;2,1\"",
            "nan",
            "inf",
            "-inf",
            "18446744073709551615",
            "9223372036854775807",
            "-1",
            "0",
            "1e308",
            "{ a = 1 }",
        ])
        .prop_map(str::to_string),
        (-1e3f64..1e3).prop_map(|x| format!("{x:?}")),
        (0u64..100_000).prop_map(|x| x.to_string()),
        "\"\\PC{0,10}\"".prop_map(|s| s.replace('\\', "")),
    ];
    prop_oneof![
        9 => prop::collection::vec((key, value), 0..12).prop_map(|kv| {
            kv.into_iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect::<String>()
        }),
        1 => "\\PC{0,60}",
    ]
}

/// An arbitrary JSON value.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(|x| Value::Number(x.into())),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("\\PC{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped single-series model's config.json and weights.
fn shipped_net() -> &'static (Vec<u8>, Vec<u8>) {
    static NET: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    NET.get_or_init(|| {
        let d = root().join("models/sp500");
        (
            std::fs::read(d.join("config.json")).unwrap(),
            std::fs::read(d.join("model.safetensors")).unwrap(),
        )
    })
}

/// config.json of the shipped net, panel.json and pricing.json of the
/// shipped market.
fn shipped_jsons() -> &'static [Vec<u8>; 3] {
    static JSONS: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    JSONS.get_or_init(|| {
        [
            shipped_net().0.clone(),
            std::fs::read(root().join("models/sp500-panel/panel.json")).unwrap(),
            std::fs::read(root().join("models/sp500-panel/pricing.json")).unwrap(),
        ]
    })
}

fn shipped_panel() -> &'static synthmarket::deep::panel::PanelModel {
    static PANEL: OnceLock<synthmarket::deep::panel::PanelModel> = OnceLock::new();
    PANEL.get_or_init(|| {
        synthmarket::deep::panel::PanelModel::load(&root().join("models/sp500-panel")).unwrap()
    })
}
