//! `bincio-gen render` (alias `build`): data directory → static site.

use super::Outcome;
use crate::site::{self, SiteOptions};
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `bincio-gen render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bincio-gen render --data-dir ~/bincio_data --out ~/site
  bincio-gen render --data-dir ~/bincio_data --out ~/site --handle dave

Merges every user's sidecar edits into {handle}/_merged/, writes the root manifest, and renders
every page and JSON feed into OUT. Files whose content did not change are not rewritten.")]
pub struct RenderArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The output folder nginx serves (never inside the data directory).
    #[arg(long, value_name = "DIR", env = "BINCIO_OUT_DIR")]
    pub out: PathBuf,
    /// A theme folder (templates/, static/, vendor/, theme.toml) instead of the built-in
    /// default; `bincio-gen theme eject DIR` writes the default out to start from.
    #[arg(long, value_name = "DIR", env = "BINCIO_THEME_DIR")]
    pub theme: Option<PathBuf>,
    /// Re-render only this user's pages and the pages that list everyone.
    #[arg(long)]
    pub handle: Option<String>,
    /// Raster tile URL template for the interactive map, e.g. https://tile.example/{z}/{x}/{y}.png
    /// (default: `tile_url` of {data-dir}/bincio.toml)
    #[arg(long, value_name = "URL", env = "BINCIO_TILE_URL")]
    pub tile_url: Option<String>,
    /// Do not fetch the followed instances first; show their last cached activities.
    #[arg(long)]
    pub offline: bool,
}

impl RenderArgs {
    /// The library options.
    pub fn options(&self) -> SiteOptions {
        SiteOptions {
            data_dir: self.data_dir.clone(),
            out_dir: self.out.clone(),
            theme_dir: self.theme.clone(),
            handle: self.handle.clone(),
            tile_url: self.tile_url.clone(),
        }
    }
}

/// Run `bincio-gen render`.
pub fn run(args: &RenderArgs) -> anyhow::Result<Outcome> {
    // Followed instances first (server-side, conditional requests): a failing remote keeps
    // its last good copy and is reported below; it never fails the build.
    let federation = if args.offline {
        None
    } else {
        let root = bincio_bas::InstanceRoot::new(&args.data_dir);
        match crate::federation::refresh(&root, &crate::federation::client()) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("federation: not refreshed: {e}");
                None
            }
        }
    };
    let report = site::build(&args.options()).with_context(|| {
        format!("rendering {} into {}", args.data_dir.display(), args.out.display())
    })?;
    eprintln!(
        "rendered {} users, {} activities, {} pages: {} files written, {} unchanged, {} removed in {} ms",
        report.users,
        report.activities,
        report.pages,
        report.files_written,
        report.files_unchanged,
        report.files_removed,
        report.elapsed_ms
    );
    if let Some(f) = federation.filter(|f| !f.remotes.is_empty()) {
        let failing = f.failing().count();
        eprintln!(
            "followed instances: {} remotes, {} failing (their last good copy is shown)",
            f.remotes.len(),
            failing
        );
        for line in f.lines() {
            eprintln!("  {line}");
        }
    }
    Ok(Outcome::Ok)
}
