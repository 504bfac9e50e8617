//! Instance settings and per-user preferences (both string → string).

use crate::error::ApiError;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// `storage_limit_mb` when the setting is absent: 5 GiB per user.
pub const DEFAULT_STORAGE_LIMIT_MB: u32 = 5 * 1024;

/// Settings an admin may change, with what each value must look like.
pub const KNOWN: &[(&str, &str)] = &[
    ("max_users", "a whole number; 0 means unlimited"),
    ("max_user_invites", "a whole number of invites each non-admin may ever create"),
    ("store_originals", "true or false: keep uploaded files in {handle}/originals/"),
    (
        "storage_limit_mb",
        "MiB each user's folder may hold (uploads, photos, extracted activities); 0 means unlimited; default 5120",
    ),
    (
        "public_url",
        "the site's base URL, e.g. https://rides.example.org (invite links, Origin check)",
    ),
];

/// Validate a setting before it is stored.
pub fn validate(key: &str, value: &str) -> Result<(), String> {
    match key {
        "max_users" | "max_user_invites" | "storage_limit_mb" => value
            .parse::<u32>()
            .map(|_| ())
            .map_err(|_| format!("{key} must be a whole number, got {value:?}")),
        "store_originals" => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("store_originals must be true or false, got {value:?}")),
        },
        "public_url" => {
            let v = value.trim_end_matches('/');
            if (v.starts_with("http://") || v.starts_with("https://"))
                && !v.contains(char::is_whitespace)
            {
                Ok(())
            } else {
                Err(format!("public_url must start with http:// or https://, got {value:?}"))
            }
        }
        _ => Err(format!("unknown setting {key:?}")),
    }
}

/// One setting.
pub fn get(c: &Connection, key: &str) -> Result<Option<String>, ApiError> {
    Ok(c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A numeric setting; absent or unparsable gives `default` (never a 500).
pub fn get_u32(c: &Connection, key: &str, default: u32) -> Result<u32, ApiError> {
    Ok(get(c, key)?.and_then(|v| v.trim().parse().ok()).unwrap_or(default))
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

/// Set only when absent (init's defaults never override an admin's choice).
pub fn set_default(c: &Connection, key: &str, value: &str) -> Result<(), ApiError> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
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
