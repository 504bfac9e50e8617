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
use bincio_bas::{Detail, Lap, Privacy, Timeseries, Timestamp, TrackFeature};

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
    let started_at = Timestamp::from_unix_ms(activity.start_ms, activity.utc_offset_s)
        .ok_or_else(|| "start time out of range".to_owned())?;
    let metadata_title = csv.and_then(|r| r.name.as_deref());
    let id = ident::activity_id(&started_at, metadata_title);
    let title = metadata_title
        .map(str::to_owned)
        .or_else(|| activity.name.clone().filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| ident::auto_title(&started_at, activity.sport));
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
    let m: Metrics = metrics::compute(&activity);
    let mask = privacy::publishable_mask(&activity.samples, privacy);
    let track::Published { geo, timeseries, track: track_feature, preview } =
        track::build_published(&activity, &mask, privacy, &id, ctx.rdp_epsilon_deg);

    let laps = activity
        .laps
        .iter()
        .enumerate()
        .map(|(i, l)| Lap {
            index: i as i64,
            started_at: Timestamp::from_unix_ms(l.start_ms, activity.utc_offset_s),
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
        avg_speed_kmh: m.avg_speed_kmh,
        max_speed_kmh: m.max_speed_kmh,
        avg_hr_bpm: m.avg_hr_bpm,
        max_hr_bpm: m.max_hr_bpm,
        avg_cadence_rpm: m.avg_cadence_rpm,
        avg_power_w: m.avg_power_w,
        max_power_w: m.max_power_w,
        gear: csv.and_then(|r| r.gear.clone()),
        device: activity.device.clone(),
        bbox: geo.bbox,
        start_latlng: geo.start_latlng,
        end_latlng: geo.end_latlng,
        mmp: m.mmp.map(|v| v.into_iter().map(|(d, w)| (Int(d), Int(w))).collect()),
        best_efforts: m.best_efforts.map(|v| v.into_iter().map(|(d, t)| (d, Int(t))).collect()),
        best_climb_m: m.best_climb_m,
        laps,
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
        custom: if csv.is_some_and(|r| r.commute) {
            serde_json::Map::from_iter([("commute".to_owned(), serde_json::Value::Bool(true))])
        } else {
            serde_json::Map::new()
        },
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
