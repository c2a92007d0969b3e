//! `cargo install --path` of each tool works, and the installed binaries
//! answer `--help` with every subcommand.
//!
//! Installs into a temporary `--root`, offline and with the workspace's
//! lock file, building in the workspace's own target directory (`--debug`)
//! so that only what differs is compiled again.

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    // target/debug/deps/e2e-HASH -> target
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

#[test]
fn cargo_install_path_of_each_tool_works() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (package, bins) in [
        ("trust-roots", &["trust-roots"][..]),
        (
            "cargo-index-verify",
            &["cargo-index-verify", "index-sign"][..],
        ),
        ("rustup-verify", &["rustup-verify"][..]),
    ] {
        let out = Command::new(&cargo)
            .args(["install", "--debug", "--offline", "--locked", "--path"])
            .arg(workspace.join(package))
            .arg("--root")
            .arg(root.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo install --path {package} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for bin in bins {
            let help = Command::new(root.path().join("bin").join(bin))
                .arg("--help")
                .output()
                .unwrap();
            assert!(help.status.success(), "{bin} --help");
            let text = String::from_utf8_lossy(&help.stdout);
            let words: &[&str] = match *bin {
                "trust-roots" => &["pin", "ceremony", "Exit status"],
                "cargo-index-verify" => &["--manifest-path", "--offline", "mirror", "Exit status"],
                "index-sign" => &["init", "update", "renew", "attach-root-repository"],
                _ => &["run", "serve", "check", "release"],
            };
            for w in words {
                assert!(text.contains(w), "{bin} --help lacks {w:?}:\n{text}");
            }
        }
    }
}
