//! Paginated feeds of cards: the combined feed, a user's feed and a user's per-sport feed.
//! Pagination and sport filtering are real pages (`page/N/`, `sport/{sport}/`), so both work
//! without JavaScript and the filter sees every year, not only the loaded ones.

use super::super::SiteError;
use super::super::render::{Ctx, FEED_PAGE_SIZE};
use super::super::view::{self, CardView, Link};
use crate::federation::RemoteItem;
use crate::merge::MergedActivity;
use serde::Serialize;

/// A feed to paginate.
pub struct FeedSpec<'a> {
    /// URL of page 1, ending in `/` (`/u/dave/`, `/u/dave/sport/cycling/`, `/`).
    pub base_url: String,
    pub title: String,
    pub heading: String,
    /// `(handle, activity)`, already in display order.
    pub items: Vec<(&'a str, &'a MergedActivity)>,
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

#[derive(Serialize)]
struct Pagination {
    page: usize,
    total_pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

/// Render every page of a feed; returns the produced paths.
pub fn render_feed(ctx: &Ctx<'_>, spec: &FeedSpec<'_>) -> Result<Vec<String>, SiteError> {
    let entries = merge_remote(&spec.items, &spec.remote);
    let total = entries.len();
    let pages = total.div_ceil(FEED_PAGE_SIZE).max(1);
    let page_url = |n: usize| {
        if n == 1 { spec.base_url.clone() } else { format!("{}page/{n}/", spec.base_url) }
    };
    let mut produced = Vec::new();
    for n in 1..=pages {
        let start = (n - 1) * FEED_PAGE_SIZE;
        let cards: Vec<CardView> = entries[start.min(total)..(start + FEED_PAGE_SIZE).min(total)]
            .iter()
            .filter_map(|e| match e {
                Entry::Local(h, a) => {
                    let urls = ctx.urls(h, &a.summary.id)?;
                    Some(view::card(&a.summary, urls.page.clone(), spec.show_handle.then_some(*h)))
                }
                Entry::Remote(label, it) => Some(view::remote_card(label, it)),
            })
            .collect();
        let mut c = tera::Context::new();
        c.insert(
            "title",
            &if n == 1 { spec.title.clone() } else { format!("{} — page {n}", spec.title) },
        );
        c.insert("heading", &spec.heading);
        c.insert("cards", &cards);
        c.insert("count_label", &count_label(total));
        c.insert("sport_links", &spec.sport_links);
        c.insert("profile", &spec.profile);
        c.insert("atom_url", &spec.atom_url);
        c.insert(
            "pagination",
            &Pagination {
                page: n,
                total_pages: pages,
                prev: (n > 1).then(|| page_url(n - 1)),
                next: (n < pages).then(|| page_url(n + 1)),
            },
        );
        let rel = format!("{}index.html", page_url(n).trim_start_matches('/'));
        produced.push(ctx.render("pages/feed.html", c, &rel)?);
    }
    Ok(produced)
}

/// One card of a feed: a local activity or a followed instance's.
enum Entry<'a> {
    Local(&'a str, &'a MergedActivity),
    Remote(&'a str, &'a RemoteItem),
}

/// Merge the remote activities into the local ones, newest first; on the same start time
/// the local activity comes first. Both lists are already newest first.
fn merge_remote<'a>(
    local: &[(&'a str, &'a MergedActivity)],
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
            out.push(Entry::Local(local[i].0, local[i].1));
            i += 1;
        } else {
            out.push(Entry::Remote(remote[j].0.as_str(), &remote[j].1));
            j += 1;
        }
    }
    out
}

/// "1 activity", "12 activities".
pub fn count_label(n: usize) -> String {
    if n == 1 { "1 activity".to_owned() } else { format!("{n} activities") }
}
