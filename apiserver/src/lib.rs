//! `bincio-api`: the small HTTP daemon for accounts, sessions, invites, uploads and edits.
//!
//! It writes into the data directory (atomically, one writer per user folder) and drops a
//! request into `_queue/` for `bincio-gen watch`; it never renders HTML nor serves static
//! files. [`router::handle`] is the whole service as a function, callable without a socket.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod files;
pub mod handlers;
pub mod instance;
pub mod jobs;
pub mod locks;
pub mod names;
pub mod originals;
pub mod quota;
pub mod reply;
pub mod request;
pub mod router;
pub mod server;
pub mod sniff;
pub mod state;
