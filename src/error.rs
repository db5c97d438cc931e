//! The library's one error type.
//!
//! Every error caused by user input names where it came from: the file, the
//! line and the field for data files, the parameter name for model parameters.
//! [`Error::exit_code`] maps errors onto the command-line convention: 2 for bad
//! input, 1 for an internal or environmental failure.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or `-` for standard input).
    pub file: PathBuf,
    /// 1-based line number, counting the header as line 1.
    pub line: Option<u64>,
    /// 1-based data row, for files without lines (Parquet).
    pub row: Option<u64>,
    /// Column or key name.
    pub field: Option<String>,
}

impl Location {
    /// A location that names only the file.
    pub fn file(file: impl AsRef<Path>) -> Self {
        Location {
            file: file.as_ref().to_path_buf(),
            line: None,
            row: None,
            field: None,
        }
    }

    /// Adds a line number.
    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// Adds a data row number (1-based; Parquet files have no lines).
    pub fn row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// Adds a field name.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        Ok(())
    }
}

/// Errors raised by synthmarket.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or inadmissible content in an input file.
    #[error("{location}: {message}")]
    Input {
        /// File, line and field of the problem.
        location: Location,
        /// What is wrong, in words.
        message: String,
    },
    /// A model or run parameter outside its admissible range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    Parameter {
        /// Parameter name as spelled on the command line and in config files.
        name: String,
        /// The offending value, formatted.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// An input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Underlying cause.
        #[source]
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Underlying cause.
        #[source]
        source: std::io::Error,
    },
    /// The arbitrage certifier found violations (reported separately).
    #[error("{0} static-arbitrage violation(s) found")]
    ArbitrageFound(usize),
    /// A bug or an unexpected state; never caused by user input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Builds an [`Error::Input`].
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }

    /// Builds an [`Error::Parameter`].
    pub fn parameter(
        name: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Error::Parameter {
            name: name.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// The message with its causes, each on a line `  caused by: …` unless
    /// the message already says it: what the CLI prints after `error: `,
    /// and the Python module's exception text.
    pub fn report(&self) -> String {
        let mut msg = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(&format!("\n  caused by: {text}"));
            }
            source = s.source();
        }
        msg
    }

    /// Process exit code for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Parameter { .. } | Error::Read { .. } => 2,
            Error::Write { .. } | Error::Internal(_) | Error::ArbitrageFound(_) => 1,
        }
    }
}
