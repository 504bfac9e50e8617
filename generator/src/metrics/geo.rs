//! Bounding box and start/end positions of a set of GPS samples.
//!
//! Shared by [`super::compute`] (every GPS sample) and [`crate::track::published_geo`]
//! (only the samples privacy lets through), so the published extent can never be wider
//! than the published track. Coordinates are rounded to 6 dp like every published one.

use super::round_dp;
use super::series::position;
use crate::model::Sample;

/// Decimal places of every published coordinate (~0.1 m).
pub const COORD_DP: i32 = 6;

/// Bounding box and end points.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extent {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// `[lat, lon]` of the first kept GPS sample.
    pub start_latlng: Option<[f64; 2]>,
    /// `[lat, lon]` of the last kept GPS sample.
    pub end_latlng: Option<[f64; 2]>,
}

/// The extent of the samples with a position for which `keep(index)` is true.
pub fn extent(samples: &[Sample], keep: impl Fn(usize) -> bool) -> Extent {
    let mut bbox: Option<[f64; 4]> = None;
    let mut first: Option<(f64, f64)> = None;
    let mut last: Option<(f64, f64)> = None;
    for (i, s) in samples.iter().enumerate() {
        let Some((lat, lon)) = position(s) else { continue };
        if !keep(i) {
            continue;
        }
        first.get_or_insert((lat, lon));
        last = Some((lat, lon));
        bbox = Some(match bbox {
            None => [lon, lat, lon, lat],
            Some([a, b, c, d]) => [a.min(lon), b.min(lat), c.max(lon), d.max(lat)],
        });
    }
    let r = |x: f64| round_dp(x, COORD_DP);
    Extent {
        bbox: bbox.map(|b| b.map(r)),
        start_latlng: first.map(|(la, lo)| [r(la), r(lo)]),
        end_latlng: last.map(|(la, lo)| [r(la), r(lo)]),
    }
}
