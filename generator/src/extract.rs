//! Files → BAS store (being written).
