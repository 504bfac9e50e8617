//! Writing queue requests for `bincio-gen watch` and reading job progress back.
//!
//! The request is written (atomically) only after the change it describes is on disk, so
//! the watcher never sees a request for a file that is not there yet. Status files are
//! written by the watcher; this module only reads them.

use crate::error::ApiError;
use bincio_bas::InstanceRoot;
use bincio_bas::queue::{ChangeKind, JobState, JobStatus, QueueRequest, is_valid_job_id};
use bincio_bas::timestamp::Timestamp;
use serde::Serialize;

/// A new job id: time-ordered, unguessable suffix, valid as a file name.
pub fn new_job_id() -> Result<String, ApiError> {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    Ok(format!("{ms}-{}", hex::encode(crate::auth::random_bytes::<6>()?)))
}

fn now_ts() -> Timestamp {
    Timestamp(time::OffsetDateTime::now_utc())
}

/// Write `_queue/{job_id}.json` (blocking; call from `spawn_blocking` or a CLI).
pub fn enqueue_blocking(
    root: &InstanceRoot,
    job_id: &str,
    handle: &str,
    change: ChangeKind,
    files: Vec<String>,
    activity_id: Option<String>,
) -> Result<(), ApiError> {
    let req = QueueRequest {
        job_id: job_id.to_owned(),
        handle: handle.to_owned(),
        change,
        created_at: now_ts(),
        files,
        activity_id,
        not_before: None,
        elevation: None,
    };
    let path = root.queue_dir().join(format!("{job_id}.json"));
    std::fs::create_dir_all(root.queue_status_dir())?;
    bincio_bas::fsx::write_json(&path, &req)?;
    Ok(())
}

/// The job id of a `change` request of `handle` still in the queue (a Strava sync waiting
/// for the rate limit to reset, say), if there is one.
pub fn pending_blocking(
    root: &InstanceRoot,
    handle: &str,
    change: ChangeKind,
) -> Result<Option<String>, ApiError> {
    let Ok(entries) = std::fs::read_dir(root.queue_dir()) else { return Ok(None) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // Temp files start with a dot; anything else that is not a request is the watcher's.
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let Ok(bytes) = std::fs::read(e.path()) else { continue };
        let Ok(req) = serde_json::from_slice::<QueueRequest>(&bytes) else { continue };
        if req.handle == handle && req.change == change {
            return Ok(Some(req.job_id));
        }
    }
    Ok(None)
}

/// What the API reports about a job.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    pub job_id: String,
    pub handle: String,
    pub state: JobState,
    pub message: String,
    pub done: u64,
    pub total: u64,
    pub new_activity_ids: Vec<String>,
    pub failures: Vec<bincio_bas::queue::JobFailure>,
}

impl From<JobStatus> for JobView {
    fn from(s: JobStatus) -> Self {
        Self {
            job_id: s.job_id,
            handle: s.handle,
            state: s.state,
            message: s.message,
            done: s.done,
            total: s.total,
            new_activity_ids: s.new_activity_ids,
            failures: s.failures,
        }
    }
}

/// A job's state: the watcher's status file, else "queued" while the request waits
/// ("queued (background)" for long work, which the watcher's background lane runs one at a
/// time beside the per-user jobs: `QueueRequest::is_background`).
pub fn read_job_blocking(root: &InstanceRoot, job_id: &str) -> Result<Option<JobView>, ApiError> {
    if !is_valid_job_id(job_id) {
        return Err(ApiError::InvalidPath("job id"));
    }
    let status = root.queue_status_dir().join(format!("{job_id}.json"));
    match std::fs::read(&status) {
        Ok(bytes) => {
            let s: JobStatus = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            return Ok(Some(s.into()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let request = root.queue_dir().join(format!("{job_id}.json"));
    match std::fs::read(&request) {
        Ok(bytes) => {
            let r: QueueRequest = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            let lane = if r.is_background() { "queued (background)" } else { "queued" };
            Ok(Some(JobView {
                job_id: r.job_id,
                handle: r.handle,
                state: JobState::Queued,
                message: lane.into(),
                done: 0,
                total: r.files.len() as u64,
                new_activity_ids: Vec::new(),
                failures: Vec::new(),
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every job not yet done or failed: pending requests and running statuses.
pub fn active_jobs_blocking(root: &InstanceRoot) -> Result<Vec<JobView>, ApiError> {
    let mut out = Vec::new();
    let dir = root.queue_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
        if !is_valid_job_id(id) {
            continue; // temp files of an in-progress write
        }
        if let Ok(Some(job)) = read_job_blocking(root, id)
            && matches!(job.state, JobState::Queued | JobState::Running)
        {
            out.push(job);
        }
    }
    out.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A waiting request says which lane it waits in: an upload of a Strava export is long
    // work, queued behind the other background jobs, not behind the uploads.
    #[test]
    fn a_waiting_request_says_its_lane() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = InstanceRoot::new(tmp.path());
        std::fs::create_dir_all(root.queue_dir()).expect("queue");
        let files = |f: &str| vec![f.to_owned()];
        enqueue_blocking(
            &root,
            "j-fit",
            "dave",
            ChangeKind::Upload,
            files("originals/j/a.fit"),
            None,
        )
        .expect("enqueue");
        enqueue_blocking(
            &root,
            "j-zip",
            "dave",
            ChangeKind::Upload,
            files("originals/j/e.zip"),
            None,
        )
        .expect("enqueue");
        enqueue_blocking(&root, "j-sync", "dave", ChangeKind::StravaSync, vec![], None)
            .expect("enqueue");
        let message =
            |job: &str| read_job_blocking(&root, job).expect("read").expect("job").message;
        assert_eq!(message("j-fit"), "queued");
        assert_eq!(message("j-zip"), "queued (background)");
        assert_eq!(message("j-sync"), "queued (background)");
    }
}
