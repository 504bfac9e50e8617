//! The user's published feed: year shards `index-YYYY.json`, the year manifest, and the
//! removal of merged files no activity owns any more.

use super::{MergeError, MergedActivity, io_err};
use bincio_bas::fsx::{self};
use bincio_bas::layout;
use bincio_bas::{Owner, Summary, Timestamp, UserFeed, YearShard};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Remove files in `_merged/activities/` that belong to no merged activity any more
/// (a deleted activity, a photo removed, a track no longer published).
pub(super) fn remove_stale(
    out_acts: &Path,
    activities: &[MergedActivity],
) -> Result<usize, MergeError> {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut keep_images: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in activities {
        let id = &a.summary.id;
        keep.insert(layout::detail_name(id));
        if a.has_track {
            keep.insert(layout::track_name(id));
        }
        if a.has_timeseries {
            keep.insert(layout::timeseries_name(id));
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
pub(super) fn write_year_shards(
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
        let url = layout::year_shard_name(*year);
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
