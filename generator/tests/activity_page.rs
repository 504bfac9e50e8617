//! The activity page's figures, units, splits, laps and charts, on synthetic activities with
//! known ground truth (`fixtures/activities/expected/*.json`): a road ride with power and
//! 300 m of climbing, an indoor ride (no GPS, no elevation), a run and a pool swim. Each
//! figure is asserted as the text a reader sees, in the instance's units.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_gen::extract::{self, ExtractOptions};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activities/fit").join(name)
}

/// Extract the four fixtures for `eve`, optionally write `bincio.toml` and sidecars, render.
fn site(toml: Option<&str>, sidecars: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("site");
    let mut opts = ExtractOptions::new(data.join("eve"), "eve");
    opts.inputs = ["synth-ride-smart.fit", "synth-indoor-ride.fit", "synth-run.fit"]
        .iter()
        .chain(["synth-pool-swim.fit"].iter())
        .map(|n| fixture(n))
        .collect();
    let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!(report.new_ids.len(), 4, "{:?}", report.failed);
    if let Some(t) = toml {
        std::fs::write(data.join("bincio.toml"), t).unwrap();
    }
    for (id, body) in sidecars {
        std::fs::create_dir_all(data.join("eve/edits")).unwrap();
        std::fs::write(data.join(format!("eve/edits/{id}.md")), body).unwrap();
    }
    common::build(&data, &out);
    (tmp, out)
}

const RIDE: &str = "2026-05-03T053000Z";
const INDOOR: &str = "2026-05-07T053000Z";
const RUN: &str = "2026-05-08T053000Z";
const SWIM: &str = "2026-05-12T053000Z";

fn page(out: &Path, id: &str) -> String {
    std::fs::read_to_string(out.join(format!("activity/{id}/index.html"))).unwrap()
}

/// The figure cards as (label, value) pairs, in page order.
fn figures(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<div class=\"stat\"><dt>").skip(1) {
        let (label, rest) = part.split_once("</dt>").unwrap();
        let value = rest.split_once('>').unwrap().1.split_once("</dd>").unwrap().0;
        out.push((label.to_owned(), value.to_owned()));
    }
    out
}

fn figure(html: &str, label: &str) -> Option<String> {
    figures(html).into_iter().find(|(l, _)| l == label).map(|(_, v)| v)
}

/// The y tick labels of the chart whose accessible name is `label` (its first copy: the
/// distance axis when there is one).
fn y_ticks(html: &str, label: &str) -> Vec<String> {
    let start = html.find(&format!("aria-label=\"{label}\"")).unwrap();
    let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
    svg.split("text-anchor=\"end\">")
        .skip(1)
        .map(|t| t.split_once('<').unwrap().0.to_owned())
        .collect()
}

/// Every `<text x=…>` of every chart lies inside its 600-unit-wide box, so no label is cut.
fn text_inside_charts(html: &str) {
    for svg in html.split("<svg class=\"chart\"").skip(1) {
        let svg = svg.split_once("</svg>").unwrap().0;
        for t in svg.split("<text class=\"tick\" x=\"").skip(1) {
            let x: f64 = t.split_once('"').unwrap().0.parse().unwrap();
            let label = t.split_once('>').unwrap().1.split_once('<').unwrap().0;
            let half = label.chars().count() as f64 * 5.5;
            let anchor_end = t.contains("text-anchor=\"end\"");
            let (lo, hi) = if anchor_end { (x - 2.0 * half, x) } else { (x - half, x + half) };
            assert!(lo >= 0.0 && hi <= 600.0, "label {label:?} at x={x} leaves the chart");
        }
    }
}

#[test]
fn a_ride_with_power_shows_every_figure_the_data_has() {
    let (_tmp, out) = site(None, &[]);
    let ride = page(&out, RIDE);
    // Ground truth: 10.5 km, 300 m up and down, 800 W peak, 214.5 W average, HR max 201.
    for (label, value) in [
        ("Distance", "10.5 km"),
        ("Moving time", "21m 00s"),
        ("Elevation gain", "300 m"),
        ("Descent", "300 m"),
        ("Avg speed", "30.0 km/h"),
        ("Max heart rate", "201 bpm"),
        ("Avg power", "215 W"),
        ("Max power", "800 W"),
        // From the published 1–10 s samples: Σ power × Δt and the 30 s-mean fourth power.
        ("Energy", "259 kJ"),
        ("Normalized power", "260 W"),
        ("Avg cadence", "85 rpm"),
        ("Max cadence", "110 rpm"),
    ] {
        assert_eq!(figure(&ride, label).as_deref(), Some(value), "{label}");
    }
    assert!(ride.contains("Recorded with Garmin Edge 530"), "device name");
    // No card for what the ride does not have, and no placeholder card at all.
    assert!(figures(&ride).iter().all(|(_, v)| !v.is_empty() && v != "—"), "{:?}", figures(&ride));
    // The laps table has every column the laps carry, speeds derived from distance/time.
    let laps = ride.split("<h2 id=\"laps-h\">").nth(1).unwrap();
    for h in
        ["Distance", "Time", "Speed", "Elev. gain", "Avg HR", "Max HR", "Avg power", "Max power"]
    {
        assert!(laps.contains(&format!("<th scope=\"col\">{h}</th>")), "laps column {h}");
    }
    assert!(laps.contains(">800 W</td>") && laps.contains(">20.6 km/h</td>"), "lap values");
    // Splits: ten full kilometres and the last 500 m, and 6 miles and the rest.
    let splits = ride.split("<h2 id=\"splits-h\">").nth(1).unwrap().split("</section>").next();
    let splits = splits.unwrap();
    let km = splits.split("data-units-only=\"metric\"").nth(1).unwrap();
    let km = km.split("data-units-only").next().unwrap();
    assert_eq!(km.matches("<tr><td>").count(), 11, "km splits");
    assert!(km.contains("<tr><td>0.50 km</td>"), "last split is its own length");
    let mi = splits.split("data-units-only=\"imperial\"").nth(1).unwrap();
    assert_eq!(mi.matches("<tr><td>").count(), 7, "mile splits");
    // The elevation axis fits 240–540 m on round ticks instead of starting at 0.
    assert_eq!(y_ticks(&ride, "Elevation (m)"), ["200", "300", "400", "500", "600"]);
    assert_eq!(y_ticks(&ride, "Power (W)"), ["0", "200", "400", "600", "800"]);
    text_inside_charts(&ride);
    // Charts have text alternatives, and this ride's power curve is drawn beside the best.
    assert!(ride.contains("<title>Elevation (m): 240 to 540, mean 348</title>"));
    assert!(ride.contains("aria-label=\"Power curve\"") && ride.contains("All-time best"));
}

#[test]
fn each_sport_reads_in_its_own_units() {
    let (_tmp, out) = site(None, &[]);
    let run = page(&out, RUN);
    assert_eq!(figure(&run, "Avg pace").as_deref(), Some("4:36 /km"));
    assert_eq!(figure(&run, "Best pace").as_deref(), Some("3:37 /km"));
    // FIT stores strides per minute; runners count steps.
    assert_eq!(figure(&run, "Avg cadence").as_deref(), Some("170 spm"));
    assert!(run.contains("aria-label=\"Pace (min/km)\""), "pace chart");
    assert!(!run.contains("Recorded with"), "an unnamed device (`255 1`) is not shown");
    assert_eq!(y_ticks(&run, "Elevation (m)"), ["400", "405", "410", "415"]);
    text_inside_charts(&run);

    let swim = page(&out, SWIM);
    assert_eq!(figure(&swim, "Avg pace").as_deref(), Some("1:13 /100 m"));
    assert_eq!(figure(&swim, "Avg cadence").as_deref(), Some("32 strokes/min"));
    assert!(!swim.contains("id=\"splits-h\""), "swims have laps, not km splits");

    let indoor = page(&out, INDOOR);
    assert!(indoor.contains("No GPS track"), "compact notice");
    assert!(!indoor.contains("class=\"map\""), "no empty map box");
    assert_eq!(figure(&indoor, "Elevation gain"), None);
    assert_eq!(figure(&indoor, "Avg speed").as_deref(), Some("33.0 km/h"));
    assert_eq!(figure(&indoor, "Max power").as_deref(), Some("350 W"));
    // Feed cards: pace for the run, speed for the rides, no empty elevation card indoors.
    let feed = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(feed.contains("data-q=\"pace\" data-si=\"11.826\"") || feed.contains(">4:36 /km<"));
    assert!(feed.contains(">4:36 /km<") && feed.contains(">30.0 km/h<"), "card speeds");
    assert!(!feed.contains(">—<"), "no placeholder on a card");
}

#[test]
fn an_imperial_instance_renders_miles_and_feet_and_hidden_power_stays_hidden() {
    let (_tmp, out) =
        site(Some("units = \"imperial\"\n"), &[(RIDE, "---\nhide_stats: [power]\n---\n")]);
    let ride = page(&out, RIDE);
    assert_eq!(figure(&ride, "Distance").as_deref(), Some("6.52 mi"));
    assert_eq!(figure(&ride, "Elevation gain").as_deref(), Some("984 ft"));
    assert_eq!(figure(&ride, "Avg speed").as_deref(), Some("18.6 mph"));
    // The SI value rides along for a visitor who prefers kilometres.
    assert!(ride.contains("data-q=\"distance\" data-si=\"10500\">6.52 mi<"));
    assert!(ride.contains("data-units=\"imperial\""));
    for gone in ["Avg power", "Normalized power", "Max power", "Energy"] {
        assert_eq!(figure(&ride, gone), None, "{gone} is hidden");
    }
    assert!(!ride.contains("Power curve") && !ride.contains("aria-label=\"Power (W)\""));
    let run = page(&out, RUN);
    assert_eq!(figure(&run, "Avg pace").as_deref(), Some("7:24 /mi"));
}

#[test]
fn a_base_map_is_opt_in_and_the_policy_allows_exactly_its_host() {
    let (_tmp, out) = site(None, &[]);
    let ride = page(&out, RIDE);
    assert!(ride.contains("img-src 'self' data:; "), "no tile host without tile_url");
    assert!(ride.contains("&quot;tile_url&quot;:null"), "no tiles by default");
    let (_tmp, out) =
        site(Some("tile_url = \"https://tiles.example.org:8443/osm/{z}/{x}/{y}.png\"\n"), &[]);
    let ride = page(&out, RIDE);
    assert!(ride.contains("img-src 'self' data: https://tiles.example.org:8443; "), "CSP");
    assert!(
        ride.contains("openstreetmap.org/copyright") && ride.contains("contributors"),
        "attribution"
    );
}

/// A real Garmin Edge 810 ride with a power meter, whose session records 1293 kcal: the
/// device's estimate is extracted into the detail and shown as a figure; hiding heart rate
/// or power (what devices estimate it from) unpublishes it with them.
#[test]
fn calories_recorded_by_the_device_are_shown_and_hidden_with_heart_rate() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples/devices/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut opts = ExtractOptions::new(data.join("eve"), "eve");
    opts.inputs = vec![sample];
    let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!(report.new_ids.len(), 1, "{:?}", report.failed);
    let id = report.new_ids[0].clone();
    let user = bincio_bas::layout::UserDir::new(data.join("eve"));
    let detail: bincio_bas::Detail =
        common::read_json(&user.activities_dir().join(bincio_bas::layout::detail_name(&id)));
    assert_eq!(detail.calories_kcal, Some(1293));

    let out = tmp.path().join("site");
    common::build(&data, &out);
    let ride = page(&out, &id);
    assert_eq!(figure(&ride, "Calories").as_deref(), Some("1293 kcal"));
    assert!(ride.contains("Recorded with Garmin Edge 810"), "device name");

    for hidden in ["heart_rate", "power"] {
        std::fs::create_dir_all(data.join("eve/edits")).unwrap();
        std::fs::write(
            data.join(format!("eve/edits/{id}.md")),
            format!("---\nhide_stats: [{hidden}]\n---\n"),
        )
        .unwrap();
        common::build(&data, &out);
        assert_eq!(figure(&page(&out, &id), "Calories"), None, "hidden with {hidden}");
        let merged = user.merged_activities_dir().join(bincio_bas::layout::detail_name(&id));
        let text = std::fs::read_to_string(&merged).unwrap();
        assert!(!text.contains("calories_kcal"), "{hidden}: published detail {text}");
    }
}

/// The owner-only section of the page `id` asking for zones, if any.
fn zones_prompt(html: &str) -> Option<&str> {
    let start = html.find("<section class=\"notice zones-prompt\"")?;
    Some(&html[start..start + html[start..].find("</section>").unwrap()])
}

/// Without zones, the ride's page carries a form to set them, for the owner only: it is
/// `hidden` in the HTML (so nothing shows without JavaScript or to a visitor) and site.js
/// reveals `data-owner` elements to that user alone. With heart-rate zones set, the time in
/// each zone is drawn and the form asks only for what is still missing (power).
#[test]
fn zones_show_time_in_zone_and_the_owner_is_asked_for_missing_ones() {
    let (tmp, out) = site(None, &[]);
    let ride = page(&out, RIDE);
    let prompt = zones_prompt(&ride).expect("a zones prompt");
    assert!(prompt.contains("data-owner=\"eve\" hidden"), "{prompt}");
    assert!(prompt.contains("Set your heart-rate and power zones"), "{prompt}");
    assert!(prompt.contains("name=\"max_hr\"") && prompt.contains("name=\"ftp_w\""), "{prompt}");
    assert!(!ride.contains("<h2>Heart rate zones</h2>"), "no zones, no zone chart");
    // The run has heart rate but no power: only the maximum heart rate is asked for.
    let run = zones_prompt(&page(&out, RUN)).map(str::to_owned).expect("run prompt");
    assert!(run.contains("name=\"max_hr\"") && !run.contains("name=\"ftp_w\""), "{run}");
    assert!(run.contains("Set your heart-rate zones"), "{run}");

    // Zones as the page's form writes them: the top zone ends at 250 bpm / 5000 W.
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("eve/edits")).unwrap();
    std::fs::write(
        data.join("eve/edits/athlete.yaml"),
        "max_hr: 200\nhr_zones: [[0, 120], [120, 140], [140, 160], [160, 180], [180, 250]]\n\
         ftp_w: 250\npower_zones: [[0, 138], [138, 188], [188, 225], [225, 263], [263, 300], [300, 375], [375, 5000]]\n",
    )
    .unwrap();
    common::build(&data, &out);
    let ride = page(&out, RIDE);
    assert!(zones_prompt(&ride).is_none(), "zones set: no prompt");
    for (title, top) in [("Heart rate zones", "Z5 180+ bpm"), ("Power zones", "Z7 375+ W")] {
        let start = ride.find(&format!("<h2>{title}</h2>")).unwrap_or_else(|| panic!("{title}"));
        let svg = &ride[start..start + ride[start..].find("</svg>").unwrap()];
        assert!(svg.contains(top), "{title}: open top zone label in {svg}");
        // Every second of the 21-minute ride is in some zone: the shares add up to 100 %.
        let pct = common::zone_shares_pct(svg);
        assert!((pct - 100.0).abs() <= 3.0, "{title}: shares sum to {pct}");
    }
    // The ride's only effort between 300 and 375 W is the climb's 5-minute 320 W block.
    let start = ride.find("<h2>Power zones</h2>").unwrap();
    let svg = &ride[start..start + ride[start..].find("</svg>").unwrap()];
    let z6 = svg.split("Z6 300–375 W</text>").nth(1).unwrap();
    let z6_time = z6.split("<text class=\"tick\"").nth(1).unwrap();
    let text = z6_time.split_once('>').unwrap().1.split_once(" · ").unwrap().0;
    let (m, s) = text.trim_end_matches('s').split_once("m ").unwrap();
    let secs = m.parse::<i64>().unwrap() * 60 + s.parse::<i64>().unwrap();
    assert!((secs - 300).abs() <= 10, "Z6 time {text}");
}
