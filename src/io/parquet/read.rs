//! Reading Parquet files back, row by row, for the commands that read a
//! market (`validate`, `hedge`, `check-arbitrage`).

use super::NS_PER_DAY;
use crate::error::{Error, Result};
use arrow_array::types::Int32Type;
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// One value of a Parquet file read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A whole number.
    Int(i64),
    /// A floating-point number (NaN where the CSV has an empty field).
    Float(f64),
    /// A calendar date.
    Date(NaiveDate),
    /// Text (a string or a dictionary-encoded category).
    Text(&'a str),
    /// A null, or a column of a type this reader does not know.
    Missing,
}

impl Cell<'_> {
    /// The value as a number: floats and whole numbers; text that parses.
    pub fn number(&self) -> Option<f64> {
        match *self {
            Cell::Int(i) => Some(i as f64),
            Cell::Float(x) => Some(x),
            Cell::Text(s) => s.trim().parse().ok(),
            Cell::Date(_) | Cell::Missing => None,
        }
    }

    /// The value as the CSV writes it (`2025-01-02` for dates, `17` for
    /// whole numbers, the shortest round-trip form for floats).
    pub fn to_text(&self) -> String {
        match *self {
            Cell::Int(i) => i.to_string(),
            Cell::Float(x) if x.is_finite() => x.to_string(),
            Cell::Float(_) | Cell::Missing => String::new(),
            Cell::Date(d) => d.to_string(),
            Cell::Text(s) => s.to_string(),
        }
    }
}

/// A Parquet file read row by row, batch by batch (memory: one batch), for
/// the commands that read a market back: the columns by name, each value
/// as a [`Cell`]. Reads the types synthmarket writes and those pandas,
/// polars or pyarrow write for the same columns (Int32/Int64, Float32/
/// Float64, Date32, timestamps, strings and dictionary-encoded strings).
pub struct ParquetCursor {
    path: PathBuf,
    names: Vec<String>,
    reader: ::parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    /// Index in `batch` of the current row.
    index: usize,
    /// 1-based number of the current row in the file (0 before the first).
    row: u64,
    rows: u64,
}

impl std::fmt::Debug for ParquetCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetCursor")
            .field("path", &self.path)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

/// A failure to read `path` as Parquet, as an input error naming the file.
fn read_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::input(
        crate::error::Location::file(path),
        format!("not a readable Parquet file: {e}"),
    )
}

impl ParquetCursor {
    /// Opens `path`, positioned before the first row.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let builder =
            ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| read_error(path, e))?;
        let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let names = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let reader = builder
            .with_batch_size(8192)
            .build()
            .map_err(|e| read_error(path, e))?;
        Ok(ParquetCursor {
            path: path.to_path_buf(),
            names,
            reader,
            batch: None,
            index: 0,
            row: 0,
            rows,
        })
    }

    /// The column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Moves to the next row; false at the end of the file.
    pub fn advance(&mut self) -> Result<bool> {
        if let Some(b) = &self.batch {
            if self.index + 1 < b.num_rows() {
                self.index += 1;
                self.row += 1;
                return Ok(true);
            }
        }
        loop {
            match self.reader.next() {
                None => {
                    self.batch = None;
                    return Ok(false);
                }
                Some(Err(e)) => return Err(read_error(&self.path, e)),
                Some(Ok(b)) if b.num_rows() == 0 => continue,
                Some(Ok(b)) => {
                    self.batch = Some(b);
                    self.index = 0;
                    self.row += 1;
                    return Ok(true);
                }
            }
        }
    }

    /// The 1-based number of the current row.
    pub fn row(&self) -> u64 {
        self.row
    }

    /// The share of the file's rows read so far, in [0, 1].
    pub fn fraction_read(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            (self.row as f64 / self.rows as f64).min(1.0)
        }
    }

    /// The value of column `col` in the current row.
    pub fn cell(&self, col: usize) -> Cell<'_> {
        use arrow_array::cast::AsArray;
        use arrow_array::types::{
            Date32Type, Float32Type, Float64Type, Int64Type, TimestampMicrosecondType,
            TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
        };
        use arrow_array::Array;
        use arrow_buffer::ArrowNativeType;
        use arrow_schema::TimeUnit;
        let Some(batch) = &self.batch else {
            return Cell::Missing;
        };
        let Some(a) = batch.columns().get(col) else {
            return Cell::Missing;
        };
        let i = self.index;
        if a.is_null(i) {
            return Cell::Missing;
        }
        let date = |days: i64| {
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::TimeDelta::try_days(days)?))
                .map_or(Cell::Missing, Cell::Date)
        };
        let timestamp = |v: i64, per_day: i64| date(v.div_euclid(per_day));
        match a.data_type() {
            DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(i)),
            DataType::Int32 => Cell::Int(i64::from(a.as_primitive::<Int32Type>().value(i))),
            DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
            DataType::Float32 => Cell::Float(f64::from(a.as_primitive::<Float32Type>().value(i))),
            DataType::Date32 => date(i64::from(a.as_primitive::<Date32Type>().value(i))),
            DataType::Timestamp(unit, _) => match unit {
                TimeUnit::Second => {
                    timestamp(a.as_primitive::<TimestampSecondType>().value(i), 86_400)
                }
                TimeUnit::Millisecond => timestamp(
                    a.as_primitive::<TimestampMillisecondType>().value(i),
                    86_400_000,
                ),
                TimeUnit::Microsecond => timestamp(
                    a.as_primitive::<TimestampMicrosecondType>().value(i),
                    86_400_000_000,
                ),
                TimeUnit::Nanosecond => timestamp(
                    a.as_primitive::<TimestampNanosecondType>().value(i),
                    NS_PER_DAY,
                ),
            },
            DataType::Utf8 => Cell::Text(a.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => Cell::Text(a.as_string::<i64>().value(i)),
            DataType::Dictionary(key, value) if **value == DataType::Utf8 => {
                use arrow_array::types::{Int16Type, Int8Type, UInt16Type, UInt32Type, UInt8Type};
                fn text<K: arrow_array::types::ArrowDictionaryKeyType>(
                    a: &dyn Array,
                    i: usize,
                ) -> Option<&str> {
                    let d = a.as_dictionary_opt::<K>()?;
                    let key = d.keys().value(i).as_usize();
                    let values = d.values().as_string_opt::<i32>()?;
                    (key < values.len()).then(|| values.value(key))
                }
                let a = a.as_ref();
                match **key {
                    DataType::Int8 => text::<Int8Type>(a, i),
                    DataType::Int16 => text::<Int16Type>(a, i),
                    DataType::Int32 => text::<Int32Type>(a, i),
                    DataType::Int64 => text::<Int64Type>(a, i),
                    DataType::UInt8 => text::<UInt8Type>(a, i),
                    DataType::UInt16 => text::<UInt16Type>(a, i),
                    DataType::UInt32 => text::<UInt32Type>(a, i),
                    _ => None,
                }
                .map_or(Cell::Missing, Cell::Text)
            }
            _ => Cell::Missing,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `path` names a Parquet file (by its extension).
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The file `stem` of a market directory: `stem.parquet` when the run was
/// written as Parquet, else `stem.csv` (which need not exist).
pub fn market_file(dir: &Path, stem: &str) -> PathBuf {
    let parquet = dir.join(format!("{stem}.parquet"));
    if parquet.exists() {
        parquet
    } else {
        dir.join(format!("{stem}.csv"))
    }
}
