//! A run's rows as typed columns in memory, for the faces that hand data
//! over without text (the Python module's DataFrames): the same columns,
//! names and values as `spot.csv` and `options.csv`, so a table read back
//! from the CSV equals the one collected here, value for value.
//!
//! Dates are nanoseconds since 1970-01-01 (numpy's `datetime64[ns]`);
//! categorical columns (`asset`, `option_type`) are codes into a list of
//! names. Non-finite chain values, written as empty fields in CSV, are NaN.

use super::chain_csv::{long_values, wide_values};
use crate::market::PathChunk;
use crate::pricing::chain::{Layout, COLUMNS, WIDE_COLUMNS};
use crate::pricing::ChainRow;
use chrono::NaiveDate;

/// One typed column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Whole numbers (`path`, `step`).
    Int(Vec<i64>),
    /// Floating-point values.
    Float(Vec<f64>),
    /// Dates, as nanoseconds since 1970-01-01.
    Date(Vec<i64>),
    /// A categorical column: `codes[i]` indexes `names`.
    Category {
        /// Per-row index into `names`.
        codes: Vec<u32>,
        /// The categories.
        names: Vec<String>,
    },
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Int(v) | Column::Date(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Category { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn append(&mut self, other: Column) {
        match (self, other) {
            (Column::Int(a), Column::Int(b)) | (Column::Date(a), Column::Date(b)) => a.extend(b),
            (Column::Float(a), Column::Float(b)) => a.extend(b),
            (Column::Category { codes: a, .. }, Column::Category { codes: b, .. }) => a.extend(b),
            _ => unreachable!("columns of one table keep their kinds"),
        }
    }
}

/// Named columns of equal length, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// (name, column) pairs, in the order of the CSV header.
    pub columns: Vec<(String, Column)>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Appends the rows of `other`, a table with the same columns (as the
    /// chunks of one run are).
    pub fn append(&mut self, other: Table) {
        if self.columns.is_empty() {
            *self = other;
            return;
        }
        for ((_, a), (_, b)) in self.columns.iter_mut().zip(other.columns) {
            a.append(b);
        }
    }
}

/// Nanoseconds since 1970-01-01 of `date` (midnight).
pub fn date_ns(date: NaiveDate) -> i64 {
    const EPOCH_DAYS_CE: i64 = 719_163; // 1970-01-01 as days from 0001-01-01
    (i64::from(chrono::Datelike::num_days_from_ce(&date)) - EPOCH_DAYS_CE) * 86_400_000_000_000
}

/// The `spot.csv` rows of `chunk` as columns: `path,step,date[,asset],
/// spot,variance`, with `dates[k]` the date of step `k` and `asset_names`
/// for a multi-asset run.
pub fn spot_table(chunk: &PathChunk, dates: &[i64], asset_names: Option<&[String]>) -> Table {
    let rows = chunk.paths() * (chunk.steps() + 1) * chunk.assets();
    let (mut path, mut step, mut date) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let (mut spot, mut variance) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let mut asset = Vec::with_capacity(if asset_names.is_some() { rows } else { 0 });
    for p in 0..chunk.paths() {
        let id = (chunk.first_path() + p as u64) as i64;
        for (k, &d) in dates.iter().enumerate().take(chunk.steps() + 1) {
            let (s, v) = (chunk.spot(p, k), chunk.variance(p, k));
            for a in 0..chunk.assets() {
                path.push(id);
                step.push(k as i64);
                date.push(d);
                if asset_names.is_some() {
                    asset.push(a as u32);
                }
                spot.push(s[a]);
                variance.push(v[a]);
            }
        }
    }
    let mut columns = vec![
        ("path".to_string(), Column::Int(path)),
        ("step".to_string(), Column::Int(step)),
        ("date".to_string(), Column::Date(date)),
    ];
    if let Some(names) = asset_names {
        columns.push((
            "asset".to_string(),
            Column::Category {
                codes: asset,
                names: names.to_vec(),
            },
        ));
    }
    columns.push(("spot".to_string(), Column::Float(spot)));
    columns.push(("variance".to_string(), Column::Float(variance)));
    Table { columns }
}

/// Builds the `options.csv` rows of many chains as columns, in `layout`.
#[derive(Debug, Clone)]
pub struct ChainColumns {
    layout: Layout,
    ints: [Vec<i64>; 2],
    dates: [Vec<i64>; 2],
    kinds: Vec<u32>,
    floats: Vec<Vec<f64>>,
}

/// Non-finite values are empty fields in CSV, NaN when read back.
fn finite_or_nan(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::NAN
    }
}

impl ChainColumns {
    /// An empty set of chains in `layout`.
    pub fn new(layout: Layout) -> Self {
        let n_floats = match layout {
            Layout::Long => 8,
            Layout::Wide => 9,
        };
        ChainColumns {
            layout,
            ints: Default::default(),
            dates: Default::default(),
            kinds: Vec::new(),
            floats: vec![Vec::new(); n_floats],
        }
    }

    /// Appends the chain of one (path, step, date): its rows come as
    /// (call, put) pairs per strike, as the chain builder makes them.
    pub fn push(&mut self, path: u64, step: usize, date: i64, rows: &[ChainRow]) {
        let contract = |s: &mut Self, r: &ChainRow| {
            s.ints[0].push(path as i64);
            s.ints[1].push(step as i64);
            s.dates[0].push(date);
            s.dates[1].push(date_ns(r.expiry));
            s.floats[0].push(finite_or_nan(r.maturity));
            s.floats[1].push(finite_or_nan(r.strike));
        };
        match self.layout {
            Layout::Long => {
                for r in rows {
                    contract(self, r);
                    self.kinds.push(match r.option_type {
                        crate::market::OptionType::Call => 0,
                        crate::market::OptionType::Put => 1,
                    });
                    for (i, x) in long_values(r).into_iter().enumerate() {
                        self.floats[2 + i].push(finite_or_nan(x));
                    }
                }
            }
            Layout::Wide => {
                for pair in rows.chunks_exact(2) {
                    let (call, put) = (&pair[0], &pair[1]);
                    contract(self, call);
                    for (i, x) in wide_values(call, put).into_iter().enumerate() {
                        self.floats[2 + i].push(finite_or_nan(x));
                    }
                }
            }
        }
    }

    /// The columns, named as in `options.csv`'s header.
    pub fn into_table(self) -> Table {
        let names: &[&str; 13] = match self.layout {
            Layout::Long => &COLUMNS,
            Layout::Wide => &WIDE_COLUMNS,
        };
        let [path, step] = self.ints;
        let [date, expiry] = self.dates;
        let mut floats = self.floats.into_iter();
        let mut columns: Vec<Column> = vec![
            Column::Int(path),
            Column::Int(step),
            Column::Date(date),
            Column::Date(expiry),
        ];
        columns.extend(floats.by_ref().take(2).map(Column::Float));
        if self.layout == Layout::Long {
            columns.push(Column::Category {
                codes: self.kinds,
                names: vec!["call".into(), "put".into()],
            });
        }
        columns.extend(floats.map(Column::Float));
        Table {
            columns: names.iter().map(|n| n.to_string()).zip(columns).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_nanoseconds_since_the_unix_epoch() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(date_ns(d(1970, 1, 1)), 0);
        assert_eq!(date_ns(d(1970, 1, 2)), 86_400_000_000_000);
        // 2025-01-02 is day 20,090 of the epoch (numpy: np.datetime64('2025-01-02').astype(int)).
        assert_eq!(date_ns(d(2025, 1, 2)), 20_090 * 86_400_000_000_000);
        assert_eq!(date_ns(d(1969, 12, 31)), -86_400_000_000_000);
    }
}
