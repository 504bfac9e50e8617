//! Authentication: password hashing, session tokens and rate limits.

pub mod password;
pub mod ratelimit;
pub mod session;

/// `n` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], crate::error::ApiError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| crate::error::ApiError::internal(e.to_string()))?;
    Ok(buf)
}

/// A random code of `len` characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// for invites and reset codes typed by people.
pub fn random_code(len: usize) -> Result<String, crate::error::ApiError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        // Rejection sampling keeps every character equally likely.
        for b in random_bytes::<32>()? {
            let b = usize::from(b);
            if b < 256 - 256 % ALPHABET.len() && out.len() < len {
                out.push(char::from(ALPHABET[b % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
