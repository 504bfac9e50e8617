//! Metrics: pure functions over an [`Activity`] (being written).
//!
//! Nothing here touches the file system; every function takes the model and returns
//! values with units in their names.

use crate::model::Activity;

/// Every number the extractor publishes for one activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub distance_m: Option<f64>,
    pub duration_s: Option<i64>,
    pub moving_time_s: Option<i64>,
    pub elevation_gain_m: Option<f64>,
    pub elevation_loss_m: Option<f64>,
    pub avg_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub avg_hr_bpm: Option<i64>,
    pub max_hr_bpm: Option<i64>,
    pub avg_cadence_rpm: Option<i64>,
    pub avg_power_w: Option<i64>,
    pub max_power_w: Option<i64>,
    /// `[min_lon, min_lat, max_lon, max_lat]` over all GPS samples (privacy applied later).
    pub bbox: Option<[f64; 4]>,
    /// `[lat, lon]`.
    pub start_latlng: Option<[f64; 2]>,
    pub end_latlng: Option<[f64; 2]>,
    /// `(duration_s, watts)`.
    pub mmp: Option<Vec<(i64, i64)>>,
    /// `(distance_km, seconds)`.
    pub best_efforts: Option<Vec<(f64, i64)>>,
    pub best_climb_m: Option<f64>,
}

/// Compute every metric of an activity.
pub fn compute(_activity: &Activity) -> Metrics {
    Metrics::default()
}
