//! The BAS v1 contract shared by `bincio-gen` and `bincio-api`.
//!
//! Both programs read and write the same data directory. This crate is the one place that
//! spells its file names ([`layout`]), its JSON shapes ([`bas`]), its handle rules
//! ([`handle`]), its sidecar edits ([`sidecar`]), which fields a hidden stat covers
//! ([`hidden`]), the root manifest's writer lock ([`manifest`]), the instance configuration
//! both programs read ([`config`]), how a file is replaced without readers ever seeing half
//! of it ([`fsx`]), and how a time-zone name becomes an offset ([`tz`]).
//! It deliberately depends on nothing heavier than serde (JSON, YAML, TOML), `time` and the
//! IANA zone rules (`chrono-tz`), so the daemon does not pull in the renderer's dependencies.

pub mod bas;
pub mod config;
pub mod fsx;
pub mod handle;
pub mod hidden;
pub mod layout;
pub mod lenient;
pub mod manifest;
pub mod net;
pub mod queue;
pub mod report;
pub mod sidecar;
pub mod strava;
pub mod timestamp;
pub mod tz;

pub use bas::*;
pub use config::{ConfigError, InstanceConfig};
pub use handle::{Handle, HandleError};
pub use hidden::{HiddenStat, HiddenStats};
pub use layout::InstanceRoot;
pub use timestamp::Timestamp;

/// The BAS version this implementation writes. Readers accept any `1.x`.
pub const BAS_VERSION: &str = "1.0";

/// True when a `bas_version` string is one we can read (major version 1 or absent).
pub fn is_supported_version(version: &str) -> bool {
    let major = version.split('.').next().unwrap_or("");
    major.trim().parse::<u32>().map(|m| m <= 1).unwrap_or(false)
}
