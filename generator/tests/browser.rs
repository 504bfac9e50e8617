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
    load_with(bin, url, width, screenshot, &[])
}

/// [`load`] with extra Chromium switches (`--blink-settings=scriptEnabled=false`).
fn load_with(bin: &Path, url: &str, width: u32, screenshot: Option<&Path>, extra: &[&str]) -> Page {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(extra);
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

/// The activity page at phone (390 px) and desktop width, light and dark, with and without
/// JavaScript, on a ride with power, a run, a pool swim and an indoor ride: the figures are
/// there, every navigation entry is on screen, no chart label is clipped or overlaps another
/// (rendered bounding boxes), the km/mi switch rewrites the figures, and no console error
/// (a site without a daemon never asks `/api/me`).
#[test]
fn activity_pages_at_phone_and_desktop_width_in_both_themes() {
    let Some(bin) = chromium() else {
        common::skip_or_fail("chromium is not installed (apt-get install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let site = tmp.path().join("site");
    let mut opts = bincio_gen::extract::ExtractOptions::new(data.join("eve"), "eve");
    opts.inputs =
        ["synth-ride-smart.fit", "synth-indoor-ride.fit", "synth-run.fit", "synth-pool-swim.fit"]
            .iter()
            .map(|n| root.join("fixtures/activities/fit").join(n))
            .collect();
    let report = bincio_gen::extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!(report.new_ids.len(), 4, "{:?}", report.failed);
    common::build(&data, &site);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serve_root = site.clone();
    std::thread::spawn(move || bincio_gen::cmd::serve::serve_listener(&serve_root, listener));
    let shots = root.join("target/browser-shots");
    std::fs::create_dir_all(&shots).unwrap();

    let pages = [
        ("ride", "2026-05-03T053000Z", "Normalized power", "800 W"),
        ("indoor", "2026-05-07T053000Z", "Max power", "350 W"),
        ("run", "2026-05-08T053000Z", "Avg cadence", "170 spm"),
        ("swim", "2026-05-12T053000Z", "Avg pace", "1:13 /100 m"),
    ];
    for (k, (name, id, label, value)) in pages.into_iter().enumerate() {
        // Every width and theme for the ride and the run; the phone in dark mode (the
        // tightest case) for the others, to keep the run short.
        let all = k == 0 || k == 2;
        for width in [390, 1280].into_iter().filter(|w| all || *w == 390) {
            // Headless Chromium starts light; the `theme` hook switches to dark.
            for (theme, hook) in
                [("light", ""), ("dark", "theme,")].into_iter().filter(|(t, _)| all || *t == "dark")
            {
                let url = format!("{base}/activity/{id}/#bincio-test={hook}nav,labels,overflow");
                let p = load(&bin, &url, width, None);
                let ctx = format!("{name} at {width} px, {theme}");
                assert!(p.console.is_empty(), "{ctx}: console {:?}", p.console);
                assert!(
                    p.dom.contains(&format!("<dt>{label}</dt>")) && p.dom.contains(value),
                    "{ctx}: {label} {value}"
                );
                let nav = attr(&p.dom, "<body", "data-nav").unwrap_or("missing").to_owned();
                assert!(nav.starts_with("ok;"), "{ctx}: navigation {nav}");
                for entry in ["@eve", "Stats", "Athlete", "About"] {
                    assert!(nav.contains(entry), "{ctx}: {entry} missing from {nav}");
                }
                let labels = attr(&p.dom, "<body", "data-labels").unwrap_or("missing").to_owned();
                assert!(labels.starts_with("ok;"), "{ctx}: chart labels {labels}");
                let n: usize = labels.split(';').nth(1).unwrap().parse().unwrap();
                assert!(n > 10, "{ctx}: only {n} chart labels measured");
                let o = attr(&p.dom, "<body", "data-overflow").unwrap_or("missing").to_owned();
                assert!(o.starts_with("false"), "{ctx}: overflows {o}");
                let theme_now = attr(&p.dom, "<html", "data-theme").unwrap();
                assert_eq!(theme_now, theme, "{ctx}");
            }
        }
        // Without JavaScript a browser shows the static HTML: the figures and charts are in
        // it (Chromium's `--dump-dom` and `--screenshot` need scripts, so this reads the file).
        let html = std::fs::read_to_string(site.join(format!("activity/{id}/index.html"))).unwrap();
        assert!(html.contains(value) && html.contains("<svg class=\"chart\""), "{name} static");
    }
    // The km/mi switch rewrites every figure with the same rules as the server.
    let p =
        load(&bin, &format!("{base}/activity/2026-05-03T053000Z/#bincio-test=units"), 1280, None);
    assert!(p.dom.contains(">6.52 mi</dd>") && p.dom.contains(">984 ft</dd>"), "miles");
    assert!(p.dom.contains("data-units=\"imperial\""));
    let p =
        load(&bin, &format!("{base}/activity/2026-05-08T053000Z/#bincio-test=units"), 1280, None);
    assert!(p.dom.contains(">7:24 /mi</dd>"), "run pace per mile");
    // The feed at phone width shows every navigation entry too.
    let p = load(&bin, &format!("{base}/#bincio-test=nav,overflow"), 390, None);
    let nav = attr(&p.dom, "<body", "data-nav").unwrap_or("missing").to_owned();
    assert!(nav.starts_with("ok;"), "feed navigation {nav}");
    assert!(p.console.is_empty(), "feed console {:?}", p.console);
}

/// A multi-user site (the demo, built without a daemon) at phone width, light and dark:
/// every navigation entry (Feed, Stats, Athlete, Community, About) is on screen on the feed,
/// the instance stats page, the community and about pages; no page overflows sideways; no
/// console message at all, so no page asked `/api/me` (the preview answers `/api/*` with 404,
/// which the console would report).
#[test]
fn multi_user_navigation_at_phone_width_and_no_api_calls_without_a_daemon() {
    let Some(bin) = chromium() else {
        common::skip_or_fail("chromium is not installed (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let site = bincio_gen::cmd::demo::build_demo(tmp.path(), None, None).expect("demo builds");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || bincio_gen::cmd::serve::serve_listener(&site, listener));
    for (k, path) in ["/", "/stats/", "/community/", "/about/", "/u/ada/"].into_iter().enumerate() {
        // Dark mode on every other page keeps the run short while covering both themes.
        let hook = if k % 2 == 1 { "theme," } else { "" };
        let p = load(&bin, &format!("{base}{path}#bincio-test={hook}nav,overflow"), 390, None);
        assert!(p.console.is_empty(), "{path}: console {:?}", p.console);
        let nav = attr(&p.dom, "<body", "data-nav").unwrap_or("missing").to_owned();
        assert!(nav.starts_with("ok;"), "{path}: navigation {nav}");
        assert_eq!(nav, "ok;Feed|Stats|Athlete|Community|About", "{path}");
        let o = attr(&p.dom, "<body", "data-overflow").unwrap_or("missing").to_owned();
        assert!(o.starts_with("false"), "{path} overflows at 390 px: {o}");
        assert!(p.dom.contains("<a class=\"logo\" href=\"/\">Bincio</a>"), "{path}: header");
        assert_eq!(attr(&p.dom, "<body", "data-daemon"), Some("false"));
    }
}
