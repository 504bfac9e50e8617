//! The `bincio-api` command line.

fn main() {}
