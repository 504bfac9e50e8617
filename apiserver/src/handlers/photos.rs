//! Activity photos: sniffed by magic bytes, stored under a name the server chooses
//! (`{unix_ms}-{hex}.{ext}` from the detected type), so no `.html` or `.svg` can ever be
//! stored on the site's origin. Photos count toward the user's storage limit (`crate::quota`).

use super::uploads::stream_field_to_temp;
use super::{own_activity, path_activity_id, require_detail, user_handle};
use crate::error::ApiError;
use crate::jobs;
use crate::names::is_valid_photo_name;
use crate::quota::{Quota, used_blocking};
use crate::reply::{self, Resp};
use crate::request::{Req, multipart_error};
use crate::sniff::sniff_image;
use crate::state::AppState;
use bincio_bas::queue::ChangeKind;
use serde_json::json;
use std::io::Read;

/// `GET /api/activity/{id}/images`.
pub async fn list(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let ud = st.root.user(&handle);
    let images = tokio::task::spawn_blocking(move || {
        require_detail(&ud, &id)?;
        Ok::<_, ApiError>(super::edits::list_images(&ud.images_dir(&id)))
    })
    .await??;
    Ok(reply::ok(&json!({"images": images})))
}

/// `POST /api/activity/{id}/images`: multipart field `file`.
pub async fn add(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let (id, handle) = own_activity(st, &req.params[0], req.headers()).await?;
    let ud = st.root.user(&handle);
    require_detail(&ud, &id)?;
    let cap = st.cfg.limits.photo_bytes;
    let mut mp = req.multipart(cap + 64 * 1024)?;
    let quota = Quota::load(st).await?;
    let user_dir = ud.path().to_path_buf();
    let room = quota.room(tokio::task::spawn_blocking(move || used_blocking(&user_dir)).await?);
    let images = ud.images_dir(&id);
    std::fs::create_dir_all(&images)?;
    let mut stored = None;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let is_file = field.name() == Some("file");
        if !is_file || stored.is_some() {
            continue;
        }
        let limit = cap.min(room);
        let (tmp, _len) = match stream_field_to_temp(&mut field, &images, limit, "image").await {
            Err(ApiError::TooLarge(_)) if limit < cap => return Err(quota.exceeded()),
            other => other?,
        };
        stored = Some(tmp);
    }
    let tmp = stored.ok_or_else(|| ApiError::bad("file", "no file field"))?;
    let mut head = [0u8; 16];
    let n = std::fs::File::open(tmp.path())?.read(&mut head)?;
    let kind = sniff_image(&head[..n]).ok_or_else(|| {
        ApiError::Unsupported("only JPEG, PNG, WebP or GIF images are accepted".into())
    })?;
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let name = format!("{ms}-{}.{}", hex::encode(crate::auth::random_bytes::<4>()?), kind.ext());
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h, target, nm) = (st.root.clone(), handle.clone(), images.join(&name), id.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        // The temp file is already in the user folder, so it is counted (dropped on refusal).
        quota.check(used_blocking(root.user(&h).path()))?;
        tmp.as_file().sync_data()?;
        tmp.persist_noclobber(&target).map_err(|e| ApiError::internal(e.error))?;
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Edit, vec![], Some(nm))
    })
    .await??;
    Ok(reply::json(
        hyper::StatusCode::ACCEPTED,
        &json!({"ok": true, "filename": name, "job_id": job_id}),
    ))
}

/// `DELETE /api/activity/{id}/images/{filename}`.
pub async fn delete(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let id = path_activity_id(&req.params[0])?.to_owned();
    let name = req.params[1].clone();
    if !is_valid_photo_name(&name) {
        return Err(ApiError::InvalidPath("filename"));
    }
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let _g = st.writers.lock(handle.as_str()).await;
    let (root, h) = (st.root.clone(), handle.clone());
    let job_id = jobs::new_job_id()?;
    let jid = job_id.clone();
    tokio::task::spawn_blocking(move || {
        let dir = root.user(&h).images_dir(&id);
        if !super::remove_file(&dir.join(&name))? {
            return Err(ApiError::NotFound("image"));
        }
        // Remove the folder once empty (fails harmlessly when not).
        let _ = std::fs::remove_dir(&dir);
        jobs::enqueue_blocking(&root, &jid, h.as_str(), ChangeKind::Edit, vec![], Some(id))
    })
    .await??;
    Ok(reply::json(hyper::StatusCode::ACCEPTED, &json!({"ok": true, "job_id": job_id})))
}
