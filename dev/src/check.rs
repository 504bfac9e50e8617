//! The device check: our figures against each device's own totals, for every sample file.
//!
//! `devices/MANIFEST.tsv` among the sample files (see docs/development.md) holds, per file,
//! what the device itself recorded (FIT session totals, TCX lap totals) or independent
//! figures (GPX haversine and time span).
//! This module extracts each file and compares field by field at the tolerances the project
//! promises: distance 1 %, elapsed 1 s, timer/moving 3 % where the device recorded pauses,
//! heart rate 1 bpm and power 1 W where the file has a session, and the BAS sport and
//! sub-sport the device's labels map to. `bincio-dev check` prints the table; a test asserts it.
//!
//! Where a file carries session totals, our published distance and averages *are* those
//! totals, so comparing them with the manifest would compare a number with itself. For those
//! files the distance, heart-rate and power rows compare what we compute from the samples
//! alone (`… (samples)`), and the differences that are understood are listed with their
//! reason in [`known_sample_discrepancy`], a list that can only shrink.

use bincio_bas::{Detail, Privacy, Sport, SubSport};
use bincio_gen::extract::{self, config::Sensors};
use bincio_gen::parse::fit::decode::FIT_EPOCH_UNIX_S;
use bincio_gen::{metrics, parse};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A problem reading the manifest.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {reason}")]
    Manifest { path: PathBuf, line: usize, reason: String },
}

/// One compared figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub file: String,
    pub field: &'static str,
    pub ours: String,
    pub device: String,
    pub tolerance: &'static str,
    pub ok: bool,
}

/// What the BAS sport and sub-sport of each sample must be, from the device's own labels
/// (FIT session sport/sub_sport, TCX Sport attribute, GPX `<type>`), mapped by hand.
/// `None` = the file must be rejected (with a one-line reason).
fn expected_sport(file: &str) -> Option<(Sport, Option<SubSport>)> {
    use Sport::*;
    use SubSport::*;
    let v = match file {
        "fff__activity_multiple_developer_index.fit" => (Cycling, Some(Indoor)),
        // Multisport (mountain bike 55 s, trail run 22 s): legs, compared one by one below.
        "fff__activity_multisport.fit" => (Multisport, None),
        // No sport, session or lap message survives: nothing says what it was.
        "fff__activity_truncated.fit" => (Other, None),
        "fff__karoo_20251119.fit" => (Cycling, None),
        "fff__mywhoosh_20260111.fit" | "fff__tpv_20251120.fit" => (Cycling, Some(Indoor)),
        "fff__zwift_non_utf8_20260130.fit" => (Cycling, Some(Indoor)),
        "fitparse__2013-02-06-12-11-14.fit" => (Running, None),
        "fitparse__20170518-191602-1740899583.fit" => (Other, Some(Indoor)),
        "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit" => (Cycling, None),
        "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit" => (Cycling, None),
        "fitparse__activity-activity-filecrc.fit" => (Running, None),
        // Generic, run, run and cycling legs with transitions: multisport, legs compared below.
        "fitparse__activity-large-fenxi2-multisport.fit" => (Multisport, None),
        "fitparse__activity-settings-corruptheader.fit" => (Running, None),
        "fitparse__activity-unexpected-eof.fit" => (Running, None),
        "fitparse__antfs-dump.63.fit" | "fitparse__compressed-speed-distance.fit" => {
            (Running, None)
        }
        "fitparse__coros-pace-2-cycling-misaligned-fields.fit" => (Cycling, None),
        "fitparse__developer-types-sample.fit" => (Running, None),
        "fitparse__event_timestamp.fit" => (Swimming, Some(Pool)),
        "fitparse__garmin-fenix-5-bike.FIT" => (Cycling, None),
        "fitparse__nick.fit" => (Cycling, None),
        "fitparse__null_compressed_speed_dist.fit" => (Cycling, Some(Indoor)),
        // The session says cycling/generic; a ride without a single GPS fix is on a trainer.
        "fitparse__sample-activity-indoor-trainer.fit" => (Cycling, Some(Indoor)),
        "fitparse__strava-android-app-201.10-b1218918.fit" => (Running, None),
        "georust__garmin_with_extensions.gpx" | "georust__wahoo_example.gpx" => (Other, None),
        "gofit__0134902991.fit" | "gofit__unterminated-strings.fit" => (Cycling, Some(Indoor)),
        "gofit__edge530.fit" => (Cycling, Some(Road)),
        "gpxpy__korita-zbevnica.gpx" | "gpxpy__track-with-empty-segment.gpx" => (Other, None),
        "tcxtest__cross-country-skiing_activity_1.tcx" => (Other, None),
        "tcxtest__pool_swim-activity_1.tcx" | "tcxtest__sup_activity_2.tcx" => (Other, None),
        "tcxtest__running_activity_1-https-ns.tcx" => (Running, None),
        _ => return None,
    };
    Some(v)
}

/// The BAS name of a FIT session sport, mapped by hand from the FIT profile (not with the
/// extractor's own mapping, which is what is being checked); `transition` stays itself.
fn fit_sport_name(fit_sport: u8) -> &'static str {
    match fit_sport {
        1 => "running",
        2 => "cycling",
        3 => "transition",
        5 => "swimming",
        11 => "walking",
        12..=14 => "skiing",
        17 => "hiking",
        _ => "other",
    }
}

/// Files that must be rejected, with a word their reason must contain.
fn expected_rejection(file: &str) -> Option<&'static str> {
    match file {
        // A planned route: no timestamps at all.
        "georust__strava_route_example.gpx" => Some("time"),
        // Every point carries 1901-12-13 (INT32_MIN): a clock that was never set.
        "gpxpy__Mojstrovka.gpx" => Some("1990"),
        _ => None,
    }
}

/// Where the manifest's independent figure measures something other than the recording.
fn independent_distance_override(file: &str) -> Option<f64> {
    match file {
        // The manifest sums every track, including "03-OCT-10 #2": a saved copy of the route
        // with 358 points and no timestamps at all. The recording is the two "ACTIVE LOG"
        // tracks (513 timed points); their haversine within segments, computed independently
        // (Python, R = 6 371 000 m), is 6 261.54 m.
        "gpxpy__korita-zbevnica.gpx" => Some(6261.54),
        _ => None,
    }
}

/// Figures computed from the samples alone that are known to differ from the device's own
/// session totals, with the reason. A row listed here counts as passing while it still
/// differs and as failing once it matches (then remove it from this list): the list can only
/// shrink as extraction improves.
fn known_sample_discrepancy(file: &str, field: &str) -> Option<&'static str> {
    Some(match (file, field) {
        ("fff__activity_multiple_developer_index.fit", "distance_m (samples)") => {
            "indoor: the device's distance is from the trainer, the samples' from speed"
        }
        (
            "fff__activity_multiple_developer_index.fit",
            "avg_power_w (samples)" | "max_power_w (samples)",
        ) => {
            "the device's figures include power spikes of tens of kW the plausibility filter removes"
        }
        ("fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit", "max_power_w (samples)") => {
            "the device's maximum is a 1 s peak between recorded samples"
        }
        ("fitparse__activity-activity-filecrc.fit", "distance_m (samples)") => {
            "a 2-point file: the session counts a segment the records do not hold"
        }
        ("fitparse__activity-large-fenxi2-multisport.fit", "distance_m (samples)") => {
            "multisport: legs without GPS records still count in the session total"
        }
        ("fitparse__event_timestamp.fit", "avg_hr_bpm (samples)" | "max_hr_bpm (samples)") => {
            "heart rate only in the session message, none in the records"
        }
        ("fitparse__garmin-fenix-5-bike.FIT", "avg_hr_bpm (samples)") => {
            "the device averages over timer time, the samples over recorded seconds"
        }
        ("fitparse__strava-android-app-201.10-b1218918.fit", "distance_m (samples)") => {
            "records cover a fraction of the ride (app recording gaps)"
        }
        ("gofit__edge530.fit", "avg_power_w (samples)") => {
            "the device averages over timer time, the samples over recorded seconds"
        }
        (
            "gofit__unterminated-strings.fit",
            "distance_m (samples)"
            | "avg_hr_bpm (samples)"
            | "avg_power_w (samples)"
            | "max_power_w (samples)",
        ) => "a few seconds of records: device totals include what was not recorded",
        ("tcxtest__cross-country-skiing_activity_1.tcx", "avg_hr_bpm (samples)")
        | ("tcxtest__sup_activity_2.tcx", "avg_hr_bpm (samples)") => {
            "lap averages weighted by lap time, the samples' by recorded seconds"
        }
        _ => return None,
    })
}

fn num(v: Option<&String>) -> Option<f64> {
    v.and_then(|s| s.trim().parse::<f64>().ok())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") })
        .unwrap_or_else(|| "-".into())
}

/// Read MANIFEST.tsv into one map per row.
pub fn read_manifest(path: &Path) -> Result<Vec<HashMap<String, String>>, CheckError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| CheckError::Read { path: path.to_path_buf(), source })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| CheckError::Manifest {
            path: path.to_path_buf(),
            line: 1,
            reason: "empty manifest".into(),
        })?
        .split('\t')
        .collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header.iter().zip(l.split('\t')).map(|(h, v)| ((*h).to_owned(), v.to_owned())).collect()
        })
        .collect())
}

/// Extract every file of `devices_dir` and compare it with its manifest row.
pub fn check_devices(devices_dir: &Path) -> Result<Vec<Row>, CheckError> {
    let manifest = read_manifest(&devices_dir.join("MANIFEST.tsv"))?;
    let mut rows = Vec::new();
    for entry in &manifest {
        let Some(file) = entry.get("file").cloned() else { continue };
        let path = devices_dir.join(&file);
        let raw = std::fs::read(&path)
            .map_err(|source| CheckError::Read { path: path.clone(), source })?;
        let result = std::panic::catch_unwind(|| {
            extract::extract_file(
                &raw,
                &file,
                Privacy::Public,
                Sensors::default(),
                0.0001,
                None,
                "UTC",
            )
        });
        let row = |field: &'static str,
                   ours: String,
                   device: String,
                   tolerance: &'static str,
                   ok: bool| {
            match known_sample_discrepancy(&file, field) {
                Some(reason) if !ok => {
                    Row { file: file.clone(), field, ours, device, tolerance: reason, ok: true }
                }
                Some(_) => Row {
                    file: file.clone(),
                    field,
                    ours,
                    device,
                    tolerance: "now matches: remove it from the known discrepancies",
                    ok: false,
                },
                None => Row { file: file.clone(), field, ours, device, tolerance, ok },
            }
        };
        let detail: Detail = match result {
            Err(_) => {
                rows.push(row("result", "panic".into(), "activity".into(), "no panic", false));
                continue;
            }
            Ok(Err(e)) => {
                let reason = e.to_string();
                let ok = expected_rejection(&file).is_some_and(|w| reason.contains(w));
                let want = expected_rejection(&file).map_or("an activity", |_| "rejected");
                rows.push(row(
                    "result",
                    format!("rejected: {reason}"),
                    want.into(),
                    "one-line reason",
                    ok,
                ));
                continue;
            }
            Ok(Ok((_, a))) => a.detail,
        };
        if expected_rejection(&file).is_some() {
            rows.push(row("result", "activity".into(), "rejected".into(), "-", false));
            continue;
        }
        let g = |k: &str| num(entry.get(k));
        // Our published figures take the device's session totals when the file has them, so
        // comparing those with the manifest's session columns would compare a number with
        // itself. For such files the rows below compare what we compute from the samples
        // alone (the file's totals removed) instead, under the field name `… (samples)`.
        let from_samples =
            parse::parse_bytes(&raw).ok().filter(|a| a.totals.is_some()).map(|mut a| {
                a.totals = None;
                a.laps.clear();
                metrics::compute(&a)
            });
        let (dist_field, ours_dist) = match &from_samples {
            Some(m) => ("distance_m (samples)", m.distance_m),
            None => ("distance_m", detail.distance_m),
        };
        // Distance: device/lap totals, else the independent haversine.
        let dev_dist =
            independent_distance_override(&file).or(g("distance_m")).or(g("computed_haversine_m"));
        if let Some(dev) = dev_dist.filter(|d| *d > 0.0) {
            let ok = ours_dist.is_some_and(|o| (o - dev).abs() <= dev * 0.01);
            rows.push(row(dist_field, fmt_opt(ours_dist), fmt_opt(Some(dev)), "1 %", ok));
        }
        let dev_elapsed = g("elapsed_s").or(g("computed_span_s"));
        if let Some(dev) = dev_elapsed {
            let ours = detail.duration_s.map(|d| d as f64);
            let ok = ours.is_some_and(|o| (o - dev).abs() <= 1.0);
            rows.push(row("elapsed_s", fmt_opt(ours), fmt_opt(Some(dev)), "1 s", ok));
        }
        let decoded = parse::maybe_decompress(&raw)
            .ok()
            .and_then(|b| parse::fit::decode::decode(&b).ok())
            .unwrap_or_default();
        let active: Vec<_> = decoded.lengths.iter().filter(|l| l.length_type == Some(1)).collect();
        let pool_lengths = detail.sub_sport == Some(SubSport::Pool) && !active.is_empty();
        // A pool swim's timer runs through the rests at the wall; its moving time is the time
        // of the lengths swum, compared below.
        if let (Some(timer), Some(elapsed)) = (g("timer_s"), dev_elapsed)
            && timer < elapsed - 1.0
            && !pool_lengths
        {
            let ours = detail.moving_time_s.map(|d| d as f64);
            let ok = ours.is_some_and(|o| (o - timer).abs() <= timer * 0.03);
            rows.push(row("moving_time_s", fmt_opt(ours), fmt_opt(Some(timer)), "3 %", ok));
        }
        let m = from_samples.as_ref();
        let pick = |name: &'static str,
                    sampled: &'static str,
                    published: Option<i64>,
                    f: fn(&metrics::Metrics) -> Option<i64>| {
            m.map_or((name, published), |m| (sampled, f(m)))
        };
        let ints: [(&'static str, &str, Option<i64>, f64); 4] = [
            {
                let (n, v) =
                    pick("avg_hr_bpm", "avg_hr_bpm (samples)", detail.avg_hr_bpm, |m| m.avg_hr_bpm);
                (n, "avg_hr", v, 1.0)
            },
            {
                let (n, v) =
                    pick("max_hr_bpm", "max_hr_bpm (samples)", detail.max_hr_bpm, |m| m.max_hr_bpm);
                (n, "max_hr", v, 1.0)
            },
            {
                let (n, v) =
                    pick("avg_power_w", "avg_power_w (samples)", detail.avg_power_w, |m| {
                        m.avg_power_w
                    });
                (n, "avg_power", v, 1.0)
            },
            {
                let (n, v) =
                    pick("max_power_w", "max_power_w (samples)", detail.max_power_w, |m| {
                        m.max_power_w
                    });
                (n, "max_power", v, 1.0)
            },
        ];
        for (field, col, ours, tol) in ints {
            if let Some(dev) = g(col).filter(|v| *v > 0.0) {
                let ours = ours.map(|o| o as f64);
                let ok = ours.is_some_and(|o| (o - dev).abs() <= tol);
                let t = if field.contains("hr") { "1 bpm" } else { "1 W" };
                rows.push(row(field, fmt_opt(ours), fmt_opt(Some(dev)), t, ok));
            }
        }
        // Multisport: each leg against the device's own session for it (sport, distance,
        // elapsed time), read from the file's session messages.
        for (n, leg) in detail.legs.iter().enumerate() {
            let start_ms = leg.started_at.unix_ms();
            let Some(session) = decoded.sessions.iter().find(|s| {
                s.start_time.is_some_and(|t| (i64::from(t) + FIT_EPOCH_UNIX_S) * 1000 == start_ms)
            }) else {
                rows.push(Row {
                    file: format!("{file} leg {}", n + 1),
                    field: "leg session",
                    ours: leg.started_at.to_string(),
                    device: "-".into(),
                    tolerance: "a session starts with each leg",
                    ok: false,
                });
                continue;
            };
            let leg_file = format!("{file} leg {}", n + 1);
            let leg_row = |field: &'static str, ours: String, device: String, tol, ok| Row {
                file: leg_file.clone(),
                field,
                ours,
                device,
                tolerance: tol,
                ok,
            };
            let ours_sport = if leg.transition { "transition" } else { leg.sport.as_str() };
            let dev_sport = session.sport.map_or("other", fit_sport_name);
            rows.push(leg_row(
                "leg sport",
                ours_sport.into(),
                dev_sport.into(),
                "equal",
                ours_sport == dev_sport,
            ));
            if let Some(dev) = session.distance_m.filter(|d| *d > 0.0) {
                let ok = leg.distance_m.is_some_and(|o| (o - dev).abs() <= dev * 0.01);
                rows.push(leg_row(
                    "leg distance_m",
                    fmt_opt(leg.distance_m),
                    fmt_opt(Some(dev)),
                    "1 %",
                    ok,
                ));
            }
            if let Some(dev) = session.elapsed_s {
                let ours = leg.duration_s.map(|d| d as f64);
                let ok = ours.is_some_and(|o| (o - dev).abs() <= 1.0);
                rows.push(leg_row("leg elapsed_s", fmt_opt(ours), fmt_opt(Some(dev)), "1 s", ok));
            }
        }
        // Pool swims: the lengths the watch detected decide distance, swim time and the
        // fastest length; no maximum from the samples' distance steps.
        if pool_lengths {
            let swim_s: f64 = active.iter().filter_map(|l| l.timer_s).sum();
            let ours = detail.moving_time_s.map(|d| d as f64);
            let ok = ours.is_some_and(|o| (o - swim_s).abs() <= 1.0);
            rows.push(row(
                "moving_time_s (lengths)",
                fmt_opt(ours),
                fmt_opt(Some(swim_s)),
                "1 s",
                ok,
            ));
            if let Some(dev) = g("max_speed_mps").map(|v| v * 3.6) {
                let ok = detail.max_speed_kmh.is_some_and(|o| (o - dev).abs() <= 0.05);
                rows.push(row(
                    "max_speed_kmh",
                    fmt_opt(detail.max_speed_kmh),
                    fmt_opt(Some((dev * 100.0).round() / 100.0)),
                    "0.05 km/h",
                    ok,
                ));
            }
        }
        if let Some((sport, sub)) = expected_sport(&file) {
            let ours =
                format!("{}/{}", detail.sport, detail.sub_sport.map_or("-", SubSport::as_str));
            let want = format!("{sport}/{}", sub.map_or("-", SubSport::as_str));
            rows.push(row("sport", ours.clone(), want.clone(), "equal", ours == want));
        }
        // What the plausibility filter removed, and whether every published figure is now
        // within the human bounds of docs/plausibility.md.
        let broken = metrics::plausible::violations(&detail);
        let removed =
            detail.cleaning.as_ref().map_or_else(|| "nothing".to_owned(), |c| c.describe());
        let ours = if broken.is_empty() { removed } else { broken.join(", ") };
        rows.push(row(
            "plausible (removed)",
            ours,
            "human bounds".into(),
            "none broken",
            broken.is_empty(),
        ));
    }
    Ok(rows)
}

/// Render rows as an aligned text table, with a closing count line.
pub fn format_table(rows: &[Row]) -> String {
    let w_file = rows.iter().map(|r| r.file.len()).max().unwrap_or(4).max(4);
    let w_ours = rows.iter().map(|r| r.ours.len()).max().unwrap_or(4).clamp(4, 60);
    let mut out = format!(
        "{:<w_file$}  {:<21}  {:>w_ours$}  {:>12}  {:<15}  {}\n",
        "file", "field", "ours", "device", "tolerance", "ok"
    );
    for r in rows {
        let ours: String = r.ours.chars().take(60).collect();
        out.push_str(&format!(
            "{:<w_file$}  {:<21}  {:>w_ours$}  {:>12}  {:<15}  {}\n",
            r.file,
            r.field,
            ours,
            r.device,
            r.tolerance,
            if r.ok { "ok" } else { "MISMATCH" }
        ));
    }
    let bad = rows.iter().filter(|r| !r.ok).count();
    out.push_str(&format!("{} comparisons within tolerance, {bad} mismatches\n", rows.len() - bad));
    out
}
