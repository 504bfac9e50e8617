//! `bincio-api bench`: starts `bincio-api serve` (this executable) on a scratch instance on
//! 127.0.0.1, then measures `GET /api/me` throughput over keep-alive connections, login
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

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the benchmark and print a table.
pub fn run(requests: u64, connections: u64, logins: u64) -> Result<()> {
    let exe = std::env::current_exe()?;
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
        let rss_start = rss_kib(pid).unwrap_or(0);
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
        let rss_after_logins = rss_kib(pid).unwrap_or(0);
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
        let rss_end = rss_kib(pid).unwrap_or(0);
        println!("bincio-api bench (server pid {pid}, {} CPUs)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
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
