//! Time zones: an IANA zone name → the UTC offset in force at an instant.
//!
//! Both programs need this rule: the daemon validates the instance's `time_zone` setting and
//! the generator turns the zone of an activity (from its start coordinates, or the instance
//! zone) into the offset shown on its page. The offset is that of the activity's own date,
//! with the daylight-saving rules of that date (the IANA database compiled into `chrono-tz`),
//! so a summer ride in St. John's reads −02:30 and a winter one −03:30.

use chrono::{Offset, TimeZone};
use serde::{Deserialize, Serialize};

/// Where an activity's local time (its UTC offset) comes from; shown on the activity page so
/// a reader knows which clock the start time is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeZoneSource {
    /// The file carries its own local offset (FIT `local_timestamp`, an ISO offset in GPX/TCX).
    File,
    /// The zone containing the start coordinates, with that date's rules.
    Location,
    /// Neither: the instance's configured zone (`time_zone`, UTC by default).
    Instance,
}

/// The zone of an IANA name (`Europe/Rome`, `UTC`, `America/St_Johns`), if the database has it.
pub fn zone(name: &str) -> Option<chrono_tz::Tz> {
    name.parse::<chrono_tz::Tz>().ok()
}

/// The UTC offset (seconds east) of zone `name` at `unix_ms`; `None` for an unknown zone or
/// an instant outside the representable range.
pub fn offset_at(name: &str, unix_ms: i64) -> Option<i32> {
    let tz = zone(name)?;
    let utc = chrono::DateTime::from_timestamp_millis(unix_ms)?;
    Some(tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_rules_of_the_date() {
        // 2013-08-16T18:05:10Z: Newfoundland daylight time, −02:30.
        assert_eq!(offset_at("America/St_Johns", 1_376_676_310_000), Some(-9000));
        // 2013-01-16T18:05:10Z: standard time, −03:30.
        assert_eq!(offset_at("America/St_Johns", 1_358_359_510_000), Some(-12_600));
        assert_eq!(offset_at("Europe/Rome", 1_376_676_310_000), Some(7200));
        assert_eq!(offset_at("UTC", 0), Some(0));
        assert_eq!(offset_at("Mars/Olympus_Mons", 0), None);
    }
}
