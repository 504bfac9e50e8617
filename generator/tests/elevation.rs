//! Elevation from a terrain model against synthetic ground truth written by this test.
//!
//! The terrain is an analytic surface (hills of 100–300 m over 2–7 km). Its SRTM tile is
//! written from the surface (3″, 1201², whole metres, a few voids), and rides and hikes
//! across it at 1 s are written as GPX whose altitude is the terrain plus GPS-like error
//! (an offset, a slow drift, jitter and spikes). The true gain comes from the analytic
//! surface sampled finely along each path, never from the tile.
//!
//! Checked through the real `bincio-gen` binary: after `elevation --dem` every activity's
//! gain is within 1.5 % of the truth and its published altitude has a median absolute
//! difference ≤ 3 m from the terrain; without a terrain model nothing changes; `--restore`
//! returns the device's files byte for byte; `--method smoothing` and `extract --dem` work;
//! a track leaving the tile keeps its recorded altitude there, joined without a step, and
//! says so.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

const LAT0: f64 = 46.0;
const LON0: f64 = 13.0;

/// Metres east and north of the tile's south-west corner (a local flat projection; any
/// fixed mapping will do, since truth and tile are both taken from the same surface).
fn xy(lat: f64, lon: f64) -> (f64, f64) {
    ((lon - LON0) * 111_320.0 * (46.5f64).to_radians().cos(), (lat - LAT0) * 110_540.0)
}

/// The analytic terrain (m).
fn terrain(lat: f64, lon: f64) -> f64 {
    let (x, y) = xy(lat, lon);
    800.0
        + 120.0 * (2.0 * PI * x / 4_000.0).sin() * (2.0 * PI * y / 5_000.0).cos()
        + 60.0 * (2.0 * PI * (x + y) / 2_600.0 + 1.0).sin()
        + 90.0 * (2.0 * PI * y / 7_000.0).cos()
}

/// A deterministic pseudo-random stream (xorshift), uniform in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly normal (sum of uniforms), σ = 1.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

struct Track {
    name: &'static str,
    /// (lat, lon) at each second.
    pts: Vec<(f64, f64)>,
}

/// A meandering path at `speed` m/s for `secs` seconds from `start`.
fn path(name: &'static str, start: (f64, f64), speed: f64, secs: usize, heading0: f64) -> Track {
    let (mut lat, mut lon) = start;
    let mut pts = Vec::with_capacity(secs);
    for t in 0..secs {
        pts.push((lat, lon));
        let heading = heading0 + 0.9 * (t as f64 / 420.0).sin() + 0.4 * (t as f64 / 97.0).sin();
        let (dx, dy) = (speed * heading.cos(), speed * heading.sin());
        lat += dy / 110_540.0;
        lon += dx / (111_320.0 * (46.5f64).to_radians().cos());
    }
    Track { name, pts }
}

/// Total ascent of the analytic surface along the path, each 1 s segment cut in 20.
fn true_gain(pts: &[(f64, f64)]) -> f64 {
    let mut gain = 0.0;
    let mut prev = terrain(pts[0].0, pts[0].1);
    for w in pts.windows(2) {
        for k in 1..=20 {
            let f = k as f64 / 20.0;
            let h = terrain(w[0].0 + (w[1].0 - w[0].0) * f, w[0].1 + (w[1].1 - w[0].1) * f);
            gain += (h - prev).max(0.0);
            prev = h;
        }
    }
    gain
}

/// GPX with GPS-like altitude: terrain + offset + slow drift + jitter + spikes.
fn gpx(track: &Track, start_unix: i64, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"test\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><name>",
    );
    out += track.name;
    out += "</name><trkseg>\n";
    for (i, &(lat, lon)) in track.pts.iter().enumerate() {
        let t = i as f64;
        let mut ele =
            terrain(lat, lon) + 18.0 + 12.0 * (2.0 * PI * t / 3_000.0).sin() + 2.5 * rng.normal();
        if i % 900 == 450 {
            ele += 60.0; // a one-sample spike
        }
        let ts = time::OffsetDateTime::from_unix_timestamp(start_unix + i as i64)
            .expect("time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        out += &format!(
            "<trkpt lat=\"{lat:.7}\" lon=\"{lon:.7}\"><ele>{ele:.1}</ele><time>{ts}</time></trkpt>\n"
        );
    }
    out += "</trkseg></trk></gpx>\n";
    out
}

/// The 3″ tile N46E013 of the surface, with a small void patch.
fn write_tile(dir: &Path) {
    let bytes = bincio_gen::elevation::dem::encode_hgt(1201, |r, c| {
        if (600..603).contains(&r) && (900..904).contains(&c) {
            return f64::NAN;
        }
        terrain(LAT0 + 1.0 - r as f64 / 1200.0, LON0 + c as f64 / 1200.0)
    });
    std::fs::write(dir.join("N46E013.hgt"), bytes).expect("write tile");
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bincio-gen"))
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(bin()).args(args).output().expect("run bincio-gen");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// `bincio-gen extract` of `inputs` into `data` for `handle`, with extra arguments; it must
/// succeed.
fn extract(inputs: &Path, data: &Path, handle: &str, extra: &[&str]) {
    let mut args = vec![
        "extract",
        "--input",
        inputs.to_str().expect("utf8"),
        "--output",
        data.to_str().expect("utf8"),
        "--handle",
        handle,
    ];
    args.extend_from_slice(extra);
    let (code, out) = run(&args);
    assert_eq!(code, 0, "{out}");
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("json")
}

/// Activity ids of a user's `index.json`, with the detail of each.
fn details(user: &Path) -> Vec<serde_json::Value> {
    let idx = json(&user.join("index.json"));
    let ids: Vec<String> = idx["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    ids.iter().map(|id| json(&user.join("activities").join(format!("{id}.json")))).collect()
}

fn median_abs_diff_from_terrain(ts: &serde_json::Value) -> f64 {
    let lat = ts["lat"].as_array().expect("lat");
    let lon = ts["lon"].as_array().expect("lon");
    let ele = ts["elevation_m"].as_array().expect("ele");
    let mut d: Vec<f64> = (0..ele.len())
        .filter_map(|i| {
            Some((ele[i].as_f64()? - terrain(lat[i].as_f64()?, lon[i].as_f64()?)).abs())
        })
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| {
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read"))
        })
        .collect();
    v.sort();
    v
}

/// Writes each track as a GPX file in `inputs` (one day apart, noise seeds from `seed0`) and
/// returns each one's true gain from the analytic surface, by title.
fn write_tracks(
    inputs: &Path,
    tracks: &[Track],
    seed0: u64,
) -> std::collections::BTreeMap<&'static str, f64> {
    std::fs::create_dir_all(inputs).expect("mkdir");
    let mut truth = std::collections::BTreeMap::new();
    for (k, t) in tracks.iter().enumerate() {
        let start = 1_717_225_200 + k as i64 * 86_400;
        std::fs::write(inputs.join(format!("{}.gpx", t.name)), gpx(t, start, seed0 + k as u64))
            .expect("write gpx");
        truth.insert(t.name, true_gain(&t.pts));
    }
    truth
}

/// `bincio-gen elevation --dem tiles` for all of dave's activities; it must succeed. Returns
/// its output.
fn dem_elevation(data: &Path, tiles: &Path) -> String {
    let (code, out) = run(&[
        "elevation",
        "--data-dir",
        data.to_str().expect("utf8"),
        "--handle",
        "dave",
        "--dem",
        tiles.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{out}");
    out
}

/// Each of `user`'s activities against the ground truth: a report line per activity (gain
/// against the true gain, median altitude difference from the terrain, `source` naming the
/// model) and the titles outside 1.5 % or 3 m.
fn ground_truth_report(
    user: &Path,
    truth: &std::collections::BTreeMap<&'static str, f64>,
    source: &str,
) -> (String, Vec<String>) {
    let mut report = String::new();
    let mut bad = Vec::new();
    for d in details(user) {
        let title = d["title"].as_str().expect("title");
        let t = truth[title];
        let gain = d["elevation_gain_m"].as_f64().expect("gain");
        let id = d["id"].as_str().expect("id");
        let ts = json(&user.join("activities").join(format!("{id}.timeseries.json")));
        let mad = median_abs_diff_from_terrain(&ts);
        let err = (gain - t) / t * 100.0;
        report += &format!(
            "{title}: truth {t:.1} m, {source} {gain:.1} m ({err:+.2} %), median |Δalt| {mad:.2} m\n"
        );
        if err.abs() > 1.5 || mad > 3.0 {
            bad.push(title.to_owned());
        }
    }
    (report, bad)
}

#[test]
fn terrain_model_elevation_matches_the_ground_truth() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tiles = tmp.path().join("srtm");
    std::fs::create_dir_all(&tiles).expect("mkdir");
    write_tile(&tiles);
    let inputs = tmp.path().join("in");
    let tracks = [
        path("Ride", (46.30, 13.20), 8.5, 4_000, 0.3),
        path("Hike", (46.60, 13.55), 1.3, 6_000, 2.0),
        path("Gravel", (46.45, 13.40), 5.0, 3_000, -1.0),
    ];
    let truth = write_tracks(&inputs, &tracks, 7);
    let data = tmp.path().join("data");
    let data_s = data.to_str().expect("utf8");
    extract(&inputs, &data, "dave", &[]);
    let user = data.join("dave");
    let acts = user.join("activities");
    let before = file_bytes(&acts);
    let index_before = std::fs::read(user.join("index.json")).expect("index");

    // Without a terrain model nothing changes.
    let (code, out) = run(&["elevation", "--data-dir", data_s, "--handle", "dave"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no terrain model is configured"), "{out}");
    assert_eq!(file_bytes(&acts), before);

    dem_elevation(&data, &tiles);
    let (report, bad) = ground_truth_report(&user, &truth, "terrain model");
    for d in details(&user) {
        // The sidecar remembers the choice.
        let sc = std::fs::read_to_string(
            user.join("edits").join(format!("{}.md", d["id"].as_str().expect("id"))),
        )
        .expect("sidecar");
        assert!(sc.contains("elevation: dem"), "{sc}");
    }
    eprintln!("{report}");
    assert!(bad.is_empty(), "outside 1.5 % / 3 m: {bad:?}\n{report}");
    // The listing and the athlete file follow.
    let idx = json(&user.join("index.json"));
    for s in idx["activities"].as_array().expect("activities") {
        let d = json(&acts.join(format!("{}.json", s["id"].as_str().expect("id"))));
        assert_eq!(s["elevation_gain_m"], d["elevation_gain_m"]);
    }

    // Smoothing for one activity, then back to the device for all: byte for byte.
    let ride = details(&user).into_iter().find(|d| d["title"] == "Ride").expect("ride");
    let ride_id = ride["id"].as_str().expect("id").to_owned();
    let (code, out) = run(&[
        "elevation",
        "--data-dir",
        data_s,
        "--handle",
        "dave",
        "--method",
        "hysteresis",
        "--id",
        &ride_id,
    ]);
    assert_eq!(code, 0, "{out}");
    let smoothed =
        json(&acts.join(format!("{ride_id}.json")))["elevation_gain_m"].as_f64().expect("gain");
    let device = before
        .iter()
        .find(|(n, _)| *n == format!("{ride_id}.json"))
        .map(|(_, b)| serde_json::from_slice::<serde_json::Value>(b).expect("json"))
        .expect("device detail")["elevation_gain_m"]
        .as_f64()
        .expect("gain");
    // No device totals in a GPX: smoothing is today's computation on the published
    // samples (altitude rounded to 0.1 m), so the same figure within rounding.
    assert!((smoothed - device).abs() <= device * 0.002, "{smoothed} vs {device}");
    let (code, out) = run(&["elevation", "--data-dir", data_s, "--handle", "dave", "--restore"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(file_bytes(&acts), before, "restore returns the extracted files");
    assert!(!user.join("elevation").join(format!("{ride_id}.json")).exists());
    let idx_after: serde_json::Value = json(&user.join("index.json"));
    let idx_before: serde_json::Value = serde_json::from_slice(&index_before).expect("json");
    assert_eq!(idx_after["activities"], idx_before["activities"]);

    // At import: extract --dem gives the terrain figures straight away.
    extract(&inputs, &data, "erin", &["--dem", tiles.to_str().expect("utf8")]);
    for d in details(&data.join("erin")) {
        let t = truth[d["title"].as_str().expect("title")];
        let gain = d["elevation_gain_m"].as_f64().expect("gain");
        assert!(((gain - t) / t).abs() <= 0.015, "{}: {gain} vs {t}", d["title"]);
    }
}

#[test]
fn a_track_leaving_the_tiles_keeps_its_recorded_altitude_without_a_step() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tiles = tmp.path().join("srtm");
    std::fs::create_dir_all(&tiles).expect("mkdir");
    write_tile(&tiles);
    let inputs = tmp.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    // Eastwards from 13.93° E at 8 m/s: leaves N46E013 for N46E014 (absent) after ~5 km.
    let t = path("East", (46.40, 13.93), 8.0, 1_800, 0.0);
    std::fs::write(inputs.join("east.gpx"), gpx(&t, 1_717_225_200, 99)).expect("write");
    let data = tmp.path().join("data");
    extract(&inputs, &data, "dave", &[]);
    let out = dem_elevation(&data, &tiles);
    assert!(
        out.contains("have no terrain data") && out.contains("recorded altitude is kept"),
        "{out}"
    );
    let d = &details(&data.join("dave"))[0];
    let ts = json(
        &data
            .join("dave/activities")
            .join(format!("{}.timeseries.json", d["id"].as_str().expect("id"))),
    );
    let ele: Vec<f64> =
        ts["elevation_m"].as_array().expect("ele").iter().filter_map(|v| v.as_f64()).collect();
    let lon: Vec<f64> =
        ts["lon"].as_array().expect("lon").iter().filter_map(|v| v.as_f64()).collect();
    // Where the tile ends, the published altitude continues without a step.
    let border = lon.iter().position(|l| *l >= 14.0).expect("the track leaves the tile");
    assert!((ele[border] - ele[border - 1]).abs() < 5.0, "{} → {}", ele[border - 1], ele[border]);
    // And the gain stays plausible: within 5 % of the terrain's.
    let truth = true_gain(&t.pts);
    let gain = d["elevation_gain_m"].as_f64().expect("gain");
    assert!(((gain - truth) / truth).abs() < 0.05, "{gain} vs {truth}");
}

/// The queued job as the daemon writes it (sidecar first, then the request).
fn queue_elevation(data: &Path, job: &str, id: &str, sidecar: &str) {
    let edits = data.join("dave/edits");
    std::fs::create_dir_all(&edits).expect("mkdir");
    std::fs::write(edits.join(format!("{id}.md")), sidecar).expect("sidecar");
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).expect("mkdir");
    let req = serde_json::json!({"job_id": job, "handle": "dave", "change": "elevation",
        "created_at": "2026-04-07T10:00:00+00:00", "activity_id": id});
    std::fs::write(q.join(format!("{job}.json")), req.to_string()).expect("request");
}

/// The "Elevation gain" figure of the activity page, in whole metres
/// (`<dt>Elevation gain</dt><dd …>1234 m</dd>`).
fn page_gain(site: &Path, id: &str) -> String {
    let html = std::fs::read_to_string(site.join("activity").join(id).join("index.html"))
        .expect("activity page");
    let at = html.find("<dt>Elevation gain</dt>").expect("elevation panel");
    let rest = &html[at..];
    let open = rest.find("<dd").expect("value");
    let start = open + rest[open..].find('>').expect("dd") + 1;
    let end = rest.find("</dd>").expect("end of value");
    rest[start..end].chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn the_watcher_job_uses_the_instance_setting_and_updates_the_page_then_restores() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tiles = tmp.path().join("srtm");
    std::fs::create_dir_all(&tiles).expect("mkdir");
    write_tile(&tiles);
    let inputs = tmp.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    let t = path("Ride", (46.30, 13.20), 8.5, 2_000, 0.3);
    std::fs::write(inputs.join("ride.gpx"), gpx(&t, 1_717_225_200, 3)).expect("write");
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    let data_s = data.to_str().expect("utf8");
    extract(&inputs, &data, "dave", &[]);
    let id = details(&data.join("dave"))[0]["id"].as_str().expect("id").to_owned();
    let watch = |job: &str| -> serde_json::Value {
        let (code, out) =
            run(&["watch", "--once", "--data-dir", data_s, "--out", site.to_str().expect("utf8")]);
        assert_eq!(code, 0, "{out}");
        json(&data.join("_queue/status").join(format!("{job}.json")))
    };
    // Render once; the device's gain is on the page.
    let (code, out) = run(&["render", "--data-dir", data_s, "--out", site.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}");
    let device = page_gain(&site, &id);

    // No terrain model configured: the job fails cleanly and the page keeps its figure.
    queue_elevation(&data, "j1", &id, "---\nelevation: dem\n---\n");
    let st = watch("j1");
    assert!(st["message"].as_str().expect("msg").contains("no terrain model"), "{st}");
    assert_eq!(st["failures"].as_array().map(Vec::len), Some(1), "{st}");
    assert_eq!(page_gain(&site, &id), device);

    // The admin sets dem_dir; the job recalculates and the page shows the terrain's gain.
    std::fs::write(
        data.join("bincio.toml"),
        format!("dem_dir = {:?}\n", tiles.to_str().expect("utf8")),
    )
    .expect("config");
    queue_elevation(&data, "j2", &id, "---\nelevation: dem\n---\n");
    let st = watch("j2");
    assert_eq!(st["state"], "done", "{st}");
    assert!(st["message"].as_str().expect("msg").contains("terrain model"), "{st}");
    let truth = true_gain(&t.pts);
    let shown: f64 = page_gain(&site, &id).parse().expect("number");
    assert!(((shown - truth) / truth).abs() <= 0.015, "page {shown} vs truth {truth}");
    assert_ne!(page_gain(&site, &id), device);

    // Restore: the sidecar without a choice, the device's figure is back on the page.
    queue_elevation(&data, "j3", &id, "---\n---\n");
    let st = watch("j3");
    assert!(st["message"].as_str().expect("msg").contains("restored"), "{st}");
    assert_eq!(page_gain(&site, &id), device);
}

/// The same ground truth from a Copernicus GeoTIFF tile instead of SRTM: a GLO-90 tile
/// (1200² float32 samples, pixel centres on the north and west edges, DEFLATE with the
/// floating-point predictor), inside a folder of its own name as the public bucket lays it
/// out. Every gain within 1.5 % of the surface's own, the altitude within 3 m (median).
#[test]
fn copernicus_geotiff_tiles_match_the_ground_truth() {
    use bincio_gen::elevation::geotiff::{encode_geotiff, tile_names};
    let tmp = tempfile::tempdir().expect("tempdir");
    let name = &tile_names((46, 13))[1];
    assert_eq!(name, "Copernicus_DSM_COG_30_N46_00_E013_00_DEM");
    let tiles = tmp.path().join("copernicus");
    std::fs::create_dir_all(tiles.join(name)).expect("mkdir");
    let bytes = encode_geotiff(1200, 1200, (LAT0 + 1.0, LON0), (1200.0, 1200.0), |r, c| {
        terrain(LAT0 + 1.0 - r as f64 / 1200.0, LON0 + c as f64 / 1200.0) as f32
    });
    std::fs::write(tiles.join(name).join(format!("{name}.tif")), bytes).expect("write tile");
    let inputs = tmp.path().join("in");
    let tracks = [
        path("Ride", (46.30, 13.20), 8.5, 4_000, 0.3),
        path("Hike", (46.60, 13.55), 1.3, 6_000, 2.0),
    ];
    let truth = write_tracks(&inputs, &tracks, 11);
    let data = tmp.path().join("data");
    extract(&inputs, &data, "dave", &[]);
    dem_elevation(&data, &tiles);
    let user = data.join("dave");
    let (report, bad) = ground_truth_report(&user, &truth, "Copernicus");
    eprintln!("{report}");
    assert_eq!(report.lines().count(), 2, "{report}");
    assert!(bad.is_empty(), "outside 1.5 % / 3 m: {bad:?}\n{report}");
}
