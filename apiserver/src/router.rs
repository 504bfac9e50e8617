//! URL → handler. Only this file knows URLs: one table names each route's method, path,
//! handler and access rule; dispatch, access enforcement, `/api/openapi.json` and the tests
//! all read it, so a route cannot exist in one and be missing from another.
//!
//! Path segments are percent-decoded one by one *after* splitting, so `%2F` cannot create
//! a new segment and `%2E%2E` arrives at the handler as `..`, where the handle, activity-ID
//! and file-name rules refuse it. Unsafe methods pass the Origin check before any handler
//! runs; bodies are capped by the handlers from the declared length first.

use crate::error::{ApiError, BoxError};
use crate::handlers::{
    accounts, admin, edits, feedback, invites, photos, session, strava, uploads,
};
use crate::reply::Resp;
use crate::request::{self, Req};
use crate::state::AppState;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use serde_json::{Map, Value, json};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// Who may call a route. The router enforces it before the handler runs: `User` routes
/// answer 401 without a valid session, `Admin` routes 403 for a logged-in non-admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Anyone,
    User,
    Admin,
}

/// A handler: the request in, the response (or an error answered as JSON) out.
pub type Handler = for<'a> fn(
    &'a AppState,
    Req,
) -> Pin<Box<dyn Future<Output = Result<Resp, ApiError>> + Send + 'a>>;

/// One route: the table drives dispatch, access, the OpenAPI document and the tests.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub name: &'static str,
    pub access: Access,
    pub summary: &'static str,
    pub handler: Handler,
}

macro_rules! routes {
    ($($m:ident $p:literal => $n:ident: $h:path, $a:ident, $s:literal;)*) => {
        /// Every route of the API.
        pub fn routes() -> &'static [Route] {
            static R: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
            R.get_or_init(|| vec![$(Route {
                method: Method::$m,
                path: $p,
                name: stringify!($n),
                access: Access::$a,
                summary: $s,
                handler: |st, req| Box::pin($h(st, req)),
            }),*])
        }
    };
}

routes! {
    GET "/api/me" => me: session::me, Anyone, "The logged-in user (404 when logged out)";
    GET "/api/stats" => stats: session::stats, Anyone, "Members of the instance (login required on a private instance)";
    GET "/api/auth/check" => auth_check: session::auth_check, Anyone, "nginx auth_request: 200 with a session or on a public instance, else 401";
    POST "/api/auth/login" => login: session::login, Anyone, "Log in with {handle, password}; sets the bincio_session cookie";
    POST "/api/auth/logout" => logout: session::logout, Anyone, "Log out and clear the cookie";
    POST "/api/auth/reset-password" => reset_password: accounts::reset_password, Anyone, "Set a new password with {handle, code, password}; revokes all sessions";
    POST "/api/register" => register: accounts::register, Anyone, "Create an account with {code, handle, password, display_name}";
    GET "/api/invites" => invites_list: invites::list, User, "The caller's invites";
    POST "/api/invites" => invites_create: invites::create, User, "Create an invite";
    GET "/api/activity/{id}" => activity_get: edits::get, User, "An activity with its edit form fields";
    POST "/api/activity/{id}" => activity_post: edits::post, User, "Edit {title, sport, gear, description, highlight, private, hide_stats}";
    DELETE "/api/activity/{id}" => activity_delete: edits::delete, User, "Delete an activity and the stored original(s) it came from";
    POST "/api/activity/{id}/recalculate-elevation/{method}" => activity_elevation: edits::recalculate_elevation, User, "Recalculate the elevation: method dem (terrain model), smoothing (alias hysteresis) or restore (the device's altitude); queues a job";
    GET "/api/activity/{id}/images" => images_list: photos::list, User, "Photo file names of an activity";
    POST "/api/activity/{id}/images" => images_add: photos::add, User, "Add a photo (multipart field file)";
    DELETE "/api/activity/{id}/images/{filename}" => images_delete: photos::delete, User, "Remove a photo";
    GET "/api/athlete" => athlete_get: edits::athlete_get, User, "The athlete profile with the user's edits";
    POST "/api/athlete" => athlete_post: edits::athlete_post, User, "Edit {max_hr, ftp_w, hr_zones, power_zones, seasons, gear}";
    POST "/api/upload" => upload: uploads::upload, User, "Upload activity files, .gz, activities.csv or a Strava export ZIP (multipart files)";
    POST "/api/upload/strava-zip" => upload_zip: uploads::upload, User, "Upload a Strava bulk export ZIP (multipart file)";
    GET "/api/jobs/{job}" => job: uploads::job, User, "Progress of an upload or edit job";
    POST "/api/feedback" => feedback: feedback::post, User, "Send feedback (multipart text, images)";
    GET "/api/me/storage" => storage: accounts::storage, User, "Disk used by the caller";
    DELETE "/api/me/originals" => delete_originals: accounts::delete_originals, User, "Delete the caller's stored originals";
    DELETE "/api/me/activities" => delete_activities: accounts::delete_activities, User, "Delete all the caller's data ({password})";
    DELETE "/api/me" => delete_account: accounts::delete_account, User, "Delete the caller's account ({password})";
    PUT "/api/me/display-name" => display_name: accounts::display_name, User, "Change the display name";
    GET "/api/me/prefs" => prefs_get: accounts::prefs_get, User, "The caller's preferences";
    PUT "/api/me/prefs" => prefs_put: accounts::prefs_put, User, "Set preferences (flat object)";
    PUT "/api/me/password" => password: accounts::change_password, User, "Change password ({current_password, new_password}); revokes other sessions";
    GET "/api/me/strava-credentials" => strava_creds_get: strava::credentials_get, User, "The caller's own Strava application ({has_user_creds, client_id, instance_configured}); never the secret";
    PUT "/api/me/strava-credentials" => strava_creds_put: strava::credentials_put, User, "Set the caller's Strava application ({client_id, client_secret?})";
    DELETE "/api/me/strava-credentials" => strava_creds_delete: strava::credentials_delete, User, "Forget the caller's Strava application";
    GET "/api/strava/status" => strava_status: strava::status, User, "Strava connection: {configured, connected, last_sync, athlete, scope}";
    GET "/api/strava/auth-url" => strava_auth_url: strava::auth_url, User, "The Strava authorize URL ({url}), with a state bound to the session";
    GET "/api/strava/callback" => strava_callback: strava::callback, Anyone, "Strava's OAuth redirect; answers 303 to /?strava=connected|error";
    POST "/api/strava/sync" => strava_sync: strava::sync, User, "Queue a Strava sync ({ok, job_id}; progress at /api/jobs/{job})";
    POST "/api/strava/reset" => strava_reset: strava::reset, User, "Reset the sync cursor ({mode: soft|hard})";
    DELETE "/api/strava" => strava_disconnect: strava::disconnect, User, "Disconnect Strava: deauthorize and forget the token";
    GET "/api/admin/users" => admin_users: admin::users, Admin, "All accounts";
    GET "/api/admin/jobs" => admin_jobs: admin::jobs, Admin, "Queued and running jobs";
    GET "/api/admin/disk" => admin_disk: admin::disk, Admin, "Disk usage per user folder";
    GET "/api/admin/settings" => admin_settings_get: admin::settings_get, Admin, "The instance configuration (bincio.toml): every key with its value, default and help; the Strava secret only as set or not";
    PUT "/api/admin/settings" => admin_settings_put: admin::settings_put, Admin, "Set configuration keys from {key: value} (empty removes the key); re-renders the site when a key the pages use changed";
    POST "/api/admin/users/{handle}/reset-password-code" => admin_reset_code: admin::reset_code, Admin, "Issue a 24 h reset code";
    POST "/api/admin/users/{handle}/rebuild" => admin_rebuild: admin::rebuild, Admin, "Queue a re-render of the user";
    GET "/api/admin/users/{handle}/diag" => admin_diag: admin::diag, Admin, "Diagnostics of a user folder";
    DELETE "/api/admin/users/{handle}/activities" => admin_wipe: admin::wipe, Admin, "Wipe a user's data";
    DELETE "/api/admin/users/{handle}/directory" => admin_delete_ghost: admin::delete_ghost, Admin, "Remove a folder that has no account";
    GET "/api/openapi.json" => openapi: openapi_document, Anyone, "This document";
}

/// `GET /api/openapi.json`.
async fn openapi_document(_: &AppState, _: Req) -> Result<Resp, ApiError> {
    Ok(crate::reply::ok(&openapi_document_json()))
}

/// The OpenAPI 3.1 document of `/api/openapi.json`, generated from [`routes`], so it cannot
/// drift from the routes that exist.
pub fn openapi_document_json() -> Value {
    let mut paths = Map::new();
    for r in routes() {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "operationId": r.name,
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "Success"},
                "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if r.access != Access::Anyone {
            op["security"] = json!([{"session": []}]);
            op["x-access"] = json!(if r.access == Access::Admin { "admin" } else { "user" });
        }
        if let Some(o) = entry.as_object_mut() {
            o.insert(r.method.as_str().to_ascii_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Bincio API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::session::COOKIE_NAME}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
        },
    })
}

/// Match `path` against a pattern; returns the raw (still encoded) parameters.
fn match_path<'a>(pattern: &str, segs: &[&'a str]) -> Option<Vec<&'a str>> {
    let pat: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    if pat.len() != segs.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pat.iter().zip(segs) {
        if p.starts_with('{') {
            params.push(*s);
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

/// Find the route, decode its parameters and run the Origin check (no I/O).
fn resolve(
    method: &Method,
    path: &str,
    headers: &hyper::HeaderMap,
    public_url: Option<&str>,
) -> Result<(&'static Route, Vec<String>), ApiError> {
    let rest = path.strip_prefix("/api/").ok_or(ApiError::NotFound("route"))?;
    let segs: Vec<&str> =
        std::iter::once("api").chain(rest.trim_end_matches('/').split('/')).collect();
    let mut path_matched = false;
    let mut found = None;
    for r in routes() {
        if let Some(params) = match_path(r.path, &segs) {
            path_matched = true;
            if r.method == *method || (*method == Method::HEAD && r.method == Method::GET) {
                found = Some((r, params));
                break;
            }
        }
    }
    let Some((route, raw_params)) = found else {
        return Err(if path_matched {
            ApiError::MethodNotAllowed
        } else {
            ApiError::NotFound("route")
        });
    };
    let mut params = Vec::with_capacity(raw_params.len());
    for p in raw_params {
        let decoded = percent_encoding::percent_decode_str(p)
            .decode_utf8()
            .map_err(|_| ApiError::InvalidPath("path parameter"))?;
        params.push(decoded.into_owned());
    }
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !request::origin_allowed(headers, public_url) {
        return Err(ApiError::CrossOrigin);
    }
    Ok((route, params))
}

/// The access rule of `route`, checked once here for every handler.
async fn enforce(st: &AppState, route: &Route, headers: &hyper::HeaderMap) -> Result<(), ApiError> {
    match route.access {
        Access::Anyone => Ok(()),
        Access::User => st.require_user(headers).await.map(drop),
        Access::Admin => st.require_admin(headers).await.map(drop),
    }
}

/// Route and run one request. Never fails: errors become JSON responses.
pub async fn handle<B>(st: Arc<AppState>, req: Request<B>, peer: SocketAddr) -> Resp
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let (parts, body) = req.into_parts();
    let body = body.map_err(Into::into).boxed_unsync();
    let client_ip = request::client_ip(&parts.headers, peer, st.cfg.trust_loopback_proxy);
    let path = parts.uri.path().to_owned();
    let (route_name, result) =
        match resolve(&method, &path, &parts.headers, st.public_url().as_deref()) {
            Ok((route, params)) => match enforce(&st, route, &parts.headers).await {
                Ok(()) => {
                    (route.name, (route.handler)(&st, Req { parts, body, client_ip, params }).await)
                }
                Err(e) => (route.name, Err(e)),
            },
            Err(e) => ("-", Err(e)),
        };
    let mut resp = result.unwrap_or_else(ApiError::into_response);
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    tracing::info!(
        method = %method, route = route_name, status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0, client = %client_ip, "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in routes() {
            assert!(seen.insert((r.method.clone(), r.path)), "duplicate {} {}", r.method, r.path);
            assert!(r.path.starts_with("/api/"), "{}", r.path);
            assert!(!r.summary.is_empty(), "{} has no summary", r.name);
        }
        assert_eq!(match_path("/api/activity/{id}", &["api", "activity", "x"]), Some(vec!["x"]));
        assert_eq!(match_path("/api/activity/{id}", &["api", "activity", "x", "images"]), None);
    }

    #[test]
    fn every_route_resolves_to_itself() {
        // A concrete path per route (placeholders filled) resolves to that very route.
        let headers = hyper::HeaderMap::new();
        for r in routes() {
            let path = r.path.replace("{id}", "2024-01-01T000000Z").replace("{handle}", "dave");
            let path = path.replace("{filename}", "a.jpg").replace("{job}", "job1");
            let safe = matches!(r.method, Method::GET | Method::HEAD);
            let mut h = headers.clone();
            if !safe {
                h.insert(header::HOST, HeaderValue::from_static("example.org"));
                h.insert(header::ORIGIN, HeaderValue::from_static("http://example.org"));
            }
            let (found, _) = resolve(&r.method, &path, &h, None)
                .unwrap_or_else(|e| panic!("{} {path}: {e}", r.method));
            assert_eq!(found.name, r.name, "{} {path}", r.method);
        }
    }
}
