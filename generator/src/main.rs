//! The `bincio-gen` command line.

fn main() {}
