//! Builders of the published per-activity artefacts: timeseries, GeoJSON track, card
//! preview and the detail's bbox/start/end.
//!
//! Pure functions of the activity and the privacy mask from
//! [`crate::privacy::publishable_mask`]: a location reaches an artefact only when its
//! sample's mask bit is set, which is what makes `blur_start` and `no_gps` hold across
//! every file (docs/decisions.md W4). Rounding follows docs/decisions.md E13: coordinates
//! 6 dp, elevation and temperature 1 dp, speeds 2 dp, HR/cadence/power integers.

use crate::metrics::geo::{self, COORD_DP, Extent};
use crate::metrics::round_dp;
use crate::metrics::series::{Series, position};
use crate::model::{Activity, Sample};
use crate::simplify;
use bincio_bas::{LineString, Privacy, Timeseries, TrackFeature, TrackProperties};

/// The detail's published extent (bbox, start, end).
pub type PublishedGeo = Extent;

fn published(mask: &[bool], i: usize) -> bool {
    mask.get(i).copied().unwrap_or(false)
}

/// Indices of samples whose position may be published.
fn published_indices(samples: &[Sample], mask: &[bool]) -> Vec<usize> {
    (0..samples.len()).filter(|&i| published(mask, i) && position(&samples[i]).is_some()).collect()
}

/// Speed (km/h) to publish per sample: the device channel when recorded, else the
/// spike-filtered speed derived from distance (see [`crate::metrics::series`]).
fn speeds_kmh(samples: &[Sample], series: &Series) -> Vec<Option<f64>> {
    samples
        .iter()
        .zip(&series.speed_ms)
        .map(|(s, derived)| {
            s.speed_ms.filter(|v| v.is_finite() && *v >= 0.0).or(*derived).map(|v| v * 3.6)
        })
        .collect()
}

/// bbox and start/end from the published samples only.
pub fn published_geo(samples: &[Sample], mask: &[bool]) -> PublishedGeo {
    geo::extent(samples, |i| published(mask, i))
}

/// The timeseries: at most one sample per second (the first of each whole second since
/// the start; nothing interpolated), `None` without samples. `lat`/`lon` are `null` as a
/// whole when the location is not published at all (`no_gps`, or `blur_start` on a
/// track too short to keep anything), and per sample outside the mask.
pub fn build_timeseries(
    activity: &Activity,
    mask: &[bool],
    privacy: Privacy,
) -> Option<Timeseries> {
    let speeds = speeds_kmh(&activity.samples, &Series::new(&activity.samples));
    timeseries_with(activity, mask, privacy, &speeds)
}

fn timeseries_with(
    activity: &Activity,
    mask: &[bool],
    privacy: Privacy,
    speeds: &[Option<f64>],
) -> Option<Timeseries> {
    let samples = &activity.samples;
    let mut picked: Vec<(usize, i64)> = Vec::with_capacity(samples.len());
    let mut last_t: Option<i64> = None;
    for (i, s) in samples.iter().enumerate() {
        let t = (s.ts_ms - activity.start_ms).div_euclid(1000);
        if t < 0 || last_t.is_some_and(|l| t <= l) {
            continue;
        }
        last_t = Some(t);
        picked.push((i, t));
    }
    if picked.is_empty() {
        return None;
    }
    let hide_location = match privacy {
        Privacy::NoGps => true,
        Privacy::BlurStart => !mask.iter().any(|m| *m),
        Privacy::Public | Privacy::Unlisted => false,
    };
    let coord = |i: usize, f: fn((f64, f64)) -> f64| {
        if published(mask, i) {
            position(&samples[i]).map(|p| round_dp(f(p), COORD_DP))
        } else {
            None
        }
    };
    let (lat, lon) = if hide_location {
        (None, None)
    } else {
        (
            Some(picked.iter().map(|&(i, _)| coord(i, |p| p.0)).collect()),
            Some(picked.iter().map(|&(i, _)| coord(i, |p| p.1)).collect()),
        )
    };
    let col = |f: &dyn Fn(&Sample) -> Option<f64>, dp: i32| -> Vec<Option<f64>> {
        picked
            .iter()
            .map(|&(i, _)| f(&samples[i]).filter(|v| v.is_finite()).map(|v| round_dp(v, dp)))
            .collect()
    };
    let int_col = |f: &dyn Fn(&Sample) -> Option<u16>| -> Vec<Option<i64>> {
        picked.iter().map(|&(i, _)| f(&samples[i]).map(i64::from)).collect()
    };
    Some(Timeseries {
        t: picked.iter().map(|&(_, t)| t).collect(),
        lat,
        lon,
        elevation_m: col(&|s| s.ele_m, 1),
        speed_kmh: picked.iter().map(|&(i, _)| speeds[i].map(|v| round_dp(v, 2))).collect(),
        hr_bpm: int_col(&|s| s.hr_bpm),
        cadence_rpm: int_col(&|s| s.cadence_rpm),
        power_w: int_col(&|s| s.power_w),
        temperature_c: col(&|s| s.temperature_c, 1),
    })
}

/// The GeoJSON track of the published samples, simplified with RDP at `epsilon_deg`;
/// `None` below two published points (a one-point LineString is not valid GeoJSON).
/// Positions are `[lon, lat, ele]`, or `[lon, lat]` where the sample has no elevation.
pub fn build_track(
    activity: &Activity,
    mask: &[bool],
    id: &str,
    epsilon_deg: f64,
) -> Option<TrackFeature> {
    let samples = &activity.samples;
    if published_indices(samples, mask).len() < 2 {
        return None;
    }
    let speeds = speeds_kmh(samples, &Series::new(samples));
    track_with(activity, mask, id, epsilon_deg, &speeds)
}

fn track_with(
    activity: &Activity,
    mask: &[bool],
    id: &str,
    epsilon_deg: f64,
    speeds: &[Option<f64>],
) -> Option<TrackFeature> {
    let samples = &activity.samples;
    let idx = published_indices(samples, mask);
    if idx.len() < 2 {
        return None;
    }
    let lonlat: Vec<[f64; 2]> =
        idx.iter().filter_map(|&i| position(&samples[i]).map(|(lat, lon)| [lon, lat])).collect();
    let kept = simplify::rdp_indices(&lonlat, epsilon_deg);
    let mut coordinates = Vec::with_capacity(kept.len());
    let mut track_speeds = Vec::with_capacity(kept.len());
    for k in kept {
        let i = idx[k];
        let [lon, lat] = lonlat[k];
        let mut c = vec![round_dp(lon, COORD_DP), round_dp(lat, COORD_DP)];
        if let Some(e) = samples[i].ele_m.filter(|e| e.is_finite()) {
            c.push(round_dp(e, 1));
        }
        coordinates.push(c);
        track_speeds.push(speeds[i].map(|v| round_dp(v, 2)));
    }
    let simplified = coordinates.len() as i64;
    Some(TrackFeature {
        kind: "Feature".to_owned(),
        geometry: LineString { kind: "LineString".to_owned(), coordinates },
        properties: TrackProperties {
            id: id.to_owned(),
            speeds: track_speeds,
            simplification: Some("rdp".to_owned()),
            rdp_epsilon: Some(epsilon_deg),
            point_count_original: Some(samples.len() as i64),
            point_count_simplified: Some(simplified),
        },
    })
}

/// The card preview of the published samples (≤ 20 `[lat, lon]`, 5 dp).
pub fn build_preview(samples: &[Sample], mask: &[bool]) -> Option<Vec<[f64; 2]>> {
    let pts: Vec<[f64; 2]> = published_indices(samples, mask)
        .into_iter()
        .filter_map(|i| position(&samples[i]).map(|(lat, lon)| [lat, lon]))
        .collect();
    simplify::preview_coords(&pts, simplify::PREVIEW_MAX_POINTS)
}

/// Every published artefact of one activity.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub geo: PublishedGeo,
    pub timeseries: Option<Timeseries>,
    pub track: Option<TrackFeature>,
    pub preview: Option<Vec<[f64; 2]>>,
}

/// All of [`published_geo`], [`build_timeseries`], [`build_track`] and
/// [`build_preview`] at once, deriving the speed channel a single time (the separate
/// builders each derive it; this saves two passes over the samples).
pub fn build_published(
    activity: &Activity,
    mask: &[bool],
    privacy: Privacy,
    id: &str,
    epsilon_deg: f64,
) -> Published {
    build_published_with(activity, mask, privacy, id, epsilon_deg, &Series::new(&activity.samples))
}

/// [`build_published`] with the samples' [`Series`] already built (extraction has it from
/// cleaning and does not build it again).
pub fn build_published_with(
    activity: &Activity,
    mask: &[bool],
    privacy: Privacy,
    id: &str,
    epsilon_deg: f64,
    series: &Series,
) -> Published {
    let samples = &activity.samples;
    let speeds = speeds_kmh(samples, series);
    Published {
        geo: published_geo(samples, mask),
        timeseries: timeseries_with(activity, mask, privacy, &speeds),
        track: track_with(activity, mask, id, epsilon_deg, &speeds),
        preview: build_preview(samples, mask),
    }
}

#[cfg(test)]
#[path = "track/tests.rs"]
mod tests;
