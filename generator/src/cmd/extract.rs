//! `bincio-gen extract`: activity files → a user's BAS store.

use super::Outcome;
use crate::extract::config::{self, ExtractConfig};
use crate::extract::{self, ExtractOptions};
use anyhow::{Context, bail};
use bincio_bas::{Handle, Privacy};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `bincio-gen extract`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bincio-gen extract --input ~/rides --output ~/bincio_data --handle dave --display-name Dave
  bincio-gen extract --config extract_config.yaml
  bincio-gen extract --file ride.fit.gz        # print the activity's BAS detail JSON

Failed files are listed on stderr and in {output}/{handle}/_errors.json; the exit status is 1
when any file failed. Re-running with no new files is fast and changes nothing on disk.")]
pub struct ExtractArgs {
    /// Folder (searched recursively) or file to extract; may be repeated.
    #[arg(short, long, value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Data directory; the user's store is written to OUTPUT/HANDLE/.
    #[arg(short, long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub output: Option<PathBuf>,
    /// The user's handle (lowercase letters, digits, '_' and '-').
    #[arg(long)]
    pub handle: Option<String>,
    /// The user's display name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// An extract_config.yaml (the reference's format). Flags override its values.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extract one file and print its BAS detail JSON to stdout; writes nothing.
    #[arg(short, long, value_name = "FILE", conflicts_with_all = ["input", "config"])]
    pub file: Option<PathBuf>,
    /// Privacy of newly extracted activities: public, blur_start, no_gps or unlisted.
    #[arg(long, value_name = "PRIVACY")]
    pub privacy: Option<String>,
    /// A Strava activities.csv whose titles, descriptions and IDs enrich matching files.
    #[arg(long, value_name = "CSV")]
    pub metadata_csv: Option<PathBuf>,
    /// A folder of SRTM tiles (N46E013.hgt, .hgt.gz, .hgt.zip) or Copernicus GeoTIFF tiles
    /// (Copernicus_DSM_COG_10_N46_00_E013_00_DEM.tif): the terrain's altitude
    /// replaces the recorded one of every activity this run extracts (config: `dem:`).
    #[arg(long, value_name = "DIR")]
    pub dem: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(short, long)]
    pub workers: Option<usize>,
    /// Parse every input again even when already stored, rewriting each activity in place
    /// (same ID, privacy and duplicate status) with today's figures; the athlete file is
    /// rebuilt from them. See docs/admin.md, "Re-extracting".
    #[arg(long)]
    pub reextract: bool,
}

/// Run `bincio-gen extract`.
pub fn run(args: &ExtractArgs) -> anyhow::Result<Outcome> {
    if let Some(file) = &args.file {
        return print_one(file, args);
    }
    let cfg = match &args.config {
        Some(p) => ExtractConfig::load(p)?,
        None => {
            let default = PathBuf::from("extract_config.yaml");
            if args.input.is_empty() && default.is_file() {
                ExtractConfig::load(&default)?
            } else {
                ExtractConfig::default()
            }
        }
    };
    let handle = args.handle.clone().or(cfg.handle.clone()).unwrap_or_else(|| "me".to_owned());
    let handle = Handle::new(&handle)?;
    let inputs = if args.input.is_empty() { cfg.input_dirs.clone() } else { args.input.clone() };
    if inputs.is_empty() {
        bail!("nothing to extract: give --input PATH, or --config with input.dirs");
    }
    let output = args
        .output
        .clone()
        .or(cfg.output_dir.clone())
        .unwrap_or_else(|| PathBuf::from("bincio_data"));
    let user_dir = config::user_dir_for(&output, handle.as_str());
    let mut opts = ExtractOptions::new(&user_dir, handle.as_str());
    opts.display_name = args.display_name.clone().or(cfg.display_name.clone());
    opts.inputs = inputs;
    opts.default_privacy = match &args.privacy {
        Some(p) => Privacy::from_bas(p).with_context(|| {
            format!("--privacy {p:?}: use public, blur_start, no_gps or unlisted")
        })?,
        None => cfg.default_privacy,
    };
    opts.sensors = cfg.sensors;
    opts.rdp_epsilon_deg = cfg.rdp_epsilon;
    opts.metadata_csv = args.metadata_csv.clone().or(cfg.metadata_csv.clone());
    opts.reextract = args.reextract;
    opts.athlete = cfg.athlete.clone();
    if let Some(dir) = args.dem.clone().or(cfg.dem.clone()) {
        if !dir.is_dir() {
            bail!("--dem {}: not a folder of elevation tiles", dir.display());
        }
        opts.dem_dir = Some(dir);
        opts.dem_at_import = true;
    } else {
        // Activities whose sidecar asks for terrain altitude use the instance's model.
        let instance = output.join(bincio_bas::config::FILE_NAME);
        if let Ok(c) = bincio_bas::InstanceConfig::load(&instance) {
            opts.dem_dir = c.dem_dir;
            opts.dem_url = c.dem_url;
        }
    }
    let workers = args.workers.or(cfg.workers);
    if let Some(n) = workers {
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().ok();
    }

    let bar = super::progress_bar(0, "extracting");
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let report = extract::extract_user(&opts, &progress)
        .with_context(|| format!("extracting into {}", user_dir.display()))?;
    bar.finish_and_clear();
    for f in &report.failed {
        eprintln!("failed: {}: {}", f.path.display(), f.reason);
    }
    for n in &report.elevation_notes {
        eprintln!("elevation: {n}");
    }
    eprintln!("{}", report.summary_line(handle.as_str()));
    Ok(if report.failed.is_empty() { Outcome::Ok } else { Outcome::SomeFailed })
}

fn print_one(file: &std::path::Path, args: &ExtractArgs) -> anyhow::Result<Outcome> {
    let raw = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let privacy = match &args.privacy {
        Some(p) => Privacy::from_bas(p).with_context(|| format!("--privacy {p:?} is not valid"))?,
        None => Privacy::Public,
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let csv = args.metadata_csv.as_deref().map(extract::strava_csv::StravaCsv::load).transpose()?;
    match extract::extract_file(
        &raw,
        &name,
        privacy,
        config::Sensors::default(),
        config::DEFAULT_RDP_EPSILON_DEG,
        csv.as_ref(),
        // No instance here: a file with neither offset nor coordinates reads as UTC.
        "UTC",
    ) {
        Ok((_, artefacts)) => {
            let json = serde_json::to_string_pretty(&artefacts.detail)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
            Ok(Outcome::Ok)
        }
        Err(e) => {
            eprintln!("failed: {}: {e}", file.display());
            Ok(Outcome::SomeFailed)
        }
    }
}
