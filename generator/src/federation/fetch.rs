//! Fetching one followed remote: resolve what its URL is (a user's year-sharded manifest, a
//! flat feed, an instance's root manifest, a bare instance URL), fetch every document with
//! conditional requests against the HTTP cache, and validate what arrives item by item.
//!
//! Documents a remote lists (year shards, user shards) are fetched only from the same
//! origin as the document that lists them, so a remote cannot make this server request
//! arbitrary hosts (its own loopback services, say). An instance's root manifest is followed
//! one level: its absolute shards are the instances *it* follows, and following is not
//! transitive.

use super::cache::{HttpCache, HttpEntry, RemoteCopy};
use super::validate;
use super::{RemoteItem, Url};
use crate::net::{Client, NetError};
use bincio_bas::{Handle, Privacy};
use serde_json::Value;
use std::collections::BTreeSet;

/// Why a remote could not be refreshed (its last good copy is kept).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(
        "{url}: answered {status} (redirects to {location}: a private instance asks for a login)"
    )]
    Redirect { url: String, status: u16, location: String },
    #[error("{url}: answered {status}: a private instance, it asks for a login")]
    Private { url: String, status: u16 },
    #[error("{url}: answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: not JSON: {reason}")]
    Json { url: String, reason: String },
    #[error("{url}: {reason}")]
    NotFeed { url: String, reason: String },
    #[error("{url}: answered 304 Not Modified but nothing is cached")]
    NoCachedCopy { url: String },
}

/// What one remote yielded.
#[derive(Debug, Default)]
pub struct Fetched {
    pub items: Vec<RemoteItem>,
    /// Activities dropped because they do not validate, with the reason.
    pub invalid: Vec<String>,
    /// Unlisted activities left out.
    pub unlisted: usize,
    /// Requests made, and how many were answered 304.
    pub requests: usize,
    pub not_modified: usize,
    /// Every document URL this remote consists of (for the cache's clean-up).
    pub documents: Vec<String>,
    /// Every document of the last good copy answered 304: the copy stands as it is, and
    /// `items` is empty (nothing was parsed).
    pub unchanged: bool,
}

/// Fetch a followed URL completely, or fail as a whole. With the remote's last good copy,
/// its documents are first asked for conditionally: when every one answers 304, nothing is
/// parsed or validated again (an unchanged remote costs its conditional requests only).
pub fn remote(
    client: &Client,
    cache: &HttpCache,
    url: &str,
    previous: Option<&RemoteCopy>,
) -> Result<Fetched, FetchError> {
    let mut f = Fetched::default();
    if let Some(copy) = previous.filter(|c| !c.documents.is_empty()) {
        let mut unchanged = true;
        for d in &copy.documents {
            let Some(u) = Url::parse(d) else {
                unchanged = false;
                break;
            };
            if request(client, cache, &u, &mut f)?.is_some() {
                unchanged = false;
                break;
            }
        }
        if unchanged {
            f.unchanged = true;
            f.documents = copy.documents.clone();
            return Ok(f);
        }
        // Something changed: gather everything again (what was just fetched is cached, so
        // it is asked for conditionally again and answers 304).
        f.documents.clear();
    }
    let start = Url::parse(url).ok_or_else(|| FetchError::NotFeed {
        url: url.to_owned(),
        reason: "not an http(s) URL".to_owned(),
    })?;
    let candidates: Vec<Url> = if start.path.ends_with(".json") {
        vec![start]
    } else {
        // A bare instance URL: its published manifest is `/data/index.json` behind Bincio's
        // nginx config, `/index.json` when the data folder itself is served.
        vec![start.join("data/index.json"), start.join("index.json")]
    };
    let mut first_error = None;
    for candidate in candidates {
        match document(client, cache, &candidate, &mut f) {
            Ok(doc) => {
                collect(client, cache, &candidate, &doc, true, &mut f)?;
                return Ok(f);
            }
            // Only "there is nothing here" moves on to the next guess; a private or broken
            // instance is reported as it is.
            Err(e @ (FetchError::Status { status: 404, .. } | FetchError::Json { .. })) => {
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(first_error.unwrap_or_else(|| FetchError::NotFeed {
        url: url.to_owned(),
        reason: "no BAS feed found".to_owned(),
    }))
}

/// GET one document, conditionally when it is cached; 304 serves the cached copy.
fn document(
    client: &Client,
    cache: &HttpCache,
    url: &Url,
    f: &mut Fetched,
) -> Result<Value, FetchError> {
    let u = url.to_string();
    let body = match request(client, cache, url, f)? {
        Some(fresh) => fresh,
        None => cache.get(&u).ok_or_else(|| FetchError::NoCachedCopy { url: u.clone() })?.body,
    };
    serde_json::from_str(&body).map_err(|e| FetchError::Json { url: u, reason: e.to_string() })
}

/// One conditional GET: `None` when the cached copy is still good (304), else the new body
/// (valid JSON, now cached). Any other answer is the remote's failure.
fn request(
    client: &Client,
    cache: &HttpCache,
    url: &Url,
    f: &mut Fetched,
) -> Result<Option<String>, FetchError> {
    let u = url.to_string();
    let cached = cache.get(&u);
    let mut headers: Vec<(&str, &str)> = vec![("Accept", "application/json")];
    if let Some(c) = &cached {
        if let Some(e) = &c.etag {
            headers.push(("If-None-Match", e));
        }
        if let Some(m) = &c.last_modified {
            headers.push(("If-Modified-Since", m));
        }
    }
    f.requests += 1;
    let r = client.get(&u, &headers)?;
    match r.status {
        304 => {
            f.not_modified += 1;
            if cached.is_none() {
                return Err(FetchError::NoCachedCopy { url: u });
            }
            f.documents.push(u);
            Ok(None)
        }
        200 => {
            let etag = r.header("etag").map(str::to_owned);
            let last_modified = r.header("last-modified").map(str::to_owned);
            let text = String::from_utf8(r.body)
                .map_err(|_| FetchError::Json { url: u.clone(), reason: "not UTF-8".to_owned() })?;
            // Parse before caching: an invalid answer never replaces a good cached copy.
            serde_json::from_str::<Value>(&text)
                .map_err(|e| FetchError::Json { url: u.clone(), reason: e.to_string() })?;
            let entry = HttpEntry { url: u.clone(), etag, last_modified, body: text };
            cache.put(&entry);
            f.documents.push(u);
            Ok(Some(entry.body))
        }
        s @ (301 | 302 | 303 | 307 | 308) => Err(FetchError::Redirect {
            url: u,
            status: s,
            location: r.header("location").unwrap_or("nowhere").to_owned(),
        }),
        s @ (401 | 403) => Err(FetchError::Private { url: u, status: s }),
        s => Err(FetchError::Status { url: u, status: s }),
    }
}

/// Gather the activities of a document: a user feed (with its year shards) or, at the top
/// level only, an instance's root manifest (with its user shards).
fn collect(
    client: &Client,
    cache: &HttpCache,
    url: &Url,
    doc: &Value,
    top: bool,
    f: &mut Fetched,
) -> Result<(), FetchError> {
    let not_feed =
        |reason: &str| FetchError::NotFeed { url: url.to_string(), reason: reason.to_owned() };
    let obj = doc.as_object().ok_or_else(|| not_feed("not a JSON object"))?;
    if let Some(v) = obj.get("bas_version").and_then(Value::as_str)
        && !bincio_bas::is_supported_version(v)
    {
        return Err(not_feed(&format!("BAS version {v} is not supported")));
    }
    let shards = obj.get("shards").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(owner) = obj.get("owner") {
        let handle = owner
            .get("handle")
            .and_then(Value::as_str)
            .and_then(|h| Handle::new(h).ok())
            .ok_or_else(|| not_feed("owner.handle is missing or not a valid handle"))?;
        let mut seen = BTreeSet::new();
        add_items(url, handle.as_str(), obj.get("activities"), &mut seen, f);
        for s in &shards {
            let Some(rel) = s.get("url").and_then(Value::as_str) else { continue };
            let shard_url = same_origin(url, rel)?;
            let shard = document(client, cache, &shard_url, f)?;
            add_items(&shard_url, handle.as_str(), shard.get("activities"), &mut seen, f);
        }
        return Ok(());
    }
    if !top {
        return Err(not_feed("a user shard that is not a user feed (no owner)"));
    }
    if shards.is_empty() && obj.get("instance").is_none() {
        return Err(not_feed("neither a user feed (owner) nor an instance manifest (shards)"));
    }
    for s in &shards {
        let Some(rel) = s.get("url").and_then(Value::as_str) else { continue };
        if bincio_bas::manifest::is_remote_url(rel) {
            continue;
        }
        let user_url = same_origin(url, rel)?;
        let user = document(client, cache, &user_url, f)?;
        collect(client, cache, &user_url, &user, false, f)?;
    }
    Ok(())
}

/// A URL a remote document lists, resolved against it; refused on another origin.
fn same_origin(base: &Url, rel: &str) -> Result<Url, FetchError> {
    let target = if bincio_bas::manifest::is_remote_url(rel) {
        Url::parse(rel)
    } else {
        Some(base.join(rel))
    };
    match target {
        Some(t) if t.origin() == base.origin() => Ok(t),
        _ => Err(FetchError::NotFeed {
            url: base.to_string(),
            reason: format!("lists {rel:?}, which is not on {}", base.origin()),
        }),
    }
}

/// Validate and keep a document's public, listed activities (first copy of an ID wins).
fn add_items(
    doc_url: &Url,
    handle: &str,
    list: Option<&Value>,
    seen: &mut BTreeSet<String>,
    f: &mut Fetched,
) {
    let Some(list) = list.and_then(Value::as_array) else { return };
    for item in list {
        let mut s = match validate::summary(item) {
            Ok(s) => s,
            Err(reason) => {
                f.invalid.push(format!("{doc_url}: {reason}"));
                continue;
            }
        };
        if s.privacy == Privacy::Unlisted {
            // The reference lists unlisted activities in its shards; they are not for us.
            f.unlisted += 1;
            continue;
        }
        if !seen.insert(s.id.clone()) {
            continue;
        }
        let base = doc_url.instance_base();
        let page_url = s
            .page_url
            .as_deref()
            .and_then(Url::parse)
            .filter(|p| p.origin() == doc_url.origin())
            .map(|p| p.to_string())
            .unwrap_or_else(|| format!("{base}/activity/{}/", s.id));
        let abs = |u: Option<String>| {
            u.filter(|u| !u.contains(".."))
                .and_then(|u| same_origin(doc_url, &u).ok())
                .map(|u| u.to_string())
        };
        s.detail_url = abs(s.detail_url.take());
        s.track_url = abs(s.track_url.take());
        if s.privacy == Privacy::NoGps {
            s.preview_coords = None;
            s.track_url = None;
        }
        // Heavy or personal fields the combined feed does not carry.
        s.mmp = None;
        s.best_efforts = None;
        s.source = None;
        s.handle = None;
        // Only the flag the card shows; the rest of `custom` is the remote's business.
        s.custom = s
            .custom
            .take()
            .map(|c| {
                c.into_iter().filter(|(k, _)| k == "highlight").collect::<serde_json::Map<_, _>>()
            })
            .filter(|c| !c.is_empty());
        s.page_url = Some(page_url.clone());
        f.items.push(RemoteItem {
            user: handle.to_owned(),
            host: doc_url.host_port(),
            profile_url: format!("{base}/u/{handle}/"),
            page_url,
            summary: s,
        });
    }
}
