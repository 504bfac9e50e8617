//! Request handlers, one file per area. Each is `async fn(&AppState, Req) -> Result<Resp, ApiError>`.

pub mod accounts;
pub mod admin;
pub mod edits;
pub mod feedback;
pub mod invites;
pub mod photos;
pub mod session;
pub mod uploads;

use crate::error::ApiError;
use bincio_bas::Handle;
use bincio_bas::handle::is_valid_activity_id;

/// Validate a `{handle}` path parameter.
pub fn path_handle(s: &str) -> Result<Handle, ApiError> {
    Handle::new(s).map_err(|_| ApiError::InvalidPath("handle"))
}

/// Validate an `{id}` path parameter.
pub fn path_activity_id(s: &str) -> Result<&str, ApiError> {
    if is_valid_activity_id(s) { Ok(s) } else { Err(ApiError::InvalidPath("activity id")) }
}

/// The `{id}` path parameter (validated first) and the logged-in caller's handle: every
/// activity endpoint acts on the caller's own activity.
pub async fn own_activity(
    st: &crate::state::AppState,
    id_param: &str,
    headers: &hyper::HeaderMap,
) -> Result<(String, Handle), ApiError> {
    let id = path_activity_id(id_param)?.to_owned();
    let user = st.require_user(headers).await?;
    Ok((id, user_handle(&user)?))
}

/// 404 unless the user's store has this activity.
pub fn require_detail(ud: &bincio_bas::layout::UserDir, id: &str) -> Result<(), ApiError> {
    if ud.detail(id).is_file() { Ok(()) } else { Err(ApiError::NotFound("activity")) }
}

/// Handle of a logged-in user (always valid: handles are validated at account creation;
/// re-checked because it becomes a path).
pub fn user_handle(u: &crate::db::users::User) -> Result<Handle, ApiError> {
    Handle::new(&u.handle)
        .map_err(|_| ApiError::internal(format!("stored handle {:?} is invalid", u.handle)))
}

/// Text field rules: trimmed, at most `max_chars`, no control characters except newlines
/// and tabs when `multiline`.
pub fn clean_text(
    field: &'static str,
    s: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, ApiError> {
    let t = s.trim();
    if t.chars().count() > max_chars {
        return Err(ApiError::bad(field, format!("at most {max_chars} characters")));
    }
    if t.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r'))) {
        return Err(ApiError::bad(field, "control characters are not allowed"));
    }
    Ok(t.replace("\r\n", "\n"))
}

/// Bytes used by a folder tree (lstat: symlinks count as themselves) and its file count.
pub fn dir_usage(path: &std::path::Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&p) else { continue };
        for e in rd.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                bytes += meta.len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

/// Bytes as MiB with 2 decimals.
pub fn mib(bytes: u64) -> f64 {
    (bytes as f64 / 1_048_576.0 * 100.0).round() / 100.0
}

/// Remove a folder tree if present.
pub fn remove_tree(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Remove a file if present.
pub fn remove_file(path: &std::path::Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
