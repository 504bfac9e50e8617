//! Fast, allocation-free number and time formatting for the XML writers.
//!
//! The benchmark corpus is gigabytes of GPX/TCX text; `format!` per value would make the
//! generator slower than the parsers it benchmarks. Fixed decimals are printed from a
//! rounded integer, so output is also exactly reproducible across platforms.

/// Append an unsigned integer.
pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Append `v` with exactly `dp` decimals (half away from zero).
pub fn push_fixed(buf: &mut Vec<u8>, v: f64, dp: u32) {
    let scale = 10u64.pow(dp);
    let n = (v * scale as f64).round();
    if n < 0.0 {
        buf.push(b'-');
    }
    let n = n.abs() as u64;
    push_u64(buf, n / scale);
    if dp > 0 {
        buf.push(b'.');
        let frac = n % scale;
        let mut tmp = [b'0'; 20];
        let mut f = frac;
        for k in (0..dp as usize).rev() {
            tmp[k] = b'0' + (f % 10) as u8;
            f /= 10;
        }
        buf.extend_from_slice(&tmp[..dp as usize]);
    }
}

fn push_2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Civil date `(year, month, day)` of a day count since 1970-01-01 (H. Hinnant's
/// algorithm: exact for the proleptic Gregorian calendar).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Append `unix_s` as ISO 8601 in the zone `offset_s` east of UTC: `...Z` for 0, else
/// `...+02:00`.
pub fn push_iso(buf: &mut Vec<u8>, unix_s: i64, offset_s: i32) {
    let local = unix_s + i64::from(offset_s);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    push_u64(buf, y.max(0) as u64);
    buf.push(b'-');
    push_2(buf, m);
    buf.push(b'-');
    push_2(buf, d);
    buf.push(b'T');
    push_2(buf, secs / 3600);
    buf.push(b':');
    push_2(buf, secs / 60 % 60);
    buf.push(b':');
    push_2(buf, secs % 60);
    if offset_s == 0 {
        buf.push(b'Z');
    } else {
        buf.push(if offset_s < 0 { b'-' } else { b'+' });
        let a = offset_s.unsigned_abs();
        push_2(buf, a / 3600);
        buf.push(b':');
        push_2(buf, a / 60 % 60);
    }
}

/// `unix_s` as an ISO 8601 string.
pub fn iso_string(unix_s: i64, offset_s: i32) -> String {
    let mut b = Vec::with_capacity(25);
    push_iso(&mut b, unix_s, offset_s);
    String::from_utf8_lossy(&b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, dp: u32) -> String {
        let mut b = Vec::new();
        push_fixed(&mut b, v, dp);
        String::from_utf8(b).expect("ascii")
    }

    #[test]
    fn fixed_decimals_round_and_pad() {
        assert_eq!(fixed(45.0700001, 7), "45.0700001");
        assert_eq!(fixed(-7.5, 1), "-7.5");
        assert_eq!(fixed(0.05, 2), "0.05");
        assert_eq!(fixed(12.0, 0), "12");
        assert_eq!(fixed(-0.00000004, 7), "0.0000000");
    }

    #[test]
    fn iso_matches_known_dates() {
        assert_eq!(iso_string(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_string(1_777_786_200, 0), "2026-05-03T05:30:00Z");
        assert_eq!(iso_string(1_777_786_200, 7200), "2026-05-03T07:30:00+02:00");
        assert_eq!(iso_string(951_782_400, -3600), "2000-02-28T23:00:00-01:00");
    }
}
