//! Site generator end to end, on a scratch copy of `../shared/samples/reference-output` (a
//! data directory written by the reference, two users): every page exists, every internal
//! link and asset resolves, no script or stylesheet comes from the network, rebuilds are
//! byte-identical and write nothing, `--handle` only touches that user, and the privacy scan
//! finds no unlisted ID, blurred zone or `no_gps` coordinate anywhere in the output.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_gen::site::{self, BuildReport, SiteOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/reference-output")
}

/// The theme the tests render with: the built-in default (the binary's embedded copy of
/// `themes/default`).
fn theme() -> Option<PathBuf> {
    None
}

fn theme_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default")
}

fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src).unwrap();
        let target = dst.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A scratch data dir (copy of the reference output) and an output dir beside it.
struct Scratch {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    out: PathBuf,
}

fn scratch() -> Scratch {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&samples(), &data);
    let out = tmp.path().join("site");
    Scratch { _tmp: tmp, data, out }
}

fn build(data: &Path, out: &Path, handle: Option<&str>) -> BuildReport {
    site::build(&SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        theme_dir: theme(),
        handle: handle.map(str::to_owned),
        tile_url: None,
    })
    .unwrap_or_else(|e| panic!("build failed: {e}"))
}

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Every `href="…"`/`src="…"` value of an HTML page, with the tag name it sits in.
fn attributes(html: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        for attr in ["href", "src"] {
            let pat = format!(" {attr}=\"");
            if let Some(i) = tag.find(&pat) {
                let v = &tag[i + pat.len()..];
                if let Some(j) = v.find('"') {
                    out.push((
                        name.to_ascii_lowercase(),
                        attr.to_owned(),
                        v[..j].replace("&amp;", "&"),
                    ));
                }
            }
        }
        rest = &rest[end..];
    }
    out
}

/// Resolve an internal URL path to a file in the output (`/x/` → `x/index.html`).
fn resolves(out: &Path, url: &str) -> bool {
    let path = url.split(['#', '?']).next().unwrap_or("");
    if path.is_empty() {
        return true;
    }
    let rel = path.trim_start_matches('/');
    let p = out.join(rel);
    if path.ends_with('/') { p.join("index.html").is_file() } else { p.is_file() }
}

/// Walk every HTML page: internal links and assets resolve to files, nothing relative, no
/// script or stylesheet from the network. Returns the number of internal URLs checked.
fn check_links(out: &Path, all: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut checked = 0;
    for (rel, bytes) in all.iter().filter(|(r, _)| r.ends_with(".html")) {
        let html = String::from_utf8(bytes.clone()).unwrap();
        for (tag, attr, url) in attributes(&html) {
            let remote =
                url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//");
            if (tag == "script" && attr == "src") || tag == "link" {
                assert!(!remote, "{rel}: remote {tag} {url}");
            }
            if remote
                || url.starts_with("mailto:")
                || url.starts_with('#')
                || url.starts_with("/api/")
            {
                continue;
            }
            assert!(url.starts_with('/'), "{rel}: relative URL {url:?}");
            assert!(resolves(out, &url), "{rel}: broken link {url}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_fixture_demo_renders_with_no_broken_link() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let site = bincio_gen::cmd::demo::build_demo(
        tmp.path(),
        Some(&root.join("fixtures/activities")),
        None,
    )
    .unwrap();
    let all = files(&site);
    for page in [
        "index.html",
        "community/index.html",
        "u/ada/index.html",
        "u/ben/stats/index.html",
        "u/ada/athlete/index.html",
    ] {
        assert!(all.contains_key(page), "missing {page}");
    }
    let activity_pages =
        all.keys().filter(|k| k.starts_with("activity/") && k.ends_with("/index.html")).count();
    let feed: serde_json::Value = serde_json::from_slice(&all["data/feed.json"]).unwrap();
    assert_eq!(
        activity_pages as u64,
        feed["total_activities"].as_u64().unwrap(),
        "one page per listed activity"
    );
    assert!(check_links(&site, &all) > 300);
}

#[test]
fn renders_every_page_with_no_broken_link_or_remote_asset() {
    let s = scratch();
    let report = build(&s.data, &s.out, None);
    assert_eq!(report.users, 2);
    assert_eq!(report.activities, 20);
    for page in [
        "index.html",
        "404.html",
        "community/index.html",
        "u/dave/index.html",
        "u/dave/sport/cycling/index.html",
        "u/dave/stats/index.html",
        "u/dave/stats/running/index.html",
        "u/dave/athlete/index.html",
        "u/dave/atom.xml",
        "u/brut/index.html",
        "about/index.html",
        "about/it/index.html",
        "about/es/index.html",
        "about/ca/index.html",
        "login/index.html",
        "register/index.html",
        "reset-password/index.html",
        "settings/index.html",
        "invites/index.html",
        "admin/index.html",
        "feedback/index.html",
        "api-docs/index.html",
        "activity/2017-06-06T171616Z/index.html",
        "data/index.json",
        "data/feed.json",
        "data/dave/_merged/index.json",
        "data/dave/_merged/index-2017.json",
        "data/dave/_merged/athlete.json",
        "data/dave/_merged/activities/2017-06-06T171616Z.timeseries.json",
        "static/vendor/leaflet-1.9.4/leaflet.js",
    ] {
        assert!(s.out.join(page).is_file(), "missing {page}");
    }
    let all = files(&s.out);
    let checked = check_links(&s.out, &all);
    assert!(checked > 500, "only {checked} links checked");

    // Every HTML page names its icon, redirects included: without one a browser asks for
    // `/favicon.ico`, which the site does not have (a 404 in the console and in the logs).
    let without_icon: Vec<&String> = all
        .iter()
        .filter(|(p, b)| {
            p.ends_with(".html") && !String::from_utf8_lossy(b).contains("rel=\"icon\"")
        })
        .map(|(p, _)| p)
        .collect();
    assert!(all.contains_key("athlete/index.html"), "the legacy redirect is rendered");
    assert!(without_icon.is_empty(), "pages without an icon: {without_icon:?}");

    // Every activity has a page, and the feed JSON lists all 20 with handle-prefixed URLs.
    let feed: serde_json::Value = serde_json::from_slice(&all["data/feed.json"]).unwrap();
    assert_eq!(feed["total_activities"], 20);
    let first = &feed["activities"][0];
    assert_eq!(first["id"], "2019-03-30T125235Z");
    assert_eq!(first["handle"], "brut");
    assert_eq!(first["detail_url"], "brut/_merged/activities/2019-03-30T125235Z.json");
    assert!(first["mmp"].is_null() && first["source"].is_null() && first["best_efforts"].is_null());

    // Root manifest: two shards pointing at the merged feeds, not private (no instance.db).
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.data.join("index.json")).unwrap()).unwrap();
    assert_eq!(root["instance"]["private"], false);
    assert_eq!(root["shards"][1]["url"], "dave/_merged/index.json");

    // Year shards: dave has 2016 (5), 2017 (3), 2018 (1), 2019 (1), newest first.
    let m: serde_json::Value =
        serde_json::from_slice(&all["data/dave/_merged/index.json"]).unwrap();
    let years: Vec<(i64, i64)> = m["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["year"].as_i64().unwrap(), s["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(years, vec![(2019, 1), (2018, 1), (2017, 3), (2016, 5)]);

    // The running page shows pace (2474.2 m in 911 s moving = 9.78 km/h → 6:08 /km).
    let page = String::from_utf8(all["activity/2017-06-06T171616Z/index.html"].clone()).unwrap();
    assert!(page.contains("<dt>Avg pace</dt><dd data-q=\"pace\""), "pace missing");
    assert!(page.contains(">6:08 /km</dd>"), "pace value");
    assert!(
        page.contains("<dt>Distance</dt><dd data-q=\"distance\" data-si=\"2474.2\">2.47 km</dd>")
    );
    assert!(page.contains("class=\"track-outline\""), "server-rendered track");
    assert!(page.contains("data-chart=\"elevation\""), "elevation chart");
    assert!(page.len() < 60_000, "activity page is {} bytes", page.len());
    let feed_page = &all["index.html"];
    assert!(feed_page.len() < 150_000, "feed page is {} bytes", feed_page.len());

    // Stats heatmap: dave ran on 6 June 2017 (day 157 of 2017).
    let stats = String::from_utf8(all["u/dave/stats/index.html"].clone()).unwrap();
    assert!(stats.contains("aria-label=\"2017 calendar\""));
    assert!(stats.contains("<a href=\"/activity/2017-06-06T171616Z/\">"));
}

#[test]
fn rebuilds_are_byte_identical_and_write_nothing() {
    let s = scratch();
    build(&s.data, &s.out, None);
    let first = files(&s.out);
    let again = build(&s.data, &s.out, None);
    assert_eq!(again.files_written, 0, "no-change rebuild wrote files");
    assert_eq!(again.merged_files_changed, 0);
    assert_eq!(again.files_removed, 0);
    let other = s.out.with_file_name("site2");
    build(&s.data, &other, None);
    let second = files(&other);
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (k, v) in &first {
        assert!(second[k] == *v, "{k} differs between two builds");
    }
}

#[test]
fn handle_build_rerenders_one_user_and_applies_sidecars() {
    let s = scratch();
    build(&s.data, &s.out, None);
    let before = files(&s.out);
    let edits = s.data.join("dave/edits");
    std::fs::create_dir_all(edits.join("images/2016-12-06T133920Z")).unwrap();
    std::fs::write(
        edits.join("2016-12-06T133920Z.md"),
        "---\ntitle: \"Col de <b>Banyuls</b>\"\nhighlight: true\ngear: Trek Domane\nhide_stats: [heart_rate]\n---\n\nWhat a **day**! <script>alert(1)</script>\n",
    )
    .unwrap();
    std::fs::write(edits.join("images/2016-12-06T133920Z/summit.jpg"), b"\xff\xd8\xff\xe0fakejpeg")
        .unwrap();
    let r = build(&s.data, &s.out, Some("dave"));
    assert!(r.files_written > 0);
    let after = files(&s.out);
    // brut's pages were not touched.
    for (k, v) in
        after.iter().filter(|(k, _)| k.starts_with("u/brut/") || k.starts_with("data/brut/"))
    {
        assert!(before.get(k) == Some(v), "{k} changed in a --handle dave build");
    }
    let page = String::from_utf8(after["activity/2016-12-06T133920Z/index.html"].clone()).unwrap();
    assert!(page.contains("<h1>Col de &lt;b&gt;Banyuls&lt;/b&gt;</h1>"), "title escaped");
    assert!(page.contains("What a <strong>day</strong>!"));
    assert!(!page.contains("<script>alert"), "description sanitised");
    assert!(page.contains("<dt>Gear</dt><dd>Trek Domane</dd>"));
    assert!(!page.contains("Avg heart rate") && !page.contains("Avg HR"), "hide_stats heart_rate");
    assert!(page.contains("/data/dave/_merged/activities/images/2016-12-06T133920Z/summit.jpg"));
    assert!(
        after.contains_key("data/dave/_merged/activities/images/2016-12-06T133920Z/summit.jpg")
    );
    // Highlighted first in dave's feed and shard, although it is the oldest.
    let feed = String::from_utf8(after["u/dave/index.html"].clone()).unwrap();
    let pos_hl = feed.find("Col de").unwrap();
    let pos_new = feed.find("Afternoon Walking").unwrap();
    assert!(pos_hl < pos_new, "highlight first");
    let shard: serde_json::Value =
        serde_json::from_slice(&after["data/dave/_merged/index-2016.json"]).unwrap();
    assert_eq!(shard["activities"][0]["id"], "2016-12-06T133920Z");
    assert_eq!(shard["activities"][0]["custom"]["highlight"], true);
    // Deleting the sidecar reverts every edit on the next merge.
    std::fs::remove_file(edits.join("2016-12-06T133920Z.md")).unwrap();
    build(&s.data, &s.out, Some("dave"));
    let page =
        std::fs::read_to_string(s.out.join("activity/2016-12-06T133920Z/index.html")).unwrap();
    assert!(!page.contains("Banyuls"));
}

/// Decimal numbers with at least 4 fractional digits, in order of appearance.
fn precise_numbers(text: &str) -> Vec<f64> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() || (b[i] == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit()) {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let tok = &text[start..i];
            if let Some(dot) = tok.find('.')
                && tok.len() > dot + 4
                && let Ok(v) = tok.parse::<f64>()
            {
                out.push(v);
            }
        } else {
            i += 1;
        }
    }
    out
}

fn haversine_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    bincio_gen::metrics::distance::haversine_m(a[0], a[1], b[0], b[1])
}

/// Every `[lat, lon]` candidate in a published file. JSON is read structurally (number
/// arrays of 2-3 as a position in either order, of 4 as a bbox's corners, and zipped
/// `lat`/`lon` arrays); other files as consecutive number pairs in either order.
fn coordinates(bytes: &[u8]) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        walk_json(&v, &mut out);
    } else {
        let nums = precise_numbers(&String::from_utf8_lossy(bytes));
        for w in nums.windows(2) {
            out.push([w[0], w[1]]);
            out.push([w[1], w[0]]);
        }
    }
    out.retain(|c| c[0].abs() <= 90.0 && c[1].abs() <= 180.0);
    out
}

fn walk_json(v: &serde_json::Value, out: &mut Vec<[f64; 2]>) {
    match v {
        serde_json::Value::Array(items) => {
            let nums: Vec<f64> = items.iter().filter_map(serde_json::Value::as_f64).collect();
            if nums.len() == items.len() && (2..=3).contains(&nums.len()) {
                out.push([nums[0], nums[1]]);
                out.push([nums[1], nums[0]]);
            } else if nums.len() == items.len() && nums.len() == 4 {
                for (a, b) in [(1, 0), (1, 2), (3, 0), (3, 2)] {
                    out.push([nums[a], nums[b]]);
                }
            }
            for i in items {
                walk_json(i, out);
            }
        }
        serde_json::Value::Object(map) => {
            if let (Some(lat), Some(lon)) = (
                map.get("lat").and_then(|l| l.as_array()),
                map.get("lon").and_then(|l| l.as_array()),
            ) {
                for (a, o) in lat.iter().zip(lon) {
                    if let (Some(a), Some(o)) = (a.as_f64(), o.as_f64()) {
                        out.push([a, o]);
                    }
                }
            }
            for (_, x) in map {
                walk_json(x, out);
            }
        }
        serde_json::Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            if let Ok(inner) = serde_json::from_str(s) {
                walk_json(&inner, out);
            }
        }
        _ => {}
    }
}

fn track_points(data: &Path, handle: &str, id: &str) -> Vec<[f64; 2]> {
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join(handle).join("activities").join(format!("{id}.timeseries.json")))
            .unwrap(),
    )
    .unwrap();
    v["lat"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["lon"].as_array().unwrap())
        .filter_map(|(a, o)| Some([a.as_f64()?, o.as_f64()?]))
        .collect()
}

fn set_privacy(data: &Path, handle: &str, id: &str, privacy: &str) {
    for p in [
        data.join(handle).join("activities").join(format!("{id}.json")),
        data.join(handle).join("index.json"),
    ] {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        if let Some(acts) = v.get_mut("activities").and_then(|a| a.as_array_mut()) {
            for a in acts.iter_mut().filter(|a| a["id"] == id) {
                a["privacy"] = serde_json::Value::from(privacy);
            }
        } else {
            v["privacy"] = serde_json::Value::from(privacy);
        }
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    }
}

// The whole output is scanned for anything a visitor may not see.
#[test]
fn privacy_scan_finds_no_unlisted_id_blurred_zone_or_no_gps_coordinate() {
    let s = scratch();
    // Source files as an extractor that did not filter would leave them: the generator must
    // still publish nothing it should not.
    let (blur_h, blur_id) = ("brut", "2015-05-31T080804Z");
    let (nogps_h, nogps_id) = ("brut", "2016-10-09T080036Z");
    let (unl_h, unl_id) = ("dave", "2016-12-07T124208Z");
    let blur_track = track_points(&s.data, blur_h, blur_id);
    let zones = [blur_track[0], blur_track[blur_track.len() - 1]];
    let nogps_track = track_points(&s.data, nogps_h, nogps_id);
    set_privacy(&s.data, blur_h, blur_id, "blur_start");
    set_privacy(&s.data, nogps_h, nogps_id, "no_gps");
    std::fs::create_dir_all(s.data.join(unl_h).join("edits")).unwrap();
    std::fs::write(
        s.data.join(unl_h).join(format!("edits/{unl_id}.md")),
        "---\nprivate: true\n---\n",
    )
    .unwrap();

    // The scanner does see the zones in an unfiltered file (so a leak would fail the test).
    let src =
        std::fs::read(s.data.join(blur_h).join(format!("activities/{blur_id}.timeseries.json")))
            .unwrap();
    assert!(coordinates(&src).iter().any(|c| haversine_m(zones[0], *c) < 1.0));

    build(&s.data, &s.out, None);
    let all = files(&s.out);
    let unlisted_dirs: Vec<&String> = all
        .keys()
        .filter(|k| k.starts_with(&format!("activity/{unl_id}-")) && k.ends_with("/index.html"))
        .collect();
    assert_eq!(unlisted_dirs.len(), 1, "one tokened page for the unlisted activity");
    let token_dir = unlisted_dirs[0].trim_end_matches("index.html").to_owned();
    assert!(!all.contains_key(&format!("activity/{unl_id}/index.html")), "no untokened page");
    let page = String::from_utf8(all[unlisted_dirs[0]].clone()).unwrap();
    assert!(page.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"));
    let token = token_dir.trim_start_matches(&format!("activity/{unl_id}-")).trim_end_matches('/');
    assert_eq!(token.len(), 20, "80-bit token");

    let mut scanned = 0;
    let mut blur_checked = 0;
    for (rel, bytes) in &all {
        if rel.starts_with("static/") {
            continue;
        }
        scanned += 1;
        let text = String::from_utf8_lossy(bytes);
        if !rel.starts_with(&token_dir) {
            assert!(!text.contains(unl_id), "{rel} names the unlisted activity {unl_id}");
        }
        for c in coordinates(bytes) {
            for z in &zones {
                assert!(
                    haversine_m(*z, c) >= 200.0,
                    "{rel}: {c:?} is {:.0} m from a blur_start end",
                    haversine_m(*z, c)
                );
            }
            blur_checked += 1;
            assert!(
                !nogps_track.iter().step_by(10).any(|p| haversine_m(*p, c) < 100.0),
                "{rel}: {c:?} lies on the no_gps track"
            );
        }
    }
    assert!(
        scanned > 100 && blur_checked > 10_000,
        "scanned {scanned} files, {blur_checked} coordinates"
    );
    // The blurred activity still publishes the middle of its track.
    let ts: serde_json::Value = serde_json::from_slice(
        &all[&format!("data/{blur_h}/_merged/activities/{blur_id}.timeseries.json")],
    )
    .unwrap();
    let kept = ts["lat"].as_array().unwrap().iter().filter(|v| !v.is_null()).count();
    assert!(kept > 500 && kept < blur_track.len(), "kept {kept} of {}", blur_track.len());
    // no_gps: no track file, no location in its detail.
    assert!(!all.contains_key(&format!("data/{nogps_h}/_merged/activities/{nogps_id}.geojson")));
    let d: serde_json::Value =
        serde_json::from_slice(&all[&format!("data/{nogps_h}/_merged/activities/{nogps_id}.json")])
            .unwrap();
    assert!(d["bbox"].is_null() && d["start_latlng"].is_null() && d["end_latlng"].is_null());
    // Unlisted is out of every listing and count.
    let feed: serde_json::Value = serde_json::from_slice(&all["data/feed.json"]).unwrap();
    assert_eq!(feed["total_activities"], 19);
    let _ = BTreeSet::<()>::new();
}

#[test]
fn refuses_an_output_inside_the_data_directory() {
    let s = scratch();
    let err = site::build(&SiteOptions {
        data_dir: s.data.clone(),
        out_dir: s.data.join("public"),
        theme_dir: theme(),
        handle: None,
        tile_url: None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("inside the data directory"), "{err}");
}

fn schema_validator(def: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema/bas-v1.schema.json");
    let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let wrapped = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": schema["$defs"],
        "$ref": format!("#/$defs/{def}"),
    });
    jsonschema::validator_for(&wrapped).expect("schema compiles")
}

#[test]
fn published_bas_files_validate_against_the_schema() {
    let s = scratch();
    let edits = s.data.join("dave/edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(
        edits.join("2017-06-06T171616Z.md"),
        "---\ntitle: Edited\nhighlight: true\nhide_stats: [speed]\n---\nBody",
    )
    .unwrap();
    build(&s.data, &s.out, None);
    let kinds = [
        ("detail", schema_validator("detail")),
        ("timeseries", schema_validator("timeseries")),
        ("track", schema_validator("track")),
        ("user_feed", schema_validator("user_feed")),
        ("root_manifest", schema_validator("root_manifest")),
        ("athlete", schema_validator("athlete")),
    ];
    let mut n = 0;
    for (rel, bytes) in
        files(&s.out).iter().filter(|(r, _)| r.starts_with("data/") && !r.starts_with("data/feed"))
    {
        let name = rel.rsplit('/').next().unwrap();
        let kind = if name.ends_with(".timeseries.json") {
            "timeseries"
        } else if name.ends_with(".geojson") {
            "track"
        } else if rel == "data/index.json" {
            "root_manifest"
        } else if name.starts_with("index") {
            "user_feed"
        } else if name == "athlete.json" {
            "athlete"
        } else {
            "detail"
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let validator = &kinds.iter().find(|k| k.0 == kind).unwrap().1;
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .take(3)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{rel} ({kind}): {errors:?}");
        n += 1;
    }
    assert!(n > 60, "validated {n} files");
}

#[test]
fn athlete_yaml_zones_reach_the_activity_page() {
    let s = scratch();
    let edits = s.data.join("brut/edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(
        edits.join("athlete.yaml"),
        "max_hr: 190\nftp_w: 250\nhr_zones: [[0, 120], [120, 140], [140, 160], [160, 175], [175, 999]]\n",
    )
    .unwrap();
    build(&s.data, &s.out, None);
    let page =
        std::fs::read_to_string(s.out.join("activity/2017-06-13T170654Z/index.html")).unwrap();
    assert!(page.contains("<h2>Heart rate zones</h2>"), "zone chart");
    assert!(page.contains("Z5 175+ bpm"), "open top zone label");
    // The shares of the five zones add up to 100 % (± rounding).
    let start = page.find("<svg class=\"chart zones\"").unwrap();
    let zones_svg = &page[start..start + page[start..].find("</svg>").unwrap()];
    let pct = common::zone_shares_pct(zones_svg);
    assert!((pct - 100.0).abs() <= 3.0, "zone shares sum to {pct}");
    let athlete = std::fs::read_to_string(s.out.join("u/brut/athlete/index.html")).unwrap();
    assert!(athlete.contains("Max HR 190 bpm · FTP 250 W"));
    assert!(athlete.contains("<b>Z5</b> 175+ bpm"));
    let published: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.out.join("data/brut/_merged/athlete.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(published["ftp_w"], 250);
}

#[test]
fn a_theme_folder_missing_its_map_library_fails_naming_the_file() {
    let s = scratch();
    let theme_copy = s.out.with_file_name("theme");
    for sub in ["templates", "static"] {
        copy_dir(&theme_folder().join(sub), &theme_copy.join(sub));
    }
    std::fs::copy(theme_folder().join("theme.toml"), theme_copy.join("theme.toml")).unwrap();
    let err = site::build(&SiteOptions {
        data_dir: s.data.clone(),
        out_dir: s.out,
        theme_dir: Some(theme_copy),
        handle: None,
        tile_url: None,
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("vendor/leaflet/package.json"), "{err}");
    assert!(err.contains("missing from the theme's vendor/ folder"), "{err}");
}

#[test]
fn a_page_moving_between_users_is_not_cleaned_up() {
    let s = scratch();
    let id = "2017-06-06T171616Z";
    // brut gets a copy of dave's activity: same ID, brut sorts first and claims /activity/{id}/.
    for ext in ["json", "geojson", "timeseries.json"] {
        std::fs::copy(
            s.data.join(format!("dave/activities/{id}.{ext}")),
            s.data.join(format!("brut/activities/{id}.{ext}")),
        )
        .unwrap();
    }
    build(&s.data, &s.out, None);
    let page = |p: &str| std::fs::read_to_string(s.out.join(p)).unwrap_or_default();
    assert!(page(&format!("activity/{id}/index.html")).contains("← @brut"));
    assert!(page(&format!("activity/{id}-dave/index.html")).contains("← @dave"));
    // brut's copy goes away: dave's activity moves to /activity/{id}/ and survives the clean-up
    // of brut's old files.
    for ext in ["json", "geojson", "timeseries.json"] {
        std::fs::remove_file(s.data.join(format!("brut/activities/{id}.{ext}"))).unwrap();
    }
    build(&s.data, &s.out, None);
    assert!(page(&format!("activity/{id}/index.html")).contains("← @dave"));
    assert!(!s.out.join(format!("activity/{id}-dave")).exists(), "old URL cleaned up");
}

#[test]
fn an_instance_without_users_still_renders_the_shared_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("instance.db"), b"").unwrap();
    let out = tmp.path().join("site");
    let r = build(&data, &out, None);
    assert_eq!(r.users, 0);
    for p in [
        "index.html",
        "login/index.html",
        "register/index.html",
        "community/index.html",
        "404.html",
    ] {
        assert!(out.join(p).is_file(), "missing {p}");
    }
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        root["instance"]["private"], true,
        "instance.db without a private key means private"
    );
    let home = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(home.contains("No activities yet."));
    // The invitation to upload is for a signed-in member only (shown by the script).
    assert!(home.contains("<p data-user-only hidden><button type=\"button\" class=\"btn\" data-open-dialog=\"upload-dialog\">Upload your first activity</button>"));
    // This instance has a daemon: its pages ask who is signed in.
    assert!(home.contains("data-daemon=\"true\""));
    let all = files(&out);
    check_links(&out, &all);
}

#[test]
fn making_an_activity_private_removes_its_public_page_and_files() {
    let s = scratch();
    let id = "2017-05-09T154646Z";
    build(&s.data, &s.out, None);
    assert!(s.out.join(format!("activity/{id}/index.html")).is_file());
    std::fs::create_dir_all(s.data.join("dave/edits")).unwrap();
    std::fs::write(s.data.join(format!("dave/edits/{id}.md")), "---\nprivate: true\n---\n")
        .unwrap();
    let r = build(&s.data, &s.out, Some("dave"));
    assert!(r.files_removed >= 5, "removed {}", r.files_removed);
    let all = files(&s.out);
    let leaks: Vec<&String> = all
        .iter()
        .filter(|(k, v)| {
            !k.starts_with(&format!("activity/{id}-")) && String::from_utf8_lossy(v).contains(id)
        })
        .map(|(k, _)| k)
        .collect();
    assert!(leaks.is_empty(), "still named outside its tokened page: {leaks:?}");
    assert!(
        all.keys().any(|k| k.starts_with(&format!("activity/{id}-")) && k.ends_with("index.html"))
    );
}

/// Output files whose path names `handle` or that link to their pages or data.
fn traces_of(out: &Path, handle: &str) -> Vec<String> {
    files(out)
        .into_iter()
        .filter(|(rel, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            rel.split('/').any(|c| c == handle)
                || (!rel.starts_with("static/")
                    && (text.contains(&format!("/u/{handle}/"))
                        || text.contains(&format!("{handle}/_merged"))))
        })
        .map(|(rel, _)| rel)
        .collect()
}

// A user whose folder is gone (account deleted) is unpublished by the next build, full or
// `--handle` for someone else: every page, feed and data file, and every link to them.
#[test]
fn a_build_removes_the_pages_of_users_that_no_longer_exist() {
    for scope in [None, Some("dave")] {
        let s = scratch();
        std::fs::write(s.data.join("instance.db"), b"").unwrap();
        build(&s.data, &s.out, None);
        assert!(!traces_of(&s.out, "brut").is_empty());
        let brut_page = "activity/2019-03-30T125235Z/index.html";
        assert!(s.out.join(brut_page).is_file());
        std::fs::remove_dir_all(s.data.join("brut")).unwrap();
        let r = build(&s.data, &s.out, scope);
        assert_eq!(traces_of(&s.out, "brut"), Vec::<String>::new(), "{scope:?}");
        assert!(!s.out.join(brut_page).exists(), "{scope:?}");
        assert!(r.files_removed > 29, "{scope:?}: removed {}", r.files_removed);
        let all = files(&s.out);
        check_links(&s.out, &all);
    }
}

/// Move (or copy) one activity's detail, track and timeseries from one user to another.
fn give_activity(data: &Path, id: &str, from: &str, to: &str, keep: bool) {
    for ext in ["json", "geojson", "timeseries.json"] {
        let (src, dst) = (
            data.join(format!("{from}/activities/{id}.{ext}")),
            data.join(format!("{to}/activities/{id}.{ext}")),
        );
        std::fs::copy(&src, &dst).unwrap();
        if !keep {
            std::fs::remove_file(&src).unwrap();
        }
    }
}

// Two users' activities with the same ID (same start second): whichever was published first
// keeps `/activity/{id}/` through every later build, full or `--handle`, in whichever order
// the builds come; the later one lives at `/activity/{id}-{handle}/`, and every link resolves.
#[test]
fn the_first_published_activity_keeps_the_bare_url_in_every_build_order() {
    let id = "2017-06-06T171616Z";
    for (first, second) in [("dave", "brut"), ("brut", "dave")] {
        let s = scratch();
        if first == "brut" {
            give_activity(&s.data, id, "dave", "brut", false);
        }
        build(&s.data, &s.out, None);
        let page = |p: &str| std::fs::read_to_string(s.out.join(p)).unwrap_or_default();
        assert!(page(&format!("activity/{id}/index.html")).contains(&format!("← @{first}")));
        // The second user gets an activity with the same ID, published by their own job.
        give_activity(&s.data, id, first, second, true);
        let builds: [Option<&str>; 4] = [Some(second), None, Some(first), Some(second)];
        for (n, scope) in builds.into_iter().enumerate() {
            build(&s.data, &s.out, scope);
            let what = format!("{first} first, build {n} ({scope:?})");
            assert!(
                page(&format!("activity/{id}/index.html")).contains(&format!("← @{first}")),
                "{what}: /activity/{id}/ is not {first}'s"
            );
            assert!(
                page(&format!("activity/{id}-{second}/index.html"))
                    .contains(&format!("← @{second}")),
                "{what}: /activity/{id}-{second}/ is not {second}'s"
            );
            assert!(!s.out.join(format!("activity/{id}-{first}")).exists(), "{what}");
            let all = files(&s.out);
            check_links(&s.out, &all);
        }
    }
}

/// `{root}/bincio.toml` is the source of the instance name and the default tile URL, and
/// stays in the data directory: neither the file nor its secret reaches the output.
#[test]
fn the_instance_configuration_is_read_and_never_published() {
    let s = scratch();
    let secret = "c0ffee5ecret0123456789abcdef";
    std::fs::write(
        s.data.join("bincio.toml"),
        format!(
            "# by hand\nname = \"Ciclisti del Lago\"\ntile_url = \"https://tiles.lago.example/{{z}}/{{x}}/{{y}}.png\"\nstrava_client_id = \"4242\"\nstrava_client_secret = \"{secret}\"\n"
        ),
    )
    .unwrap();
    build(&s.data, &s.out, None);
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.data.join("index.json")).unwrap()).unwrap();
    assert_eq!(root["instance"]["name"], "Ciclisti del Lago", "the file is the source");
    let all = files(&s.out);
    let index = String::from_utf8_lossy(&all["index.html"]).into_owned();
    assert!(index.contains("Ciclisti del Lago"), "the name reaches the pages");
    let with_tiles = all
        .iter()
        .filter(|(p, b)| {
            p.ends_with(".html") && String::from_utf8_lossy(b).contains("tiles.lago.example")
        })
        .count();
    assert!(with_tiles > 0, "activity maps use tile_url from the file");
    for (path, bytes) in &all {
        assert!(!path.ends_with("bincio.toml"), "published: {path}");
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(secret) && !text.contains("strava_client"), "secret in {path}");
    }
    // --tile-url still wins over the file.
    let out2 = s.out.with_file_name("site2");
    site::build(&SiteOptions {
        data_dir: s.data.clone(),
        out_dir: out2.clone(),
        theme_dir: theme(),
        handle: None,
        tile_url: Some("https://flag.example/{z}/{x}/{y}.png".to_owned()),
    })
    .unwrap();
    let flagged = files(&out2);
    assert!(flagged.values().any(|b| String::from_utf8_lossy(b).contains("flag.example")));
    assert!(!flagged.values().any(|b| String::from_utf8_lossy(b).contains("tiles.lago.example")));
    // A broken file stops the render with an error naming the file and the key.
    std::fs::write(s.data.join("bincio.toml"), "units = \"furlongs\"\n").unwrap();
    let e = site::build(&SiteOptions {
        data_dir: s.data.clone(),
        out_dir: s.out,
        theme_dir: theme(),
        handle: None,
        tile_url: None,
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("bincio.toml") && e.contains("`units`"), "{e}");
}

// The athlete page shows exactly the records `athlete.json` publishes (one implementation,
// `bincio_gen::athlete`): every record and best climb links to its activity.
#[test]
fn the_athlete_page_shows_the_published_records() {
    let s = scratch();
    build(&s.data, &s.out, None);
    let mut checked = 0;
    for handle in ["brut", "dave"] {
        let athlete: serde_json::Value = serde_json::from_slice(
            &std::fs::read(s.data.join(handle).join("_merged/athlete.json")).unwrap(),
        )
        .unwrap();
        let page =
            std::fs::read_to_string(s.out.join(format!("u/{handle}/athlete/index.html"))).unwrap();
        let mut ids = Vec::new();
        for sport in athlete["records"].as_object().unwrap().values() {
            for rec in sport.as_object().unwrap().values() {
                ids.push(rec["activity_id"].as_str().unwrap().to_owned());
            }
        }
        for climb in athlete["best_climbs"].as_array().unwrap() {
            ids.push(climb["activity_id"].as_str().unwrap().to_owned());
        }
        for id in ids {
            assert!(
                page.contains(&format!("/activity/{id}")),
                "{handle}: record of {id} not shown"
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "only {checked} records checked");
}

/// The activity page shows the local start with its offset and says where the zone came
/// from; a multisport activity shows its legs, and the stats pages count each leg under its
/// own sport (the fenix 2 file's 15.0 km of running, not its 69.8 km total).
#[test]
fn local_time_offsets_and_multisport_legs_on_the_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("bincio.toml"), "time_zone = \"Europe/Rome\"\n").unwrap();
    let devices = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/devices");
    let mut opts = bincio_gen::extract::ExtractOptions::new(data.join("dave"), "dave");
    opts.inputs = [
        "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit",
        "fitparse__sample-activity-indoor-trainer.fit",
        "fitparse__activity-large-fenxi2-multisport.fit",
    ]
    .iter()
    .map(|f| devices.join(f))
    .collect();
    let report = bincio_gen::extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let out = tmp.path().join("site");
    build(&data, &out, None);
    let page = |id: &str| std::fs::read_to_string(out.join(format!("activity/{id}/index.html")));

    let edge = page("2013-08-16T180510Z").unwrap();
    assert!(edge.contains(">15:35 (UTC\u{2212}02:30)</span>"), "Newfoundland daylight time");
    assert!(edge.contains("time zone America/St_Johns, from the start position"));
    assert!(!edge.contains("class=\"tz-note\""), "a zone from the position is no guess");

    let trainer = page("2011-11-02T125419Z").unwrap();
    assert!(trainer.contains(">13:54 (UTC+01:00)</span>"));
    assert!(trainer.contains(
        "the file has no local time or position: shown in the instance&#39;s time zone, Europe/Rome"
    ));

    let fenix = page("2015-08-29T071444Z").unwrap();
    assert!(fenix.contains("<h2>Legs</h2>"));
    assert!(
        fenix.contains(r##"sports.svg#cycling"/></svg> Cycling</td>"##)
            && fenix.contains(r##"sports.svg#running"/></svg> Running</td>"##)
    );
    assert_eq!(fenix.matches("<td>Transition</td>").count(), 3);
    assert!(fenix.contains("Morning Multisport"));
    // Each lap carries the sport of its leg.
    let laps =
        fenix.split("<h2 id=\"laps-h\">").nth(1).unwrap().split("</section>").next().unwrap();
    let rows = laps.matches("<tr").count() - 1;
    let badges = laps.matches(" <span class=\"badge\">").count();
    assert!(rows >= 4 && badges == rows, "{badges} of {rows} laps labelled: {laps}");
    for sport in ["Cycling", "Running"] {
        assert!(laps.contains(&format!("<span class=\"badge\">{sport}</span>")), "{sport} laps");
    }

    let running = std::fs::read_to_string(out.join("u/dave/stats/running/index.html")).unwrap();
    assert!(running.contains("15.0 km") && !running.contains("69.8 km"));
    let cycling = std::fs::read_to_string(out.join("u/dave/stats/cycling/index.html")).unwrap();
    // The Edge 810 ride (41.3 km) and the fenix ride leg (28.9 km): 70.3 km in 2013 + 2015.
    assert!(cycling.contains("41.3 km") && cycling.contains("28.9 km"));
}

/// A build holds no activity's detail: the page is made from the merged detail file the
/// merge wrote (`_merged/activities/{id}.json`), and its fingerprint hashes that file. An
/// edit that reaches the detail alone (a description: no card or listing shows it) must
/// still re-render the page, in a `--handle` build and in a full one.
#[test]
fn an_edit_reaching_only_the_detail_rerenders_the_activity_page() {
    let s = scratch();
    build(&s.data, &s.out, None);
    let id = "2016-12-06T133920Z";
    let page = s.out.join(format!("activity/{id}/index.html"));
    let detail = s.data.join(format!("dave/_merged/activities/{id}.json"));
    let edits = s.data.join("dave/edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(edits.join(format!("{id}.md")), "A first description\n").unwrap();
    build(&s.data, &s.out, Some("dave"));
    assert!(std::fs::read_to_string(&detail).unwrap().contains("A first description"));
    assert!(std::fs::read_to_string(&page).unwrap().contains("A first description"));
    std::fs::write(edits.join(format!("{id}.md")), "A second description\n").unwrap();
    let r = build(&s.data, &s.out, None);
    assert!(r.files_written > 0, "{r:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("A second description"), "the full build re-rendered the page");
    assert!(!html.contains("A first description"));
}
