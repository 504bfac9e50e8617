//! Every endpoint: success and each error path, against a fresh instance per test.

use crate::util::*;
use serde_json::json;

#[tokio::test]
async fn me_login_logout() {
    let t = T::new();
    let r = t.call("GET", "/api/me", None, None).await;
    assert_eq!(r.status, 404);
    let bad = t
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"handle": "admin", "password": "nope-nope"})),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (401, "invalid_credentials"));
    let unknown = t
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"handle": "ghost", "password": "whatever1"})),
        )
        .await;
    assert_eq!(unknown.status, 401);
    let ok = t
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"handle": " Admin ", "password": ADMIN_PW})),
        )
        .await;
    assert_eq!(ok.status, 200);
    let set = ok.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(
        set.starts_with("bincio_session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = ok.cookie();
    let me = t.call("GET", "/api/me", Some(&cookie), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["handle"], "admin");
    assert_eq!(me.json["is_admin"], true);
    assert_eq!(me.json["store_originals_default"], true);
    // The database holds only the token's hash.
    let token = cookie.trim_start_matches("bincio_session=");
    let stored: String =
        t.st.db
            .with(|c| Ok(c.query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))?))
            .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, bincio_api::auth::sha256_hex(token.as_bytes()));
    let out = t.call("POST", "/api/auth/logout", Some(&cookie), None).await;
    assert_eq!(out.status, 200);
    assert!(out.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(t.call("GET", "/api/me", Some(&cookie), None).await.status, 404);
}

#[tokio::test]
async fn register_rules_and_side_effects() {
    let mut cfg = bincio_api::config::Config::default();
    cfg.register_per_ip.count = 100; // many attempts from one test IP; the limit has its own test
    let t = T::with_config(cfg);
    let admin = t.admin().await;
    let code = t.call("POST", "/api/invites", Some(&admin), None).await.json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let reg = |code: &str, handle: &str, pw: &str| json!({"code": code, "handle": handle, "password": pw});
    let r =
        t.call("POST", "/api/register", None, Some(reg("WRONG123", "bob", "password-123"))).await;
    assert_eq!(r.status, 400);
    assert!(r.json["message"].as_str().unwrap().contains("invite"));
    for bad in ["../x", "-bob", "b".repeat(31).as_str(), "api"] {
        let r = t.call("POST", "/api/register", None, Some(reg(&code, bad, "password-123"))).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = t.call("POST", "/api/register", None, Some(reg(&code, "bob", "short"))).await;
    assert_eq!(r.status, 400);
    let r = t
        .call("POST", "/api/register", None, Some(reg(&code.to_lowercase(), "Bob", "password-123")))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json["handle"], "bob");
    let bob = r.cookie();
    assert_eq!(t.call("GET", "/api/me", Some(&bob), None).await.json["display_name"], "bob");
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.root().join("bob/index.json")).unwrap()).unwrap();
    assert_eq!(idx["owner"]["handle"], "bob");
    assert!(t.root().join("bob/edits").is_dir());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.root().join("index.json")).unwrap()).unwrap();
    assert_eq!(manifest["instance"]["private"], true);
    let handles: Vec<&str> = manifest["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["admin", "bob"]);
    assert!(t.queue_requests().iter().any(|q| q["handle"] == "bob" && q["change"] == "rebuild"));
    // The invite is used up; a taken handle is a conflict.
    let r = t.call("POST", "/api/register", None, Some(reg(&code, "carol", "password-123"))).await;
    assert_eq!(r.status, 400);
    let code2 = t.call("POST", "/api/invites", Some(&admin), None).await.json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t.call("POST", "/api/register", None, Some(reg(&code2, "bob", "password-123"))).await;
    assert_eq!(r.status, 409);
    // The invite survived the failed attempt; the user limit is enforced.
    t.set_setting("max_users", "2");
    let r = t.call("POST", "/api/register", None, Some(reg(&code2, "carol", "password-123"))).await;
    assert_eq!(r.status, 403);
    assert!(r.json["message"].as_str().unwrap().contains("(2)"));
    // Stats show who invited whom.
    let s = t.call("GET", "/api/stats", Some(&bob), None).await;
    assert_eq!(s.json["user_count"], 2);
    assert_eq!(s.json["members"][1]["invited_by"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_invite_cannot_register_two_accounts() {
    let t = std::sync::Arc::new(T::new());
    let admin = t.admin().await;
    let code = t.call("POST", "/api/invites", Some(&admin), None).await.json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (t, code) = (t.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"code": code, "handle": format!("racer{i}"), "password": "password-123"});
            let b = hyper::Request::builder()
                .method("POST")
                .uri("/api/register")
                .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
                .unwrap();
            t.raw(b, &format!("10.1.0.{i}")).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 5, "{statuses:?}");
    let n = t.st.db.with(|c| bincio_api::db::users::count(c)).unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn invites_are_limited_for_users_not_admins() {
    let t = T::new();
    let bob = t.user("bob").await;
    for _ in 0..3 {
        assert_eq!(t.call("POST", "/api/invites", Some(&bob), None).await.status, 200);
    }
    let r = t.call("POST", "/api/invites", Some(&bob), None).await;
    assert_eq!(r.status, 403);
    assert!(r.json["message"].as_str().unwrap().contains("(3)"));
    let list = t.call("GET", "/api/invites", Some(&bob), None).await;
    assert_eq!(list.json.as_array().unwrap().len(), 3);
    assert_eq!(list.json[0]["used"], false);
    t.set_setting("max_user_invites", "5");
    assert_eq!(t.call("POST", "/api/invites", Some(&bob), None).await.status, 200);
    let admin = t.admin().await;
    for _ in 0..6 {
        assert_eq!(t.call("POST", "/api/invites", Some(&admin), None).await.status, 200);
    }
    assert_eq!(t.call("GET", "/api/invites", None, None).await.status, 401);
}

#[tokio::test]
async fn reset_codes_are_single_use_expire_and_revoke_sessions() {
    let t = T::new();
    let bob = t.user("bob").await;
    let admin = t.admin().await;
    assert_eq!(
        t.call("POST", "/api/admin/users/nobody/reset-password-code", Some(&admin), None)
            .await
            .status,
        404
    );
    assert_eq!(
        t.call("POST", "/api/admin/users/bob/reset-password-code", Some(&bob), None).await.status,
        403
    );
    let r = t.call("POST", "/api/admin/users/bob/reset-password-code", Some(&admin), None).await;
    assert_eq!(r.json["expires_in_hours"], 24);
    let code = r.json["code"].as_str().unwrap().to_owned();
    let body = |code: &str, pw: &str| json!({"handle": "bob", "code": code, "password": pw});
    assert_eq!(
        t.call("POST", "/api/auth/reset-password", None, Some(body(&code, "short"))).await.status,
        400
    );
    assert_eq!(
        t.call(
            "POST",
            "/api/auth/reset-password",
            None,
            Some(body("WRONGCODE1", "new-password-1"))
        )
        .await
        .status,
        400
    );
    let ok = t
        .call(
            "POST",
            "/api/auth/reset-password",
            None,
            Some(body(&code.to_lowercase(), "new-password-1")),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_eq!(t.call("GET", "/api/me", Some(&bob), None).await.status, 404, "old session revoked");
    assert_eq!(
        t.call("POST", "/api/auth/reset-password", None, Some(body(&code, "new-password-2")))
            .await
            .status,
        400,
        "single use"
    );
    t.login("bob", "new-password-1").await;
    // An expired code is refused.
    let code = t
        .call("POST", "/api/admin/users/bob/reset-password-code", Some(&admin), None)
        .await
        .json["code"]
        .as_str()
        .unwrap()
        .to_owned();
    t.st.db.with(|c| Ok(c.execute("UPDATE reset_codes SET expires_at = 0", [])?)).unwrap();
    assert_eq!(
        t.call("POST", "/api/auth/reset-password", None, Some(body(&code, "new-password-3")))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn password_change_revokes_other_sessions() {
    let t = T::new();
    t.user("bob").await;
    let a = t.login("bob", "password-123").await;
    let b = t.login("bob", "password-123").await;
    let change = |cur: &str, new: &str| json!({"current_password": cur, "new_password": new});
    let r = t
        .call("PUT", "/api/me/password", Some(&a), Some(change("wrong-one", "new-password-1")))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "wrong_password"));
    assert_eq!(
        t.call("PUT", "/api/me/password", Some(&a), Some(change("password-123", "short")))
            .await
            .status,
        400
    );
    let r = t
        .call("PUT", "/api/me/password", Some(&a), Some(change("password-123", "new-password-1")))
        .await;
    assert_eq!(r.status, 200);
    let fresh = r.cookie();
    assert_eq!(t.call("GET", "/api/me", Some(&a), None).await.status, 404);
    assert_eq!(t.call("GET", "/api/me", Some(&b), None).await.status, 404);
    assert_eq!(t.call("GET", "/api/me", Some(&fresh), None).await.status, 200);
}

#[tokio::test]
async fn auth_check_follows_instance_privacy() {
    let t = T::new();
    assert_eq!(t.call("GET", "/api/auth/check", None, None).await.status, 401);
    assert_eq!(t.call("GET", "/api/stats", None, None).await.status, 401);
    let admin = t.admin().await;
    assert_eq!(t.call("GET", "/api/auth/check", Some(&admin), None).await.status, 200);
    let p = t.root().join("index.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    m["instance"]["private"] = json!(false);
    m["padding"] = json!("changes the size so the cache notices");
    std::fs::write(&p, m.to_string()).unwrap();
    assert_eq!(t.call("GET", "/api/auth/check", None, None).await.status, 200);
    assert_eq!(t.call("GET", "/api/stats", None, None).await.status, 200);
}

const ID: &str = "2024-06-01T070000Z-morning-ride";

/// A sidecar written by hand (or by the previous tool) is read as the merge reads it: an
/// edit through the API must not drop a `private` the merge honours, and must not overwrite
/// a file it cannot read.
#[tokio::test]
async fn an_edit_keeps_a_hand_written_private_flag_in_any_spelling() {
    let t = T::new();
    let bob = t.user("bob").await;
    t.activity("bob", ID);
    let path = format!("/api/activity/{ID}");
    let sidecar = t.root().join(format!("bob/edits/{ID}.md"));
    std::fs::create_dir_all(sidecar.parent().unwrap()).unwrap();
    // The same spellings as generator/tests/privacy.rs checks on the merge's side.
    for text in [
        "---\nprivate: True\n---\n",
        "---\nprivate: on\n---\n",
        "---\nprivate: 'yes'\n---\n\nnotes\n",
        "---\nprivate: \"1\"\n---\n",
        "\u{feff}---\nprivate: true\n---\n",
        "---\r\nprivate: yes\r\ntitle: x\r\n---\r\n",
        "---\nprivate: 1\n---\n",
    ] {
        std::fs::write(&sidecar, text).unwrap();
        let g = t.call("GET", &path, Some(&bob), None).await;
        assert_eq!(g.json["private"], true, "GET after {text:?}");
        let r = t.call("POST", &path, Some(&bob), Some(json!({"title": "Renamed"}))).await;
        assert_eq!(r.status, 202, "{:?}", r.json);
        let after = std::fs::read_to_string(&sidecar).unwrap();
        assert!(after.contains("private: true"), "{text:?} became {after:?}");
    }
    // Unreadable YAML: the edit is refused and the user's file is left alone.
    let broken = "---\ntitle: [unclosed\nprivate: true\n---\nnotes\n";
    std::fs::write(&sidecar, broken).unwrap();
    let r = t.call("POST", &path, Some(&bob), Some(json!({"title": "Renamed"}))).await;
    assert_eq!(r.status, 409, "{:?}", r.json);
    assert_eq!(std::fs::read_to_string(&sidecar).unwrap(), broken);
}

/// "Recalculate elevation": the choice goes to the sidecar (kept by later edits) and an
/// elevation job is queued; the terrain model needs the instance setting, which `/api/me`
/// reports.
#[tokio::test]
async fn recalculate_elevation_records_the_choice_and_queues_a_job() {
    let t = T::new();
    let bob = t.user("bob").await;
    let eve = t.user("eve").await;
    t.activity("bob", ID);
    let dem = format!("/api/activity/{ID}/recalculate-elevation/dem");
    let me = t.call("GET", "/api/me", Some(&bob), None).await;
    assert_eq!(me.json["dem_configured"], false);
    let r = t.call("POST", &dem, Some(&bob), None).await;
    assert_eq!(r.status, 409, "{:?}", r.json);
    assert!(r.json["message"].as_str().unwrap_or("").contains("dem_dir"), "{:?}", r.json);
    assert!(!t.root().join(format!("bob/edits/{ID}.md")).exists());

    t.set_setting("dem_dir", "/srv/srtm");
    let me = t.call("GET", "/api/me", Some(&bob), None).await;
    assert_eq!(me.json["dem_configured"], true);
    // Someone else's activity, an unknown method, an unknown activity.
    assert_eq!(t.call("POST", &dem, Some(&eve), None).await.status, 404);
    let bad = format!("/api/activity/{ID}/recalculate-elevation/lidar");
    assert_eq!(t.call("POST", &bad, Some(&bob), None).await.status, 400);
    let none = "/api/activity/2024-01-01T000000Z-none/recalculate-elevation/dem";
    assert_eq!(t.call("POST", none, Some(&bob), None).await.status, 404);

    let r = t.call("POST", &dem, Some(&bob), None).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let q = t.queue_request(r.json["job_id"].as_str().unwrap());
    assert_eq!(
        (q["handle"].as_str(), q["change"].as_str(), q["activity_id"].as_str()),
        (Some("bob"), Some("elevation"), Some(ID))
    );
    let sidecar = t.root().join(format!("bob/edits/{ID}.md"));
    assert_eq!(std::fs::read_to_string(&sidecar).unwrap(), "---\nelevation: dem\n---\n");
    let path = format!("/api/activity/{ID}");
    assert_eq!(t.call("GET", &path, Some(&bob), None).await.json["elevation"], "dem");
    // An ordinary edit keeps the choice.
    let r = t.call("POST", &path, Some(&bob), Some(json!({"title": "Col"}))).await;
    assert_eq!(r.status, 202);
    assert!(std::fs::read_to_string(&sidecar).unwrap().contains("elevation: dem"));
    // Smoothing (the reference's "hysteresis"), then back to the device's altitude.
    let hyst = format!("/api/activity/{ID}/recalculate-elevation/hysteresis");
    assert_eq!(t.call("POST", &hyst, Some(&bob), None).await.status, 202);
    assert_eq!(t.call("GET", &path, Some(&bob), None).await.json["elevation"], "smoothing");
    let restore = format!("/api/activity/{ID}/recalculate-elevation/restore");
    assert_eq!(t.call("POST", &restore, Some(&bob), None).await.status, 202);
    assert_eq!(t.call("GET", &path, Some(&bob), None).await.json["elevation"], "device");
    assert!(!std::fs::read_to_string(&sidecar).unwrap().contains("elevation"));
}

#[tokio::test]
async fn activity_edit_writes_the_sidecar_and_queues() {
    let t = T::new();
    let bob = t.user("bob").await;
    t.activity("bob", ID);
    let path = format!("/api/activity/{ID}");
    assert_eq!(t.call("GET", &path, None, None).await.status, 401);
    assert_eq!(
        t.call("GET", "/api/activity/2024-01-01T000000Z-none", Some(&bob), None).await.status,
        404
    );
    assert_eq!(t.call("GET", "/api/activity/a.json", Some(&bob), None).await.status, 400);
    let g = t.call("GET", &path, Some(&bob), None).await;
    assert_eq!(
        (g.json["title"].as_str(), g.json["private"].as_bool()),
        (Some("Morning Ride"), Some(false))
    );
    let edit = json!({"title": "Épic \"climb\"", "sport": "cycling", "gear": "Trek", "description": "Hello\nworld",
                      "highlight": true, "private": true, "hide_stats": ["power", "cadence"]});
    let r = t.call("POST", &path, Some(&bob), Some(edit)).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let job = r.json["job_id"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(t.root().join(format!("bob/edits/{ID}.md"))).unwrap();
    assert_eq!(
        text,
        "---\ntitle: \"Épic \\\"climb\\\"\"\nsport: cycling\ngear: \"Trek\"\nhighlight: true\nprivate: true\nhide_stats: [power, cadence]\n---\n\nHello\nworld\n"
    );
    let q = t.queue_request(&job);
    assert_eq!(
        (q["handle"].as_str(), q["change"].as_str(), q["activity_id"].as_str()),
        (Some("bob"), Some("edit"), Some(ID))
    );
    // GET returns the form fields from the sidecar.
    let g = t.call("GET", &path, Some(&bob), None).await;
    assert_eq!(g.json["title"], "Épic \"climb\"");
    assert_eq!(
        (g.json["private"].as_bool(), g.json["highlight"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(g.json["hide_stats"], json!(["power", "cadence"]));
    // A partial edit keeps the other fields; null clears one. `private: false` is written
    // as an explicit choice (it can override a duplicate's privacy, docs/site.md).
    let r = t.call("POST", &path, Some(&bob), Some(json!({"private": false, "gear": null}))).await;
    assert_eq!(r.status, 202);
    let text = std::fs::read_to_string(t.root().join(format!("bob/edits/{ID}.md"))).unwrap();
    assert!(
        text.contains("title: ") && text.contains("private: false\n") && !text.contains("gear"),
        "{text}"
    );
    // Validation.
    for bad in [
        json!({"sport": "flying"}),
        json!({"title": 5}),
        json!({"hide_stats": ["secrets"]}),
        json!({"title": "x".repeat(201)}),
        json!([1]),
    ] {
        assert_eq!(t.call("POST", &path, Some(&bob), Some(bad.clone())).await.status, 400, "{bad}");
    }
    assert_eq!(
        t.call(
            "POST",
            "/api/activity/2024-01-01T000000Z-none",
            Some(&bob),
            Some(json!({"title": "x"}))
        )
        .await
        .status,
        404
    );
    // Delete; the stored original it was extracted from goes too (else re-extracting
    // originals/ would bring it back).
    let original = b"<gpx>the ride</gpx>";
    let hash = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(original)));
    let detail_path = t.root().join(format!("bob/activities/{ID}.json"));
    let mut detail: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&detail_path).unwrap()).unwrap();
    detail["source_file"] = json!("ride.gpx");
    detail["source_hash"] = json!(hash);
    std::fs::write(&detail_path, detail.to_string()).unwrap();
    std::fs::create_dir_all(t.root().join("bob/originals/j1")).unwrap();
    std::fs::write(t.root().join("bob/originals/j1/ride.gpx"), original).unwrap();
    std::fs::write(t.root().join("bob/originals/j1/other.gpx"), b"<gpx>other</gpx>").unwrap();
    let d = t.call("DELETE", &path, Some(&bob), None).await;
    assert_eq!(d.status, 202);
    assert!(!t.root().join("bob/originals/j1/ride.gpx").exists(), "original removed");
    assert!(t.root().join("bob/originals/j1/other.gpx").is_file(), "other originals stay");
    assert_eq!(t.queue_request(d.json["job_id"].as_str().unwrap())["change"], "delete");
    assert!(!t.root().join(format!("bob/activities/{ID}.json")).exists());
    assert!(!t.root().join(format!("bob/edits/{ID}.md")).exists());
    assert_eq!(t.call("DELETE", &path, Some(&bob), None).await.status, 404);
    // Another user's activity is not reachable: IDs resolve in the caller's folder only.
    t.activity("bob", ID);
    let alice = t.user("alice").await;
    assert_eq!(t.call("GET", &path, Some(&alice), None).await.status, 404);
}

#[tokio::test]
async fn athlete_profile_merges_keys() {
    let t = T::new();
    let bob = t.user("bob").await;
    assert_eq!(t.call("GET", "/api/athlete", Some(&bob), None).await.json, json!({}));
    let r = t
        .call(
            "POST",
            "/api/athlete",
            Some(&bob),
            Some(json!({"max_hr": 190, "gear": {"bikes": ["Trek"]}})),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(t.queue_request(r.json["job_id"].as_str().unwrap())["change"], "athlete");
    let r = t
        .call(
            "POST",
            "/api/athlete",
            Some(&bob),
            Some(json!({"ftp_w": 250, "hr_zones": [[0, 120], [120, 150]], "max_hr": null})),
        )
        .await;
    assert_eq!(r.status, 202);
    let g = t.call("GET", "/api/athlete", Some(&bob), None).await;
    assert_eq!(
        g.json,
        json!({"ftp_w": 250, "hr_zones": [[0, 120], [120, 150]], "gear": {"bikes": ["Trek"]}})
    );
    for bad in [
        json!({"max_hr": "x"}),
        json!({"max_hr": 999}),
        json!({"hr_zones": [[1, 2, 3]]}),
        json!({"seasons": [{"name": 1}]}),
    ] {
        assert_eq!(
            t.call("POST", "/api/athlete", Some(&bob), Some(bad.clone())).await.status,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn photos_are_sniffed_and_renamed() {
    let t = T::new();
    let bob = t.user("bob").await;
    t.activity("bob", ID);
    let path = format!("/api/activity/{ID}/images");
    let r = t.multipart(&path, &bob, &[("file", "evil.html", PNG)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let name = r.json["filename"].as_str().unwrap().to_owned();
    assert!(name.ends_with(".png") && !name.contains("evil"), "{name}");
    assert_eq!(std::fs::read(t.root().join(format!("bob/edits/images/{ID}/{name}"))).unwrap(), PNG);
    let r = t
        .multipart(&path, &bob, &[("file", "x.png", b"<html><script>alert(1)</script></html>")])
        .await;
    assert_eq!(r.status, 415, "HTML posing as PNG");
    let r = t.multipart(&path, &bob, &[("other", "x.png", PNG)]).await;
    assert_eq!(r.status, 400);
    let r = t
        .multipart("/api/activity/2024-01-01T000000Z-none/images", &bob, &[("file", "x.png", PNG)])
        .await;
    assert_eq!(r.status, 404);
    let big = [PNG, &vec![0u8; 10 * 1024 * 1024 + 1]].concat();
    assert_eq!(t.multipart(&path, &bob, &[("file", "big.png", &big)]).await.status, 413);
    let l = t.call("GET", &path, Some(&bob), None).await;
    assert_eq!(l.json["images"], json!([name]));
    assert_eq!(t.call("DELETE", &format!("{path}/nope.png"), Some(&bob), None).await.status, 404);
    assert_eq!(t.call("DELETE", &format!("{path}/.hidden"), Some(&bob), None).await.status, 400);
    assert_eq!(t.call("DELETE", &format!("{path}/{name}"), Some(&bob), None).await.status, 202);
    assert_eq!(t.call("GET", &path, Some(&bob), None).await.json["images"], json!([]));
}

#[tokio::test]
async fn uploads_are_classified_stored_and_queued() {
    let t = T::with_config(bincio_api::config::Config {
        stage_unkept_uploads: true,
        ..Default::default()
    });
    let bob = t.user("bob").await;
    let fit = fit_bytes();
    let gz = gzip(GPX);
    let csv = b"Activity ID,Activity Date,Activity Name,Filename\n1,x,Ride,activities/1.gpx\n";
    let r = t
        .multipart(
            "/api/upload",
            &bob,
            &[
                ("files", "ride.gpx", GPX),
                ("files", "ride.FIT", &fit),
                ("files", "b.gpx.gz", &gz),
                ("files", "activities.csv", csv),
                ("files", "notes.txt", b"hello"),
                ("store_original", "", b"true"),
            ],
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let job = r.json["job_id"].as_str().unwrap().to_owned();
    let files: Vec<String> = r.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        files,
        [
            format!("originals/{job}/ride.gpx"),
            format!("originals/{job}/ride.FIT"),
            format!("originals/{job}/b.gpx.gz"),
            format!("originals/{job}/activities.csv")
        ]
    );
    assert_eq!(r.json["rejected"][0]["name"], "notes.txt");
    for f in &files {
        assert!(t.root().join("bob").join(f).is_file(), "{f}");
    }
    let q = t.queue_request(&job);
    assert_eq!((q["change"].as_str(), q["files"].as_array().unwrap().len()), (Some("upload"), 4));
    // Progress: queued until the watcher writes a status.
    let s = t.call("GET", &format!("/api/jobs/{job}"), Some(&bob), None).await;
    assert_eq!((s.json["state"].as_str(), s.json["total"].as_u64()), (Some("queued"), Some(4)));
    let status = json!({"job_id": job, "handle": "bob", "state": "done", "message": "done", "done": 4, "total": 4, "new_activity_ids": ["a"], "failures": []});
    std::fs::write(t.root().join(format!("_queue/status/{job}.json")), status.to_string()).unwrap();
    let s = t.call("GET", &format!("/api/jobs/{job}"), Some(&bob), None).await;
    assert_eq!(
        (s.json["state"].as_str(), s.json["new_activity_ids"][0].as_str()),
        (Some("done"), Some("a"))
    );
    let alice = t.user("alice").await;
    assert_eq!(t.call("GET", &format!("/api/jobs/{job}"), Some(&alice), None).await.status, 404);
    assert_eq!(t.call("GET", "/api/jobs/nope", Some(&bob), None).await.status, 404);
    // Not kept: staged under _uploads/.
    let r = t
        .multipart(
            "/api/upload",
            &bob,
            &[("files", "x.gpx", GPX), ("store_original", "", b"false")],
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.json["files"][0].as_str().unwrap().starts_with("_uploads/"));
    // Only junk: refused.
    let r = t.multipart("/api/upload", &bob, &[("files", "x.html", b"<html></html>")]).await;
    assert_eq!(r.status, 415);
    // A lying extension gets the real one.
    let r = t.multipart("/api/upload", &bob, &[("files", "ride.gpx", &fit)]).await;
    assert!(r.json["files"][0].as_str().unwrap().ends_with("ride.gpx.fit"));
    assert_eq!(
        t.multipart("/api/upload", "bincio_session=00", &[("files", "x.gpx", GPX)]).await.status,
        401
    );
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[tokio::test]
async fn zips_are_unpacked_and_strava_exports_kept_whole() {
    let t = T::new();
    let bob = t.user("bob").await;
    let fit = fit_bytes();
    let gz = gzip(GPX);
    let files = |r: &Resp| -> Vec<String> {
        r.json["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
            .collect()
    };
    // A ZIP of activity files is unpacked; an entry that climbs out is never written.
    let z = zip_of(&[("1.fit", &fit), ("rides/2.gpx.gz", &gz), ("../../evil.gpx", GPX)]);
    let r = t.multipart("/api/upload", &bob, &[("files", "rides.zip", &z)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    assert_eq!(files(&r), ["1.fit", "2.gpx.gz"]);
    assert!(!t.root().join("evil.gpx").exists() && !t.root().join("bob/evil.gpx").exists());
    // A Strava export (its activities.csv inside) passes the same caps and is kept whole:
    // the watcher imports it as `bincio-gen import strava-export` does.
    let z = zip_of(&[
        ("activities.csv", b"Activity ID,Activity Name\n1,x\n"),
        ("activities/1.fit", &fit),
        ("activities/2.gpx.gz", &gz),
        ("media/a.jpg", PNG),
        ("../../evil.gpx", GPX),
    ]);
    let r = t.multipart("/api/upload/strava-zip", &bob, &[("file", "export", &z)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let job = r.json["job_id"].as_str().unwrap();
    assert_eq!(files(&r), ["export.zip"]);
    let kept = t.root().join(format!("bob/originals/{job}/export.zip"));
    assert_eq!(std::fs::read(&kept).unwrap(), z);
    assert!(!t.root().join(format!("bob/originals/{job}/1.fit")).exists());
    assert!(!t.root().join("evil.gpx").exists() && !t.root().join("bob/evil.gpx").exists());
}

#[tokio::test]
async fn feedback_is_stored_outside_the_site() {
    let t = T::new();
    let bob = t.user("bob").await;
    assert_eq!(t.multipart("/api/feedback", &bob, &[("text", "", b"  ")]).await.status, 400);
    let r = t
        .multipart("/api/feedback", &bob, &[("text", "", b"Nice!"), ("images", "s.png", PNG)])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap();
    let entry: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.root().join(format!("_feedback/bob/{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(entry["text"], "Nice!");
    assert_eq!(entry["images"][0], format!("{id}_0.png"));
    let four: Vec<(&str, &str, &[u8])> = (0..4).map(|_| ("images", "a.png", PNG)).collect();
    assert_eq!(t.multipart("/api/feedback", &bob, &four).await.status, 400);
    assert_eq!(
        t.multipart("/api/feedback", &bob, &[("images", "a.png", b"GIF-no")]).await.status,
        415
    );
}

#[tokio::test]
async fn account_settings() {
    let t = T::new();
    let bob = t.user("bob").await;
    assert_eq!(
        t.call(
            "PUT",
            "/api/me/display-name",
            Some(&bob),
            Some(json!({"display_name": "x".repeat(61)}))
        )
        .await
        .status,
        400
    );
    let r = t
        .call("PUT", "/api/me/display-name", Some(&bob), Some(json!({"display_name": " Bob B "})))
        .await;
    assert_eq!(r.json["display_name"], "Bob B");
    assert_eq!(t.call("GET", "/api/me", Some(&bob), None).await.json["display_name"], "Bob B");
    assert_eq!(
        t.call(
            "PUT",
            "/api/me/prefs",
            Some(&bob),
            Some(json!({"nav_hide_feed": true, "theme": "dark"}))
        )
        .await
        .status,
        200
    );
    assert_eq!(
        t.call("GET", "/api/me/prefs", Some(&bob), None).await.json,
        json!({"nav_hide_feed": "true", "theme": "dark"})
    );
    assert_eq!(
        t.call("PUT", "/api/me/prefs", Some(&bob), Some(json!({"Bad Key": "x"}))).await.status,
        400
    );
    assert_eq!(t.call("PUT", "/api/me/prefs", Some(&bob), Some(json!(["x"]))).await.status, 400);
    t.multipart("/api/upload", &bob, &[("files", "x.gpx", GPX), ("store_original", "", b"true")])
        .await;
    let s = t.call("GET", "/api/me/storage", Some(&bob), None).await;
    assert_eq!(s.json["originals_count"], 1);
    let d = t.call("DELETE", "/api/me/originals", Some(&bob), None).await;
    assert_eq!(d.status, 200);
    assert!(!t.root().join("bob/originals").exists());
    t.activity("bob", ID);
    assert_eq!(
        t.call("DELETE", "/api/me/activities", Some(&bob), Some(json!({"password": "wrong-pass"})))
            .await
            .status,
        401
    );
    let w = t
        .call("DELETE", "/api/me/activities", Some(&bob), Some(json!({"password": "password-123"})))
        .await;
    assert_eq!((w.status.as_u16(), w.json["deleted"].as_u64()), (200, Some(2)));
    assert!(!t.root().join(format!("bob/activities/{ID}.json")).exists());
    assert!(t.root().join("bob/index.json").is_file(), "feed stub re-created");
    assert_eq!(
        t.call("DELETE", "/api/me", Some(&bob), Some(json!({"password": "wrong-pass"})))
            .await
            .status,
        401
    );
    let r =
        t.call("DELETE", "/api/me", Some(&bob), Some(json!({"password": "password-123"}))).await;
    assert_eq!(r.status, 200);
    assert!(!t.root().join("bob").exists());
    assert_eq!(t.call("GET", "/api/me", Some(&bob), None).await.status, 404);
    let m = std::fs::read_to_string(t.root().join("index.json")).unwrap();
    assert!(!m.contains("\"bob\""), "{m}");
}

#[tokio::test]
async fn admin_endpoints() {
    let t = T::new();
    let bob = t.user("bob").await;
    let admin = t.admin().await;
    for (m, p) in [
        ("GET", "/api/admin/users"),
        ("GET", "/api/admin/jobs"),
        ("GET", "/api/admin/disk"),
        ("GET", "/api/admin/users/bob/diag"),
    ] {
        assert_eq!(t.call(m, p, Some(&bob), None).await.status, 403, "{p}");
        assert_eq!(t.call(m, p, None, None).await.status, 401, "{p}");
    }
    let u = t.call("GET", "/api/admin/users", Some(&admin), None).await;
    assert_eq!(u.json.as_array().unwrap().len(), 2);
    let jobs = t.call("GET", "/api/admin/jobs", Some(&admin), None).await;
    assert!(
        jobs.json
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["handle"] == "bob" && j["state"] == "queued")
    );
    std::fs::create_dir_all(t.root().join("ghost/activities")).unwrap();
    let d = t.call("GET", "/api/admin/disk", Some(&admin), None).await;
    assert!(d.json["disk"]["total_gb"].as_f64().unwrap() > 0.0);
    let ghost = d.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["handle"] == "ghost")
        .unwrap()
        .clone();
    assert_eq!(ghost["in_db"], false);
    let r = t.call("POST", "/api/admin/users/bob/rebuild", Some(&admin), None).await;
    assert_eq!(t.queue_request(r.json["job_id"].as_str().unwrap())["change"], "rebuild");
    assert_eq!(
        t.call("POST", "/api/admin/users/nobody/rebuild", Some(&admin), None).await.status,
        404
    );
    t.activity("bob", ID);
    // One activity is three files (detail, track, timeseries): the figures count activities.
    for f in [format!("{ID}.geojson"), format!("{ID}.timeseries.json")] {
        std::fs::write(t.root().join("bob/activities").join(f), "{}").unwrap();
    }
    let d = t.call("GET", "/api/admin/disk", Some(&admin), None).await;
    let row = d.json["users"].as_array().unwrap().iter().find(|u| u["handle"] == "bob").unwrap();
    assert_eq!(row["activities_count"], 1, "{row}");
    assert_eq!(
        t.call("GET", "/api/me/storage", Some(&bob), None).await.json["activities_count"],
        1
    );
    let diag = t.call("GET", "/api/admin/users/bob/diag", Some(&admin), None).await;
    assert_eq!(diag.json["activities"]["json_files"], 1);
    assert!(!diag.json.to_string().contains(t.root().to_str().unwrap()), "no absolute paths");
    let w = t.call("DELETE", "/api/admin/users/bob/activities", Some(&admin), None).await;
    assert_eq!(w.status, 200);
    assert!(!t.root().join(format!("bob/activities/{ID}.json")).exists());
    assert_eq!(
        t.call("DELETE", "/api/admin/users/bob/directory", Some(&admin), None).await.status,
        409
    );
    assert_eq!(
        t.call("DELETE", "/api/admin/users/ghost/directory", Some(&admin), None).await.status,
        200
    );
    assert!(!t.root().join("ghost").exists());
    assert_eq!(
        t.call("DELETE", "/api/admin/users/ghost/directory", Some(&admin), None).await.status,
        404
    );
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let t = T::new();
    let r = t.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["openapi"], "3.1.0");
    let paths = r.json["paths"].as_object().expect("paths");
    // Routes the pages depend on, written out by hand: the document must describe each with
    // the access the pages expect (none, a session, an admin session).
    let expected = [
        ("post", "/api/auth/login", None),
        ("get", "/api/me", None),
        ("get", "/api/auth/check", None),
        ("post", "/api/upload", Some("user")),
        ("post", "/api/activity/{id}", Some("user")),
        ("delete", "/api/activity/{id}/images/{filename}", Some("user")),
        ("delete", "/api/me/originals", Some("user")),
        ("delete", "/api/me", Some("user")),
        ("get", "/api/admin/users", Some("admin")),
        ("delete", "/api/admin/users/{handle}/activities", Some("admin")),
    ];
    for (method, path, access) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing from the document");
        assert_eq!(op["x-access"].as_str(), access, "{method} {path}");
        assert_eq!(op["security"].is_array(), access.is_some(), "{method} {path}");
    }
    // Every operation is well formed: a unique operationId and each path parameter declared.
    let mut ids = std::collections::HashSet::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter_map(|p| p["name"].as_str())
                .collect();
            for seg in path.split('/').filter_map(|s| s.strip_prefix('{')) {
                let name = seg.trim_end_matches('}');
                assert!(declared.contains(&name), "{method} {path}: {name} not declared");
            }
        }
    }
    assert_eq!(t.call("GET", "/api/nope", None, None).await.status, 404);
    assert_eq!(t.call("PATCH", "/api/me", None, None).await.status, 405);
}

#[tokio::test]
async fn the_route_table_enforces_access_on_every_route() {
    use bincio_api::router::{Access, routes};
    let t = T::new();
    let member = t.user("member").await;
    for r in routes() {
        let path = r.path.replace("{id}", "2024-01-01T000000Z").replace("{handle}", "member");
        let path = path.replace("{filename}", "a.jpg").replace("{job}", "job1");
        let path = path.replace("{method}", "dem");
        let method = r.method.as_str();
        match r.access {
            Access::Anyone => {}
            Access::User | Access::Admin => {
                let anon = t.call(method, &path, None, None).await;
                assert_eq!(anon.status, 401, "{method} {path} without a session: {:?}", anon.json);
            }
        }
        if r.access == Access::Admin {
            let resp = t.call(method, &path, Some(&member), None).await;
            assert_eq!(resp.status, 403, "{method} {path} as a member: {:?}", resp.json);
        }
    }
    // The member is untouched by all of that.
    assert_eq!(t.call("GET", "/api/me", Some(&member), None).await.status, 200);
}

// Removing a ghost folder (files of a handle with no account) queues the job that unpublishes
// its pages, as deleting an account does.
#[tokio::test]
async fn removing_a_ghost_folder_queues_its_unpublishing() {
    let t = T::new();
    let admin = t.admin().await;
    std::fs::create_dir_all(t.root().join("ghost/activities")).unwrap();
    let r = t.call("DELETE", "/api/admin/users/ghost/directory", Some(&admin), None).await;
    assert_eq!(r.status, 200);
    // No request at all yet means no `_queue/` folder either.
    let queued = if t.root().join("_queue").is_dir() { t.queue_requests() } else { Vec::new() };
    assert!(
        queued.iter().any(|q| q["handle"] == "ghost" && q["change"] == "rebuild"),
        "no rebuild queued for ghost: {queued:?}"
    );
}

// A display-name change must reach the generated pages: the daemon publishes the name where
// the generator reads it (`edits/profile.json`) and queues a rebuild of the user.
#[tokio::test]
async fn a_display_name_change_is_published_and_queued() {
    let t = T::new();
    let bob = t.user("bob").await;
    let r = t
        .call("PUT", "/api/me/display-name", Some(&bob), Some(json!({"display_name": "Bob B"})))
        .await;
    assert_eq!(r.status, 200);
    let job = r.json["job_id"].as_str().unwrap_or_default().to_owned();
    assert!(!job.is_empty(), "no job queued: {:?}", r.json);
    let q = t.queue_request(&job);
    assert_eq!((q["handle"].as_str(), q["change"].as_str()), (Some("bob"), Some("rebuild")));
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.root().join("bob/edits/profile.json")).unwrap())
            .unwrap();
    assert_eq!(profile["display_name"], "Bob B");
}

/// The admin page's settings form: every key with its value and default, the secret never
/// sent, invalid values refused naming the key with nothing written, and a change to a key
/// the pages use queues a re-render of every member.
#[tokio::test]
async fn admin_settings_are_read_and_written_through_the_api() {
    let t = T::new();
    let bob = t.user("bob").await;
    let admin = t.admin().await;
    let cfg = t.root().join("bincio.toml");
    std::fs::write(
        &cfg,
        "# hand-written\nname = \"Our Rides\"\nstrava_client_secret = \"abc123\"\n",
    )
    .unwrap();
    for m in ["GET", "PUT"] {
        let body = (m == "PUT").then(|| json!({"units": "imperial"}));
        assert_eq!(t.call(m, "/api/admin/settings", Some(&bob), body.clone()).await.status, 403);
        assert_eq!(t.call(m, "/api/admin/settings", None, body).await.status, 401);
    }
    let r = t.call("GET", "/api/admin/settings", Some(&admin), None).await;
    assert_eq!(r.status, 200);
    let by_key = |j: &serde_json::Value, k: &str| {
        j["settings"].as_array().unwrap().iter().find(|s| s["key"] == k).unwrap().clone()
    };
    let keys: Vec<&str> =
        r.json["settings"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    for k in ["name", "time_zone", "units", "tile_url", "dem_dir", "dem_url", "storage_limit_mb"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert_eq!(by_key(&r.json, "name")["value"], "Our Rides");
    assert_eq!(by_key(&r.json, "name")["set"], true);
    assert_eq!(by_key(&r.json, "units")["value"], serde_json::Value::Null);
    assert_eq!(by_key(&r.json, "units")["default"], "metric");
    assert_eq!(by_key(&r.json, "storage_limit_mb")["kind"], "number");
    let secret = by_key(&r.json, "strava_client_secret");
    assert_eq!((secret["set"].clone(), secret["value"].clone()), (json!(true), json!(null)));
    assert!(!r.json.to_string().contains("abc123"), "the secret left the server");

    // An invalid value: 400 naming the key, and the file is untouched (the valid key of the
    // same request is not written either).
    let before = std::fs::read_to_string(&cfg).unwrap();
    let bad = t
        .call(
            "PUT",
            "/api/admin/settings",
            Some(&admin),
            Some(json!({"units": "imperial", "time_zone": "Europe/Atlantis"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    assert!(bad.json.to_string().contains("time_zone"), "{}", bad.json);
    assert!(
        !bad.json.to_string().contains(t.root().to_str().unwrap()),
        "no server path: {}",
        bad.json
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), before);

    let queued_before = t.queue_requests().len();
    let ok = t
        .call(
            "PUT",
            "/api/admin/settings",
            Some(&admin),
            Some(json!({
                "units": "imperial",
                "time_zone": "Europe/Rome",
                "dem_url": "https://elevation.example.org",
                "storage_limit_mb": 2048,
                "store_originals": false,
                "name": "",
                "strava_client_secret": "",
            })),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.starts_with("# hand-written\n"), "comment kept: {text}");
    assert!(text.contains("units = \"imperial\"") && text.contains("storage_limit_mb = 2048"));
    assert!(
        text.contains("store_originals = false") && text.contains("time_zone = \"Europe/Rome\"")
    );
    assert!(!text.contains("name ="), "an empty value removes the key: {text}");
    assert!(text.contains("strava_client_secret = \"abc123\""), "an empty secret keeps it");
    assert_eq!(by_key(&ok.json, "dem_url")["value"], "https://elevation.example.org");
    // `units` and `name` are page settings: both members' pages are re-rendered.
    assert_eq!(ok.json["rebuilds_queued"], 2);
    let queued = t.queue_requests();
    assert_eq!(queued.len(), queued_before + 2);
    for h in ["admin", "bob"] {
        assert!(queued.iter().any(|q| q["handle"] == h && q["change"] == "rebuild"), "{h}");
    }
    // The daemon reads the new file (the storage cap it enforces).
    assert_eq!(t.call("GET", "/api/me", Some(&bob), None).await.json["storage_limit_mb"], 2048);
    // A key only the daemon reads queues nothing.
    let r =
        t.call("PUT", "/api/admin/settings", Some(&admin), Some(json!({"max_users": 10}))).await;
    assert_eq!((r.status.as_u16(), r.json["rebuilds_queued"].clone()), (200, json!(0)));
}

/// The upload cap is the instance's `upload_limit_mb` (`bincio-api settings set`), read
/// again when `bincio.toml` changes: a larger body is refused with a message naming the
/// limit, before anything is stored, whether its length is declared or only streamed.
#[tokio::test]
async fn the_upload_limit_is_a_setting_of_the_instance() {
    let t = T::new();
    let bob = t.user("bob").await;
    // A 1.5 MiB GPX (padding after the document) under the default 2 GiB: accepted.
    let mut big = GPX.to_vec();
    big.extend(std::iter::repeat_n(b' ', 1536 * 1024));
    let r = t.multipart("/api/upload", &bob, &[("files", "big.gpx", &big)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let queued = t.queue_requests().len();

    t.set_setting("upload_limit_mb", "1");
    let r = t.multipart("/api/upload", &bob, &[("files", "big.gpx", &big)]).await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    let msg = r.json["message"].as_str().unwrap();
    assert!(msg.contains("1048576 bytes (1 MiB, upload_limit_mb)"), "{msg}");
    assert!(msg.contains("bincio-gen import strava-export"), "{msg}");
    // Streamed without a declared length: refused past the cap all the same.
    let (ct, body) = multipart_body(&[("files", "big.gpx", &big)]);
    let req = hyper::Request::builder()
        .method("POST")
        .uri("/api/upload")
        .header("cookie", &bob)
        .header("content-type", ct)
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .unwrap();
    let r = t.raw(req, "10.0.0.1").await;
    assert_eq!(r.status, 413, "{:?}", r.json);
    // Nothing of the refused uploads was kept or queued.
    assert_eq!(t.queue_requests().len(), queued);
    let staged: Vec<_> = std::fs::read_dir(t.root().join("bob/_uploads"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(staged.is_empty(), "{staged:?}");
    // A small upload still goes through under the small limit.
    let r = t.multipart("/api/upload", &bob, &[("files", "small.gpx", GPX)]).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
}
