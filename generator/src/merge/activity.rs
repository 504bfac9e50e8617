//! One activity's merged files: its detail with edits, privacy and hidden stats applied,
//! and its published track, timeseries and photos.
//!
//! Most activities have no edit, no photo and nothing private: their merged detail is then
//! byte for byte the store's, and it is published as a hard link to the store's file
//! (`fsx::link_or_write_if_changed`), like their track and timeseries. A merge of a fresh
//! instance thus creates no file of its own per activity, only three links: creating tens of
//! thousands of inodes was most of its cost. Whether the bytes are the same is checked, not
//! assumed (the detail is serialised and compared with what was read), so `_merged/` holds
//! exactly what it held when every detail was written out.

use super::sidecar::{apply_sidecar_detail, apply_sidecar_summary};
use super::{ActivityResult, MergedActivity, StoreFiles, write_json};
use crate::privacy::{self, Choice};
use bincio_bas::fsx::{self, Dest};
use bincio_bas::layout::{self, UserDir};
use bincio_bas::{Detail, Privacy, Summary, Timeseries, TrackFeature};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A detail read from the store, before any edit.
pub(super) struct Loaded {
    pub(super) detail: Detail,
    /// The file read (`activities/{name}.json`; its name need not be the detail's `id`).
    pub(super) path: PathBuf,
    /// The file's bytes, as read: when the merged detail serialises to the same bytes, it is
    /// published as a link to the store's file.
    pub(super) bytes: Vec<u8>,
    /// The file's metadata, from the open file (no second lookup): its inode tells the link
    /// made later is to the file read.
    pub(super) meta: std::fs::Metadata,
}

impl Loaded {
    /// When the detail file was last written: for a duplicate, when it became one (the
    /// extractor rewrites a detail exactly when its `duplicate_of` changes).
    pub(super) fn written(&self) -> Option<SystemTime> {
        self.meta.modified().ok()
    }
}

pub(super) fn load_detail(user: &UserDir, id: &str) -> Result<Loaded, (PathBuf, String)> {
    let path = user.detail(id);
    let err = |e: std::io::Error| (path.clone(), e.to_string());
    let mut file = std::fs::File::open(&path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(err)?;
    let detail: Detail = serde_json::from_slice(&bytes)
        .map_err(|e| (path.clone(), format!("invalid detail JSON: {e}")))?;
    Ok(Loaded { detail, path, bytes, meta })
}

/// What a duplicate recording chose: its extracted privacy and its sidecar's `private` and
/// `hide_stats`. A duplicate whose sidecar cannot be read counts as private (reported): a
/// broken file must not publish what it may have hidden.
pub(super) fn duplicate_choice(
    user: &UserDir,
    files: &StoreFiles,
    l: &Loaded,
    warnings: &mut Vec<(PathBuf, String)>,
) -> Choice {
    let path = user.sidecar(&l.detail.id);
    let mut choice = Choice { extracted: l.detail.privacy, at: l.written(), ..Choice::default() };
    match files.read_sidecar(&path, &l.detail.id) {
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

/// Where and how a user's merge writes: `_merged/activities/`, whether it writes at all,
/// and what it may assume about the files there ([`Dest::New`] when the folder did not
/// exist as the merge started).
pub(super) struct Target<'a> {
    pub(super) out_acts: &'a Path,
    pub(super) write: bool,
    pub(super) dest: Dest,
}

pub(super) fn merge_activity(
    user: &UserDir,
    files: &StoreFiles,
    loaded: Loaded,
    index_summary: Option<Summary>,
    duplicates: &[Choice],
    target: &Target<'_>,
) -> ActivityResult {
    let Loaded { mut detail, path: stored_path, bytes: stored, meta: stored_meta } = loaded;
    let (out_acts, write) = (target.out_acts, target.write);
    let id = detail.id.clone();
    let id = id.as_str();
    let extracted = detail.privacy;
    let mut summary = match index_summary {
        Some(s) => s,
        None => detail.summary(),
    };
    let sidecar_path = user.sidecar(id);
    let sidecar =
        files.read_sidecar(&sidecar_path, id).map_err(|e| (sidecar_path.clone(), e.to_string()))?;
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
    let images =
        if files.may_have_images(id) { list_images(&user.images_dir(id)) } else { Vec::new() };
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
    let ts_dst = out_acts.join(layout::timeseries_name(id));
    let track_dst = out_acts.join(layout::track_name(id));
    let mut has_track = files.has_track(id);
    let has_timeseries = files.has_timeseries(id);
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
                changed += publish_copy(&track_src, &track_dst, target.dest)?;
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
        None if has_timeseries && write => {
            changed += publish_copy(&ts_src, &ts_dst, target.dest)?;
        }
        None => {}
    }
    if !has_track {
        summary.track_url = None;
    } else if summary.track_url.is_none() {
        summary.track_url = Some(layout::track_url(id));
    }
    detail.timeseries_url = has_timeseries.then(|| layout::timeseries_url(id));
    if write {
        let dst = out_acts.join(layout::detail_name(id));
        let wrote = if serialises_to(&detail, &stored) {
            // Nothing changed the detail: the store's file itself, linked.
            fsx::link_or_write_if_changed(&stored_path, &stored_meta, &stored, &dst, target.dest)
        } else {
            let bytes =
                fsx::to_json_bytes(&dst, &detail).map_err(|e| (dst.clone(), e.to_string()))?;
            match target.dest {
                Dest::New => fsx::write_derived(&dst, &bytes).map(|()| true),
                Dest::Any => fsx::write_if_changed(&dst, &bytes),
            }
        };
        changed += usize::from(wrote.map_err(|e| (dst.clone(), e.to_string()))?);
        if !images.is_empty() {
            let dst_dir = out_acts.join("images").join(id);
            for name in &images {
                let src = user.images_dir(id).join(name);
                changed += publish_copy(&src, &dst_dir.join(name), target.dest)?;
            }
        }
    }
    Ok(Some((MergedActivity { summary, has_track, has_timeseries, images }, changed)))
}

/// True when `detail` serialises (compact JSON, as every detail is written) to exactly
/// `bytes`. The serialiser's output is compared as it comes instead of being collected
/// first: no buffer grown and copied for every activity of a merge, where almost every
/// detail turns out to be the store's.
fn serialises_to(detail: &Detail, bytes: &[u8]) -> bool {
    /// A writer that only checks that what it is given continues `expected`.
    struct Compare<'a> {
        expected: &'a [u8],
        same: bool,
    }
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.expected.strip_prefix(buf) {
                Some(rest) if self.same => self.expected = rest,
                _ => self.same = false,
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = Compare { expected: bytes, same: true };
    serde_json::to_writer(&mut w, detail).is_ok() && w.same && w.expected.is_empty()
}

pub(super) fn read_timeseries(path: &Path) -> Result<Timeseries, (PathBuf, String)> {
    let bytes = std::fs::read(path).map_err(|e| (path.to_path_buf(), e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| (path.to_path_buf(), format!("invalid timeseries: {e}")))
}

pub(super) fn read_track(path: &Path) -> Result<TrackFeature, (PathBuf, String)> {
    let bytes = std::fs::read(path).map_err(|e| (path.to_path_buf(), e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| (path.to_path_buf(), format!("invalid GeoJSON: {e}")))
}

pub(super) fn strip_locations(detail: &mut Detail, summary: &mut Summary) {
    detail.bbox = None;
    detail.start_latlng = None;
    detail.end_latlng = None;
    detail.preview_coords = None;
    detail.track_url = None;
    summary.preview_coords = None;
    summary.track_url = None;
}

/// Recompute bbox, start/end and preview from what is still published after blurring.
pub(super) fn refit_locations(
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

pub(super) fn sample_preview(pts: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let n = pts.len();
    if n <= 20 {
        return pts.to_vec();
    }
    (0..20).map(|i| pts[i * (n - 1) / 19]).map(|p| [round5(p[0]), round5(p[1])]).collect()
}

pub(super) fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

pub(super) fn list_images(dir: &Path) -> Vec<String> {
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

/// [`fsx::copy_if_changed_to`] counting a write as 1, its error as (path, reason).
fn publish_copy(src: &Path, dst: &Path, dest: Dest) -> Result<usize, (PathBuf, String)> {
    fsx::copy_if_changed_to(src, dst, dest)
        .map(usize::from)
        .map_err(|e| (dst.to_path_buf(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_serialises_to_its_bytes_only_when_every_byte_is_the_same() {
        let d = Detail { id: "a".into(), title: Some("Ride \"é\"".into()), ..Detail::default() };
        let bytes = serde_json::to_vec(&d).unwrap_or_default();
        assert!(serialises_to(&d, &bytes));
        let mut longer = bytes.clone();
        longer.push(b'\n');
        assert!(!serialises_to(&d, &longer), "trailing byte");
        assert!(!serialises_to(&d, &bytes[..bytes.len() - 1]), "one byte short");
        let pretty = serde_json::to_vec_pretty(&d).unwrap_or_default();
        assert!(!serialises_to(&d, &pretty), "same value, other bytes");
        let other = Detail { title: Some("Ride \"e\"".into()), ..d };
        assert!(!serialises_to(&other, &bytes), "one character changed");
    }
}
