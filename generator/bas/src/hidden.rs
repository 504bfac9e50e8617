//! Hidden stats (`hide_stats` in a sidecar): which published fields each one covers.
//!
//! Hiding a stat means it is not published at all, not merely left off the activity page:
//! the generator applies [`HiddenStats`] to every artefact it publishes (summary cards, year
//! shards, feeds, the merged detail, timeseries, GeoJSON) and builds the athlete's records,
//! best climbs and power curve from the filtered summaries, so a hidden stat cannot come
//! back through them. The daemon validates `hide_stats` values against [`HiddenStat::ALL`].
//! The table of what each stat covers is in `docs/site.md` ("Hidden stats").

use crate::bas::{Detail, Lap, Leg, Summary, Timeseries, TrackFeature};

/// A stat panel a user can hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HiddenStat {
    Elevation,
    Speed,
    HeartRate,
    Cadence,
    Power,
}

impl HiddenStat {
    /// Every stat, in the editor's order.
    pub const ALL: [HiddenStat; 5] = [
        HiddenStat::Elevation,
        HiddenStat::Speed,
        HiddenStat::HeartRate,
        HiddenStat::Cadence,
        HiddenStat::Power,
    ];

    /// The name used in sidecars and `custom.hide_stats`.
    pub fn as_str(self) -> &'static str {
        match self {
            HiddenStat::Elevation => "elevation",
            HiddenStat::Speed => "speed",
            HiddenStat::HeartRate => "heart_rate",
            HiddenStat::Cadence => "cadence",
            HiddenStat::Power => "power",
        }
    }

    /// Parse an exact name.
    pub fn from_name(name: &str) -> Option<HiddenStat> {
        HiddenStat::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of hidden stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HiddenStats(u8);

impl HiddenStats {
    /// Nothing hidden.
    pub const NONE: HiddenStats = HiddenStats(0);

    /// The known names among `names` (unknown ones are ignored: a sidecar may carry a
    /// panel name a newer editor added).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> HiddenStats {
        let mut set = HiddenStats::NONE;
        for n in names {
            if let Some(s) = HiddenStat::from_name(n.trim()) {
                set.insert(s);
            }
        }
        set
    }

    /// The set `custom.hide_stats` of a merged detail or summary names.
    pub fn from_custom(custom: Option<&serde_json::Map<String, serde_json::Value>>) -> Self {
        let names = custom
            .and_then(|c| c.get("hide_stats"))
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        HiddenStats::from_names(names)
    }

    pub fn insert(&mut self, s: HiddenStat) {
        self.0 |= s.bit();
    }

    pub fn contains(self, s: HiddenStat) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    pub fn union(self, other: HiddenStats) -> HiddenStats {
        HiddenStats(self.0 | other.0)
    }

    /// The names, in [`HiddenStat::ALL`] order.
    pub fn names(self) -> Vec<&'static str> {
        HiddenStat::ALL.into_iter().filter(|s| self.contains(*s)).map(HiddenStat::as_str).collect()
    }

    fn iter(self) -> impl Iterator<Item = HiddenStat> {
        HiddenStat::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Null the hidden fields of a feed card.
    pub fn apply_summary(self, s: &mut Summary) {
        for stat in self.iter() {
            match stat {
                HiddenStat::Elevation => {
                    s.elevation_gain_m = None;
                    s.best_climb_m = None;
                }
                HiddenStat::Speed => {
                    s.avg_speed_kmh = None;
                    s.max_speed_kmh = None;
                    // Best efforts are times over distances: speeds by another name.
                    s.best_efforts = None;
                }
                HiddenStat::HeartRate => {
                    s.avg_hr_bpm = None;
                    s.max_hr_bpm = None;
                }
                HiddenStat::Cadence => s.avg_cadence_rpm = None,
                HiddenStat::Power => {
                    s.avg_power_w = None;
                    s.mmp = None;
                }
            }
        }
        for leg in s.legs.iter_mut().flatten() {
            self.apply_leg(leg);
        }
    }

    /// Null the hidden fields of a detail, its laps included.
    pub fn apply_detail(self, d: &mut Detail) {
        for stat in self.iter() {
            match stat {
                HiddenStat::Elevation => {
                    d.elevation_gain_m = None;
                    d.elevation_loss_m = None;
                    d.best_climb_m = None;
                }
                HiddenStat::Speed => {
                    d.avg_speed_kmh = None;
                    d.max_speed_kmh = None;
                    d.best_efforts = None;
                }
                // A device estimates calories from power (the work done) or from heart rate:
                // hiding either hides the estimate, which would otherwise give it away.
                HiddenStat::HeartRate => {
                    d.avg_hr_bpm = None;
                    d.max_hr_bpm = None;
                    d.calories_kcal = None;
                }
                HiddenStat::Cadence => d.avg_cadence_rpm = None,
                HiddenStat::Power => {
                    d.avg_power_w = None;
                    d.max_power_w = None;
                    d.mmp = None;
                    d.calories_kcal = None;
                }
            }
            // What the plausibility filter removed from a hidden channel is not published
            // either (how many samples, which device value was ignored).
            if let Some(c) = d.cleaning.as_mut() {
                c.forget(stat.as_str());
                if c.is_empty() {
                    d.cleaning = None;
                }
            }
        }
        for lap in &mut d.laps {
            self.apply_lap(lap);
        }
        for leg in &mut d.legs {
            self.apply_leg(leg);
        }
    }

    /// Null the hidden fields of a multisport leg (the same fields as the activity's).
    pub fn apply_leg(self, l: &mut Leg) {
        for stat in self.iter() {
            match stat {
                HiddenStat::Elevation => {
                    l.elevation_gain_m = None;
                    l.best_climb_m = None;
                }
                HiddenStat::Speed => {
                    l.avg_speed_kmh = None;
                    l.max_speed_kmh = None;
                    l.best_efforts = None;
                }
                HiddenStat::HeartRate => {
                    l.avg_hr_bpm = None;
                    l.max_hr_bpm = None;
                }
                HiddenStat::Cadence => l.avg_cadence_rpm = None,
                HiddenStat::Power => l.avg_power_w = None,
            }
        }
    }

    /// Null the hidden fields of a lap.
    pub fn apply_lap(self, l: &mut Lap) {
        for stat in self.iter() {
            match stat {
                HiddenStat::Elevation => l.elevation_gain_m = None,
                HiddenStat::Speed => {
                    l.avg_speed_kmh = None;
                    l.max_speed_kmh = None;
                }
                HiddenStat::HeartRate => {
                    l.avg_hr_bpm = None;
                    l.max_hr_bpm = None;
                }
                HiddenStat::Cadence => l.avg_cadence_rpm = None,
                HiddenStat::Power => {
                    l.avg_power_w = None;
                    l.max_power_w = None;
                }
            }
        }
    }

    /// Null the hidden channels of a timeseries (the arrays keep their length, so the
    /// channels still line up with `t`).
    pub fn apply_timeseries(self, ts: &mut Timeseries) {
        for stat in self.iter() {
            match stat {
                HiddenStat::Elevation => ts.elevation_m.iter_mut().for_each(|v| *v = None),
                HiddenStat::Speed => ts.speed_kmh.iter_mut().for_each(|v| *v = None),
                HiddenStat::HeartRate => ts.hr_bpm.iter_mut().for_each(|v| *v = None),
                HiddenStat::Cadence => ts.cadence_rpm.iter_mut().for_each(|v| *v = None),
                HiddenStat::Power => ts.power_w.iter_mut().for_each(|v| *v = None),
            }
        }
    }

    /// Drop what a GeoJSON track carries of hidden stats: the `ele` coordinate (elevation)
    /// and the `speeds` property (speed). Returns true when the track changed.
    pub fn apply_track(self, tr: &mut TrackFeature) -> bool {
        let mut changed = false;
        if self.contains(HiddenStat::Elevation) {
            for c in &mut tr.geometry.coordinates {
                if c.len() > 2 {
                    c.truncate(2);
                    changed = true;
                }
            }
        }
        if self.contains(HiddenStat::Speed) && !tr.properties.speeds.is_empty() {
            tr.properties.speeds.clear();
            changed = true;
        }
        changed
    }

    /// True when [`HiddenStats::apply_track`] would change a track.
    pub fn touches_track(self) -> bool {
        self.contains(HiddenStat::Elevation) || self.contains(HiddenStat::Speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_ignored() {
        let h = HiddenStats::from_names(["power", " cadence", "bogus", "power"]);
        assert_eq!(h.names(), ["cadence", "power"]);
        assert!(h.contains(HiddenStat::Power) && !h.contains(HiddenStat::Speed));
        for s in HiddenStat::ALL {
            assert_eq!(HiddenStat::from_name(s.as_str()), Some(s));
        }
    }

    #[test]
    fn power_covers_the_curve_and_the_laps() {
        let mut d = Detail {
            avg_power_w: Some(250),
            max_power_w: Some(900),
            mmp: Some(vec![]),
            avg_hr_bpm: Some(140),
            laps: vec![Lap { avg_power_w: Some(240), max_power_w: Some(800), ..Lap::default() }],
            ..Detail::default()
        };
        HiddenStats::from_names(["power"]).apply_detail(&mut d);
        assert_eq!((d.avg_power_w, d.max_power_w, d.mmp.as_ref()), (None, None, None));
        assert_eq!((d.laps[0].avg_power_w, d.laps[0].max_power_w), (None, None));
        // A multisport leg hides the same fields, also in the feed card built from it.
        let mut m = Detail {
            legs: vec![Leg {
                avg_power_w: Some(230),
                avg_hr_bpm: Some(150),
                best_efforts: Some(vec![(5.0, crate::lenient::Int(1500))]),
                ..Leg::default()
            }],
            ..Detail::default()
        };
        HiddenStats::from_names(["power", "speed"]).apply_detail(&mut m);
        assert_eq!((m.legs[0].avg_power_w, m.legs[0].best_efforts.as_ref()), (None, None));
        assert_eq!(m.legs[0].avg_hr_bpm, Some(150));
        let mut card = Detail {
            legs: vec![Leg { avg_hr_bpm: Some(150), ..Leg::default() }],
            ..Detail::default()
        }
        .summary();
        HiddenStats::from_names(["heart_rate"]).apply_summary(&mut card);
        assert_eq!(card.legs.as_ref().map(|l| l[0].avg_hr_bpm), Some(None));
        assert_eq!(d.avg_hr_bpm, Some(140));
    }

    #[test]
    fn calories_go_with_heart_rate_or_power() {
        let d = Detail { calories_kcal: Some(1234), avg_hr_bpm: Some(140), ..Detail::default() };
        for (hidden, kept) in [
            (&["cadence", "speed", "elevation"][..], Some(1234)),
            (&["heart_rate"][..], None),
            (&["power"][..], None),
        ] {
            let mut x = d.clone();
            HiddenStats::from_names(hidden.iter().copied()).apply_detail(&mut x);
            assert_eq!(x.calories_kcal, kept, "{hidden:?}");
        }
    }

    #[test]
    fn a_hidden_stat_hides_what_cleaning_removed_from_it() {
        let mut cleaning = crate::Cleaning::default();
        cleaning.count("power", 6);
        cleaning.note("power", "device max_power_w 62854 W ignored".into());
        cleaning.count("elevation", 5);
        let mut d = Detail { cleaning: Some(cleaning), ..Detail::default() };
        HiddenStats::from_names(["power"]).apply_detail(&mut d);
        let c = d.cleaning.as_ref().unwrap_or_else(|| panic!("elevation is not hidden"));
        assert_eq!(c.describe(), "elevation 5 samples");
        HiddenStats::from_names(["elevation"]).apply_detail(&mut d);
        assert_eq!(d.cleaning, None);
    }

    #[test]
    fn elevation_and_speed_strip_the_track() {
        let mut tr: TrackFeature = serde_json::from_str(
            r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[7,45,300.5],[7.1,45.1]]},"properties":{"speeds":[10.0,null]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(HiddenStats::from_names(["elevation", "speed"]).apply_track(&mut tr));
        assert_eq!(tr.geometry.coordinates, vec![vec![7.0, 45.0], vec![7.1, 45.1]]);
        assert!(tr.properties.speeds.is_empty());
    }
}
