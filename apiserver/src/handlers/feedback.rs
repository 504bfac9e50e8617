//! Feedback: text plus up to 3 images, stored under `_feedback/{handle}/` (outside the
//! published folder), one JSON file per submission so no read-modify-write is needed.

use super::uploads::stream_field_to_temp;
use super::{clean_text, user_handle};
use crate::error::ApiError;
use crate::reply::{self, Resp};
use crate::request::{Req, multipart_error};
use crate::sniff::sniff_image;
use crate::state::AppState;
use bincio_bas::fsx;
use serde_json::json;
use std::io::Read;

/// Longest feedback text.
pub const MAX_TEXT: usize = 10_000;

/// `POST /api/feedback`: multipart `text` and `images` (repeated).
pub async fn post(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let handle = user_handle(&user)?;
    let lim = st.cfg.limits.clone();
    let total = lim.feedback_image_bytes * lim.feedback_images as u64 + 64 * 1024;
    let mut mp = req.multipart(total)?;
    let dir = st.root.feedback_dir().join(handle.as_str());
    std::fs::create_dir_all(&dir)?;
    let mut text = String::new();
    let mut images = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let kind = match field.name() {
            Some("text") => 1,
            Some("images") => 2,
            _ => 0,
        };
        match kind {
            1 => text = field.text().await.map_err(multipart_error)?,
            2 => {
                if field.file_name().is_none_or(str::is_empty) {
                    continue; // an empty file input sends a nameless empty part
                }
                if images.len() >= lim.feedback_images {
                    return Err(ApiError::bad(
                        "images",
                        format!("at most {} images", lim.feedback_images),
                    ));
                }
                let (tmp, len) =
                    stream_field_to_temp(&mut field, &dir, lim.feedback_image_bytes, "image")
                        .await?;
                if len > 0 {
                    images.push(tmp);
                }
            }
            _ => {}
        }
    }
    let text = clean_text("text", &text, MAX_TEXT, true)?;
    if text.is_empty() && images.is_empty() {
        return Err(ApiError::bad("text", "feedback must include text or at least one image"));
    }
    let mut kinds = Vec::new();
    for tmp in &images {
        let mut head = [0u8; 16];
        let n = std::fs::File::open(tmp.path())?.read(&mut head)?;
        kinds.push(sniff_image(&head[..n]).ok_or_else(|| {
            ApiError::Unsupported("images must be JPEG, PNG, WebP or GIF".into())
        })?);
    }
    let id = format!("{}_{}", crate::db::now_s(), hex::encode(crate::auth::random_bytes::<4>()?));
    let h = handle.to_string();
    let entry = tokio::task::spawn_blocking(move || {
        let mut names = Vec::new();
        for (i, (tmp, kind)) in images.into_iter().zip(kinds).enumerate() {
            let name = format!("{id}_{i}.{}", kind.ext());
            tmp.as_file().sync_data()?;
            tmp.persist_noclobber(dir.join(&name)).map_err(|e| ApiError::internal(e.error))?;
            names.push(name);
        }
        let submitted_at = bincio_bas::Timestamp(time::OffsetDateTime::now_utc()).to_string();
        let entry = json!({"id": id, "handle": h, "submitted_at": submitted_at, "text": text, "images": names});
        fsx::write_json(&dir.join(format!("{id}.json")), &entry)?;
        Ok::<_, ApiError>(entry)
    })
    .await??;
    Ok(reply::ok(&json!({"ok": true, "id": entry["id"]})))
}
