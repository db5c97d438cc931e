//! The `options.csv` format: one row per (path, step, expiry, strike, type).

use crate::pricing::ChainRow;

/// Column names of `options.csv`.
pub const COLUMNS: [&str; 13] = [
    "path",
    "step",
    "date",
    "expiry",
    "maturity",
    "strike",
    "option_type",
    "price",
    "implied_vol",
    "delta",
    "gamma",
    "vega",
    "theta",
];

/// Appends the chain of one (path, step, date) to `out`. Non-finite values
/// (no implied volatility: the price sits on a no-arbitrage bound to machine
/// precision) are written as empty fields.
pub fn write_rows(path: u64, step: usize, date: &str, rows: &[ChainRow], out: &mut Vec<u8>) {
    let mut ib = itoa::Buffer::new();
    let mut fb = ryu::Buffer::new();
    let mut num = |x: f64, out: &mut Vec<u8>| {
        if x.is_finite() {
            out.extend_from_slice(fb.format(x).as_bytes());
        }
    };
    for r in rows {
        out.extend_from_slice(ib.format(path).as_bytes());
        out.push(b',');
        out.extend_from_slice(ib.format(step).as_bytes());
        out.push(b',');
        out.extend_from_slice(date.as_bytes());
        out.push(b',');
        out.extend_from_slice(r.expiry.to_string().as_bytes());
        out.push(b',');
        num(r.maturity, out);
        out.push(b',');
        num(r.strike, out);
        out.push(b',');
        out.extend_from_slice(r.option_type.to_string().as_bytes());
        for x in [r.price, r.implied_vol, r.delta, r.gamma, r.vega, r.theta] {
            out.push(b',');
            num(x, out);
        }
        out.push(b'\n');
    }
}

/// A streaming reader of an `options.csv`, for the commands that read a
/// market back (`hedge`, `validate`): the requested columns located once by
/// name, then one record at a time, with errors that name the file, line and
/// field. (`check-arbitrage` keeps its own reader: it also reads standard
/// input, trims fields and takes files with optional columns.)
pub struct ChainReader {
    rdr: csv::Reader<Box<dyn std::io::Read>>,
    path: std::path::PathBuf,
    names: Vec<&'static str>,
    cols: Vec<usize>,
    rec: csv::StringRecord,
}

impl ChainReader {
    /// Opens `path` and locates `names` (in that order: [`Self::text`] and
    /// [`Self::number`] take an index into them); `progress`, if given,
    /// advances with the bytes read.
    pub fn open(
        path: &std::path::Path,
        names: &[&'static str],
        progress: Option<&indicatif::ProgressBar>,
    ) -> crate::Result<Self> {
        use crate::error::{Error, Location};
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let buffered = std::io::BufReader::with_capacity(1 << 20, file);
        let reader: Box<dyn std::io::Read> = match progress {
            Some(p) => Box::new(p.wrap_read(buffered)),
            None => Box::new(buffered),
        };
        let mut rdr = csv::Reader::from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::input(Location::file(path).line(1), format!("malformed CSV: {e}")))?
            .clone();
        let cols = names
            .iter()
            .map(|name| {
                headers.iter().position(|h| h == *name).ok_or_else(|| {
                    Error::input(
                        Location::file(path).line(1).field(*name),
                        format!("missing column `{name}`"),
                    )
                })
            })
            .collect::<crate::Result<_>>()?;
        Ok(ChainReader {
            rdr,
            path: path.to_path_buf(),
            names: names.to_vec(),
            cols,
            rec: csv::StringRecord::new(),
        })
    }

    /// Reads the next record; false at the end of the file.
    pub fn next_record(&mut self) -> crate::Result<bool> {
        let path = &self.path;
        self.rdr.read_record(&mut self.rec).map_err(|e| {
            crate::error::Error::input(
                crate::error::Location::file(path).line(e.position().map_or(0, |p| p.line())),
                format!("malformed CSV: {e}"),
            )
        })
    }

    /// Field `i` (of the names given to [`Self::open`]) of the current record.
    pub fn text(&self, i: usize) -> &str {
        &self.rec[self.cols[i]]
    }

    /// Field `i` as a finite number; an empty field reads as NaN when
    /// `empty_is_nan` (implied vols and greeks of options on a bound).
    pub fn number(&self, i: usize, empty_is_nan: bool) -> crate::Result<f64> {
        let s = self.text(i);
        if empty_is_nan && s.is_empty() {
            return Ok(f64::NAN);
        }
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.error(i, format!("`{s}` is not a finite number")))
    }

    /// An input error at field `i` of the current record.
    pub fn error(&self, i: usize, message: impl Into<String>) -> crate::error::Error {
        crate::error::Error::input(
            crate::error::Location::file(&self.path)
                .line(self.rec.position().map_or(0, |p| p.line()))
                .field(self.names[i]),
            message,
        )
    }
}
