//! TCX parser: a streaming quick-xml state machine over Garmin's Training Center Database.
//!
//! Decisions (docs/decisions.md E1, E2, E3, E6, E7; where we differ, docs/decisions.md W7):
//! - Elements are matched on their local name only, case-insensitively, so the http and https
//!   Garmin namespaces (and any prefix) work, even mixed in one file.
//! - Only the first `<Activity>` is read, with all its laps; further activities are ignored
//!   with a warning. A file with `<Courses>` but no activity is `NotAnActivity("TCX course")`.
//! - Sport: the `Sport` attribute (`Running`, `Biking`, `Other`) through [`crate::sport`];
//!   missing is `Other`. `<Id>` is a timestamp, not a title, and `<Notes>` is not a title
//!   either: it becomes the description.
//! - `<Creator><Name>` is the device; the document `<Author><Name>` (e.g. "Connect Api") or
//!   the creator decide the `source`.
//! - Laps become [`Lap`]s (`TotalTimeSeconds` is the timer time); [`DeviceTotals`] are the
//!   laps summed: distance and timer time added, maxima taken, averages time-weighted.
//! - Trackpoints: a time without a zone is UTC; positions may be missing (pool, treadmill);
//!   `RunCadence` counts as cadence when `Cadence` is absent; `Speed` is m/s.
//! - If the activity has laps but no timed trackpoint (a manually entered activity), the
//!   activity is kept with its laps and totals, no samples, and the first lap's start.

use super::ParseError;
use super::xml::{self, TextBuf, is, local};
use crate::model::{Activity, DeviceTotals, Format, Lap, Sample};
use crate::sport::{normalise_sport, normalise_sub_sport};
use quick_xml::events::{BytesRef, BytesStart};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leaf {
    TpTime,
    TpLat,
    TpLon,
    TpAlt,
    TpDist,
    TpHr,
    TpCad,
    TpRunCad,
    TpSpeed,
    TpWatts,
    LapTime,
    LapDist,
    LapMaxSpeed,
    LapCalories,
    LapAvgHr,
    LapMaxHr,
    LapCad,
    LapAvgSpeed,
    LapAvgWatts,
    LapMaxWatts,
    LapAvgRunCad,
    Notes,
    CreatorName,
    AuthorName,
}

impl Leaf {
    fn is_string(self) -> bool {
        matches!(self, Leaf::Notes | Leaf::CreatorName | Leaf::AuthorName)
    }
}

/// Which heart-rate wrapper a `<Value>` belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HrCtx {
    Point,
    LapAvg,
    LapMax,
}

#[derive(Default)]
struct LapBuild {
    start_ms: Option<i64>,
    timer_s: Option<f64>,
    distance_m: Option<f64>,
    max_speed_ms: Option<f64>,
    avg_hr_bpm: Option<f64>,
    max_hr_bpm: Option<f64>,
    cadence_rpm: Option<f64>,
    run_cadence_rpm: Option<f64>,
    avg_speed_ms: Option<f64>,
    avg_power_w: Option<f64>,
    max_power_w: Option<f64>,
    calories_kcal: Option<f64>,
}

impl LapBuild {
    fn to_lap(&self) -> Option<Lap> {
        Some(Lap {
            start_ms: self.start_ms?,
            elapsed_s: None,
            timer_s: self.timer_s,
            distance_m: self.distance_m,
            ascent_m: None,
            descent_m: None,
            avg_speed_ms: self.avg_speed_ms,
            max_speed_ms: self.max_speed_ms,
            avg_hr_bpm: self.avg_hr_bpm,
            max_hr_bpm: self.max_hr_bpm,
            avg_power_w: self.avg_power_w,
            max_power_w: self.max_power_w,
            avg_cadence_rpm: self.cadence_rpm.or(self.run_cadence_rpm),
        })
    }
}

#[derive(Default)]
struct State {
    depth: u32,
    n_activities: u32,
    n_courses: u32,
    /// Depth of the first `<Activity>` while it is open.
    act_depth: Option<u32>,
    lap_depth: Option<u32>,
    tp_depth: Option<u32>,
    creator_depth: Option<u32>,
    author_depth: Option<u32>,
    root_depth: Option<u32>,
    hr_ctx: Option<(HrCtx, u32)>,
    leaf: Option<(Leaf, u32)>,
    text: TextBuf,

    sport_attr: Option<String>,
    notes: Option<String>,
    creator_name: Option<String>,
    author_name: Option<String>,

    lap: LapBuild,
    laps: Vec<LapBuild>,

    cur: Sample,
    cur_has_time: bool,
    cur_offset_s: i32,
    cur_run_cadence: Option<u16>,
    samples: Vec<Sample>,
    first_offset_s: Option<i32>,
    n_trackpoints: usize,
    n_untimed: usize,
    n_bogus: usize,
}

impl State {
    fn start(&mut self, e: &BytesStart<'_>) {
        self.depth += 1;
        let d = self.depth;
        let qname = e.name();
        let name = local(qname.as_ref());

        if self.act_depth.is_none() {
            if self.root_depth.is_none() && is(name, b"trainingcenterdatabase") {
                self.root_depth = Some(d);
            } else if is(name, b"activity") {
                self.n_activities += 1;
                if self.n_activities == 1 {
                    self.act_depth = Some(d);
                    self.sport_attr = xml::attr_text(e, b"sport");
                }
            } else if is(name, b"course") {
                self.n_courses += 1;
            } else if self.root_depth.is_some_and(|r| r + 1 == d) && is(name, b"author") {
                self.author_depth = Some(d);
            } else if self.author_depth.is_some_and(|a| a + 1 == d) && is(name, b"name") {
                self.set_leaf(Leaf::AuthorName, d);
            }
            return;
        }

        if self.tp_depth.is_some() {
            let leaf = match name.len() {
                4 if is(name, b"time") => Some(Leaf::TpTime),
                5 if is(name, b"speed") => Some(Leaf::TpSpeed),
                5 if is(name, b"watts") => Some(Leaf::TpWatts),
                5 if is(name, b"value") => match self.hr_ctx {
                    Some((HrCtx::Point, _)) => Some(Leaf::TpHr),
                    _ => None,
                },
                7 if is(name, b"cadence") => Some(Leaf::TpCad),
                10 if is(name, b"runcadence") => Some(Leaf::TpRunCad),
                12 if is(name, b"heartratebpm") => {
                    self.hr_ctx = Some((HrCtx::Point, d));
                    None
                }
                14 if is(name, b"altitudemeters") => Some(Leaf::TpAlt),
                14 if is(name, b"distancemeters") => Some(Leaf::TpDist),
                15 if is(name, b"latitudedegrees") => Some(Leaf::TpLat),
                16 if is(name, b"longitudedegrees") => Some(Leaf::TpLon),
                _ => None,
            };
            if let Some(l) = leaf {
                self.set_leaf(l, d);
            }
            return;
        }

        if let Some(ld) = self.lap_depth {
            let direct = ld + 1 == d;
            let leaf = if is(name, b"trackpoint") {
                self.n_trackpoints += 1;
                self.tp_depth = Some(d);
                self.cur = Sample::default();
                self.cur_has_time = false;
                self.cur_run_cadence = None;
                None
            } else if direct && is(name, b"totaltimeseconds") {
                Some(Leaf::LapTime)
            } else if direct && is(name, b"distancemeters") {
                Some(Leaf::LapDist)
            } else if direct && is(name, b"maximumspeed") {
                Some(Leaf::LapMaxSpeed)
            } else if direct && is(name, b"calories") {
                Some(Leaf::LapCalories)
            } else if direct && is(name, b"cadence") {
                Some(Leaf::LapCad)
            } else if direct && is(name, b"averageheartratebpm") {
                self.hr_ctx = Some((HrCtx::LapAvg, d));
                None
            } else if direct && is(name, b"maximumheartratebpm") {
                self.hr_ctx = Some((HrCtx::LapMax, d));
                None
            } else if is(name, b"value") {
                match self.hr_ctx {
                    Some((HrCtx::LapAvg, _)) => Some(Leaf::LapAvgHr),
                    Some((HrCtx::LapMax, _)) => Some(Leaf::LapMaxHr),
                    _ => None,
                }
            } else if is(name, b"avgspeed") {
                Some(Leaf::LapAvgSpeed)
            } else if is(name, b"avgwatts") {
                Some(Leaf::LapAvgWatts)
            } else if is(name, b"maxwatts") {
                Some(Leaf::LapMaxWatts)
            } else if is(name, b"avgruncadence") {
                Some(Leaf::LapAvgRunCad)
            } else {
                None
            };
            if let Some(l) = leaf {
                self.set_leaf(l, d);
            }
            return;
        }

        let under_activity = self.act_depth.is_some_and(|a| a + 1 == d);
        if under_activity && is(name, b"lap") {
            self.lap_depth = Some(d);
            self.lap = LapBuild {
                start_ms: xml::attr(e, b"starttime")
                    .and_then(|v| xml::parse_timestamp(&v))
                    .map(|(ms, _)| ms),
                ..LapBuild::default()
            };
        } else if under_activity && is(name, b"notes") {
            self.set_leaf(Leaf::Notes, d);
        } else if under_activity && is(name, b"creator") {
            self.creator_depth = Some(d);
        } else if self.creator_depth.is_some_and(|c| c + 1 == d) && is(name, b"name") {
            self.set_leaf(Leaf::CreatorName, d);
        }
    }

    fn set_leaf(&mut self, leaf: Leaf, depth: u32) {
        if leaf.is_string() {
            self.text.clear();
        }
        self.leaf = Some((leaf, depth));
    }

    fn end(&mut self) {
        let d = self.depth;
        if let Some((leaf, ld)) = self.leaf
            && ld == d
        {
            if leaf.is_string() {
                let v = self.text.take();
                let slot = match leaf {
                    Leaf::Notes => &mut self.notes,
                    Leaf::CreatorName => &mut self.creator_name,
                    _ => &mut self.author_name,
                };
                if slot.is_none() {
                    *slot = v;
                }
            }
            self.leaf = None;
        }
        if self.hr_ctx.is_some_and(|(_, hd)| hd == d) {
            self.hr_ctx = None;
        }
        if self.tp_depth == Some(d) {
            self.finish_point();
            self.tp_depth = None;
        } else if self.lap_depth == Some(d) {
            self.laps.push(std::mem::take(&mut self.lap));
            self.lap_depth = None;
        } else if self.creator_depth == Some(d) {
            self.creator_depth = None;
        } else if self.author_depth == Some(d) {
            self.author_depth = None;
        } else if self.act_depth == Some(d) {
            self.act_depth = None;
        } else if self.root_depth == Some(d) {
            self.root_depth = None;
        }
        self.depth = d.saturating_sub(1);
    }

    fn finish_point(&mut self) {
        if !self.cur_has_time {
            self.n_untimed += 1;
            return;
        }
        if self.cur.ts_ms < xml::EARLIEST_TRUSTED_MS {
            self.n_bogus += 1;
            return;
        }
        if self.first_offset_s.is_none() {
            self.first_offset_s = Some(self.cur_offset_s);
        }
        if self.lap.start_ms.is_none() && self.lap_depth.is_some() {
            // A lap without a StartTime attribute starts at its first point.
            self.lap.start_ms = Some(self.cur.ts_ms);
        }
        if self.cur.cadence_rpm.is_none() {
            self.cur.cadence_rpm = self.cur_run_cadence;
        }
        if self.cur.lat_deg.is_none() || self.cur.lon_deg.is_none() {
            self.cur.lat_deg = None;
            self.cur.lon_deg = None;
        }
        self.samples.push(std::mem::take(&mut self.cur));
    }

    fn text(&mut self, t: &[u8]) {
        let Some((leaf, _)) = self.leaf else { return };
        let c = &mut self.cur;
        let l = &mut self.lap;
        fn set<T>(slot: &mut Option<T>, v: Option<T>) {
            if slot.is_none() {
                *slot = v;
            }
        }
        let nonneg = |t: &[u8]| xml::parse_f64(t).filter(|v| *v >= 0.0);
        match leaf {
            Leaf::TpTime => {
                if !self.cur_has_time
                    && let Some((ms, off)) = xml::parse_timestamp(t)
                {
                    c.ts_ms = ms;
                    self.cur_offset_s = off;
                    self.cur_has_time = true;
                }
            }
            Leaf::TpLat => set(&mut c.lat_deg, xml::parse_lat(t)),
            Leaf::TpLon => set(&mut c.lon_deg, xml::parse_lon(t)),
            Leaf::TpAlt => set(&mut c.ele_m, xml::parse_f64(t)),
            Leaf::TpDist => set(&mut c.distance_m, nonneg(t)),
            Leaf::TpHr => set(&mut c.hr_bpm, xml::parse_u16(t)),
            Leaf::TpCad => set(&mut c.cadence_rpm, xml::parse_u16(t)),
            Leaf::TpRunCad => set(&mut self.cur_run_cadence, xml::parse_u16(t)),
            Leaf::TpSpeed => set(&mut c.speed_ms, nonneg(t)),
            Leaf::TpWatts => set(&mut c.power_w, xml::parse_u16(t)),
            Leaf::LapTime => set(&mut l.timer_s, nonneg(t)),
            Leaf::LapDist => set(&mut l.distance_m, nonneg(t)),
            Leaf::LapMaxSpeed => set(&mut l.max_speed_ms, nonneg(t)),
            Leaf::LapCalories => set(&mut l.calories_kcal, nonneg(t)),
            Leaf::LapAvgHr => set(&mut l.avg_hr_bpm, nonneg(t)),
            Leaf::LapMaxHr => set(&mut l.max_hr_bpm, nonneg(t)),
            Leaf::LapCad => set(&mut l.cadence_rpm, nonneg(t)),
            Leaf::LapAvgRunCad => set(&mut l.run_cadence_rpm, nonneg(t)),
            Leaf::LapAvgSpeed => set(&mut l.avg_speed_ms, nonneg(t)),
            Leaf::LapAvgWatts => set(&mut l.avg_power_w, nonneg(t)),
            Leaf::LapMaxWatts => set(&mut l.max_power_w, nonneg(t)),
            Leaf::Notes | Leaf::CreatorName | Leaf::AuthorName => self.text.push_raw(t),
        }
    }

    fn in_string_leaf(&self) -> bool {
        self.leaf.is_some_and(|(l, _)| l.is_string())
    }

    fn into_activity(self) -> Result<Activity, ParseError> {
        if self.n_activities == 0 {
            return Err(if self.n_courses > 0 {
                ParseError::NotAnActivity("TCX course".into())
            } else {
                ParseError::NoTrackPoints
            });
        }
        let laps: Vec<Lap> = self.laps.iter().filter_map(LapBuild::to_lap).collect();
        if self.samples.is_empty() {
            if self.n_bogus > 0 {
                return Err(ParseError::Invalid(
                    "timestamps are before 1990 (device clock not set?)".into(),
                ));
            }
            if laps.is_empty() {
                return Err(ParseError::NoTrackPoints);
            }
        }
        let mut a = Activity::empty(Format::Tcx);
        if self.n_activities > 1 {
            a.warnings.push(format!(
                "file holds {} activities; only the first was read",
                self.n_activities
            ));
        }
        if self.n_untimed > 0 {
            a.warnings.push(format!(
                "{} of {} trackpoints have no time and were skipped",
                self.n_untimed, self.n_trackpoints
            ));
        }
        if self.n_bogus > 0 {
            a.warnings.push(format!(
                "{} trackpoints stamped before 1990 were skipped (device clock not set?)",
                self.n_bogus
            ));
        }
        if let Some(s) = self.sport_attr.as_deref() {
            a.sport = normalise_sport(s);
            a.sub_sport = normalise_sub_sport(s);
        }
        a.description = self.notes;
        if let Some(name) = self.creator_name.as_deref() {
            a.device = xml::device_from_creator(name).or_else(|| Some(name.to_owned()));
        }
        a.source = self
            .author_name
            .as_deref()
            .and_then(xml::source_from_creator)
            .or_else(|| self.creator_name.as_deref().and_then(xml::source_from_creator))
            .map(str::to_owned);
        a.altitude_source = xml::altitude_source_for_device(a.device.as_deref());
        a.totals = lap_totals(&self.laps);
        a.utc_offset_s = self.first_offset_s.filter(|&o| o != 0);
        if self.samples.is_empty() {
            a.warnings.push("no timed trackpoints: only the lap totals were read".into());
            a.start_ms = laps.iter().map(|l| l.start_ms).min().unwrap_or(0);
        }
        a.laps = laps;
        a.samples = self.samples;
        a.normalise_time_order();
        Ok(a)
    }
}

/// Time-weighted mean of `value` over laps, weighted by timer time (plain mean when no lap
/// has a timer time).
fn weighted(laps: &[LapBuild], value: impl Fn(&LapBuild) -> Option<f64>) -> Option<f64> {
    let with: Vec<(f64, f64)> =
        laps.iter().filter_map(|l| value(l).map(|v| (v, l.timer_s.unwrap_or(0.0)))).collect();
    if with.is_empty() {
        return None;
    }
    let w: f64 = with.iter().map(|(_, w)| w).sum();
    if w > 0.0 {
        Some(with.iter().map(|(v, w)| v * w).sum::<f64>() / w)
    } else {
        Some(with.iter().map(|(v, _)| v).sum::<f64>() / with.len() as f64)
    }
}

fn sum(laps: &[LapBuild], value: impl Fn(&LapBuild) -> Option<f64>) -> Option<f64> {
    laps.iter().filter_map(value).fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

fn max(laps: &[LapBuild], value: impl Fn(&LapBuild) -> Option<f64>) -> Option<f64> {
    laps.iter()
        .filter_map(value)
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))))
}

/// The device totals of a TCX activity: its laps summed.
fn lap_totals(laps: &[LapBuild]) -> Option<DeviceTotals> {
    if laps.is_empty() {
        return None;
    }
    let distance_m = sum(laps, |l| l.distance_m);
    let timer_s = sum(laps, |l| l.timer_s);
    let avg_speed_ms = match (distance_m, timer_s) {
        (Some(d), Some(t)) if t > 0.0 => Some(d / t),
        _ => None,
    };
    Some(DeviceTotals {
        distance_m,
        elapsed_s: None,
        timer_s,
        ascent_m: None,
        descent_m: None,
        avg_hr_bpm: weighted(laps, |l| l.avg_hr_bpm),
        max_hr_bpm: max(laps, |l| l.max_hr_bpm),
        avg_power_w: weighted(laps, |l| l.avg_power_w),
        max_power_w: max(laps, |l| l.max_power_w),
        avg_cadence_rpm: weighted(laps, |l| l.cadence_rpm.or(l.run_cadence_rpm)),
        max_speed_ms: max(laps, |l| l.max_speed_ms),
        avg_speed_ms,
        // `Calories` is a required lap element: writers that do not estimate energy put
        // 0 there, which means "not recorded", not a ride that burnt nothing.
        calories_kcal: sum(laps, |l| l.calories_kcal).filter(|k| *k > 0.0),
    })
}

impl xml::XmlSink for State {
    fn start(&mut self, e: &BytesStart<'_>) {
        State::start(self, e);
    }
    fn end(&mut self) {
        State::end(self);
    }
    fn text(&mut self, t: &[u8]) {
        State::text(self, t);
    }
    fn push_ref(&mut self, r: &BytesRef<'_>) {
        self.text.push_ref(r);
    }
    fn in_string_leaf(&self) -> bool {
        State::in_string_leaf(self)
    }
    fn has_points(&self) -> bool {
        !self.samples.is_empty()
    }
}

/// Parse decompressed TCX bytes.
pub fn parse(bytes: &[u8]) -> Result<Activity, ParseError> {
    let (mut st, truncated) = xml::drive(bytes, || {
        let mut st = State::default();
        // A TCX trackpoint takes ~300 bytes; reserve without trusting huge inputs.
        st.samples.reserve((bytes.len() / 300).min(1 << 20));
        st
    })?;
    // A file cut inside a lap (damaged, or a quick-xml error) keeps that lap's totals.
    if st.lap_depth.is_some() {
        st.laps.push(std::mem::take(&mut st.lap));
    }
    let mut a = st.into_activity()?;
    if let Some(w) = truncated {
        a.warnings.push(w);
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::xml::samples::{manifest, read_sample, span_s};
    use bincio_bas::{AltitudeSource, Sport};
    use proptest::prelude::*;

    /// Every TCX in `devices/`: points, span, laps and lap-summed totals against MANIFEST.tsv.
    #[test]
    fn device_samples_match_manifest() {
        let rows = manifest();
        let mut seen = 0;
        for row in rows.iter().filter(|r| r.format == "tcx") {
            seen += 1;
            let f = &row.file;
            let bytes = read_sample(&format!("devices/{f}"));
            let a = parse(&bytes).unwrap_or_else(|e| panic!("{f}: {e}"));
            // MANIFEST counts every trackpoint; of equal timestamps only the first is kept
            // (docs/decisions.md E1): the running file repeats two of its 1254 times.
            let text = String::from_utf8_lossy(&bytes);
            let times: Vec<&str> =
                text.split("<Time>").skip(1).filter_map(|s| s.split("</Time>").next()).collect();
            let distinct: std::collections::HashSet<&str> = times.iter().copied().collect();
            assert_eq!(Some(times.len()), row.n_points, "{f}");
            assert_eq!(a.samples.len(), distinct.len(), "{f}");
            assert_eq!(span_s(&a), row.span_s.expect("span"), "{f}");
            assert_eq!(Some(a.laps.len()), row.n_laps, "{f}");
            let t = a.totals.as_ref().expect("lap totals");
            let want = row.distance_m.expect("distance");
            let got = t.distance_m.expect("distance");
            assert!((got - want).abs() <= want * 0.001, "{f}: distance {got} vs {want}");
            let lap_sum: f64 = a.laps.iter().filter_map(|l| l.distance_m).sum();
            assert!((lap_sum - got).abs() < 1e-9, "{f}");
            let want_timer = row.timer_s.expect("timer");
            assert!((t.timer_s.expect("timer") - want_timer).abs() < 0.01, "{f}");
            match (row.avg_hr, row.max_hr) {
                (Some(avg), Some(max)) => {
                    let got = t.avg_hr_bpm.expect("avg hr");
                    assert!((got - avg).abs() < 0.05, "{f}: avg hr {got} vs {avg}");
                    assert_eq!(t.max_hr_bpm, Some(max), "{f}");
                }
                _ => assert_eq!((t.avg_hr_bpm, t.max_hr_bpm), (None, None), "{f}"),
            }
            assert_eq!(a.source.as_deref(), Some("garmin_connect"), "{f}: Author 'Connect Api'");
            assert_eq!(a.name, None, "{f}: <Id> is not a title");
        }
        assert_eq!(seen, 4, "four TCX samples in devices/");
    }

    #[test]
    fn https_namespace_running_file() {
        let a = parse(&read_sample("devices/tcxtest__running_activity_1-https-ns.tcx"))
            .expect("parses");
        assert_eq!(a.sport, Sport::Running);
        assert_eq!(a.device.as_deref(), Some("Garmin Forerunner 910XT"));
        assert_eq!(a.altitude_source, AltitudeSource::Barometric);
        assert_eq!(a.start_ms, 1_419_588_039_000); // 2014-12-26T10:00:39Z
        let first = &a.samples[0];
        assert_eq!(first.latlon(), Some((46.09344659373164, 14.678033776581287)));
        assert_eq!(first.ele_m, Some(279.0));
        assert!(a.samples.iter().filter(|s| s.hr_bpm.is_some()).count() > 1000);
        assert_eq!(a.laps[0].timer_s, Some(201.0));
        assert_eq!(a.laps[0].distance_m, Some(1000.0));
        assert_eq!(a.laps[0].avg_hr_bpm, Some(167.0));
        assert_eq!(a.laps[0].max_hr_bpm, Some(179.0));
        assert!(a.laps.iter().any(|l| l.avg_speed_ms.is_some()), "LX AvgSpeed");
        assert_eq!(a.totals.as_ref().and_then(|t| t.max_speed_ms), Some(6.247000217437744));
    }

    #[test]
    fn pool_swim_without_positions() {
        let a = parse(&read_sample("devices/tcxtest__pool_swim-activity_1.tcx")).expect("parses");
        assert!(a.samples.iter().all(|s| s.latlon().is_none()));
        assert_eq!(a.samples[1].speed_ms, Some(1.2699999809265137));
        assert_eq!(a.samples[1].distance_m, Some(50.0));
        assert_eq!(a.sport, Sport::Other);
        assert_eq!(a.device.as_deref(), Some("Garmin vívoactive HR"));
        assert_eq!(a.totals.and_then(|t| t.calories_kcal), Some(329.0));
    }

    const HANDWRITTEN: &str = "\u{feff}  \n<?xml version=\"1.0\"?>
<tcx:TrainingCenterDatabase xmlns:tcx=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\"
  xmlns:ax=\"https://www.garmin.com/xmlschemas/ActivityExtension/v2\">
 <tcx:Activities><tcx:Activity Sport=\"Biking\"><tcx:Id>2024-06-01T07:00:00Z</tcx:Id>
  <tcx:Lap StartTime=\"2024-06-01T07:00:00\">
   <tcx:TotalTimeSeconds>100</tcx:TotalTimeSeconds><tcx:DistanceMeters>1000</tcx:DistanceMeters><tcx:Calories>25</tcx:Calories>
   <tcx:AverageHeartRateBpm><tcx:Value>120</tcx:Value></tcx:AverageHeartRateBpm>
   <tcx:MaximumHeartRateBpm><tcx:Value>150</tcx:Value></tcx:MaximumHeartRateBpm>
   <tcx:Cadence>80</tcx:Cadence>
   <tcx:Track>
    <tcx:Trackpoint><tcx:Time>2024-06-01T07:00:00</tcx:Time>
     <tcx:HeartRateBpm><tcx:Value>110</tcx:Value></tcx:HeartRateBpm>
     <tcx:Extensions><ax:TPX><ax:Speed>5.5</ax:Speed><ax:Watts>200</ax:Watts><ax:RunCadence>85</ax:RunCadence></ax:TPX></tcx:Extensions>
    </tcx:Trackpoint>
    <tcx:Trackpoint><tcx:Time>2024-06-01T07:00:05</tcx:Time><tcx:Cadence>81</tcx:Cadence></tcx:Trackpoint>
   </tcx:Track>
   <tcx:Extensions><ax:LX><ax:AvgSpeed>10</ax:AvgSpeed><ax:AvgWatts>210</ax:AvgWatts><ax:MaxWatts>400</ax:MaxWatts></ax:LX></tcx:Extensions>
  </tcx:Lap>
  <tcx:Lap StartTime=\"2024-06-01T07:01:40Z\">
   <tcx:TotalTimeSeconds>300</tcx:TotalTimeSeconds><tcx:DistanceMeters>2000</tcx:DistanceMeters><tcx:Calories>71</tcx:Calories>
   <tcx:AverageHeartRateBpm><tcx:Value>140</tcx:Value></tcx:AverageHeartRateBpm>
   <tcx:MaximumHeartRateBpm><tcx:Value>170</tcx:Value></tcx:MaximumHeartRateBpm>
   <tcx:Track><tcx:Trackpoint><tcx:Time>2024-06-01T07:01:40Z</tcx:Time></tcx:Trackpoint></tcx:Track>
  </tcx:Lap>
  <tcx:Notes>Felt good</tcx:Notes>
  <tcx:Creator><tcx:Name>Garmin Edge 530</tcx:Name></tcx:Creator>
 </tcx:Activity>
 <tcx:Activity Sport=\"Running\"><tcx:Lap StartTime=\"2024-06-02T07:00:00Z\"/></tcx:Activity>
 </tcx:Activities>
</tcx:TrainingCenterDatabase>";

    #[test]
    fn handwritten_laps_totals_and_extensions() {
        let a = parse(HANDWRITTEN.as_bytes()).expect("parses");
        assert_eq!(a.sport, Sport::Cycling);
        assert_eq!(a.samples.len(), 3);
        assert_eq!(a.start_ms, 1_717_225_200_000, "no zone is UTC");
        let s0 = &a.samples[0];
        assert_eq!(
            (s0.hr_bpm, s0.speed_ms, s0.power_w, s0.cadence_rpm),
            (Some(110), Some(5.5), Some(200), Some(85))
        );
        assert_eq!(a.samples[1].cadence_rpm, Some(81));
        assert_eq!(a.laps.len(), 2, "laps of the first activity only");
        assert_eq!(a.laps[0].avg_power_w, Some(210.0));
        assert_eq!(a.laps[0].max_power_w, Some(400.0));
        assert_eq!(a.laps[0].avg_speed_ms, Some(10.0));
        assert_eq!(a.laps[0].avg_cadence_rpm, Some(80.0));
        let t = a.totals.expect("totals");
        assert_eq!(t.distance_m, Some(3000.0));
        assert_eq!(t.timer_s, Some(400.0));
        assert_eq!(t.avg_hr_bpm, Some((120.0 * 100.0 + 140.0 * 300.0) / 400.0));
        assert_eq!(t.max_hr_bpm, Some(170.0));
        assert_eq!(t.max_power_w, Some(400.0));
        assert_eq!(t.calories_kcal, Some(96.0), "the laps' Calories summed");
        assert_eq!(a.name, None);
        assert_eq!(a.description.as_deref(), Some("Felt good"));
        assert_eq!(a.device.as_deref(), Some("Garmin Edge 530"));
        assert!(a.warnings.iter().any(|w| w.contains("2 activities")), "{:?}", a.warnings);
    }

    #[test]
    fn courses_and_empty_files() {
        let course = br#"<TrainingCenterDatabase><Courses><Course><Name>Loop</Name><Track><Trackpoint><Time>2024-01-01T00:00:00Z</Time></Trackpoint></Track></Course></Courses></TrainingCenterDatabase>"#;
        assert_eq!(parse(course), Err(ParseError::NotAnActivity("TCX course".into())));
        assert_eq!(parse(b"<TrainingCenterDatabase/>"), Err(ParseError::NoTrackPoints));
        let bogus = br#"<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap><Track><Trackpoint><Time>1989-12-31T23:59:59Z</Time></Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>"#;
        assert!(matches!(parse(bogus), Err(ParseError::Invalid(m)) if m.contains("1990")));
        let manual = br#"<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2024-01-01T10:00:00Z"><TotalTimeSeconds>600</TotalTimeSeconds><DistanceMeters>2000</DistanceMeters></Lap></Activity></Activities></TrainingCenterDatabase>"#;
        let a = parse(manual).expect("lap-only activity");
        assert!(a.samples.is_empty());
        assert_eq!(a.start_ms, 1_704_103_200_000);
        assert_eq!(a.totals.as_ref().and_then(|t| t.distance_m), Some(2000.0));
        assert_eq!(a.totals.and_then(|t| t.calories_kcal), None, "no Calories element");
        // Writers without an energy estimate fill the required element with 0.
        let zero = br#"<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2024-01-01T10:00:00Z"><TotalTimeSeconds>600</TotalTimeSeconds><Calories>0</Calories></Lap></Activity></Activities></TrainingCenterDatabase>"#;
        assert_eq!(parse(zero).expect("lap-only").totals.and_then(|t| t.calories_kcal), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Mutated real files (truncated, bytes flipped, bytes inserted) never panic.
        #[test]
        fn tcx_parser_never_panics(
            which in 0usize..2,
            cut in 0.0f64..1.0,
            flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
            insert_at in 0.0f64..1.0,
            insert in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let files = [
                "devices/tcxtest__pool_swim-activity_1.tcx",
                "devices/tcxtest__sup_activity_2.tcx",
            ];
            let mut bytes = read_sample(files[which]);
            for (pos, b) in flips {
                let i = ((bytes.len() as f64) * pos) as usize;
                if let Some(x) = bytes.get_mut(i) { *x ^= b; }
            }
            let at = ((bytes.len() as f64) * insert_at) as usize;
            bytes.splice(at..at, insert);
            bytes.truncate(((bytes.len() as f64) * cut) as usize + 1);
            let _ = parse(&bytes);
        }
    }
}
