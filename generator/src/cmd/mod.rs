//! One module per subcommand: argument structs and the glue that calls the library.
//! Only this layer (and `main`) uses anyhow and decides exit codes.

pub mod demo;
pub mod dev;
pub mod elevation;
pub mod extract;
pub mod federation;
pub mod render;
pub mod serve;
pub mod strava;
pub mod theme;
pub mod watch;

/// Set by `--quiet`: commands show no progress bars.
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
pub fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let hidden =
        QUIET.load(std::sync::atomic::Ordering::Relaxed) || !std::io::stderr().is_terminal();
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(what.to_owned());
    bar
}

/// What a command reports back to `main` for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Ok,
    /// The run finished but some inputs failed: exit 1.
    SomeFailed,
    /// Stopped early on purpose (a Strava rate limit) with everything so far kept; running
    /// again continues: exit 75 (EX_TEMPFAIL).
    Paused,
}

impl Outcome {
    /// The process exit status of a command's result: the one mapping both binaries use
    /// (0 ok, 1 some inputs failed, 75 paused; a fatal error is 2).
    pub fn exit_code(result: &anyhow::Result<Outcome>) -> std::process::ExitCode {
        match result {
            Ok(Outcome::Ok) => std::process::ExitCode::SUCCESS,
            Ok(Outcome::SomeFailed) => std::process::ExitCode::from(1),
            Ok(Outcome::Paused) => std::process::ExitCode::from(75),
            Err(e) => {
                eprintln!("error: {}", bincio_bas::report::error_chain(e.as_ref()));
                std::process::ExitCode::from(2)
            }
        }
    }
}
