//! A user's pages: feed (paginated, per sport), stats (calendar heatmaps per sport filter),
//! athlete (records, best climbs, power curve, zones) and the Atom feed. Only listed
//! activities appear on any of them. The stats pages are built by [`render_stats`] from the
//! members' shares (`site::aggregate`) of any set of members, so the instance's `/stats/`
//! (every member's, rendered with the shared pages) is the same page as a user's and cannot
//! count differently.

use super::super::SiteError;
use super::super::aggregate::{StatsAgg, StatsDay, StatsPage};
use super::super::render::{Ctx, by_sport};
use super::super::svg::{self, CurveLine, DayCell};
use super::super::view::{self, Link, format_date, format_date_long, local_date, sport_meta};
use super::feed::{FeedSpec, ProfileView, count_label, render_feed};
use crate::athlete;
use crate::merge::{MergedActivity, MergedUser};
use crate::site::templates::{
    format_clock, format_distance, format_duration, format_pace, format_speed,
};
use crate::site::units;
use bincio_bas::{Sport, Summary};
use serde::Serialize;
use std::collections::BTreeMap;

/// Render every page of one user.
pub fn render_user(ctx: &Ctx<'_>, u: &MergedUser) -> Result<Vec<String>, SiteError> {
    let mut produced = Vec::new();
    let listed: Vec<(&str, &MergedActivity)> =
        u.activities.iter().filter(|a| a.is_listed()).map(|a| (u.handle.as_str(), a)).collect();
    let groups = by_sport(u);
    let base = format!("/u/{}/", u.handle);
    let sport_links = |active: Option<Sport>| -> Vec<Link> {
        let mut links =
            vec![Link { href: base.clone(), label: "All".to_owned(), active: active.is_none() }];
        for idx in groups.keys() {
            let s = Sport::ALL[*idx];
            let (_, _, label) = sport_meta(s);
            let href = format!("{base}sport/{}/", s.as_str());
            links.push(Link { href, label: label.to_owned(), active: active == Some(s) });
        }
        links
    };
    let name = display_name(u);
    let profile = |tab| ProfileView { handle: u.handle.clone(), display_name: name.clone(), tab };
    let atom = format!("{base}atom.xml");
    produced.extend(render_feed(
        ctx,
        &FeedSpec {
            base_url: base.clone(),
            title: format!("@{} — {}", u.handle, ctx.inst.name),
            heading: name.clone(),
            items: listed.clone(),
            stamps: Vec::new(),
            cuts: Vec::new(),
            remote: Vec::new(),
            show_handle: false,
            sport_links: sport_links(None),
            profile: Some(profile("feed")),
            atom_url: Some(atom.clone()),
        },
    )?);
    for (idx, acts) in &groups {
        let s = Sport::ALL[*idx];
        produced.extend(render_feed(
            ctx,
            &FeedSpec {
                base_url: format!("{base}sport/{}/", s.as_str()),
                title: format!("@{} {} — {}", u.handle, sport_meta(s).2, ctx.inst.name),
                heading: name.clone(),
                items: acts.iter().map(|a| (u.handle.as_str(), *a)).collect(),
                stamps: Vec::new(),
                cuts: Vec::new(),
                remote: Vec::new(),
                show_handle: false,
                sport_links: sport_links(Some(s)),
                profile: Some(profile("feed")),
                atom_url: Some(atom.clone()),
            },
        )?);
    }
    // Stats: all sports, then one page per sport present.
    let all: Vec<&MergedActivity> = listed.iter().map(|(_, a)| *a).collect();
    produced.extend(render_stats(
        ctx,
        &StatsScope {
            base: format!("{base}stats/"),
            title: format!("@{} Stats", u.handle),
            profile: Some(profile("stats")),
            parts: vec![(u.handle.as_str(), &ctx.inst.aggregate(&u.handle).stats)],
            members: false,
            day_lines: None,
        },
    )?);
    let mut c = athlete_context(ctx, u, &all);
    c.insert("profile", &profile("athlete"));
    produced.push(ctx.render(
        "pages/athlete.html",
        c,
        &format!("u/{}/athlete/index.html", u.handle),
    )?);
    produced.push(render_atom(ctx, u, &all)?);
    Ok(produced)
}

/// The name shown for a user.
pub fn display_name(u: &MergedUser) -> String {
    u.owner
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("@{}", u.handle))
}

#[derive(Serialize)]
struct YearView {
    year: i32,
    distance: String,
    /// Total moving time (elapsed where an activity has none).
    time: String,
    count_label: String,
    heatmap_svg: String,
    months: Vec<MonthView>,
}

#[derive(Serialize)]
struct MonthView {
    name: &'static str,
    distance: String,
    time: String,
    count: usize,
}

#[derive(Serialize)]
struct LegendSwatch {
    color: String,
    opacity: f64,
}

/// One day of a stats page: total distance, distance per sport index, the members' shares.
type DayAgg<'a> = (f64, BTreeMap<usize, f64>, &'a [Share<'a>]);
/// One member's day on a stats page: (handle, the member's page, the day).
type Share<'a> = (&'a str, &'a StatsPage, &'a StatsDay);
/// One year: heatmap cells, distance, count, per-month (distance, count, seconds), seconds.
type YearAgg = (Vec<DayCell>, f64, usize, [(f64, usize, f64); 12], f64);

/// Which activities a set of stats pages counts and where they live: a user's
/// (`/u/{h}/stats/`) or the whole instance's (`/stats/`, every member's listed activities).
pub(super) struct StatsScope<'a> {
    /// `/u/{h}/stats/` or `/stats/`; the sport pages are `{base}{sport}/`.
    pub base: String,
    /// The title's first part (`@dave Stats`, `Stats`); the instance name follows.
    pub title: String,
    /// The profile header of a user's pages.
    pub profile: Option<ProfileView>,
    /// (handle, the member's share of the stats pages, `site::aggregate`), in instance
    /// order: the counted activities are the members' listed ones, in this order.
    pub parts: Vec<(&'a str, &'a StatsAgg)>,
    /// Show the members table (the instance's page).
    pub members: bool,
    /// At most this many activities listed in a day's tooltip, then "… and N more"
    /// (`None`: every one). See [`INSTANCE_DAY_LINES`].
    pub day_lines: Option<usize>,
}

/// Activities a day's tooltip lists on the instance's `/stats/` pages before "… and N
/// more": with every member's activities there, a busy day listed hundreds of lines, and
/// the page grew with the instance (megabytes at 60,000 activities), for its visitors and
/// for every job, which assembles it again. A member's own stats list every activity.
pub const INSTANCE_DAY_LINES: usize = 5;

/// Render the stats pages of `scope`: all sports, then one page per sport present. A
/// multisport activity counts under each of its legs' sports.
pub(super) fn render_stats(
    ctx: &Ctx<'_>,
    scope: &StatsScope<'_>,
) -> Result<Vec<String>, SiteError> {
    // Sport pages present, each with the members' shares of it in order.
    let mut groups: BTreeMap<usize, Vec<(&str, &StatsPage)>> = BTreeMap::new();
    let mut all: Vec<(&str, &StatsPage)> = Vec::new();
    for (h, agg) in &scope.parts {
        for (idx, page) in &agg.pages {
            match idx {
                None => all.push((*h, page)),
                Some(i) => groups.entry(*i).or_default().push((*h, page)),
            }
        }
    }
    let links = |active: Option<Sport>| -> Vec<Link> {
        let mut links = vec![Link {
            href: scope.base.clone(),
            label: "All".to_owned(),
            active: active.is_none(),
        }];
        for idx in groups.keys() {
            let s = Sport::ALL[*idx];
            links.push(Link {
                href: format!("{}{}/", scope.base, s.as_str()),
                label: sport_meta(s).2.to_owned(),
                active: active == Some(s),
            });
        }
        links
    };
    let rel = |sport: Option<Sport>| {
        let dir = scope.base.trim_start_matches('/');
        match sport {
            None => format!("{dir}index.html"),
            Some(s) => format!("{dir}{}/index.html", s.as_str()),
        }
    };
    let mut produced = Vec::new();
    let mut c = stats_context(ctx, &scope.title, &all, None, scope.day_lines);
    c.insert("sport_links", &links(None));
    c.insert("sport_totals", &sport_totals(ctx, &scope.parts));
    if scope.members {
        c.insert("members", &member_rows(ctx, &scope.parts));
    }
    if let Some(p) = &scope.profile {
        c.insert("profile", p);
    }
    produced.push(ctx.render("pages/stats.html", c, &rel(None))?);
    for (idx, pages) in &groups {
        let s = Sport::ALL[*idx];
        let mut c = stats_context(ctx, &scope.title, pages, Some(s), scope.day_lines);
        c.insert("sport_links", &links(Some(s)));
        if let Some(p) = &scope.profile {
            c.insert("profile", p);
        }
        produced.push(ctx.render("pages/stats.html", c, &rel(Some(s)))?);
    }
    Ok(produced)
}

/// One row of the per-sport totals: legs of a multisport activity under their own sports.
#[derive(Serialize)]
struct SportTotal {
    sport: &'static str,
    label: &'static str,
    color: &'static str,
    count: usize,
    distance: String,
    distance_si: f64,
    time: String,
    elevation: String,
    elevation_si: f64,
}

fn sport_totals(ctx: &Ctx<'_>, parts: &[(&str, &StatsAgg)]) -> Vec<SportTotal> {
    // sport index → (activities, metres, seconds, metres climbed), added part by part in
    // the members' order.
    let mut by: BTreeMap<usize, (usize, f64, f64, f64)> = BTreeMap::new();
    for p in parts.iter().flat_map(|(_, agg)| &agg.parts) {
        let e = by.entry(p.sport).or_default();
        // An activity counts once per sport, however many of its legs have it.
        if p.first_of_sport {
            e.0 += 1;
        }
        e.1 += p.distance_m;
        e.2 += p.seconds;
        e.3 += p.climb_m;
    }
    let units = ctx.inst.config.units;
    let mut rows: Vec<SportTotal> = by
        .into_iter()
        .map(|(i, (count, dist, secs, climb))| {
            let s = Sport::ALL[i];
            let (_, color, label) = sport_meta(s);
            SportTotal {
                sport: s.as_str(),
                label,
                color,
                count,
                distance: if dist > 0.0 {
                    units::format(units::Q::Distance, dist, units)
                } else {
                    String::new()
                },
                distance_si: (dist * 10.0).round() / 10.0,
                time: format_duration(Some(secs)),
                elevation: if climb > 0.0 {
                    units::format(units::Q::Elevation, climb, units)
                } else {
                    String::new()
                },
                elevation_si: climb.round(),
            }
        })
        .collect();
    // Most practised first; the sport's name breaks ties so the order is stable.
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(b.label)));
    rows
}

/// One member on the instance's stats page.
#[derive(Serialize)]
struct MemberRow {
    handle: String,
    name: String,
    count: usize,
    distance: String,
    distance_si: f64,
    time: String,
}

fn member_rows(ctx: &Ctx<'_>, parts: &[(&str, &StatsAgg)]) -> Vec<MemberRow> {
    let by: BTreeMap<&str, (usize, f64, f64)> =
        parts.iter().filter(|(_, agg)| agg.member.0 > 0).map(|(h, agg)| (*h, agg.member)).collect();
    let units = ctx.inst.config.units;
    let mut rows: Vec<MemberRow> = ctx
        .inst
        .users
        .iter()
        .filter_map(|u| {
            let (count, dist, secs) = by.get(u.handle.as_str())?;
            Some(MemberRow {
                handle: u.handle.clone(),
                name: display_name(u),
                count: *count,
                distance: units::format(units::Q::Distance, *dist, units),
                distance_si: (dist * 10.0).round() / 10.0,
                time: format_duration(Some(*secs)),
            })
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.handle.cmp(&b.handle)));
    rows
}

/// One stats page from the members' shares of it (in instance order). Each day's figures
/// are added activity by activity in that order, as if from one list of activities.
fn stats_context(
    ctx: &Ctx<'_>,
    title: &str,
    pages: &[(&str, &StatsPage)],
    sport: Option<Sport>,
    day_lines: Option<usize>,
) -> tera::Context {
    // Every activity counts (time, count), with a distance or without (indoor, gym): the
    // reference left the latter out, and with them whole years vanished.
    // The members' days by date; a stable sort keeps the members' order within a day.
    let mut shares: Vec<Share<'_>> =
        pages.iter().flat_map(|(h, p)| p.days.iter().map(move |d| (*h, *p, d))).collect();
    shares.sort_by_key(|(_, _, d)| d.date);
    // Per day: total distance, distance per sport index, the members' shares.
    let mut days: Vec<DayAgg<'_>> = Vec::new();
    for group in shares.chunk_by(|a, b| a.2.date == b.2.date) {
        let mut total = 0.0;
        let mut sports: BTreeMap<usize, f64> = BTreeMap::new();
        for (_, p, d) in group {
            for c in p.counted(d) {
                total += c;
            }
            for (i, km) in p.sport_distances(d) {
                *sports.entry(*i).or_default() += km;
            }
        }
        days.push((total, sports, group));
    }
    let mut totals: Vec<f64> = days.iter().map(|d| d.0).collect();
    totals.sort_by(f64::total_cmp);
    let rank = |v: f64| {
        let n = totals.partition_point(|x| *x <= v);
        n as f64 / totals.len().max(1) as f64
    };
    // Year → cells, totals, months.
    let mut years: BTreeMap<i32, YearAgg> = BTreeMap::new();
    for (total, sports, group) in &days {
        let Some((first_handle, _, first)) = group.first().copied() else { continue };
        let dt = first.first_at.0;
        let y = years
            .entry(dt.year())
            .or_insert_with(|| (Vec::new(), 0.0, 0, [(0.0, 0, 0.0); 12], 0.0));
        let colors: Vec<(&str, f64)> =
            sports.iter().map(|(i, d)| (sport_meta(Sport::ALL[*i]).1, *d)).collect();
        let count: usize = group.iter().map(|(_, p, d)| p.times(d).len()).sum();
        let mut title =
            format!("{} — {}", format_date_long(&first.first_at), format_distance(Some(*total)));
        // The first `limit` activities of the day, in the members' order.
        let limit = day_lines.unwrap_or(usize::MAX);
        let mut listed = 0;
        for (_, p, d) in *group {
            if listed >= limit {
                break;
            }
            let n = p.times(d).len();
            title.push_str(if listed + n <= limit {
                p.lines(d)
            } else {
                p.first_lines(d, limit - listed)
            });
            listed += n.min(limit - listed);
        }
        if count > listed {
            title.push_str(&format!("\n… and {} more", count - listed));
        }
        let day_time: f64 = group.iter().flat_map(|(_, p, d)| p.times(d).iter().copied()).sum();
        // The cell links to the day's first activity (of whichever member on `/stats/`).
        let href =
            ctx.urls(first_handle, &first.first_id).map(|x| x.page.clone()).unwrap_or_default();
        y.0.push(DayCell {
            ordinal0: dt.ordinal() - 1,
            color: svg::mix_weighted(&colors),
            opacity: 0.12 + 0.88 * rank(*total),
            title,
            href,
        });
        y.1 += total;
        y.2 += count;
        y.4 += day_time;
        let m = usize::from(u8::from(dt.month())) - 1;
        y.3[m].0 += total;
        y.3[m].1 += count;
        y.3[m].2 += day_time;
    }
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let year_views: Vec<YearView> = years
        .into_iter()
        .rev()
        .map(|(year, (cells, dist, count, months, time_s))| {
            let jan1 = time::Date::from_ordinal_date(year, 1).ok();
            let weekday = jan1.map(|d| d.weekday().number_days_from_monday()).unwrap_or(0);
            let days_in_year = time::util::days_in_year(year);
            YearView {
                year,
                distance: format_distance(Some(dist)),
                time: format_duration(Some(time_s)),
                count_label: count_label(count),
                heatmap_svg: svg::heatmap(year, weekday, days_in_year, &cells),
                months: months
                    .iter()
                    .enumerate()
                    .map(|(i, (d, n, t))| MonthView {
                        name: MONTHS[i],
                        distance: if *n > 0 && *d > 0.0 {
                            format_distance(Some(*d))
                        } else {
                            String::new()
                        },
                        time: if *n > 0 { format_duration(Some(*t)) } else { String::new() },
                        count: *n,
                    })
                    .collect(),
            }
        })
        .collect();
    let legend_color = sport.map(|s| sport_meta(s).1).unwrap_or("#0891b2");
    let legend: Vec<LegendSwatch> = [0.0, 0.18, 0.38, 0.58, 0.78, 1.0]
        .iter()
        .map(|t| LegendSwatch { color: legend_color.to_owned(), opacity: 0.12 + 0.88 * t })
        .collect();
    let max_km = totals.last().map(|m| (m / 1000.0).round()).unwrap_or(0.0);
    let mut c = tera::Context::new();
    let label = sport.map(|s| sport_meta(s).2).unwrap_or("All sports");
    c.insert("title", &format!("{title} — {}", ctx.inst.name));
    c.insert("sport_label", label);
    c.insert("years", &year_views);
    c.insert("legend", &legend);
    c.insert("legend_max", &format!("{max_km} km"));
    c.insert("count_label", &count_label(pages.iter().map(|(_, p)| p.count).sum()));
    c
}

#[derive(Serialize)]
struct RecordRow {
    distance: String,
    time: String,
    pace_or_speed: String,
    date: String,
    title: String,
    url: String,
}

#[derive(Serialize)]
struct RecordTable {
    sport: &'static str,
    label: String,
    rows: Vec<RecordRow>,
}

#[derive(Serialize)]
struct ValueCard {
    label: String,
    value: String,
    title: String,
    date: String,
    url: String,
}

#[derive(Serialize)]
struct ClimbRow {
    rank: usize,
    climb: String,
    date: String,
    title: String,
    url: String,
}

#[derive(Serialize)]
struct ZoneRow {
    name: String,
    range: String,
}

#[derive(Serialize)]
struct Legend {
    name: String,
    color: String,
}

fn distance_label(km: f64) -> String {
    if (km - 1.609).abs() < 1e-6 {
        "1 mile".to_owned()
    } else if km < 1.0 {
        format!("{} m", (km * 1000.0).round())
    } else {
        format!("{km} km")
    }
}

/// Records are recomputed from listed activities only (the extracted athlete.json may name
/// unlisted ones), so nothing here can point at an unlisted activity.
fn athlete_context(ctx: &Ctx<'_>, u: &MergedUser, acts: &[&MergedActivity]) -> tera::Context {
    let url = |id: &str| ctx.urls(&u.handle, id).map(|x| x.page.clone()).unwrap_or_default();
    // Records and best climbs come from the one implementation that also writes them to
    // `athlete.json` (`crate::athlete`), over the same listed activities.
    let listed: Vec<&Summary> = acts.iter().map(|a| &a.summary).collect();
    let by_id: BTreeMap<&str, &Summary> = listed.iter().map(|s| (s.id.as_str(), *s)).collect();
    let title_of = |id: &str, fallback: &Option<String>| {
        by_id
            .get(id)
            .map_or_else(|| fallback.clone().unwrap_or_default(), |s| view::display_title(s))
    };
    let mut tables = Vec::new();
    let mut value_cards = Vec::new();
    for rec in athlete::sport_records(&listed) {
        let sport = rec.sport;
        let rows: Vec<RecordRow> = rec
            .efforts
            .iter()
            .map(|(km, e)| {
                let t = e.time_s.0;
                let speed = km / (t as f64 / 3600.0);
                RecordRow {
                    distance: distance_label(*km),
                    time: format_clock(t as f64),
                    pace_or_speed: if matches!(
                        sport,
                        Sport::Running | Sport::Walking | Sport::Hiking
                    ) {
                        format_pace(Some(speed))
                    } else {
                        format_speed(Some(speed))
                    },
                    date: format_date(&e.started_at),
                    title: title_of(&e.activity_id, &e.title),
                    url: url(&e.activity_id),
                }
            })
            .collect();
        if !rows.is_empty() {
            let label = sport_meta(sport).2;
            tables.push(RecordTable {
                sport: sport.as_str(),
                label: if rec.indoor {
                    format!("{label} — indoor & virtual")
                } else {
                    label.to_owned()
                },
                rows,
            });
        }
        if let Some(v) = &rec.longest_m {
            value_cards.push(ValueCard {
                label: format!(
                    "Longest {}{}",
                    sport.as_str(),
                    if rec.indoor { " (indoor)" } else { "" }
                ),
                value: format!("{:.1} km", v.value / 1000.0),
                title: title_of(&v.activity_id, &v.title),
                date: format_date(&v.started_at),
                url: url(&v.activity_id),
            });
        }
        if let Some(v) = &rec.most_elevation_m {
            value_cards.push(ValueCard {
                label: format!(
                    "Most elevation ({}{})",
                    sport.as_str(),
                    if rec.indoor { ", indoor" } else { "" }
                ),
                value: format!("{} m", v.value.round()),
                title: title_of(&v.activity_id, &v.title),
                date: format_date(&v.started_at),
                url: url(&v.activity_id),
            });
        }
    }
    let climbs: Vec<ClimbRow> = athlete::best_climbs(&listed)
        .iter()
        .enumerate()
        .map(|(i, c)| ClimbRow {
            rank: i + 1,
            climb: format!("{} m", c.climb_m.round()),
            date: format_date(&c.started_at),
            title: title_of(&c.activity_id, &c.title),
            url: url(&c.activity_id),
        })
        .collect();

    // Power curves: presets from athlete.json, seasons from listed activities' mmp.
    const PALETTE: [&str; 7] =
        ["#60a5fa", "#f97316", "#34d399", "#a78bfa", "#f43f5e", "#facc15", "#22d3ee"];
    let settings = u.athlete.as_ref().map(|a| a.settings.clone()).unwrap_or_default();
    let mut curves: Vec<(String, Vec<(i64, i64)>)> = Vec::new();
    let all_time = best_curve(acts.iter().map(|a| &a.summary));
    if !all_time.is_empty() {
        curves.push(("All time".to_owned(), all_time));
    }
    if let Some(a) = &u.athlete {
        for (name, c) in
            [("Last 365 d", &a.power_curve.last_365d), ("Last 90 d", &a.power_curve.last_90d)]
        {
            if let Some(c) = c.as_ref().filter(|c| !c.is_empty()) {
                curves.push((name.to_owned(), c.iter().map(|(d, w)| (d.0, w.0)).collect()));
            }
        }
    }
    for season in settings.seasons.iter().flatten() {
        let end = season.end.clone().unwrap_or_else(|| "9999-12-31".to_owned());
        let c = best_curve(acts.iter().map(|a| &a.summary).filter(|s| {
            let d = local_date(&s.started_at);
            d.as_str() >= season.start.as_str() && d.as_str() <= end.as_str()
        }));
        if !c.is_empty() {
            curves.push((season.name.clone(), c));
        }
    }
    let lines: Vec<CurveLine<'_>> = curves
        .iter()
        .enumerate()
        .map(|(i, (n, p))| CurveLine { name: n, color: PALETTE[i % PALETTE.len()], points: p })
        .collect();
    let legend: Vec<Legend> = lines
        .iter()
        .map(|l| Legend { name: l.name.to_owned(), color: l.color.to_owned() })
        .collect();
    let power_svg = svg::power_curve(&lines, settings.ftp_w);

    let zones = |z: &Option<Vec<[f64; 2]>>, unit: &str, open: f64| -> Vec<ZoneRow> {
        z.iter()
            .flatten()
            .enumerate()
            .map(|(i, [lo, hi])| ZoneRow {
                name: format!("Z{}", i + 1),
                range: if *hi >= open {
                    format!("{}+ {unit}", lo.round())
                } else {
                    format!("{}–{} {unit}", lo.round(), hi.round())
                },
            })
            .collect()
    };
    let mut c = tera::Context::new();
    c.insert("title", &format!("@{} Athlete — {}", u.handle, ctx.inst.name));
    c.insert("record_tables", &tables);
    c.insert("value_cards", &value_cards);
    c.insert("climbs", &climbs);
    c.insert("power_svg", &power_svg);
    c.insert("power_legend", &legend);
    c.insert("max_hr", &settings.max_hr);
    c.insert("ftp_w", &settings.ftp_w);
    c.insert("hr_zones", &zones(&settings.hr_zones, "bpm", 900.0));
    c.insert("power_zones", &zones(&settings.power_zones, "W", 9000.0));
    c
}

/// Best watts per duration over the given activities' `mmp`, sorted by duration.
pub fn best_curve<'a>(summaries: impl Iterator<Item = &'a Summary>) -> Vec<(i64, i64)> {
    let mut best: BTreeMap<i64, i64> = BTreeMap::new();
    for s in summaries {
        for (d, w) in s.mmp.iter().flatten() {
            let e = best.entry(d.0).or_insert(w.0);
            *e = (*e).max(w.0);
        }
    }
    best.into_iter().collect()
}

#[derive(Serialize)]
struct AtomEntry {
    id: String,
    title: String,
    url: String,
    updated: String,
    summary: String,
}

fn render_atom(
    ctx: &Ctx<'_>,
    u: &MergedUser,
    acts: &[&MergedActivity],
) -> Result<String, SiteError> {
    let mut recent: Vec<&&MergedActivity> = acts.iter().collect();
    recent.sort_by(|a, b| {
        b.summary
            .started_at
            .unix_ms()
            .cmp(&a.summary.started_at.unix_ms())
            .then_with(|| a.summary.id.cmp(&b.summary.id))
    });
    let entries: Vec<AtomEntry> = recent
        .iter()
        .take(20)
        .map(|a| {
            let s = &a.summary;
            AtomEntry {
                id: format!("urn:bincio:{}:{}", u.handle, s.id),
                title: view::display_title(s),
                url: ctx.urls(&u.handle, &s.id).map(|x| x.page.clone()).unwrap_or_default(),
                updated: rfc3339(&s.started_at),
                summary: format!(
                    "{} · {} · {} · {}",
                    view::sport_label(s.sport, s.sub_sport),
                    format_distance(s.distance_m),
                    format_duration(s.moving_time_s.or(s.duration_s).map(|v| v as f64)),
                    format_date(&s.started_at)
                ),
            }
        })
        .collect();
    let updated = recent
        .first()
        .map(|a| rfc3339(&a.summary.started_at))
        .unwrap_or_else(|| rfc3339(&u.generated_at));
    let mut c = tera::Context::new();
    c.insert("handle", &u.handle);
    c.insert("name", &display_name(u));
    c.insert("entries", &entries);
    c.insert("updated", &updated);
    ctx.render("atom.xml", c, &format!("u/{}/atom.xml", u.handle))
}

fn rfc3339(t: &bincio_bas::Timestamp) -> String {
    t.0.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}
