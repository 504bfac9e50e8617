//! The watcher's `strava_sync` job: one sync for the user who asked, reporting progress in
//! the job's status file ("12 of 230", "paused until 14:45 — Strava rate limit").
//!
//! In the watcher a rate-limit wait of up to a quarter hour is simply waited out (the job
//! runs beside the per-user jobs, so it delays nobody); a longer one (the daily limit) stops
//! the sync with everything imported so far kept, and the watcher leaves the request queued
//! until the limit resets (`QueueRequest::not_before`), when it continues by itself.

use super::StravaError;
use super::api::Clock;
use super::sync::{SyncOptions, SyncProgress, SyncReport, sync};
use std::path::Path;

/// Longest wait the watcher sits through: one 15-minute window, plus slack.
pub const WATCHER_MAX_WAIT_S: u64 = 960;

/// `paused until 14:45 UTC — Strava rate limit`.
pub fn paused_message(until: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(until)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("paused until {:02}:{:02} UTC — Strava rate limit", t.hour(), t.minute())
}

/// The status line of a progress event.
pub fn progress_message(p: &SyncProgress) -> (String, u64, u64) {
    match p {
        SyncProgress::Listing { listed } => (format!("listing Strava activities ({listed})"), 0, 0),
        SyncProgress::Fetching { done, total } => {
            (format!("syncing {done} of {total}"), *done as u64, *total as u64)
        }
        SyncProgress::Waiting { done, total, until } => {
            (paused_message(*until), *done as u64, *total as u64)
        }
    }
}

/// Run a user's Strava sync for the watcher. `status` gets `(message, done, total)` as it
/// goes. Returns the report; the caller then renders the user's pages as for any change.
/// It runs in the watcher's background lane; each batch is written through `commit` (the
/// watcher's store lock, then the batch published), never across Strava requests or
/// rate-limit waits.
pub fn run(
    root: &Path,
    handle: &str,
    status: &(dyn Fn(&str, u64, u64) + Sync),
    commit: crate::commit::Commit,
    clock: &dyn Clock,
    base: &str,
) -> Result<SyncReport, StravaError> {
    let opts = SyncOptions {
        root: root.to_path_buf(),
        handle: handle.to_owned(),
        full: false,
        max_wait_s: WATCHER_MAX_WAIT_S,
        base: base.to_owned(),
        commit: Some(commit),
    };
    let progress = |p: &SyncProgress| {
        let (msg, done, total) = progress_message(p);
        status(&msg, done, total);
    };
    sync(&opts, clock, &progress)
}

/// The closing line of a sync job (a pause is said by the watcher, which schedules the
/// continuation).
pub fn summary(r: &SyncReport) -> String {
    let mut s = format!("Strava: {} new, {} already here", r.imported, r.skipped);
    if !r.failed.is_empty() {
        s.push_str(&format!(", {} failed", r.failed.len()));
    }
    s
}
