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
        super::cleanup::register_file(&temp);
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
        let renamed = std::fs::rename(&self.temp, &self.target).map_err(|source| Error::Write {
            path: self.target.clone(),
            source,
        });
        super::cleanup::unregister_file(&self.temp);
        renamed
    }
}

/// Writing through `std::io::Write` (for writers that take one, such as
/// Parquet's): errors are plain I/O errors on the temporary file.
impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temp);
            super::cleanup::unregister_file(&self.temp);
        }
    }
}

/// Writes `tensors` as a safetensors file, atomically and with the
/// permissions of any file this crate writes (`File::create`, so the
/// user's umask). candle's and safetensors' own `save` go through a
/// `tempfile`, which creates it owner-only (0600): a model directory
/// shared with a team would not be readable by it.
pub fn write_safetensors(
    target: impl AsRef<Path>,
    tensors: &std::collections::HashMap<String, candle_core::Tensor>,
) -> Result<()> {
    let target = target.as_ref();
    let bytes = safetensors::tensor::serialize(tensors.iter(), None).map_err(|e| Error::Write {
        path: target.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    write_atomic(target, &bytes)
}

/// Writes a whole file atomically.
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file reads back, and gets the same permissions as a
    /// plain file made beside it (the umask's), not tempfile's 0600.
    #[cfg(unix)]
    #[test]
    fn safetensors_round_trip_with_plain_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let t = candle_core::Tensor::from_vec(vec![1.5f32, -2.0], 2, &candle_core::Device::Cpu)
            .unwrap();
        let tensors = std::collections::HashMap::from([("w".to_string(), t)]);
        let path = dir.join("t.safetensors");
        write_safetensors(&path, &tensors).unwrap();
        let back = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
        assert_eq!(back["w"].to_vec1::<f32>().unwrap(), vec![1.5, -2.0]);
        let plain = dir.join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
        assert!(!dir.join(".t.safetensors.partial").exists());
    }
}
