//! TCX writer (Garmin TrainingCenterDatabase v2, http namespaces): one `<Lap>` per lap
//! with its totals, Trackpoints with DistanceMeters (the device distance, exact),
//! heart rate, cadence (`RunCadence` in the extension for running), and speed and watts
//! in the ActivityExtension `TPX`. Indoor activities have no `<Position>`.

use super::gpx_writer::escape;
use super::text::{push_fixed, push_iso, push_u64};
use super::{Device, Track};

/// Encode a track as TCX.
pub fn write_tcx(track: &Track) -> Vec<u8> {
    let s = &track.scenario;
    let running = s.kind.tcx_sport() == "Running";
    let mut b = Vec::with_capacity(512 + track.points.len() * 330);
    b.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<TrainingCenterDatabase xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\" \
xmlns:ns3=\"http://www.garmin.com/xmlschemas/ActivityExtension/v2\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<Activities>\n<Activity Sport=\"",
    );
    b.extend_from_slice(s.kind.tcx_sport().as_bytes());
    b.extend_from_slice(b"\">\n<Id>");
    push_iso(&mut b, s.start_unix_s, 0);
    b.extend_from_slice(b"</Id>\n");
    for lap in &track.laps {
        let pts = track.points.get(lap.first_point..=lap.last_point).unwrap_or(&[]);
        b.extend_from_slice(b"<Lap StartTime=\"");
        push_iso(&mut b, s.start_unix_s + i64::from(lap.start_t_s), 0);
        b.extend_from_slice(b"\">\n<TotalTimeSeconds>");
        push_fixed(&mut b, f64::from(lap.timer_s), 1);
        b.extend_from_slice(b"</TotalTimeSeconds>\n<DistanceMeters>");
        push_fixed(&mut b, lap.distance_m, 2);
        b.extend_from_slice(b"</DistanceMeters>\n<MaximumSpeed>");
        let max_speed = pts.iter().map(|p| p.speed_ms).fold(0.0, f64::max);
        push_fixed(&mut b, max_speed, 3);
        b.extend_from_slice(b"</MaximumSpeed>\n<Calories>0</Calories>\n");
        let hrs: Vec<u64> = pts.iter().filter_map(|p| p.hr_bpm.map(u64::from)).collect();
        if !hrs.is_empty() {
            b.extend_from_slice(b"<AverageHeartRateBpm><Value>");
            push_u64(&mut b, (hrs.iter().sum::<u64>() as f64 / hrs.len() as f64).round() as u64);
            b.extend_from_slice(b"</Value></AverageHeartRateBpm>\n<MaximumHeartRateBpm><Value>");
            push_u64(&mut b, hrs.iter().copied().max().unwrap_or(0));
            b.extend_from_slice(b"</Value></MaximumHeartRateBpm>\n");
        }
        b.extend_from_slice(
            b"<Intensity>Active</Intensity>\n<TriggerMethod>Manual</TriggerMethod>\n<Track>\n",
        );
        for p in pts {
            b.extend_from_slice(b"<Trackpoint><Time>");
            push_iso(&mut b, s.start_unix_s + i64::from(p.t_s), 0);
            b.extend_from_slice(b"</Time>");
            if let (Some(lat), Some(lon)) = (p.lat_deg, p.lon_deg) {
                b.extend_from_slice(b"<Position><LatitudeDegrees>");
                push_fixed(&mut b, lat, 7);
                b.extend_from_slice(b"</LatitudeDegrees><LongitudeDegrees>");
                push_fixed(&mut b, lon, 7);
                b.extend_from_slice(b"</LongitudeDegrees></Position>");
            }
            if let Some(e) = p.ele_m {
                b.extend_from_slice(b"<AltitudeMeters>");
                push_fixed(&mut b, e, 1);
                b.extend_from_slice(b"</AltitudeMeters>");
            }
            b.extend_from_slice(b"<DistanceMeters>");
            push_fixed(&mut b, p.distance_m, 2);
            b.extend_from_slice(b"</DistanceMeters>");
            if let Some(hr) = p.hr_bpm {
                b.extend_from_slice(b"<HeartRateBpm><Value>");
                push_u64(&mut b, u64::from(hr));
                b.extend_from_slice(b"</Value></HeartRateBpm>");
            }
            if let (Some(c), false) = (p.cadence_rpm, running) {
                b.extend_from_slice(b"<Cadence>");
                push_u64(&mut b, u64::from(c));
                b.extend_from_slice(b"</Cadence>");
            }
            b.extend_from_slice(b"<Extensions><ns3:TPX>");
            if s.speed {
                b.extend_from_slice(b"<ns3:Speed>");
                push_fixed(&mut b, p.speed_ms, 3);
                b.extend_from_slice(b"</ns3:Speed>");
            }
            if let (Some(c), true) = (p.cadence_rpm, running) {
                b.extend_from_slice(b"<ns3:RunCadence>");
                push_u64(&mut b, u64::from(c));
                b.extend_from_slice(b"</ns3:RunCadence>");
            }
            if let Some(w) = p.power_w {
                b.extend_from_slice(b"<ns3:Watts>");
                push_u64(&mut b, u64::from(w));
                b.extend_from_slice(b"</ns3:Watts>");
            }
            b.extend_from_slice(b"</ns3:TPX></Extensions></Trackpoint>\n");
        }
        b.extend_from_slice(b"</Track>\n");
        let pw: Vec<u64> = pts.iter().filter_map(|p| p.power_w.map(u64::from)).collect();
        if !pw.is_empty() {
            b.extend_from_slice(b"<Extensions><ns3:LX><ns3:AvgWatts>");
            push_u64(&mut b, (pw.iter().sum::<u64>() as f64 / pw.len() as f64).round() as u64);
            b.extend_from_slice(b"</ns3:AvgWatts></ns3:LX></Extensions>\n");
        }
        b.extend_from_slice(b"</Lap>\n");
    }
    if let Some(title) = &s.title {
        b.extend_from_slice(b"<Notes>");
        b.extend_from_slice(escape(title).as_bytes());
        b.extend_from_slice(b"</Notes>\n");
    }
    let creator = match s.device {
        Device::Garmin => "Edge 530",
        Device::Development => "bincio-synth",
    };
    b.extend_from_slice(b"<Creator xsi:type=\"Device_t\"><Name>");
    b.extend_from_slice(creator.as_bytes());
    b.extend_from_slice(
        b"</Name><UnitId>1</UnitId><ProductID>3121</ProductID><Version><VersionMajor>1</VersionMajor>\
<VersionMinor>0</VersionMinor></Version></Creator>\n</Activity>\n</Activities>\n</TrainingCenterDatabase>\n",
    );
    b
}
