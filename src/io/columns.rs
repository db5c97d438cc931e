//! A run's rows as typed columns in memory, for the faces that hand data
//! over without text (the Python module's DataFrames): the same columns,
//! names and values as `spot.csv` and `options.csv`, so a table read back
//! from the CSV equals the one collected here, value for value.
//!
//! Dates are nanoseconds since 1970-01-01 (numpy's `datetime64[ns]`);
//! categorical columns (`asset`, `option_type`) are codes into a list of
//! names. Non-finite chain values, written as empty fields in CSV, are NaN.

use super::chain_csv::{long_values, wide_values};
use crate::error::{Error, Result};
use crate::market::PathChunk;
use crate::pricing::chain::{Layout, PricedChain};
use crate::pricing::ChainRow;
use chrono::NaiveDate;

/// A column of `n` zeros (all-zero bytes are 0 and 0.0) whose memory the
/// kernel may back with transparent huge pages.
///
/// Why: a column of 10⁷ rows is 80 MB of fresh memory, and faulting it in
/// 4 KiB pages (20,000 page faults, each with its accounting) cost about a
/// quarter of a Heston run's time into a DataFrame. `madvise(MADV_HUGEPAGE)`
/// asks for 2 MiB pages, as numpy does for its own large arrays (numpy ≥
/// 1.19 on Linux). The request is advice: where the kernel's huge pages are
/// off, or elsewhere than Linux, the memory is the same, in small pages.
fn zeroed<T: Clone + Default>(n: usize) -> Vec<T> {
    let v = vec![T::default(); n];
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = n * std::mem::size_of::<T>();
        if bytes >= 2 * HUGE {
            // The 2 MiB-aligned part of the buffer; `vec!` of zeros came
            // from calloc, whose large blocks are fresh untouched mappings.
            let start = v.as_ptr() as usize;
            let aligned = start.next_multiple_of(HUGE);
            let len = (start + bytes - aligned) / HUGE * HUGE;
            // SAFETY: [aligned, aligned + len) lies inside the vector's
            // allocation, which lives until `v` is dropped; MADV_HUGEPAGE
            // changes only how the kernel backs those pages, not their
            // contents, and its failure is harmless (ignored).
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
    }
    v
}

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

/// The `spot.csv` columns of a whole run, allocated once at their final
/// size (`path,step,date[,asset],spot,variance`, one row per path, step
/// and asset) so that workers write their chunks' rows in place, in
/// parallel: no growing vectors, no second copy (issue 46). The memory is
/// zeroed lazily by the system, so untouched pages cost nothing.
#[derive(Debug)]
pub struct SpotColumns {
    rows_per_path: usize,
    asset_names: Option<Vec<String>>,
    path: Vec<i64>,
    step: Vec<i64>,
    date: Vec<i64>,
    asset: Vec<u32>,
    spot: Vec<f64>,
    variance: Vec<f64>,
}

/// The rows of some consecutive paths in a [`SpotColumns`], borrowed for
/// writing ([`SpotColumns::split`]).
#[derive(Debug)]
pub struct SpotRows<'a> {
    path: &'a mut [i64],
    step: &'a mut [i64],
    date: &'a mut [i64],
    asset: &'a mut [u32],
    spot: &'a mut [f64],
    variance: &'a mut [f64],
}

impl SpotColumns {
    /// Room for `paths` paths of `steps + 1` points of `assets` assets;
    /// `asset_names` (one per asset) adds the `asset` column of a
    /// multi-asset run.
    /// Fails when the row count overflows the address space.
    pub fn new(
        paths: usize,
        steps: usize,
        assets: usize,
        asset_names: Option<Vec<String>>,
    ) -> Result<Self> {
        let rows_per_path = (steps + 1) * assets;
        let rows = paths.checked_mul(rows_per_path).ok_or_else(|| {
            Error::parameter(
                "paths",
                paths,
                format!("{paths} paths of {rows_per_path} rows each cannot be held in memory"),
            )
        })?;
        let asset_rows = if asset_names.is_some() { rows } else { 0 };
        Ok(SpotColumns {
            rows_per_path,
            asset_names,
            path: zeroed(rows),
            step: zeroed(rows),
            date: zeroed(rows),
            asset: zeroed(asset_rows),
            spot: zeroed(rows),
            variance: zeroed(rows),
        })
    }

    /// The rows of one chunk's paths, with `dates[k]` the date of step `k`.
    pub fn of_chunk(
        chunk: &PathChunk,
        dates: &[i64],
        asset_names: Option<Vec<String>>,
    ) -> Result<Self> {
        let mut columns =
            SpotColumns::new(chunk.paths(), chunk.steps(), chunk.assets(), asset_names)?;
        for mut part in columns.split(chunk.paths()) {
            part.fill(chunk, dates);
        }
        Ok(columns)
    }

    /// The rows cut into parts of `paths_per_part` paths each (the last
    /// may be shorter), in path order: part `i` holds paths
    /// `i·paths_per_part…`.
    pub fn split(&mut self, paths_per_part: usize) -> Vec<SpotRows<'_>> {
        let rows = self.rows_per_path * paths_per_part.max(1);
        let asset_rows = if self.asset.is_empty() { 0 } else { rows };
        let mut asset = self.asset.chunks_mut(asset_rows.max(1));
        self.path
            .chunks_mut(rows)
            .zip(self.step.chunks_mut(rows))
            .zip(self.date.chunks_mut(rows))
            .zip(self.spot.chunks_mut(rows))
            .zip(self.variance.chunks_mut(rows))
            .map(|((((path, step), date), spot), variance)| SpotRows {
                path,
                step,
                date,
                asset: asset.next().unwrap_or_default(),
                spot,
                variance,
            })
            .collect()
    }

    /// The columns, named as in `spot.csv`'s header.
    pub fn into_table(self) -> Table {
        let mut columns = vec![
            ("path".to_string(), Column::Int(self.path)),
            ("step".to_string(), Column::Int(self.step)),
            ("date".to_string(), Column::Date(self.date)),
        ];
        if let Some(names) = self.asset_names {
            columns.push((
                "asset".to_string(),
                Column::Category {
                    codes: self.asset,
                    names,
                },
            ));
        }
        columns.push(("spot".to_string(), Column::Float(self.spot)));
        columns.push(("variance".to_string(), Column::Float(self.variance)));
        Table { columns }
    }
}

impl SpotRows<'_> {
    /// Writes the rows of `chunk`, whose paths are this part's, with
    /// `dates[k]` the date of step `k`.
    pub fn fill(&mut self, chunk: &PathChunk, dates: &[i64]) {
        let assets = chunk.assets();
        let points = (chunk.steps() + 1).min(dates.len());
        let per_path = points * assets;
        for p in 0..chunk.paths() {
            let id = (chunk.first_path() + p as u64) as i64;
            let rows = p * per_path..(p + 1) * per_path;
            self.path[rows.clone()].fill(id);
            // Element by element: the slices are a few assets long, where
            // `fill`/`copy_from_slice` would cost a library call each.
            let (step, date) = (&mut self.step[rows.clone()], &mut self.date[rows.clone()]);
            let (spot, variance) = (
                &mut self.spot[rows.clone()],
                &mut self.variance[rows.clone()],
            );
            for (k, &d) in dates.iter().enumerate().take(points) {
                let (s, v) = (chunk.spot(p, k), chunk.variance(p, k));
                for a in 0..assets {
                    let i = k * assets + a;
                    step[i] = k as i64;
                    date[i] = d;
                    spot[i] = s[a];
                    variance[i] = v[a];
                }
            }
            if !self.asset.is_empty() {
                for (i, code) in self.asset[rows].iter_mut().enumerate() {
                    *code = (i % assets) as u32;
                }
            }
        }
    }
}

/// Builds the `options.csv` rows of many chains as columns, in `layout`.
#[derive(Debug, Clone)]
pub struct ChainColumns {
    layout: Layout,
    ints: [Vec<i64>; 2],
    dates: [Vec<i64>; 2],
    kinds: Vec<u32>,
    floats: Vec<Vec<f64>>,
    /// The run's asset names (a multi-asset run) and each row's code.
    asset_names: Option<Vec<String>>,
    assets: Vec<u32>,
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
    /// An empty set of chains in `layout`; `asset_names` (one per asset)
    /// adds the `asset` column of a multi-asset run.
    pub fn new(layout: Layout, asset_names: Option<Vec<String>>) -> Self {
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
            asset_names,
            assets: Vec::new(),
        }
    }

    /// Appends the chain of one (path, step, date, asset): its rows come as
    /// (call, put) pairs per strike, as the chain builder makes them.
    pub fn push(&mut self, path: u64, step: usize, date: i64, asset: usize, rows: &[ChainRow]) {
        let with_asset = self.asset_names.is_some();
        let contract = |s: &mut Self, r: &ChainRow| {
            if with_asset {
                s.assets.push(asset as u32);
            }
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

    /// The columns of `chains`, with `dates[k]` the date of step `k`, as a
    /// table in `layout` (with the `asset` column when `asset_names`).
    pub fn of_chains(
        layout: Layout,
        chains: &[PricedChain],
        dates: &[i64],
        asset_names: Option<Vec<String>>,
    ) -> Table {
        let mut c = ChainColumns::new(layout, asset_names);
        for ch in chains {
            c.push(ch.path, ch.step, dates[ch.step], ch.asset, &ch.rows);
        }
        c.into_table()
    }

    /// The columns, named as in `options.csv`'s header.
    pub fn into_table(self) -> Table {
        let names = self.layout.header(self.asset_names.is_some());
        let [path, step] = self.ints;
        let [date, expiry] = self.dates;
        let mut floats = self.floats.into_iter();
        let mut columns: Vec<Column> =
            vec![Column::Int(path), Column::Int(step), Column::Date(date)];
        if let Some(names) = self.asset_names {
            columns.push(Column::Category {
                codes: self.assets,
                names,
            });
        }
        columns.push(Column::Date(expiry));
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
