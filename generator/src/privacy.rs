//! Privacy: which samples' locations may be published (being written).
