//! The federation cache in the data directory (`{root}/.federation/`), never in the output:
//!
//! - `http/{key}.json`: the last good body of each remote document with its `ETag` and
//!   `Last-Modified`, so an unchanged remote costs one conditional request answered 304;
//! - `remotes/{key}.json`: each followed remote's last good activities, which the site
//!   renders whatever state the remote is in now;
//! - `status.json`: the last refresh of each remote (when, what it yielded, why it failed).
//!
//! `{key}` is a short hash of the URL. Every file is written atomically; a cache file that
//! cannot be read counts as absent (the next refresh fetches again).

use super::{RemoteItem, RemoteStatus};
use bincio_bas::InstanceRoot;
use bincio_bas::fsx;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One cached document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpEntry {
    pub url: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// The body as received (valid JSON text).
    pub body: String,
}

/// A remote's last good activities.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RemoteCopy {
    pub url: String,
    pub items: Vec<RemoteItem>,
    /// The documents it was built from (the HTTP cache keeps exactly these).
    #[serde(default)]
    pub documents: Vec<String>,
}

/// The cache folder of one instance.
#[derive(Clone, Debug)]
pub struct HttpCache {
    dir: PathBuf,
}

/// The short file name of a URL.
pub fn key(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

impl HttpCache {
    pub fn new(root: &InstanceRoot) -> Self {
        Self { dir: root.federation_dir() }
    }

    fn http(&self, url: &str) -> PathBuf {
        self.dir.join("http").join(format!("{}.json", key(url)))
    }

    fn remote(&self, url: &str) -> PathBuf {
        self.dir.join("remotes").join(format!("{}.json", key(url)))
    }

    fn status_file(&self) -> PathBuf {
        self.dir.join("status.json")
    }

    /// The cached document of `url` (checked to be that URL's, not a hash collision).
    pub fn get(&self, url: &str) -> Option<HttpEntry> {
        read::<HttpEntry>(&self.http(url)).filter(|e| e.url == url)
    }

    /// Store a document. A cache that cannot be written only costs a full request next time.
    pub fn put(&self, entry: &HttpEntry) {
        let path = self.http(&entry.url);
        if let Err(e) = fsx::write_json_if_changed(&path, entry) {
            tracing::warn!(path = %path.display(), "federation cache not written: {e}");
        }
    }

    /// The last good copy of a remote.
    pub fn copy(&self, url: &str) -> Option<RemoteCopy> {
        read::<RemoteCopy>(&self.remote(url)).filter(|c| c.url == url)
    }

    /// Replace a remote's last good copy.
    pub fn put_copy(&self, copy: &RemoteCopy) -> Result<(), fsx::FsxError> {
        fsx::write_json_if_changed(&self.remote(&copy.url), copy).map(|_| ())
    }

    /// Forget a remote (`federation remove`): its copy and its documents.
    pub fn forget(&self, url: &str) {
        if let Some(c) = self.copy(url) {
            for d in &c.documents {
                let _ = std::fs::remove_file(self.http(d));
            }
        }
        let _ = std::fs::remove_file(self.remote(url));
        let mut status = self.status();
        if status.remove(url).is_some() {
            let _ = self.put_status(&status);
        }
    }

    /// Remove copies of remotes no longer `followed` and cached documents none of them
    /// consists of (`documents`, as the refresh just found them).
    pub fn prune(&self, followed: &[String], documents: &[String]) {
        let keep_remotes: Vec<String> =
            followed.iter().map(|u| format!("{}.json", key(u))).collect();
        let keep_http: Vec<String> = documents.iter().map(|u| format!("{}.json", key(u))).collect();
        prune_dir(&self.dir.join("remotes"), &keep_remotes);
        prune_dir(&self.dir.join("http"), &keep_http);
    }

    /// Every remote's last refresh, by URL.
    pub fn status(&self) -> BTreeMap<String, RemoteStatus> {
        read(&self.status_file()).unwrap_or_default()
    }

    pub fn put_status(&self, status: &BTreeMap<String, RemoteStatus>) -> Result<(), fsx::FsxError> {
        fsx::write_json_if_changed(&self.status_file(), status).map(|_| ())
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes)
        .map_err(|e| tracing::warn!(path = %path.display(), "federation cache ignored: {e}"))
        .ok()
}

fn prune_dir(dir: &Path, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !keep.contains(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
