//! `extract_config.yaml`: the reference's configuration format, still accepted as is.
//!
//! ```yaml
//! owner: { handle: dave, display_name: Dave }
//! input: { dirs: [~/rides], metadata_csv: ~/strava/activities.csv }
//! output: { dir: ~/bincio_data }        # the handle is appended: ~/bincio_data/dave/
//! default_privacy: public
//! sensors: { heart_rate: true, cadence: true, temperature: true, power: true }
//! track: { rdp_epsilon: 0.0001 }
//! workers: 4
//! dem: ~/srtm                          # SRTM tiles: terrain altitude for every activity
//! athlete: { max_hr: 190, ftp_w: 250, hr_zones: [[0,120],[120,150]], power_zones: [...] }
//! ```
//! Keys the reference parsed but never used (`classifier`, `incremental`, `track.simplify`,
//! `track.timeseries_hz`) are accepted and ignored; `sensors.*` is honoured: a disabled
//! sensor's channel is dropped before anything is computed or published.

use bincio_bas::{AthleteSettings, Privacy};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid YAML: {source}")]
    Yaml {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("{path}: field `{field}`: {reason}")]
    Field { path: PathBuf, field: &'static str, reason: String },
}

/// The GeoJSON simplification tolerance in degrees (BAS default).
pub const DEFAULT_RDP_EPSILON_DEG: f64 = 0.0001;

/// Which sensor channels to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Sensors {
    pub heart_rate: bool,
    pub cadence: bool,
    pub temperature: bool,
    pub power: bool,
}

impl Default for Sensors {
    fn default() -> Self {
        Self { heart_rate: true, cadence: true, temperature: true, power: true }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawOwner {
    handle: Option<String>,
    display_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawInput {
    dirs: Vec<String>,
    metadata_csv: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawOutput {
    dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawTrack {
    rdp_epsilon: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConfig {
    owner: RawOwner,
    input: RawInput,
    output: RawOutput,
    default_privacy: Option<String>,
    sensors: Sensors,
    track: RawTrack,
    workers: Option<usize>,
    athlete: Option<AthleteSettings>,
    dem: Option<String>,
}

/// A validated extract configuration (file values; the CLI overrides some of them).
#[derive(Clone, Debug, PartialEq)]
pub struct ExtractConfig {
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub input_dirs: Vec<PathBuf>,
    pub metadata_csv: Option<PathBuf>,
    pub output_dir: Option<PathBuf>,
    pub default_privacy: Privacy,
    pub sensors: Sensors,
    pub rdp_epsilon: f64,
    pub workers: Option<usize>,
    pub athlete: Option<AthleteSettings>,
    /// `dem: ~/srtm`: a folder of SRTM tiles whose terrain heights replace the recorded
    /// altitude of every activity extracted (as `--dem`).
    pub dem: Option<PathBuf>,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        Self {
            handle: None,
            display_name: None,
            input_dirs: Vec::new(),
            metadata_csv: None,
            output_dir: None,
            default_privacy: Privacy::Public,
            sensors: Sensors::default(),
            rdp_epsilon: DEFAULT_RDP_EPSILON_DEG,
            workers: None,
            athlete: None,
            dem: None,
        }
    }
}

/// Expand a leading `~/` with `$HOME`.
pub fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(p)
}

impl ExtractConfig {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parse config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_yaml::from_str(text)
                .map_err(|source| ConfigError::Yaml { path: path.to_path_buf(), source })?
        };
        let default_privacy = match raw.default_privacy.as_deref() {
            None => Privacy::Public,
            Some(p) => Privacy::from_bas(p).ok_or_else(|| ConfigError::Field {
                path: path.to_path_buf(),
                field: "default_privacy",
                reason: format!("{p:?} is not one of public, blur_start, no_gps, unlisted"),
            })?,
        };
        let rdp_epsilon = raw.track.rdp_epsilon.unwrap_or(DEFAULT_RDP_EPSILON_DEG);
        if !(rdp_epsilon.is_finite() && rdp_epsilon >= 0.0) {
            return Err(ConfigError::Field {
                path: path.to_path_buf(),
                field: "track.rdp_epsilon",
                reason: "must be a non-negative number of degrees".into(),
            });
        }
        if raw.workers == Some(0) {
            return Err(ConfigError::Field {
                path: path.to_path_buf(),
                field: "workers",
                reason: "must be at least 1".into(),
            });
        }
        let athlete = raw.athlete.filter(|a| *a != AthleteSettings::default());
        Ok(Self {
            handle: raw.owner.handle,
            display_name: raw.owner.display_name,
            input_dirs: raw.input.dirs.iter().map(|d| expand_home(d)).collect(),
            metadata_csv: raw.input.metadata_csv.as_deref().map(expand_home),
            output_dir: raw.output.dir.as_deref().map(expand_home),
            default_privacy,
            sensors: raw.sensors,
            rdp_epsilon,
            workers: raw.workers,
            athlete,
            dem: raw.dem.as_deref().map(expand_home),
        })
    }
}

/// The user directory for an output dir and handle: the handle is appended unless the
/// directory is already named after it (the reference's rule, so old configs keep working).
pub fn user_dir_for(output_dir: &Path, handle: &str) -> PathBuf {
    if output_dir.file_name().and_then(|n| n.to_str()) == Some(handle) {
        output_dir.to_path_buf()
    } else {
        output_dir.join(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_example() {
        let text = r#"
owner:
  handle: dave
  display_name: Dave
input:
  dirs: [/data/rides]
  metadata_csv: /data/activities.csv
output:
  dir: /srv/bincio_data
default_privacy: blur_start
sensors: { power: false }
track: { simplify: rdp, rdp_epsilon: 0.0002, timeseries_hz: 1 }
classifier: { enabled: false }
incremental: true
workers: 2
athlete: { max_hr: 190, ftp_w: 250, hr_zones: [[0, 120], [120, 190]] }
"#;
        let c = ExtractConfig::parse(text, Path::new("x.yaml")).unwrap();
        assert_eq!(c.handle.as_deref(), Some("dave"));
        assert_eq!(c.input_dirs, vec![PathBuf::from("/data/rides")]);
        assert_eq!(c.default_privacy, Privacy::BlurStart);
        assert!(!c.sensors.power && c.sensors.heart_rate);
        assert_eq!(c.rdp_epsilon, 0.0002);
        let a = c.athlete.unwrap();
        assert_eq!(a.max_hr, Some(190));
        assert_eq!(a.hr_zones.unwrap().len(), 2);
        assert_eq!(
            user_dir_for(Path::new("/srv/bincio_data"), "dave"),
            PathBuf::from("/srv/bincio_data/dave")
        );
        assert_eq!(user_dir_for(Path::new("/srv/dave"), "dave"), PathBuf::from("/srv/dave"));
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = ExtractConfig::parse("default_privacy: secret", Path::new("c.yaml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml: field `default_privacy`: \"secret\" is not one of public, blur_start, no_gps, unlisted"
        );
        assert!(ExtractConfig::parse("owner: [", Path::new("c.yaml")).is_err());
    }
}
