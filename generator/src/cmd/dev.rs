//! `bincio-gen dev`: local multi-user testing in one terminal: the queue watcher and a
//! preview server over the output. The daemon (`bincio-api serve`) runs beside it when the
//! instance has an `instance.db`; start it separately (it is another program).

use super::Outcome;
use super::render::default_theme;
use crate::queue::{self, WatchSettings};
use crate::site::SiteOptions;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `bincio-gen dev`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bincio-gen dev --data-dir ~/bincio_data      # watcher + http://127.0.0.1:8000/")]
pub struct DevArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The output folder (default: a `site` folder beside the data directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The theme folder.
    #[arg(long, value_name = "DIR", env = "BINCIO_THEME_DIR", default_value = default_theme())]
    pub theme: PathBuf,
    /// Address of the preview server.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: String,
}

/// Run `bincio-gen dev`.
pub fn run(args: &DevArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| super::serve::default_out(&args.data_dir));
    if args.data_dir.join("instance.db").is_file() {
        eprintln!(
            "instance.db found: run `bincio-api serve` in another terminal for logins and uploads"
        );
    }
    let settings = WatchSettings {
        site: SiteOptions {
            data_dir: args.data_dir.clone(),
            out_dir: out.clone(),
            theme_dir: args.theme.clone(),
            handle: None,
            tile_url: None,
        },
        rescan: Duration::from_secs(5),
        job_delay: Duration::ZERO,
    };
    // The watcher renders everything first; serve once the first render is on disk.
    let watcher = std::thread::spawn(move || queue::watch(&settings, false));
    while !out.join("index.html").is_file() {
        if watcher.is_finished() {
            return match watcher.join() {
                Ok(Err(e)) => Err(e.into()),
                _ => Err(anyhow::anyhow!("the watcher stopped")),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    super::serve::serve_dir(&out, &args.listen)
}
