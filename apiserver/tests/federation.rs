//! Two instances on loopback, each behind the shipped nginx config (`docs/nginx/bincio.conf`)
//! and its daemon: B follows A, first one user's feed, then the whole instance. B's home
//! feed shows every public listed activity of A, attributed `@dave@host` (B has its own
//! `dave`), linking to pages that A serves; A's unlisted activity never appears; a second
//! refresh of an unchanged A makes only conditional requests, all answered 304 by nginx;
//! A's data answers with the CORS header the reference's browser-side federation needs.
//! The failure cases (dead port, hang, 50 MB, invalid JSON, 302/401) are in
//! `generator/tests/federation.rs`.

use crate::nginx::{free_port, get, init_instance, start_daemon, start_nginx, wait_port, which};
use crate::util::skip_or_fail;
use bincio_bas::InstanceRoot;
use bincio_gen::federation;
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/reference-output")
}

fn copy_dir(src: &Path, dst: &Path) {
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let target = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn render(data: &Path, site: &Path) {
    bincio_gen::site::build(&bincio_gen::site::SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: site.to_path_buf(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    })
    .unwrap_or_else(|e| panic!("render of {} failed: {e}", data.display()));
}

/// A public instance: `private = false` (and its `public_url`) in `bincio.toml`.
fn make_public(data: &Path, public_url: Option<&str>) {
    let mut edits = vec![("private", Some(toml::Value::Boolean(false)))];
    if let Some(u) = public_url {
        edits.push(("public_url", Some(toml::Value::String(u.to_owned()))));
    }
    bincio_bas::config::update(&data.join("bincio.toml"), &edits).unwrap();
}

/// The remote cards of a home page: `(label, page link, handle link)`.
fn remote_cards(html: &str) -> Vec<(String, String, String)> {
    html.split("<article class=\"card")
        .skip(1)
        .filter(|c| c.split('"').next().unwrap_or("").contains("remote"))
        .map(|c| {
            let handle_tag = c.split("<a class=\"handle\"").nth(1).unwrap();
            let handle_href =
                handle_tag.split("href=\"").nth(1).unwrap().split('"').next().unwrap();
            let label = handle_tag.split(">@").nth(1).unwrap().split('<').next().unwrap();
            let page = c.split("class=\"stretched\" rel=\"noopener\" href=\"").nth(1).unwrap();
            (label.to_owned(), page.split('"').next().unwrap().to_owned(), handle_href.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_follows_another_through_the_shipped_nginx_config() {
    let Ok(nginx) = which("nginx") else {
        return skip_or_fail("nginx is not installed (apt-get install nginx-light)");
    };
    if !samples().is_dir() {
        return skip_or_fail("keep ../shared/samples beside the repository");
    }
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (data_a, site_a, data_b, site_b) =
        (a.join("data"), a.join("site"), b.join("data"), b.join("site"));
    let (api_a, web_a, api_b, web_b) = (free_port(), free_port(), free_port(), free_port());
    let base_a = format!("http://127.0.0.1:{web_a}");

    // A: dave with the reference's activities, one of them made unlisted by its owner.
    init_instance(&data_a);
    copy_dir(&samples().join("dave"), &data_a.join("dave"));
    make_public(&data_a, Some(&base_a));
    render(&data_a, &site_a);
    let feed_a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site_a.join("data/feed.json")).unwrap()).unwrap();
    let ids: Vec<String> = feed_a["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let hidden = ids[1].clone();
    std::fs::create_dir_all(data_a.join("dave/edits")).unwrap();
    std::fs::write(data_a.join(format!("dave/edits/{hidden}.md")), "---\nprivate: true\n---\n")
        .unwrap();
    render(&data_a, &site_a);
    let public: Vec<&String> = ids.iter().filter(|i| **i != hidden).collect();
    assert!(public.len() >= 5, "the sample has activities: {ids:?}");
    let _api_a = start_daemon(&data_a, api_a);
    let _nginx_a = start_nginx(&nginx, &a, &site_a, api_a, web_a);

    // B: its own dave (so A's is `@dave@host`), following A's dave.
    init_instance(&data_b);
    make_public(&data_b, None);
    render(&data_b, &site_b);
    let root_b = InstanceRoot::new(&data_b);
    let _api_b = start_daemon(&data_b, api_b);
    let _nginx_b = start_nginx(&nginx, &b, &site_b, api_b, web_b);
    for p in [api_a, web_a, api_b, web_b] {
        wait_port(p).await;
    }

    let host_a = format!("127.0.0.1:{web_a}");
    let get_a = |path: String| {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {host_a}\r\nOrigin: http://elsewhere.example\r\n\r\n"
        );
        async move { get(web_a, &req).await }
    };
    // The CORS header a public instance sends for the reference's browser-side federation.
    let (s, head, _) = get_a("/data/dave/_merged/index.json".to_owned()).await;
    assert_eq!(s, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("access-control-allow-origin: *"), "{head}");

    let data_b2 = data_b.clone();
    let site_b2 = site_b.clone();
    let follow_and_check = |url: String, name: &'static str| {
        let (data_b, site_b, root_b) = (data_b2.clone(), site_b2.clone(), root_b.clone());
        tokio::task::spawn_blocking(move || {
            federation::add(&root_b, &url, Some(name)).unwrap();
            let report = federation::refresh(&root_b, &federation::client()).unwrap();
            let st = report.remotes.iter().find(|r| r.name == name).unwrap().clone();
            render(&data_b, &site_b);
            // Unchanged: conditional requests only, every one answered 304 by A's nginx.
            let again = federation::refresh(&root_b, &federation::client()).unwrap();
            let st2 = again.remotes.iter().find(|r| r.name == name).unwrap().clone();
            (st, st2)
        })
    };

    for (url, name) in [
        (format!("{base_a}/data/dave/_merged/index.json"), "dave-a"),
        (format!("{base_a}/"), "instance-a"),
    ] {
        let (st, again) = follow_and_check(url.clone(), name).await.unwrap();
        assert_eq!(st.error, None, "{url}: {st:?}");
        assert_eq!(st.activities, public.len(), "{url}: {st:?}");
        assert_eq!(again.requests, again.not_modified, "{url}: {again:?}");
        assert!(again.requests >= 2, "{url}: a manifest and its shards: {again:?}");

        let req = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{web_b}\r\nAccept: text/html\r\n\r\n");
        let (s, _, home) = get(web_b, &req).await;
        assert_eq!(s, 200);
        let cards = remote_cards(&home);
        assert_eq!(cards.len(), public.len(), "{url}: every public listed activity once");
        assert!(
            !home.contains(&format!("/activity/{hidden}/")),
            "{url}: the unlisted one is absent"
        );
        for (label, page, profile) in &cards {
            assert_eq!(label, &format!("dave@127.0.0.1:{web_a}"), "clashes with B's own dave");
            assert_eq!(profile, &format!("{base_a}/u/dave/"));
            let path = page.strip_prefix(&base_a).unwrap_or_else(|| panic!("{page} is on A"));
            let id = path.trim_start_matches("/activity/").trim_end_matches('/');
            assert!(public.iter().any(|p| *p == id), "{page}");
            let (s, head, body) = get_a(path.to_owned()).await;
            assert_eq!(s, 200, "{page} is served by A: {head}");
            assert!(body.contains("<html"), "{page}");
        }
        let (s, _, _) = get_a("/u/dave/".to_owned()).await;
        assert_eq!(s, 200);
        let removed = tokio::task::spawn_blocking({
            let root_b = root_b.clone();
            move || federation::remove(&root_b, name).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(removed.url, url);
    }
}
