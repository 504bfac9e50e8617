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

use bincio_bas::strava::StravaCredentials;
use std::path::Path;

pub use bincio_bas::strava::{BASE_URL_ENV, DEFAULT_BASE_URL, SCOPE, base_url};

/// The Strava application for a user (see [`bincio_bas::strava::credentials`]), with the
/// instance configuration of `root`.
pub fn credentials(root: &Path, user_dir: &Path) -> Result<Option<StravaCredentials>, StravaError> {
    let cfg_path = bincio_bas::InstanceRoot::new(root).config_file();
    let cfg = if cfg_path.exists() {
        bincio_bas::InstanceConfig::load(&cfg_path)?
    } else {
        bincio_bas::InstanceConfig::default()
    };
    Ok(bincio_bas::strava::credentials(&cfg, user_dir)?)
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
    OAuth(#[from] bincio_bas::strava::OAuthError),
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
