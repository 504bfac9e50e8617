//! `bincio-gen synth` (being written).

use super::Outcome;

/// Arguments of `bincio-gen synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {}

/// Run `bincio-gen synth`.
pub fn run(_args: &SynthArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bincio-gen synth` is not implemented yet")
}
