//! `bincio-api`: the small HTTP daemon for accounts, sessions, invites, uploads and edits.
