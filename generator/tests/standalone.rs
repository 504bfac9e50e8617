//! The installed binary stands alone: a copy of `bincio-gen` outside the checkout, with the
//! repository folder hidden (a private mount namespace lays an empty tmpfs over it) and no
//! npm on PATH, runs the demo, renders a data directory, ejects its theme and renders with
//! the ejected theme. Needs `unshare` and root (as on CI); without them the test fails in CI
//! and says why elsewhere.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// Run `script` (sh) with the repository hidden; `$BIN` is the copied binary.
fn hidden_repo_sh(work: &Path, bin: &Path, script: &str) -> std::process::Output {
    let wrapped = format!(
        "/bin/mount -t tmpfs none \"$REPO\" || exit 97\n\
         test -z \"$(ls -A \"$REPO\")\" || exit 98\n\
         cd \"$WORK\" || exit 99\n\
         PATH=/nonexistent\n{script}"
    );
    Command::new("/usr/bin/unshare")
        .args(["--mount", "/bin/sh", "-c", &wrapped])
        .env_clear()
        .env("REPO", repo_root())
        .env("WORK", work)
        .env("BIN", bin)
        .output()
        .expect("unshare runs")
}

fn can_hide_the_repository() -> bool {
    Command::new("/usr/bin/unshare")
        .args(["--mount", "/bin/true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn installed_binary_runs_demo_render_and_eject_without_the_checkout_or_npm() {
    if !can_hide_the_repository() {
        common::skip_or_fail("`unshare --mount` is not permitted here (util-linux, as root)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin/bincio-gen");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_bincio-gen"), &bin).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    let out = hidden_repo_sh(
        &work,
        &bin,
        "set -e\n\
         \"$BIN\" demo --no-serve --dir demo\n\
         \"$BIN\" render --data-dir demo/data --out site2\n\
         \"$BIN\" theme eject mytheme\n\
         echo '/* customised */' >> mytheme/static/css/site.css\n\
         \"$BIN\" render --data-dir demo/data --out site3 --theme mytheme\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}\n{stderr}", out.status.code());

    for site in ["demo/site", "site2", "site3"] {
        let site = work.join(site);
        assert!(site.join("index.html").is_file(), "{}: no home page", site.display());
        assert!(
            site.join("static/vendor/leaflet-1.9.4/leaflet.js").is_file(),
            "{}: map library not copied",
            site.display()
        );
        let activities = std::fs::read_dir(site.join("activity")).unwrap().count();
        assert!(activities >= 20, "{}: {activities} activity pages", site.display());
    }
    // The demo inputs came from the binary, the same bytes as the committed fixtures.
    let committed = repo_root().join("fixtures/activities/gpx/synth-hike.gpx");
    let written = work.join("demo/inputs/gpx/synth-hike.gpx");
    assert_eq!(std::fs::read(written).unwrap(), std::fs::read(committed).unwrap());
    // The ejected theme was really used, and the default was not.
    let css = |site: &str| std::fs::read_to_string(work.join(site).join("static/css/site.css"));
    assert!(css("site3").unwrap().contains("/* customised */"));
    assert!(!css("site2").unwrap().contains("/* customised */"));
}

#[test]
fn the_vendored_browser_libraries_match_their_checksum_lists() {
    use sha2::{Digest, Sha256};
    let vendor = repo_root().join("themes/default/vendor");
    let mut checked = 0;
    for lib in std::fs::read_dir(&vendor).unwrap().flatten() {
        let sums = std::fs::read_to_string(lib.path().join("SHA256SUMS"))
            .unwrap_or_else(|e| panic!("{}: {e}", lib.path().display()));
        let mut listed = Vec::new();
        for line in sums.lines() {
            let (hash, name) = line.split_once("  ").expect("sha256sum format");
            let bytes = std::fs::read(lib.path().join(name)).unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                hash,
                "{}/{name}",
                lib.path().display()
            );
            listed.push(name.to_owned());
            checked += 1;
        }
        // No unlisted file hides in the vendored folder.
        for e in walkdir::WalkDir::new(lib.path()).into_iter().flatten() {
            if e.file_type().is_file() && e.file_name() != "SHA256SUMS" {
                let rel = e.path().strip_prefix(lib.path()).unwrap().to_string_lossy().into_owned();
                assert!(listed.contains(&rel), "{rel} is not in SHA256SUMS");
            }
        }
        // The vendored version is the one the lockfile pins.
        let pkg: serde_json::Value =
            serde_json::from_slice(&std::fs::read(lib.path().join("package.json")).unwrap())
                .unwrap();
        let lock: serde_json::Value = serde_json::from_slice(
            &std::fs::read(repo_root().join("themes/default/package-lock.json")).unwrap(),
        )
        .unwrap();
        let name = lib.file_name().to_string_lossy().into_owned();
        assert_eq!(
            lock["packages"][format!("node_modules/{name}")]["version"],
            pkg["version"],
            "{name}: vendored version differs from package-lock.json"
        );
    }
    assert!(checked >= 5, "only {checked} vendored files checked");
}
