//! The merged `athlete.json`: the user's settings and edits (`edits/athlete.yaml`) with
//! records, best climbs and power curves rebuilt from the listed activities.

use super::{MergeError, MergedActivity, io_err};
use bincio_bas::fsx::{self};
use bincio_bas::layout::{self, UserDir};
use bincio_bas::{Athlete, Summary, Timestamp};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The athlete keys a user may set through `edits/athlete.yaml`.
pub(super) const ATHLETE_EDIT_KEYS: [&str; 6] =
    ["max_hr", "ftp_w", "hr_zones", "power_zones", "seasons", "gear"];

pub(super) fn merge_athlete(
    user: &UserDir,
    merged_dir: &Path,
    activities: &[MergedActivity],
    write: bool,
    warnings: &mut Vec<(PathBuf, String)>,
) -> Result<(Option<Athlete>, usize), MergeError> {
    let src = user.athlete();
    let dst = merged_dir.join(layout::ATHLETE_FILE);
    let mut value: Value = match std::fs::read(&src) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        Err(_) => {
            if write && dst.exists() {
                std::fs::remove_file(&dst).map_err(io_err(&dst))?;
                return Ok((None, 1));
            }
            return Ok((None, 0));
        }
    };
    let yaml_path = user.athlete_edits();
    if let Ok(text) = std::fs::read_to_string(&yaml_path) {
        match serde_yaml::from_str::<Value>(&text) {
            Ok(Value::Object(edits)) => {
                if let Value::Object(obj) = &mut value {
                    for key in ATHLETE_EDIT_KEYS {
                        if let Some(v) = edits.get(key) {
                            obj.insert(key.to_owned(), v.clone());
                        }
                    }
                }
            }
            Ok(Value::Null) => {}
            Ok(_) => warnings.push((yaml_path, "not a mapping; ignored".to_owned())),
            Err(e) => warnings.push((yaml_path, format!("invalid YAML, ignored: {e}"))),
        }
    }
    // Records, climbs and power curves are recomputed from the merged listed activities:
    // the extracted athlete.json may name unlisted or duplicate activities and counts stats
    // a sidecar hid, and this file is published. The curves' 365- and 90-day windows end
    // at the extracted file's `generated_at`, as extraction computed them (so a rebuild of
    // the same data writes the same bytes).
    if let Value::Object(obj) = &mut value {
        let listed: Vec<&Summary> =
            activities.iter().filter(|a| a.is_listed()).map(|a| &a.summary).collect();
        obj.insert("records".to_owned(), Value::Object(crate::athlete::records(&listed)));
        let climbs = crate::athlete::best_climbs(&listed);
        obj.insert(
            "best_climbs".to_owned(),
            serde_json::to_value(climbs)
                .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        );
        let now = obj
            .get("generated_at")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse)
            .or_else(|| listed.iter().map(|s| s.started_at).max_by_key(Timestamp::unix_ms))
            .unwrap_or_default();
        let curves = crate::athlete::power_curves(&listed, now);
        obj.insert(
            "power_curve".to_owned(),
            serde_json::to_value(curves)
                .map_err(|source| MergeError::Json { path: src.clone(), source })?,
        );
    }
    let athlete: Option<Athlete> = match serde_json::from_value(value.clone()) {
        Ok(a) => Some(a),
        Err(e) => {
            warnings.push((src, format!("athlete.json not understood: {e}")));
            None
        }
    };
    let changed = if write { usize::from(fsx::write_json_if_changed(&dst, &value)?) } else { 0 };
    Ok((athlete, changed))
}
