//! `bincio-gen watch`: serve the regeneration queue written by `bincio-api`.

use super::Outcome;
use crate::queue::{self, WatchSettings};
use crate::site::SiteOptions;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `bincio-gen watch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bincio-gen watch --data-dir ~/bincio_data --out ~/site

Renders the whole site once, then processes every request in DATA/_queue/ (at start-up and
whenever one arrives): extract new originals, merge, re-render that user and the shared pages.
Job progress is written to DATA/_queue/status/{job}.json. See docs/queue.md.")]
pub struct WatchArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The output folder nginx serves.
    #[arg(long, value_name = "DIR", env = "BINCIO_OUT_DIR")]
    pub out: PathBuf,
    /// A theme folder (templates/, static/, vendor/, theme.toml) instead of the built-in
    /// default; `bincio-gen theme eject DIR` writes the default out to start from.
    #[arg(long, value_name = "DIR", env = "BINCIO_THEME_DIR")]
    pub theme: Option<PathBuf>,
    /// Raster tile URL template for the interactive map (default: `tile_url` of bincio.toml).
    #[arg(long, value_name = "URL", env = "BINCIO_TILE_URL")]
    pub tile_url: Option<String>,
    /// Process what is queued now, then exit.
    #[arg(long)]
    pub once: bool,
    /// Rescan the queue this often even without a file-system event (seconds).
    #[arg(long, default_value_t = 30)]
    pub rescan_s: u64,
    /// Fetch the followed instances this often (minutes; 0 never). See docs/federation.md.
    #[arg(long, default_value_t = crate::federation::DEFAULT_REFRESH_MIN)]
    pub federation_refresh_min: u64,
}

/// Run `bincio-gen watch`.
pub fn run(args: &WatchArgs) -> anyhow::Result<Outcome> {
    // Testing aid (see queue::WatchSettings::job_delay); never set in production.
    let job_delay_ms: u64 =
        std::env::var("BINCIO_WATCH_JOB_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut settings = WatchSettings::new(
        SiteOptions {
            data_dir: args.data_dir.clone(),
            out_dir: args.out.clone(),
            theme_dir: args.theme.clone(),
            handle: None,
            tile_url: args.tile_url.clone(),
        },
        Duration::from_secs(args.rescan_s.max(1)),
    );
    settings.job_delay = Duration::from_millis(job_delay_ms);
    // Testing aid (see queue::WatchSettings::test_hold): a release build never reads it.
    #[cfg(debug_assertions)]
    {
        settings.test_hold = std::env::var_os("BINCIO_WATCH_TEST_HOLD_DIR").map(PathBuf::from);
    }
    settings.federation_refresh = (args.federation_refresh_min > 0)
        .then(|| Duration::from_secs(args.federation_refresh_min * 60));
    queue::watch(&settings, args.once)
        .with_context(|| format!("watching {}", args.data_dir.join("_queue").display()))?;
    Ok(Outcome::Ok)
}
