//! Figures the activity page derives from the published timeseries at render time:
//! normalized power, work (kJ), maximum cadence, temperature, the distance axis and the
//! automatic splits per kilometre or mile.
//!
//! They are computed from the *published* timeseries, after the merge removed hidden
//! stats, so a hidden channel cannot come back through a derived figure. They are not
//! stored in the BAS files: they are presentation, and a better formula later changes every
//! page at the next build without a re-extraction.
//!
//! Every sum over samples weights a sample by the time to the next one, capped at
//! [`MAX_GAP_S`], the rule the zone times already use: a recording pause is not time spent
//! at the last value.

use bincio_bas::Timeseries;

/// Longest gap between two samples that still counts as continuous recording.
pub const MAX_GAP_S: f64 = 30.0;

fn dt(t: &[i64], i: usize) -> f64 {
    match (t.get(i), t.get(i + 1)) {
        (Some(a), Some(b)) => ((b - a) as f64).clamp(0.0, MAX_GAP_S),
        _ => 0.0,
    }
}

/// Normalized power (Coggan): the samples held to a 1 Hz grid (gaps longer than
/// [`MAX_GAP_S`] are left out, not filled), a 30 s rolling mean, the fourth root of the mean
/// of its fourth powers. `None` under 30 s of power.
///
/// The grid is not stored: its values are produced one by one and only the last 30 are
/// kept, for the value that leaves the window (at 1 Hz the grid was a fresh array of the
/// whole recording for every page). The sums are the same operations in the same order.
pub fn normalized_power(t: &[i64], power: &[Option<i64>]) -> Option<f64> {
    const WINDOW: usize = 30;
    let mut window = [0.0f64; WINDOW];
    // Grid values seen, their running sum (of the first 30, then of the window), and the
    // sum of the fourth powers of the window's means.
    let (mut len, mut sum, mut acc) = (0usize, 0.0f64, 0.0f64);
    for i in 0..t.len().min(power.len()) {
        let Some(p) = power[i] else { continue };
        let hold = match t.get(i + 1) {
            Some(next) if (next - t[i]) as f64 <= MAX_GAP_S => (next - t[i]).max(0) as usize,
            _ => 1,
        };
        let v = p.max(0) as f64;
        for _ in 0..hold {
            let slot = &mut window[len % WINDOW];
            if len < WINDOW {
                sum += v;
                if len + 1 == WINDOW {
                    acc = (sum / WINDOW as f64).powi(4);
                }
            } else {
                sum += v - *slot;
                acc += (sum / WINDOW as f64).powi(4);
            }
            *slot = v;
            len += 1;
        }
    }
    if len < WINDOW {
        return None;
    }
    let n = len - WINDOW + 1;
    Some((acc / n as f64).powf(0.25))
}

/// Mechanical work in kilojoules: Σ power × Δt.
pub fn work_kj(t: &[i64], power: &[Option<i64>]) -> Option<f64> {
    let mut j = 0.0;
    let mut any = false;
    for (i, p) in power.iter().enumerate().take(t.len()) {
        if let Some(p) = p {
            any = true;
            j += (*p).max(0) as f64 * dt(t, i);
        }
    }
    any.then_some(j / 1000.0)
}

/// The largest value of an integer channel.
pub fn max_i(values: &[Option<i64>]) -> Option<i64> {
    values.iter().flatten().copied().max()
}

/// Time-weighted mean, minimum and maximum of a real channel (temperature).
pub fn mean_min_max(t: &[i64], values: &[Option<f64>]) -> Option<(f64, f64, f64)> {
    let (mut sum, mut w, mut lo, mut hi) = (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for (i, v) in values.iter().enumerate().take(t.len()) {
        let Some(v) = v.filter(|v| v.is_finite()) else { continue };
        let d = dt(t, i).max(1e-9);
        sum += v * d;
        w += d;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (w > 0.0).then(|| (sum / w, lo, hi))
}

/// Cumulative distance in metres at every sample: speed × Δt (nulls and speeds over
/// 150 km/h count as 0), else the great-circle distance between published positions.
/// `None` when neither gives a distance. Both the charts' distance axis and the splits use
/// this one series.
pub fn distance_m(ts: &Timeseries) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    distance_m_into(ts, &mut out).then_some(out)
}

/// [`distance_m`] into `out` (its memory reused); false, `out` unspecified, for `None`.
pub fn distance_m_into(ts: &Timeseries, out: &mut Vec<f64>) -> bool {
    let n = ts.t.len();
    out.clear();
    if ts.speed_kmh.iter().any(Option::is_some) {
        let mut acc = 0.0;
        out.reserve(n);
        for i in 0..n {
            if i > 0 {
                let v =
                    ts.speed_kmh.get(i).copied().flatten().filter(|v| *v <= 150.0).unwrap_or(0.0);
                acc += v / 3.6 * ((ts.t[i] - ts.t[i - 1]) as f64).max(0.0);
            }
            out.push(acc);
        }
        return acc > 0.0;
    }
    let (Some(lat), Some(lon)) = (&ts.lat, &ts.lon) else { return false };
    let mut acc = 0.0;
    let mut prev: Option<[f64; 2]> = None;
    out.extend(lat.iter().zip(lon).map(|(a, o)| {
        if let (Some(a), Some(o)) = (a, o) {
            if let Some(p) = prev {
                acc += crate::metrics::distance::haversine_m(p[0], p[1], *a, *o);
            }
            prev = Some([*a, *o]);
        }
        acc
    }));
    acc > 0.0 && out.len() == n
}

/// One automatic split.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Metres covered (the split length, less for the last one).
    pub distance_m: f64,
    /// Recorded time in the split (pauses over [`MAX_GAP_S`] left out).
    pub time_s: f64,
    pub elevation_gain_m: Option<f64>,
    pub elevation_loss_m: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub avg_cadence: Option<f64>,
}

impl Split {
    /// Average speed over the split.
    pub fn speed_kmh(&self) -> Option<f64> {
        (self.time_s > 0.0).then(|| self.distance_m / self.time_s * 3.6)
    }
}

#[derive(Default)]
struct Acc {
    t: f64,
    up: f64,
    down: f64,
    has_ele: bool,
    hr: (f64, f64),
    pw: (f64, f64),
    cad: (f64, f64),
}

fn mean((s, w): (f64, f64)) -> Option<f64> {
    (w > 0.0).then(|| s / w)
}

/// Splits of `every_m` metres. `dist` is [`distance_m`]; `total_m` is the activity's
/// distance, which the series is scaled to, so the splits add up to the figure the page
/// shows. Samples are assigned whole to the split they start in (a split boundary between
/// two samples is not interpolated: at 1–10 s sampling the error is a few seconds), and
/// every split but the last is exactly `every_m` long. A last
/// split shorter than 5 % of `every_m` is merged into the one before.
pub fn splits(ts: &Timeseries, dist: &[f64], total_m: Option<f64>, every_m: f64) -> Vec<Split> {
    let [one] = splits_by(ts, dist, total_m, [every_m]);
    one
}

/// [`splits`] for several split lengths in one pass over the samples (the page shows splits
/// per kilometre and per mile): each length is accumulated on its own, exactly as alone.
pub fn splits_by<const N: usize>(
    ts: &Timeseries,
    dist: &[f64],
    total_m: Option<f64>,
    every_m: [f64; N],
) -> [Vec<Split>; N] {
    let n = ts.t.len().min(dist.len());
    let Some(end) = dist.get(n.wrapping_sub(1)).copied().filter(|d| *d > 0.0) else {
        return std::array::from_fn(|_| Vec::new());
    };
    let scale = total_m.filter(|t| *t > 0.0).map_or(1.0, |t| t / end);
    let mut out: [Vec<Split>; N] = std::array::from_fn(|_| Vec::new());
    let mut acc: [Acc; N] = std::array::from_fn(|_| Acc::default());
    let mut start_d = [0.0; N];
    let mut k = [1.0; N];
    let flush = |acc: &Acc, d: f64| Split {
        distance_m: d,
        time_s: acc.t,
        elevation_gain_m: acc.has_ele.then_some(acc.up),
        elevation_loss_m: acc.has_ele.then_some(acc.down),
        avg_hr_bpm: mean(acc.hr),
        avg_power_w: mean(acc.pw),
        avg_cadence: mean(acc.cad),
    };
    for (i, d) in dist.iter().enumerate().take(n.saturating_sub(1)) {
        let d = d * scale;
        for u in 0..N {
            if d >= k[u] * every_m[u] {
                // The split ends at its nominal boundary: a sample a few metres past it
                // (sparse "smart" recording) still closes a split of exactly `every_m`.
                let boundary = (d / every_m[u]).floor() * every_m[u];
                out[u].push(flush(&acc[u], boundary - start_d[u]));
                acc[u] = Acc::default();
                start_d[u] = boundary;
                k[u] = boundary / every_m[u] + 1.0;
            }
        }
        let w = dt(&ts.t, i);
        let ele = match (ts.elevation_m.get(i), ts.elevation_m.get(i + 1)) {
            (Some(Some(a)), Some(Some(b))) => Some(b - a),
            _ => None,
        };
        // A climb and a descent alternate at random from one sample to the next, so a branch
        // on the sign was mispredicted every other sample: both sums take a step, the one
        // the step does not belong to a zero. Neither sum is ever `-0.0` (they start at
        // `+0.0` and move away from zero), and adding a zero leaves any other value as it
        // is, so the sums are the same to the bit.
        let (rise, fall) = match ele {
            Some(diff) => {
                (if diff > 0.0 { diff } else { 0.0 }, if diff > 0.0 { 0.0 } else { diff })
            }
            None => (0.0, 0.0),
        };
        let hr = ts.hr_bpm.get(i).copied().flatten();
        let pw = ts.power_w.get(i).copied().flatten();
        let cad = ts.cadence_rpm.get(i).copied().flatten().filter(|c| *c > 0);
        for acc in &mut acc {
            acc.t += w;
            if ele.is_some() {
                acc.has_ele = true;
                acc.up += rise;
                acc.down -= fall;
            }
            if let Some(v) = hr {
                acc.hr.0 += v as f64 * w;
                acc.hr.1 += w;
            }
            if let Some(v) = pw {
                acc.pw.0 += v as f64 * w;
                acc.pw.1 += w;
            }
            if let Some(v) = cad {
                acc.cad.0 += v as f64 * w;
                acc.cad.1 += w;
            }
        }
    }
    for u in 0..N {
        let last = end * scale - start_d[u];
        if last > 0.0 {
            let tail = flush(&acc[u], last);
            match out[u].last_mut() {
                Some(prev) if last < every_m[u] * 0.05 => {
                    prev.distance_m += tail.distance_m;
                    prev.time_s += tail.time_s;
                }
                _ => out[u].push(tail),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: usize) -> Timeseries {
        Timeseries {
            t: (0..n as i64).collect(),
            lat: None,
            lon: None,
            elevation_m: vec![None; n],
            speed_kmh: vec![Some(36.0); n],
            hr_bpm: vec![None; n],
            cadence_rpm: vec![None; n],
            power_w: vec![None; n],
            temperature_c: vec![None; n],
        }
    }

    /// `normalized_power` as it was written first, with the whole 1 Hz grid in memory: the
    /// streaming one must give the same value to the bit.
    fn reference_normalized_power(t: &[i64], power: &[Option<i64>]) -> Option<f64> {
        let mut grid: Vec<f64> = Vec::new();
        for i in 0..t.len().min(power.len()) {
            let Some(p) = power[i] else { continue };
            let hold = match t.get(i + 1) {
                Some(next) if (next - t[i]) as f64 <= MAX_GAP_S => (next - t[i]).max(0) as usize,
                _ => 1,
            };
            grid.extend(std::iter::repeat_n(p.max(0) as f64, hold));
        }
        const WINDOW: usize = 30;
        if grid.len() < WINDOW {
            return None;
        }
        let mut sum: f64 = grid[..WINDOW].iter().sum();
        let mut acc = (sum / WINDOW as f64).powi(4);
        let mut n = 1usize;
        for i in WINDOW..grid.len() {
            sum += grid[i] - grid[i - WINDOW];
            acc += (sum / WINDOW as f64).powi(4);
            n += 1;
        }
        Some((acc / n as f64).powf(0.25))
    }

    /// `splits_by` as it was before its elevation sums lost their branch, verbatim.
    fn reference_splits_by<const N: usize>(
        ts: &Timeseries,
        dist: &[f64],
        total_m: Option<f64>,
        every_m: [f64; N],
    ) -> [Vec<Split>; N] {
        let n = ts.t.len().min(dist.len());
        let Some(end) = dist.get(n.wrapping_sub(1)).copied().filter(|d| *d > 0.0) else {
            return std::array::from_fn(|_| Vec::new());
        };
        let scale = total_m.filter(|t| *t > 0.0).map_or(1.0, |t| t / end);
        let mut out: [Vec<Split>; N] = std::array::from_fn(|_| Vec::new());
        let mut acc: [Acc; N] = std::array::from_fn(|_| Acc::default());
        let mut start_d = [0.0; N];
        let mut k = [1.0; N];
        let flush = |acc: &Acc, d: f64| Split {
            distance_m: d,
            time_s: acc.t,
            elevation_gain_m: acc.has_ele.then_some(acc.up),
            elevation_loss_m: acc.has_ele.then_some(acc.down),
            avg_hr_bpm: mean(acc.hr),
            avg_power_w: mean(acc.pw),
            avg_cadence: mean(acc.cad),
        };
        for (i, d) in dist.iter().enumerate().take(n.saturating_sub(1)) {
            let d = d * scale;
            for u in 0..N {
                if d >= k[u] * every_m[u] {
                    // The split ends at its nominal boundary: a sample a few metres past it
                    // (sparse "smart" recording) still closes a split of exactly `every_m`.
                    let boundary = (d / every_m[u]).floor() * every_m[u];
                    out[u].push(flush(&acc[u], boundary - start_d[u]));
                    acc[u] = Acc::default();
                    start_d[u] = boundary;
                    k[u] = boundary / every_m[u] + 1.0;
                }
            }
            let w = dt(&ts.t, i);
            let ele = match (ts.elevation_m.get(i), ts.elevation_m.get(i + 1)) {
                (Some(Some(a)), Some(Some(b))) => Some(b - a),
                _ => None,
            };
            let hr = ts.hr_bpm.get(i).copied().flatten();
            let pw = ts.power_w.get(i).copied().flatten();
            let cad = ts.cadence_rpm.get(i).copied().flatten().filter(|c| *c > 0);
            for acc in &mut acc {
                acc.t += w;
                if let Some(diff) = ele {
                    acc.has_ele = true;
                    if diff > 0.0 { acc.up += diff } else { acc.down -= diff }
                }
                if let Some(v) = hr {
                    acc.hr.0 += v as f64 * w;
                    acc.hr.1 += w;
                }
                if let Some(v) = pw {
                    acc.pw.0 += v as f64 * w;
                    acc.pw.1 += w;
                }
                if let Some(v) = cad {
                    acc.cad.0 += v as f64 * w;
                    acc.cad.1 += w;
                }
            }
        }
        for u in 0..N {
            let last = end * scale - start_d[u];
            if last > 0.0 {
                let tail = flush(&acc[u], last);
                match out[u].last_mut() {
                    Some(prev) if last < every_m[u] * 0.05 => {
                        prev.distance_m += tail.distance_m;
                        prev.time_s += tail.time_s;
                    }
                    _ => out[u].push(tail),
                }
            }
        }
        out
    }

    proptest::proptest! {
        /// Any recording: steps of 0–40 s and backward ones, climbs and descents of either
        /// sign (zeros of both signs included), channels with holes, a stated total or none,
        /// split lengths short enough for many splits: the same splits, to the bit.
        #[test]
        fn splits_are_the_branchy_ones_to_the_bit(
            samples in proptest::collection::vec(
                (
                    proptest::prop_oneof![proptest::strategy::Just(1i64), -2i64..40],
                    proptest::option::weighted(0.9, proptest::prop_oneof![
                        proptest::strategy::Just(0.0f64),
                        proptest::strategy::Just(-0.0f64),
                        -50.0f64..3000.0,
                    ]),
                    proptest::option::weighted(0.9, 0.0f64..60.0),
                    proptest::option::weighted(0.8, 40i64..200),
                    proptest::option::weighted(0.7, -10i64..1500),
                    proptest::option::weighted(0.7, -5i64..120),
                ),
                0..300,
            ),
            total in proptest::option::of(0.0f64..20_000.0),
            every in proptest::prop_oneof![
                proptest::strategy::Just([1000.0f64, 1609.344]),
                proptest::strategy::Just([100.0f64, 160.9344]),
                proptest::strategy::Just([25.0f64, 5000.0]),
            ],
        ) {
            let mut t = Vec::new();
            let mut now = 0i64;
            for s in &samples {
                now += s.0;
                t.push(now);
            }
            let ts = Timeseries {
                t,
                lat: None,
                lon: None,
                elevation_m: samples.iter().map(|s| s.1).collect(),
                speed_kmh: samples.iter().map(|s| s.2).collect(),
                hr_bpm: samples.iter().map(|s| s.3).collect(),
                cadence_rpm: samples.iter().map(|s| s.5).collect(),
                power_w: samples.iter().map(|s| s.4).collect(),
                temperature_c: vec![None; samples.len()],
            };
            let dist = distance_m(&ts).unwrap_or_else(|| vec![0.0; samples.len()]);
            // `Debug` tells `-0.0` from `0.0`.
            proptest::prop_assert_eq!(
                format!("{:?}", splits_by(&ts, &dist, total, every)),
                format!("{:?}", reference_splits_by(&ts, &dist, total, every))
            );
        }
    }

    proptest::proptest! {
        /// Any recording: gaps (held, or over 30 s and left out), repeated and backward
        /// times, nulls, negative and large powers.
        #[test]
        fn normalized_power_is_the_grids_to_the_bit(
            samples in proptest::collection::vec(
                (proptest::prop_oneof![
                    proptest::strategy::Just(1i64),
                    proptest::strategy::Just(0),
                    -3i64..3,
                    1i64..45,
                ],
                proptest::option::weighted(0.9, -50i64..2000)),
                0..400,
            ),
        ) {
            let t: Vec<i64> = samples
                .iter()
                .scan(0i64, |acc, (d, _)| {
                    *acc += d;
                    Some(*acc)
                })
                .collect();
            let p: Vec<Option<i64>> = samples.iter().map(|s| s.1).collect();
            let bits = |v: Option<f64>| v.map(f64::to_bits);
            proptest::prop_assert_eq!(
                bits(normalized_power(&t, &p)),
                bits(reference_normalized_power(&t, &p))
            );
            // A power channel shorter than the times.
            let half = &p[..p.len() / 2];
            proptest::prop_assert_eq!(
                bits(normalized_power(&t, half)),
                bits(reference_normalized_power(&t, half))
            );
        }
    }

    #[test]
    fn normalized_power_of_steady_and_alternating_efforts() {
        let t: Vec<i64> = (0..600).collect();
        let steady = vec![Some(200); 600];
        assert_eq!(normalized_power(&t, &steady).map(f64::round), Some(200.0));
        // One minute at 400 W, one at 0 W, five times: the average is 200 W, but NP weighs
        // the hard minutes more. Per 120 s cycle the 30 s mean is 400 W for 30 s, 0 W for
        // 30 s and two 30 s linear ramps, so mean(x⁴) = 400⁴ × (30 + 2 × 6) / 120 and
        // NP = 400 × 0.35^¼ ≈ 307.7 W (the first window adds a little).
        let alt: Vec<Option<i64>> =
            (0..600).map(|i| Some(if (i / 60) % 2 == 0 { 400 } else { 0 })).collect();
        let np = normalized_power(&t, &alt).unwrap();
        assert!((np - 307.7).abs() < 3.0, "{np}");
        assert_eq!(normalized_power(&t[..20], &steady[..20]), None);
    }

    #[test]
    fn work_counts_time_and_skips_pauses() {
        // 200 W for 100 s, then a 10-minute recording gap, then 100 s more.
        let mut t: Vec<i64> = (0..100).collect();
        t.extend(700..800);
        let p = vec![Some(200); 200];
        // 99 + 99 one-second steps at 200 W plus the gap capped at 30 s: 228 × 200 J.
        assert_eq!(work_kj(&t, &p).map(|kj| (kj * 10.0).round() / 10.0), Some(45.6));
    }

    #[test]
    fn splits_add_up_to_the_activity_distance() {
        // 10 m/s for 350 s: 3.5 km (the series says 3.49 km; scaled to the stated 3.5).
        let mut s = ts(350);
        s.hr_bpm = vec![Some(150); 350];
        let d = distance_m(&s).unwrap();
        let sp = splits(&s, &d, Some(3500.0), 1000.0);
        assert_eq!(sp.len(), 4);
        let total: f64 = sp.iter().map(|x| x.distance_m).sum();
        assert!((total - 3500.0).abs() < 1e-6, "{total}");
        assert!((sp[0].time_s - 100.0).abs() <= 1.0, "{:?}", sp[0]);
        assert!((sp[3].distance_m - 500.0).abs() < 15.0, "{:?}", sp[3]);
        assert_eq!(sp[1].avg_hr_bpm, Some(150.0));
        assert!((sp[1].speed_kmh().unwrap() - 36.0).abs() < 0.5);
    }
}
