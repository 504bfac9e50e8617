//! One page per activity: header, sanitised markdown description, photos, stats honouring
//! `hide_stats`, gear, laps, records it set, the server-rendered track outline and charts,
//! and a "Download GPX" of the published track.
//!
//! Unlisted activities get `/activity/{id}-{token}/` with `noindex`, and their detail,
//! track, timeseries and photos are published inside that folder only. The timeseries is
//! not embedded: the page carries ≤ 240-point SVG charts and the map script fetches the
//! timeseries lazily.

use super::super::SiteError;
use super::super::escape::xml_chars;
use super::super::render::{ActivityUrls, Ctx, activity_files};
use super::super::svg;
use super::super::view::{
    self, format_date, format_time, render_markdown, speed_or_pace, sport_label, sport_meta,
};
use crate::merge::{MergedActivity, MergedUser};
use crate::site::templates::{format_distance, format_duration};
use bincio_bas::fsx;
use bincio_bas::layout::{self, UserDir};
use bincio_bas::{Timeseries, TrackFeature};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Render every activity page of a user (listed and unlisted), in parallel.
///
/// A page is rendered again only when its fingerprint changed: everything it is made of (the
/// merged summary and detail, its URLs, the published track and timeseries files, photos,
/// the owner's athlete file, the theme and the site shell). Fingerprints live in
/// `{root}/{handle}/.site_cache-{out}.json` (data directory, never published; one per output folder), so a no-change
/// rebuild parses no timeseries and renders no activity page.
pub fn render_activities(ctx: &Ctx<'_>, u: &MergedUser) -> Result<Vec<String>, SiteError> {
    let cache_path = ctx.data_dir.join(&u.handle).join(format!(".site_cache-{}.json", ctx.out_key));
    let cache: BTreeMap<String, CacheEntry> = std::fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let athlete_fp = sha_hex(&[serde_json::to_vec(&u.athlete).unwrap_or_default().as_slice()]);
    let results: Vec<Result<(String, CacheEntry), SiteError>> = u
        .activities
        .par_iter()
        .map(|a| {
            let fp = fingerprint(ctx, u, a, &athlete_fp);
            let id = a.summary.id.clone();
            if let Some(e) = cache.get(&id)
                && e.fp == fp
                && e.files.iter().all(|f| ctx.out.root.join(f).is_file())
            {
                // Unchanged: still publish (stat-only) the unlisted data files.
                copy_unlisted_files(ctx, u, a)?;
                ctx.out.unchanged.fetch_add(e.files.len(), std::sync::atomic::Ordering::Relaxed);
                return Ok((id, e.clone()));
            }
            let files = render_activity(ctx, u, a)?;
            Ok((id, CacheEntry { fp, files }))
        })
        .collect();
    let mut out = Vec::new();
    let mut next: BTreeMap<String, CacheEntry> = BTreeMap::new();
    for r in results {
        let (id, entry) = r?;
        out.extend(entry.files.iter().cloned());
        next.insert(id, entry);
    }
    // The unlisted data files are listed as produced too (cleaned up when they go away).
    for a in u.activities.iter() {
        if let Some(urls) = ctx.urls(&u.handle, &a.summary.id)
            && !urls.listed
        {
            out.extend(unlisted_files(a, urls));
        }
    }
    fsx::write_json_if_changed(&cache_path, &next)?;
    Ok(out)
}

/// One rendered activity page: its fingerprint and the output files it produced.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
struct CacheEntry {
    fp: String,
    files: Vec<String>,
}

fn sha_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..16])
}

fn file_stamp(p: &Path) -> String {
    match std::fs::metadata(p) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("{}:{mtime}", m.len())
        }
        Err(_) => "-".to_owned(),
    }
}

fn fingerprint(ctx: &Ctx<'_>, u: &MergedUser, a: &MergedActivity, athlete_fp: &str) -> String {
    let id = &a.summary.id;
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_activities_dir();
    let urls = ctx
        .urls(&u.handle, id)
        .map(|x| format!("{}|{}|{}", x.page, x.data, x.listed))
        .unwrap_or_default();
    let mut stamps = vec![
        file_stamp(&merged.join(layout::track_name(id))),
        file_stamp(&merged.join(layout::timeseries_name(id))),
    ];
    for img in &a.images {
        stamps.push(format!("{img}={}", file_stamp(&merged.join("images").join(id).join(img))));
    }
    sha_hex(&[
        env!("CARGO_PKG_VERSION").as_bytes(),
        ctx.theme_fp.as_bytes(),
        serde_json::to_vec(&ctx.site).unwrap_or_default().as_slice(),
        serde_json::to_vec(&a.summary).unwrap_or_default().as_slice(),
        serde_json::to_vec(&a.detail).unwrap_or_default().as_slice(),
        urls.as_bytes(),
        stamps.join("|").as_bytes(),
        athlete_fp.as_bytes(),
        u.owner.display_name.as_deref().unwrap_or("").as_bytes(),
        ctx.inst.name.as_bytes(),
    ])
}

fn unlisted_files(a: &MergedActivity, urls: &ActivityUrls) -> Vec<String> {
    let page_dir = urls.page.trim_start_matches('/');
    let id = &a.summary.id;
    let mut v: Vec<String> = activity_files(a)
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| format!("{page_dir}{name}"))
        .collect();
    v.extend(a.images.iter().map(|img| format!("{page_dir}images/{id}/{img}")));
    v
}

/// Publish an unlisted activity's data files inside its tokened folder.
fn copy_unlisted_files(ctx: &Ctx<'_>, u: &MergedUser, a: &MergedActivity) -> Result<(), SiteError> {
    let Some(urls) = ctx.urls(&u.handle, &a.summary.id) else { return Ok(()) };
    if urls.listed {
        return Ok(());
    }
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_activities_dir();
    let id = &a.summary.id;
    for (name, present) in activity_files(a) {
        if present {
            ctx.out.copy(
                &merged.join(&name),
                &format!("{}{name}", urls.page.trim_start_matches('/')),
            )?;
        }
    }
    for img in &a.images {
        ctx.out.copy(
            &merged.join("images").join(id).join(img),
            &format!("{}images/{id}/{img}", urls.page.trim_start_matches('/')),
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Stat {
    label: &'static str,
    value: String,
}

/// One leg of a multisport activity, as its row on the page: its own sport decides pace
/// or speed (per 100 m for a swim, per km for a run).
#[derive(Serialize)]
struct LegRow {
    n: i64,
    icon: &'static str,
    label: String,
    transition: bool,
    start: String,
    distance: String,
    time: String,
    speed: String,
    max_speed: String,
    hr: String,
    power: String,
}

#[derive(Serialize)]
struct LapRow {
    n: i64,
    distance: String,
    time: String,
    speed: String,
    hr: String,
}

#[derive(Serialize)]
struct Chart {
    key: &'static str,
    label: &'static str,
    svg_time: String,
    svg_dist: Option<String>,
}

#[derive(Serialize)]
struct ZoneChart {
    label: &'static str,
    svg: String,
}

/// Seconds spent in each zone (a sample counts for the time to the next one, capped at 30 s
/// so a pause does not count), drawn as labelled horizontal bars.
fn zone_time_svg(
    t: &[i64],
    values: &[Option<f64>],
    zones: &[[f64; 2]],
    unit: &str,
    colors: &[&str],
) -> Option<String> {
    let mut secs = vec![0.0f64; zones.len()];
    for i in 0..t.len().saturating_sub(1) {
        let Some(v) = values.get(i).copied().flatten() else { continue };
        let dt = ((t[i + 1] - t[i]) as f64).clamp(0.0, 30.0);
        if let Some(z) = zones.iter().position(|[lo, hi]| v >= *lo && v < *hi) {
            secs[z] += dt;
        }
    }
    let total: f64 = secs.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let rows: Vec<svg::ZoneBar> = zones
        .iter()
        .zip(&secs)
        .enumerate()
        .map(|(i, ([lo, hi], s))| svg::ZoneBar {
            label: if *hi >= 900.0 && unit == "bpm" || *hi >= 9000.0 {
                format!("Z{} {}+ {unit}", i + 1, lo.round())
            } else {
                format!("Z{} {}–{} {unit}", i + 1, lo.round(), hi.round())
            },
            value: format!("{} · {:.0}%", format_duration(Some(*s)), s / total * 100.0),
            fraction: s / total,
            color: colors[i % colors.len()].to_owned(),
        })
        .collect();
    Some(svg::zone_bars(&rows))
}

#[derive(Serialize)]
struct Photo {
    src: String,
    name: String,
}

#[derive(Serialize)]
struct MapData<'a> {
    track_url: Option<String>,
    timeseries_url: Option<String>,
    color: &'a str,
    bbox: Option<[f64; 4]>,
    hr_zones: Option<Vec<[f64; 2]>>,
    power_zones: Option<Vec<[f64; 2]>>,
    tile_url: Option<String>,
}

fn render_activity(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    a: &MergedActivity,
) -> Result<Vec<String>, SiteError> {
    let Some(urls) = ctx.urls(&u.handle, &a.summary.id) else { return Ok(Vec::new()) };
    let mut produced = Vec::new();
    let page_dir = urls.page.trim_start_matches('/').to_owned();
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_activities_dir();
    let id = &a.summary.id;
    let d = &a.detail;
    let s = &a.summary;

    // Unlisted: publish its files inside the tokened folder (listed as produced by the caller).
    copy_unlisted_files(ctx, u, a)?;

    let hidden: Vec<String> = d
        .custom
        .get("hide_stats")
        .and_then(|v| v.as_array())
        .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let hide = |k: &str| hidden.iter().any(|h| h == k);
    let (icon, color, _) = sport_meta(s.sport);

    let mut stats = vec![
        Stat { label: "Distance", value: format_distance(s.distance_m) },
        Stat {
            label: "Moving time",
            value: format_duration(s.moving_time_s.or(s.duration_s).map(|v| v as f64)),
        },
        Stat { label: "Elapsed time", value: format_duration(s.duration_s.map(|v| v as f64)) },
    ];
    if !hide("elevation") {
        stats.push(Stat {
            label: "Elevation ↑",
            value: opt(s.elevation_gain_m.map(|v| format!("{} m", v.round()))),
        });
    }
    if !hide("speed") {
        let pace = s.sport.uses_pace();
        stats.push(Stat {
            label: if pace { "Avg pace" } else { "Avg speed" },
            value: speed_or_pace(s.sport, s.avg_speed_kmh),
        });
        stats.push(Stat {
            label: if pace { "Best pace" } else { "Max speed" },
            value: speed_or_pace(s.sport, s.max_speed_kmh),
        });
    }
    if !hide("heart_rate") {
        stats.push(Stat { label: "Avg HR", value: opt(s.avg_hr_bpm.map(|v| format!("{v} bpm"))) });
        stats.push(Stat { label: "Max HR", value: opt(s.max_hr_bpm.map(|v| format!("{v} bpm"))) });
    }
    if !hide("cadence") && s.avg_cadence_rpm.is_some() {
        // A swimmer's cadence is strokes per minute.
        let swim = s.sport == bincio_bas::Sport::Swimming;
        stats.push(Stat {
            label: if swim { "Stroke rate" } else { "Cadence" },
            value: opt(s
                .avg_cadence_rpm
                .map(|v| if swim { format!("{v} strokes/min") } else { format!("{v} rpm") })),
        });
    }
    if let (Some(len), Some(n)) = (d.pool_length_m, d.pool_lengths) {
        stats.push(Stat { label: "Pool", value: format!("{len} m · {n} lengths") });
    }
    if !hide("power") && s.avg_power_w.is_some() {
        stats
            .push(Stat { label: "Avg power", value: opt(s.avg_power_w.map(|v| format!("{v} W"))) });
    }
    if let Some(g) = d.gear.as_ref().filter(|g| !g.is_empty()) {
        stats.push(Stat { label: "Gear", value: g.clone() });
    }

    let laps: Vec<LapRow> = d
        .laps
        .iter()
        .map(|l| LapRow {
            n: l.index + 1,
            distance: format_distance(l.distance_m),
            time: format_duration(l.duration_s),
            speed: if hide("speed") {
                "—".to_owned()
            } else {
                speed_or_pace(s.sport, l.avg_speed_kmh)
            },
            hr: if hide("heart_rate") {
                "—".to_owned()
            } else {
                opt(l.avg_hr_bpm.map(|v| format!("{v} bpm")))
            },
        })
        .collect();

    let legs: Vec<LegRow> = d
        .legs
        .iter()
        .map(|l| {
            let dash = || "—".to_owned();
            LegRow {
                n: l.index + 1,
                icon: if l.transition { "⇄" } else { sport_meta(l.sport).0 },
                label: if l.transition {
                    "Transition".to_owned()
                } else {
                    sport_label(l.sport, l.sub_sport)
                },
                transition: l.transition,
                start: format_time(&l.started_at),
                distance: format_distance(l.distance_m.filter(|d| *d > 0.0)),
                time: format_duration(l.moving_time_s.or(l.duration_s).map(|v| v as f64)),
                speed: if hide("speed") || l.transition {
                    dash()
                } else {
                    speed_or_pace(l.sport, l.avg_speed_kmh)
                },
                max_speed: if hide("speed") || l.transition {
                    dash()
                } else {
                    speed_or_pace(l.sport, l.max_speed_kmh)
                },
                hr: if hide("heart_rate") {
                    dash()
                } else {
                    opt(l.avg_hr_bpm.map(|v| format!("{v} bpm")))
                },
                power: if hide("power") {
                    dash()
                } else {
                    opt(l.avg_power_w.map(|v| format!("{v} W")))
                },
            }
        })
        .collect();

    // Track outline from the published GeoJSON (already privacy-filtered by merge).
    let track: Option<TrackFeature> =
        if a.has_track { read_json(&merged.join(layout::track_name(id))) } else { None };
    let coords: Vec<[f64; 2]> = track
        .as_ref()
        .map(|t| {
            t.geometry.coordinates.iter().filter(|c| c.len() >= 2).map(|c| [c[1], c[0]]).collect()
        })
        .unwrap_or_default();
    let track_svg = svg::track_outline(&coords, color);
    let settings = u.athlete.as_ref().map(|a| a.settings.clone()).unwrap_or_default();
    let ts: Option<Timeseries> =
        if a.has_timeseries { read_json(&merged.join(layout::timeseries_name(id))) } else { None };
    let charts = ts.as_ref().map(|ts| charts(ts, &hide)).unwrap_or_default();
    // Time in the owner's HR and power zones (the reference never wired zones in).
    let mut zone_charts: Vec<ZoneChart> = Vec::new();
    if let Some(ts) = &ts {
        const HR_COLORS: [&str; 5] = ["#60a5fa", "#4ade80", "#facc15", "#fb923c", "#f87171"];
        const POWER_COLORS: [&str; 7] =
            ["#60a5fa", "#34d399", "#facc15", "#fb923c", "#f87171", "#c084fc", "#f43f5e"];
        let as_f = |v: &[Option<i64>]| -> Vec<Option<f64>> {
            v.iter().map(|x| x.map(|y| y as f64)).collect()
        };
        for (label, unit, zones, values, colors, key) in [
            (
                "Heart rate zones",
                "bpm",
                &settings.hr_zones,
                as_f(&ts.hr_bpm),
                &HR_COLORS[..],
                "heart_rate",
            ),
            (
                "Power zones",
                "W",
                &settings.power_zones,
                as_f(&ts.power_w),
                &POWER_COLORS[..],
                "power",
            ),
        ] {
            if hide(key) {
                continue;
            }
            if let Some(z) = zones.as_ref().filter(|z| !z.is_empty())
                && let Some(svg) = zone_time_svg(&ts.t, &values, z, unit, colors)
            {
                zone_charts.push(ZoneChart { label, svg });
            }
        }
    }

    let photos: Vec<Photo> = a
        .images
        .iter()
        .map(|img| Photo { src: format!("{}images/{id}/{img}", urls.data), name: img.clone() })
        .collect();
    let records = records_set(u, id);

    // GPX download of the published track.
    let gpx_url = if coords.len() >= 2 {
        let rel = format!("{page_dir}{id}.gpx");
        produced.push(ctx.out.put(&rel, &gpx_bytes(&view::display_title(s), track.as_ref())?)?);
        Some(format!("/{rel}"))
    } else {
        None
    };

    let map = MapData {
        track_url: a.has_track.then(|| format!("{}{}", urls.data, layout::track_name(id))),
        timeseries_url: a
            .has_timeseries
            .then(|| format!("{}{}", urls.data, layout::timeseries_name(id))),
        color,
        bbox: d.bbox,
        hr_zones: settings.hr_zones.clone(),
        power_zones: settings.power_zones,
        tile_url: ctx.site.tile_url.clone(),
    };
    let mut c = tera::Context::new();
    let title = view::display_title(s);
    c.insert("title", &format!("{title} — {}", ctx.inst.name));
    c.insert("heading", &title);
    c.insert("noindex", &!urls.listed);
    c.insert("unlisted", &!urls.listed);
    c.insert("handle", &u.handle);
    c.insert("activity_id", id);
    c.insert("display_name", &super::user::display_name(u));
    c.insert("sport", s.sport.as_str());
    c.insert("sport_icon", icon);
    c.insert("sport_name", &sport_meta(s.sport).2);
    c.insert("sub_sport", &s.sub_sport.map(view::sub_sport_label));
    c.insert("sport_label", &sport_label(s.sport, s.sub_sport));
    c.insert("color", color);
    c.insert("date", &format_date(&s.started_at));
    c.insert("time", &format_time(&s.started_at));
    c.insert("utc_offset", &view::format_utc_offset(&s.started_at));
    c.insert("time_zone_note", &view::time_zone_note(d));
    // Only the instance fallback is a guess worth saying out loud; a zone from the start
    // position is the local time, named in the tooltip.
    c.insert(
        "time_zone_guessed",
        &(d.time_zone_source == Some(bincio_bas::tz::TimeZoneSource::Instance)),
    );
    c.insert(
        "description_html",
        &d.description.as_deref().filter(|t| !t.trim().is_empty()).map(render_markdown),
    );
    c.insert("stats", &stats);
    c.insert("laps", &laps);
    c.insert("legs", &legs);
    c.insert("charts", &charts);
    c.insert("zone_charts", &zone_charts);
    c.insert("track_svg", &track_svg);
    c.insert("photos", &photos);
    c.insert("records", &records);
    c.insert("gpx_url", &gpx_url);
    c.insert("device", &d.device);
    // Placed in a quoted attribute (`data-map='…'`), which Tera escapes like any value.
    c.insert("map_json", &serde_json::to_string(&map).unwrap_or_default());
    c.insert("detail_url", &format!("{}{}", urls.data, layout::detail_name(id)));
    produced.push(ctx.render("pages/activity.html", c, &format!("{page_dir}index.html"))?);
    let _: &ActivityUrls = urls;
    Ok(produced)
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".to_owned())
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Option<T> {
    let bytes = std::fs::read(p).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// key, label, colour, values, `hide_stats` name.
type Channel = (&'static str, &'static str, &'static str, Vec<Option<f64>>, &'static str);

/// Charts of the channels that have data, against time and (when speed exists) distance.
fn charts(ts: &Timeseries, hide: &dyn Fn(&str) -> bool) -> Vec<Chart> {
    let t: Vec<f64> = ts.t.iter().map(|v| *v as f64).collect();
    // Distance by integrating speed × Δt (nulls and > 150 km/h count as 0), as the reference;
    // without a speed channel, from the published positions.
    let dist_km: Option<Vec<f64>> = if ts.speed_kmh.iter().any(Option::is_some) {
        let mut acc = 0.0;
        let mut out = Vec::with_capacity(t.len());
        for i in 0..t.len() {
            if i > 0 {
                let v =
                    ts.speed_kmh.get(i).copied().flatten().filter(|v| *v <= 150.0).unwrap_or(0.0);
                acc += v * (t[i] - t[i - 1]).max(0.0) / 3600.0;
            }
            out.push(acc);
        }
        Some(out)
    } else if let (Some(lat), Some(lon)) = (&ts.lat, &ts.lon) {
        let mut acc = 0.0;
        let mut prev: Option<[f64; 2]> = None;
        let out: Vec<f64> = lat
            .iter()
            .zip(lon)
            .map(|(a, o)| {
                if let (Some(a), Some(o)) = (a, o) {
                    if let Some(p) = prev {
                        acc += crate::metrics::distance::haversine_m(p[0], p[1], *a, *o) / 1000.0;
                    }
                    prev = Some([*a, *o]);
                }
                acc
            })
            .collect();
        (acc > 0.0 && out.len() == t.len()).then_some(out)
    } else {
        None
    };
    let as_f =
        |v: &[Option<i64>]| -> Vec<Option<f64>> { v.iter().map(|x| x.map(|y| y as f64)).collect() };
    let channels: [Channel; 5] = [
        ("elevation", "Elevation (m)", "#00c8ff", ts.elevation_m.clone(), "elevation"),
        ("speed", "Speed (km/h)", "#ff6b35", ts.speed_kmh.clone(), "speed"),
        ("hr", "Heart Rate (bpm)", "#f87171", as_f(&ts.hr_bpm), "heart_rate"),
        ("cadence", "Cadence (rpm)", "#a78bfa", as_f(&ts.cadence_rpm), "cadence"),
        ("power", "Power (W)", "#facc15", as_f(&ts.power_w), "power"),
    ];
    let mut out = Vec::new();
    for (key, label, color, ys, hide_key) in channels {
        if hide(hide_key) || !ys.iter().any(Option::is_some) {
            continue;
        }
        let pts = svg::bucket(&t, &ys, svg::CHART_POINTS);
        let Some(svg_time) = svg::line_chart(&pts, color, label, false) else { continue };
        let svg_dist = dist_km.as_ref().and_then(|d| {
            svg::line_chart(&svg::bucket(d, &ys, svg::CHART_POINTS), color, label, true)
        });
        out.push(Chart { key, label, svg_time, svg_dist });
    }
    out
}

#[derive(Serialize)]
struct RecordSet {
    label: String,
}

/// Records this activity holds in the user's athlete records (listed activities only
/// reach this page's user records; an unlisted page shows none).
fn records_set(u: &MergedUser, id: &str) -> Vec<RecordSet> {
    let mut out = Vec::new();
    let Some(a) = &u.athlete else { return out };
    for (sport, recs) in &a.records {
        let Some(map) = recs.as_object() else { continue };
        for (key, r) in map {
            if r.get("activity_id").and_then(|v| v.as_str()) == Some(id) {
                let label = match key.as_str() {
                    "longest_m" => format!("Longest {sport}"),
                    "most_elevation_m" => format!("Most elevation ({sport})"),
                    k => format!("Best {} km ({sport})", k.trim_end_matches(".0")),
                };
                out.push(RecordSet { label });
            }
        }
    }
    for (i, c) in a.best_climbs.iter().enumerate() {
        if c.activity_id == id {
            out.push(RecordSet {
                label: format!("#{} best climb ({} m)", i + 1, c.climb_m.round()),
            });
        }
    }
    out
}

/// GPX 1.1 of the published (privacy-filtered) track, written with the `gpx` crate.
fn gpx_bytes(title: &str, track: Option<&TrackFeature>) -> Result<Vec<u8>, SiteError> {
    let mut seg = gpx::TrackSegment::new();
    for c in track.map(|t| t.geometry.coordinates.as_slice()).unwrap_or_default() {
        if c.len() < 2 {
            continue;
        }
        let mut wp = gpx::Waypoint::new(geo_types::Point::new(c[0], c[1]));
        wp.elevation = c.get(2).copied();
        seg.points.push(wp);
    }
    let mut trk = gpx::Track::new();
    // The gpx crate escapes markup but writes control characters as they are, which no XML
    // reader accepts: a NUL in a title would make the download unreadable.
    trk.name = Some(xml_chars(title));
    trk.segments.push(seg);
    let doc = gpx::Gpx {
        version: gpx::GpxVersion::Gpx11,
        creator: Some("bincio".to_owned()),
        tracks: vec![trk],
        ..gpx::Gpx::default()
    };
    let mut buf = Vec::new();
    gpx::write(&doc, &mut buf)
        .map_err(|e| SiteError::File { path: "track.gpx".into(), reason: e.to_string() })?;
    Ok(buf)
}
