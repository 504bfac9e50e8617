//! Privacy: which samples' locations may be published (DECISIONS "Privacy", W4).
//!
//! One pure function, [`publishable_mask`], decides per sample; every published location
//! (GeoJSON, preview, timeseries lat/lon, bbox, start/end — see [`crate::track`]) is
//! built from that mask only, so no artefact can disagree with another.
//!
//! - `public`, `unlisted`: every sample with a position (unlisted hides the listing, not
//!   the map, and its URL carries a token).
//! - `no_gps`: none.
//! - `blur_start`: a sample is dropped when it is less than [`BLUR_RADIUS_M`] from the
//!   start or the end, measured **along the track** (cumulative haversine over the GPS
//!   samples in time order, the rule in `extract-and-merge.md` §5) **or in a straight
//!   line** (haversine to the first/last GPS sample). The second test matters for tracks
//!   that wind near home: a point 300 m along a switchback may be 50 m from the door. A
//!   loop passing the start mid-ride therefore gets a hole there too. Under 2 ×
//!   [`BLUR_RADIUS_M`] of track nothing is published.
//!
//! Metrics (distance, speeds, elevation) stay computed from the full track.

use crate::metrics::distance::{haversine_cos_m, haversine_m};
use crate::metrics::series::position;
use crate::model::Sample;
use bincio_bas::Privacy;

/// Radius (m) hidden around the start and the end by `blur_start`.
pub const BLUR_RADIUS_M: f64 = 200.0;

/// `mask[i]` is true when sample `i` has a position that may be published.
pub fn publishable_mask(samples: &[Sample], privacy: Privacy) -> Vec<bool> {
    match privacy {
        Privacy::Public | Privacy::Unlisted => {
            samples.iter().map(|s| position(s).is_some()).collect()
        }
        Privacy::NoGps => vec![false; samples.len()],
        Privacy::BlurStart => blur_start_mask(samples, BLUR_RADIUS_M),
    }
}

/// The `blur_start` mask for a given radius.
pub fn blur_start_mask(samples: &[Sample], radius_m: f64) -> Vec<bool> {
    let mut mask = vec![false; samples.len()];
    let gps: Vec<(usize, (f64, f64))> =
        samples.iter().enumerate().filter_map(|(i, s)| position(s).map(|p| (i, p))).collect();
    let (Some(&(_, start)), Some(&(_, end))) = (gps.first(), gps.last()) else {
        return mask;
    };
    let mut cum = Vec::with_capacity(gps.len());
    let mut total = 0.0;
    let mut prev: Option<(f64, f64, f64)> = None;
    for (_, (lat, lon)) in &gps {
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
    // A degree of latitude is at least 110.5 km anywhere: a point farther than the radius
    // in latitude alone is far without any trigonometry.
    const MIN_M_PER_DEG_LAT: f64 = 110_500.0;
    let far_from = |a: (f64, f64), p: (f64, f64)| {
        (a.0 - p.0).abs() * MIN_M_PER_DEG_LAT >= radius_m
            || haversine_m(a.0, a.1, p.0, p.1) >= radius_m
    };
    for ((i, p), c) in gps.iter().zip(&cum) {
        let along_ok = *c >= radius_m && total - c >= radius_m;
        mask[*i] = along_ok && far_from(start, *p) && far_from(end, *p);
    }
    mask
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
}
