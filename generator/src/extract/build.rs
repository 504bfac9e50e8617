//! One parsed activity → its BAS artefacts (detail, timeseries, track), in memory.
//!
//! Pure apart from the clock-free inputs it is given: the same file always gives the same
//! bytes, which is what makes re-extraction idempotent and outputs diffable.

use super::config::Sensors;
use super::ident;
use super::strava_csv::CsvRow;
use crate::metrics::{self, Metrics};
use crate::model::Activity;
use crate::{privacy, track};
use bincio_bas::layout;
use bincio_bas::lenient::Int;
use bincio_bas::{Detail, Lap, Leg, Privacy, Sport, Timeseries, Timestamp, TrackFeature};

/// Timestamps before this (1990-01-01T00:00:00Z, in ms) mean a device clock was never set.
pub const EARLIEST_PLAUSIBLE_MS: i64 = 631_152_000_000;

/// Everything written for one activity.
#[derive(Clone, Debug)]
pub struct Artefacts {
    pub detail: Detail,
    pub timeseries: Option<Timeseries>,
    pub track: Option<TrackFeature>,
    /// Number of samples in the file (for dedup ranking).
    pub point_count: usize,
    /// How many of HR, power and cadence the activity has (for dedup ranking).
    pub sensor_channels: i64,
}

/// Inputs besides the activity itself.
#[derive(Clone, Debug)]
pub struct BuildContext<'a> {
    pub source_file: &'a str,
    pub source_hash: &'a str,
    pub privacy: Privacy,
    pub rdp_epsilon_deg: f64,
    pub csv: Option<&'a CsvRow>,
    /// The instance's time zone, for activities with neither an offset nor coordinates.
    pub time_zone: &'a str,
}

/// Drop the channels of disabled sensors before anything is computed or published.
pub fn apply_sensors(activity: &mut Activity, sensors: Sensors) {
    if sensors == Sensors::default() {
        return;
    }
    for s in &mut activity.samples {
        if !sensors.heart_rate {
            s.hr_bpm = None;
        }
        if !sensors.cadence {
            s.cadence_rpm = None;
        }
        if !sensors.power {
            s.power_w = None;
        }
        if !sensors.temperature {
            s.temperature_c = None;
        }
    }
    if let Some(t) = activity.totals.as_mut() {
        if !sensors.heart_rate {
            t.avg_hr_bpm = None;
            t.max_hr_bpm = None;
        }
        if !sensors.power {
            t.avg_power_w = None;
            t.max_power_w = None;
        }
        if !sensors.cadence {
            t.avg_cadence_rpm = None;
        }
    }
}

fn round_to(x: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    (x * f).round() / f
}

fn round_i(x: f64) -> i64 {
    x.round() as i64
}

/// Build the detail and the published artefacts of one activity.
pub fn build(mut activity: Activity, ctx: &BuildContext<'_>) -> Result<Artefacts, String> {
    if activity.start_ms < EARLIEST_PLAUSIBLE_MS {
        return Err("timestamps are before 1990: the device clock was not set".into());
    }
    // Metadata enrichment: the CSV knows a sport only the file did not.
    let csv = ctx.csv;
    if activity.sport == bincio_bas::Sport::Other
        && let Some(t) = csv.and_then(|r| r.activity_type.as_deref())
    {
        activity.sport = crate::sport::normalise_sport(t);
        if activity.sub_sport.is_none() {
            activity.sub_sport = crate::sport::normalise_sub_sport(t);
        }
    }
    activity.sub_sport = crate::sport::infer_sub_sport(
        activity.sport,
        activity.sub_sport,
        !activity.samples.is_empty(),
        activity.samples.iter().any(|s| crate::metrics::series::position(s).is_some()),
    );
    let local = crate::localtime::resolve(&activity, ctx.time_zone);
    let started_at = Timestamp::from_unix_ms(activity.start_ms, local.offset_s)
        .ok_or_else(|| "start time out of range".to_owned())?;
    let metadata_title = csv.and_then(|r| r.name.as_deref());
    let id = ident::activity_id(&started_at, metadata_title);
    let title = metadata_title
        .map(str::to_owned)
        .or_else(|| activity.name.clone().filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| {
            if activity.sport == Sport::Multisport {
                let sports: Vec<Sport> =
                    activity.legs.iter().filter(|l| !l.transition).map(|l| l.sport).collect();
                ident::multisport_title(&started_at, &sports)
            } else {
                ident::auto_title(&started_at, activity.sport)
            }
        });
    let description = csv
        .and_then(|r| r.description.clone())
        .or_else(|| activity.description.clone().filter(|d| !d.trim().is_empty()));
    let strava_id = csv.and_then(|r| r.activity_id.clone());
    let source = if strava_id.is_some() {
        "strava_export".to_owned()
    } else {
        activity.source.clone().unwrap_or_else(|| activity.format.fallback_source().to_owned())
    };

    // Private on Strava: never more visible here (unlisted, unless already stricter).
    let privacy = match csv {
        Some(r) if r.private && ctx.privacy == Privacy::Public => Privacy::Unlisted,
        _ => ctx.privacy,
    };
    // Cleaned once, before any figure is computed or any sample published: the timeseries
    // and track show what the metrics were computed from.
    // The series of the cleaned samples is built once, by cleaning, and shared.
    let (cleaning, series) = metrics::plausible::clean_with_series(&mut activity);
    let m: Metrics = metrics::compute_cleaned_with(&activity, cleaning, &series);
    let mask = privacy::publishable_mask(&activity.samples, privacy);
    let track::Published { geo, timeseries, track: track_feature, preview } =
        track::build_published_with(&activity, &mask, privacy, &id, ctx.rdp_epsilon_deg, &series);
    drop(series);

    let laps = activity
        .laps
        .iter()
        .enumerate()
        .map(|(i, l)| Lap {
            index: i as i64,
            started_at: Timestamp::from_unix_ms(l.start_ms, local.offset_s),
            duration_s: l.timer_s.or(l.elapsed_s).map(|d| round_to(d, 1)),
            distance_m: l.distance_m.map(|d| round_to(d, 1)),
            elevation_gain_m: l.ascent_m.map(|d| round_to(d, 1)),
            avg_speed_kmh: l.avg_speed_ms.map(|v| round_to(v * 3.6, 2)),
            avg_hr_bpm: l.avg_hr_bpm.map(round_i),
            avg_power_w: l.avg_power_w.map(round_i),
            max_speed_kmh: l.max_speed_ms.map(|v| round_to(v * 3.6, 2)),
            max_hr_bpm: l.max_hr_bpm.map(round_i),
            max_power_w: l.max_power_w.map(round_i),
            avg_cadence_rpm: l.avg_cadence_rpm.map(round_i),
        })
        .collect();

    // Each leg is measured like an activity of its own sport over its own samples and
    // device totals: that is what keeps a triathlon's bike leg out of running records.
    let legs: Vec<Leg> = activity
        .legs
        .iter()
        .enumerate()
        .map(|(i, leg)| {
            // The leg is an owned copy already: cleaned in place against its own sport's
            // bounds, without the second copy `metrics::compute` would make.
            let mut leg_activity = activity.leg_activity(leg);
            let (cleaning, series) = metrics::plausible::clean_with_series(&mut leg_activity);
            let lm = metrics::compute_cleaned_with(&leg_activity, cleaning, &series);
            let efforts = |v: Vec<(f64, i64)>| v.into_iter().map(|(d, t)| (d, Int(t))).collect();
            Leg {
                index: i as i64,
                sport: leg.sport,
                sub_sport: leg.sub_sport,
                transition: leg.transition,
                started_at: Timestamp::from_unix_ms(leg.start_ms, local.offset_s)
                    .unwrap_or(started_at),
                duration_s: lm.duration_s,
                moving_time_s: lm.moving_time_s,
                distance_m: lm.distance_m,
                elevation_gain_m: lm.elevation_gain_m,
                avg_speed_kmh: lm.avg_speed_kmh,
                max_speed_kmh: lm.max_speed_kmh,
                avg_hr_bpm: lm.avg_hr_bpm,
                max_hr_bpm: lm.max_hr_bpm,
                avg_cadence_rpm: lm.avg_cadence_rpm,
                avg_power_w: lm.avg_power_w,
                best_efforts: lm.best_efforts.filter(|_| !leg.transition).map(efforts),
                best_climb_m: lm.best_climb_m.filter(|_| !leg.transition),
            }
        })
        .collect();
    // A multisport activity's own maxima and efforts would mix sports (a run with the bike
    // leg's 60 km/h); its legs carry them instead.
    let multisport = activity.sport == Sport::Multisport;
    let pool = activity.pool.as_ref().and_then(|p| {
        metrics::swim::pool_metrics(p, &[]).map(|m| (p.pool_length_m, m.active_lengths as i64))
    });

    let sensor_channels =
        [m.avg_hr_bpm.is_some(), m.avg_power_w.is_some(), m.avg_cadence_rpm.is_some()]
            .iter()
            .filter(|b| **b)
            .count() as i64;
    let point_count = activity.samples.len();

    let detail = Detail {
        bas_version: bincio_bas::BAS_VERSION.to_owned(),
        id: id.clone(),
        title: Some(title),
        description,
        sport: activity.sport,
        sub_sport: activity.sub_sport,
        started_at,
        distance_m: m.distance_m,
        duration_s: m.duration_s,
        moving_time_s: m.moving_time_s,
        elevation_gain_m: m.elevation_gain_m,
        elevation_loss_m: m.elevation_loss_m,
        avg_speed_kmh: m.avg_speed_kmh.filter(|_| !multisport),
        max_speed_kmh: m.max_speed_kmh.filter(|_| !multisport),
        avg_hr_bpm: m.avg_hr_bpm,
        max_hr_bpm: m.max_hr_bpm,
        avg_cadence_rpm: m.avg_cadence_rpm,
        avg_power_w: m.avg_power_w,
        max_power_w: m.max_power_w,
        calories_kcal: activity
            .totals
            .as_ref()
            .and_then(|t| t.calories_kcal)
            .filter(|k| k.is_finite() && *k > 0.0)
            .map(|k| k.round() as i64),
        gear: csv.and_then(|r| r.gear.clone()),
        device: activity.device.clone(),
        bbox: geo.bbox,
        start_latlng: geo.start_latlng,
        end_latlng: geo.end_latlng,
        mmp: m.mmp.map(|v| v.into_iter().map(|(d, w)| (Int(d), Int(w))).collect()),
        best_efforts: m
            .best_efforts
            .filter(|_| !multisport)
            .map(|v| v.into_iter().map(|(d, t)| (d, Int(t))).collect()),
        best_climb_m: m.best_climb_m.filter(|_| !multisport),
        laps,
        legs,
        pool_length_m: pool.map(|p| p.0),
        pool_lengths: pool.map(|p| p.1),
        timeseries_url: timeseries.as_ref().map(|_| layout::timeseries_url(&id)),
        source: Some(source),
        source_file: Some(ctx.source_file.to_owned()),
        source_hash: Some(ctx.source_hash.to_owned()),
        altitude_source: activity.altitude_source,
        strava_id,
        duplicate_of: None,
        privacy,
        track_url: track_feature.as_ref().map(|_| layout::track_url(&id)),
        preview_coords: preview,
        time_zone: local.zone,
        time_zone_source: Some(local.source),
        custom: if csv.is_some_and(|r| r.commute) {
            serde_json::Map::from_iter([("commute".to_owned(), serde_json::Value::Bool(true))])
        } else {
            serde_json::Map::new()
        },
        cleaning: (!m.cleaning.is_empty()).then(|| m.cleaning.clone()),
    };
    Ok(Artefacts { detail, timeseries, track: track_feature, point_count, sensor_channels })
}

/// Give an activity a different ID (after a collision): every URL that names it follows.
pub fn rename(artefacts: &mut Artefacts, new_id: &str) {
    let d = &mut artefacts.detail;
    d.id = new_id.to_owned();
    if d.timeseries_url.is_some() {
        d.timeseries_url = Some(layout::timeseries_url(new_id));
    }
    if d.track_url.is_some() {
        d.track_url = Some(layout::track_url(new_id));
    }
    if let Some(t) = artefacts.track.as_mut() {
        t.properties.id = new_id.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activity, DeviceTotals, Format, Leg as ModelLeg, Sample};
    use bincio_bas::{Sport, SubSport};

    /// A triathlon built sample by sample: 600 s open-water swim at 1 m/s, 60 s T1, 1,800 s
    /// ride at 10 m/s (36 km/h), 60 s T2, 1,800 s run at 3.5 m/s — one FIT session each.
    fn triathlon() -> Activity {
        let mut a = Activity::empty(Format::Fit);
        let t0 = 1_720_000_000_000_i64; // 2024-07-03T09:46:40Z
        // (sport, sub-sport, transition, seconds, m/s)
        let plan = [
            (Sport::Swimming, Some(SubSport::OpenWater), false, 600, 1.0),
            (Sport::Other, None, true, 60, 1.0),
            (Sport::Cycling, None, false, 1800, 10.0),
            (Sport::Other, None, true, 60, 1.0),
            (Sport::Running, None, false, 1800, 3.5),
        ];
        let (mut t, mut dist) = (0i64, 0.0f64);
        for (sport, sub_sport, transition, secs, v) in plan {
            let start = t;
            let leg_start_dist = dist;
            for _ in 0..secs {
                a.samples.push(Sample {
                    ts_ms: t0 + t * 1000,
                    lat_deg: Some(45.0 + dist / 111_195.0),
                    lon_deg: Some(7.6),
                    distance_m: Some(dist),
                    speed_ms: Some(v),
                    hr_bpm: Some(150),
                    ..Sample::default()
                });
                t += 1;
                dist += v;
            }
            a.legs.push(ModelLeg {
                sport,
                sub_sport,
                transition,
                start_ms: t0 + start * 1000,
                end_ms: t0 + (t - 1) * 1000,
                totals: DeviceTotals {
                    distance_m: Some(dist - v - leg_start_dist),
                    elapsed_s: Some((secs - 1) as f64),
                    timer_s: Some((secs - 1) as f64),
                    ..DeviceTotals::default()
                },
            });
        }
        a.sport = Sport::Multisport;
        a.utc_offset_s = Some(7200);
        a.start_ms = t0;
        a
    }

    fn ctx() -> BuildContext<'static> {
        BuildContext {
            source_file: "tri.fit",
            source_hash: "00",
            privacy: Privacy::Public,
            rdp_epsilon_deg: 0.0001,
            csv: None,
            time_zone: "UTC",
        }
    }

    #[test]
    fn each_leg_keeps_its_own_sport_figures_and_efforts() {
        let d = build(triathlon(), &ctx()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.detail.sport, Sport::Multisport);
        assert_eq!(d.detail.title.as_deref(), Some("Morning Triathlon"));
        // No whole-activity maximum or effort that mixes the bike into a run.
        assert_eq!((d.detail.max_speed_kmh, d.detail.best_efforts.as_ref()), (None, None));
        let sports: Vec<(Sport, bool)> =
            d.detail.legs.iter().map(|l| (l.sport, l.transition)).collect();
        assert_eq!(
            sports,
            [
                (Sport::Swimming, false),
                (Sport::Other, true),
                (Sport::Cycling, false),
                (Sport::Other, true),
                (Sport::Running, false)
            ]
        );
        let ride = &d.detail.legs[2];
        assert_eq!(ride.started_at.to_string(), "2024-07-03T11:57:40+02:00");
        assert_eq!(ride.distance_m, Some(17_990.0));
        assert_eq!(ride.max_speed_kmh, Some(36.0));
        let run = &d.detail.legs[4];
        assert_eq!(run.max_speed_kmh, Some(12.6));
        // 1 km at 3.5 m/s is 285.7 s: the run's efforts, not the ride's 100 s.
        let km = run.best_efforts.as_ref().and_then(|e| e.iter().find(|(k, _)| *k == 1.0));
        assert!(km.is_some_and(|(_, t)| (285..=287).contains(&t.0)), "{km:?}");
        let swim = &d.detail.legs[0];
        let hundred = swim.best_efforts.as_ref().and_then(|e| e.iter().find(|(k, _)| *k == 0.1));
        assert_eq!(hundred.map(|(_, t)| t.0), Some(100));
        assert!(d.detail.legs[1].best_efforts.is_none(), "a transition has no efforts");

        // Records follow the legs: the ride never sets a running record.
        let summary = d.detail.summary();
        let records = crate::athlete::sport_records(&[&summary]);
        let by_sport = |s: Sport| records.iter().find(|r| r.sport == s);
        let run_km = by_sport(Sport::Running)
            .and_then(|r| r.efforts.iter().find(|(k, _)| *k == 1.0))
            .map(|(_, e)| e.time_s.0);
        assert!(run_km.is_some_and(|t| t >= 285), "{run_km:?}");
        assert!(
            by_sport(Sport::Cycling).is_some_and(|r| r.efforts.iter().any(|(k, _)| *k == 10.0))
        );
        assert!(by_sport(Sport::Multisport).is_none());
        assert!(by_sport(Sport::Other).is_none(), "transitions hold no record");
    }
}
