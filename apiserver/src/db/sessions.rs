//! The `sessions` table: only SHA-256 hashes of tokens are stored, so a copy of the
//! database does not hand out live sessions.

use super::users::User;
use crate::error::ApiError;
use rusqlite::{Connection, OptionalExtension, params};

/// Store a new session.
pub fn insert(
    c: &Connection,
    token_hash: &str,
    handle: &str,
    now_s: i64,
    ttl_s: i64,
) -> Result<(), ApiError> {
    c.execute(
        "INSERT INTO sessions (token_hash, handle, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, handle, now_s, now_s + ttl_s],
    )?;
    Ok(())
}

/// The user of a live session; an expired row is deleted on sight.
pub fn lookup(c: &Connection, token_hash: &str, now_s: i64) -> Result<Option<User>, ApiError> {
    // Cached statement: this runs on every authenticated request.
    let row = c
        .prepare_cached(
            "SELECT u.handle, u.display_name, u.is_admin, u.created_at, s.expires_at
             FROM sessions s JOIN users u ON u.handle = s.handle WHERE s.token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok((
                User {
                    handle: r.get(0)?,
                    display_name: r.get(1)?,
                    is_admin: r.get(2)?,
                    created_at: r.get(3)?,
                },
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    match row {
        Some((user, expires_at)) if expires_at > now_s => Ok(Some(user)),
        Some(_) => {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Delete one session.
pub fn delete(c: &Connection, token_hash: &str) -> Result<(), ApiError> {
    c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Delete every session of a user.
pub fn delete_all_for(c: &Connection, handle: &str) -> Result<usize, ApiError> {
    Ok(c.execute("DELETE FROM sessions WHERE handle = ?1", [handle])?)
}

/// Delete expired sessions; returns how many.
pub fn purge_expired(c: &Connection, now_s: i64) -> Result<usize, ApiError> {
    Ok(c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now_s])?)
}
