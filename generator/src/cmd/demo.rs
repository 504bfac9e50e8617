//! `bincio-gen demo`: extract the bundled fixtures into a two-user instance, render it, serve it.

use super::Outcome;
use super::render::default_theme;
use crate::extract::{self, ExtractOptions};
use crate::site::{self, SiteOptions};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Arguments of `bincio-gen demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bincio-gen demo                 # then open http://127.0.0.1:8000/")]
pub struct DemoArgs {
    /// Where to put the demo instance (data/ and site/ are created inside).
    #[arg(long, value_name = "DIR", default_value = "bincio-demo")]
    pub dir: PathBuf,
    /// The fixtures folder with fit/, gpx/, tcx/, gz/.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/activities"))]
    pub fixtures: PathBuf,
    /// The theme folder.
    #[arg(long, value_name = "DIR", default_value = default_theme())]
    pub theme: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: String,
    /// Build only; do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

/// Build the demo instance; returns the output folder.
pub fn build_demo(dir: &Path, fixtures: &Path, theme: &Path) -> anyhow::Result<PathBuf> {
    let data = dir.join("data");
    let out = dir.join("site");
    // Two users so the combined feed and community pages have something to compare.
    for (handle, name, subdirs) in [("ada", "Ada", ["fit", "gz"]), ("ben", "Ben", ["gpx", "tcx"])] {
        let mut opts = ExtractOptions::new(data.join(handle), handle);
        opts.display_name = Some(name.to_owned());
        opts.inputs = subdirs.iter().map(|s| fixtures.join(s)).filter(|p| p.is_dir()).collect();
        let report = extract::extract_user(&opts, &|_, _| {})
            .with_context(|| format!("extracting demo user {handle}"))?;
        eprintln!("{}", report.summary_line(handle));
    }
    let report = site::build(&SiteOptions {
        data_dir: data,
        out_dir: out.clone(),
        theme_dir: theme.to_path_buf(),
        handle: None,
        tile_url: None,
    })?;
    eprintln!(
        "rendered {} pages ({} files written) into {}",
        report.pages,
        report.files_written,
        out.display()
    );
    Ok(out)
}

/// Run `bincio-gen demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<Outcome> {
    let out = build_demo(&args.dir, &args.fixtures, &args.theme)?;
    if args.no_serve {
        return Ok(Outcome::Ok);
    }
    super::serve::serve_dir(&out, &args.listen)
}
