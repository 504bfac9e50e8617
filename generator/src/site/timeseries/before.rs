//! The scanner as it was before its arrays were read in a loop of their own and the
//! unused positions skipped, kept verbatim (its module documentation and the refused `-0`
//! of `int` aside) so the tests can compare the two on any input.
#![allow(dead_code)]

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
    /// positions for nothing else, and at 1 Hz they are the two longest channels. They are
    /// still checked number by number, so a file is accepted or handed to `serde_json`
    /// exactly as with [`Positions::Keep`]; only the conversion is skipped.
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
                Field::T => self.array_into(&mut ts.t, Self::int)?,
                Field::Lat | Field::Lon if positions == Positions::WhenNoSpeed => {
                    let at = usize::from(field == Field::Lon);
                    deferred[at] = Some(self.skip_opt_floats()?);
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
            // Already checked: reading them again cannot fail.
            for (at, span) in deferred.into_iter().enumerate() {
                let Some(Some((start, end))) = span else { continue };
                let mut again = Scanner { b: &self.b[..end], i: start, hint: self.hint };
                let v = again.floats()?;
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

    /// `[v, v, …]` with each element read by `one`, appended to `v` (empty on entry).
    /// `one` is called on the element's first byte, whitespace skipped. The separators are
    /// looked at directly first: the extraction writes none of the whitespace JSON allows,
    /// which is still read (and skipped) when it is there.
    #[inline(always)]
    fn array_into<T>(
        &mut self,
        v: &mut Vec<T>,
        mut one: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<()> {
        self.eat(b'[')?;
        v.reserve(self.hint);
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            v.push(one(self)?);
            let sep = match self.b.get(self.i) {
                Some(c @ (b',' | b']')) => *c,
                _ => self.peek()?,
            };
            match sep {
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
        if self.b.get(self.i..self.i + 4)? == b"null" {
            self.i += 4;
            Some(())
        } else {
            None
        }
    }

    /// Whether the current byte (whitespace already skipped) starts a `null`.
    #[inline(always)]
    fn at_null(&self) -> bool {
        self.b.get(self.i) == Some(&b'n')
    }

    fn ints_into(&mut self, v: &mut Vec<Option<i64>>) -> Option<()> {
        self.array_into(
            v,
            |s| if s.at_null() { s.null().map(|()| None) } else { s.int().map(Some) },
        )
    }

    #[inline(always)]
    fn float_or_null(&mut self) -> Option<Option<f64>> {
        if self.at_null() { self.null().map(|()| None) } else { self.float().map(Some) }
    }

    fn floats_into(&mut self, v: &mut Vec<Option<f64>>) -> Option<()> {
        self.array_into(v, Self::float_or_null)
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

    /// What [`Self::opt_floats`] accepts, checked without converting a number: `None` for
    /// `null`, else the array's byte range.
    fn skip_opt_floats(&mut self) -> Option<Option<(usize, usize)>> {
        if self.peek()? == b'n' {
            return self.null().map(|()| None);
        }
        let start = self.i;
        // A sink that keeps nothing: the same grammar as `floats_into`, element by element.
        let mut none: Vec<()> = Vec::new();
        self.array_into(&mut none, |s| if s.at_null() { s.null() } else { s.skip_float() })?;
        Some(Some((start, self.i)))
    }

    /// The digits from byte `i` on: `v` followed by them as an integer (wrapping: callers
    /// refuse more than 18 digits, which cannot overflow) and the index after them. One byte
    /// at a time: most numbers of a series have one to six digits, and reading eight bytes
    /// together (SWAR) measured slower on them.
    #[inline(always)]
    fn digits_at(&self, mut i: usize, mut v: u64) -> (u64, usize) {
        while let Some(&c) = self.b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        (v, i)
    }

    /// A number as [`Self::float`] reads it, at the current byte (whitespace already
    /// skipped): its sign, its digits as one integer, how many of them follow the point, and
    /// the index after it; `None` for any other form (so `serde_json` reads the file).
    #[inline(always)]
    fn decimal(&self) -> Option<(bool, u64, usize, usize)> {
        let mut i = self.i;
        let neg = self.b.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let start = i;
        let (int, end) = self.digits_at(i, 0);
        let n = end - start;
        // No leading zero but a lone one; at most 18 digits in all, so the integer never
        // overflows.
        if n == 0 || n > 18 || n > 1 && self.b[start] == b'0' {
            return None;
        }
        i = end;
        let (mut sig, mut decimals) = (int, 0);
        if self.b.get(i) == Some(&b'.') {
            let (v, end) = self.digits_at(i + 1, int);
            decimals = end - (i + 1);
            if decimals == 0 {
                return None;
            }
            (sig, i) = (v, end);
        }
        if n + decimals > 18 || matches!(self.b.get(i), Some(b'e' | b'E')) {
            return None;
        }
        Some((neg, sig, decimals, i))
    }

    /// Exactly the numbers [`Self::float`] accepts, without computing them: at most 18
    /// digits in all, no leading zero but a lone one, at least one digit after a point, no
    /// exponent (so at most 18 decimals as well).
    #[inline(always)]
    fn skip_float(&mut self) -> Option<()> {
        let (_, _, _, end) = self.decimal()?;
        self.i = end;
        Some(())
    }

    /// `-?digits` with at most 18 digits, then not `.`/`e` (those are not integers to
    /// `serde_json`), at the current byte (whitespace already skipped).
    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        let mut i = self.i;
        let neg = self.b.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let start = i;
        let (v, end) = self.digits_at(i, 0);
        let n = end - start;
        // The one change since: `-0` refused, as in the scanner (it was read as 0, where
        // `serde_json` refuses it in an integer channel).
        if n == 0
            || n > 18
            || n > 1 && self.b[start] == b'0'
            || neg && v == 0
            || matches!(self.b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.i = end;
        let v = v as i64;
        Some(if neg { -v } else { v })
    }

    /// `-?digits(.digits)?` with at most 18 digits in all, at the current byte (whitespace
    /// already skipped), computed as `serde_json` does: the digits as an integer, as `f64`,
    /// divided by 10^decimals.
    #[inline(always)]
    fn float(&mut self) -> Option<f64> {
        let (neg, sig, decimals, end) = self.decimal()?;
        self.i = end;
        let f = sig as f64 / POW10[decimals];
        Some(if neg { -f } else { f })
    }
}

/// The scanner alone, without the `serde_json` fallback (added for the tests; not part of
/// the old code).
pub fn scan_only(bytes: &[u8], ts: &mut Timeseries) -> bool {
    Scanner { b: bytes, i: 0, hint: 0 }.timeseries(ts, Positions::Keep).is_some()
}
