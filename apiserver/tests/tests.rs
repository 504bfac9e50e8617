//! One test binary for the daemon: each file under `tests/` would be its own binary, linked
//! against the whole crate, and on two cores one binary per crate folder links much faster.
// Helpers outside #[test] functions unwrap too: a test panics on any unexpected failure.
#![allow(clippy::unwrap_used)]

mod util;

mod api;
mod browser_e2e;
mod cli;
mod config;
mod e2e;
mod federation;
mod nginx;
mod privacy_nginx;
mod security;
