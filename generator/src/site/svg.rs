//! Server-rendered SVG: card thumbnails, the track outline, line charts, the power curve
//! and the yearly calendar heatmap, so every page shows its content without JavaScript.
//!
//! Output is plain strings with numbers rounded to one decimal, so two builds of the same
//! data are byte-identical and pages stay small: an activity chart is decimated to the
//! pixel columns it is drawn on ([`decimate`], at most two points a column), so its size
//! depends on the drawn width, not on the recording length.
//!
//! Templates insert this SVG with `| safe`, so Tera does not escape it: every string written
//! here (labels, season names, tooltips, colours, links) goes through [`esc`] at the point
//! where it enters the markup, and callers pass raw text (`docs/site.md`, "Escaping").

use super::escape::html as esc;
use std::fmt::Write;

fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A path through `[lat, lon]` points inside a `w×h` box with `pad` pixels, plain linear
/// lat/lon with longitude scaled by cos(latitude) so shapes are not stretched.
fn project(coords: &[[f64; 2]], w: f64, h: f64, pad: f64) -> Vec<(f64, f64)> {
    if coords.is_empty() {
        return Vec::new();
    }
    let mid_lat = coords.iter().map(|c| c[0]).sum::<f64>() / coords.len() as f64;
    let kx = mid_lat.to_radians().cos().max(0.01);
    let xs: Vec<f64> = coords.iter().map(|c| c[1] * kx).collect();
    let ys: Vec<f64> = coords.iter().map(|c| c[0]).collect();
    let (min_x, max_x) = min_max(&xs);
    let (min_y, max_y) = min_max(&ys);
    let span_x = (max_x - min_x).max(0.001);
    let span_y = (max_y - min_y).max(0.001);
    let scale = ((w - 2.0 * pad) / span_x).min((h - 2.0 * pad) / span_y);
    let off_x = (w - span_x * scale) / 2.0;
    let off_y = (h - span_y * scale) / 2.0;
    xs.iter()
        .zip(&ys)
        .map(|(x, y)| (r1(off_x + (x - min_x) * scale), r1(h - (off_y + (y - min_y) * scale))))
        .collect()
}

fn min_max(v: &[f64]) -> (f64, f64) {
    min_max_of(v.iter().copied())
}

fn min_max_of(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)))
}

fn polyline(points: &[(f64, f64)]) -> String {
    let mut s = String::with_capacity(points.len() * 12);
    for (i, (x, y)) in points.iter().enumerate() {
        let _ = write!(s, "{}{x},{y}", if i == 0 { "M" } else { "L" });
    }
    s
}

/// The 120×70 card thumbnail through `preview_coords` (`[lat, lon]`), or `None` without points.
pub fn thumbnail(coords: &[[f64; 2]], color: &str) -> Option<String> {
    if coords.len() < 2 {
        return None;
    }
    let pts = project(coords, 120.0, 70.0, 4.0);
    Some(format!(
        r#"<svg class="thumb" viewBox="0 0 120 70" aria-hidden="true"><path d="{}" fill="none" stroke="{}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round" opacity=".9"/></svg>"#,
        polyline(&pts),
        esc(color)
    ))
}

/// The activity's track outline (600×400) with start and end dots, shown under the
/// interactive map and instead of it without JavaScript.
pub fn track_outline(coords: &[[f64; 2]], color: &str) -> Option<String> {
    if coords.len() < 2 {
        return None;
    }
    let step = (coords.len() / 1500).max(1);
    let mut thinned: Vec<[f64; 2]> = coords.iter().step_by(step).copied().collect();
    if let Some(last) = coords.last()
        && thinned.last() != Some(last)
    {
        thinned.push(*last);
    }
    // Whole units: the outline is drawn at about its viewBox size with a 3-unit stroke, so
    // a tenth of a unit is invisible, and relative whole steps take a third of the bytes.
    let pts: Vec<(f64, f64)> = project(&thinned, 600.0, 400.0, 16.0)
        .into_iter()
        .map(|(x, y)| (x.round(), y.round()))
        .collect();
    let (sx, sy) = pts[0];
    let (ex, ey) = pts[pts.len() - 1];
    Some(format!(
        r##"<svg class="track-outline" viewBox="0 0 600 400" role="img" aria-label="Track outline"><path d="{}" fill="none" stroke="{}" stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/><circle cx="{sx}" cy="{sy}" r="6" fill="#4ade80" stroke="#fff" stroke-width="2"/><circle cx="{ex}" cy="{ey}" r="6" fill="#f87171" stroke="#fff" stroke-width="2"/></svg>"##,
        relative_path(&pts),
        esc(color)
    ))
}

/// Decimate a series to the pixel columns it is drawn on: for each of the `columns + 1`
/// whole-unit x positions of the plot (the positions [`line_chart`] rounds to) the sample
/// with the smallest and the one with the largest y, in recording order, and nothing else
/// (the first and last samples are kept too, so the x range is the series' own). A line
/// drawn through them covers, in every column, exactly the vertical extent the full series
/// would: spikes (a sprint's peak power, a heart-rate drop) survive, which means per bucket
/// flattened, and the y range of the chart is the series' range. Nulls and non-finite
/// values are skipped. Returns `(x, y, sample index)`.
///
/// This is the min/max half of M4 (Jugel et al., 2014): the first and last sample of each
/// column, which M4 adds to get the joins between columns exact, change where a one-pixel
/// step between two columns is drawn, not what a reader sees, and would double the points.
pub fn decimate(xs: &[f64], ys: &[Option<f64>], columns: usize) -> Vec<(f64, f64, usize)> {
    decimate_with(xs, ys, columns, &mut Columns::default())
}

/// The columns of one x axis, kept between the charts drawn against it: the channels of an
/// activity usually share their first and last sample, so where the columns fall (a
/// division and a rounding per sample, most of [`decimate`]'s work when done for every
/// chart) is found once for the whole stack. Valid for one `xs` only: callers use one per
/// axis and [`Columns::clear`] it for the next page.
#[derive(Default)]
pub struct Columns {
    /// The x range and column count `col` was computed for.
    key: Option<(u64, u64, usize)>,
    col: Vec<i64>,
    /// Whether every x is finite, not `-0.0`, and none is smaller than the one before
    /// (time and distance always are): then a channel's x range is the x of its first and
    /// last valid sample, exactly the minimum and maximum `decimate` would find, and the
    /// column of a sample never decreases along the axis.
    ordered: Option<bool>,
    /// On an ordered axis, the runs of samples that fall in one column, for each x range
    /// drawn so far (`runs[..used]`; the rest is memory kept for the next page).
    runs: Vec<Runs>,
    used: usize,
}

/// The column runs of an ordered axis for one x range: `(column, end)`, each run the
/// samples from the previous run's end (or 0) to `end` (exclusive), covering every sample.
#[derive(Default)]
struct Runs {
    /// The x range, column count and number of samples the runs are for.
    key: (u64, u64, usize, usize),
    runs: Vec<(i64, usize)>,
}

impl Columns {
    /// Forget the axis (the next one is another), keeping the memory.
    pub fn clear(&mut self) {
        self.key = None;
        self.ordered = None;
        self.used = 0;
    }

    /// Whether `xs` is ordered (see the field), checked once per axis.
    fn ordered(&mut self, xs: &[f64]) -> bool {
        // Folded without stopping early, so the compiler checks several values at once:
        // `all` stopped at the first failure but went one value at a time, and the axes
        // checked are almost always ordered (time, distance), so read to the end anyway.
        *self.ordered.get_or_insert_with(|| {
            let neg_zero = (-0.0f64).to_bits();
            xs.iter().fold(true, |ok, x| ok & x.is_finite() & (x.to_bits() != neg_zero))
                && xs.iter().zip(xs.iter().skip(1)).fold(true, |ok, (a, b)| ok & (a <= b))
        })
    }

    /// The column runs of the ordered `xs` for the x range `x0..=x1`.
    fn runs(&mut self, xs: &[f64], x0: f64, x1: f64, columns: usize) -> &[(i64, usize)] {
        let key = (x0.to_bits(), x1.to_bits(), columns, xs.len());
        let at = match self.runs[..self.used].iter().position(|r| r.key == key) {
            Some(at) => at,
            None => {
                if self.used == self.runs.len() {
                    self.runs.push(Runs::default());
                }
                let r = &mut self.runs[self.used];
                r.key = key;
                column_runs(xs, x0, x1, columns, &mut r.runs);
                self.used += 1;
                self.used - 1
            }
        };
        &self.runs[at].runs
    }
}

/// The column of `x` on an axis from `x0` to `x1` drawn over `columns` whole units: the
/// whole-unit x position [`line_chart`] rounds the sample to.
fn column_of(x: f64, x0: f64, span: f64, cols: f64) -> i64 {
    round_i64((x - x0) / span * cols)
}

/// The runs of equal column along the ordered `xs` (see [`Runs`]) into `out`. Every step of
/// [`column_of`] is a correctly rounded operation, so the column never decreases along an
/// ordered axis and each run's end can be searched for instead of computing every sample's
/// column: from the previous run's length (samples are mostly evenly spaced, so that is
/// usually right within one), then by doubling steps and halving. The result is the same as
/// computing each sample's column (a test compares them).
fn column_runs(xs: &[f64], x0: f64, x1: f64, columns: usize, out: &mut Vec<(i64, usize)>) {
    out.clear();
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let cols = columns.max(1) as f64;
    let col = |i: usize| column_of(xs[i], x0, span, cols);
    let n = xs.len();
    let mut start = 0;
    let mut guess = 1;
    while start < n {
        let k = col(start);
        // `lo` is a sample in column `k` (or before it: never, the axis is ordered), `hi`
        // the first sample found past it (or `n`); the run ends somewhere in (lo, hi].
        let (mut lo, mut hi) = (start, n);
        let g = (start + guess).min(n);
        if g < n && col(g) <= k {
            lo = g;
            let mut step = 1;
            while lo + step < n {
                if col(lo + step) > k {
                    hi = lo + step;
                    break;
                }
                lo += step;
                step *= 2;
            }
        } else {
            hi = g;
            let mut step = 1;
            while step < hi - lo {
                if col(hi - step) <= k {
                    lo = hi - step;
                    break;
                }
                hi -= step;
                step *= 2;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if col(mid) <= k { lo = mid } else { hi = mid }
        }
        out.push((k, hi));
        guess = hi - start;
        start = hi;
    }
}

/// `v.round() as i64`, without the call to the C library's `round` (without SSE4.1 it is
/// not inlined, and decimation rounds every sample): the fraction `v - trunc(v)` is exact
/// for |v| < 2⁵², so comparing it with ±0.5 rounds halves away from zero exactly as
/// `round` does. Larger values and NaN take `round` itself.
pub fn round_i64(v: f64) -> i64 {
    if v.is_nan() || v.abs() >= 4.0e15 {
        return v.round() as i64;
    }
    let t = v as i64;
    let f = v - t as f64;
    // Added as flags rather than chosen by branches: a chart's coordinates have fractions
    // at random, so a branch on them was mispredicted about every other time.
    t + i64::from(f >= 0.5) - i64::from(f <= -0.5)
}

/// [`decimate`] with the columns of `xs` kept in `cache` for the next channel drawn
/// against the same `xs`.
pub fn decimate_with(
    xs: &[f64],
    ys: &[Option<f64>],
    columns: usize,
    cache: &mut Columns,
) -> Vec<(f64, f64, usize)> {
    // Whether the axis is ordered is settled on the whole axis (see `decimate_values`).
    cache.ordered(xs);
    let len = xs.len().min(ys.len());
    let mut out = Vec::new();
    decimate_by(&xs[..len], |i| ys[i], columns, cache, &mut out);
    out
}

/// [`decimate_with`] for a channel whose missing values are `NaN` (any value that is not
/// finite is left out, as a null is), into `out` (cleared first, its memory reused): the
/// activity page's charts. On an ordered axis (time, distance) the samples are not visited
/// one by one against their column: the axis' column runs ([`Columns`]) are found once for
/// all the charts of a page, and each run's lowest and highest sample is a plain scan of
/// the channel's values. The points are exactly [`decimate`]'s (a test compares them).
pub fn decimate_values(
    xs: &[f64],
    ys: &[f64],
    columns: usize,
    cache: &mut Columns,
    out: &mut Vec<(f64, f64, usize)>,
) {
    out.clear();
    // Checked on the whole axis, whatever the channel's length: an ordered axis has ordered
    // prefixes, and a shorter channel drawn first cannot vouch for the rest of the axis.
    let ordered = cache.ordered(xs);
    let len = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..len], &ys[..len]);
    if !ordered {
        decimate_by(xs, |i| Some(ys[i]), columns, cache, out);
        return;
    }
    // Every x is finite: a sample is valid when its value is.
    let Some(first) = ys.iter().position(|y| y.is_finite()) else { return };
    let last = ys.iter().rposition(|y| y.is_finite()).unwrap_or(first);
    // One pass the compiler keeps in vector registers, for a cheaper loop per run.
    let no_infinity = ys.iter().fold(true, |ok, y| ok & !y.is_infinite());
    let runs = cache.runs(xs, xs[first], xs[last], columns);
    out.reserve(2 * columns + 4);
    out.push((xs[first], ys[first], first));
    // Runs before `first` or after `last` hold no valid sample; a run's samples outside
    // `first..=last` are not valid either, so runs are scanned whole.
    let from = runs.partition_point(|r| r.1 <= first);
    let mut start = if from == 0 { 0 } else { runs[from - 1].1 };
    for &(_, end) in &runs[from..] {
        if start > last {
            break;
        }
        let Some((lo, hi)) = run_extremes(&ys[start..end], no_infinity) else {
            start = end;
            continue;
        };
        let (lo, hi) = ((start + lo.0, lo.1), (start + hi.0, hi.1));
        start = end;
        // On an ordered axis a column is one run, so each non-empty run is flushed as
        // `decimate` flushes a column.
        let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        for (i, y) in [a, b] {
            if out.last().is_none_or(|p| p.2 != i) {
                out.push((xs[i], y, i));
            }
        }
    }
    if out.last().is_none_or(|p| p.2 != last) {
        out.push((xs[last], ys[last], last));
    }
}

/// The first lowest and the first highest finite value of `ys` (index in `ys`, value), as
/// `decimate` keeps them; `None` when no value is finite. `no_infinity` says that `ys`
/// holds no infinite value (a chart's series never does: its values are finite or the
/// `NaN` of no value), and then the check that a value is finite is left out: a `NaN`
/// fails both comparisons anyway, and this loop runs for every sample of every chart,
/// once per axis, where that check was a third of its work.
#[inline(always)]
fn run_extremes(ys: &[f64], no_infinity: bool) -> Option<((usize, f64), (usize, f64))> {
    if !no_infinity {
        return run_extremes_scan(ys);
    }
    let (mut lo, mut hi) = ((usize::MAX, f64::INFINITY), (usize::MAX, f64::NEG_INFINITY));
    for (i, &y) in ys.iter().enumerate() {
        if y < lo.1 {
            lo = (i, y);
        }
        if y > hi.1 {
            hi = (i, y);
        }
    }
    (lo.0 != usize::MAX).then_some((lo, hi))
}

/// [`run_extremes`] for a run that may hold an infinite value, which is no value either
/// (NaN compares false). Written with selects instead of these branches, it measured
/// slower (the compiler kept some branches).
fn run_extremes_scan(ys: &[f64]) -> Option<((usize, f64), (usize, f64))> {
    let (mut lo, mut hi) = ((usize::MAX, f64::INFINITY), (usize::MAX, f64::NEG_INFINITY));
    for (i, &y) in ys.iter().enumerate() {
        if y.is_finite() {
            if y < lo.1 {
                lo = (i, y);
            }
            if y > hi.1 {
                hi = (i, y);
            }
        }
    }
    (lo.0 != usize::MAX).then_some((lo, hi))
}

/// The decimation of samples `0..xs.len()` whose values `y` gives, one sample at a time
/// (any axis, ordered or not).
fn decimate_by(
    xs: &[f64],
    y: impl Fn(usize) -> Option<f64>,
    columns: usize,
    cache: &mut Columns,
    out: &mut Vec<(f64, f64, usize)>,
) {
    let len = xs.len();
    let valid = |i: usize| match (xs[i], y(i)) {
        (x, Some(y)) if x.is_finite() && y.is_finite() => Some((x, y)),
        _ => None,
    };
    let Some(first) = (0..len).find(|i| valid(*i).is_some()) else { return };
    let last = (0..len).rev().find(|i| valid(*i).is_some()).unwrap_or(first);
    let (x0, x1) = if cache.ordered(xs) {
        // Equal values have equal bits here (no -0.0), so `min`/`max` could not pick
        // another one either.
        (xs[first], xs[last])
    } else {
        let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in first..=last {
            if let Some((x, _)) = valid(i) {
                x0 = x0.min(x);
                x1 = x1.max(x);
            }
        }
        (x0, x1)
    };
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let cols = columns.max(1) as f64;
    let key = (x0.to_bits(), x1.to_bits(), columns);
    if cache.key != Some(key) || cache.col.len() < len {
        cache.col.clear();
        cache.col.extend(xs.iter().map(|x| column_of(*x, x0, span, cols)));
        cache.key = Some(key);
    }
    let column = &cache.col[..len];
    out.reserve(2 * columns + 4);
    if let Some((x, y)) = valid(first) {
        out.push((x, y, first));
    }
    /// A sample: its index and y.
    type At = (usize, f64);
    // The current column and its lowest and highest sample, flushed when x moves on.
    let mut cur: Option<(i64, At, At)> = None;
    let flush = |out: &mut Vec<(f64, f64, usize)>, lo: At, hi: At| {
        let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        for (i, y) in [a, b] {
            if out.last().is_none_or(|p| p.2 != i) {
                out.push((xs[i], y, i));
            }
        }
    };
    for (i, &c) in column.iter().enumerate().take(last + 1).skip(first) {
        let Some((_, y)) = valid(i) else { continue };
        match &mut cur {
            Some((cc, lo, hi)) if *cc == c => {
                if y < lo.1 {
                    *lo = (i, y);
                }
                if y > hi.1 {
                    *hi = (i, y);
                }
            }
            _ => {
                if let Some((_, lo, hi)) = cur {
                    flush(out, lo, hi);
                }
                cur = Some((c, (i, y), (i, y)));
            }
        }
    }
    if let Some((_, lo, hi)) = cur {
        flush(out, lo, hi);
    }
    if out.last().is_none_or(|p| p.2 != last)
        && let Some((x, y)) = valid(last)
    {
        out.push((x, y, last));
    }
}

/// How a chart's y values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YFormat {
    /// A plain number ("120").
    Number,
    /// Seconds as a pace clock ("5:30"), the axis inverted so that faster is higher.
    Pace,
}

/// How a chart's x axis reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XAxis {
    /// Seconds from the start.
    Time,
    /// Distance, already in the axis unit (km or mi), labelled with `unit`.
    Distance { unit: &'static str },
}

/// One chart of the activity page's stack.
pub struct ChartSpec<'a> {
    /// Accessible name and readout label, with its unit ("Heart rate (bpm)").
    pub label: &'a str,
    pub color: &'a str,
    pub y: YFormat,
    /// Fit the y axis to the data (elevation, heart rate) instead of starting at 0.
    pub fit: bool,
    /// Fill under the line (the elevation profile).
    pub area: bool,
    pub x: XAxis,
    /// Draw the x tick labels (only the bottom chart of a stack does).
    pub x_labels: bool,
    /// A text alternative: the figures a reader would take from the chart.
    pub summary: String,
}

/// Chart geometry, shared by every chart of a stack so that their plot areas line up
/// exactly and one hover line can cross them all.
pub const CHART_W: f64 = 600.0;
/// Left margin: room for a four-character y label at the phone size (19 units).
pub const CHART_ML: f64 = 52.0;
pub const CHART_MR: f64 = 10.0;
/// Whole-unit columns of a chart's plot area: the line is drawn at x = `CHART_ML` + 0 …
/// `CHART_COLUMNS`, and [`decimate`] keeps at most two samples for each.
pub const CHART_COLUMNS: usize = (CHART_W - CHART_ML - CHART_MR) as usize;

/// Round tick values covering `[lo, hi]`: the smallest step of 1, 2 or 5 × 10ⁿ whose whole
/// steps cover the range in at most `target` intervals (so labels never crowd a short
/// chart), and the range widened to whole steps. Returns `(lo, hi, step)`.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0, 1.0);
    }
    // A range below the values' own precision (a flat series whose samples differ in the
    // last bit, -9.200000000000001 to -9.2) is flat: a step that small would not move the
    // tick value at all when added to it.
    let scale = lo.abs().max(hi.abs());
    let span = if hi - lo > scale * 1e-9 { hi - lo } else { scale.max(1.0) };
    let target = target.max(1) as f64;
    let mut mag = 10f64.powf((span / target).log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * mag;
            let lo2 = (lo / step).floor() * step;
            let hi2 = ((hi / step).ceil() * step).max(lo2 + step);
            if (hi2 - lo2) / step <= target + 1e-9 {
                return (lo2, hi2, step);
            }
        }
        mag *= 10.0;
    }
}

/// The most ticks one axis draws (a guard; round steps give at most about ten).
const MAX_TICKS: usize = 64;

/// Round time ticks (seconds): 1, 2, 5, 10, 15, 20, 30 min, 1, 2, 3, 6 h.
fn time_step(span_s: f64, target: f64) -> f64 {
    [60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0]
        .into_iter()
        .find(|s| span_s / s <= target)
        .unwrap_or(43200.0)
}

fn y_text(v: f64, f: YFormat) -> String {
    match f {
        YFormat::Number => Num(round_f64(v)).to_string(),
        YFormat::Pace => {
            let s = v.round().max(0.0) as i64;
            format!("{}:{:02}", s / 60, s % 60)
        }
    }
}

/// A line chart of one channel, `CHART_W` wide, for the activity page's aligned stack. The
/// plot area starts at [`CHART_ML`] and ends [`CHART_MR`] before the right edge in every
/// chart, so `data-x0`/`data-x1` map the pointer to the same sample in all of them.
/// `points` are `(x, y, sample index)` already decimated to the plot's columns
/// ([`decimate`] with [`CHART_COLUMNS`]); the axes span their x and y range, and the path
/// uses relative whole-unit steps to stay small ([`relative_path`]).
pub fn line_chart(points: &[(f64, f64, usize)], spec: &ChartSpec<'_>) -> Option<String> {
    if points.len() < 2 {
        return None;
    }
    let h = if spec.x_labels { 160.0 } else { 134.0 };
    let (w, ml, mr, mt) = (CHART_W, CHART_ML, CHART_MR, 16.0);
    // Room above the top and below the bottom grid line for half a y label, at the phone
    // size too (the theme draws ticks at up to 19 units): no label is cut by the box.
    let mb = if spec.x_labels { 38.0 } else { 12.0 };
    let (x0, x1) = min_max_of(points.iter().map(|p| p.0));
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let (y_min, y_max) = min_max_of(points.iter().map(|p| p.1));
    let lo = if spec.fit || y_min < 0.0 { y_min } else { 0.0 };
    let (y0, y1, step) = match spec.y {
        YFormat::Number => nice_ticks(lo, y_max, 4),
        YFormat::Pace => {
            // Pace ticks every 15 s, 30 s, 1, 2, 5 or 10 min, at most four intervals once
            // the range is widened to whole steps.
            let whole = |st: f64| {
                let lo = (y_min / st).floor() * st;
                (lo, ((y_max / st).ceil() * st).max(lo + st), st)
            };
            [15.0, 30.0, 60.0, 120.0, 300.0]
                .into_iter()
                .map(whole)
                .find(|(lo, hi, st)| (hi - lo) / st <= 4.0 + 1e-9)
                .unwrap_or_else(|| whole(600.0))
        }
    };
    let invert = spec.y == YFormat::Pace;
    let px = |x: f64| round_f64(ml + (x - x0) / (x1 - x0) * (w - ml - mr));
    let py = |y: f64| {
        let f = (y - y0) / (y1 - y0);
        let f = if invert { f } else { 1.0 - f };
        round_f64(mt + f * (h - mt - mb))
    };
    let label = esc(spec.label);
    let color = esc(spec.color);
    let pts: Vec<(f64, f64)> = points.iter().map(|p| (px(p.0), py(p.1))).collect();
    let d = relative_path(&pts);
    // The path (twice with the area) and room for the axes: the string is not grown, and
    // copied, as it is written.
    let paths = if spec.area { 2 * d.len() } else { d.len() };
    let mut s = String::with_capacity(paths + spec.summary.len() + 2048);
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" data-x0="{x0}" data-x1="{x1}" data-ml="{ml}" data-mr="{mr}"><title>{}</title>"#,
        esc(&spec.summary),
        w = Num(w),
        h = Num(h),
        x0 = Num(x0),
        x1 = Num(x1),
        ml = Num(ml),
        mr = Num(mr),
    );
    let mut v = y0;
    // Bounded: whatever the data, an axis never draws more than a few dozen ticks.
    let mut ticks = 0;
    while v <= y1 + step * 1e-6 && ticks < MAX_TICKS {
        ticks += 1;
        let y = py(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{ml}" x2="{}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            Num(w - mr),
            Num(ml - 5.0),
            // Keep the top and bottom labels inside the box.
            Num((y + 5.0).clamp(21.0, h - 6.0)),
            y_text(v, spec.y),
            ml = Num(ml),
            y = Num(y),
        );
        v += step;
    }
    if spec.x_labels {
        let (step, unit) = match spec.x {
            XAxis::Time => (time_step(x1 - x0, 6.0), ""),
            XAxis::Distance { unit } => (nice_ticks(x0, x1, 6).2, unit),
        };
        let mut v = (x0 / step).ceil() * step;
        let mut ticks = 0;
        while v <= x1 + step * 1e-6 && ticks < MAX_TICKS {
            ticks += 1;
            let text = match spec.x {
                XAxis::Time => time_tick(v),
                XAxis::Distance { .. } => {
                    if step < 1.0 {
                        format!("{v:.1} {unit}")
                    } else {
                        format!("{} {unit}", v.round())
                    }
                }
            };
            // About 11 units per character at the phone size (19 px): a label that would cross
            // the edge moves in.
            let half = text.chars().count() as f64 * 5.5;
            let x = px(v).clamp(half, w - half);
            let _ = write!(
                s,
                r#"<text class="tick" x="{x}" y="{}" text-anchor="middle">{text}</text>"#,
                Num(h - 7.0),
                x = Num(x),
            );
            v += step;
        }
    }
    if spec.area {
        let base = h - mb;
        let _ = write!(
            s,
            r#"<path d="{d}V{base}H{}Z" fill="{color}" opacity=".18"/>"#,
            Num(pts[0].0),
            base = Num(base),
        );
    }
    let _ = write!(
        s,
        r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5" stroke-linejoin="round"/><line class="cursor" x1="-10" x2="-10" y1="0" y2="{h}"/></svg>"#,
        h = Num(h),
    );
    Some(s)
}

/// `v.round()`, through [`round_i64`] instead of the C library's `round` (not inlined
/// without SSE4.1; a chart rounds two coordinates per point): the same value, the sign of
/// a zero included (`(-0.3).round()` is `-0.0`). NaN and large values take `round`.
fn round_f64(v: f64) -> f64 {
    if v.abs() < 4.0e15 { (round_i64(v) as f64).copysign(v) } else { v.round() }
}

/// An `f64` written as `{}` writes it, whole numbers (a chart's coordinates, ticks and
/// sizes almost all are) through `itoa` instead of the shortest-float formatting, which
/// cost more than the rest of a chart's numbers.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        // Below 2⁵³ a whole `f64` is an `i64` exactly, printed with the same digits; `-0.0`
        // prints as `-0`, which the integer would lose.
        if v.fract() == 0.0 && v.abs() < 9.0e15 && !(v == 0.0 && v.is_sign_negative()) {
            f.write_str(itoa::Buffer::new().format(v as i64))
        } else {
            std::fmt::Display::fmt(&v, f)
        }
    }
}

/// A path through whole-unit points as `M x,y l dx dy … v dy l …`, as small as the line
/// allows: a point equal to the previous one is left out, steps in the same direction are
/// joined into one (a flat stretch of a minute is one step, not sixty), a vertical step is
/// a `v` (a decimated chart has one in every column: its lowest and highest sample), and
/// no separator is written before a negative number (`l3-2 1 4` is read as 3,−2 1,4).
fn relative_path(pts: &[(f64, f64)]) -> String {
    let Some(&(x0, y0)) = pts.first() else { return String::new() };
    let mut steps: Vec<(i64, i64)> = Vec::with_capacity(pts.len());
    let (mut cx, mut cy) = (x0 as i64, y0 as i64);
    for &(x, y) in &pts[1..] {
        let (x, y) = (x as i64, y as i64);
        let (dx, dy) = (x - cx, y - cy);
        (cx, cy) = (x, y);
        if dx == 0 && dy == 0 {
            continue;
        }
        match steps.last_mut() {
            // Same direction: the cross product is 0 and the dot product positive.
            Some((px, py)) if *px * dy == *py * dx && *px * dx + *py * dy > 0 => {
                *px += dx;
                *py += dy;
            }
            _ => steps.push((dx, dy)),
        }
    }
    let mut d = String::with_capacity(steps.len() * 8 + 24);
    let _ = write!(d, "M{},{}", Num(x0), Num(y0));
    if steps.is_empty() {
        // A flat one-point line still needs a segment to be drawn.
        d.push_str("h0");
        return d;
    }
    // The command in force (`l` takes pairs, `v` single numbers); a number right after a
    // command letter needs no separator either.
    let mut cmd = ' ';
    let mut fresh = true;
    let num = |d: &mut String, v: i64, fresh: &mut bool| {
        if !*fresh && v >= 0 {
            d.push(' ');
        }
        *fresh = false;
        push_int(d, v);
    };
    for (dx, dy) in steps {
        if dx == 0 {
            if cmd != 'v' {
                d.push('v');
                (cmd, fresh) = ('v', true);
            }
            num(&mut d, dy, &mut fresh);
        } else {
            if cmd != 'l' {
                d.push('l');
                (cmd, fresh) = ('l', true);
            }
            num(&mut d, dx, &mut fresh);
            num(&mut d, dy, &mut fresh);
        }
    }
    d
}

/// `v` in decimal, as `write!(d, "{v}")` writes it, through `itoa` rather than the
/// formatting machinery (a page's paths are thousands of small numbers).
fn push_int(d: &mut String, v: i64) {
    d.push_str(itoa::Buffer::new().format(v));
}

fn time_tick(t_s: f64) -> String {
    let m = (t_s / 60.0).round() as i64;
    if m >= 60 { format!("{}:{:02}", m / 60, m % 60) } else { format!("{m} min") }
}

/// One bar of a time-in-zone chart.
pub struct ZoneBar {
    pub label: String,
    pub value: String,
    /// Share of the total, 0..1.
    pub fraction: f64,
    pub color: String,
}

/// Horizontal bars, one row per zone (800 px wide, 22 px per row).
pub fn zone_bars(rows: &[ZoneBar]) -> String {
    let (w, row, left, right) = (800.0, 22.0, 150.0, 150.0);
    let h = row * rows.len() as f64;
    let mut s = format!(
        r#"<svg class="chart zones" viewBox="0 0 {w} {h}" role="img" aria-label="Time in zones">"#
    );
    // The text alternative: the labels drawn below are hidden from screen readers inside
    // `role="img"`, so the chart's <title> (its description) lists every zone and its time.
    let summary: Vec<String> = rows.iter().map(|r| format!("{} {}", r.label, r.value)).collect();
    let _ = write!(s, "<title>Time in zones: {}</title>", esc(&summary.join(", ")));
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64 * row;
        let bw = ((w - left - right) * r.fraction.clamp(0.0, 1.0)).round();
        let _ = write!(
            s,
            r#"<text class="tick" x="0" y="{}">{}</text><rect x="{left}" y="{}" width="{bw}" height="{}" rx="3" fill="{}" opacity=".8"/><text class="tick" x="{}" y="{}">{}</text>"#,
            y + 15.0,
            esc(&r.label),
            y + 4.0,
            row - 8.0,
            esc(&r.color),
            left + bw + 6.0,
            y + 15.0,
            esc(&r.value)
        );
    }
    s.push_str("</svg>");
    s
}

/// One line of the power-curve chart.
pub struct CurveLine<'a> {
    pub name: &'a str,
    pub color: &'a str,
    /// `(duration_s, watts)`, sorted by duration.
    pub points: &'a [(i64, i64)],
}

/// Mean-maximal power curve (800×320), logarithmic duration axis, optional FTP line.
pub fn power_curve(lines: &[CurveLine<'_>], ftp_w: Option<i64>) -> Option<String> {
    let all: Vec<(i64, i64)> = lines.iter().flat_map(|l| l.points.iter().copied()).collect();
    if all.is_empty() {
        return None;
    }
    let (w, h, ml, mr, mt, mb) = (800.0, 320.0, 48.0, 12.0, 12.0, 28.0);
    let d_min = all.iter().map(|p| p.0).min().unwrap_or(1).max(1) as f64;
    let d_max = (all.iter().map(|p| p.0).max().unwrap_or(3600) as f64).max(7200.0);
    let w_max = all.iter().map(|p| p.1).max().unwrap_or(100).max(ftp_w.unwrap_or(0)) as f64 * 1.05;
    let (l0, l1) = (d_min.ln(), d_max.ln());
    let px = |d: f64| r1(ml + (d.max(1.0).ln() - l0) / (l1 - l0).max(1e-9) * (w - ml - mr));
    let py = |v: f64| r1(mt + (1.0 - v / w_max.max(1.0)) * (h - mt - mb));
    let mut s = format!(
        r#"<svg class="chart power-curve" viewBox="0 0 {w} {h}" role="img" aria-label="Power curve">"#
    );
    let _ = write!(s, "<title>{}</title>", esc(&curve_summary(lines)));
    for k in 0..=4 {
        let v = w_max * f64::from(k) / 4.0;
        let y = py(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{ml}" x2="{}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            w - mr,
            ml - 4.0,
            y + 3.0,
            v.round()
        );
    }
    for (d, label) in [
        (1.0, "1s"),
        (10.0, "10s"),
        (60.0, "1min"),
        (300.0, "5min"),
        (1200.0, "20min"),
        (3600.0, "1h"),
    ] {
        if d >= d_min && d <= d_max {
            let _ = write!(
                s,
                r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
                px(d),
                h - 8.0
            );
        }
    }
    if let Some(ftp) = ftp_w {
        let y = py(ftp as f64);
        let _ = write!(
            s,
            r#"<line class="ftp" x1="{ml}" x2="{}" y1="{y}" y2="{y}" stroke-dasharray="6 4"/><text class="tick" x="{}" y="{}">FTP {ftp} W</text>"#,
            w - mr,
            px(3600.0_f64.min(d_max)) - 60.0,
            y - 4.0
        );
    }
    for l in lines {
        let pts: Vec<(f64, f64)> =
            l.points.iter().map(|(d, v)| (px(*d as f64), py(*v as f64))).collect();
        // Season names are whatever the athlete typed in edits/athlete.yaml.
        let (name, color) = (esc(l.name), esc(l.color));
        let _ = write!(
            s,
            r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2"><title>{name}</title></path>"#,
            polyline(&pts),
        );
        for ((d, v), (x, y)) in l.points.iter().zip(&pts) {
            let _ = write!(
                s,
                r#"<circle cx="{x}" cy="{y}" r="3" fill="{color}"><title>{name} / {}: {v} W</title></circle>"#,
                duration_label(*d)
            );
        }
    }
    s.push_str("</svg>");
    Some(s)
}

/// The power curve's text alternative (the points' own titles are hidden from screen readers
/// inside `role="img"`): each line's power at the durations the axis labels, or at its shortest
/// and longest duration when it has none of them.
fn curve_summary(lines: &[CurveLine<'_>]) -> String {
    const MARKS: [i64; 6] = [1, 10, 60, 300, 1200, 3600];
    let parts: Vec<String> = lines
        .iter()
        .filter(|l| !l.points.is_empty())
        .map(|l| {
            let mut at: Vec<&(i64, i64)> =
                l.points.iter().filter(|p| MARKS.contains(&p.0)).collect();
            if at.is_empty() {
                at = [l.points.first(), l.points.last()].into_iter().flatten().collect();
                at.dedup();
            }
            let values: Vec<String> =
                at.iter().map(|(d, v)| format!("{} {v} W", duration_label(*d))).collect();
            format!("{}: {}", l.name, values.join(", "))
        })
        .collect();
    format!("Power curve. {}", parts.join("; "))
}

/// "5s", "2min", "1h".
pub fn duration_label(d_s: i64) -> String {
    if d_s < 60 {
        format!("{d_s}s")
    } else if d_s < 3600 {
        format!("{}min", d_s / 60)
    } else {
        format!("{}h", d_s / 3600)
    }
}

/// One day cell of the heatmap.
pub struct DayCell {
    /// Day of the year, 0-based.
    pub ordinal0: u16,
    /// `#rrggbb` of the day (sports blended by distance).
    pub color: String,
    /// Intensity 0..1 (drawn as fill opacity over the page, so it works in both themes).
    pub opacity: f64,
    /// Tooltip text, raw (escaped when written).
    pub title: String,
    /// Link target (first activity of the day).
    pub href: String,
}

/// A year calendar: Monday-first week columns, 10 px cells with 3 px gaps, month labels,
/// Tue/Thu/Sat row labels. `jan1_weekday0` is the weekday of 1 January (0 = Monday).
pub fn heatmap(year: i32, jan1_weekday0: u8, days_in_year: u16, cells: &[DayCell]) -> String {
    let (cell, gap, left, top) = (10.0, 3.0, 28.0, 14.0);
    let step = cell + gap;
    let weeks = (u16::from(jan1_weekday0) + days_in_year).div_ceil(7);
    let w = left + f64::from(weeks) * step;
    let h = top + 7.0 * step;
    let mut s = format!(
        r#"<svg class="heatmap" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="group" aria-label="{year} calendar">"#
    );
    for (row, name) in [(1, "Tue"), (3, "Thu"), (5, "Sat")] {
        let _ = write!(
            s,
            r#"<text class="tick" x="0" y="{}">{name}</text>"#,
            top + f64::from(row) * step + 9.0
        );
    }
    const MONTH_DAYS: [u16; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let leap = days_in_year == 366;
    let mut ord = 0u16;
    for (m, len) in MONTH_DAYS.iter().enumerate() {
        let col = (u16::from(jan1_weekday0) + ord) / 7;
        let _ = write!(
            s,
            r#"<text class="tick" x="{}" y="10">{}</text>"#,
            left + f64::from(col) * step,
            MONTHS[m]
        );
        ord += len + u16::from(leap && m == 1);
    }
    // Empty days are one pattern-filled shape (first partial week, full weeks, last
    // partial week) instead of a rect each: a year of empty cells costs ~400 bytes, not 25 KB.
    let first = u16::from(jan1_weekday0);
    let last_pos = first + days_in_year - 1;
    let (last_col, last_row) = (last_pos / 7, last_pos % 7);
    let _ = write!(
        s,
        r#"<defs><pattern id="hm-{year}" x="{left}" y="{top}" width="{step}" height="{step}" patternUnits="userSpaceOnUse"><rect class="empty" width="{cell}" height="{cell}" rx="2"/></pattern></defs>"#
    );
    let col_x = |c: u16| left + f64::from(c) * step;
    let row_y = |r: u16| top + f64::from(r) * step;
    let mut empty_rect = |x: f64, y: f64, w: f64, h: f64| {
        if w > 0.0 && h > 0.0 {
            let _ = write!(
                s,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#hm-{year})"/>"#
            );
        }
    };
    empty_rect(col_x(0), row_y(first), step, (7.0 - f64::from(first)) * step);
    if last_col > 1 {
        empty_rect(col_x(1), row_y(0), f64::from(last_col - 1) * step, 7.0 * step);
    }
    if last_col > 0 {
        empty_rect(col_x(last_col), row_y(0), step, f64::from(last_row + 1) * step);
    }
    let mut sorted: Vec<&DayCell> = cells.iter().filter(|c| c.ordinal0 < days_in_year).collect();
    sorted.sort_by_key(|c| c.ordinal0);
    for c in sorted {
        let pos = first + c.ordinal0;
        let (x, y) = (col_x(pos / 7), row_y(pos % 7));
        let _ = write!(
            s,
            r#"<a href="{}"><rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" fill="{}" fill-opacity="{}"><title>{}</title></rect></a>"#,
            esc(&c.href),
            esc(&c.color),
            (c.opacity * 100.0).round() / 100.0,
            esc(&c.title)
        );
    }
    s.push_str("</svg>");
    s
}

/// Linear blend of two `#rrggbb` colours: `t = 0` gives `a`, `t = 1` gives `b`.
pub fn blend(a: &str, b: &str, t: f64) -> String {
    let pa = parse_hex(a);
    let pb = parse_hex(b);
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(pa.0, pb.0), mix(pa.1, pb.1), mix(pa.2, pb.2))
}

/// Weighted mean of `#rrggbb` colours.
pub fn mix_weighted(colors: &[(&str, f64)]) -> String {
    let total: f64 = colors.iter().map(|c| c.1).sum();
    if total <= 0.0 || colors.is_empty() {
        return colors.first().map(|c| c.0.to_owned()).unwrap_or_else(|| "#a78bfa".to_owned());
    }
    let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
    for (c, wgt) in colors {
        let p = parse_hex(c);
        r += f64::from(p.0) * wgt;
        g += f64::from(p.1) * wgt;
        b += f64::from(p.2) * wgt;
    }
    format!(
        "#{:02x}{:02x}{:02x}",
        (r / total).round() as u8,
        (g / total).round() as u8,
        (b / total).round() as u8
    )
}

fn parse_hex(c: &str) -> (u8, u8, u8) {
    let h = c.trim_start_matches('#');
    let p = |i: usize| h.get(i..i + 2).and_then(|x| u8::from_str_radix(x, 16).ok()).unwrap_or(0);
    (p(0), p(2), p(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blend_and_mix() {
        assert_eq!(blend("#000000", "#ffffff", 0.5), "#808080");
        assert_eq!(blend("#27272a", "#00c8ff", 1.0), "#00c8ff");
        assert_eq!(mix_weighted(&[("#ff0000", 1.0), ("#0000ff", 3.0)]), "#4000bf");
    }

    #[test]
    fn ticks_are_round_and_never_more_than_asked() {
        assert_eq!(nice_ticks(240.0, 540.0, 4), (200.0, 600.0, 100.0));
        assert_eq!(nice_ticks(400.0, 412.0, 4), (400.0, 415.0, 5.0));
        assert_eq!(nice_ticks(0.0, 800.0, 4), (0.0, 800.0, 200.0));
        // 95–201 bpm would take six 20 bpm steps: four 50 bpm steps instead.
        assert_eq!(nice_ticks(95.0, 201.0, 4), (50.0, 250.0, 50.0));
        assert_eq!(nice_ticks(85.0, 180.0, 4), (50.0, 200.0, 50.0));
    }

    #[test]
    fn a_series_flat_but_for_its_last_bit_gets_a_few_round_ticks() {
        // A real file's elevation: every sample -9.200000000000001 or -9.2. A step of
        // 5e-16 once made the tick loop spin for ever.
        let (lo, hi, step) = nice_ticks(-9.200000000000001, -9.2, 4);
        assert_eq!((lo, hi, step), (-10.0, -9.0, 1.0));
        assert_eq!(nice_ticks(f64::NAN, 3.0, 4), (0.0, 1.0, 1.0));
        let pts: Vec<(f64, f64, usize)> = (0..50)
            .map(|i| (f64::from(i), if i % 2 == 0 { -9.2 } else { -9.200000000000001 }, i as usize))
            .collect();
        let spec = ChartSpec {
            label: "Elevation (m)",
            color: "#0ea5e9",
            y: YFormat::Number,
            x: XAxis::Time,
            x_labels: true,
            fit: true,
            area: true,
            summary: String::new(),
        };
        let svg = line_chart(&pts, &spec).expect("a chart");
        assert!(svg.matches("class=\"tick\"").count() <= 8, "{svg}");
    }

    #[test]
    fn decimation_keeps_each_columns_extremes_in_order_and_skips_nulls() {
        // Ten samples over two columns (x 0..=4 → column 0, x 5..=9 → column 1 of 1).
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys: Vec<Option<f64>> = [3.0, 9.0, 1.0, 5.0, 4.0, 2.0, 7.0, 0.0, 6.0, 5.0]
            .into_iter()
            .enumerate()
            .map(|(i, y)| (i != 1).then_some(y))
            .collect();
        let d = decimate(&xs, &ys, 1);
        // Column 0 (x ≤ 4): first sample 3, min 1 at index 2, max 5 at index 3 (9 is a null).
        // Column 1: min 0 at index 7, max 7 at index 6, written in recording order; then the
        // last sample.
        assert_eq!(
            d,
            vec![
                (0.0, 3.0, 0),
                (2.0, 1.0, 2),
                (3.0, 5.0, 3),
                (6.0, 7.0, 6),
                (7.0, 0.0, 7),
                (9.0, 5.0, 9)
            ]
        );
        assert!(decimate(&xs, &[None; 10], 5).is_empty());
    }

    #[test]
    fn push_int_writes_as_display_does() {
        for v in [0, 1, -1, 9, 10, -10, 538, -538, 99_999, i64::MAX, i64::MIN, i64::MIN + 1] {
            let mut d = String::from("x");
            push_int(&mut d, v);
            assert_eq!(d, format!("x{v}"));
        }
    }

    #[test]
    fn relative_path_joins_steps_and_drops_repeats() {
        let pts =
            [(52.0, 10.0), (53.0, 10.0), (54.0, 10.0), (54.0, 10.0), (55.0, 12.0), (56.0, 9.0)];
        assert_eq!(relative_path(&pts), "M52,10l2 0 1 2 1-3");
        assert_eq!(relative_path(&[(52.0, 10.0), (52.0, 10.0)]), "M52,10h0");
        // A step back (opposite direction) is not joined with the step before it; vertical
        // steps are `v`, and `l` comes back for the next diagonal one.
        assert_eq!(relative_path(&[(1.0, 1.0), (1.0, 5.0), (1.0, 2.0)]), "M1,1v4-3");
        assert_eq!(
            relative_path(&[(1.0, 1.0), (2.0, 3.0), (2.0, 9.0), (3.0, 8.0), (3.0, 2.0)]),
            "M1,1l1 2v6l1-1v-6"
        );
    }

    /// The absolute points of a chart's line, read back from its `d` (`M x,y l dx dy …`).
    fn path_points(svg: &str) -> Vec<(i64, i64)> {
        let d = svg
            .split("<path d=\"")
            .last()
            .and_then(|p| p.split_once('"'))
            .map(|(d, _)| d)
            .expect("a line path");
        let body = d.trim_start_matches('M');
        let split = body.find(['l', 'v']).unwrap_or(body.len());
        let (x, y) = body[..split].split_once(',').expect("M x,y");
        let mut cur = (x.parse::<i64>().expect("x"), y.parse::<i64>().expect("y"));
        let mut out = vec![cur];
        // (command, numbers) runs.
        let mut runs: Vec<(char, Vec<i64>)> = Vec::new();
        let mut tok = String::new();
        for ch in body[split..].chars().chain([' ']) {
            if (ch == ' ' || ch == ',' || ch == '-' || ch == 'l' || ch == 'v') && !tok.is_empty() {
                runs.last_mut().expect("a command").1.push(tok.parse().expect("a number"));
                tok.clear();
            }
            if ch == 'l' || ch == 'v' {
                runs.push((ch, Vec::new()));
            } else if ch == '-' || ch.is_ascii_digit() {
                tok.push(ch);
            }
        }
        for (cmd, nums) in runs {
            if cmd == 'v' {
                for dy in nums {
                    cur.1 += dy;
                    out.push(cur);
                }
            } else {
                for s in nums.chunks(2) {
                    cur = (cur.0 + s[0], cur.1 + s[1]);
                    out.push(cur);
                }
            }
        }
        out
    }

    /// `decimate` as it was written first, one channel at a time with nothing kept: the
    /// faster one must give exactly the same points.
    fn reference_decimate(
        xs: &[f64],
        ys: &[Option<f64>],
        columns: usize,
    ) -> Vec<(f64, f64, usize)> {
        let valid = |i: usize| match (xs.get(i), ys.get(i)) {
            (Some(x), Some(Some(y))) if x.is_finite() && y.is_finite() => Some((*x, *y)),
            _ => None,
        };
        let len = xs.len().min(ys.len());
        let Some(first) = (0..len).find(|i| valid(*i).is_some()) else { return Vec::new() };
        let last = (0..len).rev().find(|i| valid(*i).is_some()).unwrap_or(first);
        let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in first..=last {
            if let Some((x, _)) = valid(i) {
                x0 = x0.min(x);
                x1 = x1.max(x);
            }
        }
        let span = if x1 > x0 { x1 - x0 } else { 1.0 };
        let cols = columns.max(1) as f64;
        let column = |x: f64| ((x - x0) / span * cols).round() as i64;
        let mut out: Vec<(f64, f64, usize)> = Vec::new();
        if let Some((x, y)) = valid(first) {
            out.push((x, y, first));
        }
        type At = (usize, f64);
        let mut cur: Option<(i64, At, At)> = None;
        let flush = |out: &mut Vec<(f64, f64, usize)>, lo: At, hi: At| {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            for (i, y) in [a, b] {
                if out.last().is_none_or(|p| p.2 != i) {
                    out.push((xs[i], y, i));
                }
            }
        };
        for i in first..=last {
            let Some((x, y)) = valid(i) else { continue };
            let c = column(x);
            match &mut cur {
                Some((cc, lo, hi)) if *cc == c => {
                    if y < lo.1 {
                        *lo = (i, y);
                    }
                    if y > hi.1 {
                        *hi = (i, y);
                    }
                }
                _ => {
                    if let Some((_, lo, hi)) = cur {
                        flush(&mut out, lo, hi);
                    }
                    cur = Some((c, (i, y), (i, y)));
                }
            }
        }
        if let Some((_, lo, hi)) = cur {
            flush(&mut out, lo, hi);
        }
        if out.last().is_none_or(|p| p.2 != last)
            && let Some((x, y)) = valid(last)
        {
            out.push((x, y, last));
        }
        out
    }

    #[test]
    fn round_i64_rounds_as_round_does() {
        for v in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            537.5,
            537.4999999999999,
            4503599627370495.5,
            4503599627370497.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            3.999e15,
            4.0e15,
        ] {
            assert_eq!(round_i64(v), v.round() as i64, "{v}");
        }
    }

    proptest::proptest! {
        /// A run's first lowest and first highest finite value, found without checking each
        /// value is finite when none is infinite, are those the scan that checks finds:
        /// with `NaN`s, infinities, signed zeros and repeated values, in runs of any length.
        #[test]
        fn run_extremes_are_the_scans(
            ys in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::strategy::Strategy::prop_map(-20i32..20, |v| f64::from(v) / 4.0),
                    2 => proptest::strategy::Just(f64::NAN),
                    1 => proptest::strategy::Just(-0.0f64),
                    1 => proptest::strategy::Just(0.0f64),
                    1 => proptest::strategy::Just(f64::INFINITY),
                    1 => proptest::strategy::Just(f64::NEG_INFINITY),
                    2 => proptest::num::f64::ANY,
                ],
                0..40,
            ),
        ) {
            // Compared by bits, so a `-0.0` kept for a `0.0` would show.
            let bits = |r: Option<((usize, f64), (usize, f64))>| {
                r.map(|((a, x), (b, y))| (a, x.to_bits(), b, y.to_bits()))
            };
            let no_infinity = !ys.iter().any(|y| y.is_infinite());
            proptest::prop_assert_eq!(
                bits(run_extremes(&ys, no_infinity)),
                bits(run_extremes_scan(&ys))
            );
            // The same values without the infinities: the loop without the check.
            let finite: Vec<f64> =
                ys.iter().map(|y| if y.is_infinite() { f64::NAN } else { *y }).collect();
            proptest::prop_assert_eq!(
                bits(run_extremes(&finite, true)),
                bits(run_extremes_scan(&finite))
            );
        }

        #[test]
        fn round_i64_is_round_for_any_value(bits in proptest::num::u64::ANY, k in -2_000_000i64..2_000_000) {
            let v = f64::from_bits(bits);
            proptest::prop_assert_eq!(round_i64(v), v.round() as i64);
            // Halves and their neighbours, where rounding is decided.
            let h = k as f64 + 0.5;
            for v in [h, h.next_up(), h.next_down(), -h, (-h).next_up(), (-h).next_down()] {
                proptest::prop_assert_eq!(round_i64(v), v.round() as i64);
            }
        }

        /// `round_f64` and `Num` against what they replace: `round` to the bit (signed
        /// zeros included) and `{}` to the byte, on any value and on whole values, halves
        /// and their neighbours.
        #[test]
        fn chart_numbers_round_and_print_as_before(bits in proptest::num::u64::ANY, k in -2_000_000_000i64..2_000_000_000) {
            let v = f64::from_bits(bits);
            let h = k as f64 / 2.0;
            for v in [v, h, h.next_up(), h.next_down(), -h, k as f64 * 1e6, -0.0, 0.0, 9.0e15, 2f64.powi(53) + 2.0] {
                proptest::prop_assert_eq!(round_f64(v).to_bits(), v.round().to_bits(), "{}", v);
                proptest::prop_assert_eq!(Num(v).to_string(), format!("{v}"));
                proptest::prop_assert_eq!(Num(v.round()).to_string(), format!("{}", v.round()));
            }
        }

        /// Channels drawn against one axis with one cache give what each gives alone, whether
        /// or not they share their first and last sample.
        #[test]
        fn shared_columns_decimate_as_alone(
            xs in proptest::collection::vec(-1000.0f64..100_000.0, 2..3000),
            a in proptest::collection::vec(proptest::option::weighted(0.95, -50.0f64..50.0), 3000),
            b in proptest::collection::vec(proptest::option::weighted(0.6, -50.0f64..50.0), 3000),
            columns in 1usize..600,
        ) {
            // In recording order (time, distance) and not (the range is then searched).
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            // A distance axis: flat while stopped, from 0.
            let flat: Vec<f64> = xs
                .iter()
                .scan(0.0, |acc, x| {
                    *acc += (x.max(0.0) / 20_000.0).floor();
                    Some(*acc)
                })
                .collect();
            // Signed zeros, which `min` and `max` may order either way.
            let zeros: Vec<f64> = flat.iter().map(|x| if *x == 0.0 { -0.0 } else { *x }).collect();
            // A channel shorter than the axis, and one whose values include infinities
            // (no value, as a null is).
            let short: Vec<Option<f64>> = b[..b.len() / 3].to_vec();
            let inf: Vec<Option<f64>> = a
                .iter()
                .enumerate()
                .map(|(i, v)| if i % 7 == 3 { v.map(|y| y * f64::INFINITY) } else { *v })
                .collect();
            // Whole values, so a column's lowest and highest come several times: the first
            // of each is kept.
            let ties: Vec<Option<f64>> = a.iter().map(|v| v.map(|y| (y / 10.0).round())).collect();
            // Ordered for the short channel's samples only.
            let mut prefix = sorted.clone();
            let cut = short.len().min(prefix.len());
            prefix[cut..].reverse();
            for xs in [&sorted, &xs, &flat, &zeros, &prefix] {
                let mut cache = Columns::default();
                let mut values = Columns::default();
                let mut out = Vec::new();
                for ys in [&short, &a, &b, &short, &a, &inf, &ties] {
                    let want = reference_decimate(xs, ys, columns);
                    let d = decimate_with(xs, ys, columns, &mut cache);
                    proptest::prop_assert_eq!(&d, &want);
                    proptest::prop_assert_eq!(d, decimate(xs, ys, columns));
                    let nan: Vec<f64> = ys.iter().map(|y| y.unwrap_or(f64::NAN)).collect();
                    decimate_values(xs, &nan, columns, &mut values, &mut out);
                    proptest::prop_assert_eq!(&out, &want);
                }
            }
        }

        /// The column runs of an ordered axis (searched for) are the runs of the column of
        /// every sample, computed one by one: evenly spaced, with pauses (flat), gaps and
        /// a single sample.
        #[test]
        fn column_runs_are_every_samples_column(
            steps in proptest::collection::vec(
                proptest::prop_oneof![proptest::strategy::Just(1.0f64), proptest::strategy::Just(0.0), 0.0f64..5.0, 100.0f64..5000.0],
                0..4000,
            ),
            start in -100.0f64..100.0,
            columns in 1usize..700,
            cut in 0.0f64..0.5,
        ) {
            let xs: Vec<f64> = steps
                .iter()
                .scan(start, |acc, d| {
                    *acc += d;
                    Some(*acc)
                })
                .collect();
            if xs.is_empty() {
                let mut out = vec![(0, 1)];
                column_runs(&xs, 0.0, 1.0, columns, &mut out);
                proptest::prop_assert!(out.is_empty());
                return Ok(());
            }
            // The range of the whole axis, and of a part of it (a channel recorded for
            // part of the activity: samples fall before and after it).
            let n = xs.len();
            let (a, b) = ((n as f64 * cut) as usize, n - 1 - (n as f64 * cut) as usize);
            for (x0, x1) in [(xs[0], xs[n - 1]), (xs[a.min(b)], xs[b.max(a)])] {
                let span = if x1 > x0 { x1 - x0 } else { 1.0 };
                let col = |x: f64| ((x - x0) / span * columns as f64).round() as i64;
                let mut want: Vec<(i64, usize)> = Vec::new();
                for (i, x) in xs.iter().enumerate() {
                    match want.last_mut() {
                        Some((c, end)) if *c == col(*x) => *end = i + 1,
                        _ => want.push((col(*x), i + 1)),
                    }
                }
                let mut out = Vec::new();
                column_runs(&xs, x0, x1, columns, &mut out);
                proptest::prop_assert_eq!(out, want);
            }
        }
    }

    proptest::proptest! {
        /// Whatever the series (spikes, nulls, plateaus, any length), the decimated line has
        /// at most two points a column (plus the first and last sample), the same y range as
        /// the series, and in every column the same lowest and highest value as the samples
        /// drawn in it.
        #[test]
        fn decimated_line_keeps_every_columns_min_and_max(
            ys in proptest::collection::vec(proptest::option::weighted(0.9, -500.0f64..2000.0), 2..4000),
            columns in 1usize..600,
        ) {
            let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
            let d = decimate(&xs, &ys, columns);
            let valid: Vec<(usize, f64)> =
                ys.iter().enumerate().filter_map(|(i, y)| y.map(|y| (i, y))).collect();
            if valid.is_empty() {
                proptest::prop_assert!(d.is_empty());
                return Ok(());
            }
            proptest::prop_assert!(d.len() <= 2 * (columns + 1) + 2, "{} points", d.len());
            proptest::prop_assert!(d.windows(2).all(|w| w[0].2 < w[1].2), "recording order");
            let (x0, x1) = (valid[0].0 as f64, valid[valid.len() - 1].0 as f64);
            proptest::prop_assert_eq!((d[0].0, d[d.len() - 1].0), (x0, x1));
            let span = if x1 > x0 { x1 - x0 } else { 1.0 };
            let col = |x: f64| ((x - x0) / span * columns as f64).round() as i64;
            let mut want: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
            for (i, y) in &valid {
                let e = want.entry(col(*i as f64)).or_insert((*y, *y));
                *e = (e.0.min(*y), e.1.max(*y));
            }
            let mut got: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
            for (x, y, i) in &d {
                proptest::prop_assert_eq!(ys[*i], Some(*y));
                let e = got.entry(col(*x)).or_insert((*y, *y));
                *e = (e.0.min(*y), e.1.max(*y));
            }
            proptest::prop_assert_eq!(got, want);
        }

        /// Drawn, the decimated line spans the series' exact y range: its highest and lowest
        /// points sit where the series' max and min map to on the axis.
        #[test]
        fn chart_y_extent_is_the_series_range(
            ys in proptest::collection::vec(0.0f64..1000.0, 600..5000),
        ) {
            let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
            let opt: Vec<Option<f64>> = ys.iter().copied().map(Some).collect();
            let spec = ChartSpec {
                label: "Power (W)",
                color: "#eab308",
                y: YFormat::Number,
                x: XAxis::Time,
                x_labels: false,
                fit: true,
                area: false,
                summary: String::new(),
            };
            let svg = line_chart(&decimate(&xs, &opt, CHART_COLUMNS), &spec).expect("a chart");
            let (lo, hi) = min_max(&ys);
            let (y0, y1, _) = nice_ticks(lo, hi, 4);
            let (h, mt, mb) = (134.0, 16.0, 12.0);
            let py = |y: f64| (mt + (1.0 - (y - y0) / (y1 - y0)) * (h - mt - mb)).round() as i64;
            let pts = path_points(&svg);
            let top = pts.iter().map(|p| p.1).min().expect("points");
            let bottom = pts.iter().map(|p| p.1).max().expect("points");
            proptest::prop_assert_eq!((top, bottom), (py(hi), py(lo)));
            let (left, right) = (pts[0].0, pts.iter().map(|p| p.0).max().expect("points"));
            proptest::prop_assert_eq!((left, right), (CHART_ML as i64, (CHART_W - CHART_MR) as i64));
            proptest::prop_assert!(pts.len() <= 2 * (CHART_COLUMNS + 1) + 2);
        }
    }

    #[test]
    fn thumbnail_fits_the_box() {
        let svg = thumbnail(&[[45.0, 7.0], [45.01, 7.02], [45.02, 7.0]], "#00c8ff").unwrap();
        assert!(svg.contains("viewBox=\"0 0 120 70\""));
        let nums: Vec<f64> =
            svg.split(['M', 'L', ',', '"']).filter_map(|t| t.parse::<f64>().ok()).collect();
        assert!(nums.iter().all(|v| (0.0..=120.0).contains(v)), "{nums:?}");
        assert!(thumbnail(&[[45.0, 7.0]], "#fff").is_none());
    }

    #[test]
    fn zone_and_power_curve_charts_carry_their_figures_as_text() {
        let rows = [
            ZoneBar {
                label: "Z1 Recovery".into(),
                value: "12 min".into(),
                fraction: 0.2,
                color: "#888".into(),
            },
            ZoneBar {
                label: "Z2 Endurance".into(),
                value: "1:05".into(),
                fraction: 0.8,
                color: "#888".into(),
            },
        ];
        let svg = zone_bars(&rows);
        assert!(
            svg.contains("<title>Time in zones: Z1 Recovery 12 min, Z2 Endurance 1:05</title>"),
            "{svg}"
        );
        let ride = [(1, 910), (5, 850), (60, 420), (300, 310), (1200, 265)];
        let best = [(7, 700), (45, 480)];
        let lines = [
            CurveLine { name: "This activity", color: "#fff", points: &ride },
            CurveLine { name: "All-time best", color: "#aaa", points: &best },
        ];
        let svg = power_curve(&lines, None).unwrap();
        assert!(
            svg.contains("<title>Power curve. This activity: 1s 910 W, 1min 420 W, 5min 310 W, 20min 265 W; All-time best: 7s 700 W, 45s 480 W</title>"),
            "{svg}"
        );
    }

    #[test]
    fn strings_are_escaped_where_they_enter_the_svg() {
        let name = r#"S1</title><meta http-equiv=refresh content="0;url=/x">"#;
        let pts = [(1, 300), (60, 250)];
        let svg = power_curve(&[CurveLine { name, color: "#fff", points: &pts }], None).unwrap();
        assert!(!svg.contains("S1</title>"), "{svg}");
        assert_eq!(
            svg.matches("<title>S1&lt;/title&gt;&lt;meta http-equiv=refresh content=&quot;0;url=/x&quot;&gt;").count(),
            3,
            "line and both points: {svg}"
        );
        let cell = DayCell {
            ordinal0: 3,
            color: "#fff".into(),
            opacity: 1.0,
            title: "1 June — <b>x</b>\n🚴 \"><img src=x>".into(),
            href: "/a/?x=\"y\"".into(),
        };
        let svg = heatmap(2024, 0, 366, &[cell]);
        assert!(
            svg.contains(r#"<a href="/a/?x=&quot;y&quot;"><rect"#)
                && svg.contains(
                    "<title>1 June — &lt;b&gt;x&lt;/b&gt;\n🚴 &quot;&gt;&lt;img src=x&gt;</title>"
                ),
            "{svg}"
        );
        let bars = zone_bars(&[ZoneBar {
            label: "<Z1>".into(),
            value: "1 & 2".into(),
            fraction: 0.5,
            color: "red\"".into(),
        }]);
        assert!(
            bars.contains(">&lt;Z1&gt;</text>") && bars.contains(">1 &amp; 2</text>"),
            "{bars}"
        );
        assert!(bars.contains(r#"fill="red&quot;""#), "{bars}");
    }

    #[test]
    fn heatmap_starts_weeks_on_monday() {
        // 2024-01-01 was a Monday: day 0 sits in column 0, row 0.
        let cells = [DayCell {
            ordinal0: 0,
            color: "#ff0000".into(),
            opacity: 0.5,
            title: "x".into(),
            href: "/a/".into(),
        }];
        let svg = heatmap(2024, 0, 366, &cells);
        assert!(svg.contains(r##"<rect x="28" y="14" width="10" height="10" rx="2" fill="#ff0000" fill-opacity="0.5">"##), "{svg}");
        // 2024 starts on a Monday: the first column is a full week of pattern cells, and
        // 31 Dec 2024 (day 365, a Tuesday) ends the last column after two rows.
        assert!(
            svg.contains(r#"<rect x="28" y="14" width="13" height="91" fill="url(#hm-2024)"/>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<rect x="704" y="14" width="13" height="26" fill="url(#hm-2024)"/>"#),
            "{svg}"
        );
    }
}
