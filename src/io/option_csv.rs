//! Option files: CSV with a header, required columns found by name, any
//! other columns passed through unchanged. `-` is standard input/output.
//! Output is assembled in memory and written at the end (atomically for
//! files), so a malformed input never leaves partial output.

use crate::error::{Error, Location, Result};
use crate::io::write_atomic;
use crate::market::{MarketState, OptionSpec, OptionType};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A parsed option file.
#[derive(Debug)]
pub struct OptionTable {
    source: PathBuf,
    headers: csv::StringRecord,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl OptionTable {
    /// Reads `path` (`-` for standard input).
    pub fn read(path: &Path) -> Result<Self> {
        let mut text = Vec::new();
        let stdin = path.as_os_str() == "-";
        let shown = if stdin { Path::new("<stdin>") } else { path };
        let read = if stdin {
            std::io::stdin().read_to_end(&mut text)
        } else {
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut text))
        };
        read.map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&text, shown)
    }

    /// Parses an option file held in memory; `shown` names it in errors.
    pub fn from_bytes(text: &[u8], shown: &Path) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text);
        let loc = |line: Option<u64>| {
            let l = Location::file(shown);
            match line {
                Some(n) => l.line(n),
                None => l,
            }
        };
        let headers = rdr
            .headers()
            .map_err(|e| {
                Error::input(
                    loc(e.position().map(|p| p.line())),
                    format!("malformed CSV: {e}"),
                )
            })?
            .clone();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(Error::input(loc(Some(1)), "missing header line"));
        }
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("malformed CSV: {len} fields where the header has {expected_len}")
                    }
                    _ => format!("malformed CSV: {e}"),
                };
                Error::input(loc(e.position().map(|p| p.line())), msg)
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            rows.push((line, rec));
        }
        Ok(OptionTable {
            source: shown.to_path_buf(),
            headers,
            rows,
        })
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Index of a required column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| {
            Error::input(
                Location::file(&self.source).line(1).field(name),
                format!(
                    "missing column `{name}` (found: {})",
                    self.headers.iter().collect::<Vec<_>>().join(",")
                ),
            )
        })
    }

    /// Indices of several required columns.
    pub fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N]> {
        let mut out = [0; N];
        for (o, n) in out.iter_mut().zip(names) {
            *o = self.column(n)?;
        }
        Ok(out)
    }

    fn at(&self, row: usize, name: &str) -> Location {
        Location::file(&self.source)
            .line(self.rows[row].0)
            .field(name)
    }

    /// A finite number from row `row`, column `col` named `name`.
    pub fn number(&self, row: usize, col: usize, name: &str) -> Result<f64> {
        let raw = &self.rows[row].1[col];
        let x: f64 = raw
            .parse()
            .map_err(|_| Error::input(self.at(row, name), format!("`{raw}` is not a number")))?;
        if !x.is_finite() {
            return Err(Error::input(
                self.at(row, name),
                format!("`{raw}` is not finite"),
            ));
        }
        Ok(x)
    }

    /// An option type (`call`/`put`/`c`/`p`).
    pub fn option_type(&self, row: usize, col: usize) -> Result<OptionType> {
        self.rows[row].1[col]
            .parse()
            .map_err(|m: String| Error::input(self.at(row, "option_type"), m))
    }

    /// The columns that define a contract in its market, in the order
    /// [`Self::contract`] expects.
    pub const CONTRACT_COLUMNS: [&'static str; 6] = [
        "option_type",
        "spot",
        "strike",
        "maturity",
        "rate",
        "dividend",
    ];

    /// The contract and market of row `row`, from the columns found by
    /// `columns(CONTRACT_COLUMNS)`. The outer error is a malformed file
    /// (unparseable field); the inner one an inadmissible value (negative
    /// strike…), which callers may report per row.
    pub fn contract(
        &self,
        row: usize,
        cols: &[usize; 6],
    ) -> Result<Result<(OptionSpec, MarketState)>> {
        let kind = self.option_type(row, cols[0])?;
        let [s, k, t, r, q] = [
            (1, "spot"),
            (2, "strike"),
            (3, "maturity"),
            (4, "rate"),
            (5, "dividend"),
        ]
        .map(|(i, name)| self.number(row, cols[i], name));
        let (s, k, t, r, q) = (s?, k?, t?, r?, q?);
        Ok(OptionSpec::new(kind, k, t).and_then(|spec| Ok((spec, MarketState::new(s, r, q)?))))
    }

    /// Wraps a parameter error of row `row` with the file and line.
    pub fn row_error(&self, row: usize, e: Error) -> Error {
        match e {
            Error::Parameter {
                name,
                value,
                reason,
            } => Error::input(self.at(row, &name), format!("{value}: {reason}")),
            other => other,
        }
    }

    /// Writes the table with `extra` columns appended (one `Vec` of strings
    /// per row) to `out` (`-` for standard output).
    pub fn write_with(
        &self,
        out: &Path,
        extra_headers: &[&str],
        extra: &[Vec<String>],
    ) -> Result<()> {
        let mut wtr = csv::WriterBuilder::new().from_writer(Vec::new());
        let mut header: Vec<&str> = self.headers.iter().collect();
        header.extend_from_slice(extra_headers);
        let wrap = |e: csv::Error| Error::Internal(format!("formatting CSV: {e}"));
        wtr.write_record(&header).map_err(wrap)?;
        for ((_, rec), more) in self.rows.iter().zip(extra) {
            let mut fields: Vec<&str> = rec.iter().collect();
            fields.extend(more.iter().map(String::as_str));
            wtr.write_record(&fields).map_err(wrap)?;
        }
        let bytes = wtr
            .into_inner()
            .map_err(|e| Error::Internal(format!("formatting CSV: {e}")))?;
        if out.as_os_str() == "-" {
            std::io::stdout()
                .lock()
                .write_all(&bytes)
                .map_err(|source| Error::Write {
                    path: out.to_path_buf(),
                    source,
                })
        } else {
            write_atomic(out, &bytes)
        }
    }
}

/// Shortest round-trip decimal form of a number.
pub fn fmt(x: f64) -> String {
    let mut b = ryu::Buffer::new();
    b.format(x).to_string()
}
