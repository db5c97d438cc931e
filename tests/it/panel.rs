//! The panel loader (issue 37): the shipped 20-stock panel and its index
//! load on common dates; every kind of bad input the issue lists is rejected
//! with a message naming the file, the line and the column.

use crate::common::{data, write};
use synthmarket::market::{PanelHistory, SpotHistory};
use synthmarket::Error;

#[test]
fn shipped_panel_loads_on_the_index_dates() {
    // data/PROVENANCE.md: 7307 rows, 1990-01-02 .. 2018-12-31, 20 tickers.
    let p = PanelHistory::from_csv(data("sp500_20stocks_1990_2018.csv")).unwrap();
    assert_eq!(p.n_assets(), 20);
    assert_eq!(p.names()[0], "AAPL");
    assert_eq!(p.names()[19], "XOM");
    assert_eq!(p.dates().len(), 7307);
    assert_eq!(p.dates()[0].to_string(), "1990-01-02");
    let index = SpotHistory::from_csv(data("sp500_index_1990_2018.csv"), Some("close")).unwrap();
    p.check_same_dates(&index).unwrap();
}

fn expect_input(err: Error, file: &str) -> String {
    assert!(matches!(err, Error::Input { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains(file), "message must name {file}: {msg}");
    msg
}

fn reject(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "panel.csv", text);
    expect_input(PanelHistory::from_csv(&path).unwrap_err(), "panel.csv")
}

#[track_caller]
fn has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{msg}` should contain `{p}`");
    }
}

#[test]
fn a_missing_value_names_line_and_ticker() {
    let msg = reject("date,AAA,BBB\n2020-01-02,10,20\n2020-01-03,,21\n");
    has(&msg, &["line 3", "AAA"]);
}

#[test]
fn a_non_numeric_ticker_column_names_line_and_ticker() {
    let msg = reject("date,AAA,BBB\n2020-01-02,10,20\n2020-01-03,11,n/a\n");
    has(&msg, &["line 3", "BBB"]);
}

#[test]
fn dates_out_of_order_are_refused() {
    let msg = reject("date,AAA,BBB\n2020-01-03,10,20\n2020-01-02,11,21\n");
    has(&msg, &["line 3", "date"]);
}

#[test]
fn header_faults_are_named() {
    has(
        &reject("day,AAA,BBB\n2020-01-02,10,20\n"),
        &["line 1", "date"],
    );
    has(&reject("date,AAA\n2020-01-02,10\n"), &["at least two"]);
    has(
        &reject("date,AAA,AAA\n2020-01-02,10,20\n"),
        &["AAA", "twice"],
    );
    has(
        &reject("date,AAA,index\n2020-01-02,10,20\n"),
        &["index", "reserved"],
    );
}

#[test]
fn an_index_on_other_dates_names_the_index_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let panel = write(
        dir.path(),
        "panel.csv",
        "date,AAA,BBB\n2020-01-02,10,20\n2020-01-03,11,21\n2020-01-06,12,22\n",
    );
    let p = PanelHistory::from_csv(&panel).unwrap();
    let differs = write(
        dir.path(),
        "index.csv",
        "date,close\n2020-01-02,100\n2020-01-04,101\n2020-01-06,102\n",
    );
    let idx = SpotHistory::from_csv(&differs, None).unwrap();
    let msg = expect_input(p.check_same_dates(&idx).unwrap_err(), "index.csv");
    has(&msg, &["line 3", "2020-01-04", "2020-01-03"]);
    let short = write(
        dir.path(),
        "short.csv",
        "date,close\n2020-01-02,100\n2020-01-03,101\n",
    );
    let idx = SpotHistory::from_csv(&short, None).unwrap();
    let msg = expect_input(p.check_same_dates(&idx).unwrap_err(), "short.csv");
    has(&msg, &["line 4", "2 dates", "3"]);
}
