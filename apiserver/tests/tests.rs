//! One test binary for the daemon (see STYLE.md §6.6).

mod util;

mod api;
mod security;
