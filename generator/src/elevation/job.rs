//! The watcher's elevation job (`change: "elevation"`): apply the elevation choice recorded
//! in one activity's sidecar, with the terrain model the instance configuration names, and
//! refresh the user's listing. The watcher then merges and renders as for any edit. And the
//! bulk one (`change: "elevation_all"`, [`run_all`]): every activity of a user, in the
//! watcher's background lane, a batch at a time.

use super::{ElevationError, Source};
use bincio_bas::InstanceConfig;
use bincio_bas::layout::{InstanceRoot, UserDir};
use bincio_bas::queue::{JobFailure, QueueRequest};
use bincio_bas::sidecar::ElevationChoice;
use bincio_bas::sidecar::Sidecar;

/// What the job did, for its status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOutcome {
    /// One line for the status message (what was applied, and any part of the track
    /// without terrain data).
    pub message: String,
    pub failures: Vec<JobFailure>,
}

/// Run one elevation request for `handle` in the data directory `root`.
pub fn run(root: &InstanceRoot, handle: &str, request: &QueueRequest) -> JobOutcome {
    let user = UserDir::new(root.path().join(handle));
    let Some(id) = request.activity_id.as_deref().filter(|id| !id.is_empty()) else {
        return failed("request", "an elevation request needs an activity_id".to_owned());
    };
    match apply(root, &user, handle, id) {
        Ok(message) => JobOutcome { message, failures: Vec::new() },
        Err(e) => failed(id, e.to_string()),
    }
}

fn failed(path: &str, reason: String) -> JobOutcome {
    JobOutcome {
        message: format!("elevation not recalculated: {reason}"),
        failures: vec![JobFailure { path: path.to_owned(), reason }],
    }
}

fn apply(
    root: &InstanceRoot,
    user: &UserDir,
    handle: &str,
    id: &str,
) -> Result<String, ElevationError> {
    let choice = Sidecar::read(&user.sidecar(id))?.and_then(|s| s.elevation);
    let cfg_path = root.config_file();
    let cfg = InstanceConfig::load(&cfg_path)
        .map_err(|e| ElevationError::Read { path: cfg_path.clone(), reason: e.to_string() })?;
    let mut source = Source::from_settings(cfg.dem_dir.as_deref(), cfg.dem_url.as_deref());
    let outcome = super::apply_choice(user, id, choice, source.as_mut())?;
    let opts = crate::extract::ExtractOptions::new(user.path(), handle);
    crate::extract::refresh_details(&opts, &[id.to_owned()])
        .map_err(|e| ElevationError::Read { path: user.index(), reason: e.to_string() })?;
    let what = match choice {
        Some(c) => format!("elevation recalculated ({})", describe(c)),
        None => "elevation restored to the device's altitude".to_owned(),
    };
    let gain = outcome.gain_after_m.map_or_else(|| "no".to_owned(), |g| format!("{g:.0} m"));
    let mut msg = format!("{what}: {gain} gain");
    if let Some(note) = outcome.note {
        msg += &format!("; {note}");
    }
    Ok(msg)
}

/// The words for a choice in messages.
pub fn describe(c: bincio_bas::sidecar::ElevationChoice) -> &'static str {
    match c {
        bincio_bas::sidecar::ElevationChoice::Dem => "terrain model",
        bincio_bas::sidecar::ElevationChoice::Smoothing => "smoothing",
    }
}

/// Activities recalculated per batch of a bulk recalculation: the terrain lookups of a batch
/// are made without the watcher's store lock, then the batch is written and published under
/// it, so the lock is held for a few activities' writes at a time.
pub const BATCH: usize = 16;

/// What a bulk recalculation did, for its status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AllOutcome {
    /// `elevation recalculated (terrain model) for 412 of 415 activities; 3 with points
    /// without terrain data, where the recorded altitude is kept`.
    pub message: String,
    /// The activities that could not be recalculated (no positions, no altitude, …).
    pub failures: Vec<JobFailure>,
}

/// Recalculate every listed activity of `handle` with `method` (`dem`, `smoothing` or
/// `hysteresis`, `restore`), as `bincio-gen elevation` does for a user, a batch at a time:
/// each batch planned (terrain lookups, the long part) without writing, then, through
/// `commit`, its choices written to the sidecars, the activities written and the listing
/// refreshed. `progress(done, total)` is called after each batch, outside `commit`.
/// An activity that fails is reported and the others go on; only an unknown method, a
/// missing terrain model or an unreadable listing fails the whole job.
pub fn run_all(
    root: &InstanceRoot,
    handle: &str,
    method: &str,
    progress: &dyn Fn(usize, usize),
    commit: Option<&crate::commit::Commit>,
) -> Result<AllOutcome, String> {
    let choice = match method {
        "restore" => None,
        m => Some(ElevationChoice::from_name(m).ok_or_else(|| {
            format!("unknown elevation method {m:?}: use dem, smoothing or restore")
        })?),
    };
    let user = UserDir::new(root.path().join(handle));
    let cfg_path = root.config_file();
    let cfg =
        InstanceConfig::load(&cfg_path).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
    let mut source = match choice {
        Some(ElevationChoice::Dem) => Some(
            Source::from_settings(cfg.dem_dir.as_deref(), cfg.dem_url.as_deref())
                .ok_or_else(|| ElevationError::NoSource.to_string())?,
        ),
        _ => None,
    };
    let index = user.index();
    let feed: bincio_bas::UserFeed = std::fs::read(&index)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", index.display()))?;
    let ids: Vec<String> = feed.activities.into_iter().map(|s| s.id).collect();
    let total = ids.len();
    let opts = crate::extract::ExtractOptions::new(user.path(), handle);
    let mut out = AllOutcome::default();
    let (mut changed, mut partial) = (0usize, 0usize);
    progress(0, total);
    for (n, batch) in ids.chunks(BATCH).enumerate() {
        let mut planned = Vec::new();
        for id in batch {
            match super::plan_choice(&user, id, choice, source.as_mut()) {
                Ok(p) => planned.push(p),
                Err(e) => out.failures.push(JobFailure { path: id.clone(), reason: e.to_string() }),
            }
        }
        crate::commit::Commit::run(commit, || {
            let mut written = Vec::new();
            for p in planned {
                let id = p.id().to_owned();
                // Rewritten since it was planned (re-extracted, or this activity's own
                // recalculation): planned again from what is stored now.
                let p = if p.is_current() {
                    Ok(p)
                } else {
                    super::plan_choice(&user, &id, choice, source.as_mut())
                };
                let done = p.and_then(|p| {
                    super::remember_choice(&user, &id, choice)?;
                    p.write()
                });
                match done {
                    Ok(o) => {
                        partial += usize::from(o.note.is_some());
                        written.push(id);
                    }
                    Err(e) => out.failures.push(JobFailure { path: id, reason: e.to_string() }),
                }
            }
            if !written.is_empty()
                && let Err(e) = crate::extract::refresh_details(&opts, &written)
            {
                out.failures
                    .push(JobFailure { path: index.display().to_string(), reason: e.to_string() });
            }
            changed += written.len();
        });
        progress((n * BATCH + batch.len()).min(total), total);
    }
    let what = match choice {
        Some(c) => format!("elevation recalculated ({})", describe(c)),
        None => "elevation restored to the device's altitude".to_owned(),
    };
    out.message = format!("{what} for {changed} of {total} activities");
    if partial > 0 {
        out.message += &format!(
            "; {partial} with points without terrain data, where the recorded altitude is kept"
        );
    }
    Ok(out)
}
