//! The Strava bulk export ("Download your data" ZIP) → the user's store.
//!
//! The ZIP is read entry by entry (an export of several GB never sits in memory): the
//! activity files (`activities/*.fit.gz|.gpx.gz|.tcx.gz`, named by upload, not always by
//! activity) are copied to a private staging folder and extracted like any upload, with
//! `activities.csv` giving titles, descriptions (quoted, multi-line), gear, commute and
//! private flags; rows without a file (manual entries) become summary-only activities keyed
//! like a sync's (`strava:{id}`, so a later sync does not import them again); photos listed
//! in the `Media` column are attached to their activities (`edits/images/{id}/`).

use super::StravaError;
use super::map::{self, SummaryActivity};
use crate::extract::strava_csv::{ManualRow, StravaCsv};
use crate::extract::{self, ExtractOptions, Prebuilt};
use bincio_bas::layout::UserDir;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// At most this many entries in one archive (a decade of activities with photos is tens
/// of thousands).
pub const MAX_ENTRIES: usize = 500_000;
/// The CSV is read into memory: refuse a larger one.
const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;
/// One activity file, decompressed by the ZIP reader (still gzipped inside): refuse larger.
const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
/// Activity files extracted per batch: each batch is one short write to the store (in the
/// watcher, one hold of its store lock, then published), so an export of thousands of
/// activities never holds the store for longer than a batch. 16 rather than a whole
/// extraction chunk (64): with 1-hour 1 Hz rides, another user's upload then waited p50
/// 222 ms, max 596 ms during the import (vs 863 / 1003 ms at 64; 110-135 ms idle), for 12 %
/// more time on the import itself (more publications of its pages).
pub const IMPORT_BATCH: usize = 16;
/// The prefix of an import's staging folder inside the user folder.
const STAGING_PREFIX: &str = ".strava-export-";

/// The outcome of an import.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub files: usize,
    pub imported: usize,
    pub unchanged: usize,
    pub duplicates: usize,
    /// Manual entries (no file) stored as summaries.
    pub manual: usize,
    pub photos: usize,
    pub new_ids: Vec<String>,
    /// Every activity the export's files and manual rows are stored as, new or already held
    /// (an import redone after a crash, or the same export uploaded again, still names them).
    pub stored_ids: Vec<String>,
    /// (entry or row, reason).
    pub failed: Vec<(String, String)>,
}

impl ImportReport {
    /// `dave: 230 new (4 manual), 12 unchanged, 1 duplicate, 31 photos, 0 failed`.
    pub fn summary_line(&self, handle: &str) -> String {
        format!(
            "{handle}: {} new ({} manual), {} unchanged, {} duplicates, {} photos, {} failed",
            self.imported + self.manual,
            self.manual,
            self.unchanged,
            self.duplicates,
            self.photos,
            self.failed.len()
        )
    }
}

fn err(path: &Path, reason: impl std::fmt::Display) -> StravaError {
    StravaError::Export { path: path.display().to_string(), reason: reason.to_string() }
}

fn is_activity_file(lower: &str) -> bool {
    [".fit", ".gpx", ".tcx", ".fit.gz", ".gpx.gz", ".tcx.gz"].iter().any(|s| lower.ends_with(s))
}

fn is_photo(lower: &str) -> bool {
    [".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic"].iter().any(|s| lower.ends_with(s))
}

/// Copy at most `cap` bytes; more is an error (a lying header cannot fill the disk).
fn copy_capped(r: &mut impl Read, w: &mut impl std::io::Write, cap: u64) -> std::io::Result<u64> {
    let n = std::io::copy(&mut r.take(cap + 1), w)?;
    if n > cap {
        return Err(std::io::Error::other(format!("entry larger than {cap} bytes")));
    }
    Ok(n)
}

/// `Jan 3, 2023, 7:20:00 AM` (the English export), or `2023-01-03 07:20:00`, as UTC.
pub fn parse_export_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let iso = s.replace('T', " ").trim_end_matches('Z').to_owned();
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    if let Ok(t) = time::PrimitiveDateTime::parse(&iso, &fmt) {
        return Some(t.assume_utc().unix_timestamp());
    }
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [md, year, clock] = parts.as_slice() else { return None };
    let (mon, day) = md.split_once(' ')?;
    let month = match mon.get(..3)?.to_ascii_lowercase().as_str() {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    let (hms, ampm) = clock.split_once(' ').unwrap_or((clock, ""));
    let mut it = hms.split(':').map(|x| x.trim().parse::<u8>().ok());
    let (mut h, m, sec) = (it.next()??, it.next()??, it.next().flatten().unwrap_or(0));
    match ampm.trim().to_ascii_uppercase().as_str() {
        "PM" if h < 12 => h += 12,
        "AM" if h == 12 => h = 0,
        _ => {}
    }
    let date = time::Date::from_calendar_date(
        year.parse().ok()?,
        time::Month::try_from(month).ok()?,
        day.trim().parse().ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(h, m, sec).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp())
}

/// A manual entry as the summary a sync would have listed.
fn manual_summary(m: &ManualRow) -> Option<SummaryActivity> {
    let start = parse_export_date(&m.date)?;
    let start_date = time::OffsetDateTime::from_unix_timestamp(start)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(SummaryActivity {
        id: m.row.activity_id.as_deref()?.parse().ok()?,
        name: m.row.name.clone(),
        description: m.row.description.clone(),
        distance: m.distance_m,
        moving_time: m.moving_s.or(m.elapsed_s),
        elapsed_time: m.elapsed_s,
        total_elevation_gain: m.elevation_gain_m,
        sport_type: m.row.activity_type.as_ref().map(|t| t.replace(' ', "")),
        start_date,
        manual: true,
        private: m.row.private,
        commute: m.row.commute,
        average_heartrate: m.avg_hr_bpm,
        max_heartrate: m.max_hr_bpm,
        average_speed: match (m.distance_m, m.moving_s.or(m.elapsed_s)) {
            (Some(d), Some(t)) if t > 0.0 => Some(d / t),
            _ => None,
        },
        ..SummaryActivity::default()
    })
}

/// Import a Strava export ZIP into `user_dir`.
///
/// Reading the archive and staging its files writes nothing of the store. The activity
/// files are then extracted [`IMPORT_BATCH`] at a time, each batch (with its photos), and
/// last the manual entries, written through `commit` (the watcher's store lock and publish;
/// directly without one). `progress(done, total)` follows the activity files, called after
/// each batch is in the store, outside `commit`.
pub fn import_zip(
    zip_path: &Path,
    user_dir: &Path,
    handle: &str,
    progress: &(dyn Fn(usize, usize) + Sync),
    commit: Option<&crate::commit::Commit>,
) -> Result<ImportReport, StravaError> {
    let file = std::fs::File::open(zip_path).map_err(|e| err(zip_path, e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| err(zip_path, format!("not a ZIP: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(err(zip_path, format!("more than {MAX_ENTRIES} entries")));
    }
    let user = UserDir::new(user_dir);
    remove_stale_staging(user_dir);
    // A dot-folder inside the user folder: same file system, never published, removed on drop.
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(user_dir)
        .map_err(|e| err(user_dir, e))?;
    let mut staged = Vec::new();
    let mut csv_bytes: Option<Vec<u8>> = None;
    let mut activity_files = 0usize;
    let mut photos_in_zip: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| err(zip_path, e))?;
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = entry.enclosed_name() else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let base = rel.rsplit('/').next().unwrap_or(&rel).to_owned();
        let lower = base.to_ascii_lowercase();
        if lower == "activities.csv" && csv_bytes.is_none() {
            let mut buf = Vec::new();
            copy_capped(&mut entry, &mut buf, MAX_CSV_BYTES)
                .map_err(|e| err(zip_path, format!("{rel}: {e}")))?;
            csv_bytes = Some(buf);
        } else if rel.contains("activities/") && is_activity_file(&lower) && !base.starts_with('.')
        {
            let out = staging.path().join(&base);
            if out.exists() {
                continue;
            }
            let mut f = std::fs::File::create(&out).map_err(|e| err(&out, e))?;
            copy_capped(&mut entry, &mut f, MAX_ENTRY_BYTES)
                .map_err(|e| err(zip_path, format!("{rel}: {e}")))?;
            activity_files += 1;
            staged.push(out);
        } else if is_photo(&lower) {
            photos_in_zip.insert(rel.trim_start_matches("./").to_owned(), i);
        }
    }
    let csv_bytes =
        csv_bytes.ok_or_else(|| err(zip_path, "no activities.csv: not a Strava export"))?;
    let csv_path = staging.path().join("activities.csv");
    std::fs::write(&csv_path, &csv_bytes).map_err(|e| err(&csv_path, e))?;
    let csv = StravaCsv::parse(&csv_bytes, &csv_path)?;

    let mut report = ImportReport { files: activity_files, ..ImportReport::default() };
    let mut opts = ExtractOptions::new(user_dir, handle);
    opts.metadata_csv = Some(csv_path);
    // In the order a walk of the staging folder takes, as one extraction of it would.
    staged.sort();
    let total = staged.len();
    // Every batch's failures, for `_errors.json` (each extraction run replaces it).
    let mut file_failures = Vec::new();
    progress(0, total);
    for (n, batch) in staged.chunks(IMPORT_BATCH).enumerate() {
        let opts = ExtractOptions { inputs: batch.to_vec(), ..opts.clone() };
        crate::commit::Commit::run(commit, || -> Result<(), StravaError> {
            let ex = extract::extract_user(&opts, &|_, _| {})?;
            report.imported += ex.new_ids.len() - ex.near_duplicates;
            report.unchanged += ex.unchanged;
            report.duplicates += ex.duplicates();
            report.new_ids.extend(ex.new_ids.iter().cloned());
            report.stored_ids.extend(ex.stored_as.values().cloned());
            report.failed.extend(ex.failed.iter().map(|f| {
                let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
                (format!("activities/{}", name.unwrap_or_default()), f.reason.clone())
            }));
            file_failures.extend(ex.failed.iter().cloned());
            // Photos of the batch's file-backed activities.
            for (path, id) in &ex.stored_as {
                let Some(base) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                    continue;
                };
                if let Some(row) = csv.row_for(&base) {
                    attach(&mut archive, &row.media, id, &photos_in_zip, &user, &mut report);
                }
            }
            Ok(())
        })?;
        progress((n * IMPORT_BATCH + batch.len()).min(total), total);
    }
    // One batch wrote them all already; without failures, the last batch wrote none.
    if total > IMPORT_BATCH && !file_failures.is_empty() {
        write_all_errors(commit, &user, &file_failures)?;
    }

    // Manual entries: summaries, keyed like a sync's.
    let mut manual = Vec::new();
    for m in csv.manual() {
        let label = format!("activities.csv row {}", m.row.activity_id.as_deref().unwrap_or("?"));
        let Some(s) = manual_summary(m) else {
            report.failed.push((label, format!("unreadable Activity Date {:?}", m.date)));
            continue;
        };
        let no_gear = std::collections::HashMap::new();
        match map::build(
            &s,
            None,
            &no_gear,
            opts.default_privacy,
            opts.rdp_epsilon_deg,
            opts.sensors,
        ) {
            Ok(mut art) => {
                art.detail.source = Some("strava_export".to_owned());
                art.detail.gear = m.row.gear.clone();
                manual.push(Prebuilt { key: s.key(), hash: s.key(), artefacts: Box::new(art) });
            }
            Err(reason) => report.failed.push((label, reason)),
        }
    }
    if !manual.is_empty() {
        crate::commit::Commit::run(commit, || -> Result<(), StravaError> {
            let stored = extract::store_prebuilt(&opts, manual)?;
            report.manual = stored.new_ids.len();
            report.unchanged += stored.unchanged;
            report.new_ids.extend(stored.new_ids.iter().cloned());
            report.stored_ids.extend(stored.stored_as.values().cloned());
            for (key, id) in &stored.stored_as {
                let key = key.to_string_lossy();
                let strava_id = key.trim_start_matches(crate::extract::registry::STRAVA_KEY_PREFIX);
                let row =
                    csv.manual().iter().find(|m| m.row.activity_id.as_deref() == Some(strava_id));
                if let Some(m) = row {
                    attach(&mut archive, &m.row.media, id, &photos_in_zip, &user, &mut report);
                }
            }
            Ok(())
        })?;
    }
    let mut seen = std::collections::BTreeSet::new();
    report.stored_ids.retain(|id| seen.insert(id.clone()));
    drop(staging);
    Ok(report)
}

/// `_errors.json` with the failures of every batch (the last batch's run replaced it with
/// its own only), as one extraction of the whole export would have written it.
fn write_all_errors(
    commit: Option<&crate::commit::Commit>,
    user: &UserDir,
    failed: &[extract::Failure],
) -> Result<(), StravaError> {
    crate::commit::Commit::run(commit, || extract::write_errors(user, failed))?;
    Ok(())
}

/// Remove the staging folders an import killed mid-way left behind (its temp folder is
/// removed on drop, which a `kill -9` skips). Imports of one user run one at a time (the
/// watcher's background lane), so any such folder is stale. Errors only leave leftovers.
fn remove_stale_staging(user_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(user_dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX)
            && e.file_type().is_ok_and(|t| t.is_dir())
            && let Err(why) = std::fs::remove_dir_all(e.path())
        {
            tracing::warn!(path = %e.path().display(), "stale import folder not removed: {why}");
        }
    }
}

/// Copy the listed photos into `edits/images/{id}/` (an existing photo of that name is kept:
/// the user may have edited it).
fn attach(
    archive: &mut zip::ZipArchive<std::fs::File>,
    media: &[String],
    id: &str,
    photos: &BTreeMap<String, usize>,
    user: &UserDir,
    report: &mut ImportReport,
) {
    for m in media {
        let m = m.trim_start_matches("./");
        let Some(&index) = photos.get(m) else {
            report
                .failed
                .push((m.to_owned(), "listed in activities.csv but not in the ZIP".into()));
            continue;
        };
        let Some(name) = m.rsplit('/').next().filter(|n| !n.is_empty() && !n.starts_with('.'))
        else {
            continue;
        };
        let dest = user.images_dir(id).join(name);
        if dest.exists() {
            continue;
        }
        let mut bytes = Vec::new();
        let read = archive.by_index(index).map_err(|e| e.to_string()).and_then(|mut e| {
            copy_capped(&mut e, &mut bytes, 64 * 1024 * 1024).map_err(|e| e.to_string())
        });
        match read
            .and_then(|_| bincio_bas::fsx::write_atomic(&dest, &bytes).map_err(|e| e.to_string()))
        {
            Ok(()) => report.photos += 1,
            Err(e) => report.failed.push((m.to_owned(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_dates_in_both_spellings() {
        assert_eq!(parse_export_date("Jan 3, 2023, 7:20:00 AM"), Some(1_672_730_400));
        assert_eq!(parse_export_date("Jan 3, 2023, 7:20:00 PM"), Some(1_672_730_400 + 12 * 3600));
        assert_eq!(parse_export_date("Jan 3, 2023, 12:05:00 AM"), Some(1_672_704_300));
        assert_eq!(parse_export_date("2023-01-03 07:20:00"), Some(1_672_730_400));
        assert_eq!(parse_export_date("3 janv. 2023"), None);
    }
}
