//! The regeneration queue consumer behind `bincio-gen watch`.
//!
//! `bincio-api` writes one request `_queue/{job_id}.json` (temp + rename) after the change
//! it describes is durable. This module scans `_queue/` at start-up and whenever `notify`
//! reports a change (plus a periodic rescan, in case an event is lost), coalesces pending
//! requests per handle, and for each handle: extracts new originals (uploads), merges and
//! re-renders that user plus the shared pages. Progress and outcome go to
//! `_queue/status/{job_id}.json`; a request file is deleted only after its job finished, so
//! a crash or `kill -9` at any point simply redoes the job at the next start. Formats:
//! `docs/queue.md`.
//!
//! Two lanes (`docs/queue.md`, "Two lanes"): per-user jobs (uploads, edits, deletes) run in
//! the foreground lane; long work (`QueueRequest::is_background`: a whole-account Strava
//! sync, the import of an uploaded Strava export) runs in a background lane on its own
//! thread, so it never delays an upload. The two share one store lock: a background job does
//! its long part (network, reading an archive) without it and writes what it imports in
//! batches, each under the lock and published before the lock is let go; what remains is the
//! normal per-user regeneration, as short as an upload's job.

use crate::extract::Failure;
use crate::site::{self, SiteOptions};
use crate::strava::api::{Clock, SystemClock};
use bincio_bas::fsx;
use bincio_bas::layout;
use bincio_bas::queue::{
    ChangeKind, JobFailure, JobState, JobStatus, QueueRequest, is_valid_job_id,
};
use bincio_bas::{Handle, InstanceRoot};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Why the watcher stopped (a failed job does not stop it: it is recorded in its status).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch {path}: {source}")]
    Notify {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error(transparent)]
    Write(#[from] fsx::FsxError),
    #[error("initial render failed: {0}")]
    Render(#[from] site::SiteError),
}

/// A pending request and the file it came from.
#[derive(Clone, Debug)]
pub struct Pending {
    pub path: PathBuf,
    pub request: QueueRequest,
}

/// Read every request in `_queue/` (oldest first). Files that are not valid requests are
/// moved to `_queue/rejected/` with a failed status when their job id is usable, so one
/// bad file never blocks the queue. Dot-files (writers' temp files) are ignored.
pub fn scan(root: &InstanceRoot) -> Result<Vec<Pending>, QueueError> {
    let dir = root.queue_dir();
    std::fs::create_dir_all(root.queue_status_dir())
        .map_err(|source| QueueError::Io { path: dir.clone(), source })?;
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(&dir).map_err(|source| QueueError::Io { path: dir.clone(), source })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with('.') || !name.ends_with(".json") || !path.is_file() {
            continue;
        }
        let parsed: Result<QueueRequest, String> = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .and_then(|r: QueueRequest| {
                if !is_valid_job_id(&r.job_id) {
                    Err(format!("invalid job_id {:?}", r.job_id))
                } else if Handle::new(&r.handle).is_err() {
                    Err(format!("invalid handle {:?}", r.handle))
                } else if !root.path().join(&r.handle).is_dir()
                    && !matches!(r.change, ChangeKind::Rebuild | ChangeKind::Federation)
                {
                    // A rebuild of a handle whose folder is gone is how a deleted account
                    // is unpublished (see `run_jobs`); anything else for it has no work.
                    Err(format!("unknown user {:?}", r.handle))
                } else {
                    Ok(r)
                }
            });
        match parsed {
            Ok(request) => out.push(Pending { path, request }),
            Err(reason) => reject(root, &path, &name, &reason)?,
        }
    }
    out.sort_by(|a, b| {
        a.request
            .created_at
            .unix_ms()
            .cmp(&b.request.created_at.unix_ms())
            .then_with(|| a.request.job_id.cmp(&b.request.job_id))
    });
    Ok(out)
}

fn reject(root: &InstanceRoot, path: &Path, name: &str, reason: &str) -> Result<(), QueueError> {
    tracing::warn!(path = %path.display(), "rejected queue request: {reason}");
    let stem = name.trim_end_matches(".json");
    if is_valid_job_id(stem) {
        write_status(
            root,
            &JobStatus {
                job_id: stem.to_owned(),
                handle: String::new(),
                state: JobState::Failed,
                message: format!("rejected: {reason}"),
                done: 0,
                total: 0,
                updated_at: Some(crate::extract::now()),
                new_activity_ids: Vec::new(),
                failures: Vec::new(),
            },
        )?;
    }
    let rejected = root.queue_dir().join("rejected");
    std::fs::create_dir_all(&rejected)
        .map_err(|source| QueueError::Io { path: rejected.clone(), source })?;
    match std::fs::rename(path, rejected.join(name)) {
        Ok(()) => Ok(()),
        // Both lanes scan the queue: the other one may have moved it first.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(QueueError::Io { path: path.to_path_buf(), source }),
    }
}

fn write_status(root: &InstanceRoot, status: &JobStatus) -> Result<(), QueueError> {
    let path = root.queue_status_dir().join(format!("{}.json", status.job_id));
    fsx::write_json(&path, status)?;
    Ok(())
}

/// Group requests per handle (handles in order of their oldest request).
pub fn coalesce(pending: Vec<Pending>) -> Vec<(String, Vec<Pending>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
    for p in pending {
        if !groups.contains_key(&p.request.handle) {
            order.push(p.request.handle.clone());
        }
        groups.entry(p.request.handle.clone()).or_default().push(p);
    }
    order.into_iter().filter_map(|h| groups.remove(&h).map(|g| (h, g))).collect()
}

/// Settings of the watcher.
#[derive(Clone, Debug)]
pub struct WatchSettings {
    pub site: SiteOptions,
    /// Rescan interval when no event arrives.
    pub rescan: Duration,
    /// Testing aid: sleep this long inside each job (after "running" is recorded), so a test
    /// can kill the process mid-job. Zero in production.
    pub job_delay: Duration,
    /// How often to refresh the followed instances (a [`ChangeKind::Federation`] job);
    /// `None` never does.
    pub federation_refresh: Option<Duration>,
    /// Which requests are background work, and what that work is.
    pub lanes: Lanes,
    /// Held while a user's store and the site are written (a foreground job, or the
    /// regeneration that ends a background job); shared by the clones of these settings.
    pub store_lock: Arc<Mutex<()>>,
    /// The users loaded by the previous job, kept in memory so that a job reads only the
    /// users it touches (`site::load::LoadCache`). Used under `store_lock`.
    pub loaded: Arc<Mutex<site::load::LoadCache>>,
    /// The time: when a deferred request is due (`QueueRequest::not_before`), and the
    /// Strava sync's rate-limit arithmetic. The system clock in production; tests put a
    /// clock of their own here rather than sleep through a real rate-limit window.
    pub clock: Arc<dyn Clock>,
    /// Strava's API base (`BINCIO_STRAVA_URL` at start-up; a test's stand-in).
    pub strava_base: String,
    /// Testing aid: hold each background job once at its first progress point mid-way
    /// (some of its work stored and published, the store lock free): the watcher writes
    /// `{dir}/{job_id}.held`, then waits until `{dir}/{job_id}.release` exists, so a test
    /// proves what runs meanwhile without timing anything. `None` in production: only a
    /// debug build reads it from `BINCIO_WATCH_TEST_HOLD_DIR` (`cmd/watch.rs`).
    pub test_hold: Option<PathBuf>,
}

impl WatchSettings {
    /// Production settings: the lanes of [`Lanes::default`], no job delay.
    pub fn new(site: SiteOptions, rescan: Duration) -> Self {
        WatchSettings {
            site,
            rescan,
            job_delay: Duration::ZERO,
            federation_refresh: None,
            lanes: Lanes::default(),
            store_lock: Arc::default(),
            loaded: Arc::default(),
            clock: Arc::new(SystemClock),
            strava_base: crate::strava::base_url(),
            test_hold: None,
        }
    }

    fn loaded(&self) -> MutexGuard<'_, site::load::LoadCache> {
        self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take the store lock. A lane that panicked while holding it left nothing half-written
    /// (every file is replaced atomically), so a poisoned lock is simply taken.
    fn lock_store(&self) -> MutexGuard<'_, ()> {
        self.store_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a background job's own work produced, before the user's regeneration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackgroundOutcome {
    /// Said in the job's final status, before the regeneration's figures
    /// ("12 activities imported").
    pub message: String,
    /// Files the work stored in the user's folder, relative to it as an upload request lists
    /// them: the regeneration extracts them. Empty: merge and render only.
    pub files: Vec<String>,
    /// Activities the work stored itself (a Strava sync), reported as the job's new ones.
    pub new_activity_ids: Vec<String>,
    /// The work is not finished and continues by itself at this Unix time (a Strava sync
    /// paused by the daily rate limit): after the regeneration the request stays queued
    /// with `not_before`, under the same job id, its status saying until when it waits.
    pub resume_at: Option<i64>,
    /// What could not be imported (an export's unreadable entries), the job's `failures`.
    pub failures: Vec<JobFailure>,
}

/// The long part of one background request: takes the request, returns the job's outcome
/// (or why it failed). It runs without the store lock, so it writes the user's store only
/// through [`commit_gate`] (a batch at a time, under the lock, published at once), or leaves
/// new files where `files` says; the watcher then regenerates the user under the lock.
pub type BackgroundWork = fn(&WatchSettings, &QueueRequest) -> Result<BackgroundOutcome, String>;

/// How the watcher splits requests into its two lanes.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    /// True for a request of the background lane.
    pub is_background: fn(&QueueRequest) -> bool,
    /// The work of a background request.
    pub work: BackgroundWork,
}

impl Default for Lanes {
    fn default() -> Self {
        Lanes { is_background: QueueRequest::is_background, work: background_work }
    }
}

/// The one dispatch of background requests: each background `ChangeKind` is one line here,
/// calling the one function of its own module.
fn background_work(
    settings: &WatchSettings,
    request: &QueueRequest,
) -> Result<BackgroundOutcome, String> {
    match request.change {
        ChangeKind::StravaSync => strava_sync(settings, request),
        // An upload that lists a Strava export (`QueueRequest::is_background`).
        ChangeKind::Upload => strava_export(settings, request),
        ChangeKind::ElevationAll => elevation_all(settings, request),
        ChangeKind::Edit
        | ChangeKind::Delete
        | ChangeKind::Athlete
        | ChangeKind::Rebuild
        | ChangeKind::Elevation
        | ChangeKind::Federation => Err(format!("{:?} is not background work", request.change)),
    }
}

/// The gate a background job writes its batches through (`commit::Commit`): the store lock
/// around the write, then the user's pages and the shared pages rendered from it before the
/// lock is let go. So the lock is held one batch at a time (a foreground job waits at most
/// for one batch and its publication, never for the whole import), and no page ever lists
/// an activity whose own page is not written yet.
fn commit_gate(settings: &WatchSettings, handle: &str) -> crate::commit::Commit {
    let site = SiteOptions { handle: Some(handle.to_owned()), ..settings.site.clone() };
    let (store_lock, loaded) = (Arc::clone(&settings.store_lock), Arc::clone(&settings.loaded));
    crate::commit::Commit::new(move |write| {
        let _store = store_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        write();
        let mut cache = loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A failed publication leaves the previous pages; the job's final regeneration
        // renders again and reports the error in its status.
        if let Err(e) = site::render::build_cached(&site, &mut cache) {
            tracing::error!(handle = ?site.handle, "batch stored but not published: {e}");
        }
    })
}

/// Write a background job's progress (state `running`). Mid-way (`0 < done < total`) is
/// also where a test may hold the job ([`WatchSettings::test_hold`]).
fn background_progress(
    settings: &WatchSettings,
    request: &QueueRequest,
    msg: &str,
    done: u64,
    total: u64,
) {
    let root = InstanceRoot::new(&settings.site.data_dir);
    let mut s = queued(&request.handle, &request.job_id, msg);
    s.state = JobState::Running;
    (s.done, s.total) = (done, total);
    if let Err(e) = write_status(&root, &s) {
        tracing::warn!(handle = %request.handle, job = %request.job_id, "progress not written: {e}");
    }
    if done > 0 && done < total {
        test_hold(settings, &request.job_id, msg);
    }
}

/// The test hold ([`WatchSettings::test_hold`]): once per job, wait for the test's release
/// (at most ten minutes, so a forgotten release never wedges the lane for ever).
fn test_hold(settings: &WatchSettings, job_id: &str, msg: &str) {
    let Some(dir) = &settings.test_hold else { return };
    let held = dir.join(format!("{job_id}.held"));
    if held.exists() {
        return;
    }
    if let Err(e) = std::fs::write(&held, msg) {
        tracing::warn!(path = %held.display(), "test hold not written: {e}");
        return;
    }
    let release = dir.join(format!("{job_id}.release"));
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while !release.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A user's Strava sync: progress (n of N, or the rate-limit pause) in the job's status as it
/// goes; each batch it imports is stored and published through [`commit_gate`], so the
/// regeneration is a re-render of what is left.
fn strava_sync(
    settings: &WatchSettings,
    request: &QueueRequest,
) -> Result<BackgroundOutcome, String> {
    let progress = |msg: &str, done: u64, total: u64| {
        background_progress(settings, request, msg, done, total);
    };
    let report = crate::strava::job::run(
        &settings.site.data_dir,
        &request.handle,
        &progress,
        commit_gate(settings, &request.handle),
        settings.clock.as_ref(),
        &settings.strava_base,
    )
    .map_err(|e| format!("Strava sync failed: {e}"))?;
    tracing::info!(handle = %request.handle, "{}", crate::strava::job::summary(&report));
    let mut message = crate::strava::job::summary(&report);
    for (id, reason) in &report.failed {
        message.push_str(&format!("; strava:{id}: {reason}"));
    }
    Ok(BackgroundOutcome {
        message,
        files: Vec::new(),
        new_activity_ids: report.new_ids,
        resume_at: report.paused_until,
        failures: Vec::new(),
    })
}

/// A recalculation of all a user's activities (`elevation::job::run_all`): the terrain
/// lookups of each batch without the store lock, the batch written and published through
/// [`commit_gate`]; progress `recalculating elevation: 32 of 415 activities`.
fn elevation_all(
    settings: &WatchSettings,
    request: &QueueRequest,
) -> Result<BackgroundOutcome, String> {
    let root = InstanceRoot::new(&settings.site.data_dir);
    let method = request.elevation.as_deref().ok_or_else(|| {
        "an elevation_all request needs `elevation`: dem, smoothing or restore".to_owned()
    })?;
    let progress = |done: usize, total: usize| {
        let msg = format!("recalculating elevation: {done} of {total} activities");
        background_progress(settings, request, &msg, done as u64, total as u64);
    };
    let commit = commit_gate(settings, &request.handle);
    let o =
        crate::elevation::job::run_all(&root, &request.handle, method, &progress, Some(&commit))?;
    Ok(BackgroundOutcome { message: o.message, failures: o.failures, ..Default::default() })
}

/// An upload that lists a Strava export the daemon kept whole: each export is imported as
/// `bincio-gen import strava-export` does (`strava::export::import_zip`), reading the archive
/// without the store lock and extracting its activities a batch at a time through
/// [`commit_gate`]; the other files the upload lists are left to the regeneration, an
/// upload job of just those. The job's activities are every export's (new or already held);
/// an export's unreadable entries are its failures (`export.zip: activities/x.fit.gz`).
fn strava_export(
    settings: &WatchSettings,
    request: &QueueRequest,
) -> Result<BackgroundOutcome, String> {
    let user_dir = settings.site.data_dir.join(&request.handle);
    let mut outcome = BackgroundOutcome::default();
    let mut messages = Vec::new();
    for rel in &request.files {
        if !bincio_bas::queue::is_strava_export(rel) {
            outcome.files.push(rel.clone());
            continue;
        }
        let zip = match listed_file(&user_dir, rel) {
            Ok(p) => p,
            Err(reason) => {
                outcome.failures.push(JobFailure { path: rel.clone(), reason });
                continue;
            }
        };
        background_progress(settings, request, "importing the Strava export: reading it", 0, 0);
        let progress = |done: usize, total: usize| {
            let msg = format!("importing the Strava export: {done} of {total} files");
            background_progress(settings, request, &msg, done as u64, total as u64);
        };
        let commit = commit_gate(settings, &request.handle);
        let imported = crate::strava::export::import_zip(
            &zip,
            &user_dir,
            &request.handle,
            &progress,
            Some(&commit),
        );
        match imported {
            Ok(r) => {
                tracing::info!(handle = %request.handle, "{}", r.summary_line(&request.handle));
                messages.push(r.summary_line("Strava export"));
                outcome.new_activity_ids.extend(r.stored_ids.iter().cloned());
                outcome.failures.extend(r.failed.iter().map(|(what, reason)| JobFailure {
                    path: format!("{}: {what}", zip.display()),
                    reason: reason.clone(),
                }));
            }
            Err(e) => outcome
                .failures
                .push(JobFailure { path: zip.display().to_string(), reason: e.to_string() }),
        }
    }
    outcome.message = messages.join("; ");
    Ok(outcome)
}

/// The activity IDs each job reports (`new_activity_ids`), by job id.
type IdsByJob = BTreeMap<String, Vec<String>>;

/// Process one handle's coalesced jobs: extract (when an upload is among them), merge and
/// render. Statuses say running, then done or failed; the request files are deleted last.
/// When the user's folder is gone (a deleted account), the jobs unpublish the user instead:
/// their pages and files are removed and the shared pages re-rendered without them.
pub fn run_jobs(
    settings: &WatchSettings,
    handle: &str,
    jobs: &[Pending],
) -> Result<(), QueueError> {
    run_jobs_noted(settings, handle, jobs, None, true)
}

/// [`run_jobs`], ending a background job: its `outcome` (what its own work did: message,
/// activities, failures) is said in the final status. With `finish` false (background work
/// that continues later) the last status stays `running` and the requests are left for the
/// caller.
fn run_jobs_noted(
    settings: &WatchSettings,
    handle: &str,
    jobs: &[Pending],
    outcome: Option<&BackgroundOutcome>,
    finish: bool,
) -> Result<(), QueueError> {
    let note = outcome
        .map(|o| o.message.as_str())
        .filter(|n| !n.is_empty())
        .map(|n| format!("{n}; "))
        .unwrap_or_default();
    let known_ids: &[String] = outcome.map_or(&[], |o| &o.new_activity_ids);
    let root = InstanceRoot::new(&settings.site.data_dir);
    let status = |state: JobState, message: &str, failures: &[JobFailure]| JobStatus {
        job_id: String::new(),
        handle: handle.to_owned(),
        state,
        message: message.to_owned(),
        done: u64::from(matches!(state, JobState::Done | JobState::Failed)),
        total: 1,
        updated_at: Some(crate::extract::now()),
        new_activity_ids: Vec::new(),
        failures: failures.to_vec(),
    };
    let mark = |s: &JobStatus, ids: &IdsByJob| -> Result<(), QueueError> {
        for j in jobs {
            let new_activity_ids = ids.get(&j.request.job_id).cloned().unwrap_or_default();
            write_status(
                &root,
                &JobStatus { job_id: j.request.job_id.clone(), new_activity_ids, ..s.clone() },
            )?;
        }
        Ok(())
    };
    let none = IdsByJob::new();
    mark(&status(JobState::Running, "started", &[]), &none)?;
    if !settings.job_delay.is_zero() {
        std::thread::sleep(settings.job_delay);
    }
    let user_dir = settings.site.data_dir.join(handle);
    if !user_dir.is_dir() {
        mark(&status(JobState::Running, "unpublishing", &[]), &none)?;
        match site::render::build_without_cached(&settings.site, handle, &mut settings.loaded()) {
            Ok(r) => {
                let msg = format!("done: user removed, {} files removed", r.files_removed);
                mark(&status(JobState::Done, &msg, &[]), &none)?;
                tracing::info!(handle, removed = r.files_removed, "user unpublished");
            }
            Err(e) => {
                tracing::error!(handle, "unpublishing failed: {e}");
                mark(&status(JobState::Failed, &format!("render failed: {e}"), &[]), &none)?;
            }
        }
        return delete_requests(jobs);
    }
    let mut ids = IdsByJob::new();
    // Activities a background job already stored (a Strava sync) are this job's new ones.
    if !known_ids.is_empty() {
        for j in jobs {
            ids.insert(j.request.job_id.clone(), known_ids.to_vec());
        }
    }
    let mut failures: Vec<JobFailure> = outcome.map(|o| o.failures.clone()).unwrap_or_default();
    let mut extracted = false;
    if jobs.iter().any(|j| j.request.change == ChangeKind::Upload) {
        mark(&status(JobState::Running, "extracting", &[]), &none)?;
        let (inputs, refused) = upload_inputs(&user_dir, jobs);
        failures.extend(refused);
        if !inputs.is_empty() {
            // The registry (stat + hash cache) makes files it already knows cheap, so a
            // request that lists a file twice or a fallback to all of originals/ costs little.
            let mut opts = crate::extract::ExtractOptions::new(&user_dir, handle);
            // An uploaded Strava activities.csv enriches the activity files uploaded with it
            // (titles, descriptions, Strava IDs); extraction itself skips the CSV.
            opts.metadata_csv = inputs
                .iter()
                .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
                .cloned();
            opts.inputs = inputs;
            match crate::extract::extract_user(&opts, &|_, _| {}) {
                Ok(report) => {
                    extracted = true;
                    for (job, found) in job_activity_ids(&user_dir, jobs, &report) {
                        ids.entry(job).or_default().extend(found);
                    }
                    failures.extend(report.failed.iter().map(|f| JobFailure {
                        path: f.path.display().to_string(),
                        reason: f.reason.clone(),
                    }));
                    remove_refused_uploads(&user_dir, jobs, &report.failed);
                }
                Err(e) => {
                    mark(&status(JobState::Failed, &format!("extract failed: {e}"), &[]), &none)?;
                    return delete_requests(jobs);
                }
            }
        }
    }
    // Elevation jobs change stored details; the render below publishes them.
    let mut notes = Vec::new();
    for j in jobs.iter().filter(|j| j.request.change == ChangeKind::Elevation) {
        mark(&status(JobState::Running, "recalculating elevation", &failures), &ids)?;
        let outcome = crate::elevation::job::run(&root, handle, &j.request);
        notes.push(outcome.message);
        failures.extend(outcome.failures);
    }
    mark(&status(JobState::Running, "rendering", &failures), &ids)?;
    let opts = SiteOptions { handle: Some(handle.to_owned()), ..settings.site.clone() };
    match site::render::build_cached(&opts, &mut settings.loaded()) {
        Ok(r) => {
            let notes: String = notes.iter().map(|n| format!("{n}; ")).collect();
            let msg = format!("done: {note}{notes}{} files written", r.files_written);
            if finish {
                mark(&status(JobState::Done, &msg, &failures), &ids)?;
            } else {
                let mut s = status(JobState::Running, &msg, &failures);
                s.done = 0;
                mark(&s, &ids)?;
            }
            tracing::info!(handle, jobs = jobs.len(), written = r.files_written, "job done");
        }
        Err(e) => {
            tracing::error!(handle, "render failed: {e}");
            mark(&status(JobState::Failed, &format!("render failed: {e}"), &failures), &ids)?;
        }
    }
    if finish {
        delete_requests(jobs)?;
    }
    if extracted {
        remove_unkept_uploads(&user_dir, jobs);
    }
    Ok(())
}

/// The activities each upload job's files are stored as. A listed file counts whether this
/// run extracted it or the store already held its content: a job redone after a crash that
/// came after its extraction still reports what its files became. A job without `files`
/// (all of `originals/`) reports the activities this run added.
fn job_activity_ids(
    user_dir: &Path,
    jobs: &[Pending],
    report: &crate::extract::Report,
) -> IdsByJob {
    let mut out = IdsByJob::new();
    for j in jobs.iter().filter(|j| j.request.change == ChangeKind::Upload) {
        let ids: Vec<String> = if j.request.files.is_empty() {
            report.new_ids.clone()
        } else {
            j.request
                .files
                .iter()
                .filter_map(|rel| report.stored_as.get(&user_dir.join(rel)).cloned())
                .collect()
        };
        let mut seen = std::collections::BTreeSet::new();
        let ids = ids.into_iter().filter(|id| seen.insert(id.clone())).collect();
        out.insert(j.request.job_id.clone(), ids);
    }
    out
}

/// What to extract for a handle's coalesced jobs: the files the upload requests list
/// (relative to the user folder), or all of `originals/` when an upload request lists none
/// (older writers, an admin's hand-written request). A listed path that is absolute, has
/// `..` or another non-plain component, is missing, or resolves (through a symlink) outside
/// the user folder is refused and reported as a failure of the job, never read.
pub fn upload_inputs(user_dir: &Path, jobs: &[Pending]) -> (Vec<PathBuf>, Vec<JobFailure>) {
    let mut inputs = Vec::new();
    let mut refused = Vec::new();
    let mut whole_originals = false;
    for j in jobs.iter().filter(|j| j.request.change == ChangeKind::Upload) {
        if j.request.files.is_empty() {
            whole_originals = true;
        }
        for rel in &j.request.files {
            // Only with lanes of a test's own: the default ones send every upload that lists
            // an export to the background lane, whose regeneration lists none.
            if bincio_bas::queue::is_strava_export(rel) {
                let reason = "a Strava export: imported by the background lane".to_owned();
                refused.push(JobFailure { path: rel.clone(), reason });
                continue;
            }
            match listed_file(user_dir, rel) {
                Ok(p) => inputs.push(p),
                Err(reason) => refused.push(JobFailure { path: rel.clone(), reason }),
            }
        }
    }
    let originals = user_dir.join(layout::ORIGINALS_DIR);
    if whole_originals && originals.is_dir() {
        inputs.push(originals);
    }
    inputs.sort();
    inputs.dedup();
    (inputs, refused)
}

/// Resolve one listed file inside `user_dir`, or say why not.
fn listed_file(user_dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel_path = Path::new(rel);
    let plain = !rel.is_empty()
        && rel_path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Err("refused: not a plain path inside the user folder".to_owned());
    }
    let path = user_dir.join(rel_path);
    let (Ok(real), Ok(base)) = (path.canonicalize(), user_dir.canonicalize()) else {
        return Err("missing".to_owned());
    };
    if !real.starts_with(&base) {
        return Err("refused: resolves outside the user folder".to_owned());
    }
    if !real.is_file() {
        return Err("not a file".to_owned());
    }
    Ok(path)
}

/// Uploads the user chose not to keep are staged in `_uploads/{job}/`: once extracted (and
/// the request deleted, so a crash before this point redoes the job with the files still
/// there) they are removed with their then-empty folders. Errors only leave leftovers.
fn remove_unkept_uploads(user_dir: &Path, jobs: &[Pending]) {
    for rel in jobs.iter().flat_map(|j| &j.request.files) {
        if !rel.starts_with("_uploads/") {
            continue;
        }
        let Ok(path) = listed_file(user_dir, rel) else { continue };
        remove_upload(user_dir, &path);
    }
}

/// A listed upload whose content can never be imported (not an activity, corrupt, a route:
/// `Failure::not_an_activity`) is deleted right after the extraction, before the status
/// says done, so a refused file never keeps using the user's disk; the status still names
/// it. Files that failed for a passing reason (unreadable) stay for the next attempt, and
/// only files the requests list are touched, never the rest of `originals/`.
fn remove_refused_uploads(user_dir: &Path, jobs: &[Pending], failed: &[Failure]) {
    let refused: Vec<&Path> =
        failed.iter().filter(|f| f.not_an_activity).map(|f| f.path.as_path()).collect();
    let uploads = jobs.iter().filter(|j| j.request.change == ChangeKind::Upload);
    for rel in uploads.flat_map(|j| &j.request.files) {
        let Ok(path) = listed_file(user_dir, rel) else { continue };
        if refused.contains(&path.as_path()) {
            remove_upload(user_dir, &path);
        }
    }
}

/// Remove one uploaded file and the folders under `originals/` or `_uploads/` it leaves
/// empty. Errors only leave leftovers (logged).
fn remove_upload(user_dir: &Path, path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), "cannot remove upload: {e}");
    }
    let tops = [user_dir.join(layout::ORIGINALS_DIR), user_dir.join(layout::UPLOADS_DIR)];
    let mut dir = path.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        // remove_dir fails on a non-empty folder, which is what stops the walk.
        let inside = tops.iter().any(|t| d.starts_with(t) && d != *t);
        if !inside || std::fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
}

fn delete_requests(jobs: &[Pending]) -> Result<(), QueueError> {
    for j in jobs {
        match std::fs::remove_file(&j.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(QueueError::Io { path: j.path.clone(), source }),
        }
    }
    Ok(())
}

fn queued(handle: &str, job_id: &str, message: &str) -> JobStatus {
    JobStatus {
        job_id: job_id.to_owned(),
        handle: handle.to_owned(),
        state: JobState::Queued,
        message: message.to_owned(),
        done: 0,
        total: 1,
        updated_at: Some(crate::extract::now()),
        new_activity_ids: Vec::new(),
        failures: Vec::new(),
    }
}

/// Run coalesced federation requests as one job ([`crate::federation::job::run`]: the
/// shared pages from the refreshed cache); statuses say running, then done (with each
/// failing remote) or failed.
fn run_federation(settings: &WatchSettings, jobs: &[Pending]) -> Result<(), QueueError> {
    let root = InstanceRoot::new(&settings.site.data_dir);
    let status = |state: JobState, message: String, job_id: &str| JobStatus {
        job_id: job_id.to_owned(),
        handle: bincio_bas::queue::FEDERATION_JOB_HANDLE.to_owned(),
        state,
        message,
        done: u64::from(matches!(state, JobState::Done | JobState::Failed)),
        total: 1,
        updated_at: Some(crate::extract::now()),
        new_activity_ids: Vec::new(),
        failures: Vec::new(),
    };
    for j in jobs {
        write_status(&root, &status(JobState::Running, "rendering".to_owned(), &j.request.job_id))?;
    }
    let (state, message) = match crate::federation::job::run(&settings.site, &mut settings.loaded())
    {
        Ok(outcome) => (JobState::Done, outcome.message()),
        Err(e) => (JobState::Failed, format!("render failed: {e}")),
    };
    tracing::info!("federation job: {message}");
    for j in jobs {
        write_status(&root, &status(state, message.clone(), &j.request.job_id))?;
    }
    delete_requests(jobs)
}

/// Queue a federation job (unless one is already queued): a request like the daemon's, so
/// the shared pages are re-rendered between the per-user jobs, never in front of them.
pub fn queue_federation_job(root: &InstanceRoot) -> Result<(), QueueError> {
    let dir = root.queue_dir();
    let pending = std::fs::read_dir(&dir)
        .map_err(|source| QueueError::Io { path: dir.clone(), source })?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("federation-"));
    if pending {
        return Ok(());
    }
    let now = crate::extract::now();
    let job_id = format!("federation-{}", now.unix_ms());
    let request = QueueRequest {
        job_id: job_id.clone(),
        handle: bincio_bas::queue::FEDERATION_JOB_HANDLE.to_owned(),
        change: ChangeKind::Federation,
        created_at: now,
        files: Vec::new(),
        activity_id: None,
        not_before: None,
        elevation: None,
    };
    fsx::write_json(&dir.join(format!("{job_id}.json")), &request)?;
    Ok(())
}

/// Queue a recalculation of all of `handle`'s activities with `method` (`dem`, `smoothing`,
/// `restore`) for the watcher's background lane, as `bincio-gen elevation --queue` does;
/// returns the job id (its status is `_queue/status/{job_id}.json`).
pub fn queue_elevation_all(
    root: &InstanceRoot,
    handle: &Handle,
    method: &str,
) -> Result<String, QueueError> {
    let dir = root.queue_dir();
    std::fs::create_dir_all(root.queue_status_dir())
        .map_err(|source| QueueError::Io { path: dir.clone(), source })?;
    let now = crate::extract::now();
    let mut job_id = format!("elevation-{}-{}", handle.as_str(), now.unix_ms());
    if !is_valid_job_id(&job_id) {
        job_id = format!("elevation-{}", now.unix_ms());
    }
    let request = QueueRequest {
        job_id: job_id.clone(),
        handle: handle.as_str().to_owned(),
        change: ChangeKind::ElevationAll,
        created_at: now,
        files: Vec::new(),
        activity_id: None,
        not_before: None,
        elevation: Some(method.to_owned()),
    };
    write_status(root, &queued(handle.as_str(), &job_id, "queued (background)"))?;
    fsx::write_json(&dir.join(format!("{job_id}.json")), &request)?;
    Ok(job_id)
}

/// The requests of one lane, oldest first.
fn scan_lane(
    root: &InstanceRoot,
    settings: &WatchSettings,
    background: bool,
) -> Result<Vec<Pending>, QueueError> {
    let mut pending = scan(root)?;
    pending.retain(|p| (settings.lanes.is_background)(&p.request) == background);
    Ok(pending)
}

/// Process every per-user (foreground) request pending now; returns the number of jobs
/// handled. Background requests are left to [`drain_background`].
pub fn drain(settings: &WatchSettings) -> Result<usize, QueueError> {
    let root = InstanceRoot::new(&settings.site.data_dir);
    let mut handled = 0;
    // Requests arriving while a job runs are picked up by the next loop iteration.
    loop {
        let pending = scan_lane(&root, settings, false)?;
        if pending.is_empty() {
            return Ok(handled);
        }
        for (handle, mut jobs) in coalesce(pending) {
            // Federation refreshes concern no user: one function runs them.
            let (federation, user_jobs): (Vec<Pending>, Vec<Pending>) =
                jobs.drain(..).partition(|j| j.request.change == ChangeKind::Federation);
            if !federation.is_empty() {
                let _store = settings.lock_store();
                run_federation(settings, &federation)?;
                handled += federation.len();
            }
            let jobs = user_jobs;
            if jobs.is_empty() {
                continue;
            }
            for j in &jobs {
                write_status(&root, &queued(&handle, &j.request.job_id, "queued"))?;
            }
            let _store = settings.lock_store();
            run_jobs(settings, &handle, &jobs)?;
            handled += jobs.len();
        }
    }
}

/// Process every background request pending now, one at a time, oldest first; returns the
/// number handled. Each does its work without the store lock, then regenerates its user
/// under it (see [`BackgroundWork`]).
pub fn drain_background(settings: &WatchSettings) -> Result<usize, QueueError> {
    let root = InstanceRoot::new(&settings.site.data_dir);
    let mut handled = 0;
    loop {
        let mut pending = scan_lane(&root, settings, true)?;
        // A deferred request (a sync waiting for Strava's daily limit) is left alone, its
        // status still saying until when it waits.
        let now_ms = settings.clock.now_s().saturating_mul(1000);
        pending.retain(|p| p.request.not_before.is_none_or(|t| t.unix_ms() <= now_ms));
        let Some(job) = pending.first() else { return Ok(handled) };
        for p in &pending[1..] {
            write_status(
                &root,
                &queued(&p.request.handle, &p.request.job_id, "queued (background)"),
            )?;
        }
        run_background(settings, &root, job)?;
        handled += 1;
    }
}

fn run_background(
    settings: &WatchSettings,
    root: &InstanceRoot,
    job: &Pending,
) -> Result<(), QueueError> {
    let handle = job.request.handle.clone();
    let mut status = queued(&handle, &job.request.job_id, "working");
    status.state = JobState::Running;
    write_status(root, &status)?;
    match (settings.lanes.work)(settings, &job.request) {
        Ok(outcome) => {
            // The regeneration is the normal per-user job: an upload of the files the work
            // stored, or a re-render when it stored none. It reports under this job's id and
            // deletes this request once done.
            let mut regen = job.clone();
            regen.request.change =
                if outcome.files.is_empty() { ChangeKind::Rebuild } else { ChangeKind::Upload };
            regen.request.files = outcome.files.clone();
            let _store = settings.lock_store();
            let finish = outcome.resume_at.is_none();
            run_jobs_noted(settings, &handle, &[regen], Some(&outcome), finish)?;
            if finish {
                // What the regeneration did not list (an export the user chose not to keep,
                // `_uploads/{job}/export.zip`) goes now that the request is gone.
                remove_unkept_uploads(
                    &settings.site.data_dir.join(&handle),
                    std::slice::from_ref(job),
                );
            }
            match outcome.resume_at {
                Some(at) if settings.site.data_dir.join(&handle).is_dir() => {
                    defer(root, job, at, &outcome)
                }
                _ => Ok(()),
            }
        }
        Err(reason) => {
            tracing::error!(handle, job = %job.request.job_id, "background job failed: {reason}");
            status.state = JobState::Failed;
            status.message = format!("failed: {reason}");
            status.done = 1;
            status.updated_at = Some(crate::extract::now());
            write_status(root, &status)?;
            delete_requests(std::slice::from_ref(job))
        }
    }
}

/// Leave a background request queued until `at` (Unix s): the same request, job id and
/// file, with `not_before`, and a status saying until when it waits and what it has done
/// so far. The request is rewritten in place (temp file + rename), so a crash at any point
/// leaves either the old request (redone at once) or the deferred one.
fn defer(
    root: &InstanceRoot,
    job: &Pending,
    at: i64,
    outcome: &BackgroundOutcome,
) -> Result<(), QueueError> {
    let mut request = job.request.clone();
    request.not_before = bincio_bas::Timestamp::from_unix_ms(at.saturating_mul(1000), 0);
    fsx::write_json(&job.path, &request)?;
    let mut status = queued(&request.handle, &request.job_id, "");
    status.state = JobState::Running;
    status.message = format!(
        "{}; continues by itself then ({})",
        crate::strava::job::paused_message(at),
        outcome.message
    );
    status.new_activity_ids = outcome.new_activity_ids.clone();
    write_status(root, &status)?;
    tracing::info!(handle = %request.handle, job = %request.job_id, at, "background job deferred");
    Ok(())
}

/// Render everything once, drain the queue, then wait for `notify` events (or the rescan
/// interval) and drain again, forever. With `once`, stop after the first drain.
pub fn watch(settings: &WatchSettings, once: bool) -> Result<(), QueueError> {
    use notify::Watcher;
    let root = InstanceRoot::new(&settings.site.data_dir);
    let qdir = root.queue_dir();
    std::fs::create_dir_all(root.queue_status_dir())
        .map_err(|source| QueueError::Io { path: qdir.clone(), source })?;
    // Start watching before the first scan, so nothing written meanwhile is missed.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (background_tx, background_rx) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if ev.is_ok_and(|ev| wakes(&ev)) {
            let _ = tx.send(());
            let _ = background_tx.send(());
        }
    })
    .map_err(|source| QueueError::Notify { path: qdir.clone(), source })?;
    watcher
        .watch(&qdir, notify::RecursiveMode::NonRecursive)
        .map_err(|source| QueueError::Notify { path: qdir.clone(), source })?;

    let report = site::render::build_cached(
        &SiteOptions { handle: None, ..settings.site.clone() },
        &mut settings.loaded(),
    )?;
    tracing::info!(
        written = report.files_written,
        "initial render done; watching {}",
        qdir.display()
    );
    if once {
        // `--once` renders what it fetched before it exits.
        refresh_federation(settings, &root);
    }
    let stop = &std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        if !once && let Some(every) = settings.federation_refresh {
            // The federation timer, at start-up and then every interval: the remotes are
            // fetched on a thread of their own (a hanging remote never holds up the queue),
            // then a federation request joins the queue to re-render the shared pages.
            let root = root.clone();
            scope.spawn(move || {
                let tick = Duration::from_secs(1);
                loop {
                    refresh_federation(settings, &root);
                    let mut waited = Duration::ZERO;
                    while waited < every {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(tick);
                        waited += tick;
                    }
                }
            });
        }
        // The receiver moves into its lane's thread (a receiver is not shared).
        let background = scope.spawn(move || {
            let r = lane_loop(settings, once, &background_rx, stop, drain_background);
            // A failed lane stops the watcher (a service manager restarts it).
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            r
        });
        let foreground = lane_loop(settings, once, &rx, stop, drain);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let background = background.join().unwrap_or_else(|_| {
            Err(QueueError::Io {
                path: qdir.clone(),
                source: std::io::Error::other("the background lane panicked"),
            })
        });
        foreground.and(background)
    })
}

/// Whether an event on `_queue/` may mean a new request, so the lanes scan again.
///
/// The inotify backend also reports the folder being opened, and every scan opens it to list
/// it: counting those, each scan woke both lanes for another scan, so an idle watcher scanned
/// without end (about a hundred scans a second, a few per cent of a core, and the CPU time
/// the benchmark charges to the jobs grew with the time it spends between them). A request
/// arrives by rename, or by create and write: never by an open alone.
fn wakes(ev: &notify::Event) -> bool {
    !matches!(ev.kind, notify::EventKind::Access(notify::event::AccessKind::Open(_)))
}

/// Fetch the followed instances (when there are any) and queue the job that re-renders the
/// pages listing them.
fn refresh_federation(settings: &WatchSettings, root: &InstanceRoot) {
    if settings.federation_refresh.is_none()
        || !crate::federation::followed(root).is_ok_and(|f| !f.is_empty())
    {
        return;
    }
    crate::federation::job::fetch(root);
    if let Err(e) = queue_federation_job(root) {
        tracing::error!("federation job not queued: {e}");
    }
}

/// One lane: drain, then wait for an event (or the rescan tick) and drain again, until
/// `stop` (or after the first drain with `once`).
fn lane_loop(
    settings: &WatchSettings,
    once: bool,
    rx: &std::sync::mpsc::Receiver<()>,
    stop: &std::sync::atomic::AtomicBool,
    drain_lane: fn(&WatchSettings) -> Result<usize, QueueError>,
) -> Result<(), QueueError> {
    // The stop flag is looked at this often while waiting, so a failed lane ends the other.
    let tick = settings.rescan.min(Duration::from_secs(1));
    let mut waited = Duration::ZERO;
    loop {
        // Drain before looking at `stop`: with `once`, the other lane finishing first sets
        // it, and this lane must still do its one drain.
        let n = drain_lane(settings)?;
        if n > 0 {
            tracing::info!(jobs = n, "queue drained");
        }
        if once || stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        // Wait for an event or the rescan tick, then let a burst of events settle. Requests
        // arrive by rename (complete when seen), so the pause only gathers a burst into one
        // scan; it is kept short because it adds to every upload's latency.
        loop {
            match rx.recv_timeout(tick) {
                Ok(()) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    waited += tick;
                    if waited >= settings.rescan || stop.load(std::sync::atomic::Ordering::Relaxed)
                    {
                        break;
                    }
                }
            }
        }
        waited = Duration::ZERO;
        std::thread::sleep(Duration::from_millis(20));
        while rx.try_recv().is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bincio_bas::Timestamp;

    fn req(job: &str, handle: &str, at: &str) -> Pending {
        Pending {
            path: PathBuf::from(format!("{job}.json")),
            request: QueueRequest {
                job_id: job.to_owned(),
                handle: handle.to_owned(),
                change: ChangeKind::Edit,
                created_at: Timestamp::parse(at).unwrap(),
                files: Vec::new(),
                activity_id: None,
                not_before: None,
                elevation: None,
            },
        }
    }

    #[test]
    fn coalesces_per_handle_in_arrival_order() {
        let groups = coalesce(vec![
            req("a", "dave", "2024-01-01T00:00:00Z"),
            req("b", "alice", "2024-01-01T00:00:01Z"),
            req("c", "dave", "2024-01-01T00:00:02Z"),
        ]);
        let shape: Vec<(String, Vec<String>)> = groups
            .into_iter()
            .map(|(h, js)| (h, js.into_iter().map(|j| j.request.job_id).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![("dave".into(), vec!["a".into(), "c".into()]), ("alice".into(), vec!["b".into()])]
        );
    }

    fn upload(job: &str, files: &[&str]) -> Pending {
        let mut p = req(job, "dave", "2024-01-01T00:00:00Z");
        p.request.change = ChangeKind::Upload;
        p.request.files = files.iter().map(|f| (*f).to_owned()).collect();
        p
    }

    #[test]
    fn upload_inputs_are_the_listed_files_inside_the_user_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let user = tmp.path().join("dave");
        std::fs::create_dir_all(user.join("originals/j1")).unwrap();
        std::fs::write(user.join("originals/j1/a.gpx"), "x").unwrap();
        std::fs::write(tmp.path().join("outside.gpx"), "x").unwrap();
        let (inputs, refused) = upload_inputs(
            &user,
            &[upload(
                "j1",
                &["originals/j1/a.gpx", "../outside.gpx", "/etc/passwd", "originals/j1/gone.gpx"],
            )],
        );
        assert_eq!(inputs, vec![user.join("originals/j1/a.gpx")]);
        let reasons: Vec<(&str, &str)> =
            refused.iter().map(|f| (f.path.as_str(), f.reason.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                ("../outside.gpx", "refused: not a plain path inside the user folder"),
                ("/etc/passwd", "refused: not a plain path inside the user folder"),
                ("originals/j1/gone.gpx", "missing"),
            ]
        );
        // An upload request without files (an older writer) falls back to all of originals/.
        let (inputs, refused) = upload_inputs(&user, &[upload("j2", &[])]);
        assert_eq!(inputs, vec![user.join("originals")]);
        assert!(refused.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn upload_inputs_refuse_a_symlink_out_of_the_user_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let user = tmp.path().join("dave");
        std::fs::create_dir_all(user.join("originals")).unwrap();
        std::fs::write(tmp.path().join("outside.gpx"), "x").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside.gpx"), user.join("originals/l.gpx"))
            .unwrap();
        let (inputs, refused) = upload_inputs(&user, &[upload("j", &["originals/l.gpx"])]);
        assert!(inputs.is_empty());
        assert_eq!(refused[0].reason, "refused: resolves outside the user folder");
    }

    #[test]
    fn scan_rejects_bad_requests_and_ignores_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("dave")).unwrap();
        let root = InstanceRoot::new(tmp.path());
        let q = root.queue_dir();
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join("good.json"), r#"{"job_id":"good","handle":"dave","change":"edit","created_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        std::fs::write(q.join("bad.json"), "{not json").unwrap();
        std::fs::write(q.join("ghost.json"), r#"{"job_id":"ghost","handle":"nobody","change":"edit","created_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        std::fs::write(q.join(".bincio-tmp.json"), "partial").unwrap();
        let p = scan(&root).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].request.job_id, "good");
        assert!(q.join("rejected/bad.json").is_file());
        let st: JobStatus = serde_json::from_slice(
            &std::fs::read(root.queue_status_dir().join("ghost.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(st.state, JobState::Failed);
        assert!(st.message.contains("unknown user"), "{}", st.message);
        assert!(q.join(".bincio-tmp.json").is_file(), "temp files are left alone");
    }

    #[test]
    fn a_federation_request_needs_no_user_and_runs_as_one_job() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let root = InstanceRoot::new(&data);
        std::fs::create_dir_all(root.queue_dir()).unwrap();
        queue_federation_job(&root).unwrap();
        queue_federation_job(&root).unwrap();
        let pending = scan(&root).unwrap();
        assert_eq!(pending.len(), 1, "one refresh waits at a time");
        assert_eq!(pending[0].request.change, ChangeKind::Federation);
        let settings = WatchSettings::new(
            SiteOptions {
                data_dir: data,
                out_dir: tmp.path().join("site"),
                theme_dir: None,
                handle: None,
                tile_url: None,
            },
            Duration::from_secs(1),
        );
        assert_eq!(drain(&settings).unwrap(), 1);
        let job = &pending[0].request.job_id;
        let st: JobStatus = serde_json::from_slice(
            &std::fs::read(root.queue_status_dir().join(format!("{job}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(st.state, JobState::Done);
        assert!(st.message.starts_with("done: 0 remotes refreshed"), "{}", st.message);
        assert!(tmp.path().join("site/index.html").is_file(), "the shared pages were rendered");
        assert!(scan(&root).unwrap().is_empty(), "the request is gone");
    }

    /// A scan opens `_queue/`, which the inotify backend reports: such an event must not
    /// wake the lanes (or an idle watcher scans without end), while a request renamed into
    /// the folder must. Events arrive in order, so everything before the rename's event is
    /// what the listing caused.
    #[test]
    fn listing_the_queue_does_not_wake_the_lanes_a_request_does() {
        use notify::Watcher;
        let tmp = tempfile::tempdir().unwrap();
        let root = InstanceRoot::new(tmp.path());
        let qdir = root.queue_dir();
        // As `watch` does before it starts watching.
        std::fs::create_dir_all(root.queue_status_dir()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<notify::Event>();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev {
                let _ = tx.send(ev);
            }
        })
        .unwrap();
        watcher.watch(&qdir, notify::RecursiveMode::NonRecursive).unwrap();
        assert!(scan(&root).unwrap().is_empty());
        std::fs::write(tmp.path().join("req.tmp"), b"{}").unwrap();
        std::fs::rename(tmp.path().join("req.tmp"), qdir.join("job.json")).unwrap();
        let mut before = Vec::new();
        let arrival = loop {
            let ev = rx.recv_timeout(Duration::from_secs(30)).expect("no event for the rename");
            if ev.paths.iter().any(|p| p.ends_with("job.json")) {
                break ev;
            }
            before.push(ev);
        };
        assert!(
            before.iter().any(|ev| matches!(ev.kind, notify::EventKind::Access(_))),
            "the backend reported no open of the folder: {before:?}"
        );
        let woke: Vec<&notify::Event> = before.iter().filter(|ev| wakes(ev)).collect();
        assert!(woke.is_empty(), "listing the queue woke the lanes: {woke:?}");
        assert!(wakes(&arrival), "{arrival:?}");
    }
}
