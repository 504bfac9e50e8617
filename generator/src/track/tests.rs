//! Builder tests: ports of the reference's GeoJSON cases (docs/decisions.md A2), the
//! timeseries rules (docs/extraction.md), and a property test that `blur_start` publishes no
//! location within 200 m of either end.

use super::*;
use crate::metrics::distance::{EARTH_RADIUS_M, haversine_m};
use crate::model::Format;
use crate::privacy::{BLUR_RADIUS_M, publishable_mask};
use crate::simplify::TRACK_EPSILON_DEG;
use proptest::prelude::*;

const T0_MS: i64 = 1_717_228_800_000;

fn act(samples: Vec<Sample>) -> Activity {
    let mut a = Activity::empty(Format::Gpx);
    a.start_ms = samples.first().map_or(T0_MS, |s| s.ts_ms);
    a.samples = samples;
    a
}

fn at(s: i64, lat: f64, lon: f64) -> Sample {
    Sample { ts_ms: T0_MS + s * 1000, lat_deg: Some(lat), lon_deg: Some(lon), ..Sample::default() }
}

fn track_of(samples: Vec<Sample>) -> Option<TrackFeature> {
    let a = act(samples);
    let mask = publishable_mask(&a.samples, Privacy::Public);
    build_track(&a, &mask, "test-123", TRACK_EPSILON_DEG)
}

#[test]
fn geojson_of_three_identical_points() {
    let t = track_of((0..3).map(|i| at(i, 48.0, 11.0)).collect()).unwrap();
    assert_eq!(t.kind, "Feature");
    assert_eq!(t.geometry.kind, "LineString");
    assert_eq!(t.properties.id, "test-123");
    assert_eq!(t.properties.simplification.as_deref(), Some("rdp"));
    assert_eq!(t.properties.rdp_epsilon, Some(TRACK_EPSILON_DEG));
    assert_eq!(t.properties.point_count_simplified, Some(2));
    assert_eq!(t.properties.speeds.len(), 2);
}

#[test]
fn geojson_positions_are_lon_lat_ele() {
    let mut a = at(0, 48.0, 11.0);
    a.ele_m = Some(100.0);
    let mut b = at(10, 48.5, 11.5);
    b.ele_m = Some(200.04);
    let t = track_of(vec![a, b]).unwrap();
    assert_eq!(t.geometry.coordinates, vec![vec![11.0, 48.0, 100.0], vec![11.5, 48.5, 200.0]]);
}

#[test]
fn geojson_keeps_elevation_and_speed_of_the_first_point() {
    let mut a = at(0, 48.0, 11.0);
    a.ele_m = Some(100.0);
    a.speed_ms = Some(20.0 / 3.6);
    let mut b = at(5, 48.001, 11.001);
    b.ele_m = Some(101.0);
    b.speed_ms = Some(22.0 / 3.6);
    let t = track_of(vec![a, b]).unwrap();
    assert_eq!(t.geometry.coordinates[0][2], 100.0);
    assert_eq!(t.properties.speeds, vec![Some(20.0), Some(22.0)]);
}

#[test]
fn build_published_equals_the_separate_builders() {
    let pts: Vec<Sample> = (0..600)
        .map(|i| Sample {
            ele_m: Some(100.0 + (i as f64 / 50.0).sin() * 20.0),
            hr_bpm: Some(120 + (i % 40) as u16),
            ..at(i, 45.0 + 0.00005 * i as f64, 7.0 + 0.0003 * (i as f64 / 30.0).sin())
        })
        .collect();
    let a = act(pts);
    for privacy in [Privacy::Public, Privacy::BlurStart, Privacy::NoGps, Privacy::Unlisted] {
        let mask = publishable_mask(&a.samples, privacy);
        let all = build_published(&a, &mask, privacy, "x", TRACK_EPSILON_DEG);
        assert_eq!(all.geo, published_geo(&a.samples, &mask));
        assert_eq!(all.timeseries, build_timeseries(&a, &mask, privacy));
        assert_eq!(all.track, build_track(&a, &mask, "x", TRACK_EPSILON_DEG));
        assert_eq!(all.preview, build_preview(&a.samples, &mask));
        assert_eq!(all.track.is_some(), privacy != Privacy::NoGps, "{privacy:?}");
    }
}

#[test]
fn geojson_without_elevation_has_two_element_positions() {
    let t = track_of(vec![at(0, 48.0, 11.0), at(1, 48.001, 11.002)]).unwrap();
    assert!(t.geometry.coordinates.iter().all(|c| c.len() == 2));
}

#[test]
fn geojson_coordinates_are_rounded_to_6dp() {
    let t = track_of(vec![at(0, 48.123_456_789, 11.987_654_321), at(1, 48.2, 12.0)]).unwrap();
    assert_eq!(t.geometry.coordinates[0], vec![11.987_654, 48.123_457]);
}

#[test]
fn geojson_speeds_parallel_to_coordinates() {
    let pts: Vec<Sample> = [(0, 10.0), (1, -1.0), (2, 20.0)]
        .iter()
        .map(|&(i, kmh)| Sample {
            speed_ms: (kmh >= 0.0).then_some(kmh / 3.6),
            ..at(i, 48.0 + 0.01 * i as f64, 11.0 + 0.02 * (i % 2) as f64)
        })
        .collect();
    let t = track_of(pts).unwrap();
    assert_eq!(t.properties.speeds.len(), t.geometry.coordinates.len());
    assert_eq!(t.properties.speeds[0], Some(10.0));
    assert_eq!(t.properties.speeds[2], Some(20.0));
}

#[test]
fn geojson_counts_original_and_simplified_points() {
    let t = track_of((0..10).map(|i| at(i, 48.0 + 0.001 * i as f64, 11.0)).collect()).unwrap();
    assert_eq!(t.properties.point_count_original, Some(10));
    assert_eq!(t.properties.point_count_simplified, Some(2));
}

#[test]
fn no_gps_means_no_track_and_no_preview() {
    let pts: Vec<Sample> =
        (0..5).map(|i| Sample { ts_ms: T0_MS + i * 1000, ..Sample::default() }).collect();
    assert!(track_of(pts.clone()).is_none());
    assert!(build_preview(&pts, &[true; 5]).is_none());
    // One GPS point is not a line (the reference wrote a one-position LineString).
    assert!(track_of(vec![at(0, 48.0, 11.0)]).is_none());
}

#[test]
fn timeseries_keeps_the_first_sample_of_each_second() {
    let mut pts = vec![at(0, 48.0, 11.0)];
    for (ms, hr) in [(400, 101), (1000, 102), (1700, 103), (3000, 104), (8000, 105)] {
        pts.push(Sample { ts_ms: T0_MS + ms, hr_bpm: Some(hr), ..Sample::default() });
    }
    let a = act(pts);
    let ts = build_timeseries(&a, &publishable_mask(&a.samples, Privacy::Public), Privacy::Public)
        .unwrap();
    assert_eq!(ts.t, vec![0, 1, 3, 8]);
    assert_eq!(ts.hr_bpm, vec![None, Some(102), Some(104), Some(105)]);
    assert_eq!(ts.lat, Some(vec![Some(48.0), None, None, None]));
    assert_eq!(ts.elevation_m, vec![None; 4]);
}

#[test]
fn timeseries_rounding_and_derived_speed() {
    let mut a = at(0, 48.0, 11.0);
    a.ele_m = Some(123.456);
    a.temperature_c = Some(21.25);
    let mut b = at(10, 48.001, 11.0);
    b.ele_m = Some(124.0);
    let a = act(vec![a, b]);
    let ts = build_timeseries(&a, &[true, true], Privacy::Public).unwrap();
    assert_eq!(ts.elevation_m, vec![Some(123.5), Some(124.0)]);
    assert_eq!(ts.temperature_c, vec![Some(21.2), None]);
    // 111.19 m in 10 s, spread to the first sample by the rolling median.
    assert_eq!(ts.speed_kmh, vec![Some(40.03), Some(40.03)]);
}

#[test]
fn no_gps_timeseries_has_null_location() {
    let a = act(vec![at(0, 48.0, 11.0), at(1, 48.001, 11.0)]);
    let mask = publishable_mask(&a.samples, Privacy::NoGps);
    let ts = build_timeseries(&a, &mask, Privacy::NoGps).unwrap();
    assert_eq!((ts.lat, ts.lon), (None, None));
    assert_eq!(published_geo(&a.samples, &mask), PublishedGeo::default());
    assert!(build_track(&a, &mask, "x", TRACK_EPSILON_DEG).is_none());
    assert!(build_preview(&a.samples, &mask).is_none());
}

#[test]
fn empty_activity_has_no_timeseries() {
    assert!(build_timeseries(&act(vec![]), &[], Privacy::Public).is_none());
}

// ---- blur_start property ------------------------------------------------------------

prop_compose! {
    /// A wandering track: 2–300 samples one to five seconds apart, each step 0–40 m in a
    /// heading that drifts (so tracks curl back towards their start sometimes).
    fn arb_track()(
        steps in prop::collection::vec((1i64..5, 0.0f64..40.0, -1.2f64..1.2), 2..300),
        lat0 in -60.0f64..60.0,
    ) -> Vec<Sample> {
        let (mut t, mut lat, mut lon, mut heading) = (0i64, lat0, 7.0f64, 0.0f64);
        steps.into_iter().map(|(dt, step, turn)| {
            t += dt;
            heading += turn;
            lat += (step * heading.cos() / EARTH_RADIUS_M).to_degrees();
            lon += (step * heading.sin() / EARTH_RADIUS_M).to_degrees() / lat.to_radians().cos();
            Sample { ele_m: Some(100.0), ..at(t, lat, lon) }
        }).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// No published location of a `blur_start` activity (timeseries lat/lon, GeoJSON,
    /// preview, bbox corners, start/end) is within 200 m of the start or the end, along
    /// the track or in a straight line.
    #[test]
    fn blur_start_never_publishes_near_the_ends(samples in arb_track()) {
        let a = act(samples);
        let s = &a.samples;
        let mask = publishable_mask(s, Privacy::BlurStart);
        // Along-track distance of every sample.
        let mut cum = vec![0.0];
        for w in s.windows(2) {
            let (p, q) = (w[0].latlon().unwrap(), w[1].latlon().unwrap());
            cum.push(cum.last().unwrap() + haversine_m(p.0, p.1, q.0, q.1));
        }
        let total = *cum.last().unwrap();
        let (start, end) = (s[0].latlon().unwrap(), s[s.len() - 1].latlon().unwrap());
        // Rounding to 5 dp (preview) moves a point by at most ~0.8 m.
        let far = |lat: f64, lon: f64| {
            haversine_m(start.0, start.1, lat, lon) >= BLUR_RADIUS_M - 1.0
                && haversine_m(end.0, end.1, lat, lon) >= BLUR_RADIUS_M - 1.0
        };

        let ts = build_timeseries(&a, &mask, Privacy::BlurStart).unwrap();
        let track = build_track(&a, &mask, "x", TRACK_EPSILON_DEG);
        let preview = build_preview(s, &mask);
        let geo = published_geo(s, &mask);

        if total < 2.0 * BLUR_RADIUS_M || !mask.iter().any(|m| *m) {
            prop_assert!(ts.lat.is_none() && ts.lon.is_none());
            prop_assert!(track.is_none() && preview.is_none());
            prop_assert_eq!(geo, PublishedGeo::default());
            return Ok(());
        }
        // Samples are whole seconds apart, so the timeseries holds every sample.
        let (lats, lons) = (ts.lat.unwrap(), ts.lon.unwrap());
        prop_assert_eq!(lats.len(), s.len());
        let mut published = Vec::new();
        for (k, (la, lo)) in lats.iter().zip(&lons).enumerate() {
            if let (Some(la), Some(lo)) = (la, lo) {
                prop_assert!(cum[k] >= BLUR_RADIUS_M && total - cum[k] >= BLUR_RADIUS_M);
                prop_assert!(far(*la, *lo), "sample {k} too close");
                published.push((*la, *lo));
            } else {
                prop_assert!(la.is_none() && lo.is_none());
            }
        }
        prop_assert_eq!(track.is_some(), published.len() >= 2);
        prop_assert_eq!(preview.is_some(), published.len() >= 2);
        for c in track.iter().flat_map(|t| &t.geometry.coordinates) {
            prop_assert!(published.contains(&(c[1], c[0])), "track point not published");
        }
        for p in preview.iter().flatten() {
            prop_assert!(far(p[0], p[1]), "preview point too close");
        }
        let bbox = geo.bbox.unwrap();
        let fold = |f: fn(f64, f64) -> f64, init: f64, sel: fn(&(f64, f64)) -> f64| {
            published.iter().map(sel).fold(init, f)
        };
        prop_assert_eq!(bbox, [
            fold(f64::min, f64::INFINITY, |p| p.1),
            fold(f64::min, f64::INFINITY, |p| p.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.1),
            fold(f64::max, f64::NEG_INFINITY, |p| p.0),
        ]);
        prop_assert_eq!(geo.start_latlng, Some([published[0].0, published[0].1]));
        let last = published[published.len() - 1];
        prop_assert_eq!(geo.end_latlng, Some([last.0, last.1]));
    }
}
