//! One test binary for the daemon (see STYLE.md §6.6).
// Helpers outside #[test] functions unwrap too: a test panics on any unexpected failure.
#![allow(clippy::unwrap_used)]

mod util;

mod api;
mod browser_e2e;
mod cli;
mod config;
mod e2e;
mod nginx;
mod security;
