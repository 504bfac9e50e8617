//! Session tokens and the `bincio_session` cookie.
//!
//! A token is 32 random bytes (64 hex characters) sent only in an HttpOnly cookie; the
//! database keeps its SHA-256, so reading `instance.db` does not yield live sessions.

use crate::error::ApiError;
use hyper::HeaderMap;
use hyper::header::COOKIE;

/// The cookie name the pages know.
pub const COOKIE_NAME: &str = "bincio_session";
/// Session lifetime: 30 days.
pub const TTL_S: i64 = 30 * 86_400;

/// A new token and its hash.
pub fn new_token() -> Result<(String, String), ApiError> {
    let token = hex::encode(super::random_bytes::<32>()?);
    let hash = super::sha256_hex(token.as_bytes());
    Ok((token, hash))
}

/// The hash of the session token in the request's cookies, if it has a well-formed one.
pub fn token_hash_from(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(COOKIE) {
        let Ok(s) = value.to_str() else { continue };
        for pair in s.split(';') {
            let Some((name, val)) = pair.trim().split_once('=') else { continue };
            if name.trim() == COOKIE_NAME {
                let val = val.trim().trim_matches('"');
                // Anything but 64 hex characters cannot be ours: skip the DB round trip.
                if val.len() == 64 && val.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Some(super::sha256_hex(val.to_ascii_lowercase().as_bytes()));
                }
            }
        }
    }
    None
}

/// `Set-Cookie` value for a new session.
pub fn set_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; Path=/; SameSite=Lax; Max-Age={TTL_S}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value that clears the session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn reads_only_well_formed_tokens() {
        let (token, hash) = new_token().unwrap();
        assert_eq!(token.len(), 64);
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE_NAME}={token}; c=d")).unwrap(),
        );
        assert_eq!(token_hash_from(&h), Some(hash));
        h.insert(COOKIE, HeaderValue::from_static("bincio_session=../../etc"));
        assert_eq!(token_hash_from(&h), None);
        assert!(set_cookie(&token, true).ends_with("; Secure"));
    }
}
