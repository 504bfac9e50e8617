//! The root manifest `{root}/index.json` has three writers: the generator (every build
//! rewrites the local user shards and copies `name`/`private` from `bincio.toml`), the
//! daemon (accounts created and deleted) and `bincio-gen federation add|remove` (remote
//! shards). Each does a read-modify-write of the whole file, so without a common lock one
//! writer could replace the file with a copy read before another's change and lose it.
//!
//! [`lock`] takes an exclusive advisory lock on `{root}/.index.json.lock` (a file lock, so it
//! holds across processes); every writer reads the manifest *after* taking it and keeps
//! what it does not own: the generator keeps remote shards, the daemon and the federation
//! commands keep everything but the one shard they add or remove.

use crate::layout::InstanceRoot;
use std::fs::File;
use std::path::PathBuf;

/// The lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot lock the root manifest: {source}")]
pub struct LockError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Held while the root manifest is read, changed and written; released when dropped.
#[derive(Debug)]
pub struct ManifestLock {
    _file: File,
}

/// Wait for and take the root manifest's lock (creating the data directory's lock file).
pub fn lock(root: &InstanceRoot) -> Result<ManifestLock, LockError> {
    let path = root.root_manifest_lock();
    let err = |source| LockError { path: path.clone(), source };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    Ok(ManifestLock { _file: file })
}

/// True when a shard URL points to another instance (`http://` or `https://`): a followed
/// remote, as opposed to a local user's relative `{handle}/_merged/index.json`.
pub fn is_remote_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_across_handles() {
        let tmp = tempfile::tempdir().unwrap();
        let root = InstanceRoot::new(tmp.path());
        let held = lock(&root).unwrap();
        let other = File::options().write(true).open(root.root_manifest_lock()).unwrap();
        assert!(other.try_lock().is_err(), "a second writer must wait");
        drop(held);
        assert!(other.try_lock().is_ok(), "released on drop");
    }

    #[test]
    fn remote_urls_are_absolute_http() {
        assert!(is_remote_url("https://a.example/data/index.json"));
        assert!(is_remote_url("HTTP://a.example/"));
        assert!(!is_remote_url("dave/_merged/index.json"));
        assert!(!is_remote_url("file:///etc/passwd"));
    }
}
