//! `bincio-gen serve` (being written).

use super::Outcome;

/// Arguments of `bincio-gen serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Run `bincio-gen serve`.
pub fn run(_args: &ServeArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen serve` is not implemented yet")
}
