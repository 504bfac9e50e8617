//! Synthetic activities with exactly known ground truth, written as GPX, TCX and FIT.
//!
//! Real files cannot tell us whether a metric is *right*, only whether it matches another
//! program. Here every activity is built from a [`Scenario`]: a list of [`Leg`]s of whole
//! seconds, each at constant speed along one great circle, with a constant grade and a
//! constant power. That makes every figure computable exactly:
//!
//! - distance: points of one leg lie on one great circle, so the haversine sum over them
//!   (R = 6 371 000 m) equals the leg length whatever the sampling;
//! - elevation: legs are linear ramps, so gain and loss are the sums of the ramps (every
//!   extreme sits on a flat leg, so smoothing cannot shave a summit);
//! - MMP and best efforts: power and speed are piecewise constant on whole seconds, so
//!   the truth is a prefix-sum / piecewise-linear computation on the 1 s grid;
//! - smart recording (1–10 s) always records at leg boundaries (as head units record on a
//!   change), so a sample's value is the exact mean over the interval it closes.
//!
//! Variants: 1 Hz or smart recording (deterministic xorshift from a seed), auto-pauses
//! (no samples, timer stopped), and GPS noise (slowly varying position error, which is how
//! GPS errs, plus metre-level altitude noise). [`fixture_set`] defines the committed
//! fixtures, [`write_fixture_set`] writes them, [`corpus`] streams the benchmark corpus.

mod fit_writer;
mod gpx_writer;
mod tcx_writer;
mod text;

pub use fit_writer::write_fit;
pub use gpx_writer::write_gpx;
pub use tcx_writer::write_tcx;

use bincio_bas::{Sport, SubSport};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Mean Earth radius (m), as every distance in BAS uses.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// The durations (s) of the published power curve (`power_curve` in
/// docs/schema/bas-v1.schema.json).
pub const MMP_DURATIONS_S: [u32; 15] =
    [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600];

/// Why synthetic files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot serialise ground truth: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// A tiny deterministic generator (xorshift64*): no `rand` dependency, same stream on
/// every platform, so fixtures are byte-identical on re-run.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped, xorshift cannot leave 0).
    pub fn new(seed: u64) -> Self {
        // splitmix64 step so nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Approximately standard normal: the sum of four uniforms, rescaled (Irwin–Hall).
    /// Bounded at ±3.46, which suits "a few metres" of noise with no wild outliers.
    pub fn gauss(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * 3f64.sqrt()
    }
}

/// Every sport (and sub-sport) the fixtures cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SportKind {
    RoadRide,
    MountainRide,
    IndoorRide,
    Run,
    TrailRun,
    Hike,
    Walk,
    PoolSwim,
    OpenWaterSwim,
    NordicSki,
    AlpineSki,
    Other,
}

impl SportKind {
    pub const ALL: [SportKind; 12] = [
        SportKind::RoadRide,
        SportKind::MountainRide,
        SportKind::IndoorRide,
        SportKind::Run,
        SportKind::TrailRun,
        SportKind::Hike,
        SportKind::Walk,
        SportKind::PoolSwim,
        SportKind::OpenWaterSwim,
        SportKind::NordicSki,
        SportKind::AlpineSki,
        SportKind::Other,
    ];

    /// The BAS sport and sub-sport the activity really is.
    pub fn bas(self) -> (Sport, Option<SubSport>) {
        match self {
            SportKind::RoadRide => (Sport::Cycling, Some(SubSport::Road)),
            SportKind::MountainRide => (Sport::Cycling, Some(SubSport::Mountain)),
            SportKind::IndoorRide => (Sport::Cycling, Some(SubSport::Indoor)),
            SportKind::Run => (Sport::Running, None),
            SportKind::TrailRun => (Sport::Running, Some(SubSport::Trail)),
            SportKind::Hike => (Sport::Hiking, None),
            SportKind::Walk => (Sport::Walking, None),
            SportKind::PoolSwim => (Sport::Swimming, Some(SubSport::Pool)),
            SportKind::OpenWaterSwim => (Sport::Swimming, Some(SubSport::OpenWater)),
            SportKind::NordicSki => (Sport::Skiing, Some(SubSport::Nordic)),
            SportKind::AlpineSki => (Sport::Skiing, Some(SubSport::Alpine)),
            SportKind::Other => (Sport::Other, None),
        }
    }

    /// What a file of `format` can say about the sport: TCX only knows
    /// Biking/Running/Other, so a TCX walk is "other" and a TCX road ride has no sub-sport.
    pub fn declared(self, format: SynthFormat) -> (Sport, Option<SubSport>) {
        match format {
            SynthFormat::Gpx | SynthFormat::Fit => self.bas(),
            SynthFormat::Tcx => match self.tcx_sport() {
                "Biking" => (Sport::Cycling, None),
                "Running" => (Sport::Running, None),
                _ => (Sport::Other, None),
            },
        }
    }

    /// GPX `<trk><type>`, in the spellings Garmin Connect and Strava exports use.
    pub fn gpx_type(self) -> &'static str {
        match self {
            SportKind::RoadRide => "road_biking",
            SportKind::MountainRide => "mountain_biking",
            SportKind::IndoorRide => "indoor_cycling",
            SportKind::Run => "running",
            SportKind::TrailRun => "trail_running",
            SportKind::Hike => "hiking",
            SportKind::Walk => "walking",
            SportKind::PoolSwim => "lap_swimming",
            SportKind::OpenWaterSwim => "open_water_swimming",
            SportKind::NordicSki => "cross_country_skiing",
            SportKind::AlpineSki => "alpine_skiing",
            SportKind::Other => "other",
        }
    }

    /// TCX `Activity/@Sport`.
    pub fn tcx_sport(self) -> &'static str {
        match self {
            SportKind::RoadRide | SportKind::MountainRide | SportKind::IndoorRide => "Biking",
            SportKind::Run | SportKind::TrailRun => "Running",
            _ => "Other",
        }
    }

    /// FIT `(sport, sub_sport)` enum values (FIT profile).
    pub fn fit_sport(self) -> (u8, u8) {
        match self {
            SportKind::RoadRide => (2, 7),
            SportKind::MountainRide => (2, 8),
            SportKind::IndoorRide => (2, 6),
            SportKind::Run => (1, 0),
            SportKind::TrailRun => (1, 3),
            SportKind::Hike => (17, 0),
            SportKind::Walk => (11, 0),
            SportKind::PoolSwim => (5, 17),
            SportKind::OpenWaterSwim => (5, 18),
            SportKind::NordicSki => (12, 0),
            SportKind::AlpineSki => (13, 0),
            SportKind::Other => (0, 0),
        }
    }

    /// Best-effort targets (km) of the sport, as BAS lists them.
    pub fn effort_targets_km(self) -> &'static [f64] {
        match self.bas().0 {
            Sport::Running => &[0.4, 1.0, 1.609, 5.0, 10.0, 21.097, 42.195],
            Sport::Cycling => &[5.0, 10.0, 20.0, 50.0, 100.0],
            Sport::Swimming => &[0.1, 0.2, 0.5, 1.0, 2.0],
            _ => &[],
        }
    }

    /// Short lower-case name used in file names.
    pub fn slug(self) -> &'static str {
        match self {
            SportKind::RoadRide => "ride",
            SportKind::MountainRide => "mtb",
            SportKind::IndoorRide => "indoor-ride",
            SportKind::Run => "run",
            SportKind::TrailRun => "trail-run",
            SportKind::Hike => "hike",
            SportKind::Walk => "walk",
            SportKind::PoolSwim => "pool-swim",
            SportKind::OpenWaterSwim => "open-water-swim",
            SportKind::NordicSki => "nordic-ski",
            SportKind::AlpineSki => "alpine-ski",
            SportKind::Other => "other",
        }
    }

    /// Indoor and pool activities have no GPS and no altitude.
    pub fn has_gps(self) -> bool {
        !matches!(self, SportKind::IndoorRide | SportKind::PoolSwim)
    }
}

/// The three file formats written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SynthFormat {
    Gpx,
    Tcx,
    Fit,
}

impl SynthFormat {
    pub fn ext(self) -> &'static str {
        match self {
            SynthFormat::Gpx => "gpx",
            SynthFormat::Tcx => "tcx",
            SynthFormat::Fit => "fit",
        }
    }
}

/// One stretch of constant speed, heading, grade and power; or an auto-pause.
#[derive(Clone, Debug, PartialEq)]
pub struct Leg {
    pub duration_s: u32,
    /// Along the great circle starting at `bearing_deg`; 0 for a stationary leg.
    pub distance_m: f64,
    pub bearing_deg: f64,
    /// Elevation change over the leg (m), linear in distance.
    pub climb_m: f64,
    /// `None` = this leg records 0 W in an activity with power (coasting, lift).
    pub power_w: Option<u16>,
    pub cadence_rpm: Option<u8>,
    /// Auto-pause: nothing recorded, the timer stops, the athlete does not move.
    pub paused: bool,
    /// A new lap starts with this leg.
    pub new_lap: bool,
}

impl Leg {
    /// A moving leg of `duration_s` covering `distance_m`.
    pub fn go(duration_s: u32, distance_m: f64, bearing_deg: f64, climb_m: f64) -> Self {
        Self {
            duration_s,
            distance_m,
            bearing_deg,
            climb_m,
            power_w: None,
            cadence_rpm: None,
            paused: false,
            new_lap: false,
        }
    }

    /// An auto-pause of `duration_s`.
    pub fn pause(duration_s: u32) -> Self {
        Self { paused: true, ..Self::go(duration_s, 0.0, 0.0, 0.0) }
    }

    pub fn watts(mut self, w: u16) -> Self {
        self.power_w = Some(w);
        self
    }

    pub fn cad(mut self, rpm: u8) -> Self {
        self.cadence_rpm = Some(rpm);
        self
    }

    pub fn lap(mut self) -> Self {
        self.new_lap = true;
        self
    }

    pub fn speed_ms(&self) -> f64 {
        if self.duration_s == 0 { 0.0 } else { self.distance_m / f64::from(self.duration_s) }
    }
}

/// How samples are spaced in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// One sample per second.
    OneHz,
    /// Garmin-style "smart recording": intervals of `min_interval_s..=max_interval_s`
    /// seconds drawn from `seed`, always cut at leg boundaries.
    Smart { min_interval_s: u32, max_interval_s: u32, seed: u64 },
}

/// Which device wrote the file (FIT `file_id`, GPX/TCX creator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// FIT manufacturer 1 (garmin), product 3121 (Edge 530).
    Garmin,
    /// FIT manufacturer 255 (development).
    Development,
}

/// Everything needed to build one activity.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// File stem, e.g. `synth-ride-1hz`.
    pub name: String,
    /// The activity's own title (`<trk><name>`), if any.
    pub title: Option<String>,
    pub kind: SportKind,
    /// Unix seconds, UTC.
    pub start_unix_s: i64,
    /// Seconds east of UTC of the local time (FIT `local_timestamp`, GPX offsets).
    pub utc_offset_s: i32,
    pub start_lat_deg: f64,
    pub start_lon_deg: f64,
    pub start_ele_m: f64,
    pub legs: Vec<Leg>,
    pub gps: bool,
    pub altitude: bool,
    pub hr: bool,
    /// Record a speed channel (FIT enhanced_speed, TCX TPX Speed).
    pub speed: bool,
    pub sampling: Sampling,
    /// GPS noise on position and altitude, from this seed.
    pub noise_seed: Option<u64>,
    pub device: Device,
    /// GPX times written with the local offset (`+02:00`) instead of `Z`.
    pub gpx_local_times: bool,
}

/// One recorded sample, as written to every format.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    /// Seconds since the start (elapsed, pauses included).
    pub t_s: u32,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    pub ele_m: Option<f64>,
    /// Device cumulative distance (m), exact.
    pub distance_m: f64,
    pub speed_ms: f64,
    pub hr_bpm: Option<u8>,
    pub cadence_rpm: Option<u8>,
    pub power_w: Option<u16>,
}

/// A lap as written: sample range and totals.
#[derive(Clone, Debug, PartialEq)]
pub struct LapSpan {
    pub start_t_s: u32,
    pub end_t_s: u32,
    /// Indices into [`Track::points`], inclusive.
    pub first_point: usize,
    pub last_point: usize,
    pub timer_s: u32,
    pub distance_m: f64,
    pub ascent_m: f64,
    pub descent_m: f64,
}

/// One MMP entry of the ground truth.
///
/// Best means over windows of *exactly* `d` seconds do not form a non-increasing curve
/// (60 s at 350 W, 60 s at 150 W, 60 s at 350 W: 180 s averages 283 W, no 120 s window
/// beats 265 W). BAS publishes a curve that never rises, so the MMP at `d` is the best
/// exact-length mean over every published duration `d' >= d` that the activity covers
/// ("what you averaged over 180 s you held for at least 120 s").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MmpTruth {
    pub duration_s: u32,
    /// MMP at `d` as defined above, from the true (continuous) power profile.
    pub watts: f64,
    /// The best mean over windows of exactly `d` seconds (for reference).
    pub watts_exact_length: f64,
    /// The same curve with each exact-length mean replaced by its minimum (`watts_min`)
    /// or maximum (`watts_max`) over durations within ± the longest sample interval: a
    /// value "exact within one sample" lies in `[watts_min, watts_max]` (before rounding).
    pub watts_min: f64,
    pub watts_max: f64,
}

/// One best effort of the ground truth.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EffortTruth {
    pub distance_km: f64,
    /// The exact fastest time (s) over the distance.
    pub seconds: f64,
}

/// The exactly known figures of one activity (what `expected/<file>.json` holds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroundTruth {
    /// Path relative to `fixtures/activities/`.
    pub file: String,
    pub format: SynthFormat,
    pub gzipped: bool,
    /// The sport the file declares (TCX can only say Biking/Running/Other).
    pub sport: Sport,
    pub sub_sport: Option<SubSport>,
    /// ISO 8601 UTC start.
    pub started_at: String,
    pub utc_offset_s: i32,
    pub samples: usize,
    pub sampling: &'static str,
    /// Longest interval between consecutive samples outside pauses (s).
    pub interval_max_s: u32,
    pub gps_noise: bool,
    pub distance_m: f64,
    /// `None` without an altitude channel.
    pub elevation_gain_m: Option<f64>,
    pub elevation_loss_m: Option<f64>,
    /// Elapsed: first to last sample, pauses included.
    pub duration_s: u32,
    /// Elapsed minus auto-pauses (the device timer).
    pub timer_s: u32,
    pub pauses: usize,
    pub laps: usize,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<u8>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<u16>,
    /// Durations where counting pauses as 0 W and removing them agree.
    pub mmp: Vec<MmpTruth>,
    /// Distances where elapsed and paused-time-removed conventions agree.
    pub best_efforts: Vec<EffortTruth>,
}

/// A rendered activity: the samples every writer formats, plus its truth.
#[derive(Clone, Debug)]
pub struct Track {
    pub scenario: Scenario,
    pub points: Vec<Point>,
    /// `(start_t_s, end_t_s)` of each auto-pause.
    pub pauses: Vec<(u32, u32)>,
    pub laps: Vec<LapSpan>,
    pub truth: GroundTruth,
}

/// Destination from `(lat, lon)` after `dist_m` along the great circle of initial
/// bearing `bearing_deg`.
pub fn destination(lat_deg: f64, lon_deg: f64, bearing_deg: f64, dist_m: f64) -> (f64, f64) {
    let (p1, l1, th) = (lat_deg.to_radians(), lon_deg.to_radians(), bearing_deg.to_radians());
    let d = dist_m / EARTH_RADIUS_M;
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * th.cos()).asin();
    let l2 = l1 + (th.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    (p2.to_degrees(), l2.to_degrees())
}

/// Haversine distance (m) with R = 6 371 000 m. Written here again on purpose: the ground
/// truth must not share code with the metrics it checks (`bincio_gen::metrics::sphere`).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dphi = (lat2 - lat1).to_radians();
    let dlam = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlam / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.min(1.0).sqrt().asin()
}

/// Slowly varying GPS error: a few sinusoids per axis (periods of minutes), which is how
/// real receivers err, so the track's length barely changes while every point is off by
/// metres; altitude also gets white noise.
struct Noise {
    /// `(amplitude_m, angular frequency rad/s, phase)` per component, per axis.
    north: [(f64, f64, f64); 3],
    east: [(f64, f64, f64); 3],
    up: [(f64, f64, f64); 2],
    rng: Rng,
}

impl Noise {
    /// Position components total ≈ 3 m; altitude wander ≈ 1 m plus white σ 1.5 m.
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut comp = |amp_m: f64| {
            let period_s = rng.uniform(240.0, 900.0);
            (
                amp_m * (0.7 + 0.6 * rng.unit()),
                std::f64::consts::TAU / period_s,
                rng.uniform(0.0, 6.3),
            )
        };
        let north = [comp(1.8), comp(1.0), comp(0.6)];
        let east = [comp(1.8), comp(1.0), comp(0.6)];
        let up = [comp(0.6), comp(0.4)];
        Self { north, east, up, rng: Rng::new(seed ^ 0x5EED) }
    }

    fn eval(c: &[(f64, f64, f64)], t: f64) -> f64 {
        c.iter().map(|(a, w, p)| a * (w * t + p).sin()).sum()
    }

    /// `(north_m, east_m, up_m)` at `t_s`.
    fn at(&mut self, t_s: f64) -> (f64, f64, f64) {
        let white = 1.5 * self.rng.gauss();
        (
            Self::eval(&self.north, t_s),
            Self::eval(&self.east, t_s),
            Self::eval(&self.up, t_s) + white,
        )
    }
}

/// Per-second truth of a scenario: what the athlete really did.
struct Truth {
    total_s: u32,
    /// Power in second `k` (covering `[k, k+1)`), 0 when paused or coasting.
    power_w: Vec<f64>,
    paused: Vec<bool>,
    /// Cumulative distance at each whole second `0..=total_s`.
    cum_m: Vec<f64>,
}

impl Scenario {
    /// Total elapsed seconds.
    pub fn total_s(&self) -> u32 {
        self.legs.iter().map(|l| l.duration_s).sum()
    }

    fn has_power(&self) -> bool {
        self.legs.iter().any(|l| l.power_w.is_some())
    }

    fn has_cadence(&self) -> bool {
        self.legs.iter().any(|l| l.cadence_rpm.is_some())
    }

    fn truth(&self) -> Truth {
        let total_s = self.total_s();
        let mut power_w = Vec::with_capacity(total_s as usize);
        let mut paused = Vec::with_capacity(total_s as usize);
        let mut cum_m = Vec::with_capacity(total_s as usize + 1);
        let mut base = 0.0;
        cum_m.push(0.0);
        for leg in &self.legs {
            let v = leg.speed_ms();
            for k in 1..=leg.duration_s {
                power_w.push(f64::from(leg.power_w.unwrap_or(0)));
                paused.push(leg.paused);
                cum_m.push(if k == leg.duration_s {
                    base + leg.distance_m
                } else {
                    base + v * f64::from(k)
                });
            }
            base += leg.distance_m;
        }
        Truth { total_s, power_w, paused, cum_m }
    }

    /// Sample times: every second, or smart-recording intervals cut at leg boundaries;
    /// none inside a pause (the samples at its two ends exist).
    fn sample_times(&self) -> Vec<u32> {
        let mut times = vec![0u32];
        let mut rng = match self.sampling {
            Sampling::Smart { seed, .. } => Some(Rng::new(seed)),
            Sampling::OneHz => None,
        };
        let (min, max) = match self.sampling {
            Sampling::Smart { min_interval_s, max_interval_s, .. } => {
                (min_interval_s.max(1), max_interval_s.max(min_interval_s).max(1))
            }
            Sampling::OneHz => (1, 1),
        };
        let mut t = 0u32;
        for leg in &self.legs {
            let end = t + leg.duration_s;
            if leg.paused {
                times.push(end);
                t = end;
                continue;
            }
            while t < end {
                let step = rng.as_mut().map_or(1, |r| r.range(min, max));
                t = (t + step).min(end);
                times.push(t);
            }
        }
        times.dedup();
        times
    }

    /// Render the samples and compute the ground truth. `file` is the path relative to
    /// `fixtures/activities/` recorded in the truth.
    pub fn render(&self, format: SynthFormat, file: &str, gzipped: bool) -> Track {
        self.render_with(format, file, gzipped, true)
    }

    /// [`Scenario::render`] with or without the MMP and best-effort truth (costly on
    /// a 6 h activity, and the benchmark corpus does not need it).
    pub fn render_with(
        &self,
        format: SynthFormat,
        file: &str,
        gzipped: bool,
        full_truth: bool,
    ) -> Track {
        let truth = self.truth();
        let times = self.sample_times();
        let has_power = self.has_power();
        let has_cad = self.has_cadence();
        let gps = self.gps && self.kind.has_gps();
        let altitude = self.altitude && self.kind.has_gps();
        let mut noise = self.noise_seed.map(Noise::new);

        // Leg lookup per second: the leg containing `[k, k+1)`, with its start state.
        struct LegStart {
            t0: u32,
            lat: f64,
            lon: f64,
            ele: f64,
        }
        let mut starts = Vec::with_capacity(self.legs.len());
        let (mut lat, mut lon, mut ele, mut t0) =
            (self.start_lat_deg, self.start_lon_deg, self.start_ele_m, 0u32);
        for leg in &self.legs {
            starts.push(LegStart { t0, lat, lon, ele });
            (lat, lon) = destination(lat, lon, leg.bearing_deg, leg.distance_m);
            ele += leg.climb_m;
            t0 += leg.duration_s;
        }

        // Heart rate: a first-order lag (τ = 30 s) towards a target set by the effort.
        let mut hr_series = Vec::with_capacity(truth.total_s as usize + 1);
        let mut hr = 95.0_f64;
        hr_series.push(hr);
        let alpha = 1.0 - (-1.0_f64 / 30.0).exp();
        for leg in &self.legs {
            let target = if leg.paused {
                90.0
            } else if let Some(w) = leg.power_w {
                (100.0 + 0.22 * f64::from(w)).min(182.0)
            } else {
                105.0 + 12.0 * leg.speed_ms().min(8.0)
            };
            for _ in 0..leg.duration_s {
                hr += (target - hr) * alpha;
                hr_series.push(hr);
            }
        }

        let mut points = Vec::with_capacity(times.len());
        let leg_at = |t: u32| starts.partition_point(|s| s.t0 <= t).saturating_sub(1);
        for (i, &t) in times.iter().enumerate() {
            // The interval this sample closes is `[prev, t)`; its values are those of the
            // second just before `t` (constant over the interval: samples are cut at leg
            // boundaries). The first sample, and the first after a pause, take the values
            // of the second starting at `t`.
            let after_pause =
                i > 0 && truth.paused.get(times[i - 1] as usize).copied().unwrap_or(false);
            let value_sec = if i == 0 || after_pause { t } else { t - 1 };
            let value_sec = value_sec.min(truth.total_s.saturating_sub(1));
            let leg = &self.legs[leg_at(value_sec)];
            // Position: on the leg containing `t` (its end, for the last sample).
            let pos_leg = leg_at(t);
            let pl = &self.legs[pos_leg];
            let ps = &starts[pos_leg];
            let frac = if pl.duration_s == 0 {
                0.0
            } else {
                f64::from(t - ps.t0) / f64::from(pl.duration_s)
            };
            let along_m = pl.distance_m * frac;
            let (mut lat, mut lon) = destination(ps.lat, ps.lon, pl.bearing_deg, along_m);
            let mut ele = ps.ele + pl.climb_m * frac;
            if let Some(n) = noise.as_mut() {
                let (dn, de, du) = n.at(f64::from(t));
                lat += (dn / EARTH_RADIUS_M).to_degrees();
                lon += (de / (EARTH_RADIUS_M * lat.to_radians().cos())).to_degrees();
                ele += du;
            }
            let hr_bpm = self.hr.then(|| hr_series[t as usize].round().clamp(0.0, 250.0) as u8);
            points.push(Point {
                t_s: t,
                lat_deg: gps.then_some(lat),
                lon_deg: gps.then_some(lon),
                ele_m: altitude.then_some(ele),
                distance_m: truth.cum_m[t as usize],
                speed_ms: if leg.paused { 0.0 } else { leg.speed_ms() },
                hr_bpm,
                cadence_rpm: has_cad.then(|| leg.cadence_rpm.unwrap_or(0)),
                power_w: has_power.then(|| leg.power_w.unwrap_or(0)),
            });
        }

        // Pauses and laps.
        let mut pauses = Vec::new();
        let mut lap_starts = vec![0u32];
        let mut t = 0u32;
        for (k, leg) in self.legs.iter().enumerate() {
            if leg.paused {
                pauses.push((t, t + leg.duration_s));
            }
            if leg.new_lap && k > 0 {
                lap_starts.push(t);
            }
            t += leg.duration_s;
        }
        let mut laps = Vec::with_capacity(lap_starts.len());
        for (j, &start) in lap_starts.iter().enumerate() {
            let end = lap_starts.get(j + 1).copied().unwrap_or(truth.total_s);
            let first_point = points.partition_point(|p| p.t_s < start);
            // The sample at a lap boundary opens the next lap (each sample in one lap).
            let last_point = if j + 1 == lap_starts.len() {
                points.len().saturating_sub(1)
            } else {
                points.partition_point(|p| p.t_s < end).saturating_sub(1)
            };
            let paused_s: u32 = pauses
                .iter()
                .map(|&(a, b): &(u32, u32)| b.min(end).saturating_sub(a.max(start)))
                .sum();
            let (mut ascent_m, mut descent_m, mut lt) = (0.0, 0.0, 0u32);
            for leg in &self.legs {
                if lt >= start && lt < end {
                    if leg.climb_m > 0.0 {
                        ascent_m += leg.climb_m
                    } else {
                        descent_m -= leg.climb_m
                    }
                }
                lt += leg.duration_s;
            }
            laps.push(LapSpan {
                start_t_s: start,
                end_t_s: end,
                first_point,
                last_point,
                timer_s: end - start - paused_s,
                distance_m: truth.cum_m[end as usize] - truth.cum_m[start as usize],
                ascent_m: if altitude { ascent_m } else { 0.0 },
                descent_m: if altitude { descent_m } else { 0.0 },
            });
        }

        let ground = self.ground_truth(
            &truth,
            &points,
            &pauses,
            laps.len(),
            format,
            file,
            gzipped,
            full_truth,
        );
        Track { scenario: self.clone(), points, pauses, laps, truth: ground }
    }

    #[allow(clippy::too_many_arguments)]
    fn ground_truth(
        &self,
        truth: &Truth,
        points: &[Point],
        pauses: &[(u32, u32)],
        laps: usize,
        format: SynthFormat,
        file: &str,
        gzipped: bool,
        full: bool,
    ) -> GroundTruth {
        let paused_s: u32 = pauses.iter().map(|(a, b)| b - a).sum();
        let interval_max_s = points
            .windows(2)
            .filter(|w| !pauses.iter().any(|&(a, b)| w[0].t_s == a && w[1].t_s == b))
            .map(|w| w[1].t_s - w[0].t_s)
            .max()
            .unwrap_or(1);
        let altitude = self.altitude && self.kind.has_gps();
        let (gain, loss) = self.legs.iter().fold((0.0, 0.0), |(g, l), leg| {
            if leg.climb_m > 0.0 { (g + leg.climb_m, l) } else { (g, l - leg.climb_m) }
        });
        let (sport, sub_sport) = self.kind.declared(format);

        // MMP under both pause conventions; keep the durations where they agree.
        let moving_power: Vec<f64> = truth
            .power_w
            .iter()
            .zip(&truth.paused)
            .filter(|(_, p)| !**p)
            .map(|(w, _)| *w)
            .collect();
        let mut mmp = Vec::new();
        if full && self.has_power() {
            let env = |p: &[f64], slack: u32, bound: Bound| mmp_envelope(p, slack, bound);
            let (a, b) = (env(&truth.power_w, 0, Bound::High), env(&moving_power, 0, Bound::High));
            let (a_lo, b_lo) = (
                env(&truth.power_w, interval_max_s, Bound::Low),
                env(&moving_power, interval_max_s, Bound::Low),
            );
            let (a_hi, b_hi) = (
                env(&truth.power_w, interval_max_s, Bound::High),
                env(&moving_power, interval_max_s, Bound::High),
            );
            for (k, &d) in MMP_DURATIONS_S.iter().enumerate() {
                let (Some(&wa), Some(&wb)) = (a.get(k), b.get(k)) else { break };
                if (wa - wb).abs() > 1e-9 {
                    continue;
                }
                mmp.push(MmpTruth {
                    duration_s: d,
                    watts: wa,
                    watts_exact_length: best_mean(&truth.power_w, d).unwrap_or(wa),
                    watts_min: a_lo[k].min(b_lo[k]),
                    watts_max: a_hi[k].max(b_hi[k]),
                });
            }
        }

        // Best efforts: elapsed time vs pause-free time.
        let mut moving_cum = vec![0.0];
        for (k, p) in truth.paused.iter().enumerate() {
            if !p {
                let inc = truth.cum_m[k + 1] - truth.cum_m[k];
                let last = *moving_cum.last().unwrap_or(&0.0);
                moving_cum.push(last + inc);
            }
        }
        let mut best_efforts = Vec::new();
        let targets = if full { self.kind.effort_targets_km() } else { &[] };
        for &km in targets {
            let (Some(a), Some(b)) =
                (fastest_s(&truth.cum_m, km * 1000.0), fastest_s(&moving_cum, km * 1000.0))
            else {
                break;
            };
            if (a - b).abs() < 1e-6 {
                best_efforts.push(EffortTruth { distance_km: km, seconds: a });
            }
        }

        let hrs: Vec<u8> = points.iter().filter_map(|p| p.hr_bpm).collect();
        let pw: Vec<u16> = points.iter().filter_map(|p| p.power_w).collect();
        GroundTruth {
            file: file.to_owned(),
            format,
            gzipped,
            sport,
            sub_sport,
            started_at: text::iso_string(self.start_unix_s, 0),
            utc_offset_s: self.utc_offset_s,
            samples: points.len(),
            sampling: match self.sampling {
                Sampling::OneHz => "1hz",
                Sampling::Smart { .. } => "smart",
            },
            interval_max_s,
            gps_noise: self.noise_seed.is_some(),
            distance_m: round3(truth.cum_m.last().copied().unwrap_or(0.0)),
            elevation_gain_m: altitude.then_some(round3(gain)),
            elevation_loss_m: altitude.then_some(round3(loss)),
            duration_s: truth.total_s,
            timer_s: truth.total_s - paused_s,
            pauses: pauses.len(),
            laps,
            avg_hr_bpm: (!hrs.is_empty())
                .then(|| round3(hrs.iter().map(|&h| f64::from(h)).sum::<f64>() / hrs.len() as f64)),
            max_hr_bpm: hrs.iter().copied().max(),
            avg_power_w: (!pw.is_empty())
                .then(|| round3(pw.iter().map(|&w| f64::from(w)).sum::<f64>() / pw.len() as f64)),
            max_power_w: pw.iter().copied().max(),
            mmp,
            best_efforts,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Best mean over `d` consecutive whole seconds of a per-second series (`d == 0` gives
/// the maximum); `None` when the series is shorter than `d`. For a profile constant on
/// whole seconds and an integer `d` this is the exact continuous optimum.
pub fn best_mean(per_s: &[f64], d: u32) -> Option<f64> {
    let d = d as usize;
    if d == 0 {
        return per_s.iter().copied().reduce(f64::max);
    }
    if d > per_s.len() {
        return None;
    }
    let mut sum: f64 = per_s[..d].iter().sum();
    let mut best = sum;
    for k in d..per_s.len() {
        sum += per_s[k] - per_s[k - d];
        best = best.max(sum);
    }
    Some(best / d as f64)
}

/// The published MMP curve of a per-second power series: for each duration of
/// [`MMP_DURATIONS_S`] up to the series' length, the best exact-length mean over that or
/// any longer published duration. With `slack_s > 0` each exact-length mean is replaced
/// by its minimum (`Bound::Low`) or maximum (`Bound::High`) over durations within
/// `±slack_s` (clamped to `1..=len`): the range a computation "exact within one sample"
/// may land in.
pub fn mmp_envelope(per_s: &[f64], slack_s: u32, bound: Bound) -> Vec<f64> {
    let len = per_s.len() as u32;
    let mut exact: Vec<f64> = MMP_DURATIONS_S
        .iter()
        .take_while(|&&d| d <= len)
        .map(|&d| {
            let lo = d.saturating_sub(slack_s).max(1);
            let hi = (d + slack_s).min(len);
            let means = (lo..=hi).filter_map(|x| best_mean(per_s, x));
            match bound {
                Bound::Low => means.fold(f64::INFINITY, f64::min),
                Bound::High => means.fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    for k in (0..exact.len().saturating_sub(1)).rev() {
        exact[k] = exact[k].max(exact[k + 1]);
    }
    exact
}

/// Which side of a tolerance band [`mmp_envelope`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Low,
    High,
}

/// Fastest time (s) to cover `len_m` on a cumulative distance given at whole seconds
/// (linear in between). The optimum has one end on a whole second, so both families of
/// windows are scanned.
pub fn fastest_s(cum_m: &[f64], len_m: f64) -> Option<f64> {
    let n = cum_m.len();
    if n < 2 || cum_m[n - 1] - cum_m[0] < len_m - 1e-9 {
        return None;
    }
    // Time at which the cumulative distance first reaches `x` (x within range).
    let reach = |x: f64| -> f64 {
        let j = cum_m.partition_point(|&c| c < x);
        if j == 0 {
            return 0.0;
        }
        let j = j.min(n - 1);
        let (c0, c1) = (cum_m[j - 1], cum_m[j]);
        (j - 1) as f64 + if c1 > c0 { ((x - c0) / (c1 - c0)).clamp(0.0, 1.0) } else { 1.0 }
    };
    // Time at which the cumulative distance last equals `x`.
    let leave = |x: f64| -> f64 {
        let j = cum_m.partition_point(|&c| c <= x); // first index with c > x
        if j == 0 {
            return 0.0;
        }
        if j >= n {
            return (n - 1) as f64;
        }
        let (c0, c1) = (cum_m[j - 1], cum_m[j]);
        (j - 1) as f64 + if c1 > c0 { ((x - c0) / (c1 - c0)).clamp(0.0, 1.0) } else { 0.0 }
    };
    let mut best = f64::INFINITY;
    for k in 0..n {
        let goal = cum_m[k] + len_m;
        if goal <= cum_m[n - 1] + 1e-9 {
            best = best.min(reach(goal.min(cum_m[n - 1])) - k as f64);
        }
        let start = cum_m[k] - len_m;
        if start >= cum_m[0] - 1e-9 {
            best = best.min(k as f64 - leave(start.max(cum_m[0])));
        }
    }
    best.is_finite().then_some(best)
}

/// Encode a track in a format.
pub fn write_format(track: &Track, format: SynthFormat) -> Vec<u8> {
    match format {
        SynthFormat::Gpx => write_gpx(track),
        SynthFormat::Tcx => write_tcx(track),
        SynthFormat::Fit => write_fit(track),
    }
}

/// Gzip bytes (deterministic: no file name, mtime 0).
pub fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(bytes.len() / 4), flate2::Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// 2026-05-03 07:30 at +02:00 (05:30 UTC).
const FIXTURE_START_UNIX_S: i64 = 1_777_786_200;
const CEST_S: i32 = 2 * 3600;

fn base_scenario(name: &str, kind: SportKind, legs: Vec<Leg>, day: i64) -> Scenario {
    Scenario {
        name: name.to_owned(),
        title: None,
        kind,
        start_unix_s: FIXTURE_START_UNIX_S + day * 86_400,
        utc_offset_s: CEST_S,
        start_lat_deg: 45.07,
        start_lon_deg: 7.68,
        start_ele_m: 240.0,
        legs,
        gps: true,
        altitude: true,
        hr: true,
        speed: true,
        sampling: Sampling::OneHz,
        noise_seed: None,
        device: Device::Garmin,
        gpx_local_times: false,
    }
}

/// The ground-truth road ride: 10.5 km in 21 min, a 300 m climb at 10 % with a 5-min
/// 320 W block, a 0 W descent, a 20 s sprint (5 s at 800 W then 15 s at 600 W).
pub fn ride_legs(paused: bool) -> Vec<Leg> {
    let mut legs = vec![
        Leg::go(100, 1000.0, 0.0, 0.0).watts(200).cad(90),
        Leg::go(150, 750.0, 30.0, 75.0).watts(240).cad(80),
        Leg::go(300, 1500.0, 30.0, 150.0).watts(320).cad(84),
        Leg::go(150, 750.0, 30.0, 75.0).watts(240).cad(80),
        Leg::go(25, 250.0, 90.0, 0.0).watts(180).cad(88).lap(),
        Leg::go(25, 250.0, 90.0, 0.0).watts(180).cad(88),
        Leg::go(200, 3000.0, 150.0, -300.0),
        Leg::go(150, 1500.0, 200.0, 0.0).watts(200).cad(90).lap(),
        Leg::go(5, 60.0, 200.0, 0.0).watts(800).cad(110),
        Leg::go(15, 180.0, 200.0, 0.0).watts(600).cad(105),
        Leg::go(140, 1260.0, 250.0, 0.0).watts(150).cad(85),
    ];
    if paused {
        // A traffic light at the foot of the climb and a café at the summit.
        legs.insert(1, Leg::pause(90));
        legs.insert(5, Leg::pause(240));
    }
    legs
}

fn smart(seed: u64) -> Sampling {
    Sampling::Smart { min_interval_s: 1, max_interval_s: 10, seed }
}

/// Smart recording of a slow activity: a point every 3–10 s, as head units log at
/// walking pace.
fn smart_slow(seed: u64) -> Sampling {
    Sampling::Smart { min_interval_s: 3, max_interval_s: 10, seed }
}

/// Legs of the non-ride sports (short, every extreme on a flat leg).
fn sport_legs(kind: SportKind) -> Vec<Leg> {
    match kind {
        SportKind::RoadRide => ride_legs(false),
        SportKind::MountainRide => vec![
            Leg::go(60, 360.0, 10.0, 0.0).watts(180).cad(80),
            Leg::go(700, 2100.0, 60.0, 200.0).watts(250).cad(72),
            Leg::go(50, 300.0, 120.0, 0.0).watts(150).cad(80).lap(),
            Leg::go(300, 2100.0, 200.0, -200.0),
            Leg::go(200, 1200.0, 260.0, 0.0).watts(190).cad(85),
        ],
        SportKind::IndoorRide => {
            let mut legs = vec![Leg::go(600, 5400.0, 0.0, 0.0).watts(180).cad(88)];
            for _ in 0..5 {
                legs.push(Leg::go(60, 660.0, 0.0, 0.0).watts(350).cad(100).lap());
                legs.push(Leg::go(60, 480.0, 0.0, 0.0).watts(150).cad(85));
            }
            legs.push(Leg::go(600, 5400.0, 0.0, 0.0).watts(170).cad(86).lap());
            legs
        }
        SportKind::Run => vec![
            Leg::go(240, 720.0, 45.0, 0.0).cad(82),
            Leg::go(1000, 3800.0, 100.0, 12.0).cad(86).lap(),
            Leg::go(60, 276.0, 100.0, 0.0).cad(92),
            Leg::go(200, 640.0, 280.0, -12.0).cad(84).lap(),
        ],
        SportKind::TrailRun => vec![
            Leg::go(60, 180.0, 0.0, 0.0).cad(84),
            Leg::go(680, 1496.0, 20.0, 150.0).cad(78),
            Leg::go(60, 150.0, 90.0, 0.0).cad(80).lap(),
            Leg::go(430, 1505.0, 200.0, -150.0).cad(88),
            Leg::go(60, 180.0, 270.0, 0.0).cad(84),
        ],
        SportKind::Hike => vec![
            Leg::go(120, 156.0, 330.0, 0.0),
            Leg::go(1100, 1210.0, 300.0, 180.0),
            Leg::go(120, 120.0, 0.0, 0.0).lap(),
            Leg::go(500, 650.0, 90.0, -80.0),
            Leg::go(120, 156.0, 150.0, 0.0),
        ],
        SportKind::Walk => vec![
            Leg::go(600, 840.0, 20.0, 0.0),
            Leg::go(300, 390.0, 110.0, 20.0),
            Leg::go(60, 80.0, 110.0, 0.0).lap(),
            Leg::go(300, 450.0, 250.0, -20.0),
        ],
        SportKind::PoolSwim => vec![
            Leg::go(320, 400.0, 0.0, 0.0).cad(30),
            Leg::go(330, 500.0, 0.0, 0.0).cad(34).lap(),
            Leg::go(65, 100.0, 0.0, 0.0).cad(38),
            Leg::go(385, 500.0, 0.0, 0.0).cad(32).lap(),
        ],
        SportKind::OpenWaterSwim => vec![
            Leg::go(545, 600.0, 80.0, 0.0).cad(30),
            Leg::go(500, 600.0, 260.0, 0.0).cad(32).lap(),
        ],
        SportKind::NordicSki => vec![
            Leg::go(60, 300.0, 0.0, 0.0).watts(180),
            Leg::go(400, 1600.0, 40.0, 80.0).watts(260),
            Leg::go(60, 360.0, 90.0, 0.0).watts(200).lap(),
            Leg::go(200, 1600.0, 140.0, -80.0).watts(60),
            Leg::go(120, 720.0, 180.0, 0.0).watts(210),
            Leg::go(300, 1200.0, 220.0, 60.0).watts(250).lap(),
            Leg::go(60, 360.0, 270.0, 0.0).watts(190),
            Leg::go(150, 1200.0, 320.0, -60.0).watts(50),
            Leg::go(60, 360.0, 0.0, 0.0).watts(200),
        ],
        SportKind::AlpineSki => {
            let mut legs = Vec::new();
            for run in 0..2 {
                let lap = |l: Leg| if run > 0 { l.lap() } else { l };
                legs.push(lap(Leg::go(60, 0.0, 0.0, 0.0)));
                legs.push(Leg::go(375, 1500.0, 10.0, 350.0)); // chairlift
                legs.push(Leg::go(60, 60.0, 90.0, 0.0));
                legs.push(Leg::go(208, 2500.0, 200.0, -350.0));
            }
            legs.push(Leg::go(60, 30.0, 0.0, 0.0));
            legs
        }
        SportKind::Other => vec![
            Leg::go(500, 1250.0, 70.0, 0.0),
            Leg::go(400, 1000.0, 160.0, 15.0).lap(),
            Leg::go(300, 750.0, 250.0, -15.0),
        ],
    }
}

/// Which files of a fixture are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copies {
    Plain,
    PlainAndGz,
    GzOnly,
}

/// One committed fixture: scenario, format and which copies are written.
#[derive(Clone, Debug)]
pub struct FixtureSpec {
    pub scenario: Scenario,
    pub format: SynthFormat,
    pub copies: Copies,
}

/// The committed fixture set (see [`write_fixture_set`]).
pub fn fixture_set() -> Vec<FixtureSpec> {
    use SynthFormat::{Fit, Gpx, Tcx};
    let mut out = Vec::new();
    let mut add = |s: Scenario, format: SynthFormat, copies: Copies| {
        out.push(FixtureSpec { scenario: s, format, copies })
    };

    // The ground-truth ride: 1 Hz and smart recording in every format.
    // The 1 Hz TCX (half a megabyte of XML) is committed gzipped only.
    for (format, seed) in [(Gpx, 11), (Tcx, 12), (Fit, 13)] {
        let mut s = base_scenario("synth-ride-1hz", SportKind::RoadRide, ride_legs(false), 0);
        s.title = Some("Synthetic ground-truth ride".to_owned());
        let gz = match format {
            Tcx => Copies::GzOnly,
            Fit => Copies::PlainAndGz,
            Gpx => Copies::Plain,
        };
        add(s.clone(), format, gz);
        s.name = "synth-ride-smart".to_owned();
        s.sampling = smart(seed);
        add(s, format, if format == Gpx { Copies::PlainAndGz } else { Copies::Plain });
    }
    // Auto-paused (1 Hz FIT with timer events; smart GPX in two segments).
    let mut s = base_scenario("synth-ride-paused", SportKind::RoadRide, ride_legs(true), 1);
    add(s.clone(), Fit, Copies::Plain);
    s.sampling = smart(21);
    add(s, Gpx, Copies::Plain);
    // GPS noise: smart GPX (distance from positions, altitude measured) and smart FIT
    // (device distance; no session ascent, so the noisy altitude is measured too).
    let mut s = base_scenario("synth-ride-noise", SportKind::RoadRide, ride_legs(false), 2);
    s.noise_seed = Some(7);
    s.device = Device::Development;
    s.sampling = smart(22);
    add(s.clone(), Gpx, Copies::Plain);
    s.sampling = smart(23);
    add(s, Fit, Copies::Plain);

    // Every other sport: XML mostly once, FIT for the second copy (small).
    let plan: [(SportKind, &[SynthFormat]); 11] = [
        (SportKind::MountainRide, &[Gpx, Fit]),
        (SportKind::IndoorRide, &[Fit, Tcx]),
        (SportKind::Run, &[Fit, Tcx]),
        (SportKind::TrailRun, &[Gpx, Fit]),
        (SportKind::Hike, &[Gpx]),
        (SportKind::Walk, &[Fit, Tcx]),
        (SportKind::PoolSwim, &[Fit]),
        (SportKind::OpenWaterSwim, &[Gpx, Fit]),
        (SportKind::NordicSki, &[Fit, Gpx]),
        (SportKind::AlpineSki, &[Gpx, Fit]),
        (SportKind::Other, &[Tcx]),
    ];
    for (day, (kind, formats)) in plan.iter().enumerate() {
        for (j, &format) in formats.iter().enumerate() {
            let mut s = base_scenario(
                &format!("synth-{}", kind.slug()),
                *kind,
                sport_legs(*kind),
                3 + day as i64,
            );
            s.start_lat_deg = 44.0 + day as f64 * 0.37;
            s.start_lon_deg = 6.0 + day as f64 * 0.41;
            s.start_ele_m =
                if *kind == SportKind::AlpineSki { 1450.0 } else { 300.0 + 50.0 * day as f64 };
            let seed = 100 + (day * 3 + j) as u64;
            let slow = matches!(
                kind,
                SportKind::Hike
                    | SportKind::Walk
                    | SportKind::Other
                    | SportKind::PoolSwim
                    | SportKind::OpenWaterSwim
            );
            // FIT of an indoor ride, a pool swim and a run at 1 Hz (small without XML).
            let one_hz = format == Fit
                && matches!(kind, SportKind::IndoorRide | SportKind::PoolSwim | SportKind::Run);
            s.sampling = if one_hz {
                Sampling::OneHz
            } else if slow {
                smart_slow(seed)
            } else {
                smart(seed)
            };
            // A GPX written in local time (+02:00) rather than UTC.
            s.gpx_local_times = *kind == SportKind::Hike;
            // Walks and "other" carry no heart-rate strap.
            s.hr = !matches!(kind, SportKind::Walk | SportKind::Other);
            if matches!(kind, SportKind::Run | SportKind::Walk) {
                s.device = Device::Development;
            }
            add(
                s,
                format,
                if *kind == SportKind::Run && format == Tcx {
                    Copies::PlainAndGz
                } else {
                    Copies::Plain
                },
            );
        }
    }
    out
}

/// Relative path of a fixture file inside `fixtures/activities/`.
pub fn fixture_rel_path(spec: &FixtureSpec, gz: bool) -> String {
    let ext = spec.format.ext();
    if gz {
        format!("gz/{}.{ext}.gz", spec.scenario.name)
    } else {
        format!("{ext}/{}.{ext}", spec.scenario.name)
    }
}

/// Write the committed fixtures under `out` (`fixtures/activities`): `{gpx,tcx,fit,gz}/`,
/// `expected/<file name>.json` with each file's ground truth, and `broken/`. Returns every
/// path written, sorted. Deterministic: re-running gives byte-identical files.
pub fn write_fixture_set(out: &Path) -> Result<Vec<PathBuf>, SynthError> {
    let mut written = Vec::new();
    let write = |rel: &str, bytes: &[u8], written: &mut Vec<PathBuf>| -> Result<(), SynthError> {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| SynthError::Io { path: dir.to_path_buf(), source })?;
        }
        std::fs::write(&path, bytes)
            .map_err(|source| SynthError::Io { path: path.clone(), source })?;
        written.push(path);
        Ok(())
    };
    for spec in fixture_set() {
        let copies: &[bool] = match spec.copies {
            Copies::Plain => &[false],
            Copies::PlainAndGz => &[false, true],
            Copies::GzOnly => &[true],
        };
        for &gz in copies {
            let rel = fixture_rel_path(&spec, gz);
            let track = spec.scenario.render(spec.format, &rel, gz);
            let mut bytes = write_format(&track, spec.format);
            if gz {
                bytes = gzip(&bytes, 9);
            }
            write(&rel, &bytes, &mut written)?;
            let file_name = rel.rsplit('/').next().unwrap_or(&rel);
            let json_rel = format!("expected/{file_name}.json");
            let mut json = serde_json::to_vec_pretty(&track.truth)
                .map_err(|source| SynthError::Json { path: out.join(&json_rel), source })?;
            json.push(b'\n');
            write(&json_rel, &json, &mut written)?;
        }
    }
    for (rel, bytes) in broken_files() {
        write(&rel, &bytes, &mut written)?;
    }
    written.sort();
    Ok(written)
}

/// One file per rejection reason, generated: `(relative path, bytes)`.
pub fn broken_files() -> Vec<(String, Vec<u8>)> {
    let not_activity = b"# Shopping list\n\n- inner tubes (700x28)\n- chain oil\n".to_vec();
    let route = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<gpx version=\"1.1\" creator=\"bincio-synth\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n\
<metadata><name>Planned route</name></metadata>\n\
<rte><name>Planned route</name>\n\
<rtept lat=\"45.0700000\" lon=\"7.6800000\"><ele>240.0</ele></rtept>\n\
<rtept lat=\"45.0790000\" lon=\"7.6800000\"><ele>245.0</ele></rtept>\n\
<rtept lat=\"45.0850000\" lon=\"7.6900000\"><ele>260.0</ele></rtept>\n\
</rte>\n</gpx>\n"
        .as_bytes()
        .to_vec();
    // A FIT cut inside the first record's definition: the header promises more data than
    // there is and not one record is readable.
    let mut s = base_scenario("broken", SportKind::RoadRide, ride_legs(false), 0);
    s.sampling = smart(1);
    let (fit, record_def_offset) =
        fit_writer::write_fit_parts(&s.render(SynthFormat::Fit, "broken/truncated.fit", false));
    let cut = (record_def_offset + 3).min(fit.len());
    let truncated = fit[..cut].to_vec();
    vec![
        ("broken/not-an-activity.gpx".to_owned(), not_activity),
        ("broken/route-only.gpx".to_owned(), route),
        ("broken/truncated.fit".to_owned(), truncated),
        ("broken/empty.tcx".to_owned(), Vec::new()),
    ]
}

// ---------------------------------------------------------------------------------------
// Benchmark corpus
// ---------------------------------------------------------------------------------------

/// A random scenario for the benchmark corpus: 30 min to 6 h, 1–10 s sampling.
/// Where the benchmark corpus's starts begin (2020-09-13 12:26:40 UTC): file `i` starts
/// 3 h × `i` later, plus up to 50 min.
pub const FIRST_REALISTIC_START_S: i64 = 1_600_000_000;

pub fn corpus_scenario(index: usize, seed: u64) -> (Scenario, SynthFormat, bool) {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let format = match index % 3 {
        0 => SynthFormat::Gpx,
        1 => SynthFormat::Tcx,
        _ => SynthFormat::Fit,
    };
    let gz = rng.unit() < 0.12;
    let mut kind = SportKind::ALL[rng.range(0, SportKind::ALL.len() as u32 - 1) as usize];
    if format == SynthFormat::Gpx && !kind.has_gps() {
        // A GPX point needs a position: no indoor ride or pool swim in GPX.
        kind = SportKind::RoadRide;
    }
    // Durations skewed towards shorter activities (as real collections are).
    let total_target_s = (1800.0 + 19_800.0 * rng.unit().powi(2)) as u32;
    let (v_lo, v_hi) = match kind.bas().0 {
        Sport::Cycling => (5.0, 12.0),
        Sport::Running => (2.5, 4.5),
        Sport::Hiking | Sport::Walking => (0.9, 1.6),
        Sport::Swimming => (0.8, 1.5),
        Sport::Skiing => (3.0, 12.0),
        Sport::Other | Sport::Multisport => (1.5, 6.0),
    };
    let powered = kind.bas().0 == Sport::Cycling || (kind == SportKind::NordicSki);
    let mut legs = Vec::new();
    let mut t = 0u32;
    let mut bearing = rng.uniform(0.0, 360.0);
    let mut ele = 0.0_f64;
    while t < total_target_s {
        let dur = rng.range(60, 900).min(total_target_s - t).max(1);
        let v = rng.uniform(v_lo, v_hi);
        bearing = (bearing + rng.uniform(-60.0, 60.0)).rem_euclid(360.0);
        let grade = rng.uniform(-0.06, 0.06);
        let dist = v * f64::from(dur);
        // Keep the altitude within a plausible band.
        let climb = if (ele + grade * dist).abs() > 800.0 { -grade * dist } else { grade * dist };
        ele += climb;
        let mut leg = Leg::go(dur, dist, bearing, climb);
        if powered {
            leg = leg.watts(rng.range(120, 320) as u16).cad(rng.range(70, 100) as u8);
        } else if kind.bas().0 == Sport::Running {
            leg = leg.cad(rng.range(78, 92) as u8);
        }
        if t > 0 && rng.unit() < 0.15 {
            legs.push(Leg::pause(rng.range(40, 600)));
        }
        legs.push(if t > 0 && rng.unit() < 0.3 { leg.lap() } else { leg });
        t += dur;
    }
    let max_interval_s = rng.range(1, 10);
    let sampling = if max_interval_s == 1 {
        Sampling::OneHz
    } else {
        Sampling::Smart { min_interval_s: 1, max_interval_s, seed: rng.next_u64() }
    };
    // Distinct starts, at least 3 h apart, so nothing near-deduplicates.
    let start_unix_s =
        FIRST_REALISTIC_START_S + index as i64 * 3 * 3600 + i64::from(rng.range(0, 3000));
    let scenario = Scenario {
        name: format!("bench-{index:05}-{}", kind.slug()),
        title: None,
        kind,
        start_unix_s,
        utc_offset_s: 3600 * rng.range(0, 3) as i32,
        start_lat_deg: rng.uniform(-50.0, 60.0),
        start_lon_deg: rng.uniform(-120.0, 150.0),
        start_ele_m: rng.uniform(0.0, 1500.0) + 900.0,
        legs,
        gps: true,
        altitude: true,
        hr: rng.unit() < 0.8,
        speed: true,
        sampling,
        noise_seed: (rng.unit() < 0.5).then(|| rng.next_u64()),
        device: if rng.unit() < 0.5 { Device::Garmin } else { Device::Development },
        gpx_local_times: false,
    };
    (scenario, format, gz)
}

/// One benchmark file: `(file name, bytes)`. Pure, so a benchmark may build files in
/// parallel.
pub fn corpus_file(index: usize, seed: u64) -> (String, Vec<u8>) {
    let (scenario, format, gz) = corpus_scenario(index, seed);
    let name = format!("{}.{}", scenario.name, format.ext());
    let track = scenario.render_with(format, &name, gz, false);
    let bytes = write_format(&track, format);
    if gz { (format!("{name}.gz"), gzip(&bytes, 1)) } else { (name, bytes) }
}

/// One realistic file for the instance benchmarks: the same scenarios (30 min to 6 h, mixed
/// formats and sports) recorded every second, one file in five gzipped.
pub fn realistic_file(index: usize, seed: u64) -> (String, Vec<u8>) {
    realistic_file_starting(index, seed, None)
}

/// [`realistic_file`] started at `start_unix_s` instead of its own start (index × 3 h after
/// 2020-09-13): a back-dated upload between the stored activities of an instance.
pub fn realistic_file_starting(
    index: usize,
    seed: u64,
    start_unix_s: Option<i64>,
) -> (String, Vec<u8>) {
    let (mut scenario, format, _) = corpus_scenario(index, seed);
    scenario.sampling = Sampling::OneHz;
    if let Some(start) = start_unix_s {
        scenario.start_unix_s = start;
    }
    let gz = index.is_multiple_of(5);
    let name = format!("{}.{}", scenario.name, format.ext());
    let track = scenario.render_with(format, &name, gz, false);
    let bytes = write_format(&track, format);
    if gz { (format!("{name}.gz"), gzip(&bytes, 1)) } else { (name, bytes) }
}

/// The benchmark corpus: `n` files of mixed formats (GPX/TCX/FIT in turn, ~12 % gzipped),
/// generated lazily one at a time.
pub fn corpus(n: usize, seed: u64) -> impl Iterator<Item = (String, Vec<u8>)> {
    (0..n).map(move |i| corpus_file(i, seed))
}

#[cfg(test)]
mod tests;
