//! Request handlers, one file per area. Each is `async fn(&AppState, Req) -> Result<Resp, ApiError>`.

pub mod accounts;
pub mod admin;
pub mod edits;
pub mod feedback;
pub mod invites;
pub mod photos;
pub mod session;
pub mod strava;
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

pub use crate::files::{dir_usage, mib, remove_file, remove_tree};
