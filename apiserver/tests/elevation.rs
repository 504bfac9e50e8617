//! The elevation flow through the daemon and the real watcher: the admin's setting, the edit
//! dialog's request, the queued job, the published page, and back to the device's altitude.
//! Twice: with the daemon in-process and `bincio-gen watch --once` (fast, no browser), and as
//! a member lives it, in headless Chromium through the shipped nginx config with the real
//! `bincio-api serve` and `bincio-gen watch` ([`in_chromium`]).
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

/// The daemon flow as a member and an admin live it, in headless Chromium through the
/// shipped nginx config, with the real `bincio-api serve` and `bincio-gen watch`: the
/// edit dialog offers no terrain model until the admin sets `dem_dir` (with
/// `bincio-api settings set`, as `docs/admin.md` says), the member uploads a ride, picks
/// "terrain model" in the edit dialog and clicks "Recalculate elevation"; the dialog follows
/// the job and the reloaded page shows the terrain gain (checked against the analytic
/// surface, not the tile) and what the job did; "the device, as recorded" brings the
/// device's figure back. Skipped with a message when a tool is missing, unless `CI=true`.
mod in_chromium {
    use crate::browser_e2e::{
        browser, click_visible, console_errors, log_in, open_edit_dialog, shot, start_stack, tools,
        until,
    };
    use crate::nginx::init_instance;
    use crate::util::skip_or_fail;
    use fantoccini::{Client, Locator};
    use serde_json::json;
    use std::f64::consts::PI;
    use std::path::Path;
    use std::process::Command;

    /// Metres east and north of N46E013's south-west corner (a local flat projection).
    fn xy(lat: f64, lon: f64) -> (f64, f64) {
        ((lon - 13.0) * 111_320.0 * 46.5f64.to_radians().cos(), (lat - 46.0) * 110_540.0)
    }

    /// The analytic terrain: hills of 100–300 m over 1.3–5 km.
    fn terrain(lat: f64, lon: f64) -> f64 {
        let (x, y) = xy(lat, lon);
        650.0
            + 110.0 * (2.0 * PI * x / 3_200.0).sin()
            + 45.0 * (2.0 * PI * x / 1_300.0 + 0.8).sin()
            + 30.0 * (2.0 * PI * y / 5_000.0).cos()
    }

    /// The ride: 2400 s eastwards at ~7.7 m/s with a slow north-south weave.
    fn ride() -> Vec<(f64, f64)> {
        (0..2400)
            .map(|i| {
                let t = f64::from(i);
                (46.5 + 0.004 * (t / 300.0).sin(), 13.2 + t * 0.0001)
            })
            .collect()
    }

    /// Total ascent of the surface along the path, each 1 s segment cut in 20.
    fn true_gain(pts: &[(f64, f64)]) -> f64 {
        let mut gain = 0.0;
        let mut prev = terrain(pts[0].0, pts[0].1);
        for w in pts.windows(2) {
            for k in 1..=20 {
                let f = f64::from(k) / 20.0;
                let h = terrain(w[0].0 + (w[1].0 - w[0].0) * f, w[0].1 + (w[1].1 - w[0].1) * f);
                gain += (h - prev).max(0.0);
                prev = h;
            }
        }
        gain
    }

    /// The GPX a phone without a barometer records: the altitude is a flat 200 m with a
    /// slow wobble, nothing like the terrain.
    fn gpx(pts: &[(f64, f64)]) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><name>Hills</name><trkseg>",
        );
        for (i, (lat, lon)) in pts.iter().enumerate() {
            let ele = 200.0 + 3.0 * (i as f64 / 200.0).sin();
            let ts = time::OffsetDateTime::from_unix_timestamp(1_717_225_200 + i as i64).unwrap();
            let ts = ts.format(&time::format_description::well_known::Rfc3339).unwrap();
            s += &format!(
                "<trkpt lat=\"{lat:.7}\" lon=\"{lon:.7}\"><ele>{ele:.1}</ele><time>{ts}</time></trkpt>"
            );
        }
        s + "</trkseg></trk></gpx>"
    }

    /// The 3″ SRTM tile N46E013 of the surface.
    fn write_tile(dir: &Path) {
        let bytes = bincio_gen::elevation::dem::encode_hgt(1201, |r, c| {
            terrain(47.0 - r as f64 / 1200.0, 13.0 + c as f64 / 1200.0)
        });
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("N46E013.hgt"), bytes).unwrap();
    }

    /// The "Elevation gain" figure of the activity page in the browser, digits only.
    async fn gain_on_page(c: &Client) -> Option<String> {
        let v = c
            .execute(
                "var dt = Array.prototype.find.call(document.querySelectorAll('dt'), \
                   function (d) { return d.textContent.trim() === 'Elevation gain'; }); \
                 return dt ? dt.nextElementSibling.textContent : null;",
                vec![],
            )
            .await
            .ok()?;
        let digits: String = v.as_str()?.chars().filter(char::is_ascii_digit).collect();
        (!digits.is_empty()).then_some(digits)
    }

    /// `[hidden, disabled]` of the dialog's "terrain model" choice.
    async fn dem_choice_state(c: &Client) -> (bool, bool) {
        let v = c
            .execute(
                "var o = document.querySelector('#edit-dialog option[value=dem]'); \
                 return [o.hidden, o.disabled];",
                vec![],
            )
            .await
            .unwrap();
        (v[0].as_bool().unwrap(), v[1].as_bool().unwrap())
    }

    /// Opens the edit dialog, waits for the elevation form's prefill to show `current`,
    /// picks `choice` and clicks "Recalculate elevation"; gives the job's notice on the
    /// reloaded page.
    async fn recalculate(c: &Client, base: &str, id: &str, current: &str, choice: &str) -> String {
        open_edit_dialog(c, base, id).await;
        let form = "#edit-dialog form[data-api-template]";
        until(&format!("the elevation choice prefilled as {current}"), || async {
            let v = c
                .execute(
                    "return document.querySelector('#edit-dialog select[name=elevation]').value;",
                    vec![],
                )
                .await
                .ok()?;
            (v.as_str()? == current).then_some(())
        })
        .await;
        c.find(Locator::Css(&format!("{form} option[value={choice}]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Css(&format!("{form} button[type=submit]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The dialog follows the job, then reloads the page with what the job did on top.
        // One script for both reads, and no unwrap: the page may reload while it runs.
        until("the job's notice on the reloaded page", || async {
            let v = c
                .execute(
                    "var n = document.querySelector('[data-job-notice]'); \
                     var s = document.querySelector(arguments[0] + ' .form-status.error'); \
                     return [n && n.textContent, s && s.textContent];",
                    vec![json!(form)],
                )
                .await
                .ok()?;
            assert!(v[1].is_null(), "recalculation refused: {}", v[1]);
            v[0].as_str().map(str::to_owned)
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn settings_button_job_page_and_restore_in_chromium() {
        let (chromium, driver_bin, nginx, gen_bin) = match tools() {
            Ok(t) => t,
            Err(why) => return skip_or_fail(&why),
        };
        let tmp = tempfile::tempdir().unwrap();
        let (data, site, tiles) =
            (tmp.path().join("data"), tmp.path().join("site"), tmp.path().join("srtm"));
        std::fs::create_dir_all(&site).unwrap();
        init_instance(&data);
        write_tile(&tiles);
        let pts = ride();
        let input = tmp.path().join("hills.gpx");
        std::fs::write(&input, gpx(&pts)).unwrap();
        let truth = true_gain(&pts);

        let stack = start_stack(
            (&driver_bin, &nginx, &gen_bin),
            tmp.path(),
            (&data, &site),
            &[],
            &["login/index.html"],
        )
        .await;
        let (base, driver) = (stack.base.clone(), &stack.driver);
        let c = browser(driver, &chromium, &tmp.path().join("profile-dave")).await;
        log_in(&c, &base, "dave").await;

        // The member uploads the ride from the upload dialog.
        click_visible(&c, "[data-open-dialog='upload-dialog']").await;
        let file = c.find(Locator::Css("#upload-dialog input[type=file]")).await.unwrap();
        file.send_keys(&input.display().to_string()).await.unwrap();
        c.find(Locator::Css("#upload-dialog button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let id: String = until("the ride on the feed", || async {
            let v = c
                .execute(
                    "return fetch('/data/feed.json', {cache: 'no-store'}).then(r => r.ok ? r.json() : null);",
                    vec![],
                )
                .await
                .ok()?;
            v["activities"][0]["id"].as_str().map(str::to_owned)
        })
        .await;
        let page = format!("{base}/activity/{id}/");
        let device = until("the activity page", || async {
            c.goto(&page).await.ok()?;
            gain_on_page(&c).await
        })
        .await;

        // No terrain model yet: the dialog does not offer it.
        open_edit_dialog(&c, &base, &id).await;
        assert_eq!(dem_choice_state(&c).await, (true, true), "terrain model offered unset");

        // The admin sets the tile folder; the running daemon reads the file again.
        let out = Command::new(env!("CARGO_BIN_EXE_bincio-api"))
            .args(["settings", "set", "dem_dir", tiles.to_str().unwrap(), "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        c.goto(&page).await.unwrap();
        open_edit_dialog(&c, &base, &id).await;
        assert_eq!(dem_choice_state(&c).await, (false, false), "terrain model not offered");

        // Terrain model: the page shows the climbing of the surface the ride crossed.
        let notice = recalculate(&c, &base, &id, "device", "dem").await;
        let terrain_gain = until("the terrain gain on the page", || async {
            gain_on_page(&c).await.filter(|g| *g != device)
        })
        .await;
        let got: f64 = terrain_gain.parse().unwrap();
        assert!(
            (got - truth).abs() <= 0.015 * truth + 1.0,
            "page {got} m, terrain {truth:.1} m (device {device} m)"
        );
        assert!(
            notice.starts_with("Elevation recalculated (terrain model)")
                && notice.contains(&format!("{terrain_gain} m gain")),
            "{notice}"
        );
        shot(&c, "elevation-terrain-model.png").await;

        // Back to the device's altitude: the same figure as before.
        let notice = recalculate(&c, &base, &id, "dem", "device").await;
        assert!(notice.contains("restored to the device's altitude"), "{notice}");
        assert_eq!(gain_on_page(&c).await.as_deref(), Some(device.as_str()));

        let errors: Vec<String> = console_errors(driver, &c)
            .await
            .into_iter()
            .filter(|m| !(m.contains("/api/me - Failed to load resource") && m.contains("40")))
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:?}");
    }
}
