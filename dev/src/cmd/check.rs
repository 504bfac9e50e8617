//! `bincio-dev check`: our figures against the devices' own totals, as a table.

use anyhow::Context;
use bincio_gen::cmd::Outcome;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `bincio-dev check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bincio-dev check --devices ../shared/samples/devices

Each row compares one figure (distance 1 %, elapsed 1 s, moving 3 % where the device paused,
HR 1 bpm, power 1 W, sport) with the device's session or lap totals. Exit status 1 on any mismatch.")]
pub struct CheckArgs {
    /// A folder with MANIFEST.tsv and the device files it lists.
    #[arg(long, value_name = "DIR")]
    pub devices: PathBuf,
}

/// Run `bincio-dev check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let rows = crate::check::check_devices(&args.devices)
        .with_context(|| format!("checking {}", args.devices.display()))?;
    let table = crate::check::format_table(&rows);
    std::io::stdout().lock().write_all(table.as_bytes())?;
    Ok(if rows.iter().all(|r| r.ok) { Outcome::Ok } else { Outcome::SomeFailed })
}
