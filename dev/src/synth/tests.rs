use super::fit_writer::fit_crc;
use super::*;

fn ride(name: &str, sampling: Sampling, paused: bool) -> Scenario {
    let mut s = base_scenario(name, SportKind::RoadRide, ride_legs(paused), 0);
    s.sampling = sampling;
    s
}

fn gps_length_m(points: &[Point]) -> f64 {
    // Rounded to 7 decimals, as GPX and TCX write them.
    let r = |x: f64| (x * 1e7).round() / 1e7;
    points
        .windows(2)
        .filter_map(|w| {
            Some(haversine_m(
                r(w[0].lat_deg?),
                r(w[0].lon_deg?),
                r(w[1].lat_deg?),
                r(w[1].lon_deg?),
            ))
        })
        .sum()
}

#[test]
fn ride_truth_is_what_the_legs_say() {
    let t = ride("r", Sampling::OneHz, false).render(SynthFormat::Gpx, "r.gpx", false).truth;
    assert_eq!(t.distance_m, 10_500.0);
    assert_eq!(t.duration_s, 1260);
    assert_eq!(t.timer_s, 1260);
    assert_eq!(t.elevation_gain_m, Some(300.0));
    assert_eq!(t.samples, 1261);
    let w = |d: u32| t.mmp.iter().find(|m| m.duration_s == d).map(|m| m.watts);
    assert_eq!(w(1), Some(800.0));
    assert_eq!(w(5), Some(800.0));
    assert_eq!(w(10), Some(700.0)); // 5 s at 800 W + 5 s at 600 W
    assert_eq!(w(20), Some(650.0));
    assert_eq!(w(300), Some(320.0));
    assert_eq!(w(1200).map(|x| x > 0.0), Some(true));
    assert_eq!(w(1800), None); // longer than the ride
    // 5 km: the last 260 m of the summit plateau at 10 m/s (26 s), 3000 m of descent at
    // 15 m/s (200 s), 1500 m at 10 m/s (150 s) and the 240 m sprint at 12 m/s (20 s).
    assert_eq!(t.best_efforts[0].distance_km, 5.0);
    assert!((t.best_efforts[0].seconds - 396.0).abs() < 1e-9, "{:?}", t.best_efforts);
    assert_eq!(t.best_efforts.len(), 2);
}

#[test]
fn haversine_length_of_points_equals_route_length() {
    for sampling in [Sampling::OneHz, smart(5)] {
        let track = ride("r", sampling, false).render(SynthFormat::Gpx, "r.gpx", false);
        let len = gps_length_m(&track.points);
        assert!((len - 10_500.0).abs() < 0.05, "{sampling:?}: {len}");
    }
}

#[test]
fn gps_noise_moves_points_but_not_the_length() {
    let mut s = ride("n", Sampling::OneHz, false);
    s.noise_seed = Some(7);
    let noisy = s.render(SynthFormat::Gpx, "n.gpx", false);
    let clean = ride("c", Sampling::OneHz, false).render(SynthFormat::Gpx, "c.gpx", false);
    let off: Vec<f64> = noisy
        .points
        .iter()
        .zip(&clean.points)
        .filter_map(|(a, b)| Some(haversine_m(a.lat_deg?, a.lon_deg?, b.lat_deg?, b.lon_deg?)))
        .collect();
    let max_off = off.iter().copied().fold(0.0, f64::max);
    assert!(max_off > 1.5 && max_off < 8.0, "max offset {max_off} m");
    let len = gps_length_m(&noisy.points);
    // Slowly varying error barely lengthens the track; the displaced start and end
    // points (a few metres each) dominate. Half the 0.1 % the metrics are allowed.
    assert!((len / 10_500.0 - 1.0).abs() < 5e-4, "noisy length {len}");
    let ele_diff = noisy
        .points
        .iter()
        .zip(&clean.points)
        .filter_map(|(a, b)| Some((a.ele_m? - b.ele_m?).abs()))
        .fold(0.0, f64::max);
    assert!(ele_diff > 2.0 && ele_diff < 8.0, "altitude noise {ele_diff}");
}

#[test]
fn smart_recording_is_irregular_and_keeps_leg_boundaries() {
    let track = ride("s", smart(3), false).render(SynthFormat::Fit, "s.fit", false);
    let dts: Vec<u32> = track.points.windows(2).map(|w| w[1].t_s - w[0].t_s).collect();
    assert!(dts.iter().all(|&d| (1..=10).contains(&d)));
    assert!(dts.iter().any(|&d| d >= 8) && dts.iter().any(|&d| d <= 2));
    let mut t = 0;
    for leg in &track.scenario.legs {
        t += leg.duration_s;
        assert!(track.points.iter().any(|p| p.t_s == t), "no sample at leg end {t}");
    }
    assert!(track.points.len() < 400, "{}", track.points.len());
    // The recorded power is the exact mean over each interval, so the truth's MMP holds.
    assert_eq!(track.truth.mmp[0].watts, 800.0);
}

#[test]
fn pauses_leave_a_gap_and_stop_the_timer() {
    let track = ride("p", Sampling::OneHz, true).render(SynthFormat::Fit, "p.fit", false);
    assert_eq!(track.pauses, vec![(100, 190), (790, 1030)]);
    assert_eq!(track.truth.duration_s, 1590);
    assert_eq!(track.truth.timer_s, 1260);
    assert!(!track.points.iter().any(|p| p.t_s > 100 && p.t_s < 190));
    // MMP(1200) spans the café stop: the two conventions disagree, so it is not listed.
    assert!(track.truth.mmp.iter().all(|m| m.duration_s <= 600), "{:?}", track.truth.mmp);
    // 5 km (after the café) is listed; 10 km spans both pauses and is not.
    assert_eq!(track.truth.best_efforts.len(), 1);
    assert!((track.truth.best_efforts[0].seconds - 396.0).abs() < 1e-9);
}

#[test]
fn best_helpers_on_hand_values() {
    assert_eq!(best_mean(&[1.0, 5.0, 3.0], 2), Some(4.0));
    assert_eq!(best_mean(&[1.0, 5.0, 3.0], 0), Some(5.0));
    assert_eq!(best_mean(&[1.0], 2), None);
    // 0, 10, 20 then 20, 20 (stopped), 25: 15 m fastest is 1.5 s at 10 m/s.
    let cum = [0.0, 10.0, 20.0, 20.0, 20.0, 25.0];
    assert_eq!(fastest_s(&cum, 15.0), Some(1.5));
    assert_eq!(fastest_s(&cum, 25.0), Some(5.0));
    assert_eq!(fastest_s(&cum, 26.0), None);
}

fn fit_fields(
    rec: &fitparser::FitDataRecord,
) -> std::collections::HashMap<String, fitparser::Value> {
    rec.fields().iter().map(|f| (f.name().to_owned(), f.value().clone())).collect()
}

fn as_f64(v: Option<&fitparser::Value>) -> Option<f64> {
    use fitparser::Value as V;
    Some(match v? {
        V::Float64(x) => *x,
        V::Float32(x) => f64::from(*x),
        V::UInt8(x) => f64::from(*x),
        V::UInt16(x) => f64::from(*x),
        V::UInt32(x) => f64::from(*x),
        V::SInt32(x) => f64::from(*x),
        // fitparser turns date_time and local_date_time into dates: back to FIT seconds.
        V::Timestamp(t) => (t.timestamp() - fit_writer::FIT_EPOCH_OFFSET_S) as f64,
        _ => return None,
    })
}

#[test]
fn fit_decodes_with_fitparser_and_matches_the_truth() {
    use fitparser::profile::MesgNum;
    for (s, name) in [
        (ride("f", Sampling::OneHz, false), "1hz"),
        (ride("f", smart(9), true), "smart-paused"),
        (base_scenario("i", SportKind::IndoorRide, sport_legs(SportKind::IndoorRide), 0), "indoor"),
    ] {
        let track = s.render(SynthFormat::Fit, "f.fit", false);
        let bytes = write_fit(&track);
        let recs = fitparser::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let records: Vec<_> = recs.iter().filter(|r| r.kind() == MesgNum::Record).collect();
        assert_eq!(records.len(), track.points.len(), "{name}");
        let laps = recs.iter().filter(|r| r.kind() == MesgNum::Lap).count();
        assert_eq!(laps, track.laps.len(), "{name}");
        let session =
            recs.iter().find(|r| r.kind() == MesgNum::Session).map(fit_fields).expect("session");
        let t = &track.truth;
        assert_eq!(as_f64(session.get("total_distance")), Some(t.distance_m), "{name}");
        assert_eq!(
            as_f64(session.get("total_elapsed_time")),
            Some(f64::from(t.duration_s)),
            "{name}"
        );
        assert_eq!(as_f64(session.get("total_timer_time")), Some(f64::from(t.timer_s)), "{name}");
        assert_eq!(as_f64(session.get("total_ascent")), t.elevation_gain_m, "{name}");
        assert_eq!(as_f64(session.get("max_power")), t.max_power_w.map(f64::from), "{name}");
        assert_eq!(as_f64(session.get("max_heart_rate")), t.max_hr_bpm.map(f64::from), "{name}");
        // The last record's distance and altitude come back at their scales.
        let last = fit_fields(records.last().expect("records"));
        assert_eq!(as_f64(last.get("distance")), Some(t.distance_m), "{name}");
        if let Some(e) = track.points.last().and_then(|p| p.ele_m) {
            let got = as_f64(last.get("enhanced_altitude")).expect("altitude");
            assert!((got - e).abs() <= 0.1, "{name}: {got} vs {e}");
        }
        // Timer events: one start plus one per resume, one stop_all per pause plus the end.
        let events = recs.iter().filter(|r| r.kind() == MesgNum::Event).count();
        assert_eq!(events, 2 + 2 * track.pauses.len(), "{name}");
        let activity =
            recs.iter().find(|r| r.kind() == MesgNum::Activity).map(fit_fields).expect("activity");
        let local = as_f64(activity.get("local_timestamp")).expect("local_timestamp");
        let end_fit =
            (s.start_unix_s + i64::from(t.duration_s) - fit_writer::FIT_EPOCH_OFFSET_S) as f64;
        assert_eq!(local - end_fit, f64::from(s.utc_offset_s), "{name}");
    }
}

#[test]
fn fit_crc_matches_the_sdk_check_value() {
    // A file's CRC over itself including the CRC bytes is 0.
    let track = ride("c", smart(1), false).render(SynthFormat::Fit, "c.fit", false);
    let bytes = write_fit(&track);
    assert_eq!(fit_crc(0, &bytes), 0);
    assert_eq!(fit_crc(0, &bytes[..14]), 0);
}

#[test]
fn fixture_set_covers_every_sport_and_format() {
    let set = fixture_set();
    for kind in SportKind::ALL {
        assert!(set.iter().any(|f| f.scenario.kind == kind), "{kind:?}");
    }
    for format in [SynthFormat::Gpx, SynthFormat::Tcx, SynthFormat::Fit] {
        let n = set.iter().filter(|f| f.format == format).count();
        assert!((6..=20).contains(&n), "{format:?}: {n}");
    }
    let mut paths: Vec<String> =
        set.iter().map(|f| fixture_rel_path(f, f.copies == Copies::GzOnly)).collect();
    paths.sort();
    let before = paths.len();
    paths.dedup();
    assert_eq!(paths.len(), before, "two fixtures share a path");
    // GPX cannot hold an activity without positions.
    assert!(set.iter().all(|f| f.format != SynthFormat::Gpx || f.scenario.kind.has_gps()));
}

#[test]
fn rendering_is_deterministic() {
    for spec in fixture_set().iter().take(6) {
        let a = write_format(&spec.scenario.render(spec.format, "x", false), spec.format);
        let b = write_format(&spec.scenario.render(spec.format, "x", false), spec.format);
        assert_eq!(a, b, "{}", spec.scenario.name);
    }
    assert_eq!(corpus_file(17, 3), corpus_file(17, 3));
}

#[test]
fn corpus_mixes_formats_and_never_repeats_a_start() {
    let files: Vec<(String, Vec<u8>)> = corpus(30, 42).collect();
    let count = |ext: &str| files.iter().filter(|(n, _)| n.contains(ext)).count();
    assert_eq!(count(".gpx") + count(".tcx") + count(".fit"), 30);
    assert!(count(".gpx") >= 8 && count(".tcx") >= 8 && count(".fit") >= 8);
    let mut starts: Vec<i64> = (0..30).map(|i| corpus_scenario(i, 42).0.start_unix_s).collect();
    starts.sort();
    assert!(starts.windows(2).all(|w| w[1] - w[0] > 3600));
    for i in 0..30 {
        let (s, _, _) = corpus_scenario(i, 42);
        assert!((1800..=21_600 + 900 * 40).contains(&s.total_s()), "{}", s.total_s());
    }
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".fit")) {
        let recs = fitparser::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(recs.len() > 100, "{name}");
    }
}
