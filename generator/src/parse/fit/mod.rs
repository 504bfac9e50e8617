//! FIT parser: decoded FIT messages → one [`Activity`].
//!
//! Decoding lives in [`decode`] (a native streaming decoder behind the [`FitDecoder`]
//! trait, tolerant of damaged files); this module maps its typed messages onto the model.
//! Decisions, with the docs/decisions.md extraction items (E1–E16) they serve:
//!
//! - **One activity per file, with legs.** Multisport files (several `session`s) and
//!   chained files (several FIT files one after another) become ONE activity whose totals
//!   are summed (distance, elapsed, timer, ascent, descent), maxima are the maximum over
//!   sessions, averages are weighted by each session's timer time — and each session is
//!   also kept as a [`Leg`](crate::model::Leg) with its own sport, span and totals, so
//!   extraction measures every leg as its own sport (docs/extraction.md, "Multisport").
//!   One activity per leg would split what the athlete did that day into pages whose IDs,
//!   privacy and duplicates would all have to be kept in step; one activity with legs keeps
//!   the watch's totals and still counts each leg where it belongs.
//! - **Sport of a multisport file**: `multisport` when its non-transition legs have more
//!   than one sport (a `generic` leg counts as "other"). Otherwise the FIT sport with the
//!   most timer time summed over its sessions, ignoring `generic`, `transition` and
//!   `multisport` sessions; the sub-sport is that of the longest session of that sport. Without a usable session sport, the last
//!   `sport` message, then the laps' sport, decide (Karoo and Strava files carry the sport
//!   only in some of these). Sub-sports outside the BAS enum map to the nearest value or
//!   `None` (item 14, see [`profile::sub_sport`]).
//! - **Values** (item 4): `enhanced_altitude`/`enhanced_speed` win over the 16-bit fields;
//!   positions with |deg| > 180 are dropped; a heart rate of 0 is "no strap", not a value.
//!   Consecutive records with the same timestamp are merged channel by channel (the Strava
//!   app writes position and distance as two records of the same second).
//! - **Time** (items 1, 2): FIT time is seconds since 1989-12-31T00:00:00Z. The UTC offset
//!   is `activity.local_timestamp − activity.timestamp`, rounded to 15 min and ignored
//!   beyond ±14 h (some apps write garbage there) or when 0 (apps that copy UTC there);
//!   without it extraction derives the zone from the start coordinates
//!   (docs/extraction.md, "Local time"). Values below `0x10000000` are seconds
//!   since the device powered on (clock never set): they are anchored on
//!   `activity.local_timestamp` (which then reads as UTC, offset unknown) or else on
//!   `file_id.time_created`, and a warning says so; durations stay exact either way.
//! - **Device and source** (items 4, 7): from `file_id` manufacturer + product (the
//!   creator's `device_info` only when `file_id` has no manufacturer); source `karoo` for
//!   Hammerhead, `wahoo`, `garmin`, `zwift`, else the manufacturer's profile name.
//! - **Altitude source**: barometric only when the device is a known barometric unit
//!   ([`profile::known_barometric`]), else GPS. FIT does not say which sensor produced the
//!   altitude, and `enhanced_altitude` is no evidence: watches without a barometer write it
//!   too, and treating their GPS altitude as barometric (no smoothing) over-counted a noisy
//!   synthetic climb by 16 %.
//! - **Damage**: whatever the decoder could read becomes the activity and its warnings are
//!   kept. With no timed record but a session, the activity comes from the session totals.
//!   Course files are refused; no record and no session is "no track points". A lap with
//!   neither `start_time` nor `timestamp` + duration cannot be placed and is dropped.
//!   Cadence is copied as recorded (FIT running cadence is strides/min, not steps/min).

pub mod decode;
pub mod profile;
#[cfg(test)]
mod tests;

use super::ParseError;
use crate::model::{Activity, DeviceTotals, Format, Lap, Sample};
use bincio_bas::AltitudeSource;
use decode::{
    DecodedFit, FIT_EPOCH_UNIX_S, FIT_MIN_ABSOLUTE_TIME, FitDecoder, NativeDecoder, SummaryMsg,
};

/// Parse decompressed FIT bytes.
pub fn parse(bytes: &[u8]) -> Result<Activity, ParseError> {
    parse_with(&NativeDecoder, bytes)
}

/// Parse with a given decoder (tests run the `fitparser` oracle through this too).
pub fn parse_with(decoder: &dyn FitDecoder, bytes: &[u8]) -> Result<Activity, ParseError> {
    let decoded = decoder
        .decode(bytes)
        .map_err(|e| ParseError::Fit { position: e.position, message: e.message })?;
    to_activity(decoded)
}

/// Semicircles → degrees.
const DEG_PER_SEMICIRCLE: f64 = 180.0 / 2_147_483_648.0;

/// Maps FIT `date_time` values to Unix milliseconds, anchoring relative (clock-not-set)
/// values on the best absolute time the file offers.
struct Clock {
    /// Seconds added to relative values.
    relative_shift_s: i64,
}

impl Clock {
    fn unix_ms(&self, t: u32) -> i64 {
        let fit_s = if t < FIT_MIN_ABSOLUTE_TIME {
            i64::from(t) + self.relative_shift_s
        } else {
            i64::from(t)
        };
        (fit_s + FIT_EPOCH_UNIX_S) * 1000
    }
}

fn is_absolute(t: u32) -> bool {
    t >= FIT_MIN_ABSOLUTE_TIME
}

/// Decide how to read relative timestamps, adding a warning when the file uses them.
fn clock_for(d: &DecodedFit, warnings: &mut Vec<String>) -> Clock {
    let first_relative = d
        .records
        .iter()
        .filter_map(|r| r.timestamp)
        .chain(d.sessions.iter().filter_map(|s| s.start_time))
        .find(|&t| !is_absolute(t));
    let Some(first_relative) = first_relative else {
        return Clock { relative_shift_s: 0 };
    };
    // The activity message pairs a (relative) timestamp with the local wall-clock time.
    let from_activity = d.activities.iter().find_map(|a| match (a.timestamp, a.local_timestamp) {
        (Some(ts), Some(local)) if !is_absolute(ts) && is_absolute(local) => {
            Some(i64::from(local) - i64::from(ts))
        }
        _ => None,
    });
    if let Some(shift) = from_activity {
        warnings.push(
            "device clock was not set (relative timestamps); times anchored on the activity's local time, UTC offset unknown"
                .into(),
        );
        return Clock { relative_shift_s: shift };
    }
    let created = d.file_ids.iter().find_map(|f| f.time_created.filter(|&t| is_absolute(t)));
    if let Some(created) = created {
        warnings.push(
            "device clock was not set (relative timestamps); start taken from the file creation time".into(),
        );
        return Clock { relative_shift_s: i64::from(created) - i64::from(first_relative) };
    }
    warnings.push("device clock was not set (relative timestamps) and nothing anchors them; durations are right, dates are not".into());
    Clock { relative_shift_s: 0 }
}

/// UTC offset from the first `activity` message with two absolute times; `None` without one,
/// and for 0 (see [`Activity::utc_offset_s`]).
fn utc_offset_s(d: &DecodedFit) -> Option<i32> {
    d.activities
        .iter()
        .find_map(|a| match (a.timestamp, a.local_timestamp) {
            (Some(ts), Some(local)) if is_absolute(ts) && is_absolute(local) => {
                let diff = i64::from(local) - i64::from(ts);
                let rounded = ((diff as f64 / 900.0).round() as i64) * 900;
                (rounded.abs() <= 14 * 3600).then_some(rounded as i32)
            }
            _ => None,
        })
        .filter(|&o| o != 0)
}

fn prefer(enhanced: Option<f64>, base: Option<f64>) -> Option<f64> {
    enhanced.or(base)
}

fn round_u16(v: Option<f64>) -> Option<u16> {
    v.filter(|x| x.is_finite() && (0.0..=65535.0).contains(x)).map(|x| x.round() as u16)
}

fn to_activity(d: DecodedFit) -> Result<Activity, ParseError> {
    let is_course = d.file_ids.iter().any(|f| f.file_type == Some(profile::FILE_TYPE_COURSE))
        && !d.file_ids.iter().any(|f| f.file_type == Some(profile::FILE_TYPE_ACTIVITY));
    if is_course {
        return Err(ParseError::NotAnActivity("FIT course file".into()));
    }
    if d.records.is_empty() && d.sessions.is_empty() {
        return Err(ParseError::NoTrackPoints);
    }
    let mut a = Activity::empty(Format::Fit);
    a.warnings = d.warnings.clone();
    let clock = clock_for(&d, &mut a.warnings);
    a.utc_offset_s = utc_offset_s(&d);

    // Samples.
    let mut untimed = 0usize;
    a.samples.reserve(d.records.len());
    for r in &d.records {
        let Some(t) = r.timestamp else {
            untimed += 1;
            continue;
        };
        let lat = r
            .lat_semicircles
            .map(|s| f64::from(s) * DEG_PER_SEMICIRCLE)
            .filter(|x| x.abs() <= 180.0);
        let lon = r
            .lon_semicircles
            .map(|s| f64::from(s) * DEG_PER_SEMICIRCLE)
            .filter(|x| x.abs() <= 180.0);
        let (lat_deg, lon_deg) = match (lat, lon) {
            (Some(la), Some(lo)) => (Some(la), Some(lo)),
            _ => (None, None),
        };
        let sample = Sample {
            ts_ms: clock.unix_ms(t),
            lat_deg,
            lon_deg,
            ele_m: prefer(r.enhanced_altitude_m, r.altitude_m),
            hr_bpm: round_u16(r.hr_bpm).filter(|&hr| hr > 0),
            cadence_rpm: round_u16(r.cadence_rpm),
            power_w: round_u16(r.power_w),
            speed_ms: prefer(r.enhanced_speed_ms, r.speed_ms),
            temperature_c: r.temperature_c,
            distance_m: r.distance_m,
        };
        // Some writers (the Strava app) split one instant over several records (position
        // in one, distance in the next): merge them instead of dropping all but the first.
        match a.samples.last_mut() {
            Some(prev) if prev.ts_ms == sample.ts_ms => merge_into(prev, sample),
            _ => a.samples.push(sample),
        }
    }
    if untimed > 0 {
        a.warnings.push(format!("{untimed} record(s) without a timestamp were skipped"));
    }

    // Laps.
    a.laps = d
        .laps
        .iter()
        .filter_map(|l| {
            let start_ms = summary_start_ms(l, &clock)?;
            Some(Lap {
                start_ms,
                elapsed_s: l.elapsed_s,
                timer_s: l.timer_s,
                distance_m: l.distance_m,
                ascent_m: l.ascent_m,
                descent_m: l.descent_m,
                avg_speed_ms: prefer(l.enhanced_avg_speed_ms, l.avg_speed_ms),
                max_speed_ms: prefer(l.enhanced_max_speed_ms, l.max_speed_ms),
                avg_hr_bpm: l.avg_hr_bpm,
                max_hr_bpm: l.max_hr_bpm,
                avg_power_w: l.avg_power_w,
                max_power_w: l.max_power_w,
                avg_cadence_rpm: l.avg_cadence_rpm,
            })
        })
        .collect();

    a.totals = totals(&d.sessions);
    let (sport, sub_sport) = sport_of(&d);
    a.sport = sport;
    a.sub_sport = sub_sport;
    a.legs = legs(&d.sessions, &clock);
    a.pool = pool_swim(&d, &clock);
    if is_multisport(&a.legs) {
        a.sport = bincio_bas::Sport::Multisport;
        a.sub_sport = None;
    }

    // Device and source: file_id first, the creator's device_info as a fallback.
    let creator = d
        .file_ids
        .iter()
        .find(|f| f.manufacturer.is_some())
        .map(|f| (f.manufacturer, f.product, f.product_name.as_deref()))
        .or_else(|| {
            d.device_infos
                .iter()
                .find(|i| i.device_index == Some(0) && i.manufacturer.is_some())
                .map(|i| (i.manufacturer, i.product, i.product_name.as_deref()))
        });
    if let Some((mfr, product, product_name)) = creator {
        a.device = profile::device_name(mfr, product, product_name);
        a.source = mfr.and_then(profile::source);
    }
    let has_altitude = a.samples.iter().any(|s| s.ele_m.is_some());
    a.altitude_source = if !has_altitude {
        AltitudeSource::Unknown
    } else if creator.is_some_and(|(m, p, _)| profile::known_barometric(m, p)) {
        AltitudeSource::Barometric
    } else {
        AltitudeSource::Gps
    };

    a.normalise_time_order();
    if a.samples.is_empty() {
        // No timed record: the activity is the session totals alone.
        let start = d.sessions.iter().filter_map(|s| summary_start_ms(s, &clock)).min();
        match start {
            Some(ms) => {
                a.start_ms = ms;
                a.warnings.push("no timed records: activity built from the session totals".into());
            }
            None => return Err(ParseError::NoTrackPoints),
        }
    }
    Ok(a)
}

/// Fill the channels `into` lacks from `from` (same instant); present values stay.
fn merge_into(into: &mut Sample, from: Sample) {
    if into.latlon().is_none() {
        into.lat_deg = from.lat_deg;
        into.lon_deg = from.lon_deg;
    }
    into.ele_m = into.ele_m.or(from.ele_m);
    into.hr_bpm = into.hr_bpm.or(from.hr_bpm);
    into.cadence_rpm = into.cadence_rpm.or(from.cadence_rpm);
    into.power_w = into.power_w.or(from.power_w);
    into.speed_ms = into.speed_ms.or(from.speed_ms);
    into.temperature_c = into.temperature_c.or(from.temperature_c);
    into.distance_m = into.distance_m.or(from.distance_m);
}

/// Start of a session or lap: `start_time`, else `timestamp − elapsed`.
fn summary_start_ms(s: &SummaryMsg, clock: &Clock) -> Option<i64> {
    if let Some(t) = s.start_time {
        return Some(clock.unix_ms(t));
    }
    let end = clock.unix_ms(s.timestamp?);
    let elapsed_s = s.elapsed_s.or(s.timer_s)?;
    // Saturating: a float-typed field can hold any value and must not overflow.
    Some(end.saturating_sub((elapsed_s * 1000.0).round() as i64))
}

/// One leg per session when the file has several (a single session is the activity itself).
/// A session that cannot be placed in time (no start, no end and duration) is left out.
fn legs(sessions: &[SummaryMsg], clock: &Clock) -> Vec<crate::model::Leg> {
    if sessions.len() < 2 {
        return Vec::new();
    }
    let mut legs: Vec<crate::model::Leg> = sessions
        .iter()
        .filter_map(|s| {
            let start_ms = summary_start_ms(s, clock)?;
            let span_s = s.elapsed_s.or(s.timer_s).filter(|d| d.is_finite() && *d >= 0.0);
            let end_ms = match (span_s, s.timestamp) {
                (Some(d), _) => start_ms.saturating_add((d * 1000.0).round() as i64),
                (None, Some(t)) => clock.unix_ms(t),
                (None, None) => return None,
            };
            let fit_sport = s.sport.unwrap_or(profile::SPORT_GENERIC);
            Some(crate::model::Leg {
                sport: profile::sport(fit_sport, s.sub_sport),
                sub_sport: profile::sub_sport(Some(fit_sport), s.sub_sport),
                transition: fit_sport == profile::SPORT_TRANSITION,
                start_ms,
                end_ms,
                totals: totals(std::slice::from_ref(s)).unwrap_or_default(),
            })
        })
        .collect();
    legs.sort_by_key(|l| l.start_ms);
    // Sessions follow one another; a session whose elapsed time runs into the next one (the
    // fenix 2 writes such a generic session) ends where the next begins, so no sample is
    // measured in two sports.
    for i in 1..legs.len() {
        let next_start = legs[i].start_ms;
        let prev = &mut legs[i - 1];
        prev.end_ms = prev.end_ms.min(next_start - 1).max(prev.start_ms);
    }
    legs
}

/// The lengths of a pool swim, with the session's pool length; `None` without either.
/// A length with no `length_type` counts as active when it has a speed.
fn pool_swim(d: &DecodedFit, clock: &Clock) -> Option<crate::model::PoolSwim> {
    let pool_length_m = d
        .sessions
        .iter()
        .find_map(|s| s.pool_length_m)
        .filter(|p| p.is_finite() && *p >= 10.0 && *p <= 100.0)?;
    let lengths: Vec<crate::model::SwimLength> = d
        .lengths
        .iter()
        .filter_map(|l| {
            let timer_s = l.timer_s.or(l.elapsed_s).filter(|t| t.is_finite() && *t >= 0.0)?;
            let start_ms = match (l.start_time, l.timestamp) {
                (Some(t), _) => clock.unix_ms(t),
                (None, Some(t)) => clock.unix_ms(t) - (timer_s * 1000.0).round() as i64,
                (None, None) => return None,
            };
            let active = match l.length_type {
                Some(t) => t == 1,
                None => l.avg_speed_ms.is_some_and(|v| v > 0.0),
            };
            Some(crate::model::SwimLength {
                start_ms,
                timer_s,
                active,
                strokes: l.strokes,
                stroke_rate_spm: l.stroke_rate_spm,
            })
        })
        .collect();
    (!lengths.is_empty()).then_some(crate::model::PoolSwim { pool_length_m, lengths })
}

/// Several sports among the legs (transitions aside; a `generic` leg counts as "other").
/// Legs of one sport (two runs around a break) stay that sport, with their legs shown.
fn is_multisport(legs: &[crate::model::Leg]) -> bool {
    let mut sports = legs.iter().filter(|l| !l.transition).map(|l| l.sport);
    let Some(first) = sports.next() else { return false };
    sports.any(|s| s != first)
}

/// Sum / max / timer-weighted average over sessions (see the module doc).
fn totals(sessions: &[SummaryMsg]) -> Option<DeviceTotals> {
    if sessions.is_empty() {
        return None;
    }
    fn sum(sessions: &[SummaryMsg], f: impl Fn(&SummaryMsg) -> Option<f64>) -> Option<f64> {
        sessions.iter().filter_map(&f).fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
    }
    fn max(sessions: &[SummaryMsg], f: impl Fn(&SummaryMsg) -> Option<f64>) -> Option<f64> {
        sessions
            .iter()
            .filter_map(&f)
            .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))))
    }
    fn weighted(sessions: &[SummaryMsg], f: impl Fn(&SummaryMsg) -> Option<f64>) -> Option<f64> {
        let mut num = 0.0;
        let mut den = 0.0;
        let mut plain = Vec::new();
        for s in sessions {
            let Some(v) = f(s) else { continue };
            plain.push(v);
            let w = s.timer_s.or(s.elapsed_s).unwrap_or(0.0);
            if w > 0.0 {
                num += v * w;
                den += w;
            }
        }
        if den > 0.0 {
            Some(num / den)
        } else if plain.is_empty() {
            None
        } else {
            Some(plain.iter().sum::<f64>() / plain.len() as f64)
        }
    }
    Some(DeviceTotals {
        distance_m: sum(sessions, |s| s.distance_m),
        elapsed_s: sum(sessions, |s| s.elapsed_s),
        timer_s: sum(sessions, |s| s.timer_s),
        ascent_m: sum(sessions, |s| s.ascent_m),
        descent_m: sum(sessions, |s| s.descent_m),
        avg_hr_bpm: weighted(sessions, |s| s.avg_hr_bpm),
        max_hr_bpm: max(sessions, |s| s.max_hr_bpm),
        avg_power_w: weighted(sessions, |s| s.avg_power_w),
        max_power_w: max(sessions, |s| s.max_power_w),
        // 0 kcal is what a device without a user profile writes: not recorded.
        calories_kcal: sum(sessions, |s| s.calories_kcal).filter(|k| *k > 0.0),
        avg_cadence_rpm: weighted(sessions, |s| s.avg_cadence_rpm),
        max_speed_ms: max(sessions, |s| prefer(s.enhanced_max_speed_ms, s.max_speed_ms)),
        avg_speed_ms: weighted(sessions, |s| prefer(s.enhanced_avg_speed_ms, s.avg_speed_ms)),
    })
}

/// Sport and sub-sport (see the module doc for the order of evidence).
fn sport_of(d: &DecodedFit) -> (bincio_bas::Sport, Option<bincio_bas::SubSport>) {
    let weight = |s: &SummaryMsg| s.timer_s.or(s.elapsed_s).unwrap_or(0.0);
    // Total time per specific FIT sport, in first-seen order so ties are deterministic.
    let mut per_sport: Vec<(u8, f64)> = Vec::new();
    for s in &d.sessions {
        let Some(sp) = s.sport.filter(|&sp| profile::is_specific_sport(sp)) else { continue };
        match per_sport.iter_mut().find(|(k, _)| *k == sp) {
            Some((_, t)) => *t += weight(s),
            None => per_sport.push((sp, weight(s))),
        }
    }
    let best = per_sport.iter().fold(None, |best: Option<(u8, f64)>, &(sp, t)| match best {
        Some((_, bt)) if bt >= t => best,
        _ => Some((sp, t)),
    });
    if let Some((sp, _)) = best {
        let longest = d.sessions.iter().filter(|s| s.sport == Some(sp)).fold(
            None,
            |acc: Option<&SummaryMsg>, s| match acc {
                Some(a) if weight(a) >= weight(s) => Some(a),
                _ => Some(s),
            },
        );
        // The session may omit sub_sport while the sport message has it.
        let sub = longest.and_then(|s| s.sub_sport).filter(|&x| x != 0).or_else(|| {
            d.sports.iter().rev().find(|m| m.sport == Some(sp)).and_then(|m| m.sub_sport)
        });
        return (profile::sport(sp, sub), profile::sub_sport(Some(sp), sub));
    }
    let from_messages = d
        .sports
        .iter()
        .rev()
        .map(|m| (m.sport, m.sub_sport))
        .chain(d.laps.iter().rev().map(|l| (l.sport, l.sub_sport)))
        .find(|(sp, _)| sp.is_some_and(profile::is_specific_sport));
    match from_messages {
        Some((Some(sp), sub)) => (profile::sport(sp, sub), profile::sub_sport(Some(sp), sub)),
        _ => (bincio_bas::Sport::Other, None),
    }
}
