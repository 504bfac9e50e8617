//! Distance: the published total (the great-circle formula itself is [`super::sphere`]).
//!
//! Priority: the device's session total (what the head unit showed), then the device's
//! cumulative distance channel, then haversine over the time-sorted GPS samples, then the
//! speed channel integrated over time (indoor trainers). Device figures are rounded to
//! 2 dp (the reference published them unrounded, docs/decisions.md W14), computed ones to
//! 1 dp.

use super::round_dp;
use super::series::{DistanceSource, Series};
use crate::model::{DeviceTotals, Sample};

pub use super::sphere::{EARTH_RADIUS_M, haversine_cos_m, haversine_m};

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
