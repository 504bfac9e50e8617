//! URL → handler. Only this file knows URLs; the same table feeds `/api/openapi.json`.
//!
//! Path segments are percent-decoded one by one *after* splitting, so `%2F` cannot create
//! a new segment and `%2E%2E` arrives at the handler as `..`, where the handle, activity-ID
//! and file-name rules refuse it. Unsafe methods pass the Origin check before any handler
//! runs; bodies are capped by the handlers from the declared length first.

use crate::error::{ApiError, BoxError};
use crate::handlers::{accounts, admin, edits, feedback, invites, photos, session, uploads};
use crate::reply::Resp;
use crate::request::{self, Req};
use crate::state::AppState;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Who may call a route (documentation; each handler enforces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Anyone,
    User,
    Admin,
}

/// One route.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub name: &'static str,
    pub access: Access,
    pub summary: &'static str,
}

macro_rules! routes {
    ($($m:ident $p:literal => $n:literal, $a:ident, $s:literal;)*) => {
        /// Every route of the API.
        pub fn routes() -> &'static [Route] {
            static R: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
            R.get_or_init(|| vec![$(Route { method: Method::$m, path: $p, name: $n, access: Access::$a, summary: $s }),*])
        }
    };
}

routes! {
    GET "/api/me" => "me", Anyone, "The logged-in user (404 when logged out)";
    GET "/api/stats" => "stats", Anyone, "Members of the instance (login required on a private instance)";
    GET "/api/auth/check" => "auth_check", Anyone, "nginx auth_request: 200 with a session or on a public instance, else 401";
    POST "/api/auth/login" => "login", Anyone, "Log in with {handle, password}; sets the bincio_session cookie";
    POST "/api/auth/logout" => "logout", Anyone, "Log out and clear the cookie";
    POST "/api/auth/reset-password" => "reset_password", Anyone, "Set a new password with {handle, code, password}; revokes all sessions";
    POST "/api/register" => "register", Anyone, "Create an account with {code, handle, password, display_name}";
    GET "/api/invites" => "invites_list", User, "The caller's invites";
    POST "/api/invites" => "invites_create", User, "Create an invite";
    GET "/api/activity/{id}" => "activity_get", User, "An activity with its edit form fields";
    POST "/api/activity/{id}" => "activity_post", User, "Edit {title, sport, gear, description, highlight, private, hide_stats}";
    DELETE "/api/activity/{id}" => "activity_delete", User, "Delete an activity and the stored original(s) it came from";
    GET "/api/activity/{id}/images" => "images_list", User, "Photo file names of an activity";
    POST "/api/activity/{id}/images" => "images_add", User, "Add a photo (multipart field file)";
    DELETE "/api/activity/{id}/images/{filename}" => "images_delete", User, "Remove a photo";
    GET "/api/athlete" => "athlete_get", User, "The athlete profile with the user's edits";
    POST "/api/athlete" => "athlete_post", User, "Edit {max_hr, ftp_w, hr_zones, power_zones, seasons, gear}";
    POST "/api/upload" => "upload", User, "Upload activity files, .gz, activities.csv or a Strava export ZIP (multipart files)";
    POST "/api/upload/strava-zip" => "upload_zip", User, "Upload a Strava bulk export ZIP (multipart file)";
    GET "/api/jobs/{job}" => "job", User, "Progress of an upload or edit job";
    POST "/api/feedback" => "feedback", User, "Send feedback (multipart text, images)";
    GET "/api/me/storage" => "storage", User, "Disk used by the caller";
    DELETE "/api/me/originals" => "delete_originals", User, "Delete the caller's stored originals";
    DELETE "/api/me/activities" => "delete_activities", User, "Delete all the caller's data ({password})";
    DELETE "/api/me" => "delete_account", User, "Delete the caller's account ({password})";
    PUT "/api/me/display-name" => "display_name", User, "Change the display name";
    GET "/api/me/prefs" => "prefs_get", User, "The caller's preferences";
    PUT "/api/me/prefs" => "prefs_put", User, "Set preferences (flat object)";
    PUT "/api/me/password" => "password", User, "Change password ({current_password, new_password}); revokes other sessions";
    GET "/api/admin/users" => "admin_users", Admin, "All accounts";
    GET "/api/admin/jobs" => "admin_jobs", Admin, "Queued and running jobs";
    GET "/api/admin/disk" => "admin_disk", Admin, "Disk usage per user folder";
    POST "/api/admin/users/{handle}/reset-password-code" => "admin_reset_code", Admin, "Issue a 24 h reset code";
    POST "/api/admin/users/{handle}/rebuild" => "admin_rebuild", Admin, "Queue a re-render of the user";
    GET "/api/admin/users/{handle}/diag" => "admin_diag", Admin, "Diagnostics of a user folder";
    DELETE "/api/admin/users/{handle}/activities" => "admin_wipe", Admin, "Wipe a user's data";
    DELETE "/api/admin/users/{handle}/directory" => "admin_delete_ghost", Admin, "Remove a folder that has no account";
    GET "/api/openapi.json" => "openapi", Anyone, "This document";
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

async fn dispatch(name: &str, st: &AppState, req: Req) -> Result<Resp, ApiError> {
    match name {
        "me" => session::me(st, req).await,
        "stats" => session::stats(st, req).await,
        "auth_check" => session::auth_check(st, req).await,
        "login" => session::login(st, req).await,
        "logout" => session::logout(st, req).await,
        "reset_password" => accounts::reset_password(st, req).await,
        "register" => accounts::register(st, req).await,
        "invites_list" => invites::list(st, req).await,
        "invites_create" => invites::create(st, req).await,
        "activity_get" => edits::get(st, req).await,
        "activity_post" => edits::post(st, req).await,
        "activity_delete" => edits::delete(st, req).await,
        "images_list" => photos::list(st, req).await,
        "images_add" => photos::add(st, req).await,
        "images_delete" => photos::delete(st, req).await,
        "athlete_get" => edits::athlete_get(st, req).await,
        "athlete_post" => edits::athlete_post(st, req).await,
        "upload" | "upload_zip" => uploads::upload(st, req).await,
        "job" => uploads::job(st, req).await,
        "feedback" => feedback::post(st, req).await,
        "storage" => accounts::storage(st, req).await,
        "delete_originals" => accounts::delete_originals(st, req).await,
        "delete_activities" => accounts::delete_activities(st, req).await,
        "delete_account" => accounts::delete_account(st, req).await,
        "display_name" => accounts::display_name(st, req).await,
        "prefs_get" => accounts::prefs_get(st, req).await,
        "prefs_put" => accounts::prefs_put(st, req).await,
        "password" => accounts::change_password(st, req).await,
        "admin_users" => admin::users(st, req).await,
        "admin_jobs" => admin::jobs(st, req).await,
        "admin_disk" => admin::disk(st, req).await,
        "admin_reset_code" => admin::reset_code(st, req).await,
        "admin_rebuild" => admin::rebuild(st, req).await,
        "admin_diag" => admin::diag(st, req).await,
        "admin_wipe" => admin::wipe(st, req).await,
        "admin_delete_ghost" => admin::delete_ghost(st, req).await,
        "openapi" => Ok(crate::reply::ok(&crate::openapi::document())),
        _ => Err(ApiError::NotFound("route")),
    }
}

/// Find the route, decode its parameters and run the Origin check (no I/O).
fn resolve(
    method: &Method,
    path: &str,
    headers: &hyper::HeaderMap,
    public_url: Option<&str>,
) -> Result<(&'static str, Vec<String>), ApiError> {
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
    Ok((route.name, params))
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
        match resolve(&method, &path, &parts.headers, st.public_url.as_deref()) {
            Ok((name, params)) => {
                (name, dispatch(name, &st, Req { parts, body, client_ip, params }).await)
            }
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
    fn every_route_is_dispatched_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in routes() {
            assert!(seen.insert((r.method.clone(), r.path)), "duplicate {} {}", r.method, r.path);
            assert!(r.path.starts_with("/api/"));
        }
        assert_eq!(match_path("/api/activity/{id}", &["api", "activity", "x"]), Some(vec!["x"]));
        assert_eq!(match_path("/api/activity/{id}", &["api", "activity", "x", "images"]), None);
    }
}
