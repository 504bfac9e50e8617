//! `bincio-gen serve`: preview a site on 127.0.0.1 and rebuild it when the data changes.
//!
//! The server is deliberately tiny (std threads, GET/HEAD only, files under the output folder
//! only): it is a preview, not a production server; nginx serves the real site. `/api/*`
//! answers 404 so pages behave as for an anonymous visitor on a site without a daemon.

use super::Outcome;
use crate::site::{self, SiteOptions};
use anyhow::Context;
use bincio_bas::layout;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `bincio-gen serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bincio-gen serve --data-dir ~/bincio_data            # http://127.0.0.1:8000/")]
pub struct ServeArgs {
    /// The data directory (instance root).
    #[arg(long, value_name = "DIR", env = "BINCIO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The output folder (default: a `site` folder beside the data directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A theme folder (templates/, static/, vendor/, theme.toml) instead of the built-in
    /// default; `bincio-gen theme eject DIR` writes the default out to start from.
    #[arg(long, value_name = "DIR", env = "BINCIO_THEME_DIR")]
    pub theme: Option<PathBuf>,
    /// Address to listen on (loopback only by default).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: String,
}

/// Run `bincio-gen serve`.
pub fn run(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.data_dir));
    let opts = SiteOptions {
        data_dir: args.data_dir.clone(),
        out_dir: out.clone(),
        theme_dir: args.theme.clone(),
        handle: None,
        tile_url: None,
    };
    site::build(&opts).context("initial render")?;
    spawn_rebuilder(opts)?;
    serve_dir(&out, &args.listen)
}

/// `{data_dir}/../site` (never inside the data directory).
pub fn default_out(data_dir: &Path) -> PathBuf {
    data_dir.parent().map(|p| p.join("site")).unwrap_or_else(|| PathBuf::from("site"))
}

/// Rebuild on any change in the data directory (outside `_merged/` and `_queue/`).
fn spawn_rebuilder(opts: SiteOptions) -> anyhow::Result<()> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let root = opts.data_dir.clone();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && is_data_change(&root, &ev)
        {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(&opts.data_dir, notify::RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        let _keep = watcher;
        while rx.recv().is_ok() {
            std::thread::sleep(Duration::from_millis(300));
            while rx.try_recv().is_ok() {}
            match site::build(&opts) {
                Ok(r) => tracing::info!(written = r.files_written, "rebuilt"),
                Err(e) => tracing::error!("rebuild failed: {e}"),
            }
        }
    });
    Ok(())
}

/// Whether an event is a change to the data a build reads, rather than the build's own
/// doing. inotify reports every open and close, so a build *reading* the data directory
/// produced access events that started the next build, for ever (a rebuild every 0.3 s):
/// only creations, removals, renames and content writes count, and only outside what
/// builds themselves write (`_merged/`, `_queue/`, dot files and folders such as
/// `.site/` and `.site_cache-*.json`, `index.json`). Only the part of a path inside the data
/// directory `root` counts: a data directory under a dot folder (`~/.local/share/bincio`, a
/// temporary `.tmpXXXX`) must still rebuild.
fn is_data_change(root: &Path, ev: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::ModifyKind;
    let changes = matches!(
        ev.kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
    );
    let ours = |p: &Path| {
        let p = p.strip_prefix(root).unwrap_or(p);
        p.components().any(|c| {
            let c = c.as_os_str();
            c == layout::MERGED_DIR
                || c == layout::QUEUE_DIR
                || c.to_string_lossy().starts_with('.')
        }) || p.ends_with("index.json")
    };
    changes && !ev.paths.iter().all(|p| ours(p))
}

/// Serve `root` over HTTP until the process is stopped.
pub fn serve_dir(root: &Path, listen: &str) -> anyhow::Result<Outcome> {
    serve_dir_with_api(root, listen, None)
}

/// Serve `root`, forwarding `/api/*` to a `bincio-api` daemon at `api` when given.
pub fn serve_dir_with_api(
    root: &Path,
    listen: &str,
    api: Option<std::net::SocketAddr>,
) -> anyhow::Result<Outcome> {
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("serving {} on http://{}/ (Ctrl-C to stop)", root.display(), listener.local_addr()?);
    serve_on(root, listener, api)
}

/// Serve `root` on an already bound listener (tests bind `127.0.0.1:0`).
pub fn serve_listener(root: &Path, listener: TcpListener) -> anyhow::Result<Outcome> {
    serve_on(root, listener, None)
}

fn serve_on(
    root: &Path,
    listener: TcpListener,
    api: Option<std::net::SocketAddr>,
) -> anyhow::Result<Outcome> {
    let root = root.canonicalize()?;
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            if let Err(e) = handle(&root, stream, api) {
                tracing::debug!("request failed: {e}");
            }
        });
    }
    Ok(Outcome::Ok)
}

/// Forward one request to the daemon as nginx would (same Host, so the daemon's Origin
/// check sees the preview's own origin), and copy its answer back.
fn proxy(
    api: std::net::SocketAddr,
    request_line: &str,
    headers: &[String],
    body: &mut impl std::io::Read,
    client: &mut TcpStream,
) -> std::io::Result<()> {
    let mut upstream = TcpStream::connect_timeout(&api, Duration::from_secs(5))?;
    let mut head = String::from(request_line);
    let mut length: u64 = 0;
    for h in headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("x-real-ip:") {
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(h);
    }
    head.push_str("X-Real-IP: 127.0.0.1\r\nConnection: close\r\n\r\n");
    upstream.write_all(head.as_bytes())?;
    let mut limited = std::io::Read::take(body, length);
    std::io::copy(&mut limited, &mut upstream)?;
    std::io::copy(&mut upstream, client)?;
    Ok(())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "geojson" => "application/geo+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "xml" => "application/atom+xml",
        "gpx" => "application/gpx+xml",
        _ => "application/octet-stream",
    }
}

fn handle(
    root: &Path,
    mut stream: TcpStream,
    api: Option<std::net::SocketAddr>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? <= 2 {
            break;
        }
        headers.push(h);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    if let Some(api) = api
        && path.starts_with("/api/")
    {
        return proxy(api, &line, &headers, &mut reader, &mut stream);
    }
    let (status, file) = resolve(root, path);
    // No daemon behind the preview: `/api/*` answers 204 (the pages then behave as for an
    // anonymous visitor, without an error in the browser console).
    let (status, body, ctype) = match (method, file) {
        _ if path.starts_with("/api/") => (204, Vec::new(), "application/json"),
        ("GET" | "HEAD", Some(f)) => (status, std::fs::read(&f)?, content_type(&f)),
        ("GET" | "HEAD", None) => {
            let nf = root.join("404.html");
            (404, std::fs::read(&nf).unwrap_or_default(), "text/html; charset=utf-8")
        }
        _ => (405, Vec::new(), "text/plain"),
    };
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    Ok(())
}

fn resolve(root: &Path, url_path: &str) -> (u16, Option<PathBuf>) {
    if url_path.starts_with("/api/") {
        return (404, None);
    }
    let decoded = percent_decode(url_path);
    if decoded.split('/').any(|c| c == "..") {
        return (404, None);
    }
    let mut p = root.join(decoded.trim_start_matches('/'));
    if p.is_dir() {
        p = p.join("index.html");
    }
    match p.canonicalize() {
        Ok(c) if c.starts_with(root) && c.is_file() => (200, Some(c)),
        _ => (404, None),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod proxy_tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn api_requests_are_forwarded_with_host_and_body() {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join("index.html"), "home").unwrap();
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let api = upstream.local_addr().unwrap();
        let seen = std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&got).contains("hello") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        let front = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = front.local_addr().unwrap();
        let root = site.path().to_path_buf();
        std::thread::spawn(move || serve_on(&root, front, Some(api)));
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(
            format!("POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello")
                .as_bytes(),
        )
        .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("ok"), "{answer}");
        let request = seen.join().unwrap();
        assert!(request.starts_with("POST /api/auth/login HTTP/1.1\r\n"));
        assert!(request.contains(&format!("Host: {addr}\r\n")), "{request}");
        assert!(request.contains("X-Real-IP: 127.0.0.1\r\nConnection: close\r\n\r\nhello"));
        assert!(!request.contains("keep-alive"));
    }
}

#[cfg(test)]
mod watch_tests {
    use super::is_data_change;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind};
    use notify::{Event, EventKind};
    use std::path::{Path, PathBuf};

    fn ev(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from("/data").join(path))
    }

    #[test]
    fn reads_and_the_builds_own_files_do_not_trigger_a_rebuild() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        // What a build does: it opens and reads every input, and writes its own records.
        for e in [
            ev(EventKind::Access(AccessKind::Open(AccessMode::Read)), "dave/edits/a.md"),
            ev(EventKind::Access(AccessKind::Close(AccessMode::Read)), "dave/activities/a.json"),
            ev(
                EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::AccessTime)),
                "dave/index.json",
            ),
            ev(write, "dave/_merged/activities/a.json"),
            ev(EventKind::Create(CreateKind::File), ".site/pages-x/dave.json"),
            ev(write, "dave/.site_cache-x.json"),
            ev(write, "index.json"),
        ] {
            assert!(!is_data_change(Path::new("/data"), &e), "{e:?}");
        }
        // What a user does.
        for e in [
            ev(write, "dave/edits/a.md"),
            ev(EventKind::Create(CreateKind::File), "dave/activities/b.json"),
            ev(EventKind::Remove(notify::event::RemoveKind::File), "dave/activities/a.json"),
        ] {
            assert!(is_data_change(Path::new("/data"), &e), "{e:?}");
        }
    }

    #[test]
    fn a_data_directory_under_a_dot_folder_still_rebuilds() {
        let root = Path::new("/home/dave/.local/share/bincio");
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        let e = Event::new(write).add_path(root.join("dave/edits/a.md"));
        assert!(is_data_change(root, &e), "{e:?}");
        let e = Event::new(write).add_path(root.join("dave/_merged/a.json"));
        assert!(!is_data_change(root, &e), "{e:?}");
    }
}
