//! Security properties: traversal, CSRF, rate limits, caps, bombs, concurrency, a real socket.

use crate::util::*;
use bincio_api::config::Config;
use serde_json::json;
use std::sync::Arc;

const ID: &str = "2024-06-01T070000Z-morning-ride";

#[tokio::test]
async fn encoded_traversal_is_refused_on_every_path_parameter() {
    let t = T::new();
    let admin = t.admin().await;
    t.activity("admin", ID);
    let evil = [
        "%2E%2E",
        "%2e%2e",
        "..",
        "%2E",
        "..%2F..%2Fetc",
        "%2E%2E%2Fadmin",
        "a%00b",
        "%C0%AE%C0%AE",
        "ADMIN",
    ];
    for e in evil {
        let paths = [
            ("GET", format!("/api/activity/{e}")),
            ("POST", format!("/api/activity/{e}")),
            ("DELETE", format!("/api/activity/{e}")),
            ("GET", format!("/api/activity/{e}/images")),
            ("DELETE", format!("/api/activity/{ID}/images/{e}")),
            ("GET", format!("/api/jobs/{e}")),
            ("POST", format!("/api/admin/users/{e}/reset-password-code")),
            ("POST", format!("/api/admin/users/{e}/rebuild")),
            ("GET", format!("/api/admin/users/{e}/diag")),
            ("DELETE", format!("/api/admin/users/{e}/activities")),
            ("DELETE", format!("/api/admin/users/{e}/directory")),
        ];
        for (m, p) in paths {
            let r = t.call(m, &p, Some(&admin), Some(json!({}))).await;
            assert!(matches!(r.status.as_u16(), 400 | 404), "{m} {p}: {}", r.status);
            if r.status == 404 {
                // Only an invalid-looking-but-harmless value may 404, never a real lookup outside.
                assert!(e == "ADMIN" || p.contains("/jobs/") || r.code() == "not_found", "{m} {p}");
            }
        }
    }
    // The data directory and its parent are intact.
    assert!(t.root().join("instance.db").is_file());
    assert!(t.root().join("admin").is_dir());
    assert!(t.root().join(format!("admin/activities/{ID}.json")).is_file());
}

#[tokio::test]
async fn cross_origin_unsafe_requests_are_refused() {
    let t = T::new();
    let admin = t.admin().await;
    let req = |origin: &str| {
        hyper::Request::builder()
            .method("POST")
            .uri("/api/invites")
            .header("cookie", &admin)
            .header("origin", origin)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let r = t.raw(req("https://evil.example"), "10.0.0.1").await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "cross_origin"));
    let r = t.raw(req("http://bincio.test"), "10.0.0.1").await;
    assert_eq!(r.status, 200, "same origin passes");
    // Login is protected too (login CSRF).
    let r = t
        .raw(
            hyper::Request::builder()
                .method("POST")
                .uri("/api/auth/login")
                .header("origin", "https://evil.example")
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    json!({"handle": "admin", "password": ADMIN_PW}).to_string(),
                )))
                .unwrap(),
            "10.0.0.1",
        )
        .await;
    assert_eq!(r.status, 403);
}

fn login_req(pw: &str) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    hyper::Request::builder()
        .method("POST")
        .uri("/api/auth/login")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            json!({"handle": "admin", "password": pw}).to_string(),
        )))
        .unwrap()
}

#[tokio::test]
async fn login_flood_is_limited_per_ip_and_per_account() {
    let mut cfg = Config::default();
    cfg.failures_per_account.count = 1000; // isolate the per-IP limit first
    let t = T::with_config(cfg);
    for _ in 0..10 {
        assert_eq!(t.raw(login_req("wrong-password"), "203.0.113.9").await.status, 401);
    }
    let r = t.raw(login_req(ADMIN_PW), "203.0.113.9").await;
    assert_eq!(r.status, 429, "the flooding IP is limited even with the right password");
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(
        t.raw(login_req(ADMIN_PW), "198.51.100.7").await.status,
        200,
        "another IP still logs in"
    );

    // Per account: failures from many IPs lock the account's password checks for a while.
    let t = T::new();
    for i in 0..10 {
        assert_eq!(t.raw(login_req("wrong-password"), &format!("192.0.2.{i}")).await.status, 401);
    }
    assert_eq!(t.raw(login_req(ADMIN_PW), "192.0.2.200").await.status, 429);
}

#[tokio::test]
async fn successful_logins_never_use_up_the_ip_limit() {
    let mut cfg = Config::default();
    cfg.login_per_ip.count = 3;
    let t = T::with_config(cfg);
    // Twice the limit of good logins from one address (a family behind one router, a user
    // on several devices): every one succeeds.
    for i in 1..=6 {
        let r = t.raw(login_req(ADMIN_PW), "203.0.113.20").await;
        assert_eq!(r.status, 200, "successful login #{i} refused: {:?}", r.json);
    }
    // Failures still count, and at the limit the address is refused, even the right password.
    for _ in 0..3 {
        assert_eq!(t.raw(login_req("wrong-password"), "203.0.113.20").await.status, 401);
    }
    assert_eq!(t.raw(login_req("wrong-password"), "203.0.113.20").await.status, 429);
    assert_eq!(t.raw(login_req(ADMIN_PW), "203.0.113.20").await.status, 429);
}

#[tokio::test]
async fn huge_declared_bodies_are_refused_before_reading() {
    let t = T::new();
    let admin = t.admin().await;
    for (m, p) in [
        ("POST", "/api/auth/login"),
        ("POST", "/api/upload"),
        ("POST", format!("/api/activity/{ID}").as_str()),
        ("POST", "/api/feedback"),
        ("PUT", "/api/me/prefs"),
    ] {
        // The body is tiny: only the declared length matters, and nothing is read.
        let req = hyper::Request::builder()
            .method(m)
            .uri(p)
            .header("cookie", &admin)
            .header("content-type", "multipart/form-data; boundary=x")
            .header("content-length", "1000000000000")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
            .unwrap();
        let r = t.raw(req, "10.0.0.1").await;
        assert_eq!(r.status, 413, "{m} {p}");
    }
}

#[tokio::test]
async fn compression_bombs_are_stopped_at_the_cap() {
    let mut cfg = Config::default();
    cfg.limits.decompressed_file_bytes = 4 << 20;
    let t = T::with_config(cfg);
    let bob = t.user("bob").await;
    // gzip: 64 MiB of spaces after a GPX header, ~64 KiB compressed.
    let mut bomb = b"<?xml version=\"1.0\"?><gpx>".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 64 << 20));
    let gz = gzip(&bomb);
    assert!(gz.len() < 200_000);
    let r = t.multipart("/api/upload", &bob, &[("files", "bomb.gpx.gz", &gz)]).await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    // zip: one 64 MiB entry.
    let z = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("activities/1.gpx", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&bomb).unwrap();
        w.finish().unwrap().into_inner()
    };
    assert!(z.len() < 200_000);
    let r = t.multipart("/api/upload/strava-zip", &bob, &[("file", "export.zip", &z)]).await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    // Nothing was kept: no queued upload, no stray files.
    assert!(!t.queue_requests().iter().any(|q| q["change"] == "upload"));
    let (bytes, _) = bincio_api::handlers::dir_usage(&t.root().join("bob"));
    assert!(bytes < 1 << 20, "{bytes} bytes left behind");
}

/// A GPX header and then `spaces` spaces: deflate shrinks it about a thousandfold.
fn spaces_gpx(spaces: usize) -> Vec<u8> {
    let mut v = b"<?xml version=\"1.0\"?><gpx creator=\"bomb\">".to_vec();
    v.extend(std::iter::repeat_n(b' ', spaces));
    v
}

#[tokio::test]
async fn small_archives_that_expand_a_thousandfold_are_refused_and_leave_nothing() {
    // Default caps: every entry is well under the 200 MiB per-file cap and the archive under
    // the total cap, so only the expansion ratio can tell this from a real export.
    let t = T::new();
    let bob = t.user("bob").await;
    let entry = spaces_gpx(8 << 20);
    let z = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..10 {
            w.start_file(format!("activities/{i}.gpx"), opts).unwrap();
            w.write_all(&entry).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    assert!(z.len() < 1 << 20, "the test archive is small: {} bytes", z.len());
    let r = t.multipart("/api/upload/strava-zip", &bob, &[("file", "export.zip", &z)]).await;
    assert!(matches!(r.status.as_u16(), 413 | 422), "zip bomb: {} {:?}", r.status, r.json);
    // The same with a single gzip.
    let gz = gzip(&entry);
    let r = t.multipart("/api/upload", &bob, &[("files", "bomb.gpx.gz", &gz)]).await;
    assert!(matches!(r.status.as_u16(), 413 | 422), "gzip bomb: {} {:?}", r.status, r.json);
    // Nothing kept: no queued upload, nothing in originals/ or _uploads/ (staging included).
    assert!(!t.queue_requests().iter().any(|q| q["change"] == "upload"));
    for dir in ["bob/originals", "bob/_uploads"] {
        let (bytes, files) = bincio_api::handlers::dir_usage(&t.root().join(dir));
        assert_eq!((bytes, files), (0, 0), "{dir} keeps {files} files, {bytes} bytes");
    }
    // A real recording compresses far less (this GPX: 18x with gzip -9) and is accepted,
    // alone and inside a ZIP.
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/samples/brut/1034867910.gpx"),
    )
    .unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &real).unwrap();
    let real_gz = enc.finish().unwrap();
    let r = t.multipart("/api/upload", &bob, &[("files", "ride.gpx.gz", &real_gz)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let z = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9));
        w.start_file("activities/ride.gpx", opts).unwrap();
        w.write_all(&real).unwrap();
        w.finish().unwrap().into_inner()
    };
    let r = t.multipart("/api/upload/strava-zip", &bob, &[("file", "export.zip", &z)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
}

#[tokio::test]
async fn uploads_and_photos_past_the_storage_limit_are_refused() {
    let t = T::new();
    let bob = t.user("bob").await;
    t.activity("bob", ID);
    t.set_setting("storage_limit_mb", "1");
    // Bob already stores 900 KiB of his 1 MiB.
    let old = t.root().join("bob/originals/old");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("big.fit"), vec![0u8; 900 << 10]).unwrap();
    let usage = || bincio_api::handlers::dir_usage(&t.root().join("bob"));
    let before = usage();
    // 200 KiB more would pass the limit: refused, with the limit named, nothing kept.
    let r =
        t.multipart("/api/upload", &bob, &[("files", "ride.gpx", &spaces_gpx(200 << 10))]).await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    let msg = r.json["message"].as_str().unwrap();
    assert!(msg.contains("storage limit") && msg.contains("1 MiB"), "{msg}");
    assert_eq!(usage(), before, "nothing of the refused upload is kept");
    assert!(!t.queue_requests().iter().any(|q| q["change"] == "upload"));
    // Photos count too.
    let mut png = PNG.to_vec();
    png.resize(200 << 10, 0);
    let r =
        t.multipart(&format!("/api/activity/{ID}/images"), &bob, &[("file", "a.png", &png)]).await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    assert_eq!(usage(), before, "nothing of the refused photo is kept");
    // What still fits is accepted, and the limit is shown to the user.
    let r = t.multipart("/api/upload", &bob, &[("files", "ride.gpx", GPX)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let me = t.call("GET", "/api/me", Some(&bob), None).await;
    assert_eq!(me.json["storage_limit_mb"], 1, "{:?}", me.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_and_edits_lose_nothing() {
    let t = Arc::new(T::new());
    let bob = t.user("bob").await;
    for i in 0..20 {
        t.activity("bob", &format!("2024-06-01T0700{i:02}Z"));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader polls every JSON file while writes happen: each must parse every time.
    let reader = {
        let (root, stop) = (t.root().to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for dir in [root.join("_queue"), root.join("bob/edits"), root.join("bob")] {
                    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                        let p = e.path();
                        let name = p.file_name().unwrap().to_string_lossy().into_owned();
                        if name.starts_with('.') {
                            continue; // in-progress temp files are never the final name
                        }
                        let Ok(bytes) = std::fs::read(&p) else { continue };
                        if name.ends_with(".json") {
                            serde_json::from_slice::<serde_json::Value>(&bytes)
                                .unwrap_or_else(|e| panic!("{name}: {e}"));
                            reads += 1;
                        } else if name.ends_with(".md") {
                            let text = String::from_utf8(bytes).unwrap();
                            assert!(
                                text.starts_with("---\n") && text.matches("---\n").count() >= 2,
                                "{name}: {text:?}"
                            );
                            reads += 1;
                        }
                    }
                }
            }
            reads
        })
    };
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (t, bob) = (t.clone(), bob.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("ride{i}.gpx");
            let up = t.multipart("/api/upload", &bob, &[("files", &name, GPX)]).await;
            assert_eq!(up.status, 202);
            let id = format!("2024-06-01T0700{i:02}Z");
            let ed = t.call("POST", &format!("/api/activity/{id}"), Some(&bob), Some(json!({"title": format!("Title {i}")}))).await;
            assert_eq!(ed.status, 202);
            let ath = t.call("POST", "/api/athlete", Some(&bob), Some(json!({format!("{}", if i % 2 == 0 { "max_hr" } else { "ftp_w" }): 150 + i}))).await;
            assert_eq!(ath.status, 202);
            (up.json["files"][0].as_str().unwrap().to_owned(), id)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    for (i, (file, id)) in results.iter().enumerate() {
        assert!(t.root().join("bob").join(file).is_file(), "{file}");
        let text = std::fs::read_to_string(t.root().join(format!("bob/edits/{id}.md"))).unwrap();
        assert!(text.contains(&format!("title: \"Title {i}\"")), "{text}");
    }
    let q = t.queue_requests();
    assert_eq!(q.iter().filter(|r| r["change"] == "upload").count(), 20);
    assert_eq!(q.iter().filter(|r| r["change"] == "edit").count(), 20);
    assert_eq!(q.iter().filter(|r| r["change"] == "athlete").count(), 20);
    let ath = t.call("GET", "/api/athlete", Some(&bob), None).await;
    assert!(ath.json["max_hr"].is_number() && ath.json["ftp_w"].is_number(), "{:?}", ath.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_socket_serves_refuses_huge_bodies_and_drains() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = T::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = t.st.clone();
    let server = tokio::spawn(bincio_api::server::serve(st, listener, async move {
        let _ = rx.await;
    }));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let (status, _, body) = crate::util::roundtrip(
        &mut s,
        format!("GET /api/me HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
        &mut buf,
    )
    .await
    .unwrap();
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("unauthorized"));
    // 3 GB declared (over the 2 GiB upload cap), nothing sent: the answer comes at once.
    let mut s2 = tokio::net::TcpStream::connect(addr).await.unwrap();
    s2.write_all(format!("POST /api/upload HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 3000000000\r\n\r\n").as_bytes()).await.unwrap();
    let mut resp = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s2.read(&mut resp))
        .await
        .expect("answered before the body")
        .unwrap();
    let head = String::from_utf8_lossy(&resp[..n]);
    assert!(head.starts_with("HTTP/1.1 401") || head.starts_with("HTTP/1.1 413"), "{head}");
    // Logged in, the same request is 413.
    let cookie = t.admin().await;
    let mut s3 = tokio::net::TcpStream::connect(addr).await.unwrap();
    s3.write_all(format!("POST /api/upload HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 3000000000\r\n\r\n").as_bytes()).await.unwrap();
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s3.read(&mut resp))
        .await
        .expect("answered before the body")
        .unwrap();
    assert!(String::from_utf8_lossy(&resp[..n]).starts_with("HTTP/1.1 413"));
    tx.send(()).unwrap();
    drop((s, s2, s3));
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}
