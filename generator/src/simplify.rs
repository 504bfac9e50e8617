//! Track simplification (Ramer–Douglas–Peucker) and card previews.
//!
//! RDP works on `[lon, lat]` degrees treated as planar, as the reference does
//! (docs/decisions.md A2), so a given ε keeps the same points: at mid latitudes
//! 0.0001° is about 7–11 m, well below what a feed map or activity map can show. It is
//! iterative with an explicit stack (no recursion depth limit on 100k-point tracks) and
//! compares squared distances. Cost is O(n log n) for real tracks, O(n²) only for
//! pathological shapes (a spiral where every split peels off one point).

use crate::metrics::round_dp;

/// ε (degrees) of the published GeoJSON track.
pub const TRACK_EPSILON_DEG: f64 = 0.0001;
/// ε (degrees) of the first pass of the card preview.
pub const PREVIEW_EPSILON_DEG: f64 = 0.001;
/// Most points a card preview holds.
pub const PREVIEW_MAX_POINTS: usize = 20;
/// Decimal places of preview coordinates (~1 m).
pub const PREVIEW_DP: i32 = 5;

/// Squared distance from `p` to the segment `a`–`b` (projection clamped to the segment;
/// a zero-length segment uses the distance to `a`).
fn seg_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let (px, py) = if len2 > 0.0 {
        let u = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
        (a[0] + u * dx, a[1] + u * dy)
    } else {
        (a[0], a[1])
    };
    let (ex, ey) = (p[0] - px, p[1] - py);
    ex * ex + ey * ey
}

/// RDP keep-mask over `[x, y]` points: both endpoints are always kept; an interior point
/// is kept when it is the farthest (first of equals) from its span's chord and at least
/// `epsilon` away. Fewer than three points are all kept; ε ≤ 0 keeps every point.
pub fn rdp_mask(points: &[[f64; 2]], epsilon: f64) -> Vec<bool> {
    let n = points.len();
    if n < 3 {
        return vec![true; n];
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let eps2 = if epsilon > 0.0 { epsilon * epsilon } else { 0.0 };
    let mut stack: Vec<(usize, usize)> = vec![(0, n - 1)];
    while let Some((s, e)) = stack.pop() {
        if e < s + 2 {
            continue;
        }
        let (a, b) = (points[s], points[e]);
        let mut best = (s + 1, -1.0_f64);
        for (i, p) in points.iter().enumerate().take(e).skip(s + 1) {
            let d2 = seg_dist2(*p, a, b);
            if d2 > best.1 {
                best = (i, d2);
            }
        }
        // NaN distances (non-finite input) compare false and keep nothing.
        if best.1 >= eps2 {
            keep[best.0] = true;
            stack.push((s, best.0));
            stack.push((best.0, e));
        }
    }
    keep
}

/// The indices RDP keeps, strictly increasing.
pub fn rdp_indices(points: &[[f64; 2]], epsilon: f64) -> Vec<usize> {
    rdp_mask(points, epsilon).iter().enumerate().filter_map(|(i, k)| k.then_some(i)).collect()
}

/// Card preview from `[lat, lon]` points in track order: RDP at [`PREVIEW_EPSILON_DEG`],
/// then, when more than `max_points` remain, `max_points − 1` evenly spaced picks plus the
/// last point. `[lat, lon]` pairs rounded to 5 dp; `None` below two points.
pub fn preview_coords(latlon: &[[f64; 2]], max_points: usize) -> Option<Vec<[f64; 2]>> {
    if latlon.len() < 2 || max_points < 2 {
        return None;
    }
    let lonlat: Vec<[f64; 2]> = latlon.iter().map(|p| [p[1], p[0]]).collect();
    let reduced: Vec<[f64; 2]> =
        rdp_indices(&lonlat, PREVIEW_EPSILON_DEG).into_iter().map(|i| latlon[i]).collect();
    let picked: Vec<[f64; 2]> = if reduced.len() > max_points {
        let step = reduced.len() as f64 / (max_points - 1) as f64;
        let mut v: Vec<[f64; 2]> =
            (0..max_points - 1).map(|i| reduced[(i as f64 * step) as usize]).collect();
        v.extend(latlon.last().copied());
        v
    } else {
        reduced
    };
    Some(
        picked
            .into_iter()
            .map(|p| [round_dp(p[0], PREVIEW_DP), round_dp(p[1], PREVIEW_DP)])
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    //! Ports of the reference's simplification tests (docs/decisions.md A2) for RDP and previews;
    //! the GeoJSON cases live with the builder in `crate::track`.
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn collinear_middle_is_dropped() {
        assert_eq!(rdp_mask(&[[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]], 0.001), vec![true, false, true]);
    }

    #[test]
    fn peak_is_kept_with_endpoints() {
        assert_eq!(rdp_mask(&[[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]], 0.001), vec![true, true, true]);
    }

    #[test]
    fn one_and_two_points_are_kept() {
        assert_eq!(rdp_mask(&[[1.0, 2.0]], 0.001), vec![true]);
        assert_eq!(rdp_mask(&[[1.0, 2.0], [3.0, 4.0]], 0.001), vec![true, true]);
        assert!(rdp_mask(&[], 0.001).is_empty());
    }

    #[test]
    fn epsilon_zero_keeps_collinear_points() {
        let pts: Vec<[f64; 2]> = (0..5).map(|i| [f64::from(i), 0.0]).collect();
        assert_eq!(rdp_mask(&pts, 0.0), vec![true; 5]);
    }

    #[test]
    fn straight_line_keeps_two_points() {
        // 5 points at lat 48.0 + 0.001 i, lon 11: only the ends survive ε = 0.0001.
        let pts: Vec<[f64; 2]> = (0..5).map(|i| [11.0, 48.0 + 0.001 * f64::from(i)]).collect();
        assert_eq!(rdp_indices(&pts, TRACK_EPSILON_DEG), vec![0, 4]);
    }

    #[test]
    fn l_shape_keeps_its_corner() {
        let latlon = [
            [48.000, 11.000],
            [48.001, 11.000],
            [48.002, 11.000],
            [48.002, 11.001],
            [48.002, 11.002],
        ];
        let lonlat: Vec<[f64; 2]> = latlon.iter().map(|p| [p[1], p[0]]).collect();
        assert_eq!(rdp_indices(&lonlat, TRACK_EPSILON_DEG), vec![0, 2, 4]);
    }

    #[test]
    fn preview_needs_two_points() {
        assert_eq!(preview_coords(&[], 20), None);
        assert_eq!(preview_coords(&[[48.0, 11.0]], 20), None);
    }

    #[test]
    fn preview_of_a_straight_line_is_its_ends() {
        let pts: Vec<[f64; 2]> = (0..100).map(|i| [48.0 + 0.001 * f64::from(i), 11.0]).collect();
        assert_eq!(preview_coords(&pts, 10), Some(vec![[48.0, 11.0], [48.099, 11.0]]));
    }

    #[test]
    fn preview_rounds_to_five_decimals_lat_first() {
        let pts = [[48.123456789, 11.987654321], [48.2, 12.0]];
        assert_eq!(preview_coords(&pts, 20), Some(vec![[48.12346, 11.98765], [48.2, 12.0]]));
    }

    #[test]
    fn preview_of_three_collinear_points() {
        let pts = [[48.0, 11.0], [48.1, 11.1], [48.2, 11.2]];
        assert_eq!(preview_coords(&pts, 20), Some(vec![[48.0, 11.0], [48.2, 11.2]]));
    }

    #[test]
    fn preview_of_a_zigzag_is_capped_and_keeps_the_last_point() {
        // 200 points zig-zagging 0.01° either side: RDP keeps all, sampling keeps 20.
        let pts: Vec<[f64; 2]> = (0..200)
            .map(|i| [48.0 + 0.001 * f64::from(i), 11.0 + 0.01 * f64::from(i % 2)])
            .collect();
        let p = preview_coords(&pts, 20).unwrap();
        assert_eq!(p.len(), 20);
        assert_eq!(p[0], [48.0, 11.0]);
        assert_eq!(p[19], [48.199, 11.01]);
        // Even picks: step 200/19, the 10th pick is index int(9 × 10.526) = 94.
        assert_eq!(p[9], [48.094, 11.0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// RDP keeps both endpoints and returns strictly increasing indices into the input.
        #[test]
        fn rdp_keeps_endpoints_and_returns_a_subset(
            pts in prop::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 0..300),
            eps in 0.0f64..0.05,
        ) {
            let pts: Vec<[f64; 2]> = pts.into_iter().map(|(x, y)| [x, y]).collect();
            let idx = rdp_indices(&pts, eps);
            if pts.is_empty() {
                prop_assert!(idx.is_empty());
            } else {
                prop_assert_eq!(idx[0], 0);
                prop_assert_eq!(*idx.last().unwrap(), pts.len() - 1);
                prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(idx.iter().all(|&i| i < pts.len()));
            }
        }

        /// Every dropped point lies within ε of the simplified polyline.
        #[test]
        fn rdp_dropped_points_are_within_epsilon(
            pts in prop::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 2..200),
            eps in 0.001f64..0.2,
        ) {
            let pts: Vec<[f64; 2]> = pts.into_iter().map(|(x, y)| [x, y]).collect();
            let idx = rdp_indices(&pts, eps);
            for w in idx.windows(2) {
                for p in &pts[w[0] + 1..w[1]] {
                    prop_assert!(seg_dist2(*p, pts[w[0]], pts[w[1]]).sqrt() < eps + 1e-12);
                }
            }
        }
    }
}
