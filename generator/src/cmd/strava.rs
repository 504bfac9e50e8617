//! `bincio-gen strava connect|sync` and `bincio-gen import strava-export`.

use super::Outcome;
use crate::strava::api::{self, SystemClock};
use crate::strava::sync::{SyncOptions, SyncProgress, sync};
use crate::strava::{StravaError, base_url, credentials, job};
use anyhow::{Context, bail};
use bincio_bas::Handle;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `bincio-gen strava`.
#[derive(Debug, clap::Args)]
pub struct StravaArgs {
    #[command(subcommand)]
    pub command: StravaCommand,
}

/// The Strava subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StravaCommand {
    /// Connect a Strava account: prints the authorize URL, then catches Strava's redirect on
    /// 127.0.0.1 (or reads the code, or the whole redirect URL, pasted on stdin).
    Connect(ConnectArgs),
    /// Fetch the activities that are new on Strava, with their streams.
    Sync(SyncArgs),
}

/// Arguments of `bincio-gen strava connect`.
#[derive(Debug, clap::Args)]
#[command(after_help = "The Strava application comes from DATA_DIR/HANDLE/strava_credentials.json
({\"client_id\",\"client_secret\"}), the instance configuration (strava_client_id,
strava_client_secret) or STRAVA_CLIENT_ID / STRAVA_CLIENT_SECRET. Its Authorization Callback
Domain must be 127.0.0.1 (or localhost) for the redirect to be caught here.")]
pub struct ConnectArgs {
    /// The instance data directory.
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    #[arg(long)]
    pub handle: String,
    /// Port on 127.0.0.1 for Strava's redirect (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The authorisation code, if you already have it (skips the redirect).
    #[arg(long)]
    pub code: Option<String>,
    /// How long to wait for the redirect or a pasted code, in seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

/// Arguments of `bincio-gen strava sync`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 done, 75 stopped by Strava's rate limit for longer than
--max-wait (everything so far is kept; run again after the time printed to continue),
2 an error (e.g. \"reconnect Strava\").")]
pub struct SyncArgs {
    /// The instance data directory.
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    #[arg(long)]
    pub handle: String,
    /// List every activity, not only those after the last sync (known ones are skipped).
    #[arg(long)]
    pub full: bool,
    /// Longest wait for a rate-limit reset, in seconds; beyond it the sync stops (exit 75).
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub max_wait: u64,
}

/// Arguments of `bincio-gen import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub command: ImportCommand,
}

/// What can be imported.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// A Strava bulk export ("Download your data" ZIP): activities with their titles,
    /// descriptions, gear, commute and private flags from activities.csv, and photos.
    StravaExport(ExportArgs),
}

/// Arguments of `bincio-gen import strava-export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The export ZIP (`export_1234.zip`).
    pub zip: PathBuf,
    /// The instance data directory.
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    #[arg(long)]
    pub handle: String,
}

/// Run `bincio-gen strava …`.
pub fn run(args: &StravaArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        StravaCommand::Connect(a) => connect(a),
        StravaCommand::Sync(a) => run_sync(a),
    }
}

fn user_dir(data_dir: &Path, handle: &str) -> anyhow::Result<PathBuf> {
    let h = Handle::new(handle).with_context(|| format!("--handle {handle:?}"))?;
    let dir = data_dir.join(h.as_str());
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    Ok(dir)
}

fn clock_hhmm(until: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(until)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn run_sync(a: &SyncArgs) -> anyhow::Result<Outcome> {
    user_dir(&a.data_dir, &a.handle)?;
    let opts = SyncOptions {
        root: a.data_dir.clone(),
        handle: a.handle.clone(),
        full: a.full,
        max_wait_s: a.max_wait,
        base: base_url(),
        commit: None,
    };
    let bar = super::progress_bar(0, "strava");
    let progress = |p: &SyncProgress| match p {
        SyncProgress::Listing { listed } => bar.set_message(format!("listing ({listed})")),
        SyncProgress::Fetching { done, total } => {
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
        }
        SyncProgress::Waiting { until, .. } => {
            bar.set_message(job::paused_message(*until));
            if bar.is_hidden() && !super::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                eprintln!("{}", job::paused_message(*until));
            }
        }
    };
    let report = match sync(&opts, &SystemClock, &progress) {
        Ok(r) => r,
        Err(e @ StravaError::Reconnect(_)) => {
            bar.finish_and_clear();
            bail!(
                "{e}: run `bincio-gen strava connect --data-dir {} --handle {}`",
                a.data_dir.display(),
                a.handle
            )
        }
        Err(e) => return Err(e.into()),
    };
    bar.finish_and_clear();
    for (id, reason) in &report.failed {
        eprintln!("strava activity {id}: {reason}");
    }
    println!(
        "{}: {} new, {} already here, {} failed; {} requests; {:.2} s of work ({:.1} activities/s, waits of {:.0} s excluded)",
        a.handle,
        report.imported,
        report.skipped,
        report.failed.len(),
        report.requests,
        report.busy_s,
        report.throughput(),
        report.waited_s
    );
    if let Some(until) = report.paused_until {
        println!(
            "Strava rate limit: paused; everything so far is kept. Run the same command after {} to continue.",
            clock_hhmm(until)
        );
        return Ok(Outcome::Paused);
    }
    Ok(if report.failed.is_empty() { Outcome::Ok } else { Outcome::SomeFailed })
}

/// `state` for the command-line flow: unguessable enough to tie the redirect to this run.
fn random_state() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    let mut buf = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut buf);
    }
    h.update(buf);
    hex::encode(&h.finalize()[..16])
}

/// The value of `key` in a query string (percent-decoded).
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

enum Caught {
    Code { code: String, scope: Option<String> },
    Denied(String),
}

/// Parse a redirect (`/callback?code=…&state=…`, or a whole pasted URL, or a bare code).
fn parse_redirect(text: &str, state: &str) -> Option<Caught> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let Some((_, query)) = text.split_once('?') else {
        return Some(Caught::Code { code: text.to_owned(), scope: None });
    };
    let query = query.split(['#', ' ']).next().unwrap_or("");
    if let Some(err) = query_value(query, "error") {
        return Some(Caught::Denied(err));
    }
    if query_value(query, "state").as_deref() != Some(state) {
        return Some(Caught::Denied("the redirect's state does not match this connect".into()));
    }
    let code = query_value(query, "code")?;
    Some(Caught::Code { code, scope: query_value(query, "scope") })
}

fn connect(a: &ConnectArgs) -> anyhow::Result<Outcome> {
    let dir = user_dir(&a.data_dir, &a.handle)?;
    let creds = credentials(&a.data_dir, &dir)?.ok_or_else(|| {
        StravaError::NoCredentials(
            bincio_bas::layout::UserDir::new(&dir).strava_credentials().display().to_string(),
        )
    })?;
    let base = base_url();
    let caught = match &a.code {
        Some(code) => Caught::Code { code: code.clone(), scope: None },
        None => {
            let listener = std::net::TcpListener::bind(("127.0.0.1", a.port))
                .with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port))?;
            let port = listener.local_addr()?.port();
            let state = random_state();
            let redirect = format!("http://127.0.0.1:{port}/callback");
            let url = api::authorize_url(&base, &creds.client_id, &redirect, &state);
            println!("Open this URL in a browser and authorise Bincio:\n\n  {url}\n");
            println!(
                "Waiting for Strava's redirect to {redirect} (or paste the code or the redirected URL here)…"
            );
            let _ = std::io::stdout().flush();
            let (tx, rx) = std::sync::mpsc::channel::<Caught>();
            let tx_http = tx.clone();
            let st = state.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let mut line = String::new();
                    let mut reader = std::io::BufReader::new(&stream);
                    if reader.read_line(&mut line).is_err() {
                        continue;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let Some(caught) =
                        parse_redirect(&target, &st).filter(|_| target.contains('?'))
                    else {
                        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        continue;
                    };
                    let body: &[u8] = match &caught {
                        Caught::Code { .. } => b"<!doctype html><title>Bincio</title><p>Strava is connected. You can close this window.</p>",
                        Caught::Denied(_) => b"<!doctype html><title>Bincio</title><p>Strava was not connected. See the terminal.</p>",
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body);
                    let _ = tx_http.send(caught);
                    break;
                }
            });
            let st = state;
            std::thread::spawn(move || {
                let stdin = std::io::stdin();
                for line in stdin.lock().lines() {
                    let Ok(line) = line else { break };
                    if let Some(c) = parse_redirect(&line, &st) {
                        let _ = tx.send(c);
                        break;
                    }
                }
            });
            rx.recv_timeout(Duration::from_secs(a.timeout))
                .map_err(|_| anyhow::anyhow!("no authorisation within {} s", a.timeout))?
        }
    };
    let (code, scope) = match caught {
        Caught::Code { code, scope } => (code, scope),
        Caught::Denied(why) => bail!("Strava was not connected: {why}"),
    };
    let token = api::exchange_code(&base, &creds, &code, scope.as_deref())?;
    if let Some(s) = token.scope.as_deref()
        && !s.contains("activity:read_all")
    {
        eprintln!(
            "note: private activities were not granted (scope {s}); only public ones will sync"
        );
    }
    let who = token
        .athlete
        .as_ref()
        .and_then(|a| a.get("username").or_else(|| a.get("firstname")))
        .and_then(|v| v.as_str())
        .unwrap_or("your account")
        .to_owned();
    api::save_connected(&dir, token)?;
    println!(
        "Connected Strava ({who}) for {}. Now run: bincio-gen strava sync --data-dir {} --handle {}",
        a.handle,
        a.data_dir.display(),
        a.handle
    );
    Ok(Outcome::Ok)
}

/// Run `bincio-gen import …`.
pub fn run_import(args: &ImportArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        ImportCommand::StravaExport(a) => {
            let dir = user_dir(&a.data_dir, &a.handle)?;
            let bar = super::progress_bar(0, "import");
            let progress = |done: usize, total: usize| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            };
            let r = crate::strava::export::import_zip(&a.zip, &dir, &a.handle, &progress, None)?;
            bar.finish_and_clear();
            for f in &r.failed {
                eprintln!("{}: {}", f.0, f.1);
            }
            println!("{}", r.summary_line(&a.handle));
            Ok(if r.failed.is_empty() { Outcome::Ok } else { Outcome::SomeFailed })
        }
    }
}
