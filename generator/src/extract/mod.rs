//! Files → BAS store: the only extraction module that touches the disk.
//!
//! `extract_user` walks the inputs, and for each file (in parallel, in chunks so memory
//! stays bounded): stat → skip if unchanged → read → gunzip → hash → parse → compute →
//! build artefacts. IDs are then assigned in a fixed order (so collisions resolve the same
//! way every run), the files are written atomically (timeseries and track first, the detail
//! last, so a crash never leaves a detail pointing at nothing), near duplicates are resolved
//! over the whole store, and `index.json`, `athlete.json`, `_errors.json` and the cache are
//! rewritten only when their content changed. A failing file is reported and never stops
//! the batch.

pub mod build;
pub mod config;
pub mod ident;
pub mod registry;
pub mod strava_csv;
mod tsjson;

use crate::parse::{self, ParseError};
use bincio_bas::fsx::{self, FsxError};
use bincio_bas::layout::UserDir;
use bincio_bas::{
    AthleteSettings, Detail, FailureEntry, Owner, Privacy, Summary, Timestamp, UserFeed,
};
use build::{Artefacts, BuildContext};
use config::Sensors;
use rayon::prelude::*;
use registry::{ActivityRecord, FileRecord, Registry};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strava_csv::StravaCsv;

/// A failure that stops the whole run (as opposed to one bad input file).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{path}: cannot read input: {source}")]
    Input {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{path}: input does not exist")]
    MissingInput { path: PathBuf },
    #[error(transparent)]
    Write(#[from] FsxError),
    #[error(transparent)]
    Csv(#[from] strava_csv::CsvError),
    #[error(transparent)]
    Config(#[from] bincio_bas::ConfigError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What to extract and how.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// The user directory (`{root}/{handle}`).
    pub user_dir: PathBuf,
    pub handle: String,
    pub display_name: Option<String>,
    /// Folders (walked recursively) and files.
    pub inputs: Vec<PathBuf>,
    pub default_privacy: Privacy,
    pub sensors: Sensors,
    pub rdp_epsilon_deg: f64,
    pub metadata_csv: Option<PathBuf>,
    /// Athlete settings from the config; `None` keeps those already in `athlete.json`.
    pub athlete: Option<AthleteSettings>,
    /// The zone of activities whose file has neither an offset nor coordinates
    /// (`crate::localtime`). `None`: the instance configuration's `time_zone`
    /// (`{root}/bincio.toml` beside the user directory; UTC without one), so uploads, the
    /// command line and re-extracts all read the same setting.
    pub time_zone: Option<String>,
    /// Parse every input again even when its content is already stored, and rewrite that
    /// activity in place (same ID, same privacy, same duplicate status): how a store
    /// extracted by an older version gets today's figures (docs/admin.md, "Re-extracting").
    pub reextract: bool,
    /// Terrain model (tile folder or service URL) for activities whose sidecar asks for
    /// `elevation: dem`, and for every new activity when `dem_at_import` is set.
    pub dem_dir: Option<PathBuf>,
    pub dem_url: Option<String>,
    /// `extract --dem`: recalculate the elevation of every activity this run writes.
    pub dem_at_import: bool,
}

impl ExtractOptions {
    /// Defaults for a user directory and handle.
    pub fn new(user_dir: impl Into<PathBuf>, handle: impl Into<String>) -> Self {
        Self {
            user_dir: user_dir.into(),
            handle: handle.into(),
            display_name: None,
            inputs: Vec::new(),
            default_privacy: Privacy::Public,
            sensors: Sensors::default(),
            rdp_epsilon_deg: config::DEFAULT_RDP_EPSILON_DEG,
            metadata_csv: None,
            athlete: None,
            time_zone: None,
            reextract: false,
            dem_dir: None,
            dem_url: None,
            dem_at_import: false,
        }
    }
}

/// One input file that could not be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub path: PathBuf,
    pub reason: String,
    /// The content itself can never be imported (not an activity, corrupt, a route): the
    /// watcher deletes such uploads. False when reading failed (may pass next time) or a
    /// parser panicked (the file is kept so it can be reported).
    pub not_an_activity: bool,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// IDs of activities written by this run, in the order they were assigned.
    pub new_ids: Vec<String>,
    /// The activity each readable input file is stored as, whether this run wrote it or the
    /// store already held its content (recognised by content hash). A job redone after a
    /// crash finds its files already extracted and still knows what they became.
    pub stored_as: BTreeMap<PathBuf, String>,
    /// Files whose content was already in the store.
    pub unchanged: usize,
    /// Stored activities rewritten from their file by a re-extraction.
    pub reextracted: usize,
    /// Files that were exact copies of another file in this run (not written).
    pub exact_duplicates: usize,
    /// New activities that turned out to be near duplicates of a better recording (written,
    /// with `duplicate_of` set, and left out of every listing).
    pub near_duplicates: usize,
    pub failed: Vec<Failure>,
    /// Elevation recalculations this run applied (a sidecar's choice, or `--dem`), and
    /// any note about them (part of a track without terrain data, no model configured).
    pub elevation_notes: Vec<String>,
    /// Input files considered.
    pub files: usize,
    /// Bytes read from disk (compressed size) for files that were parsed.
    pub bytes_parsed: u64,
    pub elapsed: Duration,
}

impl Report {
    /// Exact plus near duplicates.
    pub fn duplicates(&self) -> usize {
        self.exact_duplicates + self.near_duplicates
    }

    /// `dave: 12 new, 3 unchanged, 1 duplicate, 2 failed in 1.23 s`.
    pub fn summary_line(&self, handle: &str) -> String {
        format!(
            "{handle}: {} new, {}{} unchanged, {} duplicate{}, {} failed in {:.2} s",
            self.new_ids.len() - self.near_duplicates,
            if self.reextracted > 0 {
                format!("{} re-extracted, ", self.reextracted)
            } else {
                String::new()
            },
            self.unchanged,
            self.duplicates(),
            if self.duplicates() == 1 { "" } else { "s" },
            self.failed.len(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Progress callback: `(files done, files total)`.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Every supported file under the inputs, sorted, each once.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ExtractError> {
    let mut out = Vec::new();
    for input in inputs {
        if !input.exists() {
            return Err(ExtractError::MissingInput { path: input.clone() });
        }
        for entry in walkdir::WalkDir::new(input).follow_links(true).sort_by_file_name() {
            let entry =
                entry.map_err(|source| ExtractError::Input { path: input.clone(), source })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if name.starts_with('.') || !parse::is_supported_name(&name) {
                continue;
            }
            out.push(entry.into_path());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// SHA-256 of the decompressed content, as `sha256:<hex>` (a `.gpx` and its `.gpx.gz` are
/// the same activity).
pub fn content_hash(decompressed: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(decompressed)))
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

enum Outcome {
    /// Content already stored (possibly under another file name).
    Unchanged {
        key: String,
        file: FileRecord,
    },
    Parsed {
        key: String,
        file: FileRecord,
        artefacts: Box<Artefacts>,
        bytes: u64,
    },
    /// Content already stored as `id`, parsed again on request (`reextract`).
    Reextracted {
        key: String,
        file: FileRecord,
        id: String,
        artefacts: Box<Artefacts>,
    },
    Failed(Failure),
}

/// Parse one file into artefacts (no disk writes).
pub fn extract_file(
    raw: &[u8],
    source_file: &str,
    privacy: Privacy,
    sensors: Sensors,
    rdp_epsilon_deg: f64,
    csv: Option<&StravaCsv>,
    time_zone: &str,
) -> Result<(String, Artefacts), ParseError> {
    let bytes = parse::maybe_decompress(raw)?;
    let hash = content_hash(&bytes);
    let ctx = BuildContext {
        source_file,
        source_hash: &hash,
        privacy,
        rdp_epsilon_deg,
        csv: csv.and_then(|c| c.row_for(source_file)),
        time_zone,
    };
    let artefacts = extract_decompressed(&bytes, sensors, &ctx)?;
    Ok((hash, artefacts))
}

/// [`extract_file`] for content already decompressed and hashed (the batch has done both to
/// recognise known files, and does not do them twice).
fn extract_decompressed(
    bytes: &[u8],
    sensors: Sensors,
    ctx: &BuildContext<'_>,
) -> Result<Artefacts, ParseError> {
    let mut activity = match parse::detect_format(bytes)? {
        crate::model::Format::Gpx => parse::gpx::parse(bytes)?,
        crate::model::Format::Tcx => parse::tcx::parse(bytes)?,
        crate::model::Format::Fit => parse::fit::parse(bytes)?,
    };
    build::apply_sensors(&mut activity, sensors);
    build::build(activity, ctx).map_err(ParseError::Invalid)
}

fn process(
    path: &Path,
    reg: &Registry,
    opts: &ExtractOptions,
    csv: Option<&StravaCsv>,
    time_zone: &str,
) -> Outcome {
    let key = path.to_string_lossy().into_owned();
    let failure = |reason: String, not_an_activity: bool| {
        Outcome::Failed(Failure { path: path.to_path_buf(), reason, not_an_activity })
    };
    let fail = |reason: String| failure(reason, false);
    let refuse = |e: ParseError| failure(e.to_string(), true);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let (size, mtime) = (meta.len(), mtime_ns(&meta));
    if !opts.reextract
        && let Some(hash) = reg.cached_hash(&key, size, mtime)
        && reg.id_for_hash(hash).is_some()
    {
        let file = FileRecord { size, mtime_ns: mtime, hash: hash.to_owned() };
        return Outcome::Unchanged { key, file };
    }
    let raw = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    // Hash first: known content is never re-parsed.
    let decompressed = match parse::maybe_decompress(&raw) {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let hash = content_hash(&decompressed);
    let stored = reg.id_for_hash(&hash).map(str::to_owned);
    if stored.is_some() && !opts.reextract {
        return Outcome::Unchanged { key, file: FileRecord { size, mtime_ns: mtime, hash } };
    }
    // A re-extracted activity keeps the privacy it was stored with: its published track is
    // rebuilt under that privacy, never the default's.
    let privacy = stored
        .as_deref()
        .and_then(|id| std::fs::read(UserDir::new(&opts.user_dir).detail(id)).ok())
        .and_then(|b| serde_json::from_slice::<Detail>(&b).ok())
        .map_or(opts.default_privacy, |d| d.privacy);
    let source_file =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ctx = BuildContext {
            source_file: &source_file,
            source_hash: &hash,
            privacy,
            rdp_epsilon_deg: opts.rdp_epsilon_deg,
            csv: csv.and_then(|c| c.row_for(&source_file)),
            time_zone,
        };
        extract_decompressed(&decompressed, opts.sensors, &ctx)
    }));
    match result {
        Ok(Ok(artefacts)) if let Some(id) = stored => Outcome::Reextracted {
            key,
            file: FileRecord { size, mtime_ns: mtime, hash },
            id,
            artefacts: Box::new(artefacts),
        },
        Ok(Ok(artefacts)) => Outcome::Parsed {
            key,
            file: FileRecord { size, mtime_ns: mtime, hash },
            artefacts: Box::new(artefacts),
            bytes: size,
        },
        Ok(Err(e)) => refuse(e),
        // A parser bug must not take the batch down: report it like any bad file.
        Err(_) => fail("internal error while parsing (please report this file)".into()),
    }
}

fn write_artefacts(user: &UserDir, a: &Artefacts) -> Result<(), FsxError> {
    let id = &a.detail.id;
    if let Some(ts) = &a.timeseries {
        // Written by hand into a buffer each worker thread keeps (no fresh megabytes to
        // fault in per activity), then to disk in one call: `tsjson` has the why.
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with_borrow_mut(|buf| {
            buf.clear();
            tsjson::write_timeseries(ts, buf);
            let written = fsx::write_derived(&user.timeseries(id), buf);
            // A rare huge series does not keep its buffer for the rest of the run.
            if buf.capacity() > 16 << 20 {
                *buf = Vec::new();
            }
            written
        })?;
    }
    if let Some(t) = &a.track {
        fsx::write_derived_json(&user.track(id), t)?;
    }
    fsx::write_derived_json(&user.detail(id), &a.detail)
}

/// Files per parallel chunk: enough to keep every core busy, small enough that the
/// artefacts of a chunk (timeseries are the big part) stay a few MB.
const CHUNK_FILES: usize = 64;

/// Extract `opts.inputs` into `opts.user_dir`.
pub fn extract_user(opts: &ExtractOptions, progress: Progress<'_>) -> Result<Report, ExtractError> {
    let started = Instant::now();
    let user = UserDir::new(&opts.user_dir);
    let activities_dir = user.activities_dir();
    std::fs::create_dir_all(&activities_dir)
        .map_err(|source| ExtractError::Io { path: activities_dir.clone(), source })?;
    let csv = opts.metadata_csv.as_deref().map(StravaCsv::load).transpose()?;
    let time_zone = match &opts.time_zone {
        Some(z) => z.clone(),
        None => {
            let root = opts.user_dir.parent().unwrap_or(Path::new("."));
            bincio_bas::InstanceConfig::load(&root.join(bincio_bas::config::FILE_NAME))?.time_zone
        }
    };
    let files = discover(&opts.inputs)?;
    let mut reg = Registry::load(&user.cache(), &activities_dir);
    let mut report = Report { files: files.len(), ..Report::default() };
    let mut dem =
        crate::elevation::Source::from_settings(opts.dem_dir.as_deref(), opts.dem_url.as_deref());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut reextracted: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    progress(0, files.len());

    for chunk in files.chunks(CHUNK_FILES) {
        // Largest files first, each thread taking the next file as it finishes one: a 6 h
        // ride met last would otherwise keep one core busy while the other waits at the end
        // of the chunk. The outcomes are put back in `chunk` order, which the IDs depend on.
        let mut order: Vec<(u64, usize)> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| (std::fs::metadata(p).map_or(0, |m| m.len()), i))
            .collect();
        order.sort_unstable_by(|a, b| b.cmp(a));
        let mut done_here: Vec<(usize, Outcome)> = order
            .into_iter()
            .par_bridge()
            .map(|(_, i)| {
                let o = process(&chunk[i], &reg, opts, csv.as_ref(), &time_zone);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, files.len());
                (i, o)
            })
            .collect();
        done_here.sort_unstable_by_key(|(i, _)| *i);
        let outcomes = done_here.into_iter().map(|(_, o)| o);
        let mut to_write: Vec<Box<Artefacts>> = Vec::new();
        // Sorted back by index: each outcome is its file's.
        for (path, outcome) in chunk.iter().zip(outcomes) {
            match outcome {
                Outcome::Unchanged { key, file } => {
                    report.unchanged += 1;
                    if let Some(id) = reg.id_for_hash(&file.hash) {
                        report.stored_as.insert(path.clone(), id.to_owned());
                    }
                    reg.remember_file(key, file);
                }
                Outcome::Failed(f) => report.failed.push(f),
                Outcome::Reextracted { key, file, id, mut artefacts } => {
                    reg.remember_file(key, file);
                    report.stored_as.insert(path.clone(), id.clone());
                    // Another copy of the same content met earlier in this run.
                    if !reextracted.insert(id.clone()) {
                        report.exact_duplicates += 1;
                        continue;
                    }
                    if artefacts.detail.id != id {
                        build::rename(&mut artefacts, &id);
                    }
                    artefacts.detail.duplicate_of =
                        reg.get(&id).and_then(|r| r.duplicate_of.clone());
                    report.reextracted += 1;
                    to_write.push(artefacts);
                }
                Outcome::Parsed { key, file, artefacts, bytes } => {
                    report.bytes_parsed += bytes;
                    let hash = file.hash.clone();
                    reg.remember_file(key, file);
                    if let Some(a) = admit(&mut reg, &mut report, path, hash, artefacts) {
                        to_write.push(a);
                    }
                }
            }
        }
        to_write.par_iter().map(|a| write_artefacts(&user, a)).collect::<Result<Vec<()>, _>>()?;
        for a in &to_write {
            reapply_elevation(&user, opts, &a.detail.id, &mut dem, &mut report);
        }
    }

    finish(&user, opts, &mut reg, &mut report, &reextracted, true)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Give a newly parsed activity its ID (resolving collisions the same way every run) and
/// record it; `None` when it is an exact copy of content met earlier in this run.
fn admit(
    reg: &mut Registry,
    report: &mut Report,
    path: &Path,
    hash: String,
    mut artefacts: Box<Artefacts>,
) -> Option<Box<Artefacts>> {
    if let Some(id) = reg.id_for_hash(&hash) {
        // An exact copy of a file met earlier in this run (x.gpx and x.gpx.gz).
        report.stored_as.insert(path.to_path_buf(), id.to_owned());
        report.exact_duplicates += 1;
        return None;
    }
    let base = artefacts.detail.id.clone();
    let mut id = base.clone();
    let mut n = 1;
    while reg.get(&id).is_some() {
        id = ident::collision_id(&base, &hash);
        if n > 1 {
            id = format!("{id}-{n}");
        }
        n += 1;
    }
    if id != base {
        build::rename(&mut artefacts, &id);
    }
    let d = &artefacts.detail;
    let source = d.source.clone().unwrap_or_default();
    reg.insert(ActivityRecord {
        id: id.clone(),
        source_hash: hash,
        started_at: d.started_at,
        distance_m: d.distance_m,
        quality: registry::quality_score(&source, artefacts.sensor_channels, artefacts.point_count),
        source: Some(source),
        duplicate_of: None,
        seq: reg.next_seq(),
    });
    report.stored_as.insert(path.to_path_buf(), id.clone());
    report.new_ids.push(id);
    Some(artefacts)
}

/// After the new activities are written: resolve near duplicates over the whole store,
/// rewrite the index and athlete (only when their content changed) and save the registry.
/// `reextracted` activities are summarised afresh too. `errors` rewrites `_errors.json` with this run's failures (a file walk's report).
fn finish(
    user: &UserDir,
    opts: &ExtractOptions,
    reg: &mut Registry,
    report: &mut Report,
    reextracted: &std::collections::BTreeSet<String>,
    errors: bool,
) -> Result<(), ExtractError> {
    // Near duplicates, over the whole store; patch the details whose status changed.
    for id in reg.resolve_near_duplicates() {
        let path = user.detail(&id);
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let Ok(mut detail) = serde_json::from_slice::<Detail>(&bytes) else { continue };
        detail.duplicate_of = reg.get(&id).and_then(|r| r.duplicate_of.clone());
        fsx::write_derived_json(&path, &detail)?;
    }
    let new_dups =
        report.new_ids.iter().filter(|id| reg.get(id).is_some_and(|r| r.duplicate_of.is_some()));
    report.near_duplicates = new_dups.count();

    // Re-extracted activities are summarised afresh from their rewritten details, too.
    let fresh: Vec<String> = report.new_ids.iter().chain(reextracted).cloned().collect();
    let summaries = write_index(user, opts, reg, &fresh)?;
    write_athlete(user, opts, &summaries)?;
    if errors {
        write_errors(user, &report.failed)?;
    }
    reg.save(&user.cache())?;
    Ok(())
}

/// An activity built from something other than a file (a Strava sync): `key` names it in
/// reports (`strava:123`), `hash` identifies its content in the store (`strava:123` as
/// well: the same Strava activity is never stored twice).
#[derive(Clone, Debug)]
pub struct Prebuilt {
    pub key: String,
    pub hash: String,
    pub artefacts: Box<Artefacts>,
}

/// Store activities built elsewhere exactly as [`extract_user`] stores parsed files: the
/// same ID assignment, near-duplicate resolution, index, athlete and cache. Known hashes
/// are counted as unchanged and not rewritten; storing nothing new writes nothing.
pub fn store_prebuilt(opts: &ExtractOptions, items: Vec<Prebuilt>) -> Result<Report, ExtractError> {
    let started = Instant::now();
    let user = UserDir::new(&opts.user_dir);
    let activities_dir = user.activities_dir();
    std::fs::create_dir_all(&activities_dir)
        .map_err(|source| ExtractError::Io { path: activities_dir.clone(), source })?;
    let mut reg = Registry::load(&user.cache(), &activities_dir);
    let mut report = Report { files: items.len(), ..Report::default() };
    let mut to_write = Vec::new();
    for item in items {
        let key = PathBuf::from(&item.key);
        if let Some(id) = reg.id_for_hash(&item.hash) {
            report.unchanged += 1;
            report.stored_as.insert(key, id.to_owned());
            continue;
        }
        if let Some(a) = admit(&mut reg, &mut report, &key, item.hash, item.artefacts) {
            to_write.push(a);
        }
    }
    to_write.par_iter().map(|a| write_artefacts(&user, a)).collect::<Result<Vec<()>, _>>()?;
    finish(&user, opts, &mut reg, &mut report, &std::collections::BTreeSet::new(), false)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// A freshly written activity carries the device's altitude: drop the device figures a
/// previous recalculation kept (they belonged to the old detail), then apply the sidecar's
/// elevation choice again, or the terrain model for every activity with `--dem`. A
/// recalculation that fails leaves the device's altitude and is reported, never fatal.
fn reapply_elevation(
    user: &UserDir,
    opts: &ExtractOptions,
    id: &str,
    dem: &mut Option<crate::elevation::Source>,
    report: &mut Report,
) {
    use bincio_bas::sidecar::{ElevationChoice, Sidecar};
    let _ = std::fs::remove_file(user.device_altitude(id));
    let from_sidecar = Sidecar::read(&user.sidecar(id)).ok().flatten().and_then(|s| s.elevation);
    let choice = from_sidecar.or(opts.dem_at_import.then_some(ElevationChoice::Dem));
    let Some(choice) = choice else { return };
    match crate::elevation::apply_choice(user, id, Some(choice), dem.as_mut()) {
        Ok(o) => {
            if let Some(n) = o.note {
                report.elevation_notes.push(n);
            }
        }
        Err(e) => report.elevation_notes.push(format!("{id}: elevation kept as recorded: {e}")),
    }
}

/// Re-read the details of `ids` into `index.json` and rebuild `athlete.json`, after stored
/// details changed outside an extraction run (elevation recalculation).
pub fn refresh_details(opts: &ExtractOptions, ids: &[String]) -> Result<(), ExtractError> {
    let user = UserDir::new(&opts.user_dir);
    let reg = Registry::load(&user.cache(), &user.activities_dir());
    let summaries = write_index(&user, opts, &reg, ids)?;
    write_athlete(&user, opts, &summaries)
}

/// Rewrite `index.json` (every listed summary inline, newest first; duplicates left out).
/// Keeps the old `generated_at` when nothing else changed, so a no-change run writes nothing.
fn write_index(
    user: &UserDir,
    opts: &ExtractOptions,
    reg: &Registry,
    new_ids: &[String],
) -> Result<Vec<Summary>, ExtractError> {
    let path = user.index();
    let existing: Option<UserFeed> =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let mut by_id: BTreeMap<String, Summary> = BTreeMap::new();
    if let Some(feed) = &existing {
        for s in &feed.activities {
            by_id.insert(s.id.clone(), s.clone());
        }
    }
    // New activities, and anything stored but missing from the index, come from the details.
    let mut wanted: Vec<&ActivityRecord> =
        reg.records().filter(|r| r.duplicate_of.is_none()).collect();
    wanted
        .sort_by(|a, b| b.started_at.unix_ms().cmp(&a.started_at.unix_ms()).then(b.id.cmp(&a.id)));
    let mut activities = Vec::with_capacity(wanted.len());
    for rec in wanted {
        let fresh = new_ids.contains(&rec.id) || !by_id.contains_key(&rec.id);
        if fresh {
            let Ok(bytes) = std::fs::read(user.detail(&rec.id)) else { continue };
            let Ok(detail) = serde_json::from_slice::<Detail>(&bytes) else { continue };
            activities.push(detail.summary());
        } else if let Some(s) = by_id.remove(&rec.id) {
            activities.push(s);
        }
    }
    let owner = Owner {
        handle: opts.handle.clone(),
        display_name: opts
            .display_name
            .clone()
            .or_else(|| existing.as_ref().and_then(|f| f.owner.display_name.clone()))
            .or_else(|| Some(opts.handle.clone())),
        avatar_url: existing.as_ref().and_then(|f| f.owner.avatar_url.clone()),
        athlete: None,
    };
    let mut feed = UserFeed {
        bas_version: bincio_bas::BAS_VERSION.to_owned(),
        owner,
        generated_at: existing.as_ref().map(|f| f.generated_at).unwrap_or_else(now),
        shards: Vec::new(),
        activities,
    };
    let unchanged = existing.as_ref().is_some_and(|e| *e == feed);
    if !unchanged {
        feed.generated_at = now();
        fsx::write_derived_json(&path, &feed)?;
    }
    Ok(feed.activities)
}

/// The current time, in UTC.
pub fn now() -> Timestamp {
    Timestamp(time::OffsetDateTime::now_utc())
}

fn write_athlete(
    user: &UserDir,
    opts: &ExtractOptions,
    summaries: &[Summary],
) -> Result<(), ExtractError> {
    let path = user.athlete();
    let existing: Option<bincio_bas::Athlete> =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let settings = opts
        .athlete
        .clone()
        .or_else(|| existing.as_ref().map(|a| a.settings.clone()))
        .unwrap_or_default();
    let generated_at = existing.as_ref().map(|a| a.generated_at).unwrap_or_else(now);
    let mut athlete = crate::athlete::build_athlete(summaries, settings, now(), generated_at);
    if existing.as_ref() != Some(&athlete) {
        athlete.generated_at = now();
        fsx::write_derived_json(&path, &athlete)?;
    }
    Ok(())
}

/// Replace `{handle}/_errors.json` with `failed` (an import made of several extraction
/// runs, a Strava export's batches, writes the failures of all of them at the end).
pub fn write_errors(user: &UserDir, failed: &[Failure]) -> Result<(), ExtractError> {
    let entries: Vec<FailureEntry> = failed
        .iter()
        .map(|f| FailureEntry { path: f.path.display().to_string(), reason: f.reason.clone() })
        .collect();
    let path = user.errors();
    let bytes = fsx::to_json_bytes(&path, &entries)?;
    fsx::write_if_changed(&path, &bytes)?;
    Ok(())
}
