//! Terrain tile folders: finding and reading SRTM tiles (`.hgt`, `.hgt.gz`, `.hgt.zip`) and
//! Copernicus GeoTIFF tiles (decoded in [`super::geotiff`]; the tile in memory, its voids and
//! its interpolation are [`super::tile`]'s), with a small on-demand cache.
//!
//! A tile `N46E013.hgt` covers latitudes 46–47° N and longitudes 13–14° E: a square grid of
//! big-endian `i16` metres, the north row first, with the tile's edges on both sides (3601²
//! samples at 1″, 1201² at 3″; the resolution is read from the size). −32768 marks a void.
//! Voids are filled once at load from their neighbours, so interpolation never meets one.
//!
//! Tiles are read whole into memory (no memory mapping: the workspace forbids `unsafe`) and
//! at most [`CACHE_TILES`] are kept, so a ride across many tiles never holds them all.
//!
//! When a folder holds both kinds for the same square, the Copernicus GLO-30 tile is used
//! (newer, void-free, not rounded to whole metres), then SRTM, then Copernicus GLO-90.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::tile::{
    DemError, Grid, Heights, Tile, VOID, parse_tile_name, tile_corner, tile_name,
};

/// Tiles kept in memory at once (a 1″ SRTM tile is 26 MB, a Copernicus GLO-30 one 52 MB).
pub const CACHE_TILES: usize = 4;

/// The names a tile may have on disk, in the order they are tried.
fn candidates(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in [name.to_owned(), name.to_ascii_lowercase()] {
        for ext in [".hgt", ".hgt.gz", ".hgt.zip", ".SRTMGL1.hgt.zip", ".SRTMGL3.hgt.zip"] {
            out.push(dir.join(format!("{base}{ext}")));
        }
    }
    out
}

/// The Copernicus names first (see the module doc for the order), each as a file in the
/// folder or inside a folder of the same name; then SRTM's.
fn all_candidates(dir: &Path, corner: (i32, i32)) -> Vec<PathBuf> {
    let copernicus = super::geotiff::tile_names(corner);
    let mut out = Vec::new();
    let mut add = |name: &str| {
        out.push(dir.join(format!("{name}.tif")));
        out.push(dir.join(name).join(format!("{name}.tif")));
    };
    add(&copernicus[0]);
    let mut out2 = candidates(dir, &tile_name(corner));
    out.append(&mut out2);
    for name in &copernicus[1..] {
        out.push(dir.join(format!("{name}.tif")));
        out.push(dir.join(name).join(format!("{name}.tif")));
    }
    out
}

fn read_tile_file(path: &Path, corner: (i32, i32)) -> Result<Tile, DemError> {
    let io = |source| DemError::Io { path: path.to_path_buf(), source };
    let raw = std::fs::read(path).map_err(io)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase());
    if name.as_deref().is_some_and(|n| n.ends_with(".tif") || n.ends_with(".tiff")) {
        return super::geotiff::read(corner, &raw, path);
    }
    let bytes = match name.as_deref() {
        Some(n) if n.ends_with(".gz") => {
            let mut out = Vec::with_capacity(3601 * 3601 * 2);
            flate2::read::GzDecoder::new(raw.as_slice())
                .take(3601 * 3601 * 2 + 1)
                .read_to_end(&mut out)
                .map_err(io)?;
            out
        }
        Some(n) if n.ends_with(".zip") => unzip_hgt(path, &raw)?,
        _ => raw,
    };
    Tile::from_hgt(corner, &bytes, path)
}

/// The first `.hgt` member of a zip archive (as NASA and viewfinderpanoramas distribute them).
fn unzip_hgt(path: &Path, raw: &[u8]) -> Result<Vec<u8>, DemError> {
    let zip_err = |reason: String| DemError::Zip { path: path.to_path_buf(), reason };
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(raw)).map_err(|e| zip_err(e.to_string()))?;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| zip_err(e.to_string()))?;
        if !file.name().to_ascii_lowercase().ends_with(".hgt") {
            continue;
        }
        let mut out = Vec::with_capacity(3601 * 3601 * 2);
        // Capped: a hostile archive cannot expand beyond one 1″ tile and a byte.
        (&mut file)
            .take(3601 * 3601 * 2 + 1)
            .read_to_end(&mut out)
            .map_err(|e| zip_err(e.to_string()))?;
        return Ok(out);
    }
    Err(zip_err("no .hgt file inside".to_owned()))
}

/// A tile's corner and the tile, `None` when the folder has no such tile.
type CachedTile = ((i32, i32), Option<Arc<Tile>>);

/// A folder of terrain tiles (SRTM or Copernicus), read on demand.
#[derive(Debug)]
pub struct DemDir {
    dir: PathBuf,
    /// Most recently used first; `None` for a tile that is not in the folder.
    cache: Vec<CachedTile>,
    /// Tiles loaded from disk so far (for reports and tests of the cache).
    pub loads: usize,
}

impl DemDir {
    /// A tile folder (not read until a point needs it).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), cache: Vec::new(), loads: 0 }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The tile with this corner, `None` when the folder has no such tile.
    pub fn tile(&mut self, corner: (i32, i32)) -> Result<Option<Arc<Tile>>, DemError> {
        if let Some(pos) = self.cache.iter().position(|(c, _)| *c == corner) {
            let entry = self.cache.remove(pos);
            let tile = entry.1.clone();
            self.cache.insert(0, entry);
            return Ok(tile);
        }
        let path = all_candidates(&self.dir, corner).into_iter().find(|p| p.is_file());
        let tile = match path {
            Some(p) => {
                self.loads += 1;
                Some(Arc::new(read_tile_file(&p, corner)?))
            }
            None => None,
        };
        self.cache.insert(0, (corner, tile.clone()));
        // Missing tiles cost nothing to remember; only loaded ones count against the cap.
        let mut loaded = 0;
        self.cache.retain(|(_, t)| {
            loaded += usize::from(t.is_some());
            t.is_none() || loaded <= CACHE_TILES
        });
        Ok(tile)
    }

    /// Heights at each point (`None` where no tile covers it). Consecutive points in one
    /// tile reuse it without a cache look-up.
    pub fn elevations(&mut self, points: &[(f64, f64)]) -> Result<Vec<Option<f64>>, DemError> {
        let mut out = Vec::with_capacity(points.len());
        let mut current: Option<CachedTile> = None;
        for &(lat, lon) in points {
            if !(lat.is_finite() && lon.is_finite() && lat.abs() < 90.0 && lon.abs() <= 180.0) {
                out.push(None);
                continue;
            }
            let corner = tile_corner(lat, lon);
            let tile = match &current {
                Some((c, t)) if *c == corner => t.clone(),
                _ => {
                    let t = self.tile(corner)?;
                    current = Some((corner, t.clone()));
                    t
                }
            };
            out.push(tile.map(|t| t.elevation(lat, lon)));
        }
        Ok(out)
    }
}

/// The bytes of a `.hgt` tile with `n` samples per side whose height at (row, col) is
/// `f(row, col)` (rounded to whole metres, as SRTM stores them). For tests and the bench.
pub fn encode_hgt(n: usize, f: impl Fn(usize, usize) -> f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * n * 2);
    for r in 0..n {
        for c in 0..n {
            let v = f(r, c);
            let v = if v.is_nan() { VOID } else { v.round().clamp(-32767.0, 32767.0) as i16 };
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tile_of(n: usize, corner: (i32, i32), f: impl Fn(usize, usize) -> f64) -> Tile {
        Tile::from_hgt(corner, &encode_hgt(n, f), Path::new("t.hgt")).expect("tile")
    }

    /// A grid of any size (the arithmetic is the same as for 1201 or 3601 nodes), so the
    /// property tests do not build a full tile per case.
    fn grid(n: usize, corner: (i32, i32), f: impl Fn(usize, usize) -> f64) -> Tile {
        let h = (0..n * n).map(|i| f(i / n, i % n) as i16).collect();
        let per_deg = (n - 1) as f64;
        let grid = Grid {
            lat0: f64::from(corner.0) + 1.0,
            lon0: f64::from(corner.1),
            rows_per_deg: per_deg,
            cols_per_deg: per_deg,
        };
        Tile::new(n, n, grid, Heights::I16(h), None, Path::new("grid.hgt")).expect("grid")
    }

    #[test]
    fn names_across_hemispheres() {
        assert_eq!(tile_name(tile_corner(46.5, 13.2)), "N46E013");
        assert_eq!(tile_name(tile_corner(-0.5, -71.5)), "S01W072");
        assert_eq!(tile_name(tile_corner(-33.9, 151.2)), "S34E151");
        assert_eq!(tile_name(tile_corner(40.7, -74.0)), "N40W074");
        assert_eq!(tile_name(tile_corner(0.0, 0.0)), "N00E000");
        assert_eq!(tile_name(tile_corner(-0.0001, -0.0001)), "S01W001");
        assert_eq!(parse_tile_name("s01w072.hgt.zip"), Some((-1, -72)));
        assert_eq!(parse_tile_name("N46E013"), Some((46, 13)));
        assert_eq!(parse_tile_name("X46E013"), None);
        assert_eq!(parse_tile_name("N4"), None);
    }

    proptest! {
        #[test]
        fn tile_names_round_trip_and_contain_the_point(lat in -89.999f64..89.999, lon in -180.0f64..179.999) {
            let corner = tile_corner(lat, lon);
            let name = tile_name(corner);
            prop_assert_eq!(parse_tile_name(&name), Some(corner));
            prop_assert!(f64::from(corner.0) <= lat && lat < f64::from(corner.0) + 1.0);
            prop_assert!(f64::from(corner.1) <= lon && lon < f64::from(corner.1) + 1.0);
            prop_assert_eq!(name.starts_with('S'), lat < 0.0);
            prop_assert_eq!(name.contains('W'), lon < 0.0);
        }

        #[test]
        fn interpolation_is_exact_at_nodes_and_within_the_cell(
            seed in 0u64..1_000_000, row in 0usize..11, col in 0usize..11,
            fr in 0.0f64..1.0, fc in 0.0f64..1.0, south in any::<bool>(), west in any::<bool>(),
        ) {
            // A small grid of pseudo-random whole-metre heights.
            let h = |r: usize, c: usize| {
                let x = (r as u64 * 7919 + c as u64 * 104_729 + seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                f64::from(((x >> 40) % 4000) as i32 - 500)
            };
            let corner = (if south { -12 } else { 46 }, if west { -72 } else { 13 });
            let t = grid(12, corner, h);
            let step = 1.0 / 11.0;
            let lat_of = |r: f64| f64::from(corner.0) + 1.0 - r * step;
            let lon_of = |c: f64| f64::from(corner.1) + c * step;
            // Exact at a node.
            prop_assert!((t.elevation(lat_of(row as f64), lon_of(col as f64)) - h(row, col)).abs() < 1e-6);
            // Within the range of the cell's four corners anywhere inside it.
            let v = t.elevation(lat_of(row as f64 + fr), lon_of(col as f64 + fc));
            let corners = [h(row, col), h(row, col + 1), h(row + 1, col), h(row + 1, col + 1)];
            let lo = corners.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = corners.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(v >= lo - 1e-6 && v <= hi + 1e-6, "{v} not in [{lo}, {hi}]");
        }
    }

    #[test]
    fn voids_are_filled_from_neighbours_and_sizes_are_checked() {
        let t = tile_of(1201, (46, 13), |r, c| {
            if (100..103).contains(&r) && (200..203).contains(&c) { f64::NAN } else { 500.0 }
        });
        assert_eq!(t.node(101, 201), 500.0);
        assert_eq!(t.size(), 1201);
        let all_void = encode_hgt(1201, |_, _| f64::NAN);
        assert!(matches!(
            Tile::from_hgt((0, 0), &all_void, Path::new("v.hgt")),
            Err(DemError::AllVoid { .. })
        ));
        let err = Tile::from_hgt((0, 0), &[0u8; 1000], Path::new("/x/bad.hgt")).unwrap_err();
        assert!(err.to_string().contains("/x/bad.hgt"), "{err}");
    }

    #[test]
    fn reads_plain_gzip_and_zip_tiles_and_caches_few() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = |base: f64| encode_hgt(1201, move |r, c| base + (r + c) as f64 * 0.5);
        std::fs::write(dir.path().join("N46E013.hgt"), bytes(100.0)).expect("write");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes(200.0)).expect("gz");
        std::fs::write(dir.path().join("S01W072.hgt.gz"), gz.finish().expect("gz")).expect("w");
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zw.start_file("N47E013.hgt", zip::write::SimpleFileOptions::default()).expect("zip");
        zw.write_all(&bytes(300.0)).expect("zip");
        let zipped = zw.finish().expect("zip").into_inner();
        std::fs::write(dir.path().join("N47E013.SRTMGL3.hgt.zip"), zipped).expect("w");

        let mut dem = DemDir::new(dir.path());
        let pts = [(46.0 + 1e-9, 13.0), (-1.0 + 1e-9, -72.0), (47.999_999_9, 13.0), (10.0, 10.0)];
        let got = dem.elevations(&pts).expect("elevations");
        // South-west corner = last row, first column: base + 1200 × 0.5.
        assert!((got[0].expect("plain") - 700.0).abs() < 0.01, "{got:?}");
        assert!((got[1].expect("gz") - 800.0).abs() < 0.01, "{got:?}");
        // North-west corner: row 0, column 0.
        assert!((got[2].expect("zip") - 300.0).abs() < 0.01, "{got:?}");
        assert_eq!(got[3], None);
        assert_eq!(dem.loads, 3);
        // Cached: no second load.
        dem.elevations(&pts).expect("again");
        assert_eq!(dem.loads, 3);
    }
}
