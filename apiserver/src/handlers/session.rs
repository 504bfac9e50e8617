//! Login, logout, `me`, public stats and the nginx `auth_request` check.

use crate::auth::session;
use crate::db::{self, users::User};
use crate::error::ApiError;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// Issue a session for `user` and answer with its cookie.
pub async fn start_session(
    st: &AppState,
    user: &User,
    body: serde_json::Value,
) -> Result<Resp, ApiError> {
    let (token, hash) = session::new_token()?;
    let handle = user.handle.clone();
    st.db
        .call(move |c| db::sessions::insert(c, &hash, &handle, db::now_s(), session::TTL_S))
        .await?;
    Ok(reply::with_cookie(reply::ok(&body), &session::set_cookie(&token, st.cookie_secure())))
}

/// `GET /api/me`: 404 when logged out, as the pages expect.
pub async fn me(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    // The page calls this on every load: one database round trip; the settings come from
    // the cached configuration.
    let hash = session::token_hash_from(req.headers());
    let found = match hash {
        None => None,
        Some(hash) => {
            st.db
                .call(move |c| {
                    let Some(u) = db::sessions::lookup(c, &hash, db::now_s())? else {
                        return Ok(None);
                    };
                    Ok(Some(u))
                })
                .await?
        }
    };
    let Some(u) = found else {
        return Ok(reply::json(
            StatusCode::NOT_FOUND,
            &json!({"error": "unauthorized", "message": "not authenticated"}),
        ));
    };
    let cfg = st.config();
    Ok(reply::ok(&json!({
        "handle": u.handle,
        "display_name": u.display_name,
        "is_admin": u.is_admin,
        "store_originals_default": cfg.store_originals,
        // The per-user storage limit in MiB (0: unlimited); usage is in /api/me/storage.
        "storage_limit_mb": cfg.storage_limit_mb,
        // Elevation data (dem_dir or dem_url in bincio.toml) is available.
        "dem_configured": cfg.dem_configured(),
    })))
}

/// `GET /api/stats`: members; public only on a public instance.
pub async fn stats(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    if st.instance_private() {
        st.require_user(req.headers()).await?;
    }
    let now = db::now_s();
    let members = st
        .db
        .call(move |c| {
            let users = db::users::list(c)?;
            let mut out = Vec::with_capacity(users.len());
            for u in users {
                let invited_by = db::invites::inviter_of(c, &u.handle)?;
                out.push(json!({
                    "handle": u.handle,
                    "display_name": u.display_name,
                    "member_since": u.created_at,
                    "member_for_days": (now - u.created_at).max(0) / 86_400,
                    "invited_by": invited_by,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(reply::ok(&json!({"user_count": members.len(), "members": members})))
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    password: String,
}

/// `POST /api/auth/login`.
pub async fn login(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let ip = req.client_ip.to_string();
    // The per-IP limit counts failed attempts only. The slot is taken before the password
    // check, so parallel guesses cannot all pass the check, and given back on success: a
    // family behind one address, or one person on many devices, is never locked out.
    st.login_per_ip.hit(&ip).map_err(|retry_after_s| ApiError::RateLimited { retry_after_s })?;
    let body: LoginBody = req.json(st.cfg.limits.json_body_bytes).await?;
    let handle = body.handle.trim().to_lowercase();
    let account_key = format!("acct:{handle}");
    if let Some(retry_after_s) = st.failures_per_account.is_limited(&account_key) {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let h2 = handle.clone();
    let row = st.db.call(move |c| db::users::get_with_hash(c, &h2)).await?;
    let (user, stored) = match row {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = st.hasher.verify(body.password, stored).await?;
    let Some(user) = user.filter(|_| ok) else {
        st.failures_per_account.record(&account_key);
        return Err(ApiError::Credentials("invalid_credentials", "invalid credentials".into()));
    };
    st.failures_per_account.clear(&account_key);
    st.login_per_ip.forgive(&ip);
    let body = json!({"ok": true, "handle": user.handle, "display_name": user.display_name});
    start_session(st, &user, body).await
}

/// `POST /api/auth/logout`: always succeeds, clears the cookie.
pub async fn logout(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    if let Some(hash) = session::token_hash_from(req.headers()) {
        st.db.call(move |c| db::sessions::delete(c, &hash)).await?;
    }
    Ok(reply::with_cookie(
        reply::ok(&json!({"ok": true})),
        &session::clear_cookie(st.cookie_secure()),
    ))
}

/// `GET /api/auth/check`: for nginx `auth_request`. 200 with a live session or on a
/// public instance, 401 otherwise (so flipping `instance.private` needs no nginx change).
pub async fn auth_check(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    if !st.instance_private() || st.current_user(req.headers()).await?.is_some() {
        return Ok(reply::ok(&json!({"ok": true})));
    }
    Err(ApiError::Unauthorized)
}
