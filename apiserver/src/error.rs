//! `ApiError`: the one error type handlers return.
//!
//! The client gets a stable machine-readable `code` and a public message as
//! `{"error": code, "message": ...}`; an internal cause is logged once and never sent, so
//! paths, SQL and I/O details do not leak to visitors.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};

/// A boxed cause of an internal error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field of the request is malformed.
    #[error("{field}: {reason}")]
    BadRequest { field: &'static str, reason: String },
    /// A path parameter (`{handle}`, `{id}`, `{filename}`, `{job}`) failed validation.
    #[error("invalid {0}")]
    InvalidPath(&'static str),
    /// No valid session.
    #[error("not authenticated")]
    Unauthorized,
    /// Wrong handle/password, wrong current password, bad code.
    #[error("{1}")]
    Credentials(&'static str, String),
    /// Logged in but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// An unsafe method from another origin.
    #[error("cross-origin request refused")]
    CrossOrigin,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// A body, file or archive over its cap.
    #[error("{0}")]
    TooLarge(String),
    /// Content that is not what it claims to be (sniffed type mismatch).
    #[error("{0}")]
    Unsupported(String),
    #[error("too many attempts, try again later")]
    RateLimited { retry_after_s: u64 },
    /// Anything else: logged, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// Shorthand for a bad field.
    pub fn bad(field: &'static str, reason: impl Into<String>) -> Self {
        Self::BadRequest { field, reason: reason.into() }
    }

    /// Wrap an internal cause.
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Self::Internal(e.into())
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::InvalidPath(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::Credentials(..) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::InvalidPath(_) => "invalid_path",
            Self::Unauthorized => "unauthorized",
            Self::Credentials(code, _) => code,
            Self::Forbidden(_) => "forbidden",
            Self::CrossOrigin => "cross_origin",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::Unsupported(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }

    /// The JSON response; logs internal causes.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
        *resp.status_mut() = self.status();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        if let Self::RateLimited { retry_after_s } = self
            && let Ok(v) = header::HeaderValue::from_str(&retry_after_s.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(e)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        Self::internal(e)
    }
}

impl From<bincio_bas::fsx::FsxError> for ApiError {
    fn from(e: bincio_bas::fsx::FsxError) -> Self {
        Self::internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}
