//! Synthetic activities with exactly known ground truth (being written).
