//! One remote activity, checked against the BAS summary schema (`docs/schema/bas-v1.schema.json`,
//! `$defs.summary`) before anything of it is shown.
//!
//! Remote feeds are other people's files: the reference writes some summaries the schema
//! refuses (negative durations, for one), and a hostile host can write anything. So each
//! item is judged alone: one that does not validate is dropped with the reason, the rest of
//! the feed is kept. The checks are the schema's constraints on the fields the combined
//! feed uses (types, enums, minimums, the ID pattern, the time format, coordinate ranges);
//! the serde reading that follows is lenient only where the schema is (integers written as
//! floats).

use bincio_bas::{Summary, Timestamp};
use serde_json::Value;

/// Why one remote activity was dropped (the field and what is wrong with it).
pub type Invalid = String;

/// Validate one feed item and read it as a [`Summary`].
pub fn summary(item: &Value) -> Result<Summary, Invalid> {
    let obj = item.as_object().ok_or_else(|| "not an object".to_owned())?;
    let id = obj.get("id").and_then(Value::as_str).ok_or_else(|| "id: missing".to_owned())?;
    if !valid_id(id) {
        return Err(format!("id {id:?}: not a BAS activity ID"));
    }
    let at = |field: &str| format!("{id}: {field}");
    match obj.get("started_at").and_then(Value::as_str) {
        Some(t) if valid_time(t) => {}
        Some(t) => return Err(format!("{}: {t:?} is not an ISO 8601 time", at("started_at"))),
        None => return Err(format!("{}: missing", at("started_at"))),
    }
    enum_field(obj, "sport", &bincio_bas::Sport::ALL.map(|s| s.as_str()), false)
        .map_err(|e| format!("{}: {e}", at("sport")))?;
    let subs = bincio_bas::SubSport::ALL.map(|s| s.as_str());
    enum_field(obj, "sub_sport", &subs, true).map_err(|e| format!("{}: {e}", at("sub_sport")))?;
    enum_field(obj, "privacy", &["public", "blur_start", "no_gps", "unlisted", "private"], false)
        .map_err(|e| format!("{}: {e}", at("privacy")))?;
    for f in [
        "distance_m",
        "duration_s",
        "moving_time_s",
        "elevation_gain_m",
        "avg_speed_kmh",
        "max_speed_kmh",
    ] {
        number(obj, f, Some(0.0)).map_err(|e| format!("{}: {e}", at(f)))?;
    }
    for f in ["avg_hr_bpm", "max_hr_bpm", "avg_cadence_rpm", "avg_power_w", "best_climb_m"] {
        number(obj, f, None).map_err(|e| format!("{}: {e}", at(f)))?;
    }
    for f in ["title", "source", "detail_url", "track_url", "page_url", "handle"] {
        match obj.get(f) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(_) => return Err(format!("{}: not a string", at(f))),
        }
    }
    if let Some(coords) = obj.get("preview_coords").filter(|v| !v.is_null()) {
        let list =
            coords.as_array().ok_or_else(|| format!("{}: not a list", at("preview_coords")))?;
        if list.len() > 20 {
            return Err(format!("{}: {} points, at most 20", at("preview_coords"), list.len()));
        }
        for p in list {
            let ok = p.as_array().is_some_and(|xy| {
                xy.len() == 2
                    && xy[0].as_f64().is_some_and(|lat| (-90.0..=90.0).contains(&lat))
                    && xy[1].as_f64().is_some_and(|lon| (-180.0..=180.0).contains(&lon))
            });
            if !ok {
                return Err(format!("{}: {p} is not a [lat, lon] point", at("preview_coords")));
            }
        }
    }
    pairs(obj, "mmp", |d, w| d >= 1.0 && w >= 0.0).map_err(|e| format!("{}: {e}", at("mmp")))?;
    pairs(obj, "best_efforts", |km, s| km > 0.0 && s >= 0.0)
        .map_err(|e| format!("{}: {e}", at("best_efforts")))?;
    match obj.get("custom") {
        None | Some(Value::Null | Value::Object(_)) => {}
        Some(_) => return Err(format!("{}: not an object", at("custom"))),
    }
    serde_json::from_value(item.clone()).map_err(|e| format!("{id}: {e}"))
}

/// `^[A-Za-z0-9][A-Za-z0-9-]{0,250}$`: also what makes an ID safe in a URL path.
fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 251
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`, and a real instant.
fn valid_time(t: &str) -> bool {
    let b = t.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (t.ends_with('Z') || matches!(b[b.len() - 6], b'+' | b'-'));
    shape && Timestamp::parse(t).is_some()
}

fn enum_field(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    allowed: &[&str],
    nullable: bool,
) -> Result<(), String> {
    match obj.get(field) {
        None => Ok(()),
        Some(Value::Null) if nullable => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(v) => Err(format!("{v} is not one of {}", allowed.join(", "))),
    }
}

/// A finite number or null, at least `min` when given.
fn number(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    min: Option<f64>,
) -> Result<(), String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(x) if min.is_some_and(|m| x < m) => Err(format!("{x} is negative")),
            Some(x) if x.is_finite() => Ok(()),
            _ => Err(format!("{v} is not a number")),
        },
    }
}

/// A list of `[a, b]` number pairs (or null) where `ok(a, b)`.
fn pairs(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    ok: impl Fn(f64, f64) -> bool,
) -> Result<(), String> {
    let Some(v) = obj.get(field).filter(|v| !v.is_null()) else { return Ok(()) };
    let list = v.as_array().ok_or_else(|| "not a list".to_owned())?;
    for p in list {
        let good = p.as_array().is_some_and(|xy| {
            xy.len() == 2
                && matches!((xy[0].as_f64(), xy[1].as_f64()), (Some(a), Some(b)) if ok(a, b))
        });
        if !good {
            return Err(format!("{p} is not a valid pair"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"id": "2024-06-01T070000Z", "title": "Ride", "sport": "cycling", "sub_sport": null,
               "started_at": "2024-06-01T07:00:00Z", "distance_m": 1000.0, "duration_s": 600,
               "privacy": "public", "preview_coords": [[45.0, 7.0], [45.1, 7.1]]})
    }

    #[test]
    fn a_valid_summary_reads() {
        let s = summary(&base()).unwrap();
        assert_eq!(s.id, "2024-06-01T070000Z");
        assert_eq!(s.duration_s, Some(600));
    }

    #[test]
    fn each_schema_violation_names_the_field() {
        for (field, value, needle) in [
            ("duration_s", json!(-5), "duration_s: -5 is negative"),
            ("id", json!("../etc"), "not a BAS activity ID"),
            ("started_at", json!("yesterday"), "started_at"),
            ("sport", json!("yoga"), "sport"),
            ("privacy", json!("secret"), "privacy"),
            ("preview_coords", json!([[95.0, 7.0]]), "preview_coords"),
            ("distance_m", json!("far"), "distance_m"),
            ("title", json!(3), "title: not a string"),
            ("mmp", json!([[0, 100]]), "mmp"),
        ] {
            let mut v = base();
            v[field] = value;
            let e = summary(&v).expect_err(field);
            assert!(e.contains(needle), "{field}: {e}");
        }
    }
}
