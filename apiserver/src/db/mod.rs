//! The SQLite handle. SQL lives only in this module tree.
//!
//! One `Connection` behind a `std::sync::Mutex`; [`Db::call`] runs a closure on tokio's
//! blocking pool so a slow disk never stalls the async threads. WAL lets nginx-side readers
//! (none today) and the CLI work beside the daemon; `busy_timeout` makes a concurrent CLI
//! write wait instead of failing.

pub mod invites;
pub mod migrate;
pub mod oauth_states;
pub mod sessions;
pub mod settings;
pub mod users;

use crate::error::ApiError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Current Unix time in seconds.
pub fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
}

/// Shared database handle (cheap to clone).
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let open_err = |source| DbError::Open { path: path.display().to_string(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        Self::setup(conn).map_err(|e| match e {
            SetupError::Sql(source) => open_err(source),
            SetupError::Migrate(m) => DbError::Migrate(m),
        })
    }

    /// A fresh in-memory database (tests and benchmarks).
    pub fn open_in_memory() -> Result<Self, DbError> {
        let open_err = |source| DbError::Open { path: ":memory:".into(), source };
        let conn = Connection::open_in_memory().map_err(open_err)?;
        Self::setup(conn).map_err(|e| match e {
            SetupError::Sql(source) => open_err(source),
            SetupError::Migrate(m) => DbError::Migrate(m),
        })
    }

    fn setup(mut conn: Connection) -> Result<Self, SetupError> {
        // WAL returns the new mode as a row, so it is read with query_row.
        let _mode: String =
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(SetupError::Sql)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(SetupError::Sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(SetupError::Sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(SetupError::Sql)?;
        migrate::migrate(&mut conn).map_err(SetupError::Migrate)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Run `f` against the connection on the blocking pool.
    pub async fn call<F, R>(&self, f: F) -> Result<R, ApiError>
    where
        F: FnOnce(&mut Connection) -> Result<R, ApiError> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock only means another closure panicked; the connection itself
            // is still consistent (SQLite rolled back its transaction), so keep using it.
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await?
    }

    /// Run `f` synchronously (CLI commands, tests).
    pub fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut guard = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

enum SetupError {
    Sql(rusqlite::Error),
    Migrate(migrate::MigrateError),
}
