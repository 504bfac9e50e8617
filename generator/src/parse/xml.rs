//! Helpers shared by the GPX and TCX parsers: a lenient quick-xml reader, case-insensitive
//! local-name matching, number and ISO-8601 timestamp parsing from borrowed bytes, lenient text
//! decoding, and source/device/altimeter inference from a creator string.
//!
//! Both parsers are streaming state machines over quick-xml events. Everything here works on
//! the borrowed byte slices quick-xml hands out, so the hot path (one track point) allocates
//! nothing: numbers are parsed straight from the element text and timestamps are parsed by
//! hand instead of through a general date library.

use super::ParseError;
use bincio_bas::AltitudeSource;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

/// 1990-01-01T00:00:00Z in Unix ms. Earlier timestamps come from a device whose clock was
/// never set (gpxpy's Mojstrovka sample is stamped 1901, the INT32_MIN epoch) and are not
/// trusted (docs/decisions.md E1).
pub(crate) const EARLIEST_TRUSTED_MS: i64 = 631_152_000_000;

/// The bytes without a UTF-8 BOM and leading whitespace: some exporters write either before
/// `<?xml`, which XML forbids and quick-xml would report.
pub(crate) fn strip_preamble(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A quick-xml reader over a byte slice, configured to be lenient: activity files in the wild
/// have mismatched end tags, stray `&` and bare `</x>`; the parsers only care about element
/// names and text, so none of these should lose a ride.
pub(crate) fn reader(bytes: &[u8]) -> Reader<&[u8]> {
    let mut r = Reader::from_reader(strip_preamble(bytes));
    let c = r.config_mut();
    c.check_end_names = false;
    c.allow_unmatched_ends = true;
    c.allow_dangling_amp = true;
    c.check_comments = false;
    c.trim_text(false);
    c.expand_empty_elements = false;
    r
}

/// The parse error for a quick-xml failure, naming the byte position.
pub(crate) fn xml_error(reader: &Reader<&[u8]>, err: &quick_xml::Error) -> ParseError {
    ParseError::Xml { position: reader.error_position(), message: err.to_string() }
}

/// A streaming consumer of XML events: the GPX and TCX parsers' state machines.
pub(crate) trait XmlSink {
    /// An element opens (also called for empty elements, followed by [`XmlSink::end`]).
    fn start(&mut self, e: &BytesStart<'_>);
    /// The innermost open element closes.
    fn end(&mut self);
    /// Text or CDATA inside the current element.
    fn text(&mut self, t: &[u8]);
    /// An entity reference (`&amp;`) inside the current element.
    fn push_ref(&mut self, r: &BytesRef<'_>);
    /// True inside an element whose text is a string, where entities are expanded.
    fn in_string_leaf(&self) -> bool;
    /// True once a point was read: a document that breaks later keeps what came before.
    fn has_points(&self) -> bool;
}

/// Feed a whole document to a sink made by `new`, and return the sink with the warning of a
/// document that broke after some points were read (a device that died mid-write: not an
/// error, the warning says where it broke).
///
/// Most documents take [`drive_fast`], a tokenizer of the plain XML activity files are made
/// of; the first construct it does not handle exactly as quick-xml would (an entity
/// reference in text, a DOCTYPE, anything quick-xml reports as an error, a tag that is not
/// UTF-8) sends the whole document through quick-xml ([`drive_events`]) with a fresh sink,
/// so every document gives the sink the very events quick-xml gives.
pub(crate) fn drive<S: XmlSink>(
    bytes: &[u8],
    new: impl Fn() -> S,
) -> Result<(S, Option<String>), ParseError> {
    let mut sink = new();
    if drive_fast(bytes, &mut sink) {
        return Ok((sink, None));
    }
    let mut sink = new();
    let warning = drive_events(bytes, &mut sink)?;
    Ok((sink, warning))
}

/// Feed a whole document to `sink` through quick-xml's events. A document that breaks after
/// some points were read is not an error: the returned warning says where it broke.
pub(crate) fn drive_events<S: XmlSink>(
    bytes: &[u8],
    sink: &mut S,
) -> Result<Option<String>, ParseError> {
    let mut reader = reader(bytes);
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(err) => {
                let e = xml_error(&reader, &err);
                if !sink.has_points() {
                    return Err(e);
                }
                return Ok(Some(format!("{e}; kept the points before it")));
            }
        };
        match ev {
            Event::Start(e) => sink.start(&e),
            Event::Empty(e) => {
                sink.start(&e);
                sink.end();
            }
            Event::End(_) => sink.end(),
            Event::Text(t) => sink.text(&t),
            Event::CData(t) => sink.text(&t),
            Event::GeneralRef(r) if sink.in_string_leaf() => sink.push_ref(&r),
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

/// XML whitespace as quick-xml defines it.
#[inline]
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// Length of the name at the start of a tag's content (up to the first XML whitespace), as
/// quick-xml computes it.
#[inline]
fn name_len(content: &[u8]) -> usize {
    content.iter().position(|&b| is_xml_space(b)).unwrap_or(content.len())
}

/// Index of the `>` closing a tag whose content starts `rest`, skipping `>` inside quoted
/// attribute values (quick-xml's `ElementParser`: a quote opens wherever it appears). A
/// byte loop: tags are a few bytes long, shorter than a vectorised search takes to start.
#[inline]
fn element_end(rest: &[u8]) -> Option<usize> {
    let mut quote = 0u8;
    for (i, &c) in rest.iter().enumerate() {
        if quote == 0 {
            match c {
                b'>' => return Some(i),
                b'"' | b'\'' => quote = c,
                _ => {}
            }
        } else if c == quote {
            quote = 0;
        }
    }
    None
}

/// Index of the `>` closing a comment whose markup (`!--…`) starts `rest`: the first `>`
/// after at least `!----` that follows `--` (quick-xml's rule, `<!--->` included).
#[inline]
fn comment_end(rest: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'>', rest).find(|&i| i > 4 && rest[..i].ends_with(b"--"))
}

/// Index of the `>` closing a CDATA section whose markup (`![CDATA[…`) starts `rest`.
#[inline]
fn cdata_end(rest: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'>', rest).find(|&i| rest[..i].ends_with(b"]]"))
}

/// Index of the `>` closing a processing instruction or declaration (`?…?>`).
#[inline]
fn pi_end(rest: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'>', rest).find(|&i| i > 0 && rest[i - 1] == b'?')
}

/// The fast path of [`drive`]: one pass over the bytes that gives `sink` exactly the events
/// [`drive_events`] would (same text slices, same tag contents, comments, declarations and
/// processing instructions skipped, CDATA as text) without quick-xml's per-event state
/// (the stack of open names it keeps for end-name checks that are off here, its event enum
/// and state machine). Returns `false`, possibly after some events, as soon as the
/// document holds something it leaves to quick-xml: an `&` in text (entity references are
/// split into separate events), `<!DOCTYPE` or any other `<!` markup, a tag that is not
/// UTF-8, or anything quick-xml reports as an error (an unclosed tag, comment, CDATA or
/// declaration). The caller then starts again with a fresh sink.
pub(crate) fn drive_fast<S: XmlSink>(bytes: &[u8], sink: &mut S) -> bool {
    let b = strip_preamble(bytes);
    // quick-xml removes one more UTF-8 BOM at the start of what it is given.
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    // Tags are handed on as `&str`: validate the document once, not every tag (a file that
    // is not UTF-8, a Latin-1 export, has its tags checked one by one).
    let doc = std::str::from_utf8(b).ok();
    let mut i = 0;
    loop {
        // Text up to the next markup (a byte loop: text runs are short). quick-xml emits no
        // empty text event.
        let mut k = i;
        while k < b.len() && b[k] != b'<' && b[k] != b'&' {
            k += 1;
        }
        if k == b.len() {
            if k > i {
                sink.text(&b[i..]);
            }
            return true;
        }
        if b[k] == b'&' {
            return false;
        }
        if k > i {
            sink.text(&b[i..k]);
        }
        i = k + 1;
        // Markup: `b[i..]` follows a `<`.
        let rest = &b[i..];
        let end = match rest.first() {
            None => return false,
            Some(b'!') => {
                if rest.starts_with(b"!--") {
                    match comment_end(rest) {
                        Some(end) => end,
                        None => return false,
                    }
                } else if rest.starts_with(b"![CDATA[") {
                    match cdata_end(rest) {
                        Some(end) => {
                            sink.text(&rest[8..end - 2]);
                            end
                        }
                        None => return false,
                    }
                } else {
                    return false;
                }
            }
            Some(b'?') => match pi_end(rest) {
                // `<?>` is an unclosed declaration for quick-xml.
                Some(end) if end > 1 => end,
                _ => return false,
            },
            Some(b'/') => match element_end(rest) {
                Some(end) => {
                    sink.end();
                    end
                }
                None => return false,
            },
            Some(_) => {
                let Some(end) = element_end(rest) else { return false };
                let content = match doc {
                    Some(doc) => doc.get(i..i + end),
                    None => std::str::from_utf8(&rest[..end]).ok(),
                };
                let Some(content) = content else { return false };
                match content.strip_suffix('/') {
                    Some(c) => {
                        sink.start(&BytesStart::from_content(c, name_len(c.as_bytes())));
                        sink.end();
                    }
                    None => {
                        sink.start(&BytesStart::from_content(content, name_len(content.as_bytes())))
                    }
                }
                end
            }
        };
        i += end + 1;
    }
}

/// The local part of a possibly prefixed name (`gpxtpx:hr` → `hr`).
#[inline]
pub(crate) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Case-insensitive ASCII comparison of an element name with a lower-case literal.
#[inline]
pub(crate) fn is(name: &[u8], lower_literal: &[u8]) -> bool {
    name.len() == lower_literal.len() && name.eq_ignore_ascii_case(lower_literal)
}

/// Trim ASCII whitespace on both ends of a byte slice.
#[inline]
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// A finite `f64` from element or attribute text (`" 12.5 "`, `1e3`); `None` for anything
/// else, including NaN and infinities.
#[inline]
pub(crate) fn parse_f64(bytes: &[u8]) -> Option<f64> {
    let b = trim(bytes);
    if let Some(v) = parse_simple_decimal(b) {
        return Some(v);
    }
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Powers of ten that are exact in an `f64`.
const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Fast path for the plain decimals activity files are made of (`-41.4177320`, `185.8`):
/// at most 15 significant digits, so the mantissa and the power of ten are both exact and
/// one IEEE division gives the correctly rounded value, the same as `str::parse`. Anything
/// else (exponents, long fractions) returns `None` and takes the general path.
#[inline]
fn parse_simple_decimal(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    // At most 15 digits and a point: longer text cannot take this path (and the mantissa
    // below cannot overflow).
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    // Two plain loops, the integer digits then the fraction's, rather than one loop that
    // tracks whether the point was seen: the same grammar (digits, at most one point).
    let mut mantissa: u64 = 0;
    let mut i = 0;
    while let Some(&c) = digits.get(i).filter(|c| c.is_ascii_digit()) {
        mantissa = mantissa * 10 + u64::from(c - b'0');
        i += 1;
    }
    let int_digits = i;
    let mut frac_digits = 0;
    if digits.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(&c) = digits.get(i).filter(|c| c.is_ascii_digit()) {
            mantissa = mantissa * 10 + u64::from(c - b'0');
            i += 1;
        }
        frac_digits = i - start;
    }
    let n_digits = int_digits + frac_digits;
    if i != digits.len() || n_digits == 0 || n_digits > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[frac_digits];
    Some(if neg { -v } else { v })
}

/// A non-negative sensor reading that fits a `u16` (hr, cadence, power), rounded to nearest.
#[inline]
pub(crate) fn parse_u16(bytes: &[u8]) -> Option<u16> {
    let v = parse_f64(bytes)?;
    (0.0..=f64::from(u16::MAX)).contains(&v).then(|| v.round() as u16)
}

/// Latitude in degrees, `None` outside [-90, 90].
#[inline]
pub(crate) fn parse_lat(bytes: &[u8]) -> Option<f64> {
    parse_f64(bytes).filter(|v| (-90.0..=90.0).contains(v))
}

/// Longitude in degrees, `None` outside [-180, 180].
#[inline]
pub(crate) fn parse_lon(bytes: &[u8]) -> Option<f64> {
    parse_f64(bytes).filter(|v| (-180.0..=180.0).contains(v))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `n` ASCII digits at `b[at..]` as a number.
#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    let mut v = 0i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Parse an ISO-8601 timestamp `YYYY-MM-DDTHH:MM:SS(.f+)?(Z|±HH:MM|±HHMM|±HH)?` (a space is
/// accepted for `T`, surrounding whitespace is ignored) into `(unix_ms, utc_offset_s)`.
/// No zone means UTC (docs/decisions.md E6). Fractions beyond milliseconds are
/// truncated; a leap second `:60` is read as `:59.999`. Invalid dates give `None`.
pub(crate) fn parse_timestamp(raw: &[u8]) -> Option<(i64, i32)> {
    let b = trim(raw);
    if b.len() < 19 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let mut second = digits(b, 17, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        let mut scale = 100;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            frac_ms += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if second == 60 {
        second = 59;
        frac_ms = 999;
    }
    let offset_s: i64 = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (oh, om) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let local_s = days * 86_400 + hour * 3600 + minute * 60 + second;
    let utc_ms = (local_s - offset_s) * 1000 + frac_ms;
    Some((utc_ms, offset_s as i32))
}

/// Decode text bytes leniently: UTF-8 when valid, otherwise Latin-1 (every byte is a
/// character). Files that are not UTF-8 are in practice Latin-1/Windows-1252 exports whose
/// accented names would otherwise turn into replacement characters.
pub(crate) fn decode_lenient(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Accumulates the text of one string element (names, descriptions) across the Text,
/// CDATA and entity-reference events quick-xml splits it into.
#[derive(Default)]
pub(crate) struct TextBuf {
    raw: Vec<u8>,
}

impl TextBuf {
    pub(crate) fn clear(&mut self) {
        self.raw.clear();
    }

    /// Text or CDATA content, literal (quick-xml 0.38 reports references separately).
    pub(crate) fn push_raw(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
    }

    /// `&amp;`, `&#233;`, `&#xE9;`: predefined and character references are resolved; an
    /// unknown entity is kept as written.
    pub(crate) fn push_ref(&mut self, r: &BytesRef<'_>) {
        if let Ok(Some(c)) = r.resolve_char_ref() {
            let mut buf = [0u8; 4];
            self.raw.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            return;
        }
        let name: &[u8] = r;
        let resolved =
            std::str::from_utf8(name).ok().and_then(quick_xml::escape::resolve_predefined_entity);
        match resolved {
            Some(s) => self.raw.extend_from_slice(s.as_bytes()),
            None => {
                self.raw.push(b'&');
                self.raw.extend_from_slice(name);
                self.raw.push(b';');
            }
        }
    }

    /// The text with whitespace runs collapsed and ends trimmed; `None` when empty.
    pub(crate) fn take(&mut self) -> Option<String> {
        let s = decode_lenient(&self.raw);
        self.raw.clear();
        let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
        (!collapsed.is_empty()).then_some(collapsed)
    }
}

/// The attribute value of `name` (local name, case-insensitive) on a start tag, raw bytes.
pub(crate) fn attr<'a>(
    e: &'a quick_xml::events::BytesStart<'_>,
    name: &[u8],
) -> Option<std::borrow::Cow<'a, [u8]>> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| is(local(a.key.as_ref()), name))
        .map(|a| a.value)
}

/// An attribute value as text (entities unescaped, lenient decoding).
pub(crate) fn attr_text(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    let raw = attr(e, name)?;
    let s = decode_lenient(&raw);
    let s = match quick_xml::escape::unescape(&s) {
        Ok(u) => u.into_owned(),
        Err(_) => s,
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The `source` a creator/author string names (docs/decisions.md E7): Strava's
/// `StravaGPX*` → `strava_export`, Komoot, Wahoo/ELEMNT, Garmin Connect, Karoo/Hammerhead.
/// Anything else is `None` and falls back to the format's `gpx_file`/`tcx_file`.
pub(crate) fn source_from_creator(creator: &str) -> Option<&'static str> {
    let c = creator.to_lowercase();
    if c.contains("strava") {
        Some("strava_export")
    } else if c.contains("komoot") {
        Some("komoot")
    } else if c.contains("wahoo") || c.contains("elemnt") {
        Some("wahoo")
    } else if c.contains("karoo") || c.contains("hammerhead") {
        Some("karoo")
    } else if c.contains("garmin connect") || c.contains("connect api") {
        Some("garmin_connect")
    } else {
        None
    }
}

/// Device families whose name alone identifies a Garmin unit (`GPSMAP 64s` → `Garmin GPSMAP 64s`).
const GARMIN_FAMILIES: [&str; 14] = [
    "edge",
    "forerunner",
    "fenix",
    "fēnix",
    "gpsmap",
    "etrex",
    "oregon",
    "montana",
    "dakota",
    "colorado",
    "epix",
    "enduro",
    "instinct",
    "vivoactive",
];

/// The recording device a creator string names, or `None` when it names an application.
/// Kept simple on purpose: Garmin units (by family name), Wahoo ELEMNT and Hammerhead Karoo.
pub(crate) fn device_from_creator(creator: &str) -> Option<String> {
    let c = creator.trim();
    let lower = c.to_lowercase();
    if lower.contains("connect") || lower.contains("http") || lower.contains("strava") {
        return None;
    }
    let first = lower.split_whitespace().next().unwrap_or("");
    let first_plain = first.replace('í', "i");
    if first == "garmin" && lower.split_whitespace().count() > 1 {
        return Some(c.to_owned());
    }
    if GARMIN_FAMILIES.iter().any(|f| first_plain == *f) {
        return Some(format!("Garmin {c}"));
    }
    if lower.contains("elemnt") || lower.contains("karoo") {
        return Some(c.to_owned());
    }
    None
}

/// Whether the elevation of a file was measured by a barometric altimeter, guessed from the
/// device name. Simple heuristic: Garmin Edge (except the GPS-only Edge 20/25/200), fenix,
/// epix, Enduro, Instinct, Forerunner 9xx, vívoactive HR, GPSMAP `…s` models and eTrex 30,
/// Wahoo ELEMNT and Hammerhead Karoo carry one. Everything else (phones, unknown apps) is GPS.
pub(crate) fn altitude_source_for_device(device: Option<&str>) -> AltitudeSource {
    let Some(d) = device else { return AltitudeSource::Gps };
    let l = d.to_lowercase().replace('í', "i").replace('ē', "e");
    let words: Vec<&str> = l.split_whitespace().collect();
    let after = |family: &str| -> Option<&str> {
        words.iter().position(|w| *w == family).and_then(|i| words.get(i + 1).copied())
    };
    let baro = if let Some(model) = after("edge") {
        !matches!(model, "20" | "25" | "200")
    } else if words.iter().any(|w| matches!(*w, "fenix" | "epix" | "enduro" | "instinct")) {
        true
    } else if let Some(model) = after("forerunner") {
        model.starts_with('9')
    } else if l.contains("vivoactive hr") {
        true
    } else if let Some(model) = after("gpsmap") {
        model.ends_with('s') || model.ends_with("sc") || model.ends_with("st")
    } else if let Some(model) = after("etrex") {
        model == "30" || model == "30x"
    } else {
        l.contains("elemnt") || l.contains("karoo")
    };
    if baro { AltitudeSource::Barometric } else { AltitudeSource::Gps }
}

/// Test helpers shared by the GPX and TCX tests: the sample corpus and its MANIFEST.tsv.
#[cfg(test)]
pub(crate) mod samples {
    use crate::model::Activity;
    use std::path::PathBuf;

    /// A sample file beside the repository (see docs/development.md; never copied into it).
    pub(crate) fn sample_path(rel: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/samples")).join(rel)
    }

    /// A sample's bytes, gunzipped when gzip.
    pub(crate) fn read_sample(rel: &str) -> Vec<u8> {
        let raw = std::fs::read(sample_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        crate::parse::maybe_decompress(&raw).expect("gzip").into_owned()
    }

    /// The columns of `devices/MANIFEST.tsv` the parser tests check.
    pub(crate) struct Row {
        pub file: String,
        pub format: String,
        pub distance_m: Option<f64>,
        pub timer_s: Option<f64>,
        pub avg_hr: Option<f64>,
        pub max_hr: Option<f64>,
        pub n_laps: Option<usize>,
        pub n_points: Option<usize>,
        pub span_s: Option<f64>,
    }

    pub(crate) fn manifest() -> Vec<Row> {
        let text = std::fs::read_to_string(sample_path("devices/MANIFEST.tsv")).expect("manifest");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (file, format, dist, timer) =
            (col("file"), col("format"), col("distance_m"), col("timer_s"));
        let (avg_hr, max_hr, laps) = (col("avg_hr"), col("max_hr"), col("n_laps"));
        let (points, span) = (col("n_points"), col("computed_span_s"));
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
                Row {
                    file: f[file].to_owned(),
                    format: f[format].to_owned(),
                    distance_m: num(dist),
                    timer_s: num(timer),
                    avg_hr: num(avg_hr),
                    max_hr: num(max_hr),
                    n_laps: num(laps).map(|v| v as usize),
                    n_points: num(points).map(|v| v as usize),
                    span_s: num(span),
                }
            })
            .collect()
    }

    /// Seconds from the first to the last sample.
    pub(crate) fn span_s(a: &Activity) -> f64 {
        match (a.samples.first(), a.samples.last()) {
            (Some(f), Some(l)) => (l.ts_ms - f.ts_ms) as f64 / 1000.0,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_zones() {
        // 2024-06-01T07:30:12.5Z
        let utc = 1_717_227_012_500;
        assert_eq!(parse_timestamp(b"2024-06-01T07:30:12.500Z"), Some((utc, 0)));
        assert_eq!(parse_timestamp(b" 2024-06-01T07:30:12.5 "), Some((utc, 0)));
        assert_eq!(parse_timestamp(b"2024-06-01T09:30:12.5+02:00"), Some((utc, 7200)));
        assert_eq!(parse_timestamp(b"2024-06-01T09:30:12.5+0200"), Some((utc, 7200)));
        assert_eq!(parse_timestamp(b"2024-06-01T04:30:12.5-03"), Some((utc, -10800)));
        assert_eq!(parse_timestamp(b"2024-06-01 07:30:12.5004999Z"), Some((utc, 0)));
        assert_eq!(parse_timestamp(b"1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_timestamp(b"1901-12-13T20:45:52.2073437Z"), Some((-2_147_483_647_793, 0)));
        assert_eq!(parse_timestamp(b"2016-12-31T23:59:60Z"), Some((1_483_228_799_999, 0)));
        assert_eq!(parse_timestamp(b"2024-02-29T00:00:00Z"), Some((1_709_164_800_000, 0)));
    }

    #[test]
    fn bad_timestamps_are_none() {
        for bad in [
            &b""[..],
            b"2024-06-01",
            b"2023-02-29T00:00:00Z",
            b"2024-13-01T00:00:00Z",
            b"2024-06-01T24:00:00Z",
            b"2024-06-01T10:00:00.Z",
            b"2024-06-01T10:00:00Zjunk",
            b"2024-06-01T10:00:00+2",
            b"2024/06/01T10:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn numbers_from_bytes() {
        assert_eq!(parse_f64(b" 12.5\n"), Some(12.5));
        assert_eq!(parse_f64(b"NaN"), None);
        assert_eq!(parse_f64(b"inf"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_u16(b"120.6"), Some(121));
        assert_eq!(parse_u16(b"-3"), None);
        assert_eq!(parse_lat(b"91"), None);
        assert_eq!(parse_lon(b"-121.9"), Some(-121.9));
    }

    /// The fast decimal path as it was first written (one loop tracking the point), the
    /// oracle of the two-loop one.
    fn simple_decimal_one_loop(b: &[u8]) -> Option<f64> {
        let (neg, digits) = match b.first()? {
            b'-' => (true, &b[1..]),
            b'+' => (false, &b[1..]),
            _ => (false, b),
        };
        if digits.is_empty() || digits.len() > 16 {
            return None;
        }
        let mut mantissa: u64 = 0;
        let mut n_digits = 0usize;
        let mut frac_digits: Option<usize> = None;
        for &c in digits {
            match c {
                b'0'..=b'9' => {
                    mantissa = mantissa * 10 + u64::from(c - b'0');
                    n_digits += 1;
                    if let Some(f) = frac_digits.as_mut() {
                        *f += 1;
                    }
                }
                b'.' if frac_digits.is_none() => frac_digits = Some(0),
                _ => return None,
            }
        }
        if n_digits == 0 || n_digits > 15 {
            return None;
        }
        let v = mantissa as f64 / POW10[frac_digits.unwrap_or(0)];
        Some(if neg { -v } else { v })
    }

    #[test]
    fn simple_decimal_edges() {
        for t in [
            "",
            "-",
            "+",
            ".",
            "-.",
            "5.",
            ".5",
            "-.5",
            "+5.",
            "0",
            "00",
            "1.2.3",
            "..1",
            "1..",
            "123456789012345",
            "1234567890123456",
            "12345678901234.5",
            "123456789012345.",
            ".123456789012345",
            "1234567890123456.",
            "1e5",
            "1 ",
            " 1",
            "--1",
            "-+1",
            "1-",
        ] {
            assert_eq!(
                parse_simple_decimal(t.as_bytes()).map(f64::to_bits),
                simple_decimal_one_loop(t.as_bytes()).map(f64::to_bits),
                "{t:?}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]
        /// The two-loop decimal path accepts exactly what the one-loop one did, with the
        /// same bits, on any text of digits, points, signs and other characters.
        #[test]
        fn simple_decimal_equals_one_loop(text in "[-+]?[0-9.]{0,18}|[-+0-9.e ]{0,20}") {
            proptest::prop_assert_eq!(
                parse_simple_decimal(text.as_bytes()).map(f64::to_bits),
                simple_decimal_one_loop(text.as_bytes()).map(f64::to_bits),
                "{:?}", text
            );
        }
    }

    proptest::proptest! {
        /// The fast decimal path agrees bit for bit with `str::parse`.
        #[test]
        fn fast_decimals_equal_std(m in 0u64..1_000_000_000_000_000, dot in 0usize..17, neg: bool) {
            let digits = m.to_string();
            let text = if dot < digits.len() {
                format!("{}{}.{}", if neg { "-" } else { "" }, &digits[..dot], &digits[dot..])
            } else {
                format!("{}{digits}", if neg { "-" } else { "" })
            };
            let want: f64 = text.parse().expect("valid");
            proptest::prop_assert_eq!(parse_f64(text.as_bytes()).map(f64::to_bits), Some(want.to_bits()), "{}", text);
        }
    }

    /// Records every event a driver gives, to compare the fast path with quick-xml's.
    #[derive(Default)]
    struct Recorder {
        events: Vec<String>,
        texts: usize,
    }

    impl XmlSink for Recorder {
        fn start(&mut self, e: &BytesStart<'_>) {
            let attrs: Vec<String> = e
                .attributes()
                .with_checks(false)
                .map(|a| match a {
                    Ok(a) => format!(
                        "{}={}",
                        String::from_utf8_lossy(a.key.as_ref()),
                        String::from_utf8_lossy(&a.value)
                    ),
                    Err(err) => format!("error {err}"),
                })
                .collect();
            let name = e.name();
            let name = String::from_utf8_lossy(name.as_ref());
            self.events.push(format!("start {name} {attrs:?} {:?}", String::from_utf8_lossy(e)));
        }
        fn end(&mut self) {
            self.events.push("end".into());
        }
        fn text(&mut self, t: &[u8]) {
            self.texts += 1;
            self.events.push(format!("text {:?}", String::from_utf8_lossy(t)));
        }
        fn push_ref(&mut self, r: &BytesRef<'_>) {
            self.events.push(format!("ref {:?}", String::from_utf8_lossy(r)));
        }
        fn in_string_leaf(&self) -> bool {
            true
        }
        fn has_points(&self) -> bool {
            self.texts > 0
        }
    }

    /// The events quick-xml gives, and whether the fast path took the document; when it
    /// did, its events must be the same and quick-xml must have read the document whole.
    fn compare(doc: &[u8]) -> bool {
        let mut slow = Recorder::default();
        let slow_result = drive_events(doc, &mut slow);
        let mut fast = Recorder::default();
        if !drive_fast(doc, &mut fast) {
            return false;
        }
        assert_eq!(slow_result, Ok(None), "{:?}", String::from_utf8_lossy(doc));
        assert_eq!(fast.events, slow.events, "{:?}", String::from_utf8_lossy(doc));
        // And `drive` gives the fast path's sink.
        let (sink, warning) = drive(doc, Recorder::default).expect("parses");
        assert_eq!((sink.events, warning), (fast.events, None));
        true
    }

    #[test]
    fn fast_path_agrees_on_edge_documents() {
        let taken: &[&[u8]] = &[
            b"",
            b"   ",
            b"\xef\xbb\xbf\xef\xbb\xbf<gpx/>",
            b"<?xml version=\"1.0\"?>\n<gpx creator=\"a > b\" x='\"'><trk>\n</trk></gpx>",
            b"<a><!-- c > d --><!----><![CDATA[1<2]]><![CDATA[]]></a>",
            b"<a>x<!-- y -->z</a>trailing",
            b"<>< a/></ a b='>'>",
            b"<a\tb=\"1\"\r\n/><?pi x?><?xml?>",
            b"<ele>1.5</ele><time>2024-01-01T00:00:00Z</time>",
            "<name>Rennrad é</name>".as_bytes(),
            "<trk><name lang='é' x=\"ü>\">Rennrad é</name></trk>".as_bytes(),
            b"<name lang='en'>Ch\xe2teau</name>",
            b"<a>\xff\xfe</a>",
            b"]]> --> ?> >",
        ];
        for doc in taken {
            assert!(compare(doc), "fast path declined {:?}", String::from_utf8_lossy(doc));
        }
        // Left to quick-xml: references, DOCTYPE, errors, tags that are not UTF-8.
        let declined: &[&[u8]] = &[
            b"<a>&amp;</a>",
            b"<a>x & y</a>",
            b"<!DOCTYPE gpx><gpx/>",
            b"<a><!-x--></a>",
            b"<a><!--->",
            b"<a><![CDATA[x]></a>",
            b"<?>",
            b"<?xml version='1.0'",
            b"<a",
            b"<a b='>",
            b"</a",
            b"<a>text<",
            b"<a \xff/>",
            b"<name lang='\xe9'>Ch\xe2teau</name>",
        ];
        for doc in declined {
            assert!(!compare(doc), "fast path took {:?}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn fast_path_agrees_on_every_sample() {
        let root = samples::sample_path("");
        let mut taken = 0;
        for entry in walkdir::WalkDir::new(&root).into_iter().filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            let base = name.strip_suffix(".gz").unwrap_or(&name);
            if !entry.file_type().is_file() || !(base.ends_with(".gpx") || base.ends_with(".tcx")) {
                continue;
            }
            let raw = std::fs::read(entry.path()).expect("sample");
            let doc = crate::parse::maybe_decompress(&raw).expect("gzip");
            if compare(&doc) {
                taken += 1;
            }
        }
        // Most real files take the fast path (the rest hold an entity or a DOCTYPE).
        assert!(taken >= 15, "only {taken} samples took the fast path");
    }

    proptest::proptest! {
        /// Documents assembled from the pieces the two paths could disagree on: whenever
        /// the fast path takes one, it gives exactly quick-xml's events.
        #[test]
        fn fast_path_agrees_on_random_documents(
            pieces in proptest::collection::vec(0usize..PIECES.len(), 0..40)
        ) {
            let doc: Vec<u8> = pieces.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            compare(&doc);
        }
    }

    /// Fragments of markup, text and damage for the random documents.
    const PIECES: &[&[u8]] = &[
        b"<trkpt lat=\"46.5\" lon='13.25'>",
        b"</trkpt>",
        b"<ele>",
        b"</ele>",
        b"12.5",
        b"<gpxtpx:hr>",
        b"<a/>",
        b"<b x='1>2' y=\"'\"/>",
        b"<!-- c -->",
        b"<!--",
        b"-->",
        b"--",
        b"<![CDATA[",
        b"]]>",
        b"]]",
        b"<?xml version=\"1.0\"?>",
        b"<?",
        b"?>",
        b"<!DOCTYPE x>",
        b"<!",
        b"&amp;",
        b"&",
        b"<",
        b">",
        b"/>",
        b"</",
        b"\"",
        b"'",
        b" ",
        b"\n",
        b"\t",
        b"\xef\xbb\xbf",
        b"\xc3\xa9",
        b"\xff",
        b"text",
        b"=",
    ];

    #[test]
    fn lenient_text_and_names() {
        assert_eq!(decode_lenient(b"Ch\xe2teau"), "Ch\u{e2}teau");
        assert_eq!(decode_lenient("Château".as_bytes()), "Château");
        assert_eq!(local(b"gpxtpx:hr"), b"hr");
        assert!(is(b"HeartRate", b"heartrate"));
        assert_eq!(strip_preamble(b"\xef\xbb\xbf \n<?xml"), b"<?xml");
    }

    #[test]
    fn creators() {
        assert_eq!(source_from_creator("StravaGPX iPhone"), Some("strava_export"));
        assert_eq!(source_from_creator("Connect Api"), Some("garmin_connect"));
        assert_eq!(source_from_creator("Wahoo ELEMNT BOLT"), Some("wahoo"));
        assert_eq!(source_from_creator("Hammerhead Karoo 2"), Some("karoo"));
        assert_eq!(source_from_creator("https://www.komoot.de"), Some("komoot"));
        assert_eq!(source_from_creator("Wikiloc - https://www.wikiloc.com"), None);
        assert_eq!(device_from_creator("GPSMAP 64s").as_deref(), Some("Garmin GPSMAP 64s"));
        assert_eq!(device_from_creator("Garmin Edge 530").as_deref(), Some("Garmin Edge 530"));
        assert_eq!(device_from_creator("Garmin Connect"), None);
        assert_eq!(device_from_creator("StravaGPX"), None);
        assert_eq!(
            altitude_source_for_device(Some("Garmin GPSMAP 64s")),
            AltitudeSource::Barometric
        );
        assert_eq!(altitude_source_for_device(Some("Garmin Edge 25")), AltitudeSource::Gps);
        assert_eq!(altitude_source_for_device(Some("Garmin Edge 530")), AltitudeSource::Barometric);
        assert_eq!(
            altitude_source_for_device(Some("Garmin Forerunner 910XT")),
            AltitudeSource::Barometric
        );
        assert_eq!(altitude_source_for_device(Some("Garmin Forerunner 235")), AltitudeSource::Gps);
        assert_eq!(altitude_source_for_device(Some("vívoactive HR")), AltitudeSource::Barometric);
        assert_eq!(altitude_source_for_device(None), AltitudeSource::Gps);
    }
}
