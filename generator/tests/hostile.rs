//! Hostile strings in everything a user or an activity file controls: every page of the
//! rendered site must show them as text, never as markup (`docs/site.md`, "Escaping").
//!
//! The fuzz-style test gives each field a unique marker and a list of payloads around it
//! (tags, attribute breakouts, `]]>`, `</script>`, Tera syntax, `javascript:` links,
//! entities, control characters, RTL overrides, 20 000 characters), renders the site and walks
//! every output file. The check is parse-free: the markup a payload opens right before or
//! after its marker must never appear raw next to that marker in any HTML, SVG or XML file.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

mod common;

use bincio_gen::extract::{self, ExtractOptions};
use common::build;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The payload found on a real instance: a season name that closed the power-curve SVG's
/// `<title>` and redirected every visitor of the athlete page with a `<meta>` refresh.
#[test]
fn a_season_name_reaches_the_power_curve_only_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("site");
    // A ride with power, so the power curve (and its per-season lines) is drawn.
    let mut opts = ExtractOptions::new(data.join("eve"), "eve");
    opts.inputs = vec![repo().join("fixtures/activities/fit/synth-ride-smart.fit")];
    let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert_eq!(report.new_ids.len(), 1, "{:?}", report.failed);
    let payload = r#"S1</title><img src=/x onerror=alert(1)><meta http-equiv=refresh content="2;url=/login/?x">"#;
    std::fs::create_dir_all(data.join("eve/edits")).unwrap();
    std::fs::write(
        data.join("eve/edits/athlete.yaml"),
        format!("ftp_w: 250\nseasons:\n  - name: '{payload}'\n    start: '2000-01-01'\n"),
    )
    .unwrap();
    build(&data, &out);
    let page = std::fs::read_to_string(out.join("u/eve/athlete/index.html")).unwrap();
    let escaped = "S1&lt;/title&gt;&lt;img src=/x onerror=alert(1)&gt;&lt;meta http-equiv=refresh content=&quot;2;url=/login/?x&quot;&gt;";
    // Never as markup ...
    assert!(!page.contains("S1</title>"), "the season name closes a <title>");
    assert!(!page.contains("<meta http-equiv=refresh"), "raw <meta> refresh in the page");
    assert!(!page.contains("<img src=/x"), "raw <img> in the page");
    // ... but shown, as text: in the legend and in the curve's tooltips.
    let shown = page.matches(escaped).count();
    assert!(shown >= 2, "season name shown escaped {shown} times, expected legend + tooltips");
}

/// How a hostile string is rendered: as escaped text (Tera or `svg.rs`), or as markdown
/// sanitised by ammonia (descriptions), where quotes stay raw in text and `&lt;` is markdown's
/// own entity, so only raw tags count as an escape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Text,
    Markdown,
}

/// Where a field is expected in the output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shown {
    /// In at least one HTML page.
    Html,
    /// Published in the BAS JSON under `/data/` only: no page shows it (why, for the failure
    /// message).
    JsonOnly(&'static str),
    /// Nowhere at all: the value is normalised to a fixed vocabulary.
    Nowhere(&'static str),
}

/// One user- or file-controlled string: its name, unique marker, value and expectations.
struct Field {
    name: &'static str,
    marker: String,
    value: String,
    payloads: Vec<String>,
    kind: Kind,
    shown: Shown,
}

/// Hostile payloads; `{M}` is replaced by the field's marker. The comment-opening one is last
/// because it hides the rest of a markdown description (ammonia drops an unclosed comment).
const PAYLOADS: [&str; 10] = [
    "<script>alert('{M}')</script>",
    "\"><img src=x onerror=alert('{M}')>",
    "</title><meta http-equiv=refresh content=\"0;url=/login/?{M}\">",
    "]]><x>{M}</x><![CDATA[",
    "{{ {M} }}{% if true %}{M}{% endif %}",
    "[link {M}](javascript:alert('{M}'))",
    "\" autofocus onfocus=\"alert(1)\" x=\"{M}",
    "&amp; &lt;{M} & 'q' \"qq\"",
    "\u{202e}{M}gnp.exe",
    "</script><!--<script>{M}",
];

/// Only strings a user types (YAML, JSON) can carry these; XML activity files cannot.
fn control_payload() -> String {
    "a\u{0}b\u{1}\u{1b}[31m{M}\u{7f}\u{85}".to_owned()
}

fn long_payload() -> String {
    format!("{}{{M}}", "A".repeat(20_000))
}

impl Field {
    fn new(name: &'static str, n: usize, kind: Kind, shown: Shown, extra: &[String]) -> Self {
        let marker = format!("MK{n:02}K");
        let mut payloads: Vec<String> = PAYLOADS.iter().map(|p| (*p).to_owned()).collect();
        // Extra payloads go before the comment-opening one.
        let last = payloads.pop().unwrap();
        payloads.extend(extra.iter().cloned());
        payloads.push(last);
        let payloads: Vec<String> = payloads.iter().map(|p| p.replace("{M}", &marker)).collect();
        let sep = if kind == Kind::Markdown { "\n\n" } else { " | " };
        Field { name, value: payloads.join(sep), marker, payloads, kind, shown }
    }

    /// Raw fragments that must never appear in a markup file: the markup each payload opens
    /// right before or after the marker (`<img src=x onerror=alert('MK01K`, `MK01K</x`), and
    /// for escaped text also a raw entity or quote before it (`&lt;MK01K`, `" x="MK01K`).
    fn dangers(&self, html: bool) -> Vec<String> {
        let m = &self.marker;
        let mut out = Vec::new();
        for p in &self.payloads {
            let parts: Vec<&str> = p.split(m.as_str()).collect();
            for i in 0..parts.len() - 1 {
                let (pre, post) = (parts[i], parts[i + 1]);
                if let Some(k) = pre.rfind('<') {
                    out.push(format!("{}{m}", &pre[k..]));
                }
                if self.kind == Kind::Text {
                    if let Some(k) = pre.rfind('&') {
                        out.push(format!("{}{m}", &pre[k..]));
                    }
                    if let Some(k) = pre.find(['"', '\''])
                        && html
                    {
                        out.push(format!("{}{m}", &pre[k..]));
                    }
                }
                if let Some(k) = post.find('<') {
                    let end = post[k + 1..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '!'))
                        .map_or(post.len(), |e| k + 1 + e);
                    out.push(format!("{m}{}", &post[..end]));
                }
            }
        }
        out
    }
}

/// JSON as YAML: a JSON document is YAML too, once the characters YAML forbids raw in a
/// stream (DEL, C1 controls; serde_json escapes only C0) are written as `\u` escapes.
fn yaml_of(v: &serde_json::Value) -> String {
    v.to_string()
        .chars()
        .map(|c| if c.is_control() { format!("\\u{:04x}", u32::from(c)) } else { c.to_string() })
        .collect()
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A 10-minute ride at 1 Hz with power (so the power curve and its seasons are drawn).
fn gpx_file(start_unix: i64, name: &str, desc: &str, creator: &str, kind: &str) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"{}\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><name>{}</name><desc>{}</desc><type>{}</type><trkseg>\n",
        xml_text(creator),
        xml_text(name),
        xml_text(desc),
        xml_text(kind)
    );
    for i in 0..600i64 {
        let t = time::OffsetDateTime::from_unix_timestamp(start_unix + i).unwrap();
        let t = t.format(&time::format_description::well_known::Rfc3339).unwrap();
        s.push_str(&format!(
            "<trkpt lat=\"{:.6}\" lon=\"7.000000\"><ele>{}</ele><time>{t}</time><extensions><power>{}</power></extensions></trkpt>\n",
            45.0 + i as f64 * 0.0001,
            300 + i / 10,
            150 + (i % 60) * 3
        ));
    }
    s.push_str("</trkseg></trk></gpx>\n");
    s
}

/// A 10-minute run: notes, creator and author name are the hostile strings.
fn tcx_file(start_unix: i64, notes: &str, creator: &str, author: &str) -> String {
    let iso = |u: i64| {
        time::OffsetDateTime::from_unix_timestamp(u)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TrainingCenterDatabase xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\"><Activities><Activity Sport=\"Running\"><Id>{0}</Id><Lap StartTime=\"{0}\"><TotalTimeSeconds>600</TotalTimeSeconds><DistanceMeters>1800</DistanceMeters><Track>\n",
        iso(start_unix)
    );
    for i in 0..600i64 {
        s.push_str(&format!(
            "<Trackpoint><Time>{}</Time><Position><LatitudeDegrees>{:.6}</LatitudeDegrees><LongitudeDegrees>8.000000</LongitudeDegrees></Position><DistanceMeters>{}</DistanceMeters><HeartRateBpm><Value>{}</Value></HeartRateBpm></Trackpoint>\n",
            iso(start_unix + i),
            46.0 + i as f64 * 0.00003,
            i * 3,
            120 + i / 20
        ));
    }
    s.push_str(&format!(
        "</Track></Lap><Notes>{}</Notes><Creator><Name>{}</Name></Creator></Activity></Activities><Author><Name>{}</Name></Author></TrainingCenterDatabase>\n",
        xml_text(notes),
        xml_text(creator),
        xml_text(author)
    ));
    s
}

/// Every file of the output, relative path → content.
fn output_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The contents of `<script type="application/json">` elements, and the page without them.
fn split_json_scripts(html: &str) -> (Vec<String>, String) {
    let mut blocks = Vec::new();
    let mut rest_of_page = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<script type=\"application/json\"") {
        let open_end = i + rest[i..].find('>').unwrap() + 1;
        let close = open_end + rest[open_end..].find("</script>").unwrap();
        rest_of_page.push_str(&rest[..open_end]);
        blocks.push(rest[open_end..close].to_owned());
        rest = &rest[close..];
    }
    rest_of_page.push_str(rest);
    (blocks, rest_of_page)
}

/// Read an XML document to the end: tags balanced, entity and character references valid.
/// Returns the first problem.
fn xml_problem(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return None,
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let ok = if r.is_char_ref() {
                    matches!(r.resolve_char_ref(), Ok(Some(_)))
                } else {
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str())
                };
                if !ok {
                    return Some(format!("bad reference &{name};"));
                }
            }
            Ok(_) => {}
            Err(e) => return Some(format!("at byte {}: {e}", reader.buffer_position())),
        }
    }
}

/// Every user-editable field and every string read from an activity file carries hostile
/// markup with a unique marker; the whole output is then walked: each marker is rendered
/// where it should be, never as markup, and every XML and JSON file still parses.
#[test]
fn hostile_strings_everywhere_render_as_text_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("site");
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let typed = [control_payload(), long_payload()];
    let mut n = 0;
    let mut field = |name, kind, shown, extra: &[String]| {
        n += 1;
        Field::new(name, n, kind, shown, extra)
    };
    let instance_name = field("instance name (root index.json)", Kind::Text, Shown::Html, &typed);
    let display_name = field("display name (owner)", Kind::Text, Shown::Html, &typed);
    let season = field("athlete.yaml season name", Kind::Text, Shown::Html, &typed);
    let athlete_gear = field(
        "athlete.yaml gear",
        Kind::Text,
        Shown::JsonOnly("no page lists the athlete's gear"),
        &typed,
    );
    let sc_title = field("sidecar title", Kind::Text, Shown::Html, &typed);
    let sc_body = field("sidecar description body", Kind::Markdown, Shown::Html, &[]);
    let sc_gear = field("sidecar gear", Kind::Text, Shown::Html, &typed);
    let sc_sport = field("sidecar sport", Kind::Text, Shown::Nowhere("normalised to a sport"), &[]);
    let sc_hide = field(
        "sidecar hide_stats value",
        Kind::Text,
        Shown::Nowhere("hide_stats keeps only the five known stat names (bincio-bas hidden.rs)"),
        &[],
    );
    let gpx_name = field("GPX <trk><name>", Kind::Text, Shown::Html, &[]);
    let gpx_desc = field("GPX <trk><desc>", Kind::Markdown, Shown::Html, &[]);
    // A creator naming "http" or "connect" is a web service, not a device, and is dropped: the
    // meta refresh is spelled without http-equiv here.
    let mut gpx_creator = field("GPX creator (device)", Kind::Text, Shown::Html, &[]);
    gpx_creator.payloads =
        gpx_creator.payloads.iter().map(|p| p.replace("http-equiv", "name")).collect();
    gpx_creator.value = gpx_creator.payloads.join(" | ");
    let gpx_type =
        field("GPX <trk><type>", Kind::Text, Shown::Nowhere("normalised to a sport"), &[]);
    let tcx_notes = field("TCX <Notes>", Kind::Markdown, Shown::Html, &[]);
    let tcx_creator = field("TCX <Creator><Name> (device)", Kind::Text, Shown::Html, &[]);
    let tcx_author = field(
        "TCX <Author><Name>",
        Kind::Text,
        Shown::Nowhere("only decides the source, a fixed vocabulary"),
        &[],
    );
    // Photo file names: no '/' and at most 255 bytes, so one short payload each.
    let photo_a = Field {
        name: "photo file name",
        marker: "MK90K".to_owned(),
        value: "\"><img src=x onerror=alert('MK90K')>.jpg".to_owned(),
        payloads: vec!["\"><img src=x onerror=alert('MK90K')>.jpg".to_owned()],
        kind: Kind::Text,
        shown: Shown::Html,
    };
    let photo_b = Field {
        name: "photo file name (tags)",
        marker: "MK91K".to_owned(),
        value: "<svg onload=alert(1)>MK91K' x='{{ y }}.png".to_owned(),
        payloads: vec!["<svg onload=alert(1)>MK91K' x='{{ y }}.png".to_owned()],
        kind: Kind::Text,
        shown: Shown::Html,
    };
    // FIT strings (product_name) end in the same `device` field as the TCX and GPX creators
    // above; a FIT file with string fields is not written here.

    // eve: three activities from hand-written files; bob makes the site multi-user, so the
    // community page (with its embedded JSON of display names) is rendered too.
    let day = 86_400;
    let t0 = 1_714_550_400; // 2024-05-01T08:00:00Z
    std::fs::write(
        inputs.join("a.gpx"),
        gpx_file(
            t0,
            &gpx_name.value,
            &gpx_desc.value,
            &format!("Garmin {}", gpx_creator.value),
            &gpx_type.value,
        ),
    )
    .unwrap();
    std::fs::write(
        inputs.join("b.tcx"),
        tcx_file(t0 + day, &tcx_notes.value, &tcx_creator.value, &tcx_author.value),
    )
    .unwrap();
    std::fs::write(
        inputs.join("c.gpx"),
        gpx_file(t0 + 2 * day, "Plain", "", "Garmin Edge 530", "cycling"),
    )
    .unwrap();
    let mut opts = ExtractOptions::new(data.join("eve"), "eve");
    opts.display_name = Some(display_name.value.clone());
    opts.inputs = vec![inputs];
    let report = extract::extract_user(&opts, &|_, _| {}).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.new_ids.len(), 3, "{:?}", report.new_ids);
    let c_id = report.new_ids.iter().find(|id| id.starts_with("2024-05-03")).unwrap().clone();
    let mut bob = ExtractOptions::new(data.join("bob"), "bob");
    bob.display_name = Some("Bob".to_owned());
    bob.inputs = vec![repo().join("fixtures/activities/gpx/synth-hike.gpx")];
    extract::extract_user(&bob, &|_, _| {}).unwrap();

    // Edits, written as JSON (a YAML subset) so any character survives the quoting.
    let edits = data.join("eve/edits");
    std::fs::create_dir_all(edits.join("images").join(&c_id)).unwrap();
    let front = serde_json::json!({
        "title": sc_title.value,
        "gear": sc_gear.value,
        "sport": sc_sport.value,
        "hide_stats": [sc_hide.value, "heart_rate"],
    });
    std::fs::write(
        edits.join(format!("{c_id}.md")),
        format!("---\n{}\n---\n\n{}\n", yaml_of(&front), sc_body.value),
    )
    .unwrap();
    for photo in [&photo_a, &photo_b] {
        std::fs::write(
            edits.join("images").join(&c_id).join(&photo.value),
            b"\xff\xd8\xff\xe0jpeg",
        )
        .unwrap();
    }
    let athlete = serde_json::json!({
        "ftp_w": 250,
        "hr_zones": [[0, 130], [130, 150], [150, 999]],
        "seasons": [{ "name": season.value, "start": "2000-01-01" }],
        "gear": { "bike": athlete_gear.value },
    });
    std::fs::write(edits.join("athlete.yaml"), yaml_of(&athlete)).unwrap();
    let manifest = serde_json::json!({
        "bas_version": "1.0",
        "instance": { "name": instance_name.value },
        "generated_at": "2024-01-01T00:00:00+00:00",
        "shards": [],
        "activities": [],
    });
    std::fs::write(data.join("index.json"), manifest.to_string()).unwrap();

    build(&data, &out);

    let fields = [
        &instance_name,
        &display_name,
        &season,
        &athlete_gear,
        &sc_title,
        &sc_body,
        &sc_gear,
        &sc_sport,
        &sc_hide,
        &gpx_name,
        &gpx_desc,
        &gpx_creator,
        &gpx_type,
        &tcx_notes,
        &tcx_creator,
        &tcx_author,
        &photo_a,
        &photo_b,
    ];
    let files = output_files(&out);
    // Every problem is collected, so one run lists every hole, not only the first.
    let mut problems: Vec<String> = Vec::new();
    let mut markup_files = 0;
    let mut json_files = 0;
    let mut json_scripts = 0;
    // marker → files it appears in
    let mut seen: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (rel, bytes) in &files {
        let ext = rel.rsplit('.').next().unwrap_or("");
        let Ok(text) = std::str::from_utf8(bytes) else {
            if matches!(ext, "html" | "svg" | "xml" | "gpx" | "json") {
                problems.push(format!("{rel}: not UTF-8"));
            }
            continue;
        };
        for f in &fields {
            if text.contains(&f.marker) {
                seen.entry(&f.marker).or_default().push(rel.clone());
            }
        }
        match ext {
            "json" => {
                json_files += 1;
                if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
                    problems.push(format!("{rel}: JSON no longer parses: {e}"));
                }
            }
            "html" | "svg" | "xml" | "gpx" => {
                markup_files += 1;
                let html = matches!(ext, "html" | "svg");
                if !html && let Some(p) = xml_problem(text) {
                    problems.push(format!("{rel}: not well-formed XML: {p}"));
                }
                if let Some(c) = text.chars().find(|c| {
                    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                        || matches!(c, '\u{FFFE}' | '\u{FFFF}')
                }) {
                    problems.push(format!("{rel}: control character {c:?} in markup"));
                }
                let lower = text.to_ascii_lowercase();
                for scheme in ["href=\"javascript:", "src=\"javascript:", "href='javascript:"] {
                    if lower.contains(scheme) {
                        problems.push(format!("{rel}: {scheme} URL"));
                    }
                }
                // Embedded JSON is checked as JSON: no character that could end or confuse
                // its element, and it parses.
                let (blocks, page) = split_json_scripts(text);
                for b in &blocks {
                    json_scripts += 1;
                    if b.contains(['<', '>', '&']) {
                        problems.push(format!("{rel}: raw < > or & in embedded JSON"));
                    }
                    if let Err(e) = serde_json::from_str::<serde_json::Value>(b) {
                        problems.push(format!("{rel}: embedded JSON does not parse: {e}"));
                    }
                }
                for f in &fields {
                    for d in f.dangers(html) {
                        if page.contains(&d) {
                            problems.push(format!(
                                "{rel}: {} ({}) is rendered as markup: raw {d:?}",
                                f.name, f.marker
                            ));
                        }
                    }
                    // Tera syntax in a value is printed, never evaluated.
                    let tera = format!("{{{{ {} }}}}", f.marker);
                    if html
                        && f.kind == Kind::Text
                        && f.value.contains(&tera)
                        && page.contains(&f.marker)
                        && !page.contains(&tera)
                    {
                        problems.push(format!("{rel}: {} lost its literal {tera}", f.name));
                    }
                }
            }
            _ => {}
        }
    }
    for f in &fields {
        let found = seen.get(f.marker.as_str()).cloned().unwrap_or_default();
        let in_html = found.iter().filter(|p| p.ends_with(".html")).count();
        let in_json = found.iter().any(|p| p.ends_with(".json"));
        let ok = match f.shown {
            Shown::Html => in_html > 0,
            Shown::JsonOnly(_) => in_html == 0 && in_json,
            Shown::Nowhere(_) => found.is_empty(),
        };
        if !ok {
            problems.push(format!(
                "{} ({}): expected {:?}, found in {found:?}",
                f.name, f.marker, f.shown
            ));
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(markup_files > 20 && json_files > 5, "{markup_files} markup, {json_files} JSON files");
    assert!(json_scripts >= 1, "the community page embeds its JSON");
    // A few places checked by name, so a field cannot pass by showing up somewhere else only.
    let page = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    assert!(
        page(&format!("activity/{c_id}/index.html")).contains("&lt;script&gt;alert(&#39;MK05K")
    );
    assert!(page("u/eve/athlete/index.html").contains("<title>&lt;script&gt;alert(&#39;MK03K"));
    assert!(page("u/eve/atom.xml").contains("&lt;/title&gt;&lt;meta http-equiv=refresh"));
    assert!(page("community/index.html").contains("\\u003cscript\\u003ealert('MK02K"));
}
