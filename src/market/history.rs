use super::calendar::parse_iso_date;
use crate::error::{Error, Location, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// A real daily price history: strictly increasing dates and positive,
/// finite prices, at least two observations.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotHistory {
    source: PathBuf,
    column: String,
    dates: Vec<NaiveDate>,
    prices: Vec<f64>,
}

impl SpotHistory {
    /// Loads `date` and a price column from a CSV file with a header line.
    ///
    /// The price column is `column` when given, else `adj_close` when present,
    /// else `close`. Every rejection names the file, the line (the header is
    /// line 1) and the field.
    pub fn from_csv(path: impl AsRef<Path>, column: Option<&str>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(file, path, column)
    }

    /// Like [`SpotHistory::from_csv`], reading from any reader; `source` is
    /// the name used in messages.
    pub fn from_reader(
        reader: impl std::io::Read,
        source: impl AsRef<Path>,
        column: Option<&str>,
    ) -> Result<Self> {
        let source = source.as_ref();
        let at = |line: u64| Location::file(source).line(line);
        // Headers are trimmed by the reader; fields below, only the two used.
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::Headers)
            .from_reader(reader);
        let headers = rdr.headers().map_err(|e| csv_error(source, e))?.clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(Error::input(
                at(1),
                "missing header line (expected column names such as `date,close`)",
            ));
        }
        let find = |name: &str| headers.iter().position(|h| h == name);
        let date_col = find("date").ok_or_else(|| {
            Error::input(
                at(1).field("date"),
                format!(
                    "no `date` column in the header (found: {})",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            )
        })?;
        let (price_col, price_name) = match column {
            Some(name) => (
                find(name).ok_or_else(|| {
                    Error::input(
                        at(1).field(name),
                        format!(
                            "no column `{name}` in the header (found: {})",
                            headers.iter().collect::<Vec<_>>().join(",")
                        ),
                    )
                })?,
                name.to_string(),
            ),
            None => match (find("adj_close"), find("close")) {
                (Some(i), _) => (i, "adj_close".to_string()),
                (None, Some(i)) => (i, "close".to_string()),
                (None, None) => return Err(Error::input(
                    at(1).field("adj_close"),
                    "no price column: expected `adj_close` or `close`, or name one with --column",
                )),
            },
        };

        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut prices = Vec::new();
        // Byte records: only the two fields used are checked for UTF-8 (a
        // history is read whole on every `--history` run; this halves it).
        let mut record = csv::ByteRecord::new();
        let mut prev_line = 1;
        loop {
            match rdr.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_error(source, e)),
            }
            let line = record.position().map_or(prev_line + 1, |p| p.line());
            prev_line = line;
            let field = |i: usize, name: &str| {
                std::str::from_utf8(record.get(i).unwrap_or_default())
                    .map(str::trim)
                    .map_err(|_| Error::input(at(line).field(name), "not valid UTF-8".to_string()))
            };
            let date_str = field(date_col, "date")?;
            let date =
                parse_iso_date(date_str).map_err(|m| Error::input(at(line).field("date"), m))?;
            let raw = field(price_col, &price_name)?;
            let price = parse_price(raw, || at(line).field(price_name.clone()))?;
            check_row(dates.last().copied(), date, price, || at(line), &price_name)?;
            dates.push(date);
            prices.push(price);
        }
        check_len(source, prices.len())?;
        Ok(SpotHistory {
            source: source.to_path_buf(),
            column: price_name,
            dates,
            prices,
        })
    }

    /// Builds a history from memory, validated like a file named `source`
    /// whose row `i` sits on line `i + 2`.
    pub fn new(source: impl AsRef<Path>, dates: Vec<NaiveDate>, prices: Vec<f64>) -> Result<Self> {
        let source = source.as_ref();
        if dates.len() != prices.len() {
            return Err(Error::input(
                Location::file(source),
                format!("{} dates but {} prices", dates.len(), prices.len()),
            ));
        }
        for (i, (&date, &price)) in dates.iter().zip(&prices).enumerate() {
            let at = || Location::file(source).line(i as u64 + 2);
            if !price.is_finite() {
                return Err(Error::input(
                    at().field("close"),
                    format!("price {price} is not finite"),
                ));
            }
            let prev = if i == 0 { None } else { Some(dates[i - 1]) };
            check_row(prev, date, price, at, "close")?;
        }
        check_len(source, prices.len())?;
        Ok(SpotHistory {
            source: source.to_path_buf(),
            column: "close".to_string(),
            dates,
            prices,
        })
    }

    /// The same history under another column name (a derived series, e.g.
    /// a stock's residual to its index, named in messages and model cards).
    pub fn renamed(mut self, column: impl Into<String>) -> Self {
        self.column = column.into();
        self
    }

    /// The file the history was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The price column used.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// Observation dates, strictly increasing.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Prices, positive and finite.
    pub fn prices(&self) -> &[f64] {
        &self.prices
    }

    /// Number of observations (≥ 2).
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Always false: a history holds at least two prices.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The history up to and including `date` (same file name and column),
    /// for fitting on the past only; an error naming the file and `field`
    /// when fewer than two prices remain.
    pub fn until(&self, date: NaiveDate, field: &str) -> Result<SpotHistory> {
        let n = self.dates.partition_point(|d| *d <= date);
        if n < 2 {
            return Err(Error::input(
                Location::file(&self.source).field(field),
                format!(
                    "{date} leaves {n} price(s) of this history (it starts on {}): at least 2 are needed",
                    self.dates[0]
                ),
            ));
        }
        Ok(SpotHistory {
            source: self.source.clone(),
            column: self.column.clone(),
            dates: self.dates[..n].to_vec(),
            prices: self.prices[..n].to_vec(),
        })
    }

    /// The index of `date` among the dates; an error naming the file,
    /// `field` and the nearest trading days when it is not one of them.
    pub fn index_of(&self, date: NaiveDate, field: &str) -> Result<usize> {
        match self.dates.binary_search(&date) {
            Ok(i) => Ok(i),
            Err(i) => {
                let (first, last) = (self.dates[0], self.dates[self.dates.len() - 1]);
                let message = if date < first {
                    format!("{date} is before the history's first day {first}")
                } else if date > last {
                    format!("{date} is after the history's last day {last}")
                } else {
                    format!(
                        "{date} is not a trading day of the history (the nearest are {} and {})",
                        self.dates[i - 1],
                        self.dates[i]
                    )
                };
                Err(Error::input(
                    Location::file(&self.source).field(field),
                    message,
                ))
            }
        }
    }

    /// Log returns `ln(P_t / P_{t-1})`, one fewer than prices.
    pub fn log_returns(&self) -> Vec<f64> {
        self.prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
    }
}

fn parse_price(raw: &str, field: impl Fn() -> Location) -> Result<f64> {
    if raw.is_empty() {
        return Err(Error::input(field(), "empty price"));
    }
    let price: f64 = raw
        .parse()
        .map_err(|_| Error::input(field(), format!("`{raw}` is not a number")))?;
    if !price.is_finite() {
        return Err(Error::input(
            field(),
            format!("price `{raw}` is not finite"),
        ));
    }
    Ok(price)
}

/// Checks one observation against the previous date: strictly increasing
/// dates, positive price (finiteness is checked by the caller).
fn check_row(
    prev: Option<NaiveDate>,
    date: NaiveDate,
    price: f64,
    at: impl Fn() -> Location,
    price_name: &str,
) -> Result<()> {
    if let Some(last) = prev {
        if date == last {
            return Err(Error::input(
                at().field("date"),
                format!("duplicate date {date}"),
            ));
        }
        if date < last {
            return Err(Error::input(
                at().field("date"),
                format!("date {date} comes after {last}: dates must be strictly increasing"),
            ));
        }
    }
    if price <= 0.0 {
        return Err(Error::input(
            at().field(price_name),
            format!("price {price} is not positive: prices must be > 0"),
        ));
    }
    Ok(())
}

fn check_len(source: &Path, n: usize) -> Result<()> {
    if n < 2 {
        return Err(Error::input(
            Location::file(source),
            format!("{n} price row(s): at least 2 are needed to form a return"),
        ));
    }
    Ok(())
}

fn csv_error(source: &Path, e: csv::Error) -> Error {
    let mut loc = Location::file(source);
    if let Some(pos) = e.position() {
        loc = loc.line(pos.line());
    }
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("malformed CSV: {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "malformed CSV: not valid UTF-8".to_string(),
        csv::ErrorKind::Io(io) => format!("read failed: {io}"),
        _ => format!("malformed CSV: {e}"),
    };
    Error::input(loc, message)
}
