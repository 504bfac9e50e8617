//! View models: what templates see. Built from merged BAS data; all numbers are already
//! formatted with their units here, so templates only place strings.
//!
//! Dates and times are shown in the activity's own recorded offset (what the athlete saw
//! on the device), never in the build machine's zone.

use super::units::{Q, format as fmt_units};
use crate::site::templates::{format_duration, format_pace, format_speed};
use bincio_bas::config::Units;
use bincio_bas::{Privacy, Sport, SubSport, Summary, Timestamp};
use serde::Serialize;

/// Icon, colour and label of a sport. The icon is the symbol's id in the theme's sprite
/// `/static/img/sports.svg` (templates draw `<svg><use href="…#cycling"/></svg>`: emoji need
/// an emoji font, and render as boxes without one). The colours are mid-tones with at least
/// 3:1 contrast against both the light (#ffffff) and the dark (#18181b) card, so a sport's
/// badge, line and heatmap cell are visible in either theme.
pub fn sport_meta(sport: Sport) -> (&'static str, &'static str, &'static str) {
    match sport {
        Sport::Cycling => ("cycling", "#0891b2", "Cycling"),
        Sport::Running => ("running", "#ea580c", "Running"),
        Sport::Hiking => ("hiking", "#16a34a", "Hiking"),
        Sport::Walking => ("walking", "#a16207", "Walking"),
        Sport::Swimming => ("swimming", "#2563eb", "Swimming"),
        Sport::Skiing => ("skiing", "#7c3aed", "Skiing"),
        Sport::Other => ("other", "#db2777", "Other"),
        Sport::Multisport => ("multisport", "#c026d3", "Multisport"),
    }
}

/// Short sub-sport label ("MTB", "Trail").
pub fn sub_sport_label(sub: SubSport) -> &'static str {
    match sub {
        SubSport::Road => "Road",
        SubSport::Mountain => "MTB",
        SubSport::Gravel => "Gravel",
        SubSport::Indoor => "Indoor",
        SubSport::Trail => "Trail",
        SubSport::Track => "Track",
        SubSport::Nordic => "Nordic",
        SubSport::Alpine => "Alpine",
        SubSport::OpenWater => "Open Water",
        SubSport::Pool => "Pool",
    }
}

/// "Gravel Cycling", "Running".
pub fn sport_label(sport: Sport, sub: Option<SubSport>) -> String {
    let base = sport_meta(sport).2;
    match sub {
        Some(s) => format!("{} {base}", sub_sport_label(s)),
        None => base.to_owned(),
    }
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "1 Jun 2024" in the activity's own offset.
pub fn format_date(t: &Timestamp) -> String {
    let d = t.0;
    format!("{} {} {}", d.day(), MONTHS[usize::from(u8::from(d.month())) - 1], d.year())
}

/// "1 June 2024".
pub fn format_date_long(t: &Timestamp) -> String {
    let d = t.0;
    format!("{} {} {}", d.day(), MONTHS_LONG[usize::from(u8::from(d.month())) - 1], d.year())
}

/// "07:30" (24 h) in the activity's own offset.
pub fn format_time(t: &Timestamp) -> String {
    format!("{:02}:{:02}", t.0.hour(), t.0.minute())
}

/// "UTC−02:30", "UTC+01:00", "UTC" for 0: the offset an activity's times are shown in
/// (a true minus sign, as typeset).
pub fn format_utc_offset(t: &Timestamp) -> String {
    let s = t.offset_s();
    if s == 0 {
        return "UTC".to_owned();
    }
    let sign = if s < 0 { '\u{2212}' } else { '+' };
    let a = s.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// Where the shown local time comes from, in words, for the activity page: `None` when the
/// file stated its own offset (or the detail predates the field).
pub fn time_zone_note(d: &bincio_bas::Detail) -> Option<String> {
    use bincio_bas::tz::TimeZoneSource;
    let zone = d.time_zone.as_deref().unwrap_or("UTC");
    match d.time_zone_source? {
        TimeZoneSource::File => None,
        TimeZoneSource::Location => Some(format!("time zone {zone}, from the start position")),
        TimeZoneSource::Instance => Some(format!(
            "the file has no local time or position: shown in the instance's time zone, {zone}"
        )),
    }
}

/// `YYYY-MM-DD` in the activity's own offset (the heatmap day).
pub fn local_date(t: &Timestamp) -> String {
    let d = t.0;
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Speed, or pace for running and walking.
pub fn speed_or_pace(sport: Sport, speed_kmh: Option<f64>) -> String {
    match sport {
        Sport::Swimming => super::templates::format_pace_100m(speed_kmh),
        s if s.uses_pace() => format_pace(speed_kmh),
        _ => format_speed(speed_kmh),
    }
}

/// The title shown when an activity has none.
pub fn display_title(s: &Summary) -> String {
    s.title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| sport_label(s.sport, s.sub_sport))
}

/// One feed card.
#[derive(Clone, Debug, Serialize)]
pub struct CardView {
    pub url: String,
    pub title: String,
    pub date: String,
    pub handle: Option<String>,
    /// Where the handle links: the user's feed here, or on their own instance.
    pub handle_url: Option<String>,
    /// A followed instance's activity (its links leave this site).
    pub remote: bool,
    pub sport: &'static str,
    pub sport_icon: &'static str,
    pub sport_label: String,
    pub color: &'static str,
    pub thumb_svg: Option<String>,
    pub distance: String,
    pub moving_time: String,
    pub elevation: String,
    pub speed: Option<String>,
    pub hr: Option<String>,
    pub cadence: Option<String>,
    pub highlight: bool,
    /// SI values and the speed quantity, for the visitor's unit preference
    /// (`data-q`/`data-si`, see `site/units.rs`).
    pub distance_si: Option<f64>,
    pub elevation_si: Option<f64>,
    pub speed_si: Option<f64>,
    pub speed_q: &'static str,
}

/// Build a card in the instance's `units`; `url` is the activity page, `handle` is shown on
/// the combined feed. Figures the activity does not have are empty (the card leaves them
/// out rather than showing "—").
pub fn card(s: &Summary, url: String, handle: Option<&str>, units: Units) -> CardView {
    let (icon, color, _) = sport_meta(s.sport);
    let q = super::units::speed_q(s.sport);
    let round3 = |v: f64| (v * 1000.0).round() / 1000.0;
    CardView {
        url,
        title: display_title(s),
        date: format_date(&s.started_at),
        handle: handle.map(str::to_owned),
        handle_url: handle.map(|h| format!("/u/{h}/")),
        remote: false,
        sport: s.sport.as_str(),
        sport_icon: icon,
        sport_label: sport_label(s.sport, s.sub_sport),
        color,
        thumb_svg: s
            .preview_coords
            .as_deref()
            .filter(|_| s.privacy != Privacy::NoGps)
            .and_then(|c| super::svg::thumbnail(c, color)),
        distance: s
            .distance_m
            .filter(|d| *d > 0.0)
            .map(|m| fmt_units(Q::Distance, m, units))
            .unwrap_or_default(),
        moving_time: format_duration(s.moving_time_s.or(s.duration_s).map(|v| v as f64)),
        elevation: s
            .elevation_gain_m
            .map(|e| fmt_units(Q::Elevation, e, units))
            .unwrap_or_default(),
        speed: s.avg_speed_kmh.filter(|v| *v > 0.0).map(|v| fmt_units(q, v, units)),
        hr: s.avg_hr_bpm.map(|v| format!("{v} bpm")),
        cadence: s
            .avg_cadence_rpm
            .filter(|v| *v > 0)
            .map(|v| super::units::cadence_text(s.sport, v as f64)),
        distance_si: s.distance_m.filter(|d| *d > 0.0).map(round3),
        elevation_si: s.elevation_gain_m.map(round3),
        speed_si: s.avg_speed_kmh.filter(|v| *v > 0.0).map(round3),
        speed_q: q.as_str(),
        highlight: s
            .custom
            .as_ref()
            .and_then(|c| c.get("highlight"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
    }
}

/// The card of a followed instance's activity: attributed `@label`, linking to the page and
/// the athlete's feed on their own instance. `no_gps` items arrive without preview points.
pub fn remote_card(label: &str, it: &crate::federation::RemoteItem, units: Units) -> CardView {
    let mut c = card(&it.summary, it.page_url.clone(), Some(label), units);
    c.handle_url = Some(it.profile_url.clone());
    c.remote = true;
    c
}

/// Markdown → sanitised HTML. Relative links and images (local files) are dropped, links
/// get `rel="noopener noreferrer nofollow"`.
pub fn render_markdown(text: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let parser = Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES);
    let mut raw = String::with_capacity(text.len() * 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

/// A navigation link of a page list.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub href: String,
    pub label: String,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_sanitised_and_local_images_dropped() {
        let html = render_markdown(
            "My **epic** ride <script>alert(1)</script> ![x](photo.jpg) [site](https://a.example/)",
        );
        assert!(html.contains("<strong>epic</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("photo.jpg"), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    }

    #[test]
    fn dates_use_the_activity_offset() {
        let t = Timestamp::parse("2024-06-01T23:30:00+02:00").unwrap();
        assert_eq!(format_date(&t), "1 Jun 2024");
        assert_eq!(format_time(&t), "23:30");
        assert_eq!(local_date(&t), "2024-06-01");
        assert_eq!(sport_label(Sport::Cycling, Some(SubSport::Mountain)), "MTB Cycling");
    }
}
