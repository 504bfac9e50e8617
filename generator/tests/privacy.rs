//! Privacy through the merge, end to end: a user's edits and the dedup of a re-uploaded ride
//! must decide what every published file holds (`_merged/`, the site's `/data/`, pages, GPX
//! downloads), not only what the activity page shows. Fixtures are the synthetic activities
//! in `fixtures/activities/` (the ground-truth ride exists in FIT, TCX and GPX).

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

use bincio_bas::Privacy;
use bincio_gen::extract::{self, ExtractOptions};
use bincio_gen::site::{self, SiteOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activities").join(rel)
}

fn theme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default")
}

struct Instance {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    out: PathBuf,
}

impl Instance {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let out = tmp.path().join("site");
        std::fs::create_dir_all(data.join("dave")).unwrap();
        Instance { _tmp: tmp, data, out }
    }

    fn user(&self) -> PathBuf {
        self.data.join("dave")
    }

    /// Extract one fixture into dave's store as an upload would; returns the new IDs.
    fn extract(&self, rel: &str, privacy: Privacy) -> Vec<String> {
        let mut opts = ExtractOptions::new(self.user(), "dave");
        opts.inputs = vec![fixture(rel)];
        opts.default_privacy = privacy;
        let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        report.new_ids
    }

    fn sidecar(&self, id: &str, text: &str) {
        let dir = self.user().join("edits");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
    }

    fn build(&self) {
        site::build(&SiteOptions {
            data_dir: self.data.clone(),
            out_dir: self.out.clone(),
            theme_dir: theme(),
            handle: None,
            tile_url: None,
        })
        .unwrap_or_else(|e| panic!("build failed: {e}"));
    }

    fn merged(&self, rel: &str) -> Value {
        read_json(&self.user().join("_merged").join(rel))
    }

    /// Every file a visitor can fetch, plus `_merged/` (the federation feed): (path, bytes).
    fn published(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for root in [self.out.clone(), self.user().join("_merged")] {
            for e in walkdir::WalkDir::new(&root) {
                let e = e.unwrap();
                if e.file_type().is_file() {
                    out.push((e.path().to_path_buf(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        out
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// True when a JSON value carries information: not null, not empty, not all nulls.
fn carries(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().any(carries),
        Value::Object(m) => m.values().any(carries),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
    }
}

/// Every `key` (anywhere in `v`) whose value carries information, as `path.to.key`.
fn leaks(v: &Value, keys: &[&str], at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{at}.{k}");
                if keys.contains(&k.as_str()) && carries(x) {
                    out.push(here.clone());
                }
                leaks(x, keys, &here, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaks(x, keys, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The JSON keys that carry each hidden stat, in every published shape (summary, detail,
/// laps, timeseries, GeoJSON properties, athlete.json).
const HIDDEN_KEYS: &[&str] = &[
    // power
    "avg_power_w",
    "max_power_w",
    "mmp",
    "power_w",
    "power_curve",
    // heart rate
    "avg_hr_bpm",
    "max_hr_bpm",
    "hr_bpm",
    // cadence
    "avg_cadence_rpm",
    "cadence_rpm",
    // speed
    "avg_speed_kmh",
    "max_speed_kmh",
    "speed_kmh",
    "speeds",
    "best_efforts",
    // elevation
    "elevation_gain_m",
    "elevation_loss_m",
    "elevation_m",
    "best_climb_m",
    "best_climbs",
    "most_elevation_m",
];

#[test]
fn hidden_stats_are_published_nowhere() {
    let inst = Instance::new();
    let ids = inst.extract("fit/synth-ride-smart.fit", Privacy::Public);
    let [id] = ids.as_slice() else { panic!("one activity expected, got {ids:?}") };
    // The extracted store has every stat (so the test can fail).
    let extracted = read_json(&inst.user().join(format!("activities/{id}.json")));
    for k in ["mmp", "avg_power_w", "avg_hr_bpm", "avg_speed_kmh", "elevation_gain_m"] {
        assert!(carries(&extracted[k]), "fixture has no {k}");
    }
    inst.sidecar(id, "---\nhide_stats: [power, heart_rate, cadence, speed, elevation]\n---\n");
    inst.build();

    // Still published: the activity itself, its distance and its (elevation-free) map.
    let detail = inst.merged(&format!("activities/{id}.json"));
    assert_eq!(detail["distance_m"], extracted["distance_m"]);
    let track = inst.merged(&format!("activities/{id}.geojson"));
    let coords = track["geometry"]["coordinates"].as_array().unwrap();
    assert!(coords.len() >= 2, "{track}");

    let mut found = Vec::new();
    for (path, bytes) in inst.published() {
        let name = path.to_string_lossy().into_owned();
        if name.ends_with(".json") || name.ends_with(".geojson") {
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let mut here = Vec::new();
            leaks(&v, HIDDEN_KEYS, "", &mut here);
            found.extend(here.into_iter().map(|k| format!("{name}: {k}")));
            if name.ends_with(".geojson") {
                let with_ele = v["geometry"]["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c.as_array().is_some_and(|c| c.len() > 2))
                    .count();
                if with_ele > 0 {
                    found.push(format!("{name}: {with_ele} coordinates with an elevation"));
                }
            }
        } else if name.ends_with(".gpx") {
            if String::from_utf8_lossy(&bytes).contains("<ele>") {
                found.push(format!("{name}: <ele>"));
            }
        } else if name.ends_with(".html") && name.contains(id.as_str()) {
            let html = String::from_utf8_lossy(&bytes);
            // Values and chart labels (the laps table's column headers stay, with "—").
            for label in
                ["Avg power", "Power (W)", "bpm", "rpm", "km/h", "Max speed", "Elevation ↑"]
            {
                if html.contains(label) {
                    found.push(format!("{name}: {label}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "hidden stats published:\n{}", found.join("\n"));
}
