//! argon2id password hashing, always off the async threads.
//!
//! Parameters follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane). A semaphore
//! bounds how many hashes run at once, so a login flood costs at most that many times
//! 19 MiB of memory and leaves cores for everything else. Unknown handles are verified
//! against a dummy hash, so response time does not reveal which handles exist.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 19 * 1024;
/// Passes.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;
/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 8;
/// Longest accepted password, in bytes (hashing is linear in length; nobody types more).
pub const MAX_LEN_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    // The constants are valid argon2 parameters, so this cannot fail.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Check a new password's length rules.
pub fn check_new(field: &'static str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_LEN {
        return Err(ApiError::bad(field, format!("must be at least {MIN_LEN} characters")));
    }
    if password.len() > MAX_LEN_BYTES {
        return Err(ApiError::bad(field, format!("must be at most {MAX_LEN_BYTES} bytes")));
    }
    Ok(())
}

/// Hash synchronously (CLI).
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt_bytes = super::random_bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verify synchronously; a malformed stored hash verifies as false (and is logged).
pub fn verify_blocking(password: &str, stored: &str) -> bool {
    if password.len() > MAX_LEN_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is malformed");
            false
        }
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("dummy password for timing").unwrap_or_default())
}

/// Hashing with a concurrency bound.
#[derive(Clone)]
pub struct Hasher {
    gate: Arc<Semaphore>,
}

impl Hasher {
    /// At most `concurrent` hashes at a time.
    pub fn new(concurrent: usize) -> Self {
        Self { gate: Arc::new(Semaphore::new(concurrent.max(1))) }
    }

    /// Hash a password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let _permit = self.gate.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
    }

    /// Verify a password against a stored hash, or against a dummy when `stored` is None
    /// (the answer is then always false, in about the same time).
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let _permit = self.gate.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || match stored {
            Some(h) => verify_blocking(&password, &h),
            None => {
                let _ = verify_blocking(&password, dummy_hash());
                false
            }
        })
        .await
        .map_err(ApiError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_blocking("correct horse").unwrap();
        let b = hash_blocking("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts differ");
        assert!(verify_blocking("correct horse", &a));
        assert!(!verify_blocking("correct horsE", &a));
        assert!(!verify_blocking("", &a));
        assert!(!verify_blocking("x", "not a hash"));
    }

    #[test]
    fn length_rules() {
        assert!(check_new("password", "1234567").is_err());
        assert!(check_new("password", "12345678").is_ok());
        assert!(check_new("password", &"x".repeat(MAX_LEN_BYTES + 1)).is_err());
    }
}
