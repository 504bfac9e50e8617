//! `bincio-dev bench`: benchmarks that print a table (never timed unit tests).
//!
//! `extract` and `build` time the generator's library in this process (`extract` re-runs this
//! executable per measurement so each gets its own peak-memory figure); `api` and
//! `upload-latency` start the real `bincio-api` and `bincio-gen` binaries on loopback.

pub mod api;
pub mod build;
pub mod elevation;
pub mod extract;
pub mod federation;
pub mod merge;
pub mod parse;
pub mod procfs;

use bincio_gen::cmd::Outcome;
use build::BuildBench;
use std::path::PathBuf;

/// Arguments of `bincio-dev bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub kind: BenchKind,
}

/// Which benchmark.
#[derive(Debug, clap::Subcommand)]
pub enum BenchKind {
    /// Extraction throughput: files/s and MB/s per format, peak RSS, cold and no-change re-run.
    /// Exits non-zero when the cold mixed run is below the goal (250 MB/s).
    #[command(after_help = "Example:
  cargo build --release -p bincio-dev && target/release/bincio-dev bench extract --files 2000
  target/release/bincio-dev bench extract --realistic")]
    Extract(extract::ExtractBench),
    /// (internal) One measured extraction; prints a JSON line for `bench extract`.
    #[command(hide = true)]
    ExtractRun {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        user_dir: PathBuf,
    },
    /// Single-core parse throughput per format and metrics cost per sample, on real files.
    #[command(after_help = "Example:
  target/release/bincio-dev bench parse --dir ../shared/samples")]
    Parse {
        /// A folder of activity files (searched recursively; damaged files are skipped).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// How many times each file is parsed.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Terrain look-ups per second on one core once a tile is loaded, for 1″ and 3″ SRTM
    /// tiles and a Copernicus GLO-30 GeoTIFF tile; exits non-zero below 1 million points per
    /// second.
    #[command(after_help = "Example:
  cargo build --release -p bincio-dev && target/release/bincio-dev bench elevation")]
    Elevation {
        /// Points looked up per round (a 1 Hz track of this many seconds).
        #[arg(long, default_value_t = 2_000_000)]
        points: usize,
        /// Timed rounds.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Render a generated instance: full, no-change and `--handle` rebuilds.
    Build(BuildBench),
    /// The merge phase of a full build alone (every user's `_merged/` from none, then a
    /// no-change merge) on an instance kept by `bench build --dir`.
    Merge(merge::MergeBench),
    /// (internal) One measured build; prints a JSON line for `bench build`.
    #[command(hide = true)]
    BuildRun(build::BuildRunArgs),
    /// The daemon on loopback: GET /api/me throughput, login latency, resident memory.
    #[command(after_help = "Example:
  cargo build --release -p bincio-api -p bincio-dev
  target/release/bincio-dev bench api --api-bin target/release/bincio-api")]
    Api {
        /// The `bincio-api` executable (default: beside this one).
        #[arg(long, value_name = "FILE")]
        api_bin: Option<PathBuf>,
        /// GET /api/me requests to send.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: u64,
        /// Logins to time.
        #[arg(long, default_value_t = 20)]
        logins: u64,
    },
    /// Time from an upload's HTTP answer to the activity page and the user's feed page
    /// existing in the output folder, with `bincio-api serve` and `bincio-gen watch` running on
    /// a generated instance (users × activities). Prints p50/p95/max.
    #[command(after_help = "Example:
  cargo build --release -p bincio-api -p bincio-gen -p bincio-dev
  target/release/bincio-dev bench upload-latency")]
    UploadLatency(api::UploadLatencyArgs),
    /// Following remotes: what a refresh + render adds per unchanged remote (goal < 50 ms),
    /// and that every request of it was conditional and answered 304.
    Federation(federation::FederationBench),
}

/// Run `bincio-dev bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<Outcome> {
    match &args.kind {
        BenchKind::Extract(a) => extract::bench_extract(a),
        BenchKind::ExtractRun { input, user_dir } => extract::extract_run(input, user_dir),
        BenchKind::Build(b) => build::bench_build(b),
        BenchKind::BuildRun(a) => build::build_run(a),
        BenchKind::Merge(a) => merge::bench_merge(a),
        BenchKind::Elevation { points, rounds } => elevation::bench_elevation(*points, *rounds),
        BenchKind::Parse { dir, rounds } => parse::bench_parse(dir, *rounds),
        BenchKind::Api { api_bin, requests, connections, logins } => {
            let api_bin = api::sibling_binary(api_bin.as_deref(), "bincio-api")?;
            api::run(&api_bin, *requests, *connections, *logins).map(|()| Outcome::Ok)
        }
        BenchKind::UploadLatency(a) => api::upload_latency(a),
        BenchKind::Federation(a) => federation::bench_federation(a),
    }
}

/// A note for a measured run whose CPU time went to the kernel far more than usual.
///
/// On ext4 without a journal (common on virtual machines) the kernel skips, for every new
/// file, the inodes freed in the last minute (six when their inode table is not yet written
/// back), reading each from the buffer cache: for some minutes after a large deletion,
/// creating files costs far more system time, and two threads creating files in one folder
/// spin on its lock. The code measured did not change; the disk's recent history did.
/// `usual` is the share of system time the run shows on a settled disk
/// (docs/development.md, "Measuring on a settled disk").
/// `cpu_s` is the run's user + system CPU time, `system_s` the system part of it.
pub fn kernel_share_note(cpu_s: f64, system_s: f64, usual: f64) -> Option<String> {
    let share = system_s / cpu_s;
    // Short runs are a few clock ticks (10 ms each): no share can be told.
    (cpu_s >= 0.5 && share > usual + 0.10).then(|| {
        format!(
            "note: {:.0} % of this run's CPU time was system time (about {:.0} % on a settled \
             disk): the file system was slow to create files, as ext4 without a journal is for \
             some minutes after a large deletion; measure again on a settled disk \
             (docs/development.md, \"Measuring on a settled disk\")",
            share * 100.0,
            usual * 100.0
        )
    })
}

/// A bench's work folder: `keep` when given (created if missing; left behind for
/// inspection), else a temporary folder removed when the returned guard drops.
pub fn work_dir(keep: Option<&std::path::Path>) -> std::io::Result<WorkDir> {
    match keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            Ok(WorkDir { path: d.to_path_buf(), _tmp: None })
        }
        None => {
            let tmp = tempfile::tempdir()?;
            Ok(WorkDir { path: tmp.path().to_path_buf(), _tmp: Some(tmp) })
        }
    }
}

/// See [`work_dir`].
pub struct WorkDir {
    pub path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

#[cfg(test)]
mod tests {
    use super::kernel_share_note;

    #[test]
    fn the_kernel_note_appears_only_well_above_the_usual_share_on_a_long_enough_run() {
        // 12 % usual: 20 % is noise, 45 % (the runs after a large deletion) is not.
        assert_eq!(kernel_share_note(10.0, 2.0, 0.12), None);
        let note = kernel_share_note(10.0, 4.5, 0.12).expect("a note at 45 %");
        assert!(note.starts_with("note: 45 % of this run's CPU time was system time"), "{note}");
        assert!(note.contains("about 12 % on a settled disk"), "{note}");
        // Four clock ticks tell no share.
        assert_eq!(kernel_share_note(0.04, 0.03, 0.12), None);
        // Up to 10 points above the usual share is still usual.
        assert_eq!(kernel_share_note(10.0, 3.8, 0.30), None);
        assert!(kernel_share_note(10.0, 4.2, 0.30).is_some());
    }
}
