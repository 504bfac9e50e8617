//! Registration with an invite, password reset, and the account settings of a logged-in
//! user (display name, password, preferences, storage, deletions).

use super::{clean_text, dir_usage, mib, remove_tree, user_handle};
use crate::auth::{password, session, sha256_hex};
use crate::db::{self, users::User};
use crate::error::ApiError;
use crate::instance;
use crate::jobs;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use bincio_bas::Handle;
use bincio_bas::queue::ChangeKind;
use rusqlite::TransactionBehavior;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Longest display name.
pub const MAX_DISPLAY_NAME: usize = 60;

#[derive(Deserialize)]
struct RegisterBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
}

/// `POST /api/register`.
pub async fn register(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.register_per_ip
        .hit(&req.client_ip.to_string())
        .map_err(|retry_after_s| ApiError::RateLimited { retry_after_s })?;
    let b: RegisterBody = req.json(st.cfg.limits.json_body_bytes).await?;
    let code = b.code.trim().to_uppercase();
    let handle = Handle::new_account(&b.handle.trim().to_lowercase())
        .map_err(|e| ApiError::bad("handle", e.to_string()))?;
    password::check_new("password", &b.password)?;
    let display = clean_text("display_name", &b.display_name, MAX_DISPLAY_NAME, false)?;
    let display = if display.is_empty() { handle.to_string() } else { display };
    // Check the invite before revealing whether a handle exists.
    let c2 = code.clone();
    let invite_ok = st
        .db
        .call(move |c| {
            Ok(c.query_row("SELECT used_at IS NULL FROM invites WHERE code = ?1", [c2], |r| {
                r.get::<_, bool>(0)
            })
            .unwrap_or(false))
        })
        .await?;
    if !invite_ok {
        return Err(ApiError::bad("code", "invalid or already-used invite code"));
    }
    let hash = st.hasher.hash(b.password).await?;
    let (h, d) = (handle.to_string(), display.clone());
    let max = st.config().max_users;
    let user = st
        .db
        .call(move |c| {
            // One IMMEDIATE transaction: the user limit, the insert and the invite claim
            // succeed or fail together, so two registrations cannot both take the last
            // place or the same invite.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if max > 0 && db::users::count(&tx)? >= i64::from(max) {
                return Err(ApiError::Forbidden(format!(
                    "this instance has reached its user limit ({max})"
                )));
            }
            let now = db::now_s();
            let user = db::users::insert(&tx, &h, &d, &hash, false, now)?;
            if !db::invites::claim(&tx, &code, &h, now)? {
                return Err(ApiError::bad("code", "invalid or already-used invite code"));
            }
            tx.commit()?;
            Ok(user)
        })
        .await?;
    let root = st.root.clone();
    let _g = st.writers.lock("").await;
    let hh = handle.clone();
    let job_id = jobs::new_job_id()?;
    tokio::task::spawn_blocking(move || {
        instance::create_user_dirs(&root, &hh, &display)?;
        instance::update_root_manifest(&root, Some(&hh), None, None)?;
        jobs::enqueue_blocking(&root, &job_id, hh.as_str(), ChangeKind::Rebuild, vec![], None)
    })
    .await??;
    drop(_g);
    super::session::start_session(st, &user, json!({"ok": true, "handle": user.handle})).await
}

#[derive(Deserialize)]
struct ResetBody {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// `POST /api/auth/reset-password`: a single-use, 24 h code; revokes every session.
pub async fn reset_password(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    st.reset_per_ip
        .hit(&req.client_ip.to_string())
        .map_err(|retry_after_s| ApiError::RateLimited { retry_after_s })?;
    let b: ResetBody = req.json(st.cfg.limits.json_body_bytes).await?;
    password::check_new("password", &b.password)?;
    let handle = b.handle.trim().to_lowercase();
    let code_hash = sha256_hex(b.code.trim().to_uppercase().as_bytes());
    let hash = st.hasher.hash(b.password).await?;
    st.db
        .call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !db::invites::consume_reset(&tx, &code_hash, &handle, db::now_s())? {
                return Err(ApiError::bad("code", "invalid or expired reset code"));
            }
            tx.execute("UPDATE users SET password_hash = ?2 WHERE handle = ?1", [&handle, &hash])?;
            tx.execute("DELETE FROM sessions WHERE handle = ?1", [&handle])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(reply::ok(&json!({"ok": true})))
}

/// Check the caller's password for a sensitive action, with the per-account failure limit.
async fn confirm_password(st: &AppState, user: &User, password: String) -> Result<(), ApiError> {
    let key = format!("acct:{}", user.handle);
    if let Some(retry_after_s) = st.failures_per_account.is_limited(&key) {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let h = user.handle.clone();
    let stored =
        st.db.call(move |c| Ok(db::users::get_with_hash(c, &h)?.map(|(_, hash)| hash))).await?;
    if !st.hasher.verify(password, stored).await? {
        st.failures_per_account.record(&key);
        return Err(ApiError::Credentials("wrong_password", "wrong password".into()));
    }
    Ok(())
}

#[derive(Deserialize)]
struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `PUT /api/me/password`: revokes every session, then issues a new one for this browser.
pub async fn change_password(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let b: PasswordChange = req.json(st.cfg.limits.json_body_bytes).await?;
    confirm_password(st, &user, b.current_password).await?;
    password::check_new("new_password", &b.new_password)?;
    let hash = st.hasher.hash(b.new_password).await?;
    let h = user.handle.clone();
    st.db.call(move |c| db::users::set_password(c, &h, &hash)).await?;
    super::session::start_session(st, &user, json!({"ok": true})).await
}

#[derive(Deserialize)]
struct DisplayName {
    #[serde(default)]
    display_name: String,
}

/// `PUT /api/me/display-name`: the database, then the profile the generator reads, then a
/// rebuild of the user so the name reaches their pages, the feeds and the community page.
pub async fn display_name(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let b: DisplayName = req.json(st.cfg.limits.json_body_bytes).await?;
    let name = clean_text("display_name", &b.display_name, MAX_DISPLAY_NAME, false)?;
    let name = if name.is_empty() { user.handle.clone() } else { name };
    let (h, n) = (user.handle.clone(), name.clone());
    st.db.call(move |c| db::users::set_display_name(c, &h, &n)).await?;
    let handle = user_handle(&user)?;
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, n) = (st.root.clone(), name.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        instance::write_profile(&root, &handle, &n)?;
        jobs::enqueue_blocking(&root, &jid, handle.as_str(), ChangeKind::Rebuild, vec![], None)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true, "display_name": name, "job_id": job_id})))
}

/// `GET /api/me/prefs`.
pub async fn prefs_get(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let p = st.db.call(move |c| db::settings::prefs(c, &user.handle)).await?;
    Ok(reply::ok(&p))
}

/// `PUT /api/me/prefs`: a flat object; booleans and numbers are stored as their JSON text
/// (`true`, not Python's `True`).
pub async fn prefs_put(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let v: serde_json::Value = req.json(st.cfg.limits.json_body_bytes).await?;
    let obj = v.as_object().ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?;
    let mut values = BTreeMap::new();
    for (k, v) in obj {
        if k.is_empty()
            || k.len() > 40
            || !k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ApiError::bad("prefs", format!("invalid key {k:?}")));
        }
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => v.to_string(),
            _ => {
                return Err(ApiError::bad(
                    "prefs",
                    format!("{k}: value must be a string, number or boolean"),
                ));
            }
        };
        if s.chars().count() > 200 {
            return Err(ApiError::bad("prefs", format!("{k}: at most 200 characters")));
        }
        values.insert(k.clone(), s);
    }
    st.db.call(move |c| db::settings::set_prefs(c, &user.handle, &values, 50)).await?;
    Ok(reply::ok(&json!({"ok": true})))
}

/// `GET /api/me/storage`.
pub async fn storage(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    let limit_mb = crate::quota::Quota::load(st).await?.limit_mb;
    let v = tokio::task::spawn_blocking(move || {
        let (total, _) = dir_usage(ud.path());
        let (act, _) = dir_usage(&ud.activities_dir());
        // Activities, not files: one activity has a detail, a track and a timeseries.
        let act_n = ud.activity_count();
        let (orig, orig_n) = dir_usage(&ud.originals_dir());
        let (img, img_n) = dir_usage(&ud.edits_dir().join("images"));
        json!({
            "total_mb": mib(total),
            "limit_mb": limit_mb,
            "activities_mb": mib(act),
            "activities_count": act_n,
            "originals_mb": mib(orig),
            "originals_count": orig_n,
            "images_mb": mib(img),
            "images_count": img_n,
        })
    })
    .await?;
    Ok(reply::ok(&v))
}

/// `DELETE /api/me/originals`.
pub async fn delete_originals(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let _g = st.writers.lock(handle.as_str()).await;
    let dir = st.root.user(&handle).originals_dir();
    let freed = tokio::task::spawn_blocking(move || {
        let (bytes, _) = dir_usage(&dir);
        remove_tree(&dir).map(|()| bytes)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true, "freed_mb": mib(freed)})))
}

#[derive(Deserialize)]
struct PasswordOnly {
    #[serde(default)]
    password: String,
}

/// `DELETE /api/me/activities` (password confirmed): wipe the data, queue a rebuild.
pub async fn delete_activities(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let b: PasswordOnly = req.json(st.cfg.limits.json_body_bytes).await?;
    confirm_password(st, &user, b.password).await?;
    let handle = user_handle(&user)?;
    let deleted = wipe_and_queue(st, &handle, &user.display_name).await?;
    Ok(reply::ok(&json!({"ok": true, "deleted": deleted})))
}

/// Wipe a user's data under their lock, re-create the empty feed, queue a rebuild.
pub async fn wipe_and_queue(
    st: &AppState,
    handle: &Handle,
    display: &str,
) -> Result<u64, ApiError> {
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h, d) = (st.root.clone(), handle.clone(), display.to_owned());
    let job_id = jobs::new_job_id()?;
    tokio::task::spawn_blocking(move || {
        let n = instance::wipe_user_data(&root, &h)?;
        instance::create_user_dirs(&root, &h, &d)?;
        jobs::enqueue_blocking(&root, &job_id, h.as_str(), ChangeKind::Rebuild, vec![], None)?;
        Ok::<_, ApiError>(n)
    })
    .await?
}

/// `DELETE /api/me` (password confirmed): the account, its folder and its feedback go.
pub async fn delete_account(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let b: PasswordOnly = req.json(st.cfg.limits.json_body_bytes).await?;
    confirm_password(st, &user, b.password).await?;
    let handle = user_handle(&user)?;
    delete_user_everywhere(st, &handle).await?;
    Ok(reply::with_cookie(
        reply::ok(&json!({"ok": true})),
        &session::clear_cookie(st.cookie_secure()),
    ))
}

/// Remove the DB row (sessions cascade), the user folder and feedback, and the shard.
pub async fn delete_user_everywhere(st: &AppState, handle: &Handle) -> Result<(), ApiError> {
    let h = handle.to_string();
    st.db.call(move |c| db::users::delete(c, &h)).await?;
    let _g = st.writers.lock(handle.as_str()).await;
    let _root_g = st.writers.lock("").await;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    tokio::task::spawn_blocking(move || {
        remove_tree(&root.user_dir(&h))?;
        remove_tree(&root.feedback_dir().join(h.as_str()))?;
        instance::update_root_manifest(&root, None, Some(h.as_str()), None)?;
        jobs::enqueue_blocking(&root, &job_id, h.as_str(), ChangeKind::Rebuild, vec![], None)
    })
    .await?
}
