//! The `oauth_states` table: pending Strava OAuth `state` values.
//!
//! A state lives in the database rather than in memory so that a daemon restart between
//! the authorize URL and Strava's redirect does not turn a good connect into an error. It
//! is single-use (taken, not read), expires, and is bound to the session that asked for it:
//! the callback must come with that same session, and logging out (which deletes the
//! session row) deletes its states by cascade. Only the SHA-256 of a state is stored.

use crate::error::ApiError;
use rusqlite::{Connection, OptionalExtension, params};

/// Remember a new state for `handle`'s session `session_hash`, valid for `ttl_s` seconds.
/// Expired states of anyone are purged on the way (they are few and short-lived).
pub fn insert(
    c: &Connection,
    state_hash: &str,
    handle: &str,
    session_hash: &str,
    now_s: i64,
    ttl_s: i64,
) -> Result<(), ApiError> {
    c.execute("DELETE FROM oauth_states WHERE expires_at <= ?1", [now_s])?;
    c.execute(
        "INSERT INTO oauth_states (state_hash, handle, session_hash, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![state_hash, handle, session_hash, now_s + ttl_s],
    )?;
    Ok(())
}

/// A pending state, taken (deleted) whatever its fate: `(handle, session_hash)` when it was
/// still valid, `None` when unknown or expired.
pub fn take(
    c: &Connection,
    state_hash: &str,
    now_s: i64,
) -> Result<Option<(String, String)>, ApiError> {
    let row = c
        .query_row(
            "DELETE FROM oauth_states WHERE state_hash = ?1
             RETURNING handle, session_hash, expires_at",
            [state_hash],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
        )
        .optional()?;
    Ok(row.filter(|(_, _, exp)| *exp > now_s).map(|(h, s, _)| (h, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        crate::db::migrate::migrate(&mut c).unwrap();
        c.execute(
            "INSERT INTO users (handle, password_hash, created_at) VALUES ('dave', 'x', 0)",
            [],
        )
        .unwrap();
        crate::db::sessions::insert(&c, "sess", "dave", 0, 3600).unwrap();
        c
    }

    #[test]
    fn a_state_is_single_use_expires_and_dies_with_its_session() {
        let c = db();
        insert(&c, "s1", "dave", "sess", 100, 900).unwrap();
        assert_eq!(take(&c, "s1", 200).unwrap(), Some(("dave".into(), "sess".into())));
        assert_eq!(take(&c, "s1", 200).unwrap(), None, "single use");
        insert(&c, "s2", "dave", "sess", 100, 900).unwrap();
        assert_eq!(take(&c, "s2", 1000).unwrap(), None, "expired");
        insert(&c, "s3", "dave", "sess", 100, 900).unwrap();
        crate::db::sessions::delete(&c, "sess").unwrap();
        assert_eq!(take(&c, "s3", 200).unwrap(), None, "logged out");
    }
}
