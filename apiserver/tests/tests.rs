//! One test binary for the daemon: each file under `tests/` would be its own binary, linked
//! against the whole crate, and on two cores one binary per crate folder links much faster.
// Helpers outside #[test] functions unwrap too: a test panics on any unexpected failure.
#![allow(clippy::unwrap_used)]

mod util;

/// The stand-in Strava server, shared with the generator's tests.
#[path = "../../generator/tests/support/strava_standin.rs"]
mod strava_standin;

mod a11y;
/// The Strava bulk export ZIP builder, shared with the generator's tests.
#[path = "../../generator/tests/support/strava_export.rs"]
mod strava_export;

mod api;
mod browser_e2e;
mod cli;
mod config;
mod e2e;
mod elevation;
mod federation;
mod nginx;
mod privacy_nginx;
mod security;
mod strava_e2e;
