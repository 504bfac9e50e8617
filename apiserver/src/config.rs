//! Validated runtime settings of the daemon: caps, rate limits, proxy trust.
//!
//! `cli.rs` parses arguments; this module holds what the server needs, with defaults that
//! are safe on the public internet. Tests shrink the caps to exercise them cheaply.

use std::time::Duration;

/// Size and count caps. Every one is enforced while streaming, never after buffering.
#[derive(Clone, Debug)]
pub struct Limits {
    /// JSON request bodies.
    pub json_body_bytes: u64,
    /// A ceiling on a whole upload request (several files or one Strava export ZIP) under
    /// the instance's `upload_limit_mb` (`bincio.toml`, default 2 GiB), which is the cap
    /// an admin sets; unlimited by default, tests shrink it.
    pub upload_body_bytes: u64,
    /// One activity file as uploaded (compressed size for `.gz`).
    pub activity_file_bytes: u64,
    /// Files per upload request (the parts of the multipart body).
    pub upload_files: usize,
    /// Activity files taken out of one ZIP (a Strava export of a decade holds thousands).
    pub zip_files: usize,
    /// One activity file after gunzip (gzip-bomb cap).
    pub decompressed_file_bytes: u64,
    /// All activity files extracted from one ZIP (zip-bomb cap).
    pub zip_total_bytes: u64,
    /// Entries examined in one ZIP.
    pub zip_entries: usize,
    /// Largest expansion a compressed upload may have: a `.gz`, each ZIP entry and the ZIP
    /// as a whole may decompress to at most this many times their compressed size (outputs
    /// under [`crate::sniff::RATIO_FREE_BYTES`] are always allowed). Real recordings
    /// compress up to about 20 times; a file that expands 100 times is padding, not an
    /// activity, and the byte caps alone would let a 2 MB archive fill 2 GB of disk.
    pub max_expansion_ratio: u64,
    /// One activity photo.
    pub photo_bytes: u64,
    /// One feedback image, and how many per submission.
    pub feedback_image_bytes: u64,
    pub feedback_images: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Self {
            json_body_bytes: 64 * 1024,
            // The instance's `upload_limit_mb` decides (a Strava bulk export of several
            // years, photos included, streamed to disk).
            upload_body_bytes: u64::MAX,
            activity_file_bytes: 50 * MIB,
            upload_files: 1000,
            zip_files: 100_000,
            decompressed_file_bytes: 200 * MIB,
            zip_total_bytes: 8 * 1024 * MIB,
            zip_entries: 100_000,
            max_expansion_ratio: 100,
            photo_bytes: 10 * MIB,
            feedback_image_bytes: 2 * MIB,
            feedback_images: 3,
        }
    }
}

/// A rate limit: `count` events per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub count: usize,
    pub window: Duration,
}

/// Everything `serve` needs besides the data directory.
#[derive(Clone, Debug)]
pub struct Config {
    pub limits: Limits,
    /// Login (and token) attempts per client IP.
    pub login_per_ip: Rate,
    /// Registrations per client IP.
    pub register_per_ip: Rate,
    /// Reset-password attempts per client IP.
    pub reset_per_ip: Rate,
    /// Failed password checks per account (login, password change, confirmed deletes).
    pub failures_per_account: Rate,
    /// Trust `X-Real-IP`/`X-Forwarded-For` from a loopback peer (nginx on the same host).
    pub trust_loopback_proxy: bool,
    /// Concurrent argon2 computations.
    pub hash_concurrency: usize,
    /// How long SIGTERM waits for open connections to finish.
    pub drain_timeout: Duration,
    /// Put uploads the user does not want kept in `{handle}/_uploads/{job}/` instead of
    /// `originals/{job}/`. Off until `bincio-gen watch` extracts the request's `files` and
    /// deletes that folder (today it extracts `originals/` only), so uploads always work.
    pub stage_unkept_uploads: bool,
}

impl Default for Config {
    fn default() -> Self {
        let w = Duration::from_secs(15 * 60);
        Self {
            limits: Limits::default(),
            login_per_ip: Rate { count: 10, window: w },
            register_per_ip: Rate { count: 5, window: w },
            reset_per_ip: Rate { count: 10, window: w },
            failures_per_account: Rate { count: 10, window: w },
            trust_loopback_proxy: true,
            hash_concurrency: 2,
            drain_timeout: Duration::from_secs(20),
            stage_unkept_uploads: false,
        }
    }
}
