//! Copernicus GLO-30 / GLO-90 terrain tiles: GeoTIFF files named
//! `Copernicus_DSM_COG_10_N46_00_E013_00_DEM.tif` (`_10_` is 1″, GLO-30; `_30_` is 3″,
//! GLO-90), float32 metres, usually a tiled, DEFLATE-compressed Cloud-Optimised GeoTIFF with
//! the floating-point predictor.
//!
//! Why a second format: Copernicus is newer than SRTM (2011–2015 against 2000), has no
//! voids, and its heights are not rounded to whole metres. Decoding (tiles or strips,
//! DEFLATE/LZW, predictors) is the `tiff` crate's; this module reads the GeoTIFF
//! georeferencing (`ModelPixelScale`, `ModelTiepoint` and the raster type of the
//! `GeoKeyDirectory`) so a height is taken where the file says it lies, not where the name
//! suggests: Copernicus rows are 1/3600° apart, but columns widen with latitude (3600 per
//! degree below 50°, 2400 at 50–60°, … 360 above 85°), and pixel centres sit on whole
//! degrees at the north and west edges (`PixelIsPoint`), so the south and east edges
//! belong to the neighbouring tiles.
//!
//! [`encode_geotiff`] writes such a file (tiled, DEFLATE, floating-point predictor, as the
//! distributed tiles are); the `tiff` crate's encoder writes neither tiles nor that
//! predictor, and tests and the bench need files shaped like the real ones.

use super::tile::{DemError, Grid, Heights, Tile};
use std::io::Write;
use std::path::Path;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

/// The GeoKey of the raster type (`PixelIsArea` = 1, `PixelIsPoint` = 2).
const GT_RASTER_TYPE: u16 = 1025;
const PIXEL_IS_POINT: u16 = 2;

/// The file names a Copernicus tile with this south-west corner may have, best first: the
/// 1″ GLO-30, then the 3″ GLO-90 (`names.0`), and the same names as folders holding the
/// file, as the public bucket lays them out (`names.1`).
pub fn tile_names(corner: (i32, i32)) -> Vec<String> {
    let (lat, lon) = corner;
    let ns = if lat < 0 { 'S' } else { 'N' };
    let ew = if lon < 0 { 'W' } else { 'E' };
    let (a, o) = (lat.unsigned_abs(), lon.unsigned_abs());
    ["10", "30"]
        .iter()
        .map(|res| format!("Copernicus_DSM_COG_{res}_{ns}{a:02}_00_{ew}{o:03}_00_DEM"))
        .collect()
}

fn tiff_err(path: &Path, e: impl std::fmt::Display) -> DemError {
    DemError::Tiff { path: path.to_path_buf(), reason: e.to_string() }
}

/// A tile from the bytes of a GeoTIFF file (`path` names it in errors). Voids (NaN or the
/// file's `GDAL_NODATA` value) are filled from their neighbours, as for SRTM.
pub fn read(corner: (i32, i32), bytes: &[u8], path: &Path) -> Result<Tile, DemError> {
    let err = |e: tiff::TiffError| tiff_err(path, e);
    // A 1″ tile is 3600² float32 = 52 MB; the crate's default cap is below the largest
    // tiles (3601 × 3601 in some products), so allow a little more than one such tile.
    let mut limits = Limits::default();
    limits.decoding_buffer_size = 3601 * 3601 * 8 + 1;
    let mut dec = Decoder::new(std::io::Cursor::new(bytes)).map_err(err)?.with_limits(limits);
    let (cols, rows) = dec.dimensions().map_err(err)?;
    let (rows, cols) = (rows as usize, cols as usize);
    if rows < 2 || cols < 2 {
        return Err(tiff_err(path, format!("{cols}×{rows} pixels is not a terrain grid")));
    }
    let scale = dec.get_tag_f64_vec(Tag::ModelPixelScaleTag).map_err(|_| {
        tiff_err(path, "no ModelPixelScale tag: not a georeferenced GeoTIFF terrain tile")
    })?;
    let tie = dec.get_tag_f64_vec(Tag::ModelTiepointTag).map_err(|_| {
        tiff_err(path, "no ModelTiepoint tag: not a georeferenced GeoTIFF terrain tile")
    })?;
    if scale.len() < 2 || tie.len() < 6 || !(scale[0] > 0.0 && scale[1] > 0.0) {
        return Err(tiff_err(path, "invalid ModelPixelScale or ModelTiepoint"));
    }
    let point = dec
        .get_tag_u16_vec(Tag::GeoKeyDirectoryTag)
        .ok()
        .and_then(|keys| raster_type(&keys))
        .is_some_and(|t| t == PIXEL_IS_POINT);
    let nodata = dec
        .get_tag_ascii_string(Tag::GdalNodata)
        .ok()
        .and_then(|s| s.trim_matches(char::from(0)).trim().parse::<f32>().ok());
    // The centre of pixel (0, 0): a PixelIsArea tie point names a pixel's corner.
    let half = if point { 0.0 } else { 0.5 };
    let (i, j, x, y) = (tie[0], tie[1], tie[3], tie[4]);
    let lon0 = x + (half - i) * scale[0];
    let lat0 = y - (half - j) * scale[1];
    let grid = Grid { lat0, lon0, rows_per_deg: 1.0 / scale[1], cols_per_deg: 1.0 / scale[0] };
    // The grid must cover the degree square the name promises (to within a pixel).
    let (s, w) = (f64::from(corner.0), f64::from(corner.1));
    let covers = lat0 >= s + 1.0 - 1.5 * scale[1]
        && lon0 <= w + 1.5 * scale[0]
        && lat0 - (rows - 1) as f64 * scale[1] <= s + 1.5 * scale[1]
        && lon0 + (cols - 1) as f64 * scale[0] >= w + 1.0 - 1.5 * scale[0];
    if !covers {
        return Err(tiff_err(
            path,
            format!(
                "its grid (from {lat0:.5}, {lon0:.5}, {rows}×{cols} pixels) does not cover the tile its name gives"
            ),
        ));
    }
    let h: Vec<f32> = match dec.read_image().map_err(err)? {
        DecodingResult::F32(v) => v,
        DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
        _ => return Err(tiff_err(path, "samples are not float, 16- or 32-bit integers")),
    };
    if h.len() != rows * cols {
        return Err(tiff_err(path, "more than one sample per pixel (not a terrain grid)"));
    }
    Tile::new(rows, cols, grid, Heights::F32(h), nodata, path)
}

/// The raster type in a GeoKeyDirectory (header of 4 shorts, then 4 per key).
fn raster_type(keys: &[u16]) -> Option<u16> {
    keys.get(4..)?.chunks_exact(4).find(|k| k[0] == GT_RASTER_TYPE && k[1] == 0).map(|k| k[3])
}

/// The bytes of a Copernicus-like GeoTIFF tile: `rows × cols` float32 heights
/// `f(row, col)`, pixel centres from (`lat0`, `lon0`) (the north-west one, `PixelIsPoint`)
/// `1 / rows_per_deg` and `1 / cols_per_deg` apart, in 256² tiles compressed with DEFLATE
/// and the floating-point predictor. For tests and the bench.
pub fn encode_geotiff(
    rows: usize,
    cols: usize,
    (lat0, lon0): (f64, f64),
    (rows_per_deg, cols_per_deg): (f64, f64),
    f: impl Fn(usize, usize) -> f32,
) -> Vec<u8> {
    const T: usize = 256;
    let (across, down) = (cols.div_ceil(T), rows.div_ceil(T));
    // The compressed tiles, row of tiles by row of tiles.
    let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(across * down);
    for tr in 0..down {
        for tc in 0..across {
            let mut raw = Vec::with_capacity(T * T * 4);
            for r in tr * T..tr * T + T {
                // Floating-point predictor: each row's bytes regrouped by significance
                // (all most-significant bytes first), then differenced byte by byte.
                let vals: Vec<[u8; 4]> = (tc * T..tc * T + T)
                    .map(|c| {
                        // Pixels past the image edge pad the tile.
                        let v = if r < rows && c < cols { f(r, c) } else { 0.0 };
                        v.to_be_bytes()
                    })
                    .collect();
                let mut row: Vec<u8> =
                    (0..4).flat_map(|b| vals.iter().map(move |v| v[b])).collect();
                for k in (1..row.len()).rev() {
                    row[k] = row[k].wrapping_sub(row[k - 1]);
                }
                raw.extend_from_slice(&row);
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing to a Vec cannot fail.
            let _ = z.write_all(&raw);
            chunks.push(z.finish().unwrap_or_default());
        }
    }
    // Layout: header, tile data, then the values too long for an entry, then the IFD.
    let mut out: Vec<u8> = b"II*\0\0\0\0\0".to_vec();
    let mut offsets = Vec::with_capacity(chunks.len());
    for c in &chunks {
        offsets.push(out.len() as u32);
        out.extend_from_slice(c);
    }
    let counts: Vec<u32> = chunks.iter().map(|c| c.len() as u32).collect();
    let doubles = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let longs = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let shorts = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // (tag, type, count, value bytes): type 3 SHORT, 4 LONG, 12 DOUBLE, 2 ASCII.
    let geokeys: [u16; 16] = [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 2, 2048, 0, 1, 4326];
    let mut entries: Vec<(u16, u16, u32, Vec<u8>)> = vec![
        (256, 4, 1, longs(&[cols as u32])),
        (257, 4, 1, longs(&[rows as u32])),
        (258, 3, 1, shorts(&[32])),
        (259, 3, 1, shorts(&[8])), // DEFLATE (zlib)
        (262, 3, 1, shorts(&[1])), // BlackIsZero
        (277, 3, 1, shorts(&[1])),
        (284, 3, 1, shorts(&[1])),
        (317, 3, 1, shorts(&[3])), // floating-point predictor
        (322, 4, 1, longs(&[T as u32])),
        (323, 4, 1, longs(&[T as u32])),
        (324, 4, offsets.len() as u32, longs(&offsets)),
        (325, 4, counts.len() as u32, longs(&counts)),
        (339, 3, 1, shorts(&[3])), // IEEE float
        (33550, 12, 3, doubles(&[1.0 / cols_per_deg, 1.0 / rows_per_deg, 0.0])),
        (33922, 12, 6, doubles(&[0.0, 0.0, 0.0, lon0, lat0, 0.0])),
        (34735, 3, geokeys.len() as u32, shorts(&geokeys)),
    ];
    entries.sort_by_key(|e| e.0);
    // Values over 4 bytes go before the IFD, each at a word boundary.
    let mut placed = Vec::with_capacity(entries.len());
    for (tag, ty, count, bytes) in &entries {
        if bytes.len() > 4 {
            if out.len() % 2 == 1 {
                out.push(0);
            }
            placed.push((*tag, *ty, *count, (out.len() as u32).to_le_bytes().to_vec()));
            out.extend_from_slice(bytes);
        } else {
            let mut b = bytes.clone();
            b.resize(4, 0);
            placed.push((*tag, *ty, *count, b));
        }
    }
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let ifd = out.len() as u32;
    out[4..8].copy_from_slice(&ifd.to_le_bytes());
    out.extend_from_slice(&(placed.len() as u16).to_le_bytes());
    for (tag, ty, count, value) in placed {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// A Copernicus GLO-30 tile's layout for the degree square with south-west corner
/// `corner`: 3600 rows, the columns its latitude band has, pixel centres from the north-west
/// corner. Gives `(rows, cols, (lat0, lon0), (rows_per_deg, cols_per_deg))`.
pub fn glo30_layout(corner: (i32, i32)) -> (usize, usize, (f64, f64), (f64, f64)) {
    // The band of the tile's latitude nearer the equator.
    let band = if corner.0 >= 0 { corner.0 } else { -corner.0 - 1 };
    let cols = match band {
        0..=49 => 3600,
        50..=59 => 2400,
        60..=69 => 1800,
        70..=79 => 1200,
        80..=84 => 720,
        _ => 360,
    };
    let lat0 = f64::from(corner.0) + 1.0;
    (3600, cols, (lat0, f64::from(corner.1)), (3600.0, cols as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elevation::dem::DemDir;
    use proptest::prelude::*;

    /// An analytic surface in float metres (not whole metres, as Copernicus stores them).
    fn surface(lat: f64, lon: f64) -> f64 {
        700.0 + 150.0 * (lat * 40.0).sin() * (lon * 30.0).cos() + 0.37
    }

    /// A small Copernicus-like tile of `surface` (a coarse grid, same arithmetic as 3600²).
    fn small_tile(corner: (i32, i32), n: usize, cols: usize) -> Vec<u8> {
        let lat0 = f64::from(corner.0) + 1.0;
        let lon0 = f64::from(corner.1);
        encode_geotiff(n, cols, (lat0, lon0), (n as f64, cols as f64), |r, c| {
            surface(lat0 - r as f64 / n as f64, lon0 + c as f64 / cols as f64) as f32
        })
    }

    #[test]
    fn names_follow_the_copernicus_scheme_across_hemispheres() {
        assert_eq!(tile_names((46, 13))[0], "Copernicus_DSM_COG_10_N46_00_E013_00_DEM");
        assert_eq!(tile_names((46, 13))[1], "Copernicus_DSM_COG_30_N46_00_E013_00_DEM");
        assert_eq!(tile_names((-1, -72))[0], "Copernicus_DSM_COG_10_S01_00_W072_00_DEM");
        assert_eq!(tile_names((-34, 151))[0], "Copernicus_DSM_COG_10_S34_00_E151_00_DEM");
        assert_eq!(tile_names((40, -74))[0], "Copernicus_DSM_COG_10_N40_00_W074_00_DEM");
    }

    #[test]
    fn a_full_size_glo30_tile_reads_back_exact_at_nodes() {
        let corner = (46, 13);
        let (rows, cols, origin, per_deg) = glo30_layout(corner);
        assert_eq!((rows, cols), (3600, 3600));
        assert_eq!(glo30_layout((55, 13)).1, 2400);
        assert_eq!(glo30_layout((-56, 13)).1, 2400);
        let bytes = encode_geotiff(rows, cols, origin, per_deg, |r, c| {
            surface(origin.0 - r as f64 / 3600.0, origin.1 + c as f64 / 3600.0) as f32
        });
        let t = read(corner, &bytes, Path::new("c.tif")).expect("read");
        assert_eq!(t.size(), 3600);
        for (r, c) in [(0, 0), (1799, 2400), (3599, 3599), (17, 3001)] {
            let (lat, lon) = (origin.0 - r as f64 / 3600.0, origin.1 + c as f64 / 3600.0);
            let want = f64::from(surface(lat, lon) as f32);
            assert_eq!(t.node(r, c), want, "node {r},{c}");
            assert!((t.elevation(lat, lon) - want).abs() < 1e-3, "at {lat},{lon}");
        }
    }

    proptest! {
        #[test]
        fn geotiff_interpolation_is_exact_at_nodes_and_within_the_cell(
            south in any::<bool>(), west in any::<bool>(), row in 0usize..39, col in 0usize..29,
            fr in 0.0f64..1.0, fc in 0.0f64..1.0,
        ) {
            let corner = (if south { -12 } else { 46 }, if west { -72 } else { 13 });
            let (n, cols) = (40usize, 30usize);
            let t = read(corner, &small_tile(corner, n, cols), Path::new("p.tif")).expect("read");
            let lat_of = |r: f64| f64::from(corner.0) + 1.0 - r / n as f64;
            let lon_of = |c: f64| f64::from(corner.1) + c / cols as f64;
            let node = |r: usize, c: usize| f64::from(surface(lat_of(r as f64), lon_of(c as f64)) as f32);
            prop_assert!((t.elevation(lat_of(row as f64), lon_of(col as f64)) - node(row, col)).abs() < 1e-6);
            let v = t.elevation(lat_of(row as f64 + fr), lon_of(col as f64 + fc));
            let k = [node(row, col), node(row, col + 1), node(row + 1, col), node(row + 1, col + 1)];
            let lo = k.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = k.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(v >= lo - 1e-6 && v <= hi + 1e-6, "{v} not in [{lo}, {hi}]");
        }
    }

    #[test]
    fn a_folder_of_copernicus_tiles_is_read_by_name_in_both_layouts() {
        let dir = tempfile::tempdir().expect("tempdir");
        // S01W072 as a plain file, N46E013 inside its folder as the public bucket has it.
        let sw = tile_names((-1, -72))[0].clone();
        std::fs::write(dir.path().join(format!("{sw}.tif")), small_tile((-1, -72), 400, 300))
            .expect("write");
        let ne = tile_names((46, 13))[0].clone();
        std::fs::create_dir_all(dir.path().join(&ne)).expect("mkdir");
        std::fs::write(
            dir.path().join(&ne).join(format!("{ne}.tif")),
            small_tile((46, 13), 400, 300),
        )
        .expect("write");
        let mut dem = DemDir::new(dir.path());
        let pts = [(-0.5, -71.5), (46.5, 13.5), (10.0, 10.0)];
        let got = dem.elevations(&pts).expect("elevations");
        for (k, &(lat, lon)) in pts[..2].iter().enumerate() {
            let v = got[k].expect("covered");
            // Half way between nodes of a smooth surface: bilinear is within a metre.
            assert!((v - surface(lat, lon)).abs() < 1.0, "{lat},{lon}: {v}");
        }
        assert_eq!(got[2], None);
        assert_eq!(dem.loads, 2);
    }

    #[test]
    fn float_voids_are_filled_from_neighbours() {
        let (lat0, lon0) = (47.0, 13.0);
        let bytes = encode_geotiff(40, 30, (lat0, lon0), (40.0, 30.0), |r, c| {
            if (10..12).contains(&r) && c == 7 { f32::NAN } else { 500.25 + c as f32 }
        });
        let t = read((46, 13), &bytes, Path::new("v.tif")).expect("read");
        // The mean of the neighbours of columns 6, 7 and 8.
        assert!((t.node(10, 7) - 507.25).abs() < 1e-4, "{}", t.node(10, 7));
        assert!((t.node(11, 7) - 507.25).abs() < 1e-4, "{}", t.node(11, 7));
        let all_void = encode_geotiff(4, 4, (lat0, lon0), (3.0, 3.0), |_, _| f32::NAN);
        assert!(matches!(
            read((46, 13), &all_void, Path::new("w.tif")),
            Err(DemError::AllVoid { .. })
        ));
    }

    #[test]
    fn broken_files_name_the_path() {
        let err = read((46, 13), b"II*\0garbage", Path::new("/t/x.tif")).unwrap_err();
        assert!(err.to_string().contains("/t/x.tif"), "{err}");
        // A tile whose grid lies elsewhere than its name says.
        let wrong = small_tile((47, 13), 40, 30);
        let err = read((46, 13), &wrong, Path::new("/t/y.tif")).unwrap_err();
        assert!(err.to_string().contains("does not cover"), "{err}");
    }
}
