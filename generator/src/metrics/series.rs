//! The per-sample series every metric shares, built once per activity.
//!
//! Samples arrive time-sorted (a model invariant) at any rate: 1 Hz, or "smart
//! recording" every 1–10 s with longer gaps at auto-pauses. Instead of resampling onto a
//! zero-filled 1 Hz grid (the reference, docs/decisions.md W3) everything is expressed
//! against the real sample times: seconds since the first sample, a cumulative distance
//! interpolated linearly in time, and a spike-filtered speed.

use super::sphere::haversine_cos_m;
use crate::model::Sample;

/// The hardest acceleration (m/s²) a sample-to-sample speed change may imply before the
/// new speed is treated as a GPS spike. Sprinting cyclists reach ~2 m/s², braking ~6.
pub const MAX_ACCEL_MS2: f64 = 10.0;

/// Width (in samples) of the rolling median applied to speeds after spike rejection.
pub const SPEED_MEDIAN_WINDOW: usize = 5;

/// The shortest gap (s) that counts as a pause, whatever the sampling rate.
pub const MIN_PAUSE_S: f64 = 30.0;

/// A gap counts as a pause when it exceeds this many median sampling intervals.
pub const PAUSE_INTERVALS: f64 = 5.0;

/// Where the cumulative distance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistanceSource {
    /// The device's cumulative distance channel (wheel sensor, foot pod, or its GPS).
    Device,
    /// Haversine between consecutive GPS samples.
    Gps,
    /// The device speed channel integrated over time (indoor trainers without distance).
    Speed,
}

/// Shared per-sample series.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Seconds since the first sample.
    pub t_s: Vec<f64>,
    /// Median of the positive sampling intervals (s); 1.0 with fewer than two samples.
    pub median_dt_s: f64,
    /// Gaps longer than this (s) are pauses: `max(30 s, 5 × median dt)`.
    pub pause_cutoff_s: f64,
    /// Total haversine length (m) over consecutive GPS samples, 0 without GPS.
    pub gps_total_m: f64,
    /// Cumulative distance (m) at each sample, non-decreasing, from the best source.
    pub cum_m: Option<Vec<f64>>,
    pub distance_source: Option<DistanceSource>,
    /// Speed (m/s) at each sample: the device channel, else the distance gained since the
    /// previous sample over the time taken; spikes not yet removed.
    pub raw_speed_ms: Vec<Option<f64>>,
    /// `raw_speed_ms` with acceleration spikes dropped and a rolling median applied: what
    /// max speed, moving detection and the published speed channels use.
    pub speed_ms: Vec<Option<f64>>,
}

/// A sample's position when it has a usable one (finite, in range).
pub fn position(s: &Sample) -> Option<(f64, f64)> {
    let (lat, lon) = s.latlon()?;
    (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
        .then_some((lat, lon))
}

fn finite_non_negative(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x >= 0.0)
}

/// The great-circle steps between consecutive GPS fixes, as the cleaning computed them to
/// find jumps: the series reuses them instead of computing every step's trigonometry a
/// second time (the same function on the same numbers, so the same distances).
#[derive(Clone, Debug, Default)]
pub struct GpsSteps {
    /// `(sample index, lat, lon, cos lat)` of each fix, by ascending index.
    pub fixes: Vec<(usize, f64, f64, f64)>,
    /// `dist_m[k]`: metres from fix `k` to fix `k + 1` ([`haversine_cos_m`]).
    pub dist_m: Vec<f64>,
}

impl GpsSteps {
    /// The fix of sample `i` when it is still the one recorded (same coordinates, to the
    /// bit), advancing `cursor` through the fixes as the samples are walked in order.
    fn fix(&self, cursor: &mut usize, i: usize, lat: f64, lon: f64) -> Option<usize> {
        while self.fixes.get(*cursor).is_some_and(|f| f.0 < i) {
            *cursor += 1;
        }
        let &(at, flat, flon, _) = self.fixes.get(*cursor)?;
        (at == i && flat.to_bits() == lat.to_bits() && flon.to_bits() == lon.to_bits())
            .then_some(*cursor)
    }
}

impl Series {
    /// Build the series of time-sorted samples.
    pub fn new(samples: &[Sample]) -> Self {
        Self::with_steps(samples, None)
    }

    /// [`Series::new`], reusing the steps between fixes already known (`steps`): the
    /// cleaning's, after it removed some fixes. A step is reused only between two fixes
    /// that were consecutive then and are unchanged; any other is computed, so the series is
    /// exactly [`Series::new`]'s whatever `steps` holds.
    pub fn with_steps(samples: &[Sample], steps: Option<&GpsSteps>) -> Self {
        let n = samples.len();
        let Some(first) = samples.first() else {
            return Self { median_dt_s: 1.0, pause_cutoff_s: MIN_PAUSE_S, ..Self::default() };
        };
        let t_s: Vec<f64> =
            samples.iter().map(|s| (s.ts_ms - first.ts_ms) as f64 / 1000.0).collect();
        let median_dt_s = median_positive_dt(&t_s).unwrap_or(1.0);
        let pause_cutoff_s = MIN_PAUSE_S.max(PAUSE_INTERVALS * median_dt_s);

        // GPS: cumulative haversine over consecutive GPS samples (non-GPS samples between
        // them are skipped, not treated as breaks).
        let mut gps_total_m = 0.0;
        let mut gps_count = 0usize;
        // (lat, lon, cos lat, the fix in `steps`)
        let mut prev: Option<(f64, f64, f64, Option<usize>)> = None;
        let mut cursor = 0usize;
        let gps_known: Vec<Option<f64>> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (lat, lon) = position(s)?;
                let known = steps.and_then(|st| Some((st, st.fix(&mut cursor, i, lat, lon)?)));
                let cos_lat = match known {
                    Some((st, k)) => st.fixes[k].3,
                    None => lat.to_radians().cos(),
                };
                if let Some((plat, plon, pcos, pk)) = prev {
                    gps_total_m += match (known, pk) {
                        (Some((st, k)), Some(p)) if p + 1 == k => st.dist_m[p],
                        _ => haversine_cos_m(plat, plon, pcos, lat, lon, cos_lat),
                    };
                }
                prev = Some((lat, lon, cos_lat, known.map(|(_, k)| k)));
                gps_count += 1;
                Some(gps_total_m)
            })
            .collect();

        let device_known: Vec<Option<f64>> =
            samples.iter().map(|s| finite_non_negative(s.distance_m)).collect();
        let device_count = device_known.iter().filter(|v| v.is_some()).count();
        let device_max = device_known.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));

        let (cum_m, distance_source) = if device_count >= 2 && device_max > 0.0 {
            let mut cum = fill_linear(&t_s, &device_known);
            // Some devices reset or jitter the channel; distance never goes backwards.
            let mut run = 0.0_f64;
            for v in &mut cum {
                run = run.max(*v);
                *v = run;
            }
            (Some(cum), Some(DistanceSource::Device))
        } else if gps_count >= 2 {
            // A GPS track that never moved still says "not moving" (zero speeds).
            (Some(fill_linear(&t_s, &gps_known)), Some(DistanceSource::Gps))
        } else if samples.iter().any(|s| finite_non_negative(s.speed_ms).is_some()) {
            (Some(integrate_speed(samples, &t_s, pause_cutoff_s)), Some(DistanceSource::Speed))
        } else {
            (None, None)
        };

        let raw_speed_ms: Vec<Option<f64>> = (0..n)
            .map(|i| {
                if let Some(v) = finite_non_negative(samples[i].speed_ms) {
                    return Some(v);
                }
                let cum = cum_m.as_ref()?;
                if i == 0 {
                    return None;
                }
                let dt = t_s[i] - t_s[i - 1];
                (dt > 0.0).then(|| (cum[i] - cum[i - 1]) / dt)
            })
            .collect();
        let speed_ms = robust_speed(&t_s, &raw_speed_ms);

        Self {
            t_s,
            median_dt_s,
            pause_cutoff_s,
            gps_total_m,
            cum_m,
            distance_source,
            raw_speed_ms,
            speed_ms,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.t_s.len()
    }

    /// True without samples.
    pub fn is_empty(&self) -> bool {
        self.t_s.is_empty()
    }

    /// Seconds from the first to the last sample.
    pub fn span_s(&self) -> f64 {
        self.t_s.last().copied().unwrap_or(0.0)
    }
}

/// Median of the positive consecutive differences, `None` when there are none.
pub fn median_positive_dt(t_s: &[f64]) -> Option<f64> {
    let mut dts: Vec<f64> = t_s.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if dts.is_empty() {
        return None;
    }
    let mid = dts.len() / 2;
    let (_, m, _) = dts.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// Fill a partially known series by linear interpolation in time; values before the
/// first known one take it, values after the last known one keep it. All zeros when
/// nothing is known. O(n): every index is written once.
pub fn fill_linear(t_s: &[f64], known: &[Option<f64>]) -> Vec<f64> {
    let n = known.len();
    let mut out = vec![0.0; n];
    let mut prev: Option<usize> = None;
    for i in 0..n {
        let Some(v) = known[i] else { continue };
        out[i] = v;
        match prev {
            None => out[..i].fill(v),
            Some(p) => {
                let (t0, v0) = (t_s[p], out[p]);
                let span = t_s[i] - t0;
                for j in p + 1..i {
                    let f = if span > 0.0 { (t_s[j] - t0) / span } else { 0.0 };
                    out[j] = v0 + (v - v0) * f;
                }
            }
        }
        prev = Some(i);
    }
    if let Some(p) = prev {
        let v = out[p];
        out[p + 1..].fill(v);
    }
    out
}

/// Cumulative distance from the speed channel: each interval uses the speed recorded at
/// its end (devices report the speed over the interval just finished), falling back to
/// the start's; pauses add nothing.
fn integrate_speed(samples: &[Sample], t_s: &[f64], pause_cutoff_s: f64) -> Vec<f64> {
    let mut cum = Vec::with_capacity(samples.len());
    let mut total = 0.0;
    cum.push(0.0);
    for i in 1..samples.len() {
        let dt = t_s[i] - t_s[i - 1];
        if dt > 0.0 && dt <= pause_cutoff_s {
            let v = finite_non_negative(samples[i].speed_ms)
                .or_else(|| finite_non_negative(samples[i - 1].speed_ms));
            total += v.unwrap_or(0.0) * dt;
        }
        cum.push(total);
    }
    cum
}

/// Spike rejection then a rolling median.
///
/// A speed is dropped when it is more than [`MAX_ACCEL_MS2`] × Δt above the last accepted
/// speed, checked both forwards (an impossible acceleration) and backwards (an impossible
/// braking), over the time since that accepted sample so a real change after a gap is
/// never stuck. Only rises are tested in each direction: GPS spikes go up. Checking both
/// ways matters at the ends: a cold-start fix at 124 km/h is the first value forwards but
/// an impossible brake backwards. The centred median of [`SPEED_MEDIAN_WINDOW`] samples
/// then removes the one- and two-sample glitches a displaced GPS point leaves (out and
/// back) that the acceleration test lets through at slow sampling.
///
/// A speed is published only where one was measured: samples without any keep `None`.
pub fn robust_speed(t_s: &[f64], raw: &[Option<f64>]) -> Vec<Option<f64>> {
    let n = raw.len();
    let mut ok_fwd = vec![false; n];
    let mut ok_bwd = vec![false; n];
    let chain = |order: &mut dyn Iterator<Item = usize>, ok: &mut [bool]| {
        let mut last: Option<(f64, f64)> = None; // (t, v)
        for i in order {
            let Some(v) = raw[i] else { continue };
            let accept = last.is_none_or(|(t0, v0)| {
                let dt = (t_s[i] - t0).abs().max(1.0);
                v - v0 <= MAX_ACCEL_MS2 * dt
            });
            if accept {
                last = Some((t_s[i], v));
                ok[i] = true;
            }
        }
    };
    chain(&mut (0..n), &mut ok_fwd);
    chain(&mut (0..n).rev(), &mut ok_bwd);
    let accepted: Vec<Option<f64>> =
        (0..n).map(|i| raw[i].filter(|_| ok_fwd[i] && ok_bwd[i])).collect();
    // Centred windows, shifted inwards at the ends so they keep their full width (a
    // truncated two-value window at the start would average a cold-start GPS fix in).
    let half = SPEED_MEDIAN_WINDOW / 2;
    let mut window: Vec<f64> = Vec::with_capacity(SPEED_MEDIAN_WINDOW);
    (0..n)
        .map(|i| {
            window.clear();
            let lo = i.saturating_sub(half).min(n.saturating_sub(SPEED_MEDIAN_WINDOW));
            let hi = (lo + SPEED_MEDIAN_WINDOW).min(n);
            window.extend(accepted[lo..hi].iter().flatten());
            median_small(&mut window)
        })
        .collect()
}

/// Median of a handful of values (mean of the two middle ones for an even count).
fn median_small(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_linear_interpolates_and_holds_ends() {
        let t = [0.0, 1.0, 2.0, 4.0, 5.0];
        let k = [None, Some(10.0), None, Some(40.0), None];
        assert_eq!(fill_linear(&t, &k), vec![10.0, 10.0, 20.0, 40.0, 40.0]);
    }

    #[test]
    fn median_dt_ignores_duplicates() {
        assert_eq!(median_positive_dt(&[0.0, 1.0, 1.0, 2.0, 12.0]), Some(1.0));
        assert_eq!(median_positive_dt(&[5.0]), None);
    }

    #[test]
    fn robust_speed_removes_a_two_sample_spike() {
        let t: Vec<f64> = (0..9).map(f64::from).collect();
        let raw: Vec<Option<f64>> =
            [8.0, 8.0, 8.0, 60.0, 60.0, 8.0, 8.0, 8.0, 8.0].iter().map(|v| Some(*v)).collect();
        let s = robust_speed(&t, &raw);
        let max = s.iter().flatten().fold(0.0_f64, |a, b| a.max(*b));
        assert_eq!(max, 8.0);
    }

    #[test]
    fn robust_speed_keeps_a_sustained_real_speed() {
        // Accelerating at 1 m/s² to 20 m/s and holding it: nothing is rejected.
        let t: Vec<f64> = (0..40).map(f64::from).collect();
        let raw: Vec<Option<f64>> = (0..40).map(|i| Some(f64::from(i.min(20)))).collect();
        let s = robust_speed(&t, &raw);
        assert_eq!(s[30], Some(20.0));
        assert_eq!(s[10], Some(10.0));
    }
}
