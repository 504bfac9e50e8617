//! Embeds the default theme (`themes/default`: templates, static files, theme.toml and the
//! vendored browser libraries) and the demo activities (`fixtures/activities/{fit,gpx,tcx,gz}`)
//! into the binary, so an installed `bincio-gen` renders a site and runs its demo without the
//! repository checkout and without npm. Each generated table lists files by their path relative
//! to their folder; `src/theme.rs` and `src/cmd/demo.rs` read them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the binary carries: everything a render reads. `node_modules/`, the npm manifests and
/// dot-files are development material and stay out.
const INCLUDED: &[&str] = &["templates", "static", "vendor", "theme.toml"];

/// The fixture folders the demo extracts.
const DEMO: &[&str] = &["fit", "gpx", "tcx", "gz"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let theme = manifest.join("../themes/default");
    table(&theme, INCLUDED, "The default theme's files", &out.join("default_theme.rs"));
    let demo = manifest.join("../fixtures/activities");
    table(&demo, DEMO, "The demo activity files", &out.join("demo_files.rs"));
}

/// Write `FILES: &[(&str, &[u8])]` for the files under `root/{tops}` into `dest`.
fn table(root: &Path, tops: &[&str], what: &str, dest: &Path) {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for top in tops {
        collect(&root.join(top), &mut files);
    }
    files.sort();
    let mut code = format!("/// {what}: (path relative to their folder, contents).\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("collected under the root")
            .to_string_lossy()
            .replace('\\', "/");
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", path.display().to_string());
    }
    code.push_str("];\n");
    std::fs::write(dest, code).expect("write the embedded file table");
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.starts_with('.') {
        return;
    }
    if path.is_file() {
        files.push(path.to_path_buf());
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            collect(&e.path(), files);
        }
    }
}
