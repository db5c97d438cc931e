use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under a temporary name (`.NAME.partial` beside it) and
/// renamed to its final name by [`AtomicFile::commit`]. Dropped without a
/// commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Opens the temporary file for `target`.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let temp = target.with_file_name(format!(".{name}.partial"));
        let file = File::create(&temp).map_err(|source| Error::Write {
            path: temp.clone(),
            source,
        })?;
        Ok(AtomicFile {
            target,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Internal("write after commit".into()))?;
        w.write_all(bytes).map_err(|source| Error::Write {
            path: self.temp.clone(),
            source,
        })
    }

    /// Flushes, syncs and renames the file to its final name.
    pub fn commit(mut self) -> Result<()> {
        let w = self
            .writer
            .take()
            .ok_or_else(|| Error::Internal("double commit".into()))?;
        let wrap = |source| Error::Write {
            path: self.temp.clone(),
            source,
        };
        let file = w.into_inner().map_err(|e| wrap(e.into_error()))?;
        file.sync_all().map_err(wrap)?;
        std::fs::rename(&self.temp, &self.target).map_err(|source| Error::Write {
            path: self.target.clone(),
            source,
        })
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes a whole file atomically.
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.commit()
}
