//! One run per output directory: an advisory lock on `DIR/.synthmarket.lock`
//! (issue 41). The lock is the operating system's (`flock` on Unix, through
//! `fs2`), so it is released when the holder exits for any reason, even a
//! `kill -9`: a lock file left behind by a dead run is not held, and the
//! next run takes it over. The file holds the holder's pid, which the
//! refusal names.

use crate::error::{Error, Result};
use fs2::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the output directory.
pub const LOCK_FILE: &str = ".synthmarket.lock";

/// A held lock on an output directory; dropping it removes the file and
/// releases the lock.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir` (which must exist), or refuses (exit code 2)
    /// naming the pid of the run that holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let io = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if file.try_lock_exclusive().is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::parameter(
                "out",
                dir.display(),
                format!(
                    "another synthmarket run ({}) is writing into this directory; wait for it to finish or write elsewhere",
                    if holder.is_empty() {
                        "pid unknown".to_string()
                    } else {
                        format!("pid {holder}")
                    }
                ),
            ));
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        super::cleanup::register_file(&path);
        Ok(DirLock { file, path })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Remove first, then release: a run that opens the path after the
        // removal creates a fresh file and locks it.
        let _ = std::fs::remove_file(&self.path);
        super::cleanup::unregister_file(&self.path);
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second lock on the same directory is refused while the first is
    /// held (flock locks are per open file description, so this holds in
    /// one process too), names the holder's pid, and is granted once the
    /// first is dropped; nothing is left behind.
    #[test]
    fn a_held_directory_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let e = DirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        drop(first);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let again = DirLock::acquire(dir.path()).unwrap();
        drop(again);
        // A stale file (its writer died) is not a held lock.
        std::fs::write(dir.path().join(LOCK_FILE), "999999\n").unwrap();
        drop(DirLock::acquire(dir.path()).unwrap());
    }
}
