//! Where each activity lives in the output: its page and data URLs, and who owns
//! `/activity/{id}/` when two users have an activity with the same ID.
//!
//! `/activity/{id}/` belongs to the user who published an activity with that ID first; a
//! later user with the same ID (same start second) gets `/activity/{id}-{handle}/`. The
//! owners are kept in `{root}/.site/activity_urls.json` (ID → handle), because neither the
//! handle order nor the set of users a build renders says who was first:
//!
//! - a claim is released when its owner no longer has the activity (deleted, or the user is);
//! - only users a build renders (`may_claim`) take a free ID, in handle order, so a
//!   `--handle` build never changes the URL of a page it does not render;
//! - without a claims file (a first build, or an instance built before the file existed)
//!   every user may claim, in handle order, which is how URLs were assigned before.
//!
//! An unlisted activity keeps its claim (it is published under its tokened URL meanwhile),
//! so listing it again gives it back its URL.
//!
//! In the watcher the claims and every user's URLs are kept between jobs ([`UrlCache`]): a
//! job checks the claims of the users it reloaded, and rebuilds the URL map of a user only
//! when that user was reloaded or a claim on one of their IDs changed hands, so its cost
//! follows the change, not the number of activities on the instance. Read from disk (a first
//! build, or a file another process wrote since), every claim and every user is checked, as
//! a one-off build does.

use super::SiteError;
use crate::merge::MergedUser;
use bincio_bas::fsx;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Where an activity lives in the output.
#[derive(Clone, Debug)]
pub struct ActivityUrls {
    /// The page, `/activity/{id}/` or, when unlisted, `/activity/{id}-{token}/`.
    pub page: String,
    /// Folder URL of its published detail/track/timeseries/images.
    pub data: String,
    pub listed: bool,
}

/// One user's activities' URLs, by activity ID.
pub type UserUrls = HashMap<String, ActivityUrls>;

/// A file's `(size, mtime s, mtime ns, inode)`.
pub type FileStamp = (u64, i64, i64, u64);

/// Every user's URLs, by handle.
pub type Urls = HashMap<String, Arc<UserUrls>>;

/// The claims and URL maps of the previous build of a long-running process.
#[derive(Debug, Default)]
pub struct UrlCache {
    /// The claims as last read or written, with the file's `(size, mtime s, mtime ns, inode)`
    /// then: a file changed since by another process is read again.
    claims: Option<(Option<FileStamp>, BTreeMap<String, String>)>,
    /// `token("", "")` of the instance secret the maps were made with.
    secret_check: String,
    users: Urls,
}

/// What [`activity_urls`] needs to know of the instance.
pub struct UrlInputs<'a> {
    pub users: &'a [MergedUser],
    /// Users merged by this build rather than taken unchanged from the cache.
    pub reloaded: &'a BTreeSet<String>,
    /// The unlisted activity's URL token of (handle, id).
    pub token: &'a (dyn Fn(&str, &str) -> String + Sync),
    /// `{root}/.site/activity_urls.json`.
    pub claims_path: &'a Path,
}

/// A file's `(size, mtime s, mtime ns, inode)`: what a long-running process compares to
/// tell whether a file it keeps in memory was replaced since.
pub fn file_stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
}

/// The claims file, `None` when there is none (or it is unreadable: losing the claims only
/// risks reassigning contested IDs; it must not stop every build).
fn read_claims(path: &Path) -> Result<Option<BTreeMap<String, String>>, SiteError> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(claims) => Ok(Some(claims)),
            Err(e) => {
                tracing::warn!(path = %path.display(), "unreadable, claims rebuilt: {e}");
                Ok(None)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SiteError::File { path: path.to_path_buf(), reason: e.to_string() }),
    }
}

/// Page and data URLs of every activity (see the module documentation), reusing what
/// `cache` kept from the previous build where nothing it depends on changed.
pub fn activity_urls(
    inp: &UrlInputs<'_>,
    may_claim: impl Fn(&str) -> bool,
    cache: &mut UrlCache,
) -> Result<Urls, SiteError> {
    let path = inp.claims_path;
    let stamp = file_stamp(path);
    let secret_check = (inp.token)("", "");
    // The cached claims when the file is still the one this process last saw; else the file.
    let (stored, trusted) = match cache.claims.take() {
        Some((s, claims))
            if s == stamp && stamp.is_some() && secret_check == cache.secret_check =>
        {
            (Some(claims), true)
        }
        _ => (read_claims(path)?, false),
    };
    let bootstrap = stored.is_none();
    let mut claims = stored.unwrap_or_default();
    let live: HashMap<&str, &MergedUser> =
        inp.users.iter().map(|u| (u.handle.as_str(), u)).collect();
    // Users whose claims and URLs must be checked again: all of them unless the cache is
    // trusted, else the reloaded ones and any the cache does not know.
    let stale: HashSet<&str> = inp
        .users
        .iter()
        .map(|u| u.handle.as_str())
        .filter(|h| !trusted || inp.reloaded.contains(*h) || !cache.users.contains_key(*h))
        .collect();
    let ids: HashMap<&str, HashSet<&str>> = stale
        .iter()
        .filter_map(|h| live.get(h))
        .map(|u| (u.handle.as_str(), u.activities.iter().map(|a| a.summary.id.as_str()).collect()))
        .collect();
    // Claims whose owner is gone or no longer has the activity are released.
    let mut changed: BTreeSet<String> = BTreeSet::new();
    claims.retain(|id, h| {
        let keep = match ids.get(h.as_str()) {
            Some(own) => own.contains(id.as_str()),
            None => live.contains_key(h.as_str()),
        };
        if !keep {
            changed.insert(id.clone());
        }
        keep
    });
    for u in inp.users.iter().filter(|u| bootstrap || may_claim(&u.handle)) {
        for a in u.activities.iter().filter(|a| a.is_listed()) {
            if !claims.contains_key(&a.summary.id) {
                claims.insert(a.summary.id.clone(), u.handle.clone());
                changed.insert(a.summary.id.clone());
            }
        }
    }
    if !trusted || !changed.is_empty() {
        fsx::write_json_if_changed(path, &claims)?;
    }

    let mut urls: Urls = HashMap::with_capacity(inp.users.len());
    for u in inp.users {
        let h = u.handle.as_str();
        if !stale.contains(h)
            && let Some(map) = cache.users.get(h)
            && !changed.iter().any(|id| map.contains_key(id))
        {
            urls.insert(u.handle.clone(), Arc::clone(map));
            continue;
        }
        urls.insert(u.handle.clone(), Arc::new(user_urls(u, &claims, inp.token)));
    }
    cache.claims = Some((file_stamp(path), claims));
    cache.secret_check = secret_check;
    cache.users = urls.clone();
    Ok(urls)
}

/// The URLs of one user's activities under `claims`.
fn user_urls(
    u: &MergedUser,
    claims: &BTreeMap<String, String>,
    token: &(dyn Fn(&str, &str) -> String + Sync),
) -> UserUrls {
    let mut map = HashMap::with_capacity(u.activities.len());
    for a in &u.activities {
        let id = &a.summary.id;
        let listed = a.is_listed();
        let (page, data) = if listed {
            let slug = if claims.get(id) == Some(&u.handle) {
                id.clone()
            } else {
                format!("{id}-{}", u.handle)
            };
            (format!("/activity/{slug}/"), format!("/data/{}/_merged/activities/", u.handle))
        } else {
            let page = format!("/activity/{id}-{}/", token(&u.handle, id));
            (page.clone(), page)
        };
        map.insert(id.clone(), ActivityUrls { page, data, listed });
    }
    map
}

/// Per user, per activity (aligned with `MergedUser::activities`), what a combined-feed entry
/// of it is made of, as one number: a hash of the handle, the ID, the page URL and the card
/// stamp (`Instance::card_stamp`). The combined feeds' page keys (`render::PageKeys`) hash
/// these instead of looking up every activity's URL and stamp by handle and ID in every
/// job, which at 60,000 activities cost more than rendering the pages that changed.
pub type EntryStamps = HashMap<String, Arc<Entries>>;

/// One user's combined-feed entries, aligned with `MergedUser::activities`.
#[derive(Debug, Default)]
pub struct Entries {
    /// Each entry's stamp (see [`EntryStamps`]).
    pub stamps: Vec<u64>,
    /// Each entry's `paging::local_cut_hash`, which decides where the feeds' archive
    /// pages end (`site::paging`): kept here so a job does not hash every activity of the
    /// instance again, reading each one's ID from wherever it lies in memory.
    pub cuts: Vec<u64>,
}

/// The entry stamps of the previous build of a long-running process, per user with the URL
/// map they were made from.
#[derive(Debug, Default)]
pub struct EntryStampCache {
    users: HashMap<String, (Arc<UserUrls>, Arc<Entries>)>,
}

/// Every user's entry stamps: those `cache` kept for a user this build did not merge again
/// and whose URL map is the very one they were made from (`activity_urls` keeps a map
/// unless the user or a claim on one of their IDs changed), else computed afresh.
pub fn entry_stamps(
    users: &[MergedUser],
    reloaded: &BTreeSet<String>,
    urls: &Urls,
    card_stamp: &(dyn Fn(&str, &str) -> u64 + Sync),
    cache: &mut EntryStampCache,
) -> EntryStamps {
    let mut kept = std::mem::take(&mut cache.users);
    let mut out = HashMap::with_capacity(users.len());
    for u in users {
        let h = u.handle.as_str();
        let Some(map) = urls.get(h) else { continue };
        let stamps = match kept.remove(h) {
            Some((from, stamps)) if !reloaded.contains(h) && Arc::ptr_eq(&from, map) => stamps,
            _ => Arc::new(Entries {
                stamps: u
                    .activities
                    .iter()
                    .map(|a| {
                        use std::hash::{Hash, Hasher};
                        let id = a.summary.id.as_str();
                        let mut hasher = std::collections::hash_map::DefaultHasher::new();
                        (h, id, map.get(id).map(|x| x.page.as_str()), card_stamp(h, id))
                            .hash(&mut hasher);
                        hasher.finish()
                    })
                    .collect(),
                cuts: u
                    .activities
                    .iter()
                    .map(|a| super::paging::local_cut_hash(h, &a.summary.id))
                    .collect(),
            }),
        };
        cache.users.insert(u.handle.clone(), (Arc::clone(map), Arc::clone(&stamps)));
        out.insert(u.handle.clone(), stamps);
    }
    out
}
