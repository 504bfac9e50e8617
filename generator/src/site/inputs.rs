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
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => dir_digest(path),
        Ok(m) => Sha256::digest(file_digest(&m)).into(),
        Err(_) => Sha256::digest(b"missing").into(),
    }
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
    Dir,
    /// [`file_digest`] of its metadata.
    File([u8; 33]),
    /// Gone between the listing and the `stat`.
    Vanished,
}

/// A folder's entries, sorted by name; a file's metadata is read relative to the open
/// folder (`DirEntry::metadata`), which saves resolving its whole path again.
fn dir_digest(path: &Path) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dir");
    // Each file's digest is taken as it is listed: a folder of 1,800 files (600 activities)
    // would otherwise hold 1,800 `Metadata` until it is sorted.
    let mut entries: Vec<(std::ffi::OsString, Seen)> = match std::fs::read_dir(path) {
        Ok(rd) => rd
            .flatten()
            .map(|e| {
                let seen = match e.metadata() {
                    Ok(m) if m.is_dir() => Seen::Dir,
                    Ok(m) => Seen::File(file_digest(&m)),
                    Err(_) => Seen::Vanished,
                };
                (e.file_name(), seen)
            })
            .collect(),
        Err(e) => {
            h.update(e.to_string().as_bytes());
            return h.finalize().into();
        }
    };
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    // Only sub-folders get a digest of their own (in parallel); a file's metadata goes
    // straight into its folder's.
    let subdirs: Vec<Option<[u8; 32]>> = entries
        .par_iter()
        .map(|(name, seen)| matches!(seen, Seen::Dir).then(|| dir_digest(&path.join(name))))
        .collect();
    for ((name, seen), sub) in entries.iter().zip(&subdirs) {
        h.update(name.as_encoded_bytes());
        h.update([0]);
        match (seen, sub) {
            (_, Some(d)) => h.update(d),
            (Seen::File(f), None) => h.update(f),
            // Gone between the listing and the stat: it still changes the digest.
            (_, None) => h.update(b"vanished"),
        }
    }
    h.finalize().into()
}
