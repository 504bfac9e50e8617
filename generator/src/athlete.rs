//! `athlete.json`: records per sport, best climbs and power curves computed from a user's
//! summaries, plus the athlete's own settings (max HR, FTP, zones, seasons, gear).
//!
//! A pure function over summaries, so extraction and merge (after sidecar edits changed
//! titles or privacy) build it the same way. Unlisted and duplicate activities never hold a
//! record: a record links to its activity, and that link would reveal an unlisted one.

use crate::metrics::plausible;
use bincio_bas::lenient::Int;
use bincio_bas::{
    Athlete, AthleteSettings, ClimbRecord, EffortRecord, PowerCurve, PowerCurves, Privacy, Sport,
    SubSport, Summary, Timestamp, ValueRecord,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How many best climbs are kept.
pub const BEST_CLIMBS_KEPT: usize = 10;

/// Python's `str(float)` for the record keys: `5.0`, `1.609`, `21.097`.
pub fn distance_key(distance_km: f64) -> String {
    if distance_km.fract() == 0.0 && distance_km.abs() < 1e15 {
        format!("{distance_km:.1}")
    } else {
        format!("{distance_km}")
    }
}

fn counts(s: &Summary) -> bool {
    s.privacy != Privacy::Unlisted
}

/// Per-duration maximum of the summaries' MMP curves.
pub fn power_curve<'a>(summaries: impl Iterator<Item = &'a Summary>) -> Option<PowerCurve> {
    let mut best: BTreeMap<i64, i64> = BTreeMap::new();
    for s in summaries {
        for (d, w) in s.mmp.iter().flatten() {
            // A value beyond any human (a detail extracted before the plausibility filter
            // existed) never enters the curve: docs/plausibility.md.
            if w.0 as f64 > plausible::elite_power_bound_w(d.0) {
                continue;
            }
            let e = best.entry(d.0).or_insert(w.0);
            *e = (*e).max(w.0);
        }
    }
    if best.is_empty() {
        None
    } else {
        Some(best.into_iter().map(|(d, w)| (Int(d), Int(w))).collect())
    }
}

/// The all-time, 365-day and 90-day power curves of `summaries` (callers pass listed
/// activities only, whose `mmp` a hidden power stat has already removed). `now` decides the
/// windows.
pub fn power_curves(summaries: &[&Summary], now: Timestamp) -> PowerCurves {
    let now_ms = now.unix_ms();
    let within = |days: i64| {
        let cutoff = now_ms - days * 86_400_000;
        summaries.iter().copied().filter(move |s| s.started_at.unix_ms() >= cutoff)
    };
    PowerCurves {
        all_time: power_curve(summaries.iter().copied()),
        last_365d: power_curve(within(365)),
        last_90d: power_curve(within(90)),
    }
}

/// Build the athlete document. `now` decides the 365- and 90-day windows.
pub fn build_athlete(
    summaries: &[Summary],
    settings: AthleteSettings,
    now: Timestamp,
    generated_at: Timestamp,
) -> Athlete {
    let listed: Vec<&Summary> = summaries.iter().filter(|s| counts(s)).collect();
    let power_curve = power_curves(&listed, now);

    let records = records(&listed);
    let climbs = best_climbs(&listed);

    Athlete {
        bas_version: bincio_bas::BAS_VERSION.to_owned(),
        generated_at,
        power_curve,
        records,
        best_climbs: climbs,
        settings,
    }
}

/// True for an indoor or virtual activity (trainer, Zwift and the like, treadmill): FIT
/// `sub_sport` virtual_activity / indoor_cycling / treadmill, a Strava `VirtualRide`, a ride
/// without a single GPS fix all become the `indoor` sub-sport. Their distances and speeds come
/// from a trainer's model of a road, so they hold records of their own group and never an
/// outdoor one (as Strava keeps them apart); their power is real and counts in the power
/// curve.
pub fn is_indoor(s: &Summary) -> bool {
    s.sub_sport == Some(SubSport::Indoor)
}

/// The `athlete.json` key of a records group: the sport, `_indoor` appended for the indoor
/// and virtual group (`cycling_indoor`).
pub fn records_key(sport: Sport, indoor: bool) -> String {
    if indoor { format!("{}_indoor", sport.as_str()) } else { sport.as_str().to_owned() }
}

/// One sport's records: the fastest time per best-effort distance (km, shortest first), and
/// for hiking and walking the longest distance and the most elevation. Indoor and virtual
/// activities form their own group ([`is_indoor`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SportRecords {
    pub sport: Sport,
    /// The indoor and virtual group of the sport.
    pub indoor: bool,
    pub efforts: Vec<(f64, EffortRecord)>,
    pub longest_m: Option<ValueRecord>,
    pub most_elevation_m: Option<ValueRecord>,
}

/// Records per sport over `listed` summaries (callers pass listed activities only), in
/// [`Sport::ALL`] order, sports without any record left out. Ties go to the earliest activity
/// (a later equal effort did not beat it). The one implementation: extraction and the merge
/// write it to `athlete.json` ([`records`]) and the athlete page shows it.
pub fn sport_records(listed: &[&Summary]) -> Vec<SportRecords> {
    let ordered = oldest_first(listed);
    let mut out = Vec::new();
    for (sport, indoor) in Sport::ALL.into_iter().flat_map(|s| [(s, false), (s, true)]) {
        let mut efforts: Vec<(f64, EffortRecord)> = Vec::new();
        let mut longest: Option<ValueRecord> = None;
        let mut most_elevation: Option<ValueRecord> = None;
        // A multisport activity counts through its legs, each under its own sport; indoor
        // and virtual activities form their own group.
        let parts = ordered
            .iter()
            .filter(|s| is_indoor(s) == indoor)
            .flat_map(|s| s.sport_parts().into_iter().map(move |p| (*s, p)))
            .filter(|(_, p)| p.sport == sport);
        for (s, part) in parts {
            for (d_km, t) in part.best_efforts.into_iter().flatten() {
                // Nor does a running time faster than the world record.
                let impossible = sport == Sport::Running
                    && plausible::running_world_record_s(*d_km).is_some_and(|wr| (t.0 as f64) < wr);
                if t.0 <= 0 || impossible {
                    continue;
                }
                let rec = EffortRecord {
                    time_s: *t,
                    activity_id: s.id.clone(),
                    started_at: s.started_at,
                    title: s.title.clone(),
                };
                match efforts.iter_mut().find(|(d, _)| d == d_km) {
                    Some((_, existing)) if t.0 < existing.time_s.0 => *existing = rec,
                    Some(_) => {}
                    None => efforts.push((*d_km, rec)),
                }
            }
            if !matches!(sport, Sport::Hiking | Sport::Walking) {
                continue;
            }
            let value_rec = |v: f64| ValueRecord {
                value: v,
                activity_id: s.id.clone(),
                started_at: s.started_at,
                title: s.title.clone(),
            };
            if let Some(d) = part.distance_m.filter(|d| *d > 0.0)
                && longest.as_ref().is_none_or(|r| d > r.value)
            {
                longest = Some(value_rec(d));
            }
            if let Some(g) = part.elevation_gain_m.filter(|g| *g > 0.0)
                && most_elevation.as_ref().is_none_or(|r| g > r.value)
            {
                most_elevation = Some(value_rec(g));
            }
        }
        if efforts.is_empty() && longest.is_none() && most_elevation.is_none() {
            continue;
        }
        efforts.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.push(SportRecords {
            sport,
            indoor,
            efforts,
            longest_m: longest,
            most_elevation_m: most_elevation,
        });
    }
    out
}

/// [`sport_records`] in the `athlete.json` shape: `{sport: {"5.0": {time_s, activity_id,
/// started_at, title}, longest_m, most_elevation_m}}`.
pub fn records(listed: &[&Summary]) -> Map<String, Value> {
    let mut records = Map::new();
    for r in sport_records(listed) {
        let mut entry = Map::new();
        for (d, rec) in r.efforts {
            entry.insert(distance_key(d), serde_json::to_value(rec).unwrap_or(Value::Null));
        }
        if let Some(v) = r.longest_m {
            entry.insert("longest_m".into(), serde_json::to_value(v).unwrap_or(Value::Null));
        }
        if let Some(v) = r.most_elevation_m {
            entry.insert("most_elevation_m".into(), serde_json::to_value(v).unwrap_or(Value::Null));
        }
        records.insert(records_key(r.sport, r.indoor), Value::Object(entry));
    }
    records
}

/// The [`BEST_CLIMBS_KEPT`] best cycling climbs of `listed`, highest first; on a tie the
/// earlier activity ranks first. A virtual climb (indoor) is not a climb.
pub fn best_climbs(listed: &[&Summary]) -> Vec<ClimbRecord> {
    let mut climbs: Vec<ClimbRecord> = oldest_first(listed)
        .iter()
        .filter(|s| !is_indoor(s))
        .flat_map(|s| s.sport_parts().into_iter().map(move |p| (*s, p)))
        .filter(|(_, p)| p.sport == Sport::Cycling)
        .filter_map(|(s, p)| {
            p.best_climb_m.filter(|c| *c > 0.0).map(|c| ClimbRecord {
                climb_m: c,
                activity_id: s.id.clone(),
                started_at: s.started_at,
                title: s.title.clone(),
            })
        })
        .collect();
    climbs.sort_by(|a, b| {
        b.climb_m
            .total_cmp(&a.climb_m)
            .then(a.started_at.unix_ms().cmp(&b.started_at.unix_ms()))
            .then(a.activity_id.cmp(&b.activity_id))
    });
    climbs.truncate(BEST_CLIMBS_KEPT);
    climbs
}

/// Stable, deterministic order: oldest first (then by ID), so the first activity to set a
/// record keeps it on a tie.
fn oldest_first<'a>(listed: &[&'a Summary]) -> Vec<&'a Summary> {
    let mut ordered = listed.to_vec();
    ordered
        .sort_by(|a, b| a.started_at.unix_ms().cmp(&b.started_at.unix_ms()).then(a.id.cmp(&b.id)));
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, at: &str, sport: Sport) -> Summary {
        Summary {
            id: id.into(),
            title: Some(id.into()),
            sport,
            started_at: Timestamp::parse(at).unwrap(),
            ..Summary::default()
        }
    }

    #[test]
    fn records_keep_the_fastest_and_skip_unlisted() {
        let mut a = summary("a", "2024-01-01T08:00:00Z", Sport::Running);
        a.best_efforts = Some(vec![(5.0, Int(1500)), (1.609, Int(400))]);
        a.distance_m = Some(10_000.0);
        let mut b = summary("b", "2024-02-01T08:00:00Z", Sport::Running);
        b.best_efforts = Some(vec![(5.0, Int(1400))]);
        let mut hidden = summary("h", "2024-03-01T08:00:00Z", Sport::Running);
        hidden.best_efforts = Some(vec![(5.0, Int(1000))]);
        hidden.privacy = Privacy::Unlisted;
        let now = Timestamp::parse("2024-03-02T00:00:00Z").unwrap();
        let ath = build_athlete(&[a, b, hidden], AthleteSettings::default(), now, now);
        let run = ath.records["running"].as_object().unwrap();
        assert_eq!(run["5.0"]["time_s"], 1400);
        assert_eq!(run["5.0"]["activity_id"], "b");
        assert_eq!(run["1.609"]["time_s"], 400);
        // Longest and most elevation are hiking and walking records only.
        let keys: Vec<_> = run.keys().cloned().collect();
        assert_eq!(keys, ["1.609", "5.0"]);
    }

    #[test]
    fn old_details_beyond_human_bounds_hold_no_record() {
        let mut spiky = summary("spiky", "2024-01-01T08:00:00Z", Sport::Cycling);
        spiky.mmp = Some(vec![(Int(1), Int(47_140)), (Int(60), Int(380))]);
        let mut ok = summary("ok", "2024-01-02T08:00:00Z", Sport::Cycling);
        ok.mmp = Some(vec![(Int(1), Int(1100)), (Int(60), Int(350))]);
        let mut run = summary("run", "2024-01-03T08:00:00Z", Sport::Running);
        run.best_efforts = Some(vec![(0.4, Int(39)), (1.0, Int(106)), (5.0, Int(1200))]);
        let now = Timestamp::parse("2024-03-01T00:00:00Z").unwrap();
        let ath = build_athlete(&[spiky, ok, run], AthleteSettings::default(), now, now);
        assert_eq!(ath.power_curve.all_time, Some(vec![(Int(1), Int(1100)), (Int(60), Int(380))]));
        let keys: Vec<_> = ath.records["running"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["5.0"]);
    }

    #[test]
    fn power_curve_windows_use_instants() {
        let mut old = summary("old", "2023-01-01T08:00:00Z", Sport::Cycling);
        old.mmp = Some(vec![(Int(1), Int(900)), (Int(60), Int(400))]);
        let mut new = summary("new", "2024-02-20T08:00:00+05:00", Sport::Cycling);
        new.mmp = Some(vec![(Int(1), Int(700)), (Int(60), Int(450))]);
        let now = Timestamp::parse("2024-03-01T00:00:00Z").unwrap();
        let ath = build_athlete(&[old, new], AthleteSettings::default(), now, now);
        assert_eq!(ath.power_curve.all_time, Some(vec![(Int(1), Int(900)), (Int(60), Int(450))]));
        assert_eq!(ath.power_curve.last_90d, Some(vec![(Int(1), Int(700)), (Int(60), Int(450))]));
    }

    #[test]
    fn best_climbs_are_sorted_and_capped() {
        let mut all = Vec::new();
        for i in 0..12 {
            let sport = if i == 11 { Sport::Running } else { Sport::Cycling };
            let mut s = summary(&format!("c{i:02}"), "2024-01-01T08:00:00Z", sport);
            s.best_climb_m = Some(f64::from(i) * 10.0);
            all.push(s);
        }
        let now = Timestamp::parse("2024-03-01T00:00:00Z").unwrap();
        let ath = build_athlete(&all, AthleteSettings::default(), now, now);
        assert_eq!(ath.best_climbs.len(), 10);
        // The 110 m "climb" of a run is not a cycling climb.
        assert_eq!(ath.best_climbs[0].climb_m, 100.0);
        assert_eq!(distance_key(21.097), "21.097");
        assert_eq!(distance_key(5.0), "5.0");
    }
}
