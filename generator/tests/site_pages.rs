//! The rest of the site, checked on rendered HTML: the instance-wide stats page (`/stats/`)
//! and its figures against the merged BAS data, the navigation and header, and the
//! owner-only parts of an empty feed. Behaviour that needs a browser (mobile navigation,
//! `/api/me`) is in `browser.rs` and the apiserver's browser tests.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_gen::site::templates::{format_distance, format_duration};
use std::collections::BTreeMap;
use std::path::Path;

/// Every listed activity of every user of a demo-like data directory, from the merged
/// year shards (the files the pages are rendered from): handle → summaries.
fn listed(data: &Path) -> BTreeMap<String, Vec<serde_json::Value>> {
    let root: serde_json::Value = common::read_json(&data.join("index.json"));
    let mut out = BTreeMap::new();
    for shard in root["shards"].as_array().unwrap() {
        let h = shard["handle"].as_str().unwrap().to_owned();
        let merged = data.join(&h).join("_merged");
        let idx: serde_json::Value = common::read_json(&merged.join("index.json"));
        let mut acts = Vec::new();
        for y in idx["shards"].as_array().unwrap() {
            let s: serde_json::Value = common::read_json(&merged.join(y["url"].as_str().unwrap()));
            acts.extend(s["activities"].as_array().unwrap().iter().cloned());
        }
        out.insert(h, acts);
    }
    out
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).unwrap_or_else(|| panic!("{start} not in page"));
    let rest = &html[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[test]
fn the_instance_stats_page_counts_every_members_listed_activities() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bincio_gen::cmd::demo::build_demo(tmp.path(), None, None).expect("demo builds");
    let users = listed(&tmp.path().join("data"));
    assert!(users.len() >= 2, "the demo has two users");
    let all: Vec<&serde_json::Value> = users.values().flatten().collect();
    let html = std::fs::read_to_string(site.join("stats/index.html")).expect("/stats/ is a page");
    assert!(!html.contains("http-equiv=\"refresh\""), "/stats/ is no longer a redirect");
    assert!(html.contains("<h1>Stats <span class=\"muted\">Bincio</span></h1>"));
    assert!(html.contains(&format!("<span class=\"count\">{} activities</span>", all.len())));

    // Year cards: every member's distance and moving time of the year, together.
    let year: i64 = all[0]["started_at"].as_str().unwrap()[..4].parse().unwrap();
    let of_year: Vec<&&serde_json::Value> = all
        .iter()
        .filter(|a| a["started_at"].as_str().unwrap().starts_with(&year.to_string()))
        .collect();
    let dist: f64 = of_year.iter().filter_map(|a| a["distance_m"].as_f64()).sum();
    let secs: f64 = of_year
        .iter()
        .map(|a| a["moving_time_s"].as_f64().or(a["duration_s"].as_f64()).unwrap_or(0.0))
        .sum();
    assert!(
        html.contains(&format!(
            "<strong>{year}</strong><span>{}</span><span>{}</span>",
            format_distance(Some(dist)),
            format_duration(Some(secs))
        )),
        "year card {year}: {} {}",
        format_distance(Some(dist)),
        format_duration(Some(secs))
    );
    // The calendar heatmap of that year.
    assert!(between(&html, &format!("id=\"y{year}\""), "</section>").contains("<svg"));

    // Totals per sport: count and distance of each sport (the demo has no multisport).
    let mut per_sport: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for a in &all {
        let e = per_sport.entry(a["sport"].as_str().unwrap()).or_default();
        e.0 += 1;
        e.1 += a["distance_m"].as_f64().unwrap_or(0.0);
    }
    let table = between(&html, "Totals per sport", "</table>");
    for (sport, (n, d)) in &per_sport {
        let row = between(table, &format!("<tr data-sport=\"{sport}\">"), "</tr>");
        assert!(row.contains(&format!("<td>{n}</td>")), "{sport}: {n} activities in {row}");
        if *d > 0.0 {
            assert!(
                row.contains(&format!(">{}</td>", format_distance(Some(*d)))),
                "{sport}: {row}"
            );
        }
    }
    assert_eq!(table.matches("<tr data-sport=").count(), per_sport.len());

    // Members: each with their own count, linking to their own stats.
    let members = between(&html, "<h2 id=\"members-h\">", "</table>");
    for (h, acts) in &users {
        let row = between(members, &format!("<a href=\"/u/{h}/\">"), "</tr>");
        assert!(row.contains(&format!("<td>{}</td>", acts.len())), "@{h}: {row}");
        assert!(row.contains(&format!("<a href=\"/u/{h}/stats/\">")), "@{h}: {row}");
    }
    // One page per sport, counting only that sport.
    for (sport, (n, _)) in &per_sport {
        let p = std::fs::read_to_string(site.join(format!("stats/{sport}/index.html"))).unwrap();
        assert!(p.contains(&format!("<span class=\"count\">{}</span>", count(*n))), "{sport}");
    }
    // The nav's "Stats" goes to this page; a member's own stats link back to it.
    let feed = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(feed.contains("<a href=\"/stats/\" data-user-path=\"stats/\">Stats</a>"));
    let (h, _) = users.iter().next().unwrap();
    let own = std::fs::read_to_string(site.join(format!("u/{h}/stats/index.html"))).unwrap();
    assert!(own.contains("<a href=\"/stats/\">Everyone's stats on Bincio →</a>"));
}

fn count(n: usize) -> String {
    if n == 1 { "1 activity".to_owned() } else { format!("{n} activities") }
}

/// A member without activities: their feed says so and carries the invitation to upload for
/// the owner only (hidden in the HTML, shown by the script to that handle alone), and every
/// page's header has the instance's name from `bincio.toml`.
#[test]
fn an_empty_feed_invites_only_its_owner_to_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bincio_gen::cmd::demo::build_demo(tmp.path(), None, None).expect("demo builds");
    let data = tmp.path().join("data");
    std::fs::remove_dir_all(data.join("ben/activities")).unwrap();
    let mut idx: serde_json::Value = common::read_json(&data.join("ben/index.json"));
    idx["activities"] = serde_json::json!([]);
    std::fs::write(data.join("ben/index.json"), idx.to_string()).unwrap();
    std::fs::write(data.join("bincio.toml"), "name = \"Club <Rides>\"\n").unwrap();
    common::build(&data, &site);
    let feed = std::fs::read_to_string(site.join("u/ben/index.html")).unwrap();
    let empty = between(&feed, "<div class=\"empty\">", "</div>");
    assert!(empty.contains("<p>No activities yet.</p>"), "{empty}");
    assert!(
        empty.contains("<p data-owner=\"ben\" hidden><button type=\"button\" class=\"btn\" data-open-dialog=\"upload-dialog\">Upload your first activity</button>"),
        "{empty}"
    );
    // Ada's feed has activities: no invitation there.
    let ada = std::fs::read_to_string(site.join("u/ada/index.html")).unwrap();
    assert!(!ada.contains("Upload your first activity"));
    for page in
        ["index.html", "u/ben/index.html", "stats/index.html", "admin/index.html", "404.html"]
    {
        let html = std::fs::read_to_string(site.join(page)).unwrap();
        assert!(
            html.contains("<a class=\"logo\" href=\"/\">Club &lt;Rides&gt;</a>"),
            "{page}: header"
        );
    }
}
