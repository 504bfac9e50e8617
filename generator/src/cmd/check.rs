//! `bincio-gen check` (being written).

use super::Outcome;

/// Arguments of `bincio-gen check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Run `bincio-gen check`.
pub fn run(_args: &CheckArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen check` is not implemented yet")
}
