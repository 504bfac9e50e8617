//! Invite codes and password-reset codes.
//!
//! Invites are shown back to their creator, so they are stored in clear. Reset codes
//! grant a password change, so only their SHA-256 is stored.

use crate::error::ApiError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// An invite as listed to its creator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invite {
    pub code: String,
    pub used: bool,
    pub used_by: Option<String>,
    pub created_at: i64,
    pub used_at: Option<i64>,
}

/// Invites created by `handle`, newest first.
pub fn list_by(c: &Connection, handle: &str) -> Result<Vec<Invite>, ApiError> {
    let mut st = c.prepare(
        "SELECT code, used_at IS NOT NULL, used_by, created_at, used_at FROM invites
         WHERE created_by = ?1 ORDER BY created_at DESC, code",
    )?;
    let rows = st
        .query_map([handle], |r| {
            Ok(Invite {
                code: r.get(0)?,
                used: r.get(1)?,
                used_by: r.get(2)?,
                created_at: r.get(3)?,
                used_at: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Number of invites ever created by `handle` (used ones count).
pub fn count_by(c: &Connection, handle: &str) -> Result<i64, ApiError> {
    Ok(c.query_row("SELECT count(*) FROM invites WHERE created_by = ?1", [handle], |r| r.get(0))?)
}

/// An unused invite of `handle`, if any (so `init` does not pile them up).
pub fn first_unused_by(c: &Connection, handle: &str) -> Result<Option<String>, ApiError> {
    Ok(c.query_row(
        "SELECT code FROM invites WHERE created_by = ?1 AND used_at IS NULL ORDER BY created_at LIMIT 1",
        [handle],
        |r| r.get(0),
    )
    .optional()?)
}

/// Store a new invite.
pub fn insert(c: &Connection, code: &str, created_by: &str, now_s: i64) -> Result<(), ApiError> {
    c.execute(
        "INSERT INTO invites (code, created_by, created_at) VALUES (?1, ?2, ?3)",
        params![code, created_by, now_s],
    )?;
    Ok(())
}

/// Mark an invite used, atomically: true only for the one caller that won it.
pub fn claim(c: &Connection, code: &str, used_by: &str, now_s: i64) -> Result<bool, ApiError> {
    Ok(c.execute(
        "UPDATE invites SET used_by = ?2, used_at = ?3 WHERE code = ?1 AND used_at IS NULL",
        params![code, used_by, now_s],
    )? == 1)
}

/// Who invited `handle` (for `/api/stats`).
pub fn inviter_of(c: &Connection, handle: &str) -> Result<Option<String>, ApiError> {
    Ok(c.query_row("SELECT created_by FROM invites WHERE used_by = ?1 LIMIT 1", [handle], |r| {
        r.get(0)
    })
    .optional()?)
}

/// Issue a reset code: earlier unused codes of the user are dropped.
pub fn insert_reset(
    c: &mut Connection,
    code_hash: &str,
    handle: &str,
    created_by: &str,
    now_s: i64,
    ttl_s: i64,
) -> Result<(), ApiError> {
    let tx = c.transaction()?;
    tx.execute("DELETE FROM reset_codes WHERE handle = ?1 AND used_at IS NULL", [handle])?;
    tx.execute(
        "INSERT INTO reset_codes (code_hash, handle, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code_hash, handle, created_by, now_s, now_s + ttl_s],
    )?;
    tx.commit()?;
    Ok(())
}

/// Use a reset code for `handle`: true when it existed, was unused, unexpired and now
/// is used. Runs inside the caller's transaction.
pub fn consume_reset(
    c: &Connection,
    code_hash: &str,
    handle: &str,
    now_s: i64,
) -> Result<bool, ApiError> {
    Ok(c.execute(
        "UPDATE reset_codes SET used_at = ?3
         WHERE code_hash = ?1 AND handle = ?2 AND used_at IS NULL AND expires_at > ?3",
        params![code_hash, handle, now_s],
    )? == 1)
}
