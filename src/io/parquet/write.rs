//! Writing a run's columns as a Parquet file.

use super::NS_PER_DAY;
use crate::error::{Error, Result};
use crate::io::columns::{Column, Table};
use crate::io::AtomicFile;
use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, Encoding, ZstdLevel};
use ::parquet::file::properties::WriterProperties;
use ::parquet::schema::types::ColumnPath;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Date32Array, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Long-layout option columns a strike's call and put share: written
/// plain, where zstd finds the repeat.
const PAIRED: [&str; 4] = ["implied_vol", "gamma", "vega", "theta"];

/// Float columns with few distinct values, kept dictionary-encoded.
const DICTIONARY_FLOATS: [&str; 2] = ["maturity", "strike"];

/// zstd level: 3, zstd's own default; higher levels cost write time for a
/// few percent of size (measured in docs/src/scale.md).
const ZSTD_LEVEL: i32 = 3;

/// Rows per row group: readers can skip or parallelise by row group, and
/// the writer holds one in memory.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// The Arrow type of a column.
fn data_type(column: &Column) -> DataType {
    match column {
        Column::Int(_) => DataType::Int64,
        Column::Float(_) => DataType::Float64,
        Column::Date(_) => DataType::Date32,
        Column::Category { .. } => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
    }
}

/// The Arrow schema of a table's columns.
pub fn schema(table: &Table) -> SchemaRef {
    Arc::new(Schema::new(
        table
            .columns
            .iter()
            .map(|(name, c)| Field::new(name, data_type(c), false))
            .collect::<Vec<_>>(),
    ))
}

/// A table as an Arrow record batch of `schema` (the columns are moved,
/// dates converted to days).
fn batch(schema: &SchemaRef, table: Table) -> Result<RecordBatch> {
    let arrays = table
        .columns
        .into_iter()
        .map(|(_, c)| -> Result<ArrayRef> {
            Ok(match c {
                Column::Int(v) => Arc::new(Int64Array::from(v)),
                Column::Float(v) => Arc::new(Float64Array::from(v)),
                Column::Date(v) => Arc::new(Date32Array::from(
                    v.into_iter()
                        .map(|ns| (ns.div_euclid(NS_PER_DAY)) as i32)
                        .collect::<Vec<_>>(),
                )),
                Column::Category { codes, names } => {
                    let keys =
                        Int32Array::from(codes.into_iter().map(|c| c as i32).collect::<Vec<_>>());
                    let values = Arc::new(StringArray::from(names));
                    Arc::new(
                        DictionaryArray::<Int32Type>::try_new(keys, values)
                            .map_err(|e| Error::Internal(format!("dictionary column: {e}")))?,
                    )
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| Error::Internal(format!("record batch: {e}")))
}

/// A Parquet file written as its rows stream in, under a temporary name
/// until [`ParquetFile::commit`] (as [`AtomicFile`]).
pub struct ParquetFile {
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<AtomicFile>,
}

impl std::fmt::Debug for ParquetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ParquetFile {
    /// Opens `target` for rows with the columns of `like` (a table of the
    /// same columns, e.g. an empty one).
    pub fn create(target: &Path, like: &Table) -> Result<Self> {
        let schema = schema(like);
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(ZSTD_LEVEL)
                    .map_err(|e| Error::Internal(format!("zstd level: {e}")))?,
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("synthmarket {}", env!("CARGO_PKG_VERSION")));
        let long_layout = schema.fields().iter().any(|f| f.name() == "option_type");
        for field in schema.fields() {
            let name = field.name().as_str();
            if field.data_type() != &DataType::Float64 || DICTIONARY_FLOATS.contains(&name) {
                continue;
            }
            let col = ColumnPath::from(name);
            props = props.set_column_dictionary_enabled(col.clone(), false);
            if !(long_layout && PAIRED.contains(&name)) {
                props = props.set_column_encoding(col, Encoding::BYTE_STREAM_SPLIT);
            }
        }
        let file = AtomicFile::create(target)?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props.build()))
            .map_err(|e| parquet_error(target, e))?;
        Ok(ParquetFile {
            path: target.to_path_buf(),
            schema,
            writer,
        })
    }

    /// Appends the rows of `table` (the columns given to `create`).
    pub fn write(&mut self, table: Table) -> Result<()> {
        if table.rows() == 0 {
            return Ok(());
        }
        let batch = batch(&self.schema, table)?;
        self.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))
    }

    /// Writes the footer and renames the file to its final name.
    pub fn commit(self) -> Result<()> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| parquet_error(&self.path, e))?;
        file.commit()
    }
}

/// A Parquet failure while writing `path`: the I/O error beneath it when
/// there is one.
fn parquet_error(path: &Path, e: ::parquet::errors::ParquetError) -> Error {
    match e {
        ::parquet::errors::ParquetError::External(inner) => {
            match inner.downcast::<std::io::Error>() {
                Ok(io) => Error::Write {
                    path: path.to_path_buf(),
                    source: *io,
                },
                Err(other) => Error::Internal(format!("writing {}: {other}", path.display())),
            }
        }
        other => Error::Internal(format!("writing {}: {other}", path.display())),
    }
}
