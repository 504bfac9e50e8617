//! Mean-maximal power (MMP): the best average power over 1 s … 1 h (docs/decisions.md E12).
//!
//! Power is a step function of time: a sample's power covers the interval since the
//! previous sample (head units record the power averaged over the interval just ended),
//! and a missing value inside the powered stretch is 0 W. An interval longer than the
//! pause cutoff (see [`super::series`]) is a pause: it counts as 0 W, so a window may
//! span a café stop but gains nothing from it, and a recording pause cannot stitch two
//! efforts into one. This keeps wall-clock time (like the reference's zero-filled grid)
//! without inventing a 1 Hz grid, so smart recording (1–10 s) gives exact values.
//!
//! Cumulative energy `E(t)` is then piecewise linear, and the best window of length `d`
//! always starts or ends at a sample time, so two monotone pointers per duration give the
//! exact answer in O(n): exact to floating point, not "within one sample". When every
//! sample sits on a whole second (the usual case) a whole-second grid of the same
//! interpolated energy gives the same values faster.
//!
//! Published values are "the best average held for at least `d` seconds" (each value is
//! raised to the best of the longer durations), so the curve never rises with duration.

use super::series::Series;
use crate::model::Sample;

/// The durations (s) of the published power curve.
pub const MMP_DURATIONS_S: [i64; 15] =
    [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600];

/// A piecewise-linear non-decreasing function given at breakpoints, evaluated with a
/// forward-only cursor (each evaluation is amortised O(1) when `x` does not decrease).
pub(crate) struct Piecewise<'a> {
    pub t: &'a [f64],
    pub v: &'a [f64],
}

impl Piecewise<'_> {
    /// Value at `x` (clamped to the ends), moving `cursor` forward as needed.
    pub fn at(&self, x: f64, cursor: &mut usize) -> f64 {
        let n = self.t.len();
        while *cursor + 1 < n && self.t[*cursor + 1] <= x {
            *cursor += 1;
        }
        let j = *cursor;
        if j + 1 >= n || x <= self.t[j] {
            return self.v[j];
        }
        let span = self.t[j + 1] - self.t[j];
        self.v[j] + (self.v[j + 1] - self.v[j]) * (x - self.t[j]) / span
    }
}

/// The best mean power (W) over exactly `d_s` seconds, or `None` if the series is shorter.
pub fn best_mean_w(t: &[f64], energy_j: &[f64], d_s: f64) -> Option<f64> {
    let (&t0, &t_end) = (t.first()?, t.last()?);
    if d_s <= 0.0 || d_s > t_end - t0 + 1e-9 {
        return None;
    }
    let f = Piecewise { t, v: energy_j };
    let mut best = f64::NEG_INFINITY;
    // Windows starting at a sample time.
    let mut cur = 0;
    for k in 0..t.len() {
        let end = t[k] + d_s;
        if end > t_end + 1e-9 {
            break;
        }
        best = best.max(f.at(end.min(t_end), &mut cur) - energy_j[k]);
    }
    // Windows ending at a sample time.
    let mut cur = 0;
    for k in 0..t.len() {
        let start = t[k] - d_s;
        if start < t0 - 1e-9 {
            continue;
        }
        best = best.max(energy_j[k] - f.at(start.max(t0), &mut cur));
    }
    best.is_finite().then(|| best / d_s)
}

/// Longest powered stretch (s) expanded onto a whole-second grid (one week).
const MAX_GRID_S: f64 = 7.0 * 86_400.0;

/// When every sample falls on a whole second of the first one (1 Hz and smart recording
/// both do), every candidate window edge of an integer duration is a whole second, so
/// the cumulative energy at each whole second (interpolated, not zero-filled) answers
/// every duration exactly with one vectorisable pass: the fast path.
pub fn whole_second_grid(t: &[f64], e: &[f64]) -> Option<Vec<f64>> {
    let (&t0, &t_end) = (t.first()?, t.last()?);
    if t_end - t0 > MAX_GRID_S || t.iter().any(|x| (x - t0).fract() != 0.0) {
        return None;
    }
    let mut g = Vec::with_capacity((t_end - t0) as usize + 1);
    g.push(e[0]);
    for k in 1..t.len() {
        let steps = (t[k] - t[k - 1]) as usize;
        for j in 1..=steps {
            g.push(e[k - 1] + (e[k] - e[k - 1]) * j as f64 / steps as f64);
        }
    }
    Some(g)
}

/// Best mean power over `d` seconds on a whole-second energy grid.
pub fn best_mean_on_grid_w(g: &[f64], d: usize) -> Option<f64> {
    if d == 0 || d >= g.len() {
        return None;
    }
    let best = g[d..].iter().zip(g).map(|(b, a)| b - a).fold(f64::NEG_INFINITY, f64::max);
    Some(best / d as f64)
}

/// `(t_s, cumulative energy J)` over the powered stretch (first to last sample with
/// power), `None` with fewer than two power samples.
pub fn energy_series(samples: &[Sample], series: &Series) -> Option<(Vec<f64>, Vec<f64>)> {
    let first = samples.iter().position(|s| s.power_w.is_some())?;
    let last = samples.iter().rposition(|s| s.power_w.is_some())?;
    if last <= first {
        return None;
    }
    let t: Vec<f64> = series.t_s[first..=last].to_vec();
    let mut e = Vec::with_capacity(t.len());
    let mut acc = 0.0;
    e.push(0.0);
    for (k, s) in samples.iter().enumerate().take(last + 1).skip(first + 1) {
        let dt = series.t_s[k] - series.t_s[k - 1];
        if dt > 0.0 && dt <= series.pause_cutoff_s {
            acc += f64::from(s.power_w.unwrap_or(0)) * dt;
        }
        e.push(acc);
    }
    Some((t, e))
}

/// The power curve: `(duration_s, watts)` for every duration the powered stretch covers,
/// watts rounded half-to-even; `None` without power.
pub fn mmp(samples: &[Sample], series: &Series) -> Option<Vec<(i64, i64)>> {
    let (t, e) = energy_series(samples, series)?;
    let grid = whole_second_grid(&t, &e);
    let mut best: Vec<(i64, f64)> = MMP_DURATIONS_S
        .iter()
        .map_while(|&d| {
            let w = match &grid {
                Some(g) => best_mean_on_grid_w(g, d as usize),
                None => best_mean_w(&t, &e, d as f64),
            };
            w.map(|w| (d, w))
        })
        .collect();
    // Exact-length windows are not monotone when a duration is not a multiple of a
    // shorter one (20 s at 0.5a can hold no 15 s window above 0.33a). What you averaged
    // over 20 s you held for at least 15 s: each value is the best over this or any
    // longer published duration, so the curve never rises.
    for k in (0..best.len().saturating_sub(1)).rev() {
        best[k].1 = best[k].1.max(best[k + 1].1);
    }
    let curve: Vec<(i64, i64)> =
        best.into_iter().map(|(d, w)| (d, w.round_ties_even() as i64)).collect();
    (!curve.is_empty()).then_some(curve)
}
