//! The synthetic generator against what the repository commits: the fixtures are exactly what
//! `bincio-dev synth` writes, and benchmark-corpus files parse back to their known distance.
#![allow(clippy::unwrap_used)]

use bincio_gen::{metrics, parse};
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activities")
}

#[test]
fn committed_fixtures_are_what_the_generator_writes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let written = bincio_dev::synth::write_fixture_set(tmp.path()).expect("write fixtures");
    let mut stale = Vec::new();
    for path in &written {
        let rel = path.strip_prefix(tmp.path()).expect("inside tmp");
        let committed = std::fs::read(fixtures_dir().join(rel)).unwrap_or_default();
        let fresh = std::fs::read(path).expect("just written");
        if committed != fresh {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "fixtures differ from the generator (run `cargo run -p bincio-dev -- synth --out fixtures/activities`): {stale:?}"
    );
    let total: u64 =
        written.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    assert!(total < 2_000_000, "fixtures total {total} bytes");
}

#[test]
fn benchmark_corpus_files_parse_and_keep_their_distance() {
    use bincio_dev::synth;
    for i in 0..18 {
        let (name, bytes) = synth::corpus_file(i, 5);
        let (scenario, format, gz) = synth::corpus_scenario(i, 5);
        let truth = scenario.render_with(format, &name, gz, false).truth;
        let activity = parse::parse_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(activity.samples.len(), truth.samples, "{name}");
        let d = metrics::compute(&activity).distance_m.unwrap_or(0.0);
        assert!(
            (d - truth.distance_m).abs() <= truth.distance_m * 0.001,
            "{name}: {d} vs {}",
            truth.distance_m
        );
    }
}

/// A FIT file without local time (its `local_timestamp` equals UTC, as apps that do not know
/// the zone write it) recorded in Turin: the start is shown in Central European time with
/// that date's daylight-saving rule, +02:00 on a July morning and +01:00 in January, and the
/// title follows the local hour.
#[test]
fn a_fit_without_local_time_takes_the_zone_and_dst_of_its_start_position() {
    use bincio_bas::Privacy;
    use bincio_dev::synth::{self, SportKind, SynthFormat};
    use bincio_gen::extract::{self, config::Sensors};
    for (start_unix_s, want, title) in [
        // 2024-07-01T05:30:00Z
        (1_719_811_800, "2024-07-01T07:30:00+02:00", "Morning Ride"),
        // 2024-01-15T11:30:00Z
        (1_705_318_200, "2024-01-15T12:30:00+01:00", "Afternoon Ride"),
    ] {
        let (mut s, _, _) = synth::corpus_scenario(2, 5);
        s.kind = SportKind::RoadRide;
        s.gps = true;
        s.utc_offset_s = 0;
        s.start_lat_deg = 45.07;
        s.start_lon_deg = 7.68;
        s.start_unix_s = start_unix_s;
        s.title = None;
        let track = s.render_with(SynthFormat::Fit, "turin.fit", false, false);
        let bytes = synth::write_format(&track, SynthFormat::Fit);
        let (_, a) = extract::extract_file(
            &bytes,
            "turin.fit",
            Privacy::Public,
            Sensors::default(),
            0.0001,
            None,
            "America/New_York",
        )
        .unwrap();
        assert_eq!(a.detail.started_at.to_string(), want);
        assert_eq!(a.detail.time_zone.as_deref(), Some("Europe/Rome"));
        assert_eq!(a.detail.title.as_deref(), Some(title));
    }
}
