//! Long work beside uploads, with the real `bincio-gen watch`: while a long job for dave is
//! provably in progress (held mid-way by the watcher's test hold, `BINCIO_WATCH_TEST_HOLD_DIR`,
//! which only a debug build reads), an upload by brut completes (its page on disk, its status
//! `done`) before dave's job ends; then dave's job is released and ends `done` with all of
//! its work published. One test per long kind: a Strava export uploaded through the daemon,
//! a Strava sync against the stand-in, and a federation refresh of a remote that does not
//! answer yet. See `docs/queue.md`, "Two lanes".
//!
//! No timing assertion: the order is forced by the hold (or the silent remote), and every
//! wait has a generous deadline that only a hang reaches.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/strava_export.rs"]
mod strava_export;

#[path = "support/strava_standin.rs"]
mod standin;

use bincio_bas::queue::{JobState, JobStatus};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support/watcher.rs"]
mod watcher;
use watcher::{Watcher, copy_dir, samples};

/// The real watcher on `data`, holding background jobs at their first progress point
/// (`hold/{job}.held` appears, and the job waits for `hold/{job}.release`).
fn spawn(data: &Path, out: &Path, hold: &Path, env: &[(&str, String)], args: &[&str]) -> Watcher {
    std::fs::create_dir_all(hold).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bincio-gen"));
    cmd.args(["watch", "--rescan-s", "1"])
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(out)
        .env("BINCIO_WATCH_TEST_HOLD_DIR", hold)
        .env("RUST_LOG", "bincio_gen=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Watcher(cmd.spawn().expect("start bincio-gen watch"))
}

/// Write a request the way the daemon does: temp file, then rename.
fn enqueue(data: &Path, job: &str, handle: &str, change: &str, files: &[&str]) {
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).unwrap();
    let body = serde_json::json!({
        "job_id": job, "handle": handle, "change": change,
        "created_at": "2026-01-01T10:00:00Z", "files": files,
    });
    std::fs::write(q.join(format!(".{job}.tmp")), body.to_string()).unwrap();
    std::fs::rename(q.join(format!(".{job}.tmp")), q.join(format!("{job}.json"))).unwrap();
}

fn status(data: &Path, job: &str) -> Option<JobStatus> {
    let bytes = std::fs::read(data.join("_queue/status").join(format!("{job}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn is_final(data: &Path, job: &str) -> bool {
    status(data, job).is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(180), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A multi-user instance (dave and brut) with the watcher's start-up render done: it drains
/// the queue only after that render, so a job being done says so.
fn warm_up(data: &Path) {
    enqueue(data, "job-warm", "dave", "rebuild", &[]);
    wait_for("the start-up render and a first job", || {
        status(data, "job-warm").is_some_and(|s| s.state == JobState::Done)
    });
}

fn instance(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (data, out, hold) = (root.join("data"), root.join("site"), root.join("hold"));
    copy_dir(&samples(), &data);
    std::fs::write(data.join("instance.db"), b"").unwrap();
    (data, out, hold)
}

/// brut uploads a 12-minute walk, as the daemon stores it.
fn brut_uploads(data: &Path) {
    let dir = data.join("brut/originals/job-brut");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("walk.gpx"), gpx_walk()).unwrap();
    enqueue(data, "job-brut", "brut", "upload", &["originals/job-brut/walk.gpx"]);
}

/// brut's upload is done, with its activity's page on disk.
fn assert_brut_done(data: &Path, out: &Path) {
    let st = status(data, "job-brut").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids, ["2026-01-02T120000Z"], "{st:?}");
    assert!(out.join("activity/2026-01-02T120000Z/index.html").is_file(), "brut's page");
}

/// brut uploads a 12-minute walk (as the daemon stores it) and the test waits until either
/// that job is final with dave's long job provably in progress (`in_progress`: held
/// mid-way), or `long_job` is final. brut's job must be done first, with its page on disk,
/// while dave's job is still running.
fn brut_uploads_while(data: &Path, out: &Path, long_job: &str, in_progress: impl Fn() -> bool) {
    brut_uploads(data);
    wait_for("brut's upload beside dave's long job, or the long job's end", || {
        (is_final(data, "job-brut") && in_progress()) || is_final(data, long_job)
    });
    let long = status(data, long_job).unwrap();
    assert!(
        !is_final(data, long_job),
        "dave's {long_job} ended ({:?}: {}) before brut's upload was done: the long job ran \
         in front of the upload",
        long.state,
        long.message
    );
    assert_brut_done(data, out);
    assert_eq!(long.state, JobState::Running, "{long:?}");
}

/// Release a held job and wait until it is final; returns its status.
fn release(data: &Path, hold: &Path, job: &str) -> JobStatus {
    std::fs::write(hold.join(format!("{job}.release")), b"").unwrap();
    wait_for(&format!("{job} to end"), || is_final(data, job));
    status(data, job).unwrap()
}

const EXPORT_FILES: usize = 150;

/// A Strava export of `files` short rides (more than one import batch at `EXPORT_FILES`),
/// laid out like Strava's "Download your data".
fn write_big_export(path: &Path, files: usize) {
    use std::io::Write;
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let o = zip::write::SimpleFileOptions::default();
    let mut csv = String::from("Activity ID,Activity Date,Activity Name,Activity Type,Filename\n");
    let day0 = time::macros::datetime!(2025-01-01 07:00 UTC);
    for i in 0..files {
        let t = day0 + time::Duration::days(i as i64);
        let date =
            format!("{} {}, {}, 7:00:00 AM", &format!("{:?}", t.month())[..3], t.day(), t.year());
        csv.push_str(&format!(
            "{},\"{date}\",Export ride {i},Ride,activities/{}.gpx.gz\n",
            9000 + i,
            7000 + i
        ));
        let start = t.format(&time::format_description::well_known::Rfc3339).unwrap();
        z.start_file(format!("activities/{}.gpx.gz", 7000 + i), o).unwrap();
        z.write_all(&strava_export::gpx_gz(&start, 300, 5.0)).unwrap();
    }
    z.start_file("activities.csv", o).unwrap();
    z.write_all(csv.as_bytes()).unwrap();
    z.finish().unwrap();
}

// A Strava export uploaded through the daemon is imported in the background lane: its
// extraction runs in batches with the store lock released between them, so another user's
// upload is done while the import is half-way.
#[test]
fn an_upload_is_done_while_a_strava_export_is_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out, hold) = instance(tmp.path());
    let _w = spawn(&data, &out, &hold, &[], &[]);
    warm_up(&data);

    let dir = data.join("dave/originals/job-export");
    std::fs::create_dir_all(&dir).unwrap();
    write_big_export(&dir.join("export_1234.zip"), EXPORT_FILES);
    enqueue(&data, "job-export", "dave", "upload", &["originals/job-export/export_1234.zip"]);
    wait_for("the import to start", || {
        status(&data, "job-export").is_some_and(|s| s.state != JobState::Queued)
    });
    brut_uploads_while(&data, &out, "job-export", || hold.join("job-export.held").is_file());
    // Provably mid-way: held after a batch, with part of the export in the store.
    let mid = status(&data, "job-export").unwrap();
    assert!(mid.message.starts_with("importing the Strava export: "), "{mid:?}");
    assert!(mid.done > 0 && mid.done < mid.total, "{mid:?}");
    // dave's own upload meanwhile is done too, and survives the rest of the import.
    let own = data.join("dave/originals/job-own");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("walk.gpx"), gpx_walk().replace("2026-01-02", "2026-01-03")).unwrap();
    enqueue(&data, "job-own", "dave", "upload", &["originals/job-own/walk.gpx"]);
    wait_for("dave's own upload", || is_final(&data, "job-own"));
    let own = status(&data, "job-own").unwrap();
    assert_eq!(own.state, JobState::Done, "{}", own.message);
    assert_eq!(own.new_activity_ids, ["2026-01-03T120000Z"], "{own:?}");
    assert!(!is_final(&data, "job-export"), "the import is still held");

    let st = release(&data, &hold, "job-export");
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert!(st.message.contains(&format!("{EXPORT_FILES} new")), "{}", st.message);
    assert_eq!(st.new_activity_ids.len(), EXPORT_FILES, "{st:?}");
    for id in &st.new_activity_ids {
        let page = std::fs::read_to_string(out.join(format!("activity/{id}/index.html")))
            .unwrap_or_else(|e| panic!("page of {id}: {e}"));
        assert!(page.contains("Export ride "), "{id}: the CSV's title");
    }
    wait_for("the request removed", || !data.join("_queue/job-export.json").exists());
    // brut's page and dave's own upload are still there, and no staging folder is left.
    assert!(out.join("activity/2026-01-02T120000Z/index.html").is_file());
    assert!(out.join("activity/2026-01-03T120000Z/index.html").is_file());
    let feed = std::fs::read_to_string(data.join("dave/index.json")).unwrap();
    assert!(feed.contains("2026-01-03T120000Z"), "dave's own upload left the store");
    assert!(staging_folders(&data).is_empty(), "{:?}", staging_folders(&data));
}

/// The activities listed in dave's store (`index.json`).
fn dave_listed(data: &Path) -> usize {
    let feed: bincio_bas::UserFeed =
        serde_json::from_slice(&std::fs::read(data.join("dave/index.json")).unwrap()).unwrap();
    feed.activities.len()
}

/// The import's staging folders in dave's folder.
fn staging_folders(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("dave"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".strava-export"))
        .collect()
}

// A watcher killed (SIGKILL) half-way through an export's import loses nothing: the request
// is still queued, the restarted watcher imports the rest, the job names every activity of
// the export (those stored before the kill too), nothing is stored twice, and the killed
// run's staging folder is gone.
#[test]
fn an_export_import_killed_half_way_is_finished_at_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out, hold) = instance(tmp.path());
    let before = dave_listed(&data);
    {
        let mut w = spawn(&data, &out, &hold, &[], &[]);
        warm_up(&data);
        let dir = data.join("dave/originals/job-export");
        std::fs::create_dir_all(&dir).unwrap();
        write_big_export(&dir.join("export_1234.zip"), EXPORT_FILES);
        enqueue(&data, "job-export", "dave", "upload", &["originals/job-export/export_1234.zip"]);
        wait_for("the import's hold point", || hold.join("job-export.held").is_file());
        w.0.kill().unwrap(); // SIGKILL
        w.0.wait().unwrap();
    }
    let st = status(&data, "job-export").unwrap();
    assert_eq!(st.state, JobState::Running, "{st:?}");
    assert!(data.join("_queue/job-export.json").is_file(), "the request was lost");
    let partial = dave_listed(&data) - before;
    assert!(partial > 0 && partial < EXPORT_FILES, "{partial} of the export stored");
    assert_eq!(staging_folders(&data).len(), 1, "the killed run's staging folder");

    // Restarted (its hold is spent: the job runs through).
    let _w = spawn(&data, &out, &hold, &[], &[]);
    wait_for("the import to end", || is_final(&data, "job-export"));
    let st = status(&data, "job-export").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids.len(), EXPORT_FILES, "{st:?}");
    assert_eq!(dave_listed(&data), before + EXPORT_FILES, "stored once each");
    for id in &st.new_activity_ids {
        assert!(out.join(format!("activity/{id}/index.html")).is_file(), "page of {id}");
    }
    wait_for("the request removed", || !data.join("_queue/job-export.json").exists());
    assert!(staging_folders(&data).is_empty(), "{:?}", staging_folders(&data));
}

// A Strava sync (the stand-in) is background work that stores and publishes its batches as
// it goes: another user's upload is done while it is half-way.
#[test]
fn an_upload_is_done_while_a_strava_sync_runs() {
    let strava = standin::StandIn::start(standin::generate(30));
    let tmp = tempfile::tempdir().unwrap();
    let (data, out, hold) = instance(tmp.path());
    std::fs::write(
        data.join("dave/strava_credentials.json"),
        format!(
            r#"{{"client_id":"{}","client_secret":"{}"}}"#,
            standin::CLIENT_ID,
            standin::CLIENT_SECRET
        ),
    )
    .unwrap();
    let connect = Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
        .args(["strava", "connect", "--code", standin::CODE, "--quiet", "--handle", "dave"])
        .arg("--data-dir")
        .arg(&data)
        .env("BINCIO_STRAVA_URL", strava.url())
        .output()
        .unwrap();
    assert!(connect.status.success(), "{}", String::from_utf8_lossy(&connect.stderr));
    let _w = spawn(&data, &out, &hold, &[("BINCIO_STRAVA_URL", strava.url())], &[]);
    warm_up(&data);

    enqueue(&data, "job-sync", "dave", "strava_sync", &[]);
    brut_uploads_while(&data, &out, "job-sync", || hold.join("job-sync.held").is_file());
    let mid = status(&data, "job-sync").unwrap();
    assert!(mid.message.starts_with("syncing "), "{mid:?}");
    assert!(mid.done > 0 && mid.done < mid.total, "{mid:?}");

    let st = release(&data, &hold, "job-sync");
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert!(st.message.starts_with("done: Strava: 30 new, 0 already here; "), "{}", st.message);
    assert_eq!(st.new_activity_ids.len(), 30, "{st:?}");
    let pages = st
        .new_activity_ids
        .iter()
        .filter(|id| out.join(format!("activity/{id}/index.html")).is_file())
        .count();
    // The stand-in's followers-only and private activities are unlisted here.
    assert!(pages >= 20, "{pages} of 30 synced activities have a page");
    assert_brut_done(&data, &out);
}

/// A followed remote that answers only once the test lets it (or after 15 s, within the
/// watcher's 20 s timeout): one public activity in a one-shard feed.
struct SilentRemote {
    url: String,
    requests: Arc<AtomicUsize>,
    release: Arc<AtomicBool>,
    answered_unreleased: Arc<AtomicBool>,
}

fn silent_remote() -> SilentRemote {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let owner = serde_json::json!({"handle": "alice", "display_name": "Alice"});
    let card = serde_json::json!({"id": "2024-06-01T070000Z", "title": "Alpine loop",
        "sport": "cycling", "sub_sport": null, "started_at": "2024-06-01T07:00:00Z",
        "distance_m": 42195.0, "duration_s": 5400, "moving_time_s": 5000,
        "elevation_gain_m": 321.0, "avg_speed_kmh": 28.1, "max_speed_kmh": 51.0,
        "avg_hr_bpm": 140, "max_hr_bpm": 171, "avg_cadence_rpm": null, "avg_power_w": null,
        "mmp": null, "best_efforts": null, "best_climb_m": null, "source": "x.fit",
        "privacy": "public", "detail_url": "activities/2024-06-01T070000Z.json",
        "track_url": null, "preview_coords": [[45.0, 7.0], [45.01, 7.02]]});
    let manifest = serde_json::json!({"bas_version": "1.0", "owner": owner,
        "generated_at": "2024-07-01T00:00:00Z",
        "shards": [{"year": 2024, "url": "index-2024.json", "count": 1}], "activities": []});
    let shard = serde_json::json!({"bas_version": "1.0", "owner": owner,
        "generated_at": "2024-07-01T00:00:00Z", "activities": [card]});
    let docs = Arc::new(std::collections::BTreeMap::from([
        ("/data/alice/_merged/index.json".to_owned(), manifest.to_string()),
        ("/data/alice/_merged/index-2024.json".to_owned(), shard.to_string()),
    ]));
    let requests = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let answered_unreleased = Arc::new(AtomicBool::new(false));
    let (r, rel, early) = (requests.clone(), release.clone(), answered_unreleased.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (r, rel, early, docs) = (r.clone(), rel.clone(), early.clone(), docs.clone());
            std::thread::spawn(move || {
                let mut s = stream;
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                }
                r.fetch_add(1, Ordering::SeqCst);
                let t0 = Instant::now();
                while !rel.load(Ordering::SeqCst) {
                    if t0.elapsed() > Duration::from_secs(15) {
                        early.store(true, Ordering::SeqCst);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let (head, body) = match docs.get(&path) {
                    Some(b) => ("200 OK\r\nContent-Type: application/json", b.clone()),
                    None => ("404 Not Found", "not found".to_owned()),
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    SilentRemote {
        url: format!("http://127.0.0.1:{port}/data/alice/_merged/index.json"),
        requests,
        release,
        answered_unreleased,
    }
}

/// The federation job's status, once one was written.
fn federation_status(data: &Path) -> Option<JobStatus> {
    let dir = data.join("_queue/status");
    let name = std::fs::read_dir(&dir)
        .ok()?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("federation-"))?;
    status(data, name.trim_end_matches(".json"))
}

// A federation refresh fetches on a thread of its own: while a followed remote has not
// answered yet, another user's upload is done; the refresh then ends with its job.
#[test]
fn an_upload_is_done_while_a_federation_refresh_waits_for_a_remote() {
    let remote = silent_remote();
    let tmp = tempfile::tempdir().unwrap();
    let (data, out, hold) = instance(tmp.path());
    bincio_gen::federation::add(&bincio_bas::InstanceRoot::new(&data), &remote.url, Some("alice"))
        .unwrap();
    let _w = spawn(&data, &out, &hold, &[], &["--federation-refresh-min", "1"]);
    warm_up(&data);
    wait_for("the watcher to ask the remote", || remote.requests.load(Ordering::SeqCst) > 0);

    brut_uploads(&data);
    wait_for("brut's upload", || is_final(&data, "job-brut"));
    assert!(
        !remote.answered_unreleased.load(Ordering::SeqCst),
        "the remote's 15 s were over before brut's upload was done"
    );
    assert!(federation_status(&data).is_none(), "the refresh ended before brut's upload");
    assert_brut_done(&data, &out);

    remote.release.store(true, Ordering::SeqCst);
    wait_for("the federation job", || {
        federation_status(&data)
            .is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = federation_status(&data).unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    // Fetched in full after the release, not given up on.
    assert!(st.message.starts_with("done: 1 remotes refreshed, "), "{st:?}");
    assert!(!st.message.contains("FAILING"), "{st:?}");
    let home = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(home.contains("Alpine loop"), "the remote's activity on the home page");
}

// Recalculating the elevation of all of a user's activities (queued by `bincio-gen
// elevation --queue`) is background work done a batch at a time: another user's upload is
// done while it is half-way, and every activity ends recalculated, its choice in its sidecar.
#[test]
fn an_upload_is_done_while_all_of_a_users_elevation_is_recalculated() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out, hold) = instance(tmp.path());
    // More activities than a batch: dave's own and a 40-ride export, imported beforehand.
    let zip = tmp.path().join("export.zip");
    write_big_export(&zip, 40);
    let import = Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
        .args(["import", "strava-export"])
        .arg(&zip)
        .arg("--data-dir")
        .arg(&data)
        .args(["--handle", "dave", "--quiet"])
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let total = dave_listed(&data);
    assert!(total > 40, "{total}");
    let _w = spawn(&data, &out, &hold, &[], &[]);
    warm_up(&data);

    let queued = Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
        .args(["elevation", "--handle", "dave", "--method", "smoothing", "--queue"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(queued.status.success(), "{}", String::from_utf8_lossy(&queued.stderr));
    let job = String::from_utf8(queued.stdout).unwrap().trim().to_owned();
    assert!(job.starts_with("elevation-dave-"), "{job}");
    let held = hold.join(format!("{job}.held"));
    brut_uploads_while(&data, &out, &job, || held.is_file());
    let mid = status(&data, &job).unwrap();
    assert!(mid.message.starts_with("recalculating elevation: "), "{mid:?}");
    assert!(mid.done > 0 && mid.done < mid.total && mid.total == total as u64, "{mid:?}");

    let st = release(&data, &hold, &job);
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    let recalculated = total - st.failures.len();
    assert!(recalculated >= 40, "{st:?}");
    let want = format!(
        "done: elevation recalculated (smoothing) for {recalculated} of {total} activities; "
    );
    assert!(st.message.starts_with(&want), "{}", st.message);
    let feed: bincio_bas::UserFeed =
        serde_json::from_slice(&std::fs::read(data.join("dave/index.json")).unwrap()).unwrap();
    let failed: Vec<&str> = st.failures.iter().map(|f| f.path.as_str()).collect();
    for a in feed.activities.iter().filter(|a| !failed.contains(&a.id.as_str())) {
        let sidecar = std::fs::read_to_string(data.join(format!("dave/edits/{}.md", a.id)))
            .unwrap_or_else(|e| panic!("sidecar of {}: {e}", a.id));
        assert!(sidecar.contains("elevation: smoothing"), "{}: {sidecar}", a.id);
        assert!(out.join(format!("activity/{}/index.html", a.id)).is_file(), "page of {}", a.id);
    }
    assert_brut_done(&data, &out);
}

/// A 12-minute walk in a park, one point every 5 s.
fn gpx_walk() -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Lunch walk</name><type>walking</type><trkseg>"#,
    );
    for i in 0..150 {
        let lat = 45.07 + f64::from(i) * 0.00005;
        let lon = 7.68 + f64::from(i) * 0.00003;
        let (m, sec) = ((i * 5) / 60, (i * 5) % 60);
        s.push_str(&format!(
            r#"<trkpt lat="{lat:.6}" lon="{lon:.6}"><ele>{:.1}</ele><time>2026-01-02T12:{m:02}:{sec:02}Z</time></trkpt>"#,
            240.0 + f64::from(i) * 0.1
        ));
    }
    s.push_str("</trkseg></trk></gpx>");
    s
}
