//! The queue protocol between `bincio-api` (writer) and `bincio-gen watch` (consumer).
//!
//! A request is one small JSON file `_queue/{job_id}.json`, written atomically after the
//! change it describes is durable. The watcher coalesces requests per handle, does the
//! work, writes `_queue/status/{job_id}.json` and only then deletes the request, so a crash
//! at any point means the request is simply redone. See `docs/queue.md`.

use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// What changed, so the watcher can do as little as possible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// New originals were stored: extract them, then merge and render.
    Upload,
    /// A sidecar or photo changed: merge and render.
    Edit,
    /// An activity was deleted.
    Delete,
    /// `edits/athlete.yaml` changed.
    Athlete,
    /// Re-render the user (admin rebuild, account created, display name changed). For a
    /// handle whose folder is gone (a deleted account) the watcher unpublishes the user
    /// instead: their pages and files go, the shared pages forget them.
    Rebuild,
    /// Apply the elevation choice of `activity_id`'s sidecar (terrain model, smoothing, or
    /// none: back to the device's altitude), then merge and render.
    Elevation,
    /// Recalculate the elevation of every listed activity of the user with the method in
    /// `elevation` (`dem`, `smoothing`, `restore`), each choice also written to the
    /// activity's sidecar, then merge and render. A long job (terrain lookups for thousands
    /// of activities): the background lane, a batch at a time.
    ElevationAll,
    /// Sync the user's Strava account (`strava_token.json`): fetch what is new, store it,
    /// then merge and render. A long job: it may wait for Strava's rate limit.
    StravaSync,
    /// Fetch the instances this one follows and re-render the pages that list them (the
    /// combined feed). Not about a user: `handle` is [`FEDERATION_JOB_HANDLE`]. The watcher
    /// queues one every `--federation-refresh-min` minutes; see `docs/federation.md`.
    Federation,
}

impl ChangeKind {
    /// True for long work that is not one user's edit (a whole-account sync, a recalculation
    /// of all a user's activities; an upload of a
    /// Strava export is long too, see [`QueueRequest::is_background`]). The watcher runs these in its
    /// background lane, beside the per-user jobs, so they never delay an upload or an edit
    /// (`docs/queue.md`, "Two lanes"). The match is exhaustive on purpose: a new variant must
    /// say which lane it belongs to.
    pub fn is_background(self) -> bool {
        match self {
            ChangeKind::Upload
            | ChangeKind::Edit
            | ChangeKind::Delete
            | ChangeKind::Athlete
            | ChangeKind::Rebuild => false,
            // One activity's recalculation is an edit the user waits for (milliseconds per
            // activity once its tiles are loaded); all of a user's is `ElevationAll`.
            ChangeKind::Elevation => false,
            // A sync may wait a quarter of an hour for Strava's rate limit; a whole user's
            // recalculation looks up terrain heights for every activity.
            ChangeKind::StravaSync | ChangeKind::ElevationAll => true,
            // The fetching runs on a thread of its own before the job is queued; the job
            // itself re-renders the shared pages, as quick as any user's edit.
            ChangeKind::Federation => false,
        }
    }
}

/// True for a file an upload request lists that is a Strava export the daemon kept whole
/// (`originals/{job}/export_1234.zip`): the daemon unpacks every other ZIP, so a listed
/// `.zip` is always an export, which the watcher imports in its background lane.
pub fn is_strava_export(rel: &str) -> bool {
    rel.rsplit('/').next().is_some_and(|name| {
        name.len() > 4 && name.get(name.len() - 4..).is_some_and(|e| e.eq_ignore_ascii_case(".zip"))
    })
}

impl QueueRequest {
    /// True for a request of the watcher's background lane: a background kind
    /// ([`ChangeKind::is_background`]), or an upload that lists a Strava export (importing
    /// thousands of activities is long work, whoever uploaded it; `docs/queue.md`).
    pub fn is_background(&self) -> bool {
        self.change.is_background()
            || (self.change == ChangeKind::Upload && self.files.iter().any(|f| is_strava_export(f)))
    }
}

/// The `handle` of a [`ChangeKind::Federation`] request, which concerns no user. A valid
/// handle (the queue refuses others), never required to be a user folder.
pub const FEDERATION_JOB_HANDLE: &str = "federation";

/// `_queue/{job_id}.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueRequest {
    pub job_id: String,
    pub handle: String,
    pub change: ChangeKind,
    pub created_at: Timestamp,
    /// For uploads: the stored originals, relative to the user directory
    /// (`originals/2024-06-01-ride.fit`).
    #[serde(default)]
    pub files: Vec<String>,
    /// For edits and deletes: the activity concerned.
    #[serde(default)]
    pub activity_id: Option<String>,
    /// Not before this time: the watcher leaves the request alone until then (a Strava sync
    /// paused by the daily rate limit continues by itself when the limit resets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    /// For `elevation_all`: the method, `dem`, `smoothing` (or its older name `hysteresis`)
    /// or `restore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation: Option<String>,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

/// One file that could not be imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    pub path: String,
    pub reason: String,
}

/// `_queue/status/{job_id}.json`, written by the watcher, read by the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub job_id: String,
    pub handle: String,
    pub state: JobState,
    /// Short human-readable phase: "extracting 3/10", "rendering", "done".
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub done: u64,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// IDs of activities this job added.
    #[serde(default)]
    pub new_activity_ids: Vec<String>,
    #[serde(default)]
    pub failures: Vec<JobFailure>,
}

/// True when a job id is safe as a file name: 1-64 of `[A-Za-z0-9_-]`.
pub fn is_valid_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(files: &[&str]) -> QueueRequest {
        QueueRequest {
            job_id: "j".to_owned(),
            handle: "dave".to_owned(),
            change: ChangeKind::Upload,
            created_at: Timestamp::from_unix_ms(0, 0).expect("epoch"),
            files: files.iter().map(|f| (*f).to_owned()).collect(),
            activity_id: None,
            not_before: None,
            elevation: None,
        }
    }

    #[test]
    fn an_upload_listing_a_strava_export_is_background_work() {
        assert!(!upload(&["originals/j/ride.fit", "originals/j/zip.gpx"]).is_background());
        assert!(upload(&["originals/j/ride.fit", "originals/j/export_1.ZIP"]).is_background());
        assert!(upload(&["_uploads/j/export.zip"]).is_background());
        assert!(!is_strava_export("originals/j/.zip") && !is_strava_export("originals/zip"));
        let mut edit = upload(&["originals/j/export.zip"]);
        edit.change = ChangeKind::Edit;
        assert!(!edit.is_background(), "only uploads list files to import");
        edit.change = ChangeKind::StravaSync;
        assert!(edit.is_background());
        edit.change = ChangeKind::ElevationAll;
        assert!(edit.is_background());
        edit.change = ChangeKind::Elevation;
        assert!(!edit.is_background(), "one activity's recalculation is an edit");
    }
}
