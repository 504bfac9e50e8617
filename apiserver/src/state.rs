//! `AppState`: what every handler shares (data directory, database, limiters, locks).

use crate::auth::password::Hasher;
use crate::auth::ratelimit::RateLimiter;
use crate::auth::session;
use crate::config::Config;
use crate::db::users::User;
use crate::db::{self, Db};
use crate::error::ApiError;
use crate::locks::UserLocks;
use bincio_bas::InstanceRoot;
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
    /// `public_url` setting at start-up (restart after changing it).
    pub public_url: Option<String>,
    private_cache: Mutex<Option<(SystemTime, u64, bool)>>,
}

impl AppState {
    /// Build the state; reads `public_url` from the settings once.
    pub fn new(root: InstanceRoot, db: Db, cfg: Config) -> Result<Arc<Self>, ApiError> {
        let public_url = db
            .with(|c| db::settings::get(c, "public_url"))?
            .map(|u| u.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
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
            root,
            db,
            cfg,
            public_url,
        }))
    }

    /// Cookies get `Secure` when the site is served over https.
    pub fn cookie_secure(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
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

    /// `instance.private` from the root manifest, cached by modification time. A missing or
    /// unreadable manifest counts as private: failing closed is the safe default.
    pub fn instance_private(&self) -> bool {
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
