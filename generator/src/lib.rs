//! `bincio-gen`: turns activity files into the BAS store and the store into a static site.
//!
//! Layers, from the pure core outwards: [`model`] (one in-memory activity), [`parse`]
//! (bytes → model), [`metrics`], [`simplify`], [`privacy`] and [`track`] (pure functions
//! over the model), then [`extract`] (files → BAS store, the only extraction module touching
//! disk); [`merge`] applies users' edits, [`site`] renders pages with its templates, and
//! [`queue`] drives incremental regeneration (long work writing through a [`commit`] gate); [`net`] is the one outbound HTTP client (timeouts,
//! size caps) and [`federation`] follows other instances through it. [`cli`] and [`cmd`] are the command line.

pub mod athlete;
pub mod cli;
pub mod cmd;
pub mod commit;
pub mod elevation;
pub mod extract;
pub mod federation;
pub mod localtime;
pub mod merge;
pub mod metrics;
pub mod model;
/// The one outbound HTTP client, shared with the daemon (`bincio_bas::net`).
pub use bincio_bas::net;
pub mod parse;
pub mod privacy;
pub mod queue;
pub mod simplify;
pub mod site;
pub mod sport;
pub mod strava;
pub mod theme;
pub mod track;

/// The allocator of every program linking this library (`bincio-gen`, and `bincio-dev`,
/// whose benchmarks build in-process): mimalloc instead of glibc's malloc. A render
/// allocates and frees a page's strings, context and chart series for each of thousands of
/// activities from two threads; with glibc's malloc that was ~13 % of a full render's CPU
/// time (`_int_malloc`, `malloc_consolidate`, `unlink_chunk`). Its version 2 (the `v2`
/// feature) returns freed memory to the system after 10 ms; version 3 keeps it a second,
/// which raised the peak of a 12,000-activity render from 75 to 123 MB for no CPU time
/// saved that the runs could tell apart. Figures in `docs/development.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turn transparent huge pages off for this process and the processes it starts; called
/// first thing by `bincio-gen` and `bincio-dev`.
///
/// mimalloc asks the kernel for huge pages on its arenas (`madvise(MADV_HUGEPAGE)`, its
/// `allow_thp` option, on by default and applied before `main` runs). On a host whose memory
/// is mostly page cache, which any machine serving a large site is, the first touch of each
/// 2 MB page then makes the kernel compact memory synchronously (`__alloc_pages_direct_compact`,
/// migrating pages); a cold `render --handle` at 60,000 activities spent about a third of its
/// samples there, and each huge page also kept up to 2 MB resident that the allocator had
/// returned (figures in `docs/development.md`, "Benchmarks"). A kernel without the flag keeps
/// its default: the programs only run slower there, so the error is ignored.
pub fn without_transparent_huge_pages() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

#[cfg(test)]
mod tests {
    /// The switch really sets the process's flag (a kernel without it fails here rather
    /// than leaving every run slower unnoticed).
    #[test]
    fn transparent_huge_pages_are_turned_off() {
        super::without_transparent_huge_pages();
        assert_eq!(rustix::thread::transparent_huge_pages_are_disabled().ok(), Some(true));
    }
}
