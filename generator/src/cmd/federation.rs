//! `bincio-gen federation add|list|remove|refresh`: follow other instances.

use super::Outcome;
use crate::federation::{self, RemoteStatus};
use bincio_bas::InstanceRoot;
use std::path::PathBuf;

/// Arguments of `bincio-gen federation`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bincio-gen federation add https://alice.example.com/data/alice/_merged/index.json
  bincio-gen federation add https://club.example.org/ --handle club
  bincio-gen federation list
  bincio-gen federation refresh
  bincio-gen federation remove alice

Followed remotes are shards with an absolute URL in DATA/index.json. Every render, and
`bincio-gen watch` every 15 minutes, fetches them server-side; their public, listed activities
appear in the combined feed. See docs/federation.md.")]
pub struct FederationArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Action,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Follow a user feed (`…/data/alice/_merged/index.json`) or a whole public instance
    /// (`https://club.example.org/`). Fetches it once first and refuses what is not a BAS feed.
    Add {
        url: String,
        /// The name of the shard in the root manifest (default: the user's handle in the URL,
        /// else the host).
        #[arg(long)]
        handle: Option<String>,
        /// Add it even when the first fetch fails (the remote is down for now).
        #[arg(long)]
        force: bool,
    },
    /// The followed remotes, their last refresh and why one is failing.
    List,
    /// Stop following a remote (by name or URL); its cached activities go at the next render.
    Remove { name: String },
    /// Fetch every followed remote now (a render uses what this cached).
    Refresh,
}

fn data_dir(args: &FederationArgs) -> anyhow::Result<PathBuf> {
    args.data_dir
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--data-dir (or BINCIO_DATA_DIR) is required"))
}

/// Run `bincio-gen federation …`.
pub fn run(args: &FederationArgs) -> anyhow::Result<Outcome> {
    let root = InstanceRoot::new(data_dir(args)?);
    if !root.path().is_dir() {
        anyhow::bail!("{}: the data directory does not exist", root.path().display());
    }
    match &args.action {
        Action::Add { url, handle, force } => {
            // Fetch it once before following it: a typo or a private instance is said now,
            // not discovered in a render's report.
            let client = federation::client();
            let cache = federation::cache::HttpCache::new(&root);
            if let Err(e) = federation::fetch::remote(&client, &cache, url, None)
                && !force
            {
                anyhow::bail!("not added: {e} (add --force to follow it anyway)");
            }
            let added = federation::add(&root, url, handle.as_deref())?;
            let report = federation::refresh(&root, &client)?;
            println!("following {} as {}", added.url, added.name);
            if let Some(s) = report.remotes.iter().find(|r| r.url == added.url) {
                println!("{}", federation::status_line(s));
            }
            println!(
                "the next render (or the running watcher within its refresh interval) shows its activities"
            );
            Ok(Outcome::Ok)
        }
        Action::List => {
            let shown = federation::load(&root, &[]);
            if shown.status.is_empty() {
                println!("following nobody (add one with `bincio-gen federation add URL`)");
                return Ok(Outcome::Ok);
            }
            print_table(&shown.status);
            Ok(if shown.status.iter().any(|s| s.error.is_some()) {
                Outcome::SomeFailed
            } else {
                Outcome::Ok
            })
        }
        Action::Remove { name } => {
            let removed = federation::remove(&root, name)?;
            println!(
                "stopped following {} ({}); the next render removes its activities",
                removed.name, removed.url
            );
            Ok(Outcome::Ok)
        }
        Action::Refresh => {
            let report = federation::refresh(&root, &federation::client())?;
            for line in report.lines() {
                println!("{line}");
            }
            Ok(if report.failing().next().is_some() { Outcome::SomeFailed } else { Outcome::Ok })
        }
    }
}

fn print_table(rows: &[RemoteStatus]) {
    println!("{:<20} {:>10} {:<26} {:<8} url", "name", "activities", "last good copy", "state");
    for r in rows {
        let ok = r.ok_at.map(|t| t.to_string()).unwrap_or_else(|| "never".to_owned());
        let state = if r.error.is_some() { "FAILING" } else { "ok" };
        println!("{:<20} {:>10} {:<26} {:<8} {}", r.name, r.activities, ok, state, r.url);
        if let Some(e) = &r.error {
            println!("{:<20} {e}", "");
        }
        if r.invalid > 0 {
            println!(
                "{:<20} {} invalid activities dropped, e.g. {}",
                "",
                r.invalid,
                r.invalid_examples.first().map_or("", String::as_str)
            );
        }
    }
}
