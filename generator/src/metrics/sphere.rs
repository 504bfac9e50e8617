//! Great-circle distance on the sphere every BAS distance uses. A leaf module: the distance
//! total, the per-sample series and the geometry helpers all build on it.

/// Mean Earth radius (m) used by every distance in BAS.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Great-circle distance (m) between two `(lat, lon)` points in degrees.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dphi = (lat2 - lat1).to_radians();
    let dlam = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlam / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.min(1.0).sqrt().asin()
}

/// [`haversine_m`] with the cosines of both latitudes already known (they are computed
/// once per point when walking a track, which saves a third of the trigonometry).
pub fn haversine_cos_m(
    lat1: f64,
    lon1: f64,
    cos_lat1: f64,
    lat2: f64,
    lon2: f64,
    cos_lat2: f64,
) -> f64 {
    let dphi = (lat2 - lat1).to_radians();
    let dlam = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + cos_lat1 * cos_lat2 * (dlam / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.min(1.0).sqrt().asin()
}
