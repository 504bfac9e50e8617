//! Average and maximum speed (docs/decisions.md E10 and W5).
//!
//! The average is the published distance over the published moving time, so the three
//! numbers on a card agree with each other (the reference divided a GPS moving distance
//! while publishing the device distance). The maximum is taken over the spike-filtered,
//! median-smoothed speed series of [`super::series`]: a single displaced GPS point can no
//! longer turn a bike ride into a 124 km/h descent. Only when the samples carry no speed
//! at all does the device's own session maximum stand in.

use super::round_dp;
use super::series::Series;
use crate::model::DeviceTotals;
use bincio_bas::Sport;

/// `distance / moving time × 3.6`, 2 dp.
pub fn avg_speed_kmh(distance_m: Option<f64>, moving_time_s: Option<i64>) -> Option<f64> {
    let d = distance_m?;
    let t = moving_time_s.filter(|t| *t > 0)?;
    Some(round_dp(d / t as f64 * 3.6, 2))
}

/// Robust maximum speed (km/h), 2 dp; `None` when nothing moved. Speeds above the sport's
/// human maximum ([`super::plausible::max_speed_ms`]) are left out, not capped; so is a
/// device maximum above it.
pub fn max_speed_kmh(series: &Series, totals: Option<&DeviceTotals>, sport: Sport) -> Option<f64> {
    let cap = super::plausible::max_speed_ms(sport);
    let from_samples = series
        .speed_ms
        .iter()
        .flatten()
        .copied()
        .filter(|v| *v <= cap)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let v = from_samples.or_else(|| totals.and_then(|t| t.max_speed_ms).filter(|v| *v <= cap))?;
    (v.is_finite() && v > 0.0).then(|| round_dp(v * 3.6, 2))
}
