//! A lean reader of the published timeseries (`{id}.timeseries.json`) for the renderer.
//!
//! Every activity page is drawn from its timeseries: at 1 Hz a six-hour ride is a file of
//! a megabyte of numbers, and a full build reads thousands of them, so going through
//! `serde_json`'s generic visitor was the largest single cost of rendering. The file has
//! one shape (an object of number arrays, `docs/schema/bas-v1.schema.json`), which this
//! scanner reads straight into [`Timeseries`].
//!
//! It must give exactly what `serde_json` gives, since the pages must not change by a
//! byte: a number is taken only in the form whose value is computed the same way
//! (`serde_json` without `float_roundtrip` computes a decimal as its digits as an `f64`
//! divided by an exact power of ten; with at most 18 digits and 22 decimals that division
//! is the one done here), and any other form (an exponent, a long mantissa, a string, a
//! nested value, a repeated key, `null` where `serde_json` refuses it) hands the whole file
//! to `serde_json` instead. The tests compare both readers.
//!
//! One relaxation, for speed: the activity page needs the positions (`lat`, `lon`, at 1 Hz
//! over a third of a file's bytes) only when the speed channel has no value
//! ([`Positions::WhenNoSpeed`]), and otherwise each of them is skipped to its closing `]`
//! without looking at its numbers. A valid array of numbers and `null` holds no `]`, so every
//! file `serde_json` reads is read exactly as it reads it; the only difference is a file whose
//! unused positions are malformed (`[1e2]`, `["x"]`), which is now read for the channels the
//! page uses instead of being handed to `serde_json`, which would refuse the whole file.
//! The page never shows the positions of such a file, so it loses nothing by showing the rest.

use bincio_bas::Timeseries;

/// Parse a timeseries file's bytes (`None` when `serde_json` would not read it either).
pub fn parse(bytes: &[u8]) -> Option<Timeseries> {
    let mut ts = Timeseries::default();
    parse_into(bytes, &mut ts, Positions::Keep).then_some(ts)
}

/// Whether the positions (`lat`, `lon`) are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// Always, as `serde_json` reads them.
    Keep,
    /// Only when the speed channel has no value: the activity page takes its distance
    /// axis from the speeds when there are any (`figures::distance_m`) and uses the
    /// positions for nothing else, and at 1 Hz they are the two longest channels. Each is
    /// skipped to its closing `]` (`memchr`) and read only when it is needed, so every file
    /// `serde_json` accepts gives what [`Positions::Keep`] gives; a file whose unneeded
    /// positions are malformed is read for its other channels instead of being refused
    /// (see the module documentation).
    WhenNoSpeed,
}

/// Parse into `ts`, reusing its vectors' memory (a full build reads thousands of series of
/// up to a megabyte: allocating them afresh each time cost more in page faults than the
/// numbers did). Returns false, with `ts` unspecified, when `serde_json` would not read the
/// file either. With [`Positions::WhenNoSpeed`], `lat` and `lon` are `None` when the speed
/// channel has a value.
pub fn parse_into(bytes: &[u8], ts: &mut Timeseries, positions: Positions) -> bool {
    let mut scanner = Scanner { b: bytes, i: 0, hint: 0 };
    if scanner.timeseries(ts, positions).is_some() {
        return true;
    }
    match serde_json::from_slice(bytes) {
        Ok(read) => {
            *ts = read;
            if positions == Positions::WhenNoSpeed && ts.speed_kmh.iter().any(Option::is_some) {
                (ts.lat, ts.lon) = (None, None);
            }
            true
        }
        Err(_) => false,
    }
}

/// Exact powers of ten (every one up to 1e22 is an `f64` exactly).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Length of the longest array read so far: every channel has one value per sample, so
    /// the next array is reserved at that size instead of growing by doubling.
    hint: usize,
}

/// Which field a key names, and how its values are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    T,
    Lat,
    Lon,
    Elevation,
    Speed,
    Hr,
    Cadence,
    Power,
    Temperature,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn timeseries(&mut self, ts: &mut Timeseries, positions: Positions) -> Option<()> {
        // A field the file does not have is empty (`#[serde(default)]`), `lat`/`lon` `None`.
        for v in [&mut ts.elevation_m, &mut ts.speed_kmh, &mut ts.temperature_c] {
            v.clear();
        }
        for v in [&mut ts.hr_bpm, &mut ts.cadence_rpm, &mut ts.power_w] {
            v.clear();
        }
        ts.t.clear();
        ts.lat = None;
        ts.lon = None;
        // Where the deferred positions are: `None` for `null`, else the array's bytes.
        let mut deferred: [Option<Option<(usize, usize)>>; 2] = [None, None];
        let mut seen = [false; 9];
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            return None; // `t` is required: serde_json's error, not ours to decide.
        }
        loop {
            let field = self.key()?;
            self.eat(b':')?;
            let slot = &mut seen[field as usize];
            if *slot {
                return None;
            }
            *slot = true;
            match field {
                Field::T => self.array_into(&mut ts.t)?,
                Field::Lat | Field::Lon if positions == Positions::WhenNoSpeed => {
                    let at = usize::from(field == Field::Lon);
                    deferred[at] = Some(self.skip_opt_array()?);
                }
                Field::Lat => ts.lat = self.opt_floats()?,
                Field::Lon => ts.lon = self.opt_floats()?,
                Field::Elevation => self.floats_into(&mut ts.elevation_m)?,
                Field::Speed => self.floats_into(&mut ts.speed_kmh)?,
                Field::Hr => self.ints_into(&mut ts.hr_bpm)?,
                Field::Cadence => self.ints_into(&mut ts.cadence_rpm)?,
                Field::Power => self.ints_into(&mut ts.power_w)?,
                Field::Temperature => self.floats_into(&mut ts.temperature_c)?,
            }
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        self.ws();
        if self.i != self.b.len() || !seen[Field::T as usize] {
            return None;
        }
        if !ts.speed_kmh.iter().any(Option::is_some) {
            // Needed after all: read in full, and anything `floats` does not take (or that
            // does not end at the `]` found) goes to `serde_json`, as with `Keep`.
            for (at, span) in deferred.into_iter().enumerate() {
                let Some(Some((start, end))) = span else { continue };
                let mut again = Scanner { b: &self.b[..end], i: start, hint: self.hint };
                let v = again.floats()?;
                if again.i != end {
                    return None;
                }
                if at == 0 { ts.lat = Some(v) } else { ts.lon = Some(v) }
            }
        }
        Some(())
    }

    /// A known key (unknown keys, and keys with escapes, go to `serde_json`).
    fn key(&mut self) -> Option<Field> {
        self.eat(b'"')?;
        let start = self.i;
        while *self.b.get(self.i)? != b'"' {
            if self.b[self.i] == b'\\' {
                return None;
            }
            self.i += 1;
        }
        let key = &self.b[start..self.i];
        self.i += 1;
        Some(match key {
            b"t" => Field::T,
            b"lat" => Field::Lat,
            b"lon" => Field::Lon,
            b"elevation_m" => Field::Elevation,
            b"speed_kmh" => Field::Speed,
            b"hr_bpm" => Field::Hr,
            b"cadence_rpm" => Field::Cadence,
            b"power_w" => Field::Power,
            b"temperature_c" => Field::Temperature,
            _ => return None,
        })
    }

    /// `[v, v, …]` with each element read by [`Element::at`], appended to `v` (empty on
    /// entry).
    ///
    /// The array is first read as the extraction writes it, in a loop of its own on a local
    /// index: an element, then directly `,` or `]`. At the first byte that loop does not
    /// take (whitespace, which JSON allows and the extraction never writes, an empty array,
    /// a form `elem` refuses), the general loop takes over at that element and reads the
    /// rest, or refuses it, element by element with whitespace skipped. An element is kept
    /// only with its separator, so the general loop starts at an element's first byte.
    #[inline(always)]
    fn array_into<T: Element>(&mut self, v: &mut Vec<T>) -> Option<()> {
        self.eat(b'[')?;
        v.reserve(self.hint);
        let b = self.b;
        let mut i = self.i;
        while let Some((x, end)) = T::at(b, i) {
            match b.get(end) {
                Some(b',') => {
                    v.push(x);
                    i = end + 1;
                }
                Some(b']') => {
                    v.push(x);
                    self.i = end + 1;
                    self.hint = self.hint.max(v.len());
                    return Some(());
                }
                _ => break,
            }
        }
        self.i = i;
        // Right after `[` (nothing kept yet) the array may be empty; after a `,` it may not.
        if v.is_empty() && self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let (x, end) = T::at(self.b, self.i)?;
            self.i = end;
            v.push(x);
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    self.hint = self.hint.max(v.len());
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `null` at the current byte (whitespace already skipped).
    #[inline(always)]
    fn null(&mut self) -> Option<()> {
        let end = null_at(self.b, self.i)?;
        self.i = end;
        Some(())
    }

    fn ints_into(&mut self, v: &mut Vec<Option<i64>>) -> Option<()> {
        self.array_into(v)
    }

    fn floats_into(&mut self, v: &mut Vec<Option<f64>>) -> Option<()> {
        self.array_into(v)
    }

    fn floats(&mut self) -> Option<Vec<Option<f64>>> {
        let mut v = Vec::new();
        self.floats_into(&mut v)?;
        Some(v)
    }

    fn opt_floats(&mut self) -> Option<Option<Vec<Option<f64>>>> {
        if self.peek()? == b'n' {
            return self.null().map(|()| None);
        }
        self.floats().map(Some)
    }

    /// `null`, or an array skipped to its first `]` without reading its elements: `None`
    /// for `null`, else the array's byte range, `]` included. Every array
    /// [`Self::opt_floats`] accepts ends at its first `]` (numbers and `null` hold none), so
    /// its range is exactly the array's; anything else is found out only if it is read.
    fn skip_opt_array(&mut self) -> Option<Option<(usize, usize)>> {
        match self.peek()? {
            b'n' => self.null().map(|()| None),
            b'[' => {
                let start = self.i;
                let close = memchr::memchr(b']', &self.b[start..])?;
                self.i = start + close + 1;
                Some(Some((start, self.i)))
            }
            _ => None,
        }
    }
}

// The elements' forms, read at byte `i` of the file `b` (see `Element`).

/// `null`: the index after it.
#[inline(always)]
fn null_at(b: &[u8], i: usize) -> Option<usize> {
    (b.get(i..i + 4)? == b"null").then_some(i + 4)
}

/// An element of a channel's array, read at byte `i` of the file `b` (whitespace already
/// skipped): the value and the index after it, or `None` for any form the scanner leaves to
/// `serde_json`. A trait rather than a closure or a function passed in: those were left out
/// of line in both loops of `Scanner::array_into`, a call per element (so no function is
/// passed to another here).
trait Element: Sized {
    fn at(b: &[u8], i: usize) -> Option<(Self, usize)>;
}

/// `t`: an integer.
impl Element for i64 {
    #[inline(always)]
    fn at(b: &[u8], i: usize) -> Option<(Self, usize)> {
        int_at(b, i)
    }
}

/// An integer channel: an integer or `null`.
impl Element for Option<i64> {
    #[inline(always)]
    fn at(b: &[u8], i: usize) -> Option<(Self, usize)> {
        if b.get(i) == Some(&b'n') {
            null_at(b, i).map(|end| (None, end))
        } else {
            int_at(b, i).map(|(x, end)| (Some(x), end))
        }
    }
}

/// A decimal channel: a number or `null`.
impl Element for Option<f64> {
    #[inline(always)]
    fn at(b: &[u8], i: usize) -> Option<(Self, usize)> {
        if b.get(i) == Some(&b'n') {
            null_at(b, i).map(|end| (None, end))
        } else {
            float_at(b, i).map(|(x, end)| (Some(x), end))
        }
    }
}

/// The digits from byte `i` on: `v` followed by them as an integer (wrapping: callers
/// refuse more than 18 digits, which cannot overflow) and the index after them. One byte
/// at a time: most numbers of a series have one to six digits, and reading eight bytes
/// together (SWAR) measured slower on them.
#[inline(always)]
fn digits_at(b: &[u8], mut i: usize, mut v: u64) -> (u64, usize) {
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (v, i)
}

/// A number as [`float_at`] reads it: its sign, its digits as one integer, how many of them
/// follow the point, and the index after it; `None` for any other form (so `serde_json`
/// reads the file).
#[inline(always)]
fn decimal_at(b: &[u8], mut i: usize) -> Option<(bool, u64, usize, usize)> {
    let neg = b.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let start = i;
    let (int, end) = digits_at(b, i, 0);
    let n = end - start;
    // No leading zero but a lone one; at most 18 digits in all, so the integer never
    // overflows.
    if n == 0 || n > 18 || n > 1 && b[start] == b'0' {
        return None;
    }
    i = end;
    let (mut sig, mut decimals) = (int, 0);
    if b.get(i) == Some(&b'.') {
        let (v, end) = digits_at(b, i + 1, int);
        decimals = end - (i + 1);
        if decimals == 0 {
            return None;
        }
        (sig, i) = (v, end);
    }
    if n + decimals > 18 || matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    Some((neg, sig, decimals, i))
}

/// `-?digits` with at most 18 digits, then not `.`/`e` (those are not integers to
/// `serde_json`).
#[inline(always)]
fn int_at(b: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let neg = b.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let start = i;
    let (v, end) = digits_at(b, i, 0);
    let n = end - start;
    // `-0` is the float -0.0 to `serde_json`, which an integer channel refuses: left to it.
    if n == 0
        || n > 18
        || n > 1 && b[start] == b'0'
        || neg && v == 0
        || matches!(b.get(end), Some(b'.' | b'e' | b'E'))
    {
        return None;
    }
    let v = v as i64;
    Some((if neg { -v } else { v }, end))
}

/// `-?digits(.digits)?` with at most 18 digits in all, computed as `serde_json` does: the
/// digits as an integer, as `f64`, divided by 10^decimals. The integer is below 10^18, so
/// converting it as an `i64` gives the same `f64` as converting it as a `u64` (one
/// instruction instead of the unsigned conversion's several).
#[inline(always)]
fn float_at(b: &[u8], i: usize) -> Option<(f64, usize)> {
    let (neg, sig, decimals, end) = decimal_at(b, i)?;
    let f = (sig as i64) as f64 / POW10[decimals];
    Some((if neg { -f } else { f }, end))
}

#[cfg(test)]
mod before;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scanner alone, without the `serde_json` fallback.
    fn scan(bytes: &[u8], positions: Positions) -> Option<Timeseries> {
        let mut ts = Timeseries::default();
        Scanner { b: bytes, i: 0, hint: 0 }.timeseries(&mut ts, positions).map(|()| ts)
    }

    /// What `serde_json` reads, compared bit for bit (NaN cannot occur in JSON); and the
    /// page's reading, which accepts and refuses the same files, gives the same channels
    /// and leaves the positions out only when there is a speed.
    fn same(text: &str) {
        same_for_page(text);
        let ours = scan(text.as_bytes(), Positions::Keep);
        let theirs: Option<Timeseries> = serde_json::from_str(text).ok();
        if let Some(o) = &ours {
            let t = theirs.as_ref().unwrap_or_else(|| panic!("serde_json refuses {text}"));
            assert_eq!(format!("{o:?}"), format!("{t:?}"), "{text}");
            let bits =
                |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&o.elevation_m), bits(&t.elevation_m), "{text}");
            assert_eq!(bits(&o.speed_kmh), bits(&t.speed_kmh), "{text}");
        }
        assert_eq!(format!("{:?}", parse(text.as_bytes())), format!("{theirs:?}"), "{text}");
    }

    /// The page's reading ([`Positions::WhenNoSpeed`]) gives what [`Positions::Keep`] and
    /// `serde_json` give, the positions left out when there is a speed, for every file they
    /// read; it may read more files (unused positions are skipped unread), but only those.
    fn same_for_page(text: &str) {
        let without_positions = |mut t: Timeseries| {
            if t.speed_kmh.iter().any(Option::is_some) {
                (t.lat, t.lon) = (None, None);
            }
            format!("{t:?}")
        };
        let keep = scan(text.as_bytes(), Positions::Keep);
        let page = scan(text.as_bytes(), Positions::WhenNoSpeed);
        if let Some(k) = keep {
            let p = page.as_ref().unwrap_or_else(|| panic!("the page refuses {text}"));
            assert_eq!(without_positions(k), format!("{p:?}"), "{text}");
        }
        let mut full = Timeseries::default();
        let page_ok = parse_into(text.as_bytes(), &mut full, Positions::WhenNoSpeed);
        match serde_json::from_str::<Timeseries>(text) {
            Ok(theirs) => {
                assert!(page_ok, "the page refuses what serde_json reads: {text}");
                assert_eq!(format!("{full:?}"), without_positions(theirs), "{text}");
            }
            // Read only because positions it does not need were skipped unread.
            Err(_) if page_ok => {
                assert!(full.speed_kmh.iter().any(Option::is_some), "{text}");
                assert_eq!((&full.lat, &full.lon), (&None, &None), "{text}");
            }
            Err(_) => {}
        }
        // Into a series that held another file before: nothing of it is left.
        let mut reused =
            parse(br#"{"t":[0,1],"lat":[1.5,2.5],"hr_bpm":[90,91],"temperature_c":[3.0,4.0]}"#)
                .expect("a series");
        let ok = parse_into(text.as_bytes(), &mut reused, Positions::Keep);
        let fresh = parse(text.as_bytes());
        assert_eq!(ok, fresh.is_some(), "{text}");
        if let Some(f) = fresh {
            assert_eq!(format!("{reused:?}"), format!("{f:?}"), "{text}");
        }
    }

    #[test]
    fn reads_a_published_series_as_serde_json_does() {
        same(
            r#"{"t":[0,1,2],"lat":[41.123456,null,-0.5],"lon":null,"elevation_m":[200.5,-0.0,1234.25],"speed_kmh":[],"hr_bpm":[120,null,-3],"cadence_rpm":[85,85,0],"power_w":[null,null,null],"temperature_c":[21.0,21.5,22]}"#,
        );
        let ts = parse(br#"{ "t" : [ 0 , 5 ] , "speed_kmh" : [ 12.3 , null ] }"#).unwrap();
        assert_eq!(ts.t, vec![0, 5]);
        assert_eq!(ts.speed_kmh, vec![Some(12.3), None]);
        assert_eq!(ts.lat, None);
    }

    #[test]
    fn anything_else_is_left_to_serde_json() {
        for text in [
            r#"{"t":[0],"elevation_m":[1e2]}"#,
            // `-0` is the float -0.0 to `serde_json`, which an integer channel refuses.
            r#"{"t":[0,-0]}"#,
            r#"{"t":[0],"cadence_rpm":[ -0,95837]}"#,
            // Positions the page skips (there is a speed), in forms only `serde_json` reads.
            r#"{"t":[0],"speed_kmh":[1.0],"lat":[1e2]}"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lon":[0.12345678901234567890123]}"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lat":[1234567890123456789]}"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lat":[1.5E-3],"lon":[ 2 ]}"#,
            // Positions the page needs (no speed), in forms only `serde_json` reads or that
            // it refuses.
            r#"{"t":[0],"speed_kmh":[null],"lat":[1e2],"lon":[1.5]}"#,
            r#"{"t":[0],"lon":[0.12345678901234567890123]}"#,
            r#"{"t":[0],"lat":[01.5]}"#,
            r#"{"t":[0],"lat":["]"]}"#,
            r#"{"t":[0],"lon":[1.5 2.5]}"#,
            r#"{"t":[0],"lat":[[1]]}"#,
            // Not an array at all, whether or not the page needs it.
            r#"{"t":[0],"speed_kmh":[2.5],"lat":"x"}"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lat":[1.5,2.5"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lat":{"a":1}}"#,
            // Whitespace between and around the elements of every kind of array.
            "{\"t\":[ 0 ,\n1\t],\"speed_kmh\":[2.5 , null],\"lat\":[ 1.5 , null ,-0.25 ],\"lon\":[\r\n1 ,2,3]}",
            "{\"t\":[0,1,2],\"hr_bpm\":[ null ,90 , 91],\"lat\":[ 1.5 , null ,-0.25 ],\"lon\":[1 ,2,3]}",
            r#"{"t":[0],"lat":[ ],"lon":[1.5 ,],"speed_kmh":[1.0]}"#,
            r#"{"t":[0],"hr_bpm":[ -0 , 00 ]}"#,
            r#"{"t":[0],"hr_bpm":[ -],"elevation_m":[-.5]}"#,
            r#"{"t":[0],"elevation_m":[1234567891234567.8]}"#,
            r#"{"t":[0],"speed_kmh":[2.5],"lat":null,"lon":[1.5,null,-0.25]}"#,
            r#"{"t":[0],"speed_kmh":[null],"lat":[12.5],"lon":[-0.0]}"#,
            r#"{"t":[0],"elevation_m":[1.5E-3]}"#,
            r#"{"t":[0.0]}"#,
            r#"{"t":[1e3]}"#,
            r#"{"t":[0],"t":[1]}"#,
            r#"{"t":[0],"extra":{"a":[1,2]}}"#,
            r#"{"t":[0],"elevation_m":null}"#,
            r#"{"t":[0],"elevation_m":[01.5]}"#,
            r#"{"t":[0],"elevation_m":[123456789012345678901234.5]}"#,
            r#"{"t":[0],"elevation_m":[0.12345678901234567890123]}"#,
            r#"{"t":[0],"hr_bpm":[99999999999999999999]}"#,
            r#"{"t":[0],"hr_bpm":["1"]}"#,
            r#"{"t":[0],"hr_bpm":[1.]}"#,
            r#"{"elevation_m":[1]}"#,
            r#"{"t":[0]} x"#,
            r#"{"t":[0],}"#,
            r#"{"\u0074":[0]}"#,
            r#"{}"#,
            "",
        ] {
            same(text);
        }
    }

    /// The one difference from `serde_json`, deliberate: positions the page does not need
    /// (there is a speed) are skipped to their `]` unread, so when they are malformed the
    /// page still gets the channels it draws, where `serde_json` refuses the whole file.
    /// Needed positions are read in full and refused as before.
    #[test]
    fn unused_malformed_positions_are_skipped_by_the_page() {
        for text in [
            r#"{"t":[0,1],"lat":[01.5],"speed_kmh":[2.5,null]}"#,
            r#"{"t":[0,1],"speed_kmh":[2.5,null],"lat":[-]}"#,
            r#"{"t":[0,1],"speed_kmh":[2.5,null],"lat":[1.]}"#,
            r#"{"t":[0,1],"speed_kmh":[2.5,null],"lat":["1"],"lon":[1.5 2.5]}"#,
            r#"{"t":[0,1],"speed_kmh":[2.5,null],"lon":[1.5,nul]}"#,
            r#"{"t":[0,1],"speed_kmh":[2.5,null],"lat":[[1.5],"#,
        ] {
            let text =
                if text.ends_with(',') { format!("{text}\"lon\":null}}") } else { text.into() };
            assert!(serde_json::from_str::<Timeseries>(&text).is_err(), "{text}");
            assert!(parse(text.as_bytes()).is_none(), "{text}");
            let mut ts = Timeseries::default();
            assert!(parse_into(text.as_bytes(), &mut ts, Positions::WhenNoSpeed), "{text}");
            let want = Timeseries {
                t: vec![0, 1],
                speed_kmh: vec![Some(2.5), None],
                ..Timeseries::default()
            };
            assert_eq!(ts, want, "{text}");
            same(&text);
            // Without a speed the page needs them: refused, as `serde_json` refuses it.
            let no_speed = text.replace("2.5,null", "null,null");
            assert!(
                !parse_into(no_speed.as_bytes(), &mut ts, Positions::WhenNoSpeed),
                "{no_speed}"
            );
            same(&no_speed);
        }
    }

    #[test]
    fn reads_what_the_extraction_writes_without_falling_back() {
        let n = 3000;
        let ts = Timeseries {
            t: (0..n).collect(),
            lat: Some(
                (0..n).map(|i| Some(((41.0 + i as f64 * 1.3e-5) * 1e6).round() / 1e6)).collect(),
            ),
            lon: Some(
                (0..n)
                    .map(|i| (i % 50 != 7).then(|| -((2.0 + i as f64 * 1e-5) * 1e6).round() / 1e6))
                    .collect(),
            ),
            elevation_m: (0..n)
                .map(|i| Some((i as f64 * 0.37).sin() * 80.0).map(|v| (v * 10.0).round() / 10.0))
                .collect(),
            speed_kmh: (0..n)
                .map(|i| Some(((20.0 + (i % 13) as f64 * 0.31) * 100.0).round() / 100.0))
                .collect(),
            hr_bpm: (0..n).map(|i| Some(120 + i % 40)).collect(),
            cadence_rpm: (0..n).map(|i| (i % 9 != 0).then_some(85)).collect(),
            power_w: (0..n).map(|i| Some(i % 400)).collect(),
            temperature_c: (0..n).map(|_| None).collect(),
        };
        let bytes = serde_json::to_vec(&ts).unwrap();
        let ours = scan(&bytes, Positions::Keep).expect("read without serde_json");
        assert_eq!(ours, ts);
        let page = scan(&bytes, Positions::WhenNoSpeed).expect("read without serde_json");
        assert_eq!(page, Timeseries { lat: None, lon: None, ..ts.clone() });
        // Without a speed, the page needs the positions for its distance axis.
        let still = Timeseries { speed_kmh: vec![None; n as usize], ..ts };
        let bytes = serde_json::to_vec(&still).unwrap();
        assert_eq!(scan(&bytes, Positions::WhenNoSpeed).expect("read"), still);
    }

    /// The reference implementation's published series, whatever number forms they use.
    #[test]
    fn reads_the_reference_output_as_serde_json_does() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/samples/reference-output");
        let mut n = 0;
        for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if e.file_name().to_string_lossy().ends_with(".timeseries.json") {
                same(&std::fs::read_to_string(e.path()).unwrap());
                n += 1;
            }
        }
        assert!(n >= 10, "{n} reference series under {dir}");
    }

    proptest! {
        #[test]
        fn numbers_read_bit_for_bit_like_serde_json(
            ints in proptest::collection::vec(-100_000i64..100_000, 0..5),
            mant in proptest::collection::vec(0u64..1_000_000_000_000_000, 1..6),
            decimals in proptest::collection::vec(0usize..24, 6),
        ) {
            let floats: Vec<String> = mant
                .iter()
                .zip(&decimals)
                .map(|(m, d)| {
                    let s = m.to_string();
                    if *d == 0 || *d >= s.len() { s } else { format!("{}.{}", &s[..s.len() - d], &s[s.len() - d..]) }
                })
                .collect();
            let text = format!(
                r#"{{"t":[{}],"elevation_m":[{}],"lat":[-{}]}}"#,
                ints.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                floats.join(","),
                floats.join(",-"),
            );
            same(&text);
            // With a speed, the page skips the positions unread (`Positions::WhenNoSpeed`).
            let text = format!(
                r#"{{"t":[0],"lon":[{}],"speed_kmh":[{}]}}"#,
                floats.join(","),
                floats[0],
            );
            same(&text);
        }
    }

    /// An element as a series could hold it: the forms the extraction writes, and forms
    /// only `serde_json` reads or that it refuses.
    fn element() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (-100_000i64..100_000).prop_map(|v| v.to_string()),
            4 => (-100_000i64..100_000, 0u32..7).prop_map(|(v, d)| {
                let s = format!("{:0w$}", v.unsigned_abs(), w = d as usize + 1);
                let (a, b) = s.split_at(s.len() - d as usize);
                let sign = if v < 0 { "-" } else { "" };
                if d == 0 { format!("{sign}{a}") } else { format!("{sign}{a}.{b}") }
            }),
            2 => Just("null".to_owned()),
            1 => prop::sample::select(vec![
                "1e2", "01", "-", "1.", "\"1\"", "nul", "1.5E-3", "-0", "00", "0.0",
                "1234567890123456789", "0.1234567890123456789", "[1]", "{}", "]", "true",
            ])
            .prop_map(str::to_owned),
        ]
    }

    /// A separator or whitespace as JSON allows it (and a few it does not).
    fn gap() -> impl Strategy<Value = &'static str> {
        prop_oneof![8 => Just(""), 1 => Just(" "), 1 => Just("\n\t"), 1 => Just("\r ")]
    }

    fn field() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "t",
            "lat",
            "lon",
            "elevation_m",
            "speed_kmh",
            "hr_bpm",
            "cadence_rpm",
            "power_w",
            "temperature_c",
            "other",
        ]);
        let value = prop_oneof![
            8 => prop::collection::vec((gap(), element(), gap()), 0..12).prop_map(|v| {
                let inner: Vec<String> = v.iter().map(|(a, e, b)| format!("{a}{e}{b}")).collect();
                format!("[{}]", inner.join(","))
            }),
            1 => Just("null".to_owned()),
            1 => Just("[1,]".to_owned()),
            1 => Just("[ ]".to_owned()),
        ];
        (key, gap(), value).prop_map(|(k, g, v)| format!("\"{k}\":{g}{v}"))
    }

    /// Two scans, compared bit for bit (`Debug` prints every bit of an `f64`).
    fn same_scan(a: &Option<Timeseries>, b: &Option<Timeseries>) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The rewritten array loops against the scanner as it was: the same files read,
        /// to the bit, the same refused; and the page's reading reads at least every file
        /// the old one read, with the same channels.
        #[test]
        fn reads_as_the_scanner_before(
            fields in prop::collection::vec(field(), 0..7),
            t_first in any::<bool>(),
        ) {
            let mut fields = fields;
            if t_first {
                fields.insert(0, "\"t\":[0,1,2]".to_owned());
            }
            let text = format!("{{{}}}", fields.join(","));
            let b = text.as_bytes();
            let old = |p| {
                let mut ts = Timeseries::default();
                before::parse_into(b, &mut ts, p).then_some(ts)
            };
            let new = |p| {
                let mut ts = Timeseries::default();
                parse_into(b, &mut ts, p).then_some(ts)
            };
            prop_assert!(same_scan(&scan(b, Positions::Keep), &before_scan(b)), "{}", text);
            prop_assert!(same_scan(&new(Positions::Keep), &old(before::Positions::Keep)), "{}", text);
            if let Some(o) = old(before::Positions::WhenNoSpeed) {
                let n = new(Positions::WhenNoSpeed);
                prop_assert!(n.is_some(), "{}", text);
                let mut o = o;
                if o.speed_kmh.iter().any(Option::is_some) {
                    (o.lat, o.lon) = (None, None);
                }
                prop_assert!(same_scan(&n, &Some(o)), "{}", text);
            }
            same(&text);
        }
    }

    /// The old scanner alone, without its `serde_json` fallback.
    fn before_scan(b: &[u8]) -> Option<Timeseries> {
        let mut ts = Timeseries::default();
        before::scan_only(b, &mut ts).then_some(ts)
    }
}
