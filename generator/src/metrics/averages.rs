//! Heart-rate, cadence and power averages and maxima (docs/decisions.md E4 and E13).
//!
//! The device's session figures win when present (they must match the head unit to
//! 1 bpm / 1 W). Otherwise the per-sample mean, rounded to nearest (the reference
//! truncated, docs/decisions.md W14). Which zeros count:
//! - heart rate: zeros are sensor drop-outs, not a heart rate; excluded;
//! - cadence: zeros are coasting; excluded, as head units do by default;
//! - power: zeros are real (coasting produces no power); included, the usual convention.

use super::round_i;
use crate::model::{DeviceTotals, Sample};

fn device(v: Option<f64>) -> Option<i64> {
    v.filter(|x| x.is_finite() && *x > 0.0).map(round_i)
}

fn mean(values: impl Iterator<Item = u16>) -> Option<i64> {
    let (sum, n) = values.fold((0u64, 0u64), |(s, n), v| (s + u64::from(v), n + 1));
    (n > 0).then(|| round_i(sum as f64 / n as f64))
}

/// Mean heart rate (bpm) over non-zero samples.
pub fn avg_hr_bpm(samples: &[Sample], totals: Option<&DeviceTotals>) -> Option<i64> {
    device(totals.and_then(|t| t.avg_hr_bpm))
        .or_else(|| mean(samples.iter().filter_map(|s| s.hr_bpm).filter(|v| *v > 0)))
}

/// Highest heart rate (bpm).
pub fn max_hr_bpm(samples: &[Sample], totals: Option<&DeviceTotals>) -> Option<i64> {
    device(totals.and_then(|t| t.max_hr_bpm))
        .or_else(|| samples.iter().filter_map(|s| s.hr_bpm).filter(|v| *v > 0).max().map(i64::from))
}

/// Mean cadence (rpm) over non-zero samples.
pub fn avg_cadence_rpm(samples: &[Sample], totals: Option<&DeviceTotals>) -> Option<i64> {
    device(totals.and_then(|t| t.avg_cadence_rpm))
        .or_else(|| mean(samples.iter().filter_map(|s| s.cadence_rpm).filter(|v| *v > 0)))
}

/// Mean power (W), zeros included.
pub fn avg_power_w(samples: &[Sample], totals: Option<&DeviceTotals>) -> Option<i64> {
    device(totals.and_then(|t| t.avg_power_w))
        .or_else(|| mean(samples.iter().filter_map(|s| s.power_w)))
}

/// Highest power (W).
pub fn max_power_w(samples: &[Sample], totals: Option<&DeviceTotals>) -> Option<i64> {
    device(totals.and_then(|t| t.max_power_w))
        .or_else(|| samples.iter().filter_map(|s| s.power_w).max().map(i64::from))
}
