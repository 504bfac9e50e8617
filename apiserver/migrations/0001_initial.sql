-- Accounts, sessions, invites, reset codes, settings and per-user preferences.
-- Times are integer Unix seconds. Secrets that only need to be compared (session tokens,
-- reset codes) are stored as SHA-256 hex, never in clear.
CREATE TABLE users (
    handle        TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    handle     TEXT NOT NULL REFERENCES users(handle) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_handle ON sessions(handle);

-- created_by has no foreign key on purpose: deleting an account must not erase who
-- invited whom (the reference cascaded those rows away).
CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    used_by    TEXT REFERENCES users(handle) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX invites_created_by ON invites(created_by);

CREATE TABLE reset_codes (
    code_hash  TEXT PRIMARY KEY,
    handle     TEXT NOT NULL REFERENCES users(handle) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX reset_codes_handle ON reset_codes(handle);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE user_prefs (
    handle TEXT NOT NULL REFERENCES users(handle) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (handle, key)
);
