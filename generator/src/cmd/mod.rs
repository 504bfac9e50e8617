//! One module per subcommand: argument structs and the glue that calls the library.
//! Only this layer (and `main`) uses anyhow and decides exit codes.

pub mod bench;
pub mod check;
pub mod demo;
pub mod dev;
pub mod extract;
pub mod render;
pub mod serve;
pub mod synth;
pub mod watch;

/// What a command reports back to `main` for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Ok,
    /// The run finished but some inputs failed: exit 1.
    SomeFailed,
}
