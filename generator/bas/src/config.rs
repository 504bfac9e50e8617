//! The instance configuration: `{root}/bincio.toml`, one file both programs read.
//!
//! Why a file and not the daemon's database: `bincio-gen` needs some settings too (instance
//! name, tile URL, units, time zone) and a single-user host has no `instance.db` at all. The
//! file lives in the data directory, which is never published (the output folder must lie
//! outside it), and is written with mode 0600 because it holds the Strava client secret.
//!
//! Every key is optional: a missing file or key means the default (see [`KEYS`] and
//! `docs/admin.md`). Keys this version does not know are kept untouched, so a newer file
//! survives an older `bincio-api settings set`. [`update`] edits the file line by line, so
//! comments and the order of keys an admin wrote by hand stay where they were.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name inside the data directory.
pub const FILE_NAME: &str = "bincio.toml";

/// Why the configuration could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: key `{key}`: {reason}")]
    Invalid { path: PathBuf, key: String, reason: String },
    #[error("{path}: unknown key `{key}` (known keys: {known})")]
    UnknownKey { path: PathBuf, key: String, known: String },
}

/// Display units of the site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    #[default]
    Metric,
    Imperial,
}

impl Units {
    /// The spelling used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Units::Metric => "metric",
            Units::Imperial => "imperial",
        }
    }
}

/// The value type of a key, which decides how a command-line string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
}

/// One key of the file: what it holds, its default and which program reads it.
#[derive(Clone, Copy, Debug)]
pub struct KeyInfo {
    pub key: &'static str,
    pub kind: Kind,
    /// The default as written in the file; empty means "unset".
    pub default: &'static str,
    pub read_by: &'static str,
    pub help: &'static str,
}

/// Every key this version knows, in the order `settings list` prints them.
pub const KEYS: &[KeyInfo] = &[
    KeyInfo {
        key: "name",
        kind: Kind::Text,
        default: "",
        read_by: "bincio-gen",
        help: "the instance name shown in the page header, copied into the published root manifest; unset: the name already in the root manifest, else Bincio",
    },
    KeyInfo {
        key: "public_url",
        kind: Kind::Text,
        default: "",
        read_by: "bincio-api",
        help: "the site's base URL, e.g. https://rides.example.org (invite links, Origin check, Secure cookies)",
    },
    KeyInfo {
        key: "private",
        kind: Kind::Bool,
        default: "",
        read_by: "bincio-gen, bincio-api",
        help: "true: only logged-in members see the site; unset: private when instance.db exists, public otherwise",
    },
    KeyInfo {
        key: "time_zone",
        kind: Kind::Text,
        default: "UTC",
        read_by: "bincio-gen",
        help: "the instance's IANA time zone name, e.g. Europe/Rome: the local time of activities whose file has neither a UTC offset nor coordinates",
    },
    KeyInfo {
        key: "units",
        kind: Kind::Text,
        default: "metric",
        read_by: "(reserved)",
        help: "metric or imperial",
    },
    KeyInfo {
        key: "tile_url",
        kind: Kind::Text,
        default: "",
        read_by: "bincio-gen",
        help: "raster tile URL template with {z}, {x} and {y}; --tile-url overrides it",
    },
    KeyInfo {
        key: "dem_dir",
        kind: Kind::Text,
        default: "",
        read_by: "bincio-gen, bincio-api",
        help: "absolute path of a folder of SRTM (N46E013.hgt, .hgt.gz, .hgt.zip) or Copernicus (Copernicus_DSM_COG_10_N46_00_E013_00_DEM.tif) elevation tiles for recalculating elevation",
    },
    KeyInfo {
        key: "dem_url",
        kind: Kind::Text,
        default: "",
        read_by: "bincio-gen, bincio-api",
        help: "http(s) URL of an Open-Elevation-compatible service (POST {url}/api/v1/lookup); used when dem_dir is unset",
    },
    KeyInfo {
        key: "strava_client_id",
        kind: Kind::Text,
        default: "",
        read_by: "(reserved)",
        help: "the Strava API application's client ID (digits)",
    },
    KeyInfo {
        key: "strava_client_secret",
        kind: Kind::Text,
        default: "",
        read_by: "(reserved)",
        help: "the Strava API application's client secret (never printed by `settings list`)",
    },
    KeyInfo {
        key: "max_users",
        kind: Kind::Number,
        default: "0",
        read_by: "bincio-api",
        help: "accounts the instance accepts; 0 means unlimited",
    },
    KeyInfo {
        key: "max_user_invites",
        kind: Kind::Number,
        default: "3",
        read_by: "bincio-api",
        help: "invites each non-admin may ever create",
    },
    KeyInfo {
        key: "store_originals",
        kind: Kind::Bool,
        default: "true",
        read_by: "bincio-api",
        help: "keep uploaded files in {handle}/originals/",
    },
    KeyInfo {
        key: "storage_limit_mb",
        kind: Kind::Number,
        default: "5120",
        read_by: "bincio-api",
        help: "MiB each user's folder may hold; 0 means unlimited",
    },
    KeyInfo {
        key: "upload_limit_mb",
        kind: Kind::Number,
        default: "2048",
        read_by: "bincio-api",
        help: "MiB one upload may carry (a Strava export ZIP of several years, streamed to disk); 0 means only the storage limit applies",
    },
];

/// Keys whose value `settings list` masks.
pub const SECRET_KEYS: &[&str] = &["strava_client_secret"];

/// The look-up of a key's description.
pub fn key_info(key: &str) -> Option<&'static KeyInfo> {
    KEYS.iter().find(|k| k.key == key)
}

fn known_keys() -> String {
    KEYS.iter().map(|k| k.key).collect::<Vec<_>>().join(", ")
}

/// The typed configuration. Defaults are those of [`KEYS`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceConfig {
    pub name: Option<String>,
    /// Without a trailing slash.
    pub public_url: Option<String>,
    pub private: Option<bool>,
    pub time_zone: String,
    pub units: Units,
    pub tile_url: Option<String>,
    pub dem_dir: Option<PathBuf>,
    pub dem_url: Option<String>,
    pub strava_client_id: Option<String>,
    pub strava_client_secret: Option<String>,
    pub max_users: u32,
    pub max_user_invites: u32,
    pub store_originals: bool,
    pub storage_limit_mb: u32,
    pub upload_limit_mb: u32,
    /// Keys this version does not know, kept as they are.
    #[serde(skip)]
    pub unknown: BTreeMap<String, toml::Value>,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self {
            name: None,
            public_url: None,
            private: None,
            time_zone: "UTC".to_owned(),
            units: Units::Metric,
            tile_url: None,
            dem_dir: None,
            dem_url: None,
            strava_client_id: None,
            strava_client_secret: None,
            max_users: 0,
            max_user_invites: 3,
            store_originals: true,
            storage_limit_mb: 5 * 1024,
            upload_limit_mb: 2 * 1024,
            unknown: BTreeMap::new(),
        }
    }
}

// The secret never reaches a log line through `{:?}`.
impl fmt::Debug for InstanceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceConfig")
            .field("name", &self.name)
            .field("public_url", &self.public_url)
            .field("private", &self.private)
            .field("time_zone", &self.time_zone)
            .field("units", &self.units)
            .field("tile_url", &self.tile_url)
            .field("dem_dir", &self.dem_dir)
            .field("dem_url", &self.dem_url)
            .field("strava_client_id", &self.strava_client_id)
            .field("strava_client_secret", &self.strava_client_secret.as_ref().map(|_| "***"))
            .field("max_users", &self.max_users)
            .field("max_user_invites", &self.max_user_invites)
            .field("store_originals", &self.store_originals)
            .field("storage_limit_mb", &self.storage_limit_mb)
            .field("upload_limit_mb", &self.upload_limit_mb)
            .field("unknown", &self.unknown.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn http_url(v: &str) -> Result<(), String> {
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !v.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!("must be an http:// or https:// URL, got {v:?}")),
    }
}

/// An IANA zone name the zone database knows: `UTC`, `Europe/Rome`,
/// `America/Argentina/Buenos_Aires`, `Etc/GMT+5` (see [`crate::tz`]). A name of the right
/// shape that names no zone (`Europe/Atlantis`) is refused too: the generator could not give
/// activities its offset.
pub fn valid_time_zone(v: &str) -> bool {
    crate::tz::zone(v).is_some()
}

fn want_str(v: &toml::Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| format!("must be a string, got {}", v.type_str()))
}

fn want_bool(v: &toml::Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("must be true or false, got {}", v.type_str()))
}

fn want_u32(v: &toml::Value) -> Result<u32, String> {
    v.as_integer()
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| format!("must be a whole number from 0 to {}, got {v}", u32::MAX))
}

impl InstanceConfig {
    /// Read `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Io { path: path.to_path_buf(), source }),
        }
    }

    /// Parse the text of the file at `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let table = parse_table(path, text)?;
        let mut cfg = Self::default();
        for (key, value) in &table {
            if key_info(key).is_some() {
                cfg.apply(key, value).map_err(|reason| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    key: key.clone(),
                    reason,
                })?;
            } else {
                cfg.unknown.insert(key.clone(), value.clone());
            }
        }
        Ok(cfg)
    }

    /// Set one known key from a TOML value, validating it.
    fn apply(&mut self, key: &str, v: &toml::Value) -> Result<(), String> {
        let text = |v: &toml::Value| -> Result<String, String> {
            let s = want_str(v)?.trim();
            if s.is_empty() {
                return Err("must not be empty (remove the key to unset it)".to_owned());
            }
            Ok(s.to_owned())
        };
        match key {
            "name" => self.name = Some(text(v)?),
            "public_url" => {
                let s = text(v)?;
                http_url(&s)?;
                self.public_url = Some(s.trim_end_matches('/').to_owned());
            }
            "private" => self.private = Some(want_bool(v)?),
            "time_zone" => {
                let s = text(v)?;
                if !valid_time_zone(&s) {
                    return Err(format!(
                        "must be an IANA time zone name like UTC or Europe/Rome, got {s:?}"
                    ));
                }
                self.time_zone = s;
            }
            "units" => {
                self.units = match want_str(v)? {
                    "metric" => Units::Metric,
                    "imperial" => Units::Imperial,
                    other => return Err(format!("must be metric or imperial, got {other:?}")),
                }
            }
            "tile_url" => {
                let s = text(v)?;
                http_url(&s)?;
                if !(s.contains("{z}") && s.contains("{x}") && s.contains("{y}")) {
                    return Err(format!("must contain {{z}}, {{x}} and {{y}}, got {s:?}"));
                }
                self.tile_url = Some(s);
            }
            "dem_dir" => {
                let p = PathBuf::from(text(v)?);
                if !p.is_absolute() {
                    return Err(format!("must be an absolute path, got {:?}", p.display()));
                }
                self.dem_dir = Some(p);
            }
            "dem_url" => {
                let s = text(v)?;
                http_url(&s)?;
                self.dem_url = Some(s);
            }
            "strava_client_id" => {
                // Written as a number or a string by hand: both mean the same ID.
                let s = match v.as_integer() {
                    Some(i) if i > 0 => i.to_string(),
                    _ => text(v)?,
                };
                if !s.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!("must be the digits of a Strava client ID, got {s:?}"));
                }
                self.strava_client_id = Some(s);
            }
            "strava_client_secret" => {
                let s = text(v)?;
                if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err("must be letters and digits only".to_owned());
                }
                self.strava_client_secret = Some(s);
            }
            "max_users" => self.max_users = want_u32(v)?,
            "max_user_invites" => self.max_user_invites = want_u32(v)?,
            "store_originals" => self.store_originals = want_bool(v)?,
            "storage_limit_mb" => self.storage_limit_mb = want_u32(v)?,
            "upload_limit_mb" => self.upload_limit_mb = want_u32(v)?,
            _ => return Err("unknown key".to_owned()),
        }
        Ok(())
    }

    /// A key's value as `settings get` prints it; `None` when unset and without default.
    pub fn get(&self, key: &str) -> Option<String> {
        match key {
            "name" => self.name.clone(),
            "public_url" => self.public_url.clone(),
            "private" => self.private.map(|b| b.to_string()),
            "time_zone" => Some(self.time_zone.clone()),
            "units" => Some(self.units.as_str().to_owned()),
            "tile_url" => self.tile_url.clone(),
            "dem_dir" => self.dem_dir.as_ref().map(|p| p.display().to_string()),
            "dem_url" => self.dem_url.clone(),
            "strava_client_id" => self.strava_client_id.clone(),
            "strava_client_secret" => self.strava_client_secret.clone(),
            "max_users" => Some(self.max_users.to_string()),
            "max_user_invites" => Some(self.max_user_invites.to_string()),
            "store_originals" => Some(self.store_originals.to_string()),
            "storage_limit_mb" => Some(self.storage_limit_mb.to_string()),
            "upload_limit_mb" => Some(self.upload_limit_mb.to_string()),
            _ => None,
        }
    }

    /// True when elevation data is configured (a DEM folder or service).
    pub fn dem_configured(&self) -> bool {
        self.dem_dir.is_some() || self.dem_url.is_some()
    }
}

/// The keys `path` sets (known or not); a missing file sets none.
pub fn keys_in_file(path: &Path) -> Result<std::collections::BTreeSet<String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => return Err(ConfigError::Io { path: path.to_path_buf(), source }),
    };
    InstanceConfig::parse(path, &text)?;
    Ok(parse_table(path, &text)?.into_iter().map(|(k, _)| k).collect())
}

fn parse_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string().trim().to_owned(),
    })
}

/// Read a command-line string as the TOML value of `key` (`settings set`). An empty string
/// means "remove the key" and gives `None`.
pub fn value_from_cli(
    path: &Path,
    key: &str,
    raw: &str,
) -> Result<Option<toml::Value>, ConfigError> {
    let info = key_info(key).ok_or_else(|| ConfigError::UnknownKey {
        path: path.to_path_buf(),
        key: key.to_owned(),
        known: known_keys(),
    })?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = |reason: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.to_owned(),
        reason,
    };
    let value = match info.kind {
        Kind::Text => toml::Value::String(raw.to_owned()),
        Kind::Bool => match raw {
            "true" => toml::Value::Boolean(true),
            "false" => toml::Value::Boolean(false),
            _ => return Err(invalid(format!("must be true or false, got {raw:?}"))),
        },
        Kind::Number => raw
            .parse::<u32>()
            .map(|n| toml::Value::Integer(i64::from(n)))
            .map_err(|_| invalid(format!("must be a whole number, got {raw:?}")))?,
    };
    // Validate now, so the error names the key before anything is written.
    InstanceConfig::default().apply(key, &value).map_err(invalid)?;
    Ok(Some(value))
}

/// Apply `edits` (key → new value, `None` removes the key) to the file at `path` and return
/// the resulting configuration.
///
/// Read-modify-write under an exclusive lock on a sibling `.bincio.toml.lock`, so the daemon's
/// one-time migration and an admin's `settings set` cannot lose each other's change; the new
/// text replaces the file atomically (a reader sees the old or the new file, never half) with
/// mode 0600. The edit is made line by line so comments and unknown keys stay; a value this
/// simple editor cannot locate (a multi-line string, a dotted key) makes it rewrite the whole
/// file from its parsed table instead, which keeps every key but drops comments.
pub fn update(
    path: &Path,
    edits: &[(&str, Option<toml::Value>)],
) -> Result<InstanceConfig, ConfigError> {
    let io = |source| ConfigError::Io { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let lock_path = dir.join(format!(".{FILE_NAME}.lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| ConfigError::Io { path: lock_path.clone(), source })?;
    lock.lock().map_err(|source| ConfigError::Io { path: lock_path.clone(), source })?;

    let old_text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    // Refuse to build on a broken file: the error names what to fix by hand.
    InstanceConfig::parse(path, &old_text)?;
    let mut expected = parse_table(path, &old_text)?;
    let mut text = old_text;
    for (key, value) in edits {
        if key_info(key).is_none() {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: (*key).to_owned(),
                known: known_keys(),
            });
        }
        match value {
            Some(v) => expected.insert((*key).to_owned(), v.clone()),
            None => expected.remove(*key),
        };
        text = edit_line(&text, key, value.as_ref());
    }
    if parse_table(path, &text).ok().as_ref() != Some(&expected) {
        text = toml::to_string(&expected).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    let cfg = InstanceConfig::parse(path, &text)?;
    write_private(path, text.as_bytes())?;
    drop(lock);
    Ok(cfg)
}

/// Does `line` (at the top level) assign `key`?
fn assigns(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// Replace, remove or add the top-level line `key = value`, keeping every other line.
fn edit_line(text: &str, key: &str, value: Option<&toml::Value>) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    // Top-level keys end at the first table header.
    let top_end = lines.iter().position(|l| l.trim_start().starts_with('[')).unwrap_or(lines.len());
    let new_line = value.map(|v| format!("{key} = {v}\n"));
    match (lines[..top_end].iter().position(|l| assigns(l, key)), new_line) {
        (Some(i), Some(nl)) => lines[i] = nl,
        (Some(i), None) => {
            lines.remove(i);
        }
        (None, Some(nl)) => {
            if top_end > 0 && !lines[top_end - 1].ends_with('\n') {
                lines[top_end - 1].push('\n');
            }
            lines.insert(top_end, nl);
        }
        (None, None) => {}
    }
    lines.concat()
}

/// Write `bytes` to `path` atomically, durably and readable by the owner only (the file
/// holds secrets). Also tightens the mode of an existing hand-made file.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let io = |source| ConfigError::Io { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile creates the file with mode 0600 already; set it explicitly all the same so
    // the guarantee does not rest on a dependency's default.
    let mut tmp =
        tempfile::Builder::new().prefix(".bincio-").suffix(".tmp").tempfile_in(dir).map_err(io)?;
    set_owner_only(tmp.path()).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Make an existing file owner-only (an admin may have created it with a wider mode).
/// Missing file: nothing to do.
pub fn tighten_mode(path: &Path) -> Result<(), ConfigError> {
    if path.is_file() {
        set_owner_only(path)
            .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("/data/bincio.toml")
    }

    #[test]
    fn defaults_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = InstanceConfig::load(&dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(cfg, InstanceConfig::default());
        assert_eq!(cfg.time_zone, "UTC");
        assert_eq!(cfg.units, Units::Metric);
        assert_eq!((cfg.max_users, cfg.max_user_invites, cfg.storage_limit_mb), (0, 3, 5120));
        assert!(cfg.store_originals && !cfg.dem_configured());
        // Every default in KEYS is what the struct holds.
        for k in KEYS {
            assert_eq!(cfg.get(k.key).unwrap_or_default(), k.default, "{}", k.key);
        }
    }

    #[test]
    fn parses_every_key_and_keeps_unknown_ones() {
        let text = r#"
name = "Our Rides"
public_url = "https://rides.example.org/"
private = false
time_zone = "America/Argentina/Buenos_Aires"
units = "imperial"
tile_url = "https://tile.example/{z}/{x}/{y}.png"
dem_dir = "/srv/dem"
strava_client_id = 12345
strava_client_secret = "abc123"
max_users = 10
store_originals = false
future_key = [1, 2]
"#;
        let cfg = InstanceConfig::parse(&p(), text).unwrap();
        assert_eq!(cfg.name.as_deref(), Some("Our Rides"));
        assert_eq!(cfg.public_url.as_deref(), Some("https://rides.example.org"));
        assert_eq!(cfg.private, Some(false));
        assert_eq!(cfg.units, Units::Imperial);
        assert_eq!(cfg.strava_client_id.as_deref(), Some("12345"));
        assert_eq!(cfg.max_users, 10);
        assert!(!cfg.store_originals && cfg.dem_configured());
        assert_eq!(cfg.unknown.keys().collect::<Vec<_>>(), ["future_key"]);
        assert!(!format!("{cfg:?}").contains("abc123"), "Debug hides the secret");
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        for (text, key) in [
            ("time_zone = \"Mars/../Olympus\"", "time_zone"),
            ("time_zone = \"not a zone\"", "time_zone"),
            ("units = \"furlongs\"", "units"),
            ("max_users = -1", "max_users"),
            ("max_users = \"10\"", "max_users"),
            ("public_url = \"ftp://x\"", "public_url"),
            ("tile_url = \"https://t.example/{z}.png\"", "tile_url"),
            ("dem_dir = \"relative/dem\"", "dem_dir"),
            ("store_originals = \"yes\"", "store_originals"),
            ("strava_client_id = \"12a\"", "strava_client_id"),
        ] {
            let e = InstanceConfig::parse(&p(), text).unwrap_err().to_string();
            assert!(
                e.starts_with("/data/bincio.toml: key `") && e.contains(&format!("`{key}`")),
                "{text}: {e}"
            );
        }
        let e = InstanceConfig::parse(&p(), "name = ").unwrap_err().to_string();
        assert!(e.starts_with("/data/bincio.toml: not valid TOML"), "{e}");
        let e = value_from_cli(&p(), "bogus", "1").unwrap_err().to_string();
        assert!(e.contains("/data/bincio.toml") && e.contains("`bogus`"), "{e}");
        let e = value_from_cli(&p(), "max_users", "lots").unwrap_err().to_string();
        assert!(e.contains("/data/bincio.toml") && e.contains("`max_users`"), "{e}");
    }

    #[test]
    fn time_zone_shapes() {
        for ok in ["UTC", "Europe/Rome", "Etc/GMT+5", "America/Port-au-Prince"] {
            assert!(valid_time_zone(ok), "{ok}");
        }
        // The right shape is not enough: the zone must exist in the database.
        for bad in
            ["", "Europe/", "/Rome", "../etc/passwd", "Europe Rome", "9/Zone", "Europe/Atlantis"]
        {
            assert!(!valid_time_zone(bad), "{bad}");
        }
    }

    #[test]
    fn update_keeps_comments_unknown_keys_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            "# my instance\nname = \"Old\" # inline\nfuture = 1\n\n[extra]\nx = \"y\"\n",
        )
        .unwrap();
        let cfg = update(
            &path,
            &[
                ("name", Some(toml::Value::String("New \"quoted\"".into()))),
                ("max_users", Some(toml::Value::Integer(7))),
            ],
        )
        .unwrap();
        assert_eq!(cfg.name.as_deref(), Some("New \"quoted\""));
        assert_eq!(cfg.max_users, 7);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# my instance\nname = 'New \"quoted\"'\nfuture = 1\n\nmax_users = 7\n[extra]\nx = \"y\"\n"
        );
        let cfg = update(&path, &[("name", None)]).unwrap();
        assert_eq!(cfg.name, None);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("name ="));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn update_rewrites_what_it_cannot_edit_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "name = \"\"\"\nTwo\nlines\"\"\"\nkeep = true\n").unwrap();
        let cfg = update(&path, &[("name", Some(toml::Value::String("One".into())))]).unwrap();
        assert_eq!(cfg.name.as_deref(), Some("One"));
        assert_eq!(cfg.unknown.get("keep"), Some(&toml::Value::Boolean(true)));
    }

    #[test]
    fn update_refuses_a_broken_file_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "units = \"furlongs\"\n").unwrap();
        let e = update(&path, &[("max_users", Some(toml::Value::Integer(1)))]).unwrap_err();
        assert!(e.to_string().contains("`units`"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "units = \"furlongs\"\n");
    }
}
