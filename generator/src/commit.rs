//! How long background work (a Strava sync or export import, a bulk elevation
//! recalculation) writes into a user's store: in batches, each through a [`Commit`] gate.
//! The command line passes none and writes directly; the watcher's background lane passes
//! one that holds its store lock around the batch and publishes it before letting go
//! (`docs/queue.md`, "Two lanes"). A module of its own so that the importers need not know
//! the queue, nor the queue be known by them.

/// How a long import (a sync, an export, a bulk recalculation) writes each of its batches into the user's store.
/// The command line writes directly; the watcher's background lane passes a gate that takes
/// its store lock around the batch and publishes it (merges and renders the user) before it
/// lets go, so the lock is held one batch at a time and the site never shows half a batch
/// (`docs/queue.md`, "Two lanes").
#[derive(Clone)]
pub struct Commit(std::sync::Arc<Gate>);

/// What a [`Commit`] holds: it is given the batch's write and must call it once.
type Gate = dyn Fn(&mut dyn FnMut()) + Send + Sync;

impl Commit {
    /// A gate: it must call the write it is given exactly once.
    pub fn new(gate: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static) -> Self {
        Commit(std::sync::Arc::new(gate))
    }

    /// Run `write` through the gate, or directly without one.
    pub fn run<T>(commit: Option<&Commit>, write: impl FnOnce() -> T) -> T {
        let Some(gate) = commit else { return write() };
        let mut write = Some(write);
        let mut out = None;
        (gate.0)(&mut || {
            if let Some(w) = write.take() {
                out = Some(w());
            }
        });
        match (out, write) {
            (Some(v), _) => v,
            // A gate that did not call the write: it is done here rather than lost.
            (None, Some(w)) => w(),
            (None, None) => unreachable!("a write that was taken has its result"),
        }
    }
}

impl std::fmt::Debug for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Commit(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_write_runs_once_inside_the_gate_or_directly_without_one() {
        assert_eq!(Commit::run(None, || 7), 7);
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&order);
        let gate = Commit::new(move |write| {
            seen.lock().expect("log").push("lock");
            write();
            seen.lock().expect("log").push("publish");
        });
        let log = std::sync::Arc::clone(&order);
        let out = Commit::run(Some(&gate), move || {
            log.lock().expect("log").push("write");
            "stored"
        });
        assert_eq!(out, "stored");
        assert_eq!(*order.lock().expect("log"), ["lock", "write", "publish"]);
        // A gate that forgets the write: it is done anyway, once.
        let runs = AtomicUsize::new(0);
        let lazy = Commit::new(|_| {});
        Commit::run(Some(&lazy), || runs.fetch_add(1, Ordering::SeqCst));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
