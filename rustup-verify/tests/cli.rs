//! The command line: `--help` is complete, usage errors and refusals have
//! their documented exit statuses. (End-to-end tests with real rustup are
//! in the workspace's `tests/` crate; this package test also makes
//! workspace test runs build the `rustup-verify` binary they use.)

use std::path::Path;
use std::process::{Command, Output};

fn cli(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustup-verify"))
        .args(args)
        .env("CARGO_HOME", home)
        .env("CARGO_TUF_SYSTEM_PINS", home.join("no-system-pins.json"))
        .env_remove("RUSTUP_DIST_SERVER")
        .env_remove("RUSTUP_UPDATE_ROOT")
        .output()
        .expect("rustup-verify runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let top = cli(&["--help"], tmp.path());
    assert!(top.status.success());
    let top = stdout(&top);
    for word in [
        "run",
        "serve",
        "check",
        "release",
        "Exit status",
        "tuf/metadata",
        "3 the command failed",
    ] {
        assert!(top.contains(word), "{word} missing from:\n{top}");
    }
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["run", "--help"],
            &[
                "--dist-server",
                "--update-root",
                "--cargo-home",
                "--download-dir",
                "--max-artifact-size",
                "--verbose",
                "--no-progress",
                "COMMAND",
            ],
        ),
        (
            &["serve", "--help"],
            &[
                "--listen",
                "--dist-server",
                "--update-root",
                "--idle-exit",
                "RUSTUP_DIST_SERVER is not read",
            ],
        ),
        (
            &["check", "--help"],
            &[
                "--metadata",
                "--target-path",
                "--root",
                "--dist-server",
                "--cargo-home",
            ],
        ),
        (
            &["release", "sign", "--help"],
            &[
                "--repo",
                "--key",
                "--online-key",
                "--nightly-key",
                "--crates-root",
                "--role-days",
                "--snapshot-days",
                "--timestamp-hours",
            ],
        ),
    ];
    for (args, words) in cases {
        let out = cli(args, tmp.path());
        assert!(out.status.success(), "{args:?}");
        let text = stdout(&out);
        for w in words {
            assert!(text.contains(w), "{w} missing from {args:?}:\n{text}");
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["frobnicate"][..],
        &["run"][..],
        &["serve", "--listen", "nowhere"][..],
        &["release", "sign"][..],
    ] {
        let out = cli(args, tmp.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn no_pin_is_could_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cli(
        &["run", "--dist-server", "http://127.0.0.1:9", "--", "true"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no pinned root covers the dist server http://127.0.0.1:9"),
        "{err}"
    );
    assert!(err.contains("trust-roots pin add"), "{err}");
}

#[test]
fn signing_without_a_root_repository_is_could_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.key");
    shared_trust::keyfile::write_private_key(
        &key,
        &shared_trust::crypto::Ed25519Signer::generate(),
    )
    .unwrap();
    let out = cli(
        &[
            "release",
            "sign",
            tmp.path().to_str().unwrap(),
            "--online-key",
            key.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no published root repository"), "{err}");
}
