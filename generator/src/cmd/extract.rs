//! `bincio-gen extract` (being written).

use super::Outcome;

/// Arguments of `bincio-gen extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {}

/// Run `bincio-gen extract`.
pub fn run(_args: &ExtractArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen extract` is not implemented yet")
}
