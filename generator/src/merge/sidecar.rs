//! Applying a sidecar edit (`edits/{id}.md`, parsed by `bincio_bas::sidecar`) to an
//! activity's published detail and summary.

use bincio_bas::sidecar::Sidecar;
use bincio_bas::{Detail, Privacy, Sport, Summary};
use serde_json::{Map, Value};

/// The sport a sidecar names (an unknown name reads as `other`).
pub(super) fn sidecar_sport(sc: &Sidecar) -> Option<Sport> {
    sc.sport.as_deref().map(|s| Sport::from_bas(s).unwrap_or(Sport::Other))
}

/// Apply a sidecar (parsed by `bincio_bas::sidecar`, as the daemon parses it) to a detail:
/// title, sport, gear, description, highlight, private, hide_stats. `extracted` is the
/// privacy before any edit, restored when `private` is falsy.
pub fn apply_sidecar_detail(detail: &mut Detail, sc: &Sidecar, extracted: Privacy) {
    if let Some(t) = &sc.title {
        detail.title = Some(t.clone());
    }
    if let Some(s) = sidecar_sport(sc) {
        detail.sport = s;
    }
    if let Some(g) = &sc.gear {
        detail.gear = Some(g.clone());
    }
    if let Some(d) = &sc.description {
        detail.description = Some(d.clone());
    }
    if let Some(h) = sc.highlight {
        detail.custom.insert("highlight".to_owned(), Value::Bool(h));
    }
    if let Some(p) = sc.private {
        detail.privacy = if p { Privacy::Unlisted } else { extracted };
    }
    if let Some(hs) = &sc.hide_stats {
        detail.custom.insert(
            "hide_stats".to_owned(),
            Value::Array(hs.iter().cloned().map(Value::String).collect()),
        );
    }
}

/// Apply a sidecar to a feed card: only title, sport, highlight and private (as the reference).
pub fn apply_sidecar_summary(summary: &mut Summary, sc: &Sidecar, extracted: Privacy) {
    if let Some(t) = &sc.title {
        summary.title = Some(t.clone());
    }
    if let Some(s) = sidecar_sport(sc) {
        summary.sport = s;
    }
    let custom = summary.custom.get_or_insert_with(Map::new);
    if let Some(h) = sc.highlight {
        custom.insert("highlight".to_owned(), Value::Bool(h));
    }
    if let Some(p) = sc.private {
        summary.privacy = if p { Privacy::Unlisted } else { extracted };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_wins_over_description_and_private_round_trips() {
        let mut d = Detail { id: "a".into(), privacy: Privacy::BlurStart, ..Detail::default() };
        let sc =
            Sidecar::parse("---\ndescription: fm\nprivate: yes\ntitle:\n---\nbody text").unwrap();
        apply_sidecar_detail(&mut d, &sc, Privacy::BlurStart);
        assert_eq!(d.description.as_deref(), Some("body text"));
        assert_eq!(d.privacy, Privacy::Unlisted);
        assert_eq!(d.title, None, "an empty title: must not become \"None\"");
        let sc = Sidecar::parse("---\nprivate: false\n---\n").unwrap();
        apply_sidecar_detail(&mut d, &sc, Privacy::BlurStart);
        assert_eq!(d.privacy, Privacy::BlurStart);
    }
}
