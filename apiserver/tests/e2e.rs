//! End to end on 127.0.0.1, without a browser: real nginx from `docs/nginx/bincio.conf`,
//! `bincio-api serve` and `bincio-gen watch` (when built: `cargo build --workspace --bins`).
//! Register with an invite, log in, upload a GPX and a FIT through nginx, see both pages
//! and the feed appear, edit a title, mark one unlisted, and check the private wall.
//! Skipped with a message when nginx or the bincio-gen binary is missing, unless `CI=true`:
//! there it fails.

use crate::nginx::{free_port, get, init_instance, start_nginx, start_watcher, wait_port, which};
use crate::util::{multipart_body, skip_or_fail};
use std::time::{Duration, Instant};

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

fn cookie_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: ").or_else(|| l.strip_prefix("set-cookie: ")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_edit_and_privacy_through_nginx_and_the_watcher() {
    let Ok(nginx) = which("nginx") else {
        return skip_or_fail("nginx is not installed (apt-get install nginx-light)");
    };
    let gen_bin =
        std::path::Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() || !samples().is_dir() {
        return skip_or_fail(
            "build bincio-gen first (cargo build --workspace --bins) and keep ../shared/samples",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    let code = init_instance(&data);
    let (api_port, web_port) = (free_port(), free_port());
    let _api = crate::nginx::start_daemon(&data, api_port);
    let _watch = start_watcher(&gen_bin, &data, &site, &[]);
    let _nginx = start_nginx(&nginx, tmp.path(), &site, api_port, web_port);
    wait_port(api_port).await;
    wait_port(web_port).await;
    let host = format!("127.0.0.1:{web_port}");
    let post = |path: &str, cookie: &str, ct: &str, body: &[u8]| {
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nCookie: {cookie}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let send = |req: Vec<u8>| async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", web_port)).await.unwrap();
        let mut buf = Vec::new();
        let (st, head, body) = crate::util::roundtrip(&mut s, &req, &mut buf).await.unwrap();
        (
            st,
            head,
            serde_json::from_slice::<serde_json::Value>(&body).unwrap_or(serde_json::Value::Null),
        )
    };
    // Register with the invite printed by init, then log in.
    let reg = serde_json::json!({"code": code, "handle": "alice", "password": "password-456", "display_name": "Alice"});
    let (s, head, _) =
        send(post("/api/register", "", "application/json", reg.to_string().as_bytes())).await;
    assert_eq!(s, 200, "{head}");
    let login = serde_json::json!({"handle": "alice", "password": "password-456"});
    let (s, head, _) =
        send(post("/api/auth/login", "", "application/json", login.to_string().as_bytes())).await;
    assert_eq!(s, 200);
    let cookie = cookie_of(&head);
    // Upload a GPX and a FIT.
    let gpx = std::fs::read(samples().join("dave/1024000610.gpx")).unwrap();
    let fit =
        std::fs::read(samples().join("devices/fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit"))
            .unwrap();
    let (ct, body) = multipart_body(&[("files", "ride.gpx", &gpx), ("files", "ride.fit", &fit)]);
    let t0 = Instant::now();
    let (s, head, up) = send(post("/api/upload", &cookie, &ct, &body)).await;
    assert_eq!(s, 202, "{head}");
    let job = up["job_id"].as_str().unwrap().to_owned();
    let job_req = |job: &str| {
        format!("GET /api/jobs/{job} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n")
            .into_bytes()
    };
    let wait_job = |job: String| {
        let send = &send;
        let job_req = &job_req;
        async move {
            for _ in 0..600 {
                let (_, _, v) = send(job_req(&job)).await;
                if v["state"] == "done" || v["state"] == "failed" {
                    return v;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("job {job} never finished");
        }
    };
    let st = wait_job(job).await;
    let upload_to_done = t0.elapsed();
    assert_eq!(st["state"], "done", "{st}");
    let ids: Vec<String> = st["new_activity_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{st}");
    eprintln!(
        "upload response → job done (pages and feeds written): {} ms",
        upload_to_done.as_millis()
    );
    let page_req = |path: &str, c: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nCookie: {c}\r\n\r\n")
    };
    for id in &ids {
        assert!(site.join(format!("activity/{id}/index.html")).is_file(), "{id}");
        let (s, _, _) = get(web_port, &page_req(&format!("/activity/{id}/"), &cookie)).await;
        assert_eq!(s, 200, "{id}");
        // Private instance: anonymous visitors are sent to the login page by nginx.
        let (s, _, _) = get(web_port, &page_req(&format!("/activity/{id}/"), "x=y")).await;
        assert_eq!(s, 302, "{id}");
    }
    let feed = std::fs::read_to_string(site.join("data/feed.json")).unwrap();
    assert!(ids.iter().all(|id| feed.contains(id.as_str())));
    // Edit a title: the page changes.
    let edit = serde_json::json!({"title": "Col du Test"});
    let (s, _, v) = send(post(
        &format!("/api/activity/{}", ids[0]),
        &cookie,
        "application/json",
        edit.to_string().as_bytes(),
    ))
    .await;
    assert_eq!(s, 202);
    wait_job(v["job_id"].as_str().unwrap().to_owned()).await;
    let (_, _, page) = get(web_port, &page_req(&format!("/activity/{}/", ids[0]), &cookie)).await;
    assert!(page.contains("Col du Test"), "title on the page");
    // Mark the other unlisted: gone from every listing.
    let edit = serde_json::json!({"private": true});
    let (s, _, v) = send(post(
        &format!("/api/activity/{}", ids[1]),
        &cookie,
        "application/json",
        edit.to_string().as_bytes(),
    ))
    .await;
    assert_eq!(s, 202);
    wait_job(v["job_id"].as_str().unwrap().to_owned()).await;
    let feed = std::fs::read_to_string(site.join("data/feed.json")).unwrap();
    assert!(!feed.contains(ids[1].as_str()), "unlisted activity left out of the feed");
    let user_page = std::fs::read_to_string(site.join("u/alice/index.html")).unwrap();
    assert!(!user_page.contains(ids[1].as_str()) && user_page.contains(ids[0].as_str()));
}
