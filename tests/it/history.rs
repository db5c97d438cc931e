//! The spot-history loader: shipped data loads; every kind of bad input is
//! rejected with a message naming the file, the line and the field.

use crate::common::{data, write};
use synthmarket::market::SpotHistory;
use synthmarket::Error;

#[test]
fn shipped_sp500_loads_with_expected_range() {
    // data/PROVENANCE.md: 5031 rows, 1999-01-04 .. 2018-12-31.
    let h = SpotHistory::from_csv(data("sp500_daily.csv"), None).unwrap();
    assert_eq!(h.len(), 5031);
    assert_eq!(h.column(), "adj_close");
    assert_eq!(h.dates()[0].to_string(), "1999-01-04");
    assert_eq!(h.dates()[5030].to_string(), "2018-12-31");
    assert_eq!(h.prices()[0], 1228.099976);
    // VIX has only `close`, which is the fallback.
    let v = SpotHistory::from_csv(data("vix_daily.csv"), None).unwrap();
    assert_eq!((v.column(), v.len()), ("close", 1259));
    let n = SpotHistory::from_csv(data("nasdaq_daily.csv"), Some("close")).unwrap();
    assert_eq!(n.len(), 5031);
}

/// Loads `text` from a temp file named `bad.csv` and returns the error text,
/// which must name the file.
fn reject(text: &str, column: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.csv", text);
    let err = SpotHistory::from_csv(&path, column).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains("bad.csv"), "message must name the file: {msg}");
    msg
}

#[track_caller]
fn has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{msg}` should contain `{p}`");
    }
}

#[test]
fn rejects_missing_header_and_columns() {
    has(&reject("", None), &["line 1", "header"]);
    has(
        &reject("day,close\n2020-01-02,1\n2020-01-03,2\n", None),
        &["line 1", "field `date`", "no `date` column"],
    );
    has(
        &reject("date,open\n2020-01-02,1\n2020-01-03,2\n", None),
        &["line 1", "adj_close", "--column"],
    );
    has(
        &reject("date,close\n2020-01-02,1\n2020-01-03,2\n", Some("mid")),
        &["line 1", "field `mid`", "no column `mid`"],
    );
}

#[test]
fn rejects_bad_dates() {
    has(
        &reject("date,close\n2020-01-02,1\n02/01/2020,2\n", None),
        &["line 3", "field `date`", "not an ISO date"],
    );
    has(
        &reject("date,close\n2020-1-2,1\n2020-01-03,2\n", None),
        &["line 2", "field `date`", "not an ISO date"],
    );
    has(
        &reject("date,close\n2020-02-30,1\n2020-03-01,2\n", None),
        &["line 2", "not a valid calendar date"],
    );
    has(
        &reject("date,close\n2020-01-03,1\n2020-01-02,2\n", None),
        &["line 3", "field `date`", "strictly increasing"],
    );
    has(
        &reject(
            "date,close\n2020-01-02,1\n2020-01-03,2\n2020-01-03,3\n",
            None,
        ),
        &["line 4", "duplicate date 2020-01-03"],
    );
}

#[test]
fn rejects_bad_prices() {
    let base = "date,adj_close\n2020-01-02,1\n";
    has(
        &reject(&format!("{base}2020-01-03,\n"), None),
        &["line 3", "field `adj_close`", "empty price"],
    );
    has(
        &reject(&format!("{base}2020-01-03,abc\n"), None),
        &["line 3", "field `adj_close`", "not a number"],
    );
    has(
        &reject(&format!("{base}2020-01-03,NaN\n"), None),
        &["line 3", "not finite"],
    );
    has(
        &reject(&format!("{base}2020-01-03,inf\n"), None),
        &["line 3", "not finite"],
    );
    has(
        &reject(&format!("{base}2020-01-03,0\n"), None),
        &["line 3", "field `adj_close`", "not positive"],
    );
    has(
        &reject(&format!("{base}2020-01-03,-5.5\n"), None),
        &["line 3", "not positive"],
    );
}

#[test]
fn fields_are_trimmed_and_non_utf8_is_named() {
    // Spaces around the fields the loader uses are ignored; the date digits
    // convert to the same calendar day as chrono's parser (leap day kept).
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "padded.csv",
        " date , close ,note\n 2020-02-28 , 1.5 ,a\n2020-02-29,2,b\n",
    );
    let h = SpotHistory::from_csv(&path, None).unwrap();
    assert_eq!(h.dates()[1].to_string(), "2020-02-29");
    assert_eq!(h.prices(), &[1.5, 2.0]);
    has(
        &reject("date,close\n2021-02-29,1\n2021-03-01,2\n", None),
        &["line 2", "not a valid calendar date"],
    );
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, b"date,close\n2020-01-02,1\n2020-01-03,\xff\n").unwrap();
    let msg = SpotHistory::from_csv(&path, None).unwrap_err().to_string();
    has(&msg, &["bad.csv", "line 3", "field `close`", "UTF-8"]);
}

#[test]
fn rejects_too_few_rows_and_ragged_rows() {
    has(
        &reject("date,close\n", None),
        &["0 price row", "at least 2"],
    );
    has(
        &reject("date,close\n2020-01-02,1\n", None),
        &["1 price row", "at least 2"],
    );
    has(
        &reject("date,close\n2020-01-02,1\n2020-01-03,2,7\n", None),
        &["line 3", "3 fields", "header has 2"],
    );
}

#[test]
fn missing_file_is_a_read_error_with_exit_code_2() {
    let err = SpotHistory::from_csv("no/such/file.csv", None).unwrap_err();
    assert!(err.to_string().contains("no/such/file.csv"));
    assert_eq!(err.exit_code(), 2);
}
