//! `bincio-gen theme eject DIR`: write the built-in default theme out for customising.

use super::Outcome;
use crate::theme::Theme;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `bincio-gen theme`.
#[derive(Debug, clap::Args)]
pub struct ThemeArgs {
    #[command(subcommand)]
    pub action: ThemeAction,
}

/// What to do with the theme.
#[derive(Debug, clap::Subcommand)]
pub enum ThemeAction {
    /// Copy the built-in default theme into DIR (templates/, static/, vendor/, theme.toml),
    /// then render with `--theme DIR`. Refuses to overwrite existing files.
    #[command(after_help = "Example:
  bincio-gen theme eject ~/my-theme
  bincio-gen render --data-dir ~/bincio_data --out ~/site --theme ~/my-theme")]
    Eject {
        /// The folder to write the theme into (created when missing).
        dir: PathBuf,
    },
}

/// Run `bincio-gen theme`.
pub fn run(args: &ThemeArgs) -> anyhow::Result<Outcome> {
    match &args.action {
        ThemeAction::Eject { dir } => {
            let n = Theme::embedded()
                .eject(dir)
                .with_context(|| format!("ejecting the default theme into {}", dir.display()))?;
            eprintln!(
                "wrote the default theme ({n} files) into {}; render with --theme {}",
                dir.display(),
                dir.display()
            );
            Ok(Outcome::Ok)
        }
    }
}
