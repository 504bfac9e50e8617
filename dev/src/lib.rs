//! `bincio-dev`: the developers' tools, kept out of the shipped binaries.
//!
//! [`synth`] writes synthetic activity files with known ground truth (the committed
//! fixtures and the benchmark corpus), [`check`] compares extraction with the devices' own
//! totals of a sample set, and [`bench`] measures the generator and the daemon. None of this
//! is installed with `bincio-gen` or `bincio-api`; `cargo run -p bincio-dev -- --help` lists it.

pub mod bench;
pub mod check;
pub mod cmd;
pub mod synth;
