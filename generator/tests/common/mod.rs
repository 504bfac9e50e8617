//! Helpers shared by the generator's test binaries that need an outside tool.

/// True under CI (`CI=true`, read only here, as in `apiserver/tests/util.rs`): a test that
/// needs chromium or a privilege then fails when it is missing instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Report a test that cannot run here: a message on stderr, or a failure under CI. The caller
/// returns right after.
pub fn skip_or_fail(why: &str) {
    assert!(!in_ci(), "required in CI: {why}");
    eprintln!("SKIPPED: {why}");
}
