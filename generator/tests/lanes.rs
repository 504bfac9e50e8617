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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/reference-output")
}

fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let target = dst.join(e.path().strip_prefix(src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Kills the watcher when the test ends, whatever happens.
struct Watcher(Child);
impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real watcher on `data`, holding background jobs at their first progress point
/// (`hold/{job}.held` appears, and the job waits for `hold/{job}.release`).
fn spawn(data: &Path, out: &Path, hold: &Path, env: &[(&str, String)]) -> Watcher {
    std::fs::create_dir_all(hold).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bincio-gen"));
    cmd.args(["watch", "--rescan-s", "1", "--data-dir"])
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

/// brut uploads a 12-minute walk (as the daemon stores it) and the test waits until either
/// that job is final with dave's long job provably in progress (`in_progress`: held
/// mid-way), or `long_job` is final. brut's job must be done first, with its page on disk,
/// while dave's job is still running.
fn brut_uploads_while(data: &Path, out: &Path, long_job: &str, in_progress: impl Fn() -> bool) {
    let dir = data.join("brut/originals/job-brut");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("walk.gpx"), gpx_walk()).unwrap();
    enqueue(data, "job-brut", "brut", "upload", &["originals/job-brut/walk.gpx"]);
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
    let st = status(data, "job-brut").unwrap();
    assert_eq!(st.state, JobState::Done, "{}", st.message);
    assert_eq!(st.new_activity_ids, ["2026-01-02T120000Z"], "{st:?}");
    assert!(out.join("activity/2026-01-02T120000Z/index.html").is_file(), "brut's page");
    assert_eq!(long.state, JobState::Running, "{long:?}");
}

/// Release a held job and wait until it is final; returns its status.
fn release(data: &Path, hold: &Path, job: &str) -> JobStatus {
    std::fs::write(hold.join(format!("{job}.release")), b"").unwrap();
    wait_for(&format!("{job} to end"), || is_final(data, job));
    status(data, job).unwrap()
}

const EXPORT_FILES: usize = 150;

/// A Strava export of `EXPORT_FILES` short rides (more than one import batch), laid out like
/// Strava's "Download your data".
fn write_big_export(path: &Path) {
    use std::io::Write;
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let o = zip::write::SimpleFileOptions::default();
    let mut csv = String::from("Activity ID,Activity Date,Activity Name,Activity Type,Filename\n");
    let day0 = time::macros::datetime!(2025-01-01 07:00 UTC);
    for i in 0..EXPORT_FILES {
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
    let _w = spawn(&data, &out, &hold, &[]);
    warm_up(&data);

    let dir = data.join("dave/originals/job-export");
    std::fs::create_dir_all(&dir).unwrap();
    write_big_export(&dir.join("export_1234.zip"));
    enqueue(&data, "job-export", "dave", "upload", &["originals/job-export/export_1234.zip"]);
    wait_for("the import to start", || {
        status(&data, "job-export").is_some_and(|s| s.state != JobState::Queued)
    });
    brut_uploads_while(&data, &out, "job-export", || hold.join("job-export.held").is_file());
    // Provably mid-way: held after a batch, with part of the export in the store.
    let mid = status(&data, "job-export").unwrap();
    assert!(mid.message.starts_with("importing the Strava export: "), "{mid:?}");
    assert!(mid.done > 0 && mid.done < mid.total, "{mid:?}");

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
    // brut's page is still there, and no staging folder is left in dave's folder.
    assert!(out.join("activity/2026-01-02T120000Z/index.html").is_file());
    let staging: Vec<_> = std::fs::read_dir(data.join("dave"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".strava-export"))
        .collect();
    assert!(staging.is_empty(), "{staging:?}");
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
