//! One sync: list what is new, fetch each activity's streams, store it.
//!
//! Activities are handled oldest first and stored in small batches; after each batch the
//! token's `last_sync_at` moves to the start of the newest activity before which everything
//! is imported, so a run stopped by a rate limit (or killed) continues where it stopped and
//! never skips one. An activity already in the store (its key `strava:{id}` is known) costs
//! no stream request.

use super::api::{Api, CallError, Clock, Wait};
use super::map::{self, StreamSet, SummaryActivity};
use super::{StravaError, credentials};
use crate::extract::{ExtractOptions, Prebuilt, store_prebuilt};
use bincio_bas::Privacy;
use bincio_bas::layout::UserDir;
use bincio_bas::strava::update_token;
use std::path::PathBuf;
use std::time::Instant;

/// Activities per page (Strava's maximum).
const PER_PAGE: usize = 200;
/// Activities fetched before they are stored and the cursor moves.
const BATCH: usize = 20;
const STREAM_KEYS: &str =
    "time,latlng,altitude,heartrate,cadence,watts,temp,velocity_smooth,distance,moving";

/// What to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// The instance root (`--data-dir`).
    pub root: PathBuf,
    pub handle: String,
    /// List everything, not only what started after `last_sync_at`.
    pub full: bool,
    /// Longest rate-limit wait (seconds) before the sync stops to continue later.
    pub max_wait_s: u64,
    /// API base URL.
    pub base: String,
    /// Each batch of 20 is written through it (the watcher's: under its store lock, then
    /// published, so a sync in the background lane never writes beside a per-user job and
    /// holds the lock one batch at a time); `None` on the command line.
    pub commit: Option<crate::commit::Commit>,
}

/// Where a sync is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncProgress {
    Listing { listed: usize },
    Fetching { done: usize, total: usize },
    Waiting { done: usize, total: usize, until: i64 },
}

/// The outcome of a sync.
#[derive(Clone, Debug, Default)]
pub struct SyncReport {
    /// Activities listed by Strava in this run.
    pub listed: usize,
    /// New activities stored.
    pub imported: usize,
    /// Listed activities already in the store.
    pub skipped: usize,
    /// Activities that could not be converted (Strava id, reason).
    pub failed: Vec<(i64, String)>,
    /// IDs of the activities this run added.
    pub new_ids: Vec<String>,
    /// Stopped by a rate limit: continue after this Unix time.
    pub paused_until: Option<i64>,
    /// Seconds of work, waits excluded (for the throughput).
    pub busy_s: f64,
    /// Seconds spent waiting for rate limits and retries.
    pub waited_s: f64,
    pub requests: u64,
}

impl SyncReport {
    /// Stored activities per second of work (streams included, waits excluded).
    pub fn throughput(&self) -> f64 {
        if self.busy_s > 0.0 { self.imported as f64 / self.busy_s } else { 0.0 }
    }
}

fn call<T>(r: Result<T, CallError>, report: &mut SyncReport) -> Result<Option<T>, StravaError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CallError::Paused { until }) => {
            report.paused_until = Some(until);
            Ok(None)
        }
        Err(CallError::Failed(e)) => Err(e),
    }
}

/// Run one sync for a user.
pub fn sync(
    opts: &SyncOptions,
    clock: &dyn Clock,
    progress: &(dyn Fn(&SyncProgress) + Sync),
) -> Result<SyncReport, StravaError> {
    let started = Instant::now();
    let user_dir = opts.root.join(&opts.handle);
    let user = UserDir::new(&user_dir);
    let creds = credentials(&opts.root, &user_dir)?.ok_or_else(|| {
        StravaError::NoCredentials(user.strava_credentials().display().to_string())
    })?;
    let keep_originals = super::store_originals(&opts.root)?;
    let state = std::sync::Mutex::new((0usize, 0usize));
    let on_wait = |w: &Wait| {
        let Wait::RateLimit { until } = w;
        let (done, total) = *state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        progress(&SyncProgress::Waiting { done, total, until: *until });
    };
    let mut api = Api::open(&opts.base, creds, &user_dir, clock, opts.max_wait_s, &on_wait)?;
    let mut report = SyncReport::default();
    let result = run(opts, &mut api, &mut report, keep_originals, &state, progress);
    report.waited_s = api.waited_s;
    report.requests = api.requests;
    report.busy_s = (started.elapsed().as_secs_f64() - api.waited_s).max(0.0);
    result.map(|()| report)
}

fn run(
    opts: &SyncOptions,
    api: &mut Api<'_>,
    report: &mut SyncReport,
    keep_originals: bool,
    state: &std::sync::Mutex<(usize, usize)>,
    progress: &(dyn Fn(&SyncProgress) + Sync),
) -> Result<(), StravaError> {
    let user_dir = opts.root.join(&opts.handle);
    let user = UserDir::new(&user_dir);
    let after = if opts.full { 0 } else { api.token().last_sync_at.unwrap_or(0) };

    let Some(athlete) = call(api.get_json("/api/v3/athlete"), report)? else { return Ok(()) };
    let gear = map::gear_names(&athlete);

    // Every page first: the count is the progress bar's total, and ordering by start makes
    // the cursor safe whatever order the pages came in.
    let mut listed: Vec<SummaryActivity> = Vec::new();
    for page in 1.. {
        progress(&SyncProgress::Listing { listed: listed.len() });
        let path =
            format!("/api/v3/athlete/activities?after={after}&page={page}&per_page={PER_PAGE}");
        let Some(v) = call(api.get_json(&path), report)? else { return Ok(()) };
        let url = format!("{}{}", opts.base, path);
        let items: Vec<SummaryActivity> = serde_json::from_value(v)
            .map_err(|e| StravaError::Json { url, reason: e.to_string() })?;
        if items.is_empty() {
            break;
        }
        listed.extend(items);
    }
    listed.sort_by_key(|s| (s.start_s().unwrap_or(i64::MAX), s.id));
    listed.dedup_by_key(|s| s.id);
    report.listed = listed.len();

    let mut ex = ExtractOptions::new(&user_dir, &opts.handle);
    ex.default_privacy = Privacy::Public;
    let total = listed.len();
    // Everything before `cursor_ok` is in the store; the cursor moves past it only.
    let mut cursor: Option<i64> = None;
    let mut blocked = false;
    let mut batch: Vec<(i64, Prebuilt)> = Vec::new();
    // What the store holds, read once: listed activities are all older than this run.
    let known = crate::extract::registry::Registry::load(&user.cache(), &user.activities_dir());
    for (i, s) in listed.iter().enumerate() {
        *state.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (i, total);
        progress(&SyncProgress::Fetching { done: i, total });
        let start = s.start_s();
        if known.id_for_hash(&s.key()).is_some() {
            report.skipped += 1;
            if !blocked {
                cursor = start.or(cursor);
            }
            continue;
        }
        let streams = if s.manual {
            None
        } else {
            let path =
                format!("/api/v3/activities/{}/streams?keys={STREAM_KEYS}&key_by_type=true", s.id);
            let url = format!("{}{}", opts.base, path);
            let Some(r) = call(api.get(&path), report)? else { break };
            match r.status {
                200..=299 => Some(
                    serde_json::from_slice::<StreamSet>(&r.body)
                        .map_err(|e| StravaError::Json { url, reason: e.to_string() })?,
                ),
                // No streams: a manual entry, or an activity whose data Strava lost.
                404 => None,
                status => {
                    let body = String::from_utf8_lossy(&r.body).chars().take(200).collect();
                    return Err(StravaError::Status { url, status, body });
                }
            }
        };
        match map::build(
            s,
            streams.as_ref(),
            &gear,
            ex.default_privacy,
            ex.rdp_epsilon_deg,
            ex.sensors,
        ) {
            Ok(art) => {
                if keep_originals {
                    let raw = serde_json::json!({
                        "meta": listed_raw(s),
                        "streams": streams.as_ref().map(|st| &st.0).map(|m| {
                            m.iter().map(|(k, v)| (k.clone(), serde_json::json!({"data": v.data}))).collect::<serde_json::Map<_, _>>()
                        }),
                    });
                    bincio_bas::fsx::write_atomic(
                        &user.strava_original(&s.id.to_string()),
                        &serde_json::to_vec(&raw).unwrap_or_default(),
                    )?;
                }
                batch.push((
                    start.unwrap_or(0),
                    Prebuilt { key: s.key(), hash: s.key(), artefacts: Box::new(art) },
                ));
            }
            Err(reason) => {
                tracing::warn!(id = s.id, "Strava activity not imported: {reason}");
                report.failed.push((s.id, reason));
                blocked = true;
            }
        }
        if batch.len() >= BATCH {
            flush(&ex, &mut batch, report, &mut cursor, blocked, opts.commit.as_ref())?;
            save_cursor(&user_dir, cursor)?;
        }
    }
    flush(&ex, &mut batch, report, &mut cursor, blocked, opts.commit.as_ref())?;
    *state.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (total, total);
    if report.paused_until.is_none() {
        progress(&SyncProgress::Fetching { done: total, total });
    }
    save_cursor(&user_dir, cursor)?;
    Ok(())
}

/// The summary as Strava sent it (for `originals/strava/{id}.json`).
fn listed_raw(s: &SummaryActivity) -> serde_json::Value {
    serde_json::json!({
        "id": s.id, "name": s.name, "description": s.description, "distance": s.distance,
        "moving_time": s.moving_time, "elapsed_time": s.elapsed_time,
        "total_elevation_gain": s.total_elevation_gain, "sport_type": s.sport_type, "type": s.kind,
        "start_date": s.start_date, "utc_offset": s.utc_offset, "trainer": s.trainer,
        "commute": s.commute, "manual": s.manual, "private": s.private,
        "visibility": s.visibility, "gear_id": s.gear_id, "average_speed": s.average_speed,
        "max_speed": s.max_speed, "average_cadence": s.average_cadence,
        "average_watts": s.average_watts, "max_watts": s.max_watts,
        "device_watts": s.device_watts, "average_heartrate": s.average_heartrate,
        "max_heartrate": s.max_heartrate, "device_name": s.device_name,
    })
}

fn flush(
    ex: &ExtractOptions,
    batch: &mut Vec<(i64, Prebuilt)>,
    report: &mut SyncReport,
    cursor: &mut Option<i64>,
    blocked: bool,
    commit: Option<&crate::commit::Commit>,
) -> Result<(), StravaError> {
    if batch.is_empty() {
        return Ok(());
    }
    let items: Vec<(i64, Prebuilt)> = std::mem::take(batch);
    let last = items.iter().map(|(s, _)| *s).max();
    let stored = crate::commit::Commit::run(commit, || {
        store_prebuilt(ex, items.into_iter().map(|(_, p)| p).collect())
    })?;
    report.imported += stored.new_ids.len();
    report.new_ids.extend(stored.new_ids);
    if !blocked {
        *cursor = last.max(*cursor);
    }
    Ok(())
}

fn save_cursor(user_dir: &std::path::Path, cursor: Option<i64>) -> Result<(), StravaError> {
    let Some(c) = cursor else { return Ok(()) };
    update_token(user_dir, |t| match t {
        Some(mut t) if t.last_sync_at.is_none_or(|old| old < c) => {
            t.last_sync_at = Some(c);
            (Some(t), ())
        }
        other => (other, ()),
    })?;
    Ok(())
}
