//! Recalculating an activity's elevation: from a terrain model (SRTM tiles or an
//! Open-Elevation-compatible service), by smoothing the recorded altitude, or back to the
//! device's own altitude (docs/extraction.md, "Recalculating elevation").
//!
//! Why on the stored activity and not on the original file: an upload may not be kept
//! (`store_originals = false`), and everything else in the detail (distance, times, power)
//! must stay exactly as extracted. The recalculation replaces only the published altitude
//! (timeseries and track), gain, loss and best climb; `index.json` and `athlete.json`
//! follow through [`crate::extract::refresh_details`], the site through the normal merge
//! and render. The first recalculation keeps the device's figures in
//! `{handle}/elevation/{id}.json`, so "restore" can always return to them.
//!
//! The choice itself lives in the activity's sidecar (`elevation: dem | smoothing`), so a
//! re-extraction of the same file applies it again ([`apply_choice`] is called by the
//! extractor for every activity it writes).

pub mod dem;
pub mod geotiff;
pub mod job;
pub mod lookup;
pub mod tile;

use crate::metrics::elevation::{Elevation, measure_dem, measure_smoothed};
use crate::metrics::round_dp;
use bincio_bas::fsx::{self, FsxError};
use bincio_bas::layout::UserDir;
use bincio_bas::sidecar::{ElevationChoice, Sidecar, SidecarError};
use bincio_bas::{Detail, Timeseries, TrackFeature};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why an activity's elevation could not be recalculated. Every variant names the file,
/// the folder or the URL concerned.
#[derive(Debug, thiserror::Error)]
pub enum ElevationError {
    #[error("{path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(transparent)]
    Write(#[from] FsxError),
    #[error(transparent)]
    Sidecar(#[from] SidecarError),
    #[error(transparent)]
    Dem(#[from] dem::DemError),
    #[error(transparent)]
    Lookup(#[from] lookup::LookupError),
    #[error("{path}: the activity has no recorded positions to look heights up for")]
    NoPositions { path: PathBuf },
    #[error("{path}: no altitude samples")]
    NoAltitude { path: PathBuf },
    #[error("{what}: no terrain data covers any point of this activity")]
    NoCoverage { what: String },
    #[error(
        "no terrain model is configured: give --dem DIR or --dem-url URL, or set dem_dir or dem_url in the instance configuration"
    )]
    NoSource,
}

/// Where terrain heights come from.
#[derive(Debug)]
pub enum Source {
    Tiles(dem::DemDir),
    Service(lookup::Service),
}

impl Source {
    /// Tiles when a folder is given, else the service when a URL is, else `None`.
    pub fn from_settings(dir: Option<&Path>, url: Option<&str>) -> Option<Source> {
        match (dir, url) {
            (Some(d), _) => Some(Source::Tiles(dem::DemDir::new(d))),
            (None, Some(u)) => Some(Source::Service(lookup::Service::new(u))),
            (None, None) => None,
        }
    }

    /// What the heights come from, for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::Tiles(d) => d.path().display().to_string(),
            Source::Service(s) => s.url().to_owned(),
        }
    }

    /// Heights at each `(lat, lon)`, `None` where there is no data.
    pub fn elevations(&mut self, pts: &[(f64, f64)]) -> Result<Vec<Option<f64>>, ElevationError> {
        Ok(match self {
            Source::Tiles(d) => d.elevations(pts)?,
            Source::Service(s) => s.elevations(pts)?,
        })
    }
}

/// The device's own altitude figures of an activity whose published altitude was
/// recalculated: `{handle}/elevation/{id}.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceAltitude {
    /// The timeseries' `elevation_m` as extracted.
    pub elevation_m: Vec<Option<f64>>,
    /// The third coordinate of each track position as extracted.
    #[serde(default)]
    pub track_elevation_m: Vec<Option<f64>>,
    pub elevation_gain_m: Option<f64>,
    pub elevation_loss_m: Option<f64>,
    pub best_climb_m: Option<f64>,
}

/// What one recalculation did.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub id: String,
    /// The choice now applied (`None`: the device's altitude).
    pub choice: Option<ElevationChoice>,
    pub gain_before_m: Option<f64>,
    pub gain_after_m: Option<f64>,
    /// Said when part of the track had no terrain data (recorded altitude kept there).
    pub note: Option<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, ElevationError> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ElevationError::Read { path: path.to_path_buf(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ElevationError::Read { path: path.to_path_buf(), reason: e.to_string() }),
    }
}

fn track_elevations(track: Option<&TrackFeature>) -> Vec<Option<f64>> {
    track.map_or_else(Vec::new, |t| {
        t.geometry.coordinates.iter().map(|p| p.get(2).copied()).collect()
    })
}

fn set_track_elevations(track: &mut TrackFeature, ele: &[Option<f64>]) {
    for (p, e) in track.geometry.coordinates.iter_mut().zip(ele) {
        p.truncate(2);
        if let Some(e) = e {
            p.push(round_dp(*e, 1));
        }
    }
}

/// Samples on each side of a gap whose terrain − recorded offsets are averaged (median),
/// so one noisy recorded sample does not decide the shift.
pub const BORDER_SAMPLES: usize = 30;

/// Fill the gaps of a terrain profile (`None`: no tile, no position) with the recorded
/// altitude (give it smoothed), shifted so it meets the terrain at both borders of the gap:
/// the shift goes linearly (in sample index) from the offset before the gap to the offset
/// after it, each the median over [`BORDER_SAMPLES`] samples, or is the one border's offset
/// at either end of the track. A gap without recorded altitude is interpolated linearly
/// between its borders. Returns the filled profile and how many points came from the
/// recorded altitude.
pub fn fill_gaps(terrain: &[Option<f64>], recorded: &[Option<f64>]) -> (Vec<Option<f64>>, usize) {
    let n = terrain.len();
    let mut out = terrain.to_vec();
    let mut from_recorded = 0;
    let offset_over = |range: &mut dyn Iterator<Item = usize>| -> Option<f64> {
        let mut d: Vec<f64> = range
            .filter_map(|k| match (terrain[k], recorded.get(k).copied().flatten()) {
                (Some(t), Some(r)) => Some(t - r),
                _ => None,
            })
            .take(BORDER_SAMPLES)
            .collect();
        d.sort_by(f64::total_cmp);
        d.get(d.len() / 2).copied()
    };
    let mut i = 0;
    while i < n {
        if terrain[i].is_some() {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && terrain[i].is_none() {
            i += 1;
        }
        let end = i; // gap = start..end
        // The covered run on each side (up to the next gap).
        let left = offset_over(&mut (0..start).rev().take_while(|&k| terrain[k].is_some()));
        let right = offset_over(&mut (end..n).take_while(|&k| terrain[k].is_some()));
        let left_h = start.checked_sub(1).and_then(|k| terrain[k]);
        let right_h = if end < n { terrain[end] } else { None };
        // Inside the gap, a recorded sample the plausibility filter removed (a spike) takes
        // the recorded shape around it; falling back to the terrain borders there would draw
        // a saw-tooth that counts as climbing.
        let rec_gap =
            bridge(&(start..end).map(|k| recorded.get(k).copied().flatten()).collect::<Vec<_>>());
        for (k, slot) in out.iter_mut().enumerate().take(end).skip(start) {
            let frac = (k + 1 - start) as f64 / (end - start + 1) as f64;
            let shift = match (left, right) {
                (Some(a), Some(b)) => Some(a + (b - a) * frac),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            };
            *slot = match (rec_gap[k - start], shift) {
                (Some(r), Some(s)) => {
                    from_recorded += 1;
                    Some(r + s)
                }
                _ => match (left_h, right_h) {
                    (Some(a), Some(b)) => Some(a + (b - a) * frac),
                    (Some(a), None) | (None, Some(a)) => Some(a),
                    (None, None) => None,
                },
            };
        }
    }
    (out, from_recorded)
}

/// Missing values between two known ones interpolated linearly, before the first and after the
/// last held at the nearest known one; all `None` stays all `None`.
fn bridge(v: &[Option<f64>]) -> Vec<Option<f64>> {
    let known: Vec<(usize, f64)> =
        v.iter().enumerate().filter_map(|(i, x)| x.map(|x| (i, x))).collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return v.to_vec();
    };
    let mut out = vec![None; v.len()];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = Some(if i <= first.0 {
            first.1
        } else if i >= last.0 {
            last.1
        } else {
            let after = known.partition_point(|(k, _)| *k < i);
            let (a, b) = (known[after - 1], known[after]);
            if b.0 == i { b.1 } else { a.1 + (b.1 - a.1) * (i - a.0) as f64 / (b.0 - a.0) as f64 }
        });
    }
    out
}

/// The recorded altitude smoothed as for measuring it (GPS noise and spikes would
/// otherwise count as climbing where a gap in the terrain data keeps it).
fn smoothed_recorded(
    t: &[i64],
    ele: &[Option<f64>],
    source: bincio_bas::AltitudeSource,
) -> Vec<Option<f64>> {
    let idx: Vec<usize> =
        (0..t.len()).filter(|&i| ele.get(i).copied().flatten().is_some()).collect();
    let profile: Vec<(f64, f64)> =
        idx.iter().filter_map(|&i| ele[i].map(|e| (t[i] as f64, e))).collect();
    let (_, smoothed) = measure_smoothed(&profile, source);
    let mut out = vec![None; t.len()];
    for (&i, v) in idx.iter().zip(smoothed) {
        out[i] = Some(v);
    }
    out
}

/// Apply `choice` to the stored activity `id` (`None`: back to the device's altitude).
/// `source` is needed for [`ElevationChoice::Dem`] only.
pub fn apply_choice(
    user: &UserDir,
    id: &str,
    choice: Option<ElevationChoice>,
    source: Option<&mut Source>,
) -> Result<Outcome, ElevationError> {
    plan_choice(user, id, choice, source)?.write()
}

/// A recalculation computed from the stored activity but not written yet: [`plan_choice`]
/// does the long part (terrain lookups) and writes nothing, [`Planned::write`] stores it.
/// A bulk recalculation plans without the watcher's store lock and writes under it.
#[derive(Debug)]
pub struct Planned {
    id: String,
    choice: Option<ElevationChoice>,
    detail_path: PathBuf,
    detail: Detail,
    ts_path: PathBuf,
    ts: Option<Timeseries>,
    track_path: PathBuf,
    track: Option<TrackFeature>,
    device_path: PathBuf,
    device: DeviceAltitude,
    kept: Option<DeviceAltitude>,
    figures: Elevation,
    series: Vec<Option<f64>>,
    track_ele: Vec<Option<f64>>,
    gain_before_m: Option<f64>,
    note: Option<String>,
    stamp: Option<(u64, std::time::SystemTime)>,
}

/// Size and modification time of a stored file, to see that it was not rewritten since.
fn file_stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    std::fs::metadata(path).ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
}

/// Compute what applying `choice` to the stored activity `id` gives, without writing.
pub fn plan_choice(
    user: &UserDir,
    id: &str,
    choice: Option<ElevationChoice>,
    source: Option<&mut Source>,
) -> Result<Planned, ElevationError> {
    let detail_path = user.detail(id);
    let stamp = file_stamp(&detail_path);
    let detail: Detail = read_json(&detail_path)?.ok_or_else(|| ElevationError::Read {
        path: detail_path.clone(),
        reason: "no such activity".to_owned(),
    })?;
    let ts_path = user.timeseries(id);
    let ts: Option<Timeseries> = read_json(&ts_path)?;
    let track_path = user.track(id);
    let track: Option<TrackFeature> = read_json(&track_path)?;
    let device_path = user.device_altitude(id);
    let kept: Option<DeviceAltitude> = read_json(&device_path)?;
    let gain_before_m = detail.elevation_gain_m;
    let device = kept.clone().unwrap_or_else(|| DeviceAltitude {
        elevation_m: ts.as_ref().map(|t| t.elevation_m.clone()).unwrap_or_default(),
        track_elevation_m: track_elevations(track.as_ref()),
        elevation_gain_m: detail.elevation_gain_m,
        elevation_loss_m: detail.elevation_loss_m,
        best_climb_m: detail.best_climb_m,
    });
    let mut note = None;
    let (figures, series, track_ele): (Elevation, Vec<Option<f64>>, Vec<Option<f64>>) = match choice
    {
        None => {
            let e = Elevation {
                gain_m: device.elevation_gain_m,
                loss_m: device.elevation_loss_m,
                best_climb_m: device.best_climb_m,
            };
            (e, device.elevation_m.clone(), device.track_elevation_m.clone())
        }
        Some(ElevationChoice::Smoothing) => {
            let t = ts.as_ref().ok_or(ElevationError::NoAltitude { path: ts_path.clone() })?;
            let idx: Vec<usize> = (0..t.t.len())
                .filter(|&i| device.elevation_m.get(i).copied().flatten().is_some())
                .collect();
            let profile: Vec<(f64, f64)> = idx
                .iter()
                .filter_map(|&i| device.elevation_m[i].map(|e| (t.t[i] as f64, e)))
                .collect();
            if profile.len() < 2 {
                return Err(ElevationError::NoAltitude { path: ts_path });
            }
            let (e, smoothed) = measure_smoothed(&profile, detail.altitude_source);
            let mut series = vec![None; t.t.len()];
            for (&i, v) in idx.iter().zip(smoothed) {
                series[i] = Some(v);
            }
            (e, series, device.track_elevation_m.clone())
        }
        Some(ElevationChoice::Dem) => {
            let source = source.ok_or(ElevationError::NoSource)?;
            let t = ts.as_ref().ok_or(ElevationError::NoPositions { path: ts_path.clone() })?;
            let (Some(lat), Some(lon)) = (&t.lat, &t.lon) else {
                return Err(ElevationError::NoPositions { path: ts_path });
            };
            let pts: Vec<(f64, f64)> = lat
                .iter()
                .zip(lon)
                .map(|(a, b)| (a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)))
                .collect();
            let terrain = source.elevations(&pts)?;
            let covered = terrain.iter().filter(|h| h.is_some()).count();
            if covered == 0 {
                return Err(ElevationError::NoCoverage { what: source.describe() });
            }
            let recorded = if covered < terrain.len() {
                smoothed_recorded(&t.t, &device.elevation_m, detail.altitude_source)
            } else {
                Vec::new()
            };
            let (series, from_recorded) = fill_gaps(&terrain, &recorded);
            let missing = terrain.len() - covered;
            if missing > 0 {
                note = Some(format!(
                    "{id}: {missing} of {} points have no terrain data ({}); the recorded altitude is kept there{}",
                    terrain.len(),
                    source.describe(),
                    if from_recorded < missing {
                        ", interpolated where there was none"
                    } else {
                        ""
                    },
                ));
            }
            let profile: Vec<f64> = series.iter().flatten().copied().collect();
            let e = measure_dem(&profile);
            let track_ele = match &track {
                Some(tr) => {
                    let tp: Vec<(f64, f64)> = tr
                        .geometry
                        .coordinates
                        .iter()
                        .map(|p| {
                            let at = |i: usize| p.get(i).copied().unwrap_or(f64::NAN);
                            (at(1), at(0))
                        })
                        .collect();
                    let h = source.elevations(&tp)?;
                    fill_gaps(&h, &device.track_elevation_m).0
                }
                None => Vec::new(),
            };
            (e, series, track_ele)
        }
    };
    if figures.gain_m.is_none() && choice.is_some() {
        return Err(ElevationError::NoAltitude { path: ts_path });
    }
    Ok(Planned {
        id: id.to_owned(),
        choice,
        detail_path,
        detail,
        ts_path,
        ts,
        track_path,
        track,
        device_path,
        device,
        kept,
        figures,
        series,
        track_ele,
        gain_before_m,
        note,
        stamp,
    })
}

impl Planned {
    /// The activity concerned.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// False when the activity's detail was rewritten since it was planned (re-extracted,
    /// or recalculated by another job): the plan must then be made again.
    pub fn is_current(&self) -> bool {
        file_stamp(&self.detail_path) == self.stamp
    }

    /// Store the recalculation: the device's figures kept first (once), then the published
    /// altitude, track and figures.
    pub fn write(self) -> Result<Outcome, ElevationError> {
        let Planned {
            id,
            choice,
            detail_path,
            mut detail,
            ts_path,
            mut ts,
            track_path,
            mut track,
            device_path,
            device,
            kept,
            figures,
            series,
            track_ele,
            gain_before_m,
            note,
            stamp: _,
        } = self;
        // The device's figures first, so a crash after this point can still be restored.
        if choice.is_some() && kept.is_none() {
            fsx::write_json(&device_path, &device)?;
        }
        if let Some(t) = ts.as_mut() {
            t.elevation_m = series.iter().map(|v| v.map(|x| round_dp(x, 1))).collect();
            fsx::write_derived_json(&ts_path, t)?;
        }
        if let Some(tr) = track.as_mut()
            && !track_ele.is_empty()
        {
            set_track_elevations(tr, &track_ele);
            fsx::write_derived_json(&track_path, tr)?;
        }
        detail.elevation_gain_m = figures.gain_m;
        detail.elevation_loss_m = figures.loss_m;
        detail.best_climb_m = figures.best_climb_m;
        fsx::write_derived_json(&detail_path, &detail)?;
        if choice.is_none() && kept.is_some() {
            std::fs::remove_file(&device_path).map_err(|e| ElevationError::Read {
                path: device_path.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(Outcome { id, choice, gain_before_m, gain_after_m: figures.gain_m, note })
    }
}

/// Record `choice` in the activity's sidecar (creating it when needed; `None` removes the
/// field), keeping every other edit.
pub fn remember_choice(
    user: &UserDir,
    id: &str,
    choice: Option<ElevationChoice>,
) -> Result<(), ElevationError> {
    let path = user.sidecar(id);
    let existing = Sidecar::read(&path)?;
    if existing.is_none() && choice.is_none() {
        return Ok(());
    }
    let mut sc = existing.unwrap_or_default();
    if sc.elevation == choice {
        return Ok(());
    }
    sc.elevation = choice;
    fsx::write_atomic(&path, sc.render().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridging_interpolates_inside_and_holds_at_the_ends() {
        assert_eq!(
            bridge(&[None, Some(1.0), None, None, Some(4.0), None]),
            vec![Some(1.0), Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(4.0)]
        );
        assert_eq!(bridge(&[None, None]), vec![None, None]);
    }

    #[test]
    fn gaps_take_the_recorded_shape_shifted_to_meet_the_terrain() {
        // Terrain is recorded + 10 before the gap and recorded + 20 after it.
        let rec = [Some(100.0), Some(105.0), Some(110.0), Some(115.0), Some(120.0)];
        let ter = [Some(110.0), None, None, None, Some(140.0)];
        let (out, n) = fill_gaps(&ter, &rec);
        assert_eq!(n, 3);
        let v: Vec<f64> = out.iter().map(|x| x.expect("filled")).collect();
        assert_eq!(v, [110.0, 117.5, 125.0, 132.5, 140.0]);
        // At the ends of the track the one border's offset applies (the median of the
        // covered run's offsets, −60 and −63: the upper one of two).
        let ter = [None, None, Some(50.0), Some(52.0), None];
        let (out, _) = fill_gaps(&ter, &rec);
        let v: Vec<f64> = out.iter().map(|x| x.expect("filled")).collect();
        assert_eq!(v, [40.0, 45.0, 50.0, 52.0, 60.0]);
        // No recorded altitude in the gap: linear between the borders.
        let (out, n) = fill_gaps(&[Some(0.0), None, Some(10.0)], &[None, None, None]);
        assert_eq!((out[1], n), (Some(5.0), 0));
    }
}
