//! What an uploaded file really is, decided from its bytes, never from its name or the
//! client's Content-Type; plus the gzip- and zip-bomb guards.
//!
//! The daemon does not parse activities (the watcher does), but it refuses anything that is
//! not plausibly a GPX, FIT, TCX, gzip of one of those, a Strava CSV or a Strava export ZIP,
//! and it never lets a small archive expand past the configured caps.
//!
//! Byte caps alone are not enough: ten 190 MiB entries of spaces pass a 200 MiB per-file
//! cap yet make a 2 MB ZIP fill 2 GB of disk. So every decompression is also held to an
//! expansion ratio (output / compressed input): per `.gz`, per ZIP entry and per archive.
//! Activity files compress up to about 20 times, so the default of 100 never refuses one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// An activity file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    Fit,
    Gpx,
    Tcx,
}

impl ActivityKind {
    /// The file extension, without dot.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Fit => "fit",
            Self::Gpx => "gpx",
            Self::Tcx => "tcx",
        }
    }
}

/// An accepted image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    /// The extension the stored file gets (from the content, not the client's name).
    pub fn ext(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

/// Identify an image by magic bytes.
pub fn sniff_image(head: &[u8]) -> Option<ImageKind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Identify an (uncompressed) activity file from its first bytes (4 KiB is plenty).
pub fn sniff_activity(head: &[u8]) -> Option<ActivityKind> {
    // FIT: header size 12 or 14, then ".FIT" at offset 8.
    if head.len() >= 12 && matches!(head[0], 12 | 14) && &head[8..12] == b".FIT" {
        return Some(ActivityKind::Fit);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if !t.starts_with('<') {
        return None;
    }
    if t.contains("<gpx") {
        Some(ActivityKind::Gpx)
    } else if t.contains("<TrainingCenterDatabase") {
        Some(ActivityKind::Tcx)
    } else {
        None
    }
}

/// True for a gzip stream.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// True for a ZIP archive.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// True for a Strava `activities.csv` (a header line naming "Activity ID").
pub fn is_strava_csv(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let first = text.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
    first.contains("Activity ID") && !first.contains('<') && !head.contains(&0)
}

/// Decompressed outputs up to this size are never refused for their ratio: a small file of
/// repeated XML may compress better than a real recording, and it cannot fill a disk.
pub const RATIO_FREE_BYTES: u64 = 1 << 20;

/// How many bytes `compressed` input bytes may expand to: `max_out`, or less when the
/// ratio cap says so.
pub fn expansion_cap(compressed: u64, ratio: u64, max_out: u64) -> u64 {
    compressed.saturating_mul(ratio).max(RATIO_FREE_BYTES).min(max_out)
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SniffError {
    #[error("not a GPX, FIT, TCX, gzip, CSV or ZIP file")]
    Unknown,
    #[error("gzip content is not a GPX, FIT or TCX file")]
    GzipContent,
    #[error("expands past {0} bytes (compression bomb)")]
    Bomb(u64),
    #[error(
        "expands more than {ratio} times ({compressed} bytes compressed): padding, not an activity file"
    )]
    Ratio { ratio: u64, compressed: u64 },
    #[error("the archive's activity files together expand past {0} bytes")]
    ZipTotal(u64),
    #[error("corrupt archive: {0}")]
    Corrupt(String),
    #[error("too many files (max {0})")]
    TooMany(usize),
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for SniffError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Read a stream to the end through `sink`, failing as soon as more than `max` bytes came
/// out. Returns the byte count.
fn copy_capped(mut r: impl Read, mut sink: impl Write, max: u64) -> Result<u64, SniffError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(|e| SniffError::Corrupt(e.to_string()))?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        if total > max {
            return Err(SniffError::Bomb(max));
        }
        sink.write_all(&buf[..n])?;
    }
}

/// Check a gzip file: its content must be an activity file and expand to at most `max_out`
/// bytes and at most `ratio` times its size. Decompresses to nowhere; nothing is kept.
pub fn check_gzip(path: &Path, max_out: u64, ratio: u64) -> Result<ActivityKind, SniffError> {
    let mut head = Vec::with_capacity(4096);
    let f = std::fs::File::open(path)?;
    flate2::read::MultiGzDecoder::new(f)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| SniffError::Corrupt(e.to_string()))?;
    let kind = sniff_activity(&head).ok_or(SniffError::GzipContent)?;
    let f = std::fs::File::open(path)?;
    let compressed = f.metadata()?.len();
    let cap = expansion_cap(compressed, ratio, max_out);
    copy_capped(flate2::read::MultiGzDecoder::new(f), std::io::sink(), cap).map_err(
        |e| match e {
            SniffError::Bomb(_) if cap < max_out => SniffError::Ratio { ratio, compressed },
            other => other,
        },
    )?;
    Ok(kind)
}

/// Classify a stored upload. Activity files and gzips are checked in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadKind {
    Activity(ActivityKind),
    Gzip(ActivityKind),
    Csv,
    Zip,
}

/// Classify the file at `path`; a gzip may expand to `max_decompressed` bytes and `ratio`
/// times its size.
pub fn classify(path: &Path, max_decompressed: u64, ratio: u64) -> Result<UploadKind, SniffError> {
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)?.take(4096).read_to_end(&mut head)?;
    if is_gzip(&head) {
        return check_gzip(path, max_decompressed, ratio).map(UploadKind::Gzip);
    }
    if is_zip(&head) {
        return Ok(UploadKind::Zip);
    }
    if let Some(k) = sniff_activity(&head) {
        return Ok(UploadKind::Activity(k));
    }
    if is_strava_csv(&head) {
        return Ok(UploadKind::Csv);
    }
    Err(SniffError::Unknown)
}

/// Caps for one ZIP.
#[derive(Clone, Copy, Debug)]
pub struct ZipCaps {
    pub entries: usize,
    pub files: usize,
    pub entry_bytes: u64,
    pub total_bytes: u64,
    /// Expansion ratio cap, per entry and for the whole archive.
    pub ratio: u64,
}

/// One file taken out of a ZIP.
#[derive(Debug)]
pub struct ZipEntryOut {
    /// Safe base name (`12345.fit.gz`, `activities.csv`).
    pub name: String,
    pub path: PathBuf,
}

/// Extract the activity files and `activities.csv` of a Strava export into `dest` (a
/// fresh folder). Everything else (media, JSON, profile) is skipped. Entry sizes are
/// counted while decompressing (headers can lie), and the totals are capped, in bytes and
/// in expansion ratio (each entry against its compressed size, all entries together
/// against the archive's size); on any cap the partial output is left for the caller to
/// delete.
pub fn extract_zip(
    zip_path: &Path,
    dest: &Path,
    caps: ZipCaps,
) -> Result<(Vec<ZipEntryOut>, usize), SniffError> {
    let f = std::fs::File::open(zip_path)?;
    let archive_bytes = f.metadata()?.len();
    // All entries together: the byte cap, or less for a small archive.
    let total_cap = expansion_cap(archive_bytes, caps.ratio, caps.total_bytes);
    let mut archive = zip::ZipArchive::new(f).map_err(|e| SniffError::Corrupt(e.to_string()))?;
    if archive.len() > caps.entries {
        return Err(SniffError::TooMany(caps.entries));
    }
    std::fs::create_dir_all(dest)?;
    let mut out = Vec::new();
    let mut skipped = 0usize;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| SniffError::Corrupt(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        // Only the base name is used, so no entry path can escape `dest`.
        let Some(base) = entry
            .enclosed_name()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        else {
            skipped += 1;
            continue;
        };
        let lower = base.to_ascii_lowercase();
        let wanted = lower == "activities.csv"
            || [".fit", ".gpx", ".tcx", ".fit.gz", ".gpx.gz", ".tcx.gz"]
                .iter()
                .any(|s| lower.ends_with(s));
        if !wanted {
            skipped += 1;
            continue;
        }
        if out.len() >= caps.files {
            return Err(SniffError::TooMany(caps.files));
        }
        let Some(name) = crate::names::safe_file_name(&base) else {
            skipped += 1;
            continue;
        };
        let path = dest.join(&name);
        if path.exists() {
            skipped += 1; // duplicate base name inside one archive: keep the first
            continue;
        }
        let mut file = std::fs::File::create(&path)?;
        // The entry's header size bounds what the decompressor may read, so a lying header
        // only ends the entry early; the ratio is against that size.
        let compressed = entry.compressed_size();
        let entry_cap = expansion_cap(compressed, caps.ratio, caps.entry_bytes);
        let left = total_cap.saturating_sub(total);
        let budget = entry_cap.min(left);
        let n = copy_capped(&mut entry, &mut file, budget).map_err(|e| match e {
            SniffError::Bomb(_) if left < entry_cap && total_cap < caps.total_bytes => {
                SniffError::Ratio { ratio: caps.ratio, compressed: archive_bytes }
            }
            SniffError::Bomb(_) if left < entry_cap => SniffError::ZipTotal(caps.total_bytes),
            SniffError::Bomb(_) if entry_cap < caps.entry_bytes => {
                SniffError::Ratio { ratio: caps.ratio, compressed }
            }
            other => other,
        })?;
        total += n;
        file.sync_data()?;
        out.push(ZipEntryOut { name, path });
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some(ImageKind::Png));
        assert_eq!(sniff_image(b"<html><script>"), None);
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(
            sniff_activity(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<gpx creator=\"x\">"),
            Some(ActivityKind::Gpx)
        );
        assert_eq!(
            sniff_activity(b"<?xml?><TrainingCenterDatabase xmlns=..."),
            Some(ActivityKind::Tcx)
        );
        let mut fit = vec![14u8, 0x10, 0, 0, 0, 0, 0, 0];
        fit.extend_from_slice(b".FIT\0\0");
        assert_eq!(sniff_activity(&fit), Some(ActivityKind::Fit));
        assert_eq!(sniff_activity(b"<html><body>"), None);
        assert!(is_strava_csv(b"Activity ID,Activity Date,Activity Name\n1,2,3\n"));
        assert!(!is_strava_csv(b"a,b\n"));
    }

    #[test]
    fn gzip_bomb_is_stopped_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bomb.gpx.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::best(),
        );
        enc.write_all(b"<?xml version=\"1.0\"?><gpx>").unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() < 200_000);
        assert_eq!(check_gzip(&p, 8 << 20, u64::MAX), Err(SniffError::Bomb(8 << 20)));
        assert_eq!(check_gzip(&p, 100 << 20, u64::MAX), Ok(ActivityKind::Gpx));
        // The same 64 MiB from under 200 kB is far past 100 times: refused for its ratio.
        let compressed = std::fs::metadata(&p).unwrap().len();
        assert_eq!(
            check_gzip(&p, 100 << 20, 100),
            Err(SniffError::Ratio { ratio: 100, compressed })
        );
    }

    #[test]
    fn expansion_cap_spares_small_outputs() {
        assert_eq!(expansion_cap(1000, 100, 200 << 20), RATIO_FREE_BYTES);
        assert_eq!(expansion_cap(1 << 20, 100, 200 << 20), 100 << 20);
        assert_eq!(
            expansion_cap(10 << 20, 100, 200 << 20),
            200 << 20,
            "the byte cap still applies"
        );
        assert_eq!(expansion_cap(u64::MAX, 100, 5), 5, "no overflow");
    }
}
