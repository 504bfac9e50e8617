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
