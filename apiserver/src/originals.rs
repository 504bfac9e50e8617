//! Find the stored original(s) an activity was extracted from, so deleting the activity can
//! delete them too: otherwise a later extraction of all of `originals/` (an admin's
//! `bincio-gen extract`, an upload request without `files`) would find the file again and,
//! since the deleted detail is gone from the registry, bring the activity back.
//!
//! The detail records `source_file` (the file name) and `source_hash` (`sha256:` of the
//! decompressed content). Candidates are the files under `originals/` and `_uploads/` named
//! `source_file`, plus the names the extract cache (`.bincio_cache.json`, whose `files`
//! table maps paths to hashes) lists for that hash (same content uploaded under another
//! name). Only candidates whose content hash matches are returned, so a different file that
//! happens to share the name is never touched; other files are never read.

use bincio_bas::layout::UserDir;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Decompressed size cap when hashing a `.gz` candidate (same order as the upload caps).
const MAX_DECOMPRESSED_BYTES: u64 = 1 << 30;

/// `sha256:<hex>` of a file's content, gunzipped when it starts with the gzip magic (as
/// the extractor hashes it). `None` when unreadable or over the cap.
fn content_hash(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    let mut h = Sha256::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut dec =
            flate2::read::MultiGzDecoder::new(raw.as_slice()).take(MAX_DECOMPRESSED_BYTES + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = dec.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > MAX_DECOMPRESSED_BYTES {
                return None;
            }
            h.update(&buf[..n]);
        }
    } else {
        h.update(&raw);
    }
    Some(format!("sha256:{}", hex::encode(h.finalize())))
}

/// File names the extract cache lists for `hash`.
fn cached_names(cache: &Path, hash: &str) -> BTreeSet<String> {
    let Ok(bytes) = std::fs::read(cache) else { return BTreeSet::new() };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return BTreeSet::new();
    };
    let Some(files) = v.get("files").and_then(serde_json::Value::as_object) else {
        return BTreeSet::new();
    };
    files
        .iter()
        .filter(|(_, f)| f.get("hash").and_then(serde_json::Value::as_str) == Some(hash))
        .filter_map(|(k, _)| Path::new(k).file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

fn walk(dir: &Path, names: &BTreeSet<String>, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        // Symlinks are not followed: only files the daemon itself stored are candidates.
        if ft.is_dir() {
            walk(&e.path(), names, out);
        } else if ft.is_file() && names.contains(e.file_name().to_string_lossy().as_ref()) {
            out.push(e.path());
        }
    }
}

/// The stored originals of the activity whose detail is `detail` (parsed JSON), sorted.
pub fn find(user: &UserDir, detail: &serde_json::Value) -> Vec<PathBuf> {
    let Some(hash) = detail.get("source_hash").and_then(serde_json::Value::as_str) else {
        return Vec::new();
    };
    let mut names = cached_names(&user.cache(), hash);
    if let Some(f) = detail.get("source_file").and_then(serde_json::Value::as_str) {
        names.insert(f.to_owned());
    }
    let mut candidates = Vec::new();
    for dir in [user.originals_dir(), user.uploads_dir()] {
        walk(&dir, &names, &mut candidates);
    }
    let mut out: Vec<PathBuf> =
        candidates.into_iter().filter(|p| content_hash(p).as_deref() == Some(hash)).collect();
    out.sort();
    out
}

/// Remove `files` and the folders under `originals/`/`_uploads/` they leave empty.
pub fn remove(user: &UserDir, files: &[PathBuf]) -> std::io::Result<()> {
    let tops = [user.originals_dir(), user.uploads_dir()];
    for f in files {
        crate::files::remove_file(f)?;
        let mut dir = f.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            // remove_dir fails on a non-empty folder, which ends the walk up.
            if tops.contains(&d) || !tops.iter().any(|t| d.starts_with(t)) {
                break;
            }
            if std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn sha(b: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(b)))
    }

    #[test]
    fn finds_the_matching_originals_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let user = UserDir::new(tmp.path());
        let content = b"<gpx>ride</gpx>".as_slice();
        let job = user.originals_dir().join("job1");
        std::fs::create_dir_all(&job).unwrap();
        std::fs::write(job.join("ride.gpx"), content).unwrap();
        // Same name, other content (another upload): must stay.
        let other = user.originals_dir().join("job2");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("ride.gpx"), b"<gpx>other</gpx>").unwrap();
        // Same content gzipped under another name, known to the extract cache.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(content).unwrap();
        let gz_path = other.join("copy.gpx.gz");
        std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
        let cache = serde_json::json!({"files": {
            gz_path.to_string_lossy(): {"size": 1, "mtime_ns": 0, "hash": sha(content)},
        }});
        std::fs::write(user.cache(), cache.to_string()).unwrap();
        let detail = serde_json::json!({"source_file": "ride.gpx", "source_hash": sha(content)});
        let found = find(&user, &detail);
        assert_eq!(found, vec![job.join("ride.gpx"), gz_path.clone()]);

        remove(&user, &found).unwrap();
        assert!(!job.exists(), "emptied job folder removed");
        assert!(other.join("ride.gpx").is_file(), "a different file of the same name stays");
        assert!(!gz_path.exists());
        assert!(user.originals_dir().is_dir(), "originals/ itself stays");
        // A detail without a hash (written by another tool) matches nothing.
        assert!(find(&user, &serde_json::json!({"source_file": "ride.gpx"})).is_empty());
    }
}
