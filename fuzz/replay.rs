//! Replays the committed fuzz corpus and crash files of one target through that target's check.
//! Included by each protocol crate's `tests/fuzz_corpus.rs` with `#[path]`, so `cargo test`
//! replays everything `cargo fuzz` found without a nightly toolchain.

use std::path::{Path, PathBuf};

/// Runs `check` on every file under `fuzz/corpus/<target>/` (which must not be empty) and
/// `fuzz/artifacts/<target>/` (if present); fails naming every file that panicked.
pub(crate) fn replay(manifest_dir: &str, target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(manifest_dir).join("../../fuzz");
    let corpus = files(&fuzz.join("corpus").join(target));
    assert!(!corpus.is_empty(), "no corpus for fuzz target {target}");
    let artifacts = files(&fuzz.join("artifacts").join(target));
    let mut failed = Vec::new();
    for path in corpus.iter().chain(&artifacts) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: failing inputs: {failed:#?}");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    v
}
