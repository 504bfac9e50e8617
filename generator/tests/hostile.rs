//! Hostile strings in everything a user or an activity file controls: every page of the
//! rendered site must show them as text, never as markup (`docs/site.md`, "Escaping").

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used)]

use bincio_gen::extract::{self, ExtractOptions};
use bincio_gen::site::{self, SiteOptions};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build(data: &Path, out: &Path) {
    site::build(&SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        theme_dir: repo().join("themes/default"),
        handle: None,
        tile_url: None,
    })
    .unwrap_or_else(|e| panic!("build failed: {e}"));
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
