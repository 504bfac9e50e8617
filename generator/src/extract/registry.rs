//! What a user's store already holds: activity records by ID and by content hash, plus the
//! file-stat cache that lets a no-change re-run skip reading files at all.
//!
//! Persisted as `{user}/.bincio_cache.json` (the reference's file name and `activities`
//! shape, plus a `files` table). The cache is only an accelerator: at load it is reconciled
//! with the details actually on disk, so a deleted detail is re-extracted (never marked a
//! duplicate of itself, W2a) and a data directory written by another tool is adopted.

use bincio_bas::layout;
use bincio_bas::{Detail, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One stored activity, as far as dedup needs to know it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub id: String,
    pub source_hash: String,
    pub started_at: Timestamp,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// Dedup ranking (higher wins): see [`quality_score`].
    #[serde(default)]
    pub quality: i64,
    /// When the store took this activity: 1, 2, 3 … in import order (0: stored before the
    /// store counted). Decides which of a Strava copy and a file is kept (see
    /// [`Registry::resolve_near_duplicates`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The content key of an activity that came from Strava itself rather than from a file: a
/// sync (`strava:{id}`), or a manual entry of the bulk export, keyed the same way.
pub const STRAVA_KEY_PREFIX: &str = "strava:";

/// True for a copy synced from Strava (keyed by its Strava ID, not by a file's content).
pub fn is_strava_copy(rec: &ActivityRecord) -> bool {
    rec.source_hash.starts_with(STRAVA_KEY_PREFIX)
}

/// A file seen before: if its size and mtime are unchanged, its content hash is too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    #[serde(default)]
    activities: Vec<ActivityRecord>,
    #[serde(default)]
    files: BTreeMap<String, FileRecord>,
}

/// How trustworthy a source is for near-duplicate arbitration (the reference's ranking).
pub fn source_quality(source: &str) -> i64 {
    match source {
        "karoo" => 5,
        "fit_file" | "garmin" | "garmin_connect" => 4,
        "strava_export" | "strava_api" | "wahoo" => 3,
        "gpx_file" | "komoot" => 2,
        "tcx_file" => 1,
        "manual" => 0,
        // Other device makers found in FIT file_id (coros, suunto, zwift...): a device file.
        _ => 4,
    }
}

/// `100·source + 10·sensor channels + min(points, 50 000)/100`, as the reference ranks.
pub fn quality_score(source: &str, sensor_channels: i64, point_count: usize) -> i64 {
    100 * source_quality(source) + 10 * sensor_channels + (point_count.min(50_000) / 100) as i64
}

/// The store's records, reconciled with the disk.
#[derive(Debug, Default)]
pub struct Registry {
    by_id: BTreeMap<String, ActivityRecord>,
    by_hash: HashMap<String, String>,
    files: BTreeMap<String, FileRecord>,
    /// The serialised cache as loaded, to skip rewriting an unchanged one.
    loaded_bytes: Option<Vec<u8>>,
    /// The largest import order number known (kept up to date by [`Registry::insert`], so
    /// numbering a new activity costs nothing however large the store).
    max_seq: u64,
}

impl Registry {
    /// Load the cache and reconcile it with `activities/*.json` on disk.
    pub fn load(cache_path: &Path, activities_dir: &Path) -> Self {
        let loaded_bytes = std::fs::read(cache_path).ok();
        let cache: CacheFile = loaded_bytes
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        let on_disk = detail_ids_on_disk(activities_dir);
        let mut reg = Registry { files: cache.files, loaded_bytes, ..Registry::default() };
        for rec in cache.activities {
            if on_disk.contains(&rec.id) {
                reg.insert(rec);
            }
        }
        // Adopt details the cache does not know (another tool wrote them, or the cache was lost).
        for id in &on_disk {
            if reg.by_id.contains_key(id) {
                continue;
            }
            let path = activities_dir.join(layout::detail_name(id));
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let Ok(detail) = serde_json::from_slice::<Detail>(&bytes) else { continue };
            let Some(hash) = detail.source_hash.clone() else { continue };
            reg.insert(ActivityRecord {
                id: detail.id.clone(),
                source_hash: hash,
                started_at: detail.started_at,
                distance_m: detail.distance_m,
                source: detail.source.clone(),
                duplicate_of: detail.duplicate_of.clone(),
                quality: quality_score(detail.source.as_deref().unwrap_or(""), 0, 0),
                // Adopted: when it was imported is unknown.
                seq: 0,
            });
        }
        // Forget file stats whose hash no longer maps to a stored activity.
        let known: BTreeSet<String> = reg.by_hash.keys().cloned().collect();
        reg.files.retain(|_, f| known.contains(&f.hash));
        reg
    }

    /// Add or replace a record.
    pub fn insert(&mut self, rec: ActivityRecord) {
        if let Some(old) = self.by_id.get(&rec.id) {
            self.by_hash.remove(&old.source_hash);
        }
        self.by_hash.insert(rec.source_hash.clone(), rec.id.clone());
        self.max_seq = self.max_seq.max(rec.seq);
        self.by_id.insert(rec.id.clone(), rec);
    }

    /// The import order number for an activity stored now (one more than any known).
    pub fn next_seq(&self) -> u64 {
        self.max_seq + 1
    }

    /// The ID stored for a content hash.
    pub fn id_for_hash(&self, hash: &str) -> Option<&str> {
        self.by_hash.get(hash).map(String::as_str)
    }

    /// The record of an ID.
    pub fn get(&self, id: &str) -> Option<&ActivityRecord> {
        self.by_id.get(id)
    }

    /// All records, by ID.
    pub fn records(&self) -> impl Iterator<Item = &ActivityRecord> {
        self.by_id.values()
    }

    /// Number of stored activities.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The cached hash of a file whose size and mtime are unchanged.
    pub fn cached_hash(&self, path_key: &str, size: u64, mtime_ns: i64) -> Option<&str> {
        self.files
            .get(path_key)
            .filter(|f| f.size == size && f.mtime_ns == mtime_ns)
            .map(|f| f.hash.as_str())
    }

    /// Remember a file's stats and hash.
    pub fn remember_file(&mut self, path_key: String, rec: FileRecord) {
        self.files.insert(path_key, rec);
    }

    /// Recompute `duplicate_of` for every record: near duplicates (starts within 5 min,
    /// distances within 5 %) form clusters, and in each cluster one record is canonical
    /// (see [`canonical_of`]), the others point at it. Deterministic and never
    /// self-referencing. Returns the IDs whose `duplicate_of` changed.
    pub fn resolve_near_duplicates(&mut self) -> Vec<String> {
        let mut recs: Vec<&ActivityRecord> = self.by_id.values().collect();
        recs.sort_by(|a, b| {
            a.started_at.unix_ms().cmp(&b.started_at.unix_ms()).then(a.id.cmp(&b.id))
        });
        let n = recs.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for i in 0..n {
            let ti = recs[i].started_at.unix_ms();
            for j in i + 1..n {
                if recs[j].started_at.unix_ms() - ti > NEAR_DUP_WINDOW_MS {
                    break;
                }
                if distances_close(recs[i].distance_m, recs[j].distance_m) {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[b] = a;
                    }
                }
            }
        }
        let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            let root = find(&mut parent, i);
            clusters.entry(root).or_default().push(i);
        }
        let mut wanted: HashMap<String, Option<String>> = HashMap::new();
        for members in clusters.values() {
            if members.len() == 1 {
                wanted.insert(recs[members[0]].id.clone(), None);
                continue;
            }
            let best = canonical_of(&recs, members);
            let canonical = recs[best].id.clone();
            for &m in members {
                let v = if m == best { None } else { Some(canonical.clone()) };
                wanted.insert(recs[m].id.clone(), v);
            }
        }
        let mut changed = Vec::new();
        for (id, dup) in wanted {
            if let Some(rec) = self.by_id.get_mut(&id)
                && rec.duplicate_of != dup
            {
                rec.duplicate_of = dup;
                changed.push(id);
            }
        }
        changed.sort();
        changed
    }

    /// Write the cache when it changed.
    pub fn save(&self, cache_path: &Path) -> Result<bool, bincio_bas::fsx::FsxError> {
        let cache = CacheFile {
            activities: self.by_id.values().cloned().collect(),
            files: self.files.clone(),
        };
        let bytes = bincio_bas::fsx::to_json_bytes(cache_path, &cache)?;
        if self.loaded_bytes.as_deref() == Some(bytes.as_slice()) {
            return Ok(false);
        }
        bincio_bas::fsx::write_if_changed(cache_path, &bytes)
    }
}

/// The kept record of a cluster of near duplicates (`members` index `recs`).
///
/// Files among themselves: the best recording ([`quality_score`], then the smaller hash),
/// whatever order they arrived in, so a better file replaces a worse one. A Strava copy
/// (see [`is_strava_copy`]) against files: the one imported first, so the activity the user
/// already has (its ID, URL and edits) stays, and the later copy becomes its duplicate —
/// the Strava copy when it came after every file, else the best of the files. When the
/// order is unknown (records stored before the store counted), quality decides.
/// `docs/extraction.md`, "Dedup", is the one description of this rule.
fn canonical_of(recs: &[&ActivityRecord], members: &[usize]) -> usize {
    let best = |ms: &mut dyn Iterator<Item = usize>| {
        ms.max_by(|&a, &b| {
            let (ra, rb) = (recs[a], recs[b]);
            ra.quality
                .cmp(&rb.quality)
                // On a tie the smaller hash wins, deterministically.
                .then(rb.source_hash.cmp(&ra.source_hash))
        })
        .unwrap_or(members[0])
    };
    let (strava, files): (Vec<usize>, Vec<usize>) =
        members.iter().copied().partition(|&m| is_strava_copy(recs[m]));
    let first = |ms: &[usize]| ms.iter().map(|&m| recs[m].seq).min();
    match (first(&strava), first(&files)) {
        (Some(s), Some(f)) if s < f => {
            // The first Strava copy (two copies of one Strava activity cannot exist: the
            // key is its ID); among equals, quality.
            let mut earliest = strava.iter().copied().filter(|&m| recs[m].seq == s);
            best(&mut earliest)
        }
        (Some(s), Some(f)) if f < s => best(&mut files.iter().copied()),
        _ => best(&mut members.iter().copied()),
    }
}

/// Starts within this many milliseconds can be near duplicates (inclusive).
pub const NEAR_DUP_WINDOW_MS: i64 = 300_000;

/// Distances within 5 % of the larger one (strict), both known and the larger ≥ 1 m.
pub fn distances_close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let r = a.max(b);
            r >= 1.0 && (a - b).abs() / r < 0.05
        }
        _ => false,
    }
}

fn detail_ids_on_disk(activities_dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(activities_dir) else { return out };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name.strip_suffix(".json")
            && !id.ends_with(".timeseries")
            && !id.starts_with('.')
        {
            out.insert(id.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, at_s: i64, dist: f64, source: &str, hash: &str) -> ActivityRecord {
        ActivityRecord {
            id: id.into(),
            source_hash: hash.into(),
            started_at: Timestamp::from_unix_ms(1_717_228_800_000 + at_s * 1000, 0).unwrap(),
            distance_m: Some(dist),
            source: Some(source.into()),
            duplicate_of: None,
            quality: quality_score(source, 0, 0),
            seq: 0,
        }
    }

    #[test]
    fn near_duplicate_rules_match_the_reference_cases() {
        assert!(distances_close(Some(10_000.0), Some(9_510.0)));
        assert!(!distances_close(Some(10_000.0), Some(10_600.0)));
        assert!(!distances_close(Some(0.0), Some(0.0)));
        assert!(!distances_close(None, Some(10.0)));
        let mut r = Registry::default();
        r.insert(rec("a", 0, 10_000.0, "gpx_file", "h1"));
        r.insert(rec("b", 299, 9_600.0, "karoo", "h2"));
        r.insert(rec("c", 301 + 299, 10_000.0, "fit_file", "h3"));
        let changed = r.resolve_near_duplicates();
        assert_eq!(changed, vec!["a".to_owned()]);
        assert_eq!(r.get("a").unwrap().duplicate_of.as_deref(), Some("b"));
        assert_eq!(r.get("b").unwrap().duplicate_of, None);
        assert_eq!(r.get("c").unwrap().duplicate_of, None);
        // Idempotent: a second pass changes nothing.
        assert!(r.resolve_near_duplicates().is_empty());
    }

    #[test]
    fn ranking_is_karoo_fit_strava_gpx_tcx_manual() {
        let order = ["karoo", "fit_file", "strava_export", "gpx_file", "tcx_file", "manual"];
        for w in order.windows(2) {
            assert!(source_quality(w[0]) > source_quality(w[1]), "{w:?}");
        }
    }

    #[test]
    fn a_tie_is_broken_by_hash_not_by_order() {
        let mut r1 = Registry::default();
        r1.insert(rec("x", 0, 1000.0, "fit_file", "bbb"));
        r1.insert(rec("y", 10, 1000.0, "fit_file", "aaa"));
        r1.resolve_near_duplicates();
        assert_eq!(r1.get("x").unwrap().duplicate_of.as_deref(), Some("y"));
    }

    #[test]
    fn a_strava_copy_and_a_file_keep_the_one_imported_first() {
        let strava =
            |seq| ActivityRecord { seq, ..rec("s", 0, 10_000.0, "strava_api", "strava:9") };
        let fit = |seq| ActivityRecord { seq, ..rec("f", 60, 10_100.0, "fit_file", "fff") };
        let gpx = |seq| ActivityRecord { seq, ..rec("g", 30, 10_050.0, "gpx_file", "ggg") };
        let canonical = |recs: Vec<ActivityRecord>| {
            let mut r = Registry::default();
            recs.into_iter().for_each(|x| r.insert(x));
            r.resolve_near_duplicates();
            let kept: Vec<String> =
                r.records().filter(|x| x.duplicate_of.is_none()).map(|x| x.id.clone()).collect();
            assert_eq!(kept.len(), 1, "{kept:?}");
            kept[0].clone()
        };
        // Strava first: it stays, although the FIT file ranks higher.
        assert_eq!(canonical(vec![strava(1), fit(2)]), "s");
        assert_eq!(canonical(vec![strava(1), gpx(2), fit(3)]), "s");
        // A file first: the files' own ranking, the Strava copy is the duplicate.
        assert_eq!(canonical(vec![fit(1), strava(2)]), "f");
        assert_eq!(canonical(vec![gpx(1), strava(2)]), "g");
        assert_eq!(canonical(vec![gpx(1), strava(2), fit(3)]), "f");
        // Order unknown (a store from before the count): quality, as it always was.
        assert_eq!(canonical(vec![strava(0), fit(0)]), "f");
        assert_eq!(canonical(vec![strava(0), gpx(0)]), "s");
        // Files alone ignore the order.
        assert_eq!(canonical(vec![fit(1), gpx(2)]), "f");
        assert_eq!(canonical(vec![gpx(1), fit(2)]), "f");
    }

    #[test]
    fn the_import_order_is_counted_and_survives_the_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Registry::default();
        assert_eq!(r.next_seq(), 1);
        r.insert(ActivityRecord { seq: 1, ..rec("a", 0, 1000.0, "fit_file", "h1") });
        r.insert(rec("b", 9000, 1000.0, "fit_file", "h2"));
        assert_eq!(r.next_seq(), 2);
        let cache = tmp.path().join("cache.json");
        let acts = tmp.path().join("activities");
        std::fs::create_dir_all(&acts).unwrap();
        for id in ["a", "b"] {
            std::fs::write(acts.join(format!("{id}.json")), "{}").unwrap();
        }
        r.save(&cache).unwrap();
        let back = Registry::load(&cache, &acts);
        assert_eq!(back.get("a").unwrap().seq, 1);
        assert_eq!(back.get("b").unwrap().seq, 0);
        assert_eq!(back.next_seq(), 2);
    }
}
