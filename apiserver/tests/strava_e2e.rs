//! The daemon's Strava flow end to end on 127.0.0.1, through the shipped nginx config, with
//! the stand-in Strava server of `generator/tests/support/strava_standin.rs`: set the app
//! credentials, connect (the stand-in's authorize page redirects back to the callback),
//! status connected, sync through the watcher with progress, pages rendered, token never
//! served, reset, disconnect.

use crate::strava_standin as standin;

use crate::nginx::{
    free_port, get, init_instance, login_cookie, start_daemon_with, start_nginx, start_watcher,
    wait_port, which,
};
use crate::util::skip_or_fail;
use serde_json::{Value, json};
use std::time::Duration;

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strava_connect_sync_and_disconnect_through_nginx_and_the_watcher() {
    let Ok(nginx) = which("nginx") else {
        return skip_or_fail("nginx is not installed (apt-get install nginx-light)");
    };
    let gen_bin =
        std::path::Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() {
        return skip_or_fail("build bincio-gen first (cargo build --workspace --bins)");
    }
    let strava = standin::StandIn::start(standin::generate(30));
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&site).unwrap();
    let _code = init_instance(&data);
    let (api_port, web_port) = (free_port(), free_port());
    let _api = start_daemon_with(&data, api_port, &[("BINCIO_STRAVA_URL", &strava.url())]);
    let _watch = start_watcher(&gen_bin, &data, &site, &[("BINCIO_STRAVA_URL", &strava.url())]);
    let _nginx = start_nginx(&nginx, tmp.path(), &site, api_port, web_port);
    wait_port(api_port).await;
    wait_port(web_port).await;
    let host = format!("127.0.0.1:{web_port}");
    let cookie = login_cookie(web_port, &host, "dave", "password-123").await;
    let req = |method: &str, path: &str, body: Option<Value>| {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{cookie}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let r = req(method, &path, body);
        async move {
            let (s, head, body) = get(web_port, &r).await;
            (s, head, serde_json::from_str::<Value>(&body).unwrap_or(Value::Null))
        }
    };

    // Not configured yet: no application anywhere.
    let (s, _, v) = call("GET", "/api/strava/status".into(), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["configured"], false);
    assert_eq!(v["connected"], false);
    let (s, _, v) = call("GET", "/api/strava/auth-url".into(), None).await;
    assert_eq!(s, 400, "{v}");
    // The user's own application.
    let creds = json!({"client_id": standin::CLIENT_ID, "client_secret": standin::CLIENT_SECRET});
    let (s, _, v) = call("PUT", "/api/me/strava-credentials".into(), Some(creds)).await;
    assert_eq!(s, 200, "{v}");
    let (_, _, v) = call("GET", "/api/me/strava-credentials".into(), None).await;
    assert_eq!(v["has_user_creds"], true);
    assert_eq!(v["client_id"], standin::CLIENT_ID);
    assert!(!v.to_string().contains(standin::CLIENT_SECRET), "the secret is never returned");

    // Connect: the authorize URL → the stand-in's authorize page → redirect to our callback.
    let (s, _, v) = call("GET", "/api/strava/auth-url".into(), None).await;
    assert_eq!(s, 200, "{v}");
    let url = v["url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&strava.url()).expect("authorize on the stand-in").to_owned();
    let (s, head, _) = get(
        strava.addr.port(),
        &format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", strava.addr),
    )
    .await;
    assert_eq!(s, 302, "{head}");
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
        .unwrap()
        .trim()
        .to_owned();
    let callback = location.strip_prefix(&format!("http://{host}")).expect("back to us").to_owned();
    assert!(callback.starts_with("/api/strava/callback?"), "{callback}");
    // Without the session the state is refused (and spent).
    let (s, head, _) =
        get(web_port, &format!("GET {callback} HTTP/1.1\r\nHost: {host}\r\n\r\n")).await;
    assert_eq!(s, 303, "{head}");
    assert!(head.contains("strava=error"), "{head}");
    // A fresh state, this time with the session.
    let (_, _, v) = call("GET", "/api/strava/auth-url".into(), None).await;
    let path = v["url"].as_str().unwrap().strip_prefix(&strava.url()).unwrap().to_owned();
    let (_, head, _) = get(
        strava.addr.port(),
        &format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", strava.addr),
    )
    .await;
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
        .unwrap()
        .trim()
        .to_owned();
    let callback = location.strip_prefix(&format!("http://{host}")).unwrap().to_owned();
    let (s, head, _) = call("GET", callback, None).await;
    assert_eq!(s, 303, "{head}");
    assert!(head.contains("strava=connected"), "{head}");
    let (_, _, v) = call("GET", "/api/strava/status".into(), None).await;
    assert_eq!(v["connected"], true, "{v}");
    assert_eq!(v["athlete"]["name"], "Dave Stand-In");
    let token = data.join("dave/strava_token.json");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Sync: the watcher does it; the job reports progress and the new activities.
    let (s, _, v) = call("POST", "/api/strava/sync".into(), None).await;
    assert_eq!(s, 200, "{v}");
    let job = v["job_id"].as_str().unwrap().to_owned();
    let mut st = Value::Null;
    for _ in 0..600 {
        let (_, _, v) = call("GET", format!("/api/jobs/{job}"), None).await;
        if v["state"] == "done" || v["state"] == "failed" {
            st = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(st["state"], "done", "{st}");
    assert_eq!(st["total"], 1, "{st}");
    let ids = st["new_activity_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 30, "{st}");
    // Pages rendered for the new activities; no secret anywhere in the site.
    let files = walk(&site);
    let first = ids[0].as_str().unwrap();
    assert!(files.iter().any(|p| p.to_string_lossy().contains(first)), "page of {first}");
    assert!(!files.iter().any(|p| p.to_string_lossy().contains("strava_")), "no token in the site");
    // Even copied into the site by mistake, nginx refuses the secret files.
    std::fs::copy(&token, site.join("strava_token.json")).unwrap();
    std::fs::create_dir_all(site.join("dave")).unwrap();
    std::fs::copy(&token, site.join("dave/strava_credentials.json")).unwrap();
    for p in ["/strava_token.json", "/dave/strava_credentials.json"] {
        let (s, _, body) =
            get(web_port, &format!("GET {p} HTTP/1.1\r\nHost: {host}\r\n{cookie}\r\n")).await;
        assert_eq!(s, 404, "{p}");
        assert!(!body.contains("refresh"), "{p}");
    }

    // Reset: hard forgets the cursor.
    let (s, _, v) = call("POST", "/api/strava/reset".into(), Some(json!({"mode": "hard"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["last_sync_at"], Value::Null);
    // Disconnect: deauthorized at Strava, token forgotten.
    let (s, _, v) = call("DELETE", "/api/strava".into(), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(strava.stats().deauthorized, 1);
    assert!(!token.exists());
    let (_, _, v) = call("GET", "/api/strava/status".into(), None).await;
    assert_eq!(v["connected"], false);
}

/// The `Location` of a redirect answer.
fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
        .unwrap()
        .trim()
        .to_owned()
}

/// The OAuth `state` is kept in SQLite: a daemon restarted between the authorize URL and
/// Strava's redirect still accepts it, once, and only with the session that asked for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strava_oauth_state_survives_a_daemon_restart_and_is_bound_to_its_session() {
    let strava = standin::StandIn::start(standin::generate(0));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let _code = init_instance(&data);
    let env = [("BINCIO_STRAVA_URL", strava.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let mut daemon = start_daemon_with(&data, port, &env);
    wait_port(port).await;
    let cookie = login_cookie(port, &host, "dave", "password-123").await;
    let other_session = login_cookie(port, &host, "dave", "password-123").await;
    assert_ne!(cookie, other_session);
    let req = |method: &str, path: &str, cookie: &str, body: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{cookie}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let creds = json!({"client_id": standin::CLIENT_ID, "client_secret": standin::CLIENT_SECRET});
    let (s, _, _) =
        get(port, &req("PUT", "/api/me/strava-credentials", &cookie, &creds.to_string())).await;
    assert_eq!(s, 200);
    // Two authorize URLs, then the stand-in's authorize page sends each back with its state.
    let mut callbacks = Vec::new();
    for _ in 0..2 {
        let (s, _, body) = get(port, &req("GET", "/api/strava/auth-url", &cookie, "")).await;
        assert_eq!(s, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let path = v["url"].as_str().unwrap().strip_prefix(&strava.url()).unwrap().to_owned();
        let (s, head, _) = get(
            strava.addr.port(),
            &format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", strava.addr),
        )
        .await;
        assert_eq!(s, 302, "{head}");
        let loc = location(&head);
        callbacks.push(loc.strip_prefix(&format!("http://{host}")).unwrap().to_owned());
    }

    // The daemon restarts between the authorize URL and the callback.
    drop(daemon);
    daemon = start_daemon_with(&data, port, &env);
    wait_port(port).await;

    // Another session of the same user cannot use the state (and spends it).
    let (s, head, _) = get(port, &req("GET", &callbacks[0], &other_session, "")).await;
    assert_eq!(s, 303, "{head}");
    assert!(location(&head).ends_with("/?strava=error"), "{head}");
    let (s, head, _) = get(port, &req("GET", &callbacks[0], &cookie, "")).await;
    assert!(location(&head).ends_with("/?strava=error"), "single use: {s} {head}");
    assert!(!data.join("dave/strava_token.json").exists());
    // The session that asked connects, after the restart.
    let (s, head, _) = get(port, &req("GET", &callbacks[1], &cookie, "")).await;
    assert_eq!(s, 303, "{head}");
    assert!(location(&head).ends_with("/?strava=connected"), "{head}");
    assert!(data.join("dave/strava_token.json").is_file());
    let (_, _, body) = get(port, &req("GET", "/api/strava/status", &cookie, "")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["connected"], true, "{v}");
    // Only hashes are stored: the state itself is nowhere in the database.
    let state = callbacks[1].split("state=").nth(1).unwrap().split('&').next().unwrap();
    drop(daemon);
    for f in ["instance.db", "instance.db-wal"] {
        let db = std::fs::read(data.join(f)).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&db).contains(state), "{f}");
    }
}

/// What a user's store holds, by activity ID: the figures and metadata an import sets,
/// and the photos attached.
fn imported(user: &std::path::Path) -> std::collections::BTreeMap<String, (Value, Vec<String>)> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(user.join("activities")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".timeseries.json") {
            continue;
        }
        let d: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        let id = d["id"].as_str().unwrap().to_owned();
        let mut photos: Vec<String> = std::fs::read_dir(user.join("edits/images").join(&id))
            .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        photos.sort();
        let keep = json!({
            "title": d["title"], "description": d["description"], "gear": d["gear"],
            "custom": d["custom"], "privacy": d["privacy"], "strava_id": d["strava_id"],
            "started_at": d["started_at"], "distance_m": d["distance_m"],
            "duration_s": d["duration_s"], "sport": d["sport"],
        });
        out.insert(id, (keep, photos));
    }
    out
}

/// A Strava export uploaded through the daemon is kept whole and imported by the watcher
/// with the command line's own function: the same activities, CSV titles, descriptions,
/// gear and flags, the manual entry without a file, and the photos from `media/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strava_export_uploaded_through_the_daemon_imports_like_the_command_line() {
    let gen_bin =
        std::path::Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() {
        return skip_or_fail("build bincio-gen first (cargo build --workspace --bins)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    let _code = init_instance(&data);
    let zip = tmp.path().join("export_1234.zip");
    crate::strava_export::write_zip(&zip);

    // The command line's import, as the reference.
    let cli_data = tmp.path().join("cli");
    let out = std::process::Command::new(&gen_bin)
        .args(["import", "strava-export"])
        .arg(&zip)
        .arg("--data-dir")
        .arg(&cli_data)
        .args(["--handle", "dave", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want = imported(&cli_data.join("dave"));
    assert_eq!(want.len(), 3, "{want:?}");

    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let _api = start_daemon_with(&data, port, &[]);
    let _watch = start_watcher(&gen_bin, &data, &site, &[]);
    wait_port(port).await;
    let cookie = login_cookie(port, &host, "dave", "password-123").await;
    let (ct, body) =
        crate::util::multipart_body(&[("files", "export_1234.zip", &std::fs::read(&zip).unwrap())]);
    let mut req = format!(
        "POST /api/upload HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{cookie}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = Vec::new();
    let (status, head, answer) = crate::util::roundtrip(&mut s, &req, &mut buf).await.unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    assert_eq!(status, 202, "{head}{answer}");
    let job = answer["job_id"].as_str().unwrap().to_owned();
    // Kept whole, for the watcher.
    assert_eq!(answer["files"], json!([format!("originals/{job}/export_1234.zip")]), "{answer}");

    let mut st = Value::Null;
    for _ in 0..600 {
        let (_, _, body) =
            get(port, &format!("GET /api/jobs/{job} HTTP/1.1\r\nHost: {host}\r\n{cookie}\r\n"))
                .await;
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if v["state"] == "done" || v["state"] == "failed" {
            st = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(st["state"], "done", "{st}");
    assert_eq!(st["failures"], json!([]), "{st}");
    let mut ids: Vec<&str> =
        st["new_activity_ids"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    ids.sort_unstable();
    assert_eq!(ids, want.keys().map(String::as_str).collect::<Vec<_>>(), "{st}");
    // Exactly what the command line imported: metadata, the manual entry, the photos.
    let got = imported(&data.join("dave"));
    assert_eq!(got, want);
    assert!(got.values().any(|(_, photos)| photos == &["aaa.jpg", "bbb.jpg"]), "{got:?}");
    assert!(got.values().any(|(d, _)| d["title"] == "Gym (manual)"), "{got:?}");
    // And published.
    let files = walk(&site);
    for id in &ids {
        assert!(files.iter().any(|p| p.to_string_lossy().contains(id)), "page of {id}");
    }
}
