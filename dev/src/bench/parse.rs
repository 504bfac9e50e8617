//! `bincio-dev bench parse`: single-core parser and metrics throughput on real files.
//!
//! Decompression, format detection and parsing (`parse_bytes`) are timed per format in MB/s
//! of decompressed input, then `metrics::compute` in nanoseconds per sample. These figures
//! used to be asserted by timed unit tests; timing belongs here, where nothing fails on a busy
//! machine.

use anyhow::{Context, bail};
use bincio_gen::cmd::Outcome;
use bincio_gen::model::Format;
use bincio_gen::parse;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Run the benchmark over every activity file under `dir` (recursively), `rounds` times.
pub fn bench_parse(dir: &Path, rounds: usize) -> anyhow::Result<Outcome> {
    let mut files: Vec<(Format, Vec<u8>)> = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type().is_file() || !parse::is_supported_name(&name) {
            continue;
        }
        let raw =
            std::fs::read(e.path()).with_context(|| format!("reading {}", e.path().display()))?;
        let Ok(bytes) = parse::maybe_decompress(&raw) else { continue };
        let Ok(format) = parse::detect_format(&bytes) else { continue };
        // Only files that parse: a damaged sample would time its error path.
        if parse::parse_bytes(&bytes).is_ok() {
            files.push((format, bytes.into_owned()));
        }
    }
    if files.is_empty() {
        bail!("{}: no readable GPX, TCX or FIT file", dir.display());
    }
    let rounds = rounds.max(1);
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "bincio-dev bench parse: {} files from {}, {rounds} rounds, 1 core",
        files.len(),
        dir.display()
    )?;
    writeln!(o, "| format | files | MB | parse MB/s |")?;
    writeln!(o, "|---|---:|---:|---:|")?;
    for format in [Format::Gpx, Format::Tcx, Format::Fit] {
        let set: Vec<&[u8]> =
            files.iter().filter(|(f, _)| *f == format).map(|(_, b)| b.as_slice()).collect();
        if set.is_empty() {
            continue;
        }
        let bytes: usize = set.iter().map(|b| b.len()).sum();
        let t = Instant::now();
        for _ in 0..rounds {
            for b in &set {
                std::hint::black_box(parse::parse_bytes(b).ok());
            }
        }
        let mbs = (bytes * rounds) as f64 / 1e6 / t.elapsed().as_secs_f64();
        writeln!(o, "| {format:?} | {} | {:.1} | {mbs:.0} |", set.len(), bytes as f64 / 1e6)?;
    }
    let activities: Vec<_> = files.iter().filter_map(|(_, b)| parse::parse_bytes(b).ok()).collect();
    let samples: usize = activities.iter().map(|a| a.samples.len()).sum();
    let t = Instant::now();
    for _ in 0..rounds {
        for a in &activities {
            std::hint::black_box(bincio_gen::metrics::compute(std::hint::black_box(a)));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (samples * rounds).max(1) as f64;
    writeln!(o, "\nmetrics::compute: {ns:.0} ns per sample over {samples} samples")?;
    Ok(Outcome::Ok)
}
