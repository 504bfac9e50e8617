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
