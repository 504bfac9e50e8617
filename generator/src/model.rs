//! The one internal activity model every parser produces.
//!
//! Parsers (GPX, TCX, FIT) fill an [`Activity`]; metrics, simplification and privacy are
//! pure functions over it. Timestamps are Unix milliseconds (UTC) so sorting and
//! differences are integer operations; the local offset is kept separately.

use bincio_bas::{AltitudeSource, Sport, SubSport};

/// One recorded sample. Every channel is optional: devices record what they have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Unix time in milliseconds, UTC.
    pub ts_ms: i64,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    pub ele_m: Option<f64>,
    pub hr_bpm: Option<u16>,
    pub cadence_rpm: Option<u16>,
    pub power_w: Option<u16>,
    /// Device speed (m/s), when the file records one.
    pub speed_ms: Option<f64>,
    pub temperature_c: Option<f64>,
    /// Device cumulative distance (m), when the file records one.
    pub distance_m: Option<f64>,
}

impl Sample {
    /// Both coordinates, when the sample has a usable position.
    pub fn latlon(&self) -> Option<(f64, f64)> {
        match (self.lat_deg, self.lon_deg) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            _ => None,
        }
    }
}

/// A lap as the device summarised it (FIT `lap`, TCX `<Lap>`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lap {
    /// Unix ms, UTC.
    pub start_ms: i64,
    pub elapsed_s: Option<f64>,
    pub timer_s: Option<f64>,
    pub distance_m: Option<f64>,
    pub ascent_m: Option<f64>,
    pub descent_m: Option<f64>,
    pub avg_speed_ms: Option<f64>,
    pub max_speed_ms: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
}

/// The device's own session totals (FIT `session`, summed over sessions for multisport).
/// When present these are what the athlete saw on the head unit, so they win over
/// values recomputed from the samples for distance, ascent/descent and timer time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceTotals {
    pub distance_m: Option<f64>,
    pub elapsed_s: Option<f64>,
    pub timer_s: Option<f64>,
    pub ascent_m: Option<f64>,
    pub descent_m: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
    pub max_speed_ms: Option<f64>,
    pub avg_speed_ms: Option<f64>,
    /// Energy the device estimated (FIT session `total_calories`, TCX lap `Calories`), kcal.
    pub calories_kcal: Option<f64>,
}

/// One leg of a multisport recording (a FIT session): its own sport, time span and the
/// device's totals for it. Extraction computes each leg's figures from the samples of its
/// span, with its own sport (docs/extraction.md, "Multisport").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Leg {
    pub sport: Sport,
    pub sub_sport: Option<SubSport>,
    /// FIT sport `transition`: time between two sports.
    pub transition: bool,
    /// Unix ms, UTC.
    pub start_ms: i64,
    /// Unix ms, UTC: start plus the session's elapsed time.
    pub end_ms: i64,
    pub totals: DeviceTotals,
}

/// One pool length as the watch detected it (FIT `length`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SwimLength {
    /// Unix ms, UTC.
    pub start_ms: i64,
    /// Time swum (s); for an idle length, the rest at the wall.
    pub timer_s: f64,
    /// False for rests at the wall (`length_type` idle).
    pub active: bool,
    pub strokes: Option<f64>,
    /// Strokes per minute.
    pub stroke_rate_spm: Option<f64>,
}

/// A pool swim's lengths and the pool they were swum in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolSwim {
    pub pool_length_m: f64,
    pub lengths: Vec<SwimLength>,
}

/// Samples further apart than this (7 days) cannot belong to one activity.
pub const MAX_GAP_MS: i64 = 7 * 86_400_000;

/// What kind of file the activity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Gpx,
    Tcx,
    Fit,
}

impl Format {
    /// The reference's `source` name for a file of this format with no better hint.
    pub fn fallback_source(self) -> &'static str {
        match self {
            Format::Gpx => "gpx_file",
            Format::Tcx => "tcx_file",
            Format::Fit => "fit_file",
        }
    }
}

/// One activity as parsed, before any metric is computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub format: Format,
    /// Samples sorted by time (stable; of equal timestamps the first is kept).
    pub samples: Vec<Sample>,
    pub sport: Sport,
    pub sub_sport: Option<SubSport>,
    /// The local UTC offset of the start (seconds east of UTC) when the file states one.
    /// `None` when it does not, and also when it states 0: GPX/TCX `Z` times and the FIT
    /// `local_timestamp` of apps that copy UTC there say nothing about the local clock, so
    /// extraction derives the zone from the start coordinates instead (`crate::localtime`).
    pub utc_offset_s: Option<i32>,
    /// Start time (Unix ms, UTC): the earliest sample, or the session start when the
    /// file has no timed samples.
    pub start_ms: i64,
    /// The file's own activity name (`<trk><name>`, `<metadata><name>`), if any.
    pub name: Option<String>,
    pub description: Option<String>,
    /// `manufacturer product`, from FIT `file_id` or GPX/TCX creator.
    pub device: Option<String>,
    /// Source inferred from content (`karoo`, `garmin_connect`, `strava_export`, `wahoo`,
    /// `komoot`, ...); `None` falls back to [`Format::fallback_source`].
    pub source: Option<String>,
    pub laps: Vec<Lap>,
    /// The legs of a file with several sessions (empty for one session, GPX and TCX).
    pub legs: Vec<Leg>,
    /// Pool lengths, when the file has them (FIT pool swims).
    pub pool: Option<PoolSwim>,
    pub totals: Option<DeviceTotals>,
    pub altitude_source: AltitudeSource,
    /// Non-fatal problems met while parsing (damaged tail, bogus clock...), one line each.
    pub warnings: Vec<String>,
}

impl Activity {
    /// The part of this activity one leg covers: its samples and laps, its sport and its
    /// device totals, ready for the same metrics as a whole activity.
    pub fn leg_activity(&self, leg: &Leg) -> Activity {
        let within = |t: i64| t >= leg.start_ms && t <= leg.end_ms;
        Activity {
            format: self.format,
            samples: self.samples.iter().filter(|s| within(s.ts_ms)).cloned().collect(),
            sport: leg.sport,
            sub_sport: leg.sub_sport,
            utc_offset_s: self.utc_offset_s,
            start_ms: leg.start_ms,
            name: None,
            description: None,
            device: self.device.clone(),
            source: self.source.clone(),
            laps: self.laps.iter().filter(|l| within(l.start_ms)).cloned().collect(),
            legs: Vec::new(),
            pool: self.pool.as_ref().map(|p| PoolSwim {
                pool_length_m: p.pool_length_m,
                lengths: p.lengths.iter().filter(|l| within(l.start_ms)).cloned().collect(),
            }),
            totals: Some(leg.totals.clone()),
            altitude_source: self.altitude_source,
            warnings: Vec::new(),
        }
    }

    /// An empty activity of the given format (parsers start from this).
    pub fn empty(format: Format) -> Self {
        Self {
            format,
            samples: Vec::new(),
            sport: Sport::Other,
            sub_sport: None,
            utc_offset_s: None,
            start_ms: 0,
            name: None,
            description: None,
            device: None,
            source: None,
            laps: Vec::new(),
            legs: Vec::new(),
            pool: None,
            totals: None,
            altitude_source: AltitudeSource::Unknown,
            warnings: Vec::new(),
        }
    }

    /// Sort samples by time (stable), drop later duplicates of a timestamp, and set
    /// `start_ms` to the earliest sample. Parsers call this last.
    ///
    /// Samples separated from the bulk of the recording by more than [`MAX_GAP_MS`] (a
    /// record dated decades away by a glitching clock) are dropped with a warning: the
    /// longest run of samples without such a gap is the activity.
    pub fn normalise_time_order(&mut self) {
        self.samples.sort_by_key(|s| s.ts_ms);
        self.samples.dedup_by_key(|s| s.ts_ms);
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut run_start = 0usize;
        for i in 1..=self.samples.len() {
            if i == self.samples.len()
                || self.samples[i].ts_ms - self.samples[i - 1].ts_ms > MAX_GAP_MS
            {
                runs.push((run_start, i));
                run_start = i;
            }
        }
        // The longest run; the earliest one on a tie.
        let best =
            runs.iter().copied().fold((0, 0), |b, r| if r.1 - r.0 > b.1 - b.0 { r } else { b });
        if runs.len() > 1 {
            let dropped = self.samples.len() - (best.1 - best.0);
            self.samples.truncate(best.1);
            self.samples.drain(..best.0);
            self.warnings.push(format!(
                "{dropped} sample(s) dated more than 7 days away from the rest were dropped"
            ));
        }
        if let Some(first) = self.samples.first() {
            self.start_ms = first.ts_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts_ms: i64) -> Sample {
        Sample { ts_ms, ..Sample::default() }
    }

    #[test]
    fn time_order_is_stable_and_far_outliers_are_dropped() {
        let mut a = Activity::empty(Format::Fit);
        let far = 64 * 365 * 86_400_000_i64;
        a.samples = vec![at(3000), at(1000), at(far), at(2000), at(1000)];
        a.samples[4].hr_bpm = Some(99);
        a.normalise_time_order();
        let ts: Vec<i64> = a.samples.iter().map(|s| s.ts_ms).collect();
        assert_eq!(ts, [1000, 2000, 3000]);
        // Of two samples with the same time, the first in file order is kept.
        assert_eq!(a.samples[0].hr_bpm, None);
        assert_eq!(a.start_ms, 1000);
        assert_eq!(a.warnings.len(), 1);

        // An early outlier must not become the start either.
        let mut b = Activity::empty(Format::Gpx);
        b.samples = vec![at(0), at(far), at(far + 1000), at(far + 2000)];
        b.normalise_time_order();
        assert_eq!(b.start_ms, far);
        assert_eq!(b.samples.len(), 3);
    }
}
