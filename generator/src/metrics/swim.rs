//! Pool swims: figures from the lengths the watch detected, not from the samples.
//!
//! A pool swim has no GPS; its samples carry a distance that jumps by one pool length at
//! each wall, so a "speed" derived from them is noise (a 13.7 km/h maximum where the watch
//! says 4.7). When the file has lengths (FIT `length` messages and the session's
//! `pool_length`), they are the truth, as on the watch:
//!
//! - distance = active lengths × pool length (rests at the wall are idle lengths);
//! - moving time = the time of the active lengths; the average pace follows from both;
//! - maximum speed = the fastest single length (pool length / its time);
//! - stroke rate = strokes / active minutes (strokes/min), else the lengths' time-weighted
//!   `avg_swimming_cadence`;
//! - best efforts = the fastest run of consecutive lengths (rests between them included, as
//!   a swimmer's 100 m split includes the turn) covering the distance, prorated to it when
//!   the pool length does not divide it (4 × 25 yd = 91.4 m is not 100 m).
//!
//! A pool swim without lengths keeps its sample-derived distance and time, but its maximum
//! speed is only the device's own (never one from the samples).

use super::round_dp;
use crate::model::PoolSwim;

/// What lengths decide for a pool swim.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolMetrics {
    pub distance_m: f64,
    pub moving_time_s: i64,
    pub avg_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub stroke_rate_spm: Option<i64>,
    pub active_lengths: usize,
    /// `(distance_km, seconds)`.
    pub best_efforts: Vec<(f64, i64)>,
}

/// Figures from the lengths; `None` when no length was active.
pub fn pool_metrics(pool: &PoolSwim, targets_km: &[f64]) -> Option<PoolMetrics> {
    let len_m = pool.pool_length_m;
    let active: Vec<_> = pool.lengths.iter().filter(|l| l.active && l.timer_s > 0.0).collect();
    // `len_m > 0.0` is false for NaN too.
    if active.is_empty() || len_m.is_nan() || len_m <= 0.0 {
        return None;
    }
    let distance_m = round_dp(active.len() as f64 * len_m, 2);
    let swim_s: f64 = active.iter().map(|l| l.timer_s).sum();
    let moving_time_s = swim_s.round() as i64;
    let avg_speed_kmh = (swim_s > 0.0).then(|| round_dp(distance_m / swim_s * 3.6, 2));
    let max_speed_kmh = active
        .iter()
        .map(|l| len_m / l.timer_s)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .map(|v| round_dp(v * 3.6, 2));
    let strokes: Option<f64> =
        active.iter().map(|l| l.strokes).try_fold(0.0, |acc, s| s.map(|s| acc + s));
    let stroke_rate_spm = match strokes {
        Some(n) if n > 0.0 && swim_s > 0.0 => Some((n / swim_s * 60.0).round() as i64),
        _ => {
            let (num, den) = active.iter().fold((0.0, 0.0), |(n, d), l| match l.stroke_rate_spm {
                Some(r) if r > 0.0 => (n + r * l.timer_s, d + l.timer_s),
                _ => (n, d),
            });
            (den > 0.0).then(|| (num / den).round() as i64)
        }
    };
    // Best efforts over consecutive active lengths; each length ends `timer_s` after its
    // start, and a run's time is from the first start to the last end.
    let ends: Vec<(f64, f64)> = active
        .iter()
        .map(|l| (l.start_ms as f64 / 1000.0, l.start_ms as f64 / 1000.0 + l.timer_s))
        .collect();
    let mut best_efforts = Vec::new();
    for &km in targets_km {
        let target_m = km * 1000.0;
        let n = (target_m / len_m).ceil() as usize;
        if n == 0 || n > ends.len() {
            continue;
        }
        let best = (0..=ends.len() - n)
            .map(|i| ends[i + n - 1].1 - ends[i].0)
            .filter(|t| *t > 0.0)
            .fold(f64::INFINITY, f64::min);
        if best.is_finite() {
            let covered = n as f64 * len_m;
            best_efforts.push((km, (best * target_m / covered).round() as i64));
        }
    }
    Some(PoolMetrics {
        distance_m,
        moving_time_s,
        avg_speed_kmh,
        max_speed_kmh,
        stroke_rate_spm,
        active_lengths: active.len(),
        best_efforts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SwimLength;

    fn length(start_s: i64, timer_s: f64, active: bool) -> SwimLength {
        SwimLength {
            start_ms: start_s * 1000,
            timer_s,
            active,
            strokes: active.then_some(15.0),
            stroke_rate_spm: None,
        }
    }

    #[test]
    fn lengths_give_distance_pace_maximum_strokes_and_efforts() {
        // 25 m pool: 4 lengths of 25 s, a 30 s rest, 4 lengths of 20 s.
        let mut lengths = Vec::new();
        let mut t = 0;
        for _ in 0..4 {
            lengths.push(length(t, 25.0, true));
            t += 25;
        }
        lengths.push(length(t, 30.0, false));
        t += 30;
        for _ in 0..4 {
            lengths.push(length(t, 20.0, true));
            t += 20;
        }
        let pool = PoolSwim { pool_length_m: 25.0, lengths };
        let m = pool_metrics(&pool, &[0.1, 0.2, 0.5]).unwrap();
        assert_eq!(m.distance_m, 200.0);
        assert_eq!(m.active_lengths, 8);
        assert_eq!(m.moving_time_s, 180);
        assert_eq!(m.avg_speed_kmh, Some(4.0)); // 200 m / 180 s
        assert_eq!(m.max_speed_kmh, Some(4.5)); // 25 m in 20 s
        assert_eq!(m.stroke_rate_spm, Some(40)); // 120 strokes in 3 min
        // 100 m: the last four lengths, 80 s; 200 m: all eight with the rest, 210 s.
        assert_eq!(m.best_efforts, vec![(0.1, 80), (0.2, 210)]);
    }

    #[test]
    fn a_yard_pool_prorates_efforts_and_rests_are_no_distance() {
        // 25 yd (22.86 m): 100 m needs 5 lengths (114.3 m), prorated to 100 m.
        let lengths: Vec<SwimLength> = (0..6).map(|i| length(i * 20, 20.0, i != 5)).collect();
        let pool = PoolSwim { pool_length_m: 22.86, lengths };
        let m = pool_metrics(&pool, &[0.1]).unwrap();
        assert_eq!(m.distance_m, 114.3);
        assert_eq!(m.best_efforts, vec![(0.1, 87)]); // 100 s × 100 / 114.3
        let idle = PoolSwim { pool_length_m: 25.0, lengths: vec![length(0, 30.0, false)] };
        assert_eq!(pool_metrics(&idle, &[0.1]), None);
    }
}
