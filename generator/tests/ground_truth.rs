//! Synthetic ground truth: every committed fixture with an
//! `expected/<file>.json` is parsed and measured, and the figures are compared with the
//! exactly known truth the generator wrote:
//!
//! - distance within 0.1 %,
//! - elevation gain within 2 % (the GPS-noise variants included),
//! - best efforts and MMP exact within one sample interval (plus rounding to whole
//!   seconds / watts), on 1 Hz and on smart-recording variants,
//! - elapsed time within 1 s, moving time within 3 % of the timer on auto-paused
//!   recordings, the declared sport and sub-sport, the sample count.
//!
//! All fixtures are checked and every mismatch is listed before the test fails, so one
//! run shows the whole picture. A second test regenerates the fixtures into a temporary
//! folder and requires them to be byte-identical to the committed ones (in `dev/tests/synth.rs`,
//! beside the generator of those fixtures).

use bincio_gen::metrics::{self, Metrics};
use bincio_gen::parse::{self, ParseError};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activities")
}

/// Every `expected/*.json`, sorted.
fn expected_files() -> Vec<PathBuf> {
    let dir = fixtures_dir().join("expected");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!("{}: {e} (run `cargo run -p bincio-dev -- synth`)", dir.display())
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Compare one fixture with its truth; returns one line per mismatch.
fn check(expected: &Value) -> Vec<String> {
    let file = expected["file"].as_str().unwrap_or("?").to_owned();
    let mut errs = Vec::new();
    let mut fail = |what: String| errs.push(format!("{file}: {what}"));
    let bytes = match std::fs::read(fixtures_dir().join(&file)) {
        Ok(b) => b,
        Err(e) => {
            fail(format!("cannot read: {e}"));
            return errs;
        }
    };
    let activity = match parse::parse_bytes(&bytes) {
        Ok(a) => a,
        Err(e) => {
            fail(format!("parse error: {e}"));
            return errs;
        }
    };
    let m: Metrics = metrics::compute(&activity);

    // Samples and sport.
    let n_expected = expected["samples"].as_u64().unwrap_or(0) as usize;
    if activity.samples.len() != n_expected {
        fail(format!("samples: expected {n_expected}, parsed {}", activity.samples.len()));
    }
    let sport = expected["sport"].as_str().unwrap_or("?");
    if activity.sport.as_str() != sport {
        fail(format!("sport: expected {sport}, parsed {}", activity.sport.as_str()));
    }
    let sub = expected["sub_sport"].as_str();
    if activity.sub_sport.map(|s| s.as_str()) != sub {
        fail(format!(
            "sub_sport: expected {sub:?}, parsed {:?}",
            activity.sub_sport.map(|s| s.as_str())
        ));
    }

    // Distance within 0.1 %.
    let dist = num(expected, "distance_m").unwrap_or(0.0);
    match m.distance_m {
        Some(d) if (d - dist).abs() <= dist * 0.001 => {}
        other => fail(format!("distance_m: expected {dist} ±0.1 %, got {other:?}")),
    }

    // Elapsed time within 1 s.
    let dur = num(expected, "duration_s").unwrap_or(0.0);
    match m.duration_s {
        Some(d) if (d as f64 - dur).abs() <= 1.0 => {}
        other => fail(format!("duration_s: expected {dur} ±1, got {other:?}")),
    }

    // Moving time within 3 % of the timer where the recording auto-paused (docs/decisions.md E9).
    if expected["pauses"].as_u64().unwrap_or(0) > 0 {
        let timer = num(expected, "timer_s").unwrap_or(0.0);
        match m.moving_time_s {
            Some(t) if (t as f64 - timer).abs() <= timer * 0.03 => {}
            other => fail(format!("moving_time_s: expected {timer} ±3 %, got {other:?}")),
        }
    }

    // Elevation gain within 2 %.
    if let Some(gain) = num(expected, "elevation_gain_m") {
        match m.elevation_gain_m {
            Some(g) if (g - gain).abs() <= gain * 0.02 => {}
            other => fail(format!("elevation_gain_m: expected {gain} ±2 %, got {other:?}")),
        }
    }

    // MMP: within [truth(d + Δ), truth(d − Δ)], then rounded to whole watts.
    let mmp = m.mmp.clone().unwrap_or_default();
    for e in expected["mmp"].as_array().into_iter().flatten() {
        let d = e["duration_s"].as_i64().unwrap_or(0);
        let (lo, hi) =
            (num(e, "watts_min").unwrap_or(0.0) - 0.5, num(e, "watts_max").unwrap_or(0.0) + 0.5);
        let truth = num(e, "watts").unwrap_or(0.0);
        match mmp.iter().find(|(md, _)| *md == d) {
            Some(&(_, w)) if (w as f64) >= lo - 1e-6 && (w as f64) <= hi + 1e-6 => {}
            other => fail(format!(
                "mmp {d} s: expected {truth:.2} W (in [{lo:.2}, {hi:.2}]), got {other:?}"
            )),
        }
    }

    // Best efforts: within one sample interval (plus rounding to whole seconds).
    let interval = num(expected, "interval_max_s").unwrap_or(1.0);
    let efforts = m.best_efforts.unwrap_or_default();
    for e in expected["best_efforts"].as_array().into_iter().flatten() {
        let km = num(e, "distance_km").unwrap_or(0.0);
        let secs = num(e, "seconds").unwrap_or(0.0);
        let tol = interval + 0.5;
        match efforts.iter().find(|(k, _)| (k - km).abs() < 1e-9) {
            Some(&(_, s)) if (s as f64 - secs).abs() <= tol + 1e-6 => {}
            other => {
                fail(format!("best effort {km} km: expected {secs:.2} s ±{tol}, got {other:?}"))
            }
        }
    }
    errs
}

#[test]
fn synthetic_fixtures_match_their_ground_truth() {
    let files = expected_files();
    assert!(files.len() >= 30, "only {} expected files", files.len());
    let mut errors = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for path in &files {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        kinds.insert((
            v["format"].as_str().unwrap_or("").to_owned(),
            v["sampling"].as_str().unwrap_or("").to_owned(),
        ));
        errors.extend(check(&v));
    }
    // Both sampling variants in all three formats are really covered.
    for f in ["gpx", "tcx", "fit"] {
        for s in ["1hz", "smart"] {
            assert!(kinds.contains(&(f.to_owned(), s.to_owned())), "no {f} {s} fixture");
        }
    }
    assert!(
        errors.is_empty(),
        "{} mismatches over {} fixtures:\n{}",
        errors.len(),
        files.len(),
        errors.join("\n")
    );
}

#[test]
fn broken_fixtures_are_rejected_with_their_reason() {
    let dir = fixtures_dir().join("broken");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parse::parse_bytes(&read("empty.tcx")).err(), Some(ParseError::Empty));
    assert!(matches!(
        parse::parse_bytes(&read("not-an-activity.gpx")),
        Err(ParseError::UnknownFormat(_))
    ));
    let route = parse::parse_bytes(&read("route-only.gpx"));
    assert!(
        matches!(route, Err(ParseError::NotAnActivity(_) | ParseError::NoTrackPoints)),
        "route-only.gpx: {route:?}"
    );
    let truncated = parse::parse_bytes(&read("truncated.fit"));
    assert!(truncated.is_err(), "truncated.fit parsed: {:?}", truncated.map(|a| a.samples.len()));
}
