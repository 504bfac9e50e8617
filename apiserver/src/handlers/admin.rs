//! Admin endpoints. Every `{handle}` is validated with the handle rule before it becomes a
//! path, and must name an account (or, for the ghost-folder delete, an existing folder
//! that has no account).

use super::{dir_usage, mib, path_handle};
use crate::auth::{random_code, sha256_hex};
use crate::db;
use crate::error::ApiError;
use crate::jobs;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use bincio_bas::config::{self, InstanceConfig, Kind};
use bincio_bas::queue::ChangeKind;
use bincio_bas::{Handle, InstanceRoot};
use serde_json::json;

/// Reset codes live 24 h.
pub const RESET_TTL_S: i64 = 86_400;

async fn existing_user(st: &AppState, handle: &Handle) -> Result<db::users::User, ApiError> {
    let h = handle.to_string();
    st.db.call(move |c| db::users::get(c, &h)).await?.ok_or(ApiError::NotFound("user"))
}

/// `GET /api/admin/users`.
pub async fn users(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.require_admin(req.headers()).await?;
    let v = st.db.call(|c| db::users::list(c)).await?;
    Ok(reply::ok(&v))
}

/// `GET /api/admin/jobs`: queued and running jobs.
pub async fn jobs(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.require_admin(req.headers()).await?;
    let root = st.root.clone();
    let v = tokio::task::spawn_blocking(move || jobs::active_jobs_blocking(&root)).await??;
    Ok(reply::ok(&v))
}

/// `GET /api/admin/disk`: file-system totals and per-folder usage (ghost folders flagged).
pub async fn disk(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.require_admin(req.headers()).await?;
    let known: Vec<String> =
        st.db.call(|c| Ok(db::users::list(c)?.into_iter().map(|u| u.handle).collect())).await?;
    let root = st.root.clone();
    let v = tokio::task::spawn_blocking(move || {
        let fs = rustix::fs::statvfs(root.path()).map_err(|e| ApiError::internal(std::io::Error::from(e)))?;
        let gb = |blocks: u64| (blocks as f64 * fs.f_frsize as f64 / 1e9 * 10.0).round() / 10.0;
        let total = gb(fs.f_blocks);
        let free = gb(fs.f_bavail);
        let used = ((total - gb(fs.f_bfree)) * 10.0).round() / 10.0;
        let mut users = Vec::new();
        let mut names: Vec<String> = std::fs::read_dir(root.path())?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| !n.starts_with('_') && !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            let Ok(h) = Handle::new(&n) else { continue };
            let ud = root.user(&h);
            let (t, _) = dir_usage(ud.path());
            let (a, _) = dir_usage(&ud.activities_dir());
            // Activities, not files: one activity has a detail, a track and a timeseries.
            let an = ud.activity_count();
            let (m, _) = dir_usage(&ud.merged_dir());
            let (o, _) = dir_usage(&ud.originals_dir());
            let (i, _) = dir_usage(&ud.edits_dir().join("images"));
            users.push(json!({
                "handle": n, "in_db": known.contains(&n), "total_mb": mib(t), "activities_mb": mib(a),
                "activities_count": an, "merged_mb": mib(m), "originals_mb": mib(o), "images_mb": mib(i),
            }));
        }
        let percent = if total > 0.0 { (used / total * 1000.0).round() / 10.0 } else { 0.0 };
        Ok::<_, ApiError>(json!({"disk": {"total_gb": total, "used_gb": used, "free_gb": free, "percent": percent}, "users": users}))
    })
    .await??;
    Ok(reply::ok(&v))
}

/// Issue a reset code for `handle` by `by`; returns the code (shown once, stored hashed).
pub fn issue_reset_code_blocking(
    c: &mut rusqlite::Connection,
    handle: &str,
    by: &str,
) -> Result<String, ApiError> {
    if db::users::get(c, handle)?.is_none() {
        return Err(ApiError::NotFound("user"));
    }
    let code = random_code(10)?;
    db::invites::insert_reset(
        c,
        &sha256_hex(code.as_bytes()),
        handle,
        by,
        db::now_s(),
        RESET_TTL_S,
    )?;
    Ok(code)
}

/// `POST /api/admin/users/{handle}/reset-password-code`.
pub async fn reset_code(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let handle = path_handle(&req.params[0])?;
    let admin = st.require_admin(req.headers()).await?;
    let h = handle.to_string();
    let code = st.db.call(move |c| issue_reset_code_blocking(c, &h, &admin.handle)).await?;
    Ok(reply::ok(&json!({"ok": true, "code": code, "expires_in_hours": RESET_TTL_S / 3600})))
}

/// `POST /api/admin/users/{handle}/rebuild`: queue a full re-render of the user.
pub async fn rebuild(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let handle = path_handle(&req.params[0])?;
    st.require_admin(req.headers()).await?;
    existing_user(st, &handle).await?;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Rebuild, vec![], None)
    })
    .await??;
    Ok(reply::json(hyper::StatusCode::ACCEPTED, &json!({"ok": true, "job_id": job_id})))
}

/// `GET /api/admin/users/{handle}/diag`: a snapshot of the user's folder (no absolute paths).
pub async fn diag(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let handle = path_handle(&req.params[0])?;
    st.require_admin(req.headers()).await?;
    let in_db = existing_user(st, &handle).await.is_ok();
    let root = st.root.clone();
    let v = tokio::task::spawn_blocking(move || {
        let ud = root.user(&handle);
        if !ud.path().is_dir() {
            return Err(ApiError::NotFound("user folder"));
        }
        let count = |dir: &std::path::Path, suffix: &str| {
            std::fs::read_dir(dir)
                .map(|rd| rd.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(suffix)).count())
                .unwrap_or(0)
        };
        let (a_bytes, _) = dir_usage(&ud.activities_dir());
        let (o_bytes, o_n) = dir_usage(&ud.originals_dir());
        let (m_bytes, _) = dir_usage(&ud.merged_dir());
        let (u_bytes, u_n) = dir_usage(&ud.uploads_dir());
        let index_count = std::fs::read(ud.index())
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("activities").and_then(|a| a.as_array()).map(Vec::len));
        Ok(json!({
            "handle": handle.as_str(),
            "in_db": in_db,
            "activities": {"json_files": count(&ud.activities_dir(), ".json") - count(&ud.activities_dir(), ".timeseries.json"),
                           "geojson_files": count(&ud.activities_dir(), ".geojson"), "size_mb": mib(a_bytes)},
            "originals": {"exists": ud.originals_dir().is_dir(), "files": o_n, "size_mb": mib(o_bytes)},
            "merged": {"exists": ud.merged_dir().is_dir(), "size_mb": mib(m_bytes)},
            "uploads": {"files": u_n, "size_mb": mib(u_bytes)},
            "index_activity_count": index_count,
            "sidecars": count(&ud.edits_dir(), ".md"),
            "athlete_json_exists": ud.athlete().is_file(),
            "errors_json_exists": ud.errors().is_file(),
        }))
    })
    .await??;
    Ok(reply::ok(&v))
}

/// `DELETE /api/admin/users/{handle}/activities`: wipe a user's data (account kept).
pub async fn wipe(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let handle = path_handle(&req.params[0])?;
    st.require_admin(req.headers()).await?;
    let user = existing_user(st, &handle).await?;
    let deleted = super::accounts::wipe_and_queue(st, &handle, &user.display_name).await?;
    Ok(reply::ok(&json!({"ok": true, "deleted": deleted})))
}

/// `DELETE /api/admin/users/{handle}/directory`: remove a ghost folder (no account), and
/// queue the rebuild that unpublishes whatever pages it had, as deleting an account does.
pub async fn delete_ghost(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let handle = path_handle(&req.params[0])?;
    st.require_admin(req.headers()).await?;
    if existing_user(st, &handle).await.is_ok() {
        return Err(ApiError::Conflict(
            "user is still in the database; delete the account instead".into(),
        ));
    }
    let _g = st.writers.lock(handle.as_str()).await;
    let _rg = st.writers.lock("").await;
    let root = st.root.clone();
    tokio::task::spawn_blocking(move || {
        let dir = root.user_dir(&handle);
        if !dir.is_dir() {
            return Err(ApiError::NotFound("user folder"));
        }
        super::remove_tree(&dir)?;
        crate::instance::update_root_manifest(&root, None, Some(handle.as_str()), None)?;
        let job_id = jobs::new_job_id()?;
        jobs::enqueue_blocking(&root, &job_id, handle.as_str(), ChangeKind::Rebuild, vec![], None)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true})))
}

/// The instance configuration as the admin page shows it: every key of
/// `bincio_bas::config::KEYS` in order, with its value (`null` when unset; the Strava secret
/// never leaves the server, only whether it is set), its default, whether `bincio.toml` sets
/// it, its type and its help text. Read from the file itself, so the page shows what is
/// written, not the daemon's cached copy.
fn settings_json(root: &InstanceRoot) -> Result<serde_json::Value, ApiError> {
    let path = root.config_file();
    let cfg = InstanceConfig::load(&path).map_err(|e| ApiError::Conflict(e.to_string()))?;
    let set = config::keys_in_file(&path).map_err(|e| ApiError::Conflict(e.to_string()))?;
    let keys: Vec<serde_json::Value> = config::KEYS
        .iter()
        .map(|k| {
            let secret = config::SECRET_KEYS.contains(&k.key);
            let is_set = set.contains(k.key);
            let value = if secret || !is_set { None } else { cfg.get(k.key) };
            json!({
                "key": k.key,
                "kind": match k.kind { Kind::Text => "text", Kind::Number => "number", Kind::Bool => "bool" },
                "value": value,
                "set": is_set,
                "secret": secret,
                "default": k.default,
                "read_by": k.read_by,
                "help": k.help,
            })
        })
        .collect();
    Ok(json!({ "settings": keys }))
}

/// `GET /api/admin/settings`: the instance configuration (`bincio.toml`).
pub async fn settings_get(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.require_admin(req.headers()).await?;
    let root = st.root.clone();
    let v = tokio::task::spawn_blocking(move || settings_json(&root)).await??;
    Ok(reply::ok(&v))
}

/// `PUT /api/admin/settings`: set keys of `bincio.toml` from `{key: value}` (strings as the
/// command line takes them, or JSON booleans and numbers; an empty string removes the key,
/// which brings back its default, except the Strava secret, which an empty field leaves as
/// it is). Every value is validated before anything is written, by the same code as
/// `bincio-api settings set`, and the file is edited in place under its lock. When a key
/// the generator reads changed, every member's pages are queued for a re-render so the
/// site shows it. Answers the new settings and the number of jobs queued.
pub async fn settings_put(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.require_admin(req.headers()).await?;
    let v: serde_json::Value = req.json(st.cfg.limits.json_body_bytes).await?;
    let obj = v.as_object().ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?;
    let path = st.root.config_file();
    let mut edits: Vec<(&'static str, Option<toml::Value>)> = Vec::new();
    for (key, value) in obj {
        let info = config::key_info(key)
            .ok_or_else(|| ApiError::bad("settings", format!("unknown key {key:?}")))?;
        let raw = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => value.to_string(),
            serde_json::Value::Null => String::new(),
            _ => {
                return Err(ApiError::bad(
                    "settings",
                    format!("{key}: must be a string, number or boolean"),
                ));
            }
        };
        if config::SECRET_KEYS.contains(&info.key) && raw.trim().is_empty() {
            continue;
        }
        let parsed = config::value_from_cli(&path, info.key, &raw).map_err(|e| match e {
            // The message names the key; the file's path stays on the server.
            config::ConfigError::Invalid { key, reason, .. } => {
                ApiError::bad("settings", format!("{key}: {reason}"))
            }
            other => ApiError::bad("settings", other.to_string()),
        })?;
        edits.push((info.key, parsed));
    }
    let root = st.root.clone();
    let handles: Vec<String> =
        st.db.call(|c| Ok(db::users::list(c)?.into_iter().map(|u| u.handle).collect())).await?;
    let (v, queued) = tokio::task::spawn_blocking(move || {
        let before = InstanceConfig::load(&root.config_file())
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
        let after = config::update(&root.config_file(), &edits)
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
        // Keys the pages are rendered with: a change re-renders every member's pages.
        let site_keys = ["name", "private", "units", "tile_url"];
        let changed = site_keys.iter().any(|k| before.get(k) != after.get(k));
        let mut queued = 0;
        if changed {
            for h in handles {
                let job_id = jobs::new_job_id()?;
                jobs::enqueue_blocking(&root, &job_id, &h, ChangeKind::Rebuild, vec![], None)?;
                queued += 1;
            }
        }
        Ok::<_, ApiError>((settings_json(&root)?, queued))
    })
    .await??;
    let mut v = v;
    v["rebuilds_queued"] = json!(queued);
    Ok(reply::ok(&v))
}
