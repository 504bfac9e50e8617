//! Browser tests in headless Chromium (Debian package `chromium`), loopback
//! only, on the demo instance built from the project's fixtures: no console error on any
//! page; feed, activity, stats and athlete pages show the numbers the BAS data says; hovering
//! a chart moves the map marker to the matching timeseries point; the sport filter pages list
//! only that sport; the theme toggle flips light/dark; a 375 px wide page has no horizontal
//! overflow. Screenshots go to `target/browser-shots/`.
//!
//! Headless Chromium cannot hover or click from its command line, so the page scripts have
//! tiny URL-fragment hooks (`#bincio-test=hover:0.5,theme,overflow`) that synthesise the event.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_gen::site::templates::{format_clock, format_distance};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

struct Page {
    dom: String,
    console: Vec<String>,
}

fn load(bin: &Path, url: &str, width: u32, screenshot: Option<&Path>) -> Page {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=8000",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--window-size={width},1400"));
    match screenshot {
        Some(p) => cmd.arg(format!("--screenshot={}", p.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(url).output().expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr);
    Page {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect(),
    }
}

fn attr<'a>(dom: &'a str, tag_marker: &str, name: &str) -> Option<&'a str> {
    let i = dom.find(tag_marker)?;
    let rest = &dom[i..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let pat = format!("{name}=\"");
    let j = tag.find(&pat)? + pat.len();
    let k = tag[j..].find('"')?;
    Some(&tag[j..j + k])
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[test]
fn demo_pages_work_in_headless_chromium() {
    let Some(bin) = chromium() else {
        common::skip_or_fail("chromium is not installed (apt-get install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let site = bincio_gen::cmd::demo::build_demo(tmp.path(), None, None).expect("demo builds");
    let data = tmp.path().join("data");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serve_root = site.clone();
    std::thread::spawn(move || bincio_gen::cmd::serve::serve_listener(&serve_root, listener));
    let shots = root.join("target/browser-shots");
    std::fs::create_dir_all(&shots).unwrap();

    // Feed: the count and the first card come from the combined feed JSON.
    let feed_json = read_json(&site.join("data/feed.json"));
    let total = feed_json["total_activities"].as_u64().unwrap();
    let feed = load(&bin, &format!("{base}/"), 1280, None);
    assert!(feed.console.is_empty(), "console: {:?}", feed.console);
    assert!(feed.dom.contains(&format!("{total} activities")), "feed count");
    let first_title = feed_json["activities"][0]["title"].as_str().unwrap();
    assert!(feed.dom.contains(first_title));
    load(&bin, &format!("{base}/"), 1280, Some(&shots.join("feed.png")));

    // Activity page: stats match the merged detail; hover at mid-chart moves the marker to
    // the timeseries point the chart's x scale points at.
    let ada = data.join("ada/_merged");
    let idx = read_json(&ada.join("index.json"));
    let year = idx["shards"][0]["url"].as_str().unwrap();
    let shard = read_json(&ada.join(year));
    let card = shard["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["sport"] == "cycling" && !a["track_url"].is_null())
        .expect("a cycling activity with a track");
    let id = card["id"].as_str().unwrap();
    let detail = read_json(&ada.join(format!("activities/{id}.json")));
    let url = format!("{base}/activity/{id}/#bincio-test=hover:0.5");
    let page = load(&bin, &url, 1280, None);
    assert!(page.console.is_empty(), "console: {:?}", page.console);
    let distance = format_distance(detail["distance_m"].as_f64());
    assert!(
        page.dom.contains("<dt>Distance</dt><dd data-q=\"distance\"")
            && page.dom.contains(&format!(">{distance}</dd>")),
        "distance {distance}"
    );
    assert!(page.dom.contains("leaflet-container"), "interactive map started");
    assert!(page.dom.contains("data-map-ready=\"1\""));
    let x0: f64 = attr(&page.dom, "<svg class=\"chart\"", "data-x0").unwrap().parse().unwrap();
    let x1: f64 = attr(&page.dom, "<svg class=\"chart\"", "data-x1").unwrap().parse().unwrap();
    let ts = read_json(&ada.join(format!("activities/{id}.timeseries.json")));
    let t: Vec<f64> = ts["t"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let x = x0 + 0.5 * (x1 - x0);
    let i = t.partition_point(|v| *v < x);
    let marker = attr(&page.dom, "id=\"map\"", "data-marker").expect("hover marker placed");
    let (lat, lon) = marker.split_once(',').unwrap();
    let (lat, lon): (f64, f64) = (lat.parse().unwrap(), lon.parse().unwrap());
    let (want_lat, want_lon) = (ts["lat"][i].as_f64().unwrap(), ts["lon"][i].as_f64().unwrap());
    // The pointer lands on a pixel, so allow a couple of samples either side.
    let near = (i.saturating_sub(3)..(i + 4).min(t.len())).any(|k| {
        (ts["lat"][k].as_f64().unwrap_or(0.0) - lat).abs() < 2e-5
            && (ts["lon"][k].as_f64().unwrap_or(0.0) - lon).abs() < 2e-5
    });
    assert!(near, "marker {lat},{lon} vs sample {i} at {want_lat},{want_lon}");
    load(&bin, &format!("{base}/activity/{id}/"), 1280, Some(&shots.join("activity.png")));

    // Stats: the year card total is the sum of the listed distances of that year.
    let year_n = idx["shards"][0]["year"].as_i64().unwrap();
    let sum: f64 = shard["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["distance_m"].as_f64())
        .sum();
    let stats = load(&bin, &format!("{base}/u/ada/stats/"), 1280, None);
    assert!(stats.console.is_empty(), "console: {:?}", stats.console);
    assert!(stats.dom.contains(&format!(
        "<strong>{year_n}</strong><span>{}</span>",
        format_distance(Some(sum))
    )));
    load(&bin, &format!("{base}/u/ada/stats/"), 1280, Some(&shots.join("stats.png")));

    // Athlete: the 5 km running record from the merged athlete.json.
    let athlete = read_json(&ada.join("athlete.json"));
    let rec =
        athlete["records"]["running"]["5.0"]["time_s"].as_f64().expect("a 5 km running record");
    let ath = load(&bin, &format!("{base}/u/ada/athlete/"), 1280, None);
    assert!(ath.console.is_empty(), "console: {:?}", ath.console);
    assert!(
        ath.dom.contains(&format!("<td>5 km</td><td>{}</td>", format_clock(rec))),
        "5 km record"
    );
    assert!(ath.dom.contains("class=\"chart power-curve\""));

    // Sport filter: the running page lists only running cards, as many as ada has.
    let runs = load(&bin, &format!("{base}/u/ada/sport/running/"), 1280, None);
    let n_cards = runs.dom.matches("<article class=\"card").count();
    let n_running = runs.dom.matches("data-sport=\"running\"").count();
    let expected = idx["shards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            read_json(&ada.join(s["url"].as_str().unwrap()))["activities"]
                .as_array()
                .unwrap()
                .clone()
        })
        .filter(|a| a["sport"] == "running")
        .count();
    assert!(
        expected > 0 && n_cards == expected && n_running == expected,
        "{n_cards} cards, {n_running} running, {expected} expected"
    );

    // Community: server tables plus the script-built "This week" / "This month" ones.
    let com = load(&bin, &format!("{base}/community/"), 1280, None);
    assert!(com.console.is_empty(), "console: {:?}", com.console);
    assert!(com.dom.contains("data-period=\"week\"") && com.dom.contains(">This month</label>"));
    assert!(com.dom.contains("data-period=\"all\""));

    // Theme toggle flips the initial theme (set before paint from prefers-color-scheme).
    let before = load(&bin, &format!("{base}/about/"), 1280, None);
    let after = load(&bin, &format!("{base}/about/#bincio-test=theme"), 1280, None);
    let t0 = attr(&before.dom, "<html", "data-theme").unwrap().to_owned();
    let t1 = attr(&after.dom, "<html", "data-theme").unwrap().to_owned();
    assert_ne!(t0, t1, "theme toggled");
    assert!(["light", "dark"].contains(&t1.as_str()));

    // Mobile width: no horizontal overflow on the feed, an activity and the stats page.
    for (name, path) in [
        ("feed", "/".to_owned()),
        ("activity", format!("/activity/{id}/")),
        ("stats", "/u/ada/stats/".to_owned()),
    ] {
        let p = load(&bin, &format!("{base}{path}#bincio-test=overflow"), 375, None);
        let o = attr(&p.dom, "<body", "data-overflow").unwrap_or("missing").to_owned();
        assert!(o.starts_with("false"), "{name} overflows at 375 px: {o}");
        load(&bin, &format!("{base}{path}"), 375, Some(&shots.join(format!("mobile-{name}.png"))));
    }
}
