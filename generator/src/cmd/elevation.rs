//! `bincio-gen elevation`: recalculate (or restore) the elevation of a user's activities.

use super::Outcome;
use crate::elevation::{self, Source};
use crate::extract::{self, ExtractOptions};
use anyhow::{Context, bail};
use bincio_bas::layout::UserDir;
use bincio_bas::sidecar::ElevationChoice;
use bincio_bas::{Handle, InstanceConfig, UserFeed};
use std::path::PathBuf;

/// Arguments of `bincio-gen elevation`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bincio-gen elevation --data-dir ~/bincio_data --handle dave --dem ~/srtm
  bincio-gen elevation --data-dir ~/bincio_data --handle dave --method smoothing --id 2024-06-01T071500Z
  bincio-gen elevation --data-dir ~/bincio_data --handle dave --dem-url http://localhost:8080
  bincio-gen elevation --data-dir ~/bincio_data --handle dave --restore
  bincio-gen elevation --data-dir /srv/bincio/data --handle dave --method smoothing --queue

Replaces the published altitude, gain, loss and best climb of every listed activity of the user
(or of the --id ones); the device's own altitude is kept and --restore returns to it. The choice
is written to each activity's sidecar (`elevation: dem | smoothing`), so re-extractions keep it.
Without --dem/--dem-url, the terrain model is dem_dir or dem_url of {data-dir}/bincio.toml.
Then run `bincio-gen render` (the watcher does both for queued jobs). On an instance whose
`bincio-gen watch` runs, --queue hands the whole recalculation to the watcher's background lane
instead (every activity, with the instance's terrain model; progress in the job's status).")]
pub struct ElevationArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The user whose activities change.
    #[arg(long)]
    pub handle: String,
    /// A folder of SRTM tiles (N46E013.hgt, .hgt.gz, .hgt.zip; 1″ or 3″) or Copernicus
    /// GeoTIFF tiles (Copernicus_DSM_COG_10_N46_00_E013_00_DEM.tif).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["dem_url", "restore"])]
    pub dem: Option<PathBuf>,
    /// An Open-Elevation-compatible service (POST {URL}/api/v1/lookup).
    #[arg(long, value_name = "URL", conflicts_with = "restore")]
    pub dem_url: Option<String>,
    /// dem (terrain model, the default) or smoothing (alias hysteresis): the recorded
    /// altitude smoothed and measured with the documented dead band.
    #[arg(long, value_name = "METHOD", conflicts_with = "restore")]
    pub method: Option<String>,
    /// Back to the device's own altitude and figures.
    #[arg(long)]
    pub restore: bool,
    /// Only these activities (repeatable); default: every listed activity of the user.
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Queue the recalculation of every activity for `bincio-gen watch` (its background
    /// lane, beside the users' uploads) and print the job id, instead of writing the store
    /// here.
    #[arg(long, conflicts_with_all = ["dem", "dem_url", "ids"])]
    pub queue: bool,
}

/// Run `bincio-gen elevation`.
pub fn run(args: &ElevationArgs) -> anyhow::Result<Outcome> {
    let handle = Handle::new(&args.handle)?;
    let user_dir = args.data_dir.join(handle.as_str());
    if !user_dir.is_dir() {
        bail!("{}: no such user folder", user_dir.display());
    }
    let user = UserDir::new(&user_dir);
    let choice = if args.restore {
        None
    } else {
        match args.method.as_deref() {
            None => Some(ElevationChoice::Dem),
            Some(m) => Some(
                ElevationChoice::from_name(m)
                    .with_context(|| format!("--method {m:?}: use dem, smoothing or hysteresis"))?,
            ),
        }
    };
    if args.queue {
        let root = bincio_bas::InstanceRoot::new(&args.data_dir);
        if choice == Some(ElevationChoice::Dem) {
            let cfg = InstanceConfig::load(&root.config_file())?;
            if cfg.dem_dir.is_none() && cfg.dem_url.is_none() {
                bail!(elevation::ElevationError::NoSource);
            }
        }
        let method = choice.map_or("restore", ElevationChoice::as_str);
        let job = crate::queue::queue_elevation_all(&root, &handle, method)?;
        println!("{job}");
        eprintln!(
            "queued: the watcher recalculates every activity of {}; progress in {}",
            handle.as_str(),
            root.queue_status_dir().join(format!("{job}.json")).display()
        );
        return Ok(Outcome::Ok);
    }
    let mut source = if choice == Some(ElevationChoice::Dem) {
        let cfg_path = args.data_dir.join(bincio_bas::config::FILE_NAME);
        let cfg = InstanceConfig::load(&cfg_path)?;
        let dir = args.dem.clone().or(cfg.dem_dir);
        let url = args.dem_url.clone().or(cfg.dem_url);
        if let Some(d) = &dir
            && !d.is_dir()
        {
            bail!("--dem {}: not a folder of elevation tiles", d.display());
        }
        Some(
            Source::from_settings(dir.as_deref(), url.as_deref())
                .ok_or(elevation::ElevationError::NoSource)?,
        )
    } else {
        None
    };
    let ids = if args.ids.is_empty() {
        let path = user.index();
        let bytes =
            std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let feed: UserFeed = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a valid feed", path.display()))?;
        feed.activities.into_iter().map(|s| s.id).collect()
    } else {
        args.ids.clone()
    };
    let mut failed = 0;
    let mut changed = Vec::new();
    for id in &ids {
        let result = elevation::remember_choice(&user, id, choice)
            .and_then(|()| elevation::apply_choice(&user, id, choice, source.as_mut()));
        match result {
            Ok(o) => {
                let fmt =
                    |g: Option<f64>| g.map_or_else(|| "–".to_owned(), |g| format!("{g:.0} m"));
                println!("{id}: gain {} → {}", fmt(o.gain_before_m), fmt(o.gain_after_m));
                if let Some(n) = o.note {
                    eprintln!("note: {n}");
                }
                changed.push(id.clone());
            }
            Err(e) => {
                failed += 1;
                eprintln!("failed: {id}: {e}");
            }
        }
    }
    if !changed.is_empty() {
        let opts = ExtractOptions::new(&user_dir, handle.as_str());
        extract::refresh_details(&opts, &changed)
            .with_context(|| format!("updating {}", user.index().display()))?;
    }
    let what = match choice {
        Some(c) => elevation::job::describe(c),
        None => "restored to the device's altitude",
    };
    eprintln!("{}: {} activities ({what}), {failed} failed", handle.as_str(), changed.len());
    Ok(if failed == 0 { Outcome::Ok } else { Outcome::SomeFailed })
}
