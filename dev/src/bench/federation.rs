//! `bincio-dev bench federation`: what following remotes costs a render when nothing
//! changed on them. A generated remote instance (one user per followed remote) is rendered
//! and served from a small static server on loopback with ETags, like nginx; a local
//! instance follows every remote user feed. After a first (cold) refresh and render, the
//! bench times a render from the cache alone, then a refresh plus render with every remote
//! unchanged, and reports the difference per remote, and whether every request of the
//! second refresh was conditional and answered 304. Goal: < 50 ms per remote.

use super::build::generate_instance;
use anyhow::Context;
use bincio_bas::InstanceRoot;
use bincio_gen::cmd::Outcome;
use bincio_gen::federation;
use bincio_gen::site::{self, SiteOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The goal: a second render adds less than this per unchanged remote.
const GOAL_MS_PER_REMOTE: f64 = 50.0;

/// Arguments of `bincio-dev bench federation`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  cargo build --release -p bincio-dev && target/release/bincio-dev bench federation")]
pub struct FederationBench {
    /// Followed remotes (one remote user each).
    #[arg(long, default_value_t = 10)]
    pub remotes: usize,
    /// Activities of each remote user (spread over several year shards).
    #[arg(long, default_value_t = 300)]
    pub activities: usize,
    /// Work folder (default: a temporary folder, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Run the benchmark; fails (exit 1) when the goal is missed or a request was not a 304.
pub fn bench_federation(args: &FederationBench) -> anyhow::Result<Outcome> {
    let work = super::work_dir(args.dir.as_deref())?;
    let dir: &std::path::Path = &work.path;
    let remote_data = dir.join("remote-data");
    let remote_site = dir.join("remote-site");
    generate_instance(&remote_data, args.remotes, args.activities, 60)?;
    site::build(&options(&remote_data, &remote_site)).context("rendering the remote")?;
    let port = serve_static(remote_site)?;

    let data = dir.join("data");
    let out = dir.join("site");
    generate_instance(&data, 1, 100, 60)?;
    let opts = options(&data, &out);
    site::build(&opts).context("first local render")?;
    let root = InstanceRoot::new(&data);
    for u in 0..args.remotes {
        let url = format!("http://127.0.0.1:{port}/data/user{u:02}/_merged/index.json");
        federation::add(&root, &url, Some(&format!("remote{u:02}")))?;
    }
    let client = federation::client();
    let cold = federation::refresh(&root, &client)?;
    if let Some(f) = cold.failing().next() {
        anyhow::bail!("the cold refresh failed: {}", federation::status_line(f));
    }
    site::build(&opts).context("render with the remotes")?;

    // Best of three of each, to keep the other engineers' load out of the figure.
    let mut base_ms = f64::MAX;
    let mut second_ms = f64::MAX;
    let mut refresh_ms = f64::MAX;
    let mut all_304 = true;
    let mut requests = 0;
    for _ in 0..3 {
        let t = Instant::now();
        site::build(&opts).context("render from the cache")?;
        base_ms = base_ms.min(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let r = federation::refresh(&root, &client)?;
        let tr = t.elapsed().as_secs_f64() * 1000.0;
        site::build(&opts).context("render after an unchanged refresh")?;
        second_ms = second_ms.min(t.elapsed().as_secs_f64() * 1000.0);
        refresh_ms = refresh_ms.min(tr);
        requests = r.remotes.iter().map(|s| s.requests).sum::<usize>();
        all_304 &= r.remotes.iter().all(|s| s.error.is_none() && s.requests == s.not_modified);
    }
    let per_remote = (second_ms - base_ms).max(0.0) / args.remotes as f64;
    let shown: usize = cold.remotes.iter().map(|s| s.activities).sum();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| followed remotes | {} ({} activities shown) |", args.remotes, shown);
    println!("| render from the cache (no fetch) | {base_ms:.1} ms |");
    println!("| refresh, all unchanged | {refresh_ms:.1} ms ({requests} requests) |");
    println!("| refresh + render, all unchanged | {second_ms:.1} ms |");
    println!("| added per remote | {per_remote:.1} ms (goal < {GOAL_MS_PER_REMOTE} ms) |");
    println!(
        "| every request conditional, answered 304 | {} |",
        if all_304 { "yes" } else { "NO" }
    );
    Ok(if all_304 && per_remote < GOAL_MS_PER_REMOTE { Outcome::Ok } else { Outcome::SomeFailed })
}

fn options(data: &Path, out: &Path) -> SiteOptions {
    SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    }
}

/// Serve `root` on 127.0.0.1 (GET only, ETag from size and modification time, 304 on a
/// matching `If-None-Match`, keep-alive), like nginx serves a site. Returns the port.
fn serve_static(root: PathBuf) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // As nginx does on keep-alive connections: no Nagle delay on small answers.
            let _ = stream.set_nodelay(true);
            let root = root.clone();
            std::thread::spawn(move || while serve_one(&stream, &root).unwrap_or(false) {});
        }
    });
    Ok(port)
}

/// Answer one request on a kept-alive connection; `Ok(false)` when the peer closed.
fn serve_one(stream: &TcpStream, root: &Path) -> std::io::Result<bool> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(false);
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
    let mut if_none_match = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(v.trim().to_owned());
        }
    }
    let mut w = stream;
    let rel = path.trim_start_matches('/');
    let file = root.join(rel);
    let meta = if rel.split('/').any(|c| c == "..") { None } else { std::fs::metadata(&file).ok() };
    let Some(meta) = meta.filter(|m| m.is_file()) else {
        w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(true);
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("\"{:x}-{:x}\"", meta.len(), mtime);
    if if_none_match.as_deref() == Some(etag.as_str()) {
        w.write_all(
            format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )?;
        return Ok(true);
    }
    let body = std::fs::read(&file)?;
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    w.write_all(&answer)?;
    Ok(true)
}
