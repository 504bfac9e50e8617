//! The build: phases, the output writer, the published data files and the clean-up of
//! files a previous build produced.
//!
//! Which files a build produced is remembered per scope (one per user, one for the shared
//! pages) in the data directory (`{root}/{handle}/.site_pages-{out}.json`, `{root}/.site_pages-{out}.json`,
//! `{out}` a short hash of the output folder),
//! never in the output, because that list names unlisted pages. A `--handle` build only
//! renders and cleans its user's scope plus the shared scope.

use super::assets::{self, Vendor};
use super::load::{self, Instance};
use super::{BuildReport, SiteError, SiteOptions, pages};
use crate::merge::{MergedActivity, MergedUser, copy_if_changed, shard_card};
use bincio_bas::fsx;
use bincio_bas::{Privacy, Summary};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Cards per feed page (divides into 1, 2 and 3 columns).
pub const FEED_PAGE_SIZE: usize = 48;
/// Activities per combined-feed JSON page (the reference's 50).
pub const FEED_JSON_PAGE_SIZE: usize = 50;

/// Writes files under the output folder, counting what changed.
pub struct Out {
    pub root: PathBuf,
    pub written: AtomicUsize,
    pub unchanged: AtomicUsize,
}

impl Out {
    /// Write `bytes` to `out/{rel}` unless identical. Returns `rel` for the produced list.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<String, SiteError> {
        let path = self.root.join(rel);
        if fsx::write_if_changed(&path, bytes)? {
            world_readable(&path);
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        }
        Ok(rel.to_owned())
    }

    /// Copy a file (skipping it when length and mtime match).
    pub fn copy(&self, src: &Path, rel: &str) -> Result<String, SiteError> {
        let path = self.root.join(rel);
        let n = copy_if_changed(src, &path)
            .map_err(|(path, reason)| SiteError::File { path, reason })?;
        if n > 0 {
            world_readable(&path);
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        }
        Ok(rel.to_owned())
    }
}

/// Output files are read by the web server's user: make them 0644 (temp files start 0600).
fn world_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Where an activity lives in the output.
#[derive(Clone, Debug)]
pub struct ActivityUrls {
    /// The page, `/activity/{id}/` or, when unlisted, `/activity/{id}-{token}/`.
    pub page: String,
    /// Folder URL of its published detail/track/timeseries/images.
    pub data: String,
    pub listed: bool,
}

/// Shared state of the page renderers.
pub struct Ctx<'a> {
    pub inst: &'a Instance,
    pub tera: &'a tera::Tera,
    pub out: &'a Out,
    pub site: SiteView,
    pub data_dir: &'a Path,
    /// Hash of every theme file: a theme edit re-renders every page.
    pub theme_fp: String,
    /// Short hash of the output folder: build records and caches are kept per output.
    pub out_key: String,
    urls: HashMap<(String, String), ActivityUrls>,
}

/// What every page template sees as `site`.
#[derive(Clone, Debug, Serialize)]
pub struct SiteView {
    pub name: String,
    pub single_user: bool,
    pub private: bool,
    pub handles: Vec<String>,
    /// The only user on a single-user site.
    pub home_handle: Option<String>,
    /// `/static/vendor/leaflet-x.y.z/`.
    pub leaflet_url: String,
    pub tile_url: Option<String>,
}

impl Ctx<'_> {
    /// URLs of one activity.
    pub fn urls(&self, handle: &str, id: &str) -> Option<&ActivityUrls> {
        self.urls.get(&(handle.to_owned(), id.to_owned()))
    }

    /// Render `template` with `context` (plus `site`) into `out/{rel}`.
    pub fn render(
        &self,
        template: &str,
        mut context: tera::Context,
        rel: &str,
    ) -> Result<String, SiteError> {
        context.insert("site", &self.site);
        let html = self.tera.render(template, &context).map_err(|source| SiteError::Render {
            template: template.to_owned(),
            page: rel.to_owned(),
            source,
        })?;
        self.out.put(rel, html.as_bytes())
    }
}

/// Build the site.
pub fn build(opts: &SiteOptions) -> Result<BuildReport, SiteError> {
    let t0 = Instant::now();
    let data = opts.data_dir.canonicalize().unwrap_or_else(|_| opts.data_dir.clone());
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|e| SiteError::File { path: opts.out_dir.clone(), reason: e.to_string() })?;
    let out_abs = opts.out_dir.canonicalize().unwrap_or_else(|_| opts.out_dir.clone());
    if out_abs.starts_with(&data) {
        return Err(SiteError::OutInsideData { out: out_abs, data });
    }
    if let Some(h) = &opts.handle
        && !data.join(h).is_dir()
    {
        return Err(SiteError::UnknownHandle { handle: h.clone() });
    }

    let inst = load::load_instance(&data, opts.handle.as_deref())?;
    let merged_files_changed: usize = inst.users.iter().map(|u| u.files_changed).sum();
    tracing::info!(
        users = inst.users.len(),
        merged_files_changed,
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "loaded"
    );

    let theme = crate::theme::Theme::load(opts.theme_dir.as_deref())?;
    let tera = crate::templates::load_theme(&theme)?;
    let out =
        Out { root: out_abs.clone(), written: AtomicUsize::new(0), unchanged: AtomicUsize::new(0) };
    let (vendors, asset_files, asset_written) = assets::copy_assets(&theme, &out_abs)?;
    out.written.fetch_add(asset_written, Ordering::Relaxed);
    out.unchanged.fetch_add(asset_files.len().saturating_sub(asset_written), Ordering::Relaxed);

    let mut site = site_view(&inst, &vendors);
    site.tile_url = opts.tile_url.clone().or_else(|| inst.config.tile_url.clone());
    let urls = activity_urls(&inst);
    let theme_fp = theme.fingerprint();
    let out_key = short_hash(&out_abs.to_string_lossy());
    let ctx =
        Ctx { inst: &inst, tera: &tera, out: &out, site, data_dir: &data, theme_fp, out_key, urls };

    // Users in scope render in parallel; inside a user, pages render in parallel too.
    let scope_users: Vec<&MergedUser> = inst
        .users
        .iter()
        .filter(|u| opts.handle.as_deref().is_none_or(|h| h == u.handle))
        .collect();
    let t_pages = Instant::now();
    let per_user: Vec<Result<(String, Vec<String>), SiteError>> = scope_users
        .par_iter()
        .map(|u| {
            let mut produced = publish_user_data(&ctx, u)?;
            produced.extend(pages::user::render_user(&ctx, u)?);
            produced.extend(pages::activity::render_activities(&ctx, u)?);
            Ok((u.handle.clone(), produced))
        })
        .collect();
    let mut shared = asset_files;
    shared.extend(publish_shared_data(&ctx)?);
    shared.extend(pages::shared::render_shared(&ctx)?);
    let pages_ms = t_pages.elapsed().as_millis();

    // A path can move between scopes (two users' activities with the same ID swap which one
    // gets `/activity/{id}/`), so nothing produced by any scope of this build is removed.
    let per_user: Vec<(String, Vec<String>)> = per_user.into_iter().collect::<Result<_, _>>()?;
    let mut all_produced: BTreeSet<String> = shared.iter().cloned().collect();
    for (_, produced) in &per_user {
        all_produced.extend(produced.iter().cloned());
    }
    // Records are per output folder: building one data directory into two folders must not
    // make one build clean the other's files.
    let record_name = format!(".site_pages-{}.json", ctx.out_key);
    let mut removed = 0;
    let mut page_count = shared.iter().filter(|p| p.ends_with(".html")).count();
    for (handle, produced) in per_user {
        page_count += produced.iter().filter(|p| p.ends_with(".html")).count();
        removed +=
            clean_scope(&data.join(&handle).join(&record_name), &out_abs, produced, &all_produced)?;
    }
    removed += clean_scope(&data.join(&record_name), &out_abs, shared, &all_produced)?;

    let report = BuildReport {
        users: inst.users.len(),
        activities: inst.users.iter().map(|u| u.activities.len()).sum(),
        pages: page_count,
        files_written: out.written.load(Ordering::Relaxed),
        files_unchanged: out.unchanged.load(Ordering::Relaxed),
        files_removed: removed,
        merged_files_changed,
        elapsed_ms: t0.elapsed().as_millis(),
    };
    tracing::info!(
        pages = report.pages,
        written = report.files_written,
        unchanged = report.files_unchanged,
        removed,
        pages_ms = pages_ms as u64,
        elapsed_ms = report.elapsed_ms as u64,
        "rendered"
    );
    Ok(report)
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(s.as_bytes())[..6])
}

fn site_view(inst: &Instance, vendors: &[Vendor]) -> SiteView {
    let leaflet_url = vendors
        .iter()
        .find(|v| v.name == "leaflet")
        .map(|v| v.url.clone())
        .unwrap_or_else(|| "/static/vendor/leaflet/".to_owned());
    SiteView {
        name: inst.name.clone(),
        single_user: inst.single_user,
        private: inst.private,
        handles: inst.users.iter().map(|u| u.handle.clone()).collect(),
        home_handle: inst
            .single_user
            .then(|| inst.users.first().map(|u| u.handle.clone()))
            .flatten(),
        leaflet_url,
        tile_url: None,
    }
}

/// Page and data URLs of every activity. Listed activities claim `/activity/{id}/` in handle
/// order; a second user with the same ID (same start second) gets `/activity/{id}-{handle}/`.
fn activity_urls(inst: &Instance) -> HashMap<(String, String), ActivityUrls> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut map = HashMap::new();
    for u in &inst.users {
        for a in &u.activities {
            let id = &a.summary.id;
            let listed = a.is_listed();
            let (page, data) = if listed {
                let slug = if taken.insert(id.clone()) {
                    id.clone()
                } else {
                    format!("{id}-{}", u.handle)
                };
                (format!("/activity/{slug}/"), format!("/data/{}/_merged/activities/", u.handle))
            } else {
                let page = format!("/activity/{id}-{}/", inst.unlisted_token(&u.handle, id));
                (page.clone(), page)
            };
            map.insert((u.handle.clone(), id.clone()), ActivityUrls { page, data, listed });
        }
    }
    map
}

/// `/data/{h}/_merged/`: the user's public BAS feed (year manifest, shards, athlete) and the
/// files of listed activities. Unlisted activities' files go to their tokened page folder
/// (written by the activity renderer), so no listed path names them.
fn publish_user_data(ctx: &Ctx<'_>, u: &MergedUser) -> Result<Vec<String>, SiteError> {
    let merged = ctx.data_dir.join(&u.handle).join("_merged");
    let base = format!("data/{}/_merged", u.handle);
    let mut produced = Vec::new();
    let manifest = merged.join("index.json");
    if manifest.is_file() {
        produced.push(ctx.out.copy(&manifest, &format!("{base}/index.json"))?);
    }
    if let Ok(entries) = std::fs::read_dir(&merged) {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("index-") && n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            produced.push(ctx.out.copy(&merged.join(&n), &format!("{base}/{n}"))?);
        }
    }
    if merged.join("athlete.json").is_file() {
        produced.push(ctx.out.copy(&merged.join("athlete.json"), &format!("{base}/athlete.json"))?);
    }
    let files: Vec<Result<Vec<String>, SiteError>> = u
        .activities
        .par_iter()
        .filter(|a| a.is_listed())
        .map(|a| {
            let mut p = Vec::new();
            for (name, present) in activity_files(a) {
                if present {
                    p.push(ctx.out.copy(
                        &merged.join("activities").join(&name),
                        &format!("{base}/activities/{name}"),
                    )?);
                }
            }
            for img in &a.images {
                let src = merged.join("activities/images").join(&a.summary.id).join(img);
                p.push(
                    ctx.out
                        .copy(&src, &format!("{base}/activities/images/{}/{img}", a.summary.id))?,
                );
            }
            Ok(p)
        })
        .collect();
    for f in files {
        produced.extend(f?);
    }
    Ok(produced)
}

/// File names of an activity in `_merged/activities/` and whether each exists.
pub fn activity_files(a: &MergedActivity) -> [(String, bool); 3] {
    let id = &a.summary.id;
    [
        (format!("{id}.json"), true),
        (format!("{id}.geojson"), a.has_track),
        (format!("{id}.timeseries.json"), a.has_timeseries),
    ]
}

#[derive(Serialize)]
struct FeedPage<'a> {
    bas_version: &'a str,
    page: usize,
    total_pages: usize,
    total_activities: usize,
    activities: Vec<Summary>,
}

/// `/data/index.json` (root manifest) and the combined feed `/data/feed.json`,
/// `/data/feed-N.json`: listed activities of every user, newest first, tagged with `handle`,
/// URLs prefixed with `{h}/_merged/`, heavy fields stripped.
fn publish_shared_data(ctx: &Ctx<'_>) -> Result<Vec<String>, SiteError> {
    let mut produced = Vec::new();
    let path = Path::new("data/index.json");
    produced.push(ctx.out.put("data/index.json", &fsx::to_json_bytes(path, &ctx.inst.manifest)?)?);
    let mut all: Vec<Summary> = Vec::new();
    for u in &ctx.inst.users {
        for a in u.activities.iter().filter(|a| a.is_listed()) {
            let mut s = shard_card(&a.summary);
            s.mmp = None;
            s.handle = Some(u.handle.clone());
            let prefix = format!("{}/_merged/", u.handle);
            s.detail_url = s.detail_url.map(|d| format!("{prefix}{d}"));
            s.track_url = s.track_url.map(|d| format!("{prefix}{d}"));
            all.push(s);
        }
    }
    all.sort_by(|a, b| {
        b.started_at.unix_ms().cmp(&a.started_at.unix_ms()).then_with(|| a.id.cmp(&b.id))
    });
    let total = all.len();
    let pages = total.div_ceil(FEED_JSON_PAGE_SIZE).max(1);
    for (i, chunk) in all.chunks(FEED_JSON_PAGE_SIZE).enumerate().chain(
        // An instance with no activity still gets an empty feed.json.
        std::iter::once((0, &[][..])).filter(|_| total == 0),
    ) {
        let rel =
            if i == 0 { "data/feed.json".to_owned() } else { format!("data/feed-{}.json", i + 1) };
        let page = FeedPage {
            bas_version: bincio_bas::BAS_VERSION,
            page: i + 1,
            total_pages: pages,
            total_activities: total,
            activities: chunk.to_vec(),
        };
        produced.push(ctx.out.put(&rel, &fsx::to_json_bytes(Path::new(&rel), &page)?)?);
    }
    Ok(produced)
}

/// Remove files listed in `record` from a previous build that `produced` no longer has,
/// then store `produced` as the new record.
fn clean_scope(
    record: &Path,
    out: &Path,
    mut produced: Vec<String>,
    produced_elsewhere: &BTreeSet<String>,
) -> Result<usize, SiteError> {
    produced.sort();
    produced.dedup();
    let old: Vec<String> = std::fs::read(record)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let keep: BTreeSet<&str> = produced.iter().map(String::as_str).collect();
    let mut removed = 0;
    for rel in old.iter().filter(|r| !keep.contains(r.as_str()) && !produced_elsewhere.contains(*r))
    {
        if rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let p = out.join(rel);
        if std::fs::remove_file(&p).is_ok() {
            removed += 1;
            // Remove emptied parent folders up to the output root.
            let mut dir = p.parent();
            while let Some(d) = dir {
                if d == out || std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
    }
    fsx::write_json_if_changed(record, &produced)?;
    Ok(removed)
}

/// Group a user's listed activities by sport (sports in display order).
pub fn by_sport(u: &MergedUser) -> BTreeMap<usize, Vec<&MergedActivity>> {
    let mut map: BTreeMap<usize, Vec<&MergedActivity>> = BTreeMap::new();
    for a in u.activities.iter().filter(|a| a.is_listed()) {
        let idx = bincio_bas::Sport::ALL.iter().position(|s| *s == a.summary.sport).unwrap_or(6);
        map.entry(idx).or_default().push(a);
    }
    map
}

/// True when the activity's location may be shown.
pub fn has_location(a: &MergedActivity) -> bool {
    a.detail.privacy != Privacy::NoGps
}
