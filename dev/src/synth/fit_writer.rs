//! A minimal hand-written FIT encoder (activity files only).
//!
//! No FIT writer crate is maintained for Rust, and we need exact control over what is
//! written (which fields, scales and messages) to test our decoder against known values.
//! Layout: 14-byte header (protocol 2.0, profile 21.32, header CRC), all definition
//! messages up front (local types 0–5), then `file_id`, timer `event`s (start, stop_all
//! at each auto-pause, start at resume), `record`s, a `lap` at each lap end, `session`
//! and `activity` (with `local_timestamp`, which carries the UTC offset), and the file
//! CRC. Every multi-byte value is little-endian (architecture 0). Absent values are the
//! FIT "invalid" of their base type, as devices write them.

use super::{Device, Track};

/// Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z).
pub const FIT_EPOCH_OFFSET_S: i64 = 631_065_600;

const ENUM: u8 = 0x00;
const UINT8: u8 = 0x02;
const SINT32: u8 = 0x85;
const UINT16: u8 = 0x84;
const UINT32: u8 = 0x86;
const UINT32Z: u8 = 0x8C;

const LOCAL_FILE_ID: u8 = 0;
const LOCAL_EVENT: u8 = 1;
const LOCAL_RECORD: u8 = 2;
const LOCAL_LAP: u8 = 3;
const LOCAL_SESSION: u8 = 4;
const LOCAL_ACTIVITY: u8 = 5;

/// The FIT CRC-16 (the SDK's nibble-table algorithm).
pub fn fit_crc(mut crc: u16, bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800,
        0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
    ];
    for &byte in bytes {
        let mut tmp = TABLE[(crc & 0xF) as usize];
        crc = (crc >> 4) & 0x0FFF;
        crc = crc ^ tmp ^ TABLE[(byte & 0xF) as usize];
        tmp = TABLE[(crc & 0xF) as usize];
        crc = (crc >> 4) & 0x0FFF;
        crc = crc ^ tmp ^ TABLE[((byte >> 4) & 0xF) as usize];
    }
    crc
}

struct Enc {
    buf: Vec<u8>,
}

impl Enc {
    fn define(&mut self, local: u8, global: u16, fields: &[(u8, u8, u8)]) {
        self.buf.push(0x40 | local);
        self.buf.push(0); // reserved
        self.buf.push(0); // little-endian
        self.buf.extend_from_slice(&global.to_le_bytes());
        self.buf.push(fields.len() as u8);
        for &(num, size, base) in fields {
            self.buf.extend_from_slice(&[num, size, base]);
        }
    }
    fn start(&mut self, local: u8) {
        self.buf.push(local);
    }
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
}

fn fit_time(unix_s: i64) -> u32 {
    (unix_s - FIT_EPOCH_OFFSET_S).clamp(0, i64::from(u32::MAX)) as u32
}

fn semicircles(deg: f64) -> i32 {
    (deg * (2_147_483_648.0 / 180.0)).round().clamp(-2_147_483_647.0, 2_147_483_647.0) as i32
}

fn scaled_u32(v: f64, scale: f64) -> u32 {
    (v * scale).round().clamp(0.0, 4_294_967_294.0) as u32
}

fn scaled_u16(v: f64, scale: f64) -> u16 {
    (v * scale).round().clamp(0.0, 65_534.0) as u16
}

/// Encode a track as a FIT activity file.
pub fn write_fit(track: &Track) -> Vec<u8> {
    write_fit_parts(track).0
}

/// The FIT bytes and the offset of the `record` definition message (where a file can be
/// cut so that no record is readable).
pub fn write_fit_parts(track: &Track) -> (Vec<u8>, usize) {
    let s = &track.scenario;
    let pts = &track.points;
    let first = pts.first();
    let has = |f: fn(&super::Point) -> bool| first.is_some_and(f);
    let gps = has(|p| p.lat_deg.is_some());
    let alt = has(|p| p.ele_m.is_some());
    let hr = has(|p| p.hr_bpm.is_some());
    let cad = has(|p| p.cadence_rpm.is_some());
    let power = has(|p| p.power_w.is_some());
    let speed = s.speed;
    // The GPS-noise variant stands for a device without a barometer that leaves the
    // totals to the app: no ascent/descent in lap or session, so the noisy altitude
    // channel is what gets measured.
    let device_ascent = alt && s.noise_seed.is_none();
    // Such a device also writes the legacy `altitude` field (2, uint16, scale 5, offset
    // 500) rather than `enhanced_altitude` (78), as GPS-altitude units do.
    let legacy_altitude = alt && s.noise_seed.is_some();

    let mut e = Enc { buf: Vec::with_capacity(256 + pts.len() * 32) };
    e.buf.extend_from_slice(&[0u8; 14]);
    e.define(
        LOCAL_FILE_ID,
        0,
        &[(0, 1, ENUM), (1, 2, UINT16), (2, 2, UINT16), (3, 4, UINT32Z), (4, 4, UINT32)],
    );
    e.define(LOCAL_EVENT, 21, &[(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)]);
    let record_def_offset = e.buf.len();
    let mut rec_fields = vec![(253, 4, UINT32)];
    if gps {
        rec_fields.extend([(0, 4, SINT32), (1, 4, SINT32)]);
    }
    if legacy_altitude {
        rec_fields.push((2, 2, UINT16));
    } else if alt {
        rec_fields.push((78, 4, UINT32));
    }
    if hr {
        rec_fields.push((3, 1, UINT8));
    }
    if cad {
        rec_fields.push((4, 1, UINT8));
    }
    rec_fields.push((5, 4, UINT32));
    if speed {
        rec_fields.push((73, 4, UINT32));
    }
    if power {
        rec_fields.push((7, 2, UINT16));
    }
    e.define(LOCAL_RECORD, 20, &rec_fields);
    let totals = [
        (2, 4, UINT32), // start_time
        (7, 4, UINT32), // total_elapsed_time, ms
        (8, 4, UINT32), // total_timer_time, ms
        (9, 4, UINT32), // total_distance, cm
    ];
    let mut lap_fields = vec![(253, 4, UINT32), (254, 2, UINT16), (0, 1, ENUM), (1, 1, ENUM)];
    lap_fields.extend(totals);
    lap_fields.extend([
        (21, 2, UINT16),
        (22, 2, UINT16),
        (15, 1, UINT8),
        (16, 1, UINT8),
        (19, 2, UINT16),
        (20, 2, UINT16),
    ]);
    e.define(LOCAL_LAP, 19, &lap_fields);
    let mut session_fields = vec![
        (253, 4, UINT32),
        (254, 2, UINT16),
        (0, 1, ENUM),
        (1, 1, ENUM),
        (5, 1, ENUM),
        (6, 1, ENUM),
    ];
    session_fields.extend(totals);
    session_fields.extend([
        (14, 2, UINT16), // avg_speed, mm/s
        (15, 2, UINT16), // max_speed, mm/s
        (16, 1, UINT8),
        (17, 1, UINT8),
        (20, 2, UINT16),
        (21, 2, UINT16),
        (22, 2, UINT16),
        (23, 2, UINT16),
        (25, 2, UINT16),
        (26, 2, UINT16),
    ]);
    e.define(LOCAL_SESSION, 18, &session_fields);
    e.define(
        LOCAL_ACTIVITY,
        34,
        &[
            (253, 4, UINT32),
            (0, 4, UINT32),
            (1, 2, UINT16),
            (2, 1, ENUM),
            (3, 1, ENUM),
            (4, 1, ENUM),
            (5, 4, UINT32),
        ],
    );

    let t0 = s.start_unix_s;
    let at = |t_s: u32| fit_time(t0 + i64::from(t_s));
    // file_id
    let (manufacturer, product) = match s.device {
        Device::Garmin => (1u16, 3121u16),
        Device::Development => (255, 1),
    };
    e.start(LOCAL_FILE_ID);
    e.u8(4); // activity
    e.u16(manufacturer);
    e.u16(product);
    e.u32(3_987_654_321);
    e.u32(at(0));
    let event = |e: &mut Enc, t: u32, event_type: u8| {
        e.start(LOCAL_EVENT);
        e.u32(at(t));
        e.u8(0); // timer
        e.u8(event_type);
    };
    event(&mut e, 0, 0);

    let mean_u8 = |v: &mut dyn Iterator<Item = u8>| {
        let (mut n, mut sum, mut max) = (0u32, 0u64, 0u8);
        for x in v {
            n += 1;
            sum += u64::from(x);
            max = max.max(x);
        }
        (n > 0).then(|| ((sum as f64 / f64::from(n)).round() as u8, max))
    };
    let mean_u16 = |v: &mut dyn Iterator<Item = u16>| {
        let (mut n, mut sum, mut max) = (0u32, 0u64, 0u16);
        for x in v {
            n += 1;
            sum += u64::from(x);
            max = max.max(x);
        }
        (n > 0).then(|| ((sum as f64 / f64::from(n)).round() as u16, max))
    };
    let write_lap = |e: &mut Enc, index: usize| {
        let lap = &track.laps[index];
        let lp = pts.get(lap.first_point..=lap.last_point).unwrap_or(&[]);
        let hr = mean_u8(&mut lp.iter().filter_map(|p| p.hr_bpm));
        let pw = mean_u16(&mut lp.iter().filter_map(|p| p.power_w));
        e.start(LOCAL_LAP);
        e.u32(at(lap.end_t_s));
        e.u16(index as u16);
        e.u8(9); // event: lap
        e.u8(1); // event_type: stop
        e.u32(at(lap.start_t_s));
        e.u32((lap.end_t_s - lap.start_t_s) * 1000);
        e.u32(lap.timer_s * 1000);
        e.u32(scaled_u32(lap.distance_m, 100.0));
        if device_ascent {
            e.u16(scaled_u16(lap.ascent_m, 1.0));
            e.u16(scaled_u16(lap.descent_m, 1.0));
        } else {
            e.u16(u16::MAX);
            e.u16(u16::MAX);
        }
        e.u8(hr.map_or(u8::MAX, |h| h.0));
        e.u8(hr.map_or(u8::MAX, |h| h.1));
        e.u16(pw.map_or(u16::MAX, |p| p.0));
        e.u16(pw.map_or(u16::MAX, |p| p.1));
    };

    let mut next_lap = 0usize;
    let mut pause = track.pauses.iter().peekable();
    for p in pts {
        // A lap ends where the next begins: its message precedes that lap's first record.
        while next_lap + 1 < track.laps.len() && p.t_s >= track.laps[next_lap].end_t_s {
            write_lap(&mut e, next_lap);
            next_lap += 1;
        }
        if pause.peek().is_some_and(|&&(_, end)| p.t_s == end) {
            event(&mut e, p.t_s, 0); // start (resume)
            pause.next();
        }
        e.start(LOCAL_RECORD);
        e.u32(at(p.t_s));
        if gps {
            e.i32(p.lat_deg.map_or(i32::MAX, semicircles));
            e.i32(p.lon_deg.map_or(i32::MAX, semicircles));
        }
        if legacy_altitude {
            e.u16(p.ele_m.map_or(u16::MAX, |m| scaled_u16(m + 500.0, 5.0)));
        } else if alt {
            // enhanced_altitude: scale 5, offset 500.
            e.u32(p.ele_m.map_or(u32::MAX, |m| scaled_u32(m + 500.0, 5.0)));
        }
        if hr {
            e.u8(p.hr_bpm.unwrap_or(u8::MAX));
        }
        if cad {
            e.u8(p.cadence_rpm.unwrap_or(u8::MAX));
        }
        e.u32(scaled_u32(p.distance_m, 100.0));
        if speed {
            e.u32(scaled_u32(p.speed_ms, 1000.0));
        }
        if power {
            e.u16(p.power_w.unwrap_or(u16::MAX));
        }
        if pause.peek().is_some_and(|&&(start, _)| p.t_s == start) {
            event(&mut e, p.t_s, 4); // stop_all (auto-pause)
        }
    }
    let end_t = pts.last().map_or(0, |p| p.t_s);
    event(&mut e, end_t, 4);
    while next_lap < track.laps.len() {
        write_lap(&mut e, next_lap);
        next_lap += 1;
    }

    let truth = &track.truth;
    let (sport, sub_sport) = s.kind.fit_sport();
    let hr_all = mean_u8(&mut pts.iter().filter_map(|p| p.hr_bpm));
    let pw_all = mean_u16(&mut pts.iter().filter_map(|p| p.power_w));
    e.start(LOCAL_SESSION);
    e.u32(at(end_t));
    e.u16(0);
    e.u8(8); // event: session
    e.u8(1); // stop
    e.u8(sport);
    e.u8(sub_sport);
    e.u32(at(0));
    e.u32(truth.duration_s * 1000);
    e.u32(truth.timer_s * 1000);
    e.u32(scaled_u32(truth.distance_m, 100.0));
    let avg_speed =
        if truth.timer_s > 0 { truth.distance_m / f64::from(truth.timer_s) } else { 0.0 };
    e.u16(scaled_u16(avg_speed, 1000.0));
    e.u16(scaled_u16(pts.iter().map(|p| p.speed_ms).fold(0.0, f64::max), 1000.0));
    e.u8(hr_all.map_or(u8::MAX, |h| h.0));
    e.u8(hr_all.map_or(u8::MAX, |h| h.1));
    e.u16(pw_all.map_or(u16::MAX, |p| p.0));
    e.u16(pw_all.map_or(u16::MAX, |p| p.1));
    let ascent =
        |v: Option<f64>| v.filter(|_| device_ascent).map_or(u16::MAX, |g| scaled_u16(g, 1.0));
    e.u16(ascent(truth.elevation_gain_m));
    e.u16(ascent(truth.elevation_loss_m));
    e.u16(0);
    e.u16(track.laps.len() as u16);

    e.start(LOCAL_ACTIVITY);
    e.u32(at(end_t));
    e.u32(truth.timer_s * 1000);
    e.u16(1);
    e.u8(0); // manual
    e.u8(26); // activity
    e.u8(1); // stop
    e.u32(fit_time(t0 + i64::from(end_t) + i64::from(s.utc_offset_s)));

    // Header: size, protocol 2.0, profile 21.32, data size, ".FIT", header CRC.
    let data_size = (e.buf.len() - 14) as u32;
    let mut header = [0u8; 14];
    header[0] = 14;
    header[1] = 0x20;
    header[2..4].copy_from_slice(&2132u16.to_le_bytes());
    header[4..8].copy_from_slice(&data_size.to_le_bytes());
    header[8..12].copy_from_slice(b".FIT");
    let hcrc = fit_crc(0, &header[..12]);
    header[12..14].copy_from_slice(&hcrc.to_le_bytes());
    e.buf[..14].copy_from_slice(&header);
    let crc = fit_crc(0, &e.buf);
    e.buf.extend_from_slice(&crc.to_le_bytes());
    (e.buf, record_def_offset)
}
