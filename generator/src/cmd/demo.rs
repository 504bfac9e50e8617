//! `bincio-gen demo`: extract the bundled demo activities into a two-user instance, render it,
//! serve it.
//!
//! The demo activities (the synthetic fixtures: every format, gzipped or not, every sport) are
//! compiled into the binary (`build.rs`), so the demo works from an installed binary with no
//! checkout; `--fixtures DIR` uses a folder with the same `fit/ gpx/ tcx/ gz/` layout instead.

use super::Outcome;
use crate::extract::{self, ExtractOptions};
use crate::site::{self, SiteOptions};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Arguments of `bincio-gen demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bincio-gen demo                            # builds ./bincio-demo, serves http://127.0.0.1:8000/
  bincio-gen demo --no-serve --dir /tmp/d    # build only; view later with the same command

The demo data are synthetic activities carried by the binary (rides, runs, swims, skis, hikes
in FIT, GPX and TCX, some gzipped) for two users, ada and ben.")]
pub struct DemoArgs {
    /// Where to put the demo instance (inputs/, data/ and site/ are created inside).
    #[arg(long, value_name = "DIR", default_value = "bincio-demo", env = "BINCIO_DEMO_DIR")]
    pub dir: PathBuf,
    /// A folder with fit/, gpx/, tcx/, gz/ to use instead of the built-in demo activities.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// A theme folder (templates/, static/, vendor/, theme.toml) instead of the built-in
    /// default; `bincio-gen theme eject DIR` writes the default out to start from.
    #[arg(long, value_name = "DIR")]
    pub theme: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: String,
    /// Build only; do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

/// Write the built-in demo activities into `dir` (`fit/ gpx/ tcx/ gz/`), leaving files that
/// already hold the same bytes alone. Returns the number of files.
pub fn write_demo_inputs(dir: &Path) -> anyhow::Result<usize> {
    for (rel, bytes) in embedded::FILES {
        let path = dir.join(rel);
        bincio_bas::fsx::write_if_changed(&path, bytes)
            .with_context(|| format!("writing demo input {}", path.display()))?;
    }
    Ok(embedded::FILES.len())
}

/// Build the demo instance in `dir` from `fixtures` (or the built-in demo activities); returns
/// the output folder.
pub fn build_demo(
    dir: &Path,
    fixtures: Option<&Path>,
    theme: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let data = dir.join("data");
    let out = dir.join("site");
    let inputs = match fixtures {
        Some(f) => f.to_path_buf(),
        None => {
            let inputs = dir.join("inputs");
            write_demo_inputs(&inputs)?;
            inputs
        }
    };
    // Two users so the combined feed and community pages have something to compare.
    for (handle, name, subdirs) in [("ada", "Ada", ["fit", "gz"]), ("ben", "Ben", ["gpx", "tcx"])] {
        let mut opts = ExtractOptions::new(data.join(handle), handle);
        opts.display_name = Some(name.to_owned());
        opts.inputs = subdirs.iter().map(|s| inputs.join(s)).filter(|p| p.is_dir()).collect();
        if opts.inputs.is_empty() {
            bail!("{}: no fit/, gpx/, tcx/ or gz/ folder with demo activities", inputs.display());
        }
        let report = extract::extract_user(&opts, &|_, _| {})
            .with_context(|| format!("extracting demo user {handle}"))?;
        eprintln!("{}", report.summary_line(handle));
    }
    let report = site::build(&SiteOptions {
        data_dir: data,
        out_dir: out.clone(),
        theme_dir: theme.map(Path::to_path_buf),
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
    let out = build_demo(&args.dir, args.fixtures.as_deref(), args.theme.as_deref())?;
    if args.no_serve {
        eprintln!(
            "the demo site is plain files in {}; serve it with `bincio-gen demo --dir {}` \
             (or any static web server)",
            out.display(),
            args.dir.display()
        );
        return Ok(Outcome::Ok);
    }
    super::serve::serve_dir(&out, &args.listen)
}
