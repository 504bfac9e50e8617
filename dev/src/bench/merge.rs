//! `bincio-dev bench merge`: the merge phase of a full build alone, on an instance kept by
//! `bench build --dir`.
//!
//! A full build starts by merging every user's store into `{handle}/_merged/` (and writing
//! the root manifest) before any page is rendered; at 60,000 activities that phase was a
//! fifth of the build. `bench build` only shows it inside the full build's figure, so this
//! times it on its own: each user's `_merged/` is first moved out of the data directory (a
//! rename, so the measured merge starts from none, as a full build of a fresh instance
//! does), then `site::load::load_instance` runs as `bincio-gen render` runs it, then once
//! more with `_merged/` present (a no-change merge, which must write nothing). The moved
//! folders are removed at the end, after the measurements (deleting a large tree slows
//! file creation on ext4 for a while).

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `bincio-dev bench merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  target/release/bincio-dev bench build --realistic --users 20 --activities 600 --dir /tmp/b20
  target/release/bincio-dev bench merge --dir /tmp/b20")]
pub struct MergeBench {
    /// The work folder of a `bench build --dir DIR` run (its instance is `DIR/data`).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// CPU seconds of this process so far, user and system apart.
fn cpu() -> anyhow::Result<(f64, f64)> {
    super::procfs::cpu_user_system("self").context("reading /proc/self/stat")
}

/// Run `bincio-dev bench merge`.
pub fn bench_merge(args: &MergeBench) -> anyhow::Result<bincio_gen::cmd::Outcome> {
    let data = args.dir.join("data");
    anyhow::ensure!(
        data.is_dir(),
        "{}: no data/ folder (run bench build --dir first)",
        data.display()
    );
    let aside = unique_aside(&args.dir)?;
    let mut activities = 0usize;
    let mut moved = 0usize;
    for e in std::fs::read_dir(&data).with_context(|| data.display().to_string())? {
        let e = e?;
        let merged = e.path().join(bincio_bas::layout::MERGED_DIR);
        if merged.is_dir() {
            std::fs::create_dir_all(&aside)?;
            let to = aside.join(e.file_name());
            std::fs::rename(&merged, &to)
                .with_context(|| format!("moving {} to {}", merged.display(), to.display()))?;
            moved += 1;
        }
    }
    let mut measure = |label: &str| -> anyhow::Result<(f64, f64, f64, usize)> {
        let (u0, s0) = cpu()?;
        let t = Instant::now();
        let inst = bincio_gen::site::load::load_instance(&data, None)
            .with_context(|| format!("{label} merge of {}", data.display()))?;
        let wall = t.elapsed().as_secs_f64();
        let (u1, s1) = cpu()?;
        let written: usize = inst.users.iter().map(|u| u.files_changed).sum();
        activities = inst.users.iter().map(|u| u.activities.len()).sum();
        Ok((wall, u1 - u0, s1 - s0, written))
    };
    let fresh = measure("fresh")?;
    let again = measure("no-change")?;
    let peak_mb = super::procfs::peak_rss_kib("self").unwrap_or(0) as f64 / 1024.0;
    if moved > 0 {
        std::fs::remove_dir_all(&aside).with_context(|| aside.display().to_string())?;
    }
    let mut o = std::io::stdout().lock();
    writeln!(o, "merge of {activities} activities ({moved} users' _merged/ moved aside first)")?;
    writeln!(
        o,
        "| merge phase (load_instance) | wall | CPU user | CPU system | CPU per activity | files written |"
    )?;
    writeln!(o, "|---|---:|---:|---:|---:|---:|")?;
    for (label, (wall, user, sys, written)) in
        [("fresh (no _merged/)", fresh), ("no change", again)]
    {
        let per = (user + sys) * 1e6 / activities.max(1) as f64;
        writeln!(
            o,
            "| {label} | {wall:.2} s | {user:.2} s | {sys:.2} s | {per:.0} µs | {written} |"
        )?;
    }
    writeln!(o, "| peak memory (VmHWM) | {peak_mb:.0} MB | | | | |")?;
    // A no-change merge must not write; that is the one hard rule here (the fresh merge's
    // figures are read against docs/development.md, they have no fixed goal).
    Ok(if again.3 == 0 {
        bincio_gen::cmd::Outcome::Ok
    } else {
        bincio_gen::cmd::Outcome::SomeFailed
    })
}

/// `DIR/merged-aside-N`, the first that does not exist (same file system as the data, so
/// moving `_merged/` there is a rename).
fn unique_aside(dir: &Path) -> anyhow::Result<PathBuf> {
    (0..1000)
        .map(|n| dir.join(format!("merged-aside-{n}")))
        .find(|p| !p.exists())
        .context("no free merged-aside-N name")
}
