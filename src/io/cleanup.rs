//! What a stopped run must not leave behind (issue 41): every temporary
//! file being written (`.NAME.partial`), every held output lock, and an
//! output directory the run created and left empty. The files register
//! here while they live; the command-line tool's signal handler calls
//! [`remove_all`] on SIGINT or SIGTERM before it exits.
//!
//! Why a registry and not unwinding: a signal arrives on its own thread
//! while the workers are inside the writers, and destructors do not run
//! on `exit`; the registry lets that thread remove the files at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the registry holds.
#[derive(Default)]
struct Live {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    files: Vec::new(),
    dirs: Vec::new(),
});

/// Set once [`remove_all`] has run: a file registered later (a writer that
/// raced the signal) is removed at once.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a temporary file (removed if the run is stopped).
pub fn register_file(path: &Path) {
    let mut l = live();
    if stopping() {
        let _ = std::fs::remove_file(path);
        return;
    }
    l.files.push(path.to_path_buf());
}

/// Forgets a temporary file (committed, or removed by its owner).
pub fn unregister_file(path: &Path) {
    let mut l = live();
    if let Some(i) = l.files.iter().rposition(|p| p == path) {
        l.files.swap_remove(i);
    }
}

/// Registers a directory the run created (removed if the run is stopped
/// and it is then empty).
pub fn register_dir(path: &Path) {
    live().dirs.push(path.to_path_buf());
}

/// Forgets a directory (the run finished).
pub fn unregister_dir(path: &Path) {
    let mut l = live();
    if let Some(i) = l.dirs.iter().rposition(|p| p == path) {
        l.dirs.swap_remove(i);
    }
}

/// A directory registered with [`register_dir`] for as long as the guard
/// lives: a run creates its output directory, holds the guard while it
/// writes, and the directory is forgotten when the run returns.
#[derive(Debug)]
pub struct DirGuard(Option<PathBuf>);

impl DirGuard {
    /// Registers `dir` when `created` (the run made it), else nothing.
    pub fn new(dir: &Path, created: bool) -> Self {
        if created {
            register_dir(dir);
        }
        DirGuard(created.then(|| dir.to_path_buf()))
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(d) = &self.0 {
            unregister_dir(d);
        }
    }
}

/// Whether the process is being stopped.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Removes every registered file, then every registered directory that is
/// empty; returns how many files were removed. Called by the signal
/// handler of the command-line tool.
pub fn remove_all() -> usize {
    STOPPING.store(true, Ordering::SeqCst);
    let l = live();
    let files = l
        .files
        .iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count();
    for d in l.dirs.iter().rev() {
        // remove_dir only removes an empty directory.
        let _ = std::fs::remove_dir(d);
    }
    files
}
