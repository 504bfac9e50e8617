//! Strava sync against the stand-in server (`tests/support/strava_standin.rs`): connect,
//! repeated `sync --max-wait 0` through rate limits, expiring and rotating tokens, figures
//! equal to Strava's, idempotence; and the bulk export ZIP by the CLI.

#[path = "support/strava_standin.rs"]
mod standin;

#[path = "support/strava_export.rs"]
mod strava_export;

use serde_json::Value;
use standin::StandIn;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run bincio-gen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn strava(s: &StandIn, root: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = bin();
    c.arg("strava").args(args).args([
        "--data-dir",
        root.to_str().expect("utf8"),
        "--handle",
        "dave",
    ]);
    c.env("BINCIO_STRAVA_URL", s.url())
        .env_remove("STRAVA_CLIENT_ID")
        .env_remove("STRAVA_CLIENT_SECRET");
    c.arg("--quiet");
    run(&mut c)
}

fn write_credentials(user: &Path) {
    std::fs::create_dir_all(user).expect("mkdir");
    std::fs::write(
        user.join("strava_credentials.json"),
        format!(
            r#"{{"client_id":"{}","client_secret":"{}"}}"#,
            standin::CLIENT_ID,
            standin::CLIENT_SECRET
        ),
    )
    .expect("credentials");
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every detail in the store, by Strava id.
fn details_by_strava_id(user: &Path) -> HashMap<i64, Vec<Value>> {
    let mut out: HashMap<i64, Vec<Value>> = HashMap::new();
    for e in std::fs::read_dir(user.join("activities")).expect("activities") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        if !name.ends_with(".json") || name.ends_with(".timeseries.json") {
            continue;
        }
        let d = read_json(&p);
        let id: i64 = d["strava_id"].as_str().and_then(|s| s.parse().ok()).expect("strava_id");
        out.entry(id).or_default().push(d);
    }
    out
}

fn expected_sport(kind: &str) -> (&'static str, Option<&'static str>) {
    match kind {
        "Ride" => ("cycling", Some("road")),
        "MountainBikeRide" => ("cycling", Some("mountain")),
        "GravelRide" => ("cycling", Some("gravel")),
        "EBikeRide" => ("cycling", None),
        "VirtualRide" => ("cycling", Some("indoor")),
        "Run" => ("running", None),
        "TrailRun" => ("running", Some("trail")),
        "VirtualRun" => ("running", Some("indoor")),
        "Swim" => ("swimming", None),
        "Hike" => ("hiking", None),
        "Walk" => ("walking", None),
        "AlpineSki" | "Snowboard" => ("skiing", Some("alpine")),
        "NordicSki" | "BackcountrySki" => ("skiing", Some("nordic")),
        _ => ("other", None),
    }
}

fn mtimes(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut v: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| {
            !p.to_string_lossy().contains("strava_token")
                && !p.to_string_lossy().contains(".strava.lock")
        })
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::metadata(&p).and_then(|m| m.modified()).expect("mtime"),
            )
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn sync_resumes_through_rate_limits_and_matches_strava_figures() {
    let s = StandIn::start(standin::generate(230));
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    let user = root.join("dave");
    write_credentials(&user);

    // Connect with a pasted code; the token is a private file.
    let (code, out, err) = strava(&s, root, &["connect", "--code", standin::CODE]);
    assert_eq!(code, 0, "{out}{err}");
    let token_path = user.join("strava_token.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path).expect("token").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // An access token Strava no longer honours (revoked, or expired early): the first call
    // answers 401, the sync refreshes once and carries on.
    let mut tok = read_json(&token_path);
    tok["access_token"] = "stale".into();
    std::fs::write(&token_path, tok.to_string()).expect("tamper");

    let mut codes = Vec::new();
    let mut total_busy = 0.0;
    let mut total_imported = 0usize;
    let mut retried_inside_window = false;
    for _ in 0..20 {
        let (code, out, err) = strava(&s, root, &["sync", "--max-wait", "0"]);
        codes.push(code);
        assert!(code == 0 || code == 75, "exit {code}: {out}{err}");
        let new: usize = out
            .split(": ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect(&out);
        total_imported += new;
        if let Some(busy) = out
            .split("s of work")
            .next()
            .and_then(|x| x.rsplit("; ").next())
            .and_then(|x| x.trim().parse::<f64>().ok())
        {
            total_busy += busy;
        }
        if code == 0 {
            break;
        }
        assert!(out.contains("Run the same command after"), "{out}");
        if !retried_inside_window {
            // A retry inside the same window is refused again and imports nothing.
            retried_inside_window = true;
            let before = s.stats().rate_limited;
            let (c2, o2, e2) = strava(&s, root, &["sync", "--max-wait", "0"]);
            assert_eq!(c2, 75, "{o2}{e2}");
            assert!(o2.contains(": 0 new"), "{o2}");
            assert!(s.stats().rate_limited > before);
        }
        s.open_window();
    }
    assert_eq!(codes.last(), Some(&0), "{codes:?}");
    let pauses = codes.iter().filter(|c| **c == 75).count();
    // 220-odd stream calls at 70 per window: three pauses, then done.
    assert_eq!(pauses, 3, "{codes:?}");
    let stats = s.stats();
    assert!(stats.refreshes >= 1, "{stats:?}");
    assert_eq!(stats.refused_refreshes, 0, "{stats:?}");
    assert!(stats.unauthorized >= 1, "the stale token was tried: {stats:?}");
    assert_eq!(
        read_json(&token_path)["refresh_token"].as_str(),
        Some(s.current_refresh_token().as_str())
    );

    // Every activity once, with Strava's figures.
    let by_id = details_by_strava_id(&user);
    let generated = s.activities();
    assert_eq!(by_id.len(), generated.len());
    assert_eq!(total_imported, generated.len());
    let index = read_json(&user.join("index.json"));
    let listed: Vec<&str> = index["activities"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(listed.len(), generated.len());
    let (mut private, mut virtual_, mut manual) = (0, 0, 0);
    for g in &generated {
        let sm = &g.summary;
        let id = sm["id"].as_i64().expect("id");
        let ds = &by_id[&id];
        assert_eq!(ds.len(), 1, "{id} stored once");
        let d = &ds[0];
        let want = sm["distance"].as_f64().expect("distance");
        let got = d["distance_m"].as_f64().expect("distance_m");
        assert!((got - want).abs() <= want * 0.01, "{id}: {got} vs {want}");
        assert_eq!(d["duration_s"].as_f64(), sm["elapsed_time"].as_f64(), "{id}");
        assert_eq!(d["moving_time_s"].as_f64(), sm["moving_time"].as_f64(), "{id}");
        assert_eq!(d["title"], sm["name"], "{id}");
        let kind = sm["sport_type"].as_str().expect("kind");
        let (sport, sub) = expected_sport(kind);
        let trainer = sm["trainer"].as_bool() == Some(true);
        assert_eq!(d["sport"].as_str(), Some(sport), "{id} {kind}");
        let sub = if trainer { Some("indoor") } else { sub };
        assert_eq!(d["sub_sport"].as_str(), sub, "{id} {kind}");
        // The local offset: started_at ends with Strava's utc_offset.
        let off = sm["utc_offset"].as_f64().expect("offset") as i64;
        let sign = if off < 0 { '-' } else { '+' };
        let suffix = format!("{sign}{:02}:{:02}", off.abs() / 3600, off.abs() % 3600 / 60);
        let started = d["started_at"].as_str().expect("started_at");
        assert!(
            started.ends_with(&suffix) || (off == 0 && started.ends_with('Z')),
            "{id}: {started} vs {suffix}"
        );
        assert_eq!(
            d["avg_hr_bpm"].as_f64(),
            sm["average_heartrate"].as_f64().map(f64::round),
            "{id}"
        );
        let power = if sm["device_watts"].as_bool() == Some(true) {
            sm["average_watts"].as_f64().map(f64::round)
        } else {
            None
        };
        assert_eq!(d["avg_power_w"].as_f64(), power, "{id} power");
        let is_private = sm["private"].as_bool() == Some(true)
            || matches!(sm["visibility"].as_str(), Some("only_me" | "followers_only"));
        if is_private {
            private += 1;
            assert_eq!(d["privacy"].as_str(), Some("unlisted"), "{id}");
        } else {
            assert_eq!(d["privacy"].as_str(), Some("public"), "{id}");
        }
        if kind.starts_with("Virtual") || trainer {
            virtual_ += 1;
            assert!(d["track_url"].is_null(), "{id}: no track indoors");
            assert!(d["start_latlng"].is_null(), "{id}");
        }
        if sm["manual"].as_bool() == Some(true) {
            manual += 1;
            assert!(d["track_url"].is_null() && d["timeseries_url"].is_null(), "{id}");
        } else if !(kind.starts_with("Virtual") || trainer) {
            assert!(d["track_url"].is_string(), "{id}: outdoor activities have a track");
        }
        if kind.contains("Ride") {
            assert_eq!(d["gear"].as_str(), Some("Grey Steel"), "{id}");
        }
    }
    assert!(private > 20 && virtual_ > 10 && manual >= 5, "{private} {virtual_} {manual}");

    // One more run adds and writes nothing.
    let before = mtimes(&user);
    let (code, out, err) = strava(&s, root, &["sync", "--max-wait", "0"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(": 0 new"), "{out}");
    assert_eq!(mtimes(&user), before);

    eprintln!(
        "THROUGHPUT: {total_imported} activities with streams in {total_busy:.2} s of work = {:.1} activities/s",
        total_imported as f64 / total_busy.max(1e-9)
    );
}

#[test]
fn bulk_export_zip_imports_by_cli_with_csv_metadata_manual_entries_and_photos() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("data");
    let zip = tmp.path().join("export_1234.zip");
    strava_export::write_zip(&zip);
    let mut c = bin();
    c.args(["import", "strava-export", zip.to_str().expect("utf8"), "--data-dir"])
        .arg(&root)
        .args(["--handle", "dave", "--quiet"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 new (1 manual)") && out.contains("2 photos"), "{out}");
    let user = root.join("dave");
    let by_id = details_by_strava_id(&user);
    assert_eq!(by_id.len(), 3);
    let ride = &by_id[&111][0];
    assert_eq!(ride["title"].as_str(), Some("Morning Col"));
    assert_eq!(ride["description"].as_str(), Some("Hot day,\n\"epic\" climb"));
    assert_eq!(ride["gear"].as_str(), Some("Grey Steel"));
    assert_eq!(ride["custom"]["commute"], Value::Bool(true));
    let d = ride["distance_m"].as_f64().expect("distance");
    assert!((d - 10_794.0).abs() < 110.0, "{d}");
    let images = user.join("edits/images").join(ride["id"].as_str().expect("id"));
    assert!(images.join("aaa.jpg").is_file() && images.join("bbb.jpg").is_file());
    let gym = &by_id[&333][0];
    assert_eq!(gym["title"].as_str(), Some("Gym (manual)"));
    assert_eq!(gym["duration_s"].as_i64(), Some(3600));
    assert_eq!(gym["description"].as_str(), Some("Legs day"));
    assert!(gym["started_at"].as_str().expect("start").starts_with("2024-06-03T07:20:00"));
    assert!(gym["track_url"].is_null());
    // Nothing of the staging folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&user)
        .expect("user")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".strava-export-"))
        .collect();
    assert!(leftovers.is_empty());

    // Importing the same export again adds nothing.
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 new (0 manual)"), "{out}");
}

/// An export larger than one import batch (`IMPORT_BATCH` files are extracted at a time) is
/// imported whole, and `_errors.json` still names a broken file of the first batch: each
/// batch's extraction replaces that file, the import then writes all the failures.
#[test]
fn an_export_of_several_batches_reports_every_failure() {
    use std::io::Write;
    let n = bincio_gen::strava::export::IMPORT_BATCH + 6;
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("data");
    let zip = tmp.path().join("export.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip).expect("zip"));
    let o = zip::write::SimpleFileOptions::default();
    let mut csv = String::from("Activity ID,Activity Date,Activity Name,Activity Type,Filename\n");
    for i in 0..n {
        let name = format!("activities/{}.gpx.gz", 5000 + i);
        csv.push_str(&format!(
            "{},\"Jan {}, 2025, 7:00:00 AM\",Ride {i},Ride,{name}\n",
            100 + i,
            1 + i % 28
        ));
        z.start_file(name, o).expect("entry");
        if i == 0 {
            // Sorted first: in the first batch.
            z.write_all(b"\x1f\x8b not really a gzip").expect("entry");
        } else {
            let start = format!("2025-{:02}-{:02}T07:00:00Z", 1 + i / 28, 1 + i % 28);
            z.write_all(&strava_export::gpx_gz(&start, 120, 4.0)).expect("entry");
        }
    }
    z.start_file("activities.csv", o).expect("csv");
    z.write_all(csv.as_bytes()).expect("csv");
    z.finish().expect("zip");
    let (code, out, err) = run(bin()
        .args(["import", "strava-export", zip.to_str().expect("utf8"), "--data-dir"])
        .arg(&root)
        .args(["--handle", "dave", "--quiet"]));
    assert_eq!(code, 1, "one file failed: {out}{err}");
    assert!(out.contains(&format!("{} new (0 manual)", n - 1)), "{out}");
    assert!(out.contains(", 1 failed"), "{out}");
    let errors = read_json(&root.join("dave/_errors.json"));
    let paths: Vec<&str> =
        errors.as_array().expect("list").iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths.len(), 1, "{errors}");
    assert!(paths[0].ends_with("/5000.gpx.gz"), "{errors}");
}

/// The FIT sample of the dedup test: an outdoor ride with GPS.
fn fit_sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples/devices/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit")
}

/// `bincio-gen extract` of one file into the store of `dave`.
fn extract_file(root: &Path, file: &Path) {
    let input = root.with_file_name("in");
    std::fs::create_dir_all(&input).expect("in");
    std::fs::copy(file, input.join("ride.fit")).expect("copy");
    let mut c = bin();
    c.args(["extract", "--handle", "dave", "--input"]).arg(&input).arg("--output").arg(root);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
}

fn render(root: &Path) {
    let mut c = bin();
    c.args(["render", "--data-dir"]).arg(root).arg("--out").arg(root.with_file_name("site"));
    c.arg("--theme").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default"));
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
}

/// Strava's copy of the FIT sample's ride: same start (a minute later, as Strava's upload
/// often is), 1 % longer, its own title; `private` as asked.
fn strava_copy_of_fit(private: bool) -> standin::Generated {
    let mut c = bin();
    c.args(["extract", "--file"]).arg(fit_sample());
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let fit: Value = serde_json::from_str(&out).expect("detail");
    let start = time::OffsetDateTime::parse(
        fit["started_at"].as_str().expect("start"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("start")
        + time::Duration::seconds(60);
    let mut g = standin::generate(1).remove(0);
    let s = &mut g.summary;
    s["id"] = 4_242_001.into();
    s["name"] = "Col from Strava".into();
    s["sport_type"] = "Ride".into();
    s["type"] = "Ride".into();
    s["trainer"] = false.into();
    s["utc_offset"] = 0.0.into();
    s["start_date"] = start
        .to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("fmt")
        .into();
    s["distance"] = (fit["distance_m"].as_f64().expect("distance") * 1.01).into();
    s["private"] = private.into();
    s["visibility"] = if private { "only_me" } else { "everyone" }.into();
    g
}

/// Every detail in the store by ID: (source, duplicate_of).
fn store(user: &Path) -> std::collections::BTreeMap<String, (String, Option<String>)> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(user.join("activities")).expect("activities") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        if !name.ends_with(".json") || name.ends_with(".timeseries.json") {
            continue;
        }
        let d = read_json(&p);
        out.insert(
            d["id"].as_str().expect("id").to_owned(),
            (
                d["source"].as_str().unwrap_or("").to_owned(),
                d["duplicate_of"].as_str().map(str::to_owned),
            ),
        );
    }
    out
}

/// The one activity of the pair that is kept, and the one that is its duplicate.
fn kept_and_duplicate(user: &Path) -> ((String, String), (String, String)) {
    let s = store(user);
    assert_eq!(s.len(), 2, "{s:?}");
    let kept: Vec<_> = s.iter().filter(|(_, (_, d))| d.is_none()).collect();
    let dups: Vec<_> = s.iter().filter(|(_, (_, d))| d.is_some()).collect();
    assert_eq!((kept.len(), dups.len()), (1, 1), "{s:?}");
    assert_eq!(dups[0].1.1.as_deref(), Some(kept[0].0.as_str()), "{s:?}");
    ((kept[0].0.clone(), kept[0].1.0.clone()), (dups[0].0.clone(), dups[0].1.0.clone()))
}

/// The activities the user's published feed lists (every year shard).
fn listed(user: &Path) -> Vec<String> {
    let merged = user.join("_merged");
    let mut ids = Vec::new();
    for shard in read_json(&merged.join("index.json"))["shards"].as_array().expect("shards") {
        let feed = read_json(&merged.join(shard["url"].as_str().expect("url")));
        for a in feed["activities"].as_array().expect("activities") {
            ids.push(a["id"].as_str().expect("id").to_owned());
        }
    }
    ids
}

/// The same ride from Strava and from its FIT file is one activity, in either order: the
/// one imported first keeps its ID and edits, the later copy is its duplicate, and the
/// strictest privacy of the two is published.
#[test]
fn a_ride_synced_from_strava_and_uploaded_as_fit_keeps_the_first_imported_copy() {
    // Strava first (public), edited; then the FIT file, which ranks higher as a recording.
    let s = StandIn::start(vec![strava_copy_of_fit(false)]);
    let tmp = tempfile::tempdir().expect("tmp");
    let root = &tmp.path().join("data");
    let user = root.join("dave");
    write_credentials(&user);
    assert_eq!(strava(&s, root, &["connect", "--code", standin::CODE]).0, 0);
    let (code, out, err) = strava(&s, root, &["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let strava_id = store(&user).into_keys().next().expect("synced");
    std::fs::create_dir_all(user.join("edits")).expect("edits");
    std::fs::write(user.join(format!("edits/{strava_id}.md")), "---\ntitle: My edited col\n---\n")
        .expect("sidecar");
    extract_file(root, &fit_sample());
    let ((kept, kept_src), (_, dup_src)) = kept_and_duplicate(&user);
    assert_eq!(
        (kept.as_str(), kept_src.as_str(), dup_src.as_str()),
        (strava_id.as_str(), "strava_api", "garmin")
    );
    render(root);
    assert_eq!(listed(&user), vec![strava_id.clone()]);
    let merged = read_json(&user.join(format!("_merged/activities/{strava_id}.json")));
    assert_eq!(merged["title"].as_str(), Some("My edited col"), "the edit survives");
    let site = walk(&root.with_file_name("site"));
    assert!(site.iter().any(|p| p.to_string_lossy().contains(&strava_id)));
    // Syncing again changes nothing.
    assert_eq!(strava(&s, root, &["sync", "--full"]).0, 0);
    assert_eq!(kept_and_duplicate(&user).0.0, strava_id);

    // The FIT file first, edited; then a sync brings Strava's copy, private there.
    let s = StandIn::start(vec![strava_copy_of_fit(true)]);
    let tmp = tempfile::tempdir().expect("tmp");
    let root = &tmp.path().join("data");
    let user = root.join("dave");
    write_credentials(&user);
    extract_file(root, &fit_sample());
    let fit_id = store(&user).into_keys().next().expect("extracted");
    std::fs::create_dir_all(user.join("edits")).expect("edits");
    std::fs::write(user.join(format!("edits/{fit_id}.md")), "---\ntitle: My FIT ride\n---\n")
        .expect("sidecar");
    render(root);
    assert_eq!(listed(&user), vec![fit_id.clone()]);
    assert_eq!(strava(&s, root, &["connect", "--code", standin::CODE]).0, 0);
    let (code, out, err) = strava(&s, root, &["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let ((kept, kept_src), (_, dup_src)) = kept_and_duplicate(&user);
    assert_eq!(
        (kept.as_str(), kept_src.as_str(), dup_src.as_str()),
        (fit_id.as_str(), "garmin", "strava_api")
    );
    render(root);
    let merged = read_json(&user.join(format!("_merged/activities/{fit_id}.json")));
    assert_eq!(merged["title"].as_str(), Some("My FIT ride"), "the edit survives");
    // Private on Strava: the kept copy is no longer listed (the most restrictive wins).
    assert_eq!(merged["privacy"].as_str(), Some("unlisted"), "{merged}");
    assert_eq!(listed(&user), Vec::<String>::new());
}

/// A clock the test moves: `sleep` advances it instead of waiting.
#[derive(Debug)]
struct TestClock(std::sync::atomic::AtomicI64);

impl bincio_gen::strava::api::Clock for TestClock {
    fn now_s(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn sleep(&self, d: std::time::Duration) {
        self.0.fetch_add(d.as_secs() as i64, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A sync stopped by Strava's daily limit continues by itself: the watcher leaves the
/// request queued until midnight UTC (its status says so) and runs it again then.
#[test]
fn a_sync_paused_by_the_daily_limit_resumes_by_itself_when_the_limit_resets() {
    use bincio_gen::queue::{WatchSettings, drain_background};
    let s = StandIn::start(standin::generate(6));
    s.set_streams_per_window(2);
    s.set_daily_limit_spent(true);
    let tmp = tempfile::tempdir().expect("tmp");
    let root = &tmp.path().join("data");
    let user = root.join("dave");
    write_credentials(&user);
    assert_eq!(strava(&s, root, &["connect", "--code", standin::CODE]).0, 0);
    let queue = root.join("_queue");
    std::fs::create_dir_all(&queue).expect("queue");
    let request = queue.join("sync1.json");
    std::fs::write(
        &request,
        r#"{"job_id":"sync1","handle":"dave","change":"strava_sync","created_at":"2026-11-30T10:00:00Z"}"#,
    )
    .expect("request");
    let mut settings = WatchSettings::new(
        bincio_gen::site::SiteOptions {
            data_dir: root.clone(),
            out_dir: tmp.path().join("site"),
            theme_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default")),
            handle: None,
            tile_url: None,
        },
        std::time::Duration::from_secs(1),
    );
    // The real time (the stand-in's tokens expire by it), moved by the test from here on.
    // Late in the day it starts at 18:00 UTC instead: the sync waits out Strava's 15-minute
    // windows on this clock, and a run started at 23:50 would cross midnight before the
    // daily limit is even reached, making "the next midnight" a day later than the test
    // expects. Starting earlier than the real time only makes the tokens look fresher.
    let real_now = time::OffsetDateTime::now_utc().unix_timestamp();
    let now = real_now.min(real_now.div_euclid(86_400) * 86_400 + 18 * 3_600);
    let clock = std::sync::Arc::new(TestClock(now.into()));
    settings.clock = clock.clone();
    settings.strava_base = s.url();
    let status = || read_json(&root.join("_queue/status/sync1.json"));
    let midnight = (now.div_euclid(86_400) + 1) * 86_400;

    // Two activities, then the daily limit: the job waits for midnight UTC, still queued.
    assert_eq!(drain_background(&settings).expect("drain"), 1);
    let st = status();
    assert_eq!(st["state"], "running", "{st}");
    let msg = st["message"].as_str().expect("message");
    assert!(msg.starts_with("paused until 00:00 UTC — Strava rate limit"), "{msg}");
    assert!(msg.contains("Strava: 2 new"), "{msg}");
    let deferred = read_json(&request);
    let not_before = time::OffsetDateTime::parse(
        deferred["not_before"].as_str().expect("not_before"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("time");
    assert_eq!(not_before.unix_timestamp(), midnight);
    assert_eq!(details_by_strava_id(&user).len(), 2);
    // What was imported is published already.
    assert_eq!(listed(&user).len(), 2);

    // Before midnight nothing runs, and the status still says until when.
    clock.0.store(midnight - 60, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(drain_background(&settings).expect("drain"), 0);
    assert_eq!(status()["message"].as_str(), Some(msg));
    assert_eq!(s.stats().rate_limited, 1, "no request to Strava while it waits");

    // Midnight: Strava's limit resets, and the same job finishes by itself.
    clock.0.store(midnight + 1, std::sync::atomic::Ordering::SeqCst);
    s.set_daily_limit_spent(false);
    s.set_streams_per_window(100);
    s.open_window();
    assert_eq!(drain_background(&settings).expect("drain"), 1);
    let st = status();
    assert_eq!(st["state"], "done", "{st}");
    assert!(st["message"].as_str().expect("message").contains("Strava: 4 new"), "{st}");
    assert!(!request.exists(), "the request is gone once done");
    let by_id = details_by_strava_id(&user);
    assert_eq!(by_id.len(), 6);
    assert!(by_id.values().all(|d| d.len() == 1));
    // Two of the six are only for followers or for the athlete: unlisted here.
    assert_eq!(listed(&user).len(), 4);
}
