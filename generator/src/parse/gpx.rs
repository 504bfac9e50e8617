//! GPX parser (being written).

use crate::model::Activity;
use super::ParseError;

/// Parse decompressed GPX bytes.
pub fn parse(_bytes: &[u8]) -> Result<Activity, ParseError> {
    Err(ParseError::Invalid("gpx parser not implemented yet".into()))
}
