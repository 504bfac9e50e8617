//! The no-change full build: decide from file metadata alone that nothing a full build reads
//! has changed since the last one, and stop before loading anything.
//!
//! A full build of an unchanged instance already writes nothing (every file goes through
//! `write_if_changed`, activity pages and feed pages are skipped by their fingerprints), but
//! deciding that meant merging every user and fingerprinting every activity: seconds at
//! 12,000 activities. Here the decision costs one `stat` per file instead. The stamp is a
//! hash of:
//!
//! - the program (its version and the executable's size and modification time), the build
//!   options (theme folder, tile URL, output folder) and the theme folder's files;
//! - in the data directory, what the merge and the pages read: `bincio.toml`, whether
//!   `instance.db` exists (it decides whether pages ask `/api/me`), `.site_secret`, the root
//!   manifest, the federation cache, and per user `index.json`, `athlete.json`,
//!   `activities/` and `edits/` (recursively);
//! - what the build itself leaves behind: each user's `_merged/` and page cache, the records
//!   under `{root}/.site/` for this output, and every file of the output folder.
//!
//! Every entry is its path, type, size, modification time (ns) and inode, so a file edited
//! in place, replaced by rename, added or deleted, on either side, changes the stamp. It is
//! kept in `{root}/.site/inputs-{out}.json` (`bincio_bas::layout::InstanceRoot::site_inputs`)
//! after a full build, only when the inputs the build read (the store, not the files the
//! build rewrites itself) are the same at its end as at its start: a change made while it
//! ran is then seen by the next build. Builds of one user (`--handle`, the watcher's jobs)
//! never take this path; they change files, so they invalidate the stamp by themselves.
//!
//! The same file-metadata digests stamp the members' load snapshots (`site::load`), with two
//! more pieces here: [`Listing`], the stamp of a folder whose files are only ever replaced by
//! rename, taken from its listing without a `stat` per file, and [`FsClock`], the file
//! system's own clock, against which a stamp taken too soon after a change is judged racy.

use super::{BuildReport, SiteOptions};
use bincio_bas::fsx;
use bincio_bas::layout::InstanceRoot;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The record of the last full build: its stamp and what it reported.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    stamp: String,
    users: usize,
    activities: usize,
    pages: usize,
    files: usize,
}

/// Where a full build into `out` keeps its stamp, and the two paths the stamp is about.
pub struct Inputs {
    data: PathBuf,
    out: PathBuf,
    out_key: String,
    record: PathBuf,
    /// Options and program, hashed once.
    head: Vec<u8>,
    theme_dir: Option<PathBuf>,
}

impl Inputs {
    /// `data` and `out` canonical (as the build uses them), `out_key` the output's short hash.
    pub fn new(opts: &SiteOptions, data: &Path, out: &Path, out_key: &str) -> Inputs {
        let mut head = Vec::new();
        for part in [
            env!("CARGO_PKG_VERSION").to_owned(),
            program_stamp(),
            format!("{:?}", opts.theme_dir),
            format!("{:?}", opts.tile_url),
            out.display().to_string(),
        ] {
            head.extend_from_slice(&(part.len() as u64).to_le_bytes());
            head.extend_from_slice(part.as_bytes());
        }
        Inputs {
            data: data.to_path_buf(),
            out: out.to_path_buf(),
            out_key: out_key.to_owned(),
            record: InstanceRoot::new(data).site_inputs(out_key),
            head,
            theme_dir: opts.theme_dir.clone(),
        }
    }

    /// The previous full build's report when nothing it read or wrote has changed since.
    pub fn unchanged(&self) -> Option<BuildReport> {
        let bytes = std::fs::read(&self.record).ok()?;
        let rec: Record = serde_json::from_slice(&bytes).ok()?;
        if rec.stamp != self.stamp(Part::Everything) {
            return None;
        }
        Some(BuildReport {
            users: rec.users,
            activities: rec.activities,
            pages: rec.pages,
            files_written: 0,
            files_unchanged: rec.files,
            files_removed: 0,
            merged_files_changed: 0,
            elapsed_ms: 0,
            unchanged_inputs: true,
        })
    }

    /// The stamp of the store before a build reads it (compare with [`Inputs::record`]).
    pub fn before(&self) -> String {
        self.stamp(Part::Store)
    }

    /// Record a finished full build, unless the store changed while it ran (`before` is
    /// what [`Inputs::before`] returned at its start). A failure to record only costs the
    /// next build its shortcut, so it is logged, never returned.
    pub fn record(&self, before: &str, report: &BuildReport) {
        if self.stamp(Part::Store) != before {
            tracing::info!("inputs changed during the build: the next build checks everything");
            let _ = std::fs::remove_file(&self.record);
            return;
        }
        let rec = Record {
            stamp: self.stamp(Part::Everything),
            users: report.users,
            activities: report.activities,
            pages: report.pages,
            files: report.files_written + report.files_unchanged,
        };
        if let Err(e) = fsx::write_json_if_changed(&self.record, &rec) {
            tracing::warn!("{e}");
        }
    }

    fn stamp(&self, part: Part) -> String {
        let root = InstanceRoot::new(&self.data);
        let handles = root.users().unwrap_or_default();
        let mut h = Sha256::new();
        h.update(&self.head);
        let everything = part == Part::Everything;
        // The store: what the merge and the pages read, and nothing the build writes.
        let mut top: Vec<PathBuf> = vec![root.config_file(), root.federation_dir()];
        if everything {
            // Written by the build itself (the root manifest under its lock, the secret on
            // first use), so only compared once it is done.
            top.extend([
                root.root_manifest(),
                root.path().join(".site_secret"),
                root.activity_url_claims(),
            ]);
        }
        for p in &top {
            h.update(walk(p));
        }
        h.update([u8::from(root.instance_db().exists())]);
        if let Some(dir) = &self.theme_dir {
            h.update(walk(dir));
        }
        let users: Vec<[u8; 32]> = handles
            .par_iter()
            .map(|handle| {
                let user = root.user(handle);
                let mut h = Sha256::new();
                h.update(handle.as_str().as_bytes());
                let mut paths = vec![user.athlete(), user.activities_dir(), user.edits_dir()];
                if everything {
                    // `index.json` takes the profile's display name during the build.
                    paths.extend([user.index(), user.merged_dir()]);
                    paths.push(user.path().join(format!(".site_cache-{}.json", self.out_key)));
                }
                for p in &paths {
                    h.update(walk(p));
                }
                h.finalize().into()
            })
            .collect();
        for u in &users {
            h.update(u);
        }
        if everything {
            h.update(walk(&root.site_page_keys(&self.out_key)));
            h.update(walk(&root.site_records_dir(&self.out_key)));
            h.update(walk(&self.out));
        }
        hex::encode(&h.finalize()[..16])
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Only what the build reads and never writes.
    Store,
    /// Everything the stamp covers.
    Everything,
}

/// The executable's size and modification time: a rebuilt program renders again even when
/// its version number did not change.
pub(crate) fn program_stamp() -> String {
    use std::os::unix::fs::MetadataExt;
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| format!("{}:{}:{}", m.len(), m.mtime(), m.mtime_nsec()))
        .unwrap_or_default()
}

/// Digest of a file or of a folder tree: per entry its name, type, size, modification time
/// and inode (a missing path has its own digest). Sub-folders are walked in parallel.
pub(crate) fn walk(path: &Path) -> [u8; 32] {
    walk_newest(path).0
}

/// [`walk`], with the newest modification time (ns since the epoch) of the file or of any
/// entry of the tree, folders included (`None` for a missing path or an empty tree that
/// could not be read): what a stamp needs to tell whether it was taken too soon after a
/// change to be trusted (see [`Listing::racy`]).
pub(crate) fn walk_newest(path: &Path) -> ([u8; 32], Option<i128>) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let (d, newest) = dir_digest(path);
            (d, newest.max(Some(mtime_ns(&m))))
        }
        Ok(m) => (Sha256::digest(file_digest(&m)).into(), Some(mtime_ns(&m))),
        Err(_) => (Sha256::digest(b"missing").into(), None),
    }
}

/// A file's modification time in nanoseconds since the epoch.
fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    use std::os::unix::fs::MetadataExt;
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}

fn file_digest(meta: &std::fs::Metadata) -> [u8; 33] {
    use std::os::unix::fs::MetadataExt;
    let mut out = [0u8; 33];
    out[0] = u8::from(meta.file_type().is_symlink());
    for (i, v) in
        [meta.len(), meta.ino(), meta.mtime() as u64, meta.mtime_nsec() as u64].iter().enumerate()
    {
        out[1 + i * 8..9 + i * 8].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// What the listing of a folder found under one name.
enum Seen {
    /// A folder, and its own modification time.
    Dir(i128),
    /// [`file_digest`] of its metadata, and its modification time.
    File([u8; 33], i128),
    /// Gone between the listing and the `stat`.
    Vanished,
}

/// A folder's entries, sorted by name; a file's metadata is read relative to the open
/// folder (`DirEntry::metadata`), which saves resolving its whole path again. Also the
/// newest modification time of its entries (sub-folders' trees included).
fn dir_digest(path: &Path) -> ([u8; 32], Option<i128>) {
    let mut h = Sha256::new();
    h.update(b"dir");
    // Each file's digest is taken as it is listed: a folder of 1,800 files (600 activities)
    // would otherwise hold 1,800 `Metadata` until it is sorted.
    let mut entries: Vec<(std::ffi::OsString, Seen)> = match std::fs::read_dir(path) {
        Ok(rd) => rd
            .flatten()
            .map(|e| {
                let seen = match e.metadata() {
                    Ok(m) if m.is_dir() => Seen::Dir(mtime_ns(&m)),
                    Ok(m) => Seen::File(file_digest(&m), mtime_ns(&m)),
                    Err(_) => Seen::Vanished,
                };
                (e.file_name(), seen)
            })
            .collect(),
        Err(e) => {
            h.update(e.to_string().as_bytes());
            return (h.finalize().into(), None);
        }
    };
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    // Only sub-folders get a digest of their own (in parallel); a file's metadata goes
    // straight into its folder's.
    let subdirs: Vec<Option<([u8; 32], Option<i128>)>> = entries
        .par_iter()
        .map(|(name, seen)| match seen {
            Seen::Dir(t) => {
                let (d, newest) = dir_digest(&path.join(name));
                Some((d, newest.max(Some(*t))))
            }
            _ => None,
        })
        .collect();
    let mut newest = None;
    for ((name, seen), sub) in entries.iter().zip(&subdirs) {
        h.update(name.as_encoded_bytes());
        h.update([0]);
        match (seen, sub) {
            (_, Some((d, n))) => {
                h.update(d);
                newest = newest.max(*n);
            }
            (Seen::File(f, t), None) => {
                h.update(f);
                newest = newest.max(Some(*t));
            }
            // Gone between the listing and the stat: it still changes the digest.
            (_, None) => h.update(b"vanished"),
        }
    }
    (h.finalize().into(), newest)
}

/// Without a reading of the file system's clock ([`FsClock`]), how close to the moment a
/// stamp is taken a change may be for the stamp to be trusted later: file systems record
/// modification times with a coarse clock (a jiffy; whole seconds, or two, on some).
pub(crate) const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// The file system's clock as a stamp's reference, the way git judges a "racily clean"
/// file against the modification time of the index it writes: a byte written to
/// `{root}/.site/clock` (`InstanceRoot::site_clock`) right before the stamps are taken,
/// and that file's modification time read back. Every change made after that write gets a
/// modification time at least that one, whatever the clock's tick; so an input whose newest
/// time is strictly older ended its tick before the stamps were taken, and any later change
/// to it shows as a newer time. `None` when the file could not be written (a read-only data
/// directory): [`racy`] then falls back to [`RACY_WINDOW_NS`] against the system clock.
pub(crate) struct FsClock(Option<i128>);

impl FsClock {
    /// Read the clock of the file system holding `root`.
    pub fn read(root: &InstanceRoot) -> FsClock {
        let path = root.site_clock();
        let written = std::fs::create_dir_all(root.site_dir())
            .and_then(|()| std::fs::write(&path, b"t"))
            .and_then(|()| std::fs::metadata(&path));
        match written {
            Ok(m) => FsClock(Some(mtime_ns(&m))),
            Err(e) => {
                tracing::debug!(path = %path.display(), "the file system's clock is not read: {e}");
                FsClock(None)
            }
        }
    }

    /// Whether a stamp whose inputs last changed at `newest` (ns since the epoch), taken
    /// after this reading, cannot be trusted (see [`Listing`]): `newest` is not older than
    /// the reading (a time in the future, a clock set back, counts as racy too).
    pub fn racy(&self, newest: Option<i128>) -> bool {
        let Some(newest) = newest else { return false };
        match self.0 {
            Some(clock) => newest >= clock,
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as i128)
                    .unwrap_or(0);
                now - newest < RACY_WINDOW_NS
            }
        }
    }
}

/// The stamp of a folder whose files are only ever replaced by rename (a store's
/// `activities/`, written through `bincio_bas::fsx`), taken without a `stat` per file: the
/// folder's own size, modification time (ns) and inode, and the name, type and inode of each
/// entry its listing gives (`getdents` returns them; nothing is `stat`ed but folders).
///
/// Why that is enough: a rename into the folder, a file added or removed, each changes the
/// folder's modification time and its listing, and a file replaced by rename has a new inode
/// under its name. A file rewritten in place changes neither: that is the one change this
/// stamp does not see, which is why it is used only where the store's rule is "replace by
/// rename" (`docs/site.md`, "Snapshots"), never for hand-editable files.
///
/// The modification time is only as fine as the file system's clock, and an inode freed by
/// one rename may be handed to the next file: two renames inside one tick could in theory
/// leave the folder as it was stamped. As git does for "racily clean" files, a stamp whose
/// folder changed at or after the file system's clock read before it ([`FsClock`]) is
/// racy, and a caller must not record anything from it (a later one, taken once the folder
/// is quiet, will).
pub(crate) struct Listing {
    /// The digest of the folder's metadata and listing (sub-folders recursively).
    pub digest: [u8; 32],
    /// The newest modification time of the folder and of its sub-folders (ns since the
    /// epoch), `None` when the folder is missing.
    pub newest: Option<i128>,
}

impl Listing {
    /// Take the stamp of `path` (a missing path or a file has a digest of its own).
    pub fn of(path: &Path) -> Listing {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return Listing { digest: Sha256::digest(b"missing").into(), newest: None };
        };
        let mut h = Sha256::new();
        h.update(file_digest(&meta));
        let mut newest = Some(mtime_ns(&meta));
        if !meta.is_dir() {
            h.update(b"file");
            return Listing { digest: h.finalize().into(), newest };
        }
        h.update(meta.ino().to_le_bytes());
        let mut entries: Vec<(std::ffi::OsString, u64, bool)> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .flatten()
                .map(|e| {
                    use std::os::unix::fs::DirEntryExt;
                    // The type comes from the listing (`d_type`); a file system that does
                    // not give it makes this a `stat`, which is only slower.
                    let dir = e.file_type().is_ok_and(|t| t.is_dir());
                    (e.file_name(), e.ino(), dir)
                })
                .collect(),
            Err(e) => {
                h.update(e.to_string().as_bytes());
                return Listing { digest: h.finalize().into(), newest };
            }
        };
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, ino, dir) in &entries {
            h.update(name.as_encoded_bytes());
            h.update([0, u8::from(*dir)]);
            h.update(ino.to_le_bytes());
            if *dir {
                let sub = Listing::of(&path.join(name));
                h.update(sub.digest);
                newest = newest.max(sub.newest);
            }
        }
        Listing { digest: h.finalize().into(), newest }
    }
}
