//! The regeneration queue consumer (being written).
