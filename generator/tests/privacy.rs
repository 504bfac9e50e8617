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

/// The built-in default theme.
fn theme() -> Option<PathBuf> {
    None
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
            for label in [
                "Avg power",
                "Max power",
                "Normalized power",
                "Power (W)",
                "bpm",
                "rpm",
                "km/h",
                "Max speed",
                "Elevation gain",
                "Descent",
            ] {
                if html.contains(label) {
                    found.push(format!("{name}: {label}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "hidden stats published:\n{}", found.join("\n"));
}

/// IDs in the user's published year shards and in the combined feed.
fn listed_ids(inst: &Instance) -> Vec<String> {
    let mut ids = Vec::new();
    let manifest = inst.merged("index.json");
    for shard in manifest["shards"].as_array().unwrap() {
        let feed = inst.merged(shard["url"].as_str().unwrap());
        for a in feed["activities"].as_array().unwrap() {
            ids.push(format!("shard:{}", a["id"].as_str().unwrap()));
        }
    }
    for a in read_json(&inst.out.join("data/feed.json"))["activities"].as_array().unwrap() {
        ids.push(format!("feed:{}", a["id"].as_str().unwrap()));
    }
    ids
}

/// The first and then the second file of the same ride, each extracted as its own upload
/// with its own privacy (`None` = no sidecar). Returns (the instance, the TCX id, the FIT id):
/// the FIT recording is the better one, so it is always kept and the TCX is its duplicate.
fn upload_twice(
    first: (&str, Privacy, Option<&str>),
    second: (&str, Privacy, Option<&str>),
) -> (Instance, String, String) {
    let inst = Instance::new();
    let mut ids = Vec::new();
    for (file, privacy, sidecar) in [first, second] {
        let new = inst.extract(file, privacy);
        assert_eq!(new.len(), 1, "{file}: {new:?}");
        if let Some(text) = sidecar {
            inst.sidecar(&new[0], text);
        }
        inst.build();
        ids.push((file, new[0].clone()));
    }
    let id_of = |ext: &str| ids.iter().find(|(f, _)| f.ends_with(ext)).unwrap().1.clone();
    let (tcx, fit) = (id_of(".tcx"), id_of(".fit"));
    let dup = read_json(&inst.user().join(format!("activities/{tcx}.json")));
    assert_eq!(dup["duplicate_of"], Value::String(fit.clone()), "the TCX is the duplicate");
    (inst, tcx, fit)
}

const TCX: &str = "tcx/synth-ride-smart.tcx";
const FIT: &str = "fit/synth-ride-smart.fit";
const PRIVATE: &str = "---\nprivate: true\n---\n";

#[test]
fn a_private_ride_stays_unlisted_when_a_better_copy_arrives() {
    let (inst, _tcx, fit) =
        upload_twice((TCX, Privacy::Public, Some(PRIVATE)), (FIT, Privacy::Public, None));
    assert_eq!(listed_ids(&inst), Vec::<String>::new(), "the kept copy is listed");
    let detail = inst.merged(&format!("activities/{fit}.json"));
    assert_eq!(detail["privacy"], "unlisted");
    assert!(!inst.out.join(format!("activity/{fit}/index.html")).exists());
}

#[test]
fn an_unlisted_import_hides_the_copy_uploaded_before_it() {
    let (inst, _tcx, fit) =
        upload_twice((FIT, Privacy::Public, None), (TCX, Privacy::Unlisted, None));
    assert_eq!(listed_ids(&inst), Vec::<String>::new(), "the kept copy is listed");
    let detail = inst.merged(&format!("activities/{fit}.json"));
    assert_eq!(detail["privacy"], "unlisted");
}

/// No published file holds a location: no track, no lat/lon, no preview, no start/end.
fn assert_no_location(inst: &Instance, id: &str) {
    assert!(!inst.user().join(format!("_merged/activities/{id}.geojson")).exists());
    let detail = inst.merged(&format!("activities/{id}.json"));
    assert_eq!(detail["privacy"], "no_gps");
    for k in ["bbox", "start_latlng", "end_latlng", "preview_coords", "track_url"] {
        assert!(!carries(&detail[k]), "{k} = {}", detail[k]);
    }
    let ts = inst.merged(&format!("activities/{id}.timeseries.json"));
    assert!(!carries(&ts["lat"]) && !carries(&ts["lon"]), "timeseries has positions");
    let card = &read_json(&inst.out.join("data/feed.json"))["activities"][0];
    assert_eq!(card["id"], id);
    assert!(!carries(&card["preview_coords"]) && !carries(&card["track_url"]), "{card}");
}

#[test]
fn no_gps_survives_dedup_in_both_upload_orders() {
    let (inst, _, fit) = upload_twice((TCX, Privacy::NoGps, None), (FIT, Privacy::Public, None));
    assert_no_location(&inst, &fit);
    let (inst, _, fit) = upload_twice((FIT, Privacy::Public, None), (TCX, Privacy::NoGps, None));
    assert_no_location(&inst, &fit);
}

/// Every published position of the kept activity is at least 200 m from the ride's true
/// start and end (the FIT's first and last fix in the extracted store).
fn assert_blurred(inst: &Instance, id: &str) {
    let full = read_json(&inst.user().join(format!("activities/{id}.timeseries.json")));
    let fixes: Vec<[f64; 2]> = full["lat"]
        .as_array()
        .unwrap()
        .iter()
        .zip(full["lon"].as_array().unwrap())
        .filter_map(|(a, o)| Some([a.as_f64()?, o.as_f64()?]))
        .collect();
    let ends = [fixes[0], fixes[fixes.len() - 1]];
    let detail = inst.merged(&format!("activities/{id}.json"));
    assert_eq!(detail["privacy"], "blur_start");
    let ts = inst.merged(&format!("activities/{id}.timeseries.json"));
    let mut published: Vec<[f64; 2]> = ts["lat"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ts["lon"].as_array().unwrap())
        .filter_map(|(a, o)| Some([a.as_f64()?, o.as_f64()?]))
        .collect();
    assert!(published.len() > 10, "a 10 km ride keeps most of its track");
    let track = inst.merged(&format!("activities/{id}.geojson"));
    for c in track["geometry"]["coordinates"].as_array().unwrap() {
        published.push([c[1].as_f64().unwrap(), c[0].as_f64().unwrap()]);
    }
    for p in detail["preview_coords"].as_array().into_iter().flatten() {
        published.push([p[0].as_f64().unwrap(), p[1].as_f64().unwrap()]);
    }
    let near: Vec<_> = published
        .iter()
        .filter(|p| {
            ends.iter()
                .any(|e| bincio_gen::metrics::distance::haversine_m(e[0], e[1], p[0], p[1]) < 200.0)
        })
        .collect();
    assert!(near.is_empty(), "{} published points within 200 m of an end: {near:?}", near.len());
}

#[test]
fn blur_start_survives_dedup_in_both_upload_orders() {
    let (inst, _, fit) =
        upload_twice((TCX, Privacy::BlurStart, None), (FIT, Privacy::Public, None));
    assert_blurred(&inst, &fit);
    let (inst, _, fit) =
        upload_twice((FIT, Privacy::Public, None), (TCX, Privacy::BlurStart, None));
    assert_blurred(&inst, &fit);
}

#[test]
fn hidden_stats_of_a_duplicate_stay_hidden_on_the_kept_copy() {
    let (inst, _, fit) = upload_twice(
        (TCX, Privacy::Public, Some("---\nhide_stats: [heart_rate]\n---\n")),
        (FIT, Privacy::Public, None),
    );
    let extracted = read_json(&inst.user().join(format!("activities/{fit}.json")));
    assert!(carries(&extracted["avg_hr_bpm"]), "the FIT recorded heart rate");
    let detail = inst.merged(&format!("activities/{fit}.json"));
    assert_eq!(detail["avg_hr_bpm"], Value::Null);
    assert_eq!(detail["custom"]["hide_stats"], serde_json::json!(["heart_rate"]));
    assert!(carries(&detail["avg_power_w"]), "power was not hidden");
}

/// Set a file's modification time `secs` after another's (the "edited after" rule compares them).
fn touch_after(path: &Path, reference: &Path, secs: u64) {
    let t = std::fs::metadata(reference).unwrap().modified().unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t + std::time::Duration::from_secs(secs)).unwrap();
}

#[test]
fn the_owner_can_publish_the_kept_copy_by_editing_it_after_the_duplicate_appeared() {
    let (inst, tcx, fit) =
        upload_twice((TCX, Privacy::Public, Some(PRIVATE)), (FIT, Privacy::Public, None));
    // An explicit `private: false` written before the duplicate appeared does not count...
    inst.sidecar(&fit, "---\nprivate: false\n---\n");
    let dup_detail = inst.user().join(format!("activities/{tcx}.json"));
    let fit_sidecar = inst.user().join(format!("edits/{fit}.md"));
    touch_after(&dup_detail, &fit_sidecar, 10);
    inst.build();
    assert_eq!(listed_ids(&inst), Vec::<String>::new());
    // ...one written after it does.
    touch_after(&fit_sidecar, &dup_detail, 10);
    inst.build();
    assert_eq!(listed_ids(&inst), vec![format!("shard:{fit}"), format!("feed:{fit}")]);
    // A later edit that says nothing about privacy keeps the duplicate's choice.
    inst.sidecar(&fit, "---\ntitle: Morning ride\n---\n");
    touch_after(&fit_sidecar, &dup_detail, 20);
    inst.build();
    assert_eq!(listed_ids(&inst), Vec::<String>::new());
}

/// The merge reads hand-written sidecars with the parser the daemon uses
/// (`bincio_bas::sidecar`): every YAML spelling of a flag, quoted or not, BOM, CRLF, no or
/// empty front matter, `description:` against a body, `hide_stats` as a flow or block list.
/// `apiserver/tests/api.rs` checks the daemon's side with the same spellings.
#[test]
fn the_merge_reads_every_spelling_of_a_sidecar() {
    let inst = Instance::new();
    let ids = inst.extract(FIT, Privacy::Public);
    let id = &ids[0];
    type Case = (&'static str, bool, &'static [&'static str], Option<&'static str>);
    let cases: &[Case] = &[
        ("---\nprivate: true\n---\n", true, &[], None),
        ("---\nprivate: True\n---\n", true, &[], None),
        ("---\nprivate: yes\n---\n", true, &[], None),
        ("---\nprivate: on\n---\n", true, &[], None),
        ("---\nprivate: \"1\"\n---\n", true, &[], None),
        ("---\nprivate: 1\n---\n", true, &[], None),
        ("---\nprivate: 'yes'\n---\n", true, &[], None),
        ("\u{feff}---\nprivate: true\n---\n", true, &[], None),
        ("---\r\nprivate: yes\r\n---\r\n\r\nbody\r\n", true, &[], Some("body")),
        ("---\nprivate: false\n---\n", false, &[], None),
        ("---\nprivate: no\n---\n", false, &[], None),
        ("---\nprivate: 0\n---\n", false, &[], None),
        ("just a note\n", false, &[], Some("just a note")),
        ("---\n---\n", false, &[], None),
        ("---\ndescription: from the key\n---\n", false, &[], Some("from the key")),
        ("---\ndescription: key\n---\n\nbody wins\n", false, &[], Some("body wins")),
        ("---\nhide_stats: [power, cadence]\n---\n", false, &["cadence", "power"], None),
        (
            "---\nhide_stats:\n  - power\n  - heart_rate\n---\n",
            false,
            &["heart_rate", "power"],
            None,
        ),
        ("---\nhide_stats: power\n---\n", false, &["power"], None),
    ];
    for (text, private, hidden, description) in cases {
        inst.sidecar(id, text);
        // The merged detail is what the merge publishes in `_merged/activities/`.
        let m = bincio_gen::merge::merge_user(&inst.user(), true).unwrap();
        assert!(m.warnings.is_empty(), "{text:?}: {:?}", m.warnings);
        let merged = inst.user().join("_merged/activities");
        let d = &bincio_gen::merge::PublishedDetail::read(&merged, &m.activities[0].summary.id)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(d.privacy == Privacy::Unlisted, *private, "{text:?}");
        let names = bincio_bas::HiddenStats::from_custom(Some(&d.custom)).names();
        assert_eq!(names, *hidden, "{text:?}");
        assert_eq!(d.description.as_deref(), *description, "{text:?}");
    }
    // A sidecar the merge cannot read is reported and its activity is not published.
    inst.sidecar(id, "---\ntitle: [unclosed\nprivate: true\n---\n");
    let m = bincio_gen::merge::merge_user(&inst.user(), false).unwrap();
    assert!(m.activities.is_empty());
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
}
