//! Activity IDs, slugs and titles.
//!
//! An ID is the UTC start `YYYY-MM-DDTHHMMSSZ`, plus `-{slug}` of a *metadata* title
//! (Strava CSV) when there is one. File names (`<trk><name>`) and auto-titles never go into
//! the ID, so re-extracting the same file with or without a title edit keeps its URL.

use bincio_bas::{Sport, Timestamp};
use unicode_normalization::UnicodeNormalization;

/// Longest slug kept in an ID.
pub const MAX_SLUG_CHARS: usize = 60;

/// ASCII-fold (NFKD, drop non-ASCII), lower-case, turn runs of other characters into `-`,
/// trim, cut to 60 characters, and never end in `-`.
pub fn slugify(text: &str) -> String {
    let folded: String =
        text.nfkd().filter(char::is_ascii).collect::<String>().to_ascii_lowercase();
    let mut out = String::with_capacity(folded.len());
    let mut pending_dash = false;
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    out.truncate(MAX_SLUG_CHARS);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The ID of an activity starting at `started_at`, with an optional metadata title.
pub fn activity_id(started_at: &Timestamp, metadata_title: Option<&str>) -> String {
    let base = started_at.id_part();
    match metadata_title.map(slugify) {
        Some(slug) if !slug.is_empty() => format!("{base}-{slug}"),
        _ => base,
    }
}

/// The ID used when `id` is taken by a different file: `{id}-{last 6 hex of the hash}`.
pub fn collision_id(id: &str, source_hash: &str) -> String {
    let hex = source_hash.strip_prefix("sha256:").unwrap_or(source_hash);
    let tail = &hex[hex.len().saturating_sub(6)..];
    format!("{id}-{tail}")
}

/// "Morning Ride", "Evening Run"… from the local start hour and the sport.
pub fn auto_title(started_at: &Timestamp, sport: Sport) -> String {
    let noun = match sport {
        Sport::Cycling => "Ride",
        Sport::Running => "Run",
        Sport::Hiking => "Hike",
        Sport::Walking => "Walk",
        Sport::Swimming => "Swim",
        Sport::Skiing => "Ski",
        Sport::Other => "Activity",
        Sport::Multisport => "Multisport",
    };
    format!("{} {noun}", part_of_day(started_at))
}

/// "Morning Triathlon" (swim, bike and run legs), "Morning Duathlon" (bike and run legs),
/// else "Morning Multisport", from the sports of a multisport activity's non-transition legs.
pub fn multisport_title(started_at: &Timestamp, leg_sports: &[Sport]) -> String {
    let has = |s: Sport| leg_sports.contains(&s);
    let endurance =
        leg_sports.iter().all(|s| matches!(s, Sport::Swimming | Sport::Cycling | Sport::Running));
    let noun = if endurance && has(Sport::Swimming) && has(Sport::Cycling) && has(Sport::Running) {
        "Triathlon"
    } else if endurance && !has(Sport::Swimming) && has(Sport::Cycling) && has(Sport::Running) {
        "Duathlon"
    } else {
        "Multisport"
    };
    format!("{} {noun}", part_of_day(started_at))
}

fn part_of_day(started_at: &Timestamp) -> &'static str {
    match started_at.0.hour() {
        5..=11 => "Morning",
        12..=16 => "Afternoon",
        17..=20 => "Evening",
        _ => "Night",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multisport_titles_name_the_event() {
        use Sport::*;
        let t = Timestamp::parse("2024-07-03T07:00:00+02:00").unwrap_or_default();
        assert_eq!(multisport_title(&t, &[Swimming, Cycling, Running]), "Morning Triathlon");
        assert_eq!(multisport_title(&t, &[Running, Cycling, Running]), "Morning Duathlon");
        // The fenix 2 file: a generic leg makes it no duathlon.
        assert_eq!(multisport_title(&t, &[Other, Running, Running, Cycling]), "Morning Multisport");
        assert_eq!(multisport_title(&t, &[Swimming, Running, Hiking]), "Morning Multisport");
    }

    #[test]
    fn slugs_match_the_reference_and_never_end_in_a_dash() {
        assert_eq!(slugify("Morning Ride!"), "morning-ride");
        assert_eq!(slugify("  Vélo  "), "velo");
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("Château de Quéribus"), "chateau-de-queribus");
        // The reference cuts after stripping and may leave a trailing dash; we do not
        // (docs/decisions.md W14).
        let s = slugify(&format!("{} b", "a".repeat(59)));
        assert_eq!(s, "a".repeat(59));
        assert!(!s.ends_with('-'));
    }

    #[test]
    fn ids_use_utc_and_only_metadata_titles() {
        let t = Timestamp::parse("2024-06-01T09:30:12+02:00").unwrap();
        assert_eq!(activity_id(&t, None), "2024-06-01T073012Z");
        assert_eq!(activity_id(&t, Some("Morning Ride")), "2024-06-01T073012Z-morning-ride");
        assert_eq!(activity_id(&t, Some("!!!")), "2024-06-01T073012Z");
        assert_eq!(collision_id("x", "sha256:00112233aabbcc"), "x-aabbcc");
    }

    #[test]
    fn auto_titles_use_local_time() {
        let t = Timestamp::parse("2024-06-01T05:30:00-03:00").unwrap();
        assert_eq!(auto_title(&t, Sport::Cycling), "Morning Ride");
        let t = Timestamp::parse("2024-06-01T21:00:00+00:00").unwrap();
        assert_eq!(auto_title(&t, Sport::Other), "Night Activity");
        let t = Timestamp::parse("2024-06-01T12:00:00+00:00").unwrap();
        assert_eq!(auto_title(&t, Sport::Running), "Afternoon Run");
    }
}
