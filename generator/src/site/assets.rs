//! Theme assets: the theme's own `static/` tree and the pinned browser libraries.
//!
//! Vendor files come from `{theme}/node_modules/<name>/` (filled by `npm ci` from the
//! committed lockfile) and land in `out/static/vendor/<name>-<version>/`, the version read
//! from the installed `package.json`, so a library upgrade changes every URL and no browser
//! keeps a stale copy. Nothing is ever fetched from a CDN at run time.

use super::SiteError;
use crate::merge::copy_if_changed;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
struct ThemeToml {
    #[serde(default)]
    vendor: BTreeMap<String, VendorEntry>,
}

#[derive(Debug, Deserialize)]
struct VendorEntry {
    files: Vec<String>,
}

/// One installed vendor library: name, version, and its URL prefix in the output.
#[derive(Clone, Debug)]
pub struct Vendor {
    pub name: String,
    pub version: String,
    /// `/static/vendor/<name>-<version>/`.
    pub url: String,
}

/// Copy the theme's `static/` and vendor files into `out/static/`. Returns the vendor
/// libraries, the relative output paths produced and the number of files written.
pub fn copy_assets(
    theme_dir: &Path,
    out_dir: &Path,
) -> Result<(Vec<Vendor>, Vec<String>, usize), SiteError> {
    let mut produced = Vec::new();
    let mut written = 0;
    let static_dir = theme_dir.join("static");
    for entry in walkdir::WalkDir::new(&static_dir).sort_by_file_name() {
        let entry = entry
            .map_err(|e| SiteError::File { path: static_dir.clone(), reason: e.to_string() })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&static_dir) else { continue };
        let rel = format!("static/{}", rel.to_string_lossy().replace('\\', "/"));
        written += copy_if_changed(entry.path(), &out_dir.join(&rel))
            .map_err(|(path, reason)| SiteError::File { path, reason })?;
        produced.push(rel);
    }

    let toml_path = theme_dir.join("theme.toml");
    let theme: ThemeToml = match std::fs::read_to_string(&toml_path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| SiteError::File { path: toml_path.clone(), reason: e.to_string() })?,
        Err(_) => ThemeToml::default(),
    };
    let mut vendors = Vec::new();
    for (name, entry) in &theme.vendor {
        let pkg_dir = theme_dir.join("node_modules").join(name);
        let pkg_json = pkg_dir.join("package.json");
        let version =
            read_version(&pkg_json).ok_or(SiteError::MissingVendor { path: pkg_json.clone() })?;
        let prefix = format!("static/vendor/{name}-{version}");
        for f in &entry.files {
            let src: PathBuf = pkg_dir.join(f);
            if !src.is_file() {
                return Err(SiteError::MissingVendor { path: src });
            }
            let file_name = Path::new(f)
                .strip_prefix("dist")
                .unwrap_or(Path::new(f))
                .to_string_lossy()
                .replace('\\', "/");
            let rel = format!("{prefix}/{file_name}");
            written += copy_if_changed(&src, &out_dir.join(&rel))
                .map_err(|(path, reason)| SiteError::File { path, reason })?;
            produced.push(rel);
        }
        vendors.push(Vendor {
            name: name.clone(),
            version: version.clone(),
            url: format!("/{prefix}/"),
        });
    }
    Ok((vendors, produced, written))
}

fn read_version(package_json: &Path) -> Option<String> {
    let bytes = std::fs::read(package_json).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let version = v.get("version")?.as_str()?;
    // A version is used in a URL: keep it to safe characters.
    version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        .then(|| version.to_owned())
}
