//! A working directory removed on every way out (the demo's, `bench-ledger`'s ledger).

use std::path::PathBuf;

/// Removes its directory when dropped, unless told to keep it.
pub struct ScratchDir {
    /// The directory.
    pub path: PathBuf,
    /// Leave it in place when dropped.
    pub keep: bool,
}

impl ScratchDir {
    /// A guard for `path`, which it removes when dropped.
    pub fn new(path: PathBuf) -> Self {
        ScratchDir { path, keep: false }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
