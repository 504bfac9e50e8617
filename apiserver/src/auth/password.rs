//! argon2id password hashing, always off the async threads.
//!
//! Parameters are one of OWASP's equivalent argon2id settings (12 MiB, 3 passes, 1 lane).
//! A semaphore bounds how many hashes run at once, and each slot reuses one preallocated
//! 12 MiB work area: the allocator otherwise keeps every freed 12-19 MiB area per thread,
//! and a few logins would leave the daemon at hundreds of MB resident. Hashes written with
//! other parameters (older settings, the reference's imports) still verify. Unknown handles
//! are verified against a dummy hash, so response time does not reveal which handles exist.

use crate::error::ApiError;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Semaphore;

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 12 * 1024;
/// Passes.
pub const T_COST: u32 = 3;
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

/// A reusable argon2 work area for the default parameters.
pub fn new_work_area() -> Vec<Block> {
    vec![Block::default(); (M_COST_KIB as usize).max(8 * P_COST as usize)]
}

/// Hash with a caller-provided work area (same PHC string as [`hash_blocking`]).
pub fn hash_with(password: &str, work: &mut [Block]) -> Result<String, ApiError> {
    let salt_bytes = super::random_bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut out = [0u8; 32];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, work)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let out = Output::new(&out).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(format!("$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}${}${out}", salt.as_str()))
}

/// Verify with a caller-provided work area; falls back to a fresh allocation for hashes
/// with other parameters.
pub fn verify_with(password: &str, stored: &str, work: &mut [Block]) -> bool {
    if password.len() > MAX_LEN_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        tracing::error!("stored password hash is malformed");
        return false;
    };
    let (Ok(params), Some(salt), Some(expected)) =
        (Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return verify_blocking(password, stored);
    };
    let same = parsed.algorithm == argon2::ARGON2ID_IDENT
        && parsed.version == Some(0x13)
        && params.block_count() <= work.len();
    if !same {
        return verify_blocking(password, stored);
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else { return false };
    let mut out = vec![0u8; expected.len()];
    let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    if a.hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut out,
        &mut work[..params.block_count()],
    )
    .is_err()
    {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("dummy password for timing").unwrap_or_default())
}

/// Hashing with a concurrency bound.
#[derive(Clone)]
pub struct Hasher {
    gate: Arc<Semaphore>,
    /// One work area per permit, allocated on first use and kept.
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Hasher {
    /// At most `concurrent` hashes at a time.
    pub fn new(concurrent: usize) -> Self {
        Self {
            gate: Arc::new(Semaphore::new(concurrent.max(1))),
            areas: Arc::new(Mutex::new(Vec::new())),
        }
    }

    async fn with_area<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut [Block]) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let _permit = self.gate.acquire().await.map_err(ApiError::internal)?;
        let areas = Arc::clone(&self.areas);
        let r = tokio::task::spawn_blocking(move || {
            let mut area = areas
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
                .unwrap_or_else(new_work_area);
            let r = f(&mut area);
            areas.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(area);
            r
        })
        .await?;
        Ok(r)
    }

    /// Hash a password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.with_area(move |w| hash_with(&password, w)).await?
    }

    /// Verify a password against a stored hash, or against a dummy when `stored` is None
    /// (the answer is then always false, in about the same time).
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.with_area(move |w| match stored {
            Some(h) => verify_with(&password, &h, w),
            None => {
                let _ = verify_with(&password, dummy_hash(), w);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_blocking("correct horse").unwrap();
        let b = hash_blocking("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{a}");
        assert_ne!(a, b, "salts differ");
        assert!(verify_blocking("correct horse", &a));
        assert!(!verify_blocking("correct horsE", &a));
        assert!(!verify_blocking("", &a));
        assert!(!verify_blocking("x", "not a hash"));
    }

    #[test]
    fn pooled_hashes_match_the_standard_encoder() {
        let mut work = new_work_area();
        let pooled = hash_with("correct horse", &mut work).unwrap();
        assert!(pooled.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{pooled}");
        assert!(verify_blocking("correct horse", &pooled), "the standard verifier accepts it");
        assert!(verify_with("correct horse", &pooled, &mut work));
        assert!(!verify_with("correct horsE", &pooled, &mut work));
        let standard = hash_blocking("abc12345").unwrap();
        assert!(verify_with("abc12345", &standard, &mut work));
        // Other parameters (an older, bigger setting) still verify.
        let params = Params::new(19 * 1024, 2, 1, None).unwrap();
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"legacy-pass", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert!(verify_with("legacy-pass", &old, &mut work));
        assert!(!verify_with("wrong-pass", &old, &mut work));
    }

    #[test]
    fn length_rules() {
        assert!(check_new("password", "1234567").is_err());
        assert!(check_new("password", "12345678").is_ok());
        assert!(check_new("password", &"x".repeat(MAX_LEN_BYTES + 1)).is_err());
    }
}
