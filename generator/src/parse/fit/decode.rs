//! A native, streaming FIT decoder for the handful of messages Bincio reads.
//!
//! Why not `fitparser`: it decodes every message of the profile into owned, named fields
//! (10-18 MB/s per core here) and returns `Err` for the whole file at the first damaged
//! byte, losing every record before it. Activity files from the wild are often damaged
//! (truncated uploads, a chained second file with a bad header, an undefined local message
//! written by a buggy app), and the athlete wants what is readable. This decoder:
//!
//! - walks the file once, keeping the 16 local definitions, and decodes only the fields
//!   Bincio uses (looked up by field number when the definition is read, so a data message
//!   costs a few slice reads);
//! - reads every value by the base type the *file* declares (not the profile's), applies
//!   the profile's scale/offset and the base type's invalid sentinel;
//! - skips developer fields by size, accepts compressed-timestamp headers, big-endian
//!   definitions and chained FIT files (one after another), and ignores CRCs;
//! - on damage (undefined local message, bad architecture byte, message cut by the end of
//!   the file, garbage instead of a chained header) stops there, keeps everything decoded
//!   so far and records a warning. Only a first header that is not FIT is an error.
//!
//! It sits behind [`FitDecoder`] so another decoder (tests run `fitparser` through the
//! same interface as an oracle) can be swapped in.

/// Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z).
pub const FIT_EPOCH_UNIX_S: i64 = 631_065_600;

/// FIT `date_time` values below this are seconds since the device powered on (its clock
/// was never set), not since the FIT epoch.
pub const FIT_MIN_ABSOLUTE_TIME: u32 = 0x1000_0000;

/// A FIT file decoded into the typed messages Bincio uses, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodedFit {
    /// One per chained file.
    pub file_ids: Vec<FileIdMsg>,
    pub activities: Vec<ActivityMsg>,
    pub sessions: Vec<SummaryMsg>,
    pub laps: Vec<SummaryMsg>,
    pub records: Vec<RecordMsg>,
    pub sports: Vec<SportMsg>,
    pub events: Vec<EventMsg>,
    pub device_infos: Vec<DeviceInfoMsg>,
    /// Pool-swim lengths, in file order.
    pub lengths: Vec<LengthMsg>,
    /// How many FIT files (headers) were read.
    pub files: u32,
    /// Damage met while decoding, one line each.
    pub warnings: Vec<String>,
}

/// `file_id` (global 0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileIdMsg {
    /// FIT `file` enum: 4 = activity, 6 = course.
    pub file_type: Option<u8>,
    pub manufacturer: Option<u16>,
    pub product: Option<u16>,
    /// Raw FIT `date_time`.
    pub time_created: Option<u32>,
    pub product_name: Option<String>,
}

/// `activity` (global 34).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityMsg {
    pub timestamp: Option<u32>,
    /// `local_date_time`: the same instant in the device's local time.
    pub local_timestamp: Option<u32>,
}

/// `session` (global 18) and `lap` (global 19) share their totals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SummaryMsg {
    pub timestamp: Option<u32>,
    pub start_time: Option<u32>,
    pub sport: Option<u8>,
    pub sub_sport: Option<u8>,
    pub elapsed_s: Option<f64>,
    pub timer_s: Option<f64>,
    pub distance_m: Option<f64>,
    pub ascent_m: Option<f64>,
    pub descent_m: Option<f64>,
    pub avg_speed_ms: Option<f64>,
    pub max_speed_ms: Option<f64>,
    pub enhanced_avg_speed_ms: Option<f64>,
    pub enhanced_max_speed_ms: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
    pub max_cadence_rpm: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    /// Session `pool_length` (m), for pool swims.
    pub pool_length_m: Option<f64>,
    /// Session `total_calories` (kcal).
    pub calories_kcal: Option<f64>,
}

/// `length` (global 101): one pool length as the watch detected it, scaled to SI units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LengthMsg {
    pub timestamp: Option<u32>,
    pub start_time: Option<u32>,
    pub elapsed_s: Option<f64>,
    pub timer_s: Option<f64>,
    pub strokes: Option<f64>,
    pub avg_speed_ms: Option<f64>,
    /// Strokes per minute (`avg_swimming_cadence`).
    pub stroke_rate_spm: Option<f64>,
    /// `length_type`: 0 idle (resting at the wall), 1 active.
    pub length_type: Option<u8>,
}

/// `record` (global 20), scaled to SI units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordMsg {
    /// Raw FIT `date_time` (from field 253 or a compressed-timestamp header).
    pub timestamp: Option<u32>,
    pub lat_semicircles: Option<i32>,
    pub lon_semicircles: Option<i32>,
    pub altitude_m: Option<f64>,
    pub enhanced_altitude_m: Option<f64>,
    pub hr_bpm: Option<f64>,
    pub cadence_rpm: Option<f64>,
    pub distance_m: Option<f64>,
    pub speed_ms: Option<f64>,
    pub enhanced_speed_ms: Option<f64>,
    pub power_w: Option<f64>,
    pub temperature_c: Option<f64>,
}

/// `sport` (global 12).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SportMsg {
    pub sport: Option<u8>,
    pub sub_sport: Option<u8>,
}

/// `event` (global 21).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventMsg {
    pub timestamp: Option<u32>,
    pub event: Option<u8>,
    pub event_type: Option<u8>,
}

/// `device_info` (global 23).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceInfoMsg {
    pub timestamp: Option<u32>,
    /// 0 = the device that created the file.
    pub device_index: Option<u8>,
    pub manufacturer: Option<u16>,
    pub product: Option<u16>,
    pub product_name: Option<String>,
}

/// The first bytes are not a FIT header: nothing can be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFit {
    pub position: u64,
    pub message: String,
}

/// Anything that turns FIT bytes into [`DecodedFit`].
pub trait FitDecoder {
    fn decode(&self, bytes: &[u8]) -> Result<DecodedFit, NotFit>;
}

/// The native decoder described in the module doc.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeDecoder;

impl FitDecoder for NativeDecoder {
    fn decode(&self, bytes: &[u8]) -> Result<DecodedFit, NotFit> {
        decode(bytes)
    }
}

/// Global message numbers we read.
mod mesg {
    pub const FILE_ID: u16 = 0;
    pub const SPORT: u16 = 12;
    pub const SESSION: u16 = 18;
    pub const LAP: u16 = 19;
    pub const RECORD: u16 = 20;
    pub const EVENT: u16 = 21;
    pub const DEVICE_INFO: u16 = 23;
    pub const ACTIVITY: u16 = 34;
    pub const LENGTH: u16 = 101;
}

/// The timestamp field number, the same in every message.
const TIMESTAMP_FIELD: u8 = 253;

/// Where a decoded field goes. Resolved once per definition so data messages only match
/// on this small enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Timestamp,
    // file_id
    FileType,
    Manufacturer,
    Product,
    TimeCreated,
    ProductName,
    // activity
    LocalTimestamp,
    // session / lap
    StartTime,
    Sport,
    SubSport,
    Elapsed,
    Timer,
    Distance,
    Ascent,
    Descent,
    AvgSpeed,
    MaxSpeed,
    EnhAvgSpeed,
    EnhMaxSpeed,
    AvgHr,
    MaxHr,
    AvgCadence,
    MaxCadence,
    AvgPower,
    MaxPower,
    /// `total_calories` (kcal), as the device estimated them.
    Calories,
    // record
    Lat,
    Lon,
    Altitude,
    EnhAltitude,
    Hr,
    Cadence,
    RecDistance,
    Speed,
    EnhSpeed,
    Power,
    Temperature,
    CompressedSpeedDistance,
    // event
    Event,
    EventType,
    // device_info
    DeviceIndex,
    // session (pool swims) and length
    PoolLength,
    Strokes,
    LengthType,
}

/// The profile subset: which (message, field) we read.
fn slot_for(global: u16, field: u8) -> Option<Slot> {
    use Slot::*;
    if field == TIMESTAMP_FIELD {
        return Some(Timestamp);
    }
    let slot = match (global, field) {
        (mesg::FILE_ID, 0) => FileType,
        (mesg::FILE_ID, 1) => Manufacturer,
        (mesg::FILE_ID, 2) => Product,
        (mesg::FILE_ID, 4) => TimeCreated,
        (mesg::FILE_ID, 8) => ProductName,
        (mesg::ACTIVITY, 5) => LocalTimestamp,
        (mesg::SPORT, 0) => Sport,
        (mesg::SPORT, 1) => SubSport,
        (mesg::SESSION, f) => match f {
            2 => StartTime,
            5 => Sport,
            6 => SubSport,
            7 => Elapsed,
            8 => Timer,
            9 => Distance,
            11 => Calories,
            14 => AvgSpeed,
            15 => MaxSpeed,
            16 => AvgHr,
            17 => MaxHr,
            18 => AvgCadence,
            19 => MaxCadence,
            20 => AvgPower,
            21 => MaxPower,
            22 => Ascent,
            23 => Descent,
            44 => PoolLength,
            124 => EnhAvgSpeed,
            125 => EnhMaxSpeed,
            _ => return None,
        },
        (mesg::LAP, f) => match f {
            2 => StartTime,
            7 => Elapsed,
            8 => Timer,
            9 => Distance,
            13 => AvgSpeed,
            14 => MaxSpeed,
            15 => AvgHr,
            16 => MaxHr,
            17 => AvgCadence,
            18 => MaxCadence,
            19 => AvgPower,
            20 => MaxPower,
            21 => Ascent,
            22 => Descent,
            25 => Sport,
            39 => SubSport,
            110 => EnhAvgSpeed,
            111 => EnhMaxSpeed,
            _ => return None,
        },
        (mesg::RECORD, f) => match f {
            0 => Lat,
            1 => Lon,
            2 => Altitude,
            3 => Hr,
            4 => Cadence,
            5 => RecDistance,
            6 => Speed,
            7 => Power,
            8 => CompressedSpeedDistance,
            13 => Temperature,
            73 => EnhSpeed,
            78 => EnhAltitude,
            _ => return None,
        },
        (mesg::LENGTH, f) => match f {
            2 => StartTime,
            3 => Elapsed,
            4 => Timer,
            5 => Strokes,
            6 => AvgSpeed,
            9 => AvgCadence,
            12 => LengthType,
            _ => return None,
        },
        (mesg::EVENT, 0) => Event,
        (mesg::EVENT, 1) => EventType,
        (mesg::DEVICE_INFO, 0) => DeviceIndex,
        (mesg::DEVICE_INFO, 2) => Manufacturer,
        (mesg::DEVICE_INFO, 4) => Product,
        (mesg::DEVICE_INFO, 27) => ProductName,
        _ => return None,
    };
    Some(slot)
}

/// A FIT base type: element size and how its invalid value looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    /// Unsigned integer of `size` bytes; invalid is all ones (or zero for the `z` types).
    Unsigned {
        size: u8,
        zero_invalid: bool,
    },
    /// Two's complement integer; invalid is the maximum positive value.
    Signed {
        size: u8,
    },
    Float {
        size: u8,
    },
    String,
}

impl Base {
    /// From the definition's base-type byte; the low 5 bits are the type number (the
    /// endian-ability bit 7 is not trusted: some writers leave it out).
    fn from_byte(b: u8) -> Option<Base> {
        use Base::*;
        Some(match b & 0x1F {
            0 | 2 | 13 => Unsigned { size: 1, zero_invalid: false }, // enum, uint8, byte
            1 => Signed { size: 1 },
            3 => Signed { size: 2 },
            4 => Unsigned { size: 2, zero_invalid: false },
            5 => Signed { size: 4 },
            6 => Unsigned { size: 4, zero_invalid: false },
            7 => String,
            8 => Float { size: 4 },
            9 => Float { size: 8 },
            10 => Unsigned { size: 1, zero_invalid: true },
            11 => Unsigned { size: 2, zero_invalid: true },
            12 => Unsigned { size: 4, zero_invalid: true },
            14 => Signed { size: 8 },
            15 => Unsigned { size: 8, zero_invalid: false },
            16 => Unsigned { size: 8, zero_invalid: true },
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Base::Unsigned { size, .. } | Base::Signed { size } | Base::Float { size } => {
                usize::from(size)
            }
            Base::String => 1,
        }
    }
}

/// One field we decode, with its place in the data message.
#[derive(Clone, Copy, Debug)]
struct FieldSpec {
    slot: Slot,
    offset: usize,
    size: usize,
    base: Base,
}

/// A local message definition, reduced to the fields we read.
#[derive(Clone, Debug)]
struct Definition {
    global: u16,
    big_endian: bool,
    fields: Vec<FieldSpec>,
    /// Bytes of a data message of this type (all fields, developer fields included).
    len: usize,
}

/// Read an unsigned integer of `n` bytes (n ≤ 8) in the given byte order.
fn read_uint(b: &[u8], big_endian: bool) -> u64 {
    let mut v: u64 = 0;
    if big_endian {
        for &x in b {
            v = (v << 8) | u64::from(x);
        }
    } else {
        for &x in b.iter().rev() {
            v = (v << 8) | u64::from(x);
        }
    }
    v
}

/// The first element of a numeric field, or `None` when it holds the invalid sentinel.
fn read_num(raw: &[u8], base: Base, big_endian: bool) -> Option<f64> {
    let n = base.size();
    let b = raw.get(..n)?;
    let bits = read_uint(b, big_endian);
    let all_ones = if n == 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
    match base {
        Base::Unsigned { zero_invalid, .. } => {
            let invalid = if zero_invalid { 0 } else { all_ones };
            (bits != invalid).then_some(bits as f64)
        }
        Base::Signed { .. } => {
            let max_pos = all_ones >> 1;
            if bits == max_pos {
                return None;
            }
            // Sign-extend from n bytes.
            let shift = 64 - 8 * n as u32;
            Some((((bits << shift) as i64) >> shift) as f64)
        }
        Base::Float { size: 4 } => {
            let v = f64::from(f32::from_bits(bits as u32));
            (bits != all_ones && v.is_finite()).then_some(v)
        }
        Base::Float { .. } => {
            let v = f64::from_bits(bits);
            (bits != all_ones && v.is_finite()).then_some(v)
        }
        Base::String => None,
    }
}

/// A NUL-terminated (or unterminated) string field, lossily decoded, `None` when empty.
fn read_str(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    let s = String::from_utf8_lossy(&raw[..end]).trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn to_u8(v: Option<f64>) -> Option<u8> {
    v.filter(|x| (0.0..=255.0).contains(x)).map(|x| x as u8)
}

fn to_u16(v: Option<f64>) -> Option<u16> {
    v.filter(|x| (0.0..=65535.0).contains(x)).map(|x| x as u16)
}

fn to_u32(v: Option<f64>) -> Option<u32> {
    v.filter(|x| (0.0..=4_294_967_295.0).contains(x)).map(|x| x as u32)
}

fn to_i32(v: Option<f64>) -> Option<i32> {
    v.filter(|x| (-2_147_483_648.0..=2_147_483_647.0).contains(x)).map(|x| x as i32)
}

/// Profile scale/offset: `value / scale - offset`.
fn scaled(v: Option<f64>, scale: f64, offset: f64) -> Option<f64> {
    v.map(|x| x / scale - offset)
}

/// Running state of one decode.
struct Decoder<'a> {
    bytes: &'a [u8],
    out: DecodedFit,
    defs: [Option<Definition>; 16],
    /// The last `timestamp` seen in any message: the base of compressed timestamps.
    last_timestamp: Option<u32>,
    /// `compressed_speed_distance` distance accumulator (raw 1/16 m units).
    csd_last_raw: u32,
    csd_total_raw: u64,
    misaligned_fields: usize,
}

/// Why message decoding stopped before the end of a file's data.
enum Stop {
    /// The data ended in the middle of a message (truncated file).
    Truncated(usize),
    /// Something that cannot be a valid message; decoding cannot resynchronise.
    Invalid(usize, String),
}

/// Decode a whole (decompressed) FIT byte buffer, chained files included.
pub fn decode(bytes: &[u8]) -> Result<DecodedFit, NotFit> {
    let mut d = Decoder {
        bytes,
        out: DecodedFit::default(),
        defs: Default::default(),
        last_timestamp: None,
        csd_last_raw: 0,
        csd_total_raw: 0,
        misaligned_fields: 0,
    };
    d.run()?;
    if d.misaligned_fields > 0 {
        let n = d.misaligned_fields;
        d.out.warnings.push(format!(
            "{n} field definition(s) with a size that is not a multiple of their type were ignored"
        ));
    }
    Ok(d.out)
}

impl Decoder<'_> {
    fn run(&mut self) -> Result<(), NotFit> {
        let len = self.bytes.len();
        let mut pos = 0usize;
        loop {
            let remaining = len - pos;
            let header = self.bytes.get(pos..pos + 12.min(remaining)).unwrap_or_default();
            let is_header = header.len() == 12 && &header[8..12] == b".FIT" && header[0] >= 12;
            if !is_header {
                if self.out.files == 0 {
                    return Err(NotFit {
                        position: pos as u64,
                        message: "not a FIT file header".into(),
                    });
                }
                if remaining > 0 {
                    self.out.warnings.push(format!(
                        "{remaining} bytes after the FIT data at byte {pos} are not a FIT file and were ignored"
                    ));
                }
                return Ok(());
            }
            self.out.files += 1;
            let header_size = usize::from(header[0]);
            let data_size = read_uint(&header[4..8], false) as usize;
            let data_start = pos + header_size;
            if data_start > len {
                self.out.warnings.push(format!("file ends inside the FIT header at byte {pos}"));
                return Ok(());
            }
            // A data size of 0 is written by some devices that crashed before closing the
            // file: read to the end.
            let announced_end = data_start.saturating_add(data_size);
            let data_end = if data_size == 0 || announced_end > len {
                if data_size != 0 {
                    self.out.warnings.push(format!(
                        "file is truncated: the header announces {data_size} bytes of data, {} are present",
                        len - data_start
                    ));
                }
                len
            } else {
                announced_end
            };
            // A new file starts with no definitions and no timestamp base.
            self.defs = Default::default();
            self.last_timestamp = None;
            match self.messages(data_start, data_end) {
                Ok(()) => {}
                Err(Stop::Truncated(at)) => {
                    self.out.warnings.push(format!(
                        "file ends in the middle of a message at byte {at}; kept what was read before"
                    ));
                    return Ok(());
                }
                Err(Stop::Invalid(at, why)) => {
                    self.out.warnings.push(format!(
                        "{why} at byte {at}; decoding stopped there, kept what was read before"
                    ));
                    return Ok(());
                }
            }
            // Skip the 2-byte CRC (not checked: a wrong CRC does not make data unreadable).
            pos = (data_end + 2).min(len);
            if pos >= len {
                return Ok(());
            }
        }
    }

    /// Decode the messages of one file's data section `[start, end)`.
    fn messages(&mut self, start: usize, end: usize) -> Result<(), Stop> {
        let mut pos = start;
        while pos < end {
            let Some(&header) = self.bytes.get(pos) else {
                return Err(Stop::Truncated(pos));
            };
            let msg_start = pos;
            pos += 1;
            if header & 0x80 != 0 {
                // Compressed timestamp header: local type in bits 5-6, 5-bit time offset.
                let local = usize::from((header >> 5) & 0x03);
                let offset = u32::from(header & 0x1F);
                let ts = self.last_timestamp.map(|last| {
                    let mut t = (last & !0x1F) | offset;
                    if offset < (last & 0x1F) {
                        t = t.wrapping_add(0x20);
                    }
                    t
                });
                if let Some(t) = ts {
                    self.last_timestamp = Some(t);
                }
                pos = self.data_message(local, pos, end, msg_start, ts)?;
            } else if header & 0x40 != 0 {
                let local = usize::from(header & 0x0F);
                let has_dev = header & 0x20 != 0;
                pos = self.definition(local, has_dev, pos, end, msg_start)?;
            } else {
                let local = usize::from(header & 0x0F);
                pos = self.data_message(local, pos, end, msg_start, None)?;
            }
        }
        Ok(())
    }

    fn definition(
        &mut self,
        local: usize,
        has_dev: bool,
        mut pos: usize,
        end: usize,
        msg_start: usize,
    ) -> Result<usize, Stop> {
        let fixed = self
            .bytes
            .get(pos..pos + 5)
            .filter(|_| pos + 5 <= end)
            .ok_or(Stop::Truncated(msg_start))?;
        let big_endian = match fixed[1] {
            0 => false,
            1 => true,
            other => {
                return Err(Stop::Invalid(
                    msg_start,
                    format!("definition with architecture byte {other}"),
                ));
            }
        };
        let global = if big_endian {
            u16::from_be_bytes([fixed[2], fixed[3]])
        } else {
            u16::from_le_bytes([fixed[2], fixed[3]])
        };
        let n_fields = usize::from(fixed[4]);
        pos += 5;
        let field_bytes = self
            .bytes
            .get(pos..pos + 3 * n_fields)
            .filter(|_| pos + 3 * n_fields <= end)
            .ok_or(Stop::Truncated(msg_start))?;
        pos += 3 * n_fields;
        let mut fields = Vec::new();
        let mut offset = 0usize;
        for f in field_bytes.chunks_exact(3) {
            let (num, size, base_byte) = (f[0], usize::from(f[1]), f[2]);
            if let Some(slot) = slot_for(global, num) {
                match Base::from_byte(base_byte) {
                    Some(base) if size > 0 && size % base.size() == 0 => {
                        fields.push(FieldSpec { slot, offset, size, base });
                    }
                    // A compressed_speed_distance field is a 3-byte `byte` array.
                    Some(base) if slot == Slot::CompressedSpeedDistance && size > 0 => {
                        fields.push(FieldSpec { slot, offset, size, base });
                    }
                    Some(_) if size > 0 => self.misaligned_fields += 1,
                    _ => {}
                }
            }
            offset += size;
        }
        if has_dev {
            let n_dev = usize::from(
                *self.bytes.get(pos).filter(|_| pos < end).ok_or(Stop::Truncated(msg_start))?,
            );
            pos += 1;
            let dev_bytes = self
                .bytes
                .get(pos..pos + 3 * n_dev)
                .filter(|_| pos + 3 * n_dev <= end)
                .ok_or(Stop::Truncated(msg_start))?;
            pos += 3 * n_dev;
            offset += dev_bytes.chunks_exact(3).map(|f| usize::from(f[1])).sum::<usize>();
        }
        if let Some(slot) = self.defs.get_mut(local) {
            *slot = Some(Definition { global, big_endian, fields, len: offset });
        }
        Ok(pos)
    }

    fn data_message(
        &mut self,
        local: usize,
        pos: usize,
        end: usize,
        msg_start: usize,
        header_ts: Option<u32>,
    ) -> Result<usize, Stop> {
        let Some(def) = self.defs.get(local).and_then(Option::as_ref) else {
            return Err(Stop::Invalid(
                msg_start,
                format!("data message for undefined local message type {local}"),
            ));
        };
        let body_end = pos + def.len;
        if body_end > end {
            return Err(Stop::Truncated(msg_start));
        }
        let body = self.bytes.get(pos..body_end).ok_or(Stop::Truncated(msg_start))?;
        let big = def.big_endian;
        // Borrow the definition's fields separately from `self.out` mutation below.
        let global = def.global;
        let fields = &def.fields;
        let field = |f: &FieldSpec| body.get(f.offset..f.offset + f.size).unwrap_or_default();
        let num = |f: &FieldSpec| read_num(field(f), f.base, big);
        let mut ts = header_ts;
        for f in fields.iter().filter(|f| f.slot == Slot::Timestamp) {
            if let Some(t) = to_u32(num(f)) {
                ts = Some(t);
            }
        }
        match global {
            mesg::RECORD => {
                let mut r = RecordMsg { timestamp: ts, ..Default::default() };
                let mut csd: Option<[u8; 3]> = None;
                for f in fields {
                    match f.slot {
                        Slot::Lat => r.lat_semicircles = to_i32(num(f)),
                        Slot::Lon => r.lon_semicircles = to_i32(num(f)),
                        Slot::Altitude => r.altitude_m = scaled(num(f), 5.0, 500.0),
                        Slot::EnhAltitude => r.enhanced_altitude_m = scaled(num(f), 5.0, 500.0),
                        Slot::Hr => r.hr_bpm = num(f),
                        Slot::Cadence => r.cadence_rpm = num(f),
                        Slot::RecDistance => r.distance_m = scaled(num(f), 100.0, 0.0),
                        Slot::Speed => r.speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::EnhSpeed => r.enhanced_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::Power => r.power_w = num(f),
                        Slot::Temperature => r.temperature_c = num(f),
                        Slot::CompressedSpeedDistance => {
                            if let Some(&[a, b, c]) = field(f).get(..3)
                                && [a, b, c] != [0xFF; 3]
                            {
                                csd = Some([a, b, c]);
                            }
                        }
                        _ => {}
                    }
                }
                if let Some([a, b, c]) = csd {
                    // 12 bits of speed (1/100 m/s), then 12 bits of accumulating distance (1/16 m).
                    let speed_raw = u32::from(a) | (u32::from(b & 0x0F) << 8);
                    let dist_raw = u32::from(b >> 4) | (u32::from(c) << 4);
                    if r.speed_ms.is_none() {
                        r.speed_ms = Some(f64::from(speed_raw) / 100.0);
                    }
                    let delta = dist_raw.wrapping_sub(self.csd_last_raw) & 0xFFF;
                    self.csd_last_raw = dist_raw;
                    self.csd_total_raw += u64::from(delta);
                    if r.distance_m.is_none() {
                        r.distance_m = Some(self.csd_total_raw as f64 / 16.0);
                    }
                }
                self.out.records.push(r);
            }
            mesg::SESSION | mesg::LAP => {
                let mut s = SummaryMsg { timestamp: ts, ..Default::default() };
                for f in fields {
                    match f.slot {
                        Slot::StartTime => s.start_time = to_u32(num(f)),
                        Slot::Sport => s.sport = to_u8(num(f)),
                        Slot::SubSport => s.sub_sport = to_u8(num(f)),
                        Slot::Elapsed => s.elapsed_s = scaled(num(f), 1000.0, 0.0),
                        Slot::Timer => s.timer_s = scaled(num(f), 1000.0, 0.0),
                        Slot::Distance => s.distance_m = scaled(num(f), 100.0, 0.0),
                        Slot::Ascent => s.ascent_m = num(f),
                        Slot::Descent => s.descent_m = num(f),
                        Slot::AvgSpeed => s.avg_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::MaxSpeed => s.max_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::EnhAvgSpeed => s.enhanced_avg_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::EnhMaxSpeed => s.enhanced_max_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::AvgHr => s.avg_hr_bpm = num(f),
                        Slot::MaxHr => s.max_hr_bpm = num(f),
                        Slot::AvgCadence => s.avg_cadence_rpm = num(f),
                        Slot::MaxCadence => s.max_cadence_rpm = num(f),
                        Slot::AvgPower => s.avg_power_w = num(f),
                        Slot::MaxPower => s.max_power_w = num(f),
                        Slot::Calories => s.calories_kcal = num(f),
                        Slot::PoolLength => s.pool_length_m = scaled(num(f), 100.0, 0.0),
                        _ => {}
                    }
                }
                if global == mesg::SESSION {
                    self.out.sessions.push(s);
                } else {
                    self.out.laps.push(s);
                }
            }
            mesg::LENGTH => {
                let mut m = LengthMsg { timestamp: ts, ..Default::default() };
                for f in fields {
                    match f.slot {
                        Slot::StartTime => m.start_time = to_u32(num(f)),
                        Slot::Elapsed => m.elapsed_s = scaled(num(f), 1000.0, 0.0),
                        Slot::Timer => m.timer_s = scaled(num(f), 1000.0, 0.0),
                        Slot::Strokes => m.strokes = num(f),
                        Slot::AvgSpeed => m.avg_speed_ms = scaled(num(f), 1000.0, 0.0),
                        Slot::AvgCadence => m.stroke_rate_spm = num(f),
                        Slot::LengthType => m.length_type = to_u8(num(f)),
                        _ => {}
                    }
                }
                self.out.lengths.push(m);
            }
            mesg::FILE_ID => {
                let mut m = FileIdMsg::default();
                for f in fields {
                    match f.slot {
                        Slot::FileType => m.file_type = to_u8(num(f)),
                        Slot::Manufacturer => m.manufacturer = to_u16(num(f)),
                        Slot::Product => m.product = to_u16(num(f)),
                        Slot::TimeCreated => m.time_created = to_u32(num(f)),
                        Slot::ProductName => m.product_name = read_str(field(f)),
                        _ => {}
                    }
                }
                self.out.file_ids.push(m);
            }
            mesg::ACTIVITY => {
                let mut m = ActivityMsg { timestamp: ts, local_timestamp: None };
                for f in fields {
                    if f.slot == Slot::LocalTimestamp {
                        m.local_timestamp = to_u32(num(f));
                    }
                }
                self.out.activities.push(m);
            }
            mesg::SPORT => {
                let mut m = SportMsg::default();
                for f in fields {
                    match f.slot {
                        Slot::Sport => m.sport = to_u8(num(f)),
                        Slot::SubSport => m.sub_sport = to_u8(num(f)),
                        _ => {}
                    }
                }
                self.out.sports.push(m);
            }
            mesg::EVENT => {
                let mut m = EventMsg { timestamp: ts, ..Default::default() };
                for f in fields {
                    match f.slot {
                        Slot::Event => m.event = to_u8(num(f)),
                        Slot::EventType => m.event_type = to_u8(num(f)),
                        _ => {}
                    }
                }
                self.out.events.push(m);
            }
            mesg::DEVICE_INFO => {
                let mut m = DeviceInfoMsg { timestamp: ts, ..Default::default() };
                for f in fields {
                    match f.slot {
                        Slot::DeviceIndex => m.device_index = to_u8(num(f)),
                        Slot::Manufacturer => m.manufacturer = to_u16(num(f)),
                        Slot::Product => m.product = to_u16(num(f)),
                        Slot::ProductName => m.product_name = read_str(field(f)),
                        _ => {}
                    }
                }
                self.out.device_infos.push(m);
            }
            _ => {}
        }
        if let Some(t) = ts {
            self.last_timestamp = Some(t);
        }
        Ok(body_end)
    }
}
