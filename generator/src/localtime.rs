//! The local time of an activity: which UTC offset its start is shown in, and why.
//!
//! Titles ("Evening Ride"), the calendar day and the time on the activity page all read the
//! start in local time, so every activity needs an offset, not only those whose file states
//! one. In order of evidence (docs/extraction.md, "Local time"):
//!
//! 1. the file's own offset (FIT `local_timestamp`, a GPX/TCX ISO offset other than 0);
//! 2. the IANA zone containing the first position (not for indoor activities, whose virtual
//!    worlds lie over places the rider is not), found offline in the time-zone boundary
//!    polygons bundled with `tzf-rs`, with the rules of that date (daylight saving included)
//!    from `bincio_bas::tz`;
//! 3. the instance's `time_zone` (UTC by default), and the activity says so, so the page can
//!    tell the reader the time is not known to be local.
//!
//! The boundary data (about 4 MB) is read in place, once per process, the first time an
//! activity without an offset needs it.

use crate::model::Activity;
use bincio_bas::tz::{self, TimeZoneSource};
use std::sync::OnceLock;

/// The local time of one activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// Seconds east of UTC at the start.
    pub offset_s: i32,
    /// The IANA zone the offset comes from, when one does (not for a file's own offset).
    pub zone: Option<String>,
    pub source: TimeZoneSource,
}

fn finder() -> &'static tzf_rs::EmbeddedFinder {
    static FINDER: OnceLock<tzf_rs::EmbeddedFinder> = OnceLock::new();
    FINDER.get_or_init(tzf_rs::EmbeddedFinder::new)
}

/// The IANA zone containing a position (`None` at sea far from any coast the data covers).
pub fn zone_at(lat_deg: f64, lon_deg: f64) -> Option<String> {
    if !(lat_deg.is_finite() && lon_deg.is_finite()) {
        return None;
    }
    let name = finder().get_tz_name(lon_deg, lat_deg);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Decide the local time of `activity` (see the module doc); `instance_zone` is the
/// instance's configured zone name, already validated.
pub fn resolve(activity: &Activity, instance_zone: &str) -> LocalTime {
    if let Some(offset_s) = activity.utc_offset_s {
        return LocalTime { offset_s, zone: None, source: TimeZoneSource::File };
    }
    // Virtual rides (Zwift, MyWhoosh, TPV) record positions in an invented world laid over
    // some real place (Watopia sits on the Solomon Islands): indoor positions say nothing
    // about where the rider's clock was.
    let indoor = activity.sub_sport == Some(bincio_bas::SubSport::Indoor);
    let start = if indoor { None } else { activity.samples.iter().find_map(|s| s.latlon()) };
    if let Some((lat, lon)) = start
        && let Some(zone) = zone_at(lat, lon)
        && let Some(offset_s) = tz::offset_at(&zone, activity.start_ms)
    {
        return LocalTime { offset_s, zone: Some(zone), source: TimeZoneSource::Location };
    }
    // An instance zone the database lacks cannot reach here (the config refuses it), but a
    // hand-built context could pass one: UTC is then the honest answer.
    let (zone, offset_s) = match tz::offset_at(instance_zone, activity.start_ms) {
        Some(o) => (instance_zone.to_owned(), o),
        None => ("UTC".to_owned(), 0),
    };
    LocalTime { offset_s, zone: Some(zone), source: TimeZoneSource::Instance }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Format, Sample};

    fn activity_at(lat: Option<f64>, lon: Option<f64>, start_ms: i64) -> Activity {
        let mut a = Activity::empty(Format::Gpx);
        a.samples =
            vec![Sample { ts_ms: start_ms, lat_deg: lat, lon_deg: lon, ..Sample::default() }];
        a.start_ms = start_ms;
        a
    }

    #[test]
    fn zone_from_coordinates_with_the_rules_of_the_date() {
        // St. John's, Newfoundland: −02:30 in August (daylight time), −03:30 in January.
        let summer = activity_at(Some(47.56), Some(-52.71), 1_376_676_310_000);
        let lt = resolve(&summer, "Europe/Rome");
        assert_eq!(lt.zone.as_deref(), Some("America/St_Johns"));
        assert_eq!(lt.offset_s, -9000);
        assert_eq!(lt.source, TimeZoneSource::Location);
        let winter = activity_at(Some(47.56), Some(-52.71), 1_358_359_510_000);
        assert_eq!(resolve(&winter, "UTC").offset_s, -12_600);
        // Rome across the spring change (2024-03-31 01:00 UTC).
        let before = activity_at(Some(41.9), Some(12.5), 1_711_846_800_000 - 60_000);
        let after = activity_at(Some(41.9), Some(12.5), 1_711_846_800_000 + 60_000);
        assert_eq!(resolve(&before, "UTC").offset_s, 3600);
        assert_eq!(resolve(&after, "UTC").offset_s, 7200);
    }

    #[test]
    fn the_files_offset_wins_and_nothing_falls_back_to_the_instance() {
        let mut a = activity_at(Some(47.56), Some(-52.71), 1_376_676_310_000);
        a.utc_offset_s = Some(3600);
        let lt = resolve(&a, "UTC");
        assert_eq!((lt.offset_s, lt.zone, lt.source), (3600, None, TimeZoneSource::File));

        let indoor = activity_at(None, None, 1_376_676_310_000);
        let lt = resolve(&indoor, "Europe/Rome");
        assert_eq!(lt.offset_s, 7200);
        assert_eq!(lt.zone.as_deref(), Some("Europe/Rome"));
        assert_eq!(lt.source, TimeZoneSource::Instance);
        let lt = resolve(&indoor, "UTC");
        assert_eq!((lt.offset_s, lt.source), (0, TimeZoneSource::Instance));
    }
}
