//! Writers: tidy CSV output, Parquet files, the run manifest, and atomic (temp-then-rename)
//! files so an interrupted run never leaves a file that looks finished;
//! the readers of `spot.csv` and `options.csv`; the number format of report
//! tables.

mod atomic;
pub mod chain_csv;
pub mod cleanup;
pub mod columns;
pub mod json;
pub mod lock;
pub mod market_csv;
pub mod option_csv;
pub mod parquet;
pub mod spot_csv;
mod table;

pub use atomic::{write_atomic, write_safetensors, AtomicFile};
pub use table::table_number;
