//! Merge: a user's extracted store plus their sidecar edits → `{handle}/_merged/`.
//!
//! Extracted files are never modified by edits. Merging reads `activities/`,
//! `edits/{id}.md`, `edits/images/{id}/` and `edits/athlete.yaml` and writes the user's
//! public BAS feed into `_merged/`: the year manifest `index.json`, the year shards
//! `index-YYYY.json`, `athlete.json` and `activities/` (merged details, tracks and
//! timeseries, `images/{id}/`). Unlike the reference it makes no symlinks: a file the merge
//! leaves as extracted (a public track or timeseries, a detail no edit changed, a photo) is
//! a hard link to the store's file, any other is written, every one atomically (temp +
//! rename, so a later write replaces a link and never writes into the store) and only when
//! its content changed, so a no-change merge touches nothing and nginx never sees half a
//! file.
//!
//! Privacy is checked again here, because the site publishes exactly what `_merged` holds:
//! `no_gps` drops every location; `blur_start` applies the rule of [`crate::privacy`]
//! (200 m from the ends, along the track or in a straight line) to the published track and
//! timeseries. An activity's privacy and hidden stats combine its own with those of its
//! duplicate recordings ([`crate::privacy::across_duplicates`], see `docs/site.md`), so
//! uploading the same ride again never publishes what the first copy kept private.
//! Unlisted and duplicate activities stay out of the year shards; unlisted ones are still
//! merged, because their tokened page needs them.

mod activity;
mod athlete;
mod shards;
mod sidecar;

use activity::{Loaded, Target, duplicate_choice, load_detail, merge_activity};
use athlete::merge_athlete;
use shards::{remove_stale, write_year_shards};

pub use shards::shard_card;
pub use sidecar::{apply_sidecar_detail, apply_sidecar_summary};

use crate::privacy::Choice;
use bincio_bas::fsx::{self, Dest, FsxError};
use bincio_bas::layout::{self, UserDir};
use bincio_bas::sidecar::{Sidecar, SidecarError};
use bincio_bas::{Athlete, Detail, Owner, Privacy, Summary, Timestamp, UserFeed};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What stopped a user's merge (one bad sidecar does not: it is reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Write(#[from] FsxError),
    #[error("{path}: no index.json and no activities/: not a user directory")]
    NotAUser { path: PathBuf },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io { path: path.to_path_buf(), source }
}

/// One merged activity, as a build holds it from loading to the end: its merged summary
/// (everything a feed card, a listing, the stats, the records and the shared pages are made
/// of) and which of its files are published.
///
/// Its merged detail (laps, legs, description, device, …) is not held: the merge writes it
/// to `_merged/activities/{id}.json` and the activity's page reads it back from there
/// ([`PublishedDetail`]), so a build, and the watcher's cache between jobs, holds summaries
/// for the whole instance and details only for the pages being rendered (see
/// `docs/site.md`, "How a build holds the instance").
#[derive(Clone, Debug)]
pub struct MergedActivity {
    pub summary: Summary,
    /// A `.geojson` track is published in `_merged/activities/`.
    pub has_track: bool,
    /// A `.timeseries.json` is published in `_merged/activities/`.
    pub has_timeseries: bool,
    /// Photo file names in `_merged/activities/images/{id}/`, sorted.
    pub images: Vec<String>,
}

impl MergedActivity {
    /// True when the activity appears in listings (not unlisted). A duplicate recording
    /// never becomes a `MergedActivity`: its choices are folded into the kept one's.
    pub fn is_listed(&self) -> bool {
        self.summary.privacy != Privacy::Unlisted
    }
}

/// The merged detail of one activity as the last merge to disk published it,
/// `{handle}/_merged/activities/{id}.json`, read back when the activity's page renders.
///
/// Only a user merged with `write == true` has current files there; the users a build
/// renders always are (see `site::load`).
#[derive(Debug)]
pub struct PublishedDetail {
    pub path: PathBuf,
    /// The file's bytes, exactly as the merge wrote them: the page's fingerprint hashes
    /// them, so an unchanged page costs a read and a hash, no parse.
    pub bytes: Vec<u8>,
}

impl PublishedDetail {
    /// Read activity `id`'s detail from `merged_activities` (`{handle}/_merged/activities/`).
    pub fn read(merged_activities: &Path, id: &str) -> Result<PublishedDetail, MergeError> {
        let path = merged_activities.join(layout::detail_name(id));
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        Ok(PublishedDetail { path, bytes })
    }

    /// The parsed detail.
    pub fn parse(&self) -> Result<Detail, MergeError> {
        serde_json::from_slice(&self.bytes)
            .map_err(|source| MergeError::Json { path: self.path.clone(), source })
    }
}

/// A user's merged store.
#[derive(Clone, Debug)]
pub struct MergedUser {
    pub handle: String,
    pub owner: Owner,
    pub generated_at: Timestamp,
    /// Every non-duplicate activity (unlisted included), highlighted first, then newest first.
    pub activities: Vec<MergedActivity>,
    /// `_merged/athlete.json` content (with `edits/athlete.yaml` applied), when present.
    pub athlete: Option<Athlete>,
    /// Files written (created or changed) or removed in `_merged/`.
    pub files_changed: usize,
    /// Sidecars or detail files that could not be read: `(path, reason)`; they are skipped.
    pub warnings: Vec<(PathBuf, String)>,
}

/// Merge one user directory into its `_merged/`. With `write == false` nothing is written
/// (the in-memory result is the same): `render --handle` uses it for the other users.
pub fn merge_user(user_dir: &Path, write: bool) -> Result<MergedUser, MergeError> {
    let user = UserDir::new(user_dir);
    let handle = user_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let index_path = user.index();
    let mut feed: Option<UserFeed> = match std::fs::read(&index_path) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .map_err(|source| MergeError::Json { path: index_path.clone(), source })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(MergeError::Io { path: index_path, source: e }),
    };
    let activities_dir = user.activities_dir();
    if feed.is_none() && !activities_dir.is_dir() {
        return Err(MergeError::NotAUser { path: user_dir.to_path_buf() });
    }
    let mut warnings = Vec::new();

    // One listing of the store and one of the edits: which files exist, instead of a
    // lookup per activity and file.
    let files = StoreFiles::list(&user);
    // The index's summaries, moved out of it (each is the start of an activity's merged
    // summary; the feed keeps only its owner and date).
    let index_summaries: HashMap<String, Summary> = feed
        .as_mut()
        .map(|f| std::mem::take(&mut f.activities).into_iter().map(|s| (s.id.clone(), s)).collect())
        .unwrap_or_default();

    let merged_dir = user.merged_dir();
    let out_acts = merged_dir.join(layout::ACTIVITIES_DIR);
    // No `_merged/activities/` yet (a fresh instance, a new user): every file is new, and
    // is linked or written without being looked for first.
    let dest = if out_acts.exists() { Dest::Any } else { Dest::New };
    // Every detail is read first: a kept activity's privacy depends on what its duplicate
    // recordings chose (`privacy::across_duplicates`).
    let loaded: Vec<Result<Loaded, (PathBuf, String)>> =
        files.ids.par_iter().map(|id| load_detail(&user, id)).collect();
    let mut kept: Vec<(Loaded, Option<Summary>)> = Vec::new();
    let mut choices: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    for l in loaded {
        match l {
            Ok(l) => match l.detail.duplicate_of.clone() {
                Some(canonical) => {
                    let choice = duplicate_choice(&user, &files, &l, &mut warnings);
                    choices.entry(canonical).or_default().push(choice);
                }
                None => {
                    let summary = index_summaries.get(&l.detail.id).cloned();
                    kept.push((l, summary));
                }
            },
            Err(w) => warnings.push(w),
        }
    }
    drop(index_summaries);
    let target = Target { out_acts: &out_acts, write, dest };
    let results: Vec<ActivityResult> = kept
        .into_par_iter()
        .map(|(l, summary)| {
            let dups = choices.get(&l.detail.id).map(Vec::as_slice).unwrap_or_default();
            merge_activity(&user, &files, l, summary, dups, &target)
        })
        .collect();
    let mut activities = Vec::new();
    let mut files_changed = 0;
    for r in results {
        match r {
            Ok(Some((a, n))) => {
                files_changed += n;
                activities.push(a);
            }
            Ok(None) => {}
            Err(w) => warnings.push(w),
        }
    }
    // Newest first by the parsed instant (not the string, docs/decisions.md W13), then
    // highlighted first (stable), then by id so equal instants keep a fixed order.
    activities.sort_by(|a, b| {
        b.summary
            .started_at
            .unix_ms()
            .cmp(&a.summary.started_at.unix_ms())
            .then_with(|| a.summary.id.cmp(&b.summary.id))
    });
    activities.sort_by_key(|a| !is_highlight(&a.summary));

    if write {
        files_changed += remove_stale(&out_acts, &activities)?;
    }

    let owner = feed
        .as_ref()
        .map(|f| f.owner.clone())
        .unwrap_or_else(|| Owner { handle: handle.clone(), ..Owner::default() });
    let generated_at = feed
        .as_ref()
        .map(|f| f.generated_at)
        .unwrap_or_else(|| activities.first().map(|a| a.summary.started_at).unwrap_or_default());

    if write {
        files_changed += write_year_shards(&merged_dir, &owner, generated_at, &activities)?;
    }
    let (athlete, n) = merge_athlete(&user, &merged_dir, &activities, write, &mut warnings)?;
    files_changed += n;

    Ok(MergedUser { handle, owner, generated_at, activities, athlete, files_changed, warnings })
}

/// What a user's store holds, from one listing of `activities/` and one of `edits/` (and
/// `edits/images/`), so that merging an activity looks up no file that is not there: at
/// 60,000 activities those lookups were a large share of the merge.
pub(crate) struct StoreFiles {
    /// Detail IDs: `{id}.json` that is not `{id}.timeseries.json`, sorted.
    ids: Vec<String>,
    /// IDs with a `{id}.geojson` file (or a link to one).
    tracks: HashSet<String>,
    /// IDs with a `{id}.timeseries.json` file (or a link to one).
    timeseries: HashSet<String>,
    /// IDs with a sidecar `edits/{id}.md`; `None` when `edits/` could not be listed (it
    /// exists but is unreadable): then every sidecar is looked for.
    sidecars: Option<HashSet<String>>,
    /// IDs with a folder `edits/images/{id}/`; `None` as for `sidecars`.
    images: Option<HashSet<String>>,
}

impl StoreFiles {
    fn list(user: &UserDir) -> StoreFiles {
        let mut ids = BTreeSet::new();
        let (mut tracks, mut timeseries) = (HashSet::new(), HashSet::new());
        if let Ok(entries) = std::fs::read_dir(user.activities_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let name = name.as_str();
                if name.starts_with('.') {
                    continue;
                }
                if let Some(id) = layout::timeseries_id(name) {
                    if is_file(&e) {
                        timeseries.insert(id.to_owned());
                    }
                } else if let Some(id) = layout::detail_id(name) {
                    ids.insert(id.to_owned());
                } else if let Some(id) = layout::track_id(name)
                    && is_file(&e)
                {
                    tracks.insert(id.to_owned());
                }
            }
        }
        // Any entry so named counts (a sidecar that is not a readable file is reported
        // when read, as before the listing).
        let sidecars = list_names(&user.edits_dir(), layout::sidecar_id);
        let images = list_names(&user.edits_dir().join("images"), |name| Some(name));
        StoreFiles { ids: ids.into_iter().collect(), tracks, timeseries, sidecars, images }
    }

    fn has_track(&self, id: &str) -> bool {
        self.tracks.contains(id)
    }

    fn has_timeseries(&self, id: &str) -> bool {
        self.timeseries.contains(id)
    }

    /// The sidecar of activity `id` at `path`, read only when the listing showed one.
    fn read_sidecar(&self, path: &Path, id: &str) -> Result<Option<Sidecar>, SidecarError> {
        match &self.sidecars {
            Some(ids) if !ids.contains(id) => Ok(None),
            _ => Sidecar::read(path),
        }
    }

    /// False when the listing showed no photo folder for activity `id`.
    fn may_have_images(&self, id: &str) -> bool {
        self.images.as_ref().is_none_or(|ids| ids.contains(id))
    }
}

/// True when a listed entry is a file, or a link to one (as `Path::is_file` says).
fn is_file(e: &std::fs::DirEntry) -> bool {
    match e.file_type() {
        Ok(t) if t.is_symlink() => e.path().is_file(),
        Ok(t) => t.is_file(),
        Err(_) => e.path().is_file(),
    }
}

/// The names `pick` keeps from folder `dir`: empty when it does not exist, `None` when it
/// cannot be listed.
fn list_names(dir: &Path, pick: impl Fn(&str) -> Option<&str>) -> Option<HashSet<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Some(
            entries
                .flatten()
                .filter_map(|e| pick(&e.file_name().to_string_lossy()).map(str::to_owned))
                .collect(),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(HashSet::new()),
        Err(_) => None,
    }
}

fn is_highlight(s: &Summary) -> bool {
    s.custom.as_ref().and_then(|c| c.get("highlight")).is_some_and(|v| v.as_bool().unwrap_or(false))
}

pub(crate) type ActivityResult = Result<Option<(MergedActivity, usize)>, (PathBuf, String)>;

pub(crate) fn write_json<T: serde::Serialize>(
    path: &Path,
    value: &T,
    write: bool,
) -> Result<usize, (PathBuf, String)> {
    if !write {
        return Ok(0);
    }
    fsx::write_json_if_changed(path, value)
        .map(usize::from)
        .map_err(|e| (path.to_path_buf(), e.to_string()))
}

impl From<(PathBuf, String)> for MergeError {
    fn from((path, reason): (PathBuf, String)) -> Self {
        MergeError::Io { path, source: std::io::Error::other(reason) }
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn ino(p: &Path) -> u64 {
        std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).ino()
    }

    /// An unedited activity's merged detail is the store's file itself (a link: the merge of
    /// a fresh instance creates no file per activity); an edit replaces that link with a
    /// file of its own and never writes into the store; undoing the edit links it again.
    #[test]
    fn an_unedited_detail_is_linked_and_editing_it_later_leaves_the_store_file_unchanged() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let user = tmp.path().join("dave");
        let acts = user.join("activities");
        std::fs::create_dir_all(&acts).unwrap_or_else(|e| panic!("{e}"));
        let detail = Detail {
            bas_version: "1.0".into(),
            id: "a".into(),
            title: Some("Morning Ride".into()),
            started_at: Timestamp::parse("2024-05-01T08:00:00Z").unwrap_or_default(),
            distance_m: Some(12_345.6),
            timeseries_url: Some(layout::timeseries_url("a")),
            ..Detail::default()
        };
        let stored = serde_json::to_vec(&detail).unwrap_or_default();
        std::fs::write(acts.join("a.json"), &stored).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(acts.join("a.timeseries.json"), br#"{"t":[0,1],"hr":[90,91]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        // Written by another tool: the same detail, other bytes (spacing), so not linked.
        let other = Detail { id: "b".into(), timeseries_url: None, ..detail };
        let other_bytes = serde_json::to_vec_pretty(&other).unwrap_or_default();
        std::fs::write(acts.join("b.json"), &other_bytes).unwrap_or_else(|e| panic!("{e}"));
        let store = acts.join("a.json");
        let store_ino = ino(&store);
        let merged = user.join("_merged/activities");

        let m = merge_user(&user, true).unwrap_or_else(|e| panic!("{e}"));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(ino(&merged.join("a.json")), store_ino, "the unedited detail is linked");
        assert_eq!(ino(&merged.join("a.timeseries.json")), ino(&acts.join("a.timeseries.json")));
        // The other tool's detail is published in the merge's own bytes, in its own file.
        assert_ne!(ino(&merged.join("b.json")), ino(&acts.join("b.json")));
        assert_eq!(
            std::fs::read(merged.join("b.json")).unwrap_or_default(),
            serde_json::to_vec(&other).unwrap_or_default()
        );
        assert_eq!(std::fs::read(acts.join("b.json")).unwrap_or_default(), other_bytes);
        let again = merge_user(&user, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.files_changed, 0);

        // Two edits in a row: the merged detail carries them, the store's file never.
        let edits = user.join("edits");
        std::fs::create_dir_all(&edits).unwrap_or_else(|e| panic!("{e}"));
        for title in ["Hill repeats", "Hill repeats, again"] {
            std::fs::write(edits.join("a.md"), format!("---\ntitle: {title}\n---\n"))
                .unwrap_or_else(|e| panic!("{e}"));
            let m = merge_user(&user, true).unwrap_or_else(|e| panic!("{e}"));
            // The detail and the year shard (its card's title).
            assert_eq!(m.files_changed, 2, "{title}");
            let published = std::fs::read(merged.join("a.json")).unwrap_or_default();
            let published: Detail = serde_json::from_slice(&published).unwrap_or_default();
            assert_eq!(published.title.as_deref(), Some(title));
            assert_eq!(std::fs::read(&store).unwrap_or_default(), stored, "{title}");
            assert_eq!(ino(&store), store_ino);
            assert_ne!(ino(&merged.join("a.json")), store_ino);
        }
        // The edit removed: the store's file is published again, as a link.
        std::fs::remove_file(edits.join("a.md")).unwrap_or_else(|e| panic!("{e}"));
        let m = merge_user(&user, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.files_changed, 2);
        assert_eq!(ino(&merged.join("a.json")), store_ino);
        assert_eq!(std::fs::read(&store).unwrap_or_default(), stored);
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;
    use bincio_bas::Sport;
    use serde_json::Value;

    fn detail(id: &str, at: &str, sport: Sport, five_km_s: i64, distance_m: f64) -> Detail {
        Detail {
            bas_version: "1.0".into(),
            id: id.into(),
            title: Some(id.into()),
            sport,
            started_at: Timestamp::parse(at).unwrap_or_default(),
            distance_m: Some(distance_m),
            elevation_gain_m: Some(100.0),
            best_efforts: Some(vec![(5.0, bincio_bas::lenient::Int(five_km_s))]),
            ..Detail::default()
        }
    }

    /// The published records: on a tie the earlier activity keeps the record (a later equal
    /// effort did not beat it), and `longest_m`/`most_elevation_m` exist for hiking and
    /// walking only (the athlete page shows them for those sports only).
    #[test]
    fn the_earliest_activity_keeps_a_tied_record_and_longest_is_for_hiking_and_walking() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let user = tmp.path().join("dave");
        let acts = user.join("activities");
        std::fs::create_dir_all(&acts).unwrap_or_else(|e| panic!("{e}"));
        for d in [
            detail("new-run", "2024-05-02T08:00:00Z", Sport::Running, 1500, 10_000.0),
            detail("old-run", "2024-05-01T08:00:00Z", Sport::Running, 1500, 9_000.0),
            detail("walk", "2024-05-03T08:00:00Z", Sport::Walking, 3000, 6_000.0),
        ] {
            let bytes = serde_json::to_vec(&d).unwrap_or_default();
            std::fs::write(acts.join(format!("{}.json", d.id)), bytes)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(
            user.join("athlete.json"),
            r#"{"bas_version":"1.0","generated_at":"2024-06-01T00:00:00Z"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        merge_user(&user, true).unwrap_or_else(|e| panic!("{e}"));
        let bytes = std::fs::read(user.join("_merged/athlete.json")).unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let run = &v["records"]["running"];
        assert_eq!(run["5.0"]["activity_id"], "old-run", "{run}");
        assert_eq!(run.get("longest_m"), None, "{run}");
        assert_eq!(v["records"]["walking"]["longest_m"]["activity_id"], "walk");
        assert_eq!(v["records"]["walking"]["most_elevation_m"]["value"], 100.0);
    }
}
