//! Metrics: pure functions over an [`Activity`].
//!
//! Nothing here touches the file system; every function takes the model and returns
//! values with units in their names. [`compute`] prepares the shared per-sample series
//! once ([`series::Series`]: time, cumulative distance, robust speed, the pause cutoff)
//! and each submodule derives its figures from it, so the whole pass is O(n) apart from
//! the O(n · targets) power-curve and best-effort scans.
//!
//! Where the numbers come from (docs/decisions.md E8–E13 over the reference):
//! - the device's own session totals win for distance, elapsed and timer time, ascent and
//!   descent, and the HR/power averages and maxima: they are what the athlete saw;
//! - everything else is computed from the samples at whatever rate they were recorded
//!   (1–10 s smart recording), never on a zero-filled 1 Hz grid;
//! - averages round to nearest (the reference truncated, docs/decisions.md W14).

pub mod averages;
pub mod distance;
pub mod efforts;
pub mod elevation;
pub mod geo;
pub mod moving;
pub mod plausible;
pub mod power_curve;
pub mod series;
pub mod speed;
pub mod sphere;
pub mod swim;

use crate::model::Activity;
use bincio_bas::{Cleaning, Sport};
use series::Series;

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
    /// What the plausibility filter removed, ignored or withheld ([`plausible`]).
    pub cleaning: Cleaning,
}

/// Compute every metric of an activity, after cleaning a copy of it ([`plausible::clean`]):
/// no figure is ever computed from samples the filter has not seen.
pub fn compute(activity: &Activity) -> Metrics {
    let mut cleaned = activity.clone();
    let cleaning = plausible::clean(&mut cleaned);
    compute_cleaned(&cleaned, cleaning)
}

/// Compute every metric of an activity that [`plausible::clean`] has already cleaned (the
/// extractor cleans once and publishes the cleaned samples too); `cleaning` is its report.
pub fn compute_cleaned(activity: &Activity, cleaning: Cleaning) -> Metrics {
    compute_cleaned_with(activity, cleaning, &Series::new(&activity.samples))
}

/// [`compute_cleaned`] with the series of the cleaned samples already built
/// ([`plausible::clean_with_series`] returns it), so extraction builds it once.
pub fn compute_cleaned_with(
    activity: &Activity,
    mut cleaning: Cleaning,
    series: &Series,
) -> Metrics {
    let samples = &activity.samples;
    let totals = activity.totals.as_ref();

    let duration_s = moving::duration_s(series, totals);
    let distance_m = distance::published_distance_m(samples, series, totals);
    let moving_time_s = moving::moving_time_s(activity.sport, series, totals)
        // A moving time longer than the elapsed time is impossible (device clocks and
        // summed multisport sessions can disagree); the elapsed time wins.
        .map(|m| duration_s.map_or(m, |d| m.min(d)));
    let avg_speed_kmh = speed::avg_speed_kmh(distance_m, moving_time_s);
    let max_speed_kmh = speed::max_speed_kmh(series, totals, activity.sport);
    let elev = elevation::measure(samples, series, activity.altitude_source, totals);
    let geo = geo::extent(samples, |_| true);

    let mut m = Metrics {
        distance_m,
        duration_s,
        moving_time_s,
        elevation_gain_m: elev.gain_m,
        elevation_loss_m: elev.loss_m,
        avg_speed_kmh,
        max_speed_kmh,
        avg_hr_bpm: averages::avg_hr_bpm(samples, totals),
        max_hr_bpm: averages::max_hr_bpm(samples, totals),
        avg_cadence_rpm: averages::avg_cadence_rpm(samples, totals),
        avg_power_w: averages::avg_power_w(samples, totals),
        max_power_w: averages::max_power_w(samples, totals),
        bbox: geo.bbox,
        start_latlng: geo.start_latlng,
        end_latlng: geo.end_latlng,
        mmp: power_curve::mmp(samples, series),
        best_efforts: plausible_efforts(activity.sport, series, &mut cleaning),
        best_climb_m: elev.best_climb_m,
        cleaning,
    };
    pool_swim(activity, &mut m);
    m
}

/// Pool swims: lengths decide distance, time, pace, maximum, stroke rate and efforts; a
/// pool swim never gets a maximum speed from its samples (see [`swim`]).
fn pool_swim(activity: &Activity, m: &mut Metrics) {
    let is_pool = activity.sub_sport == Some(bincio_bas::SubSport::Pool);
    let from_lengths = activity
        .pool
        .as_ref()
        .and_then(|p| swim::pool_metrics(p, efforts::targets_km(bincio_bas::Sport::Swimming)));
    match from_lengths {
        Some(p) => {
            m.distance_m = Some(p.distance_m);
            m.moving_time_s =
                Some(m.duration_s.map_or(p.moving_time_s, |d| p.moving_time_s.min(d)));
            m.avg_speed_kmh = p.avg_speed_kmh;
            m.max_speed_kmh = p.max_speed_kmh;
            m.avg_cadence_rpm = p.stroke_rate_spm.or(m.avg_cadence_rpm);
            m.best_efforts = (!p.best_efforts.is_empty()).then_some(p.best_efforts);
        }
        None if is_pool => {
            m.max_speed_kmh = activity
                .totals
                .as_ref()
                .and_then(|t| t.max_speed_ms)
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(|v| round_dp(v * 3.6, 2));
        }
        None => {}
    }
}

/// Best efforts without any faster than the world record for its distance: such a time is
/// a measurement error that cleaning did not catch (a device distance channel that counts
/// a ride as a run), and a record it set would stand for ever. Withheld, not capped.
fn plausible_efforts(
    sport: Sport,
    series: &Series,
    cleaning: &mut Cleaning,
) -> Option<Vec<(f64, i64)>> {
    let efforts = efforts::best_efforts(sport, series)?;
    if sport != Sport::Running {
        return Some(efforts);
    }
    let (kept, withheld): (Vec<_>, Vec<_>) = efforts.into_iter().partition(|(km, s)| {
        plausible::running_world_record_s(*km).is_none_or(|wr| *s as f64 >= wr)
    });
    for (km, s) in withheld {
        cleaning.note(
            "speed",
            format!("best effort {km} km in {s} s withheld (faster than the world record)"),
        );
    }
    (!kept.is_empty()).then_some(kept)
}

/// Round to `dp` decimals, ties to even on the scaled value (Python's `round(x, n)` for
/// every value that is not an exact binary tie, and those too for the common cases).
pub fn round_dp(x: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    let r = (x * f).round_ties_even() / f;
    // `-0.0` prints as "-0.0" in JSON; nobody wants that.
    if r == 0.0 { 0.0 } else { r }
}

/// Round to the nearest integer (halves away from zero), for averages and maxima.
pub fn round_i(x: f64) -> i64 {
    x.round() as i64
}

#[cfg(test)]
mod tests;
