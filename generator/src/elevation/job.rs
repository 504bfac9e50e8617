//! The watcher's elevation job (`change: "elevation"`): apply the elevation choice recorded
//! in one activity's sidecar, with the terrain model the instance configuration names, and
//! refresh the user's listing. The watcher then merges and renders as for any edit.

use super::{ElevationError, Source};
use bincio_bas::InstanceConfig;
use bincio_bas::layout::{InstanceRoot, UserDir};
use bincio_bas::queue::{JobFailure, QueueRequest};
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
