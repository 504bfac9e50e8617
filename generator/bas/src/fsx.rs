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
    holds_if(path, bytes, |_| true)
}

/// [`holds`], for a file whose metadata also passes `also`.
fn holds_if(path: &Path, bytes: &[u8], also: impl FnOnce(&std::fs::Metadata) -> bool) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64 && also(&m))
        && std::fs::read(path).is_ok_and(|existing| existing == bytes)
}

/// What a writer of published files may assume about the file it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// The file may exist: it is compared first and left alone when it already holds the
    /// new content (a no-change rebuild touches nothing).
    Any,
    /// The file most likely does not exist (the output folder was empty when the build
    /// started): it is written without being looked at first. Still correct when it does
    /// exist: it is then replaced as with `Any`, only without the comparison.
    New,
}

/// [`write_if_changed`] for a published file of the site (read by the web server's user, so
/// mode 0644 whatever the umask), with the fewest system calls: a build writes tens of
/// thousands of them. The temp file beside it is named from the process ID and a counter
/// instead of randomly, created with its mode (changed again only when the umask takes bits
/// off 0644), and its folder is created only when missing. With [`Dest::New`] the file is
/// not compared first. A new file costs `open`, `write`, `close` and `rename`.
#[cfg(unix)]
pub fn write_public_if_changed(path: &Path, bytes: &[u8], dest: Dest) -> Result<bool, FsxError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // A file holding the bytes but not readable by all (written by an older version) is
    // written again.
    if dest == Dest::Any && holds_if(path, bytes, is_public) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = temp_beside(dir, "");
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
        if !umask_keeps_public() {
            file.set_permissions(public())?;
        }
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

/// A temp name in `dir` unique to this process and call: `.bincio-{pid}-{n}{suffix}.tmp`.
/// Temp files are always renamed away or removed, so no name is tried twice.
fn temp_beside(dir: &Path, suffix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // The process ID read once: `getpid` for every file of a build is a system call each.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    dir.join(format!(
        ".bincio-{}-{}{suffix}.tmp",
        PID.get_or_init(std::process::id),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// True when the process umask leaves 0644 whole (the usual 022), so a file created with
/// that mode needs no `fchmod`. Read once from `/proc/self/status` (`umask(2)` cannot be
/// read without being set, which would race with threads creating files); when it cannot
/// be read, every file gets its `fchmod`.
#[cfg(unix)]
fn umask_keeps_public() -> bool {
    static KEEPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KEEPS.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find_map(|l| l.strip_prefix("Umask:"))?;
                u32::from_str_radix(line.trim(), 8).ok()
            })
            .is_some_and(|mask| mask & 0o644 == 0)
    })
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
/// made (no data copied: a 10 000-activity instance would otherwise copy gigabytes of
/// timeseries twice); across file systems the file is copied instead, carrying the source's
/// mtime. "Same" is the same inode, or the same length and mtime for a copy, so an
/// unchanged source costs two `stat`s. Every writer replaces files by rename, never in
/// place, so a linked file never changes under a reader. Returns `true` when it wrote.
///
/// A missing `dst` is linked in place with one `link` (which never replaces anything, so it
/// is atomic by itself); an existing one is replaced by a link to a temp name renamed over
/// it. Its folder is created only when the `link` says it is missing.
pub fn copy_if_changed(src: &Path, dst: &Path) -> Result<bool, FsxError> {
    link_if_changed(src, dst, Dest::Any).map(|(wrote, _)| wrote)
}

/// [`copy_if_changed`] for a writer that may know `dst` is new ([`Dest::New`]: its folder
/// did not exist when the writer started, as `_merged/activities/` in the merge of a fresh
/// instance): then the `link` is made without a `stat` of either file first, so a new file
/// costs that one system call. A missing source is still an error naming it; a `dst` found
/// after all is compared and replaced as with [`Dest::Any`].
pub fn copy_if_changed_to(src: &Path, dst: &Path, dest: Dest) -> Result<bool, FsxError> {
    if dest == Dest::Any {
        return copy_if_changed(src, dst);
    }
    let dir = dst.parent().unwrap_or(Path::new("."));
    match link_making_dir(src, dst, dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => copy_if_changed(src, dst),
        // `link_making_dir` made the folder when it was missing: the source is.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(io_err(src)(e)),
        Err(e) if link_refused(&e) => {
            let sm = std::fs::metadata(src).map_err(io_err(src))?;
            copy_across(src, dst, sm).map(|(wrote, _)| wrote)
        }
        Err(e) => Err(io_err(dst)(e)),
    }
}

/// Make `dst` hold `bytes`, which the caller read from `src` (`src_meta`: that file's
/// metadata, from the open file), as a hard link to `src` rather than a file of its own: one
/// `link`, no inode created and nothing written. The merge publishes an activity's detail
/// this way when its merged bytes are the store's (no edit changed it), which is almost
/// always.
///
/// `dst` is left alone (`false`) when it is `src` already or holds `bytes` (with
/// [`Dest::Any`]; [`Dest::New`] links without looking, and falls back to that when `dst`
/// exists after all). An existing `dst` is replaced by a link to a temp name renamed over
/// it, never written in place, so a later write of `dst` (temp + rename, as every writer
/// here) replaces the link and never reaches `src`. When the link cannot be made (another
/// file system, links refused, `src` gone) or `src` was replaced since it was read (the
/// link would not be to the bytes read), `bytes` are written instead, temp + rename: `dst`
/// always ends up holding exactly `bytes`.
pub fn link_or_write_if_changed(
    src: &Path,
    src_meta: &std::fs::Metadata,
    bytes: &[u8],
    dst: &Path,
    dest: Dest,
) -> Result<bool, FsxError> {
    let exists = match dest {
        Dest::New => false,
        Dest::Any => match std::fs::metadata(dst) {
            Ok(dm) if same_inode(src_meta, &dm) => return Ok(false),
            Ok(dm)
                if dm.is_file()
                    && dm.len() == bytes.len() as u64
                    && std::fs::read(dst).is_ok_and(|held| held == bytes) =>
            {
                return Ok(false);
            }
            Ok(_) => true,
            Err(_) => false,
        },
    };
    let dir = dst.parent().unwrap_or(Path::new("."));
    let target = if exists {
        let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        temp_beside(dir, &format!("-{name}"))
    } else {
        dst.to_path_buf()
    };
    match link_making_dir(src, &target, dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !exists => {
            return link_or_write_if_changed(src, src_meta, bytes, dst, Dest::Any);
        }
        Err(_) => {
            write_derived(dst, bytes)?;
            return Ok(true);
        }
    }
    // The link is to whatever file is at `src` now: when that is not the one read, the
    // bytes are written over it instead.
    if !std::fs::metadata(&target).is_ok_and(|m| same_inode(src_meta, &m)) {
        if exists {
            let _ = std::fs::remove_file(&target);
        }
        write_derived(dst, bytes)?;
        return Ok(true);
    }
    if exists && let Err(e) = std::fs::rename(&target, dst) {
        let _ = std::fs::remove_file(&target);
        return Err(io_err(dst)(e));
    }
    Ok(true)
}

/// [`copy_if_changed`] for a published file of the site: the file ends up mode 0644 (a
/// link shares its source's mode, which is changed only when it is not 0644 already). With
/// [`Dest::New`], `dst` is not looked at before the `link`; when it does exist after all,
/// it is compared and replaced as with [`Dest::Any`].
pub fn link_public_if_changed(src: &Path, dst: &Path, dest: Dest) -> Result<bool, FsxError> {
    let (wrote, sm) = link_if_changed(src, dst, dest)?;
    if wrote && !is_public(&sm) {
        set_public(dst)?;
    }
    Ok(wrote)
}

/// The work of [`copy_if_changed`]: whether it wrote, and the source's metadata.
fn link_if_changed(
    src: &Path,
    dst: &Path,
    dest: Dest,
) -> Result<(bool, std::fs::Metadata), FsxError> {
    let sm = std::fs::metadata(src).map_err(io_err(src))?;
    let same = |dm: &std::fs::Metadata| {
        same_inode(&sm, dm)
            || dm.len() == sm.len()
                && matches!((dm.modified(), sm.modified()), (Ok(a), Ok(b)) if a == b)
    };
    let exists = match dest {
        Dest::New => false,
        Dest::Any => match std::fs::metadata(dst) {
            Ok(dm) if same(&dm) => return Ok((false, sm)),
            Ok(_) => true,
            Err(_) => false,
        },
    };
    let dir = dst.parent().unwrap_or(Path::new("."));
    if !exists {
        match link_making_dir(src, dst, dir) {
            Ok(()) => return Ok((true, sm)),
            // Written since it was looked at, or there all along (`Dest::New`).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if std::fs::metadata(dst).is_ok_and(|dm| same(&dm)) {
                    return Ok((false, sm));
                }
            }
            Err(e) if link_refused(&e) => return copy_across(src, dst, sm),
            Err(e) => return Err(io_err(dst)(e)),
        }
    }
    let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = temp_beside(dir, &format!("-{name}"));
    match link_making_dir(src, &tmp, dir) {
        Ok(()) => {}
        Err(e) if link_refused(&e) => return copy_across(src, dst, sm),
        Err(e) => return Err(io_err(dst)(e)),
    }
    if let Err(e) = std::fs::rename(&tmp, dst) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(dst)(e));
    }
    Ok((true, sm))
}

/// `link(src, dst)`, creating `dir` (the folder of `dst`) when the link finds it missing.
///
/// After a `NotFound` the folder is made (a no-op when it exists) and the link tried once
/// more, whether or not the folder exists by then: threads publishing files into one new
/// folder at once race, and the one whose link failed may find the folder already made by
/// another. Asking `dir.exists()` first took that for a missing source and failed the build.
/// A second `NotFound` is the source's.
fn link_making_dir(src: &Path, dst: &Path, dir: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(src, dst) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            std::fs::hard_link(src, dst)
        }
        r => r,
    }
}

/// A `link` refused for the link itself, where a copy will do: the two paths are on
/// different file systems, the file system has no hard links (or refuses this one: `EPERM`,
/// e.g. `fs.protected_hardlinks` for a file of another user), or the source has too many.
fn link_refused(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{CrossesDevices, PermissionDenied, TooManyLinks, Unsupported};
    matches!(e.kind(), CrossesDevices | PermissionDenied | TooManyLinks | Unsupported)
}

/// Copy `src` to `dst` atomically, carrying the source's mtime (how an unchanged copy is
/// recognised next time).
fn copy_across(
    src: &Path,
    dst: &Path,
    sm: std::fs::Metadata,
) -> Result<(bool, std::fs::Metadata), FsxError> {
    let bytes = std::fs::read(src).map_err(io_err(src))?;
    write_derived(dst, &bytes)?;
    if let Ok(mtime) = sm.modified()
        && let Ok(f) = std::fs::File::options().write(true).open(dst)
    {
        // Best effort: without it the next run simply copies again.
        let _ = f.set_modified(mtime);
    }
    // The copy is a new file (0600 from the temp writer): made public by the caller if asked.
    Ok((true, std::fs::metadata(dst).map_err(io_err(dst))?))
}

#[cfg(unix)]
fn is_public(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o777 == 0o644
}

#[cfg(not(unix))]
fn is_public(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn set_public(path: &Path) -> Result<(), FsxError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(io_err(path))
}

#[cfg(not(unix))]
fn set_public(_: &Path) -> Result<(), FsxError> {
    Ok(())
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

    /// Threads linking files into one folder that does not exist yet all succeed: the folder
    /// made by one of them between another's failed `link` and its retry is no error.
    #[test]
    fn links_into_one_new_folder_from_many_threads_all_succeed() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let src = tmp.path().join("src.json");
        std::fs::write(&src, b"{}").unwrap_or_else(|e| panic!("{e}"));
        for round in 0..200 {
            let dir = tmp.path().join(format!("out-{round}/data/activities"));
            let barrier = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                for t in 0..8 {
                    let (src, dir, barrier) = (&src, &dir, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let dst = dir.join(format!("{t}.json"));
                        copy_if_changed_to(src, &dst, Dest::New)
                            .unwrap_or_else(|e| panic!("round {round}, thread {t}: {e}"));
                    });
                }
            });
        }
    }

    #[test]
    fn a_published_file_is_world_readable_skipped_when_identical_and_leaves_no_temp_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u/dave/index.html");
        assert!(write_public_if_changed(&p, b"<p>1</p>", Dest::Any).unwrap());
        assert!(!write_public_if_changed(&p, b"<p>1</p>", Dest::Any).unwrap());
        assert!(write_public_if_changed(&p, b"<p>22</p>", Dest::Any).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"<p>22</p>");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // The same bytes in a file the web server could not read (as older versions wrote
        // the theme's static files): written again, readable.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(write_public_if_changed(&p, b"<p>22</p>", Dest::Any).unwrap());
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        assert!(!write_public_if_changed(&p, b"<p>22</p>", Dest::Any).unwrap());
        // A folder that cannot be created is an error naming the file.
        let blocked = dir.path().join("u/dave/index.html/x.html");
        let e = write_public_if_changed(&blocked, b"x", Dest::Any).unwrap_err().to_string();
        assert!(e.contains("index.html"), "{e}");
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_published_file_expected_new_is_written_without_comparing_and_replaces_one_found() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // New, in a folder that does not exist yet.
        let p = dir.path().join("activity/7/index.html");
        assert!(write_public_if_changed(&p, b"<p>7</p>", Dest::New).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"<p>7</p>");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        // Found after all: replaced (not compared, so counted as written even when the same).
        assert!(write_public_if_changed(&p, b"<p>7</p>", Dest::New).unwrap());
        assert!(write_public_if_changed(&p, b"<p>77</p>", Dest::New).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"<p>77</p>");
        // The file replaced is a new inode: a reader holding the old one still reads it whole.
        let held = std::fs::read(&p).unwrap();
        let reader = std::fs::File::open(&p).unwrap();
        assert!(write_public_if_changed(&p, b"<p>8</p>", Dest::New).unwrap());
        let mut old = Vec::new();
        std::io::Read::read_to_end(&mut &reader, &mut old).unwrap();
        assert_eq!(old, held);
        assert_eq!(names(p.parent().unwrap()), ["index.html"]);
        // An error names the file, and leaves no temp file behind.
        let blocked = dir.path().join("activity/7/index.html/gpx");
        let e = write_public_if_changed(&blocked, b"x", Dest::New).unwrap_err();
        assert!(matches!(&e, FsxError::Io { path, .. } if path == &blocked), "{e}");
        assert_eq!(names(p.parent().unwrap()), ["index.html"]);
    }

    #[test]
    fn a_published_link_is_one_link_when_new_replaced_when_changed_and_skipped_when_the_same() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store/a.json");
        write_derived(&src, b"{\"a\":1}").unwrap();
        // A private source mode: the published file (the same inode) is made readable.
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o600)).unwrap();
        for dest in [Dest::Any, Dest::New] {
            let out = dir.path().join(format!("out-{dest:?}/data/u/a.json"));
            // New, in a folder that does not exist yet: a link to the source.
            assert!(link_public_if_changed(&src, &out, dest).unwrap());
            let (sm, om) = (std::fs::metadata(&src).unwrap(), std::fs::metadata(&out).unwrap());
            assert_eq!((sm.ino(), om.mode() & 0o777), (om.ino(), 0o644));
            // The same file: left alone, whatever the writer assumed.
            assert!(!link_public_if_changed(&src, &out, dest).unwrap());
            assert_eq!(names(out.parent().unwrap()), ["a.json"]);
        }
        // A different file at the destination is replaced by a link to the source, and a
        // reader of the old one keeps reading it whole.
        let out = dir.path().join("out-Any/data/u/a.json");
        std::fs::remove_file(&out).unwrap();
        std::fs::write(&out, b"old file").unwrap();
        let reader = std::fs::File::open(&out).unwrap();
        for dest in [Dest::Any, Dest::New] {
            assert!(link_public_if_changed(&src, &out, dest).unwrap());
            assert_eq!(std::fs::read(&out).unwrap(), b"{\"a\":1}");
            assert_eq!(
                std::fs::metadata(&src).unwrap().ino(),
                std::fs::metadata(&out).unwrap().ino()
            );
            std::fs::remove_file(&out).unwrap();
            std::fs::write(&out, b"old file").unwrap();
        }
        let mut old = Vec::new();
        std::io::Read::read_to_end(&mut &reader, &mut old).unwrap();
        assert_eq!(old, b"old file");
        assert_eq!(names(out.parent().unwrap()), ["a.json"]);
        // A missing source and a destination that cannot be made are errors naming the file.
        let gone = dir.path().join("store/gone.json");
        let e = link_public_if_changed(&gone, &out, Dest::New).unwrap_err();
        assert!(matches!(&e, FsxError::Io { path, .. } if path == &gone), "{e}");
        let blocked = out.join("b.json");
        let e = link_public_if_changed(&src, &blocked, Dest::New).unwrap_err();
        assert!(matches!(&e, FsxError::Io { path, .. } if path == &blocked), "{e}");
        assert_eq!(names(out.parent().unwrap()), ["a.json"]);
    }

    /// The merge's detail: a link to the store's file when the bytes are its, never a write
    /// into it, and the bytes written instead whenever the link would not be to them.
    #[test]
    fn content_known_to_be_the_source_is_linked_and_a_later_write_never_reaches_the_source() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store/activities/a.json");
        write_derived(&src, b"{\"id\":\"a\"}").unwrap();
        let bytes = std::fs::read(&src).unwrap();
        let sm = std::fs::metadata(&src).unwrap();
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        for dest in [Dest::New, Dest::Any] {
            // New, in a folder that does not exist yet: one link, no file of its own.
            let dst = dir.path().join(format!("merged-{dest:?}/activities/a.json"));
            assert!(link_or_write_if_changed(&src, &sm, &bytes, &dst, dest).unwrap());
            assert_eq!(ino(&dst), sm.ino());
            // Already the source, or found there after all with `New`: left alone.
            assert!(!link_or_write_if_changed(&src, &sm, &bytes, &dst, dest).unwrap());
            assert_eq!(names(dst.parent().unwrap()), ["a.json"]);
        }
        let dst = dir.path().join("merged-Any/activities/a.json");
        // The merge later writes other bytes there (an edit): temp + rename replaces the
        // link; the store's file keeps its bytes and its inode.
        assert!(write_if_changed(&dst, b"{\"id\":\"a\",\"title\":\"edited\"}").unwrap());
        assert_eq!(std::fs::read(&src).unwrap(), bytes);
        assert_eq!(ino(&src), sm.ino());
        assert_ne!(ino(&dst), sm.ino());
        // The edit undone: a reader of the edited file keeps it whole while the link to the
        // source replaces it.
        let reader = std::fs::File::open(&dst).unwrap();
        assert!(link_or_write_if_changed(&src, &sm, &bytes, &dst, Dest::Any).unwrap());
        assert_eq!(ino(&dst), sm.ino());
        let mut old = Vec::new();
        std::io::Read::read_to_end(&mut &reader, &mut old).unwrap();
        assert_eq!(old, b"{\"id\":\"a\",\"title\":\"edited\"}");
        assert_eq!(names(dst.parent().unwrap()), ["a.json"]);
        // A separate file already holding the bytes (written by an older merge): left alone.
        let copy = dir.path().join("merged-copy/a.json");
        write_derived(&copy, &bytes).unwrap();
        let copy_ino = ino(&copy);
        assert!(!link_or_write_if_changed(&src, &sm, &bytes, &copy, Dest::Any).unwrap());
        assert_eq!(ino(&copy), copy_ino);
        // The source replaced since it was read (a re-extraction): the link would not be to
        // the bytes read, so they are written instead, as a file of their own.
        write_derived(&src, b"{\"id\":\"a\",\"new\":1}").unwrap();
        for dest in [Dest::New, Dest::Any] {
            let dst = dir.path().join(format!("raced-{dest:?}/a.json"));
            assert!(link_or_write_if_changed(&src, &sm, &bytes, &dst, dest).unwrap());
            assert_eq!(std::fs::read(&dst).unwrap(), bytes);
            assert_ne!(ino(&dst), ino(&src));
            assert_eq!(names(dst.parent().unwrap()), ["a.json"]);
        }
        // The source gone: the bytes are written. A folder that cannot be made is an error
        // naming it.
        let gone = dir.path().join("store/activities/gone.json");
        let dst = dir.path().join("gone/a.json");
        assert!(link_or_write_if_changed(&gone, &sm, &bytes, &dst, Dest::New).unwrap());
        assert_eq!(std::fs::read(&dst).unwrap(), bytes);
        let blocked = dst.join("b.json");
        let e = link_or_write_if_changed(&src, &sm, &bytes, &blocked, Dest::New).unwrap_err();
        assert!(matches!(&e, FsxError::Io { path, .. } if blocked.starts_with(path)), "{e}");
    }

    #[test]
    fn a_link_expected_new_is_made_without_looking_and_falls_back_when_the_file_is_there() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store/a.timeseries.json");
        write_derived(&src, b"{\"t\":[0,1]}").unwrap();
        let dst = dir.path().join("merged/activities/a.timeseries.json");
        // New, in a folder that does not exist yet.
        assert!(copy_if_changed_to(&src, &dst, Dest::New).unwrap());
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&dst), ino(&src));
        // There after all: the same file is left alone, another one replaced by the link.
        assert!(!copy_if_changed_to(&src, &dst, Dest::New).unwrap());
        std::fs::remove_file(&dst).unwrap();
        std::fs::write(&dst, b"other").unwrap();
        assert!(copy_if_changed_to(&src, &dst, Dest::New).unwrap());
        assert_eq!(ino(&dst), ino(&src));
        assert_eq!(names(dst.parent().unwrap()), ["a.timeseries.json"]);
        // `Any` is `copy_if_changed`.
        assert!(!copy_if_changed_to(&src, &dst, Dest::Any).unwrap());
        // A missing source is an error naming the source, not the destination.
        let gone = dir.path().join("store/gone.json");
        let e =
            copy_if_changed_to(&gone, &dir.path().join("merged/x.json"), Dest::New).unwrap_err();
        assert!(matches!(&e, FsxError::Io { path, .. } if path == &gone), "{e}");
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
