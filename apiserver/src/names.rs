//! Validation of names that become path components: activity IDs, photo file names and
//! client-supplied upload names. Each check runs on the percent-decoded value.

/// A client file name reduced to a safe base name: only `[A-Za-z0-9._-]` (others become
/// `_`), no leading dot, at most 120 bytes. `None` when nothing usable is left.
pub fn safe_file_name(client: &str) -> Option<String> {
    let base = client.rsplit(['/', '\\']).next().unwrap_or("");
    let mut s: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    while s.starts_with('.') {
        s.remove(0);
    }
    if s.len() > 120 {
        // Keep the end (the extension matters); the string is ASCII so any index is a char boundary.
        s = s[s.len() - 120..].to_owned();
        while s.starts_with('.') {
            s.remove(0);
        }
    }
    if s.is_empty() || s.chars().all(|c| c == '.' || c == '_') { None } else { Some(s) }
}

/// True for a photo name as the daemon generates them (`{digits}-{hex}.{ext}`), or any
/// plain base name: `[A-Za-z0-9][A-Za-z0-9._-]{0,119}` with no `..`.
pub fn is_valid_photo_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 120
        && b[0].is_ascii_alphanumeric()
        && !name.contains("..")
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(safe_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(safe_file_name("C:\\x\\Ride 1.FIT").as_deref(), Some("Ride_1.FIT"));
        assert_eq!(safe_file_name("..").as_deref(), None);
        assert_eq!(safe_file_name(".hidden.gpx").as_deref(), Some("hidden.gpx"));
        assert!(is_valid_photo_name("1700000000-ab12.jpg"));
        assert!(!is_valid_photo_name(".."));
        assert!(!is_valid_photo_name("a/../b"));
        assert!(!is_valid_photo_name(".htaccess"));
    }
}
