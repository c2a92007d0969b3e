//! The README's first command: the whole demonstration runs, every step
//! behaves as expected, and it leaves nothing behind.

use std::process::Command;

#[test]
fn quickstart_runs_end_to_end_and_cleans_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quickstart failed: {}\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "== 1/7",
        "== 7/7",
        "every locked package verified: exit 0, as expected",
        "toolchain installed through the hook: exit 0, as expected",
        "rustc 1.91.0 (fake",
        "cargo index-verify caught it: exit 1, as expected",
        "Cargo.lock checksum",
        "cargo index-verify --refresh caught the mirror's file: exit 1, as expected",
        "FAILED: serde: crate file se/rd/serde",
        "rustup-verify refused the tampered tarball: exit 1, as expected",
        "sha256 mismatch",
        "All steps behaved as expected",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    let work = text
        .lines()
        .find_map(|l| l.strip_prefix("Working in "))
        .and_then(|l| l.split(" (").next())
        .expect("working directory line");
    assert!(
        !std::path::Path::new(work).exists(),
        "{work} was not removed"
    );
}
