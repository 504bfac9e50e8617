//! `bincio-dev bench elevation`: terrain look-ups per second on one core, once a tile is
//! loaded, and the cost of loading one (the goal is at least 1 million points per second).
//!
//! A 1″ and a 3″ SRTM tile and a Copernicus GLO-30 GeoTIFF tile (float32, tiled, DEFLATE
//! with the floating-point predictor, as distributed) of a synthetic surface are written to
//! a temporary folder, a meandering 1 Hz track inside each is looked up several times (the
//! first pass loads the tile and is timed separately), then the gain is measured on the
//! profile.

use anyhow::Context;
use bincio_gen::cmd::Outcome;
use bincio_gen::elevation::dem::{DemDir, encode_hgt};
use bincio_gen::elevation::geotiff::{encode_geotiff, glo30_layout, tile_names};
use bincio_gen::metrics::elevation::measure_dem;
use std::io::Write;
use std::time::Instant;

/// Points a second (one core) the look-up must reach once a tile is loaded.
pub const GOAL_POINTS_PER_S: f64 = 1_000_000.0;

/// Run the benchmark with `points` look-ups per round.
pub fn bench_elevation(points: usize, rounds: usize) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir().context("temporary folder")?;
    let surface = |lat: f64, lon: f64| {
        900.0 + 150.0 * (lat * 40.0).sin() * (lon * 30.0).cos() + 60.0 * ((lat + lon) * 70.0).sin()
    };
    let mut o = std::io::stdout().lock();
    writeln!(o, "bincio-dev bench elevation: {points} points × {rounds} rounds, 1 core")?;
    writeln!(
        o,
        "{:<6} {:>12} {:>14} {:>14} {:>10}",
        "tile", "load (ms)", "points/s", "gain pass/s", "goal"
    )?;
    let mut missed = false;
    for (k, (label, n, corner)) in
        [("1″", 3601usize, (46, 13)), ("3″", 1201usize, (47, 13)), ("GLO-30", 0, (46, 13))]
            .into_iter()
            .enumerate()
    {
        let dir = tmp.path().join(format!("t{k}"));
        std::fs::create_dir_all(&dir).context("mkdir")?;
        if n > 0 {
            let step = 1.0 / (n - 1) as f64;
            let bytes = encode_hgt(n, |r, c| {
                surface(
                    f64::from(corner.0) + 1.0 - r as f64 * step,
                    f64::from(corner.1) + c as f64 * step,
                )
            });
            let name = bincio_gen::elevation::dem::tile_name(corner);
            std::fs::write(dir.join(format!("{name}.hgt")), bytes).context("write tile")?;
        } else {
            let (rows, cols, (lat0, lon0), (per_r, per_c)) = glo30_layout(corner);
            let bytes = encode_geotiff(rows, cols, (lat0, lon0), (per_r, per_c), |r, c| {
                surface(lat0 - r as f64 / per_r, lon0 + c as f64 / per_c) as f32
            });
            let name = &tile_names(corner)[0];
            std::fs::write(dir.join(format!("{name}.tif")), bytes).context("write tile")?;
        }
        // A meandering track at ~8 m/s, wholly inside the tile.
        let pts: Vec<(f64, f64)> = (0..points)
            .map(|i| {
                let t = i as f64;
                let lat = f64::from(corner.0) + 0.5 + 0.3 * (t / 20_000.0).sin();
                let lon = f64::from(corner.1) + 0.5 + 0.3 * (t / 27_000.0).cos();
                (lat, lon)
            })
            .collect();
        let mut dem = DemDir::new(&dir);
        let t0 = Instant::now();
        dem.elevations(&pts[..1])?;
        let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = Instant::now();
        let mut profile = Vec::new();
        for _ in 0..rounds.max(1) {
            profile = dem.elevations(&pts)?;
        }
        let per_s = (points * rounds.max(1)) as f64 / t1.elapsed().as_secs_f64();
        let e: Vec<f64> = profile.into_iter().flatten().collect();
        let t2 = Instant::now();
        let g = measure_dem(&e);
        let gain_per_s = e.len() as f64 / t2.elapsed().as_secs_f64();
        let ok = per_s >= GOAL_POINTS_PER_S;
        missed |= !ok;
        writeln!(
            o,
            "{label:<6} {load_ms:>12.1} {per_s:>14.0} {gain_per_s:>14.0} {:>10}   (gain {:.0} m)",
            if ok { "ok" } else { "MISSED" },
            g.gain_m.unwrap_or(0.0)
        )?;
    }
    if missed {
        anyhow::bail!("fewer than {GOAL_POINTS_PER_S} points per second");
    }
    Ok(Outcome::Ok)
}
