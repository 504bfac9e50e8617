//! The `bincio-api` command line (clap derive) and the admin subcommands that the
//! reference did with Python one-liners.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Bincio's HTTP daemon: accounts, sessions, invites, uploads and edits.
#[derive(Debug, Parser)]
#[command(
    name = "bincio-api",
    version,
    after_help = "Examples:\n  bincio-api init --data-dir /var/bincio --handle dave --display-name Dave --name \"Our Rides\"\n  bincio-api serve --data-dir /var/bincio --listen 127.0.0.1:4041\n  bincio-api invite create --by dave"
)]
pub struct Cli {
    /// More log output (-v: debug). RUST_LOG overrides this.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the instance (idempotent): database, admin account, folders, root manifest
    /// with private: true, and print a first invite link. Asks for the password twice on a
    /// terminal; reads two lines from standard input when piped.
    Init {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        /// The admin's handle (lowercase letters, digits, '_' and '-').
        #[arg(long)]
        handle: String,
        /// The admin's display name (default: the handle).
        #[arg(long)]
        display_name: Option<String>,
        /// The instance name shown on the site.
        #[arg(long)]
        name: Option<String>,
        /// Maximum number of accounts (0: unlimited).
        #[arg(long)]
        max_users: Option<u32>,
        /// Keep uploaded files in {handle}/originals/ (default true).
        #[arg(long)]
        store_originals: Option<bool>,
    },
    /// Run the daemon.
    Serve {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        /// Address to listen on (keep it on loopback, behind nginx).
        #[arg(long, default_value = "127.0.0.1:4041", env = "BINCIO_LISTEN")]
        listen: SocketAddr,
    },
    /// Invites.
    Invite {
        #[command(subcommand)]
        action: InviteAction,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Instance settings, kept in {data-dir}/bincio.toml (every key and its default:
    /// docs/admin.md); changes apply without restarting `serve`.
    Settings {
        #[command(subcommand)]
        action: SettingsAction,
    },
}

/// `invite` subcommands.
#[derive(Debug, Subcommand)]
pub enum InviteAction {
    /// Create an invite and print its registration link.
    Create {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        /// The account the invite is created by.
        #[arg(long)]
        by: String,
    },
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// List accounts.
    List {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Issue a 24 h password-reset code.
    ResetCode {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        handle: String,
    },
    /// Delete an account and its data.
    Delete {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        handle: String,
    },
}

/// `settings` subcommands.
#[derive(Debug, Subcommand)]
pub enum SettingsAction {
    /// Print one setting (its default when unset; empty when it has none).
    Get {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        key: String,
    },
    /// Change one setting; an empty value removes the key (back to its default).
    Set {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
        key: String,
        value: String,
    },
    /// Print every setting with its value or default (secrets masked).
    List {
        #[arg(long, env = "BINCIO_DATA_DIR")]
        data_dir: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
