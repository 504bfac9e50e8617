//! `bincio-dev bench api` and `bench upload-latency`: the daemon measured from outside.
//!
//! `api` starts `bincio-api serve` on a scratch instance on 127.0.0.1, then measures `GET /api/me` throughput over keep-alive connections, login
//! latency with the production argon2 parameters, and the server's resident memory.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Send one request on a keep-alive connection and read one response; returns
/// (status, headers, body).
pub async fn roundtrip(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(u16, String, Vec<u8>)> {
    stream.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 =
                head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("connection closed mid-body");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            return Ok((status, head, body));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the benchmark and print a table.
pub fn run(api_bin: &std::path::Path, requests: u64, connections: u64, logins: u64) -> Result<()> {
    let exe = api_bin.to_path_buf();
    let dir = tempfile::tempdir()?;
    let password = "bench-password-123";
    let mut init = std::process::Command::new(&exe)
        .args(["init", "--handle", "bench", "--name", "Bench", "--data-dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = init.stdin.take() {
        writeln!(stdin, "{password}\n{password}")?;
    }
    if !init.wait()?.success() {
        bail!("init failed");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let server = Child(
        std::process::Command::new(&exe)
            .args(["serve", "--listen", &addr, "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .spawn()?,
    );
    let pid = server.0.id();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let mut tries = 0;
        let mut s = loop {
            match TcpStream::connect(&addr).await {
                Ok(s) => break s,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let rss_start = super::procfs::rss_kib(&pid.to_string()).unwrap_or(0);
        // Login latency (sequential, production argon2 parameters).
        let body = format!("{{\"handle\":\"bench\",\"password\":\"{password}\"}}");
        let login = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Real-IP: 10.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut buf = Vec::new();
        let mut lat_ms = Vec::new();
        let mut cookie = String::new();
        for i in 0..logins.max(1) {
            // Vary the client IP so the per-IP login limit does not interfere.
            let req = login.replace("10.0.0.1", &format!("10.0.{}.{}", i / 250, i % 250 + 1));
            let t = Instant::now();
            let (status, head, _) = roundtrip(&mut s, req.as_bytes(), &mut buf).await?;
            lat_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                bail!("login answered {status}");
            }
            if let Some(c) = head.lines().find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: "))) {
                cookie = c.split(';').next().unwrap_or("").to_owned();
            }
        }
        let rss_after_logins = super::procfs::rss_kib(&pid.to_string()).unwrap_or(0);
        lat_ms.sort_by(f64::total_cmp);
        let p = |q: f64| lat_ms[((lat_ms.len() - 1) as f64 * q).round() as usize];
        let me = format!("GET /api/me HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
        let per_conn = requests / connections.max(1);
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections.max(1) {
            let (addr, me) = (addr.clone(), me.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(&addr).await?;
                let mut buf = Vec::new();
                for _ in 0..per_conn {
                    let (status, _, _) = roundtrip(&mut s, me.as_bytes(), &mut buf).await?;
                    if status != 200 {
                        bail!("GET /api/me answered {status}");
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        let secs = t.elapsed().as_secs_f64();
        let total = per_conn * connections.max(1);
        let rss_end = super::procfs::rss_kib(&pid.to_string()).unwrap_or(0);
        println!("bincio-dev bench api (server pid {pid}, {} CPUs)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        println!("| measure | value |\n|---|---|");
        println!("| GET /api/me, {connections} keep-alive connections | {:.0} req/s ({total} requests in {secs:.2} s) |", total as f64 / secs);
        println!("| login latency p50 / p95 / max ({} logins) | {:.1} / {:.1} / {:.1} ms |", lat_ms.len(), p(0.5), p(0.95), p(1.0));
        println!("| login throughput (sequential) | {:.1} /s |", 1000.0 / p(0.5));
        println!(
            "| server RSS at start / after logins / after {total} GET /api/me | {:.1} / {:.1} / {:.1} MB |",
            rss_start as f64 / 1024.0,
            rss_after_logins as f64 / 1024.0,
            rss_end as f64 / 1024.0
        );
        Ok(())
    })
}

/// Options of `bincio-dev bench upload-latency`.
#[derive(Clone, Debug, clap::Args)]
pub struct UploadLatencyArgs {
    /// The `bincio-gen` executable that runs `watch` (default: beside this one).
    #[arg(long, value_name = "FILE")]
    pub gen_bin: Option<std::path::PathBuf>,
    /// The `bincio-api` executable that runs `serve` (default: beside this one).
    #[arg(long, value_name = "FILE")]
    pub api_bin: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    #[arg(long, default_value_t = 500)]
    pub activities: usize,
    /// Uploads to time, one file each, one after the other.
    #[arg(long, default_value_t = 50)]
    pub uploads: usize,
    /// Of the uploads, how many are back-dated (the last ones): 1 Hz files starting between
    /// two of user00's stored activities, spread over the instance's history, so each lands
    /// on an archive page of the user's and the combined feeds, not on top (default: 3 with
    /// `--realistic`, whose stored activities' dates are known; none without).
    #[arg(long, value_name = "N")]
    pub backdated: Option<usize>,
    /// Edits to time after the uploads, each through `POST /api/activity/{id}`, cycling
    /// through a title change, making the activity private and making it public again
    /// (on the uploaded activities, last uploaded first: the back-dated ones, then the
    /// newest).
    #[arg(long, default_value_t = 30)]
    pub edits: usize,
    /// Seed of the uploaded corpus (`bincio-dev synth --corpus`).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Theme folder passed to `bincio-gen` (default: its built-in default).
    #[arg(long, value_name = "DIR")]
    pub theme: Option<std::path::PathBuf>,
    /// Realistic series (`bench build --realistic`): 1 Hz files of 30 min to 6 h, extracted
    /// once and hard-linked into every user; the uploads are such files too.
    #[arg(long)]
    pub realistic: bool,
    /// Keep the instance, site and corpus here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
}

/// The executable `name`: `explicit` when given, else the file of that name beside this
/// executable (cargo puts every workspace binary in the same folder).
pub fn sibling_binary(
    explicit: Option<&std::path::Path>,
    name: &str,
) -> Result<std::path::PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let me = std::env::current_exe().context("cannot find this executable")?;
    let p = me.with_file_name(name);
    if !p.is_file() {
        bail!("{} not found: build it (cargo build -p {name}) or pass its path", p.display());
    }
    Ok(p)
}

/// Run `cmd`, failing with its name when it does not succeed.
fn run_checked(cmd: &mut std::process::Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// True when some `index.html` under `dir` (the user's feed pages) mentions `needle`.
fn feed_page_mentions(dir: &std::path::Path, needle: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "index.html")
                && std::fs::read_to_string(&p).is_ok_and(|s| s.contains(needle))
            {
                return true;
            }
        }
    }
    false
}

/// `bincio-dev bench upload-latency`: generate and render a users × activities instance
/// (`bincio-dev bench build --dir`), make `user00` its admin (`init`), start `serve` and
/// `bincio-gen watch`, then upload synthetic files one at a time and time each from the
/// upload's 202 answer until the job's status says done and the activity page and a
/// feed page of `/u/user00/` listing it exist in the output folder; then edit the uploaded
/// activities (title, private, public again) and time each until the page shows it.
pub fn upload_latency(o: &UploadLatencyArgs) -> Result<bincio_gen::cmd::Outcome> {
    use std::path::Path;
    let exe = sibling_binary(o.api_bin.as_deref(), "bincio-api")?;
    let gen_bin = sibling_binary(o.gen_bin.as_deref(), "bincio-gen")?;
    let dev_bin = std::env::current_exe()?;
    let work = super::work_dir(o.keep.as_deref())?;
    let dir: &Path = &work.path;
    let (data, site, corpus) = (dir.join("data"), dir.join("site"), dir.join("uploads"));
    let theme_args: Vec<std::ffi::OsString> = match &o.theme {
        Some(t) => vec!["--theme".into(), t.into()],
        None => Vec::new(),
    };
    eprintln!("generating and rendering {} users × {} activities…", o.users, o.activities);
    let t = Instant::now();
    // `bench build --dir` writes {dir}/data in BAS form and renders it into {dir}/site; its
    // table is printed first. Exit code 1 is a build goal missed: the run goes on, and fails
    // at the end.
    let build = std::process::Command::new(&dev_bin)
        .args(["bench", "build", "--users", &o.users.to_string()])
        .args(["--activities", &o.activities.to_string(), "--dir"])
        .arg(dir)
        .args(o.realistic.then_some("--realistic"))
        .args(&theme_args)
        .status()
        .context("cannot start bincio-dev bench build")?;
    let build_ok = build.success();
    if !build_ok && build.code() != Some(1) {
        bail!("bincio-dev bench build failed ({build})");
    }
    let setup_s = t.elapsed().as_secs_f64();
    let handle = "user00";
    let password = "bench-password-123";
    let mut init = std::process::Command::new(&exe)
        .args(["init", "--handle", handle, "--name", "Bench", "--data-dir"])
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = init.stdin.take() {
        writeln!(stdin, "{password}\n{password}")?;
    }
    if !init.wait()?.success() {
        bail!("init failed");
    }
    let backdated = o.backdated.unwrap_or(if o.realistic { 3 } else { 0 }).min(o.uploads);
    if backdated > 0 && !o.realistic {
        bail!("--backdated needs --realistic (the generated instance's dates are known then)");
    }
    if o.realistic {
        // Indices past the instance's own, so no upload is a duplicate of a stored activity.
        // The back-dated ones start 90 min after stored activity `a` (stored activity `i`
        // starts 3 h × i after the first, within 50 min), spread evenly over the history:
        // no stored activity starts within 5 min of them (no near duplicate).
        std::fs::create_dir_all(&corpus)?;
        for i in 0..o.uploads {
            let index = o.activities + 1000 + i;
            let back = (i + backdated).checked_sub(o.uploads).map(|j| {
                let a = (j + 1) * o.activities / (backdated + 1);
                crate::synth::FIRST_REALISTIC_START_S + a as i64 * 3 * 3600 + 90 * 60
            });
            let (name, bytes) = crate::synth::realistic_file_starting(index, o.seed, back);
            // Named in upload order: the back-dated files last.
            std::fs::write(corpus.join(format!("{i:04}-{name}")), bytes)?;
        }
    } else {
        run_checked(
            std::process::Command::new(&dev_bin)
                .args(["synth", "--corpus", &o.uploads.to_string(), "--seed", &o.seed.to_string()])
                .arg("--out")
                .arg(&corpus)
                .stderr(std::process::Stdio::null()),
            "bincio-dev synth",
        )?;
    }
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(&corpus)?.flatten().map(|e| e.path()).collect();
    files.sort();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Child(
        std::process::Command::new(&exe)
            .args(["serve", "--listen", &addr, "--data-dir"])
            .arg(&data)
            .env("RUST_LOG", "warn")
            .spawn()?,
    );
    let watcher = Child(
        std::process::Command::new(&gen_bin)
            .args(["watch", "--data-dir"])
            .arg(&data)
            .arg("--out")
            .arg(&site)
            .args(&theme_args)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .spawn()?,
    );
    // The watcher is ready once init's rebuild request is gone (initial render + drain).
    let queue = data.join("_queue");
    let pending = || {
        std::fs::read_dir(&queue).map_or(0, |rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    !n.starts_with('.') && n.ends_with(".json")
                })
                .count()
        })
    };
    let t = Instant::now();
    while pending() > 0 {
        if t.elapsed() > Duration::from_secs(600) {
            bail!("the watcher did not drain the queue within 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let warm_s = t.elapsed().as_secs_f64();
    let status_dir = queue.join("status");
    let feed_dir = site.join("u").join(handle);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut snapshot = super::build::Snapshot::take(&site);
    let mut written_per_job = Vec::new();
    let mut written_per_edit = Vec::new();
    let mut uploaded: Vec<String> = Vec::new();
    let watcher_pid = watcher.0.id();
    let mut cpu_marks = vec![super::procfs::cpu_seconds(&watcher_pid.to_string())];
    let mut written_per_backdated = Vec::new();
    let (lat_ms, back_ms, title_ms, privacy_ms, failed) = rt.block_on(async {
        let mut s = TcpStream::connect(&addr).await;
        for _ in 0..100 {
            if s.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            s = TcpStream::connect(&addr).await;
        }
        let mut s = s?;
        let mut buf = Vec::new();
        let body = format!("{{\"handle\":\"{handle}\",\"password\":\"{password}\"}}");
        let login = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, head, _) = roundtrip(&mut s, login.as_bytes(), &mut buf).await?;
        if status != 200 {
            bail!("login answered {status}");
        }
        let cookie = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
                    .map(|(_, v)| v.trim().split(';').next().unwrap_or("").to_owned())
            })
            .context("login set no cookie")?;
        let boundary = "XbincioBenchBoundary0123456789";
        let mut lat_ms = Vec::new();
        let mut back_ms = Vec::new();
        let mut failed = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let is_backdated = i + backdated >= files.len();
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let mut mp = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .into_bytes();
            mp.extend_from_slice(&std::fs::read(f)?);
            mp.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let mut req = format!(
                "POST /api/upload HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
                mp.len()
            )
            .into_bytes();
            req.extend_from_slice(&mp);
            let (status, _, body) = roundtrip(&mut s, &req, &mut buf).await?;
            let answered = Instant::now();
            if status != 202 {
                failed.push(format!("{name}: upload answered {status}"));
                continue;
            }
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            let job = v["job_id"].as_str().context("upload answer has no job_id")?.to_owned();
            let status_path = status_dir.join(format!("{job}.json"));
            // The job is done, and the activity page and a feed page listing it are on disk.
            let outcome = wait_live(&status_path, answered, &name, |st| {
                let Some(id) = st.new_activity_ids.first() else {
                    return Err(format!("{name}: no new activity ({:?})", st.failures));
                };
                let page = site.join("activity").join(id).join("index.html");
                let live = page.is_file() && feed_page_mentions(&feed_dir, id);
                if live && !uploaded.contains(id) {
                    uploaded.push(id.clone());
                }
                Ok(live)
            })
            .await;
            match outcome {
                Ok(ms) => {
                    lat_ms.push(ms);
                    if is_backdated {
                        back_ms.push(ms);
                    }
                }
                Err(e) => failed.push(e),
            }
            // Files the job wrote, counted on disk (outside the timed span); the job is done,
            // and the next upload waits for this count.
            let now = super::build::Snapshot::take(&site);
            let written = snapshot.changed(&now);
            written_per_job.push(written);
            if is_backdated {
                written_per_backdated.push(written);
            }
            snapshot = now;
        }
        cpu_marks.push(super::procfs::cpu_seconds(&watcher_pid.to_string()));
        // Edits of the uploaded activities, newest first, through the daemon's API: a title
        // change (live when the activity page shows the new title), private (live when the
        // listed page is gone) and public again (live when it is back), in turn.
        let mut title_ms = Vec::new();
        let mut privacy_ms = Vec::new();
        for n in 0..o.edits.min(3 * uploaded.len()) {
            let id = &uploaded[uploaded.len() - 1 - (n / 3) % uploaded.len()];
            let page = site.join("activity").join(id).join("index.html");
            let title = format!("Bench edit {n} of {id}");
            let body = match n % 3 {
                0 => serde_json::json!({ "title": title }),
                1 => serde_json::json!({ "private": true }),
                _ => serde_json::json!({ "private": false }),
            }
            .to_string();
            let req = format!(
                "POST /api/activity/{id} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let (status, _, answer) = roundtrip(&mut s, req.as_bytes(), &mut buf).await?;
            let answered = Instant::now();
            let what = format!("edit {n} of {id} ({body})");
            if status != 202 {
                failed.push(format!("{what}: answered {status}"));
                continue;
            }
            let v: serde_json::Value = serde_json::from_slice(&answer)?;
            let job = v["job_id"].as_str().context("edit answer has no job_id")?.to_owned();
            let status_path = status_dir.join(format!("{job}.json"));
            let outcome = wait_live(&status_path, answered, &what, |_| {
                Ok(match n % 3 {
                    0 => std::fs::read_to_string(&page).is_ok_and(|p| p.contains(&title)),
                    1 => !page.exists(),
                    _ => page.is_file(),
                })
            })
            .await;
            match outcome {
                Ok(ms) if n % 3 == 0 => title_ms.push(ms),
                Ok(ms) => privacy_ms.push(ms),
                Err(e) => failed.push(e),
            }
            let now = super::build::Snapshot::take(&site);
            written_per_edit.push(snapshot.changed(&now));
            snapshot = now;
        }
        cpu_marks.push(super::procfs::cpu_seconds(&watcher_pid.to_string()));
        Ok::<_, anyhow::Error>((lat_ms, back_ms, title_ms, privacy_ms, failed))
    })?;
    let lat = sorted(lat_ms);
    let p = |q: f64| quantile(&lat, q);
    let edits = sorted(title_ms.iter().chain(&privacy_ms).copied().collect());
    let (title_ms, privacy_ms) = (sorted(title_ms), sorted(privacy_ms));
    println!(
        "bincio-dev bench upload-latency ({} users × {} activities, uploads by {handle}, {} CPUs)",
        o.users,
        o.activities,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("| measure | value |\n|---|---|");
    println!("| instance generated + first render | {setup_s:.1} s |");
    println!("| watcher start-up (full render check + init's rebuild) | {warm_s:.1} s |");
    println!(
        "| upload answer → activity page + feed page published, p50 / p95 / max ({} uploads) | {:.0} / {:.0} / {:.0} ms |",
        lat.len(),
        p(0.5),
        p(0.95),
        p(1.0)
    );
    let back_ms = sorted(back_ms);
    written_per_backdated.sort_unstable();
    if !back_ms.is_empty() {
        println!(
            "| of which back-dated uploads (onto archive pages), p50 / p95 / max ({}) | {:.0} / {:.0} / {:.0} ms; files written p50 / max {} / {} |",
            back_ms.len(),
            quantile(&back_ms, 0.5),
            quantile(&back_ms, 0.95),
            quantile(&back_ms, 1.0),
            written_per_backdated.get(written_per_backdated.len() / 2).copied().unwrap_or(0),
            written_per_backdated.last().copied().unwrap_or(0)
        );
    }
    for (what, l) in [("title", &title_ms), ("privacy (private, public again)", &privacy_ms)] {
        println!(
            "| edit answer → {what} on the activity page, p50 / p95 / max ({} edits) | {:.0} / {:.0} / {:.0} ms |",
            l.len(),
            quantile(l, 0.5),
            quantile(l, 0.95),
            quantile(l, 1.0)
        );
    }
    println!(
        "| every edit, p50 / p95 / max ({} edits) | {:.0} / {:.0} / {:.0} ms (goal p95 ≤ 200 ms) |",
        edits.len(),
        quantile(&edits, 0.5),
        quantile(&edits, 0.95),
        quantile(&edits, 1.0)
    );
    // The watcher's CPU time over each phase, per job (the watcher does nothing else then).
    let per_job = |from: usize, jobs: usize| match (cpu_marks.get(from), cpu_marks.get(from + 1)) {
        (Some(Some(a)), Some(Some(b))) if jobs > 0 => {
            format!("{:.0} ms", (b - a) * 1000.0 / jobs as f64)
        }
        _ => "—".to_owned(),
    };
    println!(
        "| bincio-gen watch CPU time (user + system) per upload job / per edit job | {} / {} |",
        per_job(0, lat.len()),
        per_job(1, edits.len())
    );
    written_per_job.sort_unstable();
    written_per_edit.sort_unstable();
    let wp = |v: &[usize], q: f64| {
        v.get(((v.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0)
    };
    println!(
        "| files written per upload job (on disk), p50 / max | {} / {} (goal ≤ 30) |",
        wp(&written_per_job, 0.5),
        wp(&written_per_job, 1.0)
    );
    println!(
        "| files written per edit job (on disk), p50 / max | {} / {} |",
        wp(&written_per_edit, 0.5),
        wp(&written_per_edit, 1.0)
    );
    let peak_mb =
        super::procfs::peak_rss_kib(&watcher.0.id().to_string()).unwrap_or(0) as f64 / 1024.0;
    println!("| bincio-gen watch peak memory (VmHWM) | {peak_mb:.0} MB (goal < 300 MB) |");
    println!("| uploads or edits not published | {} |", failed.len());
    for f in &failed {
        println!("| - | {f} |");
    }
    // Each goal with whether it was met, so the closing line names exactly what was missed.
    let goals = [
        ("the build table's goals (above)", build_ok),
        ("every upload and edit published", failed.is_empty()),
        ("p50 ≤ 300 ms", p(0.5) <= 300.0),
        ("p95 ≤ 500 ms", p(0.95) <= 500.0),
        ("edits p95 ≤ 200 ms", o.edits == 0 || quantile(&edits, 0.95) <= 200.0),
        ("≤ 30 files a job", wp(&written_per_job, 1.0) <= 30),
        ("watcher < 300 MB", peak_mb < 300.0),
    ];
    let missed: Vec<&str> = goals.iter().filter(|(_, met)| !met).map(|(g, _)| *g).collect();
    let ok = missed.is_empty();
    if !ok {
        println!("goal missed: {}", missed.join(", "));
    }
    Ok(if ok { bincio_gen::cmd::Outcome::Ok } else { bincio_gen::cmd::Outcome::SomeFailed })
}

/// Poll a job's status, then `live` (the published output), until the job is done and `live`
/// says its change is on the site; the milliseconds since `answered`, or why not.
async fn wait_live(
    status_path: &std::path::Path,
    answered: Instant,
    what: &str,
    mut live: impl FnMut(&bincio_bas::queue::JobStatus) -> Result<bool, String>,
) -> Result<f64, String> {
    loop {
        if answered.elapsed() > Duration::from_secs(120) {
            return Err(format!("{what}: not published after 120 s"));
        }
        let st: Option<bincio_bas::queue::JobStatus> =
            std::fs::read(status_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        match st {
            Some(st) if st.state == bincio_bas::queue::JobState::Failed => {
                return Err(format!("{what}: job failed: {}", st.message));
            }
            Some(st) if st.state == bincio_bas::queue::JobState::Done && live(&st)? => {
                return Ok(answered.elapsed().as_secs_f64() * 1000.0);
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The `q` quantile of sorted values (NaN for none).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() { f64::NAN } else { v[((v.len() - 1) as f64 * q).round() as usize] }
}
