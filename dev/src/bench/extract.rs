//! `bincio-dev bench extract`: extraction throughput on a generated corpus, as a table.
//!
//! It generates a synthetic corpus (mixed GPX/TCX/FIT, some gzipped, 30 min to 6 h,
//! 1–10 s sampling; with `--realistic`, every file recorded at 1 Hz and one in five gzipped,
//! as the instance benchmarks use) in a temporary folder, then runs each measured extraction in
//! a child process (`bench extract-run`, hidden) so that its peak RSS (`VmHWM`) and its CPU
//! time are its own. The goal is a throughput in MB of input on disk per second of wall time
//! on the cold mixed run; the bench exits non-zero below it. The CPU time is printed beside it
//! because a loaded machine stretches the wall time but not the work done.

use anyhow::{Context, bail};
use bincio_gen::cmd::Outcome;
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

#[derive(serde::Serialize, serde::Deserialize)]
struct RunResult {
    files: usize,
    new: usize,
    unchanged: usize,
    failed: usize,
    bytes_parsed: u64,
    seconds: f64,
    /// User + system CPU seconds of the extraction itself (corpus reading included).
    cpu_seconds: f64,
    /// The system part of `cpu_seconds`: file-system work.
    system_seconds: f64,
    peak_rss_kib: u64,
}

/// The measured child run: one extraction, a JSON line on stdout.
pub fn extract_run(input: &Path, user_dir: &Path) -> anyhow::Result<Outcome> {
    let mut opts = bincio_gen::extract::ExtractOptions::new(user_dir, "bench");
    opts.inputs = vec![input.to_path_buf()];
    let cpu = || super::procfs::cpu_user_system("self").unwrap_or((0.0, 0.0));
    let (user_before, system_before) = cpu();
    let t = Instant::now();
    let report = bincio_gen::extract::extract_user(&opts, &|_, _| {})?;
    let seconds = t.elapsed().as_secs_f64();
    let (user_after, system_after) = cpu();
    let system_seconds = system_after - system_before;
    let cpu_seconds = user_after - user_before + system_seconds;
    let r = RunResult {
        files: report.files,
        new: report.new_ids.len(),
        unchanged: report.unchanged,
        failed: report.failed.len(),
        bytes_parsed: report.bytes_parsed,
        seconds,
        cpu_seconds,
        system_seconds,
        peak_rss_kib: super::procfs::peak_rss_kib("self").unwrap_or(0),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&r)?)?;
    Ok(Outcome::Ok)
}

fn child_run(input: &Path, user_dir: &Path) -> anyhow::Result<RunResult> {
    let exe = std::env::current_exe().context("locating bincio-gen")?;
    let out = std::process::Command::new(exe)
        .args(["--quiet", "bench", "extract-run", "--input"])
        .arg(input)
        .arg("--user-dir")
        .arg(user_dir)
        .output()
        .context("running the measured extraction")?;
    if !out.status.success() {
        bail!("measured extraction failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).context("reading the measured extraction's result")
}

fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// The share of system time in a cold mixed extraction on a settled disk (reading the corpus,
/// writing three files per activity by temp + rename), measured on the 2-core machine.
const USUAL_SYSTEM_SHARE: f64 = 0.10;

/// Options of `bincio-dev bench extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractBench {
    /// Number of activity files in the generated corpus (default 2000; 400 with
    /// `--realistic`, about 400 MB).
    #[arg(long)]
    pub files: Option<usize>,
    /// Seed of the corpus generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Every file recorded at 1 Hz (30 min to 6 h, about 1 MB on average) and one in five
    /// gzipped, the files of `bench build --realistic`, instead of 1–10 s sampling.
    #[arg(long)]
    pub realistic: bool,
    /// The goal for the cold mixed run, in MB of input on disk per second of wall time; the
    /// bench exits non-zero below it.
    #[arg(long, default_value_t = 250.0, value_name = "MB_PER_S")]
    pub goal: f64,
    /// Keep the corpus and data directory here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
}

/// Run `bincio-dev bench extract`.
pub fn bench_extract(args: &ExtractBench) -> anyhow::Result<Outcome> {
    let files = args.files.unwrap_or(if args.realistic { 400 } else { 2000 });
    let (seed, realistic) = (args.seed, args.realistic);
    let work = super::work_dir(args.keep.as_deref())?;
    let base: &Path = &work.path;
    let corpus = base.join("corpus");
    let t = Instant::now();
    // Files are generated in parallel: `corpus_file` is a pure function of (index, seed).
    let written: Vec<(&'static str, u64)> = (0..files)
        .into_par_iter()
        .map(|i| -> anyhow::Result<(&'static str, u64)> {
            let (name, bytes) = if realistic {
                crate::synth::realistic_file(i, seed)
            } else {
                crate::synth::corpus_file(i, seed)
            };
            let lower = name.to_ascii_lowercase();
            let format = if lower.contains(".gpx") {
                "gpx"
            } else if lower.contains(".tcx") {
                "tcx"
            } else {
                "fit"
            };
            let dir = corpus.join(format);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(&name), &bytes)?;
            Ok((format, bytes.len() as u64))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut counts = std::collections::BTreeMap::<&'static str, (usize, u64)>::new();
    for (format, len) in written {
        let e = counts.entry(format).or_default();
        e.0 += 1;
        e.1 += len;
    }
    eprintln!(
        "generated {files} files in {:.1} s under {}",
        t.elapsed().as_secs_f64(),
        corpus.display()
    );

    let mut rows: Vec<(String, RunResult, u64)> = Vec::new();
    for format in ["gpx", "tcx", "fit"] {
        let input = corpus.join(format);
        if !input.is_dir() {
            continue;
        }
        let r = child_run(&input, &base.join(format!("data-{format}/bench")))?;
        rows.push((format!("cold {format}"), r, dir_bytes(&input)));
    }
    let all = base.join("data-all/bench");
    let r = child_run(&corpus, &all)?;
    let total_bytes = dir_bytes(&corpus);
    rows.push(("cold mixed".into(), r, total_bytes));
    let r = child_run(&corpus, &all)?;
    rows.push(("no-change re-run".into(), r, total_bytes));

    let mut out = std::io::stdout().lock();
    let threads = rayon::current_num_threads();
    writeln!(
        out,
        "bincio-dev bench extract: {files} files ({}), {threads} threads",
        if realistic { "1 Hz, 1 in 5 gzipped" } else { "1-10 s sampling" }
    )?;
    // `MB/CPU-s × threads` is the throughput the run would reach with every thread on a core
    // of its own: on a machine others load it stays put while the wall-time figure drops.
    writeln!(
        out,
        "{:<18} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>11} {:>10}",
        "run",
        "files",
        "new",
        "MB",
        "seconds",
        "files/s",
        "MB/s",
        "CPU s",
        "sys %",
        "MB/CPU-s×th",
        "peak RSS"
    )?;
    for (name, r, bytes) in &rows {
        let mb = *bytes as f64 / 1e6;
        // Below the clock's tick (10 ms) the CPU time is 0 or 1 tick: no rate can be told.
        let (per_cpu, sys) = if r.cpu_seconds >= 0.05 {
            (
                format!("{:.1}", mb / r.cpu_seconds * threads as f64),
                format!("{:.0}", r.system_seconds / r.cpu_seconds * 100.0),
            )
        } else {
            ("—".to_owned(), "—".to_owned())
        };
        writeln!(
            out,
            "{:<18} {:>6} {:>6} {:>9.1} {:>9.3} {:>9.0} {:>9.1} {:>9.2} {:>6} {:>11} {:>7} MB",
            name,
            r.files,
            r.new,
            mb,
            r.seconds,
            r.files as f64 / r.seconds,
            mb / r.seconds,
            r.cpu_seconds,
            sys,
            per_cpu,
            r.peak_rss_kib / 1024
        )?;
        if r.failed > 0 {
            writeln!(out, "  warning: {} files failed to extract", r.failed)?;
        }
    }
    for (format, (n, bytes)) in counts {
        writeln!(out, "corpus {format}: {n} files, {:.1} MB", bytes as f64 / 1e6)?;
    }
    let mixed = rows.iter().find(|(name, ..)| name == "cold mixed");
    let mb_s = mixed.map_or(0.0, |(_, r, bytes)| *bytes as f64 / 1e6 / r.seconds);
    let failed = rows.iter().any(|(_, r, _)| r.failed > 0);
    let note = mixed.and_then(|(_, r, _)| {
        super::kernel_share_note(r.cpu_seconds, r.system_seconds, USUAL_SYSTEM_SHARE)
    });
    if let Some(note) = note {
        writeln!(out, "{note}")?;
    }
    let met = mb_s >= args.goal && !failed;
    writeln!(
        out,
        "goal: cold mixed ≥ {:.0} MB/s: {mb_s:.1} MB/s, {}",
        args.goal,
        if met {
            "met"
        } else if failed {
            "missed (files failed)"
        } else {
            "missed"
        }
    )?;
    Ok(if met { Outcome::Ok } else { Outcome::SomeFailed })
}
