//! The watcher's federation work, in two parts so the network never holds up the queue:
//! [`fetch`] runs on a thread of its own every `--federation-refresh-min` minutes and then
//! queues a [`ChangeKind::Federation`] request; [`run`], that request's job, re-renders the
//! shared pages from the refreshed cache between the per-user jobs. See `docs/federation.md`.
//!
//! [`ChangeKind::Federation`]: bincio_bas::queue::ChangeKind::Federation

use super::{RemoteStatus, client, refresh};
use crate::site::{self, BuildReport, SiteOptions};
use bincio_bas::InstanceRoot;

/// Fetch every followed remote into the cache (logged; a remote's failure is in the cache's
/// status and never stops the watcher).
pub fn fetch(root: &InstanceRoot) {
    match refresh(root, &client()) {
        Ok(report) => {
            for line in report.lines() {
                tracing::info!("federation: {line}");
            }
        }
        Err(e) => tracing::error!("federation: not refreshed: {e}"),
    }
}

/// What a federation job did.
#[derive(Debug)]
pub struct JobOutcome {
    /// The last refresh of every followed remote.
    pub remotes: Vec<RemoteStatus>,
    pub build: BuildReport,
}

impl JobOutcome {
    /// The job status message: the remotes, what failed, what was written.
    pub fn message(&self) -> String {
        let n = self.remotes.len();
        let failing: Vec<String> =
            self.remotes.iter().filter(|r| r.error.is_some()).map(super::status_line).collect();
        let mut m = format!("done: {n} remotes refreshed");
        if self.build.files_written > 0 {
            m.push_str(&format!(", {} files written", self.build.files_written));
        }
        if !failing.is_empty() {
            m.push_str(&format!("; {}", failing.join("; ")));
        }
        m
    }
}

/// Re-render the shared pages (home, the combined feed and its JSON, the admin page's
/// federation report) from the cache; unchanged files are not rewritten. Only the render
/// can fail the job, never a remote.
pub fn run(
    opts: &SiteOptions,
    cache: &mut site::load::LoadCache,
) -> Result<JobOutcome, site::SiteError> {
    let build = site::build_shared(opts, cache)?;
    let root = InstanceRoot::new(&opts.data_dir);
    let remotes = super::load(&root, &[]).status;
    Ok(JobOutcome { remotes, build })
}
