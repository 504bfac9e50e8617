//! Paginated feeds of cards: the combined feed, a user's feed and a user's per-sport feed.
//! Pagination and sport filtering are real pages (`page/{name}/`, `sport/{sport}/`), so
//! both work without JavaScript and the filter sees every year, not only the loaded ones.
//!
//! Pages are stable (`docs/site.md`, "Feed pages"): the first page (`{base}`) shows the
//! newest [`FEED_PAGE_SIZE`] cards, and the archive pages `{base}page/{name}/` hold the whole
//! feed, cut where the activities themselves say (`site::paging`) and named after their
//! oldest card. A new activity therefore changes the first page and the newest archive page
//! only, and a back-dated, deleted or hidden one the archive page it falls into and at most a
//! few newer ones, instead of shifting every card of every page by one: that is what keeps a
//! job's cost independent of the instance's size. Nothing on an archive page depends on how
//! many activities there are in all (no "page K of N", no total count): its count and date
//! range are its own.

use super::super::SiteError;
use super::super::paging;
use super::super::render::{Ctx, FEED_JSON_PAGE_SIZE, FEED_PAGE_SIZE, PageKeys, page_url};
use super::super::urls;
use super::super::view::{self, CardView, Link};
use crate::federation::RemoteItem;
use crate::merge::{MergedActivity, shard_card};
use bincio_bas::{Summary, fsx};
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::Ordering;

/// A feed to paginate.
pub struct FeedSpec<'a> {
    /// URL of page 1, ending in `/` (`/u/dave/`, `/u/dave/sport/cycling/`, `/`).
    pub base_url: String,
    pub title: String,
    pub heading: String,
    /// `(handle, activity)`, already in display order.
    pub items: Vec<(&'a str, &'a MergedActivity)>,
    /// Each item's entry stamp (`urls::entry_stamps`), aligned with `items`; empty when the
    /// page keys look each activity's URL and card stamp up (a user's own feeds).
    pub stamps: Vec<u64>,
    /// Each item's `paging::local_cut_hash`, aligned with `items` (`urls::Entries::cuts`); empty
    /// when the feed is short enough to hash its items itself (a user's own feeds).
    pub cuts: Vec<u64>,
    /// Followed instances' activities `(label, item)`, newest first (combined feed only);
    /// merged with `items` by start time.
    pub remote: Vec<&'a (String, RemoteItem)>,
    /// Show `@handle` on each card (combined feed).
    pub show_handle: bool,
    /// Sport chips.
    pub sport_links: Vec<Link>,
    /// Profile sub-navigation (user feeds).
    pub profile: Option<ProfileView>,
    pub atom_url: Option<String>,
}

/// The `@handle` header with Feed · Stats · Athlete tabs.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileView {
    pub handle: String,
    pub display_name: String,
    pub tab: &'static str,
}

/// The pager of one feed page.
#[derive(Serialize)]
struct Pagination {
    /// "Newest" on the first page, "3 Jan 2024 – 2 Mar 2024" on an archive page.
    label: String,
    prev: Option<String>,
    next: Option<String>,
}

/// Render every page of a feed; returns the produced paths. A page whose key (see
/// `render::PageKeys`) did not change since it was written is not rendered again.
pub fn render_feed(ctx: &Ctx<'_>, spec: &FeedSpec<'_>) -> Result<Vec<String>, SiteError> {
    // Followed instances' activities join the local ones by start time (newest first).
    let entries = merge_remote(&spec.items, &spec.stamps, &spec.cuts, &spec.remote);
    let total = entries.len();
    let hashes: Vec<u64> = entries.iter().map(Entry::cut_hash).collect();
    let paging::Layout { first, archives, older } = paging::layout(&hashes, FEED_PAGE_SIZE);
    let oldest: Vec<String> = archives.iter().map(|r| entries[r.end - 1].name(ctx)).collect();
    let names = paging::page_names(&oldest);
    let archive_url = |k: usize| format!("{}page/{}/", spec.base_url, names[k]);
    let mut produced = Vec::new();
    let cards = |range: std::ops::Range<usize>| -> Vec<CardView> {
        entries[range]
            .iter()
            .filter_map(|e| match e {
                Entry::Local(h, a, ..) => {
                    let urls = ctx.urls(h, &a.summary.id)?;
                    Some(view::card(
                        &a.summary,
                        urls.page.clone(),
                        spec.show_handle.then_some(*h),
                        ctx.inst.config.units,
                    ))
                }
                Entry::Remote(label, it) => {
                    Some(view::remote_card(label, it, ctx.inst.config.units))
                }
            })
            .collect()
    };
    // Everything a page is made of besides its cards' activities, once per feed.
    let shell = serde_json::to_vec(&(
        &ctx.theme_fp,
        &ctx.site,
        &spec.title,
        &spec.heading,
        spec.show_handle,
        &spec.sport_links,
        &spec.profile,
        &spec.atom_url,
    ))
    .unwrap_or_default();
    let key = |title: &str, count: &str, p: &Pagination, range: std::ops::Range<usize>| {
        let mut items = Vec::with_capacity(range.len() * 64);
        for e in &entries[range] {
            match e {
                // The entry's stamp stands for its handle, URL and card.
                Entry::Local(_, _, Some(stamp), _) => items.extend_from_slice(&stamp.to_le_bytes()),
                Entry::Local(h, a, None, _) => {
                    let id = &a.summary.id;
                    items.extend_from_slice(h.as_bytes());
                    items.push(0);
                    items.extend_from_slice(
                        ctx.urls(h, id).map(|u| u.page.as_str()).unwrap_or("").as_bytes(),
                    );
                    items.push(0);
                    items.extend_from_slice(&ctx.inst.card_stamp(h, id).to_le_bytes());
                }
                Entry::Remote(label, it) => remote_key(&mut items, label, it),
            }
            items.push(0);
        }
        let page = serde_json::to_vec(&(title, count, p)).unwrap_or_default();
        PageKeys::key(&[b"feed-html", &shell, &page, &items])
    };
    let mut render =
        |title: String, range: std::ops::Range<usize>, count: String, p: Pagination, url: &str| {
            let rel = format!("{}index.html", url.trim_start_matches('/'));
            if ctx.keys.unchanged(ctx.out, &rel, key(&title, &count, &p, range.clone())) {
                ctx.out.unchanged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                produced.push(rel);
                return Ok(());
            }
            produced.push(render_page(ctx, spec, title, cards(range), count, p, url)?);
            Ok::<(), SiteError>(())
        };
    // The first page: the total count, and "Older" into the archive.
    let pagination =
        Pagination { label: "Newest".to_owned(), prev: None, next: older.map(archive_url) };
    render(spec.title.clone(), first, count_label(total), pagination, &spec.base_url)?;
    let pages = archives.len();
    for (k, range) in archives.into_iter().enumerate() {
        let newest = entries[range.start].started_at();
        let oldest = entries[range.end - 1].started_at();
        let dates = if view::format_date(newest) == view::format_date(oldest) {
            view::format_date(newest)
        } else {
            format!("{} – {}", view::format_date(oldest), view::format_date(newest))
        };
        let n = range.len();
        let pagination = Pagination {
            label: dates.clone(),
            // The newest archive page leads back to the first page.
            prev: Some(if k + 1 < pages { archive_url(k + 1) } else { spec.base_url.clone() }),
            next: (k > 0).then(|| archive_url(k - 1)),
        };
        render(
            format!("{} — {dates}", spec.title),
            range,
            count_label(n),
            pagination,
            &archive_url(k),
        )?;
    }
    Ok(produced)
}

fn render_page(
    ctx: &Ctx<'_>,
    spec: &FeedSpec<'_>,
    title: String,
    cards: Vec<CardView>,
    count: String,
    pagination: Pagination,
    url: &str,
) -> Result<String, SiteError> {
    let mut c = tera::Context::new();
    c.insert("title", &title);
    c.insert("heading", &spec.heading);
    c.insert("cards", &cards);
    c.insert("count_label", &count);
    c.insert("sport_links", &spec.sport_links);
    c.insert("profile", &spec.profile);
    c.insert("atom_url", &spec.atom_url);
    c.insert("pagination", &pagination);
    let rel = format!("{}index.html", url.trim_start_matches('/'));
    ctx.render("pages/feed.html", c, &rel)
}

/// One entry of a feed, HTML or JSON: a member's activity (with its entry stamp when the
/// feed has them, `urls::entry_stamps`, and its cut hash) or a followed instance's.
enum Entry<'a> {
    Local(&'a str, &'a MergedActivity, Option<u64>, u64),
    Remote(&'a str, &'a RemoteItem),
}

impl Entry<'_> {
    /// Whether the entry ends an archive page (`site::paging`).
    fn cut_hash(&self) -> u64 {
        match self {
            Entry::Local(.., cut) => *cut,
            Entry::Remote(label, it) => paging::remote_cut_hash(label, &it.summary.id),
        }
    }

    /// The name of the archive page the entry is the oldest of.
    fn name(&self, ctx: &Ctx<'_>) -> String {
        match self {
            Entry::Local(h, a, ..) => local_page_name(ctx, h, &a.summary.id),
            Entry::Remote(label, it) => remote_page_name(label, &it.summary.id),
        }
    }

    fn summary(&self) -> &Summary {
        match self {
            Entry::Local(_, a, ..) => &a.summary,
            Entry::Remote(_, it) => &it.summary,
        }
    }

    fn started_at(&self) -> &bincio_bas::Timestamp {
        &self.summary().started_at
    }
}

/// Merge the remote activities into the local ones, newest first; on the same start time
/// the local activity comes first. Both lists are already newest first.
fn merge_remote<'a>(
    local: &[(&'a str, &'a MergedActivity)],
    stamps: &[u64],
    cuts: &[u64],
    remote: &[&'a (String, RemoteItem)],
) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(local.len() + remote.len());
    let (mut i, mut j) = (0, 0);
    while i < local.len() || j < remote.len() {
        let take_local = match (local.get(i), remote.get(j)) {
            (Some(l), Some(r)) => {
                l.1.summary.started_at.unix_ms() >= r.1.summary.started_at.unix_ms()
            }
            (Some(_), None) => true,
            _ => false,
        };
        if take_local {
            let (h, a) = local[i];
            let cut =
                cuts.get(i).copied().unwrap_or_else(|| paging::local_cut_hash(h, &a.summary.id));
            out.push(Entry::Local(h, a, stamps.get(i).copied(), cut));
            i += 1;
        } else {
            out.push(Entry::Remote(remote[j].0.as_str(), &remote[j].1));
            j += 1;
        }
    }
    out
}

/// One page of the combined JSON feed. `/data/feed.json` (the newest page) carries the
/// totals, how many archive pages there are and the archive page holding its next older
/// activity; an archive page `/data/feed-{name}.json` carries its name and its neighbours'
/// files only, so it does not change when activities are added elsewhere (`site::paging`).
#[derive(Serialize)]
struct FeedPage<'a> {
    bas_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive_pages: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_activities: Option<usize>,
    /// The next newer page's file, beside this one (`feed.json` from the newest archive page).
    #[serde(skip_serializing_if = "Option::is_none")]
    newer: Option<String>,
    /// The next older page's file, beside this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    older: Option<String>,
    activities: Vec<Summary>,
}

/// The combined JSON feed `/data/feed.json` and its archive pages `/data/feed-{name}.json`:
/// listed activities of every user and of followed instances, newest first, tagged with
/// `handle`, URLs prefixed with `{h}/_merged/`, heavy fields stripped; cut as the HTML feeds
/// are (`site::paging`).
pub fn publish_json_feed(ctx: &Ctx<'_>) -> Result<Vec<String>, SiteError> {
    let mut produced = Vec::new();
    // Each row with its start time, computed once for the sort.
    let mut keyed: Vec<(i64, Entry<'_>)> = Vec::new();
    for u in &ctx.inst.users {
        let entries = ctx.entry_stamps.get(&u.handle);
        keyed.extend(u.activities.iter().enumerate().filter(|(_, a)| a.is_listed()).map(
            |(i, a)| {
                let (stamp, cut) = member_entry(entries.map(|e| e.as_ref()), i, &u.handle, a);
                (a.summary.started_at.unix_ms(), Entry::Local(&u.handle, a, Some(stamp), cut))
            },
        ));
    }
    // Followed instances' activities (their URLs are absolute, `handle` is the label the
    // pages show: `alice` or `alice@host`).
    keyed.extend(
        ctx.inst
            .remotes
            .items
            .iter()
            .map(|(label, item)| (item.summary.started_at.unix_ms(), Entry::Remote(label, item))),
    );
    // Newest first, then by ID; a stable sort keeps the users' order on a tie. Sorted by
    // the start time alone first (integers), then each run of rows starting the same
    // millisecond by ID: in an instance where many members share a start time, comparing
    // IDs across the whole sort cost more than the rest of the feed.
    keyed.sort_by(|(ma, _), (mb, _)| mb.cmp(ma));
    for run in keyed.chunk_by_mut(|(ma, _), (mb, _)| ma == mb) {
        if run.len() > 1 {
            run.sort_by(|(_, a), (_, b)| a.summary().id.cmp(&b.summary().id));
        }
    }
    let all: Vec<Entry<'_>> = keyed.into_iter().map(|(_, row)| row).collect();
    let card = |row: &Entry<'_>| match row {
        Entry::Local(handle, a, ..) => {
            let mut s = shard_card(&a.summary);
            s.mmp = None;
            s.handle = Some((*handle).to_owned());
            let prefix = format!("{handle}/_merged/");
            s.detail_url = s.detail_url.map(|d| format!("{prefix}{d}"));
            s.track_url = s.track_url.map(|d| format!("{prefix}{d}"));
            s.page_url = page_url(ctx, handle, &s.id);
            s
        }
        Entry::Remote(label, item) => {
            let mut s = item.summary.clone();
            s.handle = Some((*label).to_owned());
            s
        }
    };
    // The same stable scheme as the HTML feeds (`site::paging`): feed.json is the newest
    // page, feed-{name}.json the archive pages, cut by their activities and named after the
    // oldest. A page is made from its entries and its neighbours' names only, so an
    // unchanged key (see `PageKeys`) means unchanged bytes.
    let total = all.len();
    let hashes: Vec<u64> = all.iter().map(Entry::cut_hash).collect();
    let paging::Layout { first, archives, older } = paging::layout(&hashes, FEED_JSON_PAGE_SIZE);
    let oldest: Vec<String> = archives.iter().map(|r| all[r.end - 1].name(ctx)).collect();
    let names = paging::page_names(&oldest);
    let file = |k: usize| format!("feed-{}.json", names[k]);
    let page_key = |head: String, items: &[Entry<'_>]| {
        let mut ids = Vec::with_capacity(items.len() * 48);
        for row in items {
            match row {
                // The entry's stamp stands for its handle, ID, URL and card.
                Entry::Local(_, _, stamp, _) => {
                    ids.extend_from_slice(&stamp.unwrap_or(0).to_le_bytes())
                }
                Entry::Remote(label, item) => remote_key(&mut ids, label, item),
            }
            ids.push(0);
        }
        PageKeys::key(&[b"feed-json", head.as_bytes(), &ids])
    };
    let rel = "data/feed.json";
    let front_older = older.map(file);
    let head = format!("front {total} {}", front_older.as_deref().unwrap_or(""));
    if ctx.keys.unchanged(ctx.out, rel, page_key(head, &all[first.clone()])) {
        ctx.out.unchanged.fetch_add(1, Ordering::Relaxed);
        produced.push(rel.to_owned());
    } else {
        let front = FeedPage {
            bas_version: bincio_bas::BAS_VERSION,
            page: None,
            archive_pages: Some(archives.len()),
            total_activities: Some(total),
            newer: None,
            older: front_older,
            activities: all[first].iter().map(card).collect(),
        };
        produced.push(ctx.out.put(rel, &fsx::to_json_bytes(Path::new(rel), &front)?)?);
    }
    let count = archives.len();
    let pages: Vec<Result<String, SiteError>> = archives
        .into_par_iter()
        .enumerate()
        .map(|(k, range)| {
            let rel = format!("data/{}", file(k));
            let newer = if k + 1 < count { file(k + 1) } else { "feed.json".to_owned() };
            let older = (k > 0).then(|| file(k - 1));
            let head = format!("page {} {newer} {}", names[k], older.as_deref().unwrap_or(""));
            if ctx.keys.unchanged(ctx.out, &rel, page_key(head, &all[range.clone()])) {
                ctx.out.unchanged.fetch_add(1, Ordering::Relaxed);
                return Ok(rel);
            }
            let page = FeedPage {
                bas_version: bincio_bas::BAS_VERSION,
                page: Some(&names[k]),
                archive_pages: None,
                total_activities: None,
                newer: Some(newer),
                older,
                activities: all[range].iter().map(card).collect(),
            };
            ctx.out.put(&rel, &fsx::to_json_bytes(Path::new(&rel), &page)?)
        })
        .collect();
    for p in pages {
        produced.push(p?);
    }
    Ok(produced)
}

/// What a followed instance's entry adds to a page key (`render::PageKeys`): its card, on an
/// HTML page as in the JSON feed, is made of its label and summary only.
fn remote_key(key: &mut Vec<u8>, label: &str, item: &RemoteItem) {
    key.extend_from_slice(b"remote\0");
    key.extend_from_slice(label.as_bytes());
    key.push(0);
    key.extend_from_slice(&serde_json::to_vec(&item.summary).unwrap_or_default());
}

/// "1 activity", "12 activities".
pub fn count_label(n: usize) -> String {
    if n == 1 { "1 activity".to_owned() } else { format!("{n} activities") }
}

/// The entry stamp and cut hash of a member's `k`-th activity `a`, as kept in `entries`
/// (`urls::Entries`); a member without kept entries gets stamp 0 and a cut hash made now.
pub fn member_entry(
    entries: Option<&urls::Entries>,
    k: usize,
    handle: &str,
    a: &MergedActivity,
) -> (u64, u64) {
    let stamp = entries.and_then(|e| e.stamps.get(k)).copied().unwrap_or(0);
    let cut = entries
        .and_then(|e| e.cuts.get(k))
        .copied()
        .unwrap_or_else(|| paging::local_cut_hash(handle, &a.summary.id));
    (stamp, cut)
}

/// The name of the archive page a member's activity is the oldest of: the last segment of
/// the activity's own page URL, unique on the site (its ID without one).
fn local_page_name(ctx: &Ctx<'_>, handle: &str, id: &str) -> String {
    ctx.urls(handle, id)
        .and_then(|u| u.page.trim_end_matches('/').rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| id.to_owned())
}

/// [`local_page_name`] of a followed instance's activity: a hash of its label and ID, as its
/// IDs are another server's and never reach a URL here.
fn remote_page_name(label: &str, id: &str) -> String {
    format!("r-{:016x}", paging::remote_cut_hash(label, id))
}
