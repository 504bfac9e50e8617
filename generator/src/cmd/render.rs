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
    Ok(Outcome::Ok)
}
