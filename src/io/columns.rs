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
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Room for `n` values, allocated and not yet written, whose memory the
/// kernel may back with transparent huge pages.
///
/// Why not `vec![0; n]`: the zeros would be written once by the thread
/// that allocates and once more by the workers. glibc's `calloc` skips its
/// `memset` only for a fresh mapping, and after a run frees its columns
/// the allocator's dynamic mmap threshold rises past a 20 MB column, so
/// the next run's columns come from the heap and are zeroed serially, in
/// one thread, before the parallel work starts (measured: about 7 % of a
/// two-thread Heston run's CPU time in `memset`, issue 46). Here every
/// value is written exactly once, by the worker that owns its rows.
///
/// Why `madvise(MADV_HUGEPAGE)`: a column of 10⁷ rows is 80 MB of fresh
/// memory, and faulting it in 4 KiB pages (20,000 page faults, each with
/// its accounting) cost about a quarter of a Heston run's time into a
/// DataFrame. The advice asks for 2 MiB pages, as numpy does for its own
/// large arrays (numpy ≥ 1.19 on Linux). Where the kernel's huge pages are
/// off, or elsewhere than Linux, the memory is the same, in small pages.
fn room<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = n * std::mem::size_of::<T>();
        if bytes >= 2 * HUGE {
            // The 2 MiB-aligned part of the buffer.
            let start = v.as_ptr() as usize;
            let aligned = start.next_multiple_of(HUGE);
            let len = (start + bytes - aligned) / HUGE * HUGE;
            // SAFETY: [aligned, aligned + len) lies inside the vector's
            // allocation of `bytes` bytes, which lives until `v` is
            // dropped; MADV_HUGEPAGE changes only how the kernel backs
            // those pages, not their contents, and its failure is harmless
            // (ignored).
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
/// parallel: no growing vectors, no second copy, no zeroing pass (issue
/// 46). The rows start unwritten; [`SpotColumns::into_table`] hands the
/// columns over only once every row has been written.
#[derive(Debug)]
pub struct SpotColumns {
    rows: usize,
    rows_per_path: usize,
    asset_names: Option<Vec<String>>,
    path: Vec<i64>,
    step: Vec<i64>,
    date: Vec<i64>,
    asset: Vec<u32>,
    spot: Vec<f64>,
    variance: Vec<f64>,
    /// Rows written so far, by every part together.
    written: AtomicUsize,
}

/// The rows of some consecutive paths in a [`SpotColumns`], borrowed for
/// writing ([`SpotColumns::split`]); [`SpotRows::fill`] writes all of them.
#[derive(Debug)]
pub struct SpotRows<'a> {
    rows_per_path: usize,
    path: &'a mut [MaybeUninit<i64>],
    step: &'a mut [MaybeUninit<i64>],
    date: &'a mut [MaybeUninit<i64>],
    asset: &'a mut [MaybeUninit<u32>],
    spot: &'a mut [MaybeUninit<f64>],
    variance: &'a mut [MaybeUninit<f64>],
    written: &'a AtomicUsize,
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
            rows,
            rows_per_path,
            asset_names,
            path: room(rows),
            step: room(rows),
            date: room(rows),
            asset: room(asset_rows),
            spot: room(rows),
            variance: room(rows),
            written: AtomicUsize::new(0),
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
        for part in columns.split(chunk.paths()) {
            part.fill(chunk, dates)?;
        }
        Ok(columns)
    }

    /// The rows cut into parts of `paths_per_part` paths each (the last
    /// may be shorter), in path order: part `i` holds paths
    /// `i·paths_per_part…`.
    pub fn split(&mut self, paths_per_part: usize) -> Vec<SpotRows<'_>> {
        let rows = (self.rows_per_path * paths_per_part).max(1);
        let n = self.rows;
        let asset_rows = if self.asset_names.is_some() { n } else { 0 };
        let mut asset = self.asset.spare_capacity_mut()[..asset_rows].chunks_mut(rows);
        let written = &self.written;
        let rows_per_path = self.rows_per_path;
        self.path.spare_capacity_mut()[..n]
            .chunks_mut(rows)
            .zip(self.step.spare_capacity_mut()[..n].chunks_mut(rows))
            .zip(self.date.spare_capacity_mut()[..n].chunks_mut(rows))
            .zip(self.spot.spare_capacity_mut()[..n].chunks_mut(rows))
            .zip(self.variance.spare_capacity_mut()[..n].chunks_mut(rows))
            .map(|((((path, step), date), spot), variance)| SpotRows {
                rows_per_path,
                path,
                step,
                date,
                asset: asset.next().unwrap_or_default(),
                spot,
                variance,
                written,
            })
            .collect()
    }

    /// The columns, named as in `spot.csv`'s header. Fails (an internal
    /// error) unless every row has been written by [`SpotRows::fill`].
    pub fn into_table(mut self) -> Result<Table> {
        let written = self.written.load(Ordering::Acquire);
        if written != self.rows {
            return Err(Error::Internal(format!(
                "{written} of {} spot rows were written",
                self.rows
            )));
        }
        // SAFETY: each column has capacity for `rows` values (`room`), and
        // all `rows` of them are initialised: `written` counts the rows of
        // the parts whose `fill` wrote every value of every column it
        // holds, the parts are disjoint (`split`), and a part is consumed
        // by its `fill`, so no row is counted twice.
        unsafe {
            let n = self.rows;
            self.path.set_len(n);
            self.step.set_len(n);
            self.date.set_len(n);
            self.spot.set_len(n);
            self.variance.set_len(n);
            if self.asset_names.is_some() {
                self.asset.set_len(n);
            }
        }
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
        Ok(Table { columns })
    }
}

impl SpotRows<'_> {
    /// Writes every row of this part from `chunk`, whose paths are this
    /// part's, with `dates[k]` the date of step `k`. Fails (an internal
    /// error, nothing counted as written) when the chunk's paths, steps or
    /// dates do not cover the part exactly.
    pub fn fill(mut self, chunk: &PathChunk, dates: &[i64]) -> Result<()> {
        let assets = chunk.assets();
        let points = chunk.steps() + 1;
        let per_path = points * assets;
        let rows = chunk.paths() * per_path;
        if per_path != self.rows_per_path
            || rows != self.path.len()
            || dates.len() < points
            || (!self.asset.is_empty() && self.asset.len() != rows)
        {
            return Err(Error::Internal(format!(
                "a chunk of {} paths × {points} points × {assets} assets does not fit \
                 a part of {} rows of {} per path, with {} dates",
                chunk.paths(),
                self.path.len(),
                self.rows_per_path,
                dates.len()
            )));
        }
        if assets == 1 && self.asset.is_empty() {
            self.fill_one_asset(chunk, dates);
        } else {
            self.fill_generic(chunk, dates);
        }
        self.written.fetch_add(rows, Ordering::Release);
        Ok(())
    }

    /// [`SpotRows::fill`] of any chunk (checked by the caller): row by row,
    /// the assets of each point together.
    fn fill_generic(&mut self, chunk: &PathChunk, dates: &[i64]) {
        let assets = chunk.assets();
        let points = chunk.steps() + 1;
        let per_path = points * assets;
        for p in 0..chunk.paths() {
            let id = (chunk.first_path() + p as u64) as i64;
            let at = p * per_path..(p + 1) * per_path;
            // Element by element: the slices are a few assets long, where
            // `fill`/`copy_from_slice` would cost a library call each.
            let (path, step, date) = (
                &mut self.path[at.clone()],
                &mut self.step[at.clone()],
                &mut self.date[at.clone()],
            );
            let (spot, variance) = (&mut self.spot[at.clone()], &mut self.variance[at.clone()]);
            for (k, &d) in dates[..points].iter().enumerate() {
                let (s, v) = (chunk.spot(p, k), chunk.variance(p, k));
                for a in 0..assets {
                    let i = k * assets + a;
                    path[i].write(id);
                    step[i].write(k as i64);
                    date[i].write(d);
                    spot[i].write(s[a]);
                    variance[i].write(v[a]);
                }
            }
            if !self.asset.is_empty() {
                for (i, code) in self.asset[at].iter_mut().enumerate() {
                    code.write((i % assets) as u32);
                }
            }
        }
    }

    /// [`SpotRows::fill`] of a one-asset chunk without an `asset` column
    /// (checked by the caller, with the part's size):
    /// each output column is written as its own sequential stream, the
    /// constant and counting ones by loops the compiler vectorises, spot
    /// and variance gathered from the chunk's step-major arrays at a
    /// stride of one step. Measured (`perf`, ten-thousand-path Heston on
    /// two threads): the generic loop, a slice and its bounds checks per
    /// value and five streams at once, took 13 % of the run.
    fn fill_one_asset(&mut self, chunk: &PathChunk, dates: &[i64]) {
        let (n, points) = (chunk.paths(), chunk.steps() + 1);
        let (spots, variances) = chunk.all();
        let dates = &dates[..points];
        let columns = self
            .path
            .chunks_exact_mut(points)
            .zip(self.step.chunks_exact_mut(points))
            .zip(self.date.chunks_exact_mut(points))
            .zip(self.spot.chunks_exact_mut(points))
            .zip(self.variance.chunks_exact_mut(points));
        for (p, ((((path, step), date), spot), variance)) in columns.enumerate().take(n) {
            let id = (chunk.first_path() + p as u64) as i64;
            for x in path.iter_mut() {
                x.write(id);
            }
            for (k, x) in step.iter_mut().enumerate() {
                x.write(k as i64);
            }
            for (x, &d) in date.iter_mut().zip(dates) {
                x.write(d);
            }
            for (x, &v) in spot.iter_mut().zip(spots[p..].iter().step_by(n)) {
                x.write(v);
            }
            for (x, &v) in variance.iter_mut().zip(variances[p..].iter().step_by(n)) {
                x.write(v);
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

    /// A chunk of `paths` paths from path `first`, 2 assets, whose values
    /// name their place: spot `1000·path + 10·step + asset`.
    fn chunk(first: u64, paths: usize, steps: usize) -> PathChunk {
        chunk_of(first, paths, steps, 2)
    }

    fn chunk_of(first: u64, paths: usize, steps: usize, assets: usize) -> PathChunk {
        let mut c = PathChunk::new(first, paths, steps, assets);
        for p in 0..paths {
            for k in 0..=steps {
                let (s, v) = c.point_mut(p, k);
                for a in 0..assets {
                    s[a] = 1000.0 * (first as usize + p) as f64 + 10.0 * k as f64 + a as f64;
                    v[a] = -s[a];
                }
            }
        }
        c
    }

    #[test]
    fn parts_filled_by_their_chunks_give_every_row_once() {
        let (steps, dates) = (3, [10, 11, 12, 13]);
        let names = Some(vec!["a".to_string(), "b".to_string()]);
        let mut all = SpotColumns::new(5, steps, 2, names.clone()).unwrap();
        // Filled out of order, as workers finish: parts of 2, 2 and 1 paths.
        let mut parts = all.split(2);
        assert_eq!(parts.len(), 3);
        let last = parts.pop().unwrap();
        last.fill(&chunk(4, 1, steps), &dates).unwrap();
        for (i, part) in parts.into_iter().enumerate().rev() {
            part.fill(&chunk(2 * i as u64, 2, steps), &dates).unwrap();
        }
        let table = all.into_table().unwrap();
        assert_eq!(table.rows(), 5 * 4 * 2);
        let whole = SpotColumns::of_chunk(&chunk(0, 5, steps), &dates, names).unwrap();
        assert_eq!(table, whole.into_table().unwrap());
        let Some(Column::Float(spot)) = table.column("spot") else {
            panic!("no spot column")
        };
        // Row of path 3, step 2, asset 1.
        assert_eq!(spot[3 * 8 + 2 * 2 + 1], 3021.0);
    }

    #[test]
    fn columns_with_unwritten_rows_are_not_handed_over() {
        let dates = [0, 1, 2];
        let mut all = SpotColumns::new(4, 2, 2, None).unwrap();
        let mut parts = all.split(2);
        parts.pop();
        parts.pop().unwrap().fill(&chunk(0, 2, 2), &dates).unwrap();
        assert!(matches!(all.into_table(), Err(Error::Internal(_))));
        // A chunk that does not cover its part exactly writes nothing.
        let mut all = SpotColumns::new(2, 2, 2, None).unwrap();
        let part = all.split(2).pop().unwrap();
        assert!(part.fill(&chunk(0, 1, 2), &dates).is_err());
        assert!(all.into_table().is_err());
        let mut all = SpotColumns::new(2, 2, 2, None).unwrap();
        let part = all.split(2).pop().unwrap();
        assert!(part.fill(&chunk(0, 2, 2), &dates[..2]).is_err());
        assert!(all.into_table().is_err());
    }

    /// One asset without an `asset` column takes the column-by-column
    /// path; its rows equal those the generic path writes for the same
    /// chunk with an `asset` column, out-of-order parts included.
    #[test]
    fn one_asset_rows_equal_the_generic_ones() {
        let (steps, dates) = (4, [10, 11, 12, 13, 14]);
        let mut all = SpotColumns::new(5, steps, 1, None).unwrap();
        let mut parts = all.split(2);
        let last = parts.pop().unwrap();
        last.fill(&chunk_of(4, 1, steps, 1), &dates).unwrap();
        for (i, part) in parts.into_iter().enumerate().rev() {
            part.fill(&chunk_of(2 * i as u64, 2, steps, 1), &dates)
                .unwrap();
        }
        let fast = all.into_table().unwrap();
        let named = Some(vec!["a".to_string()]);
        let generic = SpotColumns::of_chunk(&chunk_of(0, 5, steps, 1), &dates, named)
            .unwrap()
            .into_table()
            .unwrap();
        for name in ["path", "step", "date", "spot", "variance"] {
            assert_eq!(fast.column(name), generic.column(name), "{name}");
        }
        let Some(Column::Float(spot)) = fast.column("spot") else {
            panic!("no spot column")
        };
        // Row of path 3, step 2.
        assert_eq!(spot[3 * 5 + 2], 3020.0);
    }
}
