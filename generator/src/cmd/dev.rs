//! `bincio-gen dev`: local multi-user testing in one terminal, as the seeds' `bincio dev`:
//! the daemon (`bincio-api serve`, when the instance has an `instance.db`), the queue watcher,
//! and a preview server over the output that proxies `/api/` to the daemon. Ctrl+C stops all:
//! the terminal sends it to the whole process group, daemon included, and the daemon is also
//! killed when `dev` returns. (Killing `dev` alone by PID leaves the daemon running.)

use super::Outcome;
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
    /// A theme folder (templates/, static/, vendor/, theme.toml) instead of the built-in
    /// default; `bincio-gen theme eject DIR` writes the default out to start from.
    #[arg(long, value_name = "DIR", env = "BINCIO_THEME_DIR")]
    pub theme: Option<PathBuf>,
    /// Address of the preview server.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: String,
    /// Address for the daemon (started when the instance has an instance.db).
    #[arg(long, default_value = "127.0.0.1:4041")]
    pub api_listen: std::net::SocketAddr,
    /// The `bincio-api` binary (default: beside this one, else on PATH).
    #[arg(long, value_name = "FILE")]
    pub api_bin: Option<PathBuf>,
}

/// Kills the daemon when `dev` ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_daemon(args: &DevArgs) -> anyhow::Result<Child> {
    let bin = args.api_bin.clone().unwrap_or_else(|| {
        let beside = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("bincio-api")))
            .filter(|p| p.is_file());
        beside.unwrap_or_else(|| PathBuf::from("bincio-api"))
    });
    let child = std::process::Command::new(&bin)
        .arg("serve")
        .arg("--data-dir")
        .arg(&args.data_dir)
        .arg("--listen")
        .arg(args.api_listen.to_string())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {} serve: {e}", bin.display()))?;
    eprintln!("daemon: {} serve on {}", bin.display(), args.api_listen);
    Ok(Child(child))
}

/// Run `bincio-gen dev`.
pub fn run(args: &DevArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| super::serve::default_out(&args.data_dir));
    let daemon = if args.data_dir.join("instance.db").is_file() {
        Some(start_daemon(args)?)
    } else {
        eprintln!("no instance.db: single-user preview (no logins or uploads)");
        None
    };
    let api = daemon.as_ref().map(|_| args.api_listen);
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
        federation_refresh: Some(Duration::from_secs(crate::federation::DEFAULT_REFRESH_MIN * 60)),
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
    let result = super::serve::serve_dir_with_api(&out, &args.listen, api);
    drop(daemon);
    result
}
