//! The `bincio-dev` binary: parse arguments, run one developer tool, map its outcome to an
//! exit status (0 ok, 1 a check or a target failed, 2 fatal).

use bincio_dev::{bench, cmd};
use bincio_gen::cmd::Outcome;
use clap::Parser;
use std::process::ExitCode;

/// Bincio's developer tools: synthetic fixtures, benchmarks and the device check.
///
/// Not part of the product: `cargo run --release -p bincio-dev -- <command>`.
#[derive(Debug, Parser)]
#[command(name = "bincio-dev", version)]
struct Cli {
    /// Only errors; no progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write the synthetic ground-truth activity files (the project's fixtures) or a corpus.
    Synth(cmd::synth::SynthArgs),
    /// Compare our figures with the devices' own totals for every sample file; print a table.
    Check(cmd::check::CheckArgs),
    /// Run a benchmark and print a table (extract | build | api | upload-latency).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // Before anything allocates much (see the function).
    bincio_gen::without_transparent_huge_pages();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    bincio_gen::cmd::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let result = match &cli.command {
        Command::Synth(a) => cmd::synth::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Bench(a) => bench::run(a),
    };
    Outcome::exit_code(&result)
}
