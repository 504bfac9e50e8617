//! Privacy: which locations may be published, for extraction and for the merge alike.
//!
//! One rule per privacy, defined here only. [`publishable_mask`] decides per sample at
//! extraction; every published location (GeoJSON, preview, timeseries lat/lon, bbox,
//! start/end — see [`crate::track`]) is built from that mask only, so no artefact can
//! disagree with another. The merge applies the same `blur_start` rule to the artefacts
//! it publishes ([`blur_published`]), because an activity can become `blur_start` after
//! extraction (a duplicate recording of the same ride chose it, see `docs/site.md`).
//!
//! - `public`, `unlisted`: every sample with a position (unlisted hides the listing, not
//!   the map, and its URL carries a token).
//! - `no_gps`: none.
//! - `blur_start`: a point is dropped when it is less than [`BLUR_RADIUS_M`] from the
//!   start or the end, measured **along the track** (cumulative haversine over the fixes
//!   in time order) **or in a straight line** (haversine to the first/last fix), whichever
//!   is stricter. The straight-line test matters for tracks that wind near home: a point
//!   300 m along a switchback may be 50 m from the door. A loop passing the start mid-ride
//!   therefore gets a hole there too. Under 2 × [`BLUR_RADIUS_M`] of track nothing is
//!   published.
//!
//! Metrics (distance, speeds, elevation) stay computed from the full track.

use crate::metrics::distance::{haversine_cos_m, haversine_m};
use crate::metrics::series::position;
use crate::model::Sample;
use bincio_bas::{HiddenStats, Privacy, Timeseries, TrackFeature};
use std::time::SystemTime;

/// Radius (m) hidden around the start and the end by `blur_start`.
pub const BLUR_RADIUS_M: f64 = 200.0;

/// `mask[i]` is true when sample `i` has a position that may be published.
pub fn publishable_mask(samples: &[Sample], privacy: Privacy) -> Vec<bool> {
    match privacy {
        Privacy::Public | Privacy::Unlisted => {
            samples.iter().map(|s| position(s).is_some()).collect()
        }
        Privacy::NoGps => vec![false; samples.len()],
        Privacy::BlurStart => blur_start_mask(samples),
    }
}

/// The `blur_start` mask of a recording's samples.
pub fn blur_start_mask(samples: &[Sample]) -> Vec<bool> {
    let points: Vec<Option<[f64; 2]>> =
        samples.iter().map(|s| position(s).map(|(lat, lon)| [lat, lon])).collect();
    blur_keep(&points)
}

/// The `blur_start` rule over `[lat, lon]` points in time order (`None`: no fix there):
/// `keep[i]` is true when point `i` is a fix at least [`BLUR_RADIUS_M`] from the first and
/// the last fix both along the track and in a straight line.
pub fn blur_keep(points: &[Option<[f64; 2]>]) -> Vec<bool> {
    let radius_m = BLUR_RADIUS_M;
    let mut mask = vec![false; points.len()];
    let gps: Vec<(usize, [f64; 2])> =
        points.iter().enumerate().filter_map(|(i, p)| p.map(|p| (i, p))).collect();
    let (Some(&(_, start)), Some(&(_, end))) = (gps.first(), gps.last()) else {
        return mask;
    };
    let mut cum = Vec::with_capacity(gps.len());
    let mut total = 0.0;
    let mut prev: Option<(f64, f64, f64)> = None;
    for (_, [lat, lon]) in &gps {
        let cos_lat = lat.to_radians().cos();
        if let Some((plat, plon, pcos)) = prev {
            total += haversine_cos_m(plat, plon, pcos, *lat, *lon, cos_lat);
        }
        prev = Some((*lat, *lon, cos_lat));
        cum.push(total);
    }
    if total < 2.0 * radius_m {
        return mask;
    }
    for ((i, p), c) in gps.iter().zip(&cum) {
        let along_ok = *c >= radius_m && total - c >= radius_m;
        mask[*i] = along_ok && !near_ends(*p, &[start, end]);
    }
    mask
}

/// True when `p` is less than [`BLUR_RADIUS_M`] from any of `ends` in a straight line.
pub fn near_ends(p: [f64; 2], ends: &[[f64; 2]]) -> bool {
    // A degree of latitude is at least 110.5 km anywhere: a point farther than the radius
    // in latitude alone is far without any trigonometry.
    const MIN_M_PER_DEG_LAT: f64 = 110_500.0;
    ends.iter().any(|e| {
        (e[0] - p[0]).abs() * MIN_M_PER_DEG_LAT < BLUR_RADIUS_M
            && haversine_m(e[0], e[1], p[0], p[1]) < BLUR_RADIUS_M
    })
}

/// Apply `blur_start` to an activity's published timeseries and GeoJSON track, in place,
/// and return the ends the rule measured from (`[lat, lon]` of the first and last fix).
///
/// The ends are those of the timeseries (every fix, at most one per second), else of the
/// track. The timeseries keeps the points [`blur_keep`] keeps. The track is RDP-simplified,
/// so its along-track distances are shorter than the true ones (which only makes the rule
/// stricter); each of its points must pass [`blur_keep`] on the track itself and be a
/// radius from the timeseries' ends. The track's `speeds` stay parallel to its positions.
/// Data already blurred at extraction loses one more zone at each end: the merge cannot
/// tell whether (and by which rule) another tool trimmed it, and safe beats sorry.
pub fn blur_published(
    ts: Option<&mut Timeseries>,
    track: Option<&mut TrackFeature>,
) -> Vec<[f64; 2]> {
    let ts_points: Vec<Option<[f64; 2]>> = match ts.as_deref() {
        Some(Timeseries { lat: Some(lat), lon: Some(lon), .. }) => {
            lat.iter().zip(lon).map(|(a, o)| Some([(*a)?, (*o)?])).collect()
        }
        _ => Vec::new(),
    };
    let track_points: Vec<Option<[f64; 2]>> = track
        .as_deref()
        .map(|t| {
            t.geometry.coordinates.iter().map(|c| (c.len() >= 2).then(|| [c[1], c[0]])).collect()
        })
        .unwrap_or_default();
    let fixes = |pts: &[Option<[f64; 2]>]| -> Vec<[f64; 2]> {
        match (pts.iter().flatten().next(), pts.iter().flatten().last()) {
            (Some(a), Some(b)) => vec![*a, *b],
            _ => Vec::new(),
        }
    };
    let mut ends = fixes(&ts_points);
    if ends.is_empty() {
        ends = fixes(&track_points);
    }
    if let Some(ts) = ts
        && let (Some(lat), Some(lon)) = (ts.lat.as_mut(), ts.lon.as_mut())
    {
        let keep = blur_keep(&ts_points);
        for ((a, o), k) in lat.iter_mut().zip(lon.iter_mut()).zip(&keep) {
            if !k {
                *a = None;
                *o = None;
            }
        }
        if lat.iter().all(Option::is_none) {
            ts.lat = None;
            ts.lon = None;
        }
    }
    if let Some(tr) = track {
        let keep: Vec<bool> = blur_keep(&track_points)
            .into_iter()
            .zip(&track_points)
            .map(|(k, p)| k && p.is_some_and(|p| !near_ends(p, &ends)))
            .collect();
        let parallel = tr.properties.speeds.len() == keep.len();
        let mut i = 0;
        tr.geometry.coordinates.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        if parallel {
            let mut i = 0;
            tr.properties.speeds.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        } else {
            tr.properties.speeds.clear();
        }
    }
    ends
}

/// One recording's privacy choices, as [`across_duplicates`] weighs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// The privacy it was extracted with.
    pub extracted: Privacy,
    /// Its sidecar's `private`, when the sidecar says.
    pub private: Option<bool>,
    /// Its sidecar's `hide_stats`, when the sidecar says.
    pub hidden: Option<HiddenStats>,
    /// For the kept activity, when its sidecar was last written; for a duplicate, when it
    /// became one. `None` when unknown.
    pub at: Option<SystemTime>,
}

/// What an activity publishes once its duplicates are taken into account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    /// `unlisted` when it is not listed, else [`Effective::geo`].
    pub privacy: Privacy,
    /// The location rule: `public`, `blur_start` or `no_gps`.
    pub geo: Privacy,
    pub hidden: HiddenStats,
}

/// How much of the location a privacy hides (`unlisted` hides the listing, not the map).
fn geo_rank(p: Privacy) -> u8 {
    match p {
        Privacy::Public | Privacy::Unlisted => 0,
        Privacy::BlurStart => 1,
        Privacy::NoGps => 2,
    }
}

/// The privacy of a kept activity given its duplicate recordings of the same ride (a TCX
/// and the FIT uploaded after it, say): the most restrictive choice among them wins, in
/// each of the two independent dimensions, listing (unlisted or listed) and location
/// (`no_gps` > `blur_start` > `public`); hidden stats are the union. One exception: when
/// the owner wrote the kept activity's sidecar after the last duplicate appeared, an
/// explicit `private` (or `hide_stats`) there is their decision and stands. Without
/// duplicates this is the plain sidecar rule: `private: true` unlists, `false` restores the
/// extracted privacy. The location rule cannot be changed by a sidecar.
pub fn across_duplicates(kept: &Choice, duplicates: &[Choice]) -> Effective {
    let unlisted_by = |c: &Choice| c.extracted == Privacy::Unlisted || c.private == Some(true);
    let decided_after = match duplicates.iter().map(|d| d.at).min_by_key(Option::is_some) {
        None => true,
        // Some duplicate's time is unknown: the owner cannot have seen it.
        Some(None) => false,
        Some(Some(_)) => {
            let last = duplicates.iter().filter_map(|d| d.at).max();
            matches!((kept.at, last), (Some(k), Some(d)) if k > d)
        }
    };
    let unlisted = match kept.private {
        Some(p) if decided_after => p || kept.extracted == Privacy::Unlisted,
        _ => unlisted_by(kept) || duplicates.iter().any(unlisted_by),
    };
    let geo = duplicates
        .iter()
        .map(|d| d.extracted)
        .fold(kept.extracted, |a, b| if geo_rank(b) > geo_rank(a) { b } else { a });
    let geo = if geo == Privacy::Unlisted { Privacy::Public } else { geo };
    let hidden = match kept.hidden {
        Some(h) if decided_after => h,
        _ => duplicates
            .iter()
            .filter_map(|d| d.hidden)
            .fold(kept.hidden.unwrap_or_default(), HiddenStats::union),
    };
    Effective { privacy: if unlisted { Privacy::Unlisted } else { geo }, geo, hidden }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, step_deg: f64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                ts_ms: i as i64 * 1000,
                lat_deg: Some(45.0 + step_deg * i as f64),
                lon_deg: Some(7.0),
                ..Sample::default()
            })
            .collect()
    }

    #[test]
    fn public_and_unlisted_publish_every_gps_sample() {
        let mut s = line(5, 0.001);
        s[2].lat_deg = None;
        let expected = vec![true, true, false, true, true];
        assert_eq!(publishable_mask(&s, Privacy::Public), expected);
        assert_eq!(publishable_mask(&s, Privacy::Unlisted), expected);
    }

    #[test]
    fn no_gps_publishes_nothing() {
        assert_eq!(publishable_mask(&line(5, 0.001), Privacy::NoGps), vec![false; 5]);
    }

    #[test]
    fn blur_start_trims_200_m_each_end() {
        // 0.001° of latitude ≈ 111.19 m: 11 points span ≈ 1112 m. Points 0, 1 (111 m) are
        // within 200 m of the start, 9 and 10 of the end; 2 (222 m) is kept.
        let m = publishable_mask(&line(11, 0.001), Privacy::BlurStart);
        let kept: Vec<usize> = m.iter().enumerate().filter_map(|(i, k)| k.then_some(i)).collect();
        assert_eq!(kept, vec![2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn blur_start_under_400_m_publishes_nothing() {
        // 4 points ≈ 333 m.
        assert_eq!(publishable_mask(&line(4, 0.001), Privacy::BlurStart), vec![false; 4]);
    }

    #[test]
    fn blur_start_hides_a_loop_passing_the_start() {
        // Out 1.1 km north, back to 111 m from the start, then 1.7 km north.
        let mut lats: Vec<f64> = (0..=10).map(|i| 0.001 * f64::from(i)).collect();
        lats.extend((1..=9).map(|i| 0.010 - 0.001 * f64::from(i)));
        lats.extend((2..=15).map(|i| 0.001 * f64::from(i)));
        let s: Vec<Sample> = lats
            .iter()
            .enumerate()
            .map(|(i, la)| Sample {
                ts_ms: i as i64 * 1000,
                lat_deg: Some(45.0 + la),
                lon_deg: Some(7.0),
                ..Sample::default()
            })
            .collect();
        let m = publishable_mask(&s, Privacy::BlurStart);
        // Sample 19 is at +0.001° (≈ 111 m from the start) mid-ride: hidden.
        assert!(!m[19]);
        assert!(m[10]);
    }

    /// A random walk: `(bearing_deg, step_m, has_fix)` per point from a start.
    fn walk(start: [f64; 2], steps: &[(f64, f64, bool)]) -> Vec<Option<[f64; 2]>> {
        let mut p = start;
        steps
            .iter()
            .map(|(bearing, step, fix)| {
                let b = bearing.to_radians();
                p[0] += step * b.cos() / 111_195.0;
                p[1] += step * b.sin() / (111_195.0 * p[0].to_radians().cos());
                fix.then_some(p)
            })
            .collect()
    }

    proptest::proptest! {
        /// Whatever the track (winding, looping, gaps without a fix), no point the merge
        /// publishes for `blur_start` lies within 200 m in a straight line of the true start
        /// or end, neither in the timeseries nor in the (subsampled) GeoJSON.
        #[test]
        fn blur_published_keeps_every_point_200_m_from_the_true_ends(
            lat in -70.0f64..70.0,
            lon in -179.0f64..179.0,
            steps in proptest::collection::vec((0.0f64..360.0, 0.0f64..80.0, proptest::bool::weighted(0.9)), 2..200),
            every in 1usize..6,
        ) {
            let pts = walk([lat, lon], &steps);
            let fixes: Vec<[f64; 2]> = pts.iter().flatten().copied().collect();
            proptest::prop_assume!(fixes.len() >= 2);
            let (start, end) = (fixes[0], fixes[fixes.len() - 1]);
            let mut ts = Timeseries {
                t: (0..pts.len() as i64).collect(),
                lat: Some(pts.iter().map(|p| p.map(|p| p[0])).collect()),
                lon: Some(pts.iter().map(|p| p.map(|p| p[1])).collect()),
                ..Timeseries::default()
            };
            // The track: every `every`-th fix plus the last, as a simplified track would be.
            let mut coords: Vec<Vec<f64>> =
                fixes.iter().step_by(every).map(|p| vec![p[1], p[0], 100.0]).collect();
            coords.push(vec![end[1], end[0]]);
            let n = coords.len();
            let mut track = TrackFeature {
                kind: "Feature".into(),
                geometry: bincio_bas::LineString { kind: "LineString".into(), coordinates: coords },
                properties: bincio_bas::TrackProperties { speeds: vec![Some(1.0); n], ..Default::default() },
            };
            let ends = blur_published(Some(&mut ts), Some(&mut track));
            proptest::prop_assert_eq!(ends, vec![start, end]);
            let mut published: Vec<[f64; 2]> = Vec::new();
            if let (Some(la), Some(lo)) = (&ts.lat, &ts.lon) {
                published.extend(la.iter().zip(lo).filter_map(|(a, o)| Some([(*a)?, (*o)?])));
            }
            published.extend(track.geometry.coordinates.iter().map(|c| [c[1], c[0]]));
            proptest::prop_assert_eq!(track.properties.speeds.len(), track.geometry.coordinates.len());
            for p in published {
                for e in [start, end] {
                    let d = haversine_m(e[0], e[1], p[0], p[1]);
                    proptest::prop_assert!(d >= BLUR_RADIUS_M, "{:?} is {} m from {:?}", p, d, e);
                }
            }
        }
    }

    #[test]
    fn the_most_restrictive_duplicate_wins_unless_the_owner_decided_later() {
        use std::time::Duration;
        let t = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let public = Choice { at: t(10), ..Choice::default() };
        let blurred = Choice { extracted: Privacy::BlurStart, at: t(20), ..Choice::default() };
        let private = Choice { private: Some(true), at: t(20), ..Choice::default() };
        let e = across_duplicates(&public, &[blurred, private]);
        assert_eq!((e.privacy, e.geo), (Privacy::Unlisted, Privacy::BlurStart));
        // An explicit `private: false` before the duplicates appeared does not count...
        let own = Choice { private: Some(false), ..public };
        assert_eq!(across_duplicates(&own, &[private]).privacy, Privacy::Unlisted);
        // ...one after does; the location rule stays the strictest.
        let own = Choice { private: Some(false), at: t(30), ..public };
        let e = across_duplicates(&own, &[blurred, private]);
        assert_eq!((e.privacy, e.geo), (Privacy::BlurStart, Privacy::BlurStart));
        // Hidden stats: union, unless set later by the owner.
        let hr = HiddenStats::from_names(["heart_rate"]);
        let dup = Choice { hidden: Some(hr), at: t(20), ..Choice::default() };
        assert_eq!(across_duplicates(&public, &[dup]).hidden, hr);
        let own = Choice { hidden: Some(HiddenStats::NONE), at: t(30), ..Choice::default() };
        assert_eq!(across_duplicates(&own, &[dup]).hidden, HiddenStats::NONE);
        // No duplicates: the plain sidecar rule.
        let own = Choice { extracted: Privacy::NoGps, private: Some(false), ..Choice::default() };
        assert_eq!(across_duplicates(&own, &[]).privacy, Privacy::NoGps);
        let own =
            Choice { extracted: Privacy::Unlisted, private: Some(false), ..Choice::default() };
        assert_eq!(across_duplicates(&own, &[]).privacy, Privacy::Unlisted);
    }
}
