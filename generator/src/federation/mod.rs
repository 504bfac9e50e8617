//! Following other Bincio instances (and the reference's feeds), server-side.
//!
//! The root manifest `{root}/index.json` lists followed remotes as shards with an absolute
//! URL (`bincio-gen federation add` writes them; hand-edited ones work the same). A refresh
//! ([`refresh`]: every `render`, and the watcher's periodic [`job`]) fetches each of them
//! from this server, never from a visitor's browser, so the pages stay pre-rendered and a
//! visitor never contacts another host. What arrives is validated item by item and only
//! public, listed activities are kept ([`fetch`], [`validate`]).
//!
//! A remote that fails (refused, timeout, 404, a private instance's 302/401, invalid JSON,
//! too big) keeps its last good copy ([`cache`]): the build never fails or empties because
//! of another host, and the failure is reported by the render, `federation list` and the
//! admin page. The site reads only the cache ([`load`]), so per-user jobs never wait for
//! the network. See `docs/federation.md`.

pub mod cache;
pub mod fetch;
pub mod job;
pub mod validate;

use crate::net::{Client, Limits};
use bincio_bas::{HandleShard, InstanceRoot, RootManifest, Summary, Timestamp, fsx};
use cache::{HttpCache, RemoteCopy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// How many remotes are fetched at the same time.
pub const CONCURRENT_REMOTES: usize = 4;

/// How often `bincio-gen watch` refreshes the remotes by default (minutes).
pub const DEFAULT_REFRESH_MIN: u64 = 15;

/// Why the followed list could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(transparent)]
    Lock(#[from] bincio_bas::manifest::LockError),
    #[error(transparent)]
    Write(#[from] fsx::FsxError),
    #[error("{url:?}: not an http(s) URL with a host")]
    BadUrl { url: String },
    #[error("{name:?} is already followed ({url})")]
    AlreadyFollowed { name: String, url: String },
    #[error("{name:?} is a user of this instance; choose another name with --handle")]
    LocalHandle { name: String },
    #[error("{name:?} is not followed (see `bincio-gen federation list`)")]
    NotFollowed { name: String },
    #[error("{name:?}: a name is 1-64 letters, digits, '.', '_' or '-'")]
    BadName { name: String },
}

/// One remote activity as the site shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoteItem {
    /// The athlete's handle on their instance.
    pub user: String,
    /// Their instance's host (with the port when it is not the default).
    pub host: String,
    /// The activity page on their instance.
    pub page_url: String,
    /// Their feed on their instance.
    pub profile_url: String,
    /// Validated, public or location-restricted (never unlisted); URLs absolute.
    pub summary: Summary,
}

/// The last refresh of one followed remote.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoteStatus {
    pub url: String,
    pub name: String,
    #[serde(default)]
    pub checked_at: Option<Timestamp>,
    /// The last refresh that succeeded (the copy the site shows is from then).
    #[serde(default)]
    pub ok_at: Option<Timestamp>,
    /// Why the last refresh failed (`None` when it worked).
    #[serde(default)]
    pub error: Option<String>,
    /// Activities shown (from the last good copy).
    #[serde(default)]
    pub activities: usize,
    /// Activities the last successful refresh dropped because they do not validate.
    #[serde(default)]
    pub invalid: usize,
    /// A few of their reasons.
    #[serde(default)]
    pub invalid_examples: Vec<String>,
    /// Unlisted activities left out.
    #[serde(default)]
    pub unlisted: usize,
    /// Requests of the last refresh, and how many were answered 304 Not Modified.
    #[serde(default)]
    pub requests: usize,
    #[serde(default)]
    pub not_modified: usize,
    #[serde(default)]
    pub elapsed_ms: u64,
}

/// A followed remote as listed in the root manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Followed {
    pub name: String,
    pub url: String,
}

/// The remotes `{root}/index.json` lists (shards with an absolute URL), in manifest order.
pub fn followed(root: &InstanceRoot) -> Result<Vec<Followed>, FederationError> {
    let path = root.root_manifest();
    let m = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice::<RootManifest>(&b)
            .map_err(|e| FederationError::Manifest { path: path.clone(), reason: e.to_string() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FederationError::Manifest { path, reason: e.to_string() }),
    };
    Ok(m.shards
        .into_iter()
        .filter(|s| bincio_bas::manifest::is_remote_url(&s.url))
        .map(|s| Followed { name: s.handle, url: s.url.trim().to_owned() })
        .collect())
}

/// The outcome of a refresh, one status per followed remote.
#[derive(Clone, Debug, Default)]
pub struct RefreshReport {
    pub remotes: Vec<RemoteStatus>,
}

impl RefreshReport {
    pub fn failing(&self) -> impl Iterator<Item = &RemoteStatus> {
        self.remotes.iter().filter(|r| r.error.is_some())
    }

    /// One line per remote, for the render's summary and `federation refresh`.
    pub fn lines(&self) -> Vec<String> {
        self.remotes.iter().map(status_line).collect()
    }
}

/// "alice: 12 activities (1 invalid dropped), 3 requests, 3 not modified" or the failure.
pub fn status_line(r: &RemoteStatus) -> String {
    match &r.error {
        None => {
            let mut s = format!("{}: {} activities", r.name, r.activities);
            if r.invalid > 0 {
                s.push_str(&format!(", {} invalid dropped", r.invalid));
                if let Some(e) = r.invalid_examples.first() {
                    s.push_str(&format!(" (e.g. {e})"));
                }
            }
            s.push_str(&format!(
                ", {} requests, {} not modified, {} ms",
                r.requests, r.not_modified, r.elapsed_ms
            ));
            s
        }
        Some(e) => {
            let since = r
                .ok_at
                .map(|t| format!("last good copy from {t}"))
                .unwrap_or_else(|| "never fetched".to_owned());
            format!("{}: FAILING: {e}; showing {} activities ({since})", r.name, r.activities)
        }
    }
}

/// A client with the federation limits (5 s connect, 20 s total, 20 MB per document).
pub fn client() -> Client {
    Client::new(Limits::default())
}

/// Fetch every followed remote (a few at a time), update the cache and the status file.
/// A failing remote keeps its last good copy; nothing here fails the caller except the
/// data directory itself (an unreadable manifest).
pub fn refresh(root: &InstanceRoot, client: &Client) -> Result<RefreshReport, FederationError> {
    let list = followed(root)?;
    let cache = HttpCache::new(root);
    let mut statuses = cache.status();
    let mut report = RefreshReport::default();
    // What each remote consists of now, for the cache's clean-up.
    let mut documents: Vec<String> = Vec::new();
    for chunk in list.chunks(CONCURRENT_REMOTES) {
        let results: Vec<(Followed, Result<fetch::Fetched, fetch::FetchError>, u64)> =
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|r| {
                        let cache = &cache;
                        s.spawn(move || {
                            let t0 = std::time::Instant::now();
                            let previous = cache.copy(&r.url);
                            let res = fetch::remote(client, cache, &r.url, previous.as_ref());
                            (r.clone(), res, t0.elapsed().as_millis() as u64)
                        })
                    })
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
        for (r, res, elapsed_ms) in results {
            let now = crate::extract::now();
            let prev = statuses.remove(&r.url).unwrap_or_default();
            let status = match res {
                Ok(f) if f.unchanged => {
                    documents.extend(f.documents);
                    RemoteStatus {
                        url: r.url.clone(),
                        name: r.name.clone(),
                        checked_at: Some(now),
                        ok_at: Some(now),
                        error: None,
                        activities: cache.copy(&r.url).map_or(0, |c| c.items.len()),
                        requests: f.requests,
                        not_modified: f.not_modified,
                        elapsed_ms,
                        // Invalid and unlisted counts are those of the copy, unchanged.
                        ..prev
                    }
                }
                Ok(f) => {
                    documents.extend(f.documents.iter().cloned());
                    let copy =
                        RemoteCopy { url: r.url.clone(), items: f.items, documents: f.documents };
                    cache.put_copy(&copy)?;
                    for reason in &f.invalid {
                        tracing::warn!(remote = %r.name, "remote activity dropped: {reason}");
                    }
                    RemoteStatus {
                        url: r.url.clone(),
                        name: r.name.clone(),
                        checked_at: Some(now),
                        ok_at: Some(now),
                        error: None,
                        activities: copy.items.len(),
                        invalid: f.invalid.len(),
                        invalid_examples: f.invalid.into_iter().take(5).collect(),
                        unlisted: f.unlisted,
                        requests: f.requests,
                        not_modified: f.not_modified,
                        elapsed_ms,
                    }
                }
                Err(e) => {
                    if let Some(c) = cache.copy(&r.url) {
                        documents.extend(c.documents);
                    }
                    tracing::warn!(remote = %r.name, "remote not refreshed, last good copy kept: {e}");
                    RemoteStatus {
                        url: r.url.clone(),
                        name: r.name.clone(),
                        checked_at: Some(now),
                        error: Some(e.to_string()),
                        activities: cache.copy(&r.url).map_or(0, |c| c.items.len()),
                        elapsed_ms,
                        ..prev
                    }
                }
            };
            report.remotes.push(status);
        }
    }
    let map: BTreeMap<String, RemoteStatus> =
        report.remotes.iter().map(|s| (s.url.clone(), s.clone())).collect();
    cache.put_status(&map)?;
    cache.prune(&list.iter().map(|r| r.url.clone()).collect::<Vec<_>>(), &documents);
    Ok(report)
}

/// The remote activities the site shows, from the cache only (no network): every followed
/// remote's last good copy, labelled for the combined feed.
#[derive(Clone, Debug, Default)]
pub struct Remotes {
    /// `(label, item)`, newest first; the label is `alice`, or `alice@host` when `alice`
    /// is also a local user or a user of another followed host.
    pub items: Vec<(String, RemoteItem)>,
    /// The last refresh of every followed remote (the admin page shows it).
    pub status: Vec<RemoteStatus>,
}

/// Read the cache for rendering. `local` are the instance's own handles.
pub fn load(root: &InstanceRoot, local: &[String]) -> Remotes {
    let list = match followed(root) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("federation: {e}");
            return Remotes::default();
        }
    };
    let cache = HttpCache::new(root);
    let status = cache.status();
    let mut items: Vec<RemoteItem> = Vec::new();
    let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
    for r in &list {
        for it in cache.copy(&r.url).map(|c| c.items).unwrap_or_default() {
            // The same activity through two followed URLs (a user and their instance).
            if seen.insert((it.host.clone(), it.user.clone(), it.summary.id.clone())) {
                items.push(it);
            }
        }
    }
    let mut hosts_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for it in &items {
        hosts_of.entry(it.user.as_str()).or_default().insert(it.host.as_str());
    }
    let clash = |it: &RemoteItem| {
        local.iter().any(|h| h == &it.user)
            || hosts_of.get(it.user.as_str()).is_some_and(|h| h.len() > 1)
    };
    let mut labelled: Vec<(String, RemoteItem)> = items
        .iter()
        .map(|it| {
            let label =
                if clash(it) { format!("{}@{}", it.user, it.host) } else { it.user.clone() };
            (label, it.clone())
        })
        .collect();
    labelled.sort_by(|a, b| {
        b.1.summary
            .started_at
            .unix_ms()
            .cmp(&a.1.summary.started_at.unix_ms())
            .then_with(|| (&a.0, &a.1.summary.id).cmp(&(&b.0, &b.1.summary.id)))
    });
    let status = list
        .iter()
        .map(|r| {
            status.get(&r.url).cloned().unwrap_or_else(|| RemoteStatus {
                url: r.url.clone(),
                name: r.name.clone(),
                error: Some("not fetched yet".to_owned()),
                ..RemoteStatus::default()
            })
        })
        .collect();
    Remotes { items: labelled, status }
}

/// Follow `url` under `name` (default: derived from the URL): add its shard to the root
/// manifest under the manifest lock, keeping everything else. Returns the name.
pub fn add(
    root: &InstanceRoot,
    url: &str,
    name: Option<&str>,
) -> Result<Followed, FederationError> {
    let parsed = Url::parse(url).ok_or_else(|| FederationError::BadUrl { url: url.to_owned() })?;
    let url = parsed.to_string();
    let name = match name {
        Some(n) => n.to_owned(),
        None => default_name(&parsed),
    };
    if !valid_name(&name) {
        return Err(FederationError::BadName { name });
    }
    let local = root.users().map_err(|e| FederationError::Manifest {
        path: root.path().to_path_buf(),
        reason: e.to_string(),
    })?;
    if local.iter().any(|h| h.as_str() == name) {
        return Err(FederationError::LocalHandle { name });
    }
    edit_manifest(root, |shards| {
        if let Some(s) = shards.iter().find(|s| s.handle == name || s.url == url) {
            return Err(FederationError::AlreadyFollowed {
                name: s.handle.clone(),
                url: s.url.clone(),
            });
        }
        shards.push(HandleShard { handle: name.clone(), url: url.clone() });
        Ok(())
    })?;
    Ok(Followed { name, url })
}

/// Stop following the remote named `name` (or with that URL); forgets its cache.
pub fn remove(root: &InstanceRoot, name: &str) -> Result<Followed, FederationError> {
    let mut removed = None;
    edit_manifest(root, |shards| {
        let pos = shards
            .iter()
            .position(|s| {
                bincio_bas::manifest::is_remote_url(&s.url) && (s.handle == name || s.url == name)
            })
            .ok_or_else(|| FederationError::NotFollowed { name: name.to_owned() })?;
        let s = shards.remove(pos);
        removed = Some(Followed { name: s.handle, url: s.url });
        Ok(())
    })?;
    let removed = removed.ok_or_else(|| FederationError::NotFollowed { name: name.to_owned() })?;
    HttpCache::new(root).forget(&removed.url);
    Ok(removed)
}

/// Read-modify-write the root manifest's shard list under the manifest lock. Every other
/// key (instance, local shards, unknown keys) is kept as it is on disk.
fn edit_manifest(
    root: &InstanceRoot,
    f: impl FnOnce(&mut Vec<HandleShard>) -> Result<(), FederationError>,
) -> Result<(), FederationError> {
    let _lock = bincio_bas::manifest::lock(root)?;
    let path = root.root_manifest();
    let bad = |reason: String| FederationError::Manifest { path: path.clone(), reason };
    let mut m: serde_json::Value = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| bad(e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({
            "bas_version": bincio_bas::BAS_VERSION,
            "instance": {},
            "generated_at": crate::extract::now(),
            "shards": [],
            "activities": [],
        }),
        Err(e) => return Err(bad(e.to_string())),
    };
    let obj = m.as_object_mut().ok_or_else(|| bad("not a JSON object".to_owned()))?;
    let mut shards: Vec<HandleShard> = match obj.get("shards") {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| bad(format!("shards: {e}")))?,
        None => Vec::new(),
    };
    f(&mut shards)?;
    obj.insert("shards".to_owned(), serde_json::to_value(&shards).map_err(|e| bad(e.to_string()))?);
    fsx::write_json(&path, &m)?;
    Ok(())
}

/// `alice` for `…/data/alice/_merged/index.json` or `…/alice/_merged/…`, else the host.
fn default_name(url: &Url) -> String {
    let parts: Vec<&str> = url.path.split('/').filter(|p| !p.is_empty()).collect();
    if let Some(i) = parts.iter().position(|p| *p == bincio_bas::layout::MERGED_DIR)
        && i > 0
        && bincio_bas::Handle::new(parts[i - 1]).is_ok()
    {
        return parts[i - 1].to_owned();
    }
    url.host.clone()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// An absolute http(s) URL split into what federation needs (no dependency for this).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// From the first `/`, without query or fragment.
    pub path: String,
}

impl Url {
    /// Parse `http(s)://host[:port][/path]`; `None` for anything else (userinfo refused).
    pub fn parse(s: &str) -> Option<Url> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let rest = rest.split(['?', '#']).next().unwrap_or("");
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || p.is_empty() => (h, Some(p.parse::<u16>().ok()?)),
            _ => (authority, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
        {
            return None;
        }
        let default = if scheme == "https" { 443 } else { 80 };
        Some(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| *p != default),
            path: path.to_owned(),
        })
    }

    /// `host` or `host:port`.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host_port())
    }

    /// Resolve a relative reference (`a/b.json`, `../x`, `/abs`) against this URL.
    pub fn join(&self, rel: &str) -> Url {
        let rel = rel.split(['?', '#']).next().unwrap_or("");
        let joined = if rel.starts_with('/') {
            rel.to_owned()
        } else {
            let dir = match self.path.rfind('/') {
                Some(i) => &self.path[..=i],
                None => "/",
            };
            format!("{dir}{rel}")
        };
        let mut out: Vec<&str> = Vec::new();
        for seg in joined.split('/').skip(1) {
            match seg {
                "." => {}
                ".." => {
                    out.pop();
                }
                s => out.push(s),
            }
        }
        Url { path: format!("/{}", out.join("/")), ..self.clone() }
    }

    /// Where an instance's pages live: the part before `/data/` (Bincio's published data
    /// folder), else the origin.
    pub fn instance_base(&self) -> String {
        match self.path.find("/data/") {
            Some(i) => format!("{}{}", self.origin(), &self.path[..i]),
            None => self.origin(),
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.origin(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_join_and_name() {
        let u = Url::parse("https://Alice.example.com:443/data/alice/_merged/index.json").unwrap();
        assert_eq!(u.to_string(), "https://alice.example.com/data/alice/_merged/index.json");
        assert_eq!(u.join("index-2024.json").path, "/data/alice/_merged/index-2024.json");
        assert_eq!(u.join("../bob/x.json").path, "/data/alice/bob/x.json");
        assert_eq!(u.join("/data/index.json").path, "/data/index.json");
        assert_eq!(u.instance_base(), "https://alice.example.com");
        assert_eq!(default_name(&u), "alice");
        let club = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            club.join("data/index.json").to_string(),
            "http://127.0.0.1:8080/data/index.json"
        );
        assert_eq!(default_name(&club), "127.0.0.1");
        assert!(Url::parse("ftp://x/").is_none());
        assert!(Url::parse("https://user@x/").is_none());
        assert!(Url::parse("javascript:alert(1)").is_none());
    }
}
