//! The per-user storage limit (`storage_limit_mb` in `{root}/bincio.toml`, default 5 GiB).
//!
//! Everything in a user's folder counts: stored originals, uploads waiting for the watcher,
//! photos and the activity files extracted from them. Without a limit one account could
//! fill the disk every other user and the site live on. The limit is enforced before bytes
//! are kept: uploads and photos stream with at most the remaining room as their cap, and
//! the final check (the staged files are inside the user folder, so they are counted) runs
//! under the user's writer lock, right before the commit.

use crate::error::ApiError;
use crate::state::AppState;
use std::path::Path;

/// A user's storage limit, read from the configuration once per request.
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    /// Mebibytes; 0 means unlimited.
    pub limit_mb: u32,
}

impl Quota {
    /// The instance's setting (absent: the default).
    pub async fn load(st: &AppState) -> Result<Self, ApiError> {
        Ok(Self { limit_mb: st.config().storage_limit_mb })
    }

    /// The limit in bytes, `None` when unlimited.
    pub fn limit_bytes(self) -> Option<u64> {
        (self.limit_mb > 0).then(|| u64::from(self.limit_mb) * 1024 * 1024)
    }

    /// Bytes still free for a user who uses `used` bytes (`u64::MAX` when unlimited).
    pub fn room(self, used: u64) -> u64 {
        self.limit_bytes().map_or(u64::MAX, |l| l.saturating_sub(used))
    }

    /// Ok when `used` bytes fit, else 413 naming the limit.
    pub fn check(self, used: u64) -> Result<(), ApiError> {
        match self.limit_bytes() {
            Some(limit) if used > limit => Err(self.exceeded()),
            _ => Ok(()),
        }
    }

    /// The 413 answer: names the limit and what to do.
    pub fn exceeded(self) -> ApiError {
        ApiError::TooLarge(format!(
            "this would take you past your storage limit of {}; delete stored originals or \
             activities, or ask the admin to raise storage_limit_mb",
            human_mib(self.limit_mb)
        ))
    }
}

/// `5120` → `5 GiB`, `1` → `1 MiB`.
fn human_mib(mb: u32) -> String {
    if mb >= 1024 && mb.is_multiple_of(1024) {
        format!("{} GiB", mb / 1024)
    } else {
        format!("{mb} MiB")
    }
}

/// Bytes used by a user folder (blocking: walks the folder).
pub fn used_blocking(user_dir: &Path) -> u64 {
    crate::files::dir_usage(user_dir).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_and_check_follow_the_limit() {
        let q = Quota { limit_mb: 1 };
        assert_eq!(q.room(1000), (1 << 20) - 1000);
        assert_eq!(q.room(2 << 20), 0);
        assert!(q.check(1 << 20).is_ok());
        let e = q.check((1 << 20) + 1).unwrap_err();
        assert_eq!(e.status(), hyper::StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.to_string().contains("storage limit of 1 MiB"), "{e}");
        let unlimited = Quota { limit_mb: 0 };
        assert_eq!(unlimited.room(u64::MAX - 1), u64::MAX);
        assert!(unlimited.check(u64::MAX).is_ok());
        assert_eq!(human_mib(5120), "5 GiB");
        assert_eq!(human_mib(1536), "1536 MiB");
    }
}
