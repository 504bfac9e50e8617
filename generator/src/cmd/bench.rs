//! `bincio-gen bench` (being written).

use super::Outcome;

/// Arguments of `bincio-gen bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

/// Run `bincio-gen bench`.
pub fn run(_args: &BenchArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen bench` is not implemented yet")
}
