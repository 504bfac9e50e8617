//! `bincio-dev check` over the device sample set beside the repository: every comparison with
//! the devices' own totals must hold.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

#[test]
fn device_totals_match_the_devices() {
    let rows = bincio_dev::check::check_devices(&shared().join("devices")).unwrap();
    let table = bincio_dev::check::format_table(&rows);
    println!("{table}");
    let bad: Vec<_> = rows.iter().filter(|r| !r.ok).collect();
    assert!(bad.is_empty(), "mismatches:\n{table}");
    assert!(rows.len() > 120, "too few comparisons: {}", rows.len());
}
