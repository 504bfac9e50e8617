//! Plausibility cleaning: samples no athlete or device could have produced are removed
//! before any metric is computed (docs/plausibility.md has every threshold and its source).
//!
//! Why at the source: one impossible sample poisons every figure built on it — a 47 kW
//! "sprint" in the all-time power curve, a 1 km run in 1:46 in the records, a barometer
//! settling from 1,257 m to 2,258 m counted as climbing — and a record, once set, stays for
//! ever. Cleaning, not clamping: a removed value is gone (a gap), never capped to the bound,
//! so a capped spike cannot still win a record at exactly the limit. Short gaps (removed
//! values and sensor dropouts alike) are bridged by linear interpolation between the kept
//! neighbours, so averages and best efforts keep the athlete's true level; long gaps stay
//! gaps.
//!
//! Two kinds of test, per channel:
//! - **physiological and physical bounds**: a value outside what any human (or any device
//!   carried by one) reaches in that sport is removed wherever it sits;
//! - **neighbour tests**: a value far from the median of its neighbours in time (a spike, a
//!   dropout to a reading the signal cannot jump to and back from) is removed. The windows
//!   are wide enough that a genuine effort (a 10 s sprint, a steep descent) is its own
//!   neighbourhood and is kept.
//!
//! The device's session values stay the source of averages and maxima when they are
//! plausible; an impossible one (a session max of 62,854 W) is not copied. What was removed
//! is reported per channel in a [`Cleaning`], published in the activity detail and shown
//! by `bincio-dev check`.

use super::power_curve;
use super::series::{GpsSteps, Series, position};
use super::sphere::haversine_cos_m;
use crate::model::{Activity, Sample};
use bincio_bas::{AltitudeSource, Cleaning, Sport};

/// The highest power (W) any human has produced over the given duration (s), with a
/// margin: elite track sprinters peak at 2,200–2,600 W for a second; a world-class
/// kilometre (about 60 s) averages ~1,200 W; the best 5-minute, 20-minute and hour powers
/// of professional riders are about 600, 540 and 470 W. A recorded best mean power above
/// this curve at any duration is not a human's. Sorted by duration; between two rows the
/// bound of the shorter duration applies.
pub const ELITE_POWER_W: [(i64, f64); 9] = [
    (1, 2800.0),
    (5, 2500.0),
    (10, 2200.0),
    (30, 1600.0),
    (60, 1300.0),
    (300, 700.0),
    (1200, 600.0),
    (1800, 560.0),
    (3600, 520.0),
];

/// The elite bound (W) for a best mean power over `d_s` seconds.
pub fn elite_power_bound_w(d_s: i64) -> f64 {
    ELITE_POWER_W.iter().rev().find(|(d, _)| *d <= d_s).map_or(ELITE_POWER_W[0].1, |r| r.1)
}

/// A single power sample this far (W) above the median of its ±[`POWER_WINDOW_S`]
/// neighbours is a spike: a real sprint ramps up over a few seconds and is held, so within
/// a few seconds of any of its samples half the neighbours are sprinting too.
pub const POWER_SPIKE_W: f64 = 1000.0;
/// Half width (s) of the power neighbourhood.
pub const POWER_WINDOW_S: f64 = 3.0;
/// A zero-power reading while pedalling (cadence above this, rpm) between powered samples
/// of at least [`DROPOUT_LEVEL_W`] is a transmission dropout, not coasting.
pub const DROPOUT_CADENCE_RPM: u16 = 30;
/// See [`DROPOUT_CADENCE_RPM`].
pub const DROPOUT_LEVEL_W: u16 = 100;

/// Heart rates outside this range (bpm) are not a human's: resting rates of elite
/// endurance athletes go down to about 28 bpm, the highest recorded maxima are about 220.
pub const HR_RANGE_BPM: (u16, u16) = (25, 240);
/// A heart-rate sample this far (bpm) from the median of its ±[`HR_WINDOW_S`] neighbours
/// is a spike or a dropout: the heart accelerates by at most a few beats per second.
pub const HR_SPIKE_BPM: f64 = 40.0;
/// Half width (s) of the heart-rate neighbourhood.
pub const HR_WINDOW_S: f64 = 10.0;

/// Altitudes outside this range (m) are not on Earth's surface (the Dead Sea shore is at
/// −430 m, Everest at 8,849 m).
pub const ALTITUDE_RANGE_M: (f64, f64) = (-500.0, 9000.0);
/// The fastest vertical speed (m/s) an athlete of a human-powered sport reaches: a
/// cyclist descending at 100 km/h on a 20 % slope drops about 5.5 m/s; climbing is ten
/// times slower (an elite VAM of 1,800 m/h is 0.5 m/s).
pub const MAX_VERTICAL_SPEED_MS: f64 = 6.0;
/// Half width (s) of the altitude neighbourhood.
pub const ALTITUDE_WINDOW_S: f64 = 15.0;
/// Metres of altitude noise tolerated on top of the vertical-speed allowance for GPS (or
/// unknown) altitude: GPS altitude wanders by several metres from fix to fix.
pub const ALTITUDE_NOISE_M: f64 = 10.0;
/// The same for barometric altitude, which moves in 0.1–0.2 m steps (a barometer settling
/// after switch-on moves by hundreds of metres, which is what this catches).
pub const BAROMETRIC_NOISE_M: f64 = 2.0;

/// Bridge gaps up to this long (s) by interpolation; longer ones stay gaps.
pub const MAX_FILL_S: f64 = 10.0;

/// The fastest a human moves (m/s) in each sport: Usain Bolt's 12.4 m/s peak for running
/// (and walking or hiking, where people also run), 126 km/h for a road descent on a bike,
/// the 50 m freestyle record (2.4 m/s) with a margin for swimming, the speed-skiing record
/// (254 km/h) for skiing and anything else. A speed above it is a GPS or sensor error.
pub fn max_speed_ms(sport: Sport) -> f64 {
    match sport {
        Sport::Running | Sport::Walking | Sport::Hiking => 12.5,
        Sport::Cycling => 35.0,
        Sport::Swimming => 3.0,
        Sport::Skiing | Sport::Other | Sport::Multisport => 71.0,
    }
}

/// Men's world records (distance km, seconds) for the running best-effort distances: no
/// best effort may be faster (400 m 43.03, 1 km 2:11.96, mile 3:43.13, 5 km 12:35.36,
/// 10 km 26:11.00, half marathon 56:42, marathon 2:00:35).
pub const RUNNING_WORLD_RECORDS_S: [(f64, f64); 7] = [
    (0.4, 43.03),
    (1.0, 131.96),
    (1.609, 223.13),
    (5.0, 755.36),
    (10.0, 1571.0),
    (21.097, 3402.0),
    (42.195, 7235.0),
];

/// The world record (s) for a running distance, when the distance has one.
pub fn running_world_record_s(distance_km: f64) -> Option<f64> {
    RUNNING_WORLD_RECORDS_S.iter().find(|(d, _)| (d - distance_km).abs() < 1e-6).map(|r| r.1)
}

/// Indices of `values` (parallel to the times `t`, which are sorted) that lie further than
/// `limit(i, dt)` from the median of the other values within ±`half_s` seconds (`dt` = the
/// time from the sample to that median's neighbourhood centre, 0 for a centred window).
/// Samples with fewer than two neighbours are not judged. `limit` gets the difference from
/// the median and `dt` as a function to call only when needed: `dt` is a sum over the whole
/// window, and most limits decide without it.
///
/// The window's known values are kept sorted as it slides (one insertion or removal per
/// sample, a short memmove) instead of being collected and sorted for every sample: this
/// filter runs on every channel of every activity, and sorting ~30 values per sample was
/// the largest single cost of extraction. The median is read by rank from the sorted window
/// with the sample's own value skipped, so it is the very same element (or pair) a sort of
/// the neighbours would give, bit for bit.
fn neighbour_outliers(
    t: &[f64],
    values: &[Option<f64>],
    half_s: f64,
    limit: impl Fn(f64, &dyn Fn() -> f64) -> bool,
) -> Vec<usize> {
    let n = values.len();
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0usize, 0usize);
    // The known values of `lo..hi`, ascending by `total_cmp` (equal there means identical
    // bits, so which copy of a repeated value is removed does not matter).
    let mut sorted: Vec<f64> = Vec::new();
    for i in 0..n {
        // `hi` first: it always passes `i`, so `lo` (which never passes `i`) cannot overtake
        // it across a long gap and remove a value that was never inserted.
        while hi < n && t[hi] <= t[i] + half_s {
            if let Some(w) = values[hi] {
                let at = sorted.partition_point(|x| x.total_cmp(&w).is_lt());
                sorted.insert(at, w);
            }
            hi += 1;
        }
        while lo < n && t[lo] < t[i] - half_s {
            if let Some(w) = values[lo]
                && let Ok(at) = sorted.binary_search_by(|x| x.total_cmp(&w))
            {
                sorted.remove(at);
            }
            lo += 1;
        }
        let Some(v) = values[i] else { continue };
        // `v` itself is in the window (`lo <= i < hi`); the neighbours are the rest.
        let neighbours = sorted.len().saturating_sub(1);
        if neighbours < 2 {
            continue;
        }
        let Ok(own) = sorted.binary_search_by(|x| x.total_cmp(&v)) else { continue };
        let rank = |r: usize| if r < own { sorted[r] } else { sorted[r + 1] };
        let mid = neighbours / 2;
        let m = if neighbours % 2 == 1 { rank(mid) } else { (rank(mid - 1) + rank(mid)) / 2.0 };
        // The neighbours' mean time, summed in index order as it always was.
        let centre = || {
            let (mut sum, mut count) = (0.0_f64, 0usize);
            for j in lo..hi {
                if j != i && values[j].is_some() {
                    sum += t[j];
                    count += 1;
                }
            }
            (sum / count as f64 - t[i]).abs()
        };
        if limit(v - m, &centre) {
            out.push(i);
        }
    }
    out
}

/// Linear interpolation of the missing values of `values` across gaps of at most
/// [`MAX_FILL_S`] between two known values; only the indices in `fillable` are filled.
fn fill_short_gaps(t: &[f64], values: &mut [Option<f64>], fillable: &[bool]) {
    let mut prev: Option<usize> = None;
    for i in 0..values.len() {
        let Some(v) = values[i] else { continue };
        if let Some(p) = prev
            && i > p + 1
            && t[i] - t[p] <= MAX_FILL_S
        {
            let (t0, v0) = (t[p], values[p].unwrap_or(v));
            for j in p + 1..i {
                if fillable[j] {
                    let f = (t[j] - t0) / (t[i] - t0).max(1e-9);
                    values[j] = Some(v0 + (v - v0) * f);
                }
            }
        }
        prev = Some(i);
    }
}

fn seconds(samples: &[Sample]) -> Vec<f64> {
    let t0 = samples.first().map_or(0, |s| s.ts_ms);
    samples.iter().map(|s| (s.ts_ms - t0) as f64 / 1000.0).collect()
}

/// Clean the power channel; returns the number of samples removed.
fn clean_power(samples: &mut [Sample], t: &[f64]) -> usize {
    let ceiling = elite_power_bound_w(1);
    let mut values: Vec<Option<f64>> = samples.iter().map(|s| s.power_w.map(f64::from)).collect();
    let mut removed = vec![false; samples.len()];
    for (i, v) in values.iter_mut().enumerate() {
        if v.is_some_and(|w| w > ceiling) {
            *v = None;
            removed[i] = true;
        }
    }
    for i in neighbour_outliers(t, &values, POWER_WINDOW_S, |d, _| d > POWER_SPIKE_W) {
        values[i] = None;
        removed[i] = true;
    }
    // Dropouts: zero power while pedalling, between powered neighbours.
    let powered = |v: Option<f64>| v.is_some_and(|w| w >= f64::from(DROPOUT_LEVEL_W));
    let mut i = 0;
    while i < samples.len() {
        let pedalling_zero = |k: usize| {
            values[k] == Some(0.0)
                && samples[k].cadence_rpm.is_some_and(|c| c > DROPOUT_CADENCE_RPM)
        };
        if !pedalling_zero(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < samples.len() && pedalling_zero(i) {
            i += 1;
        }
        // The nearest readings on either side, across missing values (a dropout often
        // mixes zeros and nothing), within the bridging distance.
        let before = (0..start)
            .rev()
            .take_while(|&b| t[start] - t[b] <= MAX_FILL_S)
            .find_map(|b| values[b])
            .is_some_and(|w| powered(Some(w)));
        let after = (i..samples.len())
            .take_while(|&a| t[a] - t[i - 1] <= MAX_FILL_S)
            .find_map(|a| values[a])
            .is_some_and(|w| powered(Some(w)));
        if before && after {
            for k in start..i {
                values[k] = None;
                removed[k] = true;
            }
        }
    }
    // Bridge removed values and recorded gaps alike (a sensor that sent nothing did not
    // measure 0 W); a gap longer than MAX_FILL_S stays one.
    let fillable: Vec<bool> =
        (0..samples.len()).map(|k| removed[k] || values[k].is_none()).collect();
    fill_short_gaps(t, &mut values, &fillable);
    for (s, v) in samples.iter_mut().zip(&values) {
        s.power_w = v.map(|w| w.round().clamp(0.0, f64::from(u16::MAX)) as u16);
    }
    removed.iter().filter(|r| **r).count()
}

/// Clean the heart-rate channel; returns the number of samples removed. A zero is "no
/// reading" (a strap without contact), not a heart rate: it becomes a gap uncounted.
fn clean_hr(samples: &mut [Sample], t: &[f64]) -> usize {
    let (lo, hi) = HR_RANGE_BPM;
    let mut removed = vec![false; samples.len()];
    let mut values: Vec<Option<f64>> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| match s.hr_bpm {
            Some(0) | None => None,
            Some(v) if v < lo || v > hi => {
                removed[i] = true;
                None
            }
            Some(v) => Some(f64::from(v)),
        })
        .collect();
    for i in neighbour_outliers(t, &values, HR_WINDOW_S, |d, _| d.abs() > HR_SPIKE_BPM) {
        values[i] = None;
        removed[i] = true;
    }
    fill_short_gaps(t, &mut values, &removed);
    for (s, v) in samples.iter_mut().zip(&values) {
        if s.hr_bpm.is_some() || v.is_some() {
            s.hr_bpm = v.map(|b| b.round() as u16);
        }
    }
    removed.iter().filter(|r| **r).count()
}

/// Clean the altitude channel; returns the number of samples removed. A sample is removed
/// when it is outside the Earth's range, or further from the median of its ±15 s
/// neighbours than the fastest vertical speed allows over the time between them, plus
/// noise: a barometer settling after switch-on, a GPS altitude jump.
fn clean_altitude(samples: &mut [Sample], t: &[f64], source: AltitudeSource) -> usize {
    let (lo, hi) = ALTITUDE_RANGE_M;
    let noise = match source {
        AltitudeSource::Barometric => BAROMETRIC_NOISE_M,
        AltitudeSource::Gps | AltitudeSource::Unknown => ALTITUDE_NOISE_M,
    };
    let mut removed = vec![false; samples.len()];
    let mut values: Vec<Option<f64>> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| match s.ele_m.filter(|e| e.is_finite()) {
            Some(e) if e < lo || e > hi => {
                removed[i] = true;
                None
            }
            e => e,
        })
        .collect();
    // The median of a centred window follows any steady slope exactly; where the window is
    // cut by the recording's ends its centre is `dt` seconds away, which a real slope may
    // have climbed or descended at the fastest vertical speed.
    let allow = |dt: f64| noise + MAX_VERTICAL_SPEED_MS * (dt + ALTITUDE_WINDOW_S / 2.0);
    // `allow` never shrinks as `dt` grows (rounding is monotonic), so a difference within
    // `allow(0)` is within `allow(dt)` too and the window's centre is only computed for the
    // few samples that could be outliers: the same verdicts, without a sum per sample.
    let outlier = |d: f64, dt: &dyn Fn() -> f64| d.abs() > allow(0.0) && d.abs() > allow(dt());
    for i in neighbour_outliers(t, &values, ALTITUDE_WINDOW_S, outlier) {
        values[i] = None;
        removed[i] = true;
    }
    // Then outwards from the middle of the recording, where the median test is reliable,
    // towards each end: every sample must be reachable from the last one kept at the
    // fastest vertical speed (plus noise). This catches what the median cannot at the
    // ends, where a barometer settling after switch-on fills half the window (1,257 m,
    // 1,913 m, 2,032 m … converging on 2,258 m within ten seconds).
    let kept: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
    if let Some(&mid) = kept.get(kept.len() / 2) {
        let n = values.len();
        let mut chain = |order: &mut dyn Iterator<Item = usize>| {
            let mut last = (t[mid], values[mid].unwrap_or(0.0));
            for i in order {
                let Some(v) = values[i] else { continue };
                let reach = noise + MAX_VERTICAL_SPEED_MS * (t[i] - last.0).abs();
                if (v - last.1).abs() <= reach {
                    last = (t[i], v);
                } else {
                    values[i] = None;
                    removed[i] = true;
                }
            }
        };
        chain(&mut (mid + 1..n));
        chain(&mut (0..mid).rev());
    }
    for (s, (v, r)) in samples.iter_mut().zip(values.iter().zip(&removed)) {
        if *r {
            s.ele_m = None;
        } else if v.is_none() {
            s.ele_m = s.ele_m.filter(|e| e.is_finite());
        }
    }
    removed.iter().filter(|r| **r).count()
}

/// Remove device speeds above the sport's maximum; returns how many.
fn clean_speed(samples: &mut [Sample], sport: Sport) -> usize {
    let cap = max_speed_ms(sport);
    let mut n = 0;
    for s in samples.iter_mut() {
        if s.speed_ms.is_some_and(|v| !v.is_finite() || v > cap) {
            s.speed_ms = None;
            n += 1;
        }
    }
    n
}

/// Remove GPS positions that jump out and back: reaching the point and leaving it both
/// imply more than the sport's maximum speed while its neighbours are consistent with each
/// other. A real fast stretch (consecutive points all far apart) is never touched.
/// Returns how many, and the steps between the fixes as recorded (for [`Series`]).
fn clean_positions(samples: &mut [Sample], t: &[f64], sport: Sport) -> (usize, GpsSteps) {
    let cap = max_speed_ms(sport);
    // Each fix with the cosine of its latitude, computed once: `haversine_cos_m` with it is
    // the same arithmetic as `haversine_m`, which would compute it twice per pair.
    let gps: Vec<(usize, f64, f64, f64)> = (0..samples.len())
        .filter_map(|i| {
            let (lat, lon) = position(&samples[i])?;
            Some((i, lat, lon, lat.to_radians().cos()))
        })
        .collect();
    let dt = |a: usize, b: usize| (t[gps[b].0] - t[gps[a].0]).abs().max(1.0);
    let dist = |a: usize, b: usize| -> f64 {
        let ((_, lat_a, lon_a, cos_a), (_, lat_b, lon_b, cos_b)) = (gps[a], gps[b]);
        haversine_cos_m(lat_a, lon_a, cos_a, lat_b, lon_b, cos_b)
    };
    let speed = |a: usize, b: usize| -> f64 { dist(a, b) / dt(a, b) };
    // The distance and speed between consecutive fixes, once each (every window of three
    // uses two; the series reuses the distances).
    let dist_m: Vec<f64> = (1..gps.len()).map(|k| dist(k - 1, k)).collect();
    let step: Vec<f64> = (1..gps.len()).map(|k| dist_m[k - 1] / dt(k - 1, k)).collect();
    let mut bad = Vec::new();
    for k in 1..gps.len().saturating_sub(1) {
        // Fixes k - 1, k, k + 1: out to k and back, while k - 1 to k + 1 is not fast.
        if step[k - 1] > cap && step[k] > cap && speed(k - 1, k + 1) <= cap {
            bad.push(gps[k].0);
        }
    }
    // The first and last fixes (cold starts) only have one neighbour.
    if gps.len() >= 3 {
        let last = gps.len() - 1;
        for (end, next, after) in [(0, 1, 2), (last, last - 1, last - 2)] {
            if speed(end, next) > cap && speed(next, after) <= cap {
                bad.push(gps[end].0);
            }
        }
    }
    bad.sort_unstable();
    bad.dedup();
    for &i in &bad {
        samples[i].lat_deg = None;
        samples[i].lon_deg = None;
    }
    (bad.len(), GpsSteps { fixes: gps, dist_m })
}

/// Clean an activity in place (samples and device session values) and report what was
/// removed. Idempotent: cleaning a clean activity removes nothing.
pub fn clean(activity: &mut Activity) -> Cleaning {
    clean_with_series(activity).0
}

/// [`clean`], also returning the [`Series`] of the cleaned samples. The check of the power
/// channel needs that series anyway, and it only depends on times, positions, device
/// distances and speeds, which nothing changes after it is built (dropping a power
/// channel does not touch it): extraction hands it on to the metrics and the published
/// artefacts instead of building it twice more, a tenth of an activity's extraction time.
pub fn clean_with_series(activity: &mut Activity) -> (Cleaning, Series) {
    let mut report = Cleaning::default();
    let sport = activity.sport;
    let t = seconds(&activity.samples);
    let samples = &mut activity.samples;
    report.count("power", clean_power(samples, &t));
    report.count("heart_rate", clean_hr(samples, &t));
    report.count("elevation", clean_altitude(samples, &t, activity.altitude_source));
    report.count("speed", clean_speed(samples, sport));
    let (jumps, steps) = clean_positions(samples, &t, sport);
    report.count("gps", jumps);

    // A power channel whose best efforts are still beyond the elite curve after spikes
    // are gone is wrong as a whole (a miscalibrated or doubled meter): it is not used.
    let series = Series::with_steps(samples, Some(&steps));
    if let Some(curve) = power_curve::mmp(samples, &series)
        && let Some((d, w)) = curve.iter().find(|(d, w)| *w as f64 > elite_power_bound_w(*d))
    {
        let n = samples.iter().filter(|s| s.power_w.is_some()).count();
        for s in samples.iter_mut() {
            s.power_w = None;
        }
        report.count("power", n);
        report.note("power", format!("channel dropped: {w} W over {d} s is beyond any human"));
    }

    if let Some(tot) = activity.totals.as_mut() {
        let mut ignore = |channel: &str,
                          field: &str,
                          v: &mut Option<f64>,
                          ok: &dyn Fn(f64) -> bool,
                          unit: &str| {
            if let Some(x) = *v
                && x.is_finite()
                && x > 0.0
                && !ok(x)
            {
                report.note(channel, format!("device {field} {} {unit} ignored", x.round()));
                *v = None;
            }
        };
        let (hr_lo, hr_hi) = (f64::from(HR_RANGE_BPM.0), f64::from(HR_RANGE_BPM.1));
        let timer = tot.timer_s.or(tot.elapsed_s).unwrap_or(1.0).max(1.0) as i64;
        let speed_cap = max_speed_ms(sport);
        ignore("power", "max_power_w", &mut tot.max_power_w, &|x| x <= elite_power_bound_w(1), "W");
        ignore(
            "power",
            "avg_power_w",
            &mut tot.avg_power_w,
            &|x| x <= elite_power_bound_w(timer),
            "W",
        );
        ignore(
            "heart_rate",
            "max_hr_bpm",
            &mut tot.max_hr_bpm,
            &|x| (hr_lo..=hr_hi).contains(&x),
            "bpm",
        );
        ignore(
            "heart_rate",
            "avg_hr_bpm",
            &mut tot.avg_hr_bpm,
            &|x| (hr_lo..=hr_hi).contains(&x),
            "bpm",
        );
        ignore("speed", "max_speed_ms", &mut tot.max_speed_ms, &|x| x <= speed_cap, "m/s");
        ignore("speed", "avg_speed_ms", &mut tot.avg_speed_ms, &|x| x <= speed_cap, "m/s");
        if report
            .notes
            .get("power")
            .is_some_and(|n| n.iter().any(|l| l.starts_with("channel dropped")))
        {
            tot.avg_power_w = None;
            tot.max_power_w = None;
        }
    }
    (report, series)
}

/// Every published figure of `d` that breaks a human bound of this module (empty when it
/// is plausible): per-activity MMP above the elite curve, a maximum power, heart rate or
/// speed outside its range, a running best effort faster than the world record. The
/// device check and the tests hold every extracted activity to it.
pub fn violations(d: &bincio_bas::Detail) -> Vec<String> {
    let mut out = Vec::new();
    for (dur, w) in d.mmp.iter().flatten() {
        if w.0 as f64 > elite_power_bound_w(dur.0) {
            out.push(format!("mmp {} s {} W", dur.0, w.0));
        }
    }
    if let Some(p) = d.max_power_w.filter(|p| *p as f64 > elite_power_bound_w(1)) {
        out.push(format!("max power {p} W"));
    }
    let (lo, hi) = HR_RANGE_BPM;
    if let Some(h) = d.max_hr_bpm.filter(|h| *h < i64::from(lo) || *h > i64::from(hi)) {
        out.push(format!("max heart rate {h} bpm"));
    }
    if let Some(v) = d.max_speed_kmh.filter(|v| *v > max_speed_ms(d.sport) * 3.6 + 1e-9) {
        out.push(format!("max speed {v} km/h for {}", d.sport));
    }
    if d.sport == Sport::Running {
        for (km, s) in d.best_efforts.iter().flatten() {
            if running_world_record_s(*km).is_some_and(|wr| (s.0 as f64) < wr) {
                out.push(format!("{km} km in {} s", s.0));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The neighbour filter as it was first written, the oracle of the sliding one: for
    /// every sample, collect the other known values of the window and sort them.
    fn neighbour_outliers_by_sorting(
        t: &[f64],
        values: &[Option<f64>],
        half_s: f64,
        limit: impl Fn(f64, f64) -> bool,
    ) -> Vec<usize> {
        let n = values.len();
        let mut out = Vec::new();
        let (mut lo, mut hi) = (0usize, 0usize);
        for i in 0..n {
            while lo < n && t[lo] < t[i] - half_s {
                lo += 1;
            }
            while hi < n && t[hi] <= t[i] + half_s {
                hi += 1;
            }
            let Some(v) = values[i] else { continue };
            let mut window: Vec<f64> = Vec::new();
            let mut times: Vec<f64> = Vec::new();
            for j in lo..hi {
                if j != i
                    && let Some(w) = values[j]
                {
                    window.push(w);
                    times.push(t[j]);
                }
            }
            if window.len() < 2 {
                continue;
            }
            let centre = (times.iter().sum::<f64>() / times.len() as f64 - t[i]).abs();
            window.sort_unstable_by(f64::total_cmp);
            let m = window.len() / 2;
            let median =
                if window.len() % 2 == 1 { window[m] } else { (window[m - 1] + window[m]) / 2.0 };
            if limit(v - median, centre) {
                out.push(i);
            }
        }
        out
    }

    /// Every `(value − median, centre)` pair the filter judges, bit for bit, and its verdicts.
    fn judged(
        f: impl Fn(&[f64], &[Option<f64>], f64, &dyn Fn(f64, f64) -> bool) -> Vec<usize>,
        t: &[f64],
        values: &[Option<f64>],
        half_s: f64,
    ) -> (Vec<(u64, u64)>, Vec<usize>) {
        let seen = std::cell::RefCell::new(Vec::new());
        let out = f(t, values, half_s, &|d, centre| {
            seen.borrow_mut().push((d.to_bits(), centre.to_bits()));
            d.abs() > 3.0
        });
        (seen.into_inner(), out)
    }

    /// The sliding filter with every centre computed, as the oracle computes them.
    fn sliding(
        t: &[f64],
        values: &[Option<f64>],
        half_s: f64,
        limit: &dyn Fn(f64, f64) -> bool,
    ) -> Vec<usize> {
        neighbour_outliers(t, values, half_s, |d, centre| limit(d, centre()))
    }

    #[test]
    fn sliding_median_window_over_a_long_gap_and_repeated_values() {
        // A pause longer than the whole window between samples 3 and 4, repeated values,
        // a spike and missing readings.
        let t = [0.0, 1.0, 2.0, 3.0, 120.0, 121.0, 122.0, 123.0, 124.0];
        let v = [
            Some(5.0),
            Some(5.0),
            None,
            Some(50.0),
            Some(7.0),
            Some(7.0),
            Some(6.0),
            None,
            Some(7.0),
        ];
        let sliding = judged(sliding, &t, &v, 15.0);
        let sorting = judged(|t, v, h, l| neighbour_outliers_by_sorting(t, v, h, l), &t, &v, 15.0);
        assert_eq!(sliding, sorting);
        // The spike at 3 s (neighbours 5 and 5), and the two samples before it, whose only
        // two neighbours are a 5 and the spike; nothing after the pause.
        assert_eq!(sliding.1, vec![0, 1, 3]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The sliding window gives exactly the medians and centres of sorting each window.
        #[test]
        fn sliding_median_is_the_sorted_median(
            steps in proptest::collection::vec(0u32..40, 1..200),
            raw in proptest::collection::vec(proptest::option::weighted(0.8, -20i32..20), 200),
            half_s in prop_oneof![Just(2.0), Just(5.0), Just(15.0)],
        ) {
            let mut acc = 0.0;
            let t: Vec<f64> = steps.iter().map(|s| { acc += f64::from(*s) / 2.0; acc }).collect();
            // Few distinct values (halves), so windows hold many repeats.
            let values: Vec<Option<f64>> =
                raw[..t.len()].iter().map(|v| v.map(|x| f64::from(x) / 2.0)).collect();
            let sliding = judged(sliding, &t, &values, half_s);
            let sorting =
                judged(|t, v, h, l| neighbour_outliers_by_sorting(t, v, h, l), &t, &values, half_s);
            prop_assert_eq!(sliding, sorting);
        }

        /// The series built from the cleaning's steps between fixes is exactly the one
        /// computed afresh: on tracks with gaps, missing positions and jumps out and back
        /// (which the cleaning removes, so some reused steps border a removed fix), and when
        /// a fix moved after the steps were taken (its step must be computed again).
        #[test]
        fn series_from_cleaning_steps_is_the_fresh_series(
            points in prop::collection::vec(
                (1u32..12, prop::option::of((-0.002f64..0.002, -0.002f64..0.002)), 0u8..10),
                3..120,
            ),
            moved in 0usize..200,
        ) {
            let (mut t_ms, mut lat, mut lon) = (1_600_000_000_000i64, 46.0, 13.0);
            let mut samples: Vec<Sample> = Vec::new();
            for (dt_s, step, jump) in points {
                t_ms += i64::from(dt_s) * 1000;
                let mut s = Sample { ts_ms: t_ms, ..Sample::default() };
                if let Some((dlat, dlon)) = step {
                    lat += dlat;
                    lon += dlon;
                    // One fix in ten jumps a few kilometres away and back.
                    let out = if jump == 0 { 0.05 } else { 0.0 };
                    s.lat_deg = Some(lat + out);
                    s.lon_deg = Some(lon);
                }
                samples.push(s);
            }
            let t = seconds(&samples);
            let (_, steps) = clean_positions(&mut samples, &t, Sport::Cycling);
            let fresh = Series::new(&samples);
            let reused = Series::with_steps(&samples, Some(&steps));
            prop_assert_eq!(format!("{fresh:?}"), format!("{reused:?}"));
            prop_assert_eq!(fresh.gps_total_m.to_bits(), reused.gps_total_m.to_bits());

            let i = moved % samples.len();
            if let Some(l) = samples[i].lat_deg.as_mut() {
                *l += 0.001;
            }
            let fresh = Series::new(&samples);
            let reused = Series::with_steps(&samples, Some(&steps));
            prop_assert_eq!(format!("{fresh:?}"), format!("{reused:?}"));
        }
    }
}
