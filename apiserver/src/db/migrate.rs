//! Numbered schema migrations, embedded in the binary and tracked in `PRAGMA user_version`.
//!
//! Migration N (1-based) runs when `user_version < N`, inside one transaction with the
//! version bump, so a crash never leaves a half-migrated database. A database newer than
//! this binary is refused rather than silently misread.

use rusqlite::Connection;

/// The migrations, in order. Never edit a released one: add a new file.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial", include_str!("../../migrations/0001_initial.sql")),
    ("0002_oauth_states", include_str!("../../migrations/0002_oauth_states.sql")),
];

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database schema version {found} is newer than this program ({known})")]
    TooNew { found: i64, known: i64 },
    #[error("migration {name}: {source}")]
    Sql {
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
}

/// Bring the schema up to date; returns the number of migrations applied.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    let sql_err = |name| move |source| MigrateError::Sql { name, source };
    let current: i64 =
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql_err("version"))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(MigrateError::TooNew { found: current, known });
    }
    let mut applied = 0;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction().map_err(sql_err(name))?;
        tx.execute_batch(sql).map_err(sql_err(name))?;
        tx.pragma_update(None, "user_version", version).map_err(sql_err(name))?;
        tx.commit().map_err(sql_err(name))?;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_records_the_version() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut c).unwrap(), 0);
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        c.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&mut c), Err(MigrateError::TooNew { found: 99, .. })));
    }
}
