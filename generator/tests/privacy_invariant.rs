//! The privacy invariant over a whole generated instance: whatever a user hid is nowhere in
//! the output folder — the folder nginx serves, so this is every URL a visitor or another
//! member can fetch.
//!
//! One instance holds every privacy choice, each on its own track written by this test at a
//! place no other track comes near, so a leaked coordinate is recognisable in any file and at
//! any precision: `no_gps`, `blur_start`, an unlisted activity, hidden stats (heart rate and
//! power with values no other activity has), the same ride uploaded twice in two formats after
//! the first copy was made unlisted, and a user who is deleted after a first build. The test
//! walks every file of the output and checks coordinates (JSON pairs, timeseries arrays,
//! GeoJSON, GPX, HTML attributes), stats, IDs and handles.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_bas::Privacy;
use bincio_gen::extract::{self, ExtractOptions};
use common::build;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A 20-minute ride at 1 Hz going north-east from `(lat0, lon0)`, with heart rate and power.
struct Ride {
    lat0: f64,
    lon0: f64,
    start: &'static str,
    hr: u32,
    power: u32,
}

impl Ride {
    const SECONDS: usize = 1200;

    fn point(&self, i: usize) -> (f64, f64) {
        // ≈ 7 m/s: 0.00004° of latitude and longitude per second.
        let t = i as f64;
        (self.lat0 + 0.00004 * t, self.lon0 + 0.00004 * t)
    }

    fn time(&self, i: usize) -> String {
        let start =
            time::OffsetDateTime::parse(self.start, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let t = start + time::Duration::seconds(i as i64);
        t.format(&time::format_description::well_known::Rfc3339).unwrap()
    }

    fn gpx(&self) -> String {
        let mut s = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="privacy-test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"><trk><type>cycling</type><trkseg>
"#,
        );
        for i in 0..Self::SECONDS {
            let (lat, lon) = self.point(i);
            s.push_str(&format!(
                "<trkpt lat=\"{lat:.7}\" lon=\"{lon:.7}\"><ele>{:.1}</ele><time>{}</time><extensions><power>{}</power><gpxtpx:TrackPointExtension><gpxtpx:hr>{}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>\n",
                100.0 + (i as f64 / 60.0).sin() * 20.0,
                self.time(i),
                self.power,
                self.hr
            ));
        }
        s.push_str("</trkseg></trk></gpx>\n");
        s
    }

    fn tcx(&self) -> String {
        let mut s = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking"><Id>{}</Id><Lap StartTime="{}"><Track>
"#,
            self.time(0),
            self.time(0)
        );
        for i in 0..Self::SECONDS {
            let (lat, lon) = self.point(i);
            s.push_str(&format!(
                "<Trackpoint><Time>{}</Time><Position><LatitudeDegrees>{lat:.7}</LatitudeDegrees><LongitudeDegrees>{lon:.7}</LongitudeDegrees></Position><AltitudeMeters>100</AltitudeMeters><HeartRateBpm><Value>{}</Value></HeartRateBpm></Trackpoint>\n",
                self.time(i),
                self.hr
            ));
        }
        s.push_str("</Track></Lap></Activity></Activities></TrainingCenterDatabase>\n");
        s
    }

    /// True when `(lat, lon)` lies on this ride's corridor (within 0.002°).
    fn owns(&self, lat: f64, lon: f64) -> bool {
        let end = self.point(Self::SECONDS - 1);
        lat > self.lat0 - 0.002
            && lat < end.0 + 0.002
            && lon > self.lon0 - 0.002
            && lon < end.1 + 0.002
    }
}

const OPEN: Ride =
    Ride { lat0: 1.1, lon0: 2.2, start: "2025-06-01T08:00:00Z", hr: 150, power: 250 };
const HIDDEN: Ride =
    Ride { lat0: 3.3, lon0: 4.4, start: "2025-06-02T08:00:00Z", hr: 187, power: 433 };
const BLUR: Ride =
    Ride { lat0: 5.5, lon0: 6.6, start: "2025-06-03T08:00:00Z", hr: 150, power: 250 };
const NOGPS: Ride =
    Ride { lat0: 7.7, lon0: 8.8, start: "2025-06-04T08:00:00Z", hr: 150, power: 250 };
const UNLISTED: Ride =
    Ride { lat0: 11.1, lon0: 12.2, start: "2025-06-05T08:00:00Z", hr: 150, power: 250 };
const DUP: Ride =
    Ride { lat0: 13.3, lon0: 14.4, start: "2025-06-06T08:00:00Z", hr: 150, power: 250 };
const GONE: Ride =
    Ride { lat0: 15.5, lon0: 16.6, start: "2025-06-07T08:00:00Z", hr: 150, power: 250 };

fn extract(data: &Path, handle: &str, privacy: Privacy, files: &[(&str, String)]) -> Vec<String> {
    let input = data.with_file_name(format!("in-{handle}-{}", files[0].0));
    std::fs::create_dir_all(&input).unwrap();
    for (name, text) in files {
        std::fs::write(input.join(name), text).unwrap();
    }
    let mut opts = ExtractOptions::new(data.join(handle), handle);
    opts.display_name = Some(handle.to_owned());
    opts.default_privacy = privacy;
    opts.inputs = vec![input];
    let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert!(report.failed.is_empty(), "{handle}: {:?}", report.failed);
    report.new_ids
}

fn sidecar(data: &Path, handle: &str, id: &str, front: &str) {
    let dir = data.join(handle).join("edits");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{id}.md")), format!("---\n{front}\n---\n")).unwrap();
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) =
        (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// Every (lat, lon) pair a file publishes, whatever its format: JSON `[lat, lon]`/`[lon, lat,
/// ele]` arrays and `lat`/`lon` parallel arrays, GPX attributes, and pairs of coordinates
/// written next to each other in any text (HTML data attributes).
fn published_points(rel: &str, text: &str) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    // Any two numbers with at least 4 decimals separated by a few non-digit characters.
    let nums: Vec<(usize, usize, f64)> = number_spans(text);
    for w in nums.windows(2) {
        let ((_, e0, a), (s1, _, b)) = (w[0], w[1]);
        if s1 - e0 <= 16 {
            out.push((a, b));
            out.push((b, a));
        }
    }
    if (rel.ends_with(".json") || rel.ends_with(".geojson"))
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        json_points(&v, &mut out);
    }
    out
}

fn number_spans(text: &str) -> Vec<(usize, usize, f64)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i > int_start && i < b.len() && b[i] == b'.' {
            let frac_start = i + 1;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - frac_start >= 4
                && let Ok(v) = text[start..i].parse::<f64>()
            {
                out.push((start, i, v));
            }
        } else if i == int_start {
            i += 1;
        }
    }
    out
}

fn json_points(v: &Value, out: &mut Vec<(f64, f64)>) {
    match v {
        Value::Array(items) => {
            let nums: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
            if nums.len() >= 2 && nums.len() == items.len() && nums.len() <= 3 {
                out.push((nums[0], nums[1]));
                out.push((nums[1], nums[0]));
            }
            for i in items {
                json_points(i, out);
            }
        }
        Value::Object(map) => {
            if let (Some(Value::Array(lat)), Some(Value::Array(lon))) =
                (map.get("lat"), map.get("lon"))
            {
                for (a, b) in lat.iter().zip(lon) {
                    if let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) {
                        out.push((a, b));
                    }
                }
            }
            for i in map.values() {
                json_points(i, out);
            }
        }
        _ => {}
    }
}

fn output_files(out: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for e in walkdir::WalkDir::new(out).into_iter().flatten() {
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(out).unwrap().to_string_lossy().replace('\\', "/");
        if let Ok(text) = std::fs::read_to_string(e.path()) {
            files.insert(rel, text);
        }
    }
    files
}

/// The summary of activity `id` in `{data}/{handle}/_merged/activities/{id}.json`.
fn merged_detail(data: &Path, handle: &str, id: &str) -> Value {
    let p = data.join(handle).join("_merged/activities").join(format!("{id}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[test]
fn nothing_a_user_hid_is_anywhere_in_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("site");

    let open = extract(
        &data,
        "olga",
        Privacy::Public,
        &[("open.gpx", OPEN.gpx()), ("hidden.gpx", HIDDEN.gpx())],
    );
    assert_eq!(open.len(), 2);
    let hidden_id = open.iter().find(|id| id.starts_with("2025-06-02")).unwrap().clone();
    sidecar(&data, "olga", &hidden_id, "hide_stats: [heart_rate, power]");
    let blur = extract(&data, "bela", Privacy::BlurStart, &[("blur.gpx", BLUR.gpx())]);
    let nogps = extract(&data, "nora", Privacy::NoGps, &[("nogps.gpx", NOGPS.gpx())]);
    let unlisted = extract(&data, "ulla", Privacy::Public, &[("unl.gpx", UNLISTED.gpx())]);
    sidecar(&data, "ulla", &unlisted[0], "private: true");
    // The same ride twice: first a TCX (heart rate only), made unlisted by its owner, then the
    // richer GPX of the same ride, which dedup prefers as the copy to keep.
    let dup_first = extract(&data, "dora", Privacy::Public, &[("dup.tcx", DUP.tcx())]);
    sidecar(&data, "dora", &dup_first[0], "private: true");
    let _ = extract(&data, "dora", Privacy::Public, &[("dup.gpx", DUP.gpx())]);
    let gone = extract(&data, "zedgone", Privacy::Public, &[("gone.gpx", GONE.gpx())]);

    build(&data, &out);
    // The deleted user was published by the first build.
    assert!(out.join("u/zedgone/index.html").is_file());
    std::fs::remove_dir_all(data.join("zedgone")).unwrap();
    build(&data, &out);

    let files = output_files(&out);
    let mut problems: Vec<String> = Vec::new();
    let blur_ends = [BLUR.point(0), BLUR.point(Ride::SECONDS - 1)];
    let unlisted_prefix = format!("activity/{}-", unlisted[0]);
    let dup_ids: Vec<String> = std::fs::read_dir(data.join("dora/activities"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json").map(str::to_owned))
        .filter(|n| !n.contains('.'))
        .collect();
    assert_eq!(dup_ids.len(), 2, "both copies of the ride are kept on disk: {dup_ids:?}");

    for (rel, text) in &files {
        let in_tokened = |id: &str| {
            rel.starts_with(&format!("activity/{id}-"))
                && !rel.starts_with(&format!("activity/{id}-dora"))
        };
        for (lat, lon) in published_points(rel, text) {
            if NOGPS.owns(lat, lon) {
                problems.push(format!("{rel}: no_gps location {lat},{lon}"));
            }
            if GONE.owns(lat, lon) {
                problems.push(format!("{rel}: deleted user's location {lat},{lon}"));
            }
            if UNLISTED.owns(lat, lon) && !rel.starts_with(&unlisted_prefix) {
                problems.push(format!(
                    "{rel}: unlisted activity's location {lat},{lon} outside its tokened folder"
                ));
            }
            if DUP.owns(lat, lon) && !dup_ids.iter().any(|id| in_tokened(id)) {
                problems.push(format!(
                    "{rel}: the unlisted ride's duplicate published its location {lat},{lon}"
                ));
            }
            if BLUR.owns(lat, lon) {
                let d =
                    blur_ends.iter().map(|e| haversine_m(*e, (lat, lon))).fold(f64::MAX, f64::min);
                if d < 199.0 {
                    problems
                        .push(format!("{rel}: blur_start point {lat},{lon} {d:.0} m from an end"));
                }
            }
        }
        if text.contains("zedgone") || rel.contains("zedgone") {
            problems.push(format!("{rel}: mentions the deleted user"));
        }
        for id in &gone {
            if text.contains(id.as_str()) && !open.contains(id) {
                problems.push(format!("{rel}: names the deleted user's activity {id}"));
            }
        }
        if text.contains(&unlisted[0]) && !rel.starts_with(&unlisted_prefix) {
            problems.push(format!("{rel}: names the unlisted activity outside its tokened folder"));
        }
        for id in &dup_ids {
            if text.contains(id.as_str()) && !in_tokened(id) {
                problems.push(format!(
                    "{rel}: names the unlisted ride's copy {id} outside a tokened folder"
                ));
            }
        }
        // Hidden heart rate (187 bpm) and power (433 W) appear in no page and no data file.
        if text.contains("187 bpm") || text.contains("433 W") || text.contains("433&nbsp;W") {
            problems.push(format!("{rel}: shows a hidden stat"));
        }
        if rel.ends_with(".json") {
            let v: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{rel}: invalid JSON: {e}"));
                    continue;
                }
            };
            hidden_values(&v, rel, &mut problems);
        }
    }
    // The no_gps and blurred pages exist (so the checks above looked at something), and the
    // no_gps page draws no track.
    let nogps_page = files
        .iter()
        .find(|(rel, _)| {
            rel.starts_with(&format!("activity/{}", nogps[0])) && rel.ends_with("index.html")
        })
        .map(|(_, t)| t.clone())
        .expect("the no_gps activity has a page");
    // The page keeps a hidden `data-map` for its charts (time series, zones); it must name
    // no track and no bounding box.
    let map_data: Option<serde_json::Value> = nogps_page.split("data-map='").nth(1).map(|rest| {
        let raw = rest.split('\'').next().unwrap_or("");
        let json = raw.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'");
        let json = json.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        serde_json::from_str(&json).expect("data-map is JSON")
    });
    let map_locates =
        map_data.as_ref().is_some_and(|m| !m["track_url"].is_null() || !m["bbox"].is_null());
    if nogps_page.contains("track-outline") || map_locates {
        problems.push("the no_gps page draws a track".to_owned());
    }
    assert!(files.keys().any(|r| r.starts_with(&format!("activity/{}", blur[0]))));
    assert!(files.keys().any(|r| r.starts_with(&unlisted_prefix)), "the unlisted page exists");
    // The hidden stats are really hidden in the merged detail, not only on pages.
    let d = merged_detail(&data, "olga", &hidden_id);
    for key in ["avg_hr_bpm", "max_hr_bpm", "avg_power_w", "max_power_w", "mmp"] {
        if !d[key].is_null() && d[key] != Value::Array(vec![]) {
            problems.push(format!(
                "merged detail of the hidden-stats activity keeps {key}: {}",
                d[key]
            ));
        }
    }
    assert!(problems.is_empty(), "{} privacy leaks:\n{}", problems.len(), problems.join("\n"));
}

/// Heart rate 187 or power 433 anywhere in a JSON value under a HR/power key is a leak: no
/// other activity of the instance records those values.
fn hidden_values(v: &Value, rel: &str, problems: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                let hr_or_power = k.starts_with("hr")
                    || k.contains("_hr")
                    || k.contains("power")
                    || k == "mmp"
                    || k.contains("watts");
                if hr_or_power && contains_number(val, &[187.0, 433.0]) {
                    problems.push(format!("{rel}: {k} carries a hidden value"));
                }
                hidden_values(val, rel, problems);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| hidden_values(i, rel, problems)),
        _ => {}
    }
}

fn contains_number(v: &Value, wanted: &[f64]) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|x| wanted.iter().any(|w| (x - w).abs() < 0.5)),
        Value::Array(items) => items.iter().any(|i| contains_number(i, wanted)),
        Value::Object(map) => map.values().any(|i| contains_number(i, wanted)),
        _ => false,
    }
}
