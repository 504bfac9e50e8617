//! Strava JSON → the internal activity → BAS artefacts.
//!
//! The streams become samples and go through [`crate::extract::build::build`] like a
//! parsed file (metrics, privacy mask, track, timeseries). The figures the user saw on
//! Strava then replace the recomputed ones: distance, moving and elapsed time, elevation
//! gain, speeds, heart rate and power (only when measured, `device_watts`), so an imported
//! ride reads the same here as there.

use crate::extract::build::{self, Artefacts, BuildContext};
use crate::extract::config::Sensors;
use crate::extract::strava_csv::CsvRow;
use crate::model::{Activity, Format, Sample};
use bincio_bas::{Privacy, Sport, SubSport, Timestamp};
use serde::Deserialize;
use std::collections::HashMap;

/// The fields of a Strava SummaryActivity that a sync uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SummaryActivity {
    pub id: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub distance: Option<f64>,
    pub moving_time: Option<f64>,
    pub elapsed_time: Option<f64>,
    pub total_elevation_gain: Option<f64>,
    pub sport_type: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub start_date: String,
    pub utc_offset: Option<f64>,
    pub trainer: bool,
    pub commute: bool,
    pub manual: bool,
    pub private: bool,
    pub visibility: Option<String>,
    pub gear_id: Option<String>,
    pub average_speed: Option<f64>,
    pub max_speed: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub max_watts: Option<f64>,
    pub device_watts: Option<bool>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub device_name: Option<String>,
}

impl SummaryActivity {
    /// Strava's name for the sport (`sport_type`, else the deprecated `type`).
    pub fn sport_name(&self) -> &str {
        self.sport_type.as_deref().or(self.kind.as_deref()).unwrap_or("Workout")
    }

    /// Start, Unix seconds (UTC).
    pub fn start_s(&self) -> Option<i64> {
        let t = time::OffsetDateTime::parse(
            &self.start_date,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        Some(t.unix_timestamp())
    }

    /// Private on Strava (`private`, or visible only to the athlete or followers): imported
    /// unlisted, so nothing becomes more visible by moving here.
    pub fn is_private(&self) -> bool {
        self.private || matches!(self.visibility.as_deref(), Some("only_me" | "followers_only"))
    }

    /// Indoor: a trainer ride or a virtual activity. Its coordinates (if any) are a game's
    /// map, not a place: no GPS track.
    pub fn is_indoor(&self) -> bool {
        self.trainer || self.sport_name().starts_with("Virtual")
    }

    /// The store's content key: the same Strava activity is one activity, however often
    /// it is listed.
    pub fn key(&self) -> String {
        format!("{}{}", crate::extract::registry::STRAVA_KEY_PREFIX, self.id)
    }
}

/// Strava's sport names → sport and sub-sport. Everything unknown is `other`, never an
/// error; rowing, paddling and gym types have no closer sport of ours.
pub fn sport(name: &str) -> (Sport, Option<SubSport>) {
    let sport = match name {
        // Snowboarding and snowshoeing are done on the ski slopes and trails.
        "Snowboard" => Sport::Skiing,
        "Snowshoe" => Sport::Hiking,
        "Wheelchair" | "Handcycle" | "Velomobile" => Sport::Cycling,
        _ => crate::sport::normalise_sport(name),
    };
    let sub = match name {
        "Snowboard" => Some(SubSport::Alpine),
        "VirtualRow" => Some(SubSport::Indoor),
        _ if sport == Sport::Other => None,
        _ => crate::sport::normalise_sub_sport(name),
    };
    (sport, sub)
}

/// A StreamSet (`key_by_type=true`): stream name → `{data: [...]}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamSet(pub HashMap<String, Stream>);

/// One stream.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Stream {
    #[serde(default)]
    pub data: Vec<serde_json::Value>,
}

impl StreamSet {
    fn numbers(&self, key: &str) -> Vec<Option<f64>> {
        self.0
            .get(key)
            .map(|s| s.data.iter().map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    }

    fn latlng(&self) -> Vec<Option<(f64, f64)>> {
        self.0
            .get("latlng")
            .map(|s| {
                s.data
                    .iter()
                    .map(|v| {
                        let a = v.as_array()?;
                        Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn round_to(x: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    (x * f).round() / f
}

fn to_u16(v: Option<f64>) -> Option<u16> {
    v.filter(|x| x.is_finite() && *x >= 0.0 && *x <= f64::from(u16::MAX)).map(|x| x.round() as u16)
}

/// The internal activity of a Strava activity. `streams` is `None` for a manual activity
/// (a summary only).
pub fn to_activity(s: &SummaryActivity, streams: Option<&StreamSet>) -> Result<Activity, String> {
    let start_s =
        s.start_s().ok_or_else(|| format!("start_date {:?} is not a date", s.start_date))?;
    let mut a = Activity::empty(Format::Fit);
    let (sport, sub_sport) = sport(s.sport_name());
    a.sport = sport;
    a.sub_sport =
        if s.trainer && sport == Sport::Cycling { Some(SubSport::Indoor) } else { sub_sport };
    a.utc_offset_s = s.utc_offset.map(|o| o.round() as i32);
    a.start_ms = start_s * 1000;
    a.name = s.name.clone();
    a.description = s.description.clone().filter(|d| !d.trim().is_empty());
    a.device = s.device_name.clone();
    a.source = Some("strava_api".to_owned());
    if let Some(st) = streams {
        let time = st.numbers("time");
        let latlng = st.latlng();
        let alt = st.numbers("altitude");
        let hr = st.numbers("heartrate");
        let cad = st.numbers("cadence");
        // Estimated power (no power meter) is Strava's guess, not a measurement.
        let watts = if s.device_watts == Some(false) { Vec::new() } else { st.numbers("watts") };
        let vel = st.numbers("velocity_smooth");
        let dist = st.numbers("distance");
        let temp = st.numbers("temp");
        let at = |v: &Vec<Option<f64>>, i: usize| v.get(i).copied().flatten();
        for (i, t) in time.iter().enumerate() {
            let Some(t) = t.filter(|t| t.is_finite()) else { continue };
            let pos = if s.is_indoor() { None } else { latlng.get(i).copied().flatten() };
            a.samples.push(Sample {
                ts_ms: a.start_ms + (t * 1000.0).round() as i64,
                lat_deg: pos.map(|p| p.0),
                lon_deg: pos.map(|p| p.1),
                ele_m: at(&alt, i),
                hr_bpm: to_u16(at(&hr, i)),
                cadence_rpm: to_u16(at(&cad, i)),
                power_w: to_u16(at(&watts, i)),
                speed_ms: at(&vel, i),
                temperature_c: at(&temp, i),
                distance_m: at(&dist, i),
            });
        }
        a.normalise_time_order();
        a.start_ms = start_s * 1000;
    }
    Ok(a)
}

/// Build the artefacts of one Strava activity, with Strava's own figures.
pub fn build(
    s: &SummaryActivity,
    streams: Option<&StreamSet>,
    gear: &HashMap<String, String>,
    default_privacy: Privacy,
    rdp_epsilon_deg: f64,
    sensors: Sensors,
) -> Result<Artefacts, String> {
    let mut activity = to_activity(s, streams)?;
    build::apply_sensors(&mut activity, sensors);
    let privacy = if s.is_private() { Privacy::Unlisted } else { default_privacy };
    let key = s.key();
    // The CSV row is how a file import learns its Strava title, description and ID; a sync
    // knows them from the summary, and the ID they give is the same as the bulk export's.
    let row = CsvRow {
        activity_id: Some(s.id.to_string()),
        name: s.name.clone().filter(|n| !n.trim().is_empty()),
        description: s.description.clone().filter(|d| !d.trim().is_empty()),
        activity_type: Some(s.sport_name().to_owned()),
        ..CsvRow::default()
    };
    let ctx = BuildContext {
        source_file: &key,
        source_hash: &key,
        privacy,
        rdp_epsilon_deg,
        csv: Some(&row),
        // Strava states the offset (`utc_offset`); the start time is set from it below.
        time_zone: "UTC",
    };
    let mut art = build::build(activity, &ctx)?;
    let d = &mut art.detail;
    d.source = Some("strava_api".to_owned());
    d.started_at = Timestamp::from_unix_ms(
        s.start_s().unwrap_or_default() * 1000,
        s.utc_offset.map(|o| o.round() as i32).unwrap_or(0),
    )
    .ok_or_else(|| "start time out of range".to_owned())?;
    if s.utc_offset.is_some() {
        // The offset Strava showed the user is the activity's own, as a file's would be.
        d.time_zone = None;
        d.time_zone_source = Some(bincio_bas::tz::TimeZoneSource::File);
    }
    let pos = |v: Option<f64>| v.filter(|x| x.is_finite() && *x > 0.0);
    // Zero is a figure too (a gym session): Strava's distance always wins when it has one.
    if let Some(m) = s.distance.filter(|x| x.is_finite() && *x >= 0.0) {
        d.distance_m = Some(round_to(m, 1));
    }
    if let Some(t) = pos(s.elapsed_time) {
        d.duration_s = Some(t.round() as i64);
    }
    if let Some(t) = pos(s.moving_time) {
        d.moving_time_s = Some(t.round() as i64);
    }
    if let Some(g) = s.total_elevation_gain.filter(|x| x.is_finite() && *x >= 0.0) {
        d.elevation_gain_m = Some(round_to(g, 1));
    }
    if let Some(v) = pos(s.average_speed) {
        d.avg_speed_kmh = Some(round_to(v * 3.6, 2));
    }
    if let Some(v) = pos(s.max_speed) {
        d.max_speed_kmh = Some(round_to(v * 3.6, 2));
    }
    if let Some(v) = pos(s.average_heartrate) {
        d.avg_hr_bpm = Some(v.round() as i64);
    }
    if let Some(v) = pos(s.max_heartrate) {
        d.max_hr_bpm = Some(v.round() as i64);
    }
    if let Some(v) = pos(s.average_cadence).filter(|_| sensors.cadence) {
        d.avg_cadence_rpm = Some(v.round() as i64);
    }
    if s.device_watts == Some(true) && sensors.power {
        d.avg_power_w = pos(s.average_watts).map(|v| v.round() as i64).or(d.avg_power_w);
        d.max_power_w = pos(s.max_watts).map(|v| v.round() as i64).or(d.max_power_w);
    } else {
        d.avg_power_w = None;
        d.max_power_w = None;
        d.mmp = None;
    }
    if !sensors.heart_rate {
        d.avg_hr_bpm = None;
        d.max_hr_bpm = None;
    }
    d.gear = s.gear_id.as_ref().and_then(|g| gear.get(g).cloned());
    if s.commute {
        d.custom.insert("commute".into(), serde_json::Value::Bool(true));
    }
    d.custom
        .insert("strava_url".into(), format!("https://www.strava.com/activities/{}", s.id).into());
    Ok(art)
}

/// Gear ID → name, from the athlete (`bikes`, `shoes`).
pub fn gear_names(athlete: &serde_json::Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for list in ["bikes", "shoes"] {
        for g in athlete.get(list).and_then(|v| v.as_array()).into_iter().flatten() {
            let id = g.get("id").and_then(|v| v.as_str());
            let name = g
                .get("name")
                .and_then(|v| v.as_str())
                .or_else(|| g.get("nickname").and_then(|v| v.as_str()));
            if let (Some(id), Some(name)) = (id, name) {
                out.insert(id.to_owned(), name.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strava_sport_maps_and_unknown_ones_are_other() {
        assert_eq!(sport("Ride"), (Sport::Cycling, Some(SubSport::Road)));
        assert_eq!(sport("MountainBikeRide"), (Sport::Cycling, Some(SubSport::Mountain)));
        assert_eq!(sport("GravelRide"), (Sport::Cycling, Some(SubSport::Gravel)));
        assert_eq!(sport("EBikeRide").0, Sport::Cycling);
        assert_eq!(sport("VirtualRide"), (Sport::Cycling, Some(SubSport::Indoor)));
        assert_eq!(sport("TrailRun"), (Sport::Running, Some(SubSport::Trail)));
        assert_eq!(sport("VirtualRun"), (Sport::Running, Some(SubSport::Indoor)));
        assert_eq!(sport("Swim").0, Sport::Swimming);
        assert_eq!(sport("Hike").0, Sport::Hiking);
        assert_eq!(sport("Walk").0, Sport::Walking);
        assert_eq!(sport("AlpineSki"), (Sport::Skiing, Some(SubSport::Alpine)));
        assert_eq!(sport("NordicSki"), (Sport::Skiing, Some(SubSport::Nordic)));
        assert_eq!(sport("BackcountrySki").0, Sport::Skiing);
        assert_eq!(sport("Snowboard"), (Sport::Skiing, Some(SubSport::Alpine)));
        assert_eq!(sport("Rowing"), (Sport::Other, None));
        assert_eq!(sport("WeightTraining"), (Sport::Other, None));
        assert_eq!(sport("SomethingNew"), (Sport::Other, None));
    }

    #[test]
    fn private_followers_only_and_only_me_are_private() {
        let mut s = SummaryActivity::default();
        assert!(!s.is_private());
        s.visibility = Some("followers_only".into());
        assert!(s.is_private());
        s.visibility = Some("everyone".into());
        s.private = true;
        assert!(s.is_private());
    }
}
