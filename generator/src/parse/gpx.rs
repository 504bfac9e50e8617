//! GPX parser: a streaming quick-xml state machine over `<trk>/<trkseg>/<trkpt>`.
//!
//! Why not the `gpx` crate: it drops `<extensions>`, so heart rate, cadence, power and
//! temperature would be lost (it is the right tool for *writing* GPX). Why a hand-written state
//! machine: one pass, no DOM, no allocation per point, so parsing runs at hundreds of MB/s.
//!
//! Decisions (docs/decisions.md E1, E2, E3, E5, E7; where we differ, docs/decisions.md W1, W7):
//! - Every track and segment is read; routes (`<rte>`) and waypoints are not activities. A file
//!   whose only geometry is a route fails with `NotAnActivity("GPX route without a recorded
//!   track")`; a file with track points but no timestamps (a planned route exported as a track,
//!   e.g. Strava's route export) or with nothing at all fails with `NoTrackPoints`.
//! - Points without `<time>` are skipped (kept points are counted in a warning). Points stamped
//!   before 1990 are not trusted; when *every* timed point is, the file fails with
//!   `Invalid("timestamps are before 1990 (device clock not set?)")`.
//! - Element names are matched on their local name (prefix stripped), case-insensitively.
//!   Sensor channels come from anywhere below a point's `<extensions>`: Garmin
//!   TrackPointExtension v1/v2 (`hr`, `cad`, `atemp`, `wtemp`, `speed`, `power`), a bare
//!   `<power>` (Strava, Wahoo), Cluetrust `gpxdata:` (`hr`, `cadence`, `temp`, `distance`), and
//!   the `heartrate`/`PowerInWatts`/`watts` spellings of other apps. The first value wins.
//! - The title is `<trk><name>`, else `<metadata><name>` (or GPX 1.0's top-level `<name>`),
//!   unless it is only an ISO timestamp (converters write those); the
//!   description is `<trk><desc>`; the sport is `<trk><type>` through [`crate::sport`], with
//!   Strava's numeric codes translated first. A missing type is `Other`, never cycling.
//! - The UTC offset of the first timestamp (file order) is kept as the activity's offset.
//! - `source`, `device` and the altimeter guess come from the `creator` attribute.

use super::ParseError;
use super::xml::{self, TextBuf, is, local};
use crate::model::{Activity, Format, Sample};
use crate::sport::{normalise_sport, normalise_sub_sport};
use quick_xml::events::{BytesRef, BytesStart};

/// Which element's text is being read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leaf {
    None,
    Ele,
    Time,
    Hr,
    Cad,
    Power,
    Temp,
    WaterTemp,
    Speed,
    Distance,
    TrkName,
    TrkDesc,
    TrkType,
    MetaName,
}

/// The leaf an element below a point's `<extensions>` is, by local name.
fn extension_leaf(name: &[u8]) -> Leaf {
    match name.len() {
        2 if is(name, b"hr") => Leaf::Hr,
        3 if is(name, b"cad") => Leaf::Cad,
        3 if is(name, b"pwr") => Leaf::Power,
        4 if is(name, b"temp") => Leaf::Temp,
        5 if is(name, b"atemp") => Leaf::Temp,
        5 if is(name, b"wtemp") => Leaf::WaterTemp,
        5 if is(name, b"power") => Leaf::Power,
        5 if is(name, b"speed") => Leaf::Speed,
        5 if is(name, b"watts") => Leaf::Power,
        7 if is(name, b"cadence") => Leaf::Cad,
        8 if is(name, b"distance") => Leaf::Distance,
        9 if is(name, b"heartrate") => Leaf::Hr,
        10 if is(name, b"heart_rate") => Leaf::Hr,
        10 if is(name, b"runcadence") => Leaf::Cad,
        11 if is(name, b"temperature") => Leaf::Temp,
        12 if is(name, b"powerinwatts") => Leaf::Power,
        _ => Leaf::None,
    }
}

/// Strava's GPX exports write `<type>` as a number. Codes from Strava's activity-type order
/// (1 = Ride and 9 = Run are the ones seen in real exports); unknown codes become `Other`.
fn strava_type_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "1" => "Ride",
        "2" => "AlpineSki",
        "3" => "BackcountrySki",
        "4" => "Hike",
        "7" => "NordicSki",
        "8" => "RollerSki",
        "9" => "Run",
        "10" => "Walk",
        "12" => "Snowboard",
        "13" => "Snowshoe",
        "16" => "Swim",
        "17" => "VirtualRide",
        "18" => "EBikeRide",
        "19" => "Velomobile",
        "51" => "Handcycle",
        "53" => "VirtualRun",
        _ => return None,
    })
}

#[derive(Default)]
struct State {
    depth: u32,
    /// Depth of the open `<gpx>` root, `<trk>`, `<metadata>`, `<trkpt>`, `<extensions>`.
    root_depth: Option<u32>,
    trk_depth: Option<u32>,
    meta_depth: Option<u32>,
    pt_depth: Option<u32>,
    ext_depth: Option<u32>,
    leaf: Option<(Leaf, u32)>,
    text: TextBuf,

    cur: Sample,
    cur_has_time: bool,
    cur_offset_s: i32,
    cur_water_temp: Option<f64>,

    samples: Vec<Sample>,
    first_offset_s: Option<i32>,
    n_trkpt: usize,
    n_untimed: usize,
    n_bogus: usize,
    n_rtept: usize,
    n_wpt: usize,

    creator: Option<String>,
    trk_name: Option<String>,
    trk_desc: Option<String>,
    trk_type: Option<String>,
    meta_name: Option<String>,
}

impl State {
    fn start(&mut self, e: &BytesStart<'_>) {
        self.depth += 1;
        let d = self.depth;
        let qname = e.name();
        let name = local(qname.as_ref());
        if self.pt_depth.is_some() {
            let leaf = if self.ext_depth.is_some() {
                extension_leaf(name)
            } else if is(name, b"ele") {
                Leaf::Ele
            } else if is(name, b"time") {
                Leaf::Time
            } else if is(name, b"extensions") {
                self.ext_depth = Some(d);
                Leaf::None
            } else if is(name, b"speed") {
                // GPX 1.0 has <speed> (m/s) directly in the point.
                Leaf::Speed
            } else {
                Leaf::None
            };
            if leaf != Leaf::None {
                self.leaf = Some((leaf, d));
            }
            return;
        }
        if self.trk_depth.is_some() {
            if is(name, b"trkpt") {
                self.n_trkpt += 1;
                self.pt_depth = Some(d);
                self.cur = Sample::default();
                self.cur_has_time = false;
                self.cur_water_temp = None;
                for a in e.attributes().with_checks(false).flatten() {
                    let k = local(a.key.as_ref());
                    if is(k, b"lat") {
                        self.cur.lat_deg = xml::parse_lat(&a.value);
                    } else if is(k, b"lon") {
                        self.cur.lon_deg = xml::parse_lon(&a.value);
                    }
                }
                // A point without both coordinates has no position at all.
                if self.cur.lat_deg.is_none() || self.cur.lon_deg.is_none() {
                    self.cur.lat_deg = None;
                    self.cur.lon_deg = None;
                }
            } else if self.trk_depth == Some(d - 1) {
                let leaf = if is(name, b"name") {
                    Leaf::TrkName
                } else if is(name, b"desc") {
                    Leaf::TrkDesc
                } else if is(name, b"type") {
                    Leaf::TrkType
                } else {
                    Leaf::None
                };
                if leaf != Leaf::None {
                    self.text.clear();
                    self.leaf = Some((leaf, d));
                }
            }
            return;
        }
        let under_root = self.root_depth.is_some_and(|r| r + 1 == d);
        let under_meta = self.meta_depth.is_some_and(|m| m + 1 == d);
        if is(name, b"trk") {
            self.trk_depth = Some(d);
        } else if (under_root || under_meta) && is(name, b"name") {
            // <metadata><name> (GPX 1.1) or <gpx><name> (GPX 1.0).
            self.text.clear();
            self.leaf = Some((Leaf::MetaName, d));
        } else if is(name, b"metadata") {
            self.meta_depth = Some(d);
        } else if is(name, b"rtept") {
            self.n_rtept += 1;
        } else if is(name, b"wpt") {
            self.n_wpt += 1;
        } else if self.root_depth.is_none() && is(name, b"gpx") {
            self.root_depth = Some(d);
            self.creator = xml::attr_text(e, b"creator");
        }
    }

    fn end(&mut self) {
        let d = self.depth;
        if let Some((leaf, ld)) = self.leaf
            && ld == d
        {
            self.finish_leaf(leaf);
            self.leaf = None;
        }
        if self.ext_depth == Some(d) {
            self.ext_depth = None;
        }
        if self.pt_depth == Some(d) {
            self.finish_point();
            self.pt_depth = None;
            self.ext_depth = None;
        } else if self.trk_depth == Some(d) {
            self.trk_depth = None;
        } else if self.meta_depth == Some(d) {
            self.meta_depth = None;
        } else if self.root_depth == Some(d) {
            self.root_depth = None;
        }
        self.depth = d.saturating_sub(1);
    }

    fn finish_leaf(&mut self, leaf: Leaf) {
        let slot = match leaf {
            Leaf::TrkName => &mut self.trk_name,
            Leaf::TrkDesc => &mut self.trk_desc,
            Leaf::TrkType => &mut self.trk_type,
            Leaf::MetaName => &mut self.meta_name,
            _ => return,
        };
        // The first non-empty value wins (first track, first metadata).
        let value = self.text.take();
        if slot.is_none() {
            *slot = value;
        }
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
        if self.cur.temperature_c.is_none() {
            self.cur.temperature_c = self.cur_water_temp;
        }
        self.samples.push(std::mem::take(&mut self.cur));
    }

    /// Text of the current leaf. Numbers are parsed straight from the borrowed bytes; the
    /// first value of a channel wins.
    fn text(&mut self, t: &[u8]) {
        let Some((leaf, _)) = self.leaf else { return };
        let c = &mut self.cur;
        match leaf {
            Leaf::None => {}
            Leaf::Ele => {
                if c.ele_m.is_none() {
                    c.ele_m = xml::parse_f64(t);
                }
            }
            Leaf::Time => {
                if !self.cur_has_time
                    && let Some((ms, off)) = xml::parse_timestamp(t)
                {
                    c.ts_ms = ms;
                    self.cur_offset_s = off;
                    self.cur_has_time = true;
                }
            }
            Leaf::Hr => {
                if c.hr_bpm.is_none() {
                    c.hr_bpm = xml::parse_u16(t);
                }
            }
            Leaf::Cad => {
                if c.cadence_rpm.is_none() {
                    c.cadence_rpm = xml::parse_u16(t);
                }
            }
            Leaf::Power => {
                if c.power_w.is_none() {
                    c.power_w = xml::parse_u16(t);
                }
            }
            Leaf::Temp => {
                if c.temperature_c.is_none() {
                    c.temperature_c = xml::parse_f64(t);
                }
            }
            Leaf::WaterTemp => {
                if self.cur_water_temp.is_none() {
                    self.cur_water_temp = xml::parse_f64(t);
                }
            }
            Leaf::Speed => {
                if c.speed_ms.is_none() {
                    c.speed_ms = xml::parse_f64(t).filter(|v| *v >= 0.0);
                }
            }
            Leaf::Distance => {
                if c.distance_m.is_none() {
                    c.distance_m = xml::parse_f64(t).filter(|v| *v >= 0.0);
                }
            }
            Leaf::TrkName | Leaf::TrkDesc | Leaf::TrkType | Leaf::MetaName => {
                self.text.push_raw(t);
            }
        }
    }

    fn is_string_leaf(&self) -> bool {
        matches!(
            self.leaf,
            Some((Leaf::TrkName | Leaf::TrkDesc | Leaf::TrkType | Leaf::MetaName, _))
        )
    }

    fn into_activity(self) -> Result<Activity, ParseError> {
        if self.samples.is_empty() {
            return Err(if self.n_bogus > 0 {
                ParseError::Invalid("timestamps are before 1990 (device clock not set?)".into())
            } else if self.n_trkpt == 0 && self.n_rtept > 0 {
                ParseError::NotAnActivity("GPX route without a recorded track".into())
            } else {
                ParseError::NoTrackPoints
            });
        }
        let mut a = Activity::empty(Format::Gpx);
        if self.n_untimed > 0 {
            a.warnings.push(format!(
                "{} of {} track points have no timestamp and were skipped",
                self.n_untimed, self.n_trkpt
            ));
        }
        if self.n_bogus > 0 {
            a.warnings.push(format!(
                "{} track points stamped before 1990 were skipped (device clock not set?)",
                self.n_bogus
            ));
        }
        if let Some(raw) = self.trk_type.as_deref() {
            let raw = strava_type_code(raw).unwrap_or(raw);
            a.sport = normalise_sport(raw);
            a.sub_sport = normalise_sub_sport(raw);
        }
        // A name that is only an ISO timestamp (`2013-07-06T14:59:00Z`, written by converters)
        // is not a title: the auto-title is more useful.
        let is_title = |n: &String| xml::parse_timestamp(n.as_bytes()).is_none();
        a.name = self.trk_name.filter(is_title).or(self.meta_name.filter(is_title));
        a.description = self.trk_desc;
        if let Some(creator) = self.creator.as_deref() {
            a.source = xml::source_from_creator(creator).map(str::to_owned);
            a.device = xml::device_from_creator(creator);
        }
        a.altitude_source = xml::altitude_source_for_device(a.device.as_deref());
        a.utc_offset_s = self.first_offset_s.filter(|&o| o != 0);
        a.samples = self.samples;
        a.normalise_time_order();
        Ok(a)
    }
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
        State::is_string_leaf(self)
    }
    fn has_points(&self) -> bool {
        !self.samples.is_empty()
    }
}

/// Parse decompressed GPX bytes.
pub fn parse(bytes: &[u8]) -> Result<Activity, ParseError> {
    let (st, truncated) = xml::drive(bytes, || {
        let mut st = State::default();
        // Typical GPX spends ~120 bytes per point; reserve without trusting huge inputs.
        st.samples.reserve((bytes.len() / 120).min(1 << 20));
        st
    })?;
    let mut a = st.into_activity()?;
    if let Some(w) = truncated {
        a.warnings.push(w);
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::xml::samples::{manifest, read_sample, sample_path, span_s};
    use bincio_bas::{AltitudeSource, Sport, SubSport};
    use proptest::prelude::*;

    fn parse_sample(rel: &str) -> Result<Activity, ParseError> {
        parse(&read_sample(rel))
    }

    /// Every GPX in `devices/`: counts and spans against MANIFEST.tsv, or the expected reason.
    #[test]
    fn device_samples_match_manifest() {
        let rows = manifest();
        let mut seen = 0;
        for row in rows.iter().filter(|r| r.format == "gpx") {
            seen += 1;
            let got = parse_sample(&format!("devices/{}", row.file));
            match row.file.as_str() {
                "georust__strava_route_example.gpx" => {
                    // A Strava route exported as a track: 113 points, none with a time.
                    assert_eq!(got, Err(ParseError::NoTrackPoints), "{}", row.file);
                }
                "gpxpy__Mojstrovka.gpx" => {
                    let err = got.expect_err("1901 timestamps must not be trusted");
                    assert!(
                        matches!(&err, ParseError::Invalid(m) if m.contains("before 1990")),
                        "{err}"
                    );
                    assert_eq!(err.to_string().lines().count(), 1);
                }
                "gpxpy__korita-zbevnica.gpx" => {
                    // Only 513 of the 871 points carry a time (MANIFEST edge_cases).
                    let a = got.expect("korita parses");
                    assert_eq!(a.samples.len(), 513);
                    assert_eq!(row.n_points, Some(871));
                    assert_eq!(span_s(&a), row.span_s.expect("span"));
                    assert!(
                        a.warnings.iter().any(|w| w.contains("358 of 871")),
                        "{:?}",
                        a.warnings
                    );
                }
                _ => {
                    let a = got.unwrap_or_else(|e| panic!("{}: {e}", row.file));
                    assert_eq!(Some(a.samples.len()), row.n_points, "{}", row.file);
                    assert_eq!(span_s(&a), row.span_s.expect("span"), "{}", row.file);
                }
            }
        }
        assert_eq!(seen, 6, "six GPX samples in devices/");
    }

    /// brut/ and dave/: every GPX parses; start and duration agree with the reference's own
    /// output (reference-output/*/index.json) except where the reference did not sort
    /// (docs/decisions.md W1).
    #[test]
    fn brut_and_dave_match_reference_start_and_duration() {
        // (file, reference started_at as Unix s, reference duration_s, points, sport)
        let cases: [(&str, i64, i64, usize, Sport); 17] = [
            ("brut/1026973739.gpx", 1_496_941_069, 892, 573, Sport::Running),
            ("brut/1031803281.gpx", 1_497_195_116, 1315, 849, Sport::Running),
            ("brut/1034867910.gpx", 1_497_373_614, 2612, 1134, Sport::Running),
            ("brut/2251973623.gpx", 1_553_950_355, 3640, 958, Sport::Walking),
            ("brut/823051793.gpx", 1_483_693_077, 18482, 7039, Sport::Cycling),
            ("brut/840534997.gpx", 1_485_083_421, 9987, 4812, Sport::Cycling),
            ("brut/862486776.gpx", 1_486_805_792, 12221, 6193, Sport::Cycling),
            // Wikiloc and Geo Tracker files have no <type>: Other, not cycling
            // (docs/decisions.md W7).
            ("brut/947905012.gpx.gz", 1_433_059_684, 17549, 1205, Sport::Other),
            ("brut/947905034.gpx.gz", 1_476_000_036, 16408, 963, Sport::Other),
            ("dave/1024000610.gpx", 1_496_769_376, 911, 591, Sport::Running),
            ("dave/2242141223.gpx", 1_553_603_227, 12397, 3374, Sport::Walking),
            ("dave/825055445.gpx", 1_483_875_636, 1138, 616, Sport::Running),
            ("dave/891963388.gpx.gz", 1_481_975_918, 9480, 1124, Sport::Other),
            ("dave/891981259.gpx.gz", 1_481_458_125, 5147, 1300, Sport::Other),
            ("dave/901582433.gpx.gz", 1_482_746_906, 10377, 1932, Sport::Other),
            ("dave/947905021.gpx.gz", 1_481_114_528, 5177, 291, Sport::Other),
            ("dave/978272164.gpx", 1_494_344_806, 1667, 963, Sport::Running),
        ];
        for (file, start_s, dur_s, n, sport) in cases {
            let a = parse_sample(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(a.start_ms, start_s * 1000, "{file}");
            assert_eq!(span_s(&a), dur_s as f64, "{file}");
            assert_eq!(a.samples.len(), n, "{file}");
            assert_eq!(a.sport, sport, "{file}");
            assert!(a.samples.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms), "{file}");
        }
    }

    /// dave/947905024: the reference took the first point in file order and got a duration of
    /// -436 s (docs/decisions.md W1). Sorted, the start is the earliest point and the
    /// duration is positive.
    #[test]
    fn unsorted_file_is_sorted() {
        let a = parse_sample("dave/947905024.gpx.gz").expect("parses");
        assert_eq!(a.samples.len(), 134);
        let reference_start_ms = 1_481_031_560_000; // 2016-12-06T13:39:20Z, first in file
        assert!(a.start_ms < reference_start_ms);
        assert!(span_s(&a) > 0.0);
        assert!(a.samples.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        assert_eq!(a.name.as_deref(), Some("Ch\u{e2}teau de Qu\u{e9}ribus"));
    }

    /// brut/1034867910: Garmin TPX v1 hr/cad; the reference measured avg hr 166, max 182.
    #[test]
    fn tpx_v1_heart_rate_and_cadence() {
        let a = parse_sample("brut/1034867910.gpx").expect("parses");
        let hr: Vec<f64> = a.samples.iter().filter_map(|s| s.hr_bpm).map(f64::from).collect();
        assert_eq!(hr.len(), a.samples.len());
        let avg = hr.iter().sum::<f64>() / hr.len() as f64;
        assert_eq!(avg.trunc(), 166.0, "avg {avg}");
        assert_eq!(hr.iter().copied().fold(0.0, f64::max), 182.0);
        assert!(a.samples.iter().all(|s| s.cadence_rpm.is_some()));
        assert_eq!(a.samples[0].hr_bpm, Some(107));
        assert_eq!(a.samples[0].cadence_rpm, Some(46));
        assert_eq!(a.source.as_deref(), Some("strava_export"));
        assert_eq!(a.sport, Sport::Running);
    }

    #[test]
    fn wahoo_example_without_namespace_and_empty_ele() {
        let a = parse_sample("devices/georust__wahoo_example.gpx").expect("parses");
        assert_eq!(a.samples.len(), 3);
        assert!(a.samples.iter().all(|s| s.ele_m.is_none()));
        assert_eq!(a.samples[0].latlon(), Some((45.454350, -121.933136)));
        assert_eq!(a.name.as_deref(), Some("04/24/22"));
        assert_eq!(a.sport, Sport::Other);
        assert_eq!(a.start_ms, 1_650_833_673_000); // 2022-04-24T20:54:33Z
    }

    #[test]
    fn garmin_gpsmap_creator_and_titles() {
        let a = parse_sample("devices/georust__garmin_with_extensions.gpx").expect("parses");
        assert_eq!(a.device.as_deref(), Some("Garmin GPSMAP 64s"));
        assert_eq!(a.altitude_source, AltitudeSource::Barometric);
        assert_eq!(a.name.as_deref(), Some("2019-05-01 06:31:11 Tag"));
        let a = parse_sample("devices/gpxpy__track-with-empty-segment.gpx").expect("parses");
        assert_eq!(a.samples.len(), 9);
        assert_eq!(a.name, None, "<name>2013-07-06T14:59:00Z</name> is a timestamp, not a title");
        let a = parse_sample("brut/823051793.gpx").expect("parses");
        assert_eq!(a.name.as_deref(), Some("Giro con Andrea"));
        assert_eq!(a.altitude_source, AltitudeSource::Gps);
        let a = parse_sample("dave/891963388.gpx.gz").expect("parses");
        assert_eq!(a.name.as_deref(), Some("Dec 17, 2016 12:58:36 PM"), "metadata name");
        assert_eq!(a.source, None);
    }

    const HANDWRITTEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GPX creator="Wahoo ELEMNT BOLT" xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0"
     xmlns:GPXTPX="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
 <Metadata><Name>Meta title</Name></Metadata>
 <rte><rtept lat="1" lon="2"/></rte>
 <TRK><Name>Col &amp; caf&#233; <![CDATA[<b>]]></Name><Desc>Hot
   day</Desc><Type>Virtual Ride</Type>
  <TrkSeg>
   <TrkPt LAT="45.5" LON="6.25"><Ele>1000.5</Ele><Time>2024-06-01T09:30:00+02:00</Time>
    <Extensions><Power>250</Power>
     <GPXTPX:TrackPointExtension><GPXTPX:HR>140.6</GPXTPX:HR><gpxtpx:Cad>90</gpxtpx:Cad>
      <gpxtpx:ATemp>21.5</gpxtpx:ATemp><gpxtpx:speed>8.5</gpxtpx:speed></GPXTPX:TrackPointExtension>
    </Extensions></TrkPt>
   <trkpt lat="45.6" lon="6.26"><time>2024-06-01T09:30:02+02:00</time>
    <extensions><gpxdata:hr>150</gpxdata:hr><gpxdata:cadence>91</gpxdata:cadence>
     <gpxdata:temp>22</gpxdata:temp><gpxdata:distance>12.5</gpxdata:distance>
     <PowerInWatts>260</PowerInWatts></extensions></trkpt>
   <trkpt lat="45.7" lon="6.27"><ele>1001</ele></trkpt>
   <trkpt lat="45.55" lon="6.255"><time>2024-06-01T07:30:01Z</time>
    <extensions><HeartRate>145</HeartRate><watts>255</watts></extensions></trkpt>
  </TrkSeg>
 </TRK>
</GPX>"#;

    #[test]
    fn handwritten_extensions_and_mixed_case() {
        let a = parse(HANDWRITTEN.as_bytes()).expect("parses");
        assert_eq!(a.samples.len(), 3, "the point without time is skipped");
        let [s0, s1, s2] = [&a.samples[0], &a.samples[1], &a.samples[2]];
        // Sorted: the Z point (07:30:01Z) sits between the two +02:00 points.
        assert_eq!(s0.ts_ms, 1_717_227_000_000);
        assert_eq!(s1.ts_ms, 1_717_227_001_000);
        assert_eq!(s2.ts_ms, 1_717_227_002_000);
        assert_eq!(a.utc_offset_s, Some(7200), "offset of the first timestamp");
        assert_eq!((s0.power_w, s0.hr_bpm, s0.cadence_rpm), (Some(250), Some(141), Some(90)));
        assert_eq!(
            (s0.temperature_c, s0.speed_ms, s0.ele_m),
            (Some(21.5), Some(8.5), Some(1000.5))
        );
        assert_eq!(s0.latlon(), Some((45.5, 6.25)));
        assert_eq!((s1.hr_bpm, s1.power_w), (Some(145), Some(255)));
        assert_eq!((s2.hr_bpm, s2.cadence_rpm, s2.power_w), (Some(150), Some(91), Some(260)));
        assert_eq!((s2.temperature_c, s2.distance_m, s2.ele_m), (Some(22.0), Some(12.5), None));
        assert_eq!(a.name.as_deref(), Some("Col & caf\u{e9} <b>"));
        assert_eq!(a.description.as_deref(), Some("Hot day"));
        assert_eq!((a.sport, a.sub_sport), (Sport::Cycling, Some(SubSport::Indoor)));
        assert_eq!(a.source.as_deref(), Some("wahoo"));
        assert_eq!(a.device.as_deref(), Some("Wahoo ELEMNT BOLT"));
        assert_eq!(a.altitude_source, AltitudeSource::Barometric);
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    }

    #[test]
    fn routes_waypoints_and_empty_files() {
        let route = br#"<gpx creator="x"><rte><name>Plan</name><rtept lat="1" lon="2"/><rtept lat="1.1" lon="2"/></rte></gpx>"#;
        assert_eq!(
            parse(route),
            Err(ParseError::NotAnActivity("GPX route without a recorded track".into()))
        );
        let wpts = br#"<gpx><wpt lat="1" lon="2"><name>a</name></wpt></gpx>"#;
        assert_eq!(parse(wpts), Err(ParseError::NoTrackPoints));
        assert_eq!(parse(b"<gpx/>"), Err(ParseError::NoTrackPoints));
        let cut_in_time = b"<gpx><trk><trkseg><trkpt lat='1' lon='2'><time>2020-";
        assert_eq!(parse(cut_in_time), Err(ParseError::NoTrackPoints));
        let cut_in_tag = b"<gpx><trk><trkseg><trkpt lat='1' lon='2'><time>2020-01-01T00:00:00Z</time></trkpt><trkpt lat='1";
        let a = parse(cut_in_tag).expect("the complete point is kept");
        assert_eq!(a.samples.len(), 1);
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
        assert!(a.warnings[0].starts_with("XML error at byte"), "{:?}", a.warnings);
        assert!(matches!(parse(b"<gpx><trk a='1' a='2' <<"), Err(ParseError::Xml { .. })));
    }

    #[test]
    fn strava_numeric_type_and_latin1_name() {
        let mut doc = br#"<gpx creator="StravaGPX Android"><trk><name>Caf"#.to_vec();
        doc.push(0xe9); // Latin-1 é in a file that is not UTF-8
        doc.extend_from_slice(br#"</name><type>9</type><trkseg><trkpt lat="1" lon="2"><time>2020-05-05T10:00:00</time></trkpt></trkseg></trk></gpx>"#);
        let a = parse(&doc).expect("parses");
        assert_eq!(a.sport, Sport::Running);
        assert_eq!(a.name.as_deref(), Some("Caf\u{e9}"));
        assert_eq!(a.start_ms, 1_588_672_800_000, "no zone is UTC");
        assert_eq!(a.utc_offset_s, None);
    }

    #[test]
    fn truncated_file_keeps_points_read() {
        let full = read_sample("brut/1026973739.gpx");
        let cut = &full[..full.len() / 2];
        let a = parse(cut).expect("half a file is still a ride");
        assert!(a.samples.len() > 200 && a.samples.len() < 573, "{}", a.samples.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Mutated real files (truncated, bytes flipped, bytes inserted) never panic.
        #[test]
        fn gpx_parser_never_panics(
            which in 0usize..4,
            cut in 0.0f64..1.0,
            flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
            insert_at in 0.0f64..1.0,
            insert in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let files = [
                "devices/georust__wahoo_example.gpx",
                "devices/gpxpy__track-with-empty-segment.gpx",
                "dave/947905024.gpx.gz",
                "devices/georust__strava_route_example.gpx",
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

    #[test]
    fn sample_dir_exists() {
        assert!(sample_path("devices/MANIFEST.tsv").exists());
    }
}
