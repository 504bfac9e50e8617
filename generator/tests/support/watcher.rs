//! What the tests that drive the real `bincio-gen watch` share: the sample store they start
//! from, a folder copy, and a guard that kills the watcher when a test ends.

// Test helpers panic on unexpected I/O: that is a test failure, with the path in the message.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Child;

/// The reference BAS store of the shared samples.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/reference-output")
}

/// Copy the folder `src` into `dst`, recursively.
pub fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let target = dst.join(e.path().strip_prefix(src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Kills the watcher when the test ends, whatever happens.
pub struct Watcher(pub Child);
impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
