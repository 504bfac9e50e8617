//! Elapsed and moving time (docs/decisions.md E1 and E9).
//!
//! Elapsed time is the device's `total_elapsed_time` when it recorded one, else the span
//! from the first to the last sample (never negative: samples are time-sorted).
//!
//! Moving time is the device's timer time when present (what the athlete saw with
//! auto-pause). Otherwise each interval between consecutive samples counts, with its
//! exact length, when
//! - the speed at its end (device speed, else distance gained over time, spike-filtered
//!   and median-smoothed, see [`super::series`]) is at or above the sport's threshold:
//!   walking pace is not "stopped" for a hiker, but GPS drift at a traffic light is for a
//!   cyclist;
//! - except across a recording gap (`dt > max(30 s, 5 × median sampling interval)`, so
//!   1 Hz files and smart recording are judged alike): there the smoothed speed describes
//!   the riding on either side, so the gap counts only when the distance covered across
//!   it, over its length, is at or above the threshold and plausible for the sport. An
//!   auto-pause gap covers about nothing and never counts; a tunnel does.
//!
//! The sum is rounded once at the end (the reference truncated every interval,
//! docs/decisions.md W5).
//! An activity with no speed or distance at all (an indoor file with only heart rate)
//! counts every interval that is not a recording gap.

use super::efforts::plausible_max_speed_ms;
use super::series::Series;
use crate::model::DeviceTotals;
use bincio_bas::Sport;

/// Speed (km/h) at or above which an interval counts as moving.
pub fn moving_threshold_kmh(sport: Sport) -> f64 {
    match sport {
        Sport::Cycling => 3.0,
        Sport::Running | Sport::Walking | Sport::Hiking => 1.5,
        Sport::Swimming => 0.5,
        Sport::Skiing => 2.0,
        Sport::Other | Sport::Multisport => 1.5,
    }
}

/// Elapsed seconds, `None` with fewer than two samples and no device figure.
pub fn duration_s(series: &Series, totals: Option<&DeviceTotals>) -> Option<i64> {
    if let Some(e) = totals.and_then(|t| t.elapsed_s).filter(|e| e.is_finite() && *e > 0.0) {
        return Some(e.round() as i64);
    }
    (series.len() >= 2).then(|| series.span_s().max(0.0).round() as i64)
}

/// Moving seconds before rounding, computed from the samples.
pub fn computed_moving_s(sport: Sport, series: &Series) -> f64 {
    let threshold_ms = moving_threshold_kmh(sport) / 3.6;
    let has_speed = series.speed_ms.iter().any(Option::is_some);
    let t = &series.t_s;
    let max_ms = plausible_max_speed_ms(sport);
    let mut moving = 0.0;
    for i in 1..t.len() {
        let dt = t[i] - t[i - 1];
        if dt <= 0.0 {
            continue;
        }
        let counts = if dt > series.pause_cutoff_s {
            // A recording gap: moving only if the distance covered across it says so
            // (GPS lost in a tunnel, sparse smart recording) at a speed the sport allows
            // (not a train ride with the timer stopped). Auto-pause gaps cover ~0 m.
            series.cum_m.as_ref().is_some_and(|c| {
                let v = (c[i] - c[i - 1]) / dt;
                v >= threshold_ms && v <= max_ms
            })
        } else if has_speed {
            series.speed_ms[i].is_some_and(|v| v >= threshold_ms)
        } else {
            true
        };
        if counts {
            moving += dt;
        }
    }
    moving
}

/// Moving seconds: the device timer when present, else computed; `None` when zero.
pub fn moving_time_s(sport: Sport, series: &Series, totals: Option<&DeviceTotals>) -> Option<i64> {
    if let Some(timer) = totals.and_then(|t| t.timer_s).filter(|t| t.is_finite() && *t > 0.0) {
        return Some(timer.round() as i64);
    }
    let m = computed_moving_s(sport, series).round() as i64;
    (m > 0).then_some(m)
}
