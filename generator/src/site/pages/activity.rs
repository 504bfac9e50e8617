//! One page per activity: header, sanitised markdown description, photos, stats honouring
//! `hide_stats`, gear, laps, records it set, the server-rendered track outline and charts,
//! and a "Download GPX" of the published track.
//!
//! Unlisted activities get `/activity/{id}-{token}/` with `noindex`, and their detail,
//! track, timeseries and photos are published inside that folder only. The timeseries is
//! not embedded: the page carries SVG charts decimated to their drawn width (at most two
//! points a pixel column, `svg::decimate`) and the chart script fetches the timeseries on
//! the first hover.

use super::super::SiteError;
use super::super::render::{ActivityUrls, Ctx, activity_files};
use super::super::svg::{self, XAxis, YFormat};
use super::super::units::{self, Fig, Q};
use super::super::view::{
    self, format_date, format_time, render_markdown, sport_label, sport_meta,
};
use super::super::{device, escape, figures};
use crate::merge::{MergedActivity, MergedUser, PublishedDetail};
use crate::site::templates::format_duration;
use bincio_bas::config::Units;
use bincio_bas::fsx;
use bincio_bas::layout::{self, UserDir};
use bincio_bas::{Detail, Lap, Sport, SubSport, Summary, Timeseries, TrackFeature};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Render every activity page of a user (listed and unlisted), in parallel.
///
/// A page is rendered again only when its fingerprint changed: everything it is made of (the
/// merged summary, the bytes of its merged detail file, its URLs, the published track and
/// timeseries files, photos, the owner's athlete file, the theme and the site shell).
/// Fingerprints live in `{root}/{handle}/.site_cache-{out}.json` (data directory, never
/// published; one per output folder), so a no-change rebuild parses no timeseries and no
/// detail and renders no activity page. The detail is read from `_merged/activities/` per
/// activity, here, not kept by the load: a build holds the details of the pages it is
/// rendering, not the instance's (`docs/site.md`, "How a build holds the instance").
pub fn render_activities(ctx: &Ctx<'_>, u: &MergedUser) -> Result<Vec<String>, SiteError> {
    let cache_path = ctx.data_dir.join(&u.handle).join(format!(".site_cache-{}.json", ctx.out_key));
    let cache: BTreeMap<String, CacheEntry> = std::fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let athlete_fp = sha_hex(&[serde_json::to_vec(&u.athlete).unwrap_or_default().as_slice()]);
    // The same for every page of the build: serialised once, not once per activity.
    let site_json = serde_json::to_vec(&ctx.site).unwrap_or_default();
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_activities_dir();
    let results: Vec<Result<(String, CacheEntry), SiteError>> = u
        .activities
        .par_iter()
        .map(|a| {
            let id = a.summary.id.clone();
            // The merged detail is read here, one activity at a time, not held by the load
            // (`merge::MergedActivity`): only the pages being rendered have theirs in memory.
            let detail = PublishedDetail::read(&merged, &id)?;
            let fp = fingerprint(ctx, u, a, &detail.bytes, &site_json, &athlete_fp);
            if let Some(e) = cache.get(&id)
                && e.fp == fp
                && e.files.iter().all(|f| ctx.out.root.join(f).is_file())
            {
                // Unchanged: still publish (stat-only) the unlisted data files.
                copy_unlisted_files(ctx, u, a)?;
                ctx.out.unchanged.fetch_add(e.files.len(), std::sync::atomic::Ordering::Relaxed);
                return Ok((id, e.clone()));
            }
            let d = detail.parse()?;
            drop(detail);
            let files = render_activity(ctx, u, a, &d)?;
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

/// `detail` is the merged detail file's bytes (what the page's detail fields come from),
/// `site_json` the serialised [`Ctx::site`].
fn fingerprint(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    a: &MergedActivity,
    detail: &[u8],
    site_json: &[u8],
    athlete_fp: &str,
) -> String {
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
        site_json,
        serde_json::to_vec(&a.summary).unwrap_or_default().as_slice(),
        detail,
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

struct Stat {
    label: &'static str,
    value: String,
    /// Quantity and SI value, for the visitor's unit preference (`site/units.rs`).
    q: Option<&'static str>,
    si: Option<f64>,
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
struct Chart {
    key: &'static str,
    label: String,
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
    values: &[Option<i64>],
    zones: &[[f64; 2]],
    unit: &str,
    colors: &[&str],
) -> Option<String> {
    let mut secs = vec![0.0f64; zones.len()];
    for i in 0..t.len().saturating_sub(1) {
        let Some(v) = values.get(i).copied().flatten().map(|v| v as f64) else { continue };
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
            // The open top zone: the settings form writes it up to the highest value the
            // daemon accepts (250 bpm, 5000 W), a hand-written athlete.yaml often 999.
            label: if *hi >= 250.0 && unit == "bpm" || *hi >= 5000.0 {
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
    tile_attribution: Option<String>,
    /// How the hover readout writes speed (`speed`, `pace`, `pace100`) and cadence
    /// (`[multiplier, unit]`), and the instance's default units.
    speed_q: &'static str,
    cadence: Option<(f64, &'static str)>,
    units: &'static str,
}

/// Memory a rendering thread reuses from one activity page to the next: the timeseries file
/// and its channels, the distance axis and the charts' series. At 1 Hz a six-hour ride is a
/// megabyte of text and a dozen arrays of 20,000 values; allocating them afresh for every
/// page made the kernel hand out (and clear) fresh pages for each, which cost more than
/// reading the numbers. Every page is still computed from its own file.
#[derive(Default)]
struct Scratch {
    file: Vec<u8>,
    ts: Timeseries,
    dist_m: Vec<f64>,
    chart: ChartScratch,
}

/// The charts' own series ([`charts`]).
#[derive(Default)]
struct ChartScratch {
    t: Vec<f64>,
    dist: Vec<f64>,
    /// Elevation, speed or pace, heart rate, power, cadence, in the axis units, `NaN` where
    /// the sample has no value (`svg::decimate_values`).
    values: [Vec<f64>; 5],
    time_cols: svg::Columns,
    dist_cols: svg::Columns,
    /// One chart's decimated points.
    points: Vec<(f64, f64, usize)>,
}

thread_local! {
    /// Taken while a page renders (and put back after), so a page rendered while another
    /// is in progress on the same thread simply gets a fresh one.
    static SCRATCH: std::cell::Cell<Option<Box<Scratch>>> = const { std::cell::Cell::new(None) };
}

fn render_activity(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    a: &MergedActivity,
    d: &Detail,
) -> Result<Vec<String>, SiteError> {
    let mut scratch = SCRATCH.take().unwrap_or_default();
    let result = render_page(ctx, u, a, d, &mut scratch);
    SCRATCH.set(Some(scratch));
    result
}

/// Read the published timeseries at `path` into `ts` (the page's channels: see
/// `timeseries::Positions::WhenNoSpeed`); false when it cannot be read.
fn read_timeseries(path: &Path, file: &mut Vec<u8>, ts: &mut Timeseries) -> bool {
    use std::io::Read;
    file.clear();
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    if f.read_to_end(file).is_err() {
        return false;
    }
    super::super::timeseries::parse_into(file, ts, super::super::timeseries::Positions::WhenNoSpeed)
}

fn render_page(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    a: &MergedActivity,
    d: &Detail,
    scratch: &mut Scratch,
) -> Result<Vec<String>, SiteError> {
    let Some(urls) = ctx.urls(&u.handle, &a.summary.id) else { return Ok(Vec::new()) };
    let mut produced = Vec::new();
    let page_dir = urls.page.trim_start_matches('/').to_owned();
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_activities_dir();
    let id = &a.summary.id;
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

    let units = ctx.inst.config.units;
    let settings = u.athlete.as_ref().map(|a| a.settings.clone()).unwrap_or_default();
    let Scratch { file, ts: ts_buf, dist_m: dist_buf, chart: chart_scratch } = scratch;
    let ts: Option<&Timeseries> = (a.has_timeseries
        && read_timeseries(&merged.join(layout::timeseries_name(id)), file, ts_buf))
    .then_some(&*ts_buf);
    let stats = stats(s, d, ts, &hide, units);

    let lap_table = lap_table(s.sport, s.sub_sport, &d.laps, &d.legs, &hide, units);
    let dist_m: Option<&[f64]> = match ts {
        Some(ts) if figures::distance_m_into(ts, dist_buf) => Some(dist_buf.as_slice()),
        _ => None,
    };

    let legs: Vec<LegRow> = d
        .legs
        .iter()
        .map(|l| {
            let dash = || "—".to_owned();
            LegRow {
                n: l.index + 1,
                icon: if l.transition { "" } else { sport_meta(l.sport).0 },
                label: if l.transition {
                    "Transition".to_owned()
                } else {
                    sport_label(l.sport, l.sub_sport)
                },
                transition: l.transition,
                start: format_time(&l.started_at),
                distance: l
                    .distance_m
                    .filter(|d| *d > 0.0)
                    .map_or_else(dash, |m| Fig::of(Q::Distance, m, units).text),
                time: format_duration(l.moving_time_s.or(l.duration_s).map(|v| v as f64)),
                speed: if hide("speed") || l.transition {
                    dash()
                } else {
                    l.avg_speed_kmh
                        .filter(|v| *v > 0.0)
                        .map_or_else(dash, |v| Fig::of(units::speed_q(l.sport), v, units).text)
                },
                max_speed: if hide("speed") || l.transition {
                    dash()
                } else {
                    l.max_speed_kmh
                        .filter(|v| *v > 0.0)
                        .map_or_else(dash, |v| Fig::of(units::speed_q(l.sport), v, units).text)
                },
                hr: if hide("heart_rate") {
                    dash()
                } else {
                    l.avg_hr_bpm.map_or_else(dash, |v| format!("{v} bpm"))
                },
                power: if hide("power") {
                    dash()
                } else {
                    l.avg_power_w.map_or_else(dash, |v| format!("{v} W"))
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
    let charts =
        ts.map(|ts| charts(ts, dist_m, s.sport, &hide, units, chart_scratch)).unwrap_or_default();
    let splits = match (ts, dist_m) {
        // Swims are read by their laps and lengths, not by kilometre.
        (Some(ts), Some(dm)) if !hide("speed") && s.sport != Sport::Swimming => {
            split_tables(ts, dm, s, &hide)
        }
        _ => String::new(),
    };
    // Time in the owner's HR and power zones; without zones, the owner is asked to set them
    // (the prompt is `data-owner`, shown by the script to the owner only).
    let mut zone_charts: Vec<ZoneChart> = Vec::new();
    let mut zones_missing: Vec<&'static str> = Vec::new();
    if let Some(ts) = ts {
        const HR_COLORS: [&str; 5] = ["#3b82f6", "#22c55e", "#eab308", "#f97316", "#ef4444"];
        const POWER_COLORS: [&str; 7] =
            ["#3b82f6", "#10b981", "#eab308", "#f97316", "#ef4444", "#a855f7", "#e11d48"];
        for (label, unit, zones, values, colors, key, what) in [
            (
                "Heart rate zones",
                "bpm",
                &settings.hr_zones,
                &ts.hr_bpm,
                &HR_COLORS[..],
                "heart_rate",
                "heart-rate",
            ),
            (
                "Power zones",
                "W",
                &settings.power_zones,
                &ts.power_w,
                &POWER_COLORS[..],
                "power",
                "power",
            ),
        ] {
            if hide(key) || !values.iter().any(Option::is_some) {
                continue;
            }
            match zones.as_ref().filter(|z| !z.is_empty()) {
                Some(z) => {
                    if let Some(svg) = zone_time_svg(&ts.t, values, z, unit, colors) {
                        zone_charts.push(ZoneChart { label, svg });
                    }
                }
                None => zones_missing.push(what),
            }
        }
    }
    // This activity's best efforts against the athlete's all-time best.
    let power_curve_svg = if hide("power") {
        None
    } else {
        s.mmp.as_ref().filter(|m| !m.is_empty()).and_then(|m| {
            let mine: Vec<(i64, i64)> = m.iter().map(|(d, w)| (d.0, w.0)).collect();
            let best: Vec<(i64, i64)> = u
                .athlete
                .as_ref()
                .and_then(|a| a.power_curve.all_time.as_ref())
                .map(|c| c.iter().map(|(d, w)| (d.0, w.0)).collect())
                .unwrap_or_default();
            let mut lines = vec![svg::CurveLine { name: "This activity", color, points: &mine }];
            if !best.is_empty() {
                lines.push(svg::CurveLine {
                    name: "All-time best",
                    color: "#a1a1aa",
                    points: &best,
                });
            }
            svg::power_curve(&lines, settings.ftp_w)
        })
    };

    let photos: Vec<Photo> = a
        .images
        .iter()
        .map(|img| Photo { src: format!("{}images/{id}/{img}", urls.data), name: img.clone() })
        .collect();
    let records = records_set(u, id);

    // GPX download of the published track.
    let gpx_url = if coords.len() >= 2 {
        let rel = format!("{page_dir}{id}.gpx");
        produced.push(ctx.out.put(&rel, &gpx_bytes(&view::display_title(s), track.as_ref()))?);
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
        tile_attribution: ctx.site.tile_url.as_ref().map(|_| TILE_ATTRIBUTION.to_owned()),
        speed_q: units::speed_q(s.sport).as_str(),
        cadence: (!hide("cadence")).then(|| units::cadence(s.sport, 1.0)),
        units: units_name(units),
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
    insert_moved(&mut c, "stats_html", stats_html(&stats).into());
    c.insert("lap_table", &lap_table);
    insert_moved(&mut c, "splits_html", splits.into());
    c.insert("legs", &legs);
    c.insert("charts_dist", &charts.first().is_some_and(|c| c.svg_dist.is_some()));
    insert_moved(&mut c, "charts_html", charts_html(charts).into());
    insert_moved(&mut c, "zones_html", zones_html(zone_charts).into());
    c.insert("zones_missing", &zones_missing.join(" and "));
    c.insert("zones_ask_hr", &zones_missing.contains(&"heart-rate"));
    c.insert("zones_ask_power", &zones_missing.contains(&"power"));
    insert_moved(&mut c, "power_curve_svg", power_curve_svg.into());
    insert_moved(&mut c, "track_svg", track_svg.into());
    c.insert("photos", &photos);
    c.insert("records", &records);
    c.insert("gpx_url", &gpx_url);
    c.insert("device", &d.device.as_deref().and_then(device::display_name));
    // Placed in a quoted attribute (`data-map='…'`), which Tera escapes like any value.
    c.insert("map_json", &serde_json::to_string(&map).unwrap_or_default());
    c.insert("detail_url", &format!("{}{}", urls.data, layout::detail_name(id)));
    produced.push(ctx.render("pages/activity.html", c, &format!("{page_dir}index.html"))?);
    let _: &ActivityUrls = urls;
    Ok(produced)
}

/// Put `value` in the page's context as it is. `Context::insert` serialises a copy of what
/// it is given, and the page's SVG and pre-rendered rows are tens of kilobytes a page.
fn insert_moved(c: &mut tera::Context, key: &str, value: serde_json::Value) {
    let mut one = serde_json::Map::new();
    one.insert(key.to_owned(), value);
    // A JSON object always makes a context.
    if let Ok(moved) = tera::Context::from_value(serde_json::Value::Object(one)) {
        c.extend(moved);
    }
}

/// The stacked charts as the page places them, one `<figure>` per channel: what the
/// template's loop over the charts wrote (`docs/site.md`, "Pre-rendered rows").
fn charts_html(charts: Vec<Chart>) -> String {
    let len: usize = charts
        .iter()
        .map(|c| 200 + c.svg_time.len() + c.svg_dist.as_ref().map_or(0, String::len))
        .sum();
    let mut out = String::with_capacity(len);
    for ch in charts {
        out.push_str("<figure class=\"chart-box\" data-chart=\"");
        escape::html_into(&mut out, ch.key);
        out.push_str("\"><figcaption>");
        escape::html_into(&mut out, &ch.label);
        out.push_str("</figcaption><div class=\"ax-time\" data-axis=\"time\">");
        out.push_str(&ch.svg_time);
        out.push_str("</div>");
        if let Some(svg) = ch.svg_dist.filter(|s| !s.is_empty()) {
            out.push_str("<div class=\"ax-dist\" data-axis=\"dist\">");
            out.push_str(&svg);
            out.push_str("</div>");
        }
        out.push_str("</figure>");
    }
    out
}

/// The time-in-zones bars, a heading and an SVG per kind of zone.
fn zones_html(zones: Vec<ZoneChart>) -> String {
    let mut out = String::new();
    for z in zones {
        out.push_str("<h2>");
        escape::html_into(&mut out, z.label);
        out.push_str("</h2>");
        out.push_str(&z.svg);
    }
    out
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Option<T> {
    let bytes = std::fs::read(p).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The attribution shown with base-map tiles. Every public and self-hosted raster tile
/// service of the documented kind (`docs/site.md`, "Base map") draws OpenStreetMap data,
/// whose licence requires this credit.
const TILE_ATTRIBUTION: &str =
    "© <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a> contributors";

fn units_name(u: Units) -> &'static str {
    if u == Units::Imperial { "imperial" } else { "metric" }
}

/// The figure cards: only those the activity has data for (no "—" cards), in the order
/// Strava's readers look for them, each stat-group left out when `hide_stats` hides it.
fn stats(
    s: &Summary,
    d: &Detail,
    ts: Option<&Timeseries>,
    hide: &dyn Fn(&str) -> bool,
    units: Units,
) -> Vec<Stat> {
    let mut out: Vec<Stat> = Vec::new();
    let mut push = |label: &'static str, fig: Option<Fig>| {
        if let Some(f) = fig {
            out.push(Stat { label, value: f.text, q: f.q, si: f.si });
        }
    };
    let plain = |t: String| Some(Fig::plain(t));
    push("Distance", s.distance_m.filter(|d| *d > 0.0).map(|m| Fig::of(Q::Distance, m, units)));
    let moving = s.moving_time_s.or(s.duration_s);
    push("Moving time", moving.and_then(|v| plain(format_duration(Some(v as f64)))));
    if s.duration_s != moving {
        push("Elapsed time", s.duration_s.and_then(|v| plain(format_duration(Some(v as f64)))));
    }
    if !hide("elevation") {
        push("Elevation gain", s.elevation_gain_m.map(|m| Fig::of(Q::Elevation, m, units)));
        push("Descent", d.elevation_loss_m.map(|m| Fig::of(Q::Elevation, m, units)));
    }
    if !hide("speed") {
        let q = units::speed_q(s.sport);
        let (avg, max) = units::speed_labels(s.sport);
        push(avg, s.avg_speed_kmh.filter(|v| *v > 0.0).map(|v| Fig::of(q, v, units)));
        push(max, s.max_speed_kmh.filter(|v| *v > 0.0).map(|v| Fig::of(q, v, units)));
    }
    if !hide("heart_rate") {
        push("Avg heart rate", s.avg_hr_bpm.and_then(|v| plain(format!("{v} bpm"))));
        push("Max heart rate", s.max_hr_bpm.and_then(|v| plain(format!("{v} bpm"))));
    }
    if !hide("power") {
        let p = ts.map(|t| (t.t.as_slice(), t.power_w.as_slice()));
        push("Avg power", s.avg_power_w.and_then(|v| plain(format!("{v} W"))));
        push(
            "Normalized power",
            p.and_then(|(t, w)| figures::normalized_power(t, w))
                .and_then(|v| plain(format!("{} W", v.round()))),
        );
        push("Max power", d.max_power_w.and_then(|v| plain(format!("{v} W"))));
        push(
            "Energy",
            p.and_then(|(t, w)| figures::work_kj(t, w))
                .filter(|kj| *kj > 0.0)
                .and_then(|kj| plain(format!("{} kJ", kj.round()))),
        );
    }
    // The device's own estimate, as recorded. The merge already removed it when heart rate
    // or power is hidden (the rule lives in `bincio_bas::hidden`), so no check here.
    push("Calories", d.calories_kcal.filter(|k| *k > 0).and_then(|k| plain(format!("{k} kcal"))));
    if !hide("cadence") {
        let cad = |v: f64| plain(units::cadence_text(s.sport, v));
        push("Avg cadence", s.avg_cadence_rpm.filter(|v| *v > 0).and_then(|v| cad(v as f64)));
        push(
            "Max cadence",
            ts.and_then(|t| figures::max_i(&t.cadence_rpm))
                .filter(|v| *v > 0)
                .and_then(|v| cad(v as f64)),
        );
    }
    push(
        "Temperature",
        ts.and_then(|t| figures::mean_min_max(&t.t, &t.temperature_c)).and_then(|(m, lo, hi)| {
            if hi - lo >= 1.0 {
                plain(format!("{} °C ({}–{})", m.round(), lo.round(), hi.round()))
            } else {
                plain(format!("{} °C", m.round()))
            }
        }),
    );
    if let (Some(len), Some(n)) = (d.pool_length_m, d.pool_lengths) {
        push("Pool", plain(format!("{len} m · {n} lengths")));
    }
    if let Some(g) = d.gear.as_ref().filter(|g| !g.trim().is_empty()) {
        push("Gear", plain(g.clone()));
    }
    out
}

/// The figure cards as the page's `<dl>` holds them: what the template's loop over a list
/// of cards wrote, written here (`docs/site.md`, "Pre-rendered rows").
fn stats_html(stats: &[Stat]) -> String {
    let mut out = String::with_capacity(stats.len() * 96);
    for st in stats {
        out.push_str("<div class=\"stat\"><dt>");
        escape::html_into(&mut out, st.label);
        out.push_str("</dt><dd");
        push_q_si(&mut out, st.q, st.si);
        out.push('>');
        escape::html_into(&mut out, &st.value);
        out.push_str("</dd></div>");
    }
    out
}

/// ` data-q="…" data-si="…"` of a converted figure (`site/units.rs`), nothing for a plain
/// one. The SI value is written as a template printed a number: `Display` of the `f64`
/// ("27.4", "100"), and nothing for a value JSON cannot hold (NaN, infinite).
fn push_q_si(out: &mut String, q: Option<&str>, si: Option<f64>) {
    use std::fmt::Write;
    let Some(q) = q.filter(|q| !q.is_empty()) else { return };
    out.push_str(" data-q=\"");
    escape::html_into(out, q);
    out.push_str("\" data-si=\"");
    if let Some(si) = si.filter(|v| v.is_finite()) {
        let _ = write!(out, "{si}");
    }
    out.push('"');
}

/// One column of the laps table: its header and one cell per lap.
#[derive(Serialize)]
struct LapTable {
    headers: Vec<&'static str>,
    /// The table's rows, one `<tr>` per lap ([`lap_rows_html`]).
    rows_html: String,
    /// Rest laps (pool swims: no distance) are hidden by default; the page offers a toggle.
    rests: usize,
}

struct LapRow {
    n: i64,
    /// The leg's sport in a multisport activity, when the laps carry it.
    leg: Option<String>,
    rest: bool,
    cells: Vec<Fig>,
}

/// The laps table with every column some lap has data for.
fn lap_table(
    sport: Sport,
    sub: Option<SubSport>,
    laps: &[Lap],
    legs: &[bincio_bas::Leg],
    hide: &dyn Fn(&str) -> bool,
    units: Units,
) -> Option<LapTable> {
    if laps.is_empty() {
        return None;
    }
    type Cell<'a> = Box<dyn Fn(&Lap) -> Option<Fig> + 'a>;
    let q = units::speed_q(sport);
    let plain = |t: String| Some(Fig::plain(t));
    let mut cols: Vec<(&'static str, &'static str, Cell<'_>)> = vec![
        (
            "Distance",
            "",
            Box::new(move |l: &Lap| l.distance_m.map(|m| Fig::of(Q::Distance, m, units))),
        ),
        (
            "Time",
            "",
            Box::new(move |l: &Lap| l.duration_s.and_then(|v| plain(format_duration(Some(v))))),
        ),
        (
            if q == Q::Speed { "Speed" } else { "Pace" },
            "speed",
            Box::new(move |l: &Lap| lap_speed(l).map(|v| Fig::of(q, v, units))),
        ),
        (
            if q == Q::Speed { "Max speed" } else { "Best pace" },
            "speed",
            Box::new(move |l: &Lap| {
                l.max_speed_kmh.filter(|v| *v > 0.0).map(|v| Fig::of(q, v, units))
            }),
        ),
        (
            "Elev. gain",
            "elevation",
            Box::new(move |l: &Lap| l.elevation_gain_m.map(|m| Fig::of(Q::Elevation, m, units))),
        ),
        (
            "Avg HR",
            "heart_rate",
            Box::new(move |l: &Lap| l.avg_hr_bpm.and_then(|v| plain(format!("{v} bpm")))),
        ),
        (
            "Max HR",
            "heart_rate",
            Box::new(move |l: &Lap| l.max_hr_bpm.and_then(|v| plain(format!("{v} bpm")))),
        ),
        (
            "Avg power",
            "power",
            Box::new(move |l: &Lap| l.avg_power_w.and_then(|v| plain(format!("{v} W")))),
        ),
        (
            "Max power",
            "power",
            Box::new(move |l: &Lap| l.max_power_w.and_then(|v| plain(format!("{v} W")))),
        ),
        (
            "Cadence",
            "cadence",
            Box::new(move |l: &Lap| {
                l.avg_cadence_rpm
                    .filter(|v| *v > 0)
                    .and_then(|v| plain(units::cadence_text(sport, v as f64)))
            }),
        ),
    ];
    cols.retain(|(_, key, f)| {
        (key.is_empty() || !hide(key)) && laps.iter().any(|l| f(l).is_some())
    });
    let pool = sub == Some(SubSport::Pool);
    let rows: Vec<LapRow> = laps
        .iter()
        .map(|l| LapRow {
            n: l.index + 1,
            leg: leg_of(l, legs),
            rest: pool && l.distance_m.is_none_or(|d| d <= 0.0),
            cells: cols
                .iter()
                .map(|(_, _, f)| f(l).unwrap_or_else(|| Fig::plain(String::new())))
                .collect(),
        })
        .collect();
    let rests = rows.iter().filter(|r| r.rest).count();
    Some(LapTable {
        headers: cols.iter().map(|(h, _, _)| *h).collect(),
        rows_html: lap_rows_html(&rows),
        rests,
    })
}

/// The laps table's rows: what the template's loop over laps and cells wrote.
fn lap_rows_html(rows: &[LapRow]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows.len() * 256);
    for l in rows {
        out.push_str(if l.rest { "<tr class=\"rest\"><td>" } else { "<tr><td>" });
        let _ = write!(out, "{}", l.n);
        if let Some(leg) = l.leg.as_deref().filter(|g| !g.is_empty()) {
            out.push_str(" <span class=\"badge\">");
            escape::html_into(&mut out, leg);
            out.push_str("</span>");
        }
        if l.rest {
            out.push_str(" <span class=\"muted\">rest</span>");
        }
        out.push_str("</td>");
        for c in &l.cells {
            out.push_str("<td");
            push_q_si(&mut out, c.q, c.si);
            out.push('>');
            escape::html_into(&mut out, &c.text);
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out
}

/// The sport of the multisport leg a lap belongs to: the last leg that started at or
/// before the lap (a device starts a new lap with each leg), the first leg for a lap that
/// starts before all of them. `None` outside a multisport activity or for a lap without a
/// start time.
fn leg_of(lap: &Lap, legs: &[bincio_bas::Leg]) -> Option<String> {
    let start = lap.started_at?.unix_ms();
    // A lap written a moment before its leg's session start still belongs to that leg.
    const SLACK_MS: i64 = 1000;
    // A lap that starts before every leg (a device whose first lap begins a few seconds
    // before its first session) is part of the first leg.
    let leg = legs
        .iter()
        .filter(|g| g.started_at.unix_ms() <= start + SLACK_MS)
        .max_by_key(|g| g.started_at.unix_ms())
        .or_else(|| legs.iter().min_by_key(|g| g.started_at.unix_ms()))?;
    Some(if leg.transition {
        "Transition".to_owned()
    } else {
        sport_label(leg.sport, leg.sub_sport)
    })
}

/// A lap's average speed: the recorded one, else its distance over its time.
fn lap_speed(l: &Lap) -> Option<f64> {
    l.avg_speed_kmh.filter(|v| *v > 0.0).or_else(|| match (l.distance_m, l.duration_s) {
        (Some(d), Some(t)) if d > 0.0 && t > 0.0 => Some(d / t * 3.6),
        _ => None,
    })
}

/// The most rows a splits table has: a longer activity is split every 5, 10, 25 … km or mi
/// (a 200 km ride reads as 40 splits of 5 km, not 200 of 1 km).
const MAX_SPLITS: f64 = 50.0;

/// How many units (km or mi) each split covers: 1 whenever that gives at most
/// [`MAX_SPLITS`] rows.
fn split_units(distance_m: f64, unit_m: f64) -> f64 {
    [1.0, 5.0, 10.0, 25.0, 50.0]
        .into_iter()
        .find(|k| distance_m / (unit_m * k) <= MAX_SPLITS)
        .unwrap_or(100.0)
}

/// Automatic splits per km and per mile (both are rendered; the unit preference picks one),
/// as the page's HTML: one `<div class="table-scroll">` per table, each cell escaped. It is
/// what the template's loops over tables, rows and cells wrote (`docs/site.md`,
/// "Pre-rendered rows"); empty when there is no table.
fn split_tables(
    ts: &Timeseries,
    dist_m: &[f64],
    s: &Summary,
    hide: &dyn Fn(&str) -> bool,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let lengths = [(Units::Metric, "km", 1000.0), (Units::Imperial, "mi", 1609.344)];
    let total = s.distance_m.or_else(|| dist_m.last().copied()).unwrap_or(0.0);
    let ks = lengths.map(|(_, _, unit_m)| split_units(total, unit_m));
    let [metric, imperial] =
        figures::splits_by(ts, dist_m, s.distance_m, [lengths[0].2 * ks[0], lengths[1].2 * ks[1]]);
    // One cell's text, formatted here before it is escaped into the page.
    let mut text = String::new();
    for (((units, unit, unit_m), k), sp) in lengths.into_iter().zip(ks).zip([metric, imperial]) {
        let every = unit_m * k;
        if sp.len() < 2 {
            continue;
        }
        let q = units::speed_q(s.sport);
        let has = |f: &dyn Fn(&figures::Split) -> bool| sp.iter().any(f);
        let ele = !hide("elevation") && has(&|x| x.elevation_gain_m.is_some());
        let hr = !hide("heart_rate") && has(&|x| x.avg_hr_bpm.is_some());
        let pw = !hide("power") && has(&|x| x.avg_power_w.is_some());
        let cad = !hide("cadence") && has(&|x| x.avg_cadence.is_some());
        let mut headers = vec![unit, "Time", if q == Q::Speed { "Speed" } else { "Pace" }];
        if ele {
            headers.push("Elev.");
        }
        if hr {
            headers.push("HR");
        }
        if pw {
            headers.push("Power");
        }
        if cad {
            headers.push("Cadence");
        }
        out.reserve(400 + sp.len() * 160);
        out.push_str("<div class=\"table-scroll\" tabindex=\"0\" data-units-only=\"");
        out.push_str(units_name(units));
        out.push_str("\"><table><caption class=\"sr-only\">Splits per ");
        if k == 1.0 {
            escape::html_into(&mut out, unit);
        } else {
            text.clear();
            let _ = write!(text, "{k} {unit}");
            escape::html_into(&mut out, &text);
        }
        out.push_str("</caption><thead><tr>");
        for h in headers {
            out.push_str("<th scope=\"col\">");
            escape::html_into(&mut out, h);
            out.push_str("</th>");
        }
        out.push_str("</tr></thead><tbody>\n  ");
        let cell = |out: &mut String, text: &str| {
            out.push_str("<td>");
            escape::html_into(out, text);
            out.push_str("</td>");
        };
        for (i, x) in sp.iter().enumerate() {
            out.push_str("<tr>");
            let full = (x.distance_m - every).abs() < every * 0.01;
            if full || i + 1 < sp.len() {
                text.clear();
                let _ = write!(text, "{}", (i + 1) as f64 * k);
                cell(&mut out, &text);
            } else {
                cell(&mut out, &units::format(Q::Distance, x.distance_m, units));
            }
            cell(&mut out, &format_duration(Some(x.time_s)));
            cell(&mut out, &x.speed_kmh().map(|v| units::format(q, v, units)).unwrap_or_default());
            if ele {
                let f = |m: Option<f64>| m.map(|m| units::format(Q::Elevation, m, units));
                text.clear();
                let _ = write!(
                    text,
                    "+{} / −{}",
                    f(x.elevation_gain_m).unwrap_or_default(),
                    f(x.elevation_loss_m).unwrap_or_default()
                );
                cell(&mut out, &text);
            }
            if hr {
                text.clear();
                if let Some(v) = x.avg_hr_bpm {
                    let _ = write!(text, "{} bpm", v.round());
                }
                cell(&mut out, &text);
            }
            if pw {
                text.clear();
                if let Some(v) = x.avg_power_w {
                    let _ = write!(text, "{} W", v.round());
                }
                cell(&mut out, &text);
            }
            if cad {
                cell(
                    &mut out,
                    &x.avg_cadence.map(|v| units::cadence_text(s.sport, v)).unwrap_or_default(),
                );
            }
            out.push_str("</tr>");
        }
        out.push_str("\n  </tbody></table></div>");
    }
    out
}

/// key, label, colour, values (`NaN` for none) and how many samples have one,
/// `hide_stats` name, y format, fit the axis, area.
type Channel<'a> =
    (&'static str, String, &'static str, (&'a [f64], Filled), &'static str, YFormat, bool, bool);

/// `v` refilled from `values`, keeping its memory.
fn refill<T>(v: &mut Vec<T>, values: impl Iterator<Item = T>) {
    v.clear();
    v.extend(values);
}

/// What [`refill_values`] saw of a series while filling it: how many values it has (a chart
/// needs two) and, of the finite ones, how many, the least, the greatest and their sum in
/// order, for the chart's text alternative ([`chart_summary`]). Gathered in the one pass
/// that fills the series: two more passes per chart over every sample were a third of the
/// page's own time.
#[derive(Clone, Copy, Debug)]
struct Filled {
    some: usize,
    finite: usize,
    lo: f64,
    hi: f64,
    sum: f64,
}

impl Default for Filled {
    fn default() -> Self {
        // `-0.0` is what `Iterator::sum` of `f64` starts from: the same sum to the bit.
        Filled { some: 0, finite: 0, lo: f64::INFINITY, hi: f64::NEG_INFINITY, sum: -0.0 }
    }
}

/// One sample of a chart series: its value or `NaN`, and what [`Filled`] keeps of it.
#[inline(always)]
fn put(f: &mut Filled, x: Option<f64>) -> f64 {
    match x {
        Some(y) => {
            f.some += 1;
            // `NaN` is no value; an infinite one is left out of the summary as ever.
            if y.is_finite() {
                f.finite += 1;
                f.lo = f.lo.min(y);
                f.hi = f.hi.max(y);
                f.sum += y;
            }
            y
        }
        None => f64::NAN,
    }
}

/// The five chart series, `NaN` where a sample has no value, refilled in `out` (keeping its
/// memory): elevation and speed converted by their functions, heart rate, power and cadence
/// (cadence by its function) when given. One pass over the samples fills them all: each
/// series is filled and summed on its own and in sample order, so its values and sums are
/// those of a pass of its own to the bit, but the five chains of additions and comparisons
/// overlap instead of running one after the other. The series are sized first and written
/// by index: a push per value checked the capacity, and stored the length back, for each
/// of the five series at every sample.
fn fill_series(
    out: [&mut Vec<f64>; 5],
    (elevation, elevation_f): (&[Option<f64>], impl Fn(f64) -> f64),
    (speed, speed_f): (&[Option<f64>], impl Fn(f64) -> Option<f64>),
    [hr, power, cadence]: [Option<&[Option<i64>]>; 3],
    cadence_f: impl Fn(i64) -> Option<f64>,
) -> [Filled; 5] {
    let [e_out, s_out, h_out, p_out, c_out] = out;
    for (v, n) in [
        (&mut *e_out, elevation.len()),
        (&mut *s_out, speed.len()),
        (&mut *h_out, hr.map_or(0, <[_]>::len)),
        (&mut *p_out, power.map_or(0, <[_]>::len)),
        (&mut *c_out, cadence.map_or(0, <[_]>::len)),
    ] {
        v.clear();
        v.resize(n, 0.0);
    }
    let mut f = [Filled::default(); 5];
    let [fe, fs, fh, fp, fc] = &mut f;
    let int = |x: &Option<i64>| x.map(|y| y as f64);
    // The samples every series being filled has (they are as long as the times, but a
    // file is not trusted to say so), then the rest of each longer one.
    let common = [Some(elevation.len()), Some(speed.len())]
        .into_iter()
        .chain([hr, power, cadence].map(|c| c.map(<[_]>::len)))
        .flatten()
        .min()
        .unwrap_or(0);
    let (e, s) = (&elevation[..common], &speed[..common]);
    let (h, p, c) =
        (hr.map(|v| &v[..common]), power.map(|v| &v[..common]), cadence.map(|v| &v[..common]));
    {
        let (eo, so) = (&mut e_out[..common], &mut s_out[..common]);
        // An integer series left out has no samples, and is not written.
        let upto = |v: &mut Vec<f64>| v.len().min(common);
        let (nh, np, nc) = (upto(h_out), upto(p_out), upto(c_out));
        let (ho, po, co) = (&mut h_out[..nh], &mut p_out[..np], &mut c_out[..nc]);
        for i in 0..common {
            eo[i] = put(fe, e[i].map(&elevation_f));
            so[i] = put(fs, s[i].and_then(&speed_f));
            if let Some(h) = h {
                ho[i] = put(fh, int(&h[i]));
            }
            if let Some(p) = p {
                po[i] = put(fp, int(&p[i]));
            }
            if let Some(c) = c {
                co[i] = put(fc, c[i].and_then(&cadence_f));
            }
        }
    }
    for (o, x) in e_out[common..].iter_mut().zip(&elevation[common..]) {
        *o = put(fe, x.map(&elevation_f));
    }
    for (o, x) in s_out[common..].iter_mut().zip(&speed[common..]) {
        *o = put(fs, x.and_then(&speed_f));
    }
    for (o, x) in h_out.iter_mut().zip(hr.unwrap_or_default()).skip(common) {
        *o = put(fh, int(x));
    }
    for (o, x) in p_out.iter_mut().zip(power.unwrap_or_default()).skip(common) {
        *o = put(fp, int(x));
    }
    for (o, x) in c_out.iter_mut().zip(cadence.unwrap_or_default()).skip(common) {
        *o = put(fc, x.and_then(&cadence_f));
    }
    f
}

/// The stacked charts of the channels that have data, against time and (when a distance
/// exists) distance. Every chart has the same width and margins so that one hover line
/// crosses them all at the same sample; only the bottom chart of a stack carries the x
/// labels. Running and walking show pace (min/km or min/mi, faster higher), swims pace per
/// 100, rides speed; elevation and heart rate fit their axis to the data.
fn charts(
    ts: &Timeseries,
    dist_m: Option<&[f64]>,
    sport: Sport,
    hide: &dyn Fn(&str) -> bool,
    units: Units,
    scratch: &mut ChartScratch,
) -> Vec<Chart> {
    let ChartScratch { t, dist, values, time_cols, dist_cols, points } = scratch;
    time_cols.clear();
    dist_cols.clear();
    let imp = units == Units::Imperial;
    refill(t, ts.t.iter().map(|v| *v as f64));
    let (dist_div, dist_unit) = if imp { (1609.344, "mi") } else { (1000.0, "km") };
    let dist: Option<&[f64]> = dist_m.map(|d| {
        refill(dist, d.iter().map(|m| m / dist_div));
        dist.as_slice()
    });
    let [elev, speed_vals, hr, power, cadence] = values;
    let q = units::speed_q(sport);
    // The length a pace is given for (km or mile, 100 m or 100 yd); unused for a speed.
    let len = match (q, imp) {
        (Q::Pace, false) => 1000.0,
        (Q::Pace, true) => 1609.344,
        (_, false) => 100.0,
        (_, true) => 91.44,
    };
    let (speed_label, speed_fmt) = match q {
        Q::Speed => (format!("Speed ({})", if imp { "mph" } else { "km/h" }), YFormat::Number),
        _ => {
            let per = match (q, imp) {
                (Q::Pace, false) => "/km",
                (Q::Pace, true) => "/mi",
                (_, false) => "/100 m",
                (_, true) => "/100 yd",
            };
            (format!("Pace (min{per})"), YFormat::Pace)
        }
    };
    let (cad_unit, cad_mul) = {
        let (v, u) = units::cadence(sport, 1.0);
        (u, v)
    };
    // A channel recorded by no sensor is all nulls: under two values it is not drawn, and
    // its conversion (which never turns a null into a value) can be skipped.
    fn drawn(v: &[Option<i64>]) -> Option<&[Option<i64>]> {
        v.iter().filter(|x| x.is_some()).nth(1).is_some().then_some(v)
    }
    // Standing still is an infinite pace: below a slow walk the point is left out so a
    // stop does not flatten the rest of the chart.
    let pace = |k: f64| (k >= 2.0).then(|| len / (k / 3.6));
    let series = [&mut *elev, &mut *speed_vals, &mut *hr, &mut *power, &mut *cadence];
    let ints = [drawn(&ts.hr_bpm), drawn(&ts.power_w), drawn(&ts.cadence_rpm)];
    let cadence_f = |c: i64| (c > 0).then_some(c as f64 * cad_mul);
    // Metric and imperial units are filled by separate loops: with one closure choosing
    // the unit inside, the compiler divided every sample by the imperial factors and then
    // picked the metric value, two divisions a sample for nothing.
    let counts = if imp {
        fill_series(
            series,
            (&ts.elevation_m, |m| m / 0.3048),
            (&ts.speed_kmh, |k| match q {
                Q::Speed => Some(k / 1.609344),
                _ => pace(k),
            }),
            ints,
            cadence_f,
        )
    } else {
        fill_series(
            series,
            (&ts.elevation_m, |m| m),
            (&ts.speed_kmh, |k| match q {
                Q::Speed => Some(k),
                _ => pace(k),
            }),
            ints,
            cadence_f,
        )
    };
    let channels: Vec<Channel<'_>> = vec![
        (
            "elevation",
            format!("Elevation ({})", if imp { "ft" } else { "m" }),
            "#0ea5e9",
            (elev, counts[0]),
            "elevation",
            YFormat::Number,
            true,
            true,
        ),
        (
            "speed",
            speed_label,
            "#f97316",
            (speed_vals, counts[1]),
            "speed",
            speed_fmt,
            false,
            false,
        ),
        (
            "hr",
            "Heart rate (bpm)".to_owned(),
            "#ef4444",
            (hr, counts[2]),
            "heart_rate",
            YFormat::Number,
            true,
            false,
        ),
        (
            "power",
            "Power (W)".to_owned(),
            "#eab308",
            (power, counts[3]),
            "power",
            YFormat::Number,
            false,
            false,
        ),
        (
            "cadence",
            format!("Cadence ({cad_unit})"),
            "#8b5cf6",
            (cadence, counts[4]),
            "cadence",
            YFormat::Number,
            false,
            false,
        ),
    ];
    let shown: Vec<&Channel<'_>> =
        channels.iter().filter(|c| !hide(c.4) && c.3.1.some >= 2).collect();
    let mut out = Vec::new();
    for (k, (key, label, color, (ys, filled), _, y, fit, area)) in shown.iter().enumerate() {
        let last = k + 1 == shown.len();
        let summary = chart_summary(label, filled, *y);
        let spec = |x: XAxis| svg::ChartSpec {
            label,
            color,
            y: *y,
            fit: *fit,
            area: *area,
            x,
            x_labels: last,
            summary: summary.clone(),
        };
        svg::decimate_values(t, ys, svg::CHART_COLUMNS, time_cols, points);
        let Some(svg_time) = svg::line_chart(points, &spec(XAxis::Time)) else {
            continue;
        };
        let svg_dist = dist.and_then(|d| {
            svg::decimate_values(d, ys, svg::CHART_COLUMNS, dist_cols, points);
            svg::line_chart(points, &spec(XAxis::Distance { unit: dist_unit }))
        });
        out.push(Chart { key, label: label.clone(), svg_time, svg_dist });
    }
    out
}

/// The text alternative of a chart: its range and mean ("Heart rate (bpm): 102 to 181,
/// mean 148"), from what [`refill_values`] gathered of its series.
fn chart_summary(label: &str, filled: &Filled, y: YFormat) -> String {
    let Filled { finite: n, lo, hi, sum, .. } = *filled;
    if n == 0 {
        return label.to_owned();
    }
    let mean = sum / n as f64;
    summary_text(label, [lo, hi, mean], y)
}

/// "{label}: {lo} to {hi}, mean {mean}", each figure rounded as the axis shows it.
fn summary_text(label: &str, [lo, hi, mean]: [f64; 3], y: YFormat) -> String {
    let f = |x: f64| match y {
        YFormat::Number => format!("{}", x.round()),
        YFormat::Pace => {
            let s = x.round() as i64;
            format!("{}:{:02}", s / 60, s % 60)
        }
    };
    format!("{label}: {} to {}, mean {}", f(lo), f(hi), f(mean))
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
                    k => format!("Best {} ({sport})", effort_name(k)),
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

/// A best-effort distance key (km) as runners say it: "400 m", "mile", "5 km", "marathon".
fn effort_name(km: &str) -> String {
    match km {
        "1.609" | "1.609344" => "mile".to_owned(),
        "21.0975" | "21.097" => "half marathon".to_owned(),
        "42.195" => "marathon".to_owned(),
        k => match k.parse::<f64>() {
            Ok(v) if v < 1.0 => format!("{} m", (v * 1000.0).round()),
            _ => format!("{} km", k.trim_end_matches(".0")),
        },
    }
}

/// GPX 1.1 of the published (privacy-filtered) track: the document the `gpx` crate writes
/// (indented by two spaces, no trailing newline), to the byte, written straight into one
/// string. Through the crate, each point was a `Waypoint` of two dozen fields and each
/// element an XML event, for a file of a few kilobytes on every activity page.
fn gpx_bytes(title: &str, track: Option<&TrackFeature>) -> Vec<u8> {
    use std::fmt::Write;
    let coords = track.map(|t| t.geometry.coordinates.as_slice()).unwrap_or_default();
    let mut s = String::with_capacity(220 + title.len() + coords.len() * 80);
    s.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" creator="bincio">"#,
        "\n  <trk>\n    <name>"
    ));
    // Markup escaped as the crate's XML writer does in text (`<`, `>`, `&`), and the
    // control characters XML forbids replaced, which it would write as they are.
    for c in title.chars() {
        match c {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            c if super::super::escape::is_forbidden_control(c) => s.push('\u{FFFD}'),
            c => s.push(c),
        }
    }
    s.push_str("</name>\n    <trkseg");
    let mut points = 0;
    for c in coords.iter().filter(|c| c.len() >= 2) {
        if points == 0 {
            s.push('>');
        }
        points += 1;
        // Shortest round-trip decimals (`Display` of f64), as the crate writes them.
        let _ = write!(s, "\n      <trkpt lat=\"{}\" lon=\"{}\"", c[1], c[0]);
        match c.get(2) {
            Some(ele) => {
                let _ = write!(s, ">\n        <ele>{ele}</ele>\n      </trkpt>");
            }
            None => s.push_str(" />"),
        }
    }
    s.push_str(if points == 0 { " />" } else { "\n    </trkseg>" });
    s.push_str("\n  </trk>\n</gpx>");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::escape::xml_chars;

    /// `chart_summary` as it was before [`refill_values`] gathered its figures: two more
    /// passes over the filled series, verbatim but for the text, which both write through
    /// `summary_text`.
    fn reference_chart_summary(label: &str, ys: &[f64], y: YFormat) -> String {
        // `NaN` is no value; an infinite one is left out as ever.
        let finite = || ys.iter().copied().filter(|x| x.is_finite());
        let (n, lo, hi) = finite()
            .fold((0usize, f64::INFINITY, f64::NEG_INFINITY), |(n, a, b), x| {
                (n + 1, a.min(x), b.max(x))
            });
        if n == 0 {
            return label.to_owned();
        }
        // The same values in the same order as ever: the same sum to the bit.
        let mean = finite().sum::<f64>() / n as f64;
        summary_text(label, [lo, hi, mean], y)
    }

    /// `refill_values` as it was while each series was filled in a pass of its own,
    /// verbatim: the series then went to `reference_chart_summary`.
    fn reference_refill_values(
        v: &mut Vec<f64>,
        values: impl Iterator<Item = Option<f64>>,
    ) -> usize {
        let mut n = 0;
        refill(
            v,
            values.map(|x| match x {
                Some(y) => {
                    n += 1;
                    y
                }
                None => f64::NAN,
            }),
        );
        n
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Option<f64>> {
        proptest::option::weighted(
            0.8,
            proptest::prop_oneof![
                proptest::strategy::Just(0.0f64),
                proptest::strategy::Just(-0.0f64),
                proptest::strategy::Just(-0.4f64),
                proptest::strategy::Just(2.0f64),
                proptest::strategy::Just(f64::NAN),
                proptest::strategy::Just(f64::INFINITY),
                proptest::strategy::Just(f64::NEG_INFINITY),
                -500.0f64..9000.0,
                proptest::num::f64::ANY,
            ],
        )
    }

    fn any_int() -> impl proptest::strategy::Strategy<Value = Option<i64>> {
        proptest::option::weighted(
            0.8,
            proptest::prop_oneof![
                proptest::strategy::Just(0i64),
                -300i64..3000,
                proptest::num::i64::ANY
            ],
        )
    }

    proptest::proptest! {
        /// Any five channels, of any lengths, with holes, zeros of both signs and values
        /// that are not finite, any of the three integer ones left out: the same series
        /// (to the bit), counts and summaries as a pass of its own per series.
        #[test]
        fn series_filled_together_are_those_filled_alone(
            elevation in proptest::collection::vec(any_value(), 0..120),
            speed in proptest::collection::vec(any_value(), 0..120),
            ints in proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(any_int(), 0..120)),
                3,
            ),
            imp in proptest::prelude::any::<bool>(),
            pace in proptest::prelude::any::<bool>(),
        ) {
            let e_f = |m: f64| if imp { m / 0.3048 } else { m };
            let s_f = |k: f64| if pace { (k >= 2.0).then(|| 1000.0 / (k / 3.6)) } else { Some(k) };
            let c_f = |c: i64| (c > 0).then_some(c as f64 * 2.0);
            let ints: Vec<Option<&[Option<i64>]>> = ints.iter().map(|v| v.as_deref()).collect();
            let mut out: [Vec<f64>; 5] = Default::default();
            let [a, b, c, d, e] = &mut out;
            let filled = fill_series(
                [a, b, c, d, e],
                (&elevation, e_f),
                (&speed, s_f),
                [ints[0], ints[1], ints[2]],
                c_f,
            );
            let mut alone: [Vec<f64>; 5] = Default::default();
            let mut counts = [0usize; 5];
            counts[0] = reference_refill_values(&mut alone[0], elevation.iter().map(|v| v.map(e_f)));
            counts[1] = reference_refill_values(
                &mut alone[1],
                speed.iter().map(|v| v.and_then(s_f)),
            );
            for (k, from) in ints.iter().enumerate() {
                if let Some(from) = from {
                    counts[2 + k] = if k == 2 {
                        reference_refill_values(&mut alone[4], from.iter().map(|v| v.and_then(c_f)))
                    } else {
                        reference_refill_values(
                            &mut alone[2 + k],
                            from.iter().map(|x| x.map(|y| y as f64)),
                        )
                    };
                }
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for k in 0..5 {
                proptest::prop_assert_eq!(bits(&out[k]), bits(&alone[k]), "series {}", k);
                proptest::prop_assert_eq!(filled[k].some, counts[k], "count {}", k);
                for y in [YFormat::Number, YFormat::Pace] {
                    proptest::prop_assert_eq!(
                        chart_summary("Elevation (m)", &filled[k], y),
                        reference_chart_summary("Elevation (m)", &alone[k], y)
                    );
                }
            }
        }
    }

    /// The GPX the `gpx` crate writes for the same title and track: what the download was
    /// before it was written by hand, and must stay to the byte.
    fn gpx_by_crate(title: &str, track: &TrackFeature) -> Vec<u8> {
        let mut seg = gpx::TrackSegment::new();
        for c in track.geometry.coordinates.iter().filter(|c| c.len() >= 2) {
            let mut wp = gpx::Waypoint::new(geo_types::Point::new(c[0], c[1]));
            wp.elevation = c.get(2).copied();
            seg.points.push(wp);
        }
        let mut trk = gpx::Track::new();
        trk.name = Some(xml_chars(title));
        trk.segments.push(seg);
        let doc = gpx::Gpx {
            version: gpx::GpxVersion::Gpx11,
            creator: Some("bincio".to_owned()),
            tracks: vec![trk],
            ..gpx::Gpx::default()
        };
        let mut buf = Vec::new();
        gpx::write(&doc, &mut buf).unwrap();
        buf
    }

    fn track(coordinates: Vec<Vec<f64>>) -> TrackFeature {
        serde_json::from_value(serde_json::json!({
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": coordinates},
        }))
        .unwrap()
    }

    #[test]
    fn the_gpx_download_is_what_the_gpx_crate_writes() {
        let points = vec![
            vec![-80.550237, -49.749562, 1030.0],
            vec![-80.568575, -49.732913, 997.6],
            vec![7.0, 46.5],
            vec![0.1 + 0.2, -0.0, -3.25e-7],
            vec![1e-7, 89.99999999999999, 123456.789],
            vec![5.0],
            vec![12.345678, 45.678901, 0.0, 99.0],
        ];
        let titles = [
            "Morning Run",
            "",
            "<b>Tom & \"Jerry's\"</b> > ride",
            "Col du Galibier — 2 642 m ✓",
            "tab\tnew\nline\rcr nul\u{0}bell\u{7}del\u{7f}c1\u{85}ffff\u{FFFF}",
        ];
        for title in titles {
            for t in [
                track(points.clone()),
                track(points[2..4].to_vec()),
                track(vec![vec![1.0, 2.0], vec![3.0, 4.0]]),
                track(vec![vec![5.0]]),
                track(Vec::new()),
            ] {
                let ours = gpx_bytes(title, Some(&t));
                let theirs = gpx_by_crate(title, &t);
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&theirs),
                    "title {title:?}"
                );
            }
        }
    }
}
