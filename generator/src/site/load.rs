//! Load an instance for rendering: merge every user (or only `--handle`), write the root
//! manifest, and decide the shell (single- or multi-user, private, name).
//!
//! The instance configuration (`{root}/bincio.toml`, `bincio_bas::config`) is read here:
//! its `name` and `private` are the source the root manifest copies (the manifest is
//! generated and published; the file is neither), its `tile_url` is the map default. A host
//! without the file gets the defaults.
//!
//! Also owns the instance secret (`{root}/.site_secret`) that keys the unguessable tokens of
//! unlisted activity URLs. The secret lives in the data directory, never in the output.

use super::aggregate::UserAggregate;
use super::urls::UrlCache;
use crate::merge::{self, MergeError, MergedActivity, MergedUser};
use bincio_bas::fsx;
use bincio_bas::layout::UserDir;
use bincio_bas::{
    ConfigError, HandleShard, InstanceConfig, InstanceInfo, InstanceRoot, Profile, RootManifest,
    Summary, Timestamp, UserFeed,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an instance could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{handle}: {source}")]
    Merge {
        handle: String,
        #[source]
        source: MergeError,
    },
    #[error(transparent)]
    Write(#[from] fsx::FsxError),
    #[error("{path}: the data directory does not exist")]
    Empty { path: PathBuf },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lock(#[from] bincio_bas::manifest::LockError),
}

/// Everything the renderer needs from the data directory.
#[derive(Debug)]
pub struct Instance {
    pub name: String,
    pub private: bool,
    /// One user and not private: `/` is the user's feed and there is no community page.
    pub single_user: bool,
    pub users: Vec<MergedUser>,
    /// The manifest as written to `{root}/index.json` (published as `/data/index.json`).
    pub manifest: RootManifest,
    /// `{root}/bincio.toml` (defaults without the file); never published.
    pub config: InstanceConfig,
    /// Per user, per activity ID: a hash of the merged summary, everything a feed card or a
    /// JSON feed entry is made of, so a feed page whose cards did not change is not rendered
    /// again (see `render::PageKeys`).
    pub card_stamps: HashMap<String, HashMap<String, u64>>,
    /// Per user, their share of the pages that list every member (`site::aggregate`):
    /// computed when the user is merged, kept with them between the watcher's jobs.
    pub aggregates: HashMap<String, Arc<UserAggregate>>,
    /// Users this load merged rather than took unchanged from the [`LoadCache`].
    pub reloaded: BTreeSet<String>,
    /// What each user's files were when loaded (for [`LoadCache`]).
    stamps: HashMap<String, UserStamp>,
    /// Followed instances' activities, from the federation cache (never the network).
    pub remotes: crate::federation::Remotes,
    secret: Vec<u8>,
}

impl Instance {
    /// The token of an unlisted activity's URL: HMAC-SHA256(secret, handle/id), 20 hex chars
    /// (80 bits), so a timestamp-shaped ID cannot be guessed into a URL.
    pub fn unlisted_token(&self, handle: &str, id: &str) -> String {
        let mac = hmac_sha256(&self.secret, format!("{handle}/{id}").as_bytes());
        hex::encode(&mac[..10])
    }

    /// Find a user.
    pub fn user(&self, handle: &str) -> Option<&MergedUser> {
        self.users.iter().find(|u| u.handle == handle)
    }

    /// A user's share of the shared pages (an empty one for a user the load did not see).
    pub fn aggregate(&self, handle: &str) -> &UserAggregate {
        static EMPTY: std::sync::OnceLock<UserAggregate> = std::sync::OnceLock::new();
        match self.aggregates.get(handle) {
            Some(a) => a,
            None => EMPTY.get_or_init(UserAggregate::default),
        }
    }

    /// The card stamp of one activity (0 for one the load did not see).
    pub fn card_stamp(&self, handle: &str, id: &str) -> u64 {
        self.card_stamps.get(handle).and_then(|m| m.get(id)).copied().unwrap_or(0)
    }
}

/// Users loaded by an earlier build of the same long-running process (`bincio-gen watch`),
/// kept between jobs so that a job reads only the users it touches.
///
/// A cached user is reused while the files a merge reads have not changed since: the
/// modification time, size and inode of `index.json`, `athlete.json`, the `activities/`,
/// `edits/` and `edits/images/` folders, `edits/athlete.yaml` and `edits/profile.json`.
/// Every writer replaces files by rename, which changes the folder's modification time, so
/// an activity or sidecar written by anyone is seen. The user a build merges to disk (the
/// job's) is always merged again.
#[derive(Debug, Default)]
pub struct LoadCache {
    users: HashMap<String, CachedUser>,
    /// The activity URL claims and every user's URLs of the last build (`site::urls`).
    pub urls: UrlCache,
    /// The feed page keys of the last build (`render::PageKeys`), with their file's stamp.
    pub page_keys: Option<KeptKeys>,
    /// The users' records of produced files as last written or read (`render::clean_up`).
    pub records: KeptRecords,
    /// The combined-feed entry stamps of the last build (`urls::entry_stamps`).
    pub entry_stamps: super::urls::EntryStampCache,
    /// The theme's templates as parsed by the last build, with the theme's fingerprint
    /// (`Theme::fingerprint`, every file's path and content): parsing them cost each job
    /// more than rendering its feed pages, and they change only with the theme.
    pub templates: Option<(String, tera::Tera)>,
}

/// The records of produced files (`{root}/.site/pages-{out}/{handle}.json`) a long-running
/// process last wrote or read, each with its file's stamp then (`urls::file_stamp`): a
/// record whose file has not changed since is not read again.
///
/// A kept record is the sorted hashes of its paths (`render::path_hash`), not the paths: it
/// only ever answers "does another scope still list this path?", and at 60,000 activities the
/// paths of every record (300,000) were the largest thing the watcher kept after the users.
/// A collision can only keep a file that should have gone, never remove one that should
/// stay. A scope a build renders reads its own record from the file, since its stale paths
/// are needed by name to be removed.
#[derive(Debug, Default)]
pub struct KeptRecords {
    /// The records folder they belong to (one per output folder).
    pub dir: Option<PathBuf>,
    /// By handle: the file's stamp when written or read, and its paths' hashes, sorted.
    pub scopes: HashMap<String, (Option<super::urls::FileStamp>, Vec<u64>)>,
}

/// Feed page keys kept between builds: the stamp of `page-keys-{out}.json` when written
/// (`urls::file_stamp`), and the keys.
pub type KeptKeys = (super::urls::FileStamp, std::collections::BTreeMap<String, String>);

#[derive(Debug)]
struct CachedUser {
    stamp: UserStamp,
    user: MergedUser,
    cards: HashMap<String, u64>,
    aggregate: Arc<UserAggregate>,
}

type UserStamp = Vec<Option<(u64, i64, i64, u64)>>;

impl LoadCache {
    /// Keep the users of a finished build, with the stamps taken when they were loaded.
    pub fn keep(&mut self, inst: Instance) {
        let Instance { users, mut card_stamps, mut stamps, mut aggregates, .. } = inst;
        self.users.clear();
        for mut user in users {
            let Some(stamp) = stamps.remove(&user.handle) else { continue };
            let cards = card_stamps.remove(&user.handle).unwrap_or_default();
            let aggregate = match aggregates.remove(&user.handle) {
                Some(a) => a,
                None => Arc::new(UserAggregate::of(&user)),
            };
            // A kept user is reused only by builds that do not render them.
            for_shared_pages(&mut user);
            self.users.insert(user.handle.clone(), CachedUser { stamp, user, cards, aggregate });
        }
    }
}

/// What the merge of a user reads, as `(size, mtime s, mtime ns, inode)` per path.
fn user_stamp(user: &UserDir) -> UserStamp {
    use std::os::unix::fs::MetadataExt;
    let dir = user.path();
    [
        dir.join("index.json"),
        dir.join("athlete.json"),
        dir.join("activities"),
        dir.join("edits"),
        dir.join("edits/images"),
        dir.join("edits/athlete.yaml"),
        dir.join("edits/profile.json"),
    ]
    .iter()
    .map(|p| std::fs::metadata(p).ok().map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino())))
    .collect()
}

/// Hash of each activity's merged summary (see [`Instance::card_stamps`]).
fn card_stamps(user: &MergedUser) -> HashMap<String, u64> {
    use std::hash::{Hash, Hasher};
    user.activities
        .iter()
        .map(|a| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            serde_json::to_vec(&a.summary).unwrap_or_default().hash(&mut h);
            (a.summary.id.clone(), h.finish())
        })
        .collect()
}

/// The file a load leaves in each user's folder: what the shared pages need of the user,
/// as their last merge found it (see [`Snapshot`]).
pub const SNAPSHOT_FILE: &str = ".site_load.json";

/// Bumped when the snapshot's shape or meaning changes, so an older file is never read.
const SNAPSHOT_FORMAT: &str = "bincio-load-1";

/// A user's merged summaries as a build found them, kept in `{root}/{handle}/.site_load.json`
/// so that a later process which renders someone else (`render --handle`) reads one file per
/// member instead of merging every member's store again (at 60,000 activities, reading and
/// parsing 60,000 details was most of a cold `--handle` build).
///
/// It is used only while its `stamp` is the stamp of the user's inputs now
/// ([`snapshot_stamp`]: the program, the listing of `activities/` and the metadata of every
/// other file the merge reads; never written from a racy stamp, see
/// [`FsClock`](super::inputs::FsClock)), and only for a user the build does not render, which is
/// why it holds what the shared pages and the feed stamps read and nothing else
/// ([`for_shared_pages`]). It is written only when reading it back gives exactly the
/// values it was written from (a float that does not survive the JSON round trip would
/// otherwise change a published figure), so a snapshot in use is the merge's result to
/// the bit.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: &'a str,
    stamp: &'a str,
    owner: &'a bincio_bas::Owner,
    generated_at: Timestamp,
    activities: Vec<SnapActivity<&'a Summary, &'a [String]>>,
    warnings: &'a [(PathBuf, String)],
}

#[derive(Deserialize)]
struct Snapshot {
    format: String,
    stamp: String,
    owner: bincio_bas::Owner,
    generated_at: Timestamp,
    activities: Vec<SnapActivity<Summary, Vec<String>>>,
    warnings: Vec<(PathBuf, String)>,
}

/// One activity of a [`Snapshot`]: the trimmed summary, its files, and its card stamp
/// (computed from the whole summary before it was trimmed).
#[derive(Serialize, Deserialize)]
struct SnapActivity<S, I> {
    summary: S,
    has_track: bool,
    has_timeseries: bool,
    images: I,
    card: u64,
}

/// Drop what only the user's own pages read (power curves, best efforts, best climb,
/// source, the athlete file): a user a build does not render is held for the pages that
/// list every member (feeds, stats, community), the URL claims and the feed stamps, none
/// of which read those. Done after the card stamps are computed, which cover every field.
/// A user the build renders is always merged again (see [`load_instance_cached`]), so a
/// trimmed user is never rendered.
pub fn for_shared_pages(u: &mut MergedUser) {
    u.athlete = None;
    for a in &mut u.activities {
        trim_summary(&mut a.summary);
    }
}

fn trim_summary(s: &mut Summary) {
    s.mmp = None;
    s.best_efforts = None;
    s.best_climb_m = None;
    s.source = None;
}

/// The stamp a snapshot of `user` must carry to be used: the snapshot format, the program
/// (a rebuilt merge may merge differently), the handle, and what the merge reads:
///
/// - `activities/` by its [`Listing`](super::inputs::Listing): the folder's size,
///   modification time and inode and each entry's name and inode, without a `stat` per
///   file. The folder is the extractor's output and every writer of the store replaces its
///   files by rename (`bincio_bas::fsx`), which changes the folder's time and the file's
///   inode; at 60,000 activities the `stat` of every detail, track and timeseries of every
///   member was most of a cold `render --handle`.
/// - `index.json`, `athlete.json` and every file of `edits/` (sidecars, photos,
///   `athlete.yaml`, `profile.json`) by name, size, modification time and inode: sidecars
///   are meant to be edited by hand, in place.
///
/// Taken before the merge reads the files, so a change made while it runs leaves the
/// snapshot stale.
struct SnapshotStamp {
    key: String,
    /// Taken no later than the tick of the newest change to those inputs: a snapshot must
    /// not be written with it (see [`FsClock`](super::inputs::FsClock)).
    racy: bool,
}

/// Take the stamp of `user`'s inputs now; `clock` was read before (see [`SnapshotStamp`]).
fn snapshot_stamp(user: &UserDir, handle: &str, clock: &super::inputs::FsClock) -> SnapshotStamp {
    use super::inputs::{Listing, walk_newest};
    let mut h = Sha256::new();
    for part in
        [SNAPSHOT_FORMAT, env!("CARGO_PKG_VERSION"), &super::inputs::program_stamp(), handle]
    {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let mut newest = None;
    for p in [user.index(), user.athlete()] {
        let (digest, t) = walk_newest(&p);
        h.update(digest);
        newest = newest.max(t);
    }
    let acts = Listing::of(&user.activities_dir());
    h.update(acts.digest);
    newest = newest.max(acts.newest);
    let (digest, t) = walk_newest(&user.edits_dir());
    h.update(digest);
    newest = newest.max(t);
    SnapshotStamp { key: hex::encode(&h.finalize()[..16]), racy: clock.racy(newest) }
}

/// The user as their snapshot holds them (trimmed, [`for_shared_pages`]) with their card
/// stamps, when the snapshot exists, is readable and carries `stamp`.
fn read_snapshot(
    user: &UserDir,
    handle: &str,
    stamp: &str,
) -> Option<(MergedUser, HashMap<String, u64>)> {
    use std::io::Read;
    thread_local! {
        /// Each snapshot is read into this thread's buffer: a fresh half-megabyte for each of
        /// 100 members is memory the allocator returns and the kernel zeroes again.
        static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let path = user.path().join(SNAPSHOT_FILE);
    let mut bytes = BUF.take();
    bytes.clear();
    let read = std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes));
    let parsed = read.ok().map(|_| serde_json::from_slice::<Snapshot>(&bytes));
    BUF.set(bytes);
    let snap: Snapshot = match parsed? {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(path = %path.display(), "unreadable, the user is merged again: {e}");
            return None;
        }
    };
    if snap.format != SNAPSHOT_FORMAT || snap.stamp != stamp {
        return None;
    }
    let mut cards = HashMap::with_capacity(snap.activities.len());
    let activities = snap
        .activities
        .into_iter()
        .map(|mut a| {
            cards.insert(a.summary.id.clone(), a.card);
            // A parsed list grows by doubling (20 preview points take 32 places), where a
            // merged summary is a clone, sized exactly: held for 60,000 activities, the
            // slack would cost more than the snapshot saves.
            if let Some(p) = a.summary.preview_coords.as_mut() {
                p.shrink_to_fit();
            }
            if let Some(l) = a.summary.legs.as_mut() {
                l.shrink_to_fit();
            }
            MergedActivity {
                summary: a.summary,
                has_track: a.has_track,
                has_timeseries: a.has_timeseries,
                images: a.images,
            }
        })
        .collect();
    let merged = MergedUser {
        handle: handle.to_owned(),
        owner: snap.owner,
        generated_at: snap.generated_at,
        activities,
        athlete: None,
        files_changed: 0,
        warnings: snap.warnings,
    };
    Some((merged, cards))
}

/// Write `u`'s snapshot (trimmed; `u` as merged, not yet trimmed) unless the file already
/// holds it. Not written when reading it back would not give the same values (see
/// [`SnapshotOut`]): the user is then merged by every build, as before snapshots. A failure
/// only costs later builds the shortcut, so it is logged, never returned.
fn write_snapshot(user: &UserDir, stamp: &str, u: &MergedUser, cards: &HashMap<String, u64>) {
    let path = user.path().join(SNAPSHOT_FILE);
    let trimmed: Vec<Summary> = u
        .activities
        .iter()
        .map(|a| {
            let mut s = a.summary.clone();
            trim_summary(&mut s);
            s
        })
        .collect();
    let out = SnapshotOut {
        format: SNAPSHOT_FORMAT,
        stamp,
        owner: &u.owner,
        generated_at: u.generated_at,
        activities: u
            .activities
            .iter()
            .zip(&trimmed)
            .map(|(a, s)| SnapActivity {
                summary: s,
                has_track: a.has_track,
                has_timeseries: a.has_timeseries,
                images: a.images.as_slice(),
                card: cards.get(&a.summary.id).copied().unwrap_or(0),
            })
            .collect(),
        warnings: &u.warnings,
    };
    let result = fsx::to_json_bytes(&path, &out).and_then(|bytes| {
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok(());
        }
        let back: Option<Snapshot> = serde_json::from_slice(&bytes).ok();
        let exact = back.is_some_and(|b| {
            b.owner == u.owner
                && b.generated_at == u.generated_at
                && b.warnings == u.warnings
                && b.activities.len() == trimmed.len()
                && b.activities.iter().zip(&trimmed).zip(&u.activities).all(|((b, s), a)| {
                    b.summary == *s
                        && b.has_track == a.has_track
                        && b.has_timeseries == a.has_timeseries
                        && b.images == a.images
                })
        });
        if exact {
            fsx::write_derived(&path, &bytes)
        } else {
            tracing::info!(path = %path.display(), "not written: a value does not survive JSON");
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(fsx::FsxError::Io { path: path.clone(), source }),
            }
        }
    });
    if let Err(e) = result {
        tracing::warn!("{e}");
    }
}

/// HMAC-SHA256 (RFC 2104) over `sha2`, to avoid one more dependency for ten lines.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Read `{root}/.site_secret`, creating it (32 random bytes, hex) on first use.
pub fn site_secret(root: &Path) -> Result<Vec<u8>, LoadError> {
    let path = root.join(".site_secret");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(bytes) = hex::decode(text.trim())
        && bytes.len() >= 16
    {
        return Ok(bytes);
    }
    let mut buf = [0u8; 32];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|source| LoadError::Io { path: PathBuf::from("/dev/urandom"), source })?;
    fsx::write_atomic(&path, hex::encode(buf).as_bytes())?;
    Ok(buf.to_vec())
}

/// Merge users and write the root manifest. With `only = Some(h)`, only `h` is merged to
/// disk (nobody when `h` has no folder); the others are read (same in-memory result,
/// nothing written). Each user's display name comes from `edits/profile.json` when the
/// daemon wrote one (see [`apply_profile`]).
pub fn load_instance(root: &Path, only: Option<&str>) -> Result<Instance, LoadError> {
    load_instance_cached(root, only, &mut LoadCache::default())
}

/// [`load_instance`], reusing the unchanged users of `cache` (taken out of it: give them
/// back with [`LoadCache::keep`] once the build is done).
pub fn load_instance_cached(
    root: &Path,
    only: Option<&str>,
    cache: &mut LoadCache,
) -> Result<Instance, LoadError> {
    let inst = InstanceRoot::new(root);
    let handles =
        inst.users().map_err(|source| LoadError::Io { path: root.to_path_buf(), source })?;
    // No user yet (a fresh multi-user instance): the shared pages still render, so login
    // and register work before the first upload.
    if handles.is_empty() && !root.is_dir() {
        return Err(LoadError::Empty { path: root.to_path_buf() });
    }
    // Read before merging: a broken file stops the build before anything is written.
    let config = InstanceConfig::load(&inst.config_file())?;
    let mut cached: HashMap<String, CachedUser> = std::mem::take(&mut cache.users);
    // Before any user's stamp is taken (see `snapshot_stamp`).
    let clock = super::inputs::FsClock::read(&inst);
    let jobs: Vec<(&bincio_bas::Handle, Option<CachedUser>)> =
        handles.iter().map(|h| (h, cached.remove(h.as_str()))).collect();
    type Loaded = (MergedUser, UserStamp, HashMap<String, u64>, Arc<UserAggregate>, bool);
    let users: Vec<Result<Loaded, LoadError>> = jobs
        .into_par_iter()
        .map(|(h, cached)| {
            let write = only.is_none_or(|o| o == h.as_str());
            let user = inst.user(h);
            let stamp = user_stamp(&user);
            if !write
                && let Some(c) = cached
                && c.stamp == stamp
            {
                return Ok((c.user, c.stamp, c.cards, c.aggregate, false));
            }
            let profile = read_profile(&user);
            if write {
                apply_profile(&user, profile.as_ref())?;
            }
            // After the profile's name went into `index.json`, before the merge reads.
            let inputs = snapshot_stamp(&user, h.as_str(), &clock);
            // A user this build does not render is read from their snapshot when it is
            // current; the user it renders is always merged (to disk).
            let snapshot = if write { None } else { read_snapshot(&user, h.as_str(), &inputs.key) };
            let (mut merged, cards) = match snapshot {
                Some(s) => s,
                None => {
                    let mut merged = merge::merge_user(user.path(), write)
                        .map_err(|source| LoadError::Merge { handle: h.to_string(), source })?;
                    let cards = card_stamps(&merged);
                    // From a racy stamp, no snapshot: the next merge of the user, once
                    // their files are quiet, writes it.
                    if !inputs.racy {
                        write_snapshot(&user, &inputs.key, &merged, &cards);
                    }
                    if !write {
                        for_shared_pages(&mut merged);
                    }
                    (merged, cards)
                }
            };
            // A user this build does not write shows the current name on the shared pages
            // too; their own pages and feed get it from their own job.
            if let Some(name) = profile.and_then(|p| p.display_name) {
                merged.owner.display_name = Some(name);
            }
            // The merge may have rewritten `index.json` (the profile's name): stamp after.
            let stamp = if write { user_stamp(&user) } else { stamp };
            let aggregate = Arc::new(UserAggregate::of(&merged));
            Ok((merged, stamp, cards, aggregate, true))
        })
        .collect();
    let mut stamps = HashMap::new();
    let mut card_stamps_by_user = HashMap::new();
    let mut aggregates = HashMap::new();
    let mut reloaded = BTreeSet::new();
    let mut merged_users = Vec::with_capacity(users.len());
    for r in users {
        let (u, stamp, cards, aggregate, fresh) = r?;
        if fresh {
            reloaded.insert(u.handle.clone());
        }
        stamps.insert(u.handle.clone(), stamp);
        aggregates.insert(u.handle.clone(), aggregate);
        card_stamps_by_user.insert(u.handle.clone(), cards);
        merged_users.push(u);
    }
    let users = merged_users;
    for u in &users {
        for (path, reason) in &u.warnings {
            tracing::warn!(handle = %u.handle, path = %path.display(), "{reason}");
        }
    }
    let manifest = write_root_manifest(&inst, &users, &config)?;
    let private = manifest.instance.private.unwrap_or(false);
    let name = manifest.instance.name.clone().unwrap_or_else(|| "Bincio".to_owned());
    let secret = site_secret(root)?;
    let local: Vec<String> = users.iter().map(|u| u.handle.clone()).collect();
    let remotes = crate::federation::load(&inst, &local);
    Ok(Instance {
        name,
        private,
        single_user: users.len() == 1 && !private,
        users,
        manifest,
        config,
        card_stamps: card_stamps_by_user,
        aggregates,
        reloaded,
        stamps,
        remotes,
        secret,
    })
}

/// The user's `edits/profile.json`, when present and readable (a broken one is ignored with
/// a warning: the name shown stays the previous one).
fn read_profile(user: &UserDir) -> Option<Profile> {
    let path = user.profile();
    let bytes = std::fs::read(&path).ok()?;
    serde_json::from_slice(&bytes)
        .map_err(|e| tracing::warn!(path = %path.display(), "ignored: {e}"))
        .ok()
}

/// Copy the profile's display name into the feed owner of `{handle}/index.json`, which the
/// merge publishes (`_merged/index.json`, year shards) and every page reads. The daemon
/// writes only `edits/profile.json`, never `index.json`, so it cannot race the extraction
/// that rewrites `index.json`; the generator is that file's one writer here.
fn apply_profile(user: &UserDir, profile: Option<&Profile>) -> Result<(), LoadError> {
    let Some(name) = profile.and_then(|p| p.display_name.clone()) else { return Ok(()) };
    let path = user.index();
    let Ok(bytes) = std::fs::read(&path) else { return Ok(()) };
    // An unreadable feed is the merge's to report, with its path.
    let Ok(mut feed) = serde_json::from_slice::<UserFeed>(&bytes) else { return Ok(()) };
    if feed.owner.display_name.as_deref() != Some(name.as_str()) {
        feed.owner.display_name = Some(name);
        fsx::write_derived_json(&path, &feed)?;
    }
    Ok(())
}

/// `{root}/index.json`: `instance.name` and `private` come from `bincio.toml` when it sets
/// them, else the manifest's own values are kept (instances from before the file); unknown
/// keys are kept. Without `instance.db` the instance is single-user and public (no daemon
/// could check a login); with it and no `private` anywhere it is private. `generated_at` is
/// the newest user feed's, so an unchanged instance writes nothing.
///
/// Read and written under the root manifest's lock (`bincio_bas::manifest`): the daemon and
/// `bincio-gen federation add|remove` change the same file, and the remote shards they wrote
/// are kept from the copy read under the lock.
fn write_root_manifest(
    inst: &InstanceRoot,
    users: &[MergedUser],
    config: &InstanceConfig,
) -> Result<RootManifest, LoadError> {
    let _lock = bincio_bas::manifest::lock(inst)?;
    let path = inst.root_manifest();
    let existing: Option<RootManifest> =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let mut instance: InstanceInfo =
        existing.as_ref().map(|m| m.instance.clone()).unwrap_or_default();
    if let Some(name) = &config.name {
        instance.name = Some(name.clone());
    }
    if instance.name.is_none() {
        instance.name = Some("Bincio".to_owned());
    }
    if let Some(p) = config.private {
        instance.private = Some(p);
    }
    if !inst.instance_db().exists() {
        instance.private = Some(false);
    } else if instance.private.is_none() {
        instance.private = Some(true);
    }
    let mut shards: Vec<HandleShard> = users
        .iter()
        .map(|u| HandleShard {
            handle: u.handle.clone(),
            url: format!("{}/_merged/index.json", u.handle),
        })
        .collect();
    // Remote (federated) shards listed by an admin are kept as they are.
    if let Some(m) = &existing {
        for s in &m.shards {
            if bincio_bas::manifest::is_remote_url(&s.url) {
                shards.push(s.clone());
            }
        }
    }
    let generated_at =
        users.iter().map(|u| u.generated_at).max_by_key(Timestamp::unix_ms).unwrap_or_default();
    let manifest = RootManifest {
        bas_version: bincio_bas::BAS_VERSION.to_owned(),
        instance,
        generated_at,
        shards,
        activities: Vec::new(),
    };
    fsx::write_json_if_changed(&path, &manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::*;
    use bincio_bas::{Detail, Sport};

    /// anna with "Hills" (`2024-05-01-080000`) and "Coast" (`2024-05-02-080000`), of these
    /// distances, and dave with one 5 km "Run".
    pub(super) fn two_members(root: &Path, hills_m: f64, coast_m: f64) {
        let anna = root.join("anna");
        write_detail(&anna, "2024-05-01-080000", "2024-05-01T08:00:00Z", "Hills", hills_m);
        write_detail(&anna, "2024-05-02-080000", "2024-05-02T08:00:00Z", "Coast", coast_m);
        write_detail(
            &root.join("dave"),
            "2024-05-03-080000",
            "2024-05-03T08:00:00Z",
            "Run",
            5_000.0,
        );
    }

    pub(super) fn write_detail(user: &Path, id: &str, at: &str, title: &str, distance_m: f64) {
        let d = Detail {
            bas_version: "1.0".into(),
            id: id.into(),
            title: Some(title.into()),
            sport: Sport::Cycling,
            started_at: Timestamp::parse(at).unwrap_or_default(),
            distance_m: Some(distance_m),
            // Not a float JSON gives back as written by every parser: 0.1 + 0.2.
            elevation_gain_m: Some(0.1 + 0.2),
            mmp: Some(vec![(bincio_bas::lenient::Int(5), bincio_bas::lenient::Int(400))]),
            ..Detail::default()
        };
        let acts = user.join("activities");
        std::fs::create_dir_all(&acts).unwrap_or_else(|e| panic!("{e}"));
        let bytes = serde_json::to_vec(&d).unwrap_or_else(|e| panic!("{e}"));
        // Replaced by rename, as every writer of the store does (`bincio_bas::fsx`).
        fsx::write_atomic(&acts.join(format!("{id}.json")), &bytes)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Set the modification time of `path` (a file or a folder).
    pub(super) fn set_mtime(path: &Path, t: std::time::SystemTime) {
        std::fs::File::open(path)
            .and_then(|f| f.set_modified(t))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    pub(super) fn mtime(path: &Path) -> std::time::SystemTime {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Make every file and folder under `dir` look last changed a minute ago, so that a
    /// load right after the test wrote them is not within the file system clock's tick of
    /// those changes (which would rightly keep it from writing a snapshot).
    pub(super) fn settle(dir: &Path) {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for e in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok) {
            set_mtime(e.path(), t);
        }
    }

    pub(super) fn titles(inst: &Instance, handle: &str) -> Vec<String> {
        let u = inst.user(handle).unwrap_or_else(|| panic!("{handle} not loaded"));
        u.activities.iter().map(|a| a.summary.title.clone().unwrap_or_default()).collect()
    }

    /// A build of one user reads the other users from the snapshots an earlier load wrote,
    /// exactly as a merge gives them (trimmed of what only their own pages read); a
    /// snapshot whose user changed since, even by a detail replaced with the same name, is not
    /// used.
    #[test]
    fn other_users_come_from_current_snapshots_only() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path();
        two_members(root, 42_195.5, 10_000.25);
        let snapshot = root.join("anna").join(SNAPSHOT_FILE);
        settle(root);

        // A full load merges everyone and leaves a snapshot per user.
        let full = load_instance(root, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(snapshot.is_file());
        assert!(root.join("dave").join(SNAPSHOT_FILE).is_file());
        let merged = full.user("anna").cloned().unwrap_or_else(|| panic!("anna"));
        assert!(merged.activities.iter().all(|a| a.summary.mmp.is_some()));

        // Dave's build: anna from her snapshot, the same summaries as her merge (trimmed),
        // the same card stamps, no power curve kept.
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        let anna = cold.user("anna").unwrap_or_else(|| panic!("anna"));
        let mut expected = merged.clone();
        for_shared_pages(&mut expected);
        assert_eq!(anna.activities.len(), 2);
        for (a, b) in anna.activities.iter().zip(&expected.activities) {
            assert_eq!(a.summary, b.summary);
            assert_eq!(a.summary.elevation_gain_m, Some(0.1 + 0.2));
            assert_eq!(a.summary.mmp, None);
        }
        assert_eq!(cold.card_stamps.get("anna"), full.card_stamps.get("anna"));
        assert_eq!(anna.owner, merged.owner);

        // The snapshot is what was read: a title changed in it (its stamp kept) shows.
        let text = std::fs::read_to_string(&snapshot).unwrap_or_default();
        assert!(text.contains("\"Hills\""), "{text}");
        std::fs::write(&snapshot, text.replace("\"Hills\"", "\"From the snapshot\""))
            .unwrap_or_else(|e| panic!("{e}"));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Coast", "From the snapshot"]);

        // Anna's detail replaced by rename (a new inode under the same name, the folder's
        // time changed): the snapshot is stale and the merge runs again, which writes a
        // current snapshot once her files are quiet.
        let path = root.join("anna/activities/2024-05-01-080000.json");
        let ino = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
        write_detail(
            &root.join("anna"),
            "2024-05-01-080000",
            "2024-05-01T08:00:00Z",
            "Valley",
            42_195.5,
        );
        let ino_after =
            std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
        assert_ne!(ino, ino_after, "the detail must be replaced by rename for this check");
        settle(&root.join("anna"));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Coast", "Valley"]);
        let text = std::fs::read_to_string(&snapshot).unwrap_or_default();
        assert!(text.contains("\"Valley\"") && !text.contains("From the snapshot"), "{text}");

        // A sidecar edit (a new file under `edits/`) makes it stale too.
        let edits = root.join("anna/edits");
        std::fs::create_dir_all(&edits).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(edits.join("2024-05-02-080000.md"), "---\ntitle: \"Edited\"\n---\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Edited", "Valley"]);

        // The user a build renders is always merged, never read from a snapshot.
        let text =
            std::fs::read_to_string(root.join("dave").join(SNAPSHOT_FILE)).unwrap_or_default();
        std::fs::write(root.join("dave").join(SNAPSHOT_FILE), text.replace("\"Run\"", "\"X\""))
            .unwrap_or_else(|e| panic!("{e}"));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "dave"), ["Run"]);
        let d = cold.user("dave").unwrap_or_else(|| panic!("dave"));
        assert!(d.activities[0].summary.mmp.is_some());
    }
}

#[cfg(test)]
mod stamp_tests {
    //! The snapshot's stamp (`snapshot_stamp`): what must make a snapshot stale although
    //! `activities/` is stamped from its listing, without a `stat` per file.
    use super::snapshot_tests::{mtime, set_mtime, settle, titles, two_members, write_detail};
    use super::*;

    const ANNA_1: &str = "2024-05-01-080000";

    /// Two members; anna's snapshot written by a full load of quiet files, then marked (a
    /// title changed in it, its stamp kept) so a build that reads it shows the mark.
    fn marked_instance(root: &Path) {
        settle(root);
        load_instance(root, None).unwrap_or_else(|e| panic!("{e}"));
        let snapshot = root.join("anna").join(SNAPSHOT_FILE);
        let text = std::fs::read_to_string(&snapshot).unwrap_or_default();
        assert!(text.contains("\"Hills\""), "{text}");
        std::fs::write(&snapshot, text.replace("\"Hills\"", "\"Marked\""))
            .unwrap_or_else(|e| panic!("{e}"));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        let read = titles(&cold, "anna");
        assert!(read.contains(&"Marked".to_owned()), "the snapshot must be read: {read:?}");
    }

    fn instance() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        two_members(tmp.path(), 1_000.0, 2_000.0);
        tmp
    }

    /// A change to anna's `activities/` that leaves the folder's modification time as it
    /// was (two changes inside one tick of the file system's clock) still makes her
    /// snapshot stale: a detail replaced by rename with the same bytes (only its inode
    /// differs), a file added, a file removed.
    #[test]
    fn a_changed_listing_makes_the_snapshot_stale_whatever_the_folder_time() {
        let tmp = instance();
        let root = tmp.path();
        let acts = root.join("anna/activities");

        marked_instance(root);
        let before = mtime(&acts);
        write_detail(&root.join("anna"), ANNA_1, "2024-05-01T08:00:00Z", "Hills", 1_000.0);
        set_mtime(&acts, before);
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Coast", "Hills"], "replaced by rename");

        marked_instance(root);
        let before = mtime(&acts);
        write_detail(
            &root.join("anna"),
            "2024-05-04-080000",
            "2024-05-04T08:00:00Z",
            "Added",
            3_000.0,
        );
        set_mtime(&acts, before);
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Added", "Coast", "Hills"], "file added");

        marked_instance(root);
        let before = mtime(&acts);
        std::fs::remove_file(acts.join("2024-05-04-080000.json")).unwrap_or_else(|e| panic!("{e}"));
        set_mtime(&acts, before);
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Coast", "Hills"], "file removed");
    }

    /// Sidecars are meant to be edited by hand, in place: such an edit (same size, same
    /// inode, the folder's time unchanged) makes the snapshot stale.
    #[test]
    fn a_sidecar_edited_in_place_makes_the_snapshot_stale() {
        let tmp = instance();
        let root = tmp.path();
        let edits = root.join("anna/edits");
        std::fs::create_dir_all(&edits).unwrap_or_else(|e| panic!("{e}"));
        let sidecar = edits.join("2024-05-02-080000.md");
        std::fs::write(&sidecar, "---\ntitle: \"Edit A\"\n---\n").unwrap_or_else(|e| panic!("{e}"));
        marked_instance(root);
        let (ino, folder) = (
            std::fs::metadata(&sidecar).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok(),
            mtime(&edits),
        );
        std::fs::write(&sidecar, "---\ntitle: \"Edit B\"\n---\n").unwrap_or_else(|e| panic!("{e}"));
        let ino_after =
            std::fs::metadata(&sidecar).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
        assert_eq!(ino, ino_after, "the sidecar must be edited in place for this check");
        assert_eq!(folder, mtime(&edits));
        let cold = load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(titles(&cold, "anna"), ["Edit B", "Hills"]);
    }

    /// A stamp taken no later than the tick of its inputs' newest change (here a folder
    /// time ahead of the file system's clock) writes no snapshot, whether the build renders
    /// the user or not; once the files are quiet, the next merge writes it.
    #[test]
    fn no_snapshot_is_written_from_a_racy_stamp() {
        let tmp = instance();
        let root = tmp.path();
        let snapshot = root.join("anna").join(SNAPSHOT_FILE);
        let acts = root.join("anna/activities");
        settle(root);
        let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(3_600);

        set_mtime(&acts, ahead);
        load_instance(root, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(!snapshot.exists(), "written from a racy stamp by a full load");
        assert!(root.join("dave").join(SNAPSHOT_FILE).is_file(), "dave's files are quiet");
        load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!snapshot.exists(), "written from a racy stamp by another member's build");
        load_instance(root, Some("anna")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!snapshot.exists(), "written from a racy stamp by the member's own build");

        // A newest change in `edits/` counts the same.
        settle(root);
        let edits = root.join("anna/edits");
        std::fs::create_dir_all(&edits).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(edits.join("athlete.yaml"), "").unwrap_or_else(|e| panic!("{e}"));
        set_mtime(&edits.join("athlete.yaml"), ahead);
        load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!snapshot.exists(), "written from a racy stamp of edits/");

        settle(root);
        load_instance(root, Some("dave")).unwrap_or_else(|e| panic!("{e}"));
        assert!(snapshot.is_file(), "the files are quiet: the snapshot is written");
    }
}
