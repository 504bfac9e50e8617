//! Per-member aggregates of the pages that list every member: the stats pages (a member's
//! own and the instance's `/stats/`) and the community leaderboard.
//!
//! A job of `bincio-gen watch` changes one member, yet the instance's `/stats/` counts every
//! member's listed activities: recomputing it from 60,000 summaries (sport legs, local dates,
//! one formatted tooltip line per activity) in every job made a job's cost grow with the
//! instance. Each member's share is computed here once, when the member is loaded, and kept
//! with the member between jobs (`load::LoadCache`); a job recomputes it only for the members
//! it reloads, and the shared pages are assembled from the shares.
//!
//! Assembling must give the very bytes the per-activity computation gave, so a share keeps
//! what cannot be combined in advance as it is: floating-point sums over several members are
//! added activity by activity in the pages' order (members in instance order, each member's
//! activities in feed order), never as per-member subtotals, because addition of floats is
//! not associative. Sums over one member alone (the members table, the leaderboard rows) are
//! complete per member. Text that depends on one activity only (a tooltip line) is formatted
//! once; URLs are not kept (who owns `/activity/{id}/` can change without the member
//! changing) and are looked up when a page is assembled, once per day cell.

use super::templates::{format_distance, format_duration};
use super::view::{display_title, sport_meta};
use crate::merge::MergedUser;
use bincio_bas::{Sport, Summary, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// Everything the shared pages need from one member.
#[derive(Debug, Default)]
pub struct UserAggregate {
    pub stats: StatsAgg,
    pub community: CommunityAgg,
}

impl UserAggregate {
    /// The member's share, from their listed activities in feed order.
    pub fn of(u: &MergedUser) -> UserAggregate {
        let listed: Vec<&Summary> =
            u.activities.iter().filter(|a| a.is_listed()).map(|a| &a.summary).collect();
        UserAggregate { stats: StatsAgg::of(&listed), community: CommunityAgg::of(&listed) }
    }
}

/// The index of a sport in [`Sport::ALL`] (display order), 6 for one it does not list.
pub fn sport_index(s: Sport) -> usize {
    Sport::ALL.iter().position(|x| *x == s).unwrap_or(6)
}

/// The time an activity counts for on the stats pages: moving time, else elapsed.
pub fn activity_time_s(s: &Summary) -> f64 {
    s.moving_time_s.or(s.duration_s).unwrap_or(0).max(0) as f64
}

/// One member's listed activities as the stats pages count them.
#[derive(Debug, Default)]
pub struct StatsAgg {
    /// The all-sports page (`None`) and one page per sport index present: a multisport
    /// activity counts on the page of each of its legs' sports.
    pub pages: BTreeMap<Option<usize>, StatsPage>,
    /// The per-sport totals table, one record per sport part, in order.
    pub parts: Vec<PartRecord>,
    /// The members table's row: activities, metres, seconds (complete for this member).
    pub member: (usize, f64, f64),
}

/// One sport part of an activity for the per-sport totals.
#[derive(Clone, Copy, Debug)]
pub struct PartRecord {
    pub sport: usize,
    /// The first part of its activity with this sport (an activity counts once per sport).
    pub first_of_sport: bool,
    pub distance_m: f64,
    pub seconds: f64,
    pub climb_m: f64,
}

/// One member's activities on one stats page, day by day. The per-activity figures of all
/// days are kept in a few flat vectors (a day holds its ranges of them): a share stays small
/// enough to keep for every member of a large instance.
#[derive(Debug, Default)]
pub struct StatsPage {
    /// Activities counted on the page.
    pub count: usize,
    /// By local date, oldest first.
    pub days: Vec<StatsDay>,
    /// Per activity, the distance it adds to the page.
    counted: Vec<f64>,
    /// Per activity, [`activity_time_s`].
    times: Vec<f64>,
    /// Per activity and sport leg of the page, (sport index, metres).
    sport_distances: Vec<(usize, f64)>,
    /// The tooltip lines, `\n{sport}: {title} · {figure}` per activity.
    lines: String,
    /// Per activity, where its line starts in `lines` (a title may hold a line break, so
    /// the lines are not found by splitting).
    line_starts: Vec<u32>,
}

/// One member's activities of one local day on one stats page (in feed order).
#[derive(Debug)]
pub struct StatsDay {
    /// The local date (`view::local_date`), the order of the page's days.
    pub date: time::Date,
    /// The first activity's start and ID: the cell links to the day's first activity.
    pub first_at: Timestamp,
    pub first_id: Box<str>,
    /// Ranges of the page's vectors: activities, sport legs, tooltip text.
    acts: (u32, u32),
    legs: (u32, u32),
    text: (u32, u32),
}

impl StatsPage {
    /// Per activity of `day`, the distance it adds to the page.
    pub fn counted(&self, day: &StatsDay) -> &[f64] {
        &self.counted[day.acts.0 as usize..day.acts.1 as usize]
    }

    /// Per activity of `day`, the time it counts for.
    pub fn times(&self, day: &StatsDay) -> &[f64] {
        &self.times[day.acts.0 as usize..day.acts.1 as usize]
    }

    /// Per activity of `day` and sport leg of the page, (sport index, metres).
    pub fn sport_distances(&self, day: &StatsDay) -> &[(usize, f64)] {
        &self.sport_distances[day.legs.0 as usize..day.legs.1 as usize]
    }

    /// The tooltip lines of `day`'s activities.
    pub fn lines(&self, day: &StatsDay) -> &str {
        &self.lines[day.text.0 as usize..day.text.1 as usize]
    }

    /// The tooltip lines of the first `n` of `day`'s activities (all of them when it has no
    /// more than `n`).
    pub fn first_lines(&self, day: &StatsDay, n: usize) -> &str {
        let (first, end) = (day.acts.0 as usize, day.acts.1 as usize);
        let stop = match self.line_starts.get(first + n) {
            Some(at) if first + n < end => *at as usize,
            _ => day.text.1 as usize,
        };
        &self.lines[day.text.0 as usize..stop]
    }
}

impl StatsAgg {
    fn of(listed: &[&Summary]) -> StatsAgg {
        let mut agg = StatsAgg::default();
        // Sport pages present, each with its activities in order.
        let mut groups: BTreeMap<usize, Vec<&Summary>> = BTreeMap::new();
        for s in listed {
            let parts = s.sport_parts();
            let mut idx: Vec<usize> = parts.iter().map(|p| sport_index(p.sport)).collect();
            idx.sort_unstable();
            idx.dedup();
            for i in idx {
                groups.entry(i).or_default().push(s);
            }
            let mut seen = Vec::new();
            for p in &parts {
                let i = sport_index(p.sport);
                let first_of_sport = !seen.contains(&i);
                if first_of_sport {
                    seen.push(i);
                }
                agg.parts.push(PartRecord {
                    sport: i,
                    first_of_sport,
                    distance_m: p.distance_m.unwrap_or(0.0),
                    seconds: p.moving_time_s.or(p.duration_s).unwrap_or(0).max(0) as f64,
                    climb_m: p.elevation_gain_m.unwrap_or(0.0),
                });
            }
            agg.member.0 += 1;
            agg.member.1 += s.distance_m.unwrap_or(0.0);
            agg.member.2 += activity_time_s(s);
        }
        agg.pages.insert(None, StatsPage::of(listed, None));
        for (i, acts) in &groups {
            agg.pages.insert(Some(*i), StatsPage::of(acts, Some(Sport::ALL[*i])));
        }
        agg
    }
}

/// Distance per sport leg of an activity on a page: every leg on the all-sports page, the
/// legs of the page's sport on a sport's page.
pub fn sport_distances(s: &Summary, sport: Option<Sport>) -> Vec<(usize, f64)> {
    s.sport_parts()
        .iter()
        .filter(|p| sport.is_none_or(|x| p.sport == x))
        .map(|p| (sport_index(p.sport), p.distance_m.unwrap_or(0.0)))
        .collect()
}

/// The distance an activity adds to a page: all of it on the all-sports page (transitions
/// included), its legs of the page's sport on a sport's page.
pub fn counted(s: &Summary, sport: Option<Sport>) -> f64 {
    match sport {
        None => s.distance_m.unwrap_or(0.0),
        Some(_) => sport_distances(s, sport).iter().map(|(_, d)| d).sum(),
    }
}

impl StatsPage {
    fn of(acts: &[&Summary], sport: Option<Sport>) -> StatsPage {
        let mut by_day: BTreeMap<time::Date, Vec<&Summary>> = BTreeMap::new();
        for s in acts {
            by_day.entry(s.started_at.0.date()).or_default().push(s);
        }
        let mut page = StatsPage { count: acts.len(), ..StatsPage::default() };
        // Offsets fit in u32: a member has far fewer than 4 billion activities or bytes of
        // tooltip text; `as` cannot truncate below that.
        let at = |n: usize| n as u32;
        for (date, list) in by_day {
            let Some(first) = list.first() else { continue };
            let (acts0, legs0, text0) =
                (page.counted.len(), page.sport_distances.len(), page.lines.len());
            for s in &list {
                let c = counted(s, sport);
                page.counted.push(c);
                page.sport_distances.extend(sport_distances(s, sport));
                page.times.push(activity_time_s(s));
                // A figure for every activity: its distance, else its time.
                page.line_starts.push(at(page.lines.len()));
                let figure = match Some(c).filter(|d| *d > 0.0) {
                    Some(d) => format_distance(Some(d)),
                    None => format_duration(Some(activity_time_s(s))),
                };
                page.lines.push_str(&format!(
                    "\n{}: {} · {figure}",
                    sport_meta(s.sport).2,
                    display_title(s),
                ));
            }
            page.days.push(StatsDay {
                date,
                first_at: first.started_at,
                first_id: first.id.as_str().into(),
                acts: (at(acts0), at(page.counted.len())),
                legs: (at(legs0), at(page.sport_distances.len())),
                text: (at(text0), at(page.lines.len())),
            });
        }
        page.counted.shrink_to_fit();
        page.times.shrink_to_fit();
        page.sport_distances.shrink_to_fit();
        page.lines.shrink_to_fit();
        page.line_starts.shrink_to_fit();
        page.days.shrink_to_fit();
        page
    }
}

/// One member's leaderboard rows (all time and per calendar year) and daily totals.
#[derive(Debug, Default)]
pub struct CommunityAgg {
    pub all: PeriodRow,
    pub years: BTreeMap<i32, PeriodRow>,
    /// Longest run of consecutive days with a listed activity.
    pub streak_days: usize,
    /// Local date → [count, metres, metres climbed, seconds], each figure rounded per
    /// activity, as the page's "this week / this month" script reads them.
    pub days: BTreeMap<time::Date, [f64; 4]>,
    /// The newest listed activity's date.
    pub newest: Option<time::Date>,
}

/// One member's figures over a period.
#[derive(Debug, Default)]
pub struct PeriodRow {
    pub count: usize,
    pub distance_m: f64,
    pub elevation_m: f64,
    pub time_s: i64,
    /// Sport indices practised.
    pub sports: BTreeSet<usize>,
}

impl PeriodRow {
    /// The row of `acts` (the member's listed activities of the period, in order).
    pub fn of(acts: &[&Summary]) -> PeriodRow {
        PeriodRow {
            count: acts.len(),
            distance_m: acts.iter().filter_map(|a| a.distance_m).sum(),
            elevation_m: acts.iter().filter_map(|a| a.elevation_gain_m).sum(),
            time_s: acts.iter().filter_map(|a| a.duration_s).sum(),
            sports: acts.iter().map(|a| sport_index(a.sport)).collect(),
        }
    }
}

impl CommunityAgg {
    fn of(listed: &[&Summary]) -> CommunityAgg {
        let mut by_year: BTreeMap<i32, Vec<&Summary>> = BTreeMap::new();
        let mut days: BTreeMap<time::Date, [f64; 4]> = BTreeMap::new();
        for s in listed {
            by_year.entry(s.started_at.0.year()).or_default().push(s);
            let e = days.entry(s.started_at.0.date()).or_default();
            e[0] += 1.0;
            e[1] += s.distance_m.unwrap_or(0.0).round();
            e[2] += s.elevation_gain_m.unwrap_or(0.0).round();
            e[3] += s.duration_s.unwrap_or(0) as f64;
        }
        CommunityAgg {
            all: PeriodRow::of(listed),
            years: by_year.iter().map(|(y, acts)| (*y, PeriodRow::of(acts))).collect(),
            streak_days: longest_streak(days.keys().copied()),
            newest: days.keys().next_back().copied(),
            days,
        }
    }
}

/// `YYYY-MM-DD` of a local date: what `view::local_date` writes for a start on that date.
pub fn day_key(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Longest run of consecutive days among `days` (ascending, distinct).
pub fn longest_streak(days: impl Iterator<Item = time::Date>) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev: Option<time::Date> = None;
    for d in days {
        run = match prev {
            Some(p) if p.next_day() == Some(d) => run + 1,
            _ => 1,
        };
        best = best.max(run);
        prev = Some(d);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, at: &str, sport: Sport, km: f64, title: &str) -> Summary {
        Summary {
            id: id.to_owned(),
            started_at: Timestamp::parse(at).unwrap_or_default(),
            sport,
            distance_m: Some(km * 1000.0),
            duration_s: Some(3600),
            title: Some(title.to_owned()),
            ..Summary::default()
        }
    }

    #[test]
    fn a_share_keeps_each_activity_of_a_day_in_feed_order() {
        let a = summary("a", "2025-03-02T18:00:00+01:00", Sport::Running, 10.0, "Evening run");
        let b = summary("b", "2025-03-02T07:00:00+01:00", Sport::Cycling, 42.5, "Commute");
        let c = summary("c", "2025-02-27T07:00:00+01:00", Sport::Cycling, 20.0, "Older");
        let agg = StatsAgg::of(&[&a, &b, &c]);
        let all = &agg.pages[&None];
        assert_eq!(all.count, 3);
        // Oldest day first; within a day, the feed's order (newest first here).
        assert_eq!(all.days.len(), 2);
        let day = &all.days[1];
        assert_eq!(all.counted(day), [10_000.0, 42_500.0]);
        assert_eq!(all.times(day), [3600.0, 3600.0]);
        assert_eq!(&*day.first_id, "a");
        assert_eq!(all.lines(day), "\nRunning: Evening run · 10.0 km\nCycling: Commute · 42.5 km");
        assert_eq!(all.first_lines(day, 1), "\nRunning: Evening run · 10.0 km");
        assert_eq!(all.first_lines(day, 2), all.lines(day));
        assert_eq!(all.first_lines(day, 5), all.lines(day));
        assert_eq!(all.first_lines(day, 0), "");
        assert_eq!(all.first_lines(&all.days[0], 1), "\nCycling: Older · 20.0 km");
        assert_eq!(all.counted(&all.days[0]), [20_000.0]);
        // One page per sport, counting that sport's activities only.
        let ride = &agg.pages[&Some(sport_index(Sport::Cycling))];
        assert_eq!(ride.count, 2);
        assert_eq!(ride.counted(&ride.days[1]), [42_500.0]);
        assert_eq!(ride.sport_distances(&ride.days[1]), [(sport_index(Sport::Cycling), 42_500.0)]);
        assert_eq!(agg.member, (3, 72_500.0, 3.0 * 3600.0));
        assert_eq!(agg.parts.iter().filter(|p| p.first_of_sport).count(), 3);
    }

    #[test]
    fn the_community_share_has_years_daily_totals_and_the_longest_streak() {
        let a = summary("a", "2025-01-01T10:00:00Z", Sport::Running, 5.4, "x");
        let b = summary("b", "2024-12-31T10:00:00Z", Sport::Running, 5.0, "y");
        let c = summary("c", "2024-12-30T10:00:00Z", Sport::Cycling, 30.0, "z");
        let d = summary("d", "2024-12-20T10:00:00Z", Sport::Cycling, 30.0, "w");
        let agg = CommunityAgg::of(&[&a, &b, &c, &d]);
        assert_eq!(agg.streak_days, 3);
        assert_eq!(agg.all.count, 4);
        assert_eq!(agg.years[&2024].count, 3);
        assert_eq!(agg.years[&2025].distance_m, 5_400.0);
        assert_eq!(agg.newest, time::Date::from_calendar_date(2025, time::Month::January, 1).ok());
        let first = agg.days.iter().next().map(|(d, v)| (day_key(*d), *v));
        assert_eq!(first, Some(("2024-12-20".to_owned(), [1.0, 30_000.0, 0.0, 3600.0])));
        assert_eq!(day_key(d.started_at.0.date()), crate::site::view::local_date(&d.started_at));
        assert_eq!(PeriodRow::of(&[]).count, 0);
    }
}
