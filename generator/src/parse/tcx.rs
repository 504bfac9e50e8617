//! TCX parser (being written).

use crate::model::Activity;
use super::ParseError;

/// Parse decompressed TCX bytes.
pub fn parse(_bytes: &[u8]) -> Result<Activity, ParseError> {
    Err(ParseError::Invalid("tcx parser not implemented yet".into()))
}
