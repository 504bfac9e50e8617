//! BAS v1 JSON shapes: feeds, summaries, details, timeseries, tracks, athlete and manifest.
//!
//! Field order follows the reference implementation (docs/decisions.md, "Compatibility we
//! keep") so diffs against old data directories stay readable. Unknown fields are ignored on
//! read; optional fields missing on read become `None`. Units live in the field names.

use crate::lenient::{self, Int};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The sport vocabulary. Anything unknown reads as [`Sport::Other`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Sport {
    Cycling,
    Running,
    Hiking,
    Walking,
    Swimming,
    Skiing,
    /// Several sports in one recording (a triathlon, a brick): the activity has `legs`, each
    /// with its own sport, and records, best efforts and the stats page follow the legs
    /// (docs/extraction.md, "Multisport").
    Multisport,
    #[default]
    #[serde(other)]
    Other,
}

impl Sport {
    /// Every sport, in the reference's display order; `Multisport` last so the reference's
    /// indices (`Other` = 6) stay what they were.
    pub const ALL: [Sport; 8] = [
        Sport::Running,
        Sport::Cycling,
        Sport::Swimming,
        Sport::Hiking,
        Sport::Walking,
        Sport::Skiing,
        Sport::Other,
        Sport::Multisport,
    ];

    /// The lower-case BAS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sport::Cycling => "cycling",
            Sport::Running => "running",
            Sport::Hiking => "hiking",
            Sport::Walking => "walking",
            Sport::Swimming => "swimming",
            Sport::Skiing => "skiing",
            Sport::Other => "other",
            Sport::Multisport => "multisport",
        }
    }

    /// Parse an exact BAS name.
    pub fn from_bas(name: &str) -> Option<Sport> {
        Sport::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Pace is shown for running and walking (per km) and swimming (per 100 m), speed for
    /// the rest.
    pub fn uses_pace(self) -> bool {
        matches!(self, Sport::Running | Sport::Walking | Sport::Swimming)
    }
}

impl fmt::Display for Sport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sub-sport vocabulary. Unknown values read as `None` (see [`de_sub_sport`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubSport {
    Road,
    Mountain,
    Gravel,
    Indoor,
    Trail,
    Track,
    Nordic,
    Alpine,
    OpenWater,
    Pool,
}

impl SubSport {
    /// Every sub-sport.
    pub const ALL: [SubSport; 10] = [
        SubSport::Road,
        SubSport::Mountain,
        SubSport::Gravel,
        SubSport::Indoor,
        SubSport::Trail,
        SubSport::Track,
        SubSport::Nordic,
        SubSport::Alpine,
        SubSport::OpenWater,
        SubSport::Pool,
    ];

    /// The snake_case BAS name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubSport::Road => "road",
            SubSport::Mountain => "mountain",
            SubSport::Gravel => "gravel",
            SubSport::Indoor => "indoor",
            SubSport::Trail => "trail",
            SubSport::Track => "track",
            SubSport::Nordic => "nordic",
            SubSport::Alpine => "alpine",
            SubSport::OpenWater => "open_water",
            SubSport::Pool => "pool",
        }
    }

    /// Parse an exact BAS name.
    pub fn from_bas(name: &str) -> Option<SubSport> {
        SubSport::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// `deserialize_with` for `sub_sport`: unknown strings (e.g. a legacy `treadmill`) become `None`.
pub fn de_sub_sport<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SubSport>, D::Error> {
    let v = Option::<String>::deserialize(d)?;
    Ok(v.and_then(|s| SubSport::from_bas(&s)))
}

/// Who may see an activity's location and listing. `private` is the legacy name of `unlisted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    #[default]
    Public,
    BlurStart,
    NoGps,
    #[serde(alias = "private")]
    Unlisted,
}

impl Privacy {
    /// The BAS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::BlurStart => "blur_start",
            Privacy::NoGps => "no_gps",
            Privacy::Unlisted => "unlisted",
        }
    }

    /// Parse a BAS name (`private` reads as unlisted).
    pub fn from_bas(name: &str) -> Option<Privacy> {
        match name {
            "public" => Some(Privacy::Public),
            "blur_start" => Some(Privacy::BlurStart),
            "no_gps" => Some(Privacy::NoGps),
            "unlisted" | "private" => Some(Privacy::Unlisted),
            _ => None,
        }
    }
}

/// Where the altitude channel came from; decides how hard elevation is smoothed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AltitudeSource {
    Barometric,
    Gps,
    #[default]
    #[serde(other)]
    Unknown,
}

/// `[duration_s, watts]` pairs of the mean-maximal power curve.
pub type PowerCurve = Vec<(Int, Int)>;
/// `[distance_km, seconds]` pairs of best efforts.
pub type BestEfforts = Vec<(f64, Int)>;

/// The feed owner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Owner {
    pub handle: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Reference extension: the athlete section of the extract config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<Value>,
}

/// `{handle}/edits/profile.json`: the public profile of an account, written by the daemon
/// whenever it changes (the database stays its source of truth for the API). The generator
/// copies it into the user's feed `owner` (`{handle}/index.json`) before merging, so the
/// name reaches every page and the published feed in the job the daemon queues with it.
/// A file rather than a database read keeps the generator free of the daemon's database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Profile {
    #[serde(default)]
    pub display_name: Option<String>,
}

/// One card in a feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub sport: Sport,
    #[serde(default, deserialize_with = "de_sub_sport")]
    pub sub_sport: Option<SubSport>,
    pub started_at: Timestamp,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration_s: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub moving_time_s: Option<i64>,
    #[serde(default)]
    pub elevation_gain_m: Option<f64>,
    #[serde(default)]
    pub avg_speed_kmh: Option<f64>,
    #[serde(default)]
    pub max_speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_cadence_rpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_power_w: Option<i64>,
    #[serde(default)]
    pub mmp: Option<PowerCurve>,
    #[serde(default)]
    pub best_efforts: Option<BestEfforts>,
    #[serde(default)]
    pub best_climb_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub privacy: Privacy,
    #[serde(default)]
    pub detail_url: Option<String>,
    #[serde(default)]
    pub track_url: Option<String>,
    #[serde(default)]
    pub preview_coords: Option<Vec<[f64; 2]>>,
    /// The legs of a multisport activity (see [`Leg`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legs: Option<Vec<Leg>>,
    /// Present after merge: `highlight`, and anything a sidecar adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
    /// Set only in the combined feed: the owner of the activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The activity's page as an absolute URL, in published feeds when the instance knows
    /// its `public_url`, so an instance that follows this one links to the page where it
    /// lives (see `docs/federation.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

/// A lap as the device recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Lap {
    pub index: i64,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default)]
    pub elevation_gain_m: Option<f64>,
    #[serde(default)]
    pub avg_speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_power_w: Option<i64>,
    #[serde(default)]
    pub max_speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_power_w: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_cadence_rpm: Option<i64>,
}

/// One leg of a multisport activity (a FIT session: swim, bike, run, or the transition
/// between two), with its own sport and figures. Records, best efforts and the stats page
/// count each leg under its own sport, never the whole activity under one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Leg {
    pub index: i64,
    #[serde(default)]
    pub sport: Sport,
    #[serde(default, deserialize_with = "de_sub_sport")]
    pub sub_sport: Option<SubSport>,
    /// A transition (T1, T2): counted in the activity's time, never in a sport.
    #[serde(default)]
    pub transition: bool,
    pub started_at: Timestamp,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration_s: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub moving_time_s: Option<i64>,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default)]
    pub elevation_gain_m: Option<f64>,
    #[serde(default)]
    pub avg_speed_kmh: Option<f64>,
    #[serde(default)]
    pub max_speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_cadence_rpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_power_w: Option<i64>,
    #[serde(default)]
    pub best_efforts: Option<BestEfforts>,
    #[serde(default)]
    pub best_climb_m: Option<f64>,
}

/// What one sport did in an activity: the whole activity, or one non-transition leg of a
/// multisport one. Records, best efforts and stats are counted over these parts, so the
/// cycling leg of a triathlon never sets a running record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SportPart<'a> {
    pub sport: Sport,
    pub distance_m: Option<f64>,
    pub duration_s: Option<i64>,
    pub moving_time_s: Option<i64>,
    pub elevation_gain_m: Option<f64>,
    pub best_efforts: Option<&'a BestEfforts>,
    pub best_climb_m: Option<f64>,
}

impl Leg {
    fn part(&self) -> SportPart<'_> {
        SportPart {
            sport: self.sport,
            distance_m: self.distance_m,
            duration_s: self.duration_s,
            moving_time_s: self.moving_time_s,
            elevation_gain_m: self.elevation_gain_m,
            best_efforts: self.best_efforts.as_ref(),
            best_climb_m: self.best_climb_m,
        }
    }
}

/// `activities/{id}.json`: the summary fields plus everything the activity page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Detail {
    pub bas_version: String,
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub sport: Sport,
    #[serde(default, deserialize_with = "de_sub_sport")]
    pub sub_sport: Option<SubSport>,
    pub started_at: Timestamp,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration_s: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub moving_time_s: Option<i64>,
    #[serde(default)]
    pub elevation_gain_m: Option<f64>,
    #[serde(default)]
    pub elevation_loss_m: Option<f64>,
    #[serde(default)]
    pub avg_speed_kmh: Option<f64>,
    #[serde(default)]
    pub max_speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_hr_bpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_cadence_rpm: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub avg_power_w: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_power_w: Option<i64>,
    /// Energy in kcal as the recording device estimated it (FIT session `total_calories`,
    /// TCX lap `Calories` summed); absent when the file has none (0 counts as none). Never
    /// computed: a figure from a formula would pass for the device's.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub calories_kcal: Option<i64>,
    #[serde(default)]
    pub gear: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    #[serde(default)]
    pub bbox: Option<[f64; 4]>,
    /// `[lat, lon]`.
    #[serde(default)]
    pub start_latlng: Option<[f64; 2]>,
    #[serde(default)]
    pub end_latlng: Option<[f64; 2]>,
    #[serde(default)]
    pub mmp: Option<PowerCurve>,
    #[serde(default)]
    pub best_efforts: Option<BestEfforts>,
    #[serde(default)]
    pub best_climb_m: Option<f64>,
    #[serde(default)]
    pub laps: Vec<Lap>,
    /// The legs of a multisport activity (see [`Leg`]); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<Leg>,
    /// Pool swims: the pool's length (m) and how many lengths were swum (rests excluded).
    /// For swims `avg_cadence_rpm` is the stroke rate (strokes per minute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_length_m: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub pool_lengths: Option<i64>,
    #[serde(default)]
    pub timeseries_url: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_file: Option<String>,
    #[serde(default)]
    pub source_hash: Option<String>,
    #[serde(default)]
    pub altitude_source: AltitudeSource,
    #[serde(default)]
    pub strava_id: Option<String>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub privacy: Privacy,
    /// Also in the detail so a summary can be rebuilt from it without the track.
    #[serde(default)]
    pub track_url: Option<String>,
    #[serde(default)]
    pub preview_coords: Option<Vec<[f64; 2]>>,
    /// The IANA zone `started_at`'s offset was derived from (the start coordinates' zone or
    /// the instance's), absent when the file stated its own offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Where `started_at`'s offset comes from; absent in files written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_source: Option<crate::tz::TimeZoneSource>,
    #[serde(default)]
    pub custom: Map<String, Value>,
    /// What the plausibility filter removed before any figure was computed (absent when
    /// nothing was): see [`Cleaning`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaning: Option<Cleaning>,
}

/// The channels a [`Cleaning`] report is keyed by. They are the names of the hidden stats
/// (`hidden::HiddenStat`) where one covers the channel, so hiding a stat also hides what
/// was removed from it; `gps` is the position channel.
pub const CLEANING_CHANNELS: [&str; 5] = ["power", "heart_rate", "speed", "gps", "elevation"];

/// Per-activity report of the plausibility filter (docs/plausibility.md): samples that no
/// athlete or device could have produced are removed (and short gaps interpolated) before
/// any metric is computed, impossible device session values are not copied, and figures
/// that still break a human limit are withheld. Keyed by channel ([`CLEANING_CHANNELS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Cleaning {
    /// Samples removed, per channel.
    #[serde(default)]
    pub removed: std::collections::BTreeMap<String, i64>,
    /// One line per device value ignored or figure withheld, per channel.
    #[serde(default)]
    pub notes: std::collections::BTreeMap<String, Vec<String>>,
}

impl Cleaning {
    /// True when nothing was removed, ignored or withheld.
    pub fn is_empty(&self) -> bool {
        self.removed.values().all(|n| *n == 0) && self.notes.values().all(Vec::is_empty)
    }

    /// Count `n` removed samples of `channel`.
    pub fn count(&mut self, channel: &str, n: usize) {
        if n > 0 {
            *self.removed.entry(channel.to_owned()).or_default() += n as i64;
        }
    }

    /// Add a note to `channel`.
    pub fn note(&mut self, channel: &str, line: String) {
        self.notes.entry(channel.to_owned()).or_default().push(line);
    }

    /// Drop everything said about `channel` (a hidden stat).
    pub fn forget(&mut self, channel: &str) {
        self.removed.remove(channel);
        self.notes.remove(channel);
    }

    /// One line: `power 37 samples (device max_power_w 62854 W ignored); elevation 5 samples`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for ch in CLEANING_CHANNELS {
            let n = self.removed.get(ch).copied().unwrap_or(0);
            let notes = self.notes.get(ch).map(|v| v.join("; ")).unwrap_or_default();
            match (n, notes.is_empty()) {
                (0, true) => {}
                (0, false) => parts.push(format!("{ch}: {notes}")),
                (n, true) => parts.push(format!("{ch} {n} samples")),
                (n, false) => parts.push(format!("{ch} {n} samples ({notes})")),
            }
        }
        if parts.is_empty() { "nothing".to_owned() } else { parts.join("; ") }
    }
}

impl Detail {
    /// The feed card for this activity (`detail_url` relative to the user directory).
    pub fn summary(&self) -> Summary {
        Summary {
            id: self.id.clone(),
            title: self.title.clone(),
            sport: self.sport,
            sub_sport: self.sub_sport,
            started_at: self.started_at,
            distance_m: self.distance_m,
            duration_s: self.duration_s,
            moving_time_s: self.moving_time_s,
            elevation_gain_m: self.elevation_gain_m,
            avg_speed_kmh: self.avg_speed_kmh,
            max_speed_kmh: self.max_speed_kmh,
            avg_hr_bpm: self.avg_hr_bpm,
            max_hr_bpm: self.max_hr_bpm,
            avg_cadence_rpm: self.avg_cadence_rpm,
            avg_power_w: self.avg_power_w,
            mmp: self.mmp.clone(),
            best_efforts: self.best_efforts.clone(),
            best_climb_m: self.best_climb_m,
            source: self.source.clone(),
            privacy: self.privacy,
            detail_url: Some(format!("activities/{}.json", self.id)),
            track_url: self.track_url.clone(),
            preview_coords: self.preview_coords.clone(),
            legs: (!self.legs.is_empty()).then(|| self.legs.clone()),
            custom: None,
            handle: None,
            page_url: None,
        }
    }
}

impl Summary {
    /// The sport parts of this activity: its non-transition legs when it has legs, else the
    /// activity itself (see [`SportPart`]).
    pub fn sport_parts(&self) -> Vec<SportPart<'_>> {
        match &self.legs {
            Some(legs) if !legs.is_empty() => {
                legs.iter().filter(|l| !l.transition).map(Leg::part).collect()
            }
            _ => vec![SportPart {
                sport: self.sport,
                distance_m: self.distance_m,
                duration_s: self.duration_s,
                moving_time_s: self.moving_time_s,
                elevation_gain_m: self.elevation_gain_m,
                best_efforts: self.best_efforts.as_ref(),
                best_climb_m: self.best_climb_m,
            }],
        }
    }
}

/// `activities/{id}.timeseries.json`: parallel arrays, at most one sample per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Timeseries {
    pub t: Vec<i64>,
    /// `None` (JSON `null`) when the location is not published.
    #[serde(default)]
    pub lat: Option<Vec<Option<f64>>>,
    #[serde(default)]
    pub lon: Option<Vec<Option<f64>>>,
    #[serde(default)]
    pub elevation_m: Vec<Option<f64>>,
    #[serde(default)]
    pub speed_kmh: Vec<Option<f64>>,
    #[serde(default)]
    pub hr_bpm: Vec<Option<i64>>,
    #[serde(default)]
    pub cadence_rpm: Vec<Option<i64>>,
    #[serde(default)]
    pub power_w: Vec<Option<i64>>,
    #[serde(default)]
    pub temperature_c: Vec<Option<f64>>,
}

/// `activities/{id}.geojson`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackFeature {
    #[serde(rename = "type")]
    pub kind: String,
    pub geometry: LineString,
    pub properties: TrackProperties,
}

/// GeoJSON LineString of `[lon, lat]` or `[lon, lat, ele]` positions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineString {
    #[serde(rename = "type")]
    pub kind: String,
    pub coordinates: Vec<Vec<f64>>,
}

/// Properties of the track feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct TrackProperties {
    #[serde(default)]
    pub id: String,
    /// km/h, parallel to the coordinates.
    #[serde(default)]
    pub speeds: Vec<Option<f64>>,
    #[serde(default)]
    pub simplification: Option<String>,
    #[serde(default)]
    pub rdp_epsilon: Option<f64>,
    #[serde(default)]
    pub point_count_original: Option<i64>,
    #[serde(default)]
    pub point_count_simplified: Option<i64>,
}

/// A year shard entry of a merged user feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YearShard {
    pub year: i64,
    pub url: String,
    #[serde(default)]
    pub count: i64,
}

/// `{handle}/index.json` (extract output) and `{handle}/_merged/index[-YYYY].json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserFeed {
    pub bas_version: String,
    pub owner: Owner,
    pub generated_at: Timestamp,
    #[serde(default)]
    pub shards: Vec<YearShard>,
    #[serde(default)]
    pub activities: Vec<Summary>,
}

/// The `instance` block of the root manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct InstanceInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub private: Option<bool>,
    /// Unknown keys are kept, so an admin's additions survive a rebuild.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user shard of the root manifest; `url` is relative, or absolute for a remote instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandleShard {
    pub handle: String,
    pub url: String,
}

/// `{root}/index.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootManifest {
    pub bas_version: String,
    #[serde(default)]
    pub instance: InstanceInfo,
    pub generated_at: Timestamp,
    #[serde(default)]
    pub shards: Vec<HandleShard>,
    #[serde(default)]
    pub activities: Vec<Summary>,
}

/// A record held by one activity (fastest time over a distance).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EffortRecord {
    pub time_s: Int,
    pub activity_id: String,
    pub started_at: Timestamp,
    #[serde(default)]
    pub title: Option<String>,
}

/// A record held by one activity (longest, most elevation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueRecord {
    pub value: f64,
    pub activity_id: String,
    pub started_at: Timestamp,
    #[serde(default)]
    pub title: Option<String>,
}

/// One of the best climbs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClimbRecord {
    pub climb_m: f64,
    pub activity_id: String,
    pub started_at: Timestamp,
    #[serde(default)]
    pub title: Option<String>,
}

/// All-time, 365-day and 90-day power curves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct PowerCurves {
    #[serde(default)]
    pub all_time: Option<PowerCurve>,
    #[serde(default)]
    pub last_365d: Option<PowerCurve>,
    #[serde(default)]
    pub last_90d: Option<PowerCurve>,
}

/// A named date range for the power curve (`start`/`end` as `YYYY-MM-DD`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Season {
    pub name: String,
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
}

/// Records of one sport: `"5.0" → EffortRecord`, plus longest and most elevation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct SportRecords {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_m: Option<ValueRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub most_elevation_m: Option<ValueRecord>,
    /// Keyed by the distance in km as Python prints a float (`"5.0"`, `"1.609"`).
    #[serde(flatten)]
    pub efforts: Map<String, Value>,
}

/// The athlete's own settings (from config or `edits/athlete.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct AthleteSettings {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub max_hr: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub ftp_w: Option<i64>,
    /// `[[lo, hi], ...]` in bpm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hr_zones: Option<Vec<[f64; 2]>>,
    /// `[[lo, hi], ...]` in watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_zones: Option<Vec<[f64; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasons: Option<Vec<Season>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gear: Option<Value>,
}

/// `{handle}/athlete.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Athlete {
    pub bas_version: String,
    pub generated_at: Timestamp,
    #[serde(default)]
    pub power_curve: PowerCurves,
    /// Sport name → records, in the reference's sport order.
    #[serde(default)]
    pub records: Map<String, Value>,
    #[serde(default)]
    pub best_climbs: Vec<ClimbRecord>,
    #[serde(flatten)]
    pub settings: AthleteSettings,
}

/// One entry of `{handle}/_errors.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureEntry {
    pub path: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_legacy_private_as_unlisted() {
        let p: Privacy = serde_json::from_str("\"private\"").unwrap();
        assert_eq!(p, Privacy::Unlisted);
        let s: Sport = serde_json::from_str("\"yoga\"").unwrap();
        assert_eq!(s, Sport::Other);
    }

    #[test]
    fn summary_reads_floats_as_ints_and_unknown_sub_sport_as_none() {
        let s: Summary = serde_json::from_str(
            r#"{"id":"x","started_at":"2024-01-01T00:00:00Z","duration_s":3600.4,"sub_sport":"treadmill","extra":1}"#,
        )
        .unwrap();
        assert_eq!(s.duration_s, Some(3600));
        assert_eq!(s.sub_sport, None);
    }
}
