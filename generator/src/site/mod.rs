//! The static site: data directory → output folder that nginx serves as it is.
//!
//! Phases, in order (each logs one line with counts and elapsed time): load (merge users,
//! root manifest), assets (theme static files and vendored browser libraries), data (the
//! published JSON under `/data/`), pages (Tera, in parallel with rayon), clean-up (files a
//! previous build produced and this one did not). Every file goes through
//! [`bincio_bas::fsx::write_if_changed`], so an unchanged rebuild writes nothing and nginx
//! never sees half a file. Nothing time-dependent is rendered, so two builds of the same
//! data are byte-identical.

pub mod aggregate;
pub mod assets;
pub mod device;
pub mod escape;
pub mod figures;
pub mod inputs;
pub mod load;
pub mod pages;
pub mod paging;
pub mod render;
pub mod svg;
pub mod templates;
pub mod timeseries;
pub mod units;
pub mod urls;
pub mod view;

use std::path::PathBuf;

/// What to build.
#[derive(Clone, Debug)]
pub struct SiteOptions {
    pub data_dir: PathBuf,
    pub out_dir: PathBuf,
    /// A theme folder; `None` renders with the built-in default theme.
    pub theme_dir: Option<PathBuf>,
    /// Re-render only this user's pages and the shared pages that list everyone.
    pub handle: Option<String>,
    /// Raster tile URL template for the interactive map (`https://…/{z}/{x}/{y}.png`);
    /// `None` uses `tile_url` of `{root}/bincio.toml`; neither draws the track on a blank
    /// background (no third-party request at all).
    pub tile_url: Option<String>,
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Load(#[from] load::LoadError),
    #[error(transparent)]
    Template(#[from] crate::site::templates::TemplateError),
    #[error("rendering {template} for {page}: {source}")]
    Render {
        template: String,
        page: String,
        #[source]
        source: tera::Error,
    },
    #[error(transparent)]
    Write(#[from] bincio_bas::fsx::FsxError),
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// A merged detail read back for its page (every variant names the file).
    #[error(transparent)]
    Merge(#[from] crate::merge::MergeError),
    #[error(
        "{path}: a browser library named in theme.toml is missing from the theme's vendor/ folder"
    )]
    MissingVendor { path: PathBuf },
    #[error(transparent)]
    Theme(#[from] crate::theme::ThemeError),
    #[error(
        "the output folder {out} is inside the data directory {data}; secrets live there, choose another --out"
    )]
    OutInsideData { out: PathBuf, data: PathBuf },
    #[error("unknown user {handle:?}: no such folder in the data directory")]
    UnknownHandle { handle: String },
}

/// What a build did.
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    pub users: usize,
    pub activities: usize,
    pub pages: usize,
    pub files_written: usize,
    pub files_unchanged: usize,
    pub files_removed: usize,
    pub merged_files_changed: usize,
    pub elapsed_ms: u128,
    /// Nothing changed since the last full build (`site::inputs`): nothing was loaded or
    /// rendered, the counts are that build's.
    pub unchanged_inputs: bool,
}

pub use render::{build, build_shared, build_without};
