//! The `spot.csv` format: one row per (path, step[, asset]) with columns
//! `path,step,date[,asset],spot,variance`.
//!
//! Numbers are written in the shortest form that reads back to the same f64
//! (ryu), so a file round-trips exactly and is byte-identical across runs.

use crate::market::{BusinessCalendar, PathChunk, TimeGrid};

/// Formats chunks of paths as CSV rows.
#[derive(Debug, Clone)]
pub struct SpotCsvFormat {
    dates: Vec<String>,
    asset_names: Option<Vec<String>>,
}

impl SpotCsvFormat {
    /// One date per grid point from the calendar; asset names when the run
    /// has several assets (adds the `asset` column).
    pub fn new(
        grid: &TimeGrid,
        calendar: &BusinessCalendar,
        asset_names: Option<Vec<String>>,
    ) -> Self {
        let dates = (0..=grid.steps())
            .map(|k| calendar.date_at(grid.time(k)).to_string())
            .collect();
        SpotCsvFormat { dates, asset_names }
    }

    /// The date string of grid point `k`.
    pub fn date(&self, k: usize) -> &str {
        &self.dates[k]
    }

    /// The header line, with its newline.
    pub fn header(&self) -> &'static str {
        if self.asset_names.is_some() {
            "path,step,date,asset,spot,variance\n"
        } else {
            "path,step,date,spot,variance\n"
        }
    }

    /// The rows of `chunk` in a buffer sized for them.
    pub fn format_chunk(&self, chunk: &PathChunk) -> Vec<u8> {
        // ~60 bytes per row: indices, a 10-byte date, two shortest-form doubles.
        let rows = chunk.paths() * (chunk.steps() + 1) * chunk.assets();
        let mut buf = Vec::with_capacity(rows * 64);
        self.write_chunk(chunk, &mut buf);
        buf
    }

    /// Appends the rows of `chunk` to `out`.
    pub fn write_chunk(&self, chunk: &PathChunk, out: &mut Vec<u8>) {
        let mut ib = itoa::Buffer::new();
        let mut fb = ryu::Buffer::new();
        for p in 0..chunk.paths() {
            let mut path_buf = [0u8; 24];
            let path_str = ib.format(chunk.first_path() + p as u64).as_bytes();
            let plen = path_str.len();
            path_buf[..plen].copy_from_slice(path_str);
            for (k, date) in self.dates.iter().enumerate().take(chunk.steps() + 1) {
                let spots = chunk.spot(p, k);
                let vars = chunk.variance(p, k);
                for a in 0..chunk.assets() {
                    out.extend_from_slice(&path_buf[..plen]);
                    out.push(b',');
                    out.extend_from_slice(ib.format(k).as_bytes());
                    out.push(b',');
                    out.extend_from_slice(date.as_bytes());
                    out.push(b',');
                    if let Some(names) = &self.asset_names {
                        out.extend_from_slice(names[a].as_bytes());
                        out.push(b',');
                    }
                    out.extend_from_slice(fb.format(spots[a]).as_bytes());
                    out.push(b',');
                    out.extend_from_slice(fb.format(vars[a]).as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
}

/// The paths of a single-asset `spot.csv`, read back: spot and variance per
/// path, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotPanel {
    /// Path ids, in file order.
    pub ids: Vec<String>,
    /// Dates of the first path's rows.
    pub dates: Vec<String>,
    /// Spot of each path at each step.
    pub spots: Vec<Vec<f64>>,
    /// Variance state of each path at each step (annualised).
    pub variances: Vec<Vec<f64>>,
}

impl SpotPanel {
    /// Whether a CSV header line is that of a `spot.csv`.
    pub fn is_spot_header(header: &str) -> bool {
        let cols: Vec<&str> = header.trim_end().split(',').collect();
        cols.contains(&"path") && cols.contains(&"spot")
    }

    /// Reads a single-asset `spot.csv`. Rows of one path must be contiguous;
    /// spots must be positive and finite; a missing `variance` column reads
    /// as NaN.
    ///
    /// A `.parquet` file (`simulate --format parquet`) reads the same way,
    /// its rows numbered from 1 in errors.
    pub fn read(path: &std::path::Path) -> crate::Result<SpotPanel> {
        Self::read_asset(path, None)
    }

    /// [`Self::read`], or with `asset` one asset's rows of a multi-asset
    /// file (its `asset` column); a file without that column, or without
    /// that asset, is an error naming it.
    pub fn read_asset(path: &std::path::Path, asset: Option<&str>) -> crate::Result<SpotPanel> {
        use crate::error::{Error, Location};
        if super::parquet::is_parquet(path) {
            return Self::read_parquet(path, asset);
        }
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rdr = csv::Reader::from_reader(std::io::BufReader::new(file));
        let headers = rdr
            .headers()
            .map_err(|e| Error::input(Location::file(path).line(1), format!("malformed CSV: {e}")))?
            .clone();
        let ca = headers.iter().position(|h| h == "asset");
        if let Some(e) = asset_column_error(ca.is_some(), asset) {
            return Err(Error::input(Location::file(path).line(1).field("asset"), e));
        }
        let col = |n: &str| {
            headers.iter().position(|h| h == n).ok_or_else(|| {
                Error::input(
                    Location::file(path).line(1).field(n),
                    format!("missing column `{n}`"),
                )
            })
        };
        let (cp, cs) = (col("path")?, col("spot")?);
        let cd = headers.iter().position(|h| h == "date");
        let cv = headers.iter().position(|h| h == "variance");
        let mut panel = SpotPanel {
            ids: Vec::new(),
            dates: Vec::new(),
            spots: Vec::new(),
            variances: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                Error::input(
                    Location::file(path).line(e.position().map_or(0, |p| p.line())),
                    format!("malformed CSV: {e}"),
                )
            })?;
            if let (Some(c), Some(a)) = (ca, asset) {
                if &rec[c] != a {
                    continue;
                }
            }
            let line = rec.position().map_or(0, |p| p.line());
            let number = |c: usize, name: &str, positive: bool| -> crate::Result<f64> {
                rec[c]
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && (!positive || *x > 0.0))
                    .ok_or_else(|| {
                        Error::input(
                            Location::file(path).line(line).field(name),
                            format!(
                                "`{}` is not a {}number",
                                &rec[c],
                                if positive { "positive " } else { "finite " }
                            ),
                        )
                    })
            };
            let s = number(cs, "spot", true)?;
            let v = match cv {
                Some(c) => number(c, "variance", false)?,
                None => f64::NAN,
            };
            panel
                .push_row(&mut seen, &rec[cp], || cd.map(|c| rec[c].to_string()), s, v)
                .map_err(|m| Error::input(Location::file(path).line(line).field("path"), m))?;
        }
        if panel.spots.is_empty() {
            return Err(no_rows(Location::file(path).line(2), asset));
        }
        Ok(panel)
    }

    /// Adds a row of path `id` (its rows must be contiguous: `seen` holds
    /// the ids met so far); the first path's rows also give the dates.
    fn push_row(
        &mut self,
        seen: &mut std::collections::HashSet<String>,
        id: &str,
        date: impl FnOnce() -> Option<String>,
        spot: f64,
        variance: f64,
    ) -> std::result::Result<(), String> {
        if self.ids.last().map(String::as_str) != Some(id) {
            if !seen.insert(id.to_string()) {
                return Err(format!("rows of path {id} are not contiguous"));
            }
            self.ids.push(id.to_string());
            self.spots.push(Vec::new());
            self.variances.push(Vec::new());
        }
        if self.ids.len() == 1 {
            if let Some(d) = date() {
                self.dates.push(d);
            }
        }
        if let (Some(sp), Some(vs)) = (self.spots.last_mut(), self.variances.last_mut()) {
            sp.push(spot);
            vs.push(variance);
        }
        Ok(())
    }

    fn read_parquet(path: &std::path::Path, asset: Option<&str>) -> crate::Result<SpotPanel> {
        use super::parquet::{Cell, ParquetCursor};
        use crate::error::{Error, Location};
        let mut cur = ParquetCursor::open(path)?;
        let ca = cur.column("asset");
        if let Some(e) = asset_column_error(ca.is_some(), asset) {
            return Err(Error::input(Location::file(path).field("asset"), e));
        }
        let col = |n: &str| {
            cur.column(n).ok_or_else(|| {
                Error::input(
                    Location::file(path).field(n),
                    format!("missing column `{n}`"),
                )
            })
        };
        let (cp, cs) = (col("path")?, col("spot")?);
        let (cd, cv) = (cur.column("date"), cur.column("variance"));
        let mut panel = SpotPanel {
            ids: Vec::new(),
            dates: Vec::new(),
            spots: Vec::new(),
            variances: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        while cur.advance()? {
            if let (Some(c), Some(a)) = (ca, asset) {
                if cur.cell(c).to_text() != a {
                    continue;
                }
            }
            let at = |name: &str| Location::file(path).row(cur.row()).field(name);
            let number = |c: usize, name: &str, positive: bool| -> crate::Result<f64> {
                let cell = cur.cell(c);
                cell.number()
                    .filter(|x| x.is_finite() && (!positive || *x > 0.0))
                    .ok_or_else(|| {
                        Error::input(
                            at(name),
                            format!(
                                "`{}` is not a {}number",
                                cell.to_text(),
                                if positive { "positive " } else { "finite " }
                            ),
                        )
                    })
            };
            let s = number(cs, "spot", true)?;
            let v = match cv {
                Some(c) => number(c, "variance", false)?,
                None => f64::NAN,
            };
            let id = match cur.cell(cp) {
                Cell::Missing => return Err(Error::input(at("path"), "missing path")),
                c => c.to_text(),
            };
            panel
                .push_row(&mut seen, &id, || cd.map(|c| cur.cell(c).to_text()), s, v)
                .map_err(|m| Error::input(at("path"), m))?;
        }
        if panel.spots.is_empty() {
            return Err(no_rows(Location::file(path), asset));
        }
        Ok(panel)
    }

    /// Daily log returns of each path.
    pub fn log_returns(&self) -> Vec<Vec<f64>> {
        self.spots
            .iter()
            .map(|s| s.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
            .collect()
    }
}

/// Why a spot file cannot be read for `asset`: a multi-asset file read
/// without choosing an asset, or an asset asked of a single-asset file.
fn asset_column_error(has_column: bool, asset: Option<&str>) -> Option<&'static str> {
    match (has_column, asset) {
        (true, None) => Some(
            "a file of several assets (an `asset` column): choose one (`hedge --asset NAME`), or give one asset's series",
        ),
        (false, Some(_)) => Some("no `asset` column: this is one asset's file, drop --asset"),
        _ => None,
    }
}

/// The error of a spot file with no rows (for `asset`: none of that asset).
fn no_rows(at: crate::error::Location, asset: Option<&str>) -> crate::error::Error {
    match asset {
        Some(a) => crate::error::Error::input(
            at.field("asset"),
            format!("no rows of asset `{a}` (the names are those of the `asset` column)"),
        ),
        None => crate::error::Error::input(at, "no rows"),
    }
}

/// Whether the first line of the file at `path` is the header of a
/// `spot.csv` (see [`SpotPanel::is_spot_header`]).
pub fn is_spot_csv(path: &std::path::Path) -> crate::Result<bool> {
    use crate::error::Error;
    use std::io::BufRead;
    if super::parquet::is_parquet(path) {
        let cur = super::parquet::ParquetCursor::open(path)?;
        return Ok(cur.column("path").is_some() && cur.column("spot").is_some());
    }
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut header = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut header)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(SpotPanel::is_spot_header(&header))
}

/// The daily log-return series of a file: every path of a `spot.csv`, or
/// the one series of a price history (its `column`, or by default
/// `adj_close` if present, else `close`).
pub fn read_series(path: &std::path::Path, column: Option<&str>) -> crate::Result<Vec<Vec<f64>>> {
    if is_spot_csv(path)? {
        Ok(SpotPanel::read(path)?.log_returns())
    } else {
        Ok(vec![
            crate::market::SpotHistory::from_csv(path, column)?.log_returns()
        ])
    }
}
