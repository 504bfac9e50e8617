//! The activity page of a long ride stays small: a 6-hour ride recorded every second with
//! power, heart rate, cadence, speed and noisy GPS altitude weighs at most 100 KB of HTML,
//! because its charts are drawn from at most two points per pixel column whatever the
//! recording length (`docs/site.md`, "The activity page").
//!
//! The ride is synthetic (`bincio_dev::synth`), extracted and rendered by the real code.
//! Its power changes every few seconds between coasting, tempo and sprints, so no chart is
//! flatter (and cheaper) than a real one.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bincio_bas::layout::{self, UserDir};
use bincio_dev::synth::{Device, Leg, Rng, Sampling, Scenario, SportKind, SynthFormat};
use bincio_gen::site::{self, SiteOptions};
use std::path::Path;

/// The most a 6-hour 1 Hz ride's activity page may weigh.
const MAX_PAGE_BYTES: usize = 100 * 1000;

fn six_hour_ride() -> Scenario {
    let mut rng = Rng::new(14);
    let mut legs = Vec::new();
    let mut t = 0u32;
    let mut bearing = 0.0f64;
    while t < 6 * 3600 {
        let dur = rng.range(2, 12);
        let v = rng.uniform(4.0, 14.0);
        bearing = (bearing + rng.uniform(-40.0, 40.0)).rem_euclid(360.0);
        let dist = v * f64::from(dur);
        let climb = rng.uniform(-0.08, 0.08) * dist;
        let w = match rng.range(0, 9) {
            0 => 0,
            9 => rng.range(700, 1100),
            _ => rng.range(120, 380),
        } as u16;
        let mut leg = Leg::go(dur, dist, bearing, climb).cad(rng.range(55, 110) as u8);
        if w > 0 {
            leg = leg.watts(w);
        }
        legs.push(if t > 0 && t % 3600 < dur { leg.lap() } else { leg });
        t += dur;
    }
    Scenario {
        name: "six-hour-ride".to_owned(),
        title: Some("Six hours".to_owned()),
        kind: SportKind::RoadRide,
        start_unix_s: 1_746_000_000,
        utc_offset_s: 7200,
        start_lat_deg: 45.07,
        start_lon_deg: 7.68,
        start_ele_m: 600.0,
        legs,
        gps: true,
        altitude: true,
        hr: true,
        speed: true,
        sampling: Sampling::OneHz,
        noise_seed: Some(7),
        device: Device::Garmin,
        gpx_local_times: false,
    }
}

#[test]
fn a_six_hour_1hz_ride_with_power_renders_under_100_kb() {
    let tmp = tempfile::tempdir().unwrap();
    let (inputs, data, out) =
        (tmp.path().join("in"), tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&inputs).unwrap();
    let scenario = six_hour_ride();
    let track = scenario.render(SynthFormat::Fit, "six-hour-ride.fit", false);
    let file = inputs.join("six-hour-ride.fit");
    std::fs::write(&file, bincio_dev::synth::write_format(&track, SynthFormat::Fit)).unwrap();

    let mut opts = bincio_gen::extract::ExtractOptions::new(data.join("eve"), "eve");
    opts.inputs = vec![file];
    let report = bincio_gen::extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!(report.new_ids.len(), 1, "{:?}", report.failed);
    let id = &report.new_ids[0];
    let ts: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            UserDir::new(data.join("eve")).activities_dir().join(layout::timeseries_name(id)),
        )
        .unwrap(),
    )
    .unwrap();
    let samples = ts["t"].as_array().unwrap().len();
    assert!(samples >= 6 * 3600, "a 1 Hz recording of 6 h: {samples} samples");

    site::build(&SiteOptions {
        data_dir: data,
        out_dir: out.clone(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    })
    .unwrap();
    let html = std::fs::read_to_string(out.join(format!("activity/{id}/index.html"))).unwrap();
    // What the page is made of, for the closing figure and for whoever makes it heavier.
    let part = |start: &str, end: &str| -> usize {
        html.split(start)
            .skip(1)
            .map(|p| p.split_once(end).map_or(p.len(), |(a, _)| a.len()) + start.len())
            .sum()
    };
    let charts = part("<svg class=\"chart\"", "</svg>");
    let outline = part("<svg class=\"track-outline\"", "</svg>");
    let splits = part("<h2 id=\"splits-h\">", "</section>");
    let laps = part("<h2 id=\"laps-h\">", "</section>");
    let kb = |b: usize| b as f64 / 1000.0;
    eprintln!(
        "6 h 1 Hz ride ({samples} samples): activity page {:.1} KB: charts {:.1} KB, track \
         outline {:.1} KB, splits {:.1} KB, laps {:.1} KB, the rest {:.1} KB",
        kb(html.len()),
        kb(charts),
        kb(outline),
        kb(splits),
        kb(laps),
        kb(html.len() - charts - outline - splits - laps)
    );
    if let Ok(dir) = std::env::var("BINCIO_KEEP_PAGE") {
        std::fs::write(Path::new(&dir).join("six-hour-ride.html"), &html).unwrap();
    }
    // Elevation, speed, heart rate, power and cadence, against time and distance.
    for label in ["Elevation (m)", "Speed (km/h)", "Heart rate (bpm)", "Power (W)", "Cadence (rpm)"]
    {
        assert_eq!(html.matches(&format!("aria-label=\"{label}\"")).count(), 2, "{label}");
    }
    assert!(html.len() <= MAX_PAGE_BYTES, "activity page {} bytes > {MAX_PAGE_BYTES}", html.len());
}
