//! Uploads: activity files, `.gz`, a Strava `activities.csv` and Strava export ZIPs (kept
//! whole for the watcher, which imports them exactly as `bincio-gen import strava-export`).
//!
//! Each file part is streamed to a temp file in the job's folder with a hard cap (never
//! buffered in memory), then classified by content; gzips are decompressed to nowhere to
//! enforce the expansion cap, ZIPs are unpacked entry by entry under count and size caps.
//! Accepted files land in `originals/{job_id}/` (or, with `Config::stage_unkept_uploads`
//! and originals not kept, in `_uploads/{job_id}/`); then one `Upload` request lists them and the answer (202, job id)
//! goes back at once. The watcher does the extraction; progress is `GET /api/jobs/{job}`.
//!
//! The user's storage limit (`crate::quota`) bounds everything: the streamed bytes, what a
//! ZIP may unpack to, and, under the writer lock, the user folder with the staged files in
//! it before they are committed. A refused upload leaves nothing behind.

use super::user_handle;
use crate::error::ApiError;
use crate::jobs;
use crate::quota::{Quota, used_blocking};
use crate::reply::{self, Resp};
use crate::request::{Req, multipart_error};
use crate::sniff::{self, SniffError, UploadKind, ZipCaps};
use crate::state::AppState;
use bincio_bas::queue::ChangeKind;
use hyper::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

/// Stream one multipart field into a temp file in `dir`, failing with 413 past `cap`.
pub async fn stream_field_to_temp(
    field: &mut multer::Field<'static>,
    dir: &Path,
    cap: u64,
    what: &str,
) -> Result<(NamedTempFile, u64), ApiError> {
    let tmp = tempfile::Builder::new().prefix(".upload-").suffix(".part").tempfile_in(dir)?;
    let mut out = tokio::fs::File::from_std(tmp.as_file().try_clone()?);
    let mut len = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        len += chunk.len() as u64;
        if len > cap {
            return Err(ApiError::TooLarge(format!("{what} over {cap} bytes")));
        }
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok((tmp, len))
}

fn form_bool(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

/// One refused file.
#[derive(serde::Serialize)]
struct Rejected {
    name: String,
    reason: String,
}

/// `POST /api/upload` (fields `files`, repeated; `store_original`) and
/// `POST /api/upload/strava-zip` (field `file`). Both accept any mix of supported files.
pub async fn upload(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let mut lim = st.cfg.limits.clone();
    // The instance's upload limit (`upload_limit_mb`, read again when `bincio.toml`
    // changes); refused on the declared length before a byte is read, else while streaming.
    let limit_mb = st.config().upload_limit_mb;
    if limit_mb > 0 {
        lim.upload_body_bytes = lim.upload_body_bytes.min(u64::from(limit_mb) * 1024 * 1024);
    }
    if req.content_length().is_some_and(|n| n > lim.upload_body_bytes) {
        return Err(ApiError::TooLarge(format!(
            "upload over this instance's limit of {} bytes ({limit_mb} MiB, upload_limit_mb); \
             import larger Strava exports with `bincio-gen import strava-export`",
            lim.upload_body_bytes
        )));
    }
    let mut mp = req.multipart(lim.upload_body_bytes)?;
    let job_id = jobs::new_job_id()?;
    let store_default = st.config().store_originals;
    let ud = st.root.user(&handle);
    let quota = Quota::load(st).await?;
    let user_dir = ud.path().to_path_buf();
    let room = quota.room(tokio::task::spawn_blocking(move || used_blocking(&user_dir)).await?);
    if room == 0 {
        return Err(quota.exceeded());
    }
    // Stage into a private folder first; it is renamed into place at commit.
    let staging = ud.uploads_dir().join(format!(".staging-{job_id}"));
    std::fs::create_dir_all(&staging)?;
    let result = receive(&mut mp, &staging, &lim, store_default, quota, room).await;
    let (files, mut rejected, store) = match result {
        Ok(v) => v,
        Err(e) => {
            let s = staging.clone();
            let _ = tokio::task::spawn_blocking(move || super::remove_tree(&s)).await;
            return Err(e);
        }
    };
    // Classify, unpack ZIPs, check gzips: CPU and disk work, off the async threads.
    let caps = ZipCaps {
        entries: lim.zip_entries,
        files: lim.zip_files,
        entry_bytes: lim.decompressed_file_bytes,
        // What a ZIP unpacks to must also fit in the user's room (checked exactly at commit).
        total_bytes: lim.zip_total_bytes.min(room),
        ratio: lim.max_expansion_ratio,
    };
    let room_binds = room < lim.zip_total_bytes;
    let max_dec = lim.decompressed_file_bytes;
    let stg = staging.clone();
    let checked = tokio::task::spawn_blocking(move || classify_all(files, &stg, max_dec, caps))
        .await?
        .map_err(|e| match e {
            Refusal::ZipTotal if room_binds => quota.exceeded(),
            Refusal::ZipTotal => ApiError::TooLarge(format!(
                "a ZIP expands past {} bytes (compression bomb)",
                caps.total_bytes
            )),
            Refusal::Api(e) => e,
        });
    let (accepted, more_rejected) = match checked {
        Ok(v) => v,
        Err(e) => {
            let s = staging.clone();
            let _ = tokio::task::spawn_blocking(move || super::remove_tree(&s)).await;
            return Err(e);
        }
    };
    rejected.extend(more_rejected);
    if accepted.is_empty() {
        let s = staging.clone();
        let _ = tokio::task::spawn_blocking(move || super::remove_tree(&s)).await;
        let reason = rejected
            .first()
            .map(|r| format!("{}: {}", r.name, r.reason))
            .unwrap_or("no files".into());
        return Err(ApiError::Unsupported(format!("nothing to import ({reason})")));
    }
    // Commit under the writer lock: one rename of the staged folder, then the request.
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h, jid) = (st.root.clone(), handle.clone(), job_id.clone());
    let names: Vec<String> = accepted.clone();
    let store = store || !st.cfg.stage_unkept_uploads;
    let listed = tokio::task::spawn_blocking(move || {
        let ud = root.user(&h);
        // The staged files are inside the user folder: this counts them, and any other
        // upload committed meanwhile (the lock makes this check and the rename one step).
        if let Err(e) = quota.check(used_blocking(ud.path())) {
            let _ = super::remove_tree(&staging);
            return Err(e);
        }
        let (base, rel) =
            if store { (ud.originals_dir(), "originals") } else { (ud.uploads_dir(), "_uploads") };
        std::fs::create_dir_all(&base)?;
        let target = base.join(&jid);
        std::fs::rename(&staging, &target)?;
        let files: Vec<String> = names.iter().map(|n| format!("{rel}/{jid}/{n}")).collect();
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Upload, files.clone(), None)?;
        Ok::<_, ApiError>(files)
    })
    .await??;
    Ok(reply::json(
        StatusCode::ACCEPTED,
        &json!({"ok": true, "job_id": job_id, "files": listed, "rejected": rejected}),
    ))
}

type Received = (Vec<(String, PathBuf)>, Vec<Rejected>, bool);

async fn receive(
    mp: &mut multer::Multipart<'static>,
    staging: &Path,
    lim: &crate::config::Limits,
    store_default: bool,
    quota: Quota,
    mut room: u64,
) -> Result<Received, ApiError> {
    let mut files = Vec::new();
    let mut rejected = Vec::new();
    let mut store = store_default;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        // Decide from the name before any await (a borrowed name must not live across it).
        let is_file = matches!(field.name(), Some("files" | "file"));
        let is_store = field.name() == Some("store_original");
        if is_store {
            let v = field.text().await.map_err(multipart_error)?;
            store = form_bool(&v);
            continue;
        }
        if !is_file {
            continue; // `overwrite`, `private` and unknown fields are ignored
        }
        if files.len() >= lim.upload_files {
            return Err(ApiError::TooLarge(format!(
                "at most {} files per upload",
                lim.upload_files
            )));
        }
        let client = field.file_name().unwrap_or("").to_owned();
        let Some(name) = crate::names::safe_file_name(&client) else {
            rejected.push(Rejected { name: client, reason: "no usable file name".into() });
            continue;
        };
        // ZIPs may be as large as the whole request; single activity files have their own cap.
        let is_zip_name = name.to_ascii_lowercase().ends_with(".zip");
        let cap = if is_zip_name { lim.upload_body_bytes } else { lim.activity_file_bytes };
        // Past the user's room the upload is refused while streaming, not after.
        let limit = cap.min(room);
        let (tmp, len) = match stream_field_to_temp(&mut field, staging, limit, &name).await {
            Err(ApiError::TooLarge(_)) if limit < cap => return Err(quota.exceeded()),
            other => other?,
        };
        room -= len;
        let path = tmp.into_temp_path().keep().map_err(|e| ApiError::internal(e.error))?;
        files.push((name, path));
    }
    Ok((files, rejected, store))
}

/// Why [`classify_all`] refused the whole request.
enum Refusal {
    /// A ZIP's entries together passed `ZipCaps::total_bytes` (which the caller may have
    /// lowered to the user's remaining room, and so knows which answer fits).
    ZipTotal,
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Self {
        Self::Api(e.into())
    }
}

/// Give each received file its final name in the staging folder (or unpack it), and
/// refuse what is not an activity. Returns accepted names (relative to staging).
fn classify_all(
    files: Vec<(String, PathBuf)>,
    staging: &Path,
    max_decompressed: u64,
    caps: ZipCaps,
) -> Result<(Vec<String>, Vec<Rejected>), Refusal> {
    let mut accepted: Vec<String> = Vec::new();
    let mut rejected = Vec::new();
    let unique = |name: &str, taken: &[String]| -> String {
        if !taken.iter().any(|t| t == name) && !staging.join(name).exists() {
            return name.to_owned();
        }
        (1..)
            .map(|i| format!("{i}-{name}"))
            .find(|n| !taken.contains(n) && !staging.join(n).exists())
            .unwrap_or_default()
    };
    for (name, tmp) in files {
        let kind = match sniff::classify(&tmp, max_decompressed, caps.ratio) {
            Ok(k) => k,
            // A bomb refuses the whole request: nothing of it is kept.
            Err(e @ (SniffError::Bomb(_) | SniffError::Ratio { .. })) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(ApiError::TooLarge(format!("{name}: {e}")).into());
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                rejected.push(Rejected { name, reason: e.to_string() });
                continue;
            }
        };
        let final_name = match kind {
            UploadKind::Zip => {
                let dest = staging.join(format!(".zip-{}", accepted.len()));
                let out = sniff::extract_zip(&tmp, &dest, caps);
                // A Strava export (its `activities.csv` inside) is kept whole once its
                // entries passed every cap: the watcher imports it with the command line's
                // own function (`strava::export::import_zip`), photos from `media/` and
                // manual entries included. Any other ZIP is unpacked here.
                let export = out.as_ref().is_ok_and(|(entries, _)| {
                    entries.iter().any(|e| e.name.eq_ignore_ascii_case("activities.csv"))
                });
                if export {
                    let _ = std::fs::remove_dir_all(&dest);
                    let n = unique(&with_ext(&name, "zip"), &accepted);
                    std::fs::rename(&tmp, staging.join(&n))?;
                    accepted.push(n);
                    continue;
                }
                let _ = std::fs::remove_file(&tmp);
                let (entries, _skipped) = match out {
                    Ok(v) => v,
                    Err(SniffError::ZipTotal(_)) => return Err(Refusal::ZipTotal),
                    Err(
                        e @ (SniffError::Bomb(_)
                        | SniffError::Ratio { .. }
                        | SniffError::TooMany(_)),
                    ) => {
                        return Err(ApiError::TooLarge(format!("{name}: {e}")).into());
                    }
                    Err(e) => {
                        rejected.push(Rejected { name, reason: e.to_string() });
                        let _ = std::fs::remove_dir_all(&dest);
                        continue;
                    }
                };
                for entry in entries {
                    match sniff::classify(&entry.path, max_decompressed, caps.ratio) {
                        Err(e @ (SniffError::Bomb(_) | SniffError::Ratio { .. })) => {
                            let msg = format!("{name}: {}: {e}", entry.name);
                            return Err(ApiError::TooLarge(msg).into());
                        }
                        Ok(UploadKind::Zip) | Err(_) => {
                            let _ = std::fs::remove_file(&entry.path);
                            rejected.push(Rejected {
                                name: entry.name,
                                reason: "not an activity file".into(),
                            });
                        }
                        Ok(_) => {
                            let n = unique(&entry.name, &accepted);
                            std::fs::rename(&entry.path, staging.join(&n))?;
                            accepted.push(n);
                        }
                    }
                }
                let _ = std::fs::remove_dir_all(&dest);
                if accepted.len() > caps.files {
                    let msg = format!("at most {} files per upload", caps.files);
                    return Err(ApiError::TooLarge(msg).into());
                }
                continue;
            }
            UploadKind::Activity(k) => with_ext(&name, k.ext()),
            UploadKind::Gzip(k) => with_ext(&name, &format!("{}.gz", k.ext())),
            UploadKind::Csv => with_ext(&name, "csv"),
        };
        let n = unique(&final_name, &accepted);
        std::fs::rename(&tmp, staging.join(&n))?;
        accepted.push(n);
    }
    Ok((accepted, rejected))
}

/// Make the name end with the extension of the detected content (case-insensitive), so
/// the watcher never trusts a lying extension.
fn with_ext(name: &str, ext: &str) -> String {
    if name.to_ascii_lowercase().ends_with(&format!(".{ext}")) {
        name.to_owned()
    } else {
        format!("{name}.{ext}")
    }
}

/// Remove the private staging folders (`{handle}/_uploads/.staging-{job}`) of uploads a
/// killed daemon was receiving: they were never committed (no request names them), and
/// only one `serve` runs per data directory, so at start-up none belongs to a live
/// request. Returns how many were removed.
pub fn remove_stale_staging(root: &bincio_bas::InstanceRoot) -> std::io::Result<usize> {
    let mut removed = 0;
    for handle in root.users()? {
        let uploads = root.user(&handle).uploads_dir();
        let Ok(entries) = std::fs::read_dir(&uploads) else { continue };
        for e in entries.flatten() {
            let staged = e.file_name().to_string_lossy().starts_with(".staging-");
            // Never follows a symlink: only the daemon's own folders are removed.
            if staged && e.file_type().is_ok_and(|t| t.is_dir()) {
                super::remove_tree(&e.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// `GET /api/jobs/{job}`: progress of one of the caller's jobs (admins see all).
pub async fn job(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let job_id = req.params[0].clone();
    if !bincio_bas::queue::is_valid_job_id(&job_id) {
        return Err(ApiError::InvalidPath("job id"));
    }
    let user = st.require_user(req.headers()).await?;
    let root = st.root.clone();
    let view =
        tokio::task::spawn_blocking(move || jobs::read_job_blocking(&root, &job_id)).await??;
    match view {
        Some(v) if v.handle == user.handle || user.is_admin => Ok(reply::ok(&v)),
        _ => Err(ApiError::NotFound("job")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_follows_content() {
        assert_eq!(with_ext("ride.FIT", "fit"), "ride.FIT");
        assert_eq!(with_ext("ride.gpx", "fit"), "ride.gpx.fit");
        assert_eq!(with_ext("a.gpx.gz", "gpx.gz"), "a.gpx.gz");
    }
}
