//! `bincio-gen watch` (being written).

use super::Outcome;

/// Arguments of `bincio-gen watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {}

/// Run `bincio-gen watch`.
pub fn run(_args: &WatchArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen watch` is not implemented yet")
}
