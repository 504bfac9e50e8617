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
}

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
    /// The local UTC offset of the start (seconds east of UTC); 0 when unknown.
    pub utc_offset_s: i32,
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
    pub totals: Option<DeviceTotals>,
    pub altitude_source: AltitudeSource,
    /// Non-fatal problems met while parsing (damaged tail, bogus clock...), one line each.
    pub warnings: Vec<String>,
}

impl Activity {
    /// An empty activity of the given format (parsers start from this).
    pub fn empty(format: Format) -> Self {
        Self {
            format,
            samples: Vec::new(),
            sport: Sport::Other,
            sub_sport: None,
            utc_offset_s: 0,
            start_ms: 0,
            name: None,
            description: None,
            device: None,
            source: None,
            laps: Vec::new(),
            totals: None,
            altitude_source: AltitudeSource::Unknown,
            warnings: Vec::new(),
        }
    }

    /// Sort samples by time (stable), drop later duplicates of a timestamp, and set
    /// `start_ms` to the earliest sample. Parsers call this last.
    pub fn normalise_time_order(&mut self) {
        self.samples.sort_by_key(|s| s.ts_ms);
        self.samples.dedup_by_key(|s| s.ts_ms);
        if let Some(first) = self.samples.first() {
            self.start_ms = first.ts_ms;
        }
    }
}
