//! Shared quick-xml helpers for the GPX and TCX parsers (being written).
