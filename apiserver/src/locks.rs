//! One writer per user directory.
//!
//! Every mutation of `{root}/{handle}/` (sidecar, photo, upload commit, delete, athlete
//! edits) takes that user's async mutex first, so two requests never interleave a
//! read-modify-write of the same files. Streaming an upload to a temp file happens
//! outside the lock; only the commit (renames plus the queue request) is inside.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// The per-user writer locks (one entry per handle ever written; bounded by the user count).
#[derive(Default)]
pub struct UserLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A held writer lock.
pub type WriterGuard = OwnedMutexGuard<()>;

impl UserLocks {
    /// Wait for and take the writer lock of `handle`. The key `""` is the instance-level lock
    /// (root manifest).
    pub async fn lock(&self, handle: &str) -> WriterGuard {
        let m = {
            let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(map.entry(handle.to_owned()).or_default())
        };
        m.lock_owned().await
    }
}
