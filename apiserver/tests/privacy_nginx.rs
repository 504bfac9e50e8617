//! The privacy invariant through the shipped nginx config: every URL of a generated private
//! instance, asked for anonymously and by another member.
//!
//! `generator/tests/privacy_invariant.rs` proves that nothing hidden is in any file of the
//! output folder; this test proves what nginx makes of that folder: an anonymous visitor gets
//! nothing but the login, registration, password-reset pages and static assets (every other
//! file answers 302 to the login page or 401), and another member gets every file, none of
//! which names an unlisted activity outside its tokened folder.

use crate::nginx::{
    free_port, get, init_instance, login_cookie, start_daemon, start_nginx, wait_port, which,
};
use crate::util::skip_or_fail;
use std::path::{Path, PathBuf};
use std::process::Command;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn output_files(site: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![site.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(site).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

/// The URL nginx serves a file at (`x/index.html` at `/x/`).
fn url_of(rel: &str) -> String {
    match rel.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{rel}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_url_nginx_serves_keeps_the_privacy_invariant() {
    let Ok(nginx) = which("nginx") else {
        return skip_or_fail("nginx is not installed (apt-get install nginx-light)");
    };
    let gen_bin = Path::new(env!("CARGO_BIN_EXE_bincio-api")).with_file_name("bincio-gen");
    if !gen_bin.is_file() || !samples().is_dir() {
        return skip_or_fail(
            "build bincio-gen first (cargo build --workspace --bins) and keep ../shared/samples",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let (data, site) = (tmp.path().join("data"), tmp.path().join("site"));
    init_instance(&data);
    // Another member's rides, one of them unlisted by its owner.
    run(Command::new(&gen_bin)
        .args(["--quiet", "extract", "--handle", "eve", "--input"])
        .arg(samples().join("brut"))
        .arg("--output")
        .arg(&data));
    let feed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("eve/index.json")).unwrap()).unwrap();
    let hidden_id = feed["activities"][0]["id"].as_str().unwrap().to_owned();
    std::fs::create_dir_all(data.join("eve/edits")).unwrap();
    std::fs::write(data.join(format!("eve/edits/{hidden_id}.md")), "---\nprivate: true\n---\n")
        .unwrap();
    run(Command::new(&gen_bin)
        .args(["--quiet", "render", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&site));

    let (api_port, web_port) = (free_port(), free_port());
    let _api = start_daemon(&data, api_port);
    let _nginx = start_nginx(&nginx, tmp.path(), &site, api_port, web_port);
    wait_port(api_port).await;
    wait_port(web_port).await;
    let host = format!("127.0.0.1:{web_port}");
    let req = |path: &str, extra: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n{extra}\r\n")
    };

    let files = output_files(&site);
    assert!(files.len() > 50, "only {} files rendered", files.len());
    let open = ["login/", "register/", "reset-password/", "static/", "favicon.ico", "robots.txt"];
    let token_prefix = format!("activity/{hidden_id}-");
    let mut problems = Vec::new();

    // Anonymous: only the pages needed to log in and the static assets.
    for rel in &files {
        let (status, _, _) = get(web_port, &req(&url_of(rel), "")).await;
        let is_open = open.iter().any(|p| rel.starts_with(p));
        if is_open && status != 200 {
            problems.push(format!("anonymous {rel}: {status}, expected 200"));
        }
        if !is_open && !matches!(status, 302 | 401) {
            problems.push(format!("anonymous {rel}: {status}, expected 302 or 401"));
        }
    }

    // Another member (dave) gets every file, and none names eve's unlisted activity outside
    // its tokened folder.
    let c = login_cookie(web_port, &host, "dave", "password-123").await;
    let mut tokened_seen = false;
    for rel in &files {
        let (status, _, body) = get(web_port, &req(&url_of(rel), &c)).await;
        if status != 200 {
            problems.push(format!("member {rel}: {status}, expected 200"));
        }
        if rel.starts_with(&token_prefix) {
            tokened_seen |= body.contains(&hidden_id);
        } else if body.contains(&hidden_id) {
            problems.push(format!("member {rel}: names the unlisted activity {hidden_id}"));
        }
    }
    assert!(tokened_seen, "the unlisted activity's tokened page was not served");
    // A missing page is the site's own "Not found" page, with a 404 status.
    let (status, _, body) = get(web_port, &req("/no/such/page/", &c)).await;
    assert_eq!(status, 404);
    assert!(body.contains("There is no page here"), "not the site's 404 page: {body}");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
