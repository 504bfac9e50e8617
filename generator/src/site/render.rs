//! The build: phases, the output writer, the published data files and the clean-up of
//! files a previous build produced.
//!
//! Which files a build produced is remembered per scope (one per user, one for the shared
//! pages) in the data directory, `{root}/.site/pages-{out}/{handle}.json` and `_shared.json`
//! (`{out}` a short hash of the output folder), never in the output, because that list names
//! unlisted pages. The records live outside the user folders so that a deleted user's files
//! can still be found: every build removes the files of a record whose user is gone, then the
//! record. A `--handle` build renders and cleans its user's scope plus the shared scope.
//!
//! Who owns `/activity/{id}/` when two users have an activity with the same ID is decided
//! once and remembered in `{root}/.site/activity_urls.json` (see `site::urls`), so the
//! URL does not depend on which users a build renders or in which order.

use super::assets::{self, Vendor};
use super::inputs::Inputs;
use super::load::{self, Instance, LoadCache};
use super::urls::{self, UrlInputs, Urls};
use super::{BuildReport, SiteError, SiteOptions, pages};
use crate::merge::{MergedActivity, MergedUser};
use bincio_bas::fsx;
use bincio_bas::layout::{self, SHARED_SCOPE, UserDir};
use bincio_bas::{InstanceRoot, Privacy};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    /// [`fsx::Dest::New`] when the output folder was empty as the build started: no file is
    /// compared before it is written (there is nothing to compare with), which saves a
    /// `stat` per file of a first build. [`fsx::Dest::Any`] otherwise.
    pub dest: fsx::Dest,
}

impl Out {
    /// A writer into `root`; `dest` as [`Out::dest`] (see [`Out::dest_of`]).
    pub fn new(root: PathBuf, dest: fsx::Dest) -> Out {
        Out { root, written: AtomicUsize::new(0), unchanged: AtomicUsize::new(0), dest }
    }

    /// [`fsx::Dest::New`] for an output folder that is empty (or missing), else `Any`.
    pub fn dest_of(root: &Path) -> fsx::Dest {
        match std::fs::read_dir(root).map(|mut entries| entries.next().is_none()) {
            Ok(true) => fsx::Dest::New,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => fsx::Dest::New,
            _ => fsx::Dest::Any,
        }
    }

    /// Write `bytes` to `out/{rel}` unless identical. Returns `rel` for the produced list.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<String, SiteError> {
        let path = self.root.join(rel);
        if fsx::write_public_if_changed(&path, bytes, self.dest)? {
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        }
        Ok(rel.to_owned())
    }

    /// Publish a file by hard link (a copy across file systems), skipping it when it is
    /// already the same file (or length and mtime match).
    pub fn copy(&self, src: &Path, rel: &str) -> Result<String, SiteError> {
        let path = self.root.join(rel);
        if fsx::link_public_if_changed(src, &path, self.dest)? {
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        }
        Ok(rel.to_owned())
    }
}

pub use super::urls::ActivityUrls;

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
    urls: Urls,
    /// Per user, per activity, a combined-feed entry's stamp (`urls::entry_stamps`).
    pub entry_stamps: urls::EntryStamps,
    /// Keys of the feed pages, to skip the unchanged ones.
    pub keys: PageKeys,
}

/// For each feed page (HTML or JSON) of an output folder, the key of what it was last
/// rendered from: a hash of the theme, the site shell, the page's own fields and, per card,
/// the activity's URL and [`Instance::card_stamps`] (on the combined feeds, the entry stamp
/// made of both, `urls::entry_stamps`). A page whose key is unchanged and whose
/// file exists is not rendered again: with stable feed pages (`site::paging`) that is
/// every archive page but the newest, so a job costs what its change touches, not what the
/// instance holds. The shared pages that show no activity have keys too
/// (`pages::shared::render_keyed`). Kept in `{root}/.site/page-keys-{out}.json` (data
/// directory).
pub struct PageKeys {
    path: PathBuf,
    old: BTreeMap<String, String>,
    new: Mutex<BTreeMap<String, String>>,
}

impl PageKeys {
    /// The keys of the last build into this output: those a long-running process kept
    /// (`kept`) while the file is still the one it wrote, else the file's.
    fn load(path: PathBuf, kept: &mut Option<load::KeptKeys>) -> PageKeys {
        let old = match kept.take() {
            Some((stamp, keys)) if urls::file_stamp(&path) == Some(stamp) => keys,
            _ => std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default(),
        };
        PageKeys { path, old, new: Mutex::new(BTreeMap::new()) }
    }

    /// The key of a page from its parts.
    pub fn key(parts: &[&[u8]]) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Record `key` for `rel`; true when the page on disk was rendered from that same key,
    /// so it need not be rendered again.
    pub fn unchanged(&self, out: &Out, rel: &str, key: String) -> bool {
        let same = self.old.get(rel) == Some(&key) && out.root.join(rel).is_file();
        self.new
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(rel.to_owned(), key);
        same
    }

    /// Store the keys (and keep them in `kept`): this build's, plus, for a build of one
    /// user, the old keys of pages it did not render that still exist: the feeds of users it
    /// did not render (`untouched`, kept without looking: nothing of theirs was removed),
    /// and any other whose file is still there.
    fn save(
        self,
        everything: bool,
        untouched: impl Fn(&str) -> bool,
        out: &Path,
        kept: &mut Option<load::KeptKeys>,
    ) -> Result<(), SiteError> {
        let mut keys = self.new.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !everything {
            for (rel, key) in self.old {
                if !keys.contains_key(&rel) && (untouched(&rel) || out.join(&rel).is_file()) {
                    keys.insert(rel, key);
                }
            }
        }
        fsx::write_json_if_changed(&self.path, &keys)?;
        *kept = urls::file_stamp(&self.path).map(|stamp| (stamp, keys));
        Ok(())
    }
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
    /// The instance's units (`metric`/`imperial`): what pages are pre-rendered in, before a
    /// visitor's own preference (`site/units.rs`).
    pub units: &'static str,
    /// A daemon serves `/api/` (the instance has `instance.db`): without one, pages never
    /// ask `/api/me` (it could only answer 404).
    pub daemon: bool,
    /// The tile host the pages' Content-Security-Policy allows images from, and no other
    /// (`https://tile.example`); see `docs/admin.md`, "Base map".
    pub tile_origin: Option<String>,
}

/// What a [`Ctx`] owns, without its borrows: a build releases its context to change the
/// instance between the users' pages and the shared pages, then binds it again.
struct Owned {
    site: SiteView,
    theme_fp: String,
    out_key: String,
    urls: Urls,
    entry_stamps: urls::EntryStamps,
    keys: PageKeys,
}

impl Owned {
    fn bind<'a>(
        self,
        inst: &'a Instance,
        tera: &'a tera::Tera,
        out: &'a Out,
        data_dir: &'a Path,
    ) -> Ctx<'a> {
        let Owned { site, theme_fp, out_key, urls, entry_stamps, keys } = self;
        Ctx { inst, tera, out, site, data_dir, theme_fp, out_key, urls, entry_stamps, keys }
    }
}

impl Ctx<'_> {
    /// The owned parts, ending the context's borrows (see [`Owned`]).
    fn release(self) -> Owned {
        let Ctx { site, theme_fp, out_key, urls, entry_stamps, keys, .. } = self;
        Owned { site, theme_fp, out_key, urls, entry_stamps, keys }
    }

    /// URLs of one activity.
    pub fn urls(&self, handle: &str, id: &str) -> Option<&ActivityUrls> {
        self.urls.get(handle)?.get(id)
    }

    /// Render `template` with `context` (plus `site`) into `out/{rel}`.
    pub fn render(
        &self,
        template: &str,
        mut context: tera::Context,
        rel: &str,
    ) -> Result<String, SiteError> {
        context.insert("site", &self.site);
        thread_local! {
            /// Every page renders into this thread's buffer: a page is tens of kilobytes,
            /// grown afresh (and copied at each doubling) for each of thousands of pages.
            static PAGE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut buf = PAGE.take();
        buf.clear();
        let rendered = self.tera.render_to(template, &context, &mut buf);
        let result = match rendered {
            Ok(()) => self.out.put(rel, &buf),
            Err(source) => Err(SiteError::Render {
                template: template.to_owned(),
                page: rel.to_owned(),
                source,
            }),
        };
        PAGE.set(buf);
        result
    }
}

/// Which users a build renders.
#[derive(Clone, Copy, Debug)]
enum Scope<'a> {
    /// Every user.
    All,
    /// One user (`--handle`).
    User(&'a str),
    /// A user whose folder is gone: no user page is rendered, only the shared pages.
    Gone(&'a str),
    /// Only the shared pages (the federation job: remote activities changed).
    Shared,
}

impl Scope<'_> {
    fn renders(&self, handle: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::User(h) => *h == handle,
            Scope::Gone(_) | Scope::Shared => false,
        }
    }
}

/// Build the site: every user, or with `opts.handle` one user plus the shared pages. Either
/// way the files of users whose folder is gone are removed.
///
/// A full build first compares the stamp of its inputs and outputs with the one the last
/// full build recorded (`site::inputs`): when nothing changed, it returns that build's
/// counts without loading anything, having written nothing.
pub fn build(opts: &SiteOptions) -> Result<BuildReport, SiteError> {
    if opts.handle.is_some() {
        return build_cached(opts, &mut LoadCache::default());
    }
    let t0 = Instant::now();
    let (data, out_abs) = resolve(opts)?;
    let inputs = Inputs::new(opts, &data, &out_abs, &short_hash(&out_abs.to_string_lossy()));
    if let Some(mut report) = inputs.unchanged() {
        report.elapsed_ms = t0.elapsed().as_millis();
        tracing::info!(
            pages = report.pages,
            elapsed_ms = report.elapsed_ms as u64,
            "nothing changed since the last full build"
        );
        return Ok(report);
    }
    let before = inputs.before();
    let report = build_scope(opts, Scope::All, &mut LoadCache::default())?;
    inputs.record(&before, &report);
    Ok(report)
}

/// The data directory and the output folder, canonical (the output is created), refusing
/// an output inside the data directory.
fn resolve(opts: &SiteOptions) -> Result<(PathBuf, PathBuf), SiteError> {
    let data = opts.data_dir.canonicalize().unwrap_or_else(|_| opts.data_dir.clone());
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|e| SiteError::File { path: opts.out_dir.clone(), reason: e.to_string() })?;
    let out_abs = opts.out_dir.canonicalize().unwrap_or_else(|_| opts.out_dir.clone());
    if out_abs.starts_with(&data) {
        return Err(SiteError::OutInsideData { out: out_abs, data });
    }
    Ok((data, out_abs))
}

/// [`build`] in a long-running process: users loaded by earlier builds and unchanged since
/// are taken from `cache` instead of being read again, and this build's users are left in it.
pub fn build_cached(opts: &SiteOptions, cache: &mut LoadCache) -> Result<BuildReport, SiteError> {
    match &opts.handle {
        Some(h) => build_scope(opts, Scope::User(h), cache),
        None => build_scope(opts, Scope::All, cache),
    }
}

/// Unpublish `handle`, whose folder is gone (a deleted account): re-render the shared pages
/// (feeds, community, root manifest) without them and remove every file their pages were.
/// The watcher runs this for a deleted account's job; `opts.handle` is ignored.
pub fn build_without(opts: &SiteOptions, handle: &str) -> Result<BuildReport, SiteError> {
    build_without_cached(opts, handle, &mut LoadCache::default())
}

/// [`build_without`] with the users of `cache` (see [`build_cached`]).
pub fn build_without_cached(
    opts: &SiteOptions,
    handle: &str,
    cache: &mut LoadCache,
) -> Result<BuildReport, SiteError> {
    build_scope(opts, Scope::Gone(handle), cache)
}

/// Re-render only the shared pages (home, combined feed and its JSON, community, admin),
/// merging nobody to disk: what the watcher's federation job needs after a refresh.
pub fn build_shared(opts: &SiteOptions, cache: &mut LoadCache) -> Result<BuildReport, SiteError> {
    build_scope(opts, Scope::Shared, cache)
}

fn build_scope(
    opts: &SiteOptions,
    scope: Scope<'_>,
    cache: &mut LoadCache,
) -> Result<BuildReport, SiteError> {
    let t0 = Instant::now();
    let (data, out_abs) = resolve(opts)?;
    let only = match scope {
        Scope::All => None,
        Scope::User(h) => {
            if !data.join(h).is_dir() {
                return Err(SiteError::UnknownHandle { handle: h.to_owned() });
            }
            Some(h)
        }
        // No folder, so nobody is merged to disk.
        Scope::Gone(h) => Some(h),
        // A handle is never empty, so nobody is merged to disk.
        Scope::Shared => Some(""),
    };

    let mut inst = load::load_instance_cached(&data, only, cache)?;
    let merged_files_changed: usize = inst.users.iter().map(|u| u.files_changed).sum();
    tracing::info!(
        users = inst.users.len(),
        merged_files_changed,
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "loaded"
    );

    let theme = crate::theme::Theme::load(opts.theme_dir.as_deref())?;
    let theme_fp = theme.fingerprint();
    // A long-running process parses the templates again only when the theme changed.
    let tera = match cache.templates.take() {
        Some((fp, tera)) if fp == theme_fp => tera,
        _ => crate::site::templates::load_theme(&theme)?,
    };
    let out = Out::new(out_abs.clone(), Out::dest_of(&out_abs));
    let (vendors, asset_files, asset_written) = assets::copy_assets(&theme, &out_abs, out.dest)?;
    out.written.fetch_add(asset_written, Ordering::Relaxed);
    out.unchanged.fetch_add(asset_files.len().saturating_sub(asset_written), Ordering::Relaxed);

    let mut site = site_view(&inst, &vendors);
    site.tile_url = opts.tile_url.clone().or_else(|| inst.config.tile_url.clone());
    site.tile_origin = site.tile_url.as_deref().and_then(tile_origin);
    let root = InstanceRoot::new(&data);
    site.daemon = root.instance_db().exists();
    let out_key = short_hash(&out_abs.to_string_lossy());
    // Every page shows the shell: a build of one user (or of the shared pages) that finds it
    // changed since the last build, e.g. the second account of a single-user site added or
    // deleted, renders every user, or their pages would keep the old one.
    let shell_path = root.site_shell(&out_key);
    // The member list is not part of it: no page shows it but the shared ones, which every
    // build renders, so a new account does not re-render every member's pages.
    let shell = short_hash(
        &serde_json::to_string(&SiteView { handles: Vec::new(), ..site.clone() })
            .unwrap_or_default(),
    );
    let last_shell = std::fs::read_to_string(&shell_path).ok();
    if !matches!(scope, Scope::All) && last_shell.as_deref().is_some_and(|s| s != shell) {
        tracing::info!("the site's shell changed: every user's pages are rendered again");
        cache.keep(inst);
        cache.templates = Some((theme_fp, tera));
        return build_scope(opts, Scope::All, cache);
    }
    let urls = urls::activity_urls(
        &UrlInputs {
            users: &inst.users,
            reloaded: &inst.reloaded,
            token: &|h: &str, id: &str| inst.unlisted_token(h, id),
            claims_path: &root.activity_url_claims(),
        },
        |h| scope.renders(h),
        &mut cache.urls,
    )?;
    let entry_stamps = urls::entry_stamps(
        &inst.users,
        &inst.reloaded,
        &urls,
        &|h: &str, id: &str| inst.card_stamp(h, id),
        &mut cache.entry_stamps,
    );
    let keys = PageKeys::load(root.site_page_keys(&out_key), &mut cache.page_keys);
    let ctx = Owned { site, theme_fp: theme_fp.clone(), out_key, urls, entry_stamps, keys }
        .bind(&inst, &tera, &out, &data);

    // Users in scope render in parallel; inside a user, pages render in parallel too.
    let scope_users: Vec<&MergedUser> =
        inst.users.iter().filter(|u| scope.renders(&u.handle)).collect();
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
    let per_user: Vec<(String, Vec<String>)> = per_user.into_iter().collect::<Result<_, _>>()?;
    // The rendered users' pages are done: what only their own pages read goes before the
    // shared pages and the clean-up, the part of a full build that holds the most at once.
    let owned = ctx.release();
    for u in inst.users.iter_mut().filter(|u| scope.renders(&u.handle)) {
        load::for_shared_pages(u);
    }
    let ctx = owned.bind(&inst, &tera, &out, &data);
    let mut shared = asset_files;
    shared.extend(publish_shared_data(&ctx)?);
    shared.extend(pages::shared::render_shared(&ctx)?);
    let pages_ms = t_pages.elapsed().as_millis();

    let mut page_count = shared.iter().filter(|p| p.ends_with(".html")).count();
    for (_, produced) in &per_user {
        page_count += produced.iter().filter(|p| p.ends_with(".html")).count();
    }
    let removed = clean_up(
        &inst,
        &root,
        &data,
        &out_abs,
        &ctx.out_key,
        per_user,
        shared,
        &mut cache.records,
    )?;
    // A page under `u/{h}/` of a user this build did not render is untouched by it.
    let untouched = |rel: &str| {
        rel.strip_prefix("u/")
            .and_then(|r| r.split_once('/'))
            .is_some_and(|(h, _)| !scope.renders(h) && inst.user(h).is_some())
    };
    ctx.keys.save(matches!(scope, Scope::All), untouched, &out_abs, &mut cache.page_keys)?;
    if last_shell.as_deref() != Some(shell.as_str()) {
        fsx::write_atomic(&shell_path, shell.as_bytes())?;
    }

    let report = BuildReport {
        users: inst.users.len(),
        activities: inst.users.iter().map(|u| u.activities.len()).sum(),
        pages: page_count,
        files_written: out.written.load(Ordering::Relaxed),
        files_unchanged: out.unchanged.load(Ordering::Relaxed),
        files_removed: removed,
        merged_files_changed,
        elapsed_ms: t0.elapsed().as_millis(),
        unchanged_inputs: false,
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
    cache.keep(inst);
    cache.templates = Some((theme_fp, tera));
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
        units: if inst.config.units == bincio_bas::config::Units::Imperial {
            "imperial"
        } else {
            "metric"
        },
        daemon: false,
        tile_origin: None,
    }
}

/// `scheme://host[:port]` of a tile URL template, for the CSP and the documentation.
pub fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

/// `/data/{h}/_merged/`: the user's public BAS feed (year manifest, shards, athlete) and the
/// files of listed activities. Unlisted activities' files go to their tokened page folder
/// (written by the activity renderer), so no listed path names them.
fn publish_user_data(ctx: &Ctx<'_>, u: &MergedUser) -> Result<Vec<String>, SiteError> {
    let merged = UserDir::new(ctx.data_dir.join(&u.handle)).merged_dir();
    let base = format!("data/{}/_merged", u.handle);
    let mut produced = Vec::new();
    let manifest = merged.join("index.json");
    if manifest.is_file() {
        produced.push(publish_feed_file(ctx, u, &manifest, &format!("{base}/index.json"))?);
    }
    if let Ok(entries) = std::fs::read_dir(&merged) {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("index-") && n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            produced.push(publish_feed_file(ctx, u, &merged.join(&n), &format!("{base}/{n}"))?);
        }
    }
    if merged.join(layout::ATHLETE_FILE).is_file() {
        let rel = format!("{base}/{}", layout::ATHLETE_FILE);
        produced.push(ctx.out.copy(&merged.join(layout::ATHLETE_FILE), &rel)?);
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
                        &merged.join(layout::ACTIVITIES_DIR).join(&name),
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

/// The absolute URL of a listed activity's page, when the instance knows its `public_url`.
pub(crate) fn page_url(ctx: &Ctx<'_>, handle: &str, id: &str) -> Option<String> {
    let base = ctx.inst.config.public_url.as_deref()?;
    let urls = ctx.urls(handle, id).filter(|u| u.listed)?;
    Some(format!("{base}{}", urls.page))
}

/// Publish one of the user's feed files (`index.json`, `index-YYYY.json`). With a
/// `public_url`, each listed card gets its absolute `page_url`, so an instance following
/// this one links to the page here (see `docs/federation.md`); without one the file is
/// copied as merged. A private instance's files are behind its login wall either way.
fn publish_feed_file(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    src: &Path,
    rel: &str,
) -> Result<String, SiteError> {
    if ctx.inst.config.public_url.is_none() {
        return ctx.out.copy(src, rel);
    }
    let bytes = std::fs::read(src)
        .map_err(|e| SiteError::File { path: src.to_path_buf(), reason: e.to_string() })?;
    let mut feed: bincio_bas::UserFeed = serde_json::from_slice(&bytes)
        .map_err(|e| SiteError::File { path: src.to_path_buf(), reason: e.to_string() })?;
    for s in &mut feed.activities {
        s.page_url = page_url(ctx, &u.handle, &s.id);
    }
    ctx.out.put(rel, &fsx::to_json_bytes(src, &feed)?)
}

/// File names of an activity in `_merged/activities/` and whether each exists.
pub fn activity_files(a: &MergedActivity) -> [(String, bool); 3] {
    let id = &a.summary.id;
    [
        (layout::detail_name(id), true),
        (layout::track_name(id), a.has_track),
        (layout::timeseries_name(id), a.has_timeseries),
    ]
}

/// `/data/index.json` (root manifest) and the combined JSON feed
/// (`pages::feed::publish_json_feed`).
fn publish_shared_data(ctx: &Ctx<'_>) -> Result<Vec<String>, SiteError> {
    let mut produced = Vec::new();
    let path = Path::new("data/index.json");
    produced.push(ctx.out.put("data/index.json", &fsx::to_json_bytes(path, &ctx.inst.manifest)?)?);
    produced.extend(pages::feed::publish_json_feed(ctx)?);
    Ok(produced)
}

/// Where a scope's record of produced files lived before `{root}/.site/`: in the user's
/// folder (`.site_pages-{out}.json`) or, for the shared pages, in the root. Read once and
/// removed, so an instance built by an older version is cleaned up as before.
fn legacy_record(data: &Path, out_key: &str, scope: &str) -> PathBuf {
    let name = format!(".site_pages-{out_key}.json");
    if scope == SHARED_SCOPE { data.join(name) } else { data.join(scope).join(name) }
}

/// A scope's record: the current one, else the legacy one, else empty.
fn read_record(record: &Path, legacy: &Path) -> Vec<String> {
    [record, legacy]
        .iter()
        .find_map(|p| std::fs::read(p).ok().and_then(|b| serde_json::from_slice(&b).ok()))
        .unwrap_or_default()
}

/// Remove what earlier builds produced and this one did not, and record what it did.
///
/// Paths can move between scopes (two users' activities with the same ID, when a claim on
/// `/activity/{id}/` changes hands), so a file is never removed while this build produced it
/// or the record of a user it did not render still lists it. Records whose user is gone
/// (the folder was deleted, by the daemon or by hand) are emptied (every file they list is
/// removed) and deleted: that is how a deleted account leaves the site, in whichever build
/// comes next.
///
/// `kept` holds the records a long-running process last wrote or read, as hashes of their
/// paths and with the stamp of their file then ([`load::KeptRecords`]): a record whose file
/// is still that one is not read again. A job that removes a file (an activity made private
/// leaves its public URL) must check it against every other member's record; read from
/// disk, the records of 100 members (300,000 paths at 60,000 activities) cost more than the
/// rest of the job. The rendered scopes' own records (the job's user and the shared pages)
/// are read from their files, a few thousand paths.
#[allow(clippy::too_many_arguments)]
fn clean_up(
    inst: &Instance,
    root: &InstanceRoot,
    data: &Path,
    out: &Path,
    out_key: &str,
    mut per_user: Vec<(String, Vec<String>)>,
    mut shared: Vec<String>,
    kept: &mut load::KeptRecords,
) -> Result<usize, SiteError> {
    let dir = root.site_records_dir(out_key);
    let record = |scope: &str| dir.join(format!("{scope}.json"));
    // Records kept for another output folder (a process renders one) or another version
    // of the folder are no use.
    if kept.dir.as_deref() != Some(dir.as_path()) {
        *kept = load::KeptRecords { dir: Some(dir.clone()), ..load::KeptRecords::default() };
    }
    // Each list sorted and deduplicated once, as its record stores it; the set of protected
    // paths borrows them rather than copying every path of the site (300,000 at 60,000
    // activities) a second time.
    for (_, produced) in &mut per_user {
        produced.sort_unstable();
        produced.dedup();
    }
    shared.sort_unstable();
    shared.dedup();
    let rendered: BTreeSet<&str> = per_user.iter().map(|(h, _)| h.as_str()).collect();
    let live: BTreeSet<&str> = inst.users.iter().map(|u| u.handle.as_str()).collect();
    // Scopes of users who are gone: only their record still says which files were theirs.
    let gone: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| {
                e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned)
            })
            .filter(|s| s != SHARED_SCOPE && !live.contains(s.as_str()))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(SiteError::File { path: dir.clone(), reason: e.to_string() }),
    };
    // A rendered scope's previous record, from its file: its stale paths are removed by name.
    let previous = |scope: &str| -> Vec<String> {
        let mut paths = read_record(&record(scope), &legacy_record(data, out_key, scope));
        paths.sort_unstable();
        paths.dedup();
        paths
    };
    // Another scope's record, as the hashes of its paths: the kept ones while its file is
    // unchanged, else the file's.
    let mut hashes_of = |scope: &str| -> Vec<u64> {
        let path = record(scope);
        let stamp = urls::file_stamp(&path);
        match kept.scopes.remove(scope) {
            Some((s, hashes)) if stamp.is_some() && s == stamp => hashes,
            _ => path_hashes(&read_record(&path, &legacy_record(data, out_key, scope))),
        }
    };
    // What this build produced; `produced` lists are sorted.
    let now: HashSet<&str> = shared
        .iter()
        .chain(per_user.iter().flat_map(|(_, produced)| produced))
        .map(String::as_str)
        .collect();
    // Of each rendered scope's previous record, only what this build did not produce, the
    // paths that may have to be removed: a full build read every record whole and held
    // them all at once (300,000 paths at 60,000 activities), which was its peak memory.
    let stale = |scope: &str| -> Vec<String> {
        previous(scope).into_iter().filter(|r| !now.contains(r.as_str())).collect()
    };
    let old_shared = stale(SHARED_SCOPE);
    let old_users: Vec<Vec<String>> = per_user.iter().map(|(h, _)| stale(h)).collect();
    // The other users' records matter only when something might be removed: reading every
    // user's record would make each job's cost grow with the instance.
    let may_remove =
        !gone.is_empty() || old_shared.iter().chain(old_users.iter().flatten()).next().is_some();
    let mut others: Vec<Vec<u64>> = Vec::new();
    let mut other_scopes: Vec<String> = Vec::new();
    if may_remove {
        for h in live.iter().filter(|h| !rendered.contains(**h)) {
            others.push(hashes_of(h));
            other_scopes.push((*h).to_owned());
        }
    }
    // Sorted hashes, so a path is looked up in each without building a set of all of them.
    let protected = |rel: &str| {
        now.contains(rel) || {
            let h = path_hash(rel);
            others.iter().any(|o| o.binary_search(&h).is_ok())
        }
    };
    let mut removed = 0;
    for ((handle, produced), old) in per_user.iter().zip(&old_users) {
        let legacy = legacy_record(data, out_key, handle);
        removed += clean_scope(&record(handle), &legacy, out, old, produced, &protected)?;
    }
    let legacy = legacy_record(data, out_key, SHARED_SCOPE);
    removed += clean_scope(&record(SHARED_SCOPE), &legacy, out, &old_shared, &shared, &protected)?;
    for scope in gone {
        let path = record(&scope);
        let old = read_record(&path, Path::new(""));
        let n = clean_scope(&path, Path::new(""), out, &old, &[], &protected)?;
        std::fs::remove_file(&path)
            .map_err(|e| SiteError::File { path: path.clone(), reason: e.to_string() })?;
        tracing::info!(handle = %scope, removed = n, "unpublished a user that is gone");
        removed += n;
    }
    // Keep what the records now hold, as hashes: the rendered users' lists and the other
    // users' as read.
    drop(now);
    let rendered_hashes = per_user.into_iter().map(|(scope, paths)| (scope, path_hashes(&paths)));
    for (scope, hashes) in rendered_hashes.chain(other_scopes.into_iter().zip(others)) {
        let stamp = urls::file_stamp(&record(&scope));
        if stamp.is_some() {
            kept.scopes.insert(scope, (stamp, hashes));
        }
    }
    kept.scopes.retain(|scope, _| live.contains(scope.as_str()));
    Ok(removed)
}

/// The hash a kept record holds of a path ([`load::KeptRecords`]): SipHash with fixed keys,
/// the same for the whole process.
fn path_hash(rel: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    rel.hash(&mut h);
    h.finish()
}

/// The sorted hashes of a record's paths.
fn path_hashes(paths: &[String]) -> Vec<u64> {
    let mut hashes: Vec<u64> = paths.iter().map(|p| path_hash(p)).collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Remove the files of the scope's previous record `old` that `produced` (sorted, without
/// duplicates) no longer has and no other scope claims (`protected`, true for every path
/// this build produced too), then store `produced` as its record (and drop a legacy record).
fn clean_scope(
    record: &Path,
    legacy: &Path,
    out: &Path,
    old: &[String],
    produced: &[String],
    protected: &dyn Fn(&str) -> bool,
) -> Result<usize, SiteError> {
    let mut removed = 0;
    for rel in old.iter().filter(|r| !protected(r.as_str())) {
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
    if !legacy.as_os_str().is_empty() && legacy.is_file() {
        std::fs::remove_file(legacy)
            .map_err(|e| SiteError::File { path: legacy.to_path_buf(), reason: e.to_string() })?;
    }
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
    a.summary.privacy != Privacy::NoGps
}
