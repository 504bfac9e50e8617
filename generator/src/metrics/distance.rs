//! Distance: the great-circle formula and the published total (DECISIONS Extraction 8).
//!
//! Priority: the device's session total (what the head unit showed), then the device's
//! cumulative distance channel, then haversine over the time-sorted GPS samples, then the
//! speed channel integrated over time (indoor trainers). Device figures are rounded to
//! 2 dp (W14: the reference published them unrounded), computed ones to 1 dp.

use super::round_dp;
use super::series::{DistanceSource, Series};
use crate::model::{DeviceTotals, Sample};

/// Mean Earth radius (m) used by every distance in BAS.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Great-circle distance (m) between two `(lat, lon)` points in degrees.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dphi = (lat2 - lat1).to_radians();
    let dlam = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlam / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.min(1.0).sqrt().asin()
}

/// [`haversine_m`] with the cosines of both latitudes already known (they are computed
/// once per point when walking a track, which saves a third of the trigonometry).
pub fn haversine_cos_m(
    lat1: f64,
    lon1: f64,
    cos_lat1: f64,
    lat2: f64,
    lon2: f64,
    cos_lat2: f64,
) -> f64 {
    let dphi = (lat2 - lat1).to_radians();
    let dlam = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + cos_lat1 * cos_lat2 * (dlam / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.min(1.0).sqrt().asin()
}

/// The published distance (m), `None` when nothing measured any.
pub fn published_distance_m(
    samples: &[Sample],
    series: &Series,
    totals: Option<&DeviceTotals>,
) -> Option<f64> {
    if let Some(d) = totals.and_then(|t| t.distance_m).filter(|d| d.is_finite() && *d > 0.0) {
        return Some(round_dp(d, 2));
    }
    let device_max = samples
        .iter()
        .filter_map(|s| s.distance_m)
        .filter(|d| d.is_finite())
        .fold(0.0_f64, f64::max);
    if device_max > 0.0 {
        return Some(round_dp(device_max, 2));
    }
    if series.gps_total_m > 0.0 {
        return Some(round_dp(series.gps_total_m, 1));
    }
    match (series.distance_source, series.cum_m.as_ref().and_then(|c| c.last())) {
        (Some(DistanceSource::Speed), Some(&d)) if d > 0.0 => Some(round_dp(d, 1)),
        _ => None,
    }
}
