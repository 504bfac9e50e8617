//! The extracted timeseries as JSON, written by hand: the same bytes `serde_json` writes for
//! [`Timeseries`], at a fraction of the cost.
//!
//! Why: the timeseries is the largest file of an activity (a 6 h ride at 1 Hz is 21,600
//! samples in nine columns) and serialising it through serde was about an eighth of the whole
//! extraction's CPU time. Most of that is not the number formatting but serde's per-value
//! machinery: a `Result` and an `io::Write` call per comma, per number and per `null`, each
//! copied into a `BufWriter`. Here each column is one tight loop over a reserved `Vec`.
//!
//! The bytes must be exactly `serde_json`'s: integers as `itoa` writes them, finite floats
//! as `zmij` (serde_json's float formatter) writes them, non-finite floats as `null`, the
//! fields in the struct's order. A property test holds this module to `serde_json::to_vec`
//! on random series (every `Option` pattern, negative and huge numbers, NaN and infinities).

use crate::metrics::geo::COORD_DP;
use bincio_bas::Timeseries;

/// Append the compact JSON of `ts` to `out`, byte for byte what `serde_json::to_writer`
/// writes for it.
pub fn write_timeseries(ts: &Timeseries, out: &mut Vec<u8>) {
    // About 8 bytes a value on real series: one reservation instead of repeated growth.
    let n = ts.t.len();
    out.reserve(16 + n * 72);
    out.extend_from_slice(b"{\"t\":");
    ints(&ts.t, out);
    // The decimals each column is rounded to by `track::timeseries_with` (the hint of the
    // fast float path; any other value takes the general one).
    out.extend_from_slice(b",\"lat\":");
    opt_floats_or_null::<{ COORD_DP as usize }>(ts.lat.as_deref(), out);
    out.extend_from_slice(b",\"lon\":");
    opt_floats_or_null::<{ COORD_DP as usize }>(ts.lon.as_deref(), out);
    out.extend_from_slice(b",\"elevation_m\":");
    opt_floats::<1>(&ts.elevation_m, out);
    out.extend_from_slice(b",\"speed_kmh\":");
    opt_floats::<2>(&ts.speed_kmh, out);
    out.extend_from_slice(b",\"hr_bpm\":");
    opt_ints(&ts.hr_bpm, out);
    out.extend_from_slice(b",\"cadence_rpm\":");
    opt_ints(&ts.cadence_rpm, out);
    out.extend_from_slice(b",\"power_w\":");
    opt_ints(&ts.power_w, out);
    out.extend_from_slice(b",\"temperature_c\":");
    opt_floats::<1>(&ts.temperature_c, out);
    out.push(b'}');
}

/// The separator before element `i` of an array: none before the first.
#[inline(always)]
fn sep(i: usize, out: &mut Vec<u8>) {
    if i > 0 {
        out.push(b',');
    }
}

/// An `i64` as serde_json writes it (through `itoa`, serde_json's own formatter). A single
/// digit, the commonest value of several channels, is pushed without the buffer copy.
#[inline(always)]
fn int(v: i64, out: &mut Vec<u8>) {
    if (0..10).contains(&v) {
        out.push(b'0' + v as u8);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// A float as serde_json writes it: `null` unless finite, else zmij's shortest form.
#[inline(always)]
fn float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Exact powers of ten, and the same as integers, for the decimals a column is rounded to.
const POW10: [f64; 7] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
const POW10_U: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// [`float`] for a value expected to be rounded to `DP` decimals (`DP` ≤ 6), without the
/// general shortest-digits search when it is. `DP` is a constant so that the divisions by
/// powers of ten below are multiplications.
///
/// Why it is the same text: when `v` is the double nearest a decimal `m · 10^-DP` (checked:
/// `m / 10^DP`, an exact integer over an exact power, is correctly rounded, and gives `v`)
/// and `m` has at most 15 digits, that decimal is the only one of 15 significant digits or
/// fewer that reads back as `v` (15 digits always survive a round trip through a double),
/// so it is also the shortest, which is what zmij writes. At magnitudes from 10^-4 to
/// 10^14 zmij writes it in fixed notation, `-12.5`, `0.00125`, `300.0`: trailing zeros of
/// the fraction dropped, one `0` kept after the point. Anything else (more decimals than
/// `DP`, tiny or huge magnitudes, `-0.0`, NaN, infinities) goes through [`float`].
#[inline(always)]
fn float_dp<const DP: usize>(v: f64, out: &mut Vec<u8>) {
    let (f, fu) = (POW10[DP], POW10_U[DP]);
    let a = v.abs();
    // The magnitudes zmij writes in fixed notation (NaN fails every comparison).
    if !(1e-4..1e14).contains(&a) {
        return float(v, out);
    }
    // The nearest integer by a truncating conversion (one instruction, where `round` is a
    // libm call; beyond a `u64` it saturates); if it is not the right `m` the check below
    // fails and zmij is used.
    let m = (a * f + 0.5) as u64;
    if !(m < 1_000_000_000_000_000 && m as f64 / f == a) {
        return float(v, out);
    }
    let (int_part, mut frac) = (m / fu, m % fu);
    // Digits from the end of a 40-byte scratch: fraction, point, integer part, sign.
    let mut buf = [0u8; 40];
    let mut at = buf.len();
    let mut frac_len = DP;
    while frac_len > 1 && frac % 10 == 0 {
        frac /= 10;
        frac_len -= 1;
    }
    if frac == 0 {
        frac_len = 1;
    }
    for _ in 0..frac_len {
        at -= 1;
        buf[at] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    at -= 1;
    buf[at] = b'.';
    let mut n = int_part;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0.0 {
        at -= 1;
        buf[at] = b'-';
    }
    out.extend_from_slice(&buf[at..]);
}

fn ints(values: &[i64], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, &v) in values.iter().enumerate() {
        sep(i, out);
        int(v, out);
    }
    out.push(b']');
}

fn opt_ints(values: &[Option<i64>], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, v) in values.iter().enumerate() {
        sep(i, out);
        match *v {
            Some(v) => int(v, out),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
}

fn opt_floats<const DP: usize>(values: &[Option<f64>], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, v) in values.iter().enumerate() {
        sep(i, out);
        match *v {
            Some(v) => float_dp::<DP>(v, out),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
}

/// `null` for a column that is not published (no location), else the array.
fn opt_floats_or_null<const DP: usize>(values: Option<&[Option<f64>]>, out: &mut Vec<u8>) {
    match values {
        Some(v) => opt_floats::<DP>(v, out),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_float() -> impl Strategy<Value = f64> {
        prop_oneof![
            // Coordinates, elevations, speeds: short decimals as the extraction rounds them.
            (-180_000_000i64..180_000_000).prop_map(|v| v as f64 / 1e6),
            (-500i64..9000).prop_map(|v| v as f64 / 10.0),
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(1e21),
            Just(5e-324),
        ]
    }

    fn any_int() -> impl Strategy<Value = i64> {
        prop_oneof![
            0i64..200_000,
            -100_000i64..100_000,
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX)
        ]
    }

    fn column<T: std::fmt::Debug + Clone>(
        s: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Vec<Option<T>>> {
        prop::collection::vec(prop::option::of(s), 0..40)
    }

    fn any_timeseries() -> impl Strategy<Value = Timeseries> {
        (
            prop::collection::vec(any_int(), 0..40),
            prop::option::of(column(any_float())),
            prop::option::of(column(any_float())),
            column(any_float()),
            column(any_float()),
            column(any_int()),
            column(any_int()),
            column(any_int()),
            column(any_float()),
        )
            .prop_map(
                |(
                    t,
                    lat,
                    lon,
                    elevation_m,
                    speed_kmh,
                    hr_bpm,
                    cadence_rpm,
                    power_w,
                    temperature_c,
                )| {
                    Timeseries {
                        t,
                        lat,
                        lon,
                        elevation_m,
                        speed_kmh,
                        hr_bpm,
                        cadence_rpm,
                        power_w,
                        temperature_c,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_bytes_as_serde_json(ts in any_timeseries()) {
            let mut ours = Vec::new();
            write_timeseries(&ts, &mut ours);
            let theirs = serde_json::to_vec(&ts).expect("a timeseries serialises");
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }

    /// The text `float_dp` writes for `v` with each number of decimals it is used with.
    fn float_dp_all(v: f64) -> Vec<String> {
        let mut all = Vec::new();
        for write in [
            float_dp::<0>,
            float_dp::<1>,
            float_dp::<2>,
            float_dp::<3>,
            float_dp::<4>,
            float_dp::<5>,
            float_dp::<6>,
        ] {
            let mut ours = Vec::new();
            write(v, &mut ours);
            all.push(String::from_utf8_lossy(&ours).into_owned());
        }
        all
    }

    /// The text of one float as serde_json writes it.
    fn serde_float(v: f64) -> String {
        serde_json::to_string(&v).expect("a float serialises")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]
        /// The fast path writes what zmij writes, on values rounded as the columns are
        /// (`round_dp`), on exact decimals of every magnitude it takes, and on anything.
        #[test]
        fn float_dp_is_zmij(
            x in prop_oneof![
                -1e6f64..1e6,
                -200f64..200.0,
                -1f64..1.0,
                -1e-3f64..1e-3,
                any::<f64>(),
            ],
            m in prop_oneof![0i64..10_000, any::<i64>().prop_map(|m| m % 1_000_000_000_000_000)],
            dp in 0usize..7,
        ) {
            let exact = m as f64 / POW10[dp];
            for v in [crate::metrics::round_dp(x, dp as i32), exact, -exact, x] {
                for (hint, ours) in float_dp_all(v).into_iter().enumerate() {
                    prop_assert_eq!(&ours, &serde_float(v), "{} (hint {})", v, hint);
                }
            }
        }
    }

    #[test]
    fn float_dp_edges() {
        for (v, dp) in [
            (0.0, 1),
            (-0.0, 1),
            (300.0, 1),
            (0.0001, 6),
            (0.00012, 6),
            (-0.0001, 6),
            (0.000099, 6),
            (0.000001, 6),
            (99_999_999_999_999.9, 1),
            (999_999_999.999999, 6),
            (1e14, 1),
            (46.12345, 6),
            (-82.951612, 6),
            (12.3, 2),
            (f64::NAN, 2),
            (f64::INFINITY, 2),
            (f64::MAX, 6),
            (f64::MIN_POSITIVE, 6),
        ] {
            assert_eq!(float_dp_all(v)[dp], serde_float(v), "{v} at {dp}");
        }
    }

    #[test]
    fn empty_and_unpublished_location() {
        let ts = Timeseries::default();
        let mut ours = Vec::new();
        write_timeseries(&ts, &mut ours);
        assert_eq!(
            String::from_utf8(ours).expect("ASCII"),
            "{\"t\":[],\"lat\":null,\"lon\":null,\"elevation_m\":[],\"speed_kmh\":[],\
             \"hr_bpm\":[],\"cadence_rpm\":[],\"power_w\":[],\"temperature_c\":[]}"
        );
        let ts = Timeseries {
            t: vec![0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, -1],
            lat: Some(vec![Some(46.5), None, Some(f64::NAN)]),
            hr_bpm: vec![Some(142), None],
            ..Timeseries::default()
        };
        let mut ours = Vec::new();
        write_timeseries(&ts, &mut ours);
        assert_eq!(
            String::from_utf8(ours).expect("ASCII"),
            "{\"t\":[0,9,10,99,100,999,1000,9999,10000,99999,100000,-1],\
             \"lat\":[46.5,null,null],\"lon\":null,\"elevation_m\":[],\"speed_kmh\":[],\
             \"hr_bpm\":[142,null],\"cadence_rpm\":[],\"power_w\":[],\"temperature_c\":[]}"
        );
    }
}
