//! Strava: connect an account, sync every activity with its full streams, import the bulk
//! export. See `docs/strava.md`.
//!
//! The pieces are split by what they touch: [`api`] speaks HTTP (OAuth, paging, rate
//! limits, token rotation) and nothing else; [`map`] turns Strava's JSON into the internal
//! [`crate::model::Activity`] and its artefacts through the same build as files; [`sync`]
//! decides what to fetch and stores it through [`crate::extract::store_prebuilt`], so
//! metrics, privacy and dedup are those of a file import; [`job`] is the watcher's entry
//! point; [`export`] imports the bulk-export ZIP.

pub mod api;
pub mod export;
pub mod job;
pub mod map;
pub mod sync;

use bincio_bas::layout::UserDir;
use bincio_bas::strava::{StravaCredentials, read_secret};
use std::path::Path;

/// Where Strava is (`BINCIO_STRAVA_URL`, for a stand-in server in tests).
pub const BASE_URL_ENV: &str = "BINCIO_STRAVA_URL";
/// Strava itself.
pub const DEFAULT_BASE_URL: &str = "https://www.strava.com";

/// The API base URL, without a trailing slash.
pub fn base_url() -> String {
    std::env::var(BASE_URL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The scope every connection asks for: private activities are only listed with
/// `activity:read_all`.
pub const SCOPE: &str = "read,activity:read_all";

/// The Strava application to use for a user: their own `strava_credentials.json` when it has
/// both halves, then the instance configuration, then `STRAVA_CLIENT_ID` /
/// `STRAVA_CLIENT_SECRET`. `None` when no complete pair exists.
pub fn credentials(root: &Path, user_dir: &Path) -> Result<Option<StravaCredentials>, StravaError> {
    let own: Option<StravaCredentials> = read_secret(&UserDir::new(user_dir).strava_credentials())?;
    if let Some(c) = own.filter(StravaCredentials::is_complete) {
        return Ok(Some(c));
    }
    let cfg_path = bincio_bas::InstanceRoot::new(root).config_file();
    if cfg_path.exists() {
        let cfg = bincio_bas::InstanceConfig::load(&cfg_path)?;
        let c = StravaCredentials {
            client_id: cfg.strava_client_id.clone().unwrap_or_default(),
            client_secret: cfg.strava_client_secret.clone().unwrap_or_default(),
        };
        if c.is_complete() {
            return Ok(Some(c));
        }
    }
    let env = StravaCredentials {
        client_id: std::env::var("STRAVA_CLIENT_ID").unwrap_or_default(),
        client_secret: std::env::var("STRAVA_CLIENT_SECRET").unwrap_or_default(),
    };
    Ok(env.is_complete().then_some(env))
}

/// Whether the instance keeps originals (`store_originals`); false without a configuration.
pub fn store_originals(root: &Path) -> Result<bool, StravaError> {
    let cfg_path = bincio_bas::InstanceRoot::new(root).config_file();
    if !cfg_path.exists() {
        return Ok(false);
    }
    Ok(bincio_bas::InstanceConfig::load(&cfg_path)?.store_originals)
}

/// Why a Strava operation stopped.
#[derive(Debug, thiserror::Error)]
pub enum StravaError {
    #[error(
        "no Strava application configured: put client_id and client_secret in {0}, set strava_client_id/strava_client_secret in the instance configuration, or STRAVA_CLIENT_ID/STRAVA_CLIENT_SECRET"
    )]
    NoCredentials(String),
    #[error("{0}: not connected to Strava (run `bincio-gen strava connect` first)")]
    NotConnected(String),
    #[error("Strava refused the token ({0}): reconnect Strava")]
    Reconnect(String),
    #[error("{url}: {reason}")]
    Network { url: String, reason: String },
    #[error("{url}: HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("{url}: unexpected answer: {reason}")]
    Json { url: String, reason: String },
    #[error(transparent)]
    Secret(#[from] bincio_bas::strava::SecretError),
    #[error(transparent)]
    Config(#[from] bincio_bas::ConfigError),
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error(transparent)]
    Write(#[from] bincio_bas::fsx::FsxError),
    #[error(transparent)]
    Csv(#[from] crate::extract::strava_csv::CsvError),
    #[error("{path}: {reason}")]
    Export { path: String, reason: String },
}
