//! Sidecar edits `edits/{id}.md`: written in the editor's exact form (BAS.md and
//! extract-and-merge §8.5), read leniently (any YAML front matter the reference wrote).

use serde_yaml::Value;

/// Sports a sidecar may set (`other` is accepted from the form but never written).
pub const SPORTS: &[&str] =
    &["cycling", "running", "hiking", "walking", "swimming", "skiing", "other"];

/// The editable fields of one activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sidecar {
    pub title: Option<String>,
    pub sport: Option<String>,
    pub gear: Option<String>,
    pub highlight: bool,
    pub private: bool,
    pub hide_stats: Vec<String>,
    pub description: Option<String>,
}

fn quoted(s: &str) -> String {
    // JSON string syntax is a subset of YAML double-quoted scalars.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Sidecar {
    /// The file text, each line only when set, in the editor's order.
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
        if self.highlight {
            out += "highlight: true\n";
        }
        if self.private {
            out += "private: true\n";
        }
        let hide: Vec<&str> = self
            .hide_stats
            .iter()
            .map(String::as_str)
            .filter(|s| bincio_bas::HiddenStat::from_name(s).is_some())
            .collect();
        if !hide.is_empty() {
            out += &format!("hide_stats: [{}]\n", hide.join(", "));
        }
        out += "---\n";
        if let Some(d) = self.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            out += &format!("\n{d}\n");
        }
        out
    }

    /// Parse a sidecar as the merge does: front matter between `---` lines, then the body.
    /// Unparsable YAML yields empty fields rather than an error (the file is the user's).
    pub fn parse(text: &str) -> Self {
        let (fm, body) = split_front_matter(text);
        let map = serde_yaml::from_str::<Value>(fm).ok();
        let get = |k: &str| map.as_ref().and_then(|m| m.get(k)).filter(|v| !v.is_null());
        let as_text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let truthy = |v: Option<&Value>| match v {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => {
                matches!(s.to_ascii_lowercase().as_str(), "yes" | "on" | "true")
            }
            Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
            _ => false,
        };
        let body = body.trim();
        Self {
            title: get("title").and_then(as_text),
            sport: get("sport").and_then(as_text),
            gear: get("gear").and_then(as_text),
            highlight: truthy(get("highlight")),
            private: truthy(get("private")),
            hide_stats: match get("hide_stats") {
                Some(Value::Sequence(s)) => s.iter().filter_map(as_text).collect(),
                _ => Vec::new(),
            },
            description: if body.is_empty() {
                get("description").and_then(as_text)
            } else {
                Some(body.to_owned())
            },
        }
    }
}

fn split_front_matter(text: &str) -> (&str, &str) {
    if !text.starts_with("---") {
        return ("", text);
    }
    // Split on lines that are exactly `---` (plus trailing blanks), at most twice.
    let mut fences = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']).trim_end_matches([' ', '\t']) == "---" {
            fences.push((pos, pos + line.len()));
            if fences.len() == 2 {
                break;
            }
        }
        pos += line.len();
    }
    match fences.as_slice() {
        [(_, a_end), (b_start, b_end)] => (&text[*a_end..*b_start], &text[*b_end..]),
        _ => ("", text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_reference_example() {
        let s = Sidecar {
            title: Some("Épic \"climb\"".into()),
            sport: Some("cycling".into()),
            gear: Some("Trek".into()),
            highlight: true,
            private: true,
            hide_stats: vec![],
            description: Some("Hello\nworld".into()),
        };
        assert_eq!(
            s.render(),
            "---\ntitle: \"Épic \\\"climb\\\"\"\nsport: cycling\ngear: \"Trek\"\nhighlight: true\nprivate: true\n---\n\nHello\nworld\n"
        );
        assert_eq!(Sidecar::parse(&s.render()), s);
    }

    #[test]
    fn empty_and_filtered_fields() {
        let s = Sidecar {
            sport: Some("other".into()),
            hide_stats: vec!["power".into(), "bogus".into(), "elevation".into()],
            ..Default::default()
        };
        assert_eq!(s.render(), "---\nhide_stats: [power, elevation]\n---\n");
        assert_eq!(Sidecar::default().render(), "---\n---\n");
    }

    #[test]
    fn reads_reference_yaml_and_body_with_rulers() {
        let text = "---\ntitle: Morning\nprivate: yes\ndescription: fm\n---\n\nbody\n---\nmore\n";
        let s = Sidecar::parse(text);
        assert_eq!(s.title.as_deref(), Some("Morning"));
        assert!(s.private);
        assert_eq!(s.description.as_deref(), Some("body\n---\nmore"));
        assert_eq!(
            Sidecar::parse("no front matter").description.as_deref(),
            Some("no front matter")
        );
    }
}
