//! The Strava secrets of one user: the OAuth token (`{user}/strava_token.json`) and the
//! user's own API application (`{user}/strava_credentials.json`).
//!
//! Both programs write the token: the daemon when the user connects, the watcher (or the
//! CLI) each time it refreshes an expired access token — and Strava rotates the refresh
//! token, so losing a write would disconnect the user. Every read-modify-write therefore
//! happens under an exclusive lock on `{user}/.strava.lock` that both programs take, and
//! every write is a private (0600) temp file renamed over the target. The files use the
//! reference implementation's shapes, so its data directories keep syncing.

use crate::net;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `strava_token.json` (the token response Strava sent, plus our sync cursor).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StravaToken {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds at which the access token stops working.
    pub expires_at: i64,
    /// The athlete Strava returned with the first token (`id`, `username`, names …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<serde_json::Value>,
    /// Unix seconds: every activity that started at or before this is imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_at: Option<i64>,
    /// The scope the user granted (`read,activity:read_all`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Any other key of the token response (`token_type`, `expires_in` …), kept as is.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `strava_credentials.json`: the user's own Strava API application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StravaCredentials {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
}

impl StravaCredentials {
    /// Both halves are set.
    pub fn is_complete(&self) -> bool {
        !self.client_id.trim().is_empty() && !self.client_secret.trim().is_empty()
    }
}

/// A secret file that could not be read or written; names the path.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON for this file: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Read a secret JSON file; `Ok(None)` when it does not exist.
pub fn read_secret<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, SecretError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| SecretError::Json { path: path.to_path_buf(), source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretError::Io { path: path.to_path_buf(), source }),
    }
}

/// Replace a secret file atomically and durably with mode 0600 (the temp file is private
/// before the first byte is written, so the secret is never readable by others).
pub fn write_secret<T: Serialize>(path: &Path, value: &T) -> Result<(), SecretError> {
    let io = |source| SecretError::Io { path: path.to_path_buf(), source };
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|source| SecretError::Json { path: path.to_path_buf(), source })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp =
        tempfile::Builder::new().prefix(".bincio-").suffix(".tmp").tempfile_in(dir).map_err(io)?;
    set_owner_only(tmp.path()).map_err(io)?;
    tmp.write_all(&bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Remove a secret file; a missing file is fine.
pub fn remove_secret(path: &Path) -> Result<(), SecretError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SecretError::Io { path: path.to_path_buf(), source }),
    }
}

#[cfg(unix)]
fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The held Strava lock of one user (released on drop).
#[derive(Debug)]
pub struct StravaLock {
    _file: std::fs::File,
}

/// Take the exclusive Strava lock of a user folder (`{user}/.strava.lock`), waiting for it.
/// Blocking: the daemon calls it from a blocking task.
pub fn lock_user(user_dir: &Path) -> Result<StravaLock, SecretError> {
    let path = crate::layout::UserDir::new(user_dir).strava_lock();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| SecretError::Io { path: path.clone(), source })?;
    file.lock().map_err(|source| SecretError::Io { path, source })?;
    Ok(StravaLock { _file: file })
}

/// Read-modify-write the token under the user's Strava lock. `f` gets the current token
/// (`None` when not connected) and returns the new one (`None` removes the file).
pub fn update_token<R>(
    user_dir: &Path,
    f: impl FnOnce(Option<StravaToken>) -> (Option<StravaToken>, R),
) -> Result<R, SecretError> {
    let _lock = lock_user(user_dir)?;
    let path = crate::layout::UserDir::new(user_dir).strava_token();
    let current: Option<StravaToken> = read_secret(&path)?;
    let before = current.clone();
    let (next, out) = f(current);
    if next != before {
        match &next {
            Some(t) => write_secret(&path, t)?,
            None => remove_secret(&path)?,
        }
    }
    Ok(out)
}

/// Where Strava is (`BINCIO_STRAVA_URL` points both programs at a stand-in server in tests).
pub const BASE_URL_ENV: &str = "BINCIO_STRAVA_URL";
/// Strava itself.
pub const DEFAULT_BASE_URL: &str = "https://www.strava.com";
/// The scope every connection asks for: private activities are only listed with
/// `activity:read_all`.
pub const SCOPE: &str = "read,activity:read_all";

/// The API base URL, without a trailing slash.
pub fn base_url() -> String {
    std::env::var(BASE_URL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Why talking to Strava's OAuth endpoints failed; names the URL.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The request failed on the network (the error names the URL).
    #[error(transparent)]
    Network(#[from] net::NetError),
    #[error("{url}: HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("{url}: unexpected answer: {reason}")]
    Json { url: String, reason: String },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
}

/// The Strava application to use for a user: their own `strava_credentials.json` when it
/// has both halves, then the instance configuration (`strava_client_id`,
/// `strava_client_secret`), then `STRAVA_CLIENT_ID` / `STRAVA_CLIENT_SECRET`.
pub fn credentials(
    cfg: &crate::InstanceConfig,
    user_dir: &Path,
) -> Result<Option<StravaCredentials>, SecretError> {
    let own: Option<StravaCredentials> =
        read_secret(&crate::layout::UserDir::new(user_dir).strava_credentials())?;
    if let Some(c) = own.filter(StravaCredentials::is_complete) {
        return Ok(Some(c));
    }
    let c = StravaCredentials {
        client_id: cfg.strava_client_id.clone().unwrap_or_default(),
        client_secret: cfg.strava_client_secret.clone().unwrap_or_default(),
    };
    if c.is_complete() {
        return Ok(Some(c));
    }
    let env = StravaCredentials {
        client_id: std::env::var("STRAVA_CLIENT_ID").unwrap_or_default(),
        client_secret: std::env::var("STRAVA_CLIENT_SECRET").unwrap_or_default(),
    };
    Ok(env.is_complete().then_some(env))
}

/// The browser URL that asks the user to authorise the app.
pub fn authorize_url(base: &str, client_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{}/oauth/authorize?{}",
        base.trim_end_matches('/'),
        net::form_encode(&[
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("approval_prompt", "auto"),
            ("scope", SCOPE),
            ("state", state),
        ])
    )
}

/// One form POST to Strava through the shared client (`crate::net`: connect and total
/// timeouts, no redirects), the answer capped at 1 MiB.
fn post_form(url: &str, fields: &[(&str, &str)]) -> Result<(u16, Vec<u8>), OAuthError> {
    let client =
        net::Client::new(net::Limits { max_body_bytes: 1024 * 1024, ..net::Limits::default() });
    let r = client.post_form(url, &[("Accept", "application/json")], fields)?;
    Ok((r.status, r.body))
}

fn short(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// Exchange an authorisation code for the first token (`POST {base}/oauth/token`). The
/// whole answer is kept (athlete included); `scope` is what the user granted.
pub fn exchange_code(
    base: &str,
    creds: &StravaCredentials,
    code: &str,
    scope: Option<&str>,
) -> Result<StravaToken, OAuthError> {
    let url = format!("{}/oauth/token", base.trim_end_matches('/'));
    let (status, body) = post_form(
        &url,
        &[
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )?;
    if !(200..300).contains(&status) {
        return Err(OAuthError::Status { url, status, body: short(&body) });
    }
    let mut token: StravaToken = serde_json::from_slice(&body)
        .map_err(|e| OAuthError::Json { url: url.clone(), reason: e.to_string() })?;
    if token.scope.is_none() {
        token.scope = scope.map(str::to_owned);
    }
    Ok(token)
}

/// Tell Strava to forget the app's access (`POST {base}/oauth/deauthorize`). A 401 (the
/// token is already dead) counts as done.
pub fn deauthorize(base: &str, access_token: &str) -> Result<(), OAuthError> {
    let url = format!("{}/oauth/deauthorize", base.trim_end_matches('/'));
    let (status, body) = post_form(&url, &[("access_token", access_token)])?;
    if (200..300).contains(&status) || status == 401 {
        Ok(())
    } else {
        Err(OAuthError::Status { url, status, body: short(&body) })
    }
}

/// Save a freshly exchanged token under the lock, keeping the sync cursor of an earlier
/// connection of the same athlete (reconnecting does not re-list everything).
pub fn save_connected(user_dir: &Path, mut token: StravaToken) -> Result<(), SecretError> {
    update_token(user_dir, |old| {
        let id = |t: &StravaToken| t.athlete.as_ref().and_then(|a| a.get("id")).cloned();
        if let Some(o) = old.as_ref().filter(|o| id(o).is_some() && id(o) == id(&token)) {
            token.last_sync_at = token.last_sync_at.or(o.last_sync_at);
        }
        (Some(token), ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_the_reference_shape_and_is_private() {
        let dir = tempfile::tempdir().expect("tmp");
        let text = r#"{"token_type":"Bearer","expires_at":1568775134,"expires_in":21600,
            "refresh_token":"e5n5","access_token":"a4b9","athlete":{"id":7},"last_sync_at":17}"#;
        let t: StravaToken = serde_json::from_str(text).expect("parse");
        assert_eq!(t.expires_at, 1_568_775_134);
        assert_eq!(t.last_sync_at, Some(17));
        assert_eq!(t.extra.get("token_type").and_then(|v| v.as_str()), Some("Bearer"));
        let path = dir.path().join("strava_token.json");
        write_secret(&path, &t).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back: Option<StravaToken> = read_secret(&path).expect("read");
        assert_eq!(back, Some(t));
        let changed = update_token(dir.path(), |t| {
            let mut t = t.expect("token");
            t.last_sync_at = Some(99);
            (Some(t), 1)
        })
        .expect("update");
        assert_eq!(changed, 1);
        let back: Option<StravaToken> = read_secret(&path).expect("read");
        assert_eq!(back.and_then(|t| t.last_sync_at), Some(99));
        update_token(dir.path(), |_| (None, ())).expect("remove");
        assert!(!path.exists());
    }
}
