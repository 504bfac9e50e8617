//! The `bincio-gen` binary: parse arguments, set up logging, run one command, and turn
//! its outcome into an exit status (0 ok, 1 some inputs failed, 2 fatal, 75 paused by a
//! rate limit: run again to continue).

use bincio_gen::cli::{Cli, Command};
use bincio_gen::cmd::{self, Outcome};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything allocates much (see the function).
    bincio_gen::without_transparent_huge_pages();
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.quiet);
    cmd::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let result = match &cli.command {
        Command::Extract(a) => cmd::extract::run(a),
        Command::Render(a) => cmd::render::run(a),
        Command::Elevation(a) => cmd::elevation::run(a),
        Command::Watch(a) => cmd::watch::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Dev(a) => cmd::dev::run(a),
        Command::Theme(a) => cmd::theme::run(a),
        Command::Strava(a) => cmd::strava::run(a),
        Command::Import(a) => cmd::strava::run_import(a),
        Command::Federation(a) => cmd::federation::run(a),
    };
    Outcome::exit_code(&result)
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "bincio_gen=error",
        (false, 0) => "bincio_gen=info",
        (false, 1) => "bincio_gen=debug",
        (false, _) => "bincio_gen=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .init();
}
