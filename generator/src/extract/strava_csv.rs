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
    /// `Activity Gear`.
    pub gear: Option<String>,
    /// `Commute` is true.
    pub commute: bool,
    /// The activity was private on Strava (a `Private`/`Activity Private` column, or
    /// `Activity Visibility` other than everyone): imported unlisted.
    pub private: bool,
    /// `Media`: photo paths inside the export (`media/…jpg`).
    pub media: Vec<String>,
}

/// A CSV row without a file: a manual entry, imported as a summary-only activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManualRow {
    pub row: CsvRow,
    /// `Activity Date` as written (UTC, e.g. `Jan 3, 2023, 7:20:00 AM`).
    pub date: String,
    /// Seconds (the SI `Elapsed Time` column: the last of that name).
    pub elapsed_s: Option<f64>,
    pub moving_s: Option<f64>,
    /// Metres (the SI `Distance` column).
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
}

/// Rows keyed by file base name.
#[derive(Clone, Debug, Default)]
pub struct StravaCsv {
    by_file: HashMap<String, CsvRow>,
    manual: Vec<ManualRow>,
}

/// True for the CSV spellings of yes.
fn truthy(s: Option<&str>) -> bool {
    matches!(s.map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("true" | "1" | "yes"))
}

fn number(s: Option<&str>) -> Option<f64> {
    s.map(str::trim).filter(|v| !v.is_empty()).and_then(|v| v.replace(',', "").parse().ok())
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
        let gear_col = col("Activity Gear");
        let commute_col = col("Commute");
        let private_col = col("Private").or_else(|| col("Activity Private"));
        let visibility_col = col("Activity Visibility");
        let media_col = col("Media");
        let date_col = col("Activity Date");
        let (elapsed_col, moving_col, dist_col, gain_col, hr_col, max_hr_col) = (
            col("Elapsed Time"),
            col("Moving Time"),
            col("Distance"),
            col("Elevation Gain"),
            col("Average Heart Rate"),
            col("Max Heart Rate"),
        );
        let mut by_file = HashMap::new();
        let mut manual = Vec::new();
        for record in reader.records() {
            let record =
                record.map_err(|source| CsvError::Read { path: path.to_path_buf(), source })?;
            let get = |c: Option<usize>| non_empty(c.and_then(|c| record.get(c)));
            let raw = |c: Option<usize>| c.and_then(|c| record.get(c));
            let visibility = get(visibility_col).map(|v| v.to_ascii_lowercase());
            let row = CsvRow {
                activity_id: get(id_col),
                name: get(name_col),
                description: get(desc_col),
                activity_type: get(type_col),
                gear: get(gear_col),
                commute: truthy(raw(commute_col)),
                private: truthy(raw(private_col))
                    || visibility.is_some_and(|v| v != "everyone" && v != "public"),
                media: get(media_col)
                    .map(|m| {
                        m.split('|')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            let Some(file) = record.get(file_col).map(str::trim).filter(|f| !f.is_empty()) else {
                if row.activity_id.is_some() {
                    manual.push(ManualRow {
                        date: get(date_col).unwrap_or_default(),
                        elapsed_s: number(raw(elapsed_col)),
                        moving_s: number(raw(moving_col)),
                        distance_m: number(raw(dist_col)),
                        elevation_gain_m: number(raw(gain_col)),
                        avg_hr_bpm: number(raw(hr_col)),
                        max_hr_bpm: number(raw(max_hr_col)),
                        row,
                    });
                }
                continue;
            };
            let base = file.rsplit('/').next().unwrap_or(file).to_owned();
            by_file.insert(base, row);
        }
        Ok(Self { by_file, manual })
    }

    /// The row for a file, by its base name.
    pub fn row_for(&self, file_name: &str) -> Option<&CsvRow> {
        self.by_file.get(file_name)
    }

    /// Every row with a file, by the file's base name.
    pub fn rows(&self) -> impl Iterator<Item = (&String, &CsvRow)> {
        self.by_file.iter()
    }

    /// The rows without a file (manual entries).
    pub fn manual(&self) -> &[ManualRow] {
        &self.manual
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
