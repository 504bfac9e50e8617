//! `bincio-gen render` (being written).

use super::Outcome;

/// Arguments of `bincio-gen render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {}

/// Run `bincio-gen render`.
pub fn run(_args: &RenderArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen render` is not implemented yet")
}
