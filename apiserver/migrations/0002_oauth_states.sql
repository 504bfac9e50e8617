-- Pending Strava OAuth `state` values: single-use, valid until `expires_at`, bound to the
-- session that asked for the authorize URL (logging out drops them). In the database so a
-- daemon restart between "Connect" and Strava's redirect does not lose them. Only the
-- SHA-256 of a state is stored, like session tokens.
CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    handle       TEXT NOT NULL REFERENCES users(handle) ON DELETE CASCADE,
    session_hash TEXT NOT NULL REFERENCES sessions(token_hash) ON DELETE CASCADE,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states(expires_at);
