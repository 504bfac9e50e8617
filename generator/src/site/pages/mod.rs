//! One module per page family; each returns the output paths it produced.

pub mod activity;
pub mod feed;
pub mod shared;
pub mod user;
