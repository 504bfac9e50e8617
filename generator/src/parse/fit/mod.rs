//! FIT parser (being written).

use crate::model::Activity;
use super::ParseError;

/// Parse decompressed FIT bytes.
pub fn parse(_bytes: &[u8]) -> Result<Activity, ParseError> {
    Err(ParseError::Invalid("fit parser not implemented yet".into()))
}
