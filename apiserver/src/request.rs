//! The request as handlers see it, body reading with caps, client IP and Origin checks.

use crate::error::{ApiError, BoxError};
use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::HeaderMap;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN, REFERER};
use hyper::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The body type every handler gets.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// One request, with its decoded path parameters.
pub struct Req {
    pub parts: Parts,
    pub body: Body,
    pub client_ip: IpAddr,
    /// Percent-decoded path parameters, in URL order.
    pub params: Vec<String>,
}

impl Req {
    /// Headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The declared body length.
    pub fn content_length(&self) -> Option<u64> {
        content_length(&self.parts.headers)
    }

    /// Read the whole body, at most `limit` bytes (413 beyond, checked on the declared
    /// length first so nothing is read).
    pub async fn bytes(self, limit: u64) -> Result<Bytes, ApiError> {
        if self.content_length().is_some_and(|n| n > limit) {
            return Err(ApiError::TooLarge(format!("body over {limit} bytes")));
        }
        // A hand-rolled loop rather than `Limited`: its boxed-error conversion trips
        // rustc's higher-ranked Send check in the service future.
        let mut body = self.body;
        let mut buf = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ApiError::bad("body", format!("could not read the body: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() as u64 + data.len() as u64 > limit {
                    return Err(ApiError::TooLarge(format!("body over {limit} bytes")));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    }

    /// Parse a JSON body (an empty body parses as `{}`).
    pub async fn json<T: DeserializeOwned>(self, limit: u64) -> Result<T, ApiError> {
        let bytes = self.bytes(limit).await?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad("body", format!("invalid JSON: {e}")))
    }

    /// A streaming multipart reader over at most `limit` bytes.
    pub fn multipart(self, limit: u64) -> Result<multer::Multipart<'static>, ApiError> {
        if self.content_length().is_some_and(|n| n > limit) {
            return Err(ApiError::TooLarge(format!("body over {limit} bytes")));
        }
        let ct = self
            .parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::bad("content-type", "multipart/form-data expected"))?;
        let boundary = multer::parse_boundary(ct)
            .map_err(|_| ApiError::bad("content-type", "multipart/form-data expected"))?;
        let stream = http_body_util::BodyDataStream::new(self.body);
        let constraints =
            multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
        Ok(multer::Multipart::with_constraints(stream, boundary, constraints))
    }
}

/// The declared `Content-Length`.
pub fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Map a multipart error to an API error (size caps become 413).
pub fn multipart_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            ApiError::TooLarge("upload over its size cap".into())
        }
        multer::Error::StreamReadFailed(inner)
            if inner.is::<http_body_util::LengthLimitError>() =>
        {
            ApiError::TooLarge("upload over its size cap".into())
        }
        other => ApiError::bad("body", format!("bad multipart body: {other}")),
    }
}

/// The real client IP. A loopback peer is our own nginx, whose `X-Real-IP` (else the
/// last `X-Forwarded-For` hop, the one nginx appended) names the client; from any other
/// peer the headers are ignored, since anyone could send them.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, trust_loopback_proxy: bool) -> IpAddr {
    if !(trust_loopback_proxy && peer.ip().is_loopback()) {
        return peer.ip();
    }
    let real =
        headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse().ok());
    // Only the last hop is nginx's own; earlier entries are whatever the client sent.
    let forwarded = || {
        let all: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|s| s.split(','))
            .collect();
        all.last().and_then(|s| s.trim().parse::<IpAddr>().ok())
    };
    real.or_else(forwarded).unwrap_or(peer.ip())
}

/// Origin check for unsafe methods. A browser always sends `Origin` on a cross-origin
/// POST/PUT/DELETE, so: an `Origin` (or, without one, a `Referer`) must be the site's own
/// (the configured public URL, or the `Host` the request came to). A request with neither
/// is not from a browser page (curl, scripts), which cannot ride a victim's cookie.
pub fn origin_allowed(h: &HeaderMap, public_url: Option<&str>) -> bool {
    let origin = match h.get(ORIGIN) {
        Some(v) => match v.to_str() {
            Ok(s) => s.trim_end_matches('/').to_owned(),
            Err(_) => return false,
        },
        None => match h.get(REFERER).and_then(|v| v.to_str().ok()) {
            Some(r) => {
                // scheme://host[:port] of the referer
                let Some((scheme, rest)) = r.split_once("://") else { return false };
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                format!("{scheme}://{host}")
            }
            None => return true,
        },
    };
    if origin == "null" {
        return false;
    }
    if public_url.is_some_and(|u| u.eq_ignore_ascii_case(&origin)) {
        return true;
    }
    let Some(host) = h.get(HOST).and_then(|v| v.to_str().ok()) else { return false };
    origin.eq_ignore_ascii_case(&format!("http://{host}"))
        || origin.eq_ignore_ascii_case(&format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn client_ip_trusts_only_a_loopback_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 1.2.3.4"));
        let lo: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let far: SocketAddr = "9.9.9.9:5000".parse().unwrap();
        assert_eq!(client_ip(&h, lo, true).to_string(), "1.2.3.4");
        assert_eq!(client_ip(&h, far, true).to_string(), "9.9.9.9");
        h.insert("x-real-ip", HeaderValue::from_static("5.5.5.5"));
        assert_eq!(client_ip(&h, lo, true).to_string(), "5.5.5.5");
        assert_eq!(client_ip(&h, lo, false).to_string(), "127.0.0.1");
    }

    #[test]
    fn origin_rules() {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("rides.example.org"));
        assert!(origin_allowed(&h, None), "no Origin, no Referer: not a browser");
        h.insert(ORIGIN, HeaderValue::from_static("https://rides.example.org"));
        assert!(origin_allowed(&h, None));
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!origin_allowed(&h, None));
        assert!(origin_allowed(&h, Some("https://evil.example")));
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(!origin_allowed(&h, None));
        h.remove(ORIGIN);
        h.insert(REFERER, HeaderValue::from_static("https://evil.example/page"));
        assert!(!origin_allowed(&h, None));
    }
}
