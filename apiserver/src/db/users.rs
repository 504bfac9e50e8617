//! The `users` table.

use crate::error::ApiError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A user row without its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub handle: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: i64,
}

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        handle: r.get(0)?,
        display_name: r.get(1)?,
        is_admin: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// One user by handle.
pub fn get(c: &Connection, handle: &str) -> Result<Option<User>, ApiError> {
    Ok(c.query_row(
        "SELECT handle, display_name, is_admin, created_at FROM users WHERE handle = ?1",
        [handle],
        row_to_user,
    )
    .optional()?)
}

/// A user and their password hash, for verification.
pub fn get_with_hash(c: &Connection, handle: &str) -> Result<Option<(User, String)>, ApiError> {
    Ok(c.query_row(
        "SELECT handle, display_name, is_admin, created_at, password_hash FROM users WHERE handle = ?1",
        [handle],
        |r| Ok((row_to_user(r)?, r.get(4)?)),
    )
    .optional()?)
}

/// Every user, oldest first.
pub fn list(c: &Connection) -> Result<Vec<User>, ApiError> {
    let mut st = c.prepare(
        "SELECT handle, display_name, is_admin, created_at FROM users ORDER BY created_at, handle",
    )?;
    let rows = st.query_map([], row_to_user)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Number of accounts.
pub fn count(c: &Connection) -> Result<i64, ApiError> {
    Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

/// Insert a user; `Conflict` when the handle exists.
pub fn insert(
    c: &Connection,
    handle: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
    now_s: i64,
) -> Result<User, ApiError> {
    let n = c.execute(
        "INSERT INTO users (handle, display_name, password_hash, is_admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(handle) DO NOTHING",
        params![handle, display_name, password_hash, is_admin, now_s],
    )?;
    if n == 0 {
        return Err(ApiError::Conflict("handle already taken".into()));
    }
    Ok(User {
        handle: handle.into(),
        display_name: display_name.into(),
        is_admin,
        created_at: now_s,
    })
}

/// Replace the password hash and revoke every session of the user (all of them: the
/// caller issues a fresh one when the change came from a logged-in browser).
pub fn set_password(c: &mut Connection, handle: &str, password_hash: &str) -> Result<(), ApiError> {
    let tx = c.transaction()?;
    tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE handle = ?1",
        params![handle, password_hash],
    )?;
    tx.execute("DELETE FROM sessions WHERE handle = ?1", [handle])?;
    tx.commit()?;
    Ok(())
}

/// Change the display name.
pub fn set_display_name(c: &Connection, handle: &str, name: &str) -> Result<(), ApiError> {
    c.execute("UPDATE users SET display_name = ?2 WHERE handle = ?1", params![handle, name])?;
    Ok(())
}

/// Delete a user; sessions, prefs and reset codes cascade. Returns false when absent.
pub fn delete(c: &Connection, handle: &str) -> Result<bool, ApiError> {
    Ok(c.execute("DELETE FROM users WHERE handle = ?1", [handle])? > 0)
}
