//! The site theme as a set of files: the default theme compiled into the binary, or a folder.
//!
//! A render reads templates (`templates/**`), static files (`static/**`), the theme settings
//! (`theme.toml`) and the vendored browser libraries (`vendor/<name>/…`) from a [`Theme`].
//! The default theme is embedded at build time (`build.rs`), so an installed `bincio-gen`
//! needs neither the repository checkout nor npm; `--theme DIR` renders with a folder
//! instead, and `bincio-gen theme eject DIR` writes the default theme out as the starting
//! point for one (as mdbook does with its theme).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/default_theme.rs"));
}

/// Top-level entries of a theme folder that a render reads; everything else in the folder
/// (`node_modules/`, npm manifests, notes) is ignored.
const THEME_ENTRIES: &[&str] = &["templates", "static", "vendor", "theme.toml"];

/// A theme folder that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{path}: cannot read the theme: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a theme folder (no templates/ inside)")]
    NotATheme { path: PathBuf },
    #[error("{path}: {reason}")]
    Eject { path: PathBuf, reason: String },
}

/// A theme's files, by path relative to the theme folder (`/` separators).
#[derive(Clone, Debug)]
pub struct Theme {
    files: BTreeMap<String, Vec<u8>>,
    /// Where the files came from, for messages: `built-in default theme` or the folder.
    origin: String,
}

impl Theme {
    /// The default theme carried by the binary.
    pub fn embedded() -> Theme {
        let files = embedded::FILES.iter().map(|(p, b)| ((*p).to_owned(), b.to_vec())).collect();
        Theme { files, origin: "built-in default theme".to_owned() }
    }

    /// Every file a render reads from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Theme, ThemeError> {
        if !dir.join("templates").is_dir() {
            return Err(ThemeError::NotATheme { path: dir.to_path_buf() });
        }
        let mut files = BTreeMap::new();
        for top in THEME_ENTRIES {
            let root = dir.join(top);
            if !root.exists() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
                let entry = entry.map_err(|e| ThemeError::Read {
                    path: root.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(dir) else { continue };
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel.split('/').any(|c| c.starts_with('.')) {
                    continue;
                }
                let bytes = std::fs::read(entry.path()).map_err(|source| ThemeError::Read {
                    path: entry.path().to_path_buf(),
                    source,
                })?;
                files.insert(rel, bytes);
            }
        }
        Ok(Theme { files, origin: dir.display().to_string() })
    }

    /// `dir` when given, else the built-in default.
    pub fn load(dir: Option<&Path>) -> Result<Theme, ThemeError> {
        dir.map_or_else(|| Ok(Theme::embedded()), Theme::from_dir)
    }

    /// Where the files came from (for messages).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// One file's contents.
    pub fn get(&self, rel: &str) -> Option<&[u8]> {
        self.files.get(rel).map(Vec::as_slice)
    }

    /// Files under `prefix/` (sorted), as (path relative to `prefix/`, contents).
    pub fn files_under<'a>(&'a self, prefix: &str) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        let start = format!("{}/", prefix.trim_end_matches('/'));
        let len = start.len();
        self.files
            .range(start.clone()..)
            .take_while(move |(k, _)| k.starts_with(&start))
            .map(move |(k, v)| (&k[len..], v.as_slice()))
    }

    /// SHA-256 over every path and content: a changed theme re-renders every page.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (path, bytes) in &self.files {
            h.update((path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Write every file into `dir` (created; existing files are never overwritten, so an
    /// eject cannot destroy a customised theme). Returns the number of files written.
    pub fn eject(&self, dir: &Path) -> Result<usize, ThemeError> {
        let clash: Vec<&str> =
            self.files.keys().filter(|rel| dir.join(rel).exists()).map(String::as_str).collect();
        if !clash.is_empty() {
            return Err(ThemeError::Eject {
                path: dir.to_path_buf(),
                reason: format!(
                    "{} file(s) already exist (e.g. {}); eject into an empty folder",
                    clash.len(),
                    clash[0]
                ),
            });
        }
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            bincio_bas::fsx::write_atomic(&path, bytes)
                .map_err(|e| ThemeError::Eject { path: path.clone(), reason: e.to_string() })?;
        }
        Ok(self.files.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_theme_has_templates_static_files_and_the_vendored_map_library() {
        let t = Theme::embedded();
        assert!(t.get("templates/base.html").is_some());
        assert!(t.get("theme.toml").is_some());
        assert!(t.get("vendor/leaflet/dist/leaflet.js").is_some());
        assert!(t.files_under("static").any(|(rel, _)| rel == "css/site.css"));
        assert!(t.files.keys().all(|k| !k.starts_with("node_modules")), "npm folder embedded");
    }

    #[test]
    fn eject_then_load_round_trips_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = Theme::embedded();
        let n = t.eject(tmp.path()).expect("eject");
        assert_eq!(n, t.files.len());
        let back = Theme::from_dir(tmp.path()).expect("load");
        assert_eq!(back.files, t.files);
        assert_eq!(back.fingerprint(), t.fingerprint());
        let err = t.eject(tmp.path()).expect_err("second eject must refuse");
        assert!(err.to_string().contains("already exist"), "{err}");
    }

    #[test]
    fn a_folder_without_templates_is_not_a_theme() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = Theme::from_dir(tmp.path()).expect_err("empty folder");
        assert!(err.to_string().contains("not a theme folder"), "{err}");
    }
}
