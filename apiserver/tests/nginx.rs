//! Through real nginx, started from the documented `docs/nginx/bincio.conf`: the private
//! wall (`auth_request`), the API proxy, security headers, and that no secret is reachable.
//! The end-to-end runs with `bincio-gen watch` are in `e2e.rs` (HTTP) and `browser_e2e.rs` (Chromium).
//! Skipped, with a message, when nginx is not installed, unless `CI=true`: there it fails.

use crate::util::skip_or_fail;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) struct Guard(pub(crate) Child);
impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: nginx's master then stops its workers before exiting (a
        // killed master leaves orphaned workers holding the test's output pipes).
        if let Some(pid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) async fn wait_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {port} never opened");
}

pub(crate) async fn get(port: u16, req: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = Vec::new();
    let (status, head, body) =
        crate::util::roundtrip(&mut s, req.as_bytes(), &mut buf).await.unwrap();
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_private_wall_proxy_and_secrets() {
    let Ok(nginx) = which("nginx") else {
        return skip_or_fail("nginx is not installed (apt-get install nginx-light)");
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let site = tmp.path().join("site");
    // The instance.
    init_instance(&data);
    // A tiny site, plus decoys that must never be served.
    for (p, body) in [
        ("index.html", "<h1>feed</h1>"),
        ("dave/index.json", "{\"activities\":[]}"),
        ("login/index.html", "<form>login</form>"),
        ("static/app.css", "body{}"),
        ("instance.db", "SECRET"),
        ("_queue/x.json", "SECRET"),
        ("dave/originals/a.gpx", "SECRET"),
        (".bincio_cache.json", "SECRET"),
        ("dave/strava_token.json", "SECRET"),
        ("strava_credentials.json", "SECRET"),
    ] {
        let f = site.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, body).unwrap();
    }
    let api_port = free_port();
    let web_port = free_port();
    let _api = start_daemon(&data, api_port);
    let _nginx = start_nginx(&nginx, tmp.path(), &site, api_port, web_port);
    wait_port(api_port).await;
    wait_port(web_port).await;
    let host = format!("127.0.0.1:{web_port}");
    let req =
        |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n");

    // Anonymous: pages redirect to the login page, data files are 401, login page is open.
    let (s, head, _) = get(web_port, &req("/", "Accept: text/html\r\n")).await;
    assert_eq!(s, 302, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("location: http://") && head.contains("/login/?next=/"),
        "{head}"
    );
    assert_eq!(get(web_port, &req("/dave/index.json", "")).await.0, 401);
    let (s, head, body) = get(web_port, &req("/login/", "")).await;
    assert_eq!((s, body.as_str()), (200, "<form>login</form>"));
    let lower = head.to_ascii_lowercase();
    for h in [
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "content-security-policy:",
        "referrer-policy:",
    ] {
        assert!(lower.contains(h), "{h} missing in {head}");
    }
    assert_eq!(get(web_port, &req("/static/app.css", "")).await.0, 200);

    // Log in through the proxy (same-origin Origin header, as a browser sends it).
    let c = login_cookie(web_port, &host, "dave", "password-123").await;
    let login = login_request(&host, "dave", "password-123");
    assert_eq!(get(web_port, &req("/", &c)).await.0, 200);
    assert_eq!(get(web_port, &req("/dave/index.json", &c)).await.2, "{\"activities\":[]}");
    // A cross-origin POST through nginx is refused by the daemon.
    let evil = login.replace(&format!("Origin: http://{host}"), "Origin: https://evil.example");
    assert_eq!(get(web_port, &evil).await.0, 403);

    // Every route of the daemon's table reaches the daemon through the shipped config: no
    // regex location of nginx (originals, dot-files, databases) may shadow an API path. The
    // requests are anonymous, so nothing is changed; the daemon answers each with JSON (401,
    // 400, 404 for /api/me...), nginx's own refusals are HTML.
    for route in bincio_api::router::routes() {
        let path = route
            .path
            .replace("{id}", "2024-06-01T070000Z-morning-ride")
            .replace("{filename}", "1717225200000-0a1b2c3d.jpg")
            .replace("{handle}", "dave")
            .replace("{job}", "01HZX3K9Q2")
            .replace("{method}", "dem");
        assert!(!path.contains('{'), "placeholder left in {path}");
        let m = &route.method;
        let raw = format!(
            "{m} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nAccept: application/json\r\nContent-Length: 0\r\n\r\n"
        );
        let (s, head, body) = get(web_port, &raw).await;
        let json = head.to_ascii_lowercase().contains("content-type: application/json");
        let parsed = serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v.is_object());
        assert!(
            json && parsed,
            "{m} {path} was answered by nginx, not the daemon ({s}): {head}\n{body}"
        );
    }

    // Secrets: never served, even to a logged-in user, even if copied under the root.
    for p in [
        "/instance.db",
        "/_queue/x.json",
        "/dave/originals/a.gpx",
        "/.bincio_cache.json",
        "/instance.db-wal",
        "/dave/strava_token.json",
        "/strava_credentials.json",
    ] {
        assert_eq!(get(web_port, &req(p, &c)).await.0, 404, "{p}");
    }

    // Public instance: the same nginx config lets everyone in.
    let manifest = data.join("index.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["instance"]["private"] = serde_json::json!(false);
    std::fs::write(&manifest, m.to_string()).unwrap();
    assert_eq!(get(web_port, &req("/dave/index.json", "")).await.0, 200);
}

pub(crate) fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin"] {
        let p = std::path::Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(())
}

/// `bincio-api init` for handle `dave` (password `password-123`) in `data`; returns the
/// code of the first invite it prints.
pub(crate) fn init_instance(data: &std::path::Path) -> String {
    let mut init = Command::new(env!("CARGO_BIN_EXE_bincio-api"))
        .args(["init", "--handle", "dave", "--name", "Rides", "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    init.stdin.take().unwrap().write_all(b"password-123\npassword-123\n").unwrap();
    let out = init.wait_with_output().unwrap();
    assert!(out.status.success(), "bincio-api init failed");
    let link = String::from_utf8(out.stdout).unwrap();
    link.trim().rsplit('=').next().unwrap().to_owned()
}

/// `bincio-api serve` on `127.0.0.1:{api_port}` for the instance in `data`.
pub(crate) fn start_daemon(data: &std::path::Path, api_port: u16) -> Guard {
    start_daemon_with(data, api_port, &[])
}

/// [`start_daemon`] with extra environment variables (e.g. `BINCIO_STRAVA_URL`).
pub(crate) fn start_daemon_with(
    data: &std::path::Path,
    api_port: u16,
    env: &[(&str, &str)],
) -> Guard {
    Guard(
        Command::new(env!("CARGO_BIN_EXE_bincio-api"))
            .args(["serve", "--listen", &format!("127.0.0.1:{api_port}"), "--data-dir"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .spawn()
            .unwrap(),
    )
}

/// The real watcher (`gen_bin watch`, rescanning every second) on `data`, rendering into
/// `site`, with extra environment variables; stopped when the guard drops.
pub(crate) fn start_watcher(
    gen_bin: &std::path::Path,
    data: &std::path::Path,
    site: &std::path::Path,
    env: &[(&str, &str)],
) -> Guard {
    Guard(
        Command::new(gen_bin)
            .args(["watch", "--quiet", "--rescan-s", "1", "--data-dir"])
            .arg(data)
            .arg("--out")
            .arg(site)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .spawn()
            .unwrap(),
    )
}

/// The login request a browser on `host` sends through nginx (same-origin `Origin` header).
pub(crate) fn login_request(host: &str, handle: &str, password: &str) -> String {
    let body = format!(r#"{{"handle":"{handle}","password":"{password}"}}"#);
    format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Log in through nginx; returns the `Cookie:` header line of the session.
pub(crate) async fn login_cookie(
    web_port: u16,
    host: &str,
    handle: &str,
    password: &str,
) -> String {
    let (s, head, _) = get(web_port, &login_request(host, handle, password)).await;
    assert_eq!(s, 200, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: ").or_else(|| l.strip_prefix("set-cookie: ")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    format!("Cookie: {cookie}\r\n")
}

/// Start nginx from `docs/nginx/bincio.conf` with the placeholders filled in.
pub(crate) fn start_nginx(
    nginx: &std::path::Path,
    tmp: &std::path::Path,
    site: &std::path::Path,
    api_port: u16,
    web_port: u16,
) -> Guard {
    let conf =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/nginx/bincio.conf"))
            .unwrap()
            .replace("{{LISTEN}}", &format!("127.0.0.1:{web_port}"))
            .replace("{{SERVER_NAME}}", "localhost")
            .replace("{{SITE_ROOT}}", site.to_str().unwrap())
            .replace("{{API_ADDR}}", &format!("127.0.0.1:{api_port}"));
    assert!(!conf.contains("{{"), "every placeholder is documented and filled");
    let t = tmp.display();
    // As root, nginx's workers would run as `nobody` and could not read the tempdir.
    let user = if rustix::process::getuid().is_root() { "user root root;" } else { "" };
    // Debian's full MIME table: with `X-Content-Type-Options: nosniff` a browser refuses to
    // run `site.js` served as `application/octet-stream`.
    let mime = if std::path::Path::new("/etc/nginx/mime.types").is_file() {
        "include /etc/nginx/mime.types;"
    } else {
        "types { text/html html; application/json json; text/css css; text/javascript js; \
         image/svg+xml svg; image/png png; }"
    };
    std::fs::write(tmp.join("bincio.conf"), conf).unwrap();
    std::fs::write(
        tmp.join("nginx.conf"),
        format!(
            "{user}\nworker_processes 1;\npid {t}/nginx.pid;\nerror_log {t}/error.log;\nevents {{ worker_connections 64; }}\n\
             http {{\n access_log off;\n client_body_temp_path {t}/cb;\n proxy_temp_path {t}/px;\n fastcgi_temp_path {t}/fc;\n\
             uwsgi_temp_path {t}/uw;\n scgi_temp_path {t}/sc;\n {mime}\n include {t}/bincio.conf;\n}}\n"
        ),
    )
    .unwrap();
    Guard(
        Command::new(nginx)
            .arg("-p")
            .arg(tmp)
            .arg("-c")
            .arg(tmp.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    )
}
