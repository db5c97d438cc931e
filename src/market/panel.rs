//! A panel of daily prices: one date column and one price column per asset
//! (a "wide" file such as `data/sp500_20stocks_1990_2018.csv`), every asset
//! on the same dates, plus the check that an index history shares them.

use super::history::SpotHistory;
use crate::error::{Error, Location, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// Daily prices of several assets on common dates. Each asset is a
/// [`SpotHistory`] validated like a one-series file (strictly increasing
/// dates, positive finite prices), so a missing value or a non-numeric
/// field is reported with the file, its line and the ticker's column.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelHistory {
    source: PathBuf,
    assets: Vec<SpotHistory>,
}

impl PanelHistory {
    /// Reads a wide CSV file: a `date` column, and every other column is an
    /// asset (its header is the asset's name). At least two assets.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses a wide panel held in memory; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let names = {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(true)
                .trim(csv::Trim::Headers)
                .from_reader(bytes);
            let headers = rdr.headers().map_err(|e| {
                Error::input(Location::file(path).line(1), format!("malformed CSV: {e}"))
            })?;
            if !headers.iter().any(|h| h == "date") {
                return Err(Error::input(
                    Location::file(path).line(1).field("date"),
                    "no `date` column in the header of the panel",
                ));
            }
            let names: Vec<String> = headers
                .iter()
                .filter(|h| *h != "date")
                .map(str::to_string)
                .collect();
            let mut seen = std::collections::HashSet::new();
            for n in &names {
                if n.is_empty() || !seen.insert(n.as_str()) {
                    return Err(Error::input(
                        Location::file(path).line(1).field(n.clone()),
                        if n.is_empty() {
                            "an asset column without a name".to_string()
                        } else {
                            format!("asset `{n}` appears twice in the header")
                        },
                    ));
                }
                if n == "index" {
                    return Err(Error::input(
                        Location::file(path).line(1).field("index"),
                        "`index` is reserved for the index series (give it with --index)",
                    ));
                }
            }
            names
        };
        if names.len() < 2 {
            return Err(Error::input(
                Location::file(path).line(1),
                format!(
                    "a panel needs at least two asset columns after `date`; found {}",
                    names.len()
                ),
            ));
        }
        // One pass per asset over the same bytes: each column gets the full
        // checks of a one-series history, which name the column as the field.
        // The passes run on the thread pool (a 20-stock panel of 7,300 days:
        // 35 ms on one thread, the fixed cost of a market run that starts
        // from a date); the first error in column order is the one reported,
        // whatever the thread count.
        use rayon::prelude::*;
        let parsed: Vec<Result<SpotHistory>> = names
            .par_iter()
            .map(|n| SpotHistory::from_reader(bytes, path, Some(n)))
            .collect();
        let assets = parsed.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(PanelHistory {
            source: path.to_path_buf(),
            assets,
        })
    }

    /// The file it was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Asset names, in the file's column order.
    pub fn names(&self) -> Vec<&str> {
        self.assets.iter().map(|a| a.column()).collect()
    }

    /// Number of assets (≥ 2).
    pub fn n_assets(&self) -> usize {
        self.assets.len()
    }

    /// The common dates.
    pub fn dates(&self) -> &[NaiveDate] {
        self.assets[0].dates()
    }

    /// Asset `i` as a one-series history.
    pub fn asset(&self, i: usize) -> &SpotHistory {
        &self.assets[i]
    }

    /// Every asset as a one-series history.
    pub fn assets(&self) -> &[SpotHistory] {
        &self.assets
    }

    /// Checks that `index` is observed on exactly the panel's dates: an
    /// error names the index file, the line of the first date that differs
    /// and both dates.
    pub fn check_same_dates(&self, index: &SpotHistory) -> Result<()> {
        let (a, b) = (self.dates(), index.dates());
        let at = |i: usize| {
            Location::file(index.source())
                .line(i as u64 + 2)
                .field("date")
        };
        if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
            return Err(Error::input(
                at(i),
                format!(
                    "the index has {} where the panel {} has {} (line {}): the index must be observed on the panel's dates",
                    b[i],
                    self.source.display(),
                    a[i],
                    i + 2
                ),
            ));
        }
        if a.len() != b.len() {
            let i = a.len().min(b.len());
            return Err(Error::input(
                at(i),
                format!(
                    "the index has {} dates and the panel {} has {} (they agree up to {}): the index must be observed on the panel's dates",
                    b.len(),
                    self.source.display(),
                    a.len(),
                    a[i - 1]
                ),
            ));
        }
        Ok(())
    }
}
