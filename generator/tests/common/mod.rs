//! Helpers shared by the generator's test binaries (each binary uses a subset, hence the
//! `dead_code` allowances).

/// True under CI (`CI=true`, read only here, as in `apiserver/tests/util.rs`): a test that
/// needs chromium or a privilege then fails when it is missing instead of skipping.
#[allow(dead_code)]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Report a test that cannot run here: a message on stderr, or a failure under CI. The caller
/// returns right after.
#[allow(dead_code)]
pub fn skip_or_fail(why: &str) {
    assert!(!in_ci(), "required in CI: {why}");
    eprintln!("SKIPPED: {why}");
}

/// A full render of `data` into `out` with the built-in theme, panicking with the error.
#[allow(dead_code)]
pub fn build(data: &std::path::Path, out: &std::path::Path) {
    bincio_gen::site::build(&bincio_gen::site::SiteOptions {
        data_dir: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        theme_dir: None,
        handle: None,
        tile_url: None,
    })
    .unwrap_or_else(|e| panic!("build failed: {e}"));
}

/// A JSON file as `T`, panicking with the path.
#[allow(dead_code)]
pub fn read_json<T: serde::de::DeserializeOwned>(p: &std::path::Path) -> T {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every extracted detail of a user folder, by source file name.
#[allow(dead_code)]
pub fn details(
    user_dir: &std::path::Path,
) -> std::collections::BTreeMap<String, bincio_bas::Detail> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(user_dir.join("activities")).expect("activities folder") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.ends_with(".timeseries.json") {
            let d: bincio_bas::Detail = read_json(&p);
            out.insert(d.source_file.clone().unwrap_or_default(), d);
        }
    }
    out
}

/// The percentages drawn on a zone chart (`Z1 0–114 bpm · 12:00 · 35 %` labels), summed: the
/// shares of the zones, which add up to 100 % when every sample falls in a zone. Counted on the
/// drawn labels only, not again in the chart's `<title>` text alternative.
#[allow(dead_code)]
pub fn zone_shares_pct(svg: &str) -> f64 {
    let drawn = match (svg.find("<title>"), svg.find("</title>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &svg[..a], &svg[b..]),
        _ => svg.to_owned(),
    };
    drawn.split(" · ").skip(1).filter_map(|p| p.split('%').next()?.trim().parse::<f64>().ok()).sum()
}
