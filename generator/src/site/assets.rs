//! Theme assets: the theme's own `static/` tree and the pinned browser libraries.
//!
//! Vendor files are committed under the theme in `vendor/<name>/` (written by
//! `scripts/update-vendor.sh` from the tarball pinned in `package-lock.json`, checked against
//! `vendor/<name>/SHA256SUMS` by a test) and land in `out/static/vendor/<name>-<version>/`,
//! the version read from the vendored `package.json`, so a library upgrade changes every URL
//! and no browser keeps a stale copy. Nothing is ever fetched from a CDN at run time.

use super::SiteError;
use crate::theme::Theme;
use bincio_bas::fsx;
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

/// Write the theme's `static/` files and its vendored libraries into `out/static/`. Returns
/// the vendor libraries, the relative output paths produced and the number of files written.
/// They are published files like the pages (mode 0644, so the web server's user can read
/// them), written as `dest` says (see `render::Out`).
pub fn copy_assets(
    theme: &Theme,
    out_dir: &Path,
    dest: fsx::Dest,
) -> Result<(Vec<Vendor>, Vec<String>, usize), SiteError> {
    let mut produced = Vec::new();
    let mut written = 0;
    let mut put = |rel: String, bytes: &[u8]| -> Result<(), SiteError> {
        if fsx::write_public_if_changed(&out_dir.join(&rel), bytes, dest)? {
            written += 1;
        }
        produced.push(rel);
        Ok(())
    };
    for (rel, bytes) in theme.files_under("static") {
        put(format!("static/{rel}"), bytes)?;
    }

    let theme_toml: ThemeToml = match theme.get("theme.toml") {
        Some(bytes) => std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str(text).map_err(|e| e.to_string()))
            .map_err(|reason| SiteError::File {
                path: PathBuf::from(format!("{}/theme.toml", theme.origin())),
                reason,
            })?,
        None => ThemeToml::default(),
    };
    let mut vendors = Vec::new();
    for (name, entry) in &theme_toml.vendor {
        let pkg = format!("vendor/{name}");
        let missing = |f: &str| SiteError::MissingVendor {
            path: PathBuf::from(format!("{}/{pkg}/{f}", theme.origin())),
        };
        let version = theme
            .get(&format!("{pkg}/package.json"))
            .and_then(read_version)
            .ok_or_else(|| missing("package.json"))?;
        let prefix = format!("static/vendor/{name}-{version}");
        for f in &entry.files {
            let bytes = theme.get(&format!("{pkg}/{f}")).ok_or_else(|| missing(f))?;
            let file_name = f.strip_prefix("dist/").unwrap_or(f);
            put(format!("{prefix}/{file_name}"), bytes)?;
        }
        vendors.push(Vendor {
            name: name.clone(),
            version: version.clone(),
            url: format!("/{prefix}/"),
        });
    }
    Ok((vendors, produced, written))
}

fn read_version(package_json: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(package_json).ok()?;
    let version = v.get("version")?.as_str()?;
    // A version is used in a URL: keep it to safe characters.
    version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        .then(|| version.to_owned())
}
