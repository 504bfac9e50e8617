//! `bincio-dev synth`: write the synthetic ground-truth fixtures, or a benchmark corpus.
//!
//! `bincio-dev synth --out fixtures/activities` regenerates the committed fixtures
//! (deterministic: a re-run changes no byte). `--corpus N` writes N benchmark files
//! instead (mixed GPX/TCX/FIT, some gzipped, 30 min to 6 h, 1–10 s sampling).

use anyhow::Context;
use bincio_gen::cmd::Outcome;
use std::path::PathBuf;

/// Arguments of `bincio-dev synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Output folder (created if missing), e.g. `fixtures/activities`.
    #[arg(long, default_value = "fixtures/activities")]
    pub out: PathBuf,
    /// Write this many benchmark-corpus files instead of the fixtures.
    #[arg(long)]
    pub corpus: Option<usize>,
    /// Seed of the benchmark corpus.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Run `bincio-dev synth`.
pub fn run(args: &SynthArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    if let Some(n) = args.corpus {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
        let bar = bincio_gen::cmd::progress_bar(n as u64, "synth");
        let mut bytes_total = 0u64;
        for (name, bytes) in crate::synth::corpus(n, args.seed) {
            let path = args.out.join(&name);
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            bytes_total += bytes.len() as u64;
            bar.inc(1);
        }
        bar.finish_and_clear();
        eprintln!(
            "wrote {n} corpus files ({:.1} MB) to {} in {:.1} s",
            bytes_total as f64 / 1e6,
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(Outcome::Ok);
    }
    let written = crate::synth::write_fixture_set(&args.out)
        .with_context(|| format!("writing fixtures to {}", args.out.display()))?;
    let bytes_total: u64 =
        written.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    eprintln!(
        "wrote {} files ({:.0} KB) to {} in {:.2} s",
        written.len(),
        bytes_total as f64 / 1024.0,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}
