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

use crate::privacy::{self, Choice};
use bincio_bas::fsx::{self, FsxError};
use bincio_bas::layout::UserDir;
use bincio_bas::sidecar::Sidecar;
use bincio_bas::{
    Athlete, Detail, Owner, Privacy, Sport, Summary, Timeseries, Timestamp, TrackFeature, UserFeed,
    YearShard,
};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io { path: path.to_path_buf(), source }
}

/// The sport a sidecar names (an unknown name reads as `other`).
fn sidecar_sport(sc: &Sidecar) -> Option<Sport> {
    sc.sport.as_deref().map(|s| Sport::from_bas(s).unwrap_or(Sport::Other))
}

/// Apply a sidecar (parsed by `bincio_bas::sidecar`, as the daemon parses it) to a detail:
/// title, sport, gear, description, highlight, private, hide_stats. `extracted` is the
/// privacy before any edit, restored when `private` is falsy.
pub fn apply_sidecar_detail(detail: &mut Detail, sc: &Sidecar, extracted: Privacy) {
    if let Some(t) = &sc.title {
        detail.title = Some(t.clone());
    }
    if let Some(s) = sidecar_sport(sc) {
        detail.sport = s;
    }
    if let Some(g) = &sc.gear {
        detail.gear = Some(g.clone());
    }
    if let Some(d) = &sc.description {
        detail.description = Some(d.clone());
    }
    if let Some(h) = sc.highlight {
        detail.custom.insert("highlight".to_owned(), Value::Bool(h));
    }
    if let Some(p) = sc.private {
        detail.privacy = if p { Privacy::Unlisted } else { extracted };
    }
    if let Some(hs) = &sc.hide_stats {
        detail.custom.insert(
            "hide_stats".to_owned(),
            Value::Array(hs.iter().cloned().map(Value::String).collect()),
        );
    }
}

/// Apply a sidecar to a feed card: only title, sport, highlight and private (as the reference).
pub fn apply_sidecar_summary(summary: &mut Summary, sc: &Sidecar, extracted: Privacy) {
    if let Some(t) = &sc.title {
        summary.title = Some(t.clone());
    }
    if let Some(s) = sidecar_sport(sc) {
        summary.sport = s;
    }
    let custom = summary.custom.get_or_insert_with(Map::new);
    if let Some(h) = sc.highlight {
        custom.insert("highlight".to_owned(), Value::Bool(h));
    }
    if let Some(p) = sc.private {
        summary.privacy = if p { Privacy::Unlisted } else { extracted };
    }
}

/// One merged activity, as the site renders it.
#[derive(Clone, Debug)]
pub struct MergedActivity {
    pub summary: Summary,
    pub detail: Detail,
    /// A `.geojson` track is published in `_merged/activities/`.
    pub has_track: bool,
    /// A `.timeseries.json` is published in `_merged/activities/`.
    pub has_timeseries: bool,
    /// Photo file names in `_merged/activities/images/{id}/`, sorted.
    pub images: Vec<String>,
}

impl MergedActivity {
    /// True when the activity appears in listings (not unlisted, not a duplicate).
    pub fn is_listed(&self) -> bool {
        self.summary.privacy != Privacy::Unlisted && self.detail.duplicate_of.is_none()
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
    let out_acts = merged_dir.join("activities");
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

type ActivityResult = Result<Option<(MergedActivity, usize)>, (PathBuf, String)>;

/// A detail read from the store, before any edit.
struct Loaded {
    detail: Detail,
    /// When the detail file was last written: for a duplicate, when it became one (the
    /// extractor rewrites a detail exactly when its `duplicate_of` changes).
    written: Option<SystemTime>,
}

fn load_detail(user: &UserDir, id: &str) -> Result<Loaded, (PathBuf, String)> {
    let path = user.detail(id);
    let bytes = std::fs::read(&path).map_err(|e| (path.clone(), e.to_string()))?;
    let detail: Detail = serde_json::from_slice(&bytes)
        .map_err(|e| (path.clone(), format!("invalid detail JSON: {e}")))?;
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    Ok(Loaded { detail, written })
}

/// What a duplicate recording chose: its extracted privacy and its sidecar's `private` and
/// `hide_stats`. A duplicate whose sidecar cannot be read counts as private (reported): a
/// broken file must not publish what it may have hidden.
fn duplicate_choice(user: &UserDir, l: &Loaded, warnings: &mut Vec<(PathBuf, String)>) -> Choice {
    let path = user.sidecar(&l.detail.id);
    let mut choice = Choice { extracted: l.detail.privacy, at: l.written, ..Choice::default() };
    match Sidecar::read(&path) {
        Ok(Some(sc)) => {
            choice.private = sc.private;
            choice.hidden = sc.hide_stats.as_ref().map(|_| sc.hidden());
        }
        Ok(None) => {}
        Err(e) => {
            warnings.push((path, format!("{e}; the duplicate counts as private")));
            choice.private = Some(true);
        }
    }
    choice
}

fn merge_activity(
    user: &UserDir,
    mut detail: Detail,
    index_summary: Option<&Summary>,
    duplicates: &[Choice],
    out_acts: &Path,
    write: bool,
) -> ActivityResult {
    let id = detail.id.clone();
    let id = id.as_str();
    let extracted = detail.privacy;
    let mut summary = match index_summary {
        Some(s) => s.clone(),
        None => detail.summary(),
    };
    let sidecar_path = user.sidecar(id);
    let sidecar =
        Sidecar::read(&sidecar_path).map_err(|e| (sidecar_path.clone(), e.to_string()))?;
    if let Some(sc) = &sidecar {
        apply_sidecar_detail(&mut detail, sc, extracted);
        apply_sidecar_summary(&mut summary, sc, extracted);
    }
    // Privacy and hidden stats across duplicate recordings of the same ride: the most
    // restrictive choice wins unless the owner edited this activity after the last
    // duplicate appeared.
    let own = Choice {
        extracted,
        private: sidecar.as_ref().and_then(|sc| sc.private),
        hidden: sidecar.as_ref().and_then(|sc| sc.hide_stats.as_ref().map(|_| sc.hidden())),
        at: sidecar
            .as_ref()
            .and_then(|_| std::fs::metadata(&sidecar_path).and_then(|m| m.modified()).ok()),
    };
    let effective = privacy::across_duplicates(&own, duplicates);
    detail.privacy = effective.privacy;
    // Data written by the reference can carry negative durations (its unsorted-points bug,
    // docs/decisions.md W1): publish "not recorded" rather than nonsense.
    for v in [
        &mut detail.duration_s,
        &mut detail.moving_time_s,
        &mut summary.duration_s,
        &mut summary.moving_time_s,
    ] {
        if v.is_some_and(|x| x < 0) {
            *v = None;
        }
    }
    // The summary's privacy follows the detail's when they disagree (the detail is read
    // fresh; an index may be older than a re-extraction).
    summary.privacy = detail.privacy;
    let images = list_images(&user.images_dir(id));
    if !images.is_empty() {
        detail.custom.insert(
            "images".to_owned(),
            Value::Array(images.iter().cloned().map(Value::String).collect()),
        );
    }

    let hidden = effective.hidden;
    if !hidden.is_empty() {
        // The effective set, in canonical order (the page reads it to drop panels).
        detail.custom.insert(
            "hide_stats".to_owned(),
            Value::Array(hidden.names().into_iter().map(Value::from).collect()),
        );
    }
    // Tracks and timeseries, privacy-checked.
    let privacy = effective.geo;
    let mut changed = 0;
    let ts_src = user.timeseries(id);
    let track_src = user.track(id);
    let ts_dst = out_acts.join(format!("{id}.timeseries.json"));
    let track_dst = out_acts.join(format!("{id}.geojson"));
    let mut has_track = track_src.is_file();
    let has_timeseries = ts_src.is_file();
    // Public data is copied as is (cheap: skipped by length + mtime when unchanged); any
    // privacy rule or hidden stat means parsing, filtering and writing the filtered copy.
    let filter_ts =
        privacy != Privacy::Public && privacy != Privacy::Unlisted || !hidden.is_empty();
    let filter_track = hidden.touches_track();
    let mut ts = if has_timeseries && filter_ts { Some(read_timeseries(&ts_src)?) } else { None };
    match privacy {
        Privacy::NoGps => {
            strip_locations(&mut detail, &mut summary);
            has_track = false;
            if let Some(ts) = ts.as_mut() {
                ts.lat = None;
                ts.lon = None;
            }
        }
        Privacy::BlurStart => {
            let mut track = if has_track { Some(read_track(&track_src)?) } else { None };
            if let Some(tr) = track.as_mut() {
                hidden.apply_track(tr);
            }
            let ends = privacy::blur_published(ts.as_mut(), track.as_mut());
            if track.as_ref().is_some_and(|tr| tr.geometry.coordinates.len() < 2) {
                track = None;
            }
            refit_locations(&mut detail, &mut summary, track.as_ref(), ts.as_ref(), &ends);
            match &track {
                Some(tr) => changed += write_json(&track_dst, tr, write)?,
                None => has_track = false,
            }
        }
        Privacy::Public | Privacy::Unlisted if has_track && filter_track => {
            let mut track = read_track(&track_src)?;
            hidden.apply_track(&mut track);
            changed += write_json(&track_dst, &track, write)?;
        }
        Privacy::Public | Privacy::Unlisted => {
            if write && has_track {
                changed += copy_if_changed(&track_src, &track_dst)?;
            }
        }
    }
    // Hidden stats are not published at all (not only hidden on the page): every field
    // `bincio_bas::hidden` lists for them is nulled in `_merged`, so the feeds, records and
    // power curves built from these summaries never see them.
    hidden.apply_detail(&mut detail);
    hidden.apply_summary(&mut summary);
    match ts.as_mut() {
        Some(ts) => {
            hidden.apply_timeseries(ts);
            changed += write_json(&ts_dst, ts, write)?;
        }
        None if has_timeseries && write => changed += copy_if_changed(&ts_src, &ts_dst)?,
        None => {}
    }
    if !has_track {
        summary.track_url = None;
    } else if summary.track_url.is_none() {
        summary.track_url = Some(format!("activities/{id}.geojson"));
    }
    detail.timeseries_url = has_timeseries.then(|| format!("activities/{id}.timeseries.json"));
    if write {
        changed += write_json(&out_acts.join(format!("{id}.json")), &detail, write)?;
        if !images.is_empty() {
            let dst_dir = out_acts.join("images").join(id);
            for name in &images {
                changed += copy_if_changed(&user.images_dir(id).join(name), &dst_dir.join(name))?;
            }
        }
    }
    Ok(Some((MergedActivity { summary, detail, has_track, has_timeseries, images }, changed)))
}

fn write_json<T: serde::Serialize>(
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

fn read_timeseries(path: &Path) -> Result<Timeseries, (PathBuf, String)> {
    let bytes = std::fs::read(path).map_err(|e| (path.to_path_buf(), e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| (path.to_path_buf(), format!("invalid timeseries: {e}")))
}

fn read_track(path: &Path) -> Result<TrackFeature, (PathBuf, String)> {
    let bytes = std::fs::read(path).map_err(|e| (path.to_path_buf(), e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| (path.to_path_buf(), format!("invalid GeoJSON: {e}")))
}

fn strip_locations(detail: &mut Detail, summary: &mut Summary) {
    detail.bbox = None;
    detail.start_latlng = None;
    detail.end_latlng = None;
    detail.preview_coords = None;
    detail.track_url = None;
    summary.preview_coords = None;
    summary.track_url = None;
}

/// Recompute bbox, start/end and preview from what is still published after blurring.
fn refit_locations(
    detail: &mut Detail,
    summary: &mut Summary,
    track: Option<&TrackFeature>,
    ts: Option<&Timeseries>,
    ends: &[[f64; 2]],
) {
    let mut pts: Vec<[f64; 2]> = Vec::new();
    if let Some(tr) = track {
        pts = tr.geometry.coordinates.iter().map(|c| [c[1], c[0]]).collect();
    } else if let Some(ts) = ts
        && let (Some(lat), Some(lon)) = (&ts.lat, &ts.lon)
    {
        pts = lat.iter().zip(lon).filter_map(|(a, o)| Some([(*a)?, (*o)?])).collect();
    }
    if pts.is_empty() {
        strip_locations(detail, summary);
        return;
    }
    // No bbox for blurred tracks: its corners combine extremes of different points and can
    // fall inside a privacy zone (measured: 171 m from the start on a sample ride). The map
    // fits the published GeoJSON instead.
    detail.bbox = None;
    detail.start_latlng = pts.first().copied();
    detail.end_latlng = pts.last().copied();
    let keep = |c: &[f64; 2]| !privacy::near_ends(*c, ends);
    let preview: Vec<[f64; 2]> = match &summary.preview_coords {
        Some(p) => p.iter().filter(|c| keep(c)).copied().collect(),
        None => Vec::new(),
    };
    let preview = if preview.len() >= 2 { preview } else { sample_preview(&pts) };
    summary.preview_coords = Some(preview.clone());
    if detail.preview_coords.is_some() {
        detail.preview_coords = Some(preview);
    }
}

fn sample_preview(pts: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let n = pts.len();
    if n <= 20 {
        return pts.to_vec();
    }
    (0..20).map(|i| pts[i * (n - 1) / 19]).map(|p| [round5(p[0]), round5(p[1])]).collect()
}

fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

fn list_images(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// Publish `src` at `dst` atomically unless `dst` is already the same file. A hard link is
/// made to a temp name beside `dst` and renamed over it (no data copied: a 10 000-activity
/// instance would otherwise copy gigabytes of timeseries twice); across file systems the
/// file is copied instead, carrying the source's mtime. "Same" is the same inode, or the same
/// length and mtime for a copy, so an unchanged source costs two `stat`s. Every writer
/// replaces files by rename, never in place, so a linked file never changes under a reader.
/// Returns 1 when it wrote.
pub fn copy_if_changed(src: &Path, dst: &Path) -> Result<usize, (PathBuf, String)> {
    let sm = std::fs::metadata(src).map_err(|e| (src.to_path_buf(), e.to_string()))?;
    if let Ok(dm) = std::fs::metadata(dst)
        && (same_inode(&sm, &dm)
            || dm.len() == sm.len()
                && matches!((dm.modified(), sm.modified()), (Ok(a), Ok(b)) if a == b))
    {
        return Ok(0);
    }
    let dir = dst.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e.to_string()))?;
    let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".bincio-link-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_ok() {
        std::fs::rename(&tmp, dst).map_err(|e| (dst.to_path_buf(), e.to_string()))?;
        return Ok(1);
    }
    let bytes = std::fs::read(src).map_err(|e| (src.to_path_buf(), e.to_string()))?;
    fsx::write_derived(dst, &bytes).map_err(|e| (dst.to_path_buf(), e.to_string()))?;
    if let Ok(mtime) = sm.modified()
        && let Ok(f) = std::fs::File::options().write(true).open(dst)
    {
        // Best effort: without it the next run simply copies again.
        let _ = f.set_modified(mtime);
    }
    Ok(1)
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

/// Remove files in `_merged/activities/` that belong to no merged activity any more
/// (a deleted activity, a photo removed, a track no longer published).
fn remove_stale(out_acts: &Path, activities: &[MergedActivity]) -> Result<usize, MergeError> {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut keep_images: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in activities {
        let id = &a.summary.id;
        keep.insert(format!("{id}.json"));
        if a.has_track {
            keep.insert(format!("{id}.geojson"));
        }
        if a.has_timeseries {
            keep.insert(format!("{id}.timeseries.json"));
        }
        keep_images.insert(id, a.images.iter().map(String::as_str).collect());
    }
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(out_acts) else { return Ok(0) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name == "images" && path.is_dir() {
            for d in std::fs::read_dir(&path).map_err(io_err(&path))?.flatten() {
                let id = d.file_name().to_string_lossy().into_owned();
                let Some(files) = keep_images.get(id.as_str()).filter(|f| !f.is_empty()) else {
                    std::fs::remove_dir_all(d.path()).map_err(io_err(&d.path()))?;
                    removed += 1;
                    continue;
                };
                for f in std::fs::read_dir(d.path()).map_err(io_err(&d.path()))?.flatten() {
                    if !files.contains(f.file_name().to_string_lossy().as_ref()) {
                        std::fs::remove_file(f.path()).map_err(io_err(&f.path()))?;
                        removed += 1;
                    }
                }
            }
            continue;
        }
        if !keep.contains(&name) {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Strip what the reference strips from year-shard cards.
pub fn shard_card(s: &Summary) -> Summary {
    let mut c = s.clone();
    c.best_efforts = None;
    c.best_climb_m = None;
    c.source = None;
    c
}

/// Write `_merged/index.json` (year manifest) and `index-YYYY.json` (listed cards only,
/// grouped by the local year of `started_at`), removing shards of years that emptied.
fn write_year_shards(
    merged_dir: &Path,
    owner: &Owner,
    generated_at: Timestamp,
    activities: &[MergedActivity],
) -> Result<usize, MergeError> {
    let mut by_year: BTreeMap<i32, Vec<Summary>> = BTreeMap::new();
    for a in activities.iter().filter(|a| a.is_listed()) {
        by_year.entry(a.summary.started_at.0.year()).or_default().push(shard_card(&a.summary));
    }
    let mut changed = 0;
    let mut shards = Vec::new();
    for (year, cards) in by_year.iter().rev() {
        let url = format!("index-{year}.json");
        shards.push(YearShard {
            year: i64::from(*year),
            url: url.clone(),
            count: cards.len() as i64,
        });
        let feed = UserFeed {
            bas_version: bincio_bas::BAS_VERSION.to_owned(),
            owner: owner.clone(),
            generated_at,
            shards: Vec::new(),
            activities: cards.clone(),
        };
        changed += usize::from(fsx::write_json_if_changed(&merged_dir.join(&url), &feed)?);
    }
    let manifest = UserFeed {
        bas_version: bincio_bas::BAS_VERSION.to_owned(),
        owner: owner.clone(),
        generated_at,
        shards,
        activities: Vec::new(),
    };
    changed += usize::from(fsx::write_json_if_changed(&merged_dir.join("index.json"), &manifest)?);
    if let Ok(entries) = std::fs::read_dir(merged_dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(y) = name.strip_prefix("index-").and_then(|r| r.strip_suffix(".json"))
                && y.parse::<i32>().map_or(true, |y| !by_year.contains_key(&y))
            {
                std::fs::remove_file(e.path()).map_err(io_err(&e.path()))?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// The athlete keys a user may set through `edits/athlete.yaml`.
const ATHLETE_EDIT_KEYS: [&str; 6] =
    ["max_hr", "ftp_w", "hr_zones", "power_zones", "seasons", "gear"];

fn merge_athlete(
    user: &UserDir,
    merged_dir: &Path,
    activities: &[MergedActivity],
    write: bool,
    warnings: &mut Vec<(PathBuf, String)>,
) -> Result<(Option<Athlete>, usize), MergeError> {
    let src = user.athlete();
    let dst = merged_dir.join("athlete.json");
    let mut value: Value = match std::fs::read(&src) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        Err(_) => {
            if write && dst.exists() {
                std::fs::remove_file(&dst).map_err(io_err(&dst))?;
                return Ok((None, 1));
            }
            return Ok((None, 0));
        }
    };
    let yaml_path = user.athlete_edits();
    if let Ok(text) = std::fs::read_to_string(&yaml_path) {
        match serde_yaml::from_str::<Value>(&text) {
            Ok(Value::Object(edits)) => {
                if let Value::Object(obj) = &mut value {
                    for key in ATHLETE_EDIT_KEYS {
                        if let Some(v) = edits.get(key) {
                            obj.insert(key.to_owned(), v.clone());
                        }
                    }
                }
            }
            Ok(Value::Null) => {}
            Ok(_) => warnings.push((yaml_path, "not a mapping; ignored".to_owned())),
            Err(e) => warnings.push((yaml_path, format!("invalid YAML, ignored: {e}"))),
        }
    }
    // Records, climbs and power curves are recomputed from the merged listed activities:
    // the extracted athlete.json may name unlisted or duplicate activities and counts stats
    // a sidecar hid, and this file is published. The curves' 365- and 90-day windows end
    // at the extracted file's `generated_at`, as extraction computed them (so a rebuild of
    // the same data writes the same bytes).
    if let Value::Object(obj) = &mut value {
        let listed: Vec<&Summary> =
            activities.iter().filter(|a| a.is_listed()).map(|a| &a.summary).collect();
        obj.insert("records".to_owned(), Value::Object(crate::athlete::records(&listed)));
        let climbs = crate::athlete::best_climbs(&listed);
        obj.insert(
            "best_climbs".to_owned(),
            serde_json::to_value(climbs)
                .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        );
        let now = obj
            .get("generated_at")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse)
            .or_else(|| listed.iter().map(|s| s.started_at).max_by_key(Timestamp::unix_ms))
            .unwrap_or_default();
        let curves = crate::athlete::power_curves(&listed, now);
        obj.insert(
            "power_curve".to_owned(),
            serde_json::to_value(curves)
                .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        );
    }
    let athlete: Option<Athlete> = match serde_json::from_value(value.clone()) {
        Ok(a) => Some(a),
        Err(e) => {
            warnings.push((src, format!("athlete.json not understood: {e}")));
            None
        }
    };
    let changed = if write { usize::from(fsx::write_json_if_changed(&dst, &value)?) } else { 0 };
    Ok((athlete, changed))
}

impl From<(PathBuf, String)> for MergeError {
    fn from((path, reason): (PathBuf, String)) -> Self {
        MergeError::Io { path, source: std::io::Error::other(reason) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_wins_over_description_and_private_round_trips() {
        let mut d = Detail { id: "a".into(), privacy: Privacy::BlurStart, ..Detail::default() };
        let sc =
            Sidecar::parse("---\ndescription: fm\nprivate: yes\ntitle:\n---\nbody text").unwrap();
        apply_sidecar_detail(&mut d, &sc, Privacy::BlurStart);
        assert_eq!(d.description.as_deref(), Some("body text"));
        assert_eq!(d.privacy, Privacy::Unlisted);
        assert_eq!(d.title, None, "an empty title: must not become \"None\"");
        let sc = Sidecar::parse("---\nprivate: false\n---\n").unwrap();
        apply_sidecar_detail(&mut d, &sc, Privacy::BlurStart);
        assert_eq!(d.privacy, Privacy::BlurStart);
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;

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
