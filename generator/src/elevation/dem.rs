//! Terrain tiles: SRTM naming and reading (`.hgt`, `.hgt.gz`, `.hgt.zip`), Copernicus
//! GeoTIFF tiles (read in [`super::geotiff`]), void filling, bilinear interpolation and a
//! small on-demand cache.
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

/// Tiles kept in memory at once (a 1″ SRTM tile is 26 MB, a Copernicus GLO-30 one 52 MB).
pub const CACHE_TILES: usize = 4;
/// The SRTM void marker.
pub const VOID: i16 = i16::MIN;

/// A tile that could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DemError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: {size} bytes is neither a 1\u{2033} (3601²) nor a 3\u{2033} (1201²) SRTM tile"
    )]
    Size { path: PathBuf, size: usize },
    #[error("{path}: zip archive: {reason}")]
    Zip { path: PathBuf, reason: String },
    #[error("{path}: every sample of the tile is void")]
    AllVoid { path: PathBuf },
    #[error("{path}: GeoTIFF: {reason}")]
    Tiff { path: PathBuf, reason: String },
}

/// The south-west corner (whole degrees) of the tile holding a point.
pub fn tile_corner(lat: f64, lon: f64) -> (i32, i32) {
    (lat.floor() as i32, lon.floor() as i32)
}

/// The SRTM name of the tile whose south-west corner is `(lat, lon)`: `N46E013`, `S01W072`.
pub fn tile_name(corner: (i32, i32)) -> String {
    let (lat, lon) = corner;
    let ns = if lat < 0 { 'S' } else { 'N' };
    let ew = if lon < 0 { 'W' } else { 'E' };
    format!("{ns}{:02}{ew}{:03}", lat.unsigned_abs(), lon.unsigned_abs())
}

/// The south-west corner named by an SRTM tile name (the inverse of [`tile_name`]; case
/// and any suffix after the seven characters are ignored).
pub fn parse_tile_name(name: &str) -> Option<(i32, i32)> {
    let b = name.as_bytes();
    if b.len() < 7 || !b[1..3].iter().chain(&b[4..7]).all(u8::is_ascii_digit) {
        return None;
    }
    let lat: i32 = name.get(1..3)?.parse().ok()?;
    let lon: i32 = name.get(4..7)?.parse().ok()?;
    let lat = match b[0].to_ascii_uppercase() {
        b'N' => lat,
        b'S' => -lat,
        _ => return None,
    };
    let lon = match b[3].to_ascii_uppercase() {
        b'E' => lon,
        b'W' => -lon,
        _ => return None,
    };
    ((-90..90).contains(&lat) && (-180..180).contains(&lon)).then_some((lat, lon))
}

/// Where a tile's grid lies: the centre of its north-west sample and the samples per
/// degree. SRTM: the tile's north-west corner and `n − 1` per degree (both edges are in
/// the tile); Copernicus: from the file's georeferencing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub lat0: f64,
    pub lon0: f64,
    pub rows_per_deg: f64,
    pub cols_per_deg: f64,
}

/// A tile's heights in metres, north row first: SRTM's whole metres are kept as `i16` (half
/// the memory), Copernicus's fractional metres as `f32`.
#[derive(Clone, Debug)]
pub enum Heights {
    I16(Vec<i16>),
    F32(Vec<f32>),
}

/// One tile in memory.
#[derive(Clone, Debug)]
pub struct Tile {
    rows: usize,
    cols: usize,
    grid: Grid,
    /// Voids filled.
    h: Heights,
}

impl Tile {
    /// A tile from the raw `.hgt` bytes (`path` names it in errors).
    pub fn from_hgt(corner: (i32, i32), bytes: &[u8], path: &Path) -> Result<Tile, DemError> {
        let n = match bytes.len() {
            l if l == 3601 * 3601 * 2 => 3601,
            l if l == 1201 * 1201 * 2 => 1201,
            size => return Err(DemError::Size { path: path.to_path_buf(), size }),
        };
        let h: Vec<i16> = bytes.chunks_exact(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect();
        let per_deg = (n - 1) as f64;
        let grid = Grid {
            lat0: f64::from(corner.0) + 1.0,
            lon0: f64::from(corner.1),
            rows_per_deg: per_deg,
            cols_per_deg: per_deg,
        };
        Tile::new(n, n, grid, Heights::I16(h), None, path)
    }

    /// A tile of `rows × cols` heights laid out by `grid`; voids (SRTM's −32768, NaN, or
    /// `nodata`) are filled from their neighbours. `path` names it in errors.
    pub fn new(
        rows: usize,
        cols: usize,
        grid: Grid,
        mut h: Heights,
        nodata: Option<f32>,
        path: &Path,
    ) -> Result<Tile, DemError> {
        let filled = match &mut h {
            Heights::I16(v) => fill_voids(v, cols, |x| x == VOID, f64::from, |m| m.round() as i16),
            Heights::F32(v) => {
                fill_voids(v, cols, |x| x.is_nan() || Some(x) == nodata, f64::from, |m| m as f32)
            }
        };
        if !filled {
            return Err(DemError::AllVoid { path: path.to_path_buf() });
        }
        Ok(Tile { rows, cols, grid, h })
    }

    /// Samples from north to south.
    pub fn size(&self) -> usize {
        self.rows
    }

    /// Samples from west to east.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The height at grid node (row from the north, column from the west).
    pub fn node(&self, row: usize, col: usize) -> f64 {
        let i = row * self.cols + col;
        match &self.h {
            Heights::I16(h) => f64::from(h[i]),
            Heights::F32(h) => f64::from(h[i]),
        }
    }

    /// Bilinear interpolation at a point of this tile (clamped to its edges: a Copernicus
    /// tile's last row and column are one pixel short of the south and east edges).
    pub fn elevation(&self, lat: f64, lon: f64) -> f64 {
        match &self.h {
            Heights::I16(h) => self.bilinear(h, lat, lon),
            Heights::F32(h) => self.bilinear(h, lat, lon),
        }
    }

    #[inline]
    fn bilinear<T: Copy + Into<f64>>(&self, h: &[T], lat: f64, lon: f64) -> f64 {
        let (last_r, last_c) = ((self.rows - 1) as f64, (self.cols - 1) as f64);
        let r = ((self.grid.lat0 - lat) * self.grid.rows_per_deg).clamp(0.0, last_r);
        let c = ((lon - self.grid.lon0) * self.grid.cols_per_deg).clamp(0.0, last_c);
        // The cell's top-left node; the last row/column use the cell before them.
        let r0 = (r.floor() as usize).min(self.rows - 2);
        let c0 = (c.floor() as usize).min(self.cols - 2);
        let (fr, fc) = (r - r0 as f64, c - c0 as f64);
        let i = r0 * self.cols + c0;
        let (a, b): (f64, f64) = (h[i].into(), h[i + 1].into());
        let (d, e): (f64, f64) = (h[i + self.cols].into(), h[i + self.cols + 1].into());
        let top = a + (b - a) * fc;
        let bottom = d + (e - d) * fc;
        top + (bottom - top) * fr
    }
}

/// Replace voids by the mean of their non-void 8-neighbours, pass after pass, so a hole
/// fills from its rim inwards. False when the whole tile is void. `cols` samples a row.
fn fill_voids<T: Copy>(
    h: &mut [T],
    cols: usize,
    is_void: impl Fn(T) -> bool,
    to_f64: impl Fn(T) -> f64,
    from_f64: impl Fn(f64) -> T,
) -> bool {
    let mut voids: Vec<usize> = (0..h.len()).filter(|&i| is_void(h[i])).collect();
    if voids.len() == h.len() {
        return false;
    }
    let rows = h.len() / cols;
    while !voids.is_empty() {
        // Values computed from this pass's state only, then written, so the fill does not
        // depend on the scan order.
        let mut filled: Vec<(usize, T)> = Vec::new();
        let mut rest = Vec::new();
        for &i in &voids {
            let (r, c) = ((i / cols) as i64, (i % cols) as i64);
            let (mut sum, mut k) = (0.0f64, 0u32);
            for dr in -1..=1 {
                for dc in -1..=1 {
                    let (rr, cc) = (r + dr, c + dc);
                    if (dr, dc) == (0, 0)
                        || rr < 0
                        || cc < 0
                        || rr >= rows as i64
                        || cc >= cols as i64
                    {
                        continue;
                    }
                    let v = h[(rr as usize) * cols + cc as usize];
                    if !is_void(v) {
                        sum += to_f64(v);
                        k += 1;
                    }
                }
            }
            if k > 0 {
                // The mean of values of the sample type fits that type.
                filled.push((i, from_f64(sum / f64::from(k))));
            } else {
                rest.push(i);
            }
        }
        for (i, v) in filled {
            h[i] = v;
        }
        voids = rest;
    }
    true
}

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
        Tile { rows: n, cols: n, grid, h: Heights::I16(h) }
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
