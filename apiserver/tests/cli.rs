//! The real `bincio-api` binary: init is idempotent, admin subcommands work.

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bincio-api"))
}

fn init(dir: &std::path::Path, stdin: &str) -> std::process::Output {
    let mut c = bin()
        .args([
            "init",
            "--handle",
            "dave",
            "--display-name",
            "Dave",
            "--name",
            "Our Rides",
            "--max-users",
            "10",
            "--data-dir",
        ])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut a: Vec<&str> = args.to_vec();
    a.push("--data-dir");
    let out = bin().args(&a).arg(dir).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn init_is_idempotent_and_admin_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    let bad = init(dir.path(), "password-1\npassword-2\n");
    assert!(!bad.status.success(), "mismatched passwords refused");
    let first = init(dir.path(), "password-123\npassword-123\n");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let link = String::from_utf8(first.stdout).unwrap();
    assert!(link.starts_with("/register/?code="), "{link}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(manifest["instance"], serde_json::json!({"private": true, "name": "Our Rides"}));
    assert_eq!(manifest["shards"][0]["handle"], "dave");
    assert!(dir.path().join("dave/index.json").is_file() && dir.path().join("dave/edits").is_dir());
    // Re-run: nothing changes, no new invite, password not asked.
    let before = std::fs::read(dir.path().join("index.json")).unwrap();
    let again = init(dir.path(), "");
    assert!(again.status.success());
    assert_eq!(String::from_utf8(again.stdout).unwrap(), link);
    assert_eq!(std::fs::read(dir.path().join("index.json")).unwrap(), before);
    // Settings.
    assert_eq!(run(dir.path(), &["settings", "get", "max_users"]).1.trim(), "10");
    assert!(!run(dir.path(), &["settings", "set", "max_users", "lots"]).0);
    assert!(!run(dir.path(), &["settings", "set", "bogus", "1"]).0);
    assert!(run(dir.path(), &["settings", "set", "store_originals", "false"]).0);
    assert_eq!(run(dir.path(), &["settings", "get", "store_originals"]).1.trim(), "false");
    // The per-user storage limit: 5 GiB from init, settable, whole MiB only.
    assert_eq!(run(dir.path(), &["settings", "get", "storage_limit_mb"]).1.trim(), "5120");
    assert!(run(dir.path(), &["settings", "set", "storage_limit_mb", "10240"]).0);
    assert_eq!(run(dir.path(), &["settings", "get", "storage_limit_mb"]).1.trim(), "10240");
    assert!(!run(dir.path(), &["settings", "set", "storage_limit_mb", "5GB"]).0);
    assert!(run(dir.path(), &["settings", "set", "public_url", "https://rides.example.org/"]).0);
    // Invites now carry the base URL.
    let (ok, out) = run(dir.path(), &["invite", "create", "--by", "dave"]);
    assert!(ok && out.starts_with("https://rides.example.org/register/?code="), "{out}");
    assert!(!run(dir.path(), &["invite", "create", "--by", "nobody"]).0);
    // Users.
    let (_, list) = run(dir.path(), &["user", "list"]);
    assert!(list.starts_with("dave\tadmin\tDave\t"), "{list}");
    let (ok, code) = run(dir.path(), &["user", "reset-code", "dave"]);
    assert!(ok && code.lines().next().unwrap().len() == 10, "{code}");
    assert!(!run(dir.path(), &["user", "delete", "nobody"]).0);
    assert!(run(dir.path(), &["user", "delete", "dave"]).0);
    assert!(!dir.path().join("dave").exists());
    // serve refuses a folder without a database.
    let empty = tempfile::tempdir().unwrap();
    let (ok, msg) = run(empty.path(), &["serve"]);
    assert!(!ok && msg.contains("bincio-api init"), "{msg}");
}

/// A daemon killed in the middle of an upload leaves its private staging folder behind
/// (`{handle}/_uploads/.staging-{job}`); the next `serve` removes it before it listens, and
/// leaves committed uploads that wait for the watcher alone.
#[tokio::test]
async fn serve_removes_staging_folders_left_by_a_killed_daemon() {
    use crate::nginx::{Guard, free_port, wait_port};
    let dir = tempfile::tempdir().unwrap();
    assert!(init(dir.path(), "password-123\npassword-123\n").status.success());
    let uploads = dir.path().join("dave/_uploads");
    let staging = uploads.join(".staging-01HZX3K9Q2");
    std::fs::create_dir_all(staging.join(".zip-0")).unwrap();
    std::fs::write(staging.join("ride.gpx"), "<gpx/>").unwrap();
    std::fs::write(staging.join(".zip-0/1.gpx"), vec![b' '; 1 << 20]).unwrap();
    let waiting = uploads.join("01HZX3K9Q3/ride.gpx");
    std::fs::create_dir_all(waiting.parent().unwrap()).unwrap();
    std::fs::write(&waiting, "<gpx/>").unwrap();
    let port = free_port();
    let _api = Guard(
        bin()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap(),
    );
    wait_port(port).await;
    assert!(!staging.exists(), "staging folder left behind");
    assert!(waiting.is_file(), "a committed upload waiting for the watcher stays");
}
