//! Best efforts: the fastest time over each standard distance (docs/decisions.md E12, W3).
//!
//! Built on the cumulative distance of [`super::series`] (device distance channel, else
//! GPS haversine, else integrated device speed) interpolated linearly in time, so any
//! sampling rate works and a GPX without a speed channel gets best efforts too. Elapsed
//! time counts: a window may span a pause (stopping does not make you faster), and the
//! distance covered during a recording gap is spread evenly over it.
//!
//! An interval implying a speed no athlete of the sport reaches (a GPS jump, or a car
//! ride recorded by mistake) adds no distance, so it cannot create a record.
//!
//! With `D(t)` piecewise linear and non-decreasing, the fastest window covering `L` metres
//! always starts or ends at a sample time; two monotone pointers per target give the
//! exact answer in O(n). Seconds are rounded to nearest.

use super::series::Series;
use bincio_bas::Sport;

/// Best-effort distances (km) per sport; other sports get none.
pub fn targets_km(sport: Sport) -> &'static [f64] {
    match sport {
        Sport::Running => &[0.4, 1.0, 1.609, 5.0, 10.0, 21.097, 42.195],
        Sport::Cycling => &[5.0, 10.0, 20.0, 50.0, 100.0],
        Sport::Swimming => &[0.1, 0.2, 0.5, 1.0, 2.0],
        // A multisport activity's efforts are its legs' (each with its own sport).
        Sport::Hiking | Sport::Walking | Sport::Skiing | Sport::Other | Sport::Multisport => &[],
    }
}

/// Fastest plausible speed (m/s) of a sport, above which an interval adds no distance: the
/// one per-sport bound of [`super::plausible::max_speed_ms`].
pub fn plausible_max_speed_ms(sport: Sport) -> f64 {
    super::plausible::max_speed_ms(sport)
}

/// Cumulative distance for efforts: the series' distance with implausible intervals
/// removed. `None` without a distance.
pub fn effort_distance_m(series: &Series, sport: Sport) -> Option<Vec<f64>> {
    let cum = series.cum_m.as_ref()?;
    let cap = plausible_max_speed_ms(sport);
    let mut out = Vec::with_capacity(cum.len());
    let mut acc = 0.0;
    for (i, c) in cum.iter().enumerate() {
        if i > 0 {
            let inc = c - cum[i - 1];
            let dt = series.t_s[i] - series.t_s[i - 1];
            if inc > 0.0 && dt > 0.0 && inc / dt <= cap {
                acc += inc;
            }
        }
        out.push(acc);
    }
    Some(out)
}

/// Fastest time (s, unrounded) to cover `len_m` metres, `None` if never covered.
/// `d` must be non-decreasing and parallel to the strictly increasing times `t`.
pub fn fastest_s(t: &[f64], d: &[f64], len_m: f64) -> Option<f64> {
    let n = t.len();
    if n < 2 || len_m <= 0.0 || d[n - 1] - d[0] < len_m {
        return None;
    }
    // Where `d` reaches `x` between samples `j-1` and `j` (d[j-1] < x <= d[j]).
    let cross = |j: usize, x: f64| -> f64 {
        let (d0, d1) = (d[j - 1], d[j]);
        t[j - 1] + (t[j] - t[j - 1]) * ((x - d0) / (d1 - d0)).clamp(0.0, 1.0)
    };
    let mut best = f64::INFINITY;
    // Windows starting at sample k: earliest end where d reaches d[k] + len.
    let mut j = 0;
    for k in 0..n {
        let goal = d[k] + len_m;
        while j < n && d[j] < goal {
            j += 1;
        }
        if j >= n {
            break;
        }
        // d[k] < goal, so j > k >= 0 and d[j-1] < goal <= d[j].
        best = best.min(cross(j, goal) - t[k]);
    }
    // Windows ending at sample k: latest start where d still equals d[k] - len.
    let mut i = 0;
    for k in 0..n {
        let goal = d[k] - len_m;
        if goal < d[0] {
            continue;
        }
        // Largest i with d[i] <= goal.
        while i + 1 < n && d[i + 1] <= goal {
            i += 1;
        }
        let start = if i + 1 < n && d[i] < goal { cross(i + 1, goal) } else { t[i] };
        best = best.min(t[k] - start);
    }
    best.is_finite().then_some(best)
}

/// `(distance_km, seconds)` for every target the activity covers; `None` when none.
pub fn best_efforts(sport: Sport, series: &Series) -> Option<Vec<(f64, i64)>> {
    let targets = targets_km(sport);
    if targets.is_empty() {
        return None;
    }
    let d = effort_distance_m(series, sport)?;
    let efforts: Vec<(f64, i64)> = targets
        .iter()
        .map_while(|&km| fastest_s(&series.t_s, &d, km * 1000.0).map(|s| (km, s.round() as i64)))
        .collect();
    (!efforts.is_empty()).then_some(efforts)
}
