//! Pages that list everyone or belong to nobody: home (combined feed, or the user's feed on a
//! single-user site), the instance's stats (multi-user), community, about (en/it/es/ca), the account pages whose forms call the
//! daemon's `/api/`, the API reference, legacy redirects and the 404 page. A `--handle`
//! build re-renders all of them (they are cheap).

use super::super::SiteError;
use super::super::aggregate::{CommunityAgg, PeriodRow, day_key};
use super::super::escape::json_for_html;
use super::super::render::{Ctx, PageKeys};
use super::super::urls;
use super::super::view::sport_meta;
use super::feed::{FeedSpec, member_entry, render_feed};
use crate::merge::{MergedActivity, MergedUser};
use crate::site::templates::{format_distance, format_duration};
use bincio_bas::Sport;
use serde::Serialize;
use std::collections::BTreeSet;

/// Render the shared pages.
pub fn render_shared(ctx: &Ctx<'_>) -> Result<Vec<String>, SiteError> {
    let mut produced = Vec::new();
    // Newest first, then by handle and ID. Each row carries its start time and its user's
    // rank by handle, computed once: the sort of 60,000 rows (in which a start time can be
    // shared by many members) then compares integers, and an ID only when one user has two
    // activities starting the same millisecond.
    let users = &ctx.inst.users;
    let mut by_handle: Vec<usize> = (0..users.len()).collect();
    by_handle.sort_unstable_by(|a, b| users[*a].handle.cmp(&users[*b].handle));
    let mut rank = vec![0u32; users.len()];
    for (r, i) in by_handle.into_iter().enumerate() {
        // Fewer than 4 billion users: `as` cannot truncate.
        rank[i] = r as u32;
    }
    let mut keyed: Vec<(i64, u32, usize, usize, &MergedActivity)> = users
        .iter()
        .enumerate()
        .flat_map(|(i, u)| {
            let r = rank[i];
            u.activities
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_listed())
                .map(move |(k, a)| (a.summary.started_at.unix_ms(), r, i, k, a))
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then_with(|| a.4.summary.id.cmp(&b.4.summary.id))
    });
    // Each user's stamps and cut hashes looked up once, not once per activity.
    let of_user: Vec<Option<&urls::Entries>> =
        users.iter().map(|u| ctx.entry_stamps.get(&u.handle).map(|e| e.as_ref())).collect();
    let (stamps, cuts): (Vec<u64>, Vec<u64>) = keyed
        .iter()
        .map(|(_, _, i, k, a)| member_entry(of_user[*i], *k, &users[*i].handle, a))
        .unzip();
    let items: Vec<(&str, &MergedActivity)> =
        keyed.into_iter().map(|(_, _, i, _, a)| (users[i].handle.as_str(), a)).collect();
    let single = ctx.inst.single_user;
    produced.extend(render_feed(
        ctx,
        &FeedSpec {
            base_url: "/".to_owned(),
            title: format!("{} — Feed", ctx.inst.name),
            heading: if single {
                ctx.inst.users.first().map(super::user::display_name).unwrap_or_default()
            } else {
                "Feed".to_owned()
            },
            items,
            stamps,
            cuts,
            // Followed instances' activities join the home feed (also on a single-user
            // site, where they are the only cards with a handle).
            remote: ctx.inst.remotes.items.iter().collect(),
            show_handle: !single,
            sport_links: Vec::new(),
            profile: None,
            atom_url: ctx
                .inst
                .users
                .first()
                .filter(|_| single)
                .map(|u| format!("/u/{}/atom.xml", u.handle)),
        },
    )?);
    if !single {
        produced.push(render_community(ctx)?);
    }
    for (lang, rel) in [
        ("en", "about/index.html"),
        ("it", "about/it/index.html"),
        ("es", "about/es/index.html"),
        ("ca", "about/ca/index.html"),
    ] {
        let mut c = tera::Context::new();
        c.insert("lang", lang);
        c.insert("title", &format!("About — {}", ctx.inst.name));
        produced.push(render_keyed(ctx, "pages/about.html", c, rel)?);
    }
    for (page, title) in [
        ("login", "Sign in"),
        ("register", "Create account"),
        ("reset-password", "Reset password"),
        ("settings", "Settings"),
        ("invites", "Your invites"),
        ("admin", "Admin"),
        ("feedback", "Feedback"),
        ("api-docs", "API reference"),
    ] {
        let mut c = tera::Context::new();
        c.insert("title", &format!("{title} — {}", ctx.inst.name));
        c.insert("heading", title);
        c.insert("noindex", &true);
        if page == "admin" {
            // The federation report (refreshed with the shared pages by every render and
            // every watcher refresh).
            c.insert("federation", &ctx.inst.remotes.status);
        }
        produced.push(render_keyed(
            ctx,
            &format!("pages/account/{page}.html"),
            c,
            &format!("{page}/index.html"),
        )?);
    }
    // A multi-user site's `/stats/` is the instance's: every member's listed activities
    // (the nav's "Stats" for anonymous visitors; a logged-in member's nav points at their
    // own). A single-user site's stats are its user's, so there it stays a redirect.
    let mut redirects = vec!["athlete"];
    if single {
        redirects.push("stats");
    } else {
        produced.extend(super::user::render_stats(
            ctx,
            &super::user::StatsScope {
                base: "/stats/".to_owned(),
                title: "Stats".to_owned(),
                profile: None,
                parts: ctx
                    .inst
                    .users
                    .iter()
                    .map(|u| (u.handle.as_str(), &ctx.inst.aggregate(&u.handle).stats))
                    .collect(),
                members: true,
                day_lines: Some(super::user::INSTANCE_DAY_LINES),
            },
        )?);
    }
    // Legacy `/athlete/` (and a single-user site's `/stats/`) go to the first user's pages
    // (the nav rewrites them to the visitor's own once /api/me answers); with no user yet,
    // to the home page.
    for section in redirects {
        let target = match ctx.inst.users.first() {
            Some(first) => format!("/u/{}/{section}/", first.handle),
            None => "/".to_owned(),
        };
        let mut c = tera::Context::new();
        c.insert("title", &ctx.inst.name);
        c.insert("target", &target);
        produced.push(render_keyed(
            ctx,
            "pages/redirect.html",
            c,
            &format!("{section}/index.html"),
        )?);
    }
    let mut c = tera::Context::new();
    c.insert("title", &format!("Not found — {}", ctx.inst.name));
    c.insert("noindex", &true);
    produced.push(render_keyed(ctx, "pages/404.html", c, "404.html")?);
    Ok(produced)
}

/// Render a page that shows no activity (about, account forms, redirects, 404) unless its
/// file was rendered from the same template, context, site shell and theme: the key
/// (`render::PageKeys`) covers everything the page is made of. A job rendered these fifteen
/// pages again each time, for nothing: they change with the instance's settings only.
fn render_keyed(
    ctx: &Ctx<'_>,
    template: &str,
    c: tera::Context,
    rel: &str,
) -> Result<String, SiteError> {
    let context = serde_json::to_vec(&c.clone().into_json()).unwrap_or_default();
    let site = serde_json::to_vec(&ctx.site).unwrap_or_default();
    let key = PageKeys::key(&[
        b"shared-page",
        ctx.theme_fp.as_bytes(),
        template.as_bytes(),
        &site,
        &context,
    ]);
    if ctx.keys.unchanged(ctx.out, rel, key) {
        ctx.out.unchanged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(rel.to_owned());
    }
    ctx.render(template, c, rel)
}

#[derive(Serialize)]
struct Row {
    handle: String,
    name: String,
    count: usize,
    distance: String,
    distance_m: f64,
    elevation: String,
    elevation_m: f64,
    time: String,
    time_s: i64,
    /// Sport ids (icons of `/static/img/sports.svg`) and labels.
    sports: Vec<(&'static str, &'static str)>,
    streak_days: usize,
}

#[derive(Serialize)]
struct Period {
    key: String,
    label: String,
    rows: Vec<Row>,
    total_count: usize,
    total_distance: String,
    total_elevation: String,
    total_time: String,
}

/// Community leaderboard: all time and each calendar year, server-rendered (a visitor's
/// "this week" would depend on the day they look; years do not, so output stays stable).
/// Made from the members' shares (`site::aggregate`), not from every activity.
fn render_community(ctx: &Ctx<'_>) -> Result<String, SiteError> {
    let shares: Vec<(&MergedUser, &CommunityAgg)> =
        ctx.inst.users.iter().map(|u| (u, &ctx.inst.aggregate(&u.handle).community)).collect();
    let years: BTreeSet<i32> = shares.iter().flat_map(|(_, c)| c.years.keys().copied()).collect();
    let mut periods = vec![period(&shares, "all", "All time", None)];
    for y in years.iter().rev() {
        periods.push(period(&shares, &y.to_string(), &y.to_string(), Some(*y)));
    }
    let mut c = tera::Context::new();
    c.insert("title", &format!("Community — {}", ctx.inst.name));
    c.insert("periods", &periods);
    // Inserted raw into a <script type="application/json"> (`| safe`): display names in it
    // are escaped for that element by `json_for_html`, not by Tera.
    c.insert("recent_json", &recent_days_json(&shares));
    ctx.render("pages/community.html", c, "community/index.html")
}

/// "This week" and "This month" depend on the visitor's day, so the page carries each
/// user's daily totals of the 62 days before the newest listed activity (a fixed window, so
/// the output stays deterministic) and a small script builds those two tables.
fn recent_days_json(shares: &[(&MergedUser, &CommunityAgg)]) -> String {
    let Some(newest) = shares.iter().filter_map(|(_, c)| c.newest).max() else {
        return "[]".to_owned();
    };
    let from = newest - time::Duration::days(62);
    let users: Vec<serde_json::Value> = shares
        .iter()
        .map(|(u, c)| {
            // date → [count, distance_m, elevation_m, duration_s]
            serde_json::json!({
                "handle": u.handle,
                "name": super::user::display_name(u),
                "days": c.days.range(from..).map(|(d, v)| serde_json::json!([day_key(*d), v[0], v[1], v[2], v[3]])).collect::<Vec<_>>(),
            })
        })
        .collect();
    json_for_html(&users).unwrap_or_else(|_| "[]".to_owned())
}

fn period(
    shares: &[(&MergedUser, &CommunityAgg)],
    key: &str,
    label: &str,
    year: Option<i32>,
) -> Period {
    let none = PeriodRow::of(&[]);
    let mut rows = Vec::new();
    for (u, c) in shares {
        let r = match year {
            None => &c.all,
            Some(y) => c.years.get(&y).unwrap_or(&none),
        };
        rows.push(Row {
            handle: u.handle.clone(),
            name: super::user::display_name(u),
            count: r.count,
            distance: format_distance(Some(r.distance_m)),
            distance_m: r.distance_m,
            elevation: format!("{} m", r.elevation_m.round()),
            elevation_m: r.elevation_m,
            time: format_duration(Some(r.time_s as f64)),
            time_s: r.time_s,
            sports: r
                .sports
                .iter()
                .map(|i| {
                    let (id, _, label) = sport_meta(Sport::ALL[*i]);
                    (id, label)
                })
                .collect(),
            streak_days: c.streak_days,
        });
    }
    rows.sort_by(|a, b| {
        b.distance_m.total_cmp(&a.distance_m).then_with(|| a.handle.cmp(&b.handle))
    });
    let total_count = rows.iter().map(|r| r.count).sum();
    let d: f64 = rows.iter().map(|r| r.distance_m).sum();
    let e: f64 = rows.iter().map(|r| r.elevation_m).sum();
    let t: i64 = rows.iter().map(|r| r.time_s).sum();
    Period {
        key: key.to_owned(),
        label: label.to_owned(),
        rows,
        total_count,
        total_distance: format_distance(Some(d)),
        total_elevation: format!("{} km↑", (e / 1000.0).round()),
        total_time: format_duration(Some(t as f64)),
    }
}
