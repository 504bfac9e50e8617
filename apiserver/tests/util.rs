//! Test helpers: a fresh instance per test and a way to call the service without a socket.

use bincio_api::config::Config;
use bincio_api::db::{self, Db};
use bincio_api::state::AppState;
use bincio_bas::{Handle, InstanceRoot};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

pub const ADMIN_PW: &str = "admin-password";

/// True under CI (`CI=true`, read only here): a test that needs nginx, chromium or a built
/// binary then fails when it is missing instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Report a test that cannot run: a message on stderr, or a failure under CI. The caller
/// returns right after.
pub fn skip_or_fail(why: &str) {
    assert!(!in_ci(), "required in CI: {why}");
    eprintln!("SKIPPED: {why}");
}

pub struct T {
    pub dir: tempfile::TempDir,
    pub st: Arc<AppState>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn cookie(&self) -> String {
        let c = self.headers.get("set-cookie").expect("set-cookie").to_str().unwrap();
        c.split(';').next().unwrap().to_owned()
    }
    pub fn code(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

impl T {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(cfg: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = InstanceRoot::new(dir.path());
        let db = Db::open(&root.instance_db()).unwrap();
        let hash = bincio_api::auth::password::hash_blocking(ADMIN_PW).unwrap();
        db.with(|c| db::users::insert(c, "admin", "Admin", &hash, true, db::now_s())).unwrap();
        let h = Handle::new("admin").unwrap();
        bincio_api::instance::create_user_dirs(&root, &h, "Admin").unwrap();
        bincio_api::instance::update_root_manifest(&root, Some(&h), None, Some("Test")).unwrap();
        let st = AppState::new(root, db, cfg).unwrap();
        Self { dir, st }
    }

    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Change one key of `{root}/bincio.toml` as `bincio-api settings set` does.
    pub fn set_setting(&self, key: &str, value: &str) {
        let path = self.root().join(bincio_bas::config::FILE_NAME);
        let v = bincio_bas::config::value_from_cli(&path, key, value).unwrap();
        bincio_bas::config::update(&path, &[(key, v)]).unwrap();
    }

    pub async fn raw(&self, req: Request<Full<Bytes>>, ip: &str) -> Resp {
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let (mut parts, body) = req.into_parts();
        parts.headers.insert("x-real-ip", ip.parse().unwrap());
        parts.headers.entry("host").or_insert("bincio.test".parse().unwrap());
        let resp = bincio_api::router::handle(
            Arc::clone(&self.st),
            Request::from_parts(parts, body),
            peer,
        )
        .await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, json }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        let bytes = body.map(|v| v.to_string().into_bytes()).unwrap_or_default();
        if !bytes.is_empty() {
            b = b.header("content-type", "application/json");
        }
        self.raw(b.body(Full::new(Bytes::from(bytes))).unwrap(), "10.0.0.1").await
    }

    pub async fn multipart(&self, path: &str, cookie: &str, parts: &[(&str, &str, &[u8])]) -> Resp {
        let (ct, body) = multipart_body(parts);
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header("cookie", cookie)
            .header("content-type", ct)
            .header("content-length", body.len().to_string())
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        self.raw(req, "10.0.0.1").await
    }

    pub async fn login(&self, handle: &str, pw: &str) -> String {
        let r = self
            .call(
                "POST",
                "/api/auth/login",
                None,
                Some(serde_json::json!({"handle": handle, "password": pw})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json);
        r.cookie()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PW).await
    }

    /// Register `handle` with a fresh admin invite; returns the session cookie.
    pub async fn user(&self, handle: &str) -> String {
        let admin = self.admin().await;
        let inv = self.call("POST", "/api/invites", Some(&admin), None).await;
        let code = inv.json["code"].as_str().unwrap().to_owned();
        let r = self
            .call(
                "POST",
                "/api/register",
                None,
                Some(
                    serde_json::json!({"code": code, "handle": handle, "password": "password-123"}),
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json);
        r.cookie()
    }

    /// A minimal extracted activity for `handle`.
    pub fn activity(&self, handle: &str, id: &str) {
        let p = self.root().join(handle).join("activities").join(format!("{id}.json"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::json!({"id": id, "title": "Morning Ride", "sport": "cycling", "privacy": "public", "custom": {}}).to_string()).unwrap();
    }

    pub fn queue_requests(&self) -> Vec<Value> {
        let mut v: Vec<Value> = std::fs::read_dir(self.root().join("_queue"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
            .collect();
        v.sort_by(|a, b| a["job_id"].as_str().cmp(&b["job_id"].as_str()));
        v
    }

    pub fn queue_request(&self, job_id: &str) -> Value {
        serde_json::from_slice(
            &std::fs::read(self.root().join("_queue").join(format!("{job_id}.json"))).unwrap(),
        )
        .unwrap()
    }
}

pub fn multipart_body(parts: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XbincioBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if filename.is_empty() {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        } else {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub const GPX: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"test\"><trk><trkseg><trkpt lat=\"45.0\" lon=\"7.0\"><time>2024-06-01T07:00:00Z</time></trkpt></trkseg></trk></gpx>\n";
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub fn fit_bytes() -> Vec<u8> {
    let mut v = vec![14u8, 0x20, 0x08, 0x08, 0x10, 0, 0, 0];
    v.extend_from_slice(b".FIT");
    v.extend_from_slice(&[0, 0, 1, 2, 3, 4]);
    v
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A minimal HTTP/1.1 client for the tests that talk to real sockets (nginx, the daemon).
pub use bincio_dev::bench::api::roundtrip;
