//! Invites: every user may create `max_user_invites` (default 3, used ones count); admins
//! are unlimited.

use crate::auth::random_code;
use crate::db;
use crate::error::ApiError;
use crate::reply::{self, Resp};
use crate::request::Req;
use crate::state::AppState;
use rusqlite::TransactionBehavior;
use serde_json::json;

/// `GET /api/invites`.
pub async fn list(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let v = st.db.call(move |c| db::invites::list_by(c, &user.handle)).await?;
    Ok(reply::ok(&v))
}

/// Create an invite for `handle` (limit checked in the same transaction); `max` is the
/// `max_user_invites` setting, which does not bind admins.
pub fn create_blocking(
    c: &mut rusqlite::Connection,
    handle: &str,
    is_admin: bool,
    max: u32,
) -> Result<String, ApiError> {
    let code = random_code(8)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !is_admin && db::invites::count_by(&tx, handle)? >= i64::from(max) {
        return Err(ApiError::Forbidden(format!("invite limit reached ({max})")));
    }
    db::invites::insert(&tx, &code, handle, db::now_s())?;
    tx.commit()?;
    Ok(code)
}

/// `POST /api/invites`.
pub async fn create(st: &AppState, req: Req) -> Result<Resp, ApiError> {
    let user = st.require_user(req.headers()).await?;
    let max = st.config().max_user_invites;
    let code = st.db.call(move |c| create_blocking(c, &user.handle, user.is_admin, max)).await?;
    Ok(reply::ok(&json!({"ok": true, "code": code})))
}
