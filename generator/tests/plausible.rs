//! Numbers a person trusts (docs/plausibility.md): the device sample files as one athlete's
//! history, and adversarial fixtures generated here (spiky power, dropouts, GPS and altitude
//! jumps, a virtual ride, a ski file with an altitude jump), must give records, power curves
//! and maxima a human could have produced; cleaning must remove the garbage and nothing else
//! (metrics of a clean ride and of its spiked copy agree within 2 %, a genuine 1,500 W sprint
//! is kept); every activity counts on the stats page.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;
use bincio_bas::{Athlete, Detail, Sport, SubSport, UserFeed};
use bincio_gen::extract::{self, ExtractOptions};
use bincio_gen::metrics::plausible::{
    self, elite_power_bound_w, max_speed_ms, running_world_record_s,
};
use bincio_gen::metrics::{self, Metrics};
use bincio_gen::model::{Activity, Format, Sample};
use bincio_gen::site::{self, SiteOptions};
use common::{details, read_json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn devices() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/devices")
}

#[test]
fn the_device_samples_as_one_athlete_stay_within_human_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let user = data.join("ath");
    let mut opts = ExtractOptions::new(&user, "ath");
    opts.inputs = vec![devices()];
    extract::extract_user(&opts, &|_, _| {}).unwrap();
    let all = details(&user);
    assert!(all.len() >= 30, "only {} activities extracted", all.len());

    // Every activity: MMP within the elite curve, maxima within the sport's bounds, no
    // running best effort faster than the world record.
    for (file, d) in &all {
        let broken = plausible::violations(d);
        assert!(broken.is_empty(), "{file}: {broken:?}");
        if let Some(v) = d.max_speed_kmh {
            assert!(v <= max_speed_ms(d.sport) * 3.6, "{file}: {v} km/h for {}", d.sport);
        }
    }
    // The Stages file's spikes (tens of kW, a session maximum of 62,854 W) are gone and the
    // detail says so.
    let stages = &all["fff__activity_multiple_developer_index.fit"];
    let cleaning = stages.cleaning.as_ref().expect("the Stages file reports its cleaning");
    assert!(cleaning.removed["power"] > 0, "{cleaning:?}");
    assert!(cleaning.notes["power"].iter().any(|l| l.contains("62854")), "{cleaning:?}");
    assert!(stages.max_power_w.unwrap() <= 2800, "{:?}", stages.max_power_w);
    // The cross-country ski's barometer settling from 1,257 m to 2,258 m is not climbing
    // (it counted 826 m before cleaning; the sum of every rise of the settled profile,
    // noise included, is 118 m).
    let ski = &all["tcxtest__cross-country-skiing_activity_1.tcx"];
    assert!(ski.elevation_gain_m.unwrap() < 130.0, "{:?}", ski.elevation_gain_m);
    assert!(ski.cleaning.as_ref().unwrap().removed["elevation"] >= 3);

    // The athlete file, rebuilt from the clean details.
    let athlete: Athlete = read_json(&user.join("athlete.json"));
    let curve = athlete.power_curve.all_time.clone().unwrap();
    for (d, w) in &curve {
        assert!(w.0 as f64 <= elite_power_bound_w(d.0), "power curve {} s: {} W", d.0, w.0);
    }
    assert!(curve[0].1.0 >= 600, "a real 1 s peak remains: {curve:?}");
    let by_id: BTreeMap<&str, &Detail> = all.values().map(|d| (d.id.as_str(), d)).collect();
    for (group, recs) in &athlete.records {
        let indoor_group = group.ends_with("_indoor");
        for (key, rec) in recs.as_object().unwrap() {
            let Some(id) = rec.get("activity_id").and_then(|v| v.as_str()) else { continue };
            let d = by_id[id];
            // Indoor and virtual activities hold records of their own group only.
            assert_eq!(
                d.sub_sport == Some(SubSport::Indoor),
                indoor_group,
                "{group}/{key} held by {id} ({:?})",
                d.sub_sport
            );
            if group == "running" {
                let km: f64 = key.parse().unwrap();
                let t = rec["time_s"].as_f64().unwrap();
                let wr = running_world_record_s(km).unwrap();
                assert!(t >= wr, "running {km} km in {t} s beats the world record {wr} s");
            }
        }
    }
    // The virtual rides (Zwift, MyWhoosh, TrainingPeaks Virtual) have their own group, and
    // the outdoor cycling records are the outdoor rides'.
    assert!(athlete.records.contains_key("cycling_indoor"), "{:?}", athlete.records.keys());
    assert!(athlete.records.contains_key("cycling"), "{:?}", athlete.records.keys());

    // Stats: every listed activity counts, with a distance or without (indoor rowing, a
    // trainer ride without GPS).
    let out = tmp.path().join("site");
    site::build(&SiteOptions {
        data_dir: data,
        out_dir: out.clone(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    })
    .unwrap();
    let feed: UserFeed = read_json(&user.join("index.json"));
    let listed = feed.activities.len();
    let without_distance =
        feed.activities.iter().filter(|s| s.distance_m.is_none_or(|d| d <= 0.0)).count();
    assert!(without_distance > 0, "the sample set has activities without distance");
    let stats = std::fs::read_to_string(out.join("u/ath/stats/index.html")).unwrap();
    assert!(
        stats.contains(&format!("<span class=\"count\">{listed} activities</span>")),
        "stats page does not count all {listed} activities"
    );
    // The indoor rowing of 2017 (no distance) keeps its year.
    assert!(stats.contains("aria-label=\"2017 calendar\""));
}

// ---- generated fixtures -----------------------------------------------------------------

const T0_MS: i64 = 1_717_228_800_000; // 2024-06-01T08:00:00Z

/// Deterministic noise (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize % n
    }
}

fn activity(sport: Sport, sub_sport: Option<SubSport>, samples: Vec<Sample>) -> Activity {
    let mut a = Activity::empty(Format::Fit);
    a.sport = sport;
    a.sub_sport = sub_sport;
    a.start_ms = samples.first().map_or(T0_MS, |s| s.ts_ms);
    a.altitude_source = bincio_bas::AltitudeSource::Barometric;
    a.samples = samples;
    a
}

/// A clean one-hour ride at 1 Hz: rolling power around 220 W with a genuine 1,500 W
/// 10-second sprint at 30 minutes, heart rate drifting up from 130 bpm, 8–10 m/s on a
/// device speed/distance channel and GPS, barometric rolling hills.
fn clean_ride() -> Activity {
    let mut rng = Rng(0x5eed);
    let mut cum = 0.0;
    let samples = (0..3600)
        .map(|i| {
            let t = f64::from(i);
            let sprint = (1800..1810).contains(&i);
            let power = if sprint {
                1500.0
            } else {
                220.0 + 40.0 * (t / 97.0).sin() + 20.0 * rng.next_f64()
            };
            let speed = if sprint { 14.0 } else { 9.0 + (t / 300.0).sin() };
            cum += speed;
            let lat = 45.0 + cum / 111_195.0;
            Sample {
                ts_ms: T0_MS + i64::from(i) * 1000,
                lat_deg: Some(lat),
                lon_deg: Some(7.0),
                ele_m: Some(400.0 + 60.0 * (t / 500.0).sin() + 0.3 * rng.next_f64()),
                hr_bpm: Some((130.0 + 25.0 * t / 3600.0 + 3.0 * rng.next_f64()).round() as u16),
                cadence_rpm: Some(if sprint { 115 } else { 88 }),
                power_w: Some(power.round() as u16),
                speed_ms: Some(speed),
                temperature_c: None,
                distance_m: Some(cum),
            }
        })
        .collect();
    activity(Sport::Cycling, Some(SubSport::Road), samples)
}

/// A copy of `a` with spikes and dropouts injected at random (seeded) samples away from
/// the sprint: power spikes above every human bound and moderate ones of +1,200 W, pedalling
/// zeros and missing values, heart-rate spikes and dropouts, device speed spikes, GPS
/// jumps of about a kilometre, altitude jumps of hundreds of metres.
fn spoiled(a: &Activity, seed: u64) -> Activity {
    let mut rng = Rng(seed);
    let mut b = a.clone();
    let n = b.samples.len();
    let pick = |rng: &mut Rng| loop {
        let i = 20 + rng.below(n - 40);
        if !(1780..1830).contains(&i) {
            return i;
        }
    };
    for _ in 0..15 {
        let i = pick(&mut rng);
        b.samples[i].power_w = Some(3000 + rng.below(60_000) as u16);
    }
    for _ in 0..10 {
        let i = pick(&mut rng);
        b.samples[i].power_w = b.samples[i].power_w.map(|w| w + 1200);
    }
    for _ in 0..8 {
        let i = pick(&mut rng);
        for k in i..i + 1 + rng.below(3) {
            b.samples[k].power_w = Some(0);
        }
        let j = pick(&mut rng);
        for k in j..j + 2 + rng.below(4) {
            b.samples[k].power_w = None;
        }
    }
    for _ in 0..10 {
        let i = pick(&mut rng);
        b.samples[i].hr_bpm = Some(if rng.next_f64() < 0.5 { 250 } else { 215 });
        let j = pick(&mut rng);
        for k in j..j + 3 {
            b.samples[k].hr_bpm = if rng.next_f64() < 0.5 { Some(0) } else { Some(60) };
        }
    }
    for _ in 0..10 {
        let i = pick(&mut rng);
        b.samples[i].speed_ms = Some(40.0 + 30.0 * rng.next_f64());
        let j = pick(&mut rng);
        b.samples[j].lat_deg = b.samples[j].lat_deg.map(|l| l + 0.01);
        let k = pick(&mut rng);
        b.samples[k].ele_m = b.samples[k].ele_m.map(|e| e + 300.0 + 500.0 * rng.next_f64());
    }
    // A barometer settling after switch-on: the first samples far below the truth.
    for (k, s) in b.samples.iter_mut().take(5).enumerate() {
        s.ele_m = s.ele_m.map(|e| e - 800.0 / (k as f64 + 1.0));
    }
    b
}

fn within(label: &str, got: Option<f64>, want: Option<f64>, rel: f64) {
    let (g, w) = (got.unwrap_or_else(|| panic!("{label}: none")), want.unwrap());
    assert!((g - w).abs() <= w.abs() * rel, "{label}: {g} vs clean {w}");
}

fn assert_close(m: &Metrics, clean: &Metrics) {
    let f = |v: Option<i64>| v.map(|x| x as f64);
    within("avg power", f(m.avg_power_w), f(clean.avg_power_w), 0.02);
    within("max power", f(m.max_power_w), f(clean.max_power_w), 0.02);
    within("avg hr", f(m.avg_hr_bpm), f(clean.avg_hr_bpm), 0.02);
    within("max hr", f(m.max_hr_bpm), f(clean.max_hr_bpm), 0.02);
    within("max speed", m.max_speed_kmh, clean.max_speed_kmh, 0.02);
    within("distance", m.distance_m, clean.distance_m, 0.02);
    within("elevation gain", m.elevation_gain_m, clean.elevation_gain_m, 0.02);
    within("best climb", m.best_climb_m, clean.best_climb_m, 0.02);
    let (mmp, clean_mmp) = (m.mmp.as_ref().unwrap(), clean.mmp.as_ref().unwrap());
    assert_eq!(mmp.len(), clean_mmp.len());
    for ((d, w), (_, cw)) in mmp.iter().zip(clean_mmp) {
        within(&format!("mmp {d} s"), Some(*w as f64), Some(*cw as f64), 0.02);
    }
    let (e, ce) = (m.best_efforts.as_ref().unwrap(), clean.best_efforts.as_ref().unwrap());
    assert_eq!(e.len(), ce.len());
    for ((km, s), (_, cs)) in e.iter().zip(ce) {
        within(&format!("best {km} km"), Some(*s as f64), Some(*cs as f64), 0.02);
    }
}

#[test]
fn a_genuine_sprint_inside_a_clean_ride_is_kept() {
    let clean = metrics::compute(&clean_ride());
    assert!(clean.cleaning.is_empty(), "a clean ride lost samples: {:?}", clean.cleaning);
    assert_eq!(clean.max_power_w, Some(1500));
    let mmp: BTreeMap<i64, i64> = clean.mmp.unwrap().into_iter().collect();
    assert_eq!(mmp[&10], 1500);
    assert_eq!(mmp[&5], 1500);
}

/// Property-style: five seeded spoilings by default; `PLAUSIBLE_SEEDS=1000` runs a thousand
/// (about a minute), which is how the thresholds were probed.
#[test]
fn spiked_copies_of_a_clean_ride_give_the_clean_metrics_within_2_percent() {
    let ride = clean_ride();
    let clean = metrics::compute(&ride);
    let seeds: Vec<u64> = match std::env::var("PLAUSIBLE_SEEDS") {
        Ok(n) => {
            (1..=n.parse::<u64>().unwrap()).map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect()
        }
        Err(_) => vec![1, 7, 42, 1234, 99_991],
    };
    for seed in seeds {
        let dirty = spoiled(&ride, seed);
        let m = metrics::compute(&dirty);
        assert_close(&m, &clean);
        // The report says what went.
        for ch in ["power", "heart_rate", "speed", "gps", "elevation"] {
            assert!(m.cleaning.removed.get(ch).is_some_and(|n| *n > 0), "seed {seed}: {ch}");
        }
        // Cleaning is idempotent: what it leaves passes its own tests.
        let mut once = dirty.clone();
        plausible::clean(&mut once);
        let again = plausible::clean(&mut once);
        assert!(again.is_empty(), "seed {seed}: second pass removed {again:?}");
        // And the spikes were there to be removed: the dirty samples peak beyond a human.
        let raw_max = dirty.samples.iter().filter_map(|s| s.power_w).max().unwrap();
        assert!(raw_max > 2800, "seed {seed}: {raw_max}");
    }
}

/// The same on a GPS-only recording (no device speed or distance channel): distance, speed
/// and best efforts come from the positions, whose jumps are removed.
#[test]
fn spiked_copies_of_a_gps_only_ride_give_the_clean_metrics_within_2_percent() {
    let mut ride = clean_ride();
    for s in &mut ride.samples {
        s.speed_ms = None;
        s.distance_m = None;
    }
    let clean = metrics::compute(&ride);
    for seed in [3, 11, 2024] {
        let m = metrics::compute(&spoiled(&ride, seed));
        assert_close(&m, &clean);
        assert!(m.cleaning.removed["gps"] >= 8, "seed {seed}: {:?}", m.cleaning);
    }
}

/// A steady 10 km run at 4:00 /km on GPS with jumps of a few hundred metres (out and back)
/// and a stretch recorded in a car at 60 km/h: no best effort may beat the world record.
#[test]
fn gps_jumps_and_a_car_ride_set_no_running_record() {
    let mut rng = Rng(77);
    let mut cum = 0.0;
    let mut samples: Vec<Sample> = (0..2400)
        .map(|i| {
            cum += if (1000..1060).contains(&i) { 16.7 } else { 4.1667 };
            Sample {
                ts_ms: T0_MS + i64::from(i) * 1000,
                lat_deg: Some(45.0 + cum / 111_195.0),
                lon_deg: Some(7.0),
                ..Sample::default()
            }
        })
        .collect();
    for _ in 0..20 {
        let i = 10 + rng.below(2300);
        samples[i].lat_deg = samples[i].lat_deg.map(|l| l + 0.004);
    }
    let m = metrics::compute(&activity(Sport::Running, None, samples));
    let efforts = m.best_efforts.clone().unwrap();
    assert!(!efforts.is_empty());
    for (km, s) in &efforts {
        let wr = running_world_record_s(*km).unwrap();
        assert!(*s as f64 >= wr, "{km} km in {s} s");
    }
    assert!(m.max_speed_kmh.unwrap() <= 45.0, "{:?}", m.max_speed_kmh);
    assert!(m.cleaning.removed["gps"] >= 15, "{:?}", m.cleaning);
}

/// A virtual ride (Zwift, sub-sport virtual → indoor) faster and longer than any outdoor
/// ride holds the indoor records and none of the outdoor ones.
#[test]
fn a_virtual_ride_holds_records_of_its_own_group_only() {
    use bincio_bas::lenient::Int;
    use bincio_bas::{AthleteSettings, Summary, Timestamp};
    let summary = |id: &str, sub: Option<SubSport>, five_km_s: i64| Summary {
        id: id.into(),
        title: Some(id.into()),
        sport: Sport::Cycling,
        sub_sport: sub,
        started_at: Timestamp::parse("2024-06-01T08:00:00Z").unwrap(),
        best_efforts: Some(vec![(5.0, Int(five_km_s))]),
        best_climb_m: Some(if sub.is_some() { 900.0 } else { 120.0 }),
        mmp: Some(vec![(Int(60), Int(if sub.is_some() { 450 } else { 400 }))]),
        ..Summary::default()
    };
    let outdoor = summary("outdoor", None, 540);
    let zwift = summary("zwift", Some(SubSport::Indoor), 420);
    let now = Timestamp::parse("2024-06-02T00:00:00Z").unwrap();
    let a =
        bincio_gen::athlete::build_athlete(&[outdoor, zwift], AthleteSettings::default(), now, now);
    assert_eq!(a.records["cycling"]["5.0"]["activity_id"], "outdoor");
    assert_eq!(a.records["cycling_indoor"]["5.0"]["activity_id"], "zwift");
    // A virtual climb is not a climb; virtual power is real power.
    assert_eq!(a.best_climbs.len(), 1);
    assert_eq!(a.best_climbs[0].activity_id, "outdoor");
    assert_eq!(a.power_curve.all_time, Some(vec![(Int(60), Int(450))]));
}

/// A ride without any GPS fix is on a trainer: it becomes indoor when extracted.
#[test]
fn a_ride_without_gps_is_indoor() {
    use bincio_gen::sport::infer_sub_sport;
    assert_eq!(infer_sub_sport(Sport::Cycling, None, true, false), Some(SubSport::Indoor));
    assert_eq!(infer_sub_sport(Sport::Cycling, None, true, true), None);
    assert_eq!(infer_sub_sport(Sport::Running, None, true, false), None);
    assert_eq!(
        infer_sub_sport(Sport::Cycling, Some(SubSport::Road), true, false),
        Some(SubSport::Road)
    );
}

/// A cross-country ski at 1,500 m whose altitude settles from 600 m at switch-on and jumps
/// by a kilometre for a sample mid-way: the climbing is the real 80 m.
#[test]
fn a_ski_file_with_altitude_jumps_counts_only_real_climbing() {
    let samples: Vec<Sample> = (0..1800)
        .map(|i| {
            let t = f64::from(i);
            // One 80 m climb over ten minutes, then a descent.
            let real = 1500.0 + 80.0 * ((t - 300.0) / 600.0).clamp(0.0, 1.0)
                - 80.0 * ((t - 1200.0) / 400.0).clamp(0.0, 1.0);
            let ele = match i {
                0 => 600.0,
                1 => 1100.0,
                2 => 1350.0,
                3 => 1440.0,
                1000 => real + 1000.0,
                _ => real,
            };
            Sample {
                ts_ms: T0_MS + i64::from(i) * 1000,
                ele_m: Some(ele),
                speed_ms: Some(4.0),
                hr_bpm: Some(140),
                ..Sample::default()
            }
        })
        .collect();
    let m = metrics::compute(&activity(Sport::Skiing, Some(SubSport::Nordic), samples));
    within("gain", m.elevation_gain_m, Some(80.0), 0.05);
    within("best climb", m.best_climb_m, Some(80.0), 0.05);
    assert!(m.cleaning.removed["elevation"] >= 4, "{:?}", m.cleaning);
}

/// Spiky power (a Stages-like file): spikes of tens of kW and a session maximum of
/// 62,854 W. The per-activity MMP stays within the elite curve and the device maximum is
/// not copied; a doubled power meter (every value twice the truth, 60 min at 560 W) loses
/// its whole channel.
#[test]
fn spiky_power_and_insane_device_maxima_are_not_published() {
    let mut ride = clean_ride();
    for i in (100..3500).step_by(211) {
        if !(1780..1830).contains(&i) {
            ride.samples[i].power_w = Some(40_000);
        }
    }
    ride.totals = Some(bincio_gen::model::DeviceTotals {
        max_power_w: Some(62_854.0),
        avg_power_w: Some(240.0),
        ..Default::default()
    });
    let m = metrics::compute(&ride);
    for (d, w) in m.mmp.as_ref().unwrap() {
        assert!(*w as f64 <= elite_power_bound_w(*d), "{d} s {w} W");
    }
    assert_eq!(m.max_power_w, Some(1500));
    assert_eq!(m.avg_power_w, Some(240), "a sane device average is kept");
    assert!(m.cleaning.notes["power"].iter().any(|l| l.contains("62854")));

    let mut doubled = clean_ride();
    for s in &mut doubled.samples {
        s.power_w = s.power_w.map(|w| if w >= 1500 { w } else { (w * 5) / 2 });
    }
    let m = metrics::compute(&doubled);
    assert_eq!(m.mmp, None);
    assert_eq!(m.avg_power_w, None);
    assert!(m.cleaning.notes["power"].iter().any(|l| l.starts_with("channel dropped")));
}

/// An old store (figures from before the filter, an activity made blur_start since) is
/// fixed by `--reextract`: same IDs, privacy kept, the figures and the athlete file clean.
#[test]
fn a_reextract_fixes_an_old_store_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("ath");
    let stages = devices().join("fff__activity_multiple_developer_index.fit");
    let mut opts = ExtractOptions::new(&user, "ath");
    opts.inputs = vec![stages];
    extract::extract_user(&opts, &|_, _| {}).unwrap();
    let (file, before) = details(&user).into_iter().next().unwrap();
    // What an older version wrote: the spikes in the curve, and a privacy set since.
    let path = user.join("activities").join(format!("{}.json", before.id));
    let mut old = before.clone();
    old.mmp = Some(vec![(bincio_bas::lenient::Int(1), bincio_bas::lenient::Int(47_140))]);
    old.cleaning = None;
    old.privacy = bincio_bas::Privacy::BlurStart;
    std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
    let mut feed: serde_json::Value = read_json(&user.join("index.json"));
    feed["activities"][0]["mmp"] = serde_json::json!([[1, 47140]]);
    std::fs::write(user.join("index.json"), serde_json::to_vec(&feed).unwrap()).unwrap();

    // A plain run changes nothing: known content is not parsed again.
    let r = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!((r.unchanged, r.reextracted), (1, 0));
    assert_eq!(details(&user)[&file].mmp, old.mmp);

    opts.reextract = true;
    let r = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!((r.new_ids.len(), r.reextracted), (0, 1));
    let after = &details(&user)[&file];
    assert_eq!(after.id, before.id);
    assert_eq!(after.privacy, bincio_bas::Privacy::BlurStart);
    assert_eq!(after.mmp, before.mmp);
    assert!(after.cleaning.is_some());
    let athlete: Athlete = read_json(&user.join("athlete.json"));
    assert_eq!(athlete.power_curve.all_time.unwrap()[0].1.0, before.mmp.unwrap()[0].1.0);
}
