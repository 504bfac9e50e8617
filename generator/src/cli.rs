//! Command-line definition. Doc comments here are the `--help` text.

use crate::cmd;
use clap::{Parser, Subcommand};

/// Bincio's static-site generator: your rides and runs, on your server, as plain files.
///
/// Typical use: `bincio-gen extract --input ~/rides --output ~/bincio_data --handle dave`,
/// then `bincio-gen render --data-dir ~/bincio_data --out ~/site`.
#[derive(Debug, Parser)]
#[command(name = "bincio-gen", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides this.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Extract GPX, FIT and TCX files (optionally .gz) into a user's BAS store.
    Extract(cmd::extract::ExtractArgs),
    /// Recalculate a user's elevation from a terrain model (SRTM tiles or a service), by
    /// smoothing, or restore the device's altitude.
    Elevation(cmd::elevation::ElevationArgs),
    /// Render every HTML page and JSON feed of the site from a data directory.
    #[command(alias = "build")]
    Render(cmd::render::RenderArgs),
    /// Serve the regeneration queue: extract, merge and re-render one user per request.
    Watch(cmd::watch::WatchArgs),
    /// Preview the site on 127.0.0.1, rebuilding on change.
    Serve(cmd::serve::ServeArgs),
    /// Extract the bundled demo fixtures, render them and serve the result.
    Demo(cmd::demo::DemoArgs),
    /// Local multi-user testing: daemon (if instance.db exists), watcher and a local server.
    Dev(cmd::dev::DevArgs),
    /// Follow other instances: `add URL`, `list`, `remove NAME`, `refresh`.
    Federation(cmd::federation::FederationArgs),
    /// The built-in theme: `eject DIR` copies it out for customising (then use --theme DIR).
    Theme(cmd::theme::ThemeArgs),
    /// Strava: `connect` an account, `sync` its activities with their streams.
    Strava(cmd::strava::StravaArgs),
    /// Import an export from another service: `import strava-export export_1234.zip`.
    Import(cmd::strava::ImportArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
