//! One terrain tile in memory, whatever file it came from: its grid (where its samples lie),
//! its heights, void filling, bilinear interpolation, and the SRTM tile names that key the
//! folder search. Split from the folder search and cache in [`super::dem`] and the GeoTIFF
//! reader in [`super::geotiff`], which both build tiles, so neither depends on the other's
//! internals.

use std::path::{Path, PathBuf};

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
