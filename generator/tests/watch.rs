//! `bincio-gen watch` end to end, driving the real binary: a request written by
//! hand (as the daemon will) updates the user's pages and its status says done; a watcher
//! killed with SIGKILL in the middle of a job redoes it at restart and nothing is lost.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

use bincio_bas::queue::{JobState, JobStatus};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/watcher.rs"]
mod watcher;
use watcher::{Watcher, copy_dir, samples};

fn spawn(data: &Path, out: &Path, job_delay_ms: u64) -> Watcher {
    let child = Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
        .args(["watch", "--rescan-s", "1", "--data-dir"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .env("BINCIO_WATCH_JOB_DELAY_MS", job_delay_ms.to_string())
        .env("RUST_LOG", "bincio_gen=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bincio-gen watch");
    Watcher(child)
}

/// Write a request the way the daemon does: temp file, then rename.
fn enqueue(data: &Path, job: &str, handle: &str, change: &str) {
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).unwrap();
    let body = format!(
        r#"{{"job_id":"{job}","handle":"{handle}","change":"{change}","created_at":"2026-01-01T10:00:00Z"}}"#
    );
    std::fs::write(q.join(format!(".{job}.tmp")), body).unwrap();
    std::fs::rename(q.join(format!(".{job}.tmp")), q.join(format!("{job}.json"))).unwrap();
}

fn status(data: &Path, job: &str) -> Option<JobStatus> {
    let bytes = std::fs::read(data.join("_queue/status").join(format!("{job}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sidecar(data: &Path, id: &str, title: &str) {
    let edits = data.join("dave/edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(edits.join(format!("{id}.md")), format!("---\ntitle: \"{title}\"\n---\n"))
        .unwrap();
}

const ID: &str = "2017-06-06T171616Z";

#[test]
fn a_hand_written_request_updates_the_pages_and_reports_done() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let _w = spawn(&data, &out, 0);
    let page = out.join(format!("activity/{ID}/index.html"));
    wait_for("initial render", Duration::from_secs(60), || page.is_file());

    sidecar(&data, ID, "Tibidabo intervals");
    enqueue(&data, "job-edit-1", "dave", "edit");
    wait_for("job done", Duration::from_secs(60), || {
        status(&data, "job-edit-1").is_some_and(|s| s.state == JobState::Done)
    });
    assert!(std::fs::read_to_string(&page).unwrap().contains("<h1>Tibidabo intervals</h1>"));
    assert!(
        std::fs::read_to_string(out.join("u/dave/index.html"))
            .unwrap()
            .contains("Tibidabo intervals")
    );
    wait_for("request removed", Duration::from_secs(5), || {
        !data.join("_queue/job-edit-1.json").exists()
    });

    // An upload: a new original file is extracted, merged and rendered.
    let originals = data.join("dave/originals");
    std::fs::create_dir_all(&originals).unwrap();
    std::fs::write(originals.join("lunch-walk.gpx"), gpx_walk()).unwrap();
    enqueue(&data, "job-upload-1", "dave", "upload");
    wait_for("upload done", Duration::from_secs(60), || {
        status(&data, "job-upload-1")
            .is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-upload-1").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids.len(), 1, "{st:?}");
    let new_page = out.join(format!("activity/{}/index.html", st.new_activity_ids[0]));
    assert!(new_page.is_file(), "page of the uploaded activity");

    // A delete (the daemon removed the activity's files): its page and data files go away.
    let gone = "2017-05-09T154646Z";
    for ext in ["json", "geojson", "timeseries.json"] {
        std::fs::remove_file(data.join(format!("dave/activities/{gone}.{ext}"))).unwrap();
    }
    assert!(out.join(format!("activity/{gone}/index.html")).is_file());
    enqueue(&data, "job-delete-1", "dave", "delete");
    wait_for("delete done", Duration::from_secs(60), || {
        status(&data, "job-delete-1").is_some_and(|s| s.state == JobState::Done)
    });
    assert!(!out.join(format!("activity/{gone}")).exists(), "page removed");
    assert!(!out.join(format!("data/dave/_merged/activities/{gone}.timeseries.json")).exists());
    let feed = std::fs::read_to_string(out.join("data/feed.json")).unwrap();
    assert!(!feed.contains(gone), "out of the combined feed");
}

// Kill -9 during a job, restart, the job completes.
#[test]
fn a_job_killed_mid_way_is_redone_at_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let page = out.join(format!("activity/{ID}/index.html"));
    {
        // Each job sleeps 30 s after recording "running": plenty of time to kill it there.
        let mut w = spawn(&data, &out, 30_000);
        wait_for("initial render", Duration::from_secs(60), || page.is_file());
        sidecar(&data, ID, "Killed but not lost");
        enqueue(&data, "job-kill-1", "dave", "edit");
        wait_for("job running", Duration::from_secs(30), || {
            status(&data, "job-kill-1").is_some_and(|s| s.state == JobState::Running)
        });
        w.0.kill().unwrap(); // SIGKILL
        w.0.wait().unwrap();
    }
    assert!(data.join("_queue/job-kill-1.json").is_file(), "request kept after the crash");
    assert!(!std::fs::read_to_string(&page).unwrap().contains("Killed but not lost"));

    let _w = spawn(&data, &out, 0);
    wait_for("job done after restart", Duration::from_secs(60), || {
        status(&data, "job-kill-1").is_some_and(|s| s.state == JobState::Done)
    });
    assert!(std::fs::read_to_string(&page).unwrap().contains("<h1>Killed but not lost</h1>"));
    wait_for("request removed", Duration::from_secs(5), || {
        !data.join("_queue/job-kill-1.json").exists()
    });
    // No temp file left behind in the output by the killed run.
    let stray: Vec<_> = walkdir::WalkDir::new(&out)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// Write an upload request listing `files` (relative to the user folder), as the daemon does.
fn enqueue_upload(data: &Path, job: &str, handle: &str, files: &[&str]) {
    let q = data.join("_queue");
    std::fs::create_dir_all(&q).unwrap();
    let body = serde_json::json!({
        "job_id": job, "handle": handle, "change": "upload",
        "created_at": "2026-01-01T10:00:00Z", "files": files,
    });
    std::fs::write(q.join(format!(".{job}.tmp")), body.to_string()).unwrap();
    std::fs::rename(q.join(format!(".{job}.tmp")), q.join(format!("{job}.json"))).unwrap();
}

// An upload request's `files` are what gets extracted: not the other files lying in
// originals/, never a path outside the user folder; unkept uploads are removed afterwards.
#[test]
fn an_upload_extracts_exactly_the_listed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let _w = spawn(&data, &out, 0);
    wait_for("initial render", Duration::from_secs(60), || {
        out.join(format!("activity/{ID}/index.html")).is_file()
    });
    let dave = data.join("dave");
    std::fs::create_dir_all(dave.join("originals/job-a")).unwrap();
    std::fs::create_dir_all(dave.join("_uploads/job-a")).unwrap();
    std::fs::write(dave.join("originals/job-a/listed.gpx"), gpx_walk()).unwrap();
    std::fs::write(
        dave.join("originals/stray.gpx"),
        gpx_walk().replace("2026-01-02", "2026-01-03"),
    )
    .unwrap();
    std::fs::write(
        dave.join("_uploads/job-a/unkept.gpx"),
        gpx_walk().replace("2026-01-02", "2026-01-04"),
    )
    .unwrap();
    // A secret next to the data folder that a malicious request points at.
    std::fs::write(data.join("secret.gpx"), gpx_walk().replace("2026-01-02", "2026-01-05"))
        .unwrap();
    enqueue_upload(
        &data,
        "job-a",
        "dave",
        &["originals/job-a/listed.gpx", "_uploads/job-a/unkept.gpx", "../secret.gpx"],
    );
    wait_for("upload done", Duration::from_secs(60), || {
        status(&data, "job-a").is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-a").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    let mut ids = st.new_activity_ids.clone();
    ids.sort();
    assert_eq!(ids, ["2026-01-02T120000Z", "2026-01-04T120000Z"], "{st:?}");
    assert_eq!(st.failures.len(), 1, "{st:?}");
    assert_eq!(st.failures[0].path, "../secret.gpx");
    assert!(st.failures[0].reason.starts_with("refused"), "{st:?}");
    for id in &ids {
        assert!(out.join(format!("activity/{id}/index.html")).is_file(), "page of {id}");
    }
    for unlisted in ["2026-01-03T120000Z", "2026-01-05T120000Z"] {
        assert!(!dave.join(format!("activities/{unlisted}.json")).exists(), "{unlisted}");
    }
    assert!(dave.join("originals/job-a/listed.gpx").is_file(), "kept originals stay");
    // The watcher removes unkept uploads after writing the final status (a crash between
    // the two must not lose an upload whose request would be redone), so allow it a moment.
    let unkept = dave.join("_uploads/job-a");
    wait_for("the unkept upload removed once extracted", Duration::from_secs(10), || {
        !unkept.exists()
    });
}

// A listed upload that is not an activity (it passed the daemon's sniffing: a GPX header,
// then 1 MiB of spaces) is reported in the status and removed from originals/: a file that
// can never be imported must not keep using the user's disk. The good file next to it stays.
#[test]
fn a_listed_upload_that_is_not_an_activity_is_reported_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let _w = spawn(&data, &out, 0);
    wait_for("initial render", Duration::from_secs(60), || {
        out.join(format!("activity/{ID}/index.html")).is_file()
    });
    let job = data.join("dave/originals/job-b");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::write(job.join("good.gpx"), gpx_walk()).unwrap();
    let junk = format!("<?xml version=\"1.0\"?><gpx creator=\"x\">{}", " ".repeat(1 << 20));
    std::fs::write(job.join("junk.gpx"), junk).unwrap();
    enqueue_upload(
        &data,
        "job-b",
        "dave",
        &["originals/job-b/good.gpx", "originals/job-b/junk.gpx"],
    );
    wait_for("upload done", Duration::from_secs(60), || {
        status(&data, "job-b").is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-b").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids, ["2026-01-02T120000Z"], "{st:?}");
    assert_eq!(st.failures.len(), 1, "{st:?}");
    assert!(st.failures[0].path.ends_with("junk.gpx"), "{st:?}");
    assert!(!job.join("junk.gpx").exists(), "the refused upload is still on disk");
    assert!(job.join("good.gpx").is_file(), "the imported original stays");
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

/// IDs of a user's activities in the sample data.
fn sample_ids(handle: &str) -> Vec<String> {
    std::fs::read_dir(samples().join(handle).join("activities"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .filter(|n| !n.ends_with(".timeseries"))
        .collect()
}

/// A multi-user instance (an `instance.db` is present, so the site keeps its community pages
/// when one of the two users is gone).
fn multi_user_instance(data: &Path) {
    copy_dir(&samples(), data);
    std::fs::write(data.join("instance.db"), b"").unwrap();
}

/// What `DELETE /api/me` does on disk: the user folder goes, the root manifest loses the
/// shard, and a rebuild request for the handle is queued.
fn delete_user_as_the_daemon_does(data: &Path, handle: &str, job: &str) {
    std::fs::remove_dir_all(data.join(handle)).unwrap();
    let path = data.join("index.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["shards"].as_array_mut().unwrap().retain(|s| s["handle"] != handle);
    std::fs::write(&path, m.to_string()).unwrap();
    enqueue(data, job, handle, "rebuild");
}

/// Wait until the watcher has finished its start-up render: it drains the queue only after
/// it, so a job for dave being done says so.
fn warm_up(data: &Path, job: &str) {
    enqueue(data, job, "dave", "rebuild");
    wait_for("start-up render and a first job", Duration::from_secs(120), || {
        status(data, job).is_some_and(|s| s.state == JobState::Done)
    });
}

/// Nothing of `handle` is left in the output: no file under a path naming them, none of their
/// activity pages, no page or feed naming or linking to them.
fn assert_unpublished(out: &Path, handle: &str) {
    let mut left = Vec::new();
    for e in walkdir::WalkDir::new(out).into_iter().map(Result::unwrap) {
        let rel = e.path().strip_prefix(out).unwrap().to_string_lossy().into_owned();
        if rel.split('/').any(|c| c == handle || c.ends_with(&format!("-{handle}"))) {
            left.push(rel.clone());
        }
        if e.file_type().is_file() && !rel.starts_with("static/") {
            let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
            for needle in
                [format!("/u/{handle}/"), format!("{handle}/_merged"), format!("@{handle}")]
            {
                if text.contains(&needle) {
                    left.push(format!("{rel} contains {needle}"));
                }
            }
        }
    }
    for id in sample_ids(handle) {
        if out.join("activity").join(&id).exists() {
            left.push(format!("activity/{id}/"));
        }
    }
    assert!(left.is_empty(), "{handle} is still published: {left:#?}");
}

// A deleted account is unpublished by the job its deletion queues: pages, feeds, data files and
// activity pages go, and the combined feed, community pages and root manifest forget them.
#[test]
fn a_deleted_user_is_unpublished_by_the_running_watcher() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    multi_user_instance(&data);
    let _w = spawn(&data, &out, 0);
    warm_up(&data, "job-warm");
    let brut_id = &sample_ids("brut")[0];
    assert!(out.join(format!("activity/{brut_id}/index.html")).is_file());
    assert!(out.join("u/brut/index.html").is_file());

    delete_user_as_the_daemon_does(&data, "brut", "job-del-brut");
    wait_for("delete job finished", Duration::from_secs(60), || {
        status(&data, "job-del-brut")
            .is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-del-brut").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_unpublished(&out, "brut");
    let manifest = std::fs::read_to_string(out.join("data/index.json")).unwrap();
    assert!(!manifest.contains("brut"), "{manifest}");
    assert!(out.join(format!("activity/{ID}/index.html")).is_file(), "dave stays");
}

// The same deletion while the watcher is down is finished when it starts again.
#[test]
fn a_user_deleted_while_the_watcher_is_down_is_unpublished_at_its_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    multi_user_instance(&data);
    {
        let _w = spawn(&data, &out, 0);
        warm_up(&data, "job-warm");
    }
    assert!(out.join(format!("activity/{}/index.html", sample_ids("brut")[0])).is_file());
    assert!(out.join("u/brut/index.html").is_file());
    delete_user_as_the_daemon_does(&data, "brut", "job-del-brut");

    let _w = spawn(&data, &out, 0);
    wait_for("delete job finished", Duration::from_secs(60), || {
        status(&data, "job-del-brut")
            .is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-del-brut").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_unpublished(&out, "brut");
    assert!(out.join(format!("activity/{ID}/index.html")).is_file(), "dave stays");
}

// A display-name change reaches the generated pages in the job the daemon queues for it: the
// daemon writes the name to `edits/profile.json` and queues a rebuild of the user.
#[test]
fn a_display_name_change_reaches_the_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    multi_user_instance(&data);
    let _w = spawn(&data, &out, 0);
    warm_up(&data, "job-warm");
    let profile = std::fs::read_to_string(out.join("u/dave/index.html")).unwrap();
    assert!(!profile.contains("Dave Rider"));

    std::fs::create_dir_all(data.join("dave/edits")).unwrap();
    std::fs::write(data.join("dave/edits/profile.json"), r#"{"display_name":"Dave Rider"}"#)
        .unwrap();
    enqueue(&data, "job-name", "dave", "rebuild");
    wait_for("job done", Duration::from_secs(60), || {
        status(&data, "job-name").is_some_and(|s| s.state == JobState::Done)
    });
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    assert!(
        read("u/dave/index.html")
            .contains("<h1>Dave Rider <span class=\"muted\">@dave</span></h1>"),
        "profile header"
    );
    assert!(read(&format!("activity/{ID}/index.html")).contains(">Dave Rider</a>"), "activity");
    assert!(read("community/index.html").contains("Dave Rider"), "community page");
    let feed: serde_json::Value =
        serde_json::from_str(&read("data/dave/_merged/index.json")).unwrap();
    assert_eq!(feed["owner"]["display_name"], "Dave Rider", "published BAS feed");
}

// A job redone after a kill -9 that came after its extraction (the file is already in the
// store, the request is still queued) reports the activity its file became, not `[]`.
#[test]
fn an_upload_redone_after_its_extraction_reports_its_activity_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let dir = data.join("dave/originals/job-redo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("walk.gpx"), gpx_walk()).unwrap();
    // What the killed watcher had done: extract the file into dave's store (same code).
    let st = Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
        .args(["extract", "--handle", "dave", "--input"])
        .arg(dir.join("walk.gpx"))
        .arg("--output")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(data.join("dave/activities/2026-01-02T120000Z.json").is_file());
    enqueue_upload(&data, "job-redo", "dave", &["originals/job-redo/walk.gpx"]);

    let _w = spawn(&data, &out, 0);
    wait_for("redone job finished", Duration::from_secs(60), || {
        status(&data, "job-redo")
            .is_some_and(|s| matches!(s.state, JobState::Done | JobState::Failed))
    });
    let st = status(&data, "job-redo").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids, ["2026-01-02T120000Z"], "{st:?}");
    assert!(out.join("activity/2026-01-02T120000Z/index.html").is_file());
}

/// `bincio-gen dev` stopped by SIGTERM to its PID alone (a service manager, `kill PID`)
/// stops the daemon it started: before, SIGTERM ended `dev` without running any clean-up
/// and the daemon kept the port.
#[test]
fn dev_stops_its_daemon_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // An instance.db makes `dev` start a daemon; a stand-in records its PID and waits.
    std::fs::write(data.join("instance.db"), b"").unwrap();
    let pid_file = tmp.path().join("daemon.pid");
    let fake = tmp.path().join("fake-api");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho $$ > '{}'\nexec sleep 600\n", pid_file.display()),
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let mut dev = Watcher(
        Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
            .args(["dev", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:9"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--api-bin")
            .arg(&fake)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let daemon_pid = loop {
        if let Some(p) = std::fs::read_to_string(&pid_file).ok().filter(|p| p.ends_with('\n')) {
            break p.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the daemon never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(Path::new(&format!("/proc/{daemon_pid}")).exists());
    let status = Command::new("kill").args(["-TERM", &dev.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = dev.0.wait().unwrap();
    assert!(exit.success(), "dev exits cleanly on SIGTERM: {exit:?}");
    // `dev` waited for its daemon, so the process is gone (not even a zombie).
    assert!(!Path::new(&format!("/proc/{daemon_pid}")).exists(), "daemon {daemon_pid} still runs");
}

/// `bincio-gen serve` rebuilds only when the data changed: left alone, it does not rebuild
/// (before, its own reads of the data directory triggered a rebuild every 0.3 s for ever)
/// and the output is not rewritten; an edited sidecar rebuilds once and the page shows it.
#[test]
fn serve_rebuilds_only_when_the_data_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    copy_dir(&samples(), &data);
    let log = tmp.path().join("serve.log");
    let _serve = Watcher(
        Command::new(env!("CARGO_BIN_EXE_bincio-gen"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .env("RUST_LOG", "bincio_gen=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let rebuilds = || std::fs::read_to_string(&log).unwrap_or_default().matches("rebuilt").count();
    let page = out.join("activity/2019-03-26T122707Z/index.html");
    wait_for("the first render", Duration::from_secs(60), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("rendered")) && page.is_file()
    });
    // Every output file with its modification time and content.
    let snapshot = || -> Vec<(PathBuf, std::time::SystemTime, Vec<u8>)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(&out)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let p = e.path().to_path_buf();
                let m = e.metadata().unwrap().modified().unwrap();
                let b = std::fs::read(&p).unwrap();
                (p, m, b)
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot();
    // Left alone for a few seconds (ten times the rebuild debounce): nothing happens, even
    // though the snapshot above has just read every file.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        rebuilds(),
        0,
        "rebuilt with no change:\n{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(snapshot() == before, "the output was rewritten with no change");

    // An edit: one rebuild, and the page shows it.
    let edits = data.join("dave/edits");
    std::fs::create_dir_all(&edits).unwrap();
    std::fs::write(edits.join("2019-03-26T122707Z.md"), "---\ntitle: Renamed while serving\n---\n")
        .unwrap();
    wait_for("the rebuilt page", Duration::from_secs(60), || {
        std::fs::read_to_string(&page).is_ok_and(|p| p.contains("Renamed while serving"))
    });
    wait_for("the rebuild logged", Duration::from_secs(60), || rebuilds() >= 1);
    let after_edit = rebuilds();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rebuilds(), after_edit, "its own rebuild started another one");
}
