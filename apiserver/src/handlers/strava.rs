//! Strava connection: the OAuth flow, status, sync requests, reset and disconnect, and the
//! user's own API application (`strava_credentials.json`).
//!
//! The daemon only stores tokens and queues a `strava_sync` job; the watcher fetches,
//! converts and renders (see `docs/strava.md`). Token and credentials files are written
//! through `bincio_bas::strava` (0600, under the lock the watcher also takes when it
//! refreshes the token). The OAuth `state` is bound to the session that asked for the
//! authorize URL and kept in the database (`db::oauth_states`), so the callback is accepted
//! only with that same session, once, within 15 minutes, even across a daemon restart.

use super::user_handle;
use crate::auth::session;
use crate::db;
use crate::error::ApiError;
use crate::jobs;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use bincio_bas::queue::ChangeKind;
use bincio_bas::strava::{self as bs, StravaCredentials, StravaToken};
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde_json::{Value, json};

/// How long an authorize URL stays usable (seconds).
const STATE_TTL_S: i64 = 15 * 60;

fn secret_err(e: bs::SecretError) -> ApiError {
    ApiError::internal(e)
}

/// The Strava application of a user, if any.
fn creds_of(
    st: &AppState,
    ud: &bincio_bas::layout::UserDir,
) -> Result<Option<StravaCredentials>, ApiError> {
    bs::credentials(&st.config(), ud.path()).map_err(secret_err)
}

/// `{public_url}` or `http(s)://{Host}` of the request.
fn origin(st: &AppState, req: &Req) -> String {
    if let Some(u) = st.public_url() {
        return u;
    }
    let h = req.headers();
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// `GET /api/strava/status`: `{configured, connected, last_sync, athlete, scope, has_user_creds}`.
pub async fn status(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    let creds = creds_of(st, &ud)?;
    let v = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let token: Option<StravaToken> = bs::read_secret(&ud.strava_token()).unwrap_or(None);
        let athlete = token.as_ref().and_then(|t| t.athlete.as_ref()).map(|a| {
            let name = [a.get("firstname"), a.get("lastname")]
                .iter()
                .filter_map(|v| v.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            json!({"id": a.get("id"), "username": a.get("username"), "name": name})
        });
        Ok(json!({
            "configured": creds.is_some(),
            "connected": token.is_some(),
            "last_sync": token.as_ref().and_then(|t| t.last_sync_at),
            "athlete": athlete,
            "scope": token.as_ref().and_then(|t| t.scope.clone()),
        }))
    })
    .await??;
    Ok(reply::ok(&v))
}

/// `GET /api/strava/auth-url`: `{url}` for the browser (400 without a Strava application).
pub async fn auth_url(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let ud = st.root.user(&handle);
    let creds = creds_of(st, &ud)?
        .ok_or_else(|| ApiError::bad("strava", "Strava client ID not configured on this server"))?;
    // `require_user` found a live session, so the request carries its token.
    let session = session::token_hash_from(req.headers()).ok_or(ApiError::Unauthorized)?;
    let state = hex::encode(crate::auth::random_bytes::<16>()?);
    let (state_hash, h) = (crate::auth::sha256_hex(state.as_bytes()), handle.as_str().to_owned());
    st.db
        .call(move |c| {
            db::oauth_states::insert(c, &state_hash, &h, &session, db::now_s(), STATE_TTL_S)
        })
        .await?;
    let redirect = format!("{}/api/strava/callback", origin(st, &req));
    let url = bs::authorize_url(&bs::base_url(), &creds.client_id, &redirect, &state);
    Ok(reply::ok(&json!({ "url": url })))
}

/// A 303 to `location`. The body names it too, as JSON like every API answer (a browser
/// follows the header; a script reading the answer sees where it goes).
fn redirect_to(location: &str) -> Resp {
    let mut r = reply::json(StatusCode::SEE_OTHER, &json!({ "redirect": location }));
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// `GET /api/strava/callback?code&state&scope|error`: Strava's redirect. Always answers
/// with a redirect to `/?strava=connected` or `/?strava=error`.
pub async fn callback(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let base = origin(st, &req);
    let fail = |why: &str| {
        tracing::warn!("Strava connect failed: {why}");
        Ok(redirect_to(&format!("{base}/?strava=error")))
    };
    let query = req.parts.uri.query().unwrap_or("").to_owned();
    let state = query_value(&query, "state").unwrap_or_default();
    // A state is single-use: taken from the database before anything else is checked.
    let state_hash = crate::auth::sha256_hex(state.as_bytes());
    let pending = st.db.call(move |c| db::oauth_states::take(c, &state_hash, db::now_s())).await?;
    if let Some(e) = query_value(&query, "error") {
        return fail(&format!("Strava answered error={e}"));
    }
    let Some((handle, state_session)) = pending else {
        return fail("unknown or expired state");
    };
    let Some(user) = st.current_user(req.headers()).await? else { return fail("no session") };
    if user.handle != handle {
        return fail("the state belongs to another user");
    }
    if session::token_hash_from(req.headers()).as_deref() != Some(state_session.as_str()) {
        return fail("the state belongs to another session");
    }
    let Some(code) = query_value(&query, "code") else { return fail("no code") };
    let scope = query_value(&query, "scope");
    let ud = st.root.user(&user_handle(&user)?);
    let Some(creds) = creds_of(st, &ud)? else { return fail("no Strava application") };
    let result = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let token = bs::exchange_code(&bs::base_url(), &creds, &code, scope.as_deref())
            .map_err(|e| e.to_string())?;
        bs::save_connected(ud.path(), token).map_err(|e| e.to_string())
    })
    .await?;
    match result {
        Ok(()) => Ok(redirect_to(&format!("{base}/?strava=connected"))),
        Err(e) => fail(&e),
    }
}

/// `POST /api/strava/sync`: queue a `strava_sync` job; `{ok, job_id}` (poll `/api/jobs/{job}`).
pub async fn sync(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let ud = st.root.user(&handle);
    if creds_of(st, &ud)?.is_none() {
        return Err(ApiError::bad("strava", "Strava client ID not configured on this server"));
    }
    if !ud.strava_token().is_file() {
        return Err(ApiError::bad("strava", "Not connected to Strava"));
    }
    let job_id = jobs::new_job_id()?;
    let root = st.root.clone();
    let (jid, h) = (job_id.clone(), handle.as_str().to_owned());
    // A sync already queued (or waiting for Strava's daily limit to reset) is the one the
    // dialog follows: a second would only hit the same limit.
    let job_id = tokio::task::spawn_blocking(move || {
        if let Some(pending) = jobs::pending_blocking(&root, &h, ChangeKind::StravaSync)? {
            return Ok::<_, ApiError>(pending);
        }
        jobs::enqueue_blocking(&root, &jid, &h, ChangeKind::StravaSync, vec![], None)?;
        Ok(jid)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true, "job_id": job_id})))
}

#[derive(serde::Deserialize, Default)]
struct ResetBody {
    #[serde(default)]
    mode: Option<String>,
}

/// `POST /api/strava/reset {mode: soft|hard}`: hard forgets `last_sync_at` (the next sync
/// lists everything; known activities are still skipped); soft sets it to the newest
/// activity already here.
pub async fn reset(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    let body: ResetBody = if req.content_length().unwrap_or(0) > 0 {
        req.json(4096).await?
    } else {
        ResetBody::default()
    };
    let hard = body.mode.as_deref() == Some("hard");
    let v = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let newest = if hard {
            None
        } else {
            std::fs::read(ud.index())
                .ok()
                .and_then(|b| serde_json::from_slice::<bincio_bas::UserFeed>(&b).ok())
                .and_then(|f| f.activities.iter().map(|a| a.started_at.0.unix_timestamp()).max())
        };
        let out = bs::update_token(ud.path(), |t| match t {
            None => (None, Err(ApiError::bad("strava", "Not connected to Strava"))),
            Some(mut t) => {
                t.last_sync_at = newest;
                (Some(t), Ok(newest))
            }
        })
        .map_err(secret_err)??;
        Ok(json!({"ok": true, "mode": if hard { "hard" } else { "soft" }, "last_sync_at": out}))
    })
    .await??;
    Ok(reply::ok(&v))
}

/// `DELETE /api/strava`: deauthorize at Strava (best effort) and forget the token.
pub async fn disconnect(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let token = bs::update_token(ud.path(), |t| (None, t)).map_err(secret_err)?;
        if let Some(t) = token
            && let Err(e) = bs::deauthorize(&bs::base_url(), &t.access_token)
        {
            // The token is forgotten anyway; the user can revoke the app on Strava too.
            tracing::warn!("Strava deauthorize failed: {e}");
        }
        Ok(())
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true})))
}

/// `GET /api/me/strava-credentials`: `{has_user_creds, client_id, instance_configured}`;
/// never the secret.
pub async fn credentials_get(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let ud = st.root.user(&user_handle(&user)?);
    let cfg = st.config();
    let instance = cfg.strava_client_id.as_deref().is_some_and(|s| !s.trim().is_empty());
    let own: Option<StravaCredentials> =
        tokio::task::spawn_blocking(move || bs::read_secret(&ud.strava_credentials()))
            .await?
            .map_err(secret_err)?;
    let complete = own.as_ref().is_some_and(StravaCredentials::is_complete);
    Ok(reply::ok(&json!({
        "has_user_creds": complete,
        "client_id": if complete { own.map(|c| c.client_id).unwrap_or_default() } else { String::new() },
        "instance_configured": instance,
    })))
}

#[derive(serde::Deserialize)]
struct CredsBody {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

/// `PUT /api/me/strava-credentials {client_id, client_secret?}` (an omitted secret keeps the
/// stored one).
pub async fn credentials_put(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let ud = st.root.user(&handle);
    let body: CredsBody = req.json(8192).await?;
    let id = body
        .client_id
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("client_id", "client_id is required"))?;
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::bad("client_id", "letters and digits only"));
    }
    let secret = body.client_secret.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if secret.as_ref().is_some_and(|s| s.len() > 256 || s.chars().any(char::is_control)) {
        return Err(ApiError::bad("client_secret", "at most 256 printable characters"));
    }
    let _g = st.writers.lock(handle.as_str()).await;
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let _lock = bs::lock_user(ud.path()).map_err(secret_err)?;
        let old: Option<StravaCredentials> =
            bs::read_secret(&ud.strava_credentials()).map_err(secret_err)?;
        let Some(secret) = secret.or(old.map(|c| c.client_secret).filter(|s| !s.is_empty())) else {
            return Err(ApiError::bad(
                "client_secret",
                "client_secret is required (no existing secret to preserve)",
            ));
        };
        bs::write_secret(
            &ud.strava_credentials(),
            &StravaCredentials { client_id: id, client_secret: secret },
        )
        .map_err(secret_err)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true})))
}

/// `DELETE /api/me/strava-credentials`.
pub async fn credentials_delete(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let ud = st.root.user(&handle);
    let _g = st.writers.lock(handle.as_str()).await;
    tokio::task::spawn_blocking(move || bs::remove_secret(&ud.strava_credentials()))
        .await?
        .map_err(secret_err)?;
    Ok(reply::ok(&json!({"ok": true})))
}
