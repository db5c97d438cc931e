//! Reading a multi-asset `spot.csv` (`path,step,date,asset,spot,variance`,
//! one row per path, step and asset), as written by a market model or a
//! correlated GBM run: each path's spot series per asset.

use crate::error::{Error, Location, Result};
use std::collections::HashMap;
use std::path::Path;

/// The spots of a multi-asset market: `spots[path][asset][step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSpots {
    /// Asset names, in the order of their first appearance.
    pub assets: Vec<String>,
    /// Path ids, in file order.
    pub ids: Vec<String>,
    /// Spot of each path, asset and step.
    pub spots: Vec<Vec<Vec<f64>>>,
}

/// Whether the header of the CSV file at `path` has an `asset` column.
pub fn has_asset_column(path: &Path) -> Result<bool> {
    if super::parquet::is_parquet(path) {
        let cur = super::parquet::ParquetCursor::open(path)?;
        return Ok(cur.column("asset").is_some());
    }
    let mut rdr = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::Read {
            path: path.to_path_buf(),
            source,
        },
        other => Error::input(
            Location::file(path).line(1),
            format!("malformed CSV: {other:?}"),
        ),
    })?;
    let h = rdr
        .headers()
        .map_err(|e| Error::input(Location::file(path).line(1), format!("malformed CSV: {e}")))?;
    Ok(h.iter().any(|c| c.trim() == "asset"))
}

impl MarketSpots {
    /// Reads the file. Each path's rows must be contiguous, every path must
    /// hold the same assets with the same number of steps, and spots must
    /// be positive and finite; errors name the file, line and column.
    pub fn read(path: &Path) -> Result<MarketSpots> {
        if super::parquet::is_parquet(path) {
            return Err(Error::input(
                Location::file(path),
                "a multi-asset Parquet market is not read here yet: simulate it with --format csv",
            ));
        }
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(std::io::BufReader::new(file));
        let headers = rdr
            .headers()
            .map_err(|e| Error::input(Location::file(path).line(1), format!("malformed CSV: {e}")))?
            .clone();
        let col = |n: &str| {
            headers.iter().position(|h| h == n).ok_or_else(|| {
                Error::input(
                    Location::file(path).line(1).field(n),
                    format!("missing column `{n}`"),
                )
            })
        };
        let (cp, ca, cs) = (col("path")?, col("asset")?, col("spot")?);
        let mut out = MarketSpots {
            assets: Vec::new(),
            ids: Vec::new(),
            spots: Vec::new(),
        };
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        let mut last_line = 1;
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                Error::input(
                    Location::file(path).line(e.position().map_or(0, |p| p.line())),
                    format!("malformed CSV: {e}"),
                )
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            last_line = line;
            let at = |field: &str| Location::file(path).line(line).field(field);
            let id = &rec[cp];
            if out.ids.last().map(String::as_str) != Some(id) {
                if !seen.insert(id.to_string()) {
                    return Err(Error::input(
                        at("path"),
                        format!("the rows of path {id} are not contiguous"),
                    ));
                }
                out.check_last(path, line)?;
                out.ids.push(id.to_string());
                out.spots.push(vec![Vec::new(); out.assets.len()]);
            }
            let name = &rec[ca];
            let a = match index.get(name) {
                Some(a) => *a,
                None if out.ids.len() == 1 => {
                    out.assets.push(name.to_string());
                    out.spots[0].push(Vec::new());
                    index.insert(name.to_string(), out.assets.len() - 1);
                    out.assets.len() - 1
                }
                None => {
                    return Err(Error::input(
                        at("asset"),
                        format!("asset `{name}` is not among the first path's assets"),
                    ))
                }
            };
            let s = rec[cs]
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| {
                    Error::input(
                        at("spot"),
                        format!("`{}` is not a positive number", &rec[cs]),
                    )
                })?;
            if let Some(series) = out.spots.last_mut() {
                series[a].push(s);
            }
        }
        if out.ids.is_empty() {
            return Err(Error::input(Location::file(path).line(2), "no rows"));
        }
        out.check_last(path, last_line)?;
        Ok(out)
    }

    /// The last path read holds every asset with as many steps as the first
    /// asset of the first path.
    fn check_last(&self, path: &Path, line: u64) -> Result<()> {
        let Some(last) = self.spots.last() else {
            return Ok(());
        };
        let want = self.spots[0].first().map_or(0, Vec::len);
        for (a, s) in last.iter().enumerate() {
            if s.len() != want || s.len() < 2 {
                return Err(Error::input(
                    Location::file(path).line(line).field("asset"),
                    format!(
                        "path {} has {} steps of asset `{}` where the first path has {want} (every path needs every asset at every step, at least 2 steps)",
                        self.ids.last().map_or("?", String::as_str),
                        s.len(),
                        self.assets[a]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Daily log returns, `[path][asset][day]`.
    pub fn log_returns(&self) -> Vec<Vec<Vec<f64>>> {
        self.spots
            .iter()
            .map(|p| {
                p.iter()
                    .map(|s| s.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
                    .collect()
            })
            .collect()
    }
}
