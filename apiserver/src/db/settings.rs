//! The old instance settings table, and per-user preferences (both string → string).
//!
//! Instance settings now live in `{root}/bincio.toml` (`bincio_bas::config`), which the
//! generator can read too. The `settings` table stays so an older binary still finds its
//! values, but nothing reads it any more except [`migrate_to_config`], which moves its
//! rows into the file once (see `docs/admin.md`).

use crate::error::ApiError;
use bincio_bas::InstanceRoot;
use bincio_bas::config::{self, ConfigError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// Set in the `settings` table once its rows were moved into `bincio.toml`.
const MOVED_MARKER: &str = "_moved_to_bincio_toml";

/// Why the one-time move of settings into `bincio.toml` failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: reading the settings table: {source}")]
    Db {
        path: std::path::PathBuf,
        #[source]
        source: ApiError,
    },
}

/// Move settings found in `instance.db` (and the instance name of the root manifest) into
/// `{root}/bincio.toml` where the file does not set them yet. Runs once per database: a
/// marker row records it, so a key an admin later removes from the file is not brought
/// back. A stored value the file would refuse is left behind with a warning (its default
/// then applies). Returns the keys moved.
pub fn migrate_to_config(c: &Connection, root: &InstanceRoot) -> Result<Vec<String>, MigrateError> {
    let db_err = |source| MigrateError::Db { path: root.instance_db(), source };
    if get(c, MOVED_MARKER).map_err(db_err)?.is_some() {
        return Ok(Vec::new());
    }
    let path = root.config_file();
    let present = config::keys_in_file(&path)?;
    let mut edits: Vec<(String, toml::Value)> = Vec::new();
    for (key, value) in all(c).map_err(db_err)? {
        if key.starts_with('_') || present.contains(&key) {
            continue;
        }
        match config::value_from_cli(&path, &key, &value) {
            Ok(Some(v)) => edits.push((key, v)),
            Ok(None) => {}
            Err(e) => tracing::warn!("instance.db setting {key}={value:?} not moved: {e}"),
        }
    }
    if !present.contains("name")
        && let Some(name) = manifest_name(root)
    {
        edits.push(("name".to_owned(), toml::Value::String(name)));
    }
    if !edits.is_empty() {
        let refs: Vec<(&str, Option<toml::Value>)> =
            edits.iter().map(|(k, v)| (k.as_str(), Some(v.clone()))).collect();
        config::update(&path, &refs)?;
    }
    set(c, MOVED_MARKER, "1").map_err(db_err)?;
    Ok(edits.into_iter().map(|(k, _)| k).collect())
}

/// `instance.name` of the root manifest, where the name lived before `bincio.toml`.
fn manifest_name(root: &InstanceRoot) -> Option<String> {
    let bytes = std::fs::read(root.root_manifest()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let name = v.pointer("/instance/name")?.as_str()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// One setting.
pub fn get(c: &Connection, key: &str) -> Result<Option<String>, ApiError> {
    Ok(c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Upsert a setting.
pub fn set(c: &Connection, key: &str, value: &str) -> Result<(), ApiError> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// All settings.
pub fn all(c: &Connection) -> Result<BTreeMap<String, String>, ApiError> {
    let mut st = c.prepare("SELECT key, value FROM settings ORDER BY key")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A user's preferences.
pub fn prefs(c: &Connection, handle: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut st = c.prepare("SELECT key, value FROM user_prefs WHERE handle = ?1 ORDER BY key")?;
    let rows = st.query_map([handle], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Upsert several preferences in one transaction, refusing to exceed `max_keys` in total.
pub fn set_prefs(
    c: &mut Connection,
    handle: &str,
    values: &BTreeMap<String, String>,
    max_keys: i64,
) -> Result<(), ApiError> {
    let tx = c.transaction()?;
    for (k, v) in values {
        tx.execute(
            "INSERT INTO user_prefs (handle, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(handle, key) DO UPDATE SET value = excluded.value",
            params![handle, k, v],
        )?;
    }
    let n: i64 =
        tx.query_row("SELECT count(*) FROM user_prefs WHERE handle = ?1", [handle], |r| r.get(0))?;
    if n > max_keys {
        return Err(ApiError::bad("prefs", format!("at most {max_keys} preferences")));
    }
    tx.commit()?;
    Ok(())
}
