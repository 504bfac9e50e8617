//! `bincio-dev bench build`: time the site generator on a generated instance and print a table.
//!
//! The instance is written straight in BAS form (no extraction), so the figures are the
//! renderer's alone: a full cold build, a no-change rebuild (must write zero files), and a
//! `--handle` rebuild after one new activity, plus peak memory and the largest activity and
//! feed pages. Benchmarks are a command, never timed unit tests.
//!
//! Each build runs in a child process (`bench build-run`, hidden), as `bincio-gen render`
//! would, so its peak resident memory (`VmHWM`) and CPU time are the render's own: not the
//! instance generation's or the realistic extraction's, which run in this process, nor this
//! process's snapshots of the output folder.

use anyhow::Context;
use bincio_bas::{
    Athlete, Detail, LineString, Owner, Privacy, Sport, Summary, Timeseries, Timestamp,
    TrackFeature, TrackProperties, UserFeed, lenient::Int,
};
use bincio_gen::cmd::Outcome;
use bincio_gen::site::{self, SiteOptions};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The share of system time in a full build on a settled disk (creating a folder and a page
/// per activity, hard-linking its data files), measured on the 2-core machine.
const USUAL_SYSTEM_SHARE: f64 = 0.24;

/// Arguments of `bincio-dev bench build`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  cargo build --release && target/release/bincio-dev bench build --users 20 --activities 500")]
pub struct BuildBench {
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    #[arg(long, default_value_t = 500)]
    pub activities: usize,
    /// Samples per activity timeseries (one every 3 s: 1200 is a one-hour ride).
    #[arg(long, default_value_t = 1200)]
    pub samples: usize,
    /// Realistic series: user00's activities are `--activities` synthetic files recorded
    /// every second for 30 min to 6 h (one in five gzipped), extracted by the real
    /// extraction; every other user's store is hard links to user00's (so 100 × 600 fits on
    /// the disk). Without it, activities are written in BAS form with `--samples` points.
    #[arg(long)]
    pub realistic: bool,
    /// Work folder (default: a temporary folder, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A theme folder instead of the built-in default theme.
    #[arg(long, value_name = "DIR")]
    pub theme: Option<PathBuf>,
}

/// Run `bincio-dev bench build`.
pub fn bench_build(args: &BuildBench) -> anyhow::Result<Outcome> {
    let work = super::work_dir(args.dir.as_deref())?;
    let dir: &std::path::Path = &work.path;
    let data = dir.join("data");
    let out = dir.join("site");
    let t = Instant::now();
    let mut extract_line = None;
    if args.realistic {
        extract_line = Some(realistic_instance(&data, args.users, args.activities)?);
    } else {
        generate_instance(&data, args.users, args.activities, args.samples)?;
    }
    let gen_ms = t.elapsed().as_millis();
    let opts = SiteOptions {
        data_dir: data.clone(),
        out_dir: out.clone(),
        theme_dir: args.theme.clone(),
        handle: None,
        tile_url: None,
    };
    let full = child_build(&opts).context("full build")?;
    let full_ms = full.elapsed_ms;
    let on_disk = Snapshot::take(&out);
    let again = child_build(&opts).context("no-change rebuild")?;
    let again_ms = again.elapsed_ms;
    let again_disk = on_disk.changed(&Snapshot::take(&out));
    // One new activity for user 0 (newer than all), then a --handle rebuild.
    let handle = "user00";
    add_activity(&data.join(handle), handle, 0, -1, args.samples)?;
    let before = Snapshot::take(&out);
    let inc = child_build(&SiteOptions { handle: Some(handle.to_owned()), ..opts })
        .context("--handle rebuild")?;
    let inc_ms = inc.elapsed_ms;
    let inc_disk = before.changed(&Snapshot::take(&out));
    let (max_act, max_act_path) = largest(&out.join("activity"), "index.html");
    let (max_feed, _) = largest(&out.join("u"), "index.html");
    let home = std::fs::metadata(out.join("index.html")).map(|m| m.len()).unwrap_or(0);
    let peak_mb = full.peak_rss_kib as f64 / 1024.0;
    let inc_peak_mb = inc.peak_rss_kib as f64 / 1024.0;

    let mut o = std::io::stdout().lock();
    let samples = if args.realistic {
        "1 Hz series of 30 min to 6 h".to_owned()
    } else {
        format!("{} samples each", args.samples)
    };
    writeln!(
        o,
        "instance: {} users x {} activities, {samples} (generated in {gen_ms} ms)",
        args.users, args.activities
    )?;
    if let Some(line) = &extract_line {
        writeln!(o, "{line}")?;
    }
    // The goals scale with the instance: 10 s and 0.5 s per 12,000 activities.
    let n_acts = (args.users * args.activities) as f64;
    let full_goal_ms = (10_000.0 * n_acts / 12_000.0).max(1_000.0) as u128;
    let again_goal_ms = (500.0 * n_acts / 12_000.0).max(100.0) as u128;
    let out_mb = on_disk.bytes as f64 / 1e6;
    writeln!(o, "| step | time | files written (counted on disk) | target |")?;
    writeln!(o, "|---|---:|---:|---|")?;
    writeln!(
        o,
        "| full build ({} pages, {} files, {out_mb:.0} MB) | {full_ms} ms ({:.1} s CPU, {:.0} % system) | {} | < {:.1} s |",
        full.pages,
        on_disk.files.len(),
        full.cpu_seconds,
        full.system_seconds / full.cpu_seconds.max(0.01) * 100.0,
        full.files_written,
        full_goal_ms as f64 / 1000.0
    )?;
    writeln!(
        o,
        "| no-change rebuild | {again_ms} ms | {again_disk} (renderer: {}) | 0 files, < {again_goal_ms} ms |",
        again.files_written
    )?;
    writeln!(
        o,
        "| --handle after 1 new activity | {inc_ms} ms | {inc_disk} (renderer: {}) | ≤ 30 files, < 1 s |",
        inc.files_written
    )?;
    writeln!(
        o,
        "| peak memory of the full build process (VmHWM) | {peak_mb:.0} MB | | < 300 MB |"
    )?;
    writeln!(
        o,
        "| peak memory of the --handle build process (VmHWM) | {inc_peak_mb:.0} MB | | < 300 MB |"
    )?;
    writeln!(
        o,
        "| largest activity page | {:.1} KB | {} | < 60 KB |",
        max_act as f64 / 1024.0,
        max_act_path
    )?;
    writeln!(o, "| largest user feed page | {:.1} KB | | < 150 KB |", max_feed as f64 / 1024.0)?;
    writeln!(o, "| home feed page | {:.1} KB | | < 150 KB |", home as f64 / 1024.0)?;
    if let Some(note) =
        super::kernel_share_note(full.cpu_seconds, full.system_seconds, USUAL_SYSTEM_SHARE)
    {
        writeln!(o, "{note}")?;
    }
    let ok = full_ms < full_goal_ms
        && again_disk == 0
        && again_ms < again_goal_ms
        && inc_disk <= 30
        && inc_ms < 1_000
        && peak_mb < 300.0
        && inc_peak_mb < 300.0
        && max_act < 60 * 1024
        && max_feed < 150 * 1024;
    Ok(if ok { Outcome::Ok } else { Outcome::SomeFailed })
}

/// Every file of an output folder with what identifies its content on disk: a file
/// written again (temp + rename) gets a new inode, so files written are counted on disk,
/// not by the renderer.
pub struct Snapshot {
    pub files: std::collections::HashMap<PathBuf, (u64, u64, i64, i64)>,
    pub bytes: u64,
}

impl Snapshot {
    pub fn take(dir: &Path) -> Snapshot {
        use std::os::unix::fs::MetadataExt;
        let mut files = std::collections::HashMap::new();
        let mut bytes = 0;
        for e in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok) {
            if !e.file_type().is_file() {
                continue;
            }
            if let Ok(m) = e.metadata() {
                bytes += m.len();
                files.insert(e.into_path(), (m.ino(), m.len(), m.mtime(), m.mtime_nsec()));
            }
        }
        Snapshot { files, bytes }
    }

    /// Files created, replaced or removed between `self` and `after`.
    pub fn changed(&self, after: &Snapshot) -> usize {
        let changed = after.files.iter().filter(|(p, v)| self.files.get(*p) != Some(v)).count();
        let removed = self.files.keys().filter(|p| !after.files.contains_key(*p)).count();
        changed + removed
    }
}

/// The realistic instance: `activities` 1 Hz files extracted into user00, whose store every
/// other user gets as hard links (with their own `index.json`). Returns the extraction's
/// line for the table (input MB, MB/s).
fn realistic_instance(data: &Path, users: usize, activities: usize) -> anyhow::Result<String> {
    let first = data.join("user00");
    let originals = first.join("originals");
    std::fs::create_dir_all(&originals)?;
    let sizes: Vec<u64> = (0..activities)
        .into_par_iter()
        .map(|i| -> anyhow::Result<u64> {
            let (name, bytes) = crate::synth::realistic_file(i, 11);
            std::fs::write(originals.join(name), &bytes)?;
            Ok(bytes.len() as u64)
        })
        .collect::<anyhow::Result<_>>()?;
    let input_mb = sizes.iter().sum::<u64>() as f64 / 1e6;
    let mut opts = bincio_gen::extract::ExtractOptions::new(&first, "user00");
    opts.display_name = Some("User user00".to_owned());
    opts.inputs = vec![originals];
    let t = Instant::now();
    let report = bincio_gen::extract::extract_user(&opts, &|_, _| {}).context("extraction")?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(report.failed.is_empty(), "extraction failed: {:?}", report.failed);
    let feed: UserFeed = serde_json::from_slice(&std::fs::read(first.join("index.json"))?)?;
    for u in 1..users {
        let handle = format!("user{u:02}");
        let udir = data.join(&handle);
        for e in walkdir::WalkDir::new(first.join("activities")).into_iter().filter_map(Result::ok)
        {
            let rel = e.path().strip_prefix(&first)?;
            let target = udir.join(rel);
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&target)?;
            } else {
                std::fs::hard_link(e.path(), &target)?;
            }
        }
        if first.join("athlete.json").is_file() {
            std::fs::hard_link(first.join("athlete.json"), udir.join("athlete.json"))?;
        }
        write_index(&udir, &handle, feed.activities.clone())?;
    }
    Ok(format!(
        "extraction of user00's {activities} files (1 Hz, 30 min–6 h, 1 in 5 gzipped): {input_mb:.0} MB in {secs:.1} s = {:.0} MB/s (goal ≥ 250 MB/s)",
        input_mb / secs
    ))
}

fn largest(dir: &Path, name: &str) -> (u64, String) {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == name)
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.path().display().to_string())))
        .max()
        .unwrap_or_default()
}

/// Arguments of the hidden `bincio-dev bench build-run`: one build, as `bincio-gen render`.
#[derive(Debug, clap::Args)]
pub struct BuildRunArgs {
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub theme: Option<PathBuf>,
    #[arg(long)]
    pub handle: Option<String>,
}

/// What one measured build reports (a JSON line from the child to `bench build`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    pub pages: usize,
    pub files_written: usize,
    /// Wall time of the build itself (not the process start).
    pub elapsed_ms: u128,
    /// User + system CPU seconds of the child process, all threads (the build is all it does).
    pub cpu_seconds: f64,
    /// The system part of `cpu_seconds`: file-system work.
    pub system_seconds: f64,
    /// The child's peak resident memory (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
}

/// The measured child run: one build, a JSON line on stdout.
pub fn build_run(args: &BuildRunArgs) -> anyhow::Result<Outcome> {
    let opts = SiteOptions {
        data_dir: args.data.clone(),
        out_dir: args.out.clone(),
        theme_dir: args.theme.clone(),
        handle: args.handle.clone(),
        tile_url: None,
    };
    let t = Instant::now();
    let report = site::build(&opts)?;
    let elapsed_ms = t.elapsed().as_millis();
    let (user_s, system_s) =
        super::procfs::cpu_user_system("self").context("reading /proc/self/stat")?;
    let r = RunResult {
        pages: report.pages,
        files_written: report.files_written,
        elapsed_ms,
        cpu_seconds: user_s + system_s,
        system_seconds: system_s,
        peak_rss_kib: super::procfs::peak_rss_kib("self")
            .context("reading VmHWM of /proc/self/status")?,
    };
    writeln!(std::io::stdout().lock(), "{}", serde_json::to_string(&r)?)?;
    Ok(Outcome::Ok)
}

/// Run one build in a child process (`bench build-run`) and read what it measured.
fn child_build(opts: &SiteOptions) -> anyhow::Result<RunResult> {
    let exe = std::env::current_exe().context("locating bincio-dev")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--quiet", "bench", "build-run", "--data"])
        .arg(&opts.data_dir)
        .arg("--out")
        .arg(&opts.out_dir);
    if let Some(theme) = &opts.theme_dir {
        cmd.arg("--theme").arg(theme);
    }
    if let Some(h) = &opts.handle {
        cmd.args(["--handle", h]);
    }
    let out = cmd.output().context("running the measured build")?;
    if !out.status.success() {
        anyhow::bail!("measured build failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).context("reading the measured build's result")
}

/// Write `users × activities` synthetic activities in BAS form.
pub fn generate_instance(
    data: &Path,
    users: usize,
    activities: usize,
    samples: usize,
) -> anyhow::Result<()> {
    (0..users).into_par_iter().try_for_each(|u| -> anyhow::Result<()> {
        let handle = format!("user{u:02}");
        let dir = data.join(&handle);
        std::fs::create_dir_all(dir.join("activities"))?;
        let summaries: Vec<Summary> = (0..activities)
            .into_par_iter()
            .map(|i| write_activity(&dir, u, i as i64, samples))
            .collect::<anyhow::Result<_>>()?;
        write_index(&dir, &handle, summaries)?;
        let athlete = Athlete {
            bas_version: "1.0".into(),
            generated_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap_or_default(),
            power_curve: Default::default(),
            records: Default::default(),
            best_climbs: Vec::new(),
            settings: bincio_bas::AthleteSettings {
                max_hr: Some(190),
                ftp_w: Some(250),
                hr_zones: Some(vec![
                    [0.0, 120.0],
                    [120.0, 140.0],
                    [140.0, 160.0],
                    [160.0, 175.0],
                    [175.0, 999.0],
                ]),
                ..Default::default()
            },
        };
        std::fs::write(dir.join("athlete.json"), serde_json::to_vec(&athlete)?)?;
        Ok(())
    })
}

fn write_index(dir: &Path, handle: &str, mut summaries: Vec<Summary>) -> anyhow::Result<()> {
    summaries.sort_by_key(|s| std::cmp::Reverse(s.started_at.unix_ms()));
    let feed = UserFeed {
        bas_version: "1.0".into(),
        owner: Owner {
            handle: handle.into(),
            display_name: Some(format!("User {handle}")),
            ..Owner::default()
        },
        generated_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap_or_default(),
        shards: Vec::new(),
        activities: summaries,
    };
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&feed)?)?;
    Ok(())
}

/// Add activity number `i` of user number `u` to a generated user's store (its BAS files and
/// its summary in `index.json`). Activity `i` starts `i` × 17 h before 2026-01-01, so a
/// negative `i` is newer than every generated activity and `i ≥ activities` is back-dated.
pub fn add_activity(
    dir: &Path,
    handle: &str,
    u: usize,
    i: i64,
    samples: usize,
) -> anyhow::Result<Summary> {
    let s = write_activity(dir, u, i, samples)?;
    let mut feed: UserFeed = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)?;
    feed.activities.push(s.clone());
    write_index(dir, handle, feed.activities)?;
    Ok(s)
}

fn write_activity(dir: &Path, u: usize, i: i64, samples: usize) -> anyhow::Result<Summary> {
    let sport = [Sport::Cycling, Sport::Running, Sport::Cycling, Sport::Walking, Sport::Hiking]
        [i.rem_euclid(5) as usize];
    // One activity every ~17 hours, going back from 2026, in a +01:00 zone.
    let start_ms = 1_767_225_600_000i64 - i * 61_200_000 - (u as i64) * 3_600_000;
    let started_at = Timestamp::from_unix_ms(start_ms, 3600).unwrap_or_default();
    let id = started_at.id_part();
    let (c_lat, c_lon) = (41.0 + u as f64 * 0.1, 2.0 + i.rem_euclid(7) as f64 * 0.05);
    let speed = match sport {
        Sport::Cycling => 28.0,
        Sport::Running => 11.0,
        _ => 5.0,
    };
    let n = samples.max(10);
    let mut ts = Timeseries::default();
    for k in 0..n {
        let a = k as f64 / n as f64 * std::f64::consts::TAU;
        ts.t.push((k * 3) as i64);
        ts.lat
            .get_or_insert_with(Vec::new)
            .push(Some(((c_lat + 0.05 * a.sin()) * 1e6).round() / 1e6));
        ts.lon
            .get_or_insert_with(Vec::new)
            .push(Some(((c_lon + 0.07 * (1.0 - a.cos())) * 1e6).round() / 1e6));
        ts.elevation_m.push(Some((200.0 + 80.0 * (a * 2.0).sin() * 10.0).round() / 10.0));
        ts.speed_kmh.push(Some(((speed + 4.0 * (a * 5.0).sin()) * 10.0).round() / 10.0));
        ts.hr_bpm.push(Some(130 + (20.0 * (a * 3.0).sin()) as i64));
        ts.cadence_rpm.push(Some(85));
        ts.power_w.push((sport == Sport::Cycling).then(|| 200 + (60.0 * (a * 7.0).sin()) as i64));
        ts.temperature_c.push(None);
    }
    let coords: Vec<Vec<f64>> = (0..n)
        .step_by(10)
        .map(|k| {
            let lat = ts.lat.as_ref().and_then(|v| v[k]).unwrap_or(c_lat);
            let lon = ts.lon.as_ref().and_then(|v| v[k]).unwrap_or(c_lon);
            vec![lon, lat, ts.elevation_m[k].unwrap_or(0.0)]
        })
        .collect();
    let preview: Vec<[f64; 2]> =
        coords.iter().step_by((coords.len() / 20).max(1)).take(20).map(|c| [c[1], c[0]]).collect();
    let duration_s = (n * 3) as i64;
    let distance_m = speed * duration_s as f64 / 3.6;
    let track = TrackFeature {
        kind: "Feature".into(),
        geometry: LineString { kind: "LineString".into(), coordinates: coords },
        properties: TrackProperties {
            id: id.clone(),
            simplification: Some("rdp".into()),
            ..Default::default()
        },
    };
    let mmp = (sport == Sport::Cycling).then(|| {
        [1, 5, 60, 300, 1200, 3600]
            .iter()
            .map(|d| (Int(*d), Int(400 - (*d as f64).ln() as i64 * 25)))
            .collect()
    });
    let detail = Detail {
        bas_version: "1.0".into(),
        id: id.clone(),
        title: Some(format!("{} #{i}", sport.as_str())),
        sport,
        started_at,
        distance_m: Some(distance_m.round()),
        duration_s: Some(duration_s),
        moving_time_s: Some(duration_s),
        elevation_gain_m: Some(320.0),
        avg_speed_kmh: Some(speed),
        max_speed_kmh: Some(speed + 4.0),
        avg_hr_bpm: Some(130),
        max_hr_bpm: Some(150),
        bbox: None,
        mmp,
        best_efforts: Some(vec![(5.0, Int((5000.0 / (speed / 3.6)) as i64))]),
        best_climb_m: (sport == Sport::Cycling).then_some(80.0 + i.rem_euclid(13) as f64),
        timeseries_url: Some(format!("activities/{id}.timeseries.json")),
        privacy: Privacy::Public,
        track_url: Some(format!("activities/{id}.geojson")),
        preview_coords: Some(preview),
        ..Detail::default()
    };
    let acts = dir.join("activities");
    std::fs::write(acts.join(format!("{id}.timeseries.json")), serde_json::to_vec(&ts)?)?;
    std::fs::write(acts.join(format!("{id}.geojson")), serde_json::to_vec(&track)?)?;
    std::fs::write(acts.join(format!("{id}.json")), serde_json::to_vec(&detail)?)?;
    Ok(detail.summary())
}
