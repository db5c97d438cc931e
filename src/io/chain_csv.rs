//! The `options.csv` format, in two layouts of the same chains:
//!
//! * **long** (the default): one row per (path, step, expiry, strike, type),
//!   [`COLUMNS`];
//! * **wide**: one row per (path, step, expiry, strike) holding the call and
//!   the put side by side, [`WIDE_COLUMNS`] — half the rows and about 40 %
//!   fewer bytes, for large markets. The implied vol, gamma and vega are
//!   shared by the call and put of a strike (one implied vol per strike);
//!   theta is left out (a Black–Scholes–Merton function of the row).
//!
//! [`ChainReader`] reads either layout as long records, so `hedge` and
//! `validate` take both.

use crate::error::{Error, Location};
use crate::pricing::ChainRow;

pub use crate::pricing::chain::{Layout, COLUMNS, WIDE_COLUMNS};

/// Appends the chain of one (path, step, date[, asset]) to `out` in
/// `layout` (`asset`: the asset's name in a multi-asset run's file). The
/// chain's rows come as (call, put) pairs per strike, as
/// the chain builder (`pricing::price_chain`) makes them. Non-finite values (no
/// implied volatility: the price sits on a no-arbitrage bound to machine
/// precision) are written as empty fields. Returns the number of lines
/// written.
pub fn write_rows(
    layout: Layout,
    path: u64,
    step: usize,
    date: &str,
    asset: Option<&str>,
    rows: &[ChainRow],
    out: &mut Vec<u8>,
) -> usize {
    let mut w = RowWriter {
        ints: itoa::Buffer::new(),
        floats: ryu::Buffer::new(),
        expiry: None,
    };
    match layout {
        Layout::Long => {
            for r in rows {
                w.contract(path, step, date, asset, r, out);
                out.push(b',');
                out.extend_from_slice(r.option_type.to_string().as_bytes());
                for x in long_values(r) {
                    out.push(b',');
                    w.num(x, out);
                }
                out.push(b'\n');
            }
            rows.len()
        }
        Layout::Wide => {
            for pair in rows.chunks_exact(2) {
                let (call, put) = (&pair[0], &pair[1]);
                w.contract(path, step, date, asset, call, out);
                for x in wide_values(call, put) {
                    out.push(b',');
                    w.num(x, out);
                }
                out.push(b'\n');
            }
            rows.len() / 2
        }
    }
}

/// A long-layout row's values after `option_type`: price, implied_vol,
/// delta, gamma, vega, theta ([`COLUMNS`]).
pub fn long_values(r: &ChainRow) -> [f64; 6] {
    [r.price, r.implied_vol, r.delta, r.gamma, r.vega, r.theta]
}

/// A wide-layout row's values after `strike`: implied_vol, call, put,
/// call_delta, put_delta, gamma, vega ([`WIDE_COLUMNS`]); the implied vol,
/// gamma and vega are the strike's, shared by its call and put.
pub fn wide_values(call: &ChainRow, put: &ChainRow) -> [f64; 7] {
    [
        call.implied_vol,
        call.price,
        put.price,
        call.delta,
        put.delta,
        call.gamma,
        call.vega,
    ]
}

/// Number formatting for [`write_rows`]: shortest round-trip floats, and
/// each expiry's date formatted once per chain.
struct RowWriter {
    ints: itoa::Buffer,
    floats: ryu::Buffer,
    expiry: Option<(chrono::NaiveDate, String)>,
}

impl RowWriter {
    fn num(&mut self, x: f64, out: &mut Vec<u8>) {
        if x.is_finite() {
            out.extend_from_slice(self.floats.format(x).as_bytes());
        }
    }

    /// path,step,date[,asset],expiry,maturity,strike
    fn contract(
        &mut self,
        path: u64,
        step: usize,
        date: &str,
        asset: Option<&str>,
        r: &ChainRow,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(self.ints.format(path).as_bytes());
        out.push(b',');
        out.extend_from_slice(self.ints.format(step).as_bytes());
        out.push(b',');
        out.extend_from_slice(date.as_bytes());
        out.push(b',');
        if let Some(a) = asset {
            out.extend_from_slice(a.as_bytes());
            out.push(b',');
        }
        if self.expiry.as_ref().is_none_or(|(d, _)| *d != r.expiry) {
            self.expiry = Some((r.expiry, r.expiry.to_string()));
        }
        if let Some((_, text)) = &self.expiry {
            out.extend_from_slice(text.as_bytes());
        }
        out.push(b',');
        self.num(r.maturity, out);
        out.push(b',');
        self.num(r.strike, out);
    }
}

/// Where a requested long-layout column comes from in the file.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A column of the file.
    Column(usize),
    /// Wide layout: the call's or the put's column.
    Side { call: usize, put: usize },
    /// Wide layout: `call` or `put`, from the side being read.
    OptionType,
}

/// A reader that reports the number of bytes read so far after every read.
struct Counting<'a, R> {
    inner: R,
    read: u64,
    report: &'a dyn Fn(u64),
}

impl<R: std::io::Read> std::io::Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.report)(self.read);
        Ok(n)
    }
}

/// A streaming reader of an `options.csv` or `options.parquet`, for the
/// commands that read a market back (`hedge`, `validate`): the requested
/// long-layout columns located once by name, then one record at a time,
/// with errors that name the file, line (CSV) or row (Parquet) and field.
/// A wide-layout file reads as its long records: each row as its call, then
/// its put. (`check-arbitrage` keeps its own reader: it also reads standard
/// input, trims fields and takes files with optional columns.)
pub struct ChainReader<'a> {
    backend: Backend<'a>,
    path: std::path::PathBuf,
    headers: Vec<String>,
    sources: Vec<Source>,
    wide: bool,
    /// Wide layout: whether the current record is the row's put.
    put_side: bool,
    /// Wide layout: the row read last still has its put to give.
    pending_put: bool,
}

/// Where the records come from.
enum Backend<'a> {
    Csv {
        rdr: csv::Reader<Box<dyn std::io::Read + 'a>>,
        rec: csv::StringRecord,
    },
    Parquet {
        cur: super::parquet::ParquetCursor,
        /// The current row's fields as text, made when first asked for.
        texts: Vec<std::cell::OnceCell<String>>,
        progress: Option<&'a dyn Fn(u64)>,
        size: u64,
    },
}

impl<'a> ChainReader<'a> {
    /// Opens `path` and locates `names`, long-layout column names (in that
    /// order: [`Self::text`] and [`Self::number`] take an index into them);
    /// `progress`, if given, is told the number of bytes read so far after
    /// every read from the file (for Parquet, the share of its rows read
    /// times its size).
    pub fn open(
        path: &std::path::Path,
        names: &[&'static str],
        progress: Option<&'a dyn Fn(u64)>,
    ) -> crate::Result<Self> {
        let (backend, headers) = if super::parquet::is_parquet(path) {
            let cur = super::parquet::ParquetCursor::open(path)?;
            let headers = cur.names().to_vec();
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            let texts = vec![std::cell::OnceCell::new(); headers.len()];
            (
                Backend::Parquet {
                    cur,
                    texts,
                    progress,
                    size,
                },
                headers,
            )
        } else {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let buffered = std::io::BufReader::with_capacity(1 << 20, file);
            let reader: Box<dyn std::io::Read + 'a> = match progress {
                Some(report) => Box::new(Counting {
                    inner: buffered,
                    read: 0,
                    report,
                }),
                None => Box::new(buffered),
            };
            let mut rdr = csv::Reader::from_reader(reader);
            let headers = rdr
                .headers()
                .map_err(|e| {
                    Error::input(Location::file(path).line(1), format!("malformed CSV: {e}"))
                })?
                .iter()
                .map(str::to_owned)
                .collect();
            (
                Backend::Csv {
                    rdr,
                    rec: csv::StringRecord::new(),
                },
                headers,
            )
        };
        let headers: Vec<String> = headers;
        let find = |name: &str| headers.iter().position(|h| h == name);
        let wide = find("option_type").is_none() && find("call").is_some();
        let header_at = |field: &str| match &backend {
            Backend::Csv { .. } => Location::file(path).line(1).field(field),
            Backend::Parquet { .. } => Location::file(path).field(field),
        };
        let missing = |name: &str| {
            let layout = if wide { " (a wide-layout file)" } else { "" };
            Error::input(header_at(name), format!("missing column `{name}`{layout}"))
        };
        let column = |name: &str| find(name).map(Source::Column).ok_or_else(|| missing(name));
        let side = |call: &str, put: &str| match (find(call), find(put)) {
            (Some(call), Some(put)) => Ok(Source::Side { call, put }),
            (None, _) => Err(missing(call)),
            (_, None) => Err(missing(put)),
        };
        let sources = names
            .iter()
            .map(|&name| match (wide, name) {
                (true, "option_type") => Ok(Source::OptionType),
                (true, "price") => side("call", "put"),
                (true, "delta") => side("call_delta", "put_delta"),
                _ => column(name),
            })
            .collect::<crate::Result<_>>()?;
        Ok(ChainReader {
            backend,
            path: path.to_path_buf(),
            headers,
            sources,
            wide,
            put_side: false,
            pending_put: false,
        })
    }

    /// Reads the next record; false at the end of the file.
    pub fn next_record(&mut self) -> crate::Result<bool> {
        if self.pending_put {
            (self.pending_put, self.put_side) = (false, true);
            return Ok(true);
        }
        self.put_side = false;
        let path = &self.path;
        let read = match &mut self.backend {
            Backend::Csv { rdr, rec } => rdr.read_record(rec).map_err(|e| {
                Error::input(
                    Location::file(path).line(e.position().map_or(0, |p| p.line())),
                    format!("malformed CSV: {e}"),
                )
            })?,
            Backend::Parquet {
                cur,
                texts,
                progress,
                size,
            } => {
                texts.iter_mut().for_each(|t| {
                    t.take();
                });
                let read = cur.advance()?;
                if let Some(report) = progress {
                    if cur.row() % 8192 == 1 || !read {
                        report((cur.fraction_read() * *size as f64) as u64);
                    }
                }
                read
            }
        };
        self.pending_put = read && self.wide;
        Ok(read)
    }

    /// The file column behind field `i` of the current record.
    fn column(&self, i: usize) -> Option<usize> {
        match self.sources[i] {
            Source::Column(c) => Some(c),
            Source::Side { call, put } => Some(if self.put_side { put } else { call }),
            Source::OptionType => None,
        }
    }

    /// Field `i` (of the names given to [`Self::open`]) of the current
    /// record, as the CSV writes it.
    pub fn text(&self, i: usize) -> &str {
        match (self.column(i), &self.backend) {
            (Some(c), Backend::Csv { rec, .. }) => &rec[c],
            (Some(c), Backend::Parquet { cur, texts, .. }) => {
                texts[c].get_or_init(|| cur.cell(c).to_text())
            }
            (None, _) if self.put_side => "put",
            (None, _) => "call",
        }
    }

    /// Field `i` as a finite number; an empty field (a null or NaN in
    /// Parquet) reads as NaN when `empty_is_nan` (implied vols and greeks
    /// of options on a bound).
    pub fn number(&self, i: usize, empty_is_nan: bool) -> crate::Result<f64> {
        if let (Some(c), Backend::Parquet { cur, .. }) = (self.column(i), &self.backend) {
            let cell = cur.cell(c);
            let x = cell.number();
            return match x {
                Some(x) if x.is_finite() => Ok(x),
                Some(x) if x.is_nan() && empty_is_nan => Ok(f64::NAN),
                None if empty_is_nan && cell == super::parquet::Cell::Missing => Ok(f64::NAN),
                _ => Err(self.error(i, format!("`{}` is not a finite number", cell.to_text()))),
            };
        }
        let s = self.text(i);
        if empty_is_nan && s.is_empty() {
            return Ok(f64::NAN);
        }
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.error(i, format!("`{s}` is not a finite number")))
    }

    /// An input error at field `i` of the current record (named as the
    /// file's column).
    pub fn error(&self, i: usize, message: impl Into<String>) -> Error {
        let field = self
            .column(i)
            .map_or("option_type", |c| &self.headers[c])
            .to_string();
        let at = Location::file(&self.path);
        let at = match &self.backend {
            Backend::Csv { rec, .. } => at.line(rec.position().map_or(0, |p| p.line())),
            Backend::Parquet { cur, .. } => at.row(cur.row()),
        };
        Error::input(at.field(field), message)
    }
}
