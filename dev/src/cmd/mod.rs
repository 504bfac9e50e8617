//! One module per developer command that is not a benchmark.

pub mod check;
pub mod synth;
