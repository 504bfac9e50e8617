//! Sidecar edits `{handle}/edits/{id}.md`: the one parser and the one writer.
//!
//! The daemon writes sidecars and reads them back to pre-fill the edit form; the generator
//! reads them to merge edits into `_merged/`. Both used to parse the file their own way and
//! disagreed (`private: "1"`, a byte-order mark, a YAML error), so an activity could be
//! private for one program and public for the other. Now both call [`Sidecar::parse`].
//!
//! Format: optional YAML front matter between a first line `---` and the next line `---`
//! (trailing blanks and CRLF allowed), then a markdown body. Without that fence the whole
//! text is the body. A leading byte-order mark is ignored. Reading is lenient about YAML
//! spellings (`true/yes/on/1/"1"/True`; `hide_stats` as a flow or block list or a single
//! string) and strict about broken YAML: [`SidecarError`] names the file and the reason,
//! and nobody silently reads a broken sidecar as "no edits" (the daemon would then
//! overwrite the user's fields with blanks, the merge would publish what was hidden).

use crate::hidden::{HiddenStat, HiddenStats};
use serde_yaml::Value;
use std::path::{Path, PathBuf};

/// Sports a sidecar may set (`other` is accepted from the form but never written).
pub const SPORTS: &[&str] =
    &["cycling", "running", "hiking", "walking", "swimming", "skiing", "other"];

/// A sidecar that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: front matter: {reason}")]
    FrontMatter { path: PathBuf, reason: String },
}

/// The edits of one activity. `None` means "not set in the file" (the extracted value, or
/// for `private` and `hide_stats` what the activity's duplicates chose, applies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sidecar {
    pub title: Option<String>,
    pub sport: Option<String>,
    pub gear: Option<String>,
    pub highlight: Option<bool>,
    /// `Some(false)` is an explicit choice to publish (written as `private: false`).
    pub private: Option<bool>,
    /// Names as written; `Some(vec![])` is an explicit "hide nothing".
    pub hide_stats: Option<Vec<String>>,
    /// The body when there is one, else the front matter's `description`.
    pub description: Option<String>,
    /// How the published altitude is computed: `None` is the device's own (the default,
    /// and what "restore" returns to). Kept by every edit, re-extraction and rebuild.
    pub elevation: Option<ElevationChoice>,
}

/// The per-activity elevation choice of a sidecar (`elevation: dem` or `elevation: smoothing`).
/// See `docs/extraction.md`, "Recalculating elevation".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElevationChoice {
    /// Altitude from a terrain model (SRTM tiles or an elevation service).
    Dem,
    /// The recorded altitude, smoothed and measured with the documented dead band even when
    /// the device reported its own totals.
    Smoothing,
}

impl ElevationChoice {
    /// The spelling in the sidecar, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ElevationChoice::Dem => "dem",
            ElevationChoice::Smoothing => "smoothing",
        }
    }

    /// Read a spelling (`dem`, `smoothing`; `hysteresis` is the reference's name for the
    /// latter). Anything else is `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "dem" => Some(ElevationChoice::Dem),
            "smoothing" | "hysteresis" => Some(ElevationChoice::Smoothing),
            _ => None,
        }
    }
}

fn quoted(s: &str) -> String {
    // JSON string syntax is a subset of YAML double-quoted scalars.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Split `text` into (front matter, body) when it opens with a `---` fence line that a
/// second one closes; `None` otherwise.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let is_fence =
        |line: &str| line.trim_end_matches(['\n', '\r']).trim_end_matches([' ', '\t']) == "---";
    let mut lines = text.split_inclusive('\n');
    let first = lines.next()?;
    if !is_fence(first) {
        return None;
    }
    let mut pos = first.len();
    for line in lines {
        if is_fence(line) {
            return Some((&text[first.len()..pos], &text[pos + line.len()..]));
        }
        pos += line.len();
    }
    None
}

/// A scalar as text (`None` for null, so `title:` with no value does not become "null").
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Python truthiness (the format comes from a Python tool), plus the YAML 1.1 false words
/// (`no`, `off`, `false`) that PyYAML read as booleans and YAML 1.2 reads as strings.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => {
            !matches!(s.trim().to_ascii_lowercase().as_str(), "" | "no" | "off" | "false")
        }
        Value::Sequence(s) => !s.is_empty(),
        Value::Mapping(m) => !m.is_empty(),
        Value::Tagged(_) => true,
    }
}

impl Sidecar {
    /// Parse a sidecar's text. The error is the YAML reason (see [`Sidecar::read`] for one
    /// that names the file).
    pub fn parse(text: &str) -> Result<Sidecar, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some((yaml, body)) = split_front_matter(text) else {
            let body = text.trim();
            return Ok(Sidecar {
                description: (!body.is_empty()).then(|| body.to_owned()),
                ..Sidecar::default()
            });
        };
        let front = if yaml.trim().is_empty() {
            serde_yaml::Mapping::new()
        } else {
            match serde_yaml::from_str::<Value>(yaml) {
                Ok(Value::Mapping(m)) => m,
                Ok(Value::Null) => serde_yaml::Mapping::new(),
                Ok(_) => return Err("not a mapping".to_owned()),
                Err(e) => return Err(e.to_string()),
            }
        };
        let get = |k: &str| front.get(k).filter(|v| !v.is_null());
        let body = body.trim();
        Ok(Sidecar {
            title: get("title").and_then(as_text),
            sport: get("sport").and_then(as_text).map(|s| s.trim().to_owned()),
            gear: get("gear").and_then(as_text).filter(|g| !g.trim().is_empty()),
            highlight: front.get("highlight").map(truthy),
            private: front.get("private").map(truthy),
            hide_stats: front.get("hide_stats").map(|v| match v {
                Value::Sequence(items) => items.iter().filter_map(as_text).collect(),
                // One string: a single name, or a comma-separated list written by hand.
                Value::String(s) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }),
            description: if body.is_empty() {
                get("description").and_then(as_text)
            } else {
                Some(body.to_owned())
            },
            // An unknown spelling reads as "the device's altitude", the safe default.
            elevation: get("elevation")
                .and_then(as_text)
                .and_then(|s| ElevationChoice::from_name(&s)),
        })
    }

    /// Read `path`: `Ok(None)` when there is no sidecar.
    pub fn read(path: &Path) -> Result<Option<Sidecar>, SidecarError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SidecarError::Io { path: path.to_path_buf(), source }),
        };
        Sidecar::parse(&text)
            .map(Some)
            .map_err(|reason| SidecarError::FrontMatter { path: path.to_path_buf(), reason })
    }

    /// The hidden stats this sidecar names (unknown names ignored).
    pub fn hidden(&self) -> HiddenStats {
        HiddenStats::from_names(self.hide_stats.iter().flatten().map(String::as_str))
    }

    /// The file text in the editor's form: each line only when set, in the editor's order.
    /// `private: false` and `hide_stats: []` are written when set explicitly, so an owner's
    /// later choice to publish is on record (see `docs/site.md`, "Privacy across duplicates").
    pub fn render(&self) -> String {
        let mut out = String::from("---\n");
        if let Some(t) = self.title.as_deref().filter(|t| !t.is_empty()) {
            out += &format!("title: {}\n", quoted(t));
        }
        if let Some(s) = self.sport.as_deref().filter(|s| *s != "other" && SPORTS.contains(s)) {
            out += &format!("sport: {s}\n");
        }
        if let Some(g) = self.gear.as_deref().filter(|g| !g.is_empty()) {
            out += &format!("gear: {}\n", quoted(g));
        }
        if self.highlight == Some(true) {
            out += "highlight: true\n";
        }
        if let Some(p) = self.private {
            out += &format!("private: {p}\n");
        }
        if let Some(names) = &self.hide_stats {
            let known: Vec<&str> = names
                .iter()
                .filter_map(|n| HiddenStat::from_name(n))
                .map(HiddenStat::as_str)
                .collect();
            out += &format!("hide_stats: [{}]\n", known.join(", "));
        }
        if let Some(e) = self.elevation {
            out += &format!("elevation: {}\n", e.as_str());
        }
        out += "---\n";
        if let Some(d) = self.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            out += &format!("\n{d}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Sidecar {
        Sidecar::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn renders_the_editor_example_and_reads_it_back() {
        let s = Sidecar {
            title: Some("Épic \"climb\"".into()),
            sport: Some("cycling".into()),
            gear: Some("Trek".into()),
            highlight: Some(true),
            private: Some(true),
            hide_stats: None,
            description: Some("Hello\nworld".into()),
            elevation: None,
        };
        assert_eq!(
            s.render(),
            "---\ntitle: \"Épic \\\"climb\\\"\"\nsport: cycling\ngear: \"Trek\"\nhighlight: true\nprivate: true\n---\n\nHello\nworld\n"
        );
        assert_eq!(parse(&s.render()), s);
        assert_eq!(Sidecar::default().render(), "---\n---\n");
    }

    #[test]
    fn explicit_choices_are_written() {
        let s = Sidecar {
            sport: Some("other".into()),
            private: Some(false),
            hide_stats: Some(vec!["power".into(), "bogus".into(), "elevation".into()]),
            ..Sidecar::default()
        };
        assert_eq!(s.render(), "---\nprivate: false\nhide_stats: [power, elevation]\n---\n");
        let cleared = Sidecar { hide_stats: Some(vec![]), ..Sidecar::default() };
        assert_eq!(parse(&cleared.render()).hide_stats, Some(vec![]));
    }

    #[test]
    fn every_truthy_spelling_reads_the_same() {
        for v in ["true", "True", "TRUE", "yes", "on", "1", "\"1\"", "'yes'", "\"true\""] {
            assert_eq!(parse(&format!("---\nprivate: {v}\n---\n")).private, Some(true), "{v}");
        }
        for v in ["false", "False", "no", "off", "0", "\"no\"", "''", "~", ""] {
            assert_eq!(parse(&format!("---\nprivate: {v}\n---\n")).private, Some(false), "{v}");
        }
        assert_eq!(parse("---\ntitle: x\n---\n").private, None);
    }

    #[test]
    fn bom_crlf_body_and_lists() {
        let s = parse(
            "\u{feff}---\r\ntitle: Morning\r\nhide_stats:\r\n  - power\r\n  - cadence\r\n---\r\n\r\nbody\r\n",
        );
        assert_eq!(s.title.as_deref(), Some("Morning"));
        assert_eq!(s.hide_stats, Some(vec!["power".to_owned(), "cadence".to_owned()]));
        assert_eq!(s.description.as_deref(), Some("body"));
        assert_eq!(parse("---\nhide_stats: power\n---\n").hidden().names(), ["power"]);
        let s = parse("---\ndescription: fm\n---\n\nbody\n---\nmore\n");
        assert_eq!(s.description.as_deref(), Some("body\n---\nmore"));
        assert_eq!(parse("---\ndescription: fm\n---\n").description.as_deref(), Some("fm"));
        assert_eq!(parse("  just words\n").description.as_deref(), Some("just words"));
        assert_eq!(
            parse("---\ntitle: x\nno closing").description.as_deref(),
            Some("---\ntitle: x\nno closing")
        );
        assert_eq!(parse("---\n---\n"), Sidecar::default());
        assert!(Sidecar::parse("---\ntitle: [unclosed\n---\n").is_err());
        assert!(Sidecar::parse("---\n- a list\n---\n").is_err());
    }

    #[test]
    fn elevation_choice_round_trips_and_unknown_reads_as_device() {
        let s = Sidecar {
            title: Some("x".into()),
            elevation: Some(ElevationChoice::Dem),
            ..Sidecar::default()
        };
        assert_eq!(s.render(), "---\ntitle: \"x\"\nelevation: dem\n---\n");
        assert_eq!(parse(&s.render()), s);
        assert_eq!(
            parse("---\nelevation: hysteresis\n---\n").elevation,
            Some(ElevationChoice::Smoothing)
        );
        assert_eq!(
            parse("---\nelevation: Smoothing\n---\n").elevation,
            Some(ElevationChoice::Smoothing)
        );
        assert_eq!(parse("---\nelevation: lidar\n---\n").elevation, None);
    }
}
