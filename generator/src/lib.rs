//! `bincio-gen`: turns activity files into the BAS store and the store into a static site.
//!
//! Layers, from the pure core outwards: [`model`] (one in-memory activity), [`parse`]
//! (bytes → model), [`metrics`], [`simplify`] and [`privacy`] (pure functions over the
//! model), then [`extract`] (files → BAS store, the only extraction module touching disk).

pub mod athlete;
pub mod check;
pub mod extract;
pub mod metrics;
pub mod model;
pub mod parse;
pub mod privacy;
pub mod simplify;
pub mod sport;
pub mod synth;
pub mod track;
pub mod cli;
pub mod cmd;
pub mod merge;
pub mod queue;
pub mod site;
pub mod templates;
