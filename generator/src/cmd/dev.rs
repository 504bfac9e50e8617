//! `bincio-gen dev` (being written).

use super::Outcome;

/// Arguments of `bincio-gen dev`.
#[derive(Debug, clap::Args)]
pub struct DevArgs {}

/// Run `bincio-gen dev`.
pub fn run(_args: &DevArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen dev` is not implemented yet")
}
