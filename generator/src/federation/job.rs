//! The watcher's federation job: a [`ChangeKind::Federation`] request (queued by the
//! watcher's timer, see `docs/federation.md`) fetches every followed remote and, when a
//! remote's activities changed, re-renders the pages that list them. It merges no user and
//! renders no user page, so it costs the per-user jobs nothing but the shared pages.
//!
//! [`ChangeKind::Federation`]: bincio_bas::queue::ChangeKind::Federation

use super::{RefreshReport, client, refresh};
use crate::site::{self, BuildReport, SiteOptions};
use bincio_bas::InstanceRoot;

/// What a federation job did.
#[derive(Debug)]
pub struct JobOutcome {
    pub refresh: RefreshReport,
    /// The shared pages' build, when one was needed.
    pub build: Option<BuildReport>,
}

impl JobOutcome {
    /// The job status message: what was fetched, what failed, what was written.
    pub fn message(&self) -> String {
        let n = self.refresh.remotes.len();
        let failing: Vec<String> = self.refresh.failing().map(super::status_line).collect();
        let written = self.build.as_ref().map_or(0, |b| b.files_written);
        if failing.is_empty() {
            format!("done: {n} remotes refreshed, {written} files written")
        } else {
            format!("done: {n} remotes refreshed, {written} files written; {}", failing.join("; "))
        }
    }
}

/// Refresh every followed remote, then re-render the shared pages (home, the combined
/// feed and its JSON, the admin page's federation report); unchanged files are not
/// rewritten, so a refresh where nothing changed writes nothing. A remote's failure is part
/// of the outcome, never an error: only the data directory (an unreadable manifest) or the
/// render can fail the job.
pub fn run(opts: &SiteOptions) -> Result<JobOutcome, site::SiteError> {
    let root = InstanceRoot::new(&opts.data_dir);
    let refresh = refresh(&root, &client())
        .map_err(|e| site::SiteError::File { path: root.root_manifest(), reason: e.to_string() })?;
    let build = Some(site::build_shared(opts)?);
    Ok(JobOutcome { refresh, build })
}
