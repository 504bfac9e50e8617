//! `bincio-gen demo` (being written).

use super::Outcome;

/// Arguments of `bincio-gen demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// Run `bincio-gen demo`.
pub fn run(_args: &DemoArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen demo` is not implemented yet")
}
