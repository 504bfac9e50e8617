//! Sport-appropriate units, in the instance's unit system, with a hook for the visitor's own.
//!
//! Pages are pre-rendered in the instance's units (`units` in `bincio.toml`). A visitor may
//! prefer the other system (stored in the browser, `themes/default/static/js/units.js`), so
//! every converted figure also carries its quantity and its SI value as attributes
//! (`data-q="speed" data-si="27.4"`) and the script rewrites the text with the same rules
//! as [`format`]. Without JavaScript the instance's choice stands.
//!
//! Which quantity a sport uses lives here once: pace per km or mile for running and
//! walking, pace per 100 m (or 100 yd) for swimming, speed otherwise; cadence in steps/min
//! for running and walking (FIT and TCX store strides per minute, one foot), strokes/min for
//! swimming, rpm otherwise.

use bincio_bas::Sport;
use bincio_bas::config::Units;
use serde::Serialize;

/// A quantity the visitor's unit preference converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Q {
    /// Metres → km / mi.
    Distance,
    /// Metres → m / ft.
    Elevation,
    /// km/h → km/h / mph.
    Speed,
    /// km/h → min/km / min/mi.
    Pace,
    /// km/h → min/100 m / min/100 yd.
    Pace100,
}

impl Q {
    pub fn as_str(self) -> &'static str {
        match self {
            Q::Distance => "distance",
            Q::Elevation => "elevation",
            Q::Speed => "speed",
            Q::Pace => "pace",
            Q::Pace100 => "pace100",
        }
    }
}

const M_PER_MI: f64 = 1609.344;
const M_PER_FT: f64 = 0.3048;
const M_PER_YD: f64 = 0.9144;

fn clock(s: f64) -> String {
    let s = s.round() as i64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// `si` (metres or km/h) written in `units`. Mirrors `fmt()` of `units.js`.
pub fn format(q: Q, si: f64, units: Units) -> String {
    let imp = units == Units::Imperial;
    match q {
        Q::Distance => {
            let (v, u) = if imp { (si / M_PER_MI, "mi") } else { (si / 1000.0, "km") };
            if v < 10.0 { format!("{v:.2} {u}") } else { format!("{v:.1} {u}") }
        }
        Q::Elevation => {
            let (v, u) = if imp { (si / M_PER_FT, "ft") } else { (si, "m") };
            format!("{} {u}", v.round())
        }
        Q::Speed => {
            let (v, u) = if imp { (si * 1000.0 / M_PER_MI, "mph") } else { (si, "km/h") };
            format!("{v:.1} {u}")
        }
        Q::Pace | Q::Pace100 => {
            if si <= 0.5 || !si.is_finite() {
                return "—".to_owned();
            }
            let m_per_s = si / 3.6;
            let (len, u) = match (q, imp) {
                (Q::Pace, false) => (1000.0, "/km"),
                (Q::Pace, true) => (M_PER_MI, "/mi"),
                (_, false) => (100.0, "/100 m"),
                (_, true) => (100.0 * M_PER_YD, "/100 yd"),
            };
            format!("{} {u}", clock(len / m_per_s))
        }
    }
}

/// A figure with its unit: the text, and what the visitor's preference needs to rewrite it.
#[derive(Clone, Debug, Serialize)]
pub struct Fig {
    pub text: String,
    pub q: Option<&'static str>,
    pub si: Option<f64>,
}

impl Fig {
    /// A figure no unit preference changes ("152 bpm").
    pub fn plain(text: String) -> Self {
        Self { text, q: None, si: None }
    }

    /// A converted figure.
    pub fn of(q: Q, si: f64, units: Units) -> Self {
        Self {
            text: format(q, si, units),
            q: Some(q.as_str()),
            si: Some((si * 1000.0).round() / 1000.0),
        }
    }
}

/// The speed quantity of a sport: pace, pace per 100, or speed.
pub fn speed_q(sport: Sport) -> Q {
    match sport {
        Sport::Running | Sport::Walking => Q::Pace,
        Sport::Swimming => Q::Pace100,
        _ => Q::Speed,
    }
}

/// "Avg pace" / "Avg speed" and "Best pace" / "Max speed" for a sport.
pub fn speed_labels(sport: Sport) -> (&'static str, &'static str) {
    match speed_q(sport) {
        Q::Speed => ("Avg speed", "Max speed"),
        _ => ("Avg pace", "Best pace"),
    }
}

/// Cadence as the sport counts it: `(value, unit)`. The stored value is per crank turn,
/// stride or stroke; runners count steps, two per stride.
pub fn cadence(sport: Sport, stored: f64) -> (f64, &'static str) {
    match sport {
        Sport::Running | Sport::Walking | Sport::Hiking => (stored * 2.0, "spm"),
        Sport::Swimming => (stored, "strokes/min"),
        _ => (stored, "rpm"),
    }
}

/// "172 spm", "88 rpm".
pub fn cadence_text(sport: Sport, stored: f64) -> String {
    let (v, u) = cadence(sport, stored);
    format!("{} {u}", v.round())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sport_reads_in_its_own_units() {
        let m = Units::Metric;
        let i = Units::Imperial;
        assert_eq!(format(speed_q(Sport::Cycling), 30.0, m), "30.0 km/h");
        assert_eq!(format(speed_q(Sport::Cycling), 30.0, i), "18.6 mph");
        assert_eq!(format(speed_q(Sport::Running), 12.0, m), "5:00 /km");
        assert_eq!(format(speed_q(Sport::Running), 12.0, i), "8:03 /mi");
        // 1500 m in 25 min: 1:40 per 100 m, 1:31 per 100 yd.
        assert_eq!(format(speed_q(Sport::Swimming), 3.6, m), "1:40 /100 m");
        assert_eq!(format(speed_q(Sport::Swimming), 3.6, i), "1:31 /100 yd");
        assert_eq!(format(Q::Distance, 42195.0, m), "42.2 km");
        assert_eq!(format(Q::Distance, 42195.0, i), "26.2 mi");
        assert_eq!(format(Q::Elevation, 300.0, i), "984 ft");
        assert_eq!(cadence_text(Sport::Running, 86.0), "172 spm");
        assert_eq!(cadence_text(Sport::Cycling, 86.0), "86 rpm");
        assert_eq!(cadence_text(Sport::Swimming, 30.0), "30 strokes/min");
    }
}
