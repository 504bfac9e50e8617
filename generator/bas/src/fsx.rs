//! Atomic file replacement: every file Bincio writes goes through here.
//!
//! A temp file is created in the target's own folder (so the rename never crosses a file
//! system), written and renamed over the target. nginx, the site generator and the daemon
//! therefore see either the old file or the new one, never half of one, and a crash leaves
//! at worst a stray `.tmp` file, never a truncated JSON.
//!
//! Two durabilities: [`write_atomic`] also fsyncs the file and its folder, for what cannot be
//! recreated (uploaded originals, sidecar edits, photos, queue requests); [`write_derived`]
//! skips the fsyncs for what can always be regenerated from those (extracted activities,
//! feeds, pages). Measured: fsync per file made a 2,000-activity extraction I/O-bound
//! (6,000 fsyncs), several times slower than the parsing itself.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A write that failed, naming the path.
#[derive(Debug, thiserror::Error)]
pub enum FsxError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot serialise JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FsxError + '_ {
    move |source| FsxError::Io { path: path.to_path_buf(), source }
}

/// Replace `path` with `bytes` atomically and durably (file and folder fsynced), creating
/// parent folders as needed. For data that cannot be regenerated.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FsxError> {
    write_replace(path, bytes, true)
}

/// Replace `path` with `bytes` atomically, without fsync: for files regenerated from the
/// originals (a power cut may lose the newest version, never leave half of one).
pub fn write_derived(path: &Path, bytes: &[u8]) -> Result<(), FsxError> {
    write_replace(path, bytes, false)
}

fn write_replace(path: &Path, bytes: &[u8], durable: bool) -> Result<(), FsxError> {
    replace_with(path, durable, |file| file.write_all(bytes).map_err(io_err(path)))
}

/// Create a temp file beside `path`, let `write` fill it, and rename it over `path`.
fn replace_with(
    path: &Path,
    durable: bool,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), FsxError>,
) -> Result<(), FsxError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".bincio-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(path))?;
    write(tmp.as_file_mut())?;
    if durable {
        tmp.as_file().sync_data().map_err(io_err(path))?;
    }
    tmp.persist(path).map_err(|e| FsxError::Io { path: path.to_path_buf(), source: e.error })?;
    if durable {
        // The rename itself is only durable once the folder entry is on disk.
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Like [`write_derived`], but leaves the file alone (and returns `false`) when it already
/// holds exactly `bytes`. Keeps no-change rebuilds from touching the disk.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, FsxError> {
    if holds(path, bytes) {
        return Ok(false);
    }
    write_derived(path, bytes)?;
    Ok(true)
}

/// True when `path` is a file holding exactly `bytes` (the length is compared first, so a
/// changed file is rarely read).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|existing| existing == bytes)
}

/// [`write_if_changed`] for a published file of the site (read by the web server's user, so
/// mode 0644 whatever the umask), with the fewest system calls: a build writes tens of
/// thousands of them. The temp file beside it is named from the process ID and a counter
/// instead of randomly, created with its mode, and its folder is created only when missing.
#[cfg(unix)]
pub fn write_public_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, FsxError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if holds(path, bytes) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".bincio-{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let create = || std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp);
    let public = || std::fs::Permissions::from_mode(0o644);
    let mut file = match create() {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            create().map_err(io_err(path))?
        }
        // A temp file left by a crashed process of the same ID: the random-named writer.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            write_derived(path, bytes)?;
            std::fs::set_permissions(path, public()).map_err(io_err(path))?;
            return Ok(true);
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let written = (|| {
        // The umask may have taken bits off the mode asked for at creation.
        file.set_permissions(public())?;
        file.write_all(bytes)?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    Ok(true)
}

/// Serialise `value` as compact JSON (BAS files are written without indentation).
pub fn to_json_bytes<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, FsxError> {
    serde_json::to_vec(value).map_err(|source| FsxError::Json { path: path.to_path_buf(), source })
}

/// Serialise `value` as compact JSON and replace `path` atomically and durably.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FsxError> {
    let bytes = to_json_bytes(path, value)?;
    write_atomic(path, &bytes)
}

/// Serialise `value` as compact JSON and replace `path` atomically, without fsync.
///
/// The JSON goes straight into the temp file through a 64 KiB buffer rather than into a
/// `Vec` first: an extracted timeseries is megabytes, and a growing `Vec` copies it over and
/// over and faults in fresh pages each time (the same bytes reach the disk either way).
pub fn write_derived_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FsxError> {
    replace_with(path, false, |file| {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, file);
        serde_json::to_writer(&mut w, value).map_err(|source| {
            if source.is_io() {
                FsxError::Io { path: path.to_path_buf(), source: source.into() }
            } else {
                FsxError::Json { path: path.to_path_buf(), source }
            }
        })?;
        w.flush().map_err(io_err(path))
    })
}

/// Serialise `value` as compact JSON and write it only when the content changed.
pub fn write_json_if_changed<T: Serialize>(path: &Path, value: &T) -> Result<bool, FsxError> {
    let bytes = to_json_bytes(path, value)?;
    write_if_changed(path, &bytes)
}

/// Publish `src` at `dst` atomically unless `dst` is already the same file. A hard link is
/// made to a temp name beside `dst` and renamed over it (no data copied: a 10 000-activity
/// instance would otherwise copy gigabytes of timeseries twice); across file systems the
/// file is copied instead, carrying the source's mtime. "Same" is the same inode, or the same
/// length and mtime for a copy, so an unchanged source costs two `stat`s. Every writer
/// replaces files by rename, never in place, so a linked file never changes under a reader.
/// Returns `true` when it wrote.
pub fn copy_if_changed(src: &Path, dst: &Path) -> Result<bool, FsxError> {
    let sm = std::fs::metadata(src).map_err(io_err(src))?;
    if let Ok(dm) = std::fs::metadata(dst)
        && (same_inode(&sm, &dm)
            || dm.len() == sm.len()
                && matches!((dm.modified(), sm.modified()), (Ok(a), Ok(b)) if a == b))
    {
        return Ok(false);
    }
    let dir = dst.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".bincio-link-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_ok() {
        std::fs::rename(&tmp, dst).map_err(io_err(dst))?;
        return Ok(true);
    }
    let bytes = std::fs::read(src).map_err(io_err(src))?;
    write_derived(dst, &bytes)?;
    if let Ok(mtime) = sm.modified()
        && let Ok(f) = std::fs::File::options().write(true).open(dst)
    {
        // Best effort: without it the next run simply copies again.
        let _ = f.set_modified(mtime);
    }
    Ok(true)
}

#[cfg(unix)]
fn same_inode(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_file_is_world_readable_skipped_when_identical_and_leaves_no_temp_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u/dave/index.html");
        assert!(write_public_if_changed(&p, b"<p>1</p>").unwrap());
        assert!(!write_public_if_changed(&p, b"<p>1</p>").unwrap());
        assert!(write_public_if_changed(&p, b"<p>22</p>").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"<p>22</p>");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A folder that cannot be created is an error naming the file.
        let blocked = dir.path().join("u/dave/index.html/x.html");
        let e = write_public_if_changed(&blocked, b"x").unwrap_err().to_string();
        assert!(e.contains("index.html"), "{e}");
    }

    #[test]
    fn writes_and_skips_identical_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.json");
        assert!(write_if_changed(&p, b"{}").unwrap());
        assert!(!write_if_changed(&p, b"{}").unwrap());
        assert!(write_if_changed(&p, b"[]").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"[]");
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn streamed_json_is_the_serialised_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x/ts.json");
        // Larger than the write buffer, with floats, nulls and escapes.
        let value: Vec<(f64, Option<i64>, String)> = (0..20_000i32)
            .map(|i| (f64::from(i) / 7.0, (i % 3 == 0).then_some(i64::from(i)), "é\"\n".into()))
            .collect();
        write_derived_json(&p, &value).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), to_json_bytes(&p, &value).unwrap());

        // A value serde_json refuses (a map with non-string keys) names the file and
        // leaves neither it nor a temp file behind.
        let bad: std::collections::BTreeMap<(i32, i32), i32> = [((1, 2), 3)].into();
        let q = dir.path().join("x/bad.json");
        let err = write_derived_json(&q, &bad).unwrap_err();
        assert!(matches!(&err, FsxError::Json { path, .. } if path == &q), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("x")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
