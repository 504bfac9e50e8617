//! `{root}/bincio.toml` as the daemon and `bincio-api settings` see it: the file is the
//! source of truth, changes apply without a restart, old `instance.db` settings migrate.

use crate::util::*;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::process::Command;

fn write_config(t: &T, text: &str) {
    std::fs::write(t.root().join("bincio.toml"), text).unwrap();
}

/// A login as a browser on `origin` would send it.
async fn login_from(t: &T, origin: &str) -> Resp {
    let body = serde_json::json!({"handle": "admin", "password": ADMIN_PW}).to_string();
    let req = Request::builder()
        .method("POST")
        .uri("/api/auth/login")
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    t.raw(req, "10.0.0.9").await
}

#[tokio::test]
async fn a_changed_public_url_applies_without_a_restart() {
    let t = T::new();
    // Not configured: a page served from another origin may not post.
    assert_eq!(login_from(&t, "https://rides.example.org").await.status, 403);
    write_config(&t, "public_url = \"https://rides.example.org/\"\n");
    let r = login_from(&t, "https://rides.example.org").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "https public URL gives Secure cookies: {cookie}");
    // Changed by hand again: the old origin is refused, the new one accepted.
    write_config(&t, "public_url = \"http://bikes.example.net:8080\"\n");
    assert_eq!(login_from(&t, "https://rides.example.org").await.status, 403);
    let r = login_from(&t, "http://bikes.example.net:8080").await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn me_reads_limits_and_dem_from_the_file() {
    let t = T::new();
    let admin = t.admin().await;
    let me = t.call("GET", "/api/me", Some(&admin), None).await;
    assert_eq!(me.json["dem_configured"], false);
    assert_eq!(me.json["storage_limit_mb"], 5120);
    assert_eq!(me.json["store_originals_default"], true);
    write_config(
        &t,
        "# set by hand\ndem_dir = \"/srv/dem\"\nstorage_limit_mb = 42\nstore_originals = false\n",
    );
    let me = t.call("GET", "/api/me", Some(&admin), None).await;
    assert_eq!(me.json["dem_configured"], true);
    assert_eq!(me.json["storage_limit_mb"], 42);
    assert_eq!(me.json["store_originals_default"], false);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bincio-api"))
}

fn settings(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = bin().arg("settings").args(args).arg("--data-dir").arg(dir).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn settings_round_trip_through_the_file() {
    let t = T::new();
    let dir = t.root();
    let file = dir.join("bincio.toml");
    assert!(settings(dir, &["set", "tile_url", "https://tile.example/{z}/{x}/{y}.png"]).0);
    assert!(settings(dir, &["set", "time_zone", "Europe/Rome"]).0);
    assert!(settings(dir, &["set", "strava_client_secret", "s3cr3tvalue"]).0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("time_zone = \"Europe/Rome\""), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file holds secrets");
    }
    assert_eq!(settings(dir, &["get", "time_zone"]).1.trim(), "Europe/Rome");
    // Edited by hand, with a comment: get sees it, set keeps the comment and the unknown key.
    std::fs::write(&file, format!("# ours\n{text}units = \"imperial\"\nlater = 1\n")).unwrap();
    assert_eq!(settings(dir, &["get", "units"]).1.trim(), "imperial");
    assert!(settings(dir, &["set", "max_users", "4"]).0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# ours\n") && text.contains("later = 1\n"), "{text}");
    assert!(text.contains("max_users = 4\n"), "{text}");
    // list shows every key with its value or default, and masks the secret.
    let (ok, list, _) = settings(dir, &["list"]);
    assert!(ok);
    assert!(list.contains("max_users\t4\n") && list.contains("max_user_invites\t3\n"), "{list}");
    assert!(list.contains("strava_client_secret\t(set)\n"), "{list}");
    assert!(!list.contains("s3cr3tvalue"), "{list}");
    // An empty value removes the key: back to the default.
    assert!(settings(dir, &["set", "units", ""]).0);
    assert_eq!(settings(dir, &["get", "units"]).1.trim(), "metric");
    // Refusals name the file and the key.
    let (ok, _, err) = settings(dir, &["set", "time_zone", "Nowhere/../x"]);
    assert!(!ok && err.contains("bincio.toml") && err.contains("`time_zone`"), "{err}");
    let (ok, _, err) = settings(dir, &["set", "bogus", "1"]);
    assert!(!ok && err.contains("`bogus`"), "{err}");
    std::fs::write(&file, "max_users = \"many\"\n").unwrap();
    let (ok, _, err) = settings(dir, &["get", "max_users"]);
    assert!(!ok && err.contains("bincio.toml") && err.contains("`max_users`"), "{err}");
}

#[test]
fn settings_in_instance_db_move_to_the_file_once() {
    let t = T::new();
    let dir = t.root();
    t.st.db
        .with(|c| {
            c.execute_batch(
                "INSERT INTO settings (key, value) VALUES
                   ('max_users', '12'), ('public_url', 'https://old.example.org'),
                   ('store_originals', 'false'), ('storage_limit_mb', 'garbage');",
            )?;
            Ok(())
        })
        .unwrap();
    assert!(!dir.join("bincio.toml").exists());
    let (ok, list, err) = settings(dir, &["list"]);
    assert!(ok, "{err}");
    assert!(list.contains("max_users\t12\n"), "{list}");
    assert!(list.contains("public_url\thttps://old.example.org\n"), "{list}");
    assert!(list.contains("store_originals\tfalse\n"), "{list}");
    // An unreadable old value is not carried over; the default applies.
    assert!(list.contains("storage_limit_mb\t5120\n"), "{list}");
    // The instance name moves from the root manifest too.
    assert!(list.contains("name\tTest\n"), "{list}");
    let text = std::fs::read_to_string(dir.join("bincio.toml")).unwrap();
    assert!(text.contains("max_users = 12"), "{text}");
    // Once: a key the admin then removes from the file is not brought back.
    std::fs::write(dir.join("bincio.toml"), "max_users = 1\n").unwrap();
    assert_eq!(settings(dir, &["get", "public_url"]).1.trim(), "");
    assert_eq!(settings(dir, &["get", "max_users"]).1.trim(), "1");
}
