//! `bincio-gen bench`: benchmarks that print a table (never timed unit tests).

use super::Outcome;
use super::bench_build::BuildBench;
use std::path::PathBuf;

/// Arguments of `bincio-gen bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub kind: BenchKind,
}

/// Which benchmark.
#[derive(Debug, clap::Subcommand)]
pub enum BenchKind {
    /// Extraction throughput: files/s and MB/s per format, peak RSS, cold and no-change re-run.
    #[command(after_help = "Example:
  cargo build --release && target/release/bincio-gen bench extract --files 2000")]
    Extract {
        /// Number of activity files in the generated corpus.
        #[arg(long, default_value_t = 2000)]
        files: usize,
        /// Seed of the corpus generator.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Keep the corpus and data directory here instead of a temporary folder.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// (internal) One measured extraction; prints a JSON line for `bench extract`.
    #[command(hide = true)]
    ExtractRun {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        user_dir: PathBuf,
    },
    /// Render a generated instance: full, no-change and `--handle` rebuilds.
    Build(BuildBench),
}

/// Run `bincio-gen bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<Outcome> {
    match &args.kind {
        BenchKind::Extract { files, seed, keep } => {
            super::bench_extract::bench_extract(*files, *seed, keep.as_deref())
        }
        BenchKind::ExtractRun { input, user_dir } => {
            super::bench_extract::extract_run(input, user_dir)
        }
        BenchKind::Build(b) => super::bench_build::bench_build(b),
    }
}
