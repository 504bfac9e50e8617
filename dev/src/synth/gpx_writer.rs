//! GPX 1.1 writer: heart rate and cadence in Garmin TrackPointExtension v1, power as a
//! bare `<power>` under `<extensions>` (Strava/Wahoo style), since GPX has no standard
//! place for either. No speed and no distance channel: distance comes from the points.
//!
//! One `<trkseg>` per stretch between auto-pauses, as several head units write them.

use super::text::{push_fixed, push_iso, push_u64};
use super::{Device, Track};

/// Encode a track as GPX 1.1.
pub fn write_gpx(track: &Track) -> Vec<u8> {
    let s = &track.scenario;
    let mut b = Vec::with_capacity(64 + track.points.len() * 230);
    let creator = match s.device {
        Device::Garmin => "Garmin Edge 530",
        Device::Development => "bincio-synth",
    };
    b.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"",
    );
    b.extend_from_slice(creator.as_bytes());
    b.extend_from_slice(
        b"\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n",
    );
    let offset = if s.gpx_local_times { s.utc_offset_s } else { 0 };
    b.extend_from_slice(b"<metadata><time>");
    push_iso(&mut b, s.start_unix_s, offset);
    b.extend_from_slice(b"</time></metadata>\n<trk>");
    if let Some(title) = &s.title {
        b.extend_from_slice(b"<name>");
        b.extend_from_slice(escape(title).as_bytes());
        b.extend_from_slice(b"</name>");
    }
    b.extend_from_slice(b"<type>");
    b.extend_from_slice(s.kind.gpx_type().as_bytes());
    b.extend_from_slice(b"</type>\n<trkseg>\n");
    let mut pause = track.pauses.iter().peekable();
    for p in &track.points {
        if pause.peek().is_some_and(|&&(_, end)| p.t_s == end) {
            b.extend_from_slice(b"</trkseg>\n<trkseg>\n");
            pause.next();
        }
        // GPX has no point without a position; indoor activities are never written as GPX.
        let (Some(lat), Some(lon)) = (p.lat_deg, p.lon_deg) else { continue };
        b.extend_from_slice(b"<trkpt lat=\"");
        push_fixed(&mut b, lat, 7);
        b.extend_from_slice(b"\" lon=\"");
        push_fixed(&mut b, lon, 7);
        b.extend_from_slice(b"\">");
        if let Some(e) = p.ele_m {
            b.extend_from_slice(b"<ele>");
            push_fixed(&mut b, e, 1);
            b.extend_from_slice(b"</ele>");
        }
        b.extend_from_slice(b"<time>");
        push_iso(&mut b, s.start_unix_s + i64::from(p.t_s), offset);
        b.extend_from_slice(b"</time>");
        if p.hr_bpm.is_some() || p.cadence_rpm.is_some() || p.power_w.is_some() {
            b.extend_from_slice(b"<extensions>");
            if let Some(w) = p.power_w {
                b.extend_from_slice(b"<power>");
                push_u64(&mut b, u64::from(w));
                b.extend_from_slice(b"</power>");
            }
            if p.hr_bpm.is_some() || p.cadence_rpm.is_some() {
                b.extend_from_slice(b"<gpxtpx:TrackPointExtension>");
                if let Some(hr) = p.hr_bpm {
                    b.extend_from_slice(b"<gpxtpx:hr>");
                    push_u64(&mut b, u64::from(hr));
                    b.extend_from_slice(b"</gpxtpx:hr>");
                }
                if let Some(c) = p.cadence_rpm {
                    b.extend_from_slice(b"<gpxtpx:cad>");
                    push_u64(&mut b, u64::from(c));
                    b.extend_from_slice(b"</gpxtpx:cad>");
                }
                b.extend_from_slice(b"</gpxtpx:TrackPointExtension>");
            }
            b.extend_from_slice(b"</extensions>");
        }
        b.extend_from_slice(b"</trkpt>\n");
    }
    b.extend_from_slice(b"</trkseg>\n</trk>\n</gpx>\n");
    b
}

/// Escape XML text.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
