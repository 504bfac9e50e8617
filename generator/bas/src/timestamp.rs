//! Instants with the UTC offset they were recorded in.
//!
//! BAS writes `started_at` like Python's `isoformat()` (`2024-06-01T07:30:12+00:00`,
//! microseconds only when non-zero), because the data contract came from the Python
//! reference and feeds must federate both ways. Reading is lenient: `Z`, any offset and
//! any fraction are accepted.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// An instant plus the local UTC offset of the activity, as written in BAS files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Default for Timestamp {
    /// The Unix epoch in UTC (only used as a placeholder for `Default` derives).
    fn default() -> Self {
        Self(OffsetDateTime::UNIX_EPOCH)
    }
}

impl Timestamp {
    /// Build from Unix milliseconds (UTC) and the local offset in seconds.
    pub fn from_unix_ms(ms: i64, offset_s: i32) -> Option<Self> {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
        let off = UtcOffset::from_whole_seconds(offset_s).ok()?;
        Some(Self(dt.to_offset(off)))
    }

    /// Unix milliseconds of the instant (offset-independent).
    pub fn unix_ms(&self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The UTC offset in seconds.
    pub fn offset_s(&self) -> i32 {
        self.0.offset().whole_seconds()
    }

    /// Parse an ISO 8601 / RFC 3339 string; a string without zone is taken as UTC.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Ok(dt) = OffsetDateTime::parse(t, &Rfc3339) {
            return Some(Self(dt));
        }
        // Python isoformat may omit seconds' fraction or use a space; also accept no zone.
        let normalised = t.replacen(' ', "T", 1);
        if let Ok(dt) = OffsetDateTime::parse(&normalised, &Rfc3339) {
            return Some(Self(dt));
        }
        let with_z = format!("{normalised}Z");
        OffsetDateTime::parse(&with_z, &Rfc3339).ok().map(Self)
    }

    /// The compact UTC form used in activity IDs: `YYYY-MM-DDTHHMMSSZ`.
    pub fn id_part(&self) -> String {
        let u = self.0.to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}{:02}{:02}Z",
            u.year(),
            u8::from(u.month()),
            u.day(),
            u.hour(),
            u.minute(),
            u.second()
        )
    }
}

impl fmt::Display for Timestamp {
    /// Python `isoformat()` style: `+00:00` rather than `Z`, microseconds only when non-zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )?;
        let micros = d.microsecond();
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        let off = d.offset();
        let total = off.whole_seconds();
        let sign = if total < 0 { '-' } else { '+' };
        let abs = total.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_isoformat() {
        let t = Timestamp::parse("2024-06-01T09:30:12.5+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-06-01T09:30:12.500000+02:00");
        assert_eq!(t.id_part(), "2024-06-01T073012Z");
        let z = Timestamp::parse("2024-06-01T07:30:12Z").unwrap();
        assert_eq!(z.to_string(), "2024-06-01T07:30:12+00:00");
        let naive = Timestamp::parse("2024-06-01T07:30:12").unwrap();
        assert_eq!(naive, z);
    }

    #[test]
    fn unix_ms_round_trip() {
        let t = Timestamp::from_unix_ms(1_717_227_012_000, 7200).unwrap();
        assert_eq!(t.to_string(), "2024-06-01T09:30:12+02:00");
        assert_eq!(t.unix_ms(), 1_717_227_012_000);
    }
}
