//! Following a remote that misbehaves: a small HTTP server on loopback plays the remote
//! (a year-sharded user feed with ETags), then fails in every way the issue lists — a dead
//! port, a hang (timeout), a 50 MB answer, invalid JSON, a private instance's 302 and 401.
//! Each time the build stays green, the remote's last good activities stay in the feed, and
//! the refresh report says what went wrong. The two-instance run through the shipped nginx
//! config is `apiserver/tests/federation.rs`.

// Helpers outside #[test] functions unwrap too: a test panics on any unexpected failure.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_bas::InstanceRoot;
use bincio_gen::federation::{self, RemoteStatus};
use bincio_gen::net::{Client, Limits};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Serve,
    Hang,
    Huge,
    InvalidJson,
    Redirect,
    Unauthorized,
}

/// The fake remote: documents by path, served with an ETag, or a failure mode.
struct Remote {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

fn start_remote(docs: BTreeMap<String, String>) -> Remote {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mode = Arc::new(Mutex::new(Mode::Serve));
    let requests = Arc::new(AtomicUsize::new(0));
    let not_modified = Arc::new(AtomicUsize::new(0));
    let (m, r, n) = (mode.clone(), requests.clone(), not_modified.clone());
    let docs = Arc::new(docs);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (m, r, n, docs) = (m.clone(), r.clone(), n.clone(), docs.clone());
            std::thread::spawn(move || answer(stream, *m.lock().unwrap(), &docs, &r, &n));
        }
    });
    Remote { port, mode, requests, not_modified }
}

fn answer(
    mut s: TcpStream,
    mode: Mode,
    docs: &BTreeMap<String, String>,
    requests: &AtomicUsize,
    not_modified: &AtomicUsize,
) {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
    let mut if_none_match = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(v.trim().to_owned());
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let reply = |s: &mut TcpStream, head: &str, body: &[u8]| {
        let _ = s.write_all(
            format!(
                "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        let _ = s.write_all(body);
    };
    match mode {
        Mode::Serve => match docs.get(&path) {
            Some(body) => {
                let etag = format!(
                    "\"{:x}\"",
                    body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    not_modified.fetch_add(1, Ordering::SeqCst);
                    reply(&mut s, &format!("304 Not Modified\r\nETag: {etag}"), b"");
                } else {
                    reply(
                        &mut s,
                        &format!("200 OK\r\nETag: {etag}\r\nContent-Type: application/json"),
                        body.as_bytes(),
                    );
                }
            }
            None => reply(&mut s, "404 Not Found", b"not found"),
        },
        Mode::Hang => std::thread::sleep(Duration::from_secs(5)),
        Mode::Huge => {
            let total = 50 * 1024 * 1024;
            let _ = s.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n").as_bytes(),
            );
            let chunk = vec![b' '; 1024 * 1024];
            for _ in 0..50 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        Mode::InvalidJson => {
            reply(&mut s, "200 OK\r\nContent-Type: application/json", b"{\"owner\": [oops")
        }
        Mode::Redirect => {
            reply(&mut s, "302 Found\r\nLocation: /login/?next=/data/index.json", b"")
        }
        Mode::Unauthorized => reply(&mut s, "401 Unauthorized", b""),
    }
}

fn card(id: &str, at: &str, privacy: &str, title: &str) -> Value {
    json!({"id": id, "title": title, "sport": "cycling", "sub_sport": null, "started_at": at,
           "distance_m": 42195.0, "duration_s": 5400, "moving_time_s": 5000,
           "elevation_gain_m": 321.0, "avg_speed_kmh": 28.1, "max_speed_kmh": 51.0,
           "avg_hr_bpm": 140, "max_hr_bpm": 171, "avg_cadence_rpm": null, "avg_power_w": null,
           "mmp": null, "best_efforts": null, "best_climb_m": null, "source": "x.fit",
           "privacy": privacy, "detail_url": format!("activities/{id}.json"), "track_url": null,
           "preview_coords": [[45.0, 7.0], [45.01, 7.02], [45.02, 7.0]]})
}

/// alice's published feed: a year manifest and one shard with three public activities
/// (one `no_gps`, one `blur_start`), an unlisted one and one that does not validate.
fn alice_docs() -> BTreeMap<String, String> {
    let owner = json!({"handle": "alice", "display_name": "Alice"});
    let manifest = json!({"bas_version": "1.0", "owner": owner, "generated_at": "2024-07-01T00:00:00Z",
        "shards": [{"year": 2024, "url": "index-2024.json", "count": 5}], "activities": []});
    let mut bad = card("2024-06-04T070000Z", "2024-06-04T07:00:00Z", "public", "Negative ride");
    bad["duration_s"] = json!(-30);
    let shard = json!({"bas_version": "1.0", "owner": owner, "generated_at": "2024-07-01T00:00:00Z",
    "activities": [
        card("2024-06-01T070000Z", "2024-06-01T07:00:00Z", "public", "Alpine loop"),
        card("2024-06-02T070000Z", "2024-06-02T07:00:00Z", "no_gps", "Secret garden"),
        card("2024-06-03T070000Z", "2024-06-03T07:00:00Z", "blur_start", "From home"),
        card("2024-06-05T070000Z", "2024-06-05T07:00:00Z", "unlisted", "Hidden dawn ride"),
        bad,
    ]});
    BTreeMap::from([
        ("/data/alice/_merged/index.json".to_owned(), manifest.to_string()),
        ("/data/alice/_merged/index-2024.json".to_owned(), shard.to_string()),
    ])
}

fn client() -> Client {
    // Short timeouts keep the hang case quick; the size cap is the production one.
    Client::new(Limits {
        connect: Duration::from_secs(1),
        total: Duration::from_secs(2),
        ..Limits::default()
    })
}

fn status_of<'a>(r: &'a federation::RefreshReport, name: &str) -> &'a RemoteStatus {
    r.remotes.iter().find(|s| s.name == name).unwrap()
}

/// The remote cards of the home page: `(handle label, link)`.
fn remote_cards(out: &Path) -> Vec<(String, String)> {
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    html.split("<article class=\"card")
        .skip(1)
        .filter(|c| c.starts_with(" remote") || c.contains(" remote\""))
        .map(|c| {
            let handle = c.split("@").nth(1).unwrap().split('<').next().unwrap().to_owned();
            let link = c.split("class=\"stretched\" rel=\"noopener\" href=\"").nth(1).unwrap();
            (handle, link.split('"').next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn a_failing_remote_keeps_its_last_good_copy_and_is_reported() {
    let remote = start_remote(alice_docs());
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&data).unwrap();
    let root = InstanceRoot::new(&data);
    common::build(&data, &out);
    let base = format!("http://127.0.0.1:{}", remote.port);
    federation::add(&root, &format!("{base}/data/alice/_merged/index.json"), None).unwrap();
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    federation::add(&root, &format!("http://127.0.0.1:{dead}/"), Some("ghost")).unwrap();

    let report = federation::refresh(&root, &client()).unwrap();
    let alice = status_of(&report, "alice");
    assert_eq!(alice.error, None);
    assert_eq!((alice.activities, alice.invalid, alice.unlisted), (3, 1, 1), "{alice:?}");
    assert!(alice.invalid_examples[0].contains("duration_s: -30 is negative"), "{alice:?}");
    let ghost = status_of(&report, "ghost");
    let e = ghost.error.as_deref().unwrap();
    assert!(e.contains(&format!("127.0.0.1:{dead}")), "a dead port names the URL: {e}");
    assert_eq!(ghost.activities, 0);

    common::build(&data, &out);
    let cards = remote_cards(&out);
    let expected: Vec<(String, String)> =
        ["2024-06-03T070000Z", "2024-06-02T070000Z", "2024-06-01T070000Z"]
            .iter()
            .map(|id| ("alice".to_owned(), format!("{base}/activity/{id}/")))
            .collect();
    assert_eq!(cards, expected, "newest first, attributed, linking home");
    let home = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        home.contains(&format!("href=\"{base}/u/alice/\"")),
        "the handle links to alice's feed"
    );
    assert!(!home.contains("Hidden dawn ride") && !home.contains("Negative ride"));
    let feed: Value =
        serde_json::from_slice(&std::fs::read(out.join("data/feed.json")).unwrap()).unwrap();
    let items = feed["activities"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let no_gps = items.iter().find(|a| a["id"] == "2024-06-02T070000Z").unwrap();
    assert_eq!(
        (no_gps["handle"].as_str(), no_gps.get("preview_coords")),
        (Some("alice"), Some(&Value::Null))
    );
    assert_eq!(
        no_gps["detail_url"],
        format!("{base}/data/alice/_merged/activities/2024-06-02T070000Z.json")
    );
    assert_eq!(no_gps["page_url"], format!("{base}/activity/2024-06-02T070000Z/"));
    let feed_before = std::fs::read(out.join("data/feed.json")).unwrap();

    // Unchanged: the second refresh makes only conditional requests, all answered 304.
    let (r0, n0) =
        (remote.requests.load(Ordering::SeqCst), remote.not_modified.load(Ordering::SeqCst));
    let again = federation::refresh(&root, &client()).unwrap();
    let alice = status_of(&again, "alice");
    assert_eq!((alice.requests, alice.not_modified, alice.activities), (2, 2, 3), "{alice:?}");
    assert_eq!(remote.requests.load(Ordering::SeqCst) - r0, 2);
    assert_eq!(remote.not_modified.load(Ordering::SeqCst) - n0, 2);

    for (mode, needle) in [
        (Mode::Hang, "timeout"),
        (Mode::Huge, "larger than 20971520 bytes"),
        (Mode::InvalidJson, "not JSON"),
        (
            Mode::Redirect,
            "answered 302 (redirects to /login/?next=/data/index.json: a private instance asks for a login)",
        ),
        (Mode::Unauthorized, "answered 401: a private instance"),
    ] {
        *remote.mode.lock().unwrap() = mode;
        let report = federation::refresh(&root, &client()).unwrap();
        let alice = status_of(&report, "alice");
        let e = alice.error.as_deref().unwrap_or_else(|| panic!("{mode:?} must fail"));
        assert!(e.to_lowercase().contains(&needle.to_lowercase()), "{mode:?}: {e}");
        assert!(e.contains(&base), "{mode:?} names the URL: {e}");
        assert_eq!(alice.activities, 3, "{mode:?}: the last good copy is still shown");
        assert!(alice.ok_at.is_some());
        let line = federation::status_line(alice);
        assert!(
            line.starts_with("alice: FAILING: ") && line.contains("showing 3 activities"),
            "{line}"
        );
        common::build(&data, &out);
        assert_eq!(remote_cards(&out), expected, "{mode:?}: the feed keeps alice's activities");
        assert_eq!(std::fs::read(out.join("data/feed.json")).unwrap(), feed_before, "{mode:?}");
    }
    // The admin page reports both failing remotes.
    let admin = std::fs::read_to_string(out.join("admin/index.html")).unwrap();
    assert!(admin.contains("answered 401") && admin.contains("ghost"), "admin page: {admin}");

    // Back up: refreshed again; removing a remote removes its activities at the next render.
    *remote.mode.lock().unwrap() = Mode::Serve;
    assert_eq!(status_of(&federation::refresh(&root, &client()).unwrap(), "alice").error, None);
    federation::remove(&root, "alice").unwrap();
    common::build(&data, &out);
    assert!(remote_cards(&out).is_empty());
}

#[test]
fn the_watcher_lock_keeps_a_remote_added_meanwhile() {
    // `federation add` and a build both rewrite the root manifest; each keeps the other's.
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("site"));
    std::fs::create_dir_all(&data).unwrap();
    let root = InstanceRoot::new(&data);
    federation::add(&root, "https://club.example.org/", Some("club")).unwrap();
    common::build(&data, &out);
    let m: Value = serde_json::from_slice(&std::fs::read(root.root_manifest()).unwrap()).unwrap();
    assert_eq!(m["shards"], json!([{"handle": "club", "url": "https://club.example.org/"}]));
    let e = federation::add(&root, "https://club.example.org/", Some("other")).unwrap_err();
    assert!(e.to_string().contains("already followed"), "{e}");
    let list = federation::followed(&root).unwrap();
    assert_eq!(list.len(), 1);
}
