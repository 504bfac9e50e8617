//! Merge: a user's extracted store plus their sidecar edits → `{handle}/_merged/`.
//!
//! Extracted files are never modified by edits. Merging reads `activities/`,
//! `edits/{id}.md`, `edits/images/{id}/` and `edits/athlete.yaml` and writes the user's
//! public BAS feed into `_merged/`: the year manifest `index.json`, the year shards
//! `index-YYYY.json`, `athlete.json` and `activities/` (merged detail copies, copied tracks
//! and timeseries, `images/{id}/`). Unlike the reference it writes plain copies (no
//! symlinks), every file atomically and only when its content changed, so a no-change merge
//! touches nothing and nginx never sees half a file.
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

use activity::{Loaded, duplicate_choice, load_detail, merge_activity};
use athlete::merge_athlete;
use shards::{remove_stale, write_year_shards};

pub use shards::shard_card;
pub use sidecar::{apply_sidecar_detail, apply_sidecar_summary};

use crate::privacy::Choice;
use bincio_bas::fsx::{self, FsxError};
use bincio_bas::layout::{self, UserDir};
use bincio_bas::{Athlete, Detail, Owner, Privacy, Summary, Timestamp, UserFeed};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
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
    let feed: Option<UserFeed> = match std::fs::read(&index_path) {
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

    // Detail IDs present on disk: `{id}.json` that is not `{id}.timeseries.json`.
    let mut ids: BTreeSet<String> = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(&activities_dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if let Some(id) = name.strip_suffix(".json")
                && !id.ends_with(".timeseries")
            {
                ids.insert(id.to_owned());
            }
        }
    }
    let index_summaries: BTreeMap<String, Summary> = feed
        .as_ref()
        .map(|f| f.activities.iter().map(|s| (s.id.clone(), s.clone())).collect())
        .unwrap_or_default();

    let merged_dir = user.merged_dir();
    let out_acts = merged_dir.join(layout::ACTIVITIES_DIR);
    let ids: Vec<String> = ids.into_iter().collect();
    // Every detail is read first: a kept activity's privacy depends on what its duplicate
    // recordings chose (`privacy::across_duplicates`).
    let loaded: Vec<Result<Loaded, (PathBuf, String)>> =
        ids.par_iter().map(|id| load_detail(&user, id)).collect();
    let mut kept: Vec<Loaded> = Vec::new();
    let mut choices: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    for l in loaded {
        match l {
            Ok(l) => match l.detail.duplicate_of.clone() {
                Some(canonical) => {
                    let choice = duplicate_choice(&user, &l, &mut warnings);
                    choices.entry(canonical).or_default().push(choice);
                }
                None => kept.push(l),
            },
            Err(w) => warnings.push(w),
        }
    }
    let results: Vec<ActivityResult> = kept
        .into_par_iter()
        .map(|l| {
            let dups = choices.get(&l.detail.id).map(Vec::as_slice).unwrap_or_default();
            let summary = index_summaries.get(&l.detail.id);
            merge_activity(&user, l.detail, summary, dups, &out_acts, write)
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
