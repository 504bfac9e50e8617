//! Strava `activities.csv` enrichment: titles, descriptions and Strava IDs for the files of a
//! bulk export, matched on the file's base name (`activities/123.fit.gz` → `123.fit.gz`).
//!
//! The CSV's `Activity Type` only fills in a sport the file itself did not know: the
//! reference let it override a correct FIT sport (docs/decisions.md W10), which we do not
//! repeat.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A CSV that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: missing column `{column}`")]
    MissingColumn { path: PathBuf, column: &'static str },
}

/// What the CSV says about one activity file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvRow {
    pub activity_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub activity_type: Option<String>,
}

/// Rows keyed by file base name.
#[derive(Clone, Debug, Default)]
pub struct StravaCsv {
    by_file: HashMap<String, CsvRow>,
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl StravaCsv {
    /// Read an `activities.csv` (UTF-8, BOM allowed; the last of duplicate headers wins).
    pub fn load(path: &Path) -> Result<Self, CsvError> {
        let bytes = std::fs::read(path).map_err(|e| CsvError::Read {
            path: path.to_path_buf(),
            source: csv::Error::from(e),
        })?;
        Self::parse(&bytes, path)
    }

    /// Parse CSV bytes; `path` is only used in error messages.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, CsvError> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|source| CsvError::Read { path: path.to_path_buf(), source })?
            .clone();
        let names: Vec<&str> = headers.iter().map(str::trim).collect();
        let col = |name: &str| names.iter().rposition(|h| *h == name);
        let file_col = col("Filename")
            .ok_or(CsvError::MissingColumn { path: path.to_path_buf(), column: "Filename" })?;
        let (id_col, name_col, desc_col, type_col) = (
            col("Activity ID"),
            col("Activity Name"),
            col("Activity Description"),
            col("Activity Type"),
        );
        let mut by_file = HashMap::new();
        for record in reader.records() {
            let record =
                record.map_err(|source| CsvError::Read { path: path.to_path_buf(), source })?;
            let Some(file) = record.get(file_col).map(str::trim).filter(|f| !f.is_empty()) else {
                continue;
            };
            let base = file.rsplit('/').next().unwrap_or(file).to_owned();
            let get = |c: Option<usize>| non_empty(c.and_then(|c| record.get(c)));
            by_file.insert(
                base,
                CsvRow {
                    activity_id: get(id_col),
                    name: get(name_col),
                    description: get(desc_col),
                    activity_type: get(type_col),
                },
            );
        }
        Ok(Self { by_file })
    }

    /// The row for a file, by its base name.
    pub fn row_for(&self, file_name: &str) -> Option<&CsvRow> {
        self.by_file.get(file_name)
    }

    /// Number of rows with a file name.
    pub fn len(&self) -> usize {
        self.by_file.len()
    }

    /// True when no row names a file.
    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_on_base_name() {
        let csv = "\u{feff}Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Filename\n\
                   123,\"Jun 1, 2024\",Col du Galibier ,Ride,Hot day,activities/123.fit.gz\n\
                   124,\"Jun 2, 2024\",,Run,,\n";
        let c = StravaCsv::parse(csv.as_bytes(), Path::new("a.csv")).unwrap();
        assert_eq!(c.len(), 1);
        let row = c.row_for("123.fit.gz").unwrap();
        assert_eq!(row.name.as_deref(), Some("Col du Galibier"));
        assert_eq!(row.activity_id.as_deref(), Some("123"));
        assert_eq!(row.activity_type.as_deref(), Some("Ride"));
        assert_eq!(row.description.as_deref(), Some("Hot day"));
    }

    #[test]
    fn missing_filename_column_is_named() {
        let e = StravaCsv::parse(b"Activity ID\n1\n", Path::new("a.csv")).unwrap_err();
        assert_eq!(e.to_string(), "a.csv: missing column `Filename`");
    }
}
