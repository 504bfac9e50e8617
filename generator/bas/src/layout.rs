//! The data directory's layout: the only place that spells its paths.
//!
//! ```text
//! {root}/bincio.toml  instance.db  index.json  _queue/  _queue/status/  _feedback/
//! {root}/.site/activity_urls.json  .site/pages-{out}/{handle}.json  .site/pages-{out}/_shared.json
//! {root}/.site/clock
//! {root}/.federation/status.json  .federation/http/{key}.json  .federation/remotes/{key}.json
//! {root}/{handle}/index.json athlete.json _errors.json .bincio_cache.json
//! {root}/{handle}/activities/{id}.json|.geojson|.timeseries.json
//! {root}/{handle}/edits/{id}.md  edits/athlete.yaml  edits/profile.json  edits/images/{id}/
//! {root}/{handle}/originals/  _merged/  elevation/{id}.json
//! ```
//!
//! `{root}/.site/` holds what the generator must remember about the published site beyond
//! any one user: which files each user's pages are (so a deleted user's files can still be
//! found and removed after their folder is gone) and who owns which activity URL. It is
//! outside every user folder for exactly that reason, and it is never published.

use crate::handle::Handle;
use std::path::{Path, PathBuf};

/// The name of the shared pages' record in [`InstanceRoot::site_records_dir`]. A handle
/// starts with a letter or digit, so it can never be this.
pub const SHARED_SCOPE: &str = "_shared";

/// The root of a Bincio data directory (an instance).
#[derive(Clone, Debug)]
pub struct InstanceRoot {
    root: PathBuf,
}

impl InstanceRoot {
    /// Wrap a root folder (not created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `{root}/instance.db`: present only on multi-user instances.
    pub fn instance_db(&self) -> PathBuf {
        self.root.join("instance.db")
    }

    /// `{root}/bincio.toml`: the instance configuration (see [`crate::config`]); never
    /// published.
    pub fn config_file(&self) -> PathBuf {
        self.root.join(crate::config::FILE_NAME)
    }

    /// `{root}/index.json`: the root manifest.
    pub fn root_manifest(&self) -> PathBuf {
        self.root.join("index.json")
    }

    /// `{root}/.index.json.lock`: the lock every writer of the root manifest holds (see
    /// [`crate::manifest`]).
    pub fn root_manifest_lock(&self) -> PathBuf {
        self.root.join(".index.json.lock")
    }

    /// `{root}/.federation/`: what following other instances remembers (the HTTP cache with
    /// validators, each remote's last good activities, the refresh report). In the data
    /// directory, never in the output; see `docs/federation.md`.
    pub fn federation_dir(&self) -> PathBuf {
        self.root.join(".federation")
    }

    /// `{root}/_queue/`: regeneration requests.
    pub fn queue_dir(&self) -> PathBuf {
        self.root.join(QUEUE_DIR)
    }

    /// `{root}/_queue/status/`: job progress and outcome.
    pub fn queue_status_dir(&self) -> PathBuf {
        self.root.join("_queue").join("status")
    }

    /// `{root}/_feedback/`.
    pub fn feedback_dir(&self) -> PathBuf {
        self.root.join("_feedback")
    }

    /// `{root}/.site/`: the generator's records about the published site (never published).
    pub fn site_dir(&self) -> PathBuf {
        self.root.join(".site")
    }

    /// `{root}/.site/activity_urls.json`: which user owns `/activity/{id}/` for each ID that
    /// more than one user might have (first published wins; see `docs/site.md`).
    pub fn activity_url_claims(&self) -> PathBuf {
        self.site_dir().join("activity_urls.json")
    }

    /// `{root}/.site/pages-{out}/`: one list per scope of the files a build into the output
    /// folder keyed `out` produced: `{handle}.json` per user, [`SHARED_SCOPE`]`.json` for
    /// the shared pages.
    pub fn site_records_dir(&self, out_key: &str) -> PathBuf {
        self.site_dir().join(format!("pages-{out_key}"))
    }

    /// `{root}/.site/page-keys-{out}.json`: for each feed page of the output folder keyed
    /// `out`, the hash of everything it was rendered from, so an unchanged page is not
    /// rendered again.
    pub fn site_page_keys(&self, out_key: &str) -> PathBuf {
        self.site_dir().join(format!("page-keys-{out_key}.json"))
    }

    /// `{root}/.site/shell-{out}.txt`: the hash of the site shell (name, single- or
    /// multi-user, private, home handle, daemon, map) every page of the output folder keyed
    /// `out` was last rendered with. Every page shows the shell, so a build of one user that
    /// finds it changed (an account added or deleted, `bincio.toml` edited) renders every
    /// user instead.
    pub fn site_shell(&self, out_key: &str) -> PathBuf {
        self.site_dir().join(format!("shell-{out_key}.txt"))
    }

    /// `{root}/.site/inputs-{out}.json`: the stamp of everything the last full build into
    /// the output folder keyed `out` read and left behind (file sizes, modification times,
    /// inodes; theme, options, program), so that a full build whose inputs did not change
    /// can stop before loading anything.
    pub fn site_inputs(&self, out_key: &str) -> PathBuf {
        self.site_dir().join(format!("inputs-{out_key}.json"))
    }

    /// `{root}/.site/clock`: a file the generator writes a byte to before it stamps the
    /// store, to read the file system's own clock (its modification time): a change at or
    /// after that time may not show in a stamp taken then (see `docs/site.md`, "Snapshots").
    pub fn site_clock(&self) -> PathBuf {
        self.site_dir().join("clock")
    }

    /// `{root}/{handle}/`.
    pub fn user_dir(&self, handle: &Handle) -> PathBuf {
        self.root.join(handle.as_str())
    }

    /// A user's folder layout.
    pub fn user(&self, handle: &Handle) -> UserDir {
        UserDir::new(self.user_dir(handle))
    }

    /// Every folder under the root that looks like a user (valid handle, has `activities/`
    /// or `index.json`), sorted by handle.
    pub fn users(&self) -> std::io::Result<Vec<Handle>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            let Ok(handle) = Handle::new(&name) else { continue };
            let p = entry.path();
            if p.join("activities").is_dir() || p.join("index.json").is_file() {
                out.push(handle);
            }
        }
        out.sort();
        Ok(out)
    }
}

/// `activities/`: the folder of activity files, in a user folder, in `_merged/` and in the
/// published `/data/{handle}/_merged/`.
pub const ACTIVITIES_DIR: &str = "activities";
/// `_queue/`: regeneration requests from the daemon to the watcher.
pub const QUEUE_DIR: &str = "_queue";
/// `_merged/`: a user's published BAS feed inside the user folder (and under `/data/{h}/`).
pub const MERGED_DIR: &str = "_merged";
/// `athlete.json`.
pub const ATHLETE_FILE: &str = "athlete.json";
/// `originals/`: stored uploads.
pub const ORIGINALS_DIR: &str = "originals";
/// `_uploads/`: uploads not kept as originals.
pub const UPLOADS_DIR: &str = "_uploads";

/// The extension of a sidecar edit (`edits/{id}.md`).
const SIDECAR_EXT: &str = ".md";

/// `{id}.json`: an activity's detail, the same name in every activities folder.
pub fn detail_name(id: &str) -> String {
    format!("{id}.json")
}
/// `{id}.geojson`: an activity's published track.
pub fn track_name(id: &str) -> String {
    format!("{id}.geojson")
}
/// `{id}.timeseries.json`: an activity's published channels.
pub fn timeseries_name(id: &str) -> String {
    format!("{id}.timeseries.json")
}
/// The activity ID a file of an activities folder is the detail of: `{id}.json`, not
/// `{id}.timeseries.json` nor `{id}.geojson`. One activity has up to three files there, so
/// counting files is not counting activities.
pub fn detail_id(file_name: &str) -> Option<&str> {
    let id = file_name.strip_suffix(".json")?;
    (!id.is_empty() && !id.ends_with(".timeseries")).then_some(id)
}
/// The activity ID a file of an activities folder is the track of: `{id}.geojson`.
pub fn track_id(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(".geojson").filter(|id| !id.is_empty())
}
/// The activity ID a file of an activities folder is the timeseries of:
/// `{id}.timeseries.json`.
pub fn timeseries_id(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(".timeseries.json").filter(|id| !id.is_empty())
}
/// The activity ID a file of `edits/` is the sidecar of: `{id}.md` ([`UserDir::sidecar`]).
pub fn sidecar_id(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(SIDECAR_EXT).filter(|id| !id.is_empty())
}

/// `activities/{id}.geojson`: the `track_url` of a summary or detail, relative to its feed.
pub fn track_url(id: &str) -> String {
    format!("{ACTIVITIES_DIR}/{}", track_name(id))
}
/// `activities/{id}.timeseries.json`: the `timeseries_url` of a detail, relative to its feed.
pub fn timeseries_url(id: &str) -> String {
    format!("{ACTIVITIES_DIR}/{}", timeseries_name(id))
}
/// `index-{year}.json`: a year shard of a merged feed.
pub fn year_shard_name(year: i32) -> String {
    format!("index-{year}.json")
}

/// The files of one user directory.
#[derive(Clone, Debug)]
pub struct UserDir {
    dir: PathBuf,
}

impl UserDir {
    /// Wrap a user folder (not created).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    /// The folder itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }
    /// `index.json`: the extract output feed.
    pub fn index(&self) -> PathBuf {
        self.dir.join("index.json")
    }
    /// `athlete.json`.
    pub fn athlete(&self) -> PathBuf {
        self.dir.join(ATHLETE_FILE)
    }
    /// `_errors.json`: the last extract run's failures.
    pub fn errors(&self) -> PathBuf {
        self.dir.join("_errors.json")
    }
    /// `.bincio_cache.json`: hash → id cache for incremental extraction.
    pub fn cache(&self) -> PathBuf {
        self.dir.join(".bincio_cache.json")
    }
    /// `activities/`.
    pub fn activities_dir(&self) -> PathBuf {
        self.dir.join(ACTIVITIES_DIR)
    }
    /// How many activities `activities/` holds (detail files, see [`detail_id`]); 0 when
    /// the folder is missing or unreadable.
    pub fn activity_count(&self) -> usize {
        std::fs::read_dir(self.activities_dir())
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_str().and_then(detail_id).is_some())
                    .count()
            })
            .unwrap_or(0)
    }
    /// `activities/{id}.json`.
    pub fn detail(&self, id: &str) -> PathBuf {
        self.activities_dir().join(detail_name(id))
    }
    /// `activities/{id}.geojson`.
    pub fn track(&self, id: &str) -> PathBuf {
        self.activities_dir().join(track_name(id))
    }
    /// `activities/{id}.timeseries.json`.
    pub fn timeseries(&self, id: &str) -> PathBuf {
        self.activities_dir().join(timeseries_name(id))
    }
    /// `edits/`.
    pub fn edits_dir(&self) -> PathBuf {
        self.dir.join("edits")
    }
    /// `edits/{id}.md`.
    pub fn sidecar(&self, id: &str) -> PathBuf {
        self.edits_dir().join(format!("{id}{SIDECAR_EXT}"))
    }
    /// `edits/athlete.yaml`.
    pub fn athlete_edits(&self) -> PathBuf {
        self.edits_dir().join("athlete.yaml")
    }
    /// `edits/profile.json`: the account's public profile as the daemon last set it
    /// ([`crate::Profile`]); the generator applies it to the user's feed owner.
    pub fn profile(&self) -> PathBuf {
        self.edits_dir().join("profile.json")
    }
    /// `edits/images/{id}/`.
    pub fn images_dir(&self, id: &str) -> PathBuf {
        self.edits_dir().join("images").join(id)
    }
    /// `originals/`.
    pub fn originals_dir(&self) -> PathBuf {
        self.dir.join(ORIGINALS_DIR)
    }
    /// `_merged/`.
    pub fn merged_dir(&self) -> PathBuf {
        self.dir.join(MERGED_DIR)
    }
    /// `_merged/activities/`: merged details, published tracks, timeseries and photos.
    pub fn merged_activities_dir(&self) -> PathBuf {
        self.merged_dir().join(ACTIVITIES_DIR)
    }
    /// `_merged/athlete.json`.
    pub fn merged_athlete(&self) -> PathBuf {
        self.merged_dir().join(ATHLETE_FILE)
    }
    /// `elevation/{id}.json`: the device's own altitude of an activity whose published
    /// altitude was recalculated (terrain model or smoothing), kept so it can be restored.
    /// Outside `activities/`, so nothing that lists or publishes activity files meets it.
    pub fn device_altitude(&self, id: &str) -> PathBuf {
        self.dir.join("elevation").join(format!("{id}.json"))
    }
    /// `_uploads/`: uploads not kept as originals, one folder per job
    /// (`_uploads/{job_id}/`); the watcher deletes a job's folder once it is extracted.
    pub fn uploads_dir(&self) -> PathBuf {
        self.dir.join(UPLOADS_DIR)
    }
    /// `strava_token.json`: the user's Strava OAuth token (a secret, mode 0600, never
    /// published).
    pub fn strava_token(&self) -> PathBuf {
        self.dir.join("strava_token.json")
    }
    /// `strava_credentials.json`: the user's own Strava API application (a secret).
    pub fn strava_credentials(&self) -> PathBuf {
        self.dir.join("strava_credentials.json")
    }
    /// `.strava.lock`: the lock both programs take to read-modify-write the token.
    pub fn strava_lock(&self) -> PathBuf {
        self.dir.join(".strava.lock")
    }
    /// `originals/strava/{id}.json`: Strava's raw summary and streams of one activity, kept
    /// when `store_originals` is on so a re-extract never needs Strava again.
    pub fn strava_original(&self, strava_id: &str) -> PathBuf {
        self.originals_dir().join("strava").join(format!("{strava_id}.json"))
    }
}
