//! Tera from a theme folder, plus the number and unit filters every template shares.
//!
//! Templates come from a [`Theme`] (the built-in default or a `--theme` folder read at each
//! render, so `watch` and `serve` pick up an edited theme folder on the next render). Formatting of numbers
//! lives in Rust ([`format_distance`], [`format_duration`], [`format_pace`]) and is exposed
//! to templates as filters, so it is tested once and used the same way on every page.
//! Every value a template prints is escaped by [`crate::site::escape::html`], the site's one
//! escape function (`docs/site.md`, "Escaping").

use crate::theme::Theme;
use std::collections::HashMap;
use tera::{Tera, Value};

/// A theme whose templates do not compile.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{origin}: template {name} is not UTF-8")]
    NotUtf8 { origin: String, name: String },
    #[error("{origin}: template error: {source}")]
    Tera {
        origin: String,
        #[source]
        source: tera::Error,
    },
}

/// Compile every `templates/**/*.html|*.xml` of `theme`, named by their path below
/// `templates/` (`pages/activity.html`), and register the filters.
pub fn load_theme(theme: &Theme) -> Result<Tera, TemplateError> {
    let mut files: Vec<(String, String)> = Vec::new();
    for (name, bytes) in theme.files_under("templates") {
        if !(name.ends_with(".html") || name.ends_with(".xml")) {
            continue;
        }
        let text = std::str::from_utf8(bytes).map_err(|_| TemplateError::NotUtf8 {
            origin: theme.origin().to_owned(),
            name: name.to_owned(),
        })?;
        files.push((name.to_owned(), text.to_owned()));
    }
    let mut tera = Tera::default();
    tera.add_raw_templates(files)
        .map_err(|source| TemplateError::Tera { origin: theme.origin().to_owned(), source })?;
    register_filters(&mut tera);
    // Every template is escaped, whatever its name, by the site's one escape function.
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(crate::site::escape::html);
    Ok(tera)
}

/// Register `format_distance`, `format_duration`, `format_pace`, `format_speed`.
pub fn register_filters(tera: &mut Tera) {
    tera.register_filter("format_distance", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(format_distance(v.as_f64())))
    });
    tera.register_filter("format_duration", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(format_duration(v.as_f64())))
    });
    tera.register_filter("format_pace", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(format_pace(v.as_f64())))
    });
    tera.register_filter("format_speed", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(format_speed(v.as_f64())))
    });
}

/// "9.87 km" below 10 km, "42.3 km" from 10 km, "—" for none. # Units: input metres.
pub fn format_distance(distance_m: Option<f64>) -> String {
    match distance_m {
        Some(m) if m.is_finite() => {
            let km = m / 1000.0;
            if km < 10.0 { format!("{km:.2} km") } else { format!("{km:.1} km") }
        }
        _ => "—".to_owned(),
    }
}

/// "2h 05m" from one hour, "42m 07s" below; seconds are floored. # Units: input seconds.
pub fn format_duration(duration_s: Option<f64>) -> String {
    match duration_s {
        Some(s) if s.is_finite() && s >= 0.0 => {
            let s = s.floor() as u64;
            let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
            if h > 0 { format!("{h}h {m:02}m") } else { format!("{m}m {sec:02}s") }
        }
        _ => "—".to_owned(),
    }
}

/// `H:MM:SS` or `M:SS` (records tables). # Units: input seconds.
pub fn format_clock(duration_s: f64) -> String {
    let s = duration_s.round().max(0.0) as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 { format!("{h}:{m:02}:{sec:02}") } else { format!("{m}:{sec:02}") }
}

/// Pace "5:07 /km" from a speed; rounds total seconds first, so never "4:60". # Units: km/h in.
pub fn format_pace(speed_kmh: Option<f64>) -> String {
    match speed_kmh {
        Some(v) if v.is_finite() && v > 0.5 => {
            let s_per_km = (3600.0 / v).round() as u64;
            format!("{}:{:02} /km", s_per_km / 60, s_per_km % 60)
        }
        _ => "—".to_owned(),
    }
}

/// "1:52 /100 m": swimming pace. # Units: km/h in.
pub fn format_pace_100m(speed_kmh: Option<f64>) -> String {
    match speed_kmh {
        // Below 0.3 km/h (20 min per 100 m) nobody is swimming: no pace.
        Some(v) if v.is_finite() && v > 0.3 => {
            let s_per_100 = (360.0 / v).round() as u64;
            format!("{}:{:02} /100 m", s_per_100 / 60, s_per_100 % 60)
        }
        _ => "—".to_owned(),
    }
}

/// "27.4 km/h". # Units: km/h in.
pub fn format_speed(speed_kmh: Option<f64>) -> String {
    match speed_kmh {
        Some(v) if v.is_finite() => format!("{v:.1} km/h"),
        _ => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(format_distance(Some(9870.0)), "9.87 km");
        assert_eq!(format_distance(Some(42_300.0)), "42.3 km");
        assert_eq!(format_distance(None), "—");
        assert_eq!(format_duration(Some(7500.9)), "2h 05m");
        assert_eq!(format_duration(Some(2527.0)), "42m 07s");
        assert_eq!(format_clock(3725.0), "1:02:05");
        assert_eq!(format_clock(307.0), "5:07");
    }

    #[test]
    fn pace_never_prints_sixty_seconds() {
        // 3600/12.0 = 300 s → 5:00; 3600/12.02 = 299.5 s → rounds to 300 → 5:00, not 4:60.
        assert_eq!(format_pace(Some(12.0)), "5:00 /km");
        assert_eq!(format_pace(Some(12.02)), "5:00 /km");
        assert_eq!(format_pace(Some(10.0)), "6:00 /km");
        assert_eq!(format_pace(Some(0.0)), "—");
    }
}
