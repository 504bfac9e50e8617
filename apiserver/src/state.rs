//! `AppState`: what every handler shares (data directory, database, limiters, locks).
//!
//! The instance configuration (`{root}/bincio.toml`, see `docs/admin.md`) is re-read when the
//! file changes, so `bincio-api settings set` or a hand edit applies without a restart.

use crate::auth::password::Hasher;
use crate::auth::ratelimit::RateLimiter;
use crate::auth::session;
use crate::config::Config;
use crate::db::users::User;
use crate::db::{self, Db};
use crate::error::ApiError;
use crate::locks::UserLocks;
use bincio_bas::{InstanceConfig, InstanceRoot};
use hyper::HeaderMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Shared state of a running daemon.
pub struct AppState {
    pub root: InstanceRoot,
    pub db: Db,
    pub cfg: Config,
    pub hasher: Hasher,
    pub login_per_ip: RateLimiter,
    pub register_per_ip: RateLimiter,
    pub reset_per_ip: RateLimiter,
    pub failures_per_account: RateLimiter,
    pub writers: UserLocks,
    private_cache: Mutex<Option<(SystemTime, u64, bool)>>,
    config_cache: Mutex<ConfigCache>,
}

/// The file's identity when it was last read, and what was read. An unreadable file keeps
/// the last good configuration (an admin's typo must not take the site down), except for
/// `private`, which then fails closed (see [`AppState::instance_private`]).
#[derive(Default)]
struct ConfigCache {
    key: Option<FileKey>,
    cfg: Arc<InstanceConfig>,
    broken: bool,
}

/// Modification time, size and inode: an atomic replace always changes the inode, a hand
/// edit changes the time.
type FileKey = (SystemTime, u64, u64);

fn file_key(path: &std::path::Path) -> Option<FileKey> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.modified().ok()?, m.len(), ino))
}

impl AppState {
    /// Build the state. The instance configuration is read on first use.
    pub fn new(root: InstanceRoot, db: Db, cfg: Config) -> Result<Arc<Self>, ApiError> {
        Ok(Arc::new(Self {
            hasher: Hasher::new(cfg.hash_concurrency),
            login_per_ip: RateLimiter::new(cfg.login_per_ip.count, cfg.login_per_ip.window),
            register_per_ip: RateLimiter::new(
                cfg.register_per_ip.count,
                cfg.register_per_ip.window,
            ),
            reset_per_ip: RateLimiter::new(cfg.reset_per_ip.count, cfg.reset_per_ip.window),
            failures_per_account: RateLimiter::new(
                cfg.failures_per_account.count,
                cfg.failures_per_account.window,
            ),
            writers: UserLocks::default(),
            private_cache: Mutex::new(None),
            config_cache: Mutex::new(ConfigCache::default()),
            root,
            db,
            cfg,
        }))
    }

    /// The instance configuration, re-read when `{root}/bincio.toml` changed; one `stat`
    /// per call otherwise. A missing file gives the defaults.
    pub fn config(&self) -> Arc<InstanceConfig> {
        self.config_state().0
    }

    /// The configuration and whether the file is currently unreadable.
    fn config_state(&self) -> (Arc<InstanceConfig>, bool) {
        let path = self.root.config_file();
        let key = file_key(&path);
        let mut cache = self.config_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.key != key || key.is_none() && cache.broken {
            match InstanceConfig::load(&path) {
                Ok(cfg) => {
                    cache.cfg = Arc::new(cfg);
                    cache.broken = false;
                }
                Err(e) => {
                    tracing::error!("{e}; keeping the previous configuration");
                    cache.broken = true;
                }
            }
            cache.key = key;
        }
        (Arc::clone(&cache.cfg), cache.broken)
    }

    /// `public_url` from the configuration, without a trailing slash.
    pub fn public_url(&self) -> Option<String> {
        self.config().public_url.clone()
    }

    /// Cookies get `Secure` when the site is served over https.
    pub fn cookie_secure(&self) -> bool {
        self.public_url().is_some_and(|u| u.starts_with("https://"))
    }

    /// The logged-in user, if the request carries a live session.
    pub async fn current_user(&self, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
        let Some(hash) = session::token_hash_from(headers) else { return Ok(None) };
        self.db.call(move |c| db::sessions::lookup(c, &hash, db::now_s())).await
    }

    /// The logged-in user or 401.
    pub async fn require_user(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        self.current_user(headers).await?.ok_or(ApiError::Unauthorized)
    }

    /// The logged-in admin, 401 or 403.
    pub async fn require_admin(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        let u = self.require_user(headers).await?;
        if !u.is_admin {
            return Err(ApiError::Forbidden("admin required".into()));
        }
        Ok(u)
    }

    /// Whether the instance is private: `private` of `{root}/bincio.toml` when set (an
    /// unreadable file counts as private), else `instance.private` of the root manifest,
    /// cached by modification time. A missing or unreadable manifest counts as private:
    /// failing closed is the safe default.
    pub fn instance_private(&self) -> bool {
        let (cfg, broken) = self.config_state();
        if broken {
            return true;
        }
        if let Some(p) = cfg.private {
            return p;
        }
        let path = self.root.root_manifest();
        let meta = std::fs::metadata(&path).ok();
        let key = meta.as_ref().and_then(|m| Some((m.modified().ok()?, m.len())));
        let mut cache =
            self.private_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Some((mtime, len)), Some((cm, cl, v))) = (key, *cache)
            && mtime == cm
            && len == cl
        {
            return v;
        }
        let private = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| {
                v.pointer("/instance/private").and_then(serde_json::Value::as_bool).unwrap_or(true)
            })
            .unwrap_or(true);
        *cache = key.map(|(m, l)| (m, l, private));
        private
    }
}
