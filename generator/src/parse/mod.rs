//! Bytes → [`Activity`]: format detection, gzip, and dispatch to one parser per format.
//!
//! The format is decided from the content, never from the file name: a `.GPX` written by a
//! watch, a `.fit` that is really gzipped, or a TCX with a leading BOM all parse. Parsers
//! are pure (bytes in, model out) so they can be fuzzed and property-tested.

pub mod fit;
pub mod gpx;
pub mod tcx;
mod xml;

use crate::model::{Activity, Format};
use std::io::Read;

/// Files larger than this after decompression are refused (a gzip bomb guard).
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// Why a file could not become an activity. Messages are one line, lower case, and say
/// what a user can check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("not a GPX, TCX or FIT file (content starts with {0:?})")]
    UnknownFormat(String),
    #[error("gzip data is corrupt: {0}")]
    Gzip(String),
    #[error("file is larger than {} MiB once decompressed", MAX_DECOMPRESSED_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("empty file")]
    Empty,
    #[error("XML error at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("FIT error at byte {position}: {message}")]
    Fit { position: u64, message: String },
    #[error("no track points with a timestamp")]
    NoTrackPoints,
    #[error("a route or course, not a recorded activity: {0}")]
    NotAnActivity(String),
    #[error("{0}")]
    Invalid(String),
}

/// Decompress when the bytes are gzip (magic `1f 8b`), whatever the file is called.
/// Multi-member gzip files are read whole.
pub fn maybe_decompress(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, ParseError> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::with_capacity(decompressed_size_hint(bytes));
        let decoder = flate2::read::MultiGzDecoder::new(bytes);
        decoder
            .take(MAX_DECOMPRESSED_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| ParseError::Gzip(e.to_string()))?;
        if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
            return Err(ParseError::TooLarge);
        }
        Ok(std::borrow::Cow::Owned(out))
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

/// The buffer to reserve for inflating gzip `bytes`: the size the gzip trailer records
/// (`ISIZE`, the last member's length modulo 2³²), so the output is inflated into one
/// allocation instead of being copied through a doubling `Vec` (GPX and TCX shrink 8–15
/// times, past the 4 times reserved before). Only a hint: it is never below 4 times the
/// input, never above what deflate can expand the input to (1,032 times) nor above the
/// size limit, so a forged trailer cannot reserve more than a real stream could fill; a
/// multi-member file whose last member is short just grows the buffer as before.
fn decompressed_size_hint(bytes: &[u8]) -> usize {
    let n = bytes.len();
    let trailer = n.checked_sub(4).and_then(|at| bytes.get(at..)).unwrap_or_default();
    let isize = trailer.try_into().map_or(0, |t: [u8; 4]| u32::from_le_bytes(t) as usize);
    let limit = (MAX_DECOMPRESSED_BYTES as usize + 1).min(n.saturating_mul(1032));
    // One byte past the content lets `read_to_end` see the end without growing the buffer.
    isize.saturating_add(1).max(n.saturating_mul(4)).min(limit)
}

/// Decide the format of (already decompressed) bytes from their content.
pub fn detect_format(bytes: &[u8]) -> Result<Format, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    // FIT: header size 12 or 14, ".FIT" at offset 8.
    if bytes.len() >= 12 && &bytes[8..12] == b".FIT" {
        return Ok(Format::Fit);
    }
    // XML: look for the root element in the first few KiB, past BOM, whitespace,
    // the XML declaration and comments.
    let head = &bytes[..bytes.len().min(8192)];
    let text = String::from_utf8_lossy(head);
    let lower = text.to_ascii_lowercase();
    if let Some(pos) = first_element_name(&lower) {
        if pos.starts_with("gpx") {
            return Ok(Format::Gpx);
        }
        if pos.starts_with("trainingcenterdatabase") {
            return Ok(Format::Tcx);
        }
    }
    let shown: String =
        text.chars().take(16).map(|c| if c.is_control() { '.' } else { c }).collect();
    Err(ParseError::UnknownFormat(shown))
}

/// The local name of the first element in an XML prefix (lower-cased input).
fn first_element_name(lower: &str) -> Option<&str> {
    let mut rest = lower;
    loop {
        let i = rest.find('<')?;
        rest = &rest[i + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name_end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &rest[..name_end];
        // Strip a namespace prefix (`<tcx:TrainingCenterDatabase>`).
        return Some(name.rsplit(':').next().unwrap_or(name));
    }
}

/// Parse any supported file's raw bytes (gzipped or not) into one activity.
pub fn parse_bytes(raw: &[u8]) -> Result<Activity, ParseError> {
    let bytes = maybe_decompress(raw)?;
    match detect_format(&bytes)? {
        Format::Gpx => gpx::parse(&bytes),
        Format::Tcx => tcx::parse(&bytes),
        Format::Fit => fit::parse(&bytes),
    }
}

/// True when a file name has an extension Bincio reads (case-insensitive; `.gz` allowed).
pub fn is_supported_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    base.ends_with(".gpx") || base.ends_with(".tcx") || base.ends_with(".fit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(
            detect_format(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<gpx>").unwrap(),
            Format::Gpx
        );
        assert_eq!(
            detect_format(b"  <?xml?><!-- c --><TrainingCenterDatabase xmlns=\"x\">").unwrap(),
            Format::Tcx
        );
        let mut fit = vec![14u8, 0x10, 0, 0, 0, 0, 0, 0];
        fit.extend_from_slice(b".FIT\0\0");
        assert_eq!(detect_format(&fit).unwrap(), Format::Fit);
        assert!(matches!(detect_format(b"hello"), Err(ParseError::UnknownFormat(_))));
        assert!(matches!(detect_format(b""), Err(ParseError::Empty)));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).expect("gzip into a Vec");
        e.finish().expect("gzip into a Vec")
    }

    /// The trailer only sizes the buffer: a true one, a multi-member file whose trailer
    /// names just the last member, and forged trailers (too small, huge) all inflate to the
    /// same bytes.
    #[test]
    fn gzip_size_hint_never_changes_the_content() {
        let doc: Vec<u8> =
            (0..200_000u32).flat_map(|i| format!("<p>{i}</p>\n").into_bytes()).collect();
        let one = gzip(&doc);
        assert_eq!(decompressed_size_hint(&one), doc.len() + 1);
        assert_eq!(&*maybe_decompress(&one).expect("gzip"), &doc[..]);

        let mut two = gzip(&doc[..1000]);
        two.extend_from_slice(&gzip(&doc[1000..]));
        assert_eq!(decompressed_size_hint(&two), doc.len() - 1000 + 1);
        assert_eq!(&*maybe_decompress(&two).expect("gzip"), &doc[..]);

        let mut last_short = gzip(&doc[..doc.len() - 10]);
        last_short.extend_from_slice(&gzip(&doc[doc.len() - 10..]));
        assert_eq!(decompressed_size_hint(&last_short), last_short.len() * 4);
        assert_eq!(&*maybe_decompress(&last_short).expect("gzip"), &doc[..]);

        for forged in [0u32, 7, u32::MAX] {
            let mut f = one.clone();
            let at = f.len() - 4;
            f[at..].copy_from_slice(&forged.to_le_bytes());
            let hint = decompressed_size_hint(&f);
            assert!(hint >= f.len() * 4 && hint <= f.len() * 1032, "{forged}: {hint}");
            // The stream's own length check still refuses the forged trailer.
            assert!(matches!(maybe_decompress(&f), Err(ParseError::Gzip(_))), "{forged}");
        }
        assert_eq!(decompressed_size_hint(&[0x1f, 0x8b]), 8);
    }

    #[test]
    fn names_are_case_insensitive() {
        assert!(is_supported_name("RIDE.GPX"));
        assert!(is_supported_name("a.fit.gz"));
        assert!(is_supported_name("x.TCX.GZ"));
        assert!(!is_supported_name("notes.txt"));
    }
}
