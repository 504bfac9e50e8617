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
use crate::merge::{self, MergeError, MergedUser};
use bincio_bas::fsx;
use bincio_bas::layout::UserDir;
use bincio_bas::{
    ConfigError, HandleShard, InstanceConfig, InstanceInfo, InstanceRoot, Profile, RootManifest,
    Timestamp, UserFeed,
};
use rayon::prelude::*;
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
}

/// The records of produced files (`{root}/.site/pages-{out}/{handle}.json`) a long-running
/// process last wrote or read, each sorted as stored and with its file's stamp then
/// (`urls::file_stamp`): a record whose file has not changed since is not read again.
#[derive(Debug, Default)]
pub struct KeptRecords {
    /// The records folder they belong to (one per output folder).
    pub dir: Option<PathBuf>,
    /// By handle: the file's stamp when written or read, and the record's paths.
    pub scopes: HashMap<String, (Option<super::urls::FileStamp>, Vec<String>)>,
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
        for user in users {
            let Some(stamp) = stamps.remove(&user.handle) else { continue };
            let cards = card_stamps.remove(&user.handle).unwrap_or_default();
            let aggregate = match aggregates.remove(&user.handle) {
                Some(a) => a,
                None => Arc::new(UserAggregate::of(&user)),
            };
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
            let mut merged = merge::merge_user(user.path(), write)
                .map_err(|source| LoadError::Merge { handle: h.to_string(), source })?;
            // A user this build does not write shows the current name on the shared pages
            // too; their own pages and feed get it from their own job.
            if let Some(name) = profile.and_then(|p| p.display_name) {
                merged.owner.display_name = Some(name);
            }
            // The merge may have rewritten `index.json` (the profile's name): stamp after.
            let stamp = if write { user_stamp(&user) } else { stamp };
            let cards = card_stamps(&merged);
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
