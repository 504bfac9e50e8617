//! The elevation flow through the daemon and the real watcher: the admin's setting, the edit
//! dialog's request, the queued job, the published page, and back to the device's altitude.
//! Needs the built `bincio-gen` (skipped with a message when missing, unless `CI=true`).

use crate::util::{T, skip_or_fail};
use std::path::Path;
use std::process::Command;

/// A 3″ tile N46E013 whose height rises 0.5 m per row southwards and waves east-west.
fn write_tile(dir: &Path) {
    let mut bytes = Vec::with_capacity(1201 * 1201 * 2);
    for r in 0..1201 {
        for c in 0..1201 {
            let h = 600.0 + r as f64 * 0.5 + 80.0 * (c as f64 / 40.0).sin();
            bytes.extend_from_slice(&(h.round() as i16).to_be_bytes());
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("N46E013.hgt"), bytes).unwrap();
}

/// An eastbound 1 Hz ride whose recorded altitude is a flat 200 m with a slow wobble.
fn gpx() -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>",
    );
    for i in 0..1500 {
        let lon = 13.2 + i as f64 * 0.0001;
        let ele = 200.0 + 3.0 * (i as f64 / 200.0).sin();
        let ts = time::OffsetDateTime::from_unix_timestamp(1_717_225_200 + i).unwrap();
        let ts = ts.format(&time::format_description::well_known::Rfc3339).unwrap();
        s += &format!(
            "<trkpt lat=\"46.5\" lon=\"{lon:.6}\"><ele>{ele:.1}</ele><time>{ts}</time></trkpt>"
        );
    }
    s + "</trkseg></trk></gpx>"
}

fn gain_on_page(site: &Path, id: &str) -> String {
    let html = std::fs::read_to_string(site.join("activity").join(id).join("index.html")).unwrap();
    // `<dt>Elevation gain</dt><dd …>1234 m</dd>`
    let at = html.find("<dt>Elevation gain</dt>").expect("elevation panel");
    let rest = &html[at..];
    let open = rest.find("<dd").unwrap();
    let start = open + rest[open..].find('>').unwrap() + 1;
    let end = rest.find("</dd>").unwrap();
    rest[start..end].chars().filter(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn settings_button_job_page_and_restore() {
    let gen_bin = Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() {
        return skip_or_fail("build bincio-gen first (cargo build --workspace --bins)");
    }
    let t = T::new();
    let bob = t.user("bob").await;
    let tmp = tempfile::tempdir().unwrap();
    let (tiles, input, site) =
        (tmp.path().join("srtm"), tmp.path().join("ride.gpx"), tmp.path().join("site"));
    write_tile(&tiles);
    std::fs::write(&input, gpx()).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(&gen_bin).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let root = t.root().to_str().unwrap().to_owned();
    run(&["extract", "--input", input.to_str().unwrap(), "--output", &root, "--handle", "bob"]);
    run(&["render", "--data-dir", &root, "--out", site.to_str().unwrap()]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.root().join("bob/index.json")).unwrap()).unwrap();
    let id = index["activities"][0]["id"].as_str().unwrap().to_owned();
    let device = gain_on_page(&site, &id);
    let watch = |job: &str| -> serde_json::Value {
        run(&["watch", "--once", "--data-dir", &root, "--out", site.to_str().unwrap()]);
        let p = t.root().join("_queue/status").join(format!("{job}.json"));
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };

    // The admin's setting turns the terrain model on for members.
    t.set_setting("dem_dir", tiles.to_str().unwrap());
    let me = t.call("GET", "/api/me", Some(&bob), None).await;
    assert_eq!(me.json["dem_configured"], true);
    // The edit dialog's "Recalculate elevation: terrain model".
    let r = t
        .call("POST", &format!("/api/activity/{id}/recalculate-elevation/dem"), Some(&bob), None)
        .await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let st = watch(r.json["job_id"].as_str().unwrap());
    assert_eq!(st["state"], "done", "{st}");
    assert!(st["message"].as_str().unwrap().contains("terrain model"), "{st}");
    let terrain = gain_on_page(&site, &id);
    // The recorded ride is nearly flat; on the terrain it climbs from column 240 to the
    // crest of the wave at column 314: 80 × (1 − sin 6) = 102.4 m.
    let climbed = terrain.parse::<f64>().unwrap();
    assert!((climbed - 102.4).abs() <= 2.0, "{device} → {terrain}");
    assert_ne!(terrain, device);
    let g = t.call("GET", &format!("/api/activity/{id}"), Some(&bob), None).await;
    assert_eq!(g.json["elevation"], "dem");

    // Back to the device's altitude.
    let r = t
        .call(
            "POST",
            &format!("/api/activity/{id}/recalculate-elevation/restore"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    let st = watch(r.json["job_id"].as_str().unwrap());
    assert!(st["message"].as_str().unwrap().contains("restored"), "{st}");
    assert_eq!(gain_on_page(&site, &id), device);
}
